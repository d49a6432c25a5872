#!/usr/bin/env -S node --min-semi-space-size=16
// Launcher of the compiled collector (packages/collector/dist/cli.js).
//
// Run as a command, it gives V8 a young generation of 16 MB from the start
// (`--min-semi-space-size=16`): the collector's objects (a span, from its
// StartSpan until its batch is encoded) then die young instead of being
// promoted while the young generation grows: less CPU per span and less RSS
// (bench/collector.ts; the figures are in the package README). The flag can only be
// given when node starts: with `node packages/collector`, pass it to node
// yourself (`node --min-semi-space-size=16 packages/collector ...`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write('otlp-mmap-collector: not built yet: run `pnpm build` (bash scripts/pnpm.sh build) in the repository first\n');
  process.exit(1);
}
await import(cli);
