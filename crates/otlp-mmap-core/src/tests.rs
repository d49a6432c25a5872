//! File-level tests of writer and reader together: real files in a temporary
//! directory, real threads.

use std::fs::OpenOptions;
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::config::{ReaderConfig, RingConfig, WriterConfig};
use crate::error::{Error, RingId};
use crate::layout::{header, DICT_HEADER_SIZE};
use crate::ring::lap;
use crate::{varint, Reader, Writer};

/// A temporary directory removed on drop.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("otlp-mmap-core-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(crate) fn small_config(slots: u64, slot_size: u64, dict: u64) -> WriterConfig {
    WriterConfig {
        rings: [RingConfig {
            num_buffers: slots,
            buffer_size: slot_size,
        }; 3],
        dictionary_size: dict,
        max_file_size: 1 << 30,
        file_mode: 0o600,
    }
}

pub(crate) fn reader(path: &Path) -> Reader {
    Reader::open(path, ReaderConfig::default()).unwrap()
}

/// Splits a batch (`varint len + bytes` back to back) into messages.
pub(crate) fn split(mut batch: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while !batch.is_empty() {
        let (len, used) = varint::decode(batch).expect("valid prefix");
        out.push(batch[used..used + len as usize].to_vec());
        batch = &batch[used + len as usize..];
    }
    out
}

fn read_all(r: &mut Reader, ring: RingId) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    r.read_batch(ring, usize::MAX, usize::MAX, &mut out)
        .unwrap();
    split(&out)
}

/// Sets its flag when dropped, also while a failed assertion unwinds, so
/// producer threads waiting for room give up instead of hanging the test.
struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

pub(crate) fn pread_i64(path: &Path, offset: u64) -> i64 {
    let f = std::fs::File::open(path).unwrap();
    let mut b = [0u8; 8];
    f.read_exact_at(&mut b, offset).unwrap();
    i64::from_le_bytes(b)
}

fn pread_i32(path: &Path, offset: u64) -> i32 {
    let f = std::fs::File::open(path).unwrap();
    let mut b = [0u8; 4];
    f.read_exact_at(&mut b, offset).unwrap();
    i32::from_le_bytes(b)
}

pub(crate) fn pwrite(path: &Path, offset: u64, bytes: &[u8]) {
    let f = OpenOptions::new().write(true).open(path).unwrap();
    f.write_all_at(bytes, offset).unwrap();
}

// ------------------------------------------------------------------ creation

#[test]
fn create_writes_header_rings_and_dictionary_as_format_says() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let cfg = WriterConfig {
        rings: [
            RingConfig {
                num_buffers: 4,
                buffer_size: 32,
            },
            RingConfig {
                num_buffers: 8,
                buffer_size: 64,
            },
            RingConfig {
                num_buffers: 2,
                buffer_size: 16,
            },
        ],
        dictionary_size: 256,
        max_file_size: 1 << 20,
        file_mode: 0o600,
    };
    let w = Writer::create(&path, &cfg).unwrap();
    let l = *w.layout();
    assert_eq!(pread_i64(&path, header::VERSION), 1);
    assert_eq!(pread_i64(&path, 8), 64);
    assert_eq!(pread_i64(&path, 16), 64 + 32 + 16 + 128);
    assert_eq!(
        pread_i64(&path, 24),
        l.rings[1].offset as i64 + 32 + 32 + 512
    );
    assert_eq!(pread_i64(&path, 32), l.dictionary_offset as i64);
    assert_ne!(pread_i64(&path, header::START_TIME), 0);
    assert_eq!(
        (pread_i64(&path, 48), pread_i64(&path, 56)),
        (0, 0),
        "reserved bytes are zero"
    );
    for (g, rc) in l.rings.iter().zip(cfg.rings.iter()) {
        assert_eq!(pread_i64(&path, g.offset), rc.num_buffers as i64);
        assert_eq!(pread_i64(&path, g.offset + 8), rc.buffer_size as i64);
        assert_eq!(pread_i64(&path, g.offset + 16), -1, "reader_index");
        assert_eq!(pread_i64(&path, g.offset + 24), -1, "writer_index");
        for slot in 0..rc.num_buffers {
            assert_eq!(
                pread_i32(&path, g.availability_offset(slot)),
                -1,
                "availability"
            );
        }
    }
    let d = l.dictionary_offset;
    assert_eq!(
        pread_i64(&path, d),
        (d + DICT_HEADER_SIZE) as i64,
        "dictionary end"
    );
    assert_eq!(pread_i64(&path, d + 8), 0, "num_entries");
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.len(), d + 256);
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
}

#[test]
fn create_applies_the_requested_file_mode_exactly() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let cfg = WriterConfig {
        file_mode: 0o640,
        ..small_config(2, 16, 64)
    };
    Writer::create(&path, &cfg).unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o640
    );
}

#[test]
fn create_rejects_invalid_configs() {
    let dir = TempDir::new();
    let path = dir.file("f");
    for (slots, size, dict) in [
        (1, 16, 64),
        (3, 16, 64),
        (0, 16, 64),
        (4, 12, 64),
        (4, 20, 64),
        (4, 8, 64),
        (4, 16, 10),
    ] {
        let err = Writer::create(&path, &small_config(slots, size, dict))
            .err()
            .expect("rejected");
        assert!(
            matches!(err, Error::InvalidConfig(_)),
            "{slots}x{size}, dict {dict}: {err}"
        );
        assert_eq!(err.code(), "ERR_INVALID_OPTION");
    }
    let too_small = WriterConfig {
        max_file_size: 1024,
        ..WriterConfig::default()
    };
    assert!(matches!(
        Writer::create(&path, &too_small),
        Err(Error::InvalidConfig(_))
    ));
}

