#!/usr/bin/env bash
# Runs the pnpm this repository pins (package.json "packageManager"), installing
# it into .tools/ on first use when the machine has no pnpm 10. Node 20 cannot
# run pnpm 11, so a global pnpm of another major version is not used.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
want="$(node -p "require('$root/package.json').packageManager.split('@')[1]")"
if command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version 2>/dev/null)" = "$want" ]; then
  exec pnpm "$@"
fi
local_pnpm="$root/.tools/node_modules/.bin/pnpm"
if [ ! -x "$local_pnpm" ] || [ "$("$local_pnpm" --version)" != "$want" ]; then
  echo "installing pnpm $want into .tools/" >&2
  npm install --silent --no-audit --no-fund --prefix "$root/.tools" "pnpm@$want" >&2
fi
# Scripts that pnpm runs call `pnpm` by name: put this one first on PATH.
export PATH="$root/.tools/node_modules/.bin:$PATH"
exec "$local_pnpm" "$@"
