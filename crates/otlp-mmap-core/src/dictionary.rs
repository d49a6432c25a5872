//! The append-only dictionary of FORMAT.md section 4.
//!
//! Writers reserve space by advancing `end` atomically, extending the file
//! first when the reservation passes its end (see [`crate::mapping`]), write
//! the entry, then count it in `num_entries`. Entries never move, so a
//! reference (the entry's file offset) stays valid for the life of the file.
//! Readers check every reference against `end`, the file size and a size cap
//! before they touch the mapping.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::layout::{dict_header, DICT_HEADER_SIZE};
use crate::mapping::MappedFile;
use crate::varint;

/// Granularity of file growth.
const GROWTH_ALIGN: u64 = 4096;

/// Something that resolves dictionary references: a reader of a file, or a
/// map in tests.
pub trait Dictionary {
    /// The bytes of the entry at `reference` (without its length prefix);
    /// reference 0 is the empty entry.
    fn entry(&self, reference: i64) -> Result<Vec<u8>>;

    /// The entry at `reference` as a UTF-8 string; reference 0 is "".
    fn string(&self, reference: i64) -> Result<String> {
        String::from_utf8(self.entry(reference)?)
            .map_err(|_| Error::bad_ref(reference, "entry is not valid UTF-8"))
    }
}

/// Writer side of the dictionary of one file.
///
/// It remembers every entry it added (reference and bytes), so that a file
/// truncated under it can be re-created with each of those entries at its
/// old reference ([`DictionaryWriter::restore`]): whatever references the
/// caller has cached stay valid in the new file. While the file is broken
/// (truncated), new entries are only remembered, at references past the
/// last one this writer used, and appear when the file is re-created.
pub struct DictionaryWriter {
    offset: u64,
    entries: Mutex<Entries>,
}

/// What a [`DictionaryWriter`] added, in the order it added it.
#[derive(Default, Clone)]
pub struct Entries {
    /// Content -> reference of entries interned through this writer.
    interned: HashMap<Arc<[u8]>, i64>,
    /// Every entry added through this writer: reference and bytes.
    added: Vec<(u64, Arc<[u8]>)>,
    /// File offset just past the last entry this writer added.
    end: u64,
}

