//! The memory a ring lives in, as the ring protocol sees it: a few atomic
//! operations on its indexes and availability entries, and plain copies of
//! slot bytes, each addressed by file offset.
//!
//! [`crate::ring::Ring`]'s claim, commit, read and skip code is written
//! against this trait only. Production uses the shared mapping
//! ([`Region`], every method an inlined call of the same `Region` accessor
//! the ring used before, so the monomorphised code is unchanged); the `loom`
//! model of the protocol (`crate::loom_model`, tests only) implements it
//! with loom's atomics and race-checked cells, so the model checks the real
//! ring code rather than a copy of it.

use std::sync::atomic::Ordering;

use crate::region::Region;

/// Shared memory holding one ring. Offsets are file offsets that come from a
/// validated [`crate::layout::RingGeometry`].
pub trait RingMemory {
    /// Atomic load of the `int64` at `offset`.
    fn load_i64(&self, offset: u64, order: Ordering) -> i64;
    /// Atomic store of the `int64` at `offset`.
    fn store_i64(&self, offset: u64, value: i64, order: Ordering);
    /// Weak compare-and-swap of the `int64` at `offset` (may fail spuriously).
    fn compare_exchange_weak_i64(
        &self,
        offset: u64,
        current: i64,
        new: i64,
        success: Ordering,
        failure: Ordering,
    ) -> Result<i64, i64>;
    /// Strong compare-and-swap of the `int64` at `offset`.
    fn compare_exchange_i64(
        &self,
        offset: u64,
        current: i64,
        new: i64,
        success: Ordering,
        failure: Ordering,
    ) -> Result<i64, i64>;
    /// Atomic load of the `int32` at `offset`.
    fn load_i32(&self, offset: u64, order: Ordering) -> i32;
    /// Atomic store of the `int32` at `offset`.
    fn store_i32(&self, offset: u64, value: i32, order: Ordering);
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

impl RingMemory for Region {
    #[inline]
    fn load_i64(&self, offset: u64, order: Ordering) -> i64 {
        self.atomic_i64(offset).load(order)
    }

    #[inline]
    fn store_i64(&self, offset: u64, value: i64, order: Ordering) {
        self.atomic_i64(offset).store(value, order)
    }

    #[inline]
    fn compare_exchange_weak_i64(
        &self,
        offset: u64,
        current: i64,
        new: i64,
        success: Ordering,
        failure: Ordering,
    ) -> Result<i64, i64> {
        self.atomic_i64(offset)
            .compare_exchange_weak(current, new, success, failure)
    }

    #[inline]
    fn compare_exchange_i64(
        &self,
        offset: u64,
        current: i64,
        new: i64,
        success: Ordering,
        failure: Ordering,
    ) -> Result<i64, i64> {
        self.atomic_i64(offset)
            .compare_exchange(current, new, success, failure)
    }

    #[inline]
    fn load_i32(&self, offset: u64, order: Ordering) -> i32 {
        self.atomic_i32(offset).load(order)
    }

    #[inline]
    fn store_i32(&self, offset: u64, value: i32, order: Ordering) {
        self.atomic_i32(offset).store(value, order)
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
