#!/usr/bin/env bash
# The test command: installs every dependency, builds the native binding and
# the TypeScript packages, checks generated code is fresh, then runs the Rust
# tests and the ava suite. Needs only Node.js 20 and a Rust toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."
pnpm() { bash scripts/pnpm.sh "$@"; }
pnpm install --frozen-lockfile
pnpm run build
pnpm run check:proto
pnpm run typecheck
cargo test --workspace --release
pnpm exec ava
