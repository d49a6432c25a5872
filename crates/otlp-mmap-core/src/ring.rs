//! The lock-free multi-producer, single-consumer rings of FORMAT.md section 3.
//!
//! Guarantees:
//! - any number of writers, in any threads and processes that map the file,
//!   append concurrently; each message is written to exactly one slot;
//! - exactly one reader at a time consumes, in index order;
//! - nothing blocks: a full ring is reported to the writer ([`Ring::try_append`]
//!   returns `false`), an empty ring to the reader (0 messages read);
//! - an oversized message is refused before an index is claimed, so every
//!   claimed index is committed by a live writer (FORMAT.md 7.5);
//! - a claimed index whose writer died before committing is skipped by the
//!   reader after a timeout (FORMAT.md 7.8);
//! - the reader treats slots as untrusted: a slot whose length prefix is
//!   invalid or does not fit the slot is skipped and counted.
//!
//! The geometry comes from a validated [`RingGeometry`] and is never re-read.
//!
//! Consumed slots are given back: once at least [`RELEASE_MIN_BYTES`] of
//! slots have been consumed since the last release, the reader drops its own
//! mapping of the whole pages that lie entirely inside those slots
//! (`Region::release_pages`, `madvise(MADV_DONTNEED)`; at most two ranges
//! per `read_batch`, as the ring wraps). Their bytes were already copied
//! out, and the data stays in the file and page cache, so the next lap
//! faults the pages back in with whatever writers put there. Without this, a
//! reader that has gone round a ring once keeps every slot page resident in
//! its RSS. Writers never release pages.

use std::time::{Duration, Instant};

use std::sync::atomic::Ordering;

use crate::error::{Error, Result};
use crate::layout::RingGeometry;
use crate::region::{self, Region};
use crate::varint;

/// Lap of index `i` in a ring of `2^shift` slots: shift the full 64-bit
/// index, then keep the low 32 bits (FORMAT.md section 3).
pub fn lap(index: i64, shift: u32) -> i32 {
    (((index as u64) >> shift) & 0xFFFF_FFFF) as u32 as i32
}

/// Largest message (without its prefix) that fits a slot of `buffer_size`.
pub fn max_message_size(buffer_size: u64) -> usize {
    let bs = usize::try_from(buffer_size).unwrap_or(usize::MAX);
    let mut m = bs.saturating_sub(1);
    while m > 0 && varint::encoded_len(m as u64) + m > bs {
        m -= 1;
    }
    m
}

/// One ring of a mapped file: its validated geometry and name.
#[derive(Debug, Clone, Copy)]
pub struct Ring {
    geometry: RingGeometry,
    name: &'static str,
    max_message: usize,
}

/// Counters a reader keeps per ring.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RingStats {
    /// Messages returned to the caller.
    pub read: u64,
    /// Slots skipped because their content was invalid.
    pub corrupt: u64,
    /// Claimed indexes skipped after staying uncommitted past the timeout.
    pub skipped_uncommitted: u64,
}

/// Consumed slot bytes that must accumulate before the reader releases
/// their pages (one `madvise` per 64 KiB or more, not one per small read).
pub const RELEASE_MIN_BYTES: u64 = 64 * 1024;

/// Reader-side state of one ring (kept by the single reader, not in the file).
#[derive(Debug, Default)]
pub struct RingReadState {
    /// Index seen claimed but uncommitted, and when it was first seen so.
    pending: Option<(i64, Instant)>,
    /// Lowest consumed index whose slot may lie in pages not yet released
    /// (`None` before the first read). Only an optimisation hint: a wrong
    /// value releases less, or releases pages that are faulted back in.
    release_from: Option<i64>,
    /// Counters.
    pub stats: RingStats,
}

impl Ring {
    /// A ring with a validated geometry.
    pub fn new(geometry: RingGeometry, name: &'static str) -> Ring {
        Ring {
            geometry,
            name,
            max_message: max_message_size(geometry.buffer_size),
        }
    }

