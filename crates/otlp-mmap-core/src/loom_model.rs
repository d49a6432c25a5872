//! A `loom` model of the ring protocol (FORMAT.md section 3 and 7.8): the
//! real [`Ring`] code — claim, commit, read and skip — run on a
//! [`RingMemory`] made of loom's atomics and race-checked cells, under every
//! interleaving loom explores (up to a preemption bound: 3 by default,
//! `LOOM_MAX_PREEMPTIONS` to change it).
//!
//! Checked:
//! - every committed message is read exactly once, in each writer's order,
//!   with the bytes written;
//! - a claimed index whose writer died is skipped after the timeout, and
//!   the messages claimed after it (one of them in the dead index's slot)
//!   are all read;
//! - a writer never overwrites a slot whose message was not read yet, and
//!   the reader never reads a slot nobody wrote: the memory asserts both on
//!   every slot access, and loom fails any access to slot bytes that is not
//!   ordered by happens-before with the previous one (a data race);
//! - resynchronising from an impossible `reader_index` while writers append
//!   loses and duplicates nothing they wrote.
//!
//! Plain `cargo test` runs it: the model needs no `cfg(loom)`, because the
//! production code is generic over `RingMemory` rather than built on
//! swapped-in atomic types.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use loom::cell::UnsafeCell;
use loom::sync::atomic::{AtomicI32, AtomicI64};
use loom::sync::Arc;

use crate::layout::{RingGeometry, RING_HEADER_SIZE};
use crate::ring::{ReadLimits, Ring, RingReadState};
use crate::ring_memory::{AtomicI32Cell, AtomicI64Cell, RingMemory};
use crate::varint;

const SLOTS: u64 = 2;
const SLOT_SIZE: u64 = 16;

/// One slot: its bytes, and whether it holds a message not read yet (the
/// shadow state the assertions check). Both behind one race-checked cell.
struct Slot {
    bytes: [u8; SLOT_SIZE as usize],
    unread: bool,
}

/// A ring's memory in loom: header indexes, availability entries, slots.
struct LoomMemory {
    geometry: RingGeometry,
    header: [AtomicI64; 4],
    availability: Vec<AtomicI32>,
    slots: Vec<UnsafeCell<Slot>>,
}

enum At {
    Header(usize),
    Availability(usize),
    Slot(usize, usize),
}

/// The modelled ring: `SLOTS` slots of `SLOT_SIZE` bytes at offset 0.
fn geometry() -> RingGeometry {
    RingGeometry {
        offset: 0,
        num_buffers: SLOTS,
        buffer_size: SLOT_SIZE,
    }
}

impl LoomMemory {
    fn new() -> LoomMemory {
        LoomMemory {
            geometry: geometry(),
            header: std::array::from_fn(|_| AtomicI64::new(0)),
            availability: (0..SLOTS).map(|_| AtomicI32::new(0)).collect(),
            slots: (0..SLOTS)
                .map(|_| {
                    UnsafeCell::new(Slot {
                        bytes: [0; SLOT_SIZE as usize],
                        unread: false,
                    })
                })
                .collect(),
        }
    }

    fn locate(&self, offset: u64) -> At {
        let g = &self.geometry;
        let slots_start = g.slot_offset(0);
        if offset < RING_HEADER_SIZE {
            At::Header((offset / 8) as usize)
        } else if offset < slots_start {
            At::Availability(((offset - RING_HEADER_SIZE) / 4) as usize)
        } else {
            let within = offset - slots_start;
            At::Slot(
                (within / g.buffer_size) as usize,
                (within % g.buffer_size) as usize,
            )
        }
    }

    fn header(&self, offset: u64) -> &AtomicI64 {
        match self.locate(offset) {
            At::Header(i) => &self.header[i],
            _ => panic!("no int64 at {offset}"),
        }
    }

    fn availability(&self, offset: u64) -> &AtomicI32 {
        match self.locate(offset) {
            At::Availability(i) => &self.availability[i],
            _ => panic!("no int32 at {offset}"),
        }
    }

    fn slot(&self, offset: u64) -> (&UnsafeCell<Slot>, usize) {
        match self.locate(offset) {
            At::Slot(i, within) => (&self.slots[i], within),
            _ => panic!("no slot at {offset}"),
        }
    }
}

impl AtomicI64Cell for AtomicI64 {
    fn load(&self, order: Ordering) -> i64 {
        AtomicI64::load(self, order)
    }

