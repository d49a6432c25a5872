//! The reader's handle on a file: validates it, consumes the rings, and
//! resolves dictionary references. Everything in the file is untrusted
//! (FORMAT.md 7.6).
//!
//! One reader per file at a time (FORMAT.md section 3): the ring state is
//! kept in the handle and `read_batch` takes `&mut self`.
//!
//! # A file truncated under the reader
//!
//! Each `read_batch` and `is_reset` first asks the OS for the file size
//! (one `fstat`): a file smaller than it was has been cut by someone else,
//! and the call returns `FileTruncated` without touching the mapping. A cut
//! that happens during the copy faults (with the handler of
//! [`crate::fault`] installed the copy completes on zeros), or, inside the
//! file's last page, zeroes the rest of the page without a fault; so after
//! a batch that copied anything the size is asked again, and a batch copied
//! across a cut is discarded (never returned as data) and counted.
//! [`Reader::truncation`] then tells what is known of the loss. A truncated
//! reader is done: open the file again once a writer has re-initialised it.
//!
//! # A read-only reader
//!
//! A read-only reader ([`ReaderConfig::read_only`]) opens the file with
//! `O_RDONLY`, maps it read-only and never writes to it: its ring positions
//! start at the `reader_index` values in the file and then live in the
//! handle only. It reads what a consuming reader would, without consuming
//! anything, and works on a file it may not write.

use std::path::Path;
use std::time::Instant;

use crate::config::ReaderConfig;
use crate::dictionary::{Dictionary, DictionaryReader};
use crate::error::{Error, Result, RingId};
use crate::info::{self, FileInfo};
use crate::layout::Layout;
use crate::mapping::{self, MappedFile};
use crate::ring::{ReadLimits, Ring, RingReadState, RingStats};

/// A reader of one OTLP-MMAP file.
pub struct Reader {
    file: MappedFile,
    layout: Layout,
    config: ReaderConfig,
    rings: [Ring; 3],
    states: [RingReadState; 3],
    dictionary: DictionaryReader,
    start_time_at_open: u64,
    truncation: Option<Truncation>,
}

/// What a reader knows of the loss when its file was truncated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Truncation {
    /// The file's size when last looked at.
    pub file_size: u64,
    /// The largest size the reader had seen before.
    pub known_size: u64,
    /// Per ring: messages claimed by writers and not read, as counted from
    /// the ring's header while the file stayed truncated (the largest count
    /// seen); `None` when the header itself was cut off (unknown).
    pub unread: [Option<u64>; 3],
    /// Per ring: messages copied out of the file but discarded because the
    /// copy faulted.
    pub discarded: [u64; 3],
}

impl Truncation {
    /// Messages known to be lost: unread (where known) plus discarded.
    pub fn known_lost(&self) -> u64 {
        (0..3)
            .map(|i| self.unread[i].unwrap_or(0) + self.discarded[i])
            .sum()
    }
}

impl Reader {
    /// Opens and validates the file at `path` (FORMAT.md section 2).
    pub fn open(path: impl AsRef<Path>, config: ReaderConfig) -> Result<Reader> {
        config.validate()?;
        let (file, layout) =
            mapping::open_validated(path.as_ref(), config.max_file_size, !config.read_only)?;
        let start_time_at_open = info::start_time(&file);
        let rings = RingId::ALL.map(|id| Ring::new(layout.rings[id.index()], id.name()));
        let states = if config.read_only {
            rings.map(|ring| RingReadState::detached(ring.reader_index(file.region())))
        } else {
            Default::default()
        };
        Ok(Reader {
            rings,
            states,
            dictionary: DictionaryReader::new(layout.dictionary_offset, config.max_entry_size),
            file,
            layout,
            config,
            start_time_at_open,
            truncation: None,
        })
    }

    /// Reads committed messages of `ring`, appending each to `out` as in
    /// its slot (varint length, then the bytes), and consumes them (a
    /// read-only reader only moves its own position). At most
    /// `max_messages` slots are consumed and at most `max_bytes` bytes
    /// appended, except that a first message larger than `max_bytes` is
    /// still read, alone. Returns the number appended; 0 means nothing to
    /// read now. Never blocks. `Err(FileTruncated)` when the file was cut
    /// (see the module documentation); nothing is appended then.
    pub fn read_batch(
        &mut self,
        ring: RingId,
        max_messages: usize,
        max_bytes: usize,
        out: &mut Vec<u8>,
    ) -> Result<usize> {
        self.file.check_intact()?;
        let i = ring.index();
        let start = out.len();
        let limits = ReadLimits {
            max_messages,
            max_bytes,
            uncommitted_timeout: self.config.uncommitted_timeout,
        };
        let n = self.rings[i].read_batch(
            self.file.region(),
            &mut self.states[i],
            &limits,
            out,
            Instant::now,
        );
        // A cut during the copy either faulted (the region is broken) or,
        // inside the file's last page, zeroed the rest of that page without
        // a fault: the size tells. Bytes copied before the cut are sound.
        if n > 0 || self.file.region().is_broken() {
            let intact = self
                .file
                .check_intact()
                .and_then(|()| self.check_not_zeroed());
            if let Err(e) = intact {
                out.truncate(start);
                self.truncation
                    .get_or_insert_with(Truncation::default)
                    .discarded[i] += n as u64;
                return Err(e);
            }
        }
        Ok(n)
    }