#[test]
fn reinitialising_changes_start_time_and_the_reader_sees_the_reset() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &small_config(4, 32, 128)).unwrap();
    assert!(w.append(RingId::Events, b"old").unwrap());
    let r = reader(&path);
    assert!(!r.is_reset().unwrap());
    let before = r.start_time_at_open();
    let mut starts = vec![before];
    for _ in 0..5 {
        let w2 = Writer::create(&path, &small_config(4, 32, 128)).unwrap();
        let now = w2.info().start_time_unix_nano;
        assert_ne!(
            now,
            *starts.last().unwrap(),
            "start time strictly changes on every re-initialisation"
        );
        starts.push(now);
    }
    assert!(r.is_reset().unwrap());
    let mut fresh = reader(&path);
    assert!(
        read_all(&mut fresh, RingId::Events).is_empty(),
        "re-initialised rings are empty"
    );
    assert_eq!(fresh.info().rings[0].writer_index, -1);
}

#[test]
fn reinitialising_never_shrinks_the_file_and_stale_references_fail_cleanly() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &small_config(4, 32, 64)).unwrap();
    let old = w.add_entry(&vec![7u8; 100_000]).unwrap();
    let grown = std::fs::metadata(&path).unwrap().len();
    let r = reader(&path);
    assert_eq!(r.entry(old).unwrap().len(), 100_000);
    let w2 = Writer::create(&path, &small_config(4, 32, 64)).unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        grown,
        "not shrunk under the reader"
    );
    assert!(r.is_reset().unwrap());
    assert!(
        matches!(r.entry(old), Err(Error::BadReference { .. })),
        "past the new dictionary end"
    );
    let fresh = w2.add_entry(b"new").unwrap();
    assert_eq!(reader(&path).entry(fresh).unwrap(), b"new");
}

#[test]
fn attach_does_not_reinitialise() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &small_config(8, 32, 128)).unwrap();
    assert!(w.append(RingId::Spans, b"first").unwrap());
    let entry = w.add_entry(b"kept").unwrap();
    let start = w.info().start_time_unix_nano;
    let a = Writer::attach(&path, None).unwrap();
    assert_eq!(a.info().start_time_unix_nano, start);
    assert_eq!(a.info().rings[1].writer_index, 0);
    assert!(a.append(RingId::Spans, b"second").unwrap());
    let e2 = a.add_entry(b"also").unwrap();
    let mut r = reader(&path);
    assert_eq!(
        read_all(&mut r, RingId::Spans),
        vec![b"first".to_vec(), b"second".to_vec()]
    );
    assert_eq!(r.entry(entry).unwrap(), b"kept");
    assert_eq!(r.entry(e2).unwrap(), b"also");
    assert!(!r.is_reset().unwrap());
}

// ------------------------------------------------------------------ rings

#[test]
fn messages_round_trip_and_a_full_ring_answers_false() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &small_config(4, 32, 64)).unwrap();
    // The FORMAT room check `w + 1 - n < r` leaves one slot unused.
    for i in 0..3u8 {
        assert!(w.append(RingId::Measurements, &[i; 5]).unwrap());
    }
    assert!(!w.append(RingId::Measurements, b"x").unwrap(), "full");
    assert_eq!(
        w.info().rings[2].writer_index,
        2,
        "a full ring claims nothing"
    );
    let mut r = reader(&path);
    let mut out = Vec::new();
    assert_eq!(
        r.read_batch(RingId::Measurements, 2, usize::MAX, &mut out)
            .unwrap(),
        2
    );
    assert_eq!(split(&out), vec![vec![0; 5], vec![1; 5]]);
    assert!(
        w.append(RingId::Measurements, b"x").unwrap(),
        "room again after reading"
    );
    assert_eq!(
        read_all(&mut r, RingId::Measurements),
        vec![vec![2; 5], b"x".to_vec()]
    );
    assert!(
        read_all(&mut r, RingId::Measurements).is_empty(),
        "nothing to read is an answer"
    );
}

/// Resident KiB of this process's mappings of `path` (`Rss` in
/// `/proc/self/smaps`, summed over every mapping of that file).
fn resident_kib(path: &Path) -> u64 {
    let want = std::fs::canonicalize(path).unwrap();
    let want = want.to_str().unwrap();
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
    let mut inside = false;
    let mut total = 0;
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let first = fields.next().unwrap_or("");
        if first.contains('-') && first.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            inside = fields.nth(4) == Some(want);
        } else if let Some(kb) = line.strip_prefix("Rss:") {
            if inside {
                total += kb
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .unwrap();
            }
        }
    }
    total
}

/// Message `i` of lap `lap`: 4000 bytes no two messages share.
fn lap_message(lap: u8, i: u32) -> Vec<u8> {
    let mut m = vec![lap; 4000];
    m[..4].copy_from_slice(&i.to_le_bytes());
    m[3996..].copy_from_slice(&i.to_le_bytes());
    m
}

