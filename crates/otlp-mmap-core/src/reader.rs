//! The reader's handle on a file: validates it, consumes the rings, and
//! resolves dictionary references. Everything in the file is untrusted
//! (FORMAT.md 7.6).
//!
//! One reader per file at a time (FORMAT.md section 3): the ring state is
//! kept in the handle and `read_batch` takes `&mut self`.
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
use crate::error::{Result, RingId};
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
        })
    }

    /// Reads committed messages of `ring`, appending each to `out` as in
    /// its slot (varint length, then the bytes), and consumes them (a
    /// read-only reader only moves its own position). At most
    /// `max_messages` slots are consumed and at most `max_bytes` bytes
    /// appended, except that a first message larger than `max_bytes` is
    /// still read, alone. Returns the number appended; 0 means nothing to
    /// read now. Never blocks.
    pub fn read_batch(
        &mut self,
        ring: RingId,
        max_messages: usize,
        max_bytes: usize,
        out: &mut Vec<u8>,
    ) -> usize {
        let i = ring.index();
        let limits = ReadLimits {
            max_messages,
            max_bytes,
            uncommitted_timeout: self.config.uncommitted_timeout,
        };
        self.rings[i].read_batch(
            self.file.region(),
            &mut self.states[i],
            &limits,
            out,
            Instant::now,
        )
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
    pub fn is_reset(&self) -> bool {
        info::start_time(&self.file) != self.start_time_at_open
    }
}

impl Dictionary for Reader {
    fn entry(&self, reference: i64) -> Result<Vec<u8>> {
        Reader::entry(self, reference)
    }
}
