#!/usr/bin/env bash
# The test command: installs every dependency, runs the linters
# (scripts/lint.sh: Biome, rustfmt, clippy; zero findings), builds the native
# binding and the TypeScript packages, checks generated code is fresh, then
# runs the Rust tests (the loom models of the rings included), a 20 s
# bounded fuzz run of the core's reader, the ava suite (a bounded Node fuzz
# of the collector included), and the package tests (tests/install: every
# package packed, installed with npm outside the workspace and run end to
# end, and the binding built from the sources shipped in @otlp-mmap/native).
# Needs only Node.js 20, npm, a stable Rust toolchain with rustfmt and
# clippy, Go 1.26+ with the Go module proxy (tests/collector/real-otelcol.test.ts
# builds an OpenTelemetry Collector from its modules, minutes the first time,
# then cached) and openssl (the TLS tests make their certificates);
# `npm run fuzz` uses cargo-fuzz and nightly when present.
set -euo pipefail
cd "$(dirname "$0")/.."
pnpm() { bash scripts/pnpm.sh "$@"; }
pnpm install --frozen-lockfile
bash scripts/lint.sh
pnpm run build
pnpm run check:proto
pnpm run typecheck
cargo test --workspace --release
# The reader's fuzz harness, bounded: random mutations of the seed corpus
# and regressions for 20 s (the loom models and the corpus replay ran above).
OTLP_MMAP_FUZZ_SECONDS=20 cargo test -p otlp-mmap-core --release --lib \
  fuzz_random_mutations_for_a_bounded_time -- --ignored --nocapture
pnpm exec ava
pnpm run test:packages