#[test]
fn reader_releases_consumed_slot_pages_and_the_next_lap_reads_back_intact() {
    let dir = TempDir::new();
    let path = dir.file("f");
    // Spans: 1024 slots of 4 KiB, a 4 MiB slots area.
    let mut config = small_config(16, 64, 4096);
    config.rings[RingId::Spans.index()] = RingConfig {
        num_buffers: 1024,
        buffer_size: 4096,
    };
    let fill = |lap: u8, count: u32| {
        // Written by a handle that is gone before anything is measured, so
        // only the reader's mapping of the file remains in smaps.
        let w = Writer::attach(&path, Some(1 << 30)).unwrap();
        for i in 0..count {
            assert!(w.append(RingId::Spans, &lap_message(lap, i)).unwrap());
        }
        // The measurement sees a mapping's slot pages: the writer's.
        let written = resident_kib(&path);
        assert!(
            written >= 4000,
            "writer touched 4 MiB of slots: {written} KiB resident"
        );
    };
    drop(Writer::create(&path, &config).unwrap());
    fill(1, 1023); // the ring holds n - 1 messages
    let mut r = reader(&path);
    let opened = resident_kib(&path);

    // A read below the release threshold first, then the rest.
    let mut out = Vec::new();
    assert_eq!(
        r.read_batch(RingId::Spans, 10, usize::MAX, &mut out)
            .unwrap(),
        10
    );
    r.read_batch(RingId::Spans, usize::MAX, usize::MAX, &mut out)
        .unwrap();
    let first_lap = split(&out);
    assert_eq!(first_lap.len(), 1023);
    for (i, m) in first_lap.iter().enumerate() {
        assert_eq!(*m, lap_message(1, i as u32), "lap 1 message {i}");
    }
    let after_lap_1 = resident_kib(&path);
    assert!(
        after_lap_1 <= opened + 64,
        "4 MiB of slots consumed, yet {after_lap_1} KiB resident ({opened} KiB at open)"
    );

    // The next lap rewrites the released pages (starting at the last slot,
    // so it wraps at once) and is read back in uneven batches.
    fill(2, 1023);
    let mut out = Vec::new();
    while r
        .read_batch(RingId::Spans, 37, usize::MAX, &mut out)
        .unwrap()
        > 0
    {}
    let second_lap = split(&out);
    assert_eq!(second_lap.len(), 1023);
    for (i, m) in second_lap.iter().enumerate() {
        assert_eq!(*m, lap_message(2, i as u32), "lap 2 message {i}");
    }
    let after_lap_2 = resident_kib(&path);
    assert!(
        after_lap_2 <= opened + 64 + 4 * 37,
        "second lap consumed, yet {after_lap_2} KiB resident ({opened} KiB at open)"
    );
    assert_eq!(r.stats(RingId::Spans).corrupt, 0);
}

#[test]
fn empty_message_and_message_of_exactly_max_size_round_trip() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &small_config(4, 256, 64)).unwrap();
    let max = w.max_message_size(RingId::Events);
    assert_eq!(max, 254, "two-byte prefix for 254");
    let big = vec![0xAB; max];
    assert!(w.append(RingId::Events, b"").unwrap());
    assert!(w.append(RingId::Events, &big).unwrap());
    let mut r = reader(&path);
    assert_eq!(read_all(&mut r, RingId::Events), vec![Vec::new(), big]);
}

#[test]
fn oversized_message_is_refused_before_claiming() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &small_config(4, 32, 64)).unwrap();
    assert!(w.append(RingId::Events, b"before").unwrap());
    let err = w.append(RingId::Events, &[0u8; 32]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::MessageTooLarge {
                size: 32,
                max: 31,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.code(), "ERR_MESSAGE_TOO_LARGE");
    let info = w.info().rings[0];
    assert_eq!(
        (info.reader_index, info.writer_index),
        (-1, 0),
        "indexes unchanged"
    );
    assert!(w.append(RingId::Events, b"after").unwrap());
    let mut r = reader(&path);
    assert_eq!(
        read_all(&mut r, RingId::Events),
        vec![b"before".to_vec(), b"after".to_vec()]
    );
    assert_eq!(r.stats(RingId::Events).skipped_uncommitted, 0);
}

#[test]
fn uncommitted_claim_is_skipped_after_the_timeout_but_not_before() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &small_config(8, 32, 64)).unwrap();
    assert!(w.append(RingId::Spans, b"a").unwrap());
    assert_eq!(w.claim_without_commit(RingId::Spans), Some(1));
    assert!(w.append(RingId::Spans, b"c").unwrap());
    let timeout = Duration::from_millis(300);
    let mut r = Reader::open(
        &path,
        ReaderConfig {
            uncommitted_timeout: timeout,
            ..ReaderConfig::default()
        },
    )
    .unwrap();
    let first_seen = Instant::now();
    assert_eq!(
        read_all(&mut r, RingId::Spans),
        vec![b"a".to_vec()],
        "stops at the uncommitted slot"
    );
    std::thread::sleep(Duration::from_millis(50));
    let early = read_all(&mut r, RingId::Spans);
    if first_seen.elapsed() < timeout {
        assert!(early.is_empty(), "not skipped before the timeout");
        assert_eq!(r.stats(RingId::Spans).skipped_uncommitted, 0);
        assert_eq!(r.info().rings[1].reader_index, 0);
    }
    std::thread::sleep(timeout);
    assert_eq!(
        read_all(&mut r, RingId::Spans),
        vec![b"c".to_vec()],
        "skips, then reads what follows"
    );
    assert_eq!(r.stats(RingId::Spans).skipped_uncommitted, 1);
    assert_eq!(r.info().rings[1].reader_index, 2);
}

#[test]
fn slot_with_invalid_length_prefix_is_skipped_and_counted() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &small_config(8, 32, 64)).unwrap();
    for m in [&b"one"[..], b"two", b"three"] {
        assert!(w.append(RingId::Events, m).unwrap());
    }
    let g = w.layout().rings[0];
    pwrite(&path, g.slot_offset(0), &[0xFF; 10]); // unterminated varint
    pwrite(&path, g.slot_offset(1), &[32]); // 32 bytes do not fit after a 1-byte prefix in 32
    let mut r = reader(&path);
    assert_eq!(read_all(&mut r, RingId::Events), vec![b"three".to_vec()]);
    assert_eq!(r.stats(RingId::Events).corrupt, 2);
    assert_eq!(
        r.info().rings[0].reader_index,
        2,
        "corrupt slots are consumed"
    );
}

