//! Where everything is in the file (FORMAT.md sections 1–4): planning the
//! layout of a new file, and validating the layout of an existing one.
//!
//! Validation reads through a caller-supplied `read_at` (positional reads of
//! the file, not the mapping), so nothing is mapped or touched before every
//! check of FORMAT.md section 2 has passed. The resulting [`Layout`] is the
//! only source of geometry afterwards: it is never re-read from the file,
//! because a hostile writer could change it under us.

use std::sync::atomic::Ordering;

use crate::config::WriterConfig;
use crate::error::{Error, Result};
use crate::region::Region;

/// Size of the file header.
pub const HEADER_SIZE: u64 = 64;
/// Size of a ring header.
pub const RING_HEADER_SIZE: u64 = 32;
/// Size of the dictionary header.
pub const DICT_HEADER_SIZE: u64 = 64;
/// The only version this implementation reads and writes.
pub const VERSION: i64 = 1;

/// Offsets of the file header fields.
pub mod header {
    pub const VERSION: u64 = 0;
    /// Offset of the field holding the offset of ring `i` (0, 1, 2).
    pub const RING_OFFSETS: [u64; 3] = [8, 16, 24];
    pub const DICTIONARY: u64 = 32;
    pub const START_TIME: u64 = 40;
}

/// Offsets of fields inside a ring header.
pub mod ring_header {
    pub const NUM_BUFFERS: u64 = 0;
    pub const BUFFER_SIZE: u64 = 8;
    pub const READER_INDEX: u64 = 16;
    pub const WRITER_INDEX: u64 = 24;
}

/// Offsets of fields inside the dictionary header.
pub mod dict_header {
    pub const END: u64 = 0;
    pub const NUM_ENTRIES: u64 = 8;
}

/// Validated geometry of one ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingGeometry {
    /// File offset of the ring header.
    pub offset: u64,
    /// Number of slots (a power of two).
    pub num_buffers: u64,
    /// Bytes per slot.
    pub buffer_size: u64,
}

impl RingGeometry {
    /// `log2(num_buffers)`.
    pub fn shift(&self) -> u32 {
        self.num_buffers.trailing_zeros()
    }
    /// File offset of `reader_index`.
    pub fn reader_index_offset(&self) -> u64 {
        self.offset + ring_header::READER_INDEX
    }
    /// File offset of `writer_index`.
    pub fn writer_index_offset(&self) -> u64 {
        self.offset + ring_header::WRITER_INDEX
    }
    /// File offset of the availability entry of `slot`.
    pub fn availability_offset(&self, slot: u64) -> u64 {
        self.offset + RING_HEADER_SIZE + 4 * slot
    }
    /// File offset of `slot`.
    pub fn slot_offset(&self, slot: u64) -> u64 {
        self.offset + RING_HEADER_SIZE + 4 * self.num_buffers + slot * self.buffer_size
    }
    /// Total bytes of the ring.
    pub fn size(&self) -> u64 {
        RING_HEADER_SIZE + 4 * self.num_buffers + self.num_buffers * self.buffer_size
    }
}

/// Validated (or planned) layout of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Rings in file order: events, spans, measurements.
    pub rings: [RingGeometry; 3],
    /// File offset of the dictionary header.
    pub dictionary_offset: u64,
    /// Size of the file: when planning, the initial size; when validating,
    /// the size at open.
    pub file_size: u64,
}

const RING_NAMES: [&str; 3] = ["events", "spans", "measurements"];

