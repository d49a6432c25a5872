//! The shared mapping, and the only code of the crate that touches it through
//! raw pointers.
//!
//! A [`Region`] is one `MAP_SHARED` mapping of `len` bytes of a file, made
//! once and never moved or unmapped while the `Region` lives. Its accessors
//! check that the range lies inside the mapping (a failed check is a bug of
//! this crate, not bad input: callers validate every offset that comes from
//! the file first) and that atomics are naturally aligned. What they cannot
//! check is the file size: pages of the mapping past the end of the file
//! raise SIGBUS when touched. Callers ensure every range they pass lies
//! inside the file ([`crate::mapping`] explains how).
//!
//! Other threads and processes access the same bytes concurrently. Fields
//! that are shared are accessed through atomics; plain bytes (slots,
//! dictionary entries) are copied with `copy_nonoverlapping` only while the
//! protocol gives this side exclusive access to them (a claimed slot, a
//! reserved entry, a committed slot before `reader_index` moves, an entry
//! below `end`). A hostile process can break that protocol; the bytes read
//! are then garbage, which readers validate, never trust.
//!
//! The reader also gives back pages of consumed ring slots with
//! `madvise(MADV_DONTNEED)` ([`Region::release_pages`]): on a shared file
//! mapping this drops only this process's page-table entries, never data.
//!
//! Someone else can still cut the file shorter. Every region is registered
//! with [`crate::fault`] for its whole life: once the SIGBUS handler is
//! installed, an access to a page past the end of a truncated file completes
//! on a page of zeros and marks the region broken ([`Region::is_broken`]);
//! callers check that flag around their accesses and never trust bytes read
//! from a broken region.

use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, AtomicU64, Ordering};
use std::sync::OnceLock;

use memmap2::{MmapOptions, MmapRaw};

use crate::error::{Error, Result};
use crate::fault::{self, Registration};

/// The system page size (`sysconf(_SC_PAGESIZE)`), 4096 if it cannot be
/// read; a power of two.
pub fn page_size() -> u64 {
    static PAGE: OnceLock<u64> = OnceLock::new();
    *PAGE.get_or_init(|| {
        // SAFETY: plain query of a system constant; no memory is passed.
        let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        u64::try_from(n)
            .ok()
            .filter(|n| n.is_power_of_two())
            .unwrap_or(4096)
    })
}

/// Most bytes [`Region::prefetch_for_write`] asks for at once.
pub const PREFETCH_MAX: u64 = 512;

/// A fixed shared mapping of a file. See the module documentation.
pub struct Region {
    // Field order matters: fields drop in declaration order, and the range
    // must leave the fault registry before `map` unmaps it.
    _registration: Registration,
    /// `registration.flag()`, kept at hand for the checks on hot paths.
    broken: &'static AtomicBool,
    map: MmapRaw,
    ptr: *mut u8,
    len: u64,
}

// SAFETY: the mapping is shared memory accessed only through atomics or
// through copies whose exclusivity the ring and dictionary protocols provide
// (module documentation); the pointer stays valid until drop.
unsafe impl Send for Region {}
// SAFETY: as above; no method hands out `&mut` into the mapping.
unsafe impl Sync for Region {}

impl Region {
    /// Maps `len` bytes of `file`, shared, readable and writable (or
    /// read-only when `writable` is false).
    pub fn map(file: &File, len: u64, writable: bool) -> Result<Region> {
        let len_usize = usize::try_from(len)
            .map_err(|_| Error::InvalidConfig(format!("mapping of {len} bytes is too large")))?;
        let mut options = MmapOptions::new();
        options.len(len_usize);
        let map = if writable {
            options.map_raw(file)
        } else {
            options.map_raw_read_only(file)
        }
        .map_err(|e| Error::io("mapping the file", e))?;
        let ptr = map.as_mut_ptr();
        let registration = Registration::new(ptr as usize, len_usize);
        Ok(Region {
            broken: registration.flag(),
            _registration: registration,
            map,
            ptr,
            len,
        })
    }

    /// Whether an access faulted past the end of the file (it was cut
    /// shorter) or a caller saw the file shrink ([`Region::mark_broken`]).
    /// Accesses before the call are checked too (see `fault::is_set`). Once
    /// true, stays true: bytes read from the region may be zeros that were
    /// never in the file, and writes may have gone nowhere.
    #[inline]
    pub fn is_broken(&self) -> bool {
        fault::is_set(self.broken)
    }

    /// Marks the region broken (the file was seen to shrink).
    pub fn mark_broken(&self) {
        // Relaxed: a sticky flag; see `fault::is_set`.
        self.broken.store(true, Ordering::Relaxed);
    }

    /// Bytes of address space reserved by the mapping.
    pub fn len(&self) -> u64 {
        self.len
    }

    fn check(&self, offset: u64, size: u64, align: u64) -> usize {
        assert!(
            offset.is_multiple_of(align)
                && offset.checked_add(size).is_some_and(|end| end <= self.len),
            "region access at {offset}+{size} outside the mapping of {} bytes or misaligned",
            self.len
        );
        offset as usize
    }

