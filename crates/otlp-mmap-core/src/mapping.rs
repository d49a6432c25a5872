//! A file mapped once for its whole life, and how it grows.
//!
//! # Design
//!
//! The dictionary is the tail of the file and grows while other threads (and
//! processes) read and write it. Remapping would invalidate pointers other
//! threads may be using, so a handle reserves ONE large shared mapping when it
//! opens the file — `max(max_file_size, file size)` bytes of address space,
//! far more than the file — and never unmaps or remaps it while it lives.
//! Growing the dictionary only extends the file: the new bytes appear in the
//! existing mapping with no change of address.
//!
//! Pages of the mapping beyond the end of the file must never be touched
//! (SIGBUS). Hence:
//! - a writer extends the file *before* it reserves (and then writes) bytes
//!   past the current end ([`MappedFile::ensure_size`]);
//! - a reader checks every reference against the file size it knows, and when
//!   a reference lies beyond it, looks again with `fstat`
//!   ([`MappedFile::refresh_size`]) before deciding it is bad.
//!
//! Extending uses `fallocate(fd, 0, offset, len)` on Linux, which never
//! shrinks the file even when two processes race to grow it. Where the file
//! system does not support it, and on systems without `fallocate` (macOS), an
//! `flock`-guarded "ftruncate only if larger" does the same.
//! The known size only ever increases (`fetch_max`).
//!
//! A file that is found smaller than it was ([`MappedFile::refresh_size`])
//! was cut by someone else: the handle is marked broken (see
//! [`crate::fault`]) and every later call reports `FileTruncated`.
//!
//! Resident pages: a handle touches pages of its mapping as it reads and
//! writes them, and they count in its RSS until unmapped. The reader returns
//! the pages of ring slots it has consumed (whole pages, in batches of at
//! least 64 KiB, see [`crate::ring`]) with `madvise(MADV_DONTNEED)`
//! ([`Region::release_pages`]); the data stays in the file and page cache and
//! the next access faults it back in. Header, ring headers, availability
//! entries and dictionary pages are never released.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::region::Region;

/// A file with its fixed reservation mapping. See the module documentation.
pub struct MappedFile {
    file: File,
    region: Region,
    /// Largest file size observed; never decreases.
    size: AtomicU64,
    /// Serialises growth within this process.
    grow_lock: Mutex<()>,
}

fn fstat_size(file: &File) -> Result<u64> {
    file.metadata()
        .map(|m| m.len())
        .map_err(|e| Error::io("fstat", e))
}

impl MappedFile {
    /// Maps `file` (currently `size` bytes) with a reservation of at least
    /// `reserve` bytes.
    ///
    /// When the address space is limited (`ulimit -v`), a reservation the OS
    /// refuses is halved until it fits, but never below the file size.
    pub fn new(file: File, size: u64, reserve: u64, writable: bool) -> Result<MappedFile> {
        let mut len = reserve.max(size);
        let region = loop {
            match Region::map(&file, len, writable) {
                Ok(region) => break region,
                Err(Error::Io { source, .. })
                    if source.raw_os_error() == Some(libc::ENOMEM) && len / 2 >= size.max(1) =>
                {
                    len /= 2;
                }
                Err(e) => return Err(e),
            }
        };
        Ok(MappedFile {
            file,
            region,
            size: AtomicU64::new(size),
            grow_lock: Mutex::new(()),
        })
    }

    /// The mapping.
    pub fn region(&self) -> &Region {
        &self.region
    }

    /// The underlying file.
    pub fn file(&self) -> &File {
        &self.file
    }

    /// Bytes of address space reserved: the file can be followed up to here.
    pub fn reserved(&self) -> u64 {
        self.region.len()
    }

    /// Largest file size seen so far (may be stale: the file only grows).
    pub fn known_size(&self) -> u64 {
        // Relaxed: the size is a hint re-checked with fstat before failing;
        // data visibility is ordered by the dictionary/ring atomics.
        self.size.load(Ordering::Relaxed)
    }

    /// Asks the OS for the file size and remembers it if larger; returns the
    /// known size capped to the reservation.
    ///
    /// The file never shrinks while the protocol is followed (writers only
    /// extend it), so a size below the known one means someone cut it:
    /// the region is marked broken and `FileTruncated` returned.
    pub fn refresh_size(&self) -> Result<u64> {
        if self.region.is_broken() {
            return Err(Error::faulted());
        }
        // The known size is read before asking the OS: a size another
        // thread stored after its own (earlier) fstat must not make ours
        // look like a shrink. Acquire pairs with the Release below, so the
        // fstat that found `before` happened before ours.
        let before = self.size.load(Ordering::Acquire);
        let now = fstat_size(&self.file)?;
        if now < before {
            self.region.mark_broken();
            return Err(Error::shrunk(now, before));
        }
        Ok(self.size.fetch_max(now, Ordering::Release).max(now))
    }

