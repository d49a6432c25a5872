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
//! - a slot committed by a writer that computes the lap from a 32-bit index
//!   is read too, and counted in [`RingStats::lap32_committed`]
//!   (FORMAT.md 7.9, [`lap_of_truncated_index`]);
//! - the reader treats slots as untrusted: a slot whose length prefix is
//!   invalid or does not fit the slot is skipped and counted;
//! - the reader treats the indexes as untrusted: an impossible index state
//!   is resynchronised and counted (see "Impossible index states" below);
//! - one read holds a bounded number of messages *and* of bytes
//!   ([`ReadLimits`]); a single message larger than the byte bound is still
//!   read, alone.
//!
//! The geometry comes from a validated [`RingGeometry`] and is never re-read.
//! The ring touches memory only through [`RingMemory`], so the same code
//! runs on the shared mapping and in the `loom` model of the protocol.
//!
//! # Uncommitted claims
//!
//! When the slot of `reader_index + 1` is claimed (`writer_index` shows it)
//! but not committed, the reader notes when it first saw that, together
//! with the `writer_index` of that moment (the *mark*): every index up to
//! the mark was claimed no later than that moment. Once the timeout has
//! passed, each index up to the mark that is still uncommitted when the
//! reader reaches it is skipped at once (counted in
//! [`RingStats::skipped_uncommitted`]), instead of waiting the timeout again
//! for each: a run of dead claims costs one timeout, not one per index.
//! No index is skipped before it has been claimed for at least the timeout.
//!
//! # Impossible index states
//!
//! Writers only claim an index when its slot's previous occupant has been
//! consumed, and the reader only consumes claimed indexes, so in every
//! state a correct writer and reader can produce,
//! `-1 <= reader_index <= writer_index <= reader_index + num_buffers - 1`.
//! The reader accepts `writer_index = reader_index + num_buffers` too: those
//! `num_buffers` unread indexes still lie in distinct slots (only the
//! writers' room check keeps one slot free). Indexes start at -1 and grow by one per message; [`MAX_INDEX`] (2^62)
//! cannot be reached by counting (146 years at 10^9 messages a second).
//! Anything else comes from a corrupt or hostile file (or another program
//! writing the header), and left alone it loses messages silently: a
//! `reader_index` ahead of `writer_index` makes the reader ignore what
//! writers commit until they catch up; a `writer_index` far ahead makes the
//! ring look full to every writer while the reader skips one index per
//! timeout; an index below -1 makes slots never written look committed.
//!
//! The reader checks the state at the start of every read and wherever a
//! slot is not readable. Its rule:
//! 1. a consuming reader remembers the position it last stored: when the
//!    file's `reader_index` was changed under it into an impossible state
//!    and that remembered position is consistent with `writer_index`, it
//!    simply goes on from there (nothing lost, nothing read twice);
//! 2. a `reader_index` outside `[-1, MAX_INDEX]` is not used at all: the
//!    reader resynchronises at once;
//! 3. otherwise it first reads, in order, whatever is committed after
//!    `reader_index` (nothing is lost when only `writer_index` is wrong),
//!    and at the first slot that is not readable it resynchronises if the
//!    state is still impossible, instead of waiting;
//! 4. resynchronising makes the state consistent. When `writer_index` is
//!    in range, the reader moves to `max(-1, writer_index - num_buffers)`,
//!    so that the next `num_buffers` indexes, up to `writer_index`, are the
//!    ones whose slots can still hold their messages. It then reads that
//!    window as usual — committed slots are read, claimed but
//!    uncommitted ones are skipped after one uncommitted timeout, all
//!    together (see above) — so messages a writer committed after a
//!    corrupt `reader_index` are exported, not lost. The indexes it jumped
//!    over (from a `reader_index` below the window) are given up. When
//!    `writer_index` itself is out of range, the reader puts it back with a
//!    compare-and-swap to its own position (or -1), so that writers
//!    continue from there (a writer that moves it meanwhile makes the CAS
//!    fail; the next read tries again). A read-only reader never writes: it
//!    cannot repair `writer_index`, and reads such a ring as empty.
//!
//! The window may hold messages a reader had consumed before the index was
//! corrupted (a reader started after the corruption cannot tell): for a
//! corrupt file, delivering such a message twice is preferred to losing
//! messages silently. Each resynchronisation counts one in
//! [`RingStats::resyncs`] and the indexes it gave up in
//! [`RingStats::resync_skipped`]. Every step is a constant amount of work
//! and counts against the read's message budget, so a hostile header can
//! neither hang a read nor overflow an index (arithmetic happens only on
//! in-range values, or wraps deliberately).
//!
//! A slot whose availability entry shows it committed although
//! `writer_index` has not reached its index (an availability array that was
//! never initialised, for example) is not read: a commit is always
//! preceded by its claim.
//!
//! # Releasing pages
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

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::layout::RingGeometry;
use crate::region;
use crate::ring_memory::{AtomicI32Cell, AtomicI64Cell, RingMemory};
use crate::varint;

