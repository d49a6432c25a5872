//! Surviving a file that is cut shorter while it is mapped.
//!
//! Another program can truncate the file (`: > app.mmap`, logrotate's
//! copytruncate, a tool that rewrites it smaller). Pages of a shared file
//! mapping that now lie past the end of the file raise SIGBUS when touched,
//! and the default action of SIGBUS ends the process. This module turns such
//! a fault in one of *our* mappings into a recoverable condition:
//!
//! - a small lock-free registry of the address ranges of this crate's live
//!   mappings ([`Region`](crate::region::Region) registers on map and removes
//!   itself before it unmaps);
//! - a SIGBUS handler ([`install`]) that, for a fault whose address lies in a
//!   registered range, maps anonymous zero memory over the faulting page
//!   (`mmap(MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS)`), so the access
//!   completes (a read sees zeros, a write goes nowhere), and sets that
//!   mapping's *broken* flag. Every other SIGBUS goes to the handler that was
//!   installed before ours (Node.js and V8 install their own); when that was
//!   the default action, the default is restored and the signal raised again,
//!   so the process ends as it would have without us.
//!
//! Callers check the flag ([`Registration::flag`]) where a read or write
//! starts and after it: a write that itself faulted went to a page of
//! private zeros and is reported as not written; bytes copied out of a
//! broken mapping are discarded. A broken mapping is never used for data
//! again (its faulted pages no longer follow the file): the file is reopened.
//!
//! The handler is async-signal-safe: it only reads atomics of a static
//! array, calls `mmap` (a plain system call), stores one atomic and, to
//! chain, calls `sigaction`/`raise` or the previous handler. It allocates
//! nothing and takes no lock.
//!
//! What is not covered: a process that already has [`MAX_MAPPINGS`] live
//! mappings of this crate gets an unprotected one (a fault in it ends the
//! process as before; the size checks of the callers still work); a SIGBUS
//! handler installed *after* ours that does not chain to it hides faults
//! from us.
//!
//! Linux is the target; the code also builds on macOS, which raises SIGBUS
//! for pages past the end of a file too. Windows is not supported.

use std::sync::atomic::{compiler_fence, AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Most mappings protected at once in one process. Each handle maps one
/// region (by default reserving 16 GiB of address space), so a process runs
/// out of address space long before it needs more.
pub const MAX_MAPPINGS: usize = 4096;

const FREE: u8 = 0;
const CLAIMED: u8 = 1;
const ACTIVE: u8 = 2;

/// One entry of the registry. All-zero is a free entry, so the array lives
/// in zero-initialised memory and costs nothing until used.
struct Slot {
    state: AtomicU8,
    start: AtomicUsize,
    end: AtomicUsize,
    broken: AtomicBool,
}

impl Slot {
    const fn free() -> Slot {
        Slot {
            state: AtomicU8::new(FREE),
            start: AtomicUsize::new(0),
            end: AtomicUsize::new(0),
            broken: AtomicBool::new(false),
        }
    }
}

static SLOTS: [Slot; MAX_MAPPINGS] = [const { Slot::free() }; MAX_MAPPINGS];
/// One past the highest slot ever claimed: the handler scans `0..USED`.
static USED: AtomicUsize = AtomicUsize::new(0);

/// A mapping's entry in the registry, removed on drop.
pub(crate) struct Registration {
    slot: Option<usize>,
    flag: &'static AtomicBool,
}

impl Registration {
    /// Registers `len` bytes at `start`. When the registry is full the
    /// mapping is not protected, but still gets a flag of its own, so that
    /// size checks can mark it broken.
    pub(crate) fn new(start: usize, len: usize) -> Registration {
        let end = start.saturating_add(len);
        for (i, slot) in SLOTS.iter().enumerate() {
            // Acquire/Relaxed: claiming only needs exclusivity of the slot;
            // its fields are published by the Release store of ACTIVE below.
            if slot
                .state
                .compare_exchange(FREE, CLAIMED, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                slot.broken.store(false, Ordering::Relaxed);
                slot.start.store(start, Ordering::Relaxed);
                slot.end.store(end, Ordering::Relaxed);
                USED.fetch_max(i + 1, Ordering::Release);
                // Release: the handler that loads ACTIVE (Acquire) sees the
                // range and the cleared flag.
                slot.state.store(ACTIVE, Ordering::Release);
                return Registration {
                    slot: Some(i),
                    flag: &slot.broken,
                };
            }
        }
        Registration {
            slot: None,
            // One byte per unprotected mapping, leaked: it only happens past
            // MAX_MAPPINGS live mappings, and a `'static` flag keeps the hot
            // path a single load for every mapping.
            flag: Box::leak(Box::new(AtomicBool::new(false))),
        }
    }

    /// The mapping's broken flag: set by the handler when an access faulted,
    /// or by a caller that saw the file shrink.
    #[inline]
    pub(crate) fn flag(&self) -> &'static AtomicBool {
        self.flag
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(i) = self.slot {
            // Release: the slot may be claimed again only after this
            // mapping's last use of it; the caller unmaps only afterwards.
            SLOTS[i].state.store(FREE, Ordering::Release);
        }
    }
}