    /// `Err(FileTruncated)` when the region is broken or the file is now
    /// smaller than it was seen to be (one `fstat`).
    pub fn check_intact(&self) -> Result<()> {
        self.refresh_size().map(|_| ())
    }

    /// The size the file has now (`fstat`), without judging it.
    pub fn current_size(&self) -> Result<u64> {
        fstat_size(&self.file)
    }

    /// Makes sure the file is at least `needed` bytes long, extending it to
    /// `target` (>= needed, <= reserved) if not.
    pub fn ensure_size(&self, needed: u64, target: u64) -> Result<()> {
        if needed <= self.known_size() {
            return Ok(());
        }
        let _guard = self.grow_lock.lock().unwrap_or_else(|p| p.into_inner());
        if needed <= self.refresh_size()? {
            return Ok(());
        }
        let target = target.max(needed).min(self.reserved());
        let current = self.known_size();
        extend(&self.file, current, target)?;
        self.refresh_size()?;
        Ok(())
    }
}

/// Extends `file` to at least `target` bytes; never shrinks it.
fn extend(file: &File, current: u64, target: u64) -> Result<()> {
    let (Ok(off), Ok(len)) = (
        libc::off_t::try_from(current),
        libc::off_t::try_from(target.saturating_sub(current)),
    ) else {
        return Err(Error::InvalidConfig(format!(
            "file size {target} is too large"
        )));
    };
    if len == 0 {
        return Ok(());
    }
    extend_from(file, off, len, target)
}

/// [`extend`] where `fallocate` exists: allocates `[off, off + len)`.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn extend_from(file: &File, off: libc::off_t, len: libc::off_t, target: u64) -> Result<()> {
    let fd = file.as_raw_fd();
    loop {
        // SAFETY: plain syscall on a file descriptor we own; no memory is passed.
        let rc = unsafe { libc::fallocate(fd, 0, off, len) };
        if rc == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EOPNOTSUPP) | Some(libc::ENOSYS) => {
                return extend_with_ftruncate(file, target)
            }
            _ => return Err(Error::io("extending the file (fallocate)", err)),
        }
    }
}

/// [`extend`] where there is no `fallocate` (macOS and the BSDs).
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn extend_from(file: &File, _off: libc::off_t, _len: libc::off_t, target: u64) -> Result<()> {
    extend_with_ftruncate(file, target)
}

/// Fallback of [`extend`]: under an exclusive `flock`, truncate to `target`
/// only if the file is still smaller.
fn extend_with_ftruncate(file: &File, target: u64) -> Result<()> {
    let fd = file.as_raw_fd();
    // SAFETY: plain syscall on a file descriptor we own.
    if unsafe { libc::flock(fd, libc::LOCK_EX) } != 0 {
        return Err(Error::io("flock", std::io::Error::last_os_error()));
    }
    let result = fstat_size(file).and_then(|size| {
        if size < target {
            file.set_len(target)
                .map_err(|e| Error::io("extending the file (ftruncate)", e))
        } else {
            Ok(())
        }
    });
    // SAFETY: as above.
    unsafe { libc::flock(fd, libc::LOCK_UN) };
    result
}

/// Opens an existing file (read-write, or read-only when `writable` is
/// false), validates its layout (FORMAT.md section 2) with positional reads,
/// and only then maps it (the same way) with a reservation of at least
/// `reserve` bytes.
pub fn open_validated(
    path: &std::path::Path,
    reserve: u64,
    writable: bool,
) -> Result<(MappedFile, crate::layout::Layout)> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(writable)
        .open(path)
        .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
    let mut size = fstat_size(&file)?;
    let mut read_at = |offset: u64, buf: &mut [u8]| -> Result<()> {
        file.read_exact_at(buf, offset)
            .map_err(|e| Error::io("reading the file header", e))
    };
    let layout = match crate::layout::Layout::validate(size, &mut read_at) {
        // A writer may be extending the file while it reserves an entry:
        // look once more before calling the dictionary end invalid.
        Err(Error::InvalidFile { .. }) if fstat_size(&file)? > size => {
            size = fstat_size(&file)?;
            crate::layout::Layout::validate(size, &mut read_at)?
        }
        other => other?,
    };
    let mapped = MappedFile::new(file, size, reserve, writable)?;
    Ok((mapped, layout))
}
