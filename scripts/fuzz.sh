#!/usr/bin/env bash
# Fuzzes the core's reader for longer than the test command does.
#
# With cargo-fuzz and a nightly toolchain: coverage-guided libFuzzer on the
# `reader` target (crates/otlp-mmap-core/fuzz), for FUZZ_SECONDS (default
# 600). New corpus entries go to fuzz/corpus/reader (not committed), crashes
# to fuzz/artifacts/reader: copy a crash into fuzz/regressions/reader/ and it
# is replayed by every `cargo test` from then on.
#
# Without them: says so, and runs the stable-Rust random-mutation loop (the
# one the test command runs for 20 s) for FUZZ_SECONDS instead.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-600}"
if cargo fuzz --version >/dev/null 2>&1 && cargo +nightly --version >/dev/null 2>&1; then
  cd crates/otlp-mmap-core
  mkdir -p fuzz/corpus/reader
  exec cargo +nightly fuzz run reader fuzz/corpus/reader fuzz/seeds/reader fuzz/regressions/reader -- \
    -max_total_time="$seconds" -max_len=8192 -timeout=10 -print_final_stats=1
fi
echo "fuzz: cargo-fuzz or the nightly toolchain is missing (cargo install cargo-fuzz; rustup toolchain install nightly)." >&2
echo "fuzz: running the stable-Rust random-mutation loop for ${seconds} s instead (not coverage-guided)." >&2
OTLP_MMAP_FUZZ_SECONDS="$seconds" exec cargo test -p otlp-mmap-core --release --lib \
  fuzz_random_mutations_for_a_bounded_time -- --ignored --nocapture