#[test]
fn reader_resumes_from_the_reader_index_stored_in_the_file() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &small_config(8, 32, 64)).unwrap();
    for i in 0..5u8 {
        assert!(w.append(RingId::Events, &[i]).unwrap());
    }
    {
        let mut r = reader(&path);
        let mut out = Vec::new();
        assert_eq!(
            r.read_batch(RingId::Events, 2, usize::MAX, &mut out)
                .unwrap(),
            2
        );
        assert_eq!(split(&out), vec![vec![0], vec![1]]);
    }
    let mut r = reader(&path);
    assert_eq!(r.info().rings[0].reader_index, 1);
    assert_eq!(
        read_all(&mut r, RingId::Events),
        vec![vec![2], vec![3], vec![4]]
    );
}

#[test]
fn lap_is_stored_from_the_full_64_bit_index_beyond_2_pow_32() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &small_config(4, 32, 64)).unwrap();
    let start: i64 = (1 << 33) - 3;
    w.set_indexes_for_test(RingId::Events, start);
    let g = w.layout().rings[0];
    let mut r = reader(&path);
    let mut expected_all = Vec::new();
    for k in 0..10i64 {
        let msg = k.to_le_bytes();
        assert!(w.append(RingId::Events, &msg).unwrap());
        let index = start + 1 + k;
        let slot = (index as u64) & 3;
        // The formula of FORMAT.md, computed independently of ring::lap.
        let expected_lap = (((index as u64) >> 2) & 0xFFFF_FFFF) as u32 as i32;
        assert_eq!(
            pread_i32(&path, g.availability_offset(slot)),
            expected_lap,
            "index {index}"
        );
        assert_eq!(lap(index, 2), expected_lap);
        expected_all.push(msg.to_vec());
        assert_eq!(read_all(&mut r, RingId::Events), vec![msg.to_vec()]);
    }
    assert_eq!(r.info().rings[0].reader_index, start + 10);
    assert_eq!(expected_all.len(), 10);
}

/// Commits `message` to index `index` of the events ring (claimed already)
/// with availability value `lap_value`, through the file, as another
/// program's writer would.
fn commit_through_file(path: &Path, w: &Writer, index: i64, message: &[u8], lap_value: i32) {
    let g = w.layout().rings[0];
    let slot = (index as u64) & (g.num_buffers - 1);
    let mut framed = Vec::new();
    varint::push(message.len() as u64, &mut framed);
    framed.extend_from_slice(message);
    pwrite(path, g.slot_offset(slot), &framed);
    pwrite(path, g.availability_offset(slot), &lap_value.to_le_bytes());
}

/// The lap a writer that truncates the index to 32 bits before shifting
/// stores (FORMAT.md 7.9), computed independently of the ring module.
fn lap_from_32_bit_index(index: i64, shift: u32) -> i32 {
    ((index as u64 as u32) >> shift) as i32
}

#[test]
fn slots_committed_with_the_lap_of_a_32_bit_index_are_read_across_2_pow_32_and_counted() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &small_config(4, 32, 64)).unwrap();
    // The first message takes index 2^32 - 8.
    let start: i64 = (1 << 32) - 9;
    w.set_indexes_for_test(RingId::Events, start);
    let mut r = reader(&path);
    let mut got = Vec::new();
    for k in 0..24i64 {
        let index = w.claim_without_commit(RingId::Events).unwrap();
        assert_eq!(index, start + 1 + k);
        commit_through_file(
            &path,
            &w,
            index,
            &k.to_le_bytes(),
            lap_from_32_bit_index(index, 2),
        );
        got.extend(read_all(&mut r, RingId::Events));
    }
    let expected: Vec<Vec<u8>> = (0..24i64).map(|k| k.to_le_bytes().to_vec()).collect();
    assert_eq!(got, expected, "every message, in order");
    let s = r.stats(RingId::Events);
    // Indexes 2^32 .. 2^32 + 15 are where the two laps differ.
    assert_eq!(s.lap32_committed, 16);
    assert_eq!((s.read, s.skipped_uncommitted, s.corrupt), (24, 0, 0));
}

#[test]
fn a_ring_written_with_both_laps_past_2_pow_32_loses_nothing_and_counts_only_the_32_bit_ones() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &small_config(8, 32, 64)).unwrap();
    let start: i64 = (1 << 32) - 9;
    w.set_indexes_for_test(RingId::Events, start);
    let mut r = reader(&path);
    let mut got = Vec::new();
    let mut truncated = 0;
    for k in 0..40i64 {
        if k % 3 == 0 {
            let index = w.claim_without_commit(RingId::Events).unwrap();
            commit_through_file(
                &path,
                &w,
                index,
                &k.to_le_bytes(),
                lap_from_32_bit_index(index, 3),
            );
            truncated += u64::from(index >= 1 << 32);
        } else {
            assert!(w.append(RingId::Events, &k.to_le_bytes()).unwrap());
        }
        if k % 5 == 4 {
            got.extend(read_all(&mut r, RingId::Events));
        }
    }
    got.extend(read_all(&mut r, RingId::Events));
    let expected: Vec<Vec<u8>> = (0..40i64).map(|k| k.to_le_bytes().to_vec()).collect();
    assert_eq!(got, expected);
    let s = r.stats(RingId::Events);
    assert_eq!(s.lap32_committed, truncated);
    assert_eq!(s.skipped_uncommitted, 0);
}

#[test]
fn a_stale_slot_of_the_previous_lap_is_not_read_as_committed_by_either_rule_past_2_pow_32() {
    // The slot of the next index holds what each kind of writer left for
    // the previous lap; the index is claimed but not committed: the reader
    // waits, then skips it as uncommitted, and never returns the old bytes.
    for truncating_writer in [false, true] {
        let dir = TempDir::new();
        let path = dir.file("f");
        let w = Writer::create(&path, &small_config(4, 32, 64)).unwrap();
        let start: i64 = (1 << 32) + 2;
        w.set_indexes_for_test(RingId::Events, start);
        let mut r = Reader::open(
            &path,
            ReaderConfig {
                uncommitted_timeout: Duration::from_millis(50),
                ..ReaderConfig::default()
            },
        )
        .unwrap();
        let next = start + 1;
        let previous = next - 4;
        let left = if truncating_writer {
            lap_from_32_bit_index(previous, 2)
        } else {
            lap(previous, 2)
        };
        commit_through_file(&path, &w, next, b"stale", left);
        assert_eq!(w.claim_without_commit(RingId::Events), Some(next));
        assert!(read_all(&mut r, RingId::Events).is_empty());
        std::thread::sleep(Duration::from_millis(80));
        assert!(read_all(&mut r, RingId::Events).is_empty());
        let s = r.stats(RingId::Events);
        assert_eq!(
            (s.read, s.lap32_committed, s.skipped_uncommitted),
            (0, 0, 1)
        );
    }
}