/// Reads the broken flag after the accesses before it.
///
/// A fault is handled on the thread that made the access, between two of its
/// instructions. The compiler fence keeps the compiler from moving the
/// accesses that precede the check (plain copies into or out of the mapping)
/// after the load, so a fault of those accesses is always seen. Relaxed:
/// within one thread the handler's store is ordered before the load by the
/// fault itself; another thread only needs to see the flag eventually.
#[inline]
pub(crate) fn is_set(flag: &AtomicBool) -> bool {
    compiler_fence(Ordering::SeqCst);
    flag.load(Ordering::Relaxed)
}

/// Page size, read once by [`install`] (the handler cannot call `sysconf`).
static PAGE: AtomicUsize = AtomicUsize::new(0);

/// The disposition of SIGBUS before ours, written once before our handler is
/// installed and only read afterwards.
static PREVIOUS: OnceLock<Previous> = OnceLock::new();

/// A copy of the previous `sigaction`.
struct Previous(libc::sigaction);

// SAFETY: a plain C struct of integers and function addresses, never mutated
// after it is stored.
unsafe impl Send for Previous {}
// SAFETY: as above.
unsafe impl Sync for Previous {}

/// Whether [`install`] succeeded in this process.
static INSTALLED: OnceLock<bool> = OnceLock::new();

/// Installs the SIGBUS handler once per process (later calls return the first
/// result). Returns whether it is installed. Called by the Node.js binding
/// when it loads, and by this crate's tests.
pub fn install() -> bool {
    *INSTALLED.get_or_init(install_once)
}

/// Whether the handler is installed.
pub fn installed() -> bool {
    INSTALLED.get().copied().unwrap_or(false)
}

fn install_once() -> bool {
    PAGE.store(crate::region::page_size() as usize, Ordering::Relaxed);
    // SAFETY: an all-zero sigaction is a valid value (SIG_DFL, empty flags);
    // it is only an output buffer here.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: reads the current disposition into `old`; no handler changes.
    if unsafe { libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut old) } != 0 {
        return false;
    }
    if PREVIOUS.set(Previous(old)).is_err() {
        return false;
    }
    // SAFETY: as above, a valid all-zero value filled in below.
    let mut ours: libc::sigaction = unsafe { std::mem::zeroed() };
    ours.sa_sigaction = on_sigbus as *const () as libc::sighandler_t;
    ours.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
    // SAFETY: initialises the mask of our own struct.
    unsafe { libc::sigemptyset(&mut ours.sa_mask) };
    // SAFETY: installs a handler that is async-signal-safe (module
    // documentation); `PREVIOUS` is set before, so it is always there for it.
    unsafe { libc::sigaction(libc::SIGBUS, &ours, std::ptr::null_mut()) == 0 }
}