/// Largest index of a consistent ring (2^62): indexes grow by one per
/// message from -1, so a larger one cannot have been reached by counting.
pub const MAX_INDEX: i64 = 1 << 62;

/// Lap of index `i` in a ring of `2^shift` slots: shift the full 64-bit
/// index, then keep the low 32 bits (FORMAT.md section 3).
pub fn lap(index: i64, shift: u32) -> i32 {
    (((index as u64) >> shift) & 0xFFFF_FFFF) as u32 as i32
}

/// The availability value a writer that truncates the index to its low 32
/// bits *before* shifting leaves for index `i` (FORMAT.md 7.9):
/// `((i mod 2^32) >> shift) as i32`. Equal to [`lap`] below 2^32, and
/// wherever the low `shift` bits of `i >> 32` are 0 (always, with one slot).
///
/// The reader accepts it as "committed" too, which is safe because it cannot
/// be a value left in the slot by an earlier index `j = i - k·2^shift`
/// (`k >= 1`) of the last 2^32 indexes, written by either kind of writer:
/// - the truncated value of `j` equals it only when `k·2^shift ≡ 0 (mod 2^32)`;
/// - the section 3 value of `j` equals it only when
///   `k ≡ (i >> 32)·2^(32 - shift) (mod 2^32)`, so `k >= 2^(32 - shift)`
///   (or `k >= 2^32` when that residue is 0);
///
/// so in both cases `i - j >= 2^32`. (The same holds the other way round:
/// the section 3 value of `i` is no truncated value of such a `j`.) A slot
/// keeps an earlier value that long only if 2^32 indexes pass without
/// touching it, which needs a corrupt file: an index is claimed only after
/// its slot's previous occupant was consumed, and every claim is committed
/// or skipped, one index at a time (FORMAT.md 7.8). It differs from a
/// never-written slot's -1 except in a ring of one slot at
/// `i ≡ 2^32 - 1 (mod 2^32)`, where the section 3 value of `i = 2^32 - 1`
/// is -1 too. The rule is in `docs/design.md`.
pub fn lap_of_truncated_index(index: i64, shift: u32) -> i32 {
    // shift < 64 (num_buffers is a power of two that fits the file).
    (((index as u64) & 0xFFFF_FFFF) >> shift) as u32 as i32
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

/// Makes `position` the reader's: stored into `reader_index` with Release
/// (our copies out of consumed slots happen-before a writer's reuse of them:
/// the writer loads reader_index with Acquire), or, for a read-only reader,
/// kept in memory by the caller.
#[inline]
fn publish<A: AtomicI64Cell + ?Sized>(reader_index: &A, detached: bool, position: i64) {
    if !detached {
        reader_index.store(position, Ordering::Release);
    }
}

/// Whether `index` lies in the range of sequence numbers, `[-1, MAX_INDEX]`.
fn in_range(index: i64) -> bool {
    (-1..=MAX_INDEX).contains(&index)
}

/// Whether correct writers and a correct reader can leave a ring of
/// `num_buffers` slots with these indexes (module documentation).
pub fn index_state_is_possible(reader_index: i64, writer_index: i64, num_buffers: u64) -> bool {
    in_range(reader_index)
        && in_range(writer_index)
        && reader_index <= writer_index
        // Both in range and ordered: the difference cannot overflow.
        && ((writer_index - reader_index) as u64) <= num_buffers
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
    /// Times the ring's indexes were found in an impossible state and
    /// resynchronised (module documentation).
    pub resyncs: u64,
    /// Indexes given up by those resynchronisations (saturating).
    pub resync_skipped: u64,
    /// Slots consumed as committed because their availability entry held
    /// the lap of a writer that truncates the index to 32 bits
    /// ([`lap_of_truncated_index`], FORMAT.md 7.9) rather than the section 3
    /// lap. Included in `read` (or `corrupt`, when the slot's content was
    /// invalid); not a loss.
    pub lap32_committed: u64,
}

/// How much one [`Ring::read_batch`] may read, and how long an uncommitted
/// claim may block it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// Most slots consumed (messages read, corrupt or skipped slots).
    pub max_messages: usize,
    /// Most bytes appended to the output (prefixes included), except that
    /// the first message is read whatever its size.
    pub max_bytes: usize,
    /// FORMAT.md 7.8: how long a claimed, uncommitted index blocks the reader.
    pub uncommitted_timeout: Duration,
}

