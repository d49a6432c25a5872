//! What a reader holds, what it does with impossible ring indexes, what a
//! read-only reader leaves untouched, and what a writer refuses to create:
//! real files in a temporary directory.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use crate::config::ReaderConfig;
use crate::error::{Error, RingId};
use crate::ring::{index_state_is_possible, MAX_INDEX};
use crate::tests::{pread_i64, pwrite, reader, small_config, split, TempDir};
use crate::{Reader, Writer};

fn reader_with(path: &Path, timeout: Duration, read_only: bool) -> Reader {
    Reader::open(
        path,
        ReaderConfig {
            uncommitted_timeout: timeout,
            read_only,
            ..ReaderConfig::default()
        },
    )
    .unwrap()
}

fn read(r: &mut Reader, ring: RingId, max_messages: usize, max_bytes: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let n = r
        .read_batch(ring, max_messages, max_bytes, &mut out)
        .unwrap();
    let messages = split(&out);
    assert_eq!(messages.len(), n, "the count matches the framed messages");
    messages
}

fn read_all(r: &mut Reader, ring: RingId) -> Vec<Vec<u8>> {
    read(r, ring, usize::MAX, usize::MAX)
}

// ------------------------------------------------------------------ byte bound

#[test]
fn a_read_holds_at_most_max_bytes_and_leaves_the_rest_for_the_next_read() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &small_config(8, 512, 64)).unwrap();
    for i in 0..5u8 {
        assert!(w.append(RingId::Events, &[i; 300]).unwrap());
    }
    let mut r = reader(&path);
    // Each message takes 2 + 300 bytes: two fit in 700, a third does not.
    let mut out = Vec::new();
    assert_eq!(r.read_batch(RingId::Events, 100, 700, &mut out).unwrap(), 2);
    assert!(out.len() <= 700, "held {} bytes", out.len());
    assert_eq!(split(&out), vec![vec![0; 300], vec![1; 300]]);
    assert_eq!(
        r.info().rings[0].reader_index,
        1,
        "only what was returned is consumed"
    );
    assert_eq!(
        read(&mut r, RingId::Events, 100, 604),
        vec![vec![2; 300], vec![3; 300]],
        "exactly at the bound"
    );
    assert_eq!(read(&mut r, RingId::Events, 100, 700), vec![vec![4; 300]]);
}

#[test]
fn a_message_larger_than_the_byte_bound_is_read_alone() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &small_config(8, 1024, 64)).unwrap();
    assert!(w.append(RingId::Spans, &[7; 1000]).unwrap());
    assert!(w.append(RingId::Spans, &[8; 10]).unwrap());
    let mut r = reader(&path);
    assert_eq!(read(&mut r, RingId::Spans, 100, 64), vec![vec![7; 1000]]);
    assert_eq!(read(&mut r, RingId::Spans, 100, 64), vec![vec![8; 10]]);
    assert_eq!(read(&mut r, RingId::Spans, 100, 0), Vec::<Vec<u8>>::new());
}

// ------------------------------------------------------------------ impossible index states

#[test]
fn reader_index_ahead_of_writer_index_is_resynchronised_and_committed_messages_are_read() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &small_config(8, 32, 64)).unwrap();
    let g = w.layout().rings[0];
    pwrite(&path, g.reader_index_offset(), &1000i64.to_le_bytes());
    // Writers still find room (their check only compares with reader_index),
    // even for all 8 slots.
    let sent: Vec<Vec<u8>> = (0..8u8).map(|i| vec![i; 3]).collect();
    for m in &sent {
        assert!(w.append(RingId::Events, m).unwrap());
    }
    let mut r = reader(&path);
    assert_eq!(
        read_all(&mut r, RingId::Events),
        sent,
        "the window of the ring is read instead of waiting for index 1001"
    );
    let s = r.stats(RingId::Events);
    assert_eq!((s.resyncs, s.resync_skipped), (1, 0));
    assert!(w.append(RingId::Events, b"d").unwrap());
    assert_eq!(read_all(&mut r, RingId::Events), vec![b"d".to_vec()]);
    assert_eq!(
        r.stats(RingId::Events).resyncs,
        1,
        "consistent from then on"
    );
}

