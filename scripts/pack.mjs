// Packs every publishable package into a directory, as they would be
// published, and prints the tarballs' paths as JSON (name -> path).
//
//   node scripts/pack.mjs --out DIR [--allow-missing-binaries]
//
// - `pnpm pack` (through scripts/pnpm.sh) rewrites `workspace:*` ranges to
//   the versions, applies `publishConfig` (exports without the `source`
//   condition) and runs @otlp-mmap/native's prepack (which ships the Rust
//   sources).
// - A platform package (crates/otlp-mmap-node/npm/<target>) needs its binary
//   otlp-mmap.<target>.node: in CI, `napi artifacts` puts the binaries built
//   by the release matrix there; locally, the binary `napi build` left in
//   crates/otlp-mmap-node is copied in. A platform package without its binary
//   is an error, unless --allow-missing-binaries (local tests: only this
//   machine's target can be built here; npm never installs the others on it,
//   their os/cpu/libc fields do not match).
//
// Packed in publish order: platform packages, native, protocol, sdk, collector.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
if (outIndex < 0 || args[outIndex + 1] === undefined) {
  console.error('usage: node scripts/pack.mjs --out DIR [--allow-missing-binaries]');
  process.exit(2);
}
const out = resolve(args[outIndex + 1]);
const allowMissing = args.includes('--allow-missing-binaries');
mkdirSync(out, { recursive: true });

const native = join(root, 'crates/otlp-mmap-node');
const binaryName = JSON.parse(readFileSync(join(native, 'package.json'), 'utf8')).napi.binaryName;
const platformDirs = readdirSync(join(native, 'npm'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => join(native, 'npm', d.name));

for (const dir of platformDirs) {
  const target = dir.split('/').pop();
  const file = `${binaryName}.${target}.node`;
  const built = join(native, file);
  if (existsSync(built)) copyFileSync(built, join(dir, file));
  if (!existsSync(join(dir, file)) && !allowMissing) {
    console.error(`pack: ${join(dir, file)} is missing (build it, or run napi artifacts with the release binaries)`);
    process.exit(1);
  }
}

const packed = {};
for (const dir of [...platformDirs, native, ...['protocol', 'sdk', 'collector'].map((p) => join(root, 'packages', p))]) {
  const { name, version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const result = spawnSync('bash', [join(root, 'scripts/pnpm.sh'), 'pack', '--pack-destination', out], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (result.status !== 0) {
    console.error(`pack: pnpm pack failed in ${dir}`);
    process.exit(1);
  }
  const tarball = `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`;
  if (!existsSync(join(out, tarball))) {
    console.error(`pack: no tarball for ${name} in ${out}`);
    process.exit(1);
  }
  packed[name] = join(out, tarball);
}
process.stdout.write(`${JSON.stringify(packed, null, 2)}\n`);