impl Layout {
    /// The first field of the mapped file that no longer holds what the
    /// layout says (the version, a ring's slot count or slot size, a
    /// dictionary `end` before its first entry), if any. These fields never
    /// change while the file is in use: zeros there mean the file was cut
    /// and grown again over the cut, which a size check cannot see. A few
    /// atomic loads.
    pub(crate) fn first_zeroed_field(&self, region: &Region) -> Option<&'static str> {
        // Relaxed: each field is compared with a constant; nothing is
        // published through these loads.
        if region.atomic_i64(header::VERSION).load(Ordering::Relaxed) != VERSION {
            return Some("the file header");
        }
        const RING_HEADERS: [&str; 3] = [
            "the events ring header",
            "the spans ring header",
            "the measurements ring header",
        ];
        for (g, name) in self.rings.iter().zip(RING_HEADERS) {
            let slots = region.atomic_i64(g.offset + ring_header::NUM_BUFFERS);
            let size = region.atomic_i64(g.offset + ring_header::BUFFER_SIZE);
            if slots.load(Ordering::Relaxed) as u64 != g.num_buffers
                || size.load(Ordering::Relaxed) as u64 != g.buffer_size
            {
                return Some(name);
            }
        }
        let end = region.atomic_i64(self.dictionary_offset + dict_header::END);
        if (end.load(Ordering::Relaxed) as u64) < self.dictionary_offset + DICT_HEADER_SIZE {
            return Some("the dictionary header");
        }
        None
    }
}

fn le_i64(bytes: &[u8], at: usize) -> i64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    i64::from_le_bytes(b)
}

impl Layout {
    /// Lays out a new file for `config`: sections in FORMAT order,
    /// contiguous, each 8-byte aligned when the config is valid.
    pub fn plan(config: &WriterConfig) -> Layout {
        let mut offset = HEADER_SIZE;
        let rings = config.rings.map(|rc| {
            let g = RingGeometry {
                offset,
                num_buffers: rc.num_buffers,
                buffer_size: rc.buffer_size,
            };
            offset = offset.saturating_add(rc.ring_bytes());
            g
        });
        Layout {
            rings,
            dictionary_offset: offset,
            file_size: offset.saturating_add(config.dictionary_size),
        }
    }