#[test]
fn reader_index_moved_under_a_running_reader_resumes_where_that_reader_was() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &small_config(8, 32, 64)).unwrap();
    let g = w.layout().rings[0];
    let mut r = reader(&path);
    for m in [&b"a"[..], b"b", b"c"] {
        assert!(w.append(RingId::Events, m).unwrap());
    }
    assert_eq!(read_all(&mut r, RingId::Events).len(), 3);
    for bad in [1_000i64, -7, i64::MIN, i64::MAX] {
        assert!(w.append(RingId::Events, b"x").unwrap());
        pwrite(&path, g.reader_index_offset(), &bad.to_le_bytes());
        assert_eq!(
            read_all(&mut r, RingId::Events),
            vec![b"x".to_vec()],
            "reader_index {bad}: nothing lost, nothing read twice"
        );
    }
    let s = r.stats(RingId::Events);
    assert_eq!((s.resyncs, s.resync_skipped), (4, 0));
}

#[test]
fn writer_index_far_ahead_is_resynchronised_instead_of_stalling_the_ring() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &small_config(8, 32, 64)).unwrap();
    let g = w.layout().rings[1];
    assert!(w.append(RingId::Spans, b"a").unwrap());
    assert!(w.append(RingId::Spans, b"b").unwrap());
    pwrite(&path, g.writer_index_offset(), &1_000_000i64.to_le_bytes());
    assert!(
        !w.append(RingId::Spans, b"lost").unwrap(),
        "the ring looks full"
    );
    let timeout = Duration::from_millis(200);
    let mut r = reader_with(&path, timeout, false);
    assert_eq!(
        read_all(&mut r, RingId::Spans),
        vec![b"a".to_vec(), b"b".to_vec()],
        "what is committed is read first"
    );
    let s = r.stats(RingId::Spans);
    // Position 999_992, the window (999_992, 1_000_000] next: indexes
    // 2..=999_992 given up.
    assert_eq!((s.resyncs, s.resync_skipped), (1, 999_991));
    assert_eq!(r.info().rings[1].reader_index, 999_992);
    std::thread::sleep(timeout + Duration::from_millis(50));
    assert!(read_all(&mut r, RingId::Spans).is_empty());
    assert_eq!(
        r.stats(RingId::Spans).skipped_uncommitted,
        8,
        "the window's claims, never committed, are skipped together after one timeout"
    );
    assert!(
        w.append(RingId::Spans, b"c").unwrap(),
        "writers find room again"
    );
    assert_eq!(read_all(&mut r, RingId::Spans), vec![b"c".to_vec()]);
}

#[test]
fn writer_index_below_minus_one_is_put_back_and_later_messages_are_read() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &small_config(8, 32, 64)).unwrap();
    let g = w.layout().rings[2];
    pwrite(&path, g.writer_index_offset(), &(-5i64).to_le_bytes());
    let mut r = reader(&path);
    assert!(read_all(&mut r, RingId::Measurements).is_empty());
    assert_eq!(r.stats(RingId::Measurements).resyncs, 1);
    assert_eq!(
        r.info().rings[2].writer_index,
        -1,
        "put back to the reader's position"
    );
    for m in [&b"a"[..], b"b", b"c"] {
        assert!(w.append(RingId::Measurements, m).unwrap());
    }
    assert_eq!(read_all(&mut r, RingId::Measurements).len(), 3);
}

#[test]
fn writer_index_beyond_max_index_is_put_back_and_writers_find_room() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &small_config(8, 32, 64)).unwrap();
    let g = w.layout().rings[0];
    assert!(w.append(RingId::Events, b"a").unwrap());
    pwrite(&path, g.writer_index_offset(), &i64::MAX.to_le_bytes());
    assert!(
        !w.append(RingId::Events, b"lost").unwrap(),
        "the ring looks full"
    );
    let mut r = reader(&path);
    assert_eq!(read_all(&mut r, RingId::Events), vec![b"a".to_vec()]);
    assert_eq!(r.stats(RingId::Events).resyncs, 1);
    assert_eq!(r.info().rings[0].writer_index, 0);
    assert!(w.append(RingId::Events, b"b").unwrap());
    assert_eq!(read_all(&mut r, RingId::Events), vec![b"b".to_vec()]);
}

