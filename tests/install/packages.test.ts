/**
 * The packages as a user gets them. Every package is packed as it would be
 * published (scripts/pack.mjs: pnpm pack), and the tarballs are installed
 * with plain npm into an empty project in a temporary directory, outside the
 * workspace (npm fetches the third-party dependencies from the registry; no
 * @otlp-mmap package comes from there). Then an instrumented application and
 * `npx otlp-mmap-collector` run from that install, end to end; and without
 * the platform package, the binding is built from the Rust sources shipped
 * in @otlp-mmap/native.
 *
 * Only this machine's target (linux-x64-gnu) can be built here: the other
 * platform packages are packed without their binary (npm skips them, their
 * os/cpu/libc do not match).
 */
import { execFileSync, spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import semver from 'semver';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const TARGET = 'linux-x64-gnu';
const PLATFORM_PACKAGE = `@otlp-mmap/native-${TARGET}`;

const work = mkdtempSync(join(tmpdir(), 'otlp-mmap-install-'));
const app = join(work, 'app');
let tarballs: Record<string, string> = {};

/**
 * The environment of a user's shell: nothing the test runner's pnpm set
 * (npm_* settings, NODE_PATH — which would find the workspace's packages —,
 * the workspace's node_modules/.bin on PATH), no OpenTelemetry variables.
 */
function userEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || /^(npm_|pnpm_|PNPM_|OTEL_|SDK_MMAP_)/.test(k)) continue;
    if (['NODE_OPTIONS', 'NODE_PATH', 'INIT_CWD'].includes(k)) continue;
    env[k] = v;
  }
  env.PATH = (env.PATH ?? '')
    .split(':')
    .filter((dir) => dir !== '' && !dir.startsWith(ROOT) && !dir.includes('/node_modules/'))
    .join(':');
  return { ...env, ...extra };
}

