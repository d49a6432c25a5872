//! A file cut shorter while it is mapped (see `fault`): real files, real
//! truncation, and child processes for the faults that must still kill.

use std::fs::OpenOptions;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::config::{ReaderConfig, RingConfig, WriterConfig};
use crate::error::{Error, RingId};
use crate::region::{page_size, Region};
use crate::{fault, varint, Reader, Writer};

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("otlp-mmap-truncation-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn config() -> WriterConfig {
    WriterConfig {
        rings: [RingConfig {
            num_buffers: 64,
            buffer_size: 128,
        }; 3],
        dictionary_size: 4096,
        max_file_size: 1 << 30,
        file_mode: 0o600,
    }
}

fn cut(path: &Path, size: u64) {
    OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(size)
        .unwrap();
}

fn split(mut batch: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while !batch.is_empty() {
        let (len, used) = varint::decode(batch).expect("valid prefix");
        out.push(batch[used..used + len as usize].to_vec());
        batch = &batch[used + len as usize..];
    }
    out
}

fn truncated<T: std::fmt::Debug>(result: crate::Result<T>) -> bool {
    match result {
        Err(e @ Error::FileTruncated(_)) => {
            assert_eq!(e.code(), "ERR_FILE_TRUNCATED");
            true
        }
        other => panic!("expected FileTruncated, got {other:?}"),
    }
}

#[test]
fn a_fault_inside_a_registered_mapping_completes_on_zeros_and_marks_it_broken() {
    assert!(fault::install());
    let dir = TempDir::new();
    let path = dir.file("f");
    let page = page_size();
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    file.set_len(3 * page).unwrap();
    let region = Region::map(&file, 3 * page, true).unwrap();
    region.copy_in(2 * page, b"in the file");
    assert!(!region.is_broken());
    file.set_len(page).unwrap();
    let mut read = [7u8; 11];
    region.copy_out(2 * page, &mut read);
    assert_eq!(read, [0u8; 11], "the read past the end completed on zeros");
    assert!(region.is_broken());
    region.copy_in(page + 8, b"goes nowhere");
    region.copy_in(0, b"still the file");
    drop(region);
    let mut head = [0u8; 14];
    std::os::unix::fs::FileExt::read_exact_at(&file, &mut head, 0).unwrap();
    assert_eq!(
        &head, b"still the file",
        "pages inside the file stay shared"
    );
}

#[test]
fn a_write_into_a_truncated_file_is_reported_as_not_written() {
    assert!(fault::install());
    let dir = TempDir::new();
    let path = dir.file("f");
    for size in [0, 64, 4096] {
        let w = Writer::create(&path, &config()).unwrap();
        assert!(w.append(RingId::Spans, b"before").unwrap());
        assert!(!w.is_truncated().unwrap());
        cut(&path, size);
        assert!(
            truncated(w.append(RingId::Spans, b"after")),
            "cut to {size}: the append that faulted is not written"
        );
        assert!(truncated(w.append(RingId::Events, b"later")));
        assert!(w.is_truncated().unwrap());
    }
}

#[test]
fn a_cut_the_writes_have_not_hit_is_seen_by_is_truncated() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &config()).unwrap();
    let dictionary = w.layout().dictionary_offset;
    w.add_entry(&[1u8; 3000]).unwrap();
    cut(&path, dictionary + 100);
    // The rings still lie inside the file: nothing faults...
    assert!(w.append(RingId::Events, b"unseen").unwrap());
    // ...but the size says it was cut, and from then on appends refuse.
    assert!(w.is_truncated().unwrap());
    assert!(truncated(w.append(RingId::Events, b"x")));
}

