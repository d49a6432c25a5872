import { existsSync, statSync } from 'node:fs';
import { Reader } from '@otlp-mmap/native';
import test from 'ava';
import { startMmapSdk } from '@otlp-mmap/sdk';
import { FileReadBack, tempPath } from './support/read-back.js';

function withEnv<T>(vars: Record<string, string>, fn: () => T): T {
  const saved: Record<string, string | undefined> = {};
  for (const k of Object.keys(vars)) {
    saved[k] = process.env[k];
    process.env[k] = vars[k];
  }
  try {
    return fn();
  } finally {
    for (const k of Object.keys(vars)) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}

test.serial('without a path option or SDK_MMAP_EXPORTER_FILE, start fails with a clear error', (t) => {
  const saved = process.env.SDK_MMAP_EXPORTER_FILE;
  delete process.env.SDK_MMAP_EXPORTER_FILE;
  try {
    t.throws(() => startMmapSdk({ registerGlobals: false }), { message: /SDK_MMAP_EXPORTER_FILE/ });
  } finally {
    if (saved !== undefined) process.env.SDK_MMAP_EXPORTER_FILE = saved;
  }
});

test.serial('SDK_MMAP_EXPORTER_FILE names the file', async (t) => {
  const tmp = tempPath();
  const sdk = withEnv({ SDK_MMAP_EXPORTER_FILE: tmp.path }, () => startMmapSdk({ registerGlobals: false }));
  t.true(existsSync(tmp.path));
  t.is(sdk.path, tmp.path);
  t.is(statSync(tmp.path).mode & 0o777, 0o600);
  await sdk.shutdown();
  tmp.cleanup();
});

test.serial('ring sizes come from the SDK_MMAP_* variables', async (t) => {
  const tmp = tempPath();
  const sdk = withEnv(
    {
      SDK_MMAP_SPANS_SLOTS: '64',
      SDK_MMAP_SPANS_SLOT_SIZE: '4096',
      SDK_MMAP_EVENTS_SLOTS: '32',
      SDK_MMAP_EVENTS_SLOT_SIZE: '512',
      SDK_MMAP_MEASUREMENTS_SLOTS: '16',
      SDK_MMAP_MEASUREMENTS_SLOT_SIZE: '128',
    },
    () => startMmapSdk({ path: tmp.path, registerGlobals: false }),
  );
  const info = Reader.open(tmp.path).info();
  t.like(info.spans, { numBuffers: 64, bufferSize: 4096 });
  t.like(info.events, { numBuffers: 32, bufferSize: 512 });
  t.like(info.measurements, { numBuffers: 16, bufferSize: 128 });
  await sdk.shutdown();
  tmp.cleanup();
});

test('ring size options win over the defaults', async (t) => {
  const tmp = tempPath();
  const sdk = startMmapSdk({ path: tmp.path, registerGlobals: false, spans: { slots: 128, slotSize: 1024 } });
  const info = Reader.open(tmp.path).info();
  t.like(info.spans, { numBuffers: 128, bufferSize: 1024 });
  t.like(info.events, { numBuffers: 4096, bufferSize: 1024 });
  t.like(info.measurements, { numBuffers: 8192, bufferSize: 512 });
  await sdk.shutdown();
  tmp.cleanup();
});

test('a slot count that is not a power of two is rejected', (t) => {
  const tmp = tempPath();
  t.throws(() => startMmapSdk({ path: tmp.path, registerGlobals: false, spans: { slots: 100 } }), {
    message: /spans\.slots must be a power of two/,
  });
  tmp.cleanup();
});

test.serial('an invalid SDK_MMAP_* value is rejected naming the variable', (t) => {
  const tmp = tempPath();
  t.throws(() => withEnv({ SDK_MMAP_EVENTS_SLOT_SIZE: 'big' }, () => startMmapSdk({ path: tmp.path, registerGlobals: false })), {
    message: /SDK_MMAP_EVENTS_SLOT_SIZE/,
  });
  tmp.cleanup();
});

test('a file that cannot be created is a clear error', (t) => {
  t.throws(() => startMmapSdk({ path: '/nonexistent-dir/x/telemetry.mmap', registerGlobals: false }), {
    message: /could not create \/nonexistent-dir/,
  });
});

test.serial('the resource has service.name from options over OTEL_SERVICE_NAME, and OTEL_RESOURCE_ATTRIBUTES', async (t) => {
  const tmp = tempPath();
  const sdk = withEnv({ OTEL_SERVICE_NAME: 'from-env', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test,team=core' }, () =>
    startMmapSdk({ path: tmp.path, registerGlobals: false, serviceName: 'from-option', resourceAttributes: { 'service.version': '9.9' } }),
  );
  sdk.tracerProvider.getTracer('t').startSpan('s');
  const rb = new FileReadBack(tmp.path);
  const [span] = rb.spans();
  const resource = rb.attrs(rb.resource(rb.scope(span.scopeRef).resourceRef).attributes);
  t.like(resource, {
    'service.name': 'from-option',
    'service.version': '9.9',
    'deployment.environment': 'test',
    team: 'core',
    'telemetry.sdk.language': 'nodejs',
  });
  rb.close();
  await sdk.shutdown();
  tmp.cleanup();
});

test.serial('OTEL_SERVICE_NAME is used when no serviceName option is given', async (t) => {
  const tmp = tempPath();
  const sdk = withEnv({ OTEL_SERVICE_NAME: 'env-service' }, () => startMmapSdk({ path: tmp.path, registerGlobals: false }));
  sdk.tracerProvider.getTracer('t').startSpan('s');
  const rb = new FileReadBack(tmp.path);
  const [span] = rb.spans();
  t.is(rb.attrs(rb.resource(rb.scope(span.scopeRef).resourceRef).attributes)['service.name'], 'env-service');
  rb.close();
  await sdk.shutdown();
  tmp.cleanup();
});

test.serial('OTEL_TRACES_SAMPLER=always_off makes every span non-recording', async (t) => {
  const tmp = tempPath();
  const sdk = withEnv({ OTEL_TRACES_SAMPLER: 'always_off' }, () => startMmapSdk({ path: tmp.path, registerGlobals: false }));
  t.false(sdk.tracerProvider.getTracer('t').startSpan('s').isRecording());
  await sdk.shutdown();
  tmp.cleanup();
});

test.serial('OTEL_TRACES_SAMPLER=traceidratio with OTEL_TRACES_SAMPLER_ARG=0 samples nothing', async (t) => {
  const tmp = tempPath();
  const sdk = withEnv({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' }, () => startMmapSdk({ path: tmp.path, registerGlobals: false }));
  const tracer = sdk.tracerProvider.getTracer('t');
  t.false([1, 2, 3, 4, 5].some(() => tracer.startSpan('s').isRecording()));
  await sdk.shutdown();
  tmp.cleanup();
});

test.serial('OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT limits span attributes', async (t) => {
  const tmp = tempPath();
  const sdk = withEnv({ OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: '1' }, () => startMmapSdk({ path: tmp.path, registerGlobals: false }));
  sdk.tracerProvider.getTracer('t').startSpan('s', { attributes: { a: 1, b: 2 } });
  const rb = new FileReadBack(tmp.path);
  const [span] = rb.spans();
  if (span.event?.$case !== 'start') return t.fail();
  t.is(span.event.value.attributes.length, 1);
  rb.close();
  await sdk.shutdown();
  tmp.cleanup();
});

test('shutdown is idempotent and telemetry after it is ignored', async (t) => {
  const tmp = tempPath();
  const sdk = startMmapSdk({ path: tmp.path, registerGlobals: false });
  const tracer = sdk.tracerProvider.getTracer('t');
  const span = tracer.startSpan('before');
  const p1 = sdk.shutdown();
  const p2 = sdk.shutdown();
  t.is(p1, p2);
  await p1;
  await sdk.shutdown();
  await t.notThrowsAsync(sdk.forceFlush());
  t.notThrows(() => {
    span.end();
    tracer.startSpan('after').end();
    sdk.meterProvider.getMeter('m').createCounter('c').add(1);
    sdk.loggerProvider.getLogger('l').emit({ body: 'late' });
  });
  const rb = new FileReadBack(tmp.path);
  t.deepEqual(
    rb.spans().map((e) => e.event?.$case),
    ['start'],
  );
  t.is(rb.events().length, 0);
  rb.close();
  tmp.cleanup();
});

test('shutdown runs a last collection of observable instruments', async (t) => {
  const tmp = tempPath();
  const sdk = startMmapSdk({ path: tmp.path, registerGlobals: false });
  sdk.meterProvider
    .getMeter('m')
    .createObservableGauge('final')
    .addCallback((r) => r.observe(1));
  await sdk.shutdown();
  const rb = new FileReadBack(tmp.path);
  t.true(rb.measurements().some((m) => rb.metric(m.metricRef).name === 'final'));
  rb.close();
  tmp.cleanup();
});

test("with attach, a second SDK writes into the first one's file", async (t) => {
  const tmp = tempPath();
  const first = startMmapSdk({ path: tmp.path, registerGlobals: false, spans: { slots: 256, slotSize: 1024 } });
  const second = startMmapSdk({ path: tmp.path, registerGlobals: false, attach: true });
  first.tracerProvider.getTracer('t').startSpan('from-first');
  second.tracerProvider.getTracer('t').startSpan('from-second');
  const rb = new FileReadBack(tmp.path);
  t.like(rb.reader.info().spans, { numBuffers: 256, bufferSize: 1024 });
  const names = rb.spans().map((e) => (e.event?.$case === 'start' ? e.event.value.name : ''));
  t.deepEqual(names.sort(), ['from-first', 'from-second']);
  rb.close();
  await second.shutdown();
  await first.shutdown();
  tmp.cleanup();
});

test('attach to a file that does not exist is a clear error', (t) => {
  const tmp = tempPath();
  t.throws(() => startMmapSdk({ path: tmp.path, registerGlobals: false, attach: true }), { message: /could not attach to/ });
  tmp.cleanup();
});