/// The SIGBUS handler. See the module documentation.
extern "C" fn on_sigbus(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    // SAFETY: the kernel passes a valid siginfo for an SA_SIGINFO handler;
    // `si_code > 0` means the kernel raised it for a fault, so `si_addr` is
    // the faulting address (a signal sent with kill() has si_code <= 0).
    let address = unsafe {
        match info.as_ref() {
            Some(info) if info.si_code > 0 => Some(info.si_addr() as usize),
            _ => None,
        }
    };
    if let Some(address) = address {
        if recover(address) {
            return;
        }
    }
    // SAFETY: the arguments are those the kernel gave this handler.
    unsafe { chain(signal, info, context) }
}

/// If `address` lies in a registered mapping: maps a page of zeros over it,
/// marks the mapping broken and returns true.
fn recover(address: usize) -> bool {
    let page = PAGE.load(Ordering::Relaxed);
    if page == 0 {
        return false;
    }
    let used = USED.load(Ordering::Acquire).min(MAX_MAPPINGS);
    for slot in &SLOTS[..used] {
        // Acquire pairs with the Release store of ACTIVE: the range is set.
        if slot.state.load(Ordering::Acquire) != ACTIVE {
            continue;
        }
        let (start, end) = (
            slot.start.load(Ordering::Relaxed),
            slot.end.load(Ordering::Relaxed),
        );
        if address < start || address >= end {
            continue;
        }
        let at = address & !(page - 1);
        // SAFETY: the page lies inside a live mapping of this crate (it is
        // registered, and a mapping is unregistered before it is unmapped),
        // so replacing it affects no memory of anyone else. MAP_FIXED
        // replaces the page atomically; the faulting access then completes
        // on private zeros. mmap is a plain system call, safe in a handler.
        let mapped = unsafe {
            libc::mmap(
                at as *mut libc::c_void,
                page,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_FIXED | libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if mapped == libc::MAP_FAILED {
            return false;
        }
        // Relaxed: see `is_set`.
        slot.broken.store(true, Ordering::Relaxed);
        return true;
    }
    false
}

/// Passes the signal to the disposition that was there before ours.
///
/// # Safety
/// Called from the SIGBUS handler with the arguments the kernel gave it.
unsafe fn chain(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    let previous = PREVIOUS.get().map(|p| p.0);
    let handler = previous.map_or(libc::SIG_DFL, |p| p.sa_sigaction);
    let sent_by_kill = info.is_null()
        // SAFETY: a non-null siginfo given by the kernel.
        || unsafe { (*info).si_code } <= 0;
    if handler == libc::SIG_IGN && sent_by_kill {
        return; // ignored before us: still ignored
    }
    if handler == libc::SIG_DFL || handler == libc::SIG_IGN {
        // The default action (a fault cannot be ignored): restore it and
        // raise the signal again. It stays pending while this handler runs
        // and ends the process when the handler returns; a fault would also
        // recur when the instruction runs again.
        // SAFETY: an all-zero sigaction is SIG_DFL with no flags.
        let mut default: libc::sigaction = unsafe { std::mem::zeroed() };
        default.sa_sigaction = libc::SIG_DFL;
        // SAFETY: plain system calls, async-signal-safe.
        unsafe {
            libc::sigemptyset(&mut default.sa_mask);
            libc::sigaction(libc::SIGBUS, &default, std::ptr::null_mut());
            libc::raise(libc::SIGBUS);
        }
        return;
    }
    let flags = previous.map_or(0, |p| p.sa_flags);
    if flags & libc::SA_SIGINFO != 0 {
        // SAFETY: the previous disposition was installed with SA_SIGINFO, so
        // `handler` is the address of a three-argument handler.
        let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
            unsafe { std::mem::transmute(handler) };
        f(signal, info, context);
    } else {
        // SAFETY: without SA_SIGINFO, `handler` is a one-argument handler.
        let f: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(handler) };
        f(signal);
    }
}