#[test]
fn entries_added_before_and_after_the_cut_keep_their_references_in_the_re_created_file() {
    assert!(fault::install());
    let dir = TempDir::new();
    let path = dir.file("f");
    let dictionary = Writer::create(&path, &config())
        .unwrap()
        .layout()
        .dictionary_offset;
    for size in [0, 64, 4096, dictionary + 70] {
        let w = Writer::create(&path, &config()).unwrap();
        let start = w.info().start_time_unix_nano;
        let mut refs = vec![
            (w.intern(b"service.name").unwrap(), b"service.name".to_vec()),
            (w.add_entry(&[9u8; 5000]).unwrap(), vec![9u8; 5000]),
        ];
        cut(&path, size);
        // A new key while the file is cut: no crash, a reference all the same.
        let key = w.intern(b"http.route").unwrap();
        refs.push((key, b"http.route".to_vec()));
        assert_eq!(w.intern(b"http.route").unwrap(), key, "interned once");
        assert_eq!(
            w.intern(b"service.name").unwrap(),
            refs[0].0,
            "still deduplicated"
        );
        assert!(w.is_truncated().unwrap());

        let fresh = w.recreate().unwrap();
        drop(w);
        assert_ne!(fresh.info().start_time_unix_nano, start);
        assert!(fresh.append(RingId::Spans, b"resumed").unwrap());
        let later = fresh.intern(b"later").unwrap();
        assert!(
            refs.iter().all(|(r, _)| later > *r),
            "new entries go after the old ones"
        );
        refs.push((later, b"later".to_vec()));
        assert_eq!(
            fresh.intern(b"http.route").unwrap(),
            key,
            "the new writer knows the old entries"
        );

        let mut r = Reader::open(&path, ReaderConfig::default()).unwrap();
        for (reference, bytes) in &refs {
            assert_eq!(&r.entry(*reference).unwrap(), bytes, "cut to {size}");
        }
        assert_eq!(r.info().dictionary.num_entries, refs.len() as i64);
        let mut out = Vec::new();
        r.read_batch(RingId::Spans, 10, usize::MAX, &mut out)
            .unwrap();
        assert_eq!(split(&out), vec![b"resumed".to_vec()]);
    }
}

#[test]
fn re_creation_leaves_anything_else_at_the_path_alone() {
    assert!(fault::install());
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &config()).unwrap();
    cut(&path, 0);
    assert!(truncated(w.append(RingId::Spans, b"x")));
    let refused = |what: &str| match w.recreate() {
        Err(e @ Error::PathReplaced(_)) => {
            assert_eq!(e.code(), "ERR_PATH_REPLACED");
            assert!(e.to_string().contains(what), "{e}");
        }
        other => panic!("expected PathReplaced, got {:?}", other.map(|_| ())),
    };

    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    refused("a directory");
    std::fs::remove_dir(&path).unwrap();

    let elsewhere = dir.file("user-file");
    std::fs::write(&elsewhere, b"not yours").unwrap();
    std::os::unix::fs::symlink(&elsewhere, &path).unwrap();
    refused("a symbolic link");
    assert_eq!(std::fs::read(&elsewhere).unwrap(), b"not yours");
    std::fs::remove_file(&path).unwrap();

    std::fs::write(&path, b"another program's file").unwrap();
    refused("another file");
    assert_eq!(std::fs::read(&path).unwrap(), b"another program's file");
    std::fs::remove_file(&path).unwrap();

    // Nothing at the path: a new file is created there.
    let fresh = w.recreate().unwrap();
    assert!(fresh.append(RingId::Spans, b"resumed").unwrap());
    let attached = Writer::attach(&path, None).unwrap();
    assert!(
        matches!(attached.recreate(), Err(Error::InvalidConfig(_))),
        "an attached writer never re-creates the shared file"
    );
}

#[test]
fn a_reader_reports_a_cut_file_with_what_it_knows_was_lost() {
    assert!(fault::install());
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &config()).unwrap();
    let dictionary = w.layout().dictionary_offset;
    let entry = w.intern(b"key").unwrap();
    let mut r = Reader::open(&path, ReaderConfig::default()).unwrap();
    for _ in 0..5 {
        assert!(w.append(RingId::Spans, b"span").unwrap());
    }
    assert!(w.append(RingId::Events, b"log").unwrap());
    let mut out = Vec::new();
    assert_eq!(
        r.read_batch(RingId::Spans, 2, usize::MAX, &mut out)
            .unwrap(),
        2
    );
    assert_eq!(r.truncation(), None);

    // Cut inside the dictionary: every ring header is still there.
    cut(&path, dictionary + 8);
    out.clear();
    assert!(truncated(r.read_batch(
        RingId::Spans,
        10,
        usize::MAX,
        &mut out
    )));
    assert!(out.is_empty(), "nothing is handed out");
    assert!(truncated(r.is_reset()));
    assert!(truncated(r.entry(entry)));
    let t = r.truncation().unwrap();
    assert_eq!(t.file_size, dictionary + 8);
    assert_eq!(t.unread, [Some(1), Some(3), Some(0)]);
    assert_eq!(t.known_lost(), 4);

    // Cut to 0: nothing is known of the rings any more, the counts stay.
    cut(&path, 0);
    let t = r.truncation().unwrap();
    assert_eq!(t.file_size, 0);
    assert_eq!(t.unread, [Some(1), Some(3), Some(0)]);

    assert!(
        Reader::open(&path, ReaderConfig::default()).is_err(),
        "a cut file does not validate"
    );
    let w2 = Writer::create(&path, &config()).unwrap();
    drop(w);
    let mut reopened = Reader::open(&path, ReaderConfig::default()).unwrap();
    assert!(w2.append(RingId::Spans, b"new").unwrap());
    out.clear();
    reopened
        .read_batch(RingId::Spans, 10, usize::MAX, &mut out)
        .unwrap();
    assert_eq!(split(&out), vec![b"new".to_vec()]);
}