/// Consumed slot bytes that must accumulate before the reader releases
/// their pages (one `madvise` per 64 KiB or more, not one per small read).
pub const RELEASE_MIN_BYTES: u64 = 64 * 1024;

/// An uncommitted claim the reader is waiting for: every index up to `mark`
/// was claimed no later than `since`.
#[derive(Debug, Clone, Copy)]
struct Pending {
    since: Instant,
    mark: i64,
}

/// Reader-side state of one ring (kept by the single reader, not in the file).
#[derive(Debug, Default)]
pub struct RingReadState {
    /// `Some` for a read-only reader: its position (the `reader_index` it
    /// would have stored), kept here and never written to the file.
    position: Option<i64>,
    /// The uncommitted claim being waited for.
    pending: Option<Pending>,
    /// An out-of-range `writer_index` a read-only reader could not repair,
    /// already counted once.
    unrepaired_writer_index: Option<i64>,
    /// The `reader_index` a consuming reader stored last (`None` before its
    /// first read).
    last_stored: Option<i64>,
    /// Lowest consumed index whose slot may lie in pages not yet released
    /// (`None` before the first read). Only an optimisation hint: a wrong
    /// value releases less, or releases pages that are faulted back in.
    release_from: Option<i64>,
    /// Counters.
    pub stats: RingStats,
}

impl RingReadState {
    /// The state of a reader that keeps its position in memory, starting at
    /// `reader_index`, and never writes to the file (read-only).
    pub fn detached(reader_index: i64) -> RingReadState {
        RingReadState {
            position: Some(reader_index),
            ..RingReadState::default()
        }
    }

    /// The position of a read-only reader (`None` for a consuming reader,
    /// whose position is `reader_index` in the file).
    pub fn position(&self) -> Option<i64> {
        self.position
    }
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
    pub fn reader_index<M: RingMemory + ?Sized>(&self, mem: &M) -> i64 {
        mem.atomic_i64(self.geometry.reader_index_offset())
            .load(Ordering::Relaxed)
    }

    /// Current `writer_index` (relaxed: for information only).
    pub fn writer_index<M: RingMemory + ?Sized>(&self, mem: &M) -> i64 {
        mem.atomic_i64(self.geometry.writer_index_offset())
            .load(Ordering::Relaxed)
    }

    /// Sets up a fresh ring: header, indexes -1, every availability -1.
    pub fn initialise<M: RingMemory + ?Sized>(&self, mem: &M) {
        let g = &self.geometry;
        mem.atomic_i64(g.offset)
            .store(g.num_buffers as i64, Ordering::Relaxed);
        mem.atomic_i64(g.offset + 8)
            .store(g.buffer_size as i64, Ordering::Relaxed);
        mem.atomic_i64(g.reader_index_offset())
            .store(-1, Ordering::Relaxed);
        mem.atomic_i64(g.writer_index_offset())
            .store(-1, Ordering::Relaxed);
        for slot in 0..g.num_buffers {
            mem.atomic_i32(g.availability_offset(slot))
                .store(-1, Ordering::Relaxed);
        }
    }