    /// The ring's geometry.
    pub fn geometry(&self) -> &RingGeometry {
        &self.geometry
    }

    /// Largest message (without prefix) that fits one slot.
    pub fn max_message_size(&self) -> usize {
        self.max_message
    }

    fn slot_of(&self, index: i64) -> u64 {
        (index as u64) & (self.geometry.num_buffers - 1)
    }

    /// Current `reader_index` (relaxed: for information only).
    pub fn reader_index(&self, region: &Region) -> i64 {
        region
            .atomic_i64(self.geometry.reader_index_offset())
            .load(Ordering::Relaxed)
    }

    /// Current `writer_index` (relaxed: for information only).
    pub fn writer_index(&self, region: &Region) -> i64 {
        region
            .atomic_i64(self.geometry.writer_index_offset())
            .load(Ordering::Relaxed)
    }

    /// Sets up a fresh ring: header, indexes -1, every availability -1.
    pub fn initialise(&self, region: &Region) {
        let g = &self.geometry;
        region
            .atomic_i64(g.offset)
            .store(g.num_buffers as i64, Ordering::Relaxed);
        region
            .atomic_i64(g.offset + 8)
            .store(g.buffer_size as i64, Ordering::Relaxed);
        region
            .atomic_i64(g.reader_index_offset())
            .store(-1, Ordering::Relaxed);
        region
            .atomic_i64(g.writer_index_offset())
            .store(-1, Ordering::Relaxed);
        for slot in 0..g.num_buffers {
            region
                .atomic_i32(g.availability_offset(slot))
                .store(-1, Ordering::Relaxed);
        }
    }

    /// Step 1 of writing: claims the next index, or `None` when full.
    pub fn claim(&self, region: &Region) -> Option<i64> {
        let writer_index = region.atomic_i64(self.geometry.writer_index_offset());
        let reader_index = region.atomic_i64(self.geometry.reader_index_offset());
        let n = self.geometry.num_buffers as i64;
        // Relaxed: a stale value only makes the CAS below fail and retry.
        let mut w = writer_index.load(Ordering::Relaxed);
        loop {
            // Acquire pairs with the reader's Release store of reader_index:
            // the reader's copy out of the slot we are about to reuse
            // happens-before our writes into it.
            let r = reader_index.load(Ordering::Acquire);
            if w.wrapping_add(1).wrapping_sub(n) >= r {
                return None; // not `w + 1 - n < r`: the slot is not consumed yet
            }
            // Relaxed on success: the CAS only decides ownership of index
            // w + 1; the slot data is published by the Release commit, and
            // the room check already used an Acquire load of reader_index.
            // `r` was loaded after `w`, so a successful CAS means the check
            // used an r at least as old as the claim: conservative.
            match writer_index.compare_exchange_weak(
                w,
                w.wrapping_add(1),
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Some(w.wrapping_add(1)),
                Err(current) => w = current,
            }
        }
    }

    /// Steps 2 and 3 of writing: writes `message` (with its varint prefix)
    /// into the slot of the claimed `index` and commits it.
    pub fn write_and_commit(&self, region: &Region, index: i64, message: &[u8]) {
        let slot = self.slot_of(index);
        let at = self.geometry.slot_offset(slot);
        let mut prefix = [0u8; varint::MAX_VARINT_LEN];
        let n = varint::encode(message.len() as u64, &mut prefix);
        region.copy_in(at, &prefix[..n]);
        region.copy_in(at + n as u64, message);
        // Release: the slot bytes written above become visible to the reader
        // whose Acquire load of this entry sees the lap.
        region
            .atomic_i32(self.geometry.availability_offset(slot))
            .store(lap(index, self.geometry.shift()), Ordering::Release);
        // The next index is most likely this writer's next claim: ask for
        // its slot lines now, so that their cache misses (and page-table walk)
        // overlap with the application's work until then instead of stalling
        // the next append.
        let next = self
            .geometry
            .slot_offset(self.slot_of(index.wrapping_add(1)));
        region.prefetch_for_write(next, self.geometry.buffer_size.min(region::PREFETCH_MAX));
    }

