#!/usr/bin/env bash
# Runs every benchmark script in turn (each prints its own table).
set -euo pipefail
cd "$(dirname "$0")/.."
for b in native sdk collector metrics; do
  echo "== bench:$b"
  node --conditions=source --import=tsx "bench/$b.ts"
  echo
done
