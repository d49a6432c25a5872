/**
 * Which build of the binding a machine needs (crates/otlp-mmap-node/platform.js),
 * and the refusal of Windows by the package's entry point. Other operating
 * systems and architectures are simulated by redefining `process.platform`
 * and `process.arch` (in a child process for the entry point).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);
const platform = require('../../crates/otlp-mmap-node/platform.js') as {
  PREBUILT_TARGETS: string[];
  targetName(): string;
  localBindingFile(): string;
};

function as<T>(os: string, arch: string, fn: () => T): T {
  const saved = { platform: process.platform, arch: process.arch };
  Object.defineProperty(process, 'platform', { value: os, configurable: true });
  Object.defineProperty(process, 'arch', { value: arch, configurable: true });
  try {
    return fn();
  } finally {
    Object.defineProperty(process, 'platform', { value: saved.platform, configurable: true });
    Object.defineProperty(process, 'arch', { value: saved.arch, configurable: true });
  }
}

test('the name computed for this machine is that of the binary its build produced', (t) => {
  t.true(platform.PREBUILT_TARGETS.includes(platform.targetName()));
  t.true(existsSync(fileURLToPath(new URL(`../../crates/otlp-mmap-node/${platform.localBindingFile()}`, import.meta.url))));
});

test('target names follow the napi-rs platform packages', (t) => {
  t.is(
    as('darwin', 'arm64', () => platform.targetName()),
    'darwin-arm64',
  );
  t.is(
    as('darwin', 'x64', () => platform.targetName()),
    'darwin-x64',
  );
  t.is(
    as('linux', 'arm64', () => platform.targetName()),
    'linux-arm64-gnu',
  );
  t.is(
    as('linux', 'arm', () => platform.targetName()),
    'linux-arm-gnueabihf',
  );
  t.deepEqual(platform.PREBUILT_TARGETS, ['linux-x64-gnu', 'linux-x64-musl', 'linux-arm64-gnu', 'linux-arm64-musl', 'darwin-x64', 'darwin-arm64']);
});

test('on Windows, loading @otlp-mmap/native fails with an error that says Windows is not supported and what to do', (t) => {
  const child = spawnSync(
    process.execPath,
    [
      '-e',
      `Object.defineProperty(process, 'platform', { value: 'win32' });
       try { require('@otlp-mmap/native'); } catch (err) { console.log(JSON.stringify({ code: err.code, message: err.message })); }`,
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  const { code, message } = JSON.parse(child.stdout) as { code: string; message: string };
  t.is(code, 'ERR_OTLP_MMAP_UNSUPPORTED_PLATFORM');
  t.regex(message, /does not support Windows/);
  t.regex(message, /Linux \(x64, arm64; glibc or musl\) and macOS \(x64, arm64\)/);
  t.regex(message, /WSL 2/);
});

test('on a platform without a prebuilt binary, the error names it and says how to build from source', (t) => {
  const child = spawnSync(
    process.execPath,
    [
      '-e',
      `Object.defineProperty(process, 'arch', { value: 'riscv64' });
       try { require('@otlp-mmap/native'); } catch (err) { console.log(JSON.stringify({ code: err.code, message: err.message })); }`,
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  const { code, message } = JSON.parse(child.stdout) as { code: string; message: string };
  t.is(code, 'ERR_OTLP_MMAP_NO_BINDING');
  const target = platform.targetName().replace(/-(x64|arm64)/, '-riscv64');
  t.true(message.includes(`no native binding for this platform (${target}`), message);
  t.true(message.includes(`No prebuilt binary is published for ${target}`));
  t.regex(message, /npm rebuild @otlp-mmap\/native/);
});
