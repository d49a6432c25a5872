#!/usr/bin/env node
// Launcher of the compiled collector (packages/collector/dist/cli.js).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write('otlp-mmap-collector: not built yet: run `pnpm build` (bash scripts/pnpm.sh build) in the repository first\n');
  process.exit(1);
}
await import(cli);