    /// Step 1 of writing: claims the next index, or `None` when full.
    pub fn claim<M: RingMemory + ?Sized>(&self, mem: &M) -> Option<i64> {
        let writer_index = mem.atomic_i64(self.geometry.writer_index_offset());
        let reader_index = mem.atomic_i64(self.geometry.reader_index_offset());
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
    pub fn write_and_commit<M: RingMemory + ?Sized>(&self, mem: &M, index: i64, message: &[u8]) {
        let slot = self.slot_of(index);
        let at = self.geometry.slot_offset(slot);
        let mut prefix = [0u8; varint::MAX_VARINT_LEN];
        let n = varint::encode(message.len() as u64, &mut prefix);
        mem.copy_in(at, &prefix[..n]);
        mem.copy_in(at + n as u64, message);
        // Release: the slot bytes written above become visible to the reader
        // whose Acquire load of this entry sees the lap.
        mem.atomic_i32(self.geometry.availability_offset(slot))
            .store(lap(index, self.geometry.shift()), Ordering::Release);
        // The next index is most likely this writer's next claim: ask for
        // its slot lines now, so that their cache misses (and page-table walk)
        // overlap with the application's work until then instead of stalling
        // the next append.
        let next = self
            .geometry
            .slot_offset(self.slot_of(index.wrapping_add(1)));
        mem.prefetch_for_write(next, self.geometry.buffer_size.min(region::PREFETCH_MAX));
    }

    /// Appends one message. `Ok(false)`: the ring is full (nothing claimed).
    /// `Err(MessageTooLarge)`: the message can never fit; checked before
    /// claiming, so the ring is unchanged.
    pub fn try_append<M: RingMemory + ?Sized>(&self, mem: &M, message: &[u8]) -> Result<bool> {
        if message.len() > self.max_message {
            return Err(Error::MessageTooLarge {
                ring: self.name,
                size: message.len(),
                max: self.max_message,
            });
        }
        match self.claim(mem) {
            Some(index) => {
                self.write_and_commit(mem, index, message);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Reads committed messages within `limits`, appending each to `out` as
    /// `varint length + bytes`, and consumes them. Returns how many were
    /// appended. Never blocks; see the module documentation for skipped
    /// slots and impossible index states. `now` is the clock the
    /// uncommitted timeout is measured with (`Instant::now` outside tests).
    pub fn read_batch<M, C>(
        &self,
        mem: &M,
        state: &mut RingReadState,
        limits: &ReadLimits,
        out: &mut Vec<u8>,
        mut now: C,
    ) -> usize
    where
        M: RingMemory + ?Sized,
        C: FnMut() -> Instant,
    {
        let g = &self.geometry;
        let reader_index = mem.atomic_i64(g.reader_index_offset());
        let writer_index = mem.atomic_i64(g.writer_index_offset());
        let shift = g.shift();
        let bs = usize::try_from(g.buffer_size).unwrap_or(usize::MAX);
        let detached = state.position.is_some();
        // Only this reader moves reader_index, so it is read once per call.
        // Acquire, as FORMAT step 1 states: a restarted reader sees its
        // predecessor's state.
        let mut r = match state.position {
            Some(position) => position,
            None => reader_index.load(Ordering::Acquire),
        };
        // Relaxed: only compared with indexes; it is loaded again before an
        // unreadable slot decides anything.
        let mut w = writer_index.load(Ordering::Relaxed);
        let start_len = out.len();
        let mut appended = 0;
        let mut steps = 0;
        if !index_state_is_possible(r, w, g.num_buffers) {
            match state.last_stored {
                // Rule 1: reader_index was changed under this reader.
                Some(p) if !detached && index_state_is_possible(p, w, g.num_buffers) => {
                    state.stats.resyncs += 1;
                    state.pending = None;
                    r = p;
                    publish(reader_index, detached, r);
                    steps += 1;
                }
                // Rule 2: nothing after an out-of-range reader_index is read.
                _ if !in_range(r) => match self.resync(writer_index, state, r, w) {
                    Some((position, repaired)) => {
                        (r, w) = (position, repaired);
                        publish(reader_index, detached, r);
                        steps += 1;
                    }
                    None => return 0,
                },
                _ => {}
            }
        }
        let first = r.wrapping_add(1);
        while steps < limits.max_messages {
            let next = r.wrapping_add(1);
            let slot = self.slot_of(next);
            // Acquire pairs with the writer's Release commit of this entry:
            // seeing the lap makes the slot bytes visible.
            let available = mem
                .atomic_i32(g.availability_offset(slot))
                .load(Ordering::Acquire);
            // FORMAT.md 7.9: a 32-bit-lap writer's value counts as committed
            // (computed only when the section 3 lap does not match).
            let full = available == lap(next, shift);
            let lap32 = !full && available == lap_of_truncated_index(next, shift);
            let mut readable = full || lap32;
            if !readable || next > w {
                // Relaxed: a commit follows its claim, and the Acquire above
                // orders the claim of a committed slot before this load, so
                // a writer_index below `next` means the slot was never
                // claimed. For an uncommitted slot the value is compared with
                // `next` only: a stale one delays the decision to a later call.
                w = writer_index.load(Ordering::Relaxed);
                readable = readable && next <= w;
            }
            if !readable {
                if !index_state_is_possible(r, w, g.num_buffers) {
                    // Rule 3: resynchronise rather than wait.
                    match self.resync(writer_index, state, r, w) {
                        Some((position, repaired)) => {
                            (r, w) = (position, repaired);
                            publish(reader_index, detached, r);
                            steps += 1;
                            continue;
                        }
                        None => break,
                    }
                }
                if next > w {
                    break; // nothing claimed: empty
                }
                // Claimed, not committed (FORMAT.md 7.8).
                let elapsed = match state.pending {
                    Some(p) if next <= p.mark => now().saturating_duration_since(p.since),
                    _ => {
                        state.pending = Some(Pending {
                            since: now(),
                            mark: w,
                        });
                        Duration::ZERO
                    }
                };
                if elapsed < limits.uncommitted_timeout {
                    break; // wait for a later call
                }
                state.stats.skipped_uncommitted += 1;
                r = next;
                publish(reader_index, detached, r);
                steps += 1;
                continue;
            }
            if lap32 {
                state.stats.lap32_committed += 1;
            }
            let at = g.slot_offset(slot);
            let mut prefix = [0u8; varint::MAX_VARINT_LEN];
            let prefix_len = prefix.len().min(bs);
            mem.copy_out(at, &mut prefix[..prefix_len]);
            let valid = varint::decode(&prefix[..prefix_len]).and_then(|(len, used)| {
                let len = usize::try_from(len).ok()?;
                (len <= bs - used).then_some((len, used))
            });
            match valid {
                Some((len, used)) => {
                    // Our own prefix, not the slot's bytes: the framing in
                    // `out` stays consistent whatever the slot holds.
                    let framed = varint::encoded_len(len as u64).saturating_add(len);
                    let held = out.len() - start_len;
                    if held > 0 && held.saturating_add(framed) > limits.max_bytes {
                        break; // the byte bound: this message starts the next read
                    }
                    varint::push(len as u64, out);
                    let start = out.len();
                    out.resize(start + len, 0);
                    mem.copy_out(at + used as u64, &mut out[start..]);
                    state.stats.read += 1;
                    appended += 1;
                }
                None => state.stats.corrupt += 1,
            }
            r = next;
            publish(reader_index, detached, r);
            steps += 1;
        }
        if detached {
            state.position = Some(r);
        } else {
            state.last_stored = Some(r);
        }
        if steps > 0 {
            // Every copy into `out` is done: the consumed slots are free.
            self.release_consumed(mem, state, first, r.wrapping_add(1));
        }
        appended
    }

    /// Rule 4 of the module documentation: the position and `writer_index`
    /// of the consistent state, with the counters updated; `None` when the
    /// state cannot be repaired now (a writer moved `writer_index` during
    /// the repair, or a read-only reader meets an out-of-range one).
    fn resync<A: AtomicI64Cell + ?Sized>(
        &self,
        writer_index: &A,
        state: &mut RingReadState,
        r: i64,
        w: i64,
    ) -> Option<(i64, i64)> {
        state.pending = None;
        if in_range(w) {
            // In range, and num_buffers <= file size < 2^63: no overflow.
            let window = (w - self.geometry.num_buffers as i64).max(-1);
            // Indexes jumped over, from a reader_index below the window.
            let given_up = if r < window {
                (window - r.max(-1)) as u64
            } else {
                0
            };
            state.stats.resyncs += 1;
            state.stats.resync_skipped = state.stats.resync_skipped.saturating_add(given_up);
            state.unrepaired_writer_index = None;
            return Some((window, w));
        }
        if state.position.is_some() {
            // Read-only: writer_index cannot be repaired; count it once.
            if state.unrepaired_writer_index != Some(w) {
                state.unrepaired_writer_index = Some(w);
                state.stats.resyncs += 1;
            }
            return None;
        }
        let target = if in_range(r) { r } else { -1 };
        // Relaxed: like a writer's claim, the CAS only decides the value of
        // writer_index; no slot data is published by it.
        writer_index
            .compare_exchange(w, target, Ordering::Relaxed, Ordering::Relaxed)
            .ok()?;
        state.stats.resyncs += 1;
        Some((target, target))
    }

    /// Releases the whole pages inside the slots of indexes
    /// `[state.release_from, end)` (all consumed) once they span at least
    /// [`RELEASE_MIN_BYTES`], and advances `state.release_from` to the first
    /// slot whose page was kept. `first` is where this call started reading.
    fn release_consumed<M: RingMemory + ?Sized>(
        &self,
        mem: &M,
        state: &mut RingReadState,
        first: i64,
        end: i64,
    ) {
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
        let page = mem.page_size();
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
            mem.release_pages(lo, hi - lo);
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

    /// The value a slot can hold from index `j`, written by either kind of writer.
    fn left_by(j: i64, shift: u32) -> [i32; 2] {
        [lap(j, shift), lap_of_truncated_index(j, shift)]
    }

    #[test]
    fn the_truncated_lap_equals_the_full_lap_below_2_pow_32_and_differs_where_the_index_s_high_bits_reach_the_lap(
    ) {
        for shift in 0..=20u32 {
            for i in [0i64, 1, 5, (1 << 31) + 3, (1 << 32) - 1] {
                assert_eq!(
                    lap_of_truncated_index(i, shift),
                    lap(i, shift),
                    "i {i} shift {shift}"
                );
            }
            for i in [1i64 << 32, (1 << 32) + 7, (1 << 33) + 1, (1 << 40) + 12345] {
                // The section 3 lap keeps the low `shift` bits of i >> 32
                // above the truncated one: equal when those bits are 0 (a
                // ring of one slot, for example).
                let high = ((i >> 32) as u64) & ((1u64 << shift) - 1);
                assert_eq!(
                    lap_of_truncated_index(i, shift) == lap(i, shift),
                    high == 0,
                    "i {i} shift {shift}"
                );
                // The formula of FORMAT.md 7.9, computed independently.
                let expected = (((i as u64) % (1u64 << 32)) >> shift) as u32 as i32;
                assert_eq!(lap_of_truncated_index(i, shift), expected);
            }
        }
    }

    #[test]
    fn no_earlier_index_of_the_last_2_pow_32_leaves_the_truncated_lap_of_a_later_one() {
        // For indexes around the 2^32 boundaries and far beyond, and every
        // earlier index of the same slot within 4096 laps (and within 2^32
        // indexes): neither kind of writer can have left the value the
        // reader accepts for `i` under either rule.
        for shift in [0u32, 1, 2, 3, 4, 7, 10, 13, 16, 20, 24, 31] {
            let n = 1i64 << shift;
            let bases = [1i64 << 32, 1 << 33, 3 << 32, (1 << 40) + (5 << 32), 1 << 52];
            for base in bases {
                for i in (base - 3 * n..base + 3 * n).step_by((n as usize / 4).max(1)) {
                    if i < 0 {
                        continue;
                    }
                    let accepted = [lap(i, shift), lap_of_truncated_index(i, shift)];
                    let laps = (1i64 << (32 - shift)).min(4096);
                    for k in 1..laps {
                        let j = i - k * n;
                        if j < 0 {
                            break;
                        }
                        for (left, rule) in left_by(j, shift).into_iter().zip(["full", "truncated"])
                        {
                            assert!(
                                !accepted.contains(&left),
                                "i {i} shift {shift}: the {rule} lap of {j} looks committed"
                            );
                        }
                    }
                    // A never-written slot: only in a ring of one slot at
                    // i = -1 (mod 2^32) is the truncated lap -1.
                    if !(shift == 0 && (i as u64) & 0xFFFF_FFFF == 0xFFFF_FFFF) {
                        assert_ne!(lap_of_truncated_index(i, shift), -1, "i {i} shift {shift}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_truncated_lap_repeats_exactly_2_pow_32_indexes_later_and_not_before() {
        // The bound of the rule is tight: 2^32 indexes back, a 32-bit writer
        // left the same value.
        for shift in [0u32, 4, 10, 16] {
            let i = (1i64 << 33) + 77;
            let j = i - (1i64 << 32);
            assert_eq!(
                lap_of_truncated_index(j, shift),
                lap_of_truncated_index(i, shift)
            );
            // ... and the section 3 value of an index 2^32 back (i >> 32 = 2)
            // is the truncated one of `i` when 2·2^(32 - shift) ≡ 2^32·k.
            let k = ((2u64 << (32 - shift)) % (1u64 << 32)) as i64;
            let k = if k == 0 { 1i64 << 32 } else { k };
            assert_eq!(
                lap(i - k * (1i64 << shift), shift),
                lap_of_truncated_index(i, shift)
            );
            assert!(k * (1i64 << shift) >= 1i64 << 32);
        }
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
