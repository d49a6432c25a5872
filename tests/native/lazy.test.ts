/**
 * `@otlp-mmap/native/lazy`: what the SDK and the collector take from the
 * binding before loading it (ring identifiers and names, the `code` of its
 * errors) and the one loader both use. Requiring it loads nothing native,
 * so the SDK stays importable on a machine without a binary; a machine
 * without one is simulated by redefining `process.arch` in a child process.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import * as native from '@otlp-mmap/native';
import { errorCode, loadBinding, RING_EVENTS, RING_MEASUREMENTS, RING_NAMES, RING_SPANS } from '@otlp-mmap/native/lazy';
import { tempDir } from '../helpers/files.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs `script` (an ES module) in a child process on a platform with no binary; its last stdout line, as JSON. */
function withoutBinary(script: string, env: Record<string, string> = {}): unknown {
  const child = spawnSync(
    process.execPath,
    ['--conditions=source', '--import=tsx', '--input-type=module', '-e', `Object.defineProperty(process, 'arch', { value: 'riscv64' });\n${script}`],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } },
  );
  const lines = child.stdout.trim().split('\n');
  if (child.status !== 0) throw new Error(`child failed (${child.status}): ${child.stderr}`);
  return JSON.parse(lines[lines.length - 1]);
}

test("the ring identifiers are the values of the binding's Ring enum, and the names those of FileInfo", (t) => {
  t.is(RING_EVENTS, native.Ring.Events);
  t.is(RING_SPANS, native.Ring.Spans);
  t.is(RING_MEASUREMENTS, native.Ring.Measurements);
  t.deepEqual([...RING_NAMES], ['events', 'spans', 'measurements']);
  const tmp = tempDir();
  t.teardown(tmp.cleanup);
  const writer = native.Writer.create(tmp.file('rings.mmap'));
  const reader = native.Reader.open(tmp.file('rings.mmap'));
  t.teardown(() => {
    writer.close();
    reader.close();
  });
  for (const [ring, name] of RING_NAMES.entries()) {
    const before = reader.info()[name].writerIndex;
    t.true(writer.append(ring as native.Ring, new Uint8Array([ring + 1])));
    t.is(reader.info()[name].writerIndex, before + 1, name);
  }
});

test('loadBinding returns the module require() gives, every time', (t) => {
  t.is(loadBinding(), createRequire(import.meta.url)('@otlp-mmap/native'));
  t.is(loadBinding(), loadBinding());
});

test('errorCode reads the code of a binding error, and nothing from anything else', (t) => {
  const error = t.throws(() => native.Reader.open('/nonexistent/otlp-mmap-file'));
  t.is(errorCode(error), 'ERR_IO');
  t.is(errorCode(new Error('plain')), undefined);
  t.is(errorCode({ code: 42 }), undefined);
  t.is(errorCode(null), undefined);
  t.is(errorCode('ERR_IO'), undefined);
});

test('without a binary for the platform, the lazy module loads, and loadBinding fails with ERR_OTLP_MMAP_NO_BINDING', (t) => {
  const result = withoutBinary(`
    const lazy = await import('@otlp-mmap/native/lazy');
    let code;
    try { lazy.loadBinding(); } catch (error) { code = lazy.errorCode(error); }
    console.log(JSON.stringify({ spans: lazy.RING_SPANS, code }));
  `);
  t.deepEqual(result, { spans: 1, code: 'ERR_OTLP_MMAP_NO_BINDING' });
});

test('without a binary for the platform, the SDK imports, a disabled SDK runs, and an enabled one fails on start naming the binding', (t) => {
  const tmp = tempDir();
  t.teardown(tmp.cleanup);
  const result = withoutBinary(`
    const { startMmapSdk } = await import('@otlp-mmap/sdk');
    process.env.OTEL_SDK_DISABLED = 'true';
    const disabled = startMmapSdk({ path: ${JSON.stringify(tmp.file('disabled.mmap'))} });
    await disabled.shutdown();
    delete process.env.OTEL_SDK_DISABLED;
    let code;
    try { startMmapSdk({ path: ${JSON.stringify(tmp.file('enabled.mmap'))}, registerGlobals: false }); } catch (error) { code = error.code; }
    console.log(JSON.stringify({ disabled: disabled.enabled, code }));
  `);
  t.deepEqual(result, { disabled: false, code: 'ERR_OTLP_MMAP_NO_BINDING' });
});