    /// Appends one message. `Ok(false)`: the ring is full (nothing claimed).
    /// `Err(MessageTooLarge)`: the message can never fit; checked before
    /// claiming, so the ring is unchanged.
    pub fn try_append(&self, region: &Region, message: &[u8]) -> Result<bool> {
        if message.len() > self.max_message {
            return Err(Error::MessageTooLarge {
                ring: self.name,
                size: message.len(),
                max: self.max_message,
            });
        }
        match self.claim(region) {
            Some(index) => {
                self.write_and_commit(region, index, message);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Reads up to `max_messages` committed messages, appending each to
    /// `out` as `varint length + bytes`, and consumes them. Returns how many
    /// were appended. Never blocks; see the module documentation for skipped
    /// slots. At most `max_messages` slots are consumed per call.
    pub fn read_batch(
        &self,
        region: &Region,
        state: &mut RingReadState,
        uncommitted_timeout: Duration,
        max_messages: usize,
        out: &mut Vec<u8>,
    ) -> usize {
        let g = &self.geometry;
        let reader_index = region.atomic_i64(g.reader_index_offset());
        let writer_index = region.atomic_i64(g.writer_index_offset());
        let shift = g.shift();
        let bs = usize::try_from(g.buffer_size).unwrap_or(usize::MAX);
        let mut appended = 0;
        let mut steps = 0;
        let first = reader_index.load(Ordering::Acquire).wrapping_add(1);
        while steps < max_messages {
            // Relaxed would do (only this reader stores it); Acquire as FORMAT
            // step 1 states, so a restarted reader sees its predecessor's state.
            let r = reader_index.load(Ordering::Acquire);
            let next = r.wrapping_add(1);
            let slot = self.slot_of(next);
            // Acquire pairs with the writer's Release commit of this entry:
            // seeing the lap makes the slot bytes visible.
            let available = region
                .atomic_i32(g.availability_offset(slot))
                .load(Ordering::Acquire);
            if available != lap(next, shift) {
                // Relaxed: only compared with `next`; a stale value delays the
                // uncommitted check to a later call.
                let w = writer_index.load(Ordering::Relaxed);
                if w < next {
                    state.pending = None;
                    break; // nothing claimed: empty
                }
                let since = match state.pending {
                    Some((index, since)) if index == next => since,
                    _ => {
                        let now = Instant::now();
                        state.pending = Some((next, now));
                        now
                    }
                };
                if since.elapsed() < uncommitted_timeout {
                    break; // claimed, not yet committed: wait for a later call
                }
                state.pending = None;
                state.stats.skipped_uncommitted += 1;
                // Release: keeps every earlier slot access before the store.
                reader_index.store(next, Ordering::Release);
                steps += 1;
                continue;
            }
            state.pending = None;
            let at = g.slot_offset(slot);
            let mut prefix = [0u8; varint::MAX_VARINT_LEN];
            let prefix_len = prefix.len().min(bs);
            region.copy_out(at, &mut prefix[..prefix_len]);
            let valid = varint::decode(&prefix[..prefix_len]).and_then(|(len, used)| {
                let len = usize::try_from(len).ok()?;
                (len <= bs - used).then_some((len, used))
            });
            match valid {
                Some((len, used)) => {
                    // Our own prefix, not the slot's bytes: the framing in
                    // `out` stays consistent whatever the slot holds.
                    varint::push(len as u64, out);
                    let start = out.len();
                    out.resize(start + len, 0);
                    region.copy_out(at + used as u64, &mut out[start..]);
                    state.stats.read += 1;
                    appended += 1;
                }
                None => state.stats.corrupt += 1,
            }
            // Release: our copy out of the slot happens-before a writer's
            // reuse of it (the writer loads reader_index with Acquire).
            reader_index.store(next, Ordering::Release);
            steps += 1;
        }
        if steps > 0 {
            // Every copy into `out` is done: the consumed slots are free.
            let end = reader_index.load(Ordering::Acquire).wrapping_add(1);
            self.release_consumed(region, state, first, end);
        }
        appended
    }

    /// Releases the whole pages inside the slots of indexes
    /// `[state.release_from, end)` (all consumed) once they span at least
    /// [`RELEASE_MIN_BYTES`], and advances `state.release_from` to the first
    /// slot whose page was kept. `first` is where this call started reading.
    fn release_consumed(&self, region: &Region, state: &mut RingReadState, first: i64, end: i64) {
        let g = &self.geometry;
        let n = g.num_buffers as i64;
        let bs = g.buffer_size;
        // Re-anchor when the hint does not describe consumed slots of the
        // last lap (first read, or reader_index moved by a reset or another
        // reader). Indexes come from the file: i128 keeps hostile values
        // from overflowing.
        let (first, end) = (first as i128, end as i128);
        let mut from = match state.release_from {
            Some(from) if from as i128 <= first => from as i128,
            _ => first,
        };
        from = from.clamp(end - n as i128, end);
        let count = (end - from) as u64; // in 0..=n
        let from = from as i64;
        if count.saturating_mul(bs) < RELEASE_MIN_BYTES {
            state.release_from = Some(from);
            return;
        }
        let page = region::page_size();
        let start_slot = self.slot_of(from);
        let first_len = count.min(g.num_buffers - start_slot);
        let rest = count - first_len;
        // Releases the pages inside `slots` slots from `slot` and returns how
        // many of those slots lie entirely in released pages, from the start.
        let release = |slot: u64, slots: u64| -> u64 {
            let start = g.slot_offset(slot);
            let stop = start + slots * bs;
            let lo = start.next_multiple_of(page);
            let hi = stop - stop % page;
            if hi <= lo {
                return 0;
            }
            region.release_pages(lo, hi - lo);
            (hi - start) / bs
        };
        let done_first = release(start_slot, first_len);
        state.release_from = Some(if rest == 0 {
            from.wrapping_add(done_first as i64)
        } else {
            // The partial page at the end of the slots area is given up.
            let done_rest = release(0, rest);
            from.wrapping_add((first_len + done_rest) as i64)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lap_shifts_the_full_64_bit_index() {
        // 2^33 + 5 in a ring of 4 slots: shift first, then keep 32 bits.
        let i: i64 = (1 << 33) + 5;
        assert_eq!(lap(i, 2), (((i as u64) >> 2) & 0xFFFF_FFFF) as u32 as i32);
        assert_eq!(lap(i, 2), ((1u64 << 31) + 1) as u32 as i32);
        // Truncating to 32 bits first would give lap 1: must differ.
        assert_ne!(lap(i, 2), ((i as u32) >> 2) as i32);
        // Beyond 2^34 with 1 slot: the low 32 bits of the index itself.
        let j: i64 = (1 << 34) + 7;
        assert_eq!(lap(j, 0), 7);
        assert_eq!(lap(-1, 3), -1);
        assert_eq!(lap((1i64 << 40) - 1, 8), -1);
    }

    #[test]
    fn max_message_size_accounts_for_the_prefix() {
        assert_eq!(max_message_size(16), 15);
        assert_eq!(max_message_size(128), 127);
        assert_eq!(max_message_size(129), 127);
        assert_eq!(max_message_size(130), 128);
        assert_eq!(max_message_size(1), 0);
        for bs in 1..3000u64 {
            let m = max_message_size(bs);
            assert!(varint::encoded_len(m as u64) + m <= bs as usize);
            assert!(varint::encoded_len(m as u64 + 1) + m + 1 > bs as usize);
        }
    }
}
