//! The memory a ring lives in, as the ring protocol sees it: atomic cells
//! for its indexes and availability entries, and plain copies of slot
//! bytes, each addressed by file offset.
//!
//! [`crate::ring::Ring`]'s claim, commit, read and skip code is written
//! against these traits only. Production uses the shared mapping
//! ([`Region`], whose cells are `std`'s atomics: every method is an inlined
//! call of the accessor the ring used before, and the ring takes its cells
//! once per call, as before, so the monomorphised code keeps its shape);
//! the `loom` model of the protocol (`crate::loom_model`, tests only)
//! implements them with loom's atomics and race-checked cells, so the model
//! checks the real ring code rather than a copy of it.

use std::sync::atomic::{AtomicI32, AtomicI64, Ordering};

use crate::region::Region;

/// An atomic `int64` of the file: the operations the ring uses.
pub trait AtomicI64Cell {
    fn load(&self, order: Ordering) -> i64;
    fn store(&self, value: i64, order: Ordering);
    /// May fail spuriously.
    fn compare_exchange_weak(
        &self,
        current: i64,
        new: i64,
        success: Ordering,
        failure: Ordering,
    ) -> Result<i64, i64>;
    fn compare_exchange(
        &self,
        current: i64,
        new: i64,
        success: Ordering,
        failure: Ordering,
    ) -> Result<i64, i64>;
}

/// An atomic `int32` of the file (an availability entry).
pub trait AtomicI32Cell {
    fn load(&self, order: Ordering) -> i32;
    fn store(&self, value: i32, order: Ordering);
}

/// Shared memory holding one ring. Offsets are file offsets that come from a
/// validated [`crate::layout::RingGeometry`].
pub trait RingMemory {
    type I64: AtomicI64Cell + ?Sized;
    type I32: AtomicI32Cell + ?Sized;
    /// The `int64` at `offset` (8-aligned).
    fn atomic_i64(&self, offset: u64) -> &Self::I64;
    /// The `int32` at `offset` (4-aligned).
    fn atomic_i32(&self, offset: u64) -> &Self::I32;
    /// Copies `src` to `offset` (inside one slot).
    fn copy_in(&self, offset: u64, src: &[u8]);
    /// Copies `dst.len()` bytes at `offset` (inside one slot) to `dst`.
    fn copy_out(&self, offset: u64, dst: &mut [u8]);
    /// A hint that `len` bytes at `offset` will be written soon.
    fn prefetch_for_write(&self, _offset: u64, _len: u64) {}
    /// Gives back the pages of `len` bytes at `offset` (page aligned), whose
    /// content this process will not read again before writers rewrite it.
    fn release_pages(&self, _offset: u64, _len: u64) {}
    /// Size of the pages [`RingMemory::release_pages`] works with.
    fn page_size(&self) -> u64 {
        crate::region::page_size()
    }
}

impl AtomicI64Cell for AtomicI64 {
    #[inline]
    fn load(&self, order: Ordering) -> i64 {
        AtomicI64::load(self, order)
    }

    #[inline]
    fn store(&self, value: i64, order: Ordering) {
        AtomicI64::store(self, value, order)
    }

    #[inline]
    fn compare_exchange_weak(
        &self,
        current: i64,
        new: i64,
        success: Ordering,
        failure: Ordering,
    ) -> Result<i64, i64> {
        AtomicI64::compare_exchange_weak(self, current, new, success, failure)
    }

    #[inline]
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
    #[inline]
    fn load(&self, order: Ordering) -> i32 {
        AtomicI32::load(self, order)
    }

    #[inline]
    fn store(&self, value: i32, order: Ordering) {
        AtomicI32::store(self, value, order)
    }
}

impl RingMemory for Region {
    type I64 = AtomicI64;
    type I32 = AtomicI32;

    #[inline]
    fn atomic_i64(&self, offset: u64) -> &AtomicI64 {
        Region::atomic_i64(self, offset)
    }

    #[inline]
    fn atomic_i32(&self, offset: u64) -> &AtomicI32 {
        Region::atomic_i32(self, offset)
    }

    #[inline]
    fn copy_in(&self, offset: u64, src: &[u8]) {
        Region::copy_in(self, offset, src)
    }

    #[inline]
    fn copy_out(&self, offset: u64, dst: &mut [u8]) {
        Region::copy_out(self, offset, dst)
    }

    #[inline]
    fn prefetch_for_write(&self, offset: u64, len: u64) {
        Region::prefetch_for_write(self, offset, len)
    }

    #[inline]
    fn release_pages(&self, offset: u64, len: u64) {
        Region::release_pages(self, offset, len)
    }
}