#[test]
fn eight_producers_and_one_reader_deliver_every_message_exactly_once() {
    const THREADS: u32 = 8;
    const PER_THREAD: u32 = 100_000;
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Arc::new(Writer::create(&path, &small_config(64, 32, 64)).unwrap());
    let mut r = reader(&path);
    let done = Arc::new(AtomicUsize::new(0));
    let abort = Arc::new(AtomicBool::new(false));
    let _abort_on_exit = SetOnDrop(Arc::clone(&abort));
    let producers: Vec<_> = (0..THREADS)
        .map(|t| {
            let w = Arc::clone(&w);
            let done = Arc::clone(&done);
            let abort = Arc::clone(&abort);
            std::thread::spawn(move || {
                for seq in 0..PER_THREAD {
                    // (thread, seq) and a length that varies with seq.
                    let mut msg = [0u8; 16];
                    msg[..4].copy_from_slice(&t.to_le_bytes());
                    msg[4..8].copy_from_slice(&seq.to_le_bytes());
                    let len = 8 + (seq % 9) as usize;
                    for (i, b) in msg[8..len].iter_mut().enumerate() {
                        *b = (t as u8) ^ (seq as u8) ^ i as u8;
                    }
                    while !w.append(RingId::Spans, &msg[..len]).unwrap() {
                        if abort.load(Ordering::Acquire) {
                            return;
                        }
                        std::thread::yield_now();
                    }
                }
                done.fetch_add(1, Ordering::Release);
            })
        })
        .collect();
    let mut next = vec![0u32; THREADS as usize];
    let mut total = 0u64;
    let mut out = Vec::new();
    loop {
        out.clear();
        let n = r
            .read_batch(RingId::Spans, 256, usize::MAX, &mut out)
            .unwrap();
        for m in split(&out) {
            assert!((8..=16).contains(&m.len()), "length {}", m.len());
            let t = u32::from_le_bytes(m[..4].try_into().unwrap());
            let seq = u32::from_le_bytes(m[4..8].try_into().unwrap());
            assert!(t < THREADS);
            assert_eq!(
                seq, next[t as usize],
                "thread {t}: messages in order, none lost or repeated"
            );
            assert_eq!(m.len(), 8 + (seq % 9) as usize);
            for (i, b) in m[8..].iter().enumerate() {
                assert_eq!(*b, (t as u8) ^ (seq as u8) ^ i as u8, "payload intact");
            }
            next[t as usize] += 1;
            total += 1;
        }
        if n == 0 {
            if done.load(Ordering::Acquire) == THREADS as usize
                && r.read_batch(RingId::Spans, 1, usize::MAX, &mut out)
                    .unwrap()
                    == 0
            {
                break;
            }
            std::thread::yield_now();
        }
    }
    for p in producers {
        p.join().unwrap();
    }
    assert_eq!(total, u64::from(THREADS * PER_THREAD));
    assert!(next.iter().all(|&n| n == PER_THREAD));
    let s = r.stats(RingId::Spans);
    assert_eq!((s.corrupt, s.skipped_uncommitted), (0, 0));
}

// ------------------------------------------------------------------ dictionary

#[test]
fn intern_deduplicates_and_add_entry_does_not() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &small_config(2, 16, 64)).unwrap();
    let a = w.intern(b"service.name").unwrap();
    assert_eq!(w.intern(b"service.name").unwrap(), a);
    let b = w.intern(b"other").unwrap();
    assert_ne!(a, b);
    let c = w.add_entry(b"service.name").unwrap();
    assert_ne!(a, c);
    assert_eq!(w.info().dictionary.num_entries, 3);
    let r = reader(&path);
    assert_eq!(r.entry(a).unwrap(), b"service.name");
    assert_eq!(r.entry(c).unwrap(), b"service.name");
    assert_eq!(r.entry(0).unwrap(), b"");
}

#[test]
fn entries_larger_than_the_initial_dictionary_and_over_1_mib_work() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &small_config(2, 16, 64)).unwrap();
    let medium: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    let large: Vec<u8> = (0..3_000_000u32).map(|i| (i % 253) as u8).collect();
    let m = w.add_entry(&medium).unwrap();
    let l = w.add_entry(&large).unwrap();
    let after = w.add_entry(b"tail").unwrap();
    let r = reader(&path);
    assert_eq!(r.entry(m).unwrap(), medium);
    assert_eq!(r.entry(l).unwrap(), large);
    assert_eq!(r.entry(after).unwrap(), b"tail");
    assert!(std::fs::metadata(&path).unwrap().len() >= after as u64 + 5);
}

/// A written dictionary entry: its reference and bytes.
type Entry = (i64, Vec<u8>);

