//! Writer and reader of OTLP-MMAP version 1 files (the contract is
//! `FORMAT.md`): a 64-byte header, three lock-free multi-producer rings
//! (events, spans, measurements) and an append-only dictionary, in one
//! memory-mapped file shared between an application and a collector.
//!
//! - [`Writer`]: create or attach to a file, append messages, add entries.
//! - [`Reader`]: validate a file, consume ring messages, resolve references.
//! - [`value`]: resolve `AnyValue`s through any [`Dictionary`].
//! - [`proto`]: the prost types of the format's messages.
//! - [`fault`]: surviving a file that is truncated while mapped (SIGBUS).
//!
//! Knows nothing of JavaScript; the Node-API binding is `otlp-mmap-node`.

pub mod config;
pub mod dictionary;
pub mod error;
pub mod fault;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod info;
pub mod layout;
mod mapping;
pub mod proto;
pub mod reader;
mod region;
pub mod ring;
pub mod ring_memory;
pub mod value;
pub mod varint;
pub mod writer;

#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod loom_model;
#[cfg(test)]
mod read_safety_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod truncation_tests;

pub use config::{ReaderConfig, RingConfig, WriterConfig};
pub use dictionary::Dictionary;
pub use error::{Error, Result, RingId};
pub use info::{DictionaryInfo, FileInfo, RingInfo};
pub use reader::{Reader, Truncation};
pub use ring::{ReadLimits, RingStats};
pub use value::Value;
pub use writer::Writer;