    /// The 8-byte atomic at `offset` (8-aligned, inside the mapping).
    pub fn atomic_i64(&self, offset: u64) -> &AtomicI64 {
        let at = self.check(offset, 8, 8);
        // SAFETY: `check` keeps the 8 bytes inside the live mapping; the
        // mapping is page aligned so an 8-aligned offset is 8-aligned in
        // memory; the memory outlives `&self`; all shared accesses to it go
        // through atomics.
        unsafe { &*(self.ptr.add(at) as *const AtomicI64) }
    }

    /// The 8-byte unsigned atomic at `offset` (8-aligned, inside the mapping).
    pub fn atomic_u64(&self, offset: u64) -> &AtomicU64 {
        let at = self.check(offset, 8, 8);
        // SAFETY: as in `atomic_i64`.
        unsafe { &*(self.ptr.add(at) as *const AtomicU64) }
    }

    /// The 4-byte atomic at `offset` (4-aligned, inside the mapping).
    pub fn atomic_i32(&self, offset: u64) -> &AtomicI32 {
        let at = self.check(offset, 4, 4);
        // SAFETY: as in `atomic_i64`, with 4-byte alignment.
        unsafe { &*(self.ptr.add(at) as *const AtomicI32) }
    }

    /// Copies `dst.len()` bytes at `offset` out of the mapping.
    pub fn copy_out(&self, offset: u64, dst: &mut [u8]) {
        let at = self.check(offset, dst.len() as u64, 1);
        // SAFETY: the source range is inside the live mapping (`check`);
        // `dst` is a distinct Rust allocation, so the ranges do not overlap.
        unsafe { std::ptr::copy_nonoverlapping(self.ptr.add(at), dst.as_mut_ptr(), dst.len()) }
    }

    /// Copies `src` into the mapping at `offset`.
    pub fn copy_in(&self, offset: u64, src: &[u8]) {
        let at = self.check(offset, src.len() as u64, 1);
        // SAFETY: the destination range is inside the live mapping (`check`),
        // which is mapped writable by every handle that writes; `src` is a
        // distinct Rust allocation.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), self.ptr.add(at), src.len()) }
    }

    /// Hints the CPU to fetch, for writing, the cache lines of `len` bytes at
    /// `offset` (at most [`PREFETCH_MAX`] bytes). Only a hint: it changes no
    /// memory, never faults (prefetches of unmapped addresses are dropped by
    /// the CPU) and does nothing on targets without a prefetch instruction.
    #[inline]
    pub fn prefetch_for_write(&self, offset: u64, len: u64) {
        #[cfg(target_arch = "x86_64")]
        {
            let len = len.min(PREFETCH_MAX);
            if offset.checked_add(len).is_none_or(|end| end > self.len) {
                return;
            }
            let mut line = 0;
            while line < len {
                // SAFETY: `offset + line` lies inside the mapping (checked
                // above), so the pointer arithmetic stays in one allocation.
                let p = unsafe { self.ptr.add((offset + line) as usize) };
                // SAFETY: a prefetch reads and writes no memory and cannot
                // fault; the address is only a hint.
                unsafe {
                    std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_ET0 }>(
                        p as *const i8,
                    )
                };
                line += 64;
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (offset, len);
    }

    /// Sets `len` bytes at `offset` to zero.
    pub fn zero(&self, offset: u64, len: u64) {
        let at = self.check(offset, len, 1);
        // SAFETY: the range is inside the live, writable mapping (`check`).
        unsafe { std::ptr::write_bytes(self.ptr.add(at), 0, len as usize) }
    }

    /// Drops this process's page-table entries for `len` bytes at `offset`
    /// (both multiples of [`page_size`]) with `madvise(MADV_DONTNEED)`, so
    /// the pages stop counting in this process's resident set.
    ///
    /// The mapping is `MAP_SHARED` and file-backed: the bytes stay in the
    /// page cache and the file, and the next access faults the same bytes
    /// back in. Nothing is lost, so failure is ignored (this only saves
    /// memory). Callers release only bytes they will not read again before
    /// other processes may have rewritten them (consumed ring slots).
    pub fn release_pages(&self, offset: u64, len: u64) {
        let page = page_size();
        let valid = offset.is_multiple_of(page)
            && len.is_multiple_of(page)
            && offset.checked_add(len).is_some_and(|end| end <= self.len);
        // A bad range is a bug of this crate; an optimisation never panics
        // for it in release builds, it just does nothing.
        debug_assert!(
            valid,
            "page release at {offset}+{len} misaligned or outside the mapping"
        );
        if !valid || len == 0 {
            return;
        }
        let at = offset as usize;
        // SAFETY: the range is page aligned and inside the live mapping
        // (`check`; the mapping itself starts on a page boundary). On a
        // shared file mapping MADV_DONTNEED only removes this process's
        // page-table entries: later accesses read the page cache again, so
        // no Rust reference into the range (atomics, copies) can observe a
        // change of content it would not observe anyway from other writers.
        let _ = unsafe {
            libc::madvise(
                self.ptr.add(at) as *mut libc::c_void,
                len as usize,
                libc::MADV_DONTNEED,
            )
        };
    }

    /// Flushes `len` bytes at `offset` to the file (msync).
    pub fn flush(&self, offset: u64, len: u64) -> Result<()> {
        let at = self.check(offset, len, 1);
        self.map
            .flush_range(at, len as usize)
            .map_err(|e| Error::io("msync", e))
    }
}