#[test]
fn dictionary_grows_concurrently_while_other_threads_read_entries() {
    let dir = TempDir::new();
    let mut file_growths = 0;
    let mut checked_while_growing = 0;
    for round in 0..20 {
        let path = dir.file(&format!("f{round}"));
        let w = Arc::new(Writer::create(&path, &small_config(2, 16, 64)).unwrap());
        let r = Arc::new(reader(&path));
        let written: Arc<Mutex<Vec<Entry>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let checkers: Vec<_> = (0..2)
            .map(|_| {
                let (r, written, stop) = (Arc::clone(&r), Arc::clone(&written), Arc::clone(&stop));
                std::thread::spawn(move || {
                    let mut checked = 0usize;
                    let mut i = 0usize;
                    while !stop.load(Ordering::Acquire) {
                        let item = {
                            let list = written.lock().unwrap();
                            if list.is_empty() {
                                None
                            } else {
                                Some(list[i % list.len()].clone())
                            }
                        };
                        if let Some((reference, bytes)) = item {
                            assert_eq!(
                                r.entry(reference).unwrap(),
                                bytes,
                                "entry {reference} intact"
                            );
                            checked += 1;
                        }
                        i = i.wrapping_mul(31).wrapping_add(7);
                    }
                    checked
                })
            })
            .collect();
        let sizes_seen = Arc::new(Mutex::new(std::collections::BTreeSet::new()));
        let writers: Vec<_> = (0..4u32)
            .map(|t| {
                let (w, written, path, sizes) = (
                    Arc::clone(&w),
                    Arc::clone(&written),
                    path.clone(),
                    Arc::clone(&sizes_seen),
                );
                std::thread::spawn(move || {
                    for i in 0..400u32 {
                        let len = ((i * 37 + t * 101) % 2000) as usize;
                        let bytes: Vec<u8> = (0..len).map(|k| (k as u32 ^ i ^ t) as u8).collect();
                        let reference = w.add_entry(&bytes).unwrap();
                        written.lock().unwrap().push((reference, bytes));
                        sizes
                            .lock()
                            .unwrap()
                            .insert(std::fs::metadata(&path).unwrap().len());
                    }
                })
            })
            .collect();
        for t in writers {
            t.join().unwrap();
        }
        stop.store(true, Ordering::Release);
        checked_while_growing += checkers
            .into_iter()
            .map(|c| c.join().unwrap())
            .sum::<usize>();
        for (reference, bytes) in written.lock().unwrap().iter() {
            assert_eq!(&r.entry(*reference).unwrap(), bytes);
        }
        assert_eq!(w.info().dictionary.num_entries, 1600);
        file_growths += sizes_seen.lock().unwrap().len() - 1;
    }
    assert!(file_growths >= 100, "the file grew {file_growths} times");
    assert!(checked_while_growing > 0, "readers ran during growth");
}

#[test]
fn dictionary_full_at_the_reservation() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let cfg = WriterConfig {
        max_file_size: 64 * 1024,
        ..small_config(2, 16, 64)
    };
    let w = Writer::create(&path, &cfg).unwrap();
    let end_before = w.info().dictionary.end;
    let err = w.add_entry(&vec![1u8; 100_000]).unwrap_err();
    assert!(matches!(err, Error::DictionaryFull { .. }), "{err}");
    assert_eq!(err.code(), "ERR_DICTIONARY_FULL");
    assert_eq!(
        w.info().dictionary.end,
        end_before,
        "a refused entry reserves nothing"
    );
    let ok = w.add_entry(b"small").unwrap();
    assert_eq!(reader(&path).entry(ok).unwrap(), b"small");
}

#[test]
fn bad_references_are_errors_not_panics() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &small_config(2, 16, 256)).unwrap();
    let good = w.add_entry(b"hello").unwrap();
    let d = w.layout().dictionary_offset as i64;
    let r = reader(&path);
    for bad in [
        -1,
        1,
        d,
        d + 63,
        good + 6,
        good + 1_000_000,
        i64::MAX,
        i64::MIN,
    ] {
        let err = r.entry(bad).unwrap_err();
        assert!(matches!(err, Error::BadReference { .. }), "{bad}: {err}");
    }
    // An entry whose prefix claims more than the dictionary holds.
    let victim = w.add_entry(b"x").unwrap();
    pwrite(&path, victim as u64, &[0xFF, 0xFF, 0xFF, 0x7F]);
    assert!(matches!(r.entry(victim), Err(Error::BadReference { .. })));
    // A prefix that is not a varint at all.
    let victim = w.add_entry(&[0u8; 12]).unwrap();
    pwrite(&path, victim as u64, &[0xFF; 11]);
    assert!(matches!(r.entry(victim), Err(Error::BadReference { .. })));
    // An entry above the size cap.
    let capped = Reader::open(
        &path,
        ReaderConfig {
            max_entry_size: 3,
            ..ReaderConfig::default()
        },
    )
    .unwrap();
    assert!(matches!(
        capped.entry(good),
        Err(Error::BadReference { .. })
    ));
    // Not UTF-8.
    let bin = w.add_entry(&[0xC3, 0x28]).unwrap();
    use crate::Dictionary;
    assert!(matches!(r.string(bin), Err(Error::BadReference { .. })));
    assert_eq!(r.string(good).unwrap(), "hello");
}

#[test]
fn value_ref_resolves_through_a_file_dictionary() {
    use crate::proto::{any_value, AnyValue, ArrayValue};
    use prost::Message;
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &small_config(2, 16, 64)).unwrap();
    let inner = AnyValue {
        value: Some(any_value::Value::ArrayValue(ArrayValue {
            values: vec![AnyValue {
                value: Some(any_value::Value::IntValue(5)),
            }],
        })),
    };
    let reference = w.add_entry(&inner.encode_to_vec()).unwrap();
    let r = reader(&path);
    let outer = AnyValue {
        value: Some(any_value::Value::ValueRef(reference)),
    };
    assert_eq!(
        crate::value::resolve(&outer, &r).unwrap(),
        crate::Value::Array(vec![crate::Value::Int(5)])
    );
}

// ------------------------------------------------------------------ validation

fn valid_file(dir: &TempDir, name: &str) -> (PathBuf, crate::layout::Layout) {
    let path = dir.file(name);
    let w = Writer::create(&path, &small_config(4, 32, 128)).unwrap();
    (path, *w.layout())
}