    /// Validates an existing file of `file_size` bytes, reading it through
    /// `read_at(offset, buf)` (which fills `buf` exactly). Every check of
    /// FORMAT.md section 2; the error names the failed check.
    pub fn validate(
        file_size: u64,
        read_at: &mut dyn FnMut(u64, &mut [u8]) -> Result<()>,
    ) -> Result<Layout> {
        if file_size < HEADER_SIZE {
            return Err(Error::invalid(format!(
                "file size {file_size} is smaller than the {HEADER_SIZE}-byte header"
            )));
        }
        let mut hdr = [0u8; HEADER_SIZE as usize];
        read_at(0, &mut hdr)?;
        let version = le_i64(&hdr, header::VERSION as usize);
        if version != VERSION {
            return Err(Error::UnsupportedVersion { found: version });
        }

        // Section offsets: events, spans, measurements, dictionary.
        let mut offsets = [0u64; 4];
        let names = ["events", "spans", "measurements", "dictionary"];
        let fields = [
            header::RING_OFFSETS[0],
            header::RING_OFFSETS[1],
            header::RING_OFFSETS[2],
            header::DICTIONARY,
        ];
        for i in 0..4 {
            let raw = le_i64(&hdr, fields[i] as usize);
            let name = names[i];
            let off = u64::try_from(raw)
                .map_err(|_| Error::invalid(format!("{name} offset {raw} is negative")))?;
            if !off.is_multiple_of(8) {
                return Err(Error::invalid(format!(
                    "{name} offset {off} is not 8-byte aligned"
                )));
            }
            if off >= file_size {
                return Err(Error::invalid(format!(
                    "{name} offset {off} is outside the file (size {file_size})"
                )));
            }
            let floor = if i == 0 { HEADER_SIZE } else { offsets[i - 1] };
            if (i == 0 && off < floor) || (i > 0 && off <= floor) {
                return Err(Error::invalid(format!(
                    "{name} offset {off} overlaps the previous section (sections must be in order: header, events, spans, measurements, dictionary)"
                )));
            }
            offsets[i] = off;
        }

        let mut rings = [RingGeometry {
            offset: 0,
            num_buffers: 0,
            buffer_size: 0,
        }; 3];
        for i in 0..3 {
            let name = RING_NAMES[i];
            let off = offsets[i];
            let space = offsets[i + 1] - off;
            if space < RING_HEADER_SIZE {
                return Err(Error::invalid(format!(
                    "{name} ring has {space} bytes, less than its {RING_HEADER_SIZE}-byte header"
                )));
            }
            let mut rh = [0u8; RING_HEADER_SIZE as usize];
            read_at(off, &mut rh)?;
            let n_raw = le_i64(&rh, ring_header::NUM_BUFFERS as usize);
            let bs_raw = le_i64(&rh, ring_header::BUFFER_SIZE as usize);
            if n_raw < 1 || !(n_raw as u64).is_power_of_two() {
                return Err(Error::invalid(format!(
                    "{name} ring num_buffers {n_raw} is not a power of two >= 1"
                )));
            }
            if bs_raw < 1 {
                return Err(Error::invalid(format!(
                    "{name} ring buffer_size {bs_raw} is not positive"
                )));
            }
            let (n, bs) = (n_raw as u64, bs_raw as u64);
            let size = n
                .checked_mul(4)
                .and_then(|a| n.checked_mul(bs).and_then(|b| a.checked_add(b)))
                .and_then(|s| s.checked_add(RING_HEADER_SIZE));
            if size != Some(space) {
                return Err(Error::invalid(format!(
                    "{name} ring size 32 + 4*{n} + {n}*{bs} does not equal the {space} bytes up to the next section"
                )));
            }
            rings[i] = RingGeometry {
                offset: off,
                num_buffers: n,
                buffer_size: bs,
            };
        }

        let dict = offsets[3];
        let dict_data = dict + DICT_HEADER_SIZE;
        if dict_data > file_size {
            return Err(Error::invalid(format!(
                "dictionary header at {dict} extends past the end of the file (size {file_size})"
            )));
        }
        let mut dh = [0u8; 8];
        read_at(dict + dict_header::END, &mut dh)?;
        let end = i64::from_le_bytes(dh);
        if end < dict_data as i64 || end as u64 > file_size {
            return Err(Error::invalid(format!(
                "dictionary end {end} is outside [{dict_data}, {file_size}]"
            )));
        }
        Ok(Layout {
            rings,
            dictionary_offset: dict,
            file_size,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RingConfig;
    use proptest::prelude::*;

    fn config(rings: [(u64, u64); 3], dict: u64) -> WriterConfig {
        WriterConfig {
            rings: rings.map(|(n, bs)| RingConfig {
                num_buffers: n,
                buffer_size: bs,
            }),
            dictionary_size: dict,
            ..WriterConfig::default()
        }
    }

    fn assert_well_formed(layout: &Layout, cfg: &WriterConfig) {
        let mut expected = HEADER_SIZE;
        for (g, rc) in layout.rings.iter().zip(cfg.rings.iter()) {
            assert_eq!(g.offset, expected, "sections are contiguous, in order");
            assert_eq!(g.offset % 8, 0, "ring offset is 8-aligned");
            assert_eq!(
                g.size(),
                32 + 4 * rc.num_buffers + rc.num_buffers * rc.buffer_size
            );
            expected = g.offset + g.size();
        }
        assert_eq!(layout.dictionary_offset, expected);
        assert_eq!(
            layout.dictionary_offset % 8,
            0,
            "dictionary offset is 8-aligned"
        );
        assert_eq!(
            layout.file_size,
            layout.dictionary_offset + cfg.dictionary_size
        );
    }

    #[test]
    fn plans_default_layout_offsets() {
        let cfg = WriterConfig::default();
        let l = Layout::plan(&cfg);
        assert_eq!(l.rings[0].offset, 64);
        assert_eq!(l.rings[1].offset, 64 + 32 + 4 * 4096 + 4096 * 512);
        assert_eq!(
            l.rings[2].offset,
            l.rings[1].offset + 32 + 4 * 4096 + 4096 * 1024
        );
        assert_eq!(
            l.dictionary_offset,
            l.rings[2].offset + 32 + 4 * 8192 + 8192 * 256
        );
        assert_well_formed(&l, &cfg);
    }

    #[test]
    fn plans_small_and_mixed_layouts() {
        for rings in [
            [(2, 16), (2, 16), (2, 16)],
            [(4, 24), (8, 40), (2, 1024)],
            [(1024, 64), (2, 4096), (16, 8)],
        ] {
            let cfg = config(rings, 128);
            assert_well_formed(&Layout::plan(&cfg), &cfg);
        }
        let cfg = config([(2, 16), (2, 16), (2, 16)], 64);
        let l = Layout::plan(&cfg);
        assert_eq!(l.rings.map(|r| r.offset), [64, 64 + 72, 64 + 144]);
        assert_eq!(l.dictionary_offset, 64 + 216);
    }

    /// Validates `bytes` as a whole file held in memory.
    fn validate_bytes(bytes: &[u8]) -> Result<Layout> {
        let mut read_at = |offset: u64, buf: &mut [u8]| -> Result<()> {
            let start = usize::try_from(offset).map_err(|_| Error::invalid("offset"))?;
            let src = start
                .checked_add(buf.len())
                .and_then(|end| bytes.get(start..end))
                .ok_or_else(|| Error::invalid("read past the end"))?;
            buf.copy_from_slice(src);
            Ok(())
        };
        Layout::validate(bytes.len() as u64, &mut read_at)
    }

    fn planned_file(cfg: &WriterConfig) -> Vec<u8> {
        let l = Layout::plan(cfg);
        let mut f = vec![0u8; l.file_size as usize];
        let put = |f: &mut Vec<u8>, at: u64, v: i64| {
            f[at as usize..at as usize + 8].copy_from_slice(&v.to_le_bytes())
        };
        put(&mut f, 0, 1);
        for (i, g) in l.rings.iter().enumerate() {
            put(&mut f, header::RING_OFFSETS[i], g.offset as i64);
            put(&mut f, g.offset, g.num_buffers as i64);
            put(&mut f, g.offset + 8, g.buffer_size as i64);
        }
        put(&mut f, header::DICTIONARY, l.dictionary_offset as i64);
        put(
            &mut f,
            l.dictionary_offset,
            (l.dictionary_offset + DICT_HEADER_SIZE) as i64,
        );
        f
    }

    #[test]
    fn validates_a_planned_file() {
        let cfg = config([(4, 32), (8, 16), (2, 64)], 128);
        assert_eq!(
            validate_bytes(&planned_file(&cfg)).unwrap(),
            Layout::plan(&cfg)
        );
    }

    proptest! {
        #[test]
        fn planned_sections_never_overlap_and_stay_aligned(
            logs in proptest::array::uniform3(1u32..16),
            words in proptest::array::uniform3(2u64..512),
            dict in 8u64..100_000,
        ) {
            let rings = [0, 1, 2].map(|i| (1u64 << logs[i], words[i] * 8));
            let cfg = config(rings, dict * 8);
            prop_assert!(cfg.validate().is_ok());
            let l = Layout::plan(&cfg);
            assert_well_formed(&l, &cfg);
            for w in l.rings.windows(2) {
                prop_assert!(w[0].offset + w[0].size() <= w[1].offset);
            }
            prop_assert!(l.rings[2].offset + l.rings[2].size() <= l.dictionary_offset);
        }

        #[test]
        fn corrupted_headers_never_panic_and_accepted_layouts_fit_the_file(
            edits in proptest::collection::vec((0usize..400, any::<u8>()), 1..12),
            words in proptest::collection::vec((0usize..50, any::<i64>()), 0..3),
            truncate in proptest::option::of(0usize..500),
        ) {
            let cfg = config([(4, 32), (8, 16), (2, 64)], 128);
            let mut f = planned_file(&cfg);
            for (at, b) in edits {
                if at < f.len() { f[at] = b; }
            }
            for (word, v) in words {
                let at = word * 8;
                if at + 8 <= f.len() { f[at..at + 8].copy_from_slice(&v.to_le_bytes()); }
            }
            if let Some(n) = truncate { f.truncate(n); }
            if let Ok(l) = validate_bytes(&f) {
                let size = f.len() as u64;
                let mut prev = HEADER_SIZE;
                for g in &l.rings {
                    prop_assert!(g.offset >= prev && g.offset % 8 == 0);
                    prop_assert!(g.num_buffers.is_power_of_two() && g.buffer_size > 0);
                    prev = g.offset + g.size();
                }
                prop_assert_eq!(prev, l.dictionary_offset);
                prop_assert!(l.dictionary_offset + DICT_HEADER_SIZE <= size);
            }
        }
    }
}
