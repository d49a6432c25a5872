// Regenerates packages/protocol/src/gen from proto/mmap.proto with ts-proto
// (through `buf generate`, which runs offline from the npm package).
// `--check` regenerates into a temporary folder and fails when the committed
// code differs, so CI catches a .proto change without regenerated code.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, cpSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'packages/protocol/src/gen');
const check = process.argv.includes('--check');

const out = mkdtempSync(join(tmpdir(), 'otlp-mmap-proto-'));
try {
  const template = readFileSync(join(root, 'proto/buf.gen.yaml'), 'utf8');
  const plugin = join(root, 'node_modules/.bin/protoc-gen-ts_proto');
  const config = template.replace('PLUGIN_PATH', plugin).replace('OUT_DIR', out);
  execFileSync(join(root, 'node_modules/.bin/buf'), ['generate', '--template', config], {
    cwd: join(root, 'proto'),
    stdio: 'inherit',
  });
  if (check) {
    const stale = listFiles(out).filter((f) => {
      try {
        return readFileSync(join(out, f), 'utf8') !== readFileSync(join(target, f), 'utf8');
      } catch {
        return true;
      }
    });
    const extra = listFiles(target).filter((f) => !listFiles(out).includes(f));
    if (stale.length > 0 || extra.length > 0) {
      console.error(`generated protobuf code is stale: ${[...stale, ...extra].join(', ')}; run \`pnpm gen:proto\``);
      process.exit(1);
    }
    console.log('generated protobuf code is up to date');
  } else {
    rmSync(target, { recursive: true, force: true });
    mkdirSync(target, { recursive: true });
    cpSync(out, target, { recursive: true });
    console.log(`generated ${listFiles(target).join(', ')}`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}

function listFiles(dir, prefix = '') {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name), join(prefix, e.name)) : [join(prefix, e.name)],
  ).sort();
}
