//! Errors of the core. Every variant has a stable machine-readable code
//! ([`Error::code`]) that bindings expose to their callers.

use std::io;

/// Which ring of the file (FORMAT.md section 3, in file order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RingId {
    Events = 0,
    Spans = 1,
    Measurements = 2,
}

impl RingId {
    /// The three rings in file order.
    pub const ALL: [RingId; 3] = [RingId::Events, RingId::Spans, RingId::Measurements];

    /// Position of the ring in the file (0, 1, 2).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The ring at position `i`, if any.
    pub fn from_index(i: usize) -> Option<RingId> {
        RingId::ALL.get(i).copied()
    }

    /// Lower-case name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            RingId::Events => "events",
            RingId::Spans => "spans",
            RingId::Measurements => "measurements",
        }
    }
}

/// The core's error type.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The operating system refused a file operation.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    /// The file header names a version this implementation cannot read.
    #[error("unsupported OTLP-MMAP version {found} (this implementation reads version 1)")]
    UnsupportedVersion { found: i64 },
    /// A structural check of FORMAT.md section 2 failed; `check` names it.
    #[error("invalid OTLP-MMAP file: {check}")]
    InvalidFile { check: String },
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// The message can never fit one slot of the ring (FORMAT.md 7.5).
    #[error("message of {size} bytes does not fit a slot of the {ring} ring (max {max} bytes)")]
    MessageTooLarge {
        ring: &'static str,
        size: usize,
        max: usize,
    },
    /// A dictionary reference (or the entry it points to) is invalid.
    #[error("bad dictionary reference {reference}: {reason}")]
    BadReference { reference: i64, reason: String },
    /// A value_ref chain is too deep or loops.
    #[error("bad value: {0}")]
    BadValue(String),
    /// The dictionary would grow past the file size reservation.
    #[error("dictionary full: {needed} bytes needed past the reservation of {reserved} bytes")]
    DictionaryFull { needed: u64, reserved: u64 },
    /// The handle was closed.
    #[error("the handle is closed")]
    Closed,
    /// Someone cut the file shorter while it was mapped: what the call was
    /// to write is lost, what it was to read is not returned. The handle
    /// stays broken; a writer re-creates the file ([`crate::Writer::recreate`]),
    /// a reader opens it again once it is valid.
    #[error("the file was truncated while mapped ({0})")]
    FileTruncated(String),
    /// The path of the file now names something this writer will not
    /// overwrite (another file, a symbolic link, a directory).
    #[error("{0}")]
    PathReplaced(String),
    /// The path a writer was asked to create is a symbolic link, which it
    /// does not follow.
    #[error("refusing to create {path}: it is a symbolic link, and the file is not created through one (its target would be overwritten); remove the link or give the target's path")]
    Symlink { path: String },
}

impl Error {
    /// The stable code of this error (the `code` property in JavaScript).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Io { .. } => "ERR_IO",
            Error::UnsupportedVersion { .. } => "ERR_VERSION",
            Error::InvalidFile { .. } => "ERR_INVALID_FILE",
            Error::InvalidConfig(_) => "ERR_INVALID_OPTION",
            Error::MessageTooLarge { .. } => "ERR_MESSAGE_TOO_LARGE",
            Error::BadReference { .. } => "ERR_BAD_REFERENCE",
            Error::BadValue(_) => "ERR_BAD_REFERENCE",
            Error::DictionaryFull { .. } => "ERR_DICTIONARY_FULL",
            Error::Closed => "ERR_CLOSED",
            Error::FileTruncated(_) => "ERR_FILE_TRUNCATED",
            Error::PathReplaced(_) => "ERR_PATH_REPLACED",
            Error::Symlink { .. } => "ERR_SYMLINK",
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn invalid(check: impl Into<String>) -> Error {
        Error::InvalidFile {
            check: check.into(),
        }
    }

    /// The file shrank from `expected` to `size` bytes.
    pub(crate) fn shrunk(size: u64, expected: u64) -> Error {
        Error::FileTruncated(format!("it is {size} bytes, it had {expected}"))
    }

    /// Fields that never change while a file is in use read as zeros: the
    /// file was cut, then grown again over the cut (a writer extending it
    /// in between), which leaves zeros where the data was.
    pub(crate) fn zeroed(what: &str) -> Error {
        Error::FileTruncated(format!("{what} reads as zero: it was cut and grown again"))
    }

    /// An access faulted past the end of the file.
    pub(crate) fn faulted() -> Error {
        Error::FileTruncated("an access faulted past its end".into())
    }

    pub(crate) fn bad_ref(reference: i64, reason: impl Into<String>) -> Error {
        Error::BadReference {
            reference,
            reason: reason.into(),
        }
    }
}

/// Result with the core's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