fn open_err(path: &Path) -> Error {
    match Reader::open(path, ReaderConfig::default()) {
        Ok(_) => panic!("{} was accepted", path.display()),
        Err(e) => e,
    }
}

fn assert_invalid(path: &Path, check: &str) {
    match open_err(path) {
        Error::InvalidFile { check: c } => {
            assert!(c.contains(check), "expected '{check}', got '{c}'")
        }
        other => panic!("expected InvalidFile({check}), got {other}"),
    }
    assert!(Writer::attach(path, None).is_err(), "attach validates too");
}

#[test]
fn unsupported_versions_are_rejected_naming_the_version() {
    let dir = TempDir::new();
    for version in [0i64, 2, -1, 0x7766_5544_3322_1100] {
        let (path, _) = valid_file(&dir, &format!("v{version}"));
        pwrite(&path, 0, &version.to_le_bytes());
        let err = open_err(&path);
        assert!(
            matches!(err, Error::UnsupportedVersion { found } if found == version),
            "{err}"
        );
        assert!(err.to_string().contains(&version.to_string()));
        assert_eq!(err.code(), "ERR_VERSION");
    }
    let garbage = dir.file("garbage");
    let bytes: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&garbage, bytes).unwrap();
    assert!(matches!(
        open_err(&garbage),
        Error::UnsupportedVersion { .. }
    ));
}

#[test]
fn truncated_and_tiny_files_are_rejected() {
    let dir = TempDir::new();
    let tiny = dir.file("tiny");
    std::fs::write(&tiny, [1u8, 0, 0, 0, 0, 0, 0, 0]).unwrap();
    assert_invalid(&tiny, "smaller than the 64-byte header");
    let (path, l) = valid_file(&dir, "trunc");
    OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(l.dictionary_offset + 10)
        .unwrap();
    assert_invalid(&path, "dictionary header");
    let (path, l) = valid_file(&dir, "trunc2");
    OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(l.rings[2].offset + 8)
        .unwrap();
    assert_invalid(&path, "outside the file");
}

#[test]
fn hostile_section_offsets_are_rejected() {
    let dir = TempDir::new();
    let (path, l) = valid_file(&dir, "past");
    pwrite(&path, 16, &(1i64 << 40).to_le_bytes());
    assert_invalid(&path, "spans offset");

    let (path, _) = valid_file(&dir, "neg");
    pwrite(&path, 24, &(-64i64).to_le_bytes());
    assert_invalid(&path, "negative");

    let (path, l2) = valid_file(&dir, "misaligned");
    pwrite(&path, 32, &(l2.dictionary_offset as i64 + 4).to_le_bytes());
    assert_invalid(&path, "not 8-byte aligned");

    let (path, _) = valid_file(&dir, "overlap");
    pwrite(&path, 16, &(l.rings[0].offset as i64).to_le_bytes());
    assert_invalid(&path, "overlaps");

    let (path, _) = valid_file(&dir, "header-overlap");
    pwrite(&path, 8, &(8i64).to_le_bytes());
    assert_invalid(&path, "overlaps");

    let (path, _) = valid_file(&dir, "order");
    pwrite(&path, 32, &(l.rings[1].offset as i64).to_le_bytes());
    assert_invalid(&path, "overlaps");

    let (path, _) = valid_file(&dir, "gap");
    pwrite(&path, 24, &(l.rings[2].offset as i64 + 8).to_le_bytes());
    assert_invalid(&path, "does not equal");
}

#[test]
fn hostile_ring_headers_are_rejected() {
    let dir = TempDir::new();
    let cases: [(&str, u64, i64, &str); 6] = [
        ("huge", 0, 1 << 62, "does not equal"),
        ("max", 0, i64::MAX, "power of two"),
        ("npot", 0, 3, "power of two"),
        ("zero", 0, 0, "power of two"),
        ("bs0", 8, 0, "not positive"),
        ("bshuge", 8, i64::MAX, "does not equal"),
    ];
    for (name, field, value, check) in cases {
        let (path, l) = valid_file(&dir, name);
        pwrite(&path, l.rings[1].offset + field, &value.to_le_bytes());
        assert_invalid(&path, check);
    }
    let (path, l) = valid_file(&dir, "resized");
    pwrite(&path, l.rings[0].offset, &8i64.to_le_bytes());
    assert_invalid(&path, "does not equal");
}

#[test]
fn hostile_dictionary_end_is_rejected() {
    let dir = TempDir::new();
    let (path, l) = valid_file(&dir, "end-low");
    pwrite(
        &path,
        l.dictionary_offset,
        &(l.dictionary_offset as i64).to_le_bytes(),
    );
    assert_invalid(&path, "dictionary end");
    let (path, l) = valid_file(&dir, "end-high");
    pwrite(&path, l.dictionary_offset, &(1i64 << 50).to_le_bytes());
    assert_invalid(&path, "dictionary end");
    let (path, l) = valid_file(&dir, "end-neg");
    pwrite(&path, l.dictionary_offset, &(-1i64).to_le_bytes());
    assert_invalid(&path, "dictionary end");
}

// ------------------------------------------------------------------ processes

const CHILD_PATH: &str = "OTLP_MMAP_TEST_CHILD_PATH";
const CHILD_ID: &str = "OTLP_MMAP_TEST_CHILD_ID";
const CHILD_MESSAGES: u32 = 20_000;