    /// `None` while the file is intact. Once it was found truncated: what is
    /// known of the loss. Each call looks at the file again and counts the
    /// messages writers claimed and this reader did not read, in every ring
    /// whose header is still inside the file, as long as the file is not
    /// re-initialised (one `fstat` and a few loads).
    pub fn truncation(&mut self) -> Option<Truncation> {
        if !self.file.region().is_broken() && self.file.check_intact().is_ok() {
            return None;
        }
        let mut t = self.truncation.unwrap_or_default();
        t.known_size = self.file.known_size();
        if let Ok(size) = self.file.current_size() {
            t.file_size = size;
            if let Some(unread) = self.unread_within(size) {
                for (known, now) in t.unread.iter_mut().zip(unread) {
                    *known = match (*known, now) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        (a, b) => a.or(b),
                    };
                }
            }
        }
        self.truncation = Some(t);
        Some(t)
    }

    /// Per ring, `writer_index - reader_index` (at most the ring's slots)
    /// read from ring headers that lie inside the first `size` bytes; `None`
    /// for every ring when the file no longer has the start time seen at
    /// open (re-initialised, or its header cut off).
    fn unread_within(&self, size: u64) -> Option<[Option<u64>; 3]> {
        let region = self.file.region();
        let header_end = crate::layout::HEADER_SIZE;
        let same_file =
            || size >= header_end && info::start_time(&self.file) == self.start_time_at_open;
        if !same_file() {
            return None;
        }
        let mut unread = [None; 3];
        for (i, ring) in self.rings.iter().enumerate() {
            let g = ring.geometry();
            unread[i] = (g.writer_index_offset() + 8 <= size).then(|| {
                let position = self.states[i]
                    .position()
                    .unwrap_or_else(|| ring.reader_index(region));
                let lag = ring.writer_index(region).wrapping_sub(position);
                (lag.max(0) as u64).min(g.num_buffers)
            });
        }
        // Looked at again: a writer that re-initialised the file in between
        // changed the start time.
        same_file().then_some(unread)
    }

    /// `Err(FileTruncated)` when fields that never change read as zeros: a
    /// cut that a writer then grew the file over (the size looks whole
    /// again, the data is gone).
    fn check_not_zeroed(&self) -> Result<()> {
        match self.layout.first_zeroed_field(self.file.region()) {
            None => Ok(()),
            Some(what) => {
                self.file.region().mark_broken();
                Err(Error::zeroed(what))
            }
        }
    }

    /// Whether this reader is read-only ([`ReaderConfig::read_only`]).
    pub fn is_read_only(&self) -> bool {
        self.config.read_only
    }

    /// Counters of `ring`.
    pub fn stats(&self, ring: RingId) -> RingStats {
        self.states[ring.index()].stats
    }

    /// The bytes of the dictionary entry at `reference`; 0 reads as empty.
    pub fn entry(&self, reference: i64) -> Result<Vec<u8>> {
        self.dictionary.entry(&self.file, reference)
    }

    /// A snapshot of the header fields. For a read-only reader, each
    /// ring's `reader_index` is the reader's own position.
    pub fn info(&self) -> FileInfo {
        let mut info = info::snapshot(&self.file, &self.layout, &self.rings);
        for (ring, state) in info.rings.iter_mut().zip(&self.states) {
            if let Some(position) = state.position() {
                ring.reader_index = position;
            }
        }
        info
    }

    /// The validated layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The start time seen at open.
    pub fn start_time_at_open(&self) -> u64 {
        self.start_time_at_open
    }

    /// True when the file was re-initialised since open.
    /// `Err(FileTruncated)` when it was cut (one `fstat` first).
    pub fn is_reset(&self) -> Result<bool> {
        self.file.check_intact()?;
        let reset = info::start_time(&self.file) != self.start_time_at_open;
        if reset {
            // Zeros from a cut (see `read_batch`) are not a new start time.
            self.file.check_intact()?;
        }
        Ok(reset)
    }
}

impl Dictionary for Reader {
    fn entry(&self, reference: i64) -> Result<Vec<u8>> {
        Reader::entry(self, reference)
    }
}