#[test]
fn a_cut_the_file_was_grown_over_again_is_still_seen_by_the_reader_and_the_writer() {
    // A writer that extends the dictionary right after someone else's cut
    // grows the file back: its size looks whole, the data below is zeros.
    assert!(fault::install());
    let dir = TempDir::new();
    let path = dir.file("f");
    for cut_at in [64, 4096] {
        let w = Writer::create(&path, &config()).unwrap();
        for _ in 0..3 {
            assert!(w.append(RingId::Spans, b"span").unwrap());
        }
        let mut r = Reader::open(&path, ReaderConfig::default()).unwrap();
        let size = std::fs::metadata(&path).unwrap().len();
        cut(&path, cut_at);
        cut(&path, size);
        let mut out = Vec::new();
        let mut handed_out = Vec::new();
        for ring in RingId::ALL {
            match r.read_batch(ring, 10, usize::MAX, &mut out) {
                Ok(_) => handed_out.extend(split(&out)),
                Err(e) => assert_eq!(e.code(), "ERR_FILE_TRUNCATED", "{e}"),
            }
            out.clear();
        }
        assert!(
            handed_out.is_empty(),
            "cut at {cut_at}: zeros handed out as messages: {handed_out:?}"
        );
        assert!(
            w.is_truncated().unwrap(),
            "cut at {cut_at}: the writer's check sees it"
        );
        assert!(truncated(w.append(RingId::Spans, b"after")));
    }
}

#[test]
fn a_reader_cut_before_it_looked_knows_nothing_of_the_rings() {
    assert!(fault::install());
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &config()).unwrap();
    assert!(w.append(RingId::Spans, b"span").unwrap());
    let mut r = Reader::open(&path, ReaderConfig::default()).unwrap();
    cut(&path, 64);
    let mut out = Vec::new();
    assert!(truncated(r.read_batch(
        RingId::Events,
        10,
        usize::MAX,
        &mut out
    )));
    let t = r.truncation().unwrap();
    assert_eq!(
        t.unread,
        [None, None, None],
        "the ring headers were cut off"
    );
    assert_eq!(t.known_lost(), 0);
}

#[test]
fn a_ring_read_that_faults_completes_and_leaves_the_region_broken() {
    // The reader's size check runs before the copy; a cut between the two
    // faults inside the copy. Drive the ring directly past that check.
    assert!(fault::install());
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &config()).unwrap();
    for _ in 0..3 {
        assert!(w.append(RingId::Measurements, b"measurement").unwrap());
    }
    let layout = *w.layout();
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    let region = Region::map(&file, layout.file_size, false).unwrap();
    let ring = crate::ring::Ring::new(layout.rings[2], "measurements");
    let ring_page = layout.rings[2].offset - layout.rings[2].offset % page_size();
    cut(&path, ring_page);
    let mut state = crate::ring::RingReadState::default();
    let mut out = Vec::new();
    let limits = crate::ring::ReadLimits {
        max_messages: 10,
        max_bytes: usize::MAX,
        uncommitted_timeout: std::time::Duration::from_secs(1),
    };
    ring.read_batch(
        &region,
        &mut state,
        &limits,
        &mut out,
        std::time::Instant::now,
    );
    assert!(region.is_broken());
}

#[test]
fn a_writer_and_a_reader_racing_a_cut_never_crash_and_never_hand_out_garbage() {
    assert!(fault::install());
    let dir = TempDir::new();
    let path = dir.file("f");
    let message = [0x5Au8; 100];
    for round in 0..20u64 {
        let w = Writer::create(&path, &config()).unwrap();
        let mut r = Reader::open(&path, ReaderConfig::default()).unwrap();
        let dictionary = w.layout().dictionary_offset;
        let size = [0, 64, 4096, dictionary / 2, dictionary + 8][(round % 5) as usize];
        std::thread::scope(|s| {
            s.spawn(|| {
                let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
                for n in 0u64.. {
                    match w.append(RingId::Spans, &message) {
                        Ok(_) => {}
                        Err(Error::FileTruncated(_)) => break,
                        Err(e) => panic!("{e}"),
                    }
                    // New keys: a cut inside the dictionary is hit too.
                    w.intern(format!("k{n}").as_bytes()).unwrap();
                    assert!(std::time::Instant::now() < until);
                }
            });
            s.spawn(|| {
                std::thread::sleep(std::time::Duration::from_micros(200 * (round % 7)));
                cut(&path, size);
            });
            let mut out = Vec::new();
            loop {
                out.clear();
                match r.read_batch(RingId::Spans, 16, usize::MAX, &mut out) {
                    Ok(_) => {
                        for m in split(&out) {
                            assert_eq!(m, message, "round {round}: only whole messages");
                        }
                    }
                    Err(Error::FileTruncated(_)) => break,
                    Err(e) => panic!("{e}"),
                }
            }
        });
    }
}

