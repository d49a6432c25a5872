//! The writer's handle on a file: creates (or re-initialises) or attaches
//! to a file, appends messages to rings and entries to the dictionary.
//!
//! A [`Writer`] is `Send + Sync`: any number of threads may append through
//! one handle, and any number of processes may attach their own handles to
//! the same file.
//!
//! # A file truncated under the writer
//!
//! When someone cuts the file shorter, the writer's mapping is broken (see
//! [`crate::fault`]): `append` returns `FileTruncated` (checked before the
//! write with one relaxed load, and after it, since a write that faulted
//! went to a page of zeros and is lost); `add_entry`/`intern` keep working
//! on remembered entries. [`Writer::is_truncated`] asks the OS for the size
//! (for a caller that wants to notice a cut its writes have not hit yet).
//! [`Writer::recreate`] makes a new writer on a fresh file at the same path
//! with the same layout and every dictionary entry of this writer at its old
//! reference.

use std::os::unix::fs::{FileExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::config::{WriterConfig, DEFAULT_MAX_FILE_SIZE, MAX_RESERVATION};
use crate::dictionary::DictionaryWriter;
use crate::error::{Error, Result, RingId};
use crate::info::{self, FileInfo};
use crate::layout::{header, Layout, HEADER_SIZE, VERSION};
use crate::mapping::{self, MappedFile};
use crate::ring::Ring;

/// A writer of one OTLP-MMAP file.
pub struct Writer {
    file: MappedFile,
    layout: Layout,
    rings: [Ring; 3],
    dictionary: DictionaryWriter,
    path: PathBuf,
    /// What the file was created with; `None` for an attached writer.
    config: Option<WriterConfig>,
}

fn rings_of(layout: &Layout) -> [Ring; 3] {
    RingId::ALL.map(|id| Ring::new(layout.rings[id.index()], id.name()))
}

fn now_unix_nano() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl Writer {
    /// Creates the file at `path`, or re-initialises an existing one in place
    /// (its rings and dictionary are emptied, it gets a new, different start
    /// time, and it is never made smaller).
    ///
    /// A symbolic link at `path` is not followed (`O_NOFOLLOW`), dangling
    /// or not: [`Error::Symlink`]. Otherwise a link planted at the path
    /// would turn whatever file it names into ring data.
    pub fn create(path: impl AsRef<Path>, config: &WriterConfig) -> Result<Writer> {
        let path = path.as_ref();
        config.validate()?;
        let layout = Layout::plan(config);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .mode(config.file_mode)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
            .map_err(|e| {
                // ELOOP: the last component is a symbolic link (or a loop of
                // links in the directories: then a plain I/O error).
                let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_symlink());
                if e.raw_os_error() == Some(libc::ELOOP) && is_link {
                    Error::Symlink {
                        path: path.display().to_string(),
                    }
                } else {
                    Error::io(format!("creating {}", path.display()), e)
                }
            })?;
        // The mode given to open() is reduced by the umask and ignored for an
        // existing file: set it exactly.
        file.set_permissions(std::fs::Permissions::from_mode(config.file_mode))
            .map_err(|e| Error::io("setting the file mode", e))?;
        let old_size = file.metadata().map_err(|e| Error::io("fstat", e))?.len();
        let mut old_start = [0u8; 8];
        let previous_start = if old_size >= HEADER_SIZE {
            file.read_exact_at(&mut old_start, header::START_TIME)
                .map_err(|e| Error::io("reading the previous header", e))?;
            Some(u64::from_le_bytes(old_start))
        } else {
            None
        };
        // Never shrink: a reader (or a previous writer still running) may
        // have the old size mapped and would fault on pages past a new end.
        // A larger old file keeps its size; the space past the new
        // dictionary end is free for the dictionary to grow into.
        if old_size < layout.file_size {
            file.set_len(layout.file_size)
                .map_err(|e| Error::io("setting the file size", e))?;
        }
        let size = old_size.max(layout.file_size);
        let mapped = MappedFile::new(file, size, config.max_file_size, true)?;
        let region = mapped.region();
        // Bytes past the old size are zeros already (the file was extended).
        let stale = old_size.min(layout.file_size);
        if stale > 0 {
            region.zero(0, stale);
        }
        let rings = rings_of(&layout);
        for ring in &rings {
            ring.initialise(region);
        }
        let dictionary = DictionaryWriter::new(layout.dictionary_offset);
        dictionary.initialise(&mapped);
        for (i, ring) in rings.iter().enumerate() {
            region
                .atomic_i64(header::RING_OFFSETS[i])
                .store(ring.geometry().offset as i64, Ordering::Relaxed);
        }
        region
            .atomic_i64(header::DICTIONARY)
            .store(layout.dictionary_offset as i64, Ordering::Relaxed);
        let mut start = now_unix_nano();
        if previous_start == Some(start) {
            start = start.wrapping_add(1);
        }
        // Release: a reader that sees the new start time (Acquire) sees the
        // fresh rings and dictionary written above.
        region
            .atomic_u64(header::START_TIME)
            .store(start, Ordering::Release);
        region
            .atomic_i64(header::VERSION)
            .store(VERSION, Ordering::Release);
        if region.is_broken() {
            // Cut again while it was being initialised.
            return Err(Error::faulted());
        }
        Ok(Writer {
            file: mapped,
            layout,
            rings,
            dictionary,
            path: path.to_path_buf(),
            config: Some(config.clone()),
        })
    }

    /// Attaches to an existing, valid file without re-initialising it.
    /// `max_file_size` is the reservation (default 16 GiB when `None`).
    pub fn attach(path: impl AsRef<Path>, max_file_size: Option<u64>) -> Result<Writer> {
        let reserve = max_file_size.unwrap_or(DEFAULT_MAX_FILE_SIZE);
        if reserve > MAX_RESERVATION {
            return Err(Error::InvalidConfig(format!(
                "maxFileSize must be at most {MAX_RESERVATION}, got {reserve}"
            )));
        }
        let (file, layout) = mapping::open_validated(path.as_ref(), reserve, true)?;
        Ok(Writer {
            rings: rings_of(&layout),
            dictionary: DictionaryWriter::new(layout.dictionary_offset),
            file,
            layout,
            path: path.as_ref().to_path_buf(),
            config: None,
        })
    }

    /// Appends one encoded message (the core adds the length prefix).
    /// `Ok(false)` when the ring is full; `Err(MessageTooLarge)` when it can
    /// never fit, before any index is claimed; `Err(FileTruncated)` when the
    /// file was cut (before the call, or under the write, which is then lost).
    #[inline]
    pub fn append(&self, ring: RingId, message: &[u8]) -> Result<bool> {
        let region = self.file.region();
        if region.is_broken() {
            return Err(Error::faulted());
        }
        let written = self.rings[ring.index()].try_append(region, message)?;
        if region.is_broken() {
            return Err(Error::faulted());
        }
        Ok(written)
    }

    /// Whether the file was cut shorter under this writer: an access faulted,
    /// the file is now smaller than it was (one `fstat`), or fields that
    /// never change read as zeros (it was cut and grown again over the cut,
    /// see [`Layout`]'s check). Once true, stays true.
    pub fn is_truncated(&self) -> Result<bool> {
        match self.file.check_intact() {
            Ok(()) if self.layout.first_zeroed_field(self.file.region()).is_some() => {
                self.file.region().mark_broken();
                Ok(true)
            }
            Ok(()) => Ok(false),
            Err(Error::FileTruncated(_)) => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// A new writer on a fresh file at this writer's path, with the same
    /// layout, a new start time, and every dictionary entry this writer
    /// added at its old reference (so references a caller has cached stay
    /// valid). Meant for a writer whose file was truncated; this writer
    /// should not be used afterwards.
    ///
    /// The path must name this writer's own file (re-initialised in place)
    /// or nothing (a new file is created). Anything else — another file, a
    /// symbolic link, a directory — is left alone: `PathReplaced`. Only a
    /// writer that created its file can re-create it: attached writers share
    /// the file with others, whose data a re-creation would destroy.
    pub fn recreate(&self) -> Result<Writer> {
        let Some(config) = &self.config else {
            return Err(Error::InvalidConfig(
                "an attached writer cannot re-create the file it shares".into(),
            ));
        };
        self.check_path_is_ours()?;
        let entries = self.dictionary.snapshot();
        let writer = Writer::create(&self.path, config)?;
        writer.dictionary.restore(&writer.file, entries)?;
        Ok(writer)
    }

    /// `PathReplaced` unless the path names this writer's file or nothing.
    fn check_path_is_ours(&self) -> Result<()> {
        let shown = self.path.display();
        let here = match std::fs::symlink_metadata(&self.path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::io(format!("looking at {shown}"), e)),
        };
        let kind = here.file_type();
        let what = if kind.is_symlink() {
            "a symbolic link"
        } else if kind.is_dir() {
            "a directory"
        } else if kind.is_fifo()
            || kind.is_socket()
            || kind.is_block_device()
            || kind.is_char_device()
        {
            "a special file"
        } else {
            let ours = self
                .file
                .file()
                .metadata()
                .map_err(|e| Error::io("fstat", e))?;
            if (ours.dev(), ours.ino()) == (here.dev(), here.ino()) {
                return Ok(());
            }
            "another file"
        };
        Err(Error::PathReplaced(format!(
            "{shown} is now {what}; not re-creating the telemetry file over it"
        )))
    }

    /// The path this writer was created or attached with.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Largest message (without prefix) that fits one slot of `ring`.
    pub fn max_message_size(&self, ring: RingId) -> usize {
        self.rings[ring.index()].max_message_size()
    }

    /// Adds a dictionary entry holding `bytes`; returns its reference.
    pub fn add_entry(&self, bytes: &[u8]) -> Result<i64> {
        self.dictionary.add_entry(&self.file, bytes)
    }

    /// Like [`add_entry`](Self::add_entry), deduplicated by content within
    /// this writer.
    pub fn intern(&self, bytes: &[u8]) -> Result<i64> {
        self.dictionary.intern(&self.file, bytes)
    }

    /// A snapshot of the header fields.
    pub fn info(&self) -> FileInfo {
        info::snapshot(&self.file, &self.layout, &self.rings)
    }

    /// The validated layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Flushes the mapping to disk (msync).
    pub fn sync(&self) -> Result<()> {
        let size = self.file.refresh_size()?.min(self.file.reserved());
        self.file.region().flush(0, size)
    }

    /// Claims an index without committing it, as a writer that dies between
    /// claim and commit would (FORMAT.md 7.8). For tests only.
    #[doc(hidden)]
    pub fn claim_without_commit(&self, ring: RingId) -> Option<i64> {
        self.rings[ring.index()].claim(self.file.region())
    }

    /// Sets both indexes of an empty ring to `index`, as if `index + 1`
    /// messages had been written and read. For tests only.
    #[doc(hidden)]
    pub fn set_indexes_for_test(&self, ring: RingId, index: i64) {
        let g = self.rings[ring.index()].geometry();
        let region = self.file.region();
        region
            .atomic_i64(g.reader_index_offset())
            .store(index, Ordering::SeqCst);
        region
            .atomic_i64(g.writer_index_offset())
            .store(index, Ordering::SeqCst);
    }
}
