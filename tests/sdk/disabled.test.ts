/**
 * OTEL_SDK_DISABLED=true (or `disabled: true`): a no-op SDK — no file, no
 * global registration, non-recording spans — that still answers its life
 * cycle calls.
 */
import { existsSync } from 'node:fs';
import { trace } from '@opentelemetry/api';
import { startMmapSdk } from '@otlp-mmap/sdk';
import test from 'ava';
import { tempPath } from './support/read-back.js';

function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(vars)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

test.serial('OTEL_SDK_DISABLED=true creates no file and hands out non-recording spans', async (t) => {
  const tmp = tempPath();
  t.teardown(tmp.cleanup);
  const sdk = withEnv({ OTEL_SDK_DISABLED: 'TRUE' }, () => startMmapSdk({ path: tmp.path }));
  t.false(sdk.enabled);
  t.false(existsSync(tmp.path));
  const span = sdk.tracerProvider.getTracer('t').startSpan('s');
  t.false(span.isRecording());
  span.end();
  sdk.meterProvider.getMeter('m').createCounter('c').add(1);
  sdk.loggerProvider.getLogger('l').emit({ body: 'x' });
  t.deepEqual(sdk.droppedCounts(), { spans: 0, events: 0, measurements: 0, attributes: 0, truncatedAttributes: 0 });
  await sdk.forceFlush();
  await sdk.shutdown();
});

test.serial('a disabled SDK needs no path and registers no global provider', async (t) => {
  const sdk = withEnv({ OTEL_SDK_DISABLED: 'true', SDK_MMAP_EXPORTER_FILE: undefined }, () => startMmapSdk());
  t.false(sdk.enabled);
  t.false(trace.getTracer('t').startSpan('s').isRecording(), 'the global tracer is still the no-op one');
  await sdk.shutdown();
});

test.serial('OTEL_SDK_DISABLED other than "true" leaves the SDK enabled', async (t) => {
  const tmp = tempPath();
  t.teardown(tmp.cleanup);
  const sdk = withEnv({ OTEL_SDK_DISABLED: '1' }, () => startMmapSdk({ path: tmp.path, registerGlobals: false }));
  t.teardown(() => sdk.shutdown());
  t.true(sdk.enabled);
  t.true(existsSync(tmp.path));
  t.true(sdk.tracerProvider.getTracer('t').startSpan('s').isRecording());
});

test.serial('the disabled option wins over OTEL_SDK_DISABLED', async (t) => {
  const tmp = tempPath();
  t.teardown(tmp.cleanup);
  const sdk = withEnv({ OTEL_SDK_DISABLED: 'true' }, () => startMmapSdk({ path: tmp.path, registerGlobals: false, disabled: false }));
  t.teardown(() => sdk.shutdown());
  t.true(sdk.enabled);
  t.true(existsSync(tmp.path));
});