#[test]
fn reader_index_below_minus_one_never_reads_slots_nobody_wrote() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &small_config(8, 32, 64)).unwrap();
    let g = w.layout().rings[0];
    // A fresh ring's availability entries are -1, the lap of indexes -8..=-1.
    pwrite(&path, g.reader_index_offset(), &(-5i64).to_le_bytes());
    let mut r = reader(&path);
    assert!(read_all(&mut r, RingId::Events).is_empty());
    let s = r.stats(RingId::Events);
    assert_eq!((s.read, s.corrupt, s.resyncs), (0, 0, 1));
    assert!(w.append(RingId::Events, b"a").unwrap());
    assert_eq!(read_all(&mut r, RingId::Events), vec![b"a".to_vec()]);
}

#[test]
fn a_slot_marked_committed_before_any_claim_is_not_read() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &small_config(8, 32, 64)).unwrap();
    let g = w.layout().rings[0];
    // lap(0) = 0 in the availability entry of slot 0, writer_index still -1.
    pwrite(&path, g.availability_offset(0), &0i32.to_le_bytes());
    pwrite(&path, g.slot_offset(0), &[3, b'b', b'a', b'd']);
    let mut r = reader(&path);
    assert!(read(&mut r, RingId::Events, 16, usize::MAX).is_empty());
    assert_eq!(r.info().rings[0].reader_index, -1);
}

#[test]
fn a_run_of_dead_claims_costs_one_timeout_not_one_per_claim() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &small_config(8, 32, 64)).unwrap();
    for _ in 0..5 {
        assert!(w.claim_without_commit(RingId::Spans).is_some());
    }
    assert!(w.append(RingId::Spans, b"after").unwrap());
    let timeout = Duration::from_millis(200);
    let mut r = reader_with(&path, timeout, false);
    assert!(
        read_all(&mut r, RingId::Spans).is_empty(),
        "not before the timeout"
    );
    std::thread::sleep(timeout + Duration::from_millis(50));
    assert_eq!(read_all(&mut r, RingId::Spans), vec![b"after".to_vec()]);
    assert_eq!(r.stats(RingId::Spans).skipped_uncommitted, 5);
}

#[test]
fn from_any_index_state_one_read_makes_the_ring_consistent_and_new_messages_arrive() {
    let values = [
        i64::MIN,
        i64::MIN + 1,
        -(1 << 40),
        -9,
        -2,
        -1,
        0,
        3,
        7,
        8,
        1 << 32,
        MAX_INDEX - 1,
        MAX_INDEX,
        MAX_INDEX + 1,
        i64::MAX - 1,
        i64::MAX,
    ];
    let dir = TempDir::new();
    for slots in [2u64, 8] {
        let path = dir.file(&format!("n{slots}"));
        let w = Writer::create(&path, &small_config(slots, 32, 64)).unwrap();
        let g = w.layout().rings[0];
        let mut r = reader_with(&path, Duration::ZERO, false);
        let mut sent = 0u32;
        for &ri in &values {
            for &wi in &values {
                pwrite(&path, g.reader_index_offset(), &ri.to_le_bytes());
                pwrite(&path, g.writer_index_offset(), &wi.to_le_bytes());
                // Bounded work, whatever the state: two reads of at most
                // 2 * slots steps (a resync and the window) suffice.
                for _ in 0..2 {
                    let mut out = Vec::new();
                    r.read_batch(RingId::Events, 2 * slots as usize, usize::MAX, &mut out)
                        .unwrap();
                }
                let info = r.info().rings[0];
                assert!(
                    index_state_is_possible(info.reader_index, info.writer_index, slots),
                    "({ri}, {wi}) with {slots} slots left ({}, {})",
                    info.reader_index,
                    info.writer_index
                );
                assert_eq!(
                    info.reader_index, info.writer_index,
                    "({ri}, {wi}): caught up"
                );
                sent += 1;
                assert!(w.append(RingId::Events, &sent.to_le_bytes()).unwrap());
                assert_eq!(
                    read_all(&mut r, RingId::Events),
                    vec![sent.to_le_bytes().to_vec()],
                    "({ri}, {wi}) with {slots} slots"
                );
            }
        }
    }
}

// ------------------------------------------------------------------ read-only reader

fn file_bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

/// The permissions of this process's mappings of `path` (`/proc/self/maps`).
fn mapping_permissions(path: &Path) -> Vec<String> {
    let want = std::fs::canonicalize(path).unwrap();
    let want = want.to_str().unwrap();
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .filter(|l| l.ends_with(want))
        .map(|l| l.split_whitespace().nth(1).unwrap_or("").to_string())
        .collect()
}