    fn store(&self, value: i64, order: Ordering) {
        AtomicI64::store(self, value, order)
    }

    fn compare_exchange_weak(
        &self,
        current: i64,
        new: i64,
        success: Ordering,
        failure: Ordering,
    ) -> Result<i64, i64> {
        AtomicI64::compare_exchange_weak(self, current, new, success, failure)
    }

    fn compare_exchange(
        &self,
        current: i64,
        new: i64,
        success: Ordering,
        failure: Ordering,
    ) -> Result<i64, i64> {
        AtomicI64::compare_exchange(self, current, new, success, failure)
    }
}

impl AtomicI32Cell for AtomicI32 {
    fn load(&self, order: Ordering) -> i32 {
        AtomicI32::load(self, order)
    }

    fn store(&self, value: i32, order: Ordering) {
        AtomicI32::store(self, value, order)
    }
}

impl RingMemory for LoomMemory {
    type I64 = AtomicI64;
    type I32 = AtomicI32;

    fn atomic_i64(&self, offset: u64) -> &AtomicI64 {
        self.header(offset)
    }

    fn atomic_i32(&self, offset: u64) -> &AtomicI32 {
        self.availability(offset)
    }

    fn copy_in(&self, offset: u64, src: &[u8]) {
        let (cell, within) = self.slot(offset);
        cell.with_mut(|slot| {
            // SAFETY: loom's cell checks that no other access to this slot
            // is concurrent with this one (it fails the model otherwise);
            // the pointer is valid for the cell's life.
            let slot = unsafe { &mut *slot };
            if within == 0 {
                // A writer starts a message with its length prefix.
                assert!(!slot.unread, "a writer overwrote a message not read yet");
                slot.unread = true;
            }
            slot.bytes[within..within + src.len()].copy_from_slice(src);
        })
    }

    fn copy_out(&self, offset: u64, dst: &mut [u8]) {
        let (cell, within) = self.slot(offset);
        cell.with_mut(|slot| {
            // SAFETY: as in `copy_in`.
            let slot = unsafe { &mut *slot };
            if within == 0 {
                // The reader starts a message with its length prefix.
                assert!(slot.unread, "the reader read a slot with no new message");
                slot.unread = false;
            }
            dst.copy_from_slice(&slot.bytes[within..within + dst.len()]);
        })
    }
}

fn ring() -> Ring {
    Ring::new(geometry(), "model")
}

/// A fresh, initialised ring memory shared by the model's threads.
fn memory() -> Arc<LoomMemory> {
    let mem = Arc::new(LoomMemory::new());
    ring().initialise(&*mem);
    mem
}

fn builder() -> loom::model::Builder {
    let mut b = loom::model::Builder::new();
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(3);
    }
    // Waiting threads (a full ring, an empty ring) make long paths.
    b.max_branches = 100_000;
    b
}

fn split(mut batch: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while let Some((len, used)) = varint::decode(batch) {
        out.push(batch[used..used + len as usize].to_vec());
        batch = &batch[used + len as usize..];
    }
    out
}

/// How often a writer tries to append one message while the ring is full,
/// and how often the reader reads while writers run. Bounded, so that
/// loom's paths stay short; what was not sent is known, and what was sent
/// is read by a last read once the writers are done.
const ATTEMPTS: usize = 2;

/// Message `seq` of writer `id`.
fn message(id: u8, seq: u8) -> Vec<u8> {
    vec![id, seq, id ^ seq, 0xA5]
}

/// A writer thread appending messages `0..count`; returns those it sent
/// (a message still refused as full after [`ATTEMPTS`] tries is dropped).
fn writer(mem: &Arc<LoomMemory>, id: u8, count: u8) -> loom::thread::JoinHandle<Vec<Vec<u8>>> {
    let mem = Arc::clone(mem);
    loom::thread::spawn(move || {
        let mut sent = Vec::new();
        for seq in 0..count {
            let m = message(id, seq);
            for _ in 0..ATTEMPTS {
                if ring().try_append(&*mem, &m).unwrap() {
                    sent.push(m);
                    break;
                }
                loom::thread::yield_now();
            }
        }
        sent
    })
}

/// One read with a clock fixed at `now`, appended to `got`.
fn read_once(
    mem: &LoomMemory,
    state: &mut RingReadState,
    limits: &ReadLimits,
    now: Instant,
    got: &mut Vec<Vec<u8>>,
) {
    let mut out = Vec::new();
    ring().read_batch(mem, state, limits, &mut out, || now);
    got.extend(split(&out));
}

