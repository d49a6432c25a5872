//! A snapshot of a file's header fields (for diagnostics and tests).

use std::sync::atomic::Ordering;

use crate::dictionary::DictionaryReader;
use crate::layout::{header, Layout};
use crate::mapping::MappedFile;
use crate::ring::Ring;

/// One ring's geometry and current indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingInfo {
    pub offset: u64,
    pub num_buffers: u64,
    pub buffer_size: u64,
    pub reader_index: i64,
    pub writer_index: i64,
}

/// The dictionary's position and fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DictionaryInfo {
    pub offset: u64,
    pub end: i64,
    pub num_entries: i64,
}

/// A snapshot of the header fields of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileInfo {
    pub version: i64,
    pub start_time_unix_nano: u64,
    pub file_size: u64,
    /// Events, spans, measurements.
    pub rings: [RingInfo; 3],
    pub dictionary: DictionaryInfo,
}

/// Reads the live header fields; geometry comes from the validated layout.
pub(crate) fn snapshot(file: &MappedFile, layout: &Layout, rings: &[Ring; 3]) -> FileInfo {
    let region = file.region();
    let (end, num_entries) = DictionaryReader::new(layout.dictionary_offset, 0).header(file);
    FileInfo {
        version: region.atomic_i64(header::VERSION).load(Ordering::Relaxed),
        start_time_unix_nano: start_time(file),
        file_size: file.refresh_size().unwrap_or_else(|_| file.known_size()),
        rings: rings.map(|r| RingInfo {
            offset: r.geometry().offset,
            num_buffers: r.geometry().num_buffers,
            buffer_size: r.geometry().buffer_size,
            reader_index: r.reader_index(region),
            writer_index: r.writer_index(region),
        }),
        dictionary: DictionaryInfo {
            offset: layout.dictionary_offset,
            end,
            num_entries,
        },
    }
}

/// The file's `start_time_unix_nano`.
pub(crate) fn start_time(file: &MappedFile) -> u64 {
    // Acquire pairs with the Release store of a re-initialising writer.
    file.region()
        .atomic_u64(header::START_TIME)
        .load(Ordering::Acquire)
}