function npm(args: string[], env: Record<string, string> = userEnv()): SpawnSyncReturns<string> {
  return spawnSync('npm', args, { cwd: app, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

function tarballFiles(tarball: string): string[] {
  return execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
    .split('\n')
    .filter((f) => f !== '')
    .map((f) => f.replace(/^package\//, ''));
}

function tarballManifest(tarball: string): Record<string, unknown> {
  return JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' })) as Record<string, unknown>;
}

/** Every file path a manifest's main, types, bin and exports name. */
function namedFiles(manifest: Record<string, unknown>): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(v);
    else if (v !== null && typeof v === 'object') for (const inner of Object.values(v)) walk(inner);
  };
  walk(manifest.main);
  walk(manifest.types);
  walk(manifest.bin);
  walk(manifest.exports);
  return out.map((f) => f.replace(/^\.\//, ''));
}

interface Running {
  stop(): Promise<void>;
  output(): string;
}

function startCollector(input: string, output: string): Running {
  // In a process group of its own: npx runs the collector as its child, and
  // stopping means signalling both.
  const child = spawn('npx', ['--no-install', 'otlp-mmap-collector', '--input', input, '--output', output, '--batch-timeout', '100'], {
    cwd: app,
    env: userEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    output: () => stderr,
    stop: async () => {
      const group = -(child.pid as number);
      try {
        process.kill(group, 'SIGTERM');
      } catch {
        return; // already gone
      }
      const stopped = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 15_000))]);
      if (!stopped) process.kill(group, 'SIGKILL');
    },
  };
}

async function waitFor(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (predicate()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return predicate();
}

/** Names of the spans (and their service.name) in the collector's OTLP JSON lines. */
function exportedSpans(file: string): { name: string; service: unknown }[] {
  if (!existsSync(file)) return [];
  const spans: { name: string; service: unknown }[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const request = JSON.parse(line) as {
      resourceSpans?: { resource?: { attributes?: { key: string; value: { stringValue?: string } }[] }; scopeSpans?: { spans?: { name: string }[] }[] }[];
    };
    for (const rs of request.resourceSpans ?? []) {
      const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue;
      for (const ss of rs.scopeSpans ?? []) for (const span of ss.spans ?? []) spans.push({ name: span.name, service });
    }
  }
  return spans;
}

/** The app started with --import @otlp-mmap/sdk/register, the collector beside it, both from the install: the spans that came out. */
async function runEndToEnd(label: string): Promise<{ spans: { name: string; service: unknown }[]; appOutput: string; collectorLog: string }> {
  const dir = join(work, label);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'app.otlp-mmap');
  const out = join(dir, 'otlp.jsonl');
  const collector = startCollector(file, out);
  try {
    const appRun = spawnSync(process.execPath, ['--import', '@otlp-mmap/sdk/register', join(app, 'app.mjs')], {
      cwd: app,
      env: userEnv({ SDK_MMAP_EXPORTER_FILE: file, OTEL_SERVICE_NAME: `installed-${label}` }),
      encoding: 'utf8',
    });
    const names = () => exportedSpans(out).map((s) => s.name);
    await waitFor(() => names().includes('installed-parent') && names().includes('installed-child'), 30_000);
    return { spans: exportedSpans(out), appOutput: `${appRun.stdout}${appRun.stderr}`, collectorLog: collector.output() };
  } finally {
    await collector.stop();
  }
}

test.before(() => {
  const packs = join(work, 'packs');
  const packed = spawnSync(process.execPath, [join(ROOT, 'scripts/pack.mjs'), '--out', packs, '--allow-missing-binaries'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (packed.status !== 0) throw new Error(`packing failed:\n${packed.stderr}`);
  tarballs = JSON.parse(packed.stdout) as Record<string, string>;

  mkdirSync(app);
  const ours = Object.fromEntries(Object.entries(tarballs).map(([name, path]) => [name, `file:${path}`]));
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify(
      {
        name: 'installed-app',
        private: true,
        type: 'module',
        dependencies: {
          '@opentelemetry/api': '1.9.1',
          '@otlp-mmap/sdk': ours['@otlp-mmap/sdk'],
          '@otlp-mmap/collector': ours['@otlp-mmap/collector'],
        },
        // Every @otlp-mmap package, wherever it is depended on, from its tarball.
        overrides: ours,
        // npm 11 runs a dependency's install script only once allowed (what
        // `npm install-scripts approve` writes); npm 10 ignores the field.
        allowScripts: { [ours['@otlp-mmap/native']]: true },
      },
      null,
      2,
    ),
  );
  for (const f of ['app.mjs', 'require-sdk.cjs']) writeFileSync(join(app, f), readFileSync(join(FIXTURES, f)));
  const installed = npm(['install', '--no-audit', '--no-fund']);
  if (installed.status !== 0) throw new Error(`npm install failed:\n${installed.stdout}\n${installed.stderr}`);
});

test.after.always(() => {
  rmSync(work, { recursive: true, force: true });
});

test.serial('no packed package.json keeps a workspace: range', (t) => {
  for (const [name, tarball] of Object.entries(tarballs)) {
    const text = execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' });
    t.false(text.includes('workspace:'), name);
  }
});

test.serial('every file a packed package.json names (main, types, bin, exports under every condition) is in the tarball', (t) => {
  for (const [name, tarball] of Object.entries(tarballs)) {
    const manifest = tarballManifest(tarball);
    if (name.startsWith('@otlp-mmap/native-') && name !== PLATFORM_PACKAGE) continue; // binaries built elsewhere
    const files = new Set(tarballFiles(tarball));
    for (const named of namedFiles(manifest)) t.true(files.has(named), `${name}: ${named}`);
  }
});

test.serial('@otlp-mmap/native lists one platform package per target as optional dependencies, each with os, cpu and libc', (t) => {
  const native = tarballManifest(tarballs['@otlp-mmap/native']);
  const targets = ['linux-x64-gnu', 'linux-x64-musl', 'linux-arm64-gnu', 'linux-arm64-musl', 'darwin-x64', 'darwin-arm64'];
  t.deepEqual(Object.keys(native.optionalDependencies as object).sort(), targets.map((x) => `@otlp-mmap/native-${x}`).sort());
  for (const target of targets) {
    const manifest = tarballManifest(tarballs[`@otlp-mmap/native-${target}`]);
    const [os, arch, libc] = target.split('-');
    t.deepEqual(manifest.os, [os], target);
    t.deepEqual(manifest.cpu, [arch], target);
    t.deepEqual(manifest.libc, libc === undefined ? undefined : [libc === 'gnu' ? 'glibc' : 'musl'], target);
    t.is(manifest.version, native.version);
  }
  const files = tarballFiles(tarballs['@otlp-mmap/native']);
  for (const f of [
    'rust/Cargo.toml',
    'rust/Cargo.lock',
    'rust/proto/mmap.proto',
    'rust/crates/otlp-mmap-core/build.rs',
    'rust/crates/otlp-mmap-node/src/lib.rs',
  ]) {
    t.true(files.includes(f), f);
  }
  t.false(
    files.some((f) => f.endsWith('.node')),
    'the main package ships no binary',
  );
});

test.serial('the ES module packages require a Node.js that can require() them (20.19+, 22.12+)', (t) => {
  const requireEsm = '^20.19.0 || >=22.12.0';
  for (const name of ['@otlp-mmap/sdk', '@otlp-mmap/collector', '@otlp-mmap/protocol']) {
    const manifest = tarballManifest(tarballs[name]);
    t.is(manifest.type, 'module');
    const engines = (manifest.engines as { node?: string } | undefined)?.node ?? '*';
    t.true(semver.subset(engines, requireEsm), `${name} engines.node ${engines}`);
  }
});

test.serial("npm installed this machine's platform package only, and every @otlp-mmap package from its tarball", (t) => {
  const scope = readdirSync(join(app, 'node_modules/@otlp-mmap')).sort();
  t.deepEqual(scope, ['collector', 'native', `native-${TARGET}`, 'protocol', 'sdk']);
  const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as { packages: Record<string, { resolved?: string }> };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path.includes('node_modules/@otlp-mmap/')) t.regex(entry.resolved ?? '', /^file:/, path);
  }
});

test.serial('@opentelemetry/api is a peer dependency of the SDK: the application and the SDK load one copy', (t) => {
  const sdkManifest = tarballManifest(tarballs['@otlp-mmap/sdk']);
  t.truthy((sdkManifest.peerDependencies as Record<string, string>)['@opentelemetry/api']);
  t.false('@opentelemetry/api' in ((sdkManifest.dependencies as Record<string, string>) ?? {}));
  const resolveFrom = (dir: string) =>
    execFileSync(process.execPath, ['-p', `require('node:module').createRequire(${JSON.stringify(`${dir}/`)}).resolve('@opentelemetry/api')`], {
      cwd: app,
      env: userEnv(),
      encoding: 'utf8',
    }).trim();
  t.is(resolveFrom(join(app, 'node_modules/@otlp-mmap/sdk')), resolveFrom(app));
});

test.serial(
  'an application started with --import @otlp-mmap/sdk/register and npx otlp-mmap-collector, both from the install: its spans come out of the collector',
  async (t) => {
    const { spans, appOutput, collectorLog } = await runEndToEnd('prebuilt');
    t.true(appOutput.includes('app done'), appOutput);
    const names = spans.map((s) => s.name);
    t.true(names.includes('installed-parent') && names.includes('installed-child'), `spans: ${names.join(', ')}\ncollector: ${collectorLog}`);
    t.true(spans.every((s) => s.service === 'installed-prebuilt'));
  },
);

test.serial('a CommonJS program can require() the SDK', (t) => {
  const file = join(work, 'required.otlp-mmap');
  const out = execFileSync(process.execPath, [join(app, 'require-sdk.cjs'), file], { cwd: app, env: userEnv(), encoding: 'utf8' });
  t.regex(out, /required ok/);
  t.true(existsSync(file));
});

test.serial(
  'without the platform package: the binding fails to load naming the platform; the install fails clearly without cargo; with cargo it is built from the shipped sources and works',
  async (t) => {
    const native = join(app, 'node_modules/@otlp-mmap/native');
    rmSync(join(app, 'node_modules', PLATFORM_PACKAGE), { recursive: true, force: true });

    const load = spawnSync(process.execPath, ['-e', "require('@otlp-mmap/native')"], { cwd: app, env: userEnv(), encoding: 'utf8' });
    t.not(
      load.status,
      0,
      `${load.stdout}${load.stderr}${JSON.stringify(readdirSync(join(app, 'node_modules/@otlp-mmap')))}${JSON.stringify(readdirSync(native))}`,
    );
    t.regex(load.stderr, /no native binding for this platform \(linux-x64-gnu/);
    t.regex(load.stderr, /npm rebuild @otlp-mmap\/native/);

    // A PATH with node, npm and sh (npm runs scripts with it), but no cargo.
    const bin = join(work, 'bin-without-cargo');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    for (const tool of ['npm', 'sh']) {
      symlinkSync(realpathSync(execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim()), join(bin, tool));
    }
    const withoutCargo = npm(['rebuild', '@otlp-mmap/native', '--foreground-scripts'], userEnv({ PATH: bin }));
    t.not(withoutCargo.status, 0);
    t.regex(
      `${withoutCargo.stdout}${withoutCargo.stderr}`,
      /no native binding for this platform \(linux-x64-gnu[\s\S]*rustup\.rs[\s\S]*No Rust toolchain was found/,
    );

    const built = npm(['rebuild', '@otlp-mmap/native', '--foreground-scripts'], userEnv({ CARGO_TARGET_DIR: join(ROOT, 'target/install-fallback') }));
    const log = `${built.stdout}${built.stderr}`;
    t.is(built.status, 0, log);
    t.regex(log, /building it from the shipped Rust sources with cargo/);
    t.true(existsSync(join(native, `otlp-mmap.${TARGET}.node`)));
    t.false(existsSync(join(app, 'node_modules', PLATFORM_PACKAGE)));

    const { spans, collectorLog } = await runEndToEnd('source-built');
    const names = spans.map((s) => s.name);
    t.true(names.includes('installed-parent') && names.includes('installed-child'), `spans: ${names.join(', ')}\ncollector: ${collectorLog}`);
  },
);