#[test]
fn a_read_only_reader_reads_everything_and_changes_no_byte_of_the_file() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &small_config(8, 32, 64)).unwrap();
    for m in [&b"a"[..], b"b", b"c"] {
        assert!(w.append(RingId::Spans, m).unwrap());
    }
    assert!(w.claim_without_commit(RingId::Spans).is_some());
    let g = w.layout().rings[1];
    drop(w);
    let before = file_bytes(&path);
    for _ in 0..2 {
        let mut r = reader_with(&path, Duration::ZERO, true);
        assert!(r.is_read_only());
        assert_eq!(
            mapping_permissions(&path),
            vec!["r--s".to_string()],
            "mapped shared and read-only"
        );
        assert_eq!(
            read_all(&mut r, RingId::Spans).len(),
            3,
            "every time: nothing is consumed"
        );
        assert_eq!(r.stats(RingId::Spans).skipped_uncommitted, 1);
        assert_eq!(r.info().rings[1].reader_index, 3, "its own position");
        assert_eq!(pread_i64(&path, g.reader_index_offset()), -1);
    }
    assert!(file_bytes(&path) == before, "no byte of the file changed");
}

#[test]
fn a_read_only_reader_of_impossible_indexes_changes_nothing_either() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &small_config(8, 32, 64)).unwrap();
    assert!(w.append(RingId::Events, b"a").unwrap());
    let g = w.layout().rings;
    pwrite(&path, g[0].writer_index_offset(), &i64::MAX.to_le_bytes());
    pwrite(&path, g[1].writer_index_offset(), &(-9i64).to_le_bytes());
    pwrite(&path, g[2].reader_index_offset(), &i64::MIN.to_le_bytes());
    drop(w);
    let before = file_bytes(&path);
    let mut r = reader_with(&path, Duration::ZERO, true);
    assert_eq!(read_all(&mut r, RingId::Events), vec![b"a".to_vec()]);
    for _ in 0..3 {
        for ring in RingId::ALL {
            assert!(read_all(&mut r, ring).is_empty());
        }
    }
    let resyncs = RingId::ALL.map(|ring| r.stats(ring).resyncs);
    assert_eq!(resyncs, [1, 1, 1], "each counted once, not once per read");
    assert!(file_bytes(&path) == before, "no byte of the file changed");
}

#[test]
fn a_read_only_reader_opens_a_file_it_may_not_write() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &small_config(8, 32, 64)).unwrap();
    assert!(w.append(RingId::Events, b"a").unwrap());
    drop(w);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    // Root may open any file for writing; elsewhere the consuming reader
    // is refused, which shows what the read-only one is for.
    let root = is_root();
    if !root {
        assert!(Reader::open(&path, ReaderConfig::default()).is_err());
    }
    let mut r = reader_with(&path, Duration::ZERO, true);
    assert_eq!(read_all(&mut r, RingId::Events), vec![b"a".to_vec()]);
}

/// Whether this process runs as root (from `/proc/self/status`, no libc call).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2))
        == Some("0")
}

// ------------------------------------------------------------------ symbolic links

#[test]
fn create_refuses_a_symlink_at_the_path_and_leaves_its_target_unchanged() {
    let dir = TempDir::new();
    let target = dir.file("precious.txt");
    std::fs::write(&target, b"the user's data").unwrap();
    let link = dir.file("app.otlp-mmap");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let err = match Writer::create(&link, &small_config(8, 32, 64)) {
        Ok(_) => panic!("created through a symlink"),
        Err(e) => e,
    };
    assert!(matches!(err, Error::Symlink { .. }), "{err}");
    assert_eq!(err.code(), "ERR_SYMLINK");
    assert!(err.to_string().contains(link.to_str().unwrap()), "{err}");
    assert_eq!(std::fs::read(&target).unwrap(), b"the user's data");
}

#[test]
fn create_refuses_a_dangling_symlink_and_creates_nothing_behind_it() {
    let dir = TempDir::new();
    let target = dir.file("not-yet");
    let link = dir.file("app.otlp-mmap");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let err = Writer::create(&link, &small_config(8, 32, 64))
        .err()
        .unwrap();
    assert_eq!(err.code(), "ERR_SYMLINK");
    assert!(!target.exists(), "nothing created at the link's target");
}
