// prepack/postpack of @otlp-mmap/native (crates/otlp-mmap-node): the package
// ships the Rust sources its install script builds from when no prebuilt
// binary matches the machine. They live outside the package directory in the
// repository, so they are copied into crates/otlp-mmap-node/rust/ (gitignored)
// before packing, laid out as a Cargo workspace of their own:
//
//   rust/Cargo.toml, rust/Cargo.lock              the workspace (members: these two crates)
//   rust/crates/otlp-mmap-core/{Cargo.toml,build.rs,src/}
//   rust/crates/otlp-mmap-node/{Cargo.toml,build.rs,src/}
//   rust/proto/mmap.proto                         what the core's build.rs compiles
//
// and removed again after packing (`--clean`). The loader napi-rs generates
// (index.js, index.d.ts) is a build output: packing without it is an error.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = join(root, 'crates/otlp-mmap-node');
const out = join(pkg, 'rust');

rmSync(out, { recursive: true, force: true });
if (process.argv.includes('--clean')) process.exit(0);

for (const generated of ['index.js', 'index.d.ts']) {
  if (!existsSync(join(pkg, generated))) {
    console.error(`@otlp-mmap/native: ${generated} is missing; build the binding before packing (bash scripts/pnpm.sh run build)`);
    process.exit(1);
  }
}
const crates = ['otlp-mmap-core', 'otlp-mmap-node'];
const manifest = readFileSync(join(root, 'Cargo.toml'), 'utf8');
const members = /^members\s*=\s*\[[^\]]*\]/m;
if (!members.test(manifest)) {
  console.error('native-prepack: no `members = [...]` in Cargo.toml');
  process.exit(1);
}
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'Cargo.toml'), manifest.replace(members, `members = [${crates.map((c) => `"crates/${c}"`).join(', ')}]`));
const copies = ['Cargo.lock', 'proto/mmap.proto', ...crates.flatMap((c) => ['Cargo.toml', 'build.rs', 'src'].map((f) => `crates/${c}/${f}`))];
for (const rel of copies) {
  mkdirSync(dirname(join(out, rel)), { recursive: true });
  cpSync(join(root, rel), join(out, rel), { recursive: true });
}
