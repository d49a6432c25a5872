//! Configuration of writers and readers, with validation.

use std::time::Duration;

use crate::error::{Error, Result};

/// Size of one ring: number of slots and bytes per slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingConfig {
    /// Number of slots; a power of two, at least 2.
    pub num_buffers: u64,
    /// Bytes per slot (length prefix included); a multiple of 8, at least 16.
    pub buffer_size: u64,
}

/// Largest number of slots a writer of this project creates in one ring.
pub const MAX_SLOTS: u64 = 1 << 24;
/// Largest slot a writer of this project creates.
pub const MAX_SLOT_SIZE: u64 = 1 << 24;
/// Largest ring (header, availability and slots) a writer creates.
pub const MAX_RING_BYTES: u64 = 1 << 32;
/// Default virtual reservation of the mapping (the file never grows past it).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 16 << 30;
/// Largest reservation accepted (2^46 = 64 TiB of address space).
pub const MAX_RESERVATION: u64 = 1 << 46;
/// Default bound on the bytes one read of a ring returns (64 MiB).
pub const DEFAULT_READ_BYTES: usize = 64 << 20;

/// What a writer creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterConfig {
    /// Rings in file order: events, spans, measurements.
    pub rings: [RingConfig; 3],
    /// Initial bytes of the dictionary section (its 64-byte header included).
    pub dictionary_size: u64,
    /// Virtual reservation of the mapping; the file never grows past it.
    pub max_file_size: u64,
    /// Permission bits of the file.
    pub file_mode: u32,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            rings: [
                RingConfig {
                    num_buffers: 4096,
                    buffer_size: 512,
                },
                RingConfig {
                    num_buffers: 4096,
                    buffer_size: 1024,
                },
                RingConfig {
                    num_buffers: 8192,
                    buffer_size: 256,
                },
            ],
            dictionary_size: 1 << 20,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            file_mode: 0o600,
        }
    }
}

impl RingConfig {
    /// Bytes the ring takes in the file: `32 + 4n + n*bs`.
    pub fn ring_bytes(&self) -> u64 {
        32 + 4 * self.num_buffers + self.num_buffers * self.buffer_size
    }

    fn validate(&self, name: &str) -> Result<()> {
        let n = self.num_buffers;
        if n < 2 || !n.is_power_of_two() || n > MAX_SLOTS {
            return Err(Error::InvalidConfig(format!(
                "{name}.slots must be a power of two in [2, {MAX_SLOTS}], got {n}"
            )));
        }
        let bs = self.buffer_size;
        if bs < 16 || !bs.is_multiple_of(8) || bs > MAX_SLOT_SIZE {
            return Err(Error::InvalidConfig(format!(
                "{name}.slotSize must be a multiple of 8 in [16, {MAX_SLOT_SIZE}], got {bs}"
            )));
        }
        if self.ring_bytes() > MAX_RING_BYTES {
            return Err(Error::InvalidConfig(format!(
                "{name} ring would take {} bytes, more than {MAX_RING_BYTES}",
                self.ring_bytes()
            )));
        }
        Ok(())
    }
}

impl WriterConfig {
    /// Checks every value; the error names the offending option.
    pub fn validate(&self) -> Result<()> {
        for (ring, name) in self.rings.iter().zip(["events", "spans", "measurements"]) {
            ring.validate(name)?;
        }
        if self.dictionary_size < 64 || self.dictionary_size > MAX_RESERVATION {
            return Err(Error::InvalidConfig(format!(
                "dictionarySize must be in [64, {MAX_RESERVATION}], got {}",
                self.dictionary_size
            )));
        }
        if self.max_file_size > MAX_RESERVATION {
            return Err(Error::InvalidConfig(format!(
                "maxFileSize must be at most {MAX_RESERVATION}, got {}",
                self.max_file_size
            )));
        }
        if self.file_mode > 0o7777 {
            return Err(Error::InvalidConfig(format!(
                "fileMode must be permission bits (<= 0o7777), got {:#o}",
                self.file_mode
            )));
        }
        let needed = crate::layout::Layout::plan(self).file_size;
        if needed > self.max_file_size {
            return Err(Error::InvalidConfig(format!(
                "the initial file needs {needed} bytes, more than maxFileSize {}",
                self.max_file_size
            )));
        }
        Ok(())
    }
}

/// How a reader behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderConfig {
    /// How long a claimed, uncommitted slot blocks the reader before it is
    /// skipped (FORMAT.md 7.8).
    pub uncommitted_timeout: Duration,
    /// Virtual reservation of the mapping: the largest file size the reader
    /// can follow as the dictionary grows.
    pub max_file_size: u64,
    /// Largest dictionary entry the reader accepts.
    pub max_entry_size: u64,
    /// Opens the file read-only, maps it read-only and never writes to it:
    /// the ring positions are kept in memory instead of `reader_index`, so
    /// reading consumes nothing (for inspecting a file, e.g. `dump`).
    pub read_only: bool,
}

impl Default for ReaderConfig {
    fn default() -> Self {
        ReaderConfig {
            uncommitted_timeout: Duration::from_secs(2),
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            max_entry_size: 64 << 20,
            read_only: false,
        }
    }
}

impl ReaderConfig {
    /// Checks every value.
    pub fn validate(&self) -> Result<()> {
        if self.max_file_size > MAX_RESERVATION {
            return Err(Error::InvalidConfig(format!(
                "maxFileSize must be at most {MAX_RESERVATION}, got {}",
                self.max_file_size
            )));
        }
        Ok(())
    }
}
