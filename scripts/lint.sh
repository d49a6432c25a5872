#!/usr/bin/env bash
# The linters, with zero findings allowed (`npm run lint`; `npm test` runs it
# first): Biome on the TypeScript and JavaScript (formatting and its
# recommended lint rules, as configured in biome.jsonc), rustfmt, and clippy
# with warnings as errors (the workspace's lints, among them
# undocumented_unsafe_blocks and missing_safety_doc, are in Cargo.toml).
#
# The fuzz crate (crates/otlp-mmap-core/fuzz, a workspace of its own) is
# checked by rustfmt only: its one target calls `otlp_mmap_core::fuzzing`,
# which clippy sees with the core's tests, and building it needs libFuzzer.
#
# `npm run format` rewrites what the formatters would change.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "--fix" ]]; then
  node_modules/.bin/biome format --write .
  cargo fmt --all
  cargo fmt --manifest-path crates/otlp-mmap-core/fuzz/Cargo.toml
  exit 0
fi
node_modules/.bin/biome ci --error-on-warnings .
cargo fmt --all --check
cargo fmt --manifest-path crates/otlp-mmap-core/fuzz/Cargo.toml --check
cargo clippy --workspace --all-targets --locked -- -D warnings