impl DictionaryWriter {
    /// The dictionary whose header is at `offset`.
    pub fn new(offset: u64) -> DictionaryWriter {
        DictionaryWriter {
            offset,
            entries: Mutex::new(Entries::default()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes a fresh header: `end` just past it, no entries.
    pub fn initialise(&self, file: &MappedFile) {
        let region = file.region();
        region.zero(self.offset, DICT_HEADER_SIZE);
        region
            .atomic_i64(self.offset + dict_header::END)
            .store((self.offset + DICT_HEADER_SIZE) as i64, Ordering::Relaxed);
    }

    /// Appends `bytes` as a new entry (varint length, then the bytes) and
    /// returns its reference.
    ///
    /// When the file was truncated (before or during the write) the entry is
    /// remembered for the re-created file and its reference returned all
    /// the same (see the type's documentation).
    pub fn add_entry(&self, file: &MappedFile, bytes: &[u8]) -> Result<i64> {
        let mut entries = self.entries();
        self.add_locked(&mut entries, file, bytes)
    }

    fn add_locked(&self, entries: &mut Entries, file: &MappedFile, bytes: &[u8]) -> Result<i64> {
        let total = (varint::encoded_len(bytes.len() as u64) + bytes.len()) as u64;
        let written = if file.region().is_broken() {
            Err(Error::faulted())
        } else {
            self.write_entry(file, bytes, total)
        };
        let broken = file.region().is_broken();
        let start = match written {
            Ok(start) if !broken => start,
            Err(e) if !broken && !matches!(e, Error::FileTruncated(_)) => return Err(e),
            // The write faulted (its bytes went to a page of zeros, or it
            // read the header from one) or the file shrank: keep the entry
            // for the re-created file, after every entry of this writer.
            _ => {
                let start = entries.end.max(self.offset + DICT_HEADER_SIZE);
                let reserved = file.reserved();
                start.checked_add(total).filter(|&e| e <= reserved).ok_or(
                    Error::DictionaryFull {
                        needed: start.saturating_add(total),
                        reserved,
                    },
                )?;
                start
            }
        };
        entries.added.push((start, Arc::from(bytes)));
        entries.end = entries.end.max(start + total);
        Ok(start as i64)
    }

    /// Reserves room for an entry of `total` bytes in the file and writes
    /// `bytes` there; returns its offset.
    fn write_entry(&self, file: &MappedFile, bytes: &[u8], total: u64) -> Result<u64> {
        let region = file.region();
        let end = region.atomic_i64(self.offset + dict_header::END);
        let first = self.offset + DICT_HEADER_SIZE;
        // Relaxed: the value only seeds the CAS loop.
        let mut current = end.load(Ordering::Relaxed);
        let start = loop {
            // `end` never goes below the first entry in a file in use: lower
            // (zeros) means the file was cut and grown again over the cut.
            let Some(start) = u64::try_from(current).ok().filter(|&s| s >= first) else {
                file.region().mark_broken();
                return Err(Error::zeroed("the dictionary's end"));
            };
            let new_end = start
                .checked_add(total)
                .filter(|&e| e <= file.reserved())
                .ok_or(Error::DictionaryFull {
                    needed: start.saturating_add(total),
                    reserved: file.reserved(),
                })?;
            // Extend the file before the reservation becomes visible, so `end`
            // never points past the end of the file and the bytes we write
            // below exist.
            file.ensure_size(new_end, self.growth_target(file, new_end))?;
            // A CAS loop instead of a blind fetch_add (same atomic effect on
            // `end`): a reservation that cannot be satisfied leaves `end`
            // unchanged. Relaxed: the entry's bytes are published to readers
            // by whatever later carries the reference (a ring commit with
            // Release, or num_entries below), not by `end`.
            match end.compare_exchange_weak(
                current,
                new_end as i64,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => break start,
                Err(actual) => current = actual,
            }
        };
        let mut prefix = [0u8; varint::MAX_VARINT_LEN];
        let n = varint::encode(bytes.len() as u64, &mut prefix);
        region.copy_in(start, &prefix[..n]);
        region.copy_in(start + n as u64, bytes);
        // Release: the entry's bytes are visible to whoever acquires the count.
        region
            .atomic_i64(self.offset + dict_header::NUM_ENTRIES)
            .fetch_add(1, Ordering::Release);
        // A cut inside the file's last page does not fault: the rest of that
        // page takes writes that never reach the file. The size tells (one
        // `fstat` per new entry; callers cache references).
        file.check_intact()?;
        Ok(start)
    }

    /// Like [`add_entry`](Self::add_entry), but returns the existing
    /// reference when the same bytes were interned through this writer.
    pub fn intern(&self, file: &MappedFile, bytes: &[u8]) -> Result<i64> {
        let mut entries = self.entries();
        if let Some(&reference) = entries.interned.get(bytes) {
            return Ok(reference);
        }
        let reference = self.add_locked(&mut entries, file, bytes)?;
        let key = Arc::clone(&entries.added[entries.added.len() - 1].1);
        entries.interned.insert(key, reference);
        Ok(reference)
    }

    /// A copy of what this writer added (the bytes are shared, not copied).
    pub fn snapshot(&self) -> Entries {
        self.entries().clone()
    }

    /// Writes `entries` (another writer's, of a file with this dictionary
    /// offset) into the freshly initialised dictionary of `file`, each at
    /// its old reference, sets `end` and `num_entries`, and adopts them as
    /// this writer's own. Gaps between them (entries of other writers) stay
    /// zero: an empty entry each, which nothing of this writer references.
    pub fn restore(&self, file: &MappedFile, entries: Entries) -> Result<()> {
        let region = file.region();
        let first = self.offset + DICT_HEADER_SIZE;
        let end = entries.end.max(first);
        if end > file.reserved() {
            return Err(Error::DictionaryFull {
                needed: end,
                reserved: file.reserved(),
            });
        }
        if end > first {
            file.ensure_size(end, self.growth_target(file, end))?;
        }
        for (start, bytes) in &entries.added {
            let mut prefix = [0u8; varint::MAX_VARINT_LEN];
            let n = varint::encode(bytes.len() as u64, &mut prefix);
            region.copy_in(*start, &prefix[..n]);
            region.copy_in(*start + n as u64, bytes);
        }
        region
            .atomic_i64(self.offset + dict_header::END)
            .store(end as i64, Ordering::Relaxed);
        // Release: the entries' bytes are visible to whoever acquires the count.
        region
            .atomic_i64(self.offset + dict_header::NUM_ENTRIES)
            .store(entries.added.len() as i64, Ordering::Release);
        if region.is_broken() {
            return Err(Error::faulted());
        }
        *self.entries() = entries;
        Ok(())
    }

    /// File size to grow to so that `needed` bytes exist: the dictionary
    /// section doubles (or grows to `needed` when more), page aligned.
    fn growth_target(&self, file: &MappedFile, needed: u64) -> u64 {
        let current = file.known_size().max(self.offset + DICT_HEADER_SIZE);
        let doubled = self.offset + 2 * (current - self.offset);
        let target = doubled.max(needed);
        target
            .div_ceil(GROWTH_ALIGN)
            .saturating_mul(GROWTH_ALIGN)
            .min(file.reserved())
            .max(needed)
    }
}

/// Reader side of the dictionary: validated lookups.
pub struct DictionaryReader {
    offset: u64,
    max_entry_size: u64,
}

/// Outcome of one lookup attempt against a given bound.
enum Lookup {
    Found(Vec<u8>),
    /// Past the bound: may succeed once the file is seen to have grown.
    OutOfBounds(String),
}

impl DictionaryReader {
    /// The dictionary whose header is at `offset`; entries larger than
    /// `max_entry_size` are rejected.
    pub fn new(offset: u64, max_entry_size: u64) -> DictionaryReader {
        DictionaryReader {
            offset,
            max_entry_size,
        }
    }

    /// Current `end` (acquire) and `num_entries`.
    pub fn header(&self, file: &MappedFile) -> (i64, i64) {
        let region = file.region();
        let end = region
            .atomic_i64(self.offset + dict_header::END)
            .load(Ordering::Acquire);
        let count = region
            .atomic_i64(self.offset + dict_header::NUM_ENTRIES)
            .load(Ordering::Acquire);
        (end, count)
    }

    /// The bytes of the entry at `reference`. Every bound is checked before
    /// the mapping is touched; errors, never panics.
    pub fn entry(&self, file: &MappedFile, reference: i64) -> Result<Vec<u8>> {
        if reference == 0 {
            return Ok(Vec::new());
        }
        let first = self.offset + DICT_HEADER_SIZE;
        let at = u64::try_from(reference)
            .ok()
            .filter(|&r| r >= first)
            .ok_or_else(|| {
                Error::bad_ref(reference, format!("before the first entry at {first}"))
            })?;
        if file.region().is_broken() {
            return Err(Error::faulted());
        }
        let bytes = match self.lookup(file, reference, at, file.known_size())? {
            Lookup::Found(bytes) => bytes,
            Lookup::OutOfBounds(_) => {
                // The file may have grown since we last looked.
                let size = file.refresh_size()?;
                match self.lookup(file, reference, at, size)? {
                    Lookup::Found(bytes) => bytes,
                    Lookup::OutOfBounds(why) => return Err(Error::bad_ref(reference, why)),
                }
            }
        };
        // A copy from pages past the end of a truncated file is zeros that
        // were never written: not the entry. A cut inside the last page of
        // the file zeroes the rest of that page without a fault: the size
        // tells (one `fstat`; entries are looked up once and cached).
        file.check_intact()?;
        Ok(bytes)
    }

    fn lookup(&self, file: &MappedFile, reference: i64, at: u64, file_size: u64) -> Result<Lookup> {
        let (end, _) = self.header(file);
        let end = u64::try_from(end).unwrap_or(0);
        let bound = end.min(file_size).min(file.reserved());
        if at >= bound {
            return Ok(Lookup::OutOfBounds(format!(
                "past the end of the dictionary ({bound})"
            )));
        }
        let mut prefix = [0u8; varint::MAX_VARINT_LEN];
        let prefix_len = (bound - at).min(varint::MAX_VARINT_LEN as u64) as usize;
        file.region().copy_out(at, &mut prefix[..prefix_len]);
        let Some((len, used)) = varint::decode(&prefix[..prefix_len]) else {
            if prefix_len < varint::MAX_VARINT_LEN {
                return Ok(Lookup::OutOfBounds(format!(
                    "length prefix runs past the end of the dictionary ({bound})"
                )));
            }
            return Err(Error::bad_ref(reference, "invalid length prefix"));
        };
        if len > self.max_entry_size {
            return Err(Error::bad_ref(
                reference,
                format!(
                    "entry of {len} bytes exceeds the limit of {}",
                    self.max_entry_size
                ),
            ));
        }
        let data = at + used as u64;
        if data.checked_add(len).is_none_or(|e| e > bound) {
            return Ok(Lookup::OutOfBounds(format!(
                "entry of {len} bytes runs past the end of the dictionary ({bound})"
            )));
        }
        let mut bytes = vec![0u8; len as usize];
        file.region().copy_out(data, &mut bytes);
        Ok(Lookup::Found(bytes))
    }
}