/// Body of a child process of `writers_in_several_processes_share_one_file`
/// (does nothing when run directly).
#[test]
#[ignore = "run as a child process by writers_in_several_processes_share_one_file"]
fn child_process_writer() {
    let (Some(path), Some(id)) = (std::env::var_os(CHILD_PATH), std::env::var(CHILD_ID).ok())
    else {
        return;
    };
    let id: u32 = id.parse().unwrap();
    let w = Writer::attach(&path, None).unwrap();
    let name = w.intern(format!("child-{id}").as_bytes()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    for seq in 0..CHILD_MESSAGES {
        let mut msg = [0u8; 16];
        msg[..4].copy_from_slice(&id.to_le_bytes());
        msg[4..8].copy_from_slice(&seq.to_le_bytes());
        msg[8..].copy_from_slice(&name.to_le_bytes());
        while !w.append(RingId::Events, &msg).unwrap() {
            assert!(Instant::now() < deadline, "the parent stopped reading");
            std::thread::yield_now();
        }
    }
}

#[test]
fn writers_in_several_processes_share_one_file() {
    const CHILDREN: u32 = 3;
    let dir = TempDir::new();
    let path = dir.file("f");
    let _w = Writer::create(&path, &small_config(32, 32, 64)).unwrap();
    let mut r = reader(&path);
    let exe = std::env::current_exe().unwrap();
    /// Kills the children if the parent's assertions fail.
    struct Children(Vec<std::process::Child>);
    impl Drop for Children {
        fn drop(&mut self) {
            for c in &mut self.0 {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
    let mut children = Children(
        (0..CHILDREN)
            .map(|id| {
                std::process::Command::new(&exe)
                    .args([
                        "--exact",
                        "tests::child_process_writer",
                        "--ignored",
                        "--test-threads=1",
                        "-q",
                    ])
                    .env(CHILD_PATH, &path)
                    .env(CHILD_ID, id.to_string())
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect(),
    );
    let mut next = vec![0u32; CHILDREN as usize];
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut out = Vec::new();
    while next.iter().any(|&n| n < CHILD_MESSAGES) {
        assert!(Instant::now() < deadline, "children delivered {next:?}");
        out.clear();
        if r.read_batch(RingId::Events, 256, usize::MAX, &mut out)
            .unwrap()
            == 0
        {
            std::thread::yield_now();
            continue;
        }
        for m in split(&out) {
            let id = u32::from_le_bytes(m[..4].try_into().unwrap());
            let seq = u32::from_le_bytes(m[4..8].try_into().unwrap());
            let name = i64::from_le_bytes(m[8..16].try_into().unwrap());
            assert_eq!(
                seq, next[id as usize],
                "child {id}: every message once, in order"
            );
            next[id as usize] += 1;
            if seq == 0 {
                assert_eq!(r.entry(name).unwrap(), format!("child-{id}").as_bytes());
            }
        }
    }
    for c in &mut children.0 {
        assert!(c.wait().unwrap().success());
    }
    assert_eq!(r.stats(RingId::Events).corrupt, 0);
    assert_eq!(r.info().dictionary.num_entries, i64::from(CHILDREN));
}

// ------------------------------------------------------------------ garbage

/// A small deterministic pseudo-random generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

#[test]
fn garbage_slots_are_counted_and_the_output_stays_well_framed() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &small_config(64, 24, 64)).unwrap();
    let g = w.layout().rings[0];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut corrupt = 0;
    for round in 0..20 {
        for _ in 0..63 {
            assert!(w.append(RingId::Events, b"ok").unwrap());
        }
        for slot in 0..64 {
            if rng.next() & 1 == 0 {
                pwrite(&path, g.slot_offset(slot), &rng.bytes(24));
            }
        }
        let mut r = reader(&path);
        let mut out = Vec::new();
        let n = r
            .read_batch(RingId::Events, usize::MAX, usize::MAX, &mut out)
            .unwrap();
        let messages = split(&out);
        assert_eq!(messages.len(), n, "round {round}");
        assert!(messages.iter().all(|m| m.len() <= 23));
        let s = r.stats(RingId::Events);
        assert_eq!(
            s.read + s.corrupt,
            63,
            "every committed slot is consumed once"
        );
        corrupt += s.corrupt;
    }
    assert!(corrupt > 0, "garbage was detected");
}

#[test]
fn garbage_dictionary_never_panics_the_reader() {
    let dir = TempDir::new();
    let path = dir.file("f");
    let w = Writer::create(&path, &small_config(2, 16, 4096)).unwrap();
    let d = w.layout().dictionary_offset;
    let mut rng = Rng(42);
    // Reserve the whole dictionary, then fill it with garbage.
    let filler = w.add_entry(&vec![0u8; 4000]).unwrap();
    pwrite(&path, filler as u64, &rng.bytes(4000));
    let r = reader(&path);
    let end = r.info().dictionary.end;
    let mut ok = 0;
    for reference in (d as i64 - 8)..end + 16 {
        match r.entry(reference) {
            Ok(bytes) => {
                assert!(reference as u64 + bytes.len() as u64 <= end as u64);
                ok += 1;
            }
            Err(e) => assert!(matches!(e, Error::BadReference { .. }), "{e}"),
        }
        if let Ok(any) = r.entry(reference) {
            use prost::Message;
            if let Ok(value) = crate::proto::AnyValue::decode(any.as_slice()) {
                let _ = crate::value::resolve(&value, &r);
            }
        }
    }
    assert!(ok > 0, "some offsets happen to frame valid entries");
}

#[test]
fn prefetch_hints_never_fault_or_change_bytes_anywhere_in_or_past_the_mapping() {
    let dir = TempDir::new();
    let path = dir.file("prefetch.bin");
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    file.set_len(8192).unwrap();
    file.write_all_at(&[7u8; 8192], 0).unwrap();
    let region = crate::region::Region::map(&file, 8192, true).unwrap();
    for (offset, len) in [
        (0, 512),
        (8191, 512),
        (8192, 64),
        (8000, u64::MAX),
        (u64::MAX - 8, 64),
        (4096, 0),
    ] {
        region.prefetch_for_write(offset, len);
    }
    let mut back = [0u8; 8192];
    region.copy_out(0, &mut back);
    assert!(back.iter().all(|&b| b == 7));
}