/// Reads [`ATTEMPTS`] times while `writers` run, joins them, then reads
/// what is left. Returns what was read and what the writers sent.
fn read_while_writing(
    mem: &LoomMemory,
    state: &mut RingReadState,
    limits: &ReadLimits,
    now: Instant,
    writers: Vec<loom::thread::JoinHandle<Vec<Vec<u8>>>>,
) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut got = Vec::new();
    for _ in 0..ATTEMPTS {
        read_once(mem, state, limits, now, &mut got);
        loom::thread::yield_now();
    }
    let mut sent = Vec::new();
    for w in writers {
        sent.extend(w.join().unwrap());
    }
    read_once(mem, state, limits, now, &mut got);
    (got, sent)
}

fn limits(timeout: Duration) -> ReadLimits {
    ReadLimits {
        max_messages: 4,
        max_bytes: usize::MAX,
        uncommitted_timeout: timeout,
    }
}

/// What was sent arrived once, in each writer's order, intact, and nothing else.
fn assert_exactly_once_in_order(got: &[Vec<u8>], sent: &[Vec<u8>]) {
    for id in [1u8, 2] {
        let mine = |ms: &[Vec<u8>]| -> Vec<Vec<u8>> {
            ms.iter().filter(|m| m[0] == id).cloned().collect()
        };
        assert_eq!(
            mine(got),
            mine(sent),
            "writer {id}: read {got:?}, sent {sent:?}"
        );
    }
    assert_eq!(got.len(), sent.len(), "read {got:?}, sent {sent:?}");
}

#[test]
fn loom_every_committed_message_is_read_once_in_order_with_its_bytes() {
    builder().check(|| {
        let mem = memory();
        // Three messages through two slots (one unread at most): writers
        // find the ring full, and slots are reused.
        let writers = vec![writer(&mem, 1, 2), writer(&mem, 2, 1)];
        let mut state = RingReadState::default();
        let limits = limits(Duration::from_secs(3600));
        let (got, sent) = read_while_writing(&mem, &mut state, &limits, Instant::now(), writers);
        assert_exactly_once_in_order(&got, &sent);
        assert!(!sent.is_empty());
        assert_eq!(state.stats.skipped_uncommitted, 0);
        assert_eq!(state.stats.resyncs, 0);
    });
}

#[test]
fn loom_a_dead_claim_is_skipped_after_the_timeout_and_later_messages_are_all_read() {
    builder().check(|| {
        let mem = memory();
        let timeout = Duration::from_secs(2);
        let limits = limits(timeout);
        // A writer claims index 0 and dies before committing.
        assert_eq!(ring().claim(&*mem), Some(0));
        let t0 = Instant::now();
        let mut state = RingReadState::default();
        // The reader first sees the dead claim (and no other) at t0.
        let mut got = Vec::new();
        read_once(&mem, &mut state, &limits, t0, &mut got);
        assert!(got.is_empty());
        // A live writer appends two messages; the second needs index 0's
        // slot, free once index 0 is skipped. The reader's clock stands at
        // t0 + timeout from then on: index 0 is due, the live writer's
        // claims, seen later, never are.
        let writers = vec![writer(&mem, 2, 2)];
        let (got, sent) = read_while_writing(&mem, &mut state, &limits, t0 + timeout, writers);
        assert_exactly_once_in_order(&got, &sent);
        assert!(!sent.is_empty());
        assert_eq!(state.stats.skipped_uncommitted, 1);
    });
}

#[test]
fn loom_a_resync_from_a_reader_index_ahead_of_the_writers_loses_nothing() {
    builder().check(|| {
        let mem = memory();
        let g = geometry();
        // An impossible reader_index, set before anyone reads or writes.
        mem.header(g.reader_index_offset())
            .store(5, Ordering::Relaxed);
        let writers = vec![writer(&mem, 1, 1), writer(&mem, 2, 1)];
        let mut state = RingReadState::default();
        let limits = limits(Duration::from_secs(3600));
        let (got, sent) = read_while_writing(&mem, &mut state, &limits, Instant::now(), writers);
        assert_exactly_once_in_order(&got, &sent);
        assert!(!sent.is_empty());
        assert!(state.stats.resyncs >= 1);
        assert_eq!(state.stats.resync_skipped, 0);
    });
}
