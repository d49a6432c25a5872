#!/usr/bin/env bash
# The test command: installs every dependency, builds the native binding and
# the TypeScript packages, checks generated code is fresh, then runs the Rust
# tests, the ava suite, and the package tests (tests/install: every package
# packed, installed with npm outside the workspace and run end to end, and
# the binding built from the sources shipped in @otlp-mmap/native). Needs
# only Node.js 20, npm and a Rust toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."
pnpm() { bash scripts/pnpm.sh "$@"; }
pnpm install --frozen-lockfile
pnpm run build
pnpm run check:proto
pnpm run typecheck
cargo test --workspace --release
pnpm exec ava
pnpm run test:packages