// ------------------------------------------------------------------ processes

const CHILD_MODE: &str = "OTLP_MMAP_TEST_FAULT_MODE";
const CHILD_FILE: &str = "OTLP_MMAP_TEST_FAULT_FILE";

/// Exit code of the handler a child installs before ours.
const PREVIOUS_HANDLER_EXIT: i32 = 42;

extern "C" fn previous_handler(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: _exit is async-signal-safe.
    unsafe { libc::_exit(PREVIOUS_HANDLER_EXIT) }
}

/// Maps `path` (one page) with a plain `mmap`, not through `Region`, cuts
/// the file to 0 and reads the page: a fault outside our mappings.
fn fault_outside_our_mappings(path: &Path) -> u8 {
    let page = page_size() as usize;
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .unwrap();
    file.set_len(page as u64).unwrap();
    // SAFETY: a fresh shared read mapping of one page of our own file.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            page,
            libc::PROT_READ,
            libc::MAP_SHARED,
            std::os::fd::AsRawFd::as_raw_fd(&file),
            0,
        )
    };
    assert_ne!(p, libc::MAP_FAILED);
    file.set_len(0).unwrap();
    // SAFETY: the page is mapped; reading it past the end of the file
    // raises SIGBUS, which is what this child is for.
    unsafe { std::ptr::read_volatile(p as *const u8) }
}

/// Body of the child processes of the tests below (does nothing when run
/// directly).
#[test]
#[ignore = "run as a child process by the fault-chaining tests"]
fn child_process_fault() {
    let (Ok(mode), Some(path)) = (std::env::var(CHILD_MODE), std::env::var_os(CHILD_FILE)) else {
        return;
    };
    let path = PathBuf::from(path);
    // The Rust runtime handles SIGBUS itself (stack overflow detection);
    // Node.js leaves the default. Start from the default, as in Node.js.
    // SAFETY: restores the default disposition of SIGBUS.
    unsafe { libc::signal(libc::SIGBUS, libc::SIG_DFL) };
    match mode.as_str() {
        "default" => {
            assert!(fault::install());
            fault_outside_our_mappings(&path);
        }
        "kill" => {
            assert!(fault::install());
            // SAFETY: sends SIGBUS to this process.
            unsafe { libc::raise(libc::SIGBUS) };
        }
        "previous" => {
            // SAFETY: a zeroed sigaction filled in; installs a handler that
            // only calls _exit.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = previous_handler as *const () as libc::sighandler_t;
                action.sa_flags = libc::SA_SIGINFO;
                libc::sigemptyset(&mut action.sa_mask);
                assert_eq!(
                    libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut()),
                    0
                );
            }
            assert!(fault::install());
            // Ours first: a fault inside a registered mapping is handled...
            let w = Writer::create(path.with_extension("mmap"), &config()).unwrap();
            cut(&path.with_extension("mmap"), 0);
            assert!(w.append(RingId::Spans, b"x").is_err());
            // ...any other goes to the handler that was there before.
            fault_outside_our_mappings(&path);
        }
        _ => panic!("unknown mode {mode}"),
    }
    // Still alive: the fault was not passed on.
    std::process::exit(0);
}

/// Runs `child_process_fault` in `mode`; a child still running after 30 s
/// (a fault handled over and over) is killed and fails the test.
fn run_child(mode: &str) -> std::process::ExitStatus {
    let dir = TempDir::new();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "truncation_tests::child_process_fault",
            "--ignored",
            "--test-threads=1",
            "-q",
        ])
        .env(CHILD_MODE, mode)
        .env(CHILD_FILE, dir.file("page"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the {mode} child hung");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn a_fault_outside_our_mappings_still_ends_the_process_with_sigbus() {
    assert_eq!(run_child("default").signal(), Some(libc::SIGBUS));
}

#[test]
fn a_sigbus_sent_by_kill_still_ends_the_process() {
    assert_eq!(run_child("kill").signal(), Some(libc::SIGBUS));
}

#[test]
fn a_fault_outside_our_mappings_goes_to_the_handler_installed_before_ours() {
    assert_eq!(run_child("previous").code(), Some(PREVIOUS_HANDLER_EXIT));
}
