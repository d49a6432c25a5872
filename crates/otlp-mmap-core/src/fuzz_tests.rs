//! The stable-Rust side of the reader's fuzzing (the coverage-guided side
//! is `cargo fuzz`, see `fuzz/README.md`): every seed and every regression
//! input is replayed on each `cargo test`, and an ignored test runs a
//! time-bounded random-mutation loop over them (the test command runs it
//! for `OTLP_MMAP_FUZZ_SECONDS`, default 20). A failing input is written
//! to `target/fuzz-findings/` and named in the failure.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::fuzzing;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// Every file of `fuzz/<kind>/reader`.
fn inputs(kind: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = fuzz_dir().join(kind).join("reader");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files
        .into_iter()
        .filter(|p| {
            p.is_file()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

/// Runs `input`; on a panic, saves it and fails naming the file.
fn run_or_save(input: &[u8], what: &str) {
    if catch_unwind(AssertUnwindSafe(|| fuzzing::run(input))).is_ok() {
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/fuzz-findings");
    std::fs::create_dir_all(&dir).unwrap();
    let hash = input.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let path = dir.join(format!("reader-{hash:016x}"));
    std::fs::write(&path, input).unwrap();
    panic!(
        "{what} failed; input saved to {} (replay: copy it into crates/otlp-mmap-core/fuzz/regressions/reader/ and run cargo test -p otlp-mmap-core fuzz_)",
        path.display()
    );
}

#[test]
fn fuzz_seeds_and_regressions_replay_without_a_failure() {
    let seeds = inputs("seeds");
    assert!(!seeds.is_empty(), "the seed corpus is in the repository");
    for (path, input) in seeds.iter().chain(&inputs("regressions")) {
        run_or_save(input, &path.display().to_string());
    }
    fuzzing::remove_files();
}

/// xorshift64*: enough randomness for mutations, reproducible from a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A mutation of `base`: more edits of the template, or bytes changed.
fn mutate(base: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut input = base.to_vec();
    if input.is_empty() {
        input.push(1);
    }
    let template_len = fuzzing::template().len();
    match rng.below(4) {
        // Edits of the template: offsets anywhere, values from the edge
        // tables (picks below the table sizes) or random.
        0 | 1 if input[0] & 1 == 1 => {
            for _ in 0..1 + rng.below(4) {
                let op = rng.below(4) as u8;
                let offset = (rng.below(template_len + 16) as u16).to_le_bytes();
                input.extend_from_slice(&[op, offset[0], offset[1]]);
                match op {
                    0 => {
                        let n = rng.below(9);
                        input.push(n as u8);
                        input.extend((0..n).map(|_| rng.next() as u8));
                    }
                    1 | 2 => {
                        input.push(rng.below(20) as u8);
                        input.extend((0..8).map(|_| rng.next() as u8));
                    }
                    _ => {}
                }
            }
        }
        // Byte changes anywhere (in a whole file: the header too).
        _ => {
            for _ in 0..1 + rng.below(8) {
                let at = 1 + rng.below(input.len().saturating_sub(1).max(1));
                if at < input.len() {
                    input[at] = match rng.below(4) {
                        0 => 0,
                        1 => 0xFF,
                        _ => rng.next() as u8,
                    };
                }
            }
            if rng.below(16) == 0 {
                let keep = rng.below(input.len() + 1).max(1);
                input.truncate(keep);
            }
        }
    }
    input
}

#[test]
#[ignore = "time-bounded random mutations: run by scripts/test.sh and npm run fuzz"]
fn fuzz_random_mutations_for_a_bounded_time() {
    let seconds: u64 = std::env::var("OTLP_MMAP_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("OTLP_MMAP_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
                | 1
        });
    let mut rng = Rng(seed);
    let mut pool: Vec<Vec<u8>> = inputs("seeds")
        .into_iter()
        .chain(inputs("regressions"))
        .map(|(_, b)| b)
        .collect();
    assert!(!pool.is_empty());
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut runs = 0u64;
    while Instant::now() < deadline {
        for _ in 0..64 {
            let base = &pool[rng.below(pool.len())];
            let input = mutate(base, &mut rng);
            run_or_save(&input, &format!("mutation (seed {seed}, run {runs})"));
            runs += 1;
            // Keep some mutants as bases: edits then accumulate.
            if rng.below(32) == 0 && pool.len() < 4096 {
                pool.push(input);
            }
        }
    }
    eprintln!("reader fuzz: {runs} inputs in {seconds} s, seed {seed}, no failure");
    fuzzing::remove_files();
}

/// Writes the seed corpus (run once by hand when the template changes:
/// `cargo test -p otlp-mmap-core write_fuzz_seeds -- --ignored`).
#[test]
#[ignore = "writes fuzz/seeds/reader"]
fn write_fuzz_seeds() {
    let dir = fuzz_dir().join("seeds").join("reader");
    std::fs::create_dir_all(&dir).unwrap();
    let template = fuzzing::template();
    let mut whole = vec![0u8];
    whole.extend_from_slice(template);
    // Offsets of the events ring's indexes, from the template's header.
    let events = i64::from_le_bytes(template[8..16].try_into().unwrap()) as u16;
    let edit = |op: u8, offset: u16, pick: u8| {
        let o = offset.to_le_bytes();
        vec![op, o[0], o[1], pick]
    };
    let mut seeds: Vec<(&str, Vec<u8>)> = vec![
        ("whole-template", whole),
        ("template", vec![1]),
        ("empty", vec![0]),
    ];
    // reader_index far ahead, writer_index far ahead, both at the edges.
    let mut r_ahead = vec![1];
    r_ahead.extend(edit(1, events + 16, 9));
    seeds.push(("reader-index-max", r_ahead));
    let mut w_ahead = vec![1];
    w_ahead.extend(edit(1, events + 24, 10));
    seeds.push(("writer-index-2-pow-62", w_ahead));
    let mut below = vec![1];
    below.extend(edit(1, events + 16, 8));
    below.extend(edit(1, events + 24, 3));
    seeds.push(("indexes-below-minus-one", below));
    for (name, bytes) in seeds {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    fuzzing::remove_files();
}
