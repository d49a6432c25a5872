import { ROOT_CONTEXT, trace, ValueType } from '@opentelemetry/api';
import test from 'ava';
import { FileReadBack, hex, startTestSdk } from './support/read-back.js';

const DELTA = 1;
const CUMULATIVE = 2;

test('a Counter is a monotonic DELTA Sum and each add is one measurement', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const counter = sdk.meterProvider.getMeter('m', '2.0').createCounter('http.requests', {
    description: 'Requests served',
    unit: '{request}',
    valueType: ValueType.INT,
  });
  counter.add(1, { route: '/a', method: 'GET', code: 200, ok: true });
  counter.add(2, { route: '/a', method: 'GET', code: 200, ok: true });
  const rb = new FileReadBack(path);
  const ms = rb.measurements();
  t.deepEqual(
    ms.map((m) => m.value),
    [
      { $case: 'asLong', value: 1n },
      { $case: 'asLong', value: 2n },
    ],
  );
  t.deepEqual(rb.attrs(ms[0].attributes), { route: '/a', method: 'GET', code: 200n, ok: true });
  const def = rb.metric(ms[0].metricRef);
  t.like(def, { name: 'http.requests', description: 'Requests served', unit: '{request}' });
  t.deepEqual(def.aggregation, { $case: 'sum', value: { aggregationTemporality: DELTA, isMonotonic: true } });
  t.is(rb.string(rb.scope(def.instrumentationScopeRef).nameRef), 'm');
  rb.close();
  await cleanup();
});

test('a Counter ignores negative values', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  sdk.meterProvider.getMeter('m').createCounter('c').add(-1);
  const rb = new FileReadBack(path);
  t.is(rb.measurements().length, 0);
  rb.close();
  await cleanup();
});

test('an UpDownCounter is a non-monotonic DELTA Sum that accepts negative values', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  sdk.meterProvider.getMeter('m').createUpDownCounter('queue.size').add(-3.5);
  const rb = new FileReadBack(path);
  const [m] = rb.measurements();
  t.deepEqual(m.value, { $case: 'asDouble', value: -3.5 });
  t.deepEqual(rb.metric(m.metricRef).aggregation, { $case: 'sum', value: { aggregationTemporality: DELTA, isMonotonic: false } });
  rb.close();
  await cleanup();
});

test('a DOUBLE instrument writes integral values as doubles', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  sdk.meterProvider.getMeter('m').createCounter('c').add(1);
  const rb = new FileReadBack(path);
  t.deepEqual(rb.measurements()[0].value, { $case: 'asDouble', value: 1 });
  rb.close();
  await cleanup();
});

test('an INT instrument truncates a fractional value', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  sdk.meterProvider.getMeter('m').createUpDownCounter('c', { valueType: ValueType.INT }).add(-2.7);
  const rb = new FileReadBack(path);
  t.deepEqual(rb.measurements()[0].value, { $case: 'asLong', value: -2n });
  rb.close();
  await cleanup();
});

test('an INT instrument writes integers of magnitude 2^53 and beyond exactly, as int64', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const meter = sdk.meterProvider.getMeter('m');
  meter.createCounter('c', { valueType: ValueType.INT }).add(2 ** 53);
  const updown = meter.createUpDownCounter('u', { valueType: ValueType.INT });
  updown.add(2 ** 53 + 2);
  updown.add(-(2 ** 62));
  updown.add(-(2 ** 63)); // the smallest int64
  updown.add(2 ** 63 - 2 ** 10); // the largest double below 2^63
  meter.createGauge('g', { valueType: ValueType.INT }).record(2 ** 60 + 2 ** 8);
  const rb = new FileReadBack(path);
  t.deepEqual(
    rb.measurements().map((m) => m.value),
    [
      { $case: 'asLong', value: 2n ** 53n },
      { $case: 'asLong', value: 2n ** 53n + 2n },
      { $case: 'asLong', value: -(2n ** 62n) },
      { $case: 'asLong', value: -(2n ** 63n) },
      { $case: 'asLong', value: 2n ** 63n - 2n ** 10n },
      { $case: 'asLong', value: 2n ** 60n + 256n },
    ],
  );
  rb.close();
  await cleanup();
});

test('an INT instrument ignores values that no int64 holds', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const updown = sdk.meterProvider.getMeter('m').createUpDownCounter('u', { valueType: ValueType.INT });
  updown.add(2 ** 63);
  updown.add(-(2 ** 64));
  updown.add(Number.POSITIVE_INFINITY);
  updown.add(Number.NaN);
  const rb = new FileReadBack(path);
  t.is(rb.measurements().length, 0);
  rb.close();
  await cleanup();
});

test('an INT observable instrument writes observations of magnitude 2^53 and beyond exactly', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const oc = sdk.meterProvider.getMeter('m').createObservableCounter('big.total', { valueType: ValueType.INT });
  oc.addCallback((r) => {
    r.observe(2 ** 53, { k: 'a' });
    r.observe(2 ** 62, { k: 'b' });
    r.observe(2 ** 64, { k: 'c' }); // no int64 holds it: ignored
  });
  await sdk.forceFlush();
  const rb = new FileReadBack(path);
  t.deepEqual(
    rb
      .measurements()
      .filter((m) => rb.metric(m.metricRef).name === 'big.total')
      .map((m) => m.value),
    [
      { $case: 'asLong', value: 2n ** 53n },
      { $case: 'asLong', value: 2n ** 62n },
    ],
  );
  rb.close();
  await cleanup();
});

test('a Histogram carries the advised bucket boundaries', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const h = sdk.meterProvider.getMeter('m').createHistogram('latency', {
    unit: 'ms',
    advice: { explicitBucketBoundaries: [1, 10, 100] },
  });
  h.record(42.5, { route: '/x' });
  const rb = new FileReadBack(path);
  const [m] = rb.measurements();
  t.deepEqual(m.value, { $case: 'asDouble', value: 42.5 });
  t.deepEqual(rb.metric(m.metricRef).aggregation, {
    $case: 'histogram',
    value: { aggregationTemporality: DELTA, bucketBoundaries: [1, 10, 100] },
  });
  rb.close();
  await cleanup();
});

test('a Histogram without advice has empty boundaries (the defaults)', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  sdk.meterProvider.getMeter('m').createHistogram('size').record(1);
  const rb = new FileReadBack(path);
  t.deepEqual(rb.metric(rb.measurements()[0].metricRef).aggregation, {
    $case: 'histogram',
    value: { aggregationTemporality: DELTA, bucketBoundaries: [] },
  });
  rb.close();
  await cleanup();
});

test('with the exponential option a Histogram is an ExponentialHistogram with 160 buckets and scale 20', async (t) => {
  const { sdk, path, cleanup } = startTestSdk({ histogramAggregation: 'exponential' });
  sdk.meterProvider.getMeter('m').createHistogram('size').record(3);
  const rb = new FileReadBack(path);
  t.deepEqual(rb.metric(rb.measurements()[0].metricRef).aggregation, {
    $case: 'expHist',
    value: { aggregationTemporality: DELTA, maxBuckets: 160n, maxScale: 20n },
  });
  rb.close();
  await cleanup();
});

test('a Histogram ignores negative values', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  sdk.meterProvider.getMeter('m').createHistogram('h').record(-1);
  const rb = new FileReadBack(path);
  t.is(rb.measurements().length, 0);
  rb.close();
  await cleanup();
});

test('a Gauge is a Gauge and records each value', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  sdk.meterProvider.getMeter('m').createGauge('temperature').record(21.5, { room: 'a' });
  const rb = new FileReadBack(path);
  const [m] = rb.measurements();
  t.deepEqual(m.value, { $case: 'asDouble', value: 21.5 });
  t.deepEqual(rb.metric(m.metricRef).aggregation, { $case: 'gauge', value: {} });
  rb.close();
  await cleanup();
});

test('an ObservableCounter is a monotonic CUMULATIVE Sum observed on forceFlush', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  let total = 10;
  const oc = sdk.meterProvider.getMeter('m').createObservableCounter('cpu.time', { valueType: ValueType.INT });
  oc.addCallback((r) => r.observe(total, { cpu: 0 }));
  const rb = new FileReadBack(path);
  t.is(rb.measurements().filter((m) => rb.metric(m.metricRef).name === 'cpu.time').length, 0);
  await sdk.forceFlush();
  total = 25;
  await sdk.forceFlush();
  const ms = rb.measurements().filter((m) => rb.metric(m.metricRef).name === 'cpu.time');
  t.deepEqual(
    ms.map((m) => m.value),
    [
      { $case: 'asLong', value: 10n },
      { $case: 'asLong', value: 25n },
    ],
  );
  t.deepEqual(rb.metric(ms[0].metricRef).aggregation, { $case: 'sum', value: { aggregationTemporality: CUMULATIVE, isMonotonic: true } });
  rb.close();
  await cleanup();
});

test('an ObservableUpDownCounter is a non-monotonic CUMULATIVE Sum', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const o = sdk.meterProvider.getMeter('m').createObservableUpDownCounter('connections');
  o.addCallback((r) => r.observe(-4));
  await sdk.forceFlush();
  const rb = new FileReadBack(path);
  const [m] = rb.measurements().filter((x) => rb.metric(x.metricRef).name === 'connections');
  t.deepEqual(m.value, { $case: 'asDouble', value: -4 });
  t.deepEqual(rb.metric(m.metricRef).aggregation, { $case: 'sum', value: { aggregationTemporality: CUMULATIVE, isMonotonic: false } });
  rb.close();
  await cleanup();
});

test('an ObservableGauge supports asynchronous callbacks', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const g = sdk.meterProvider.getMeter('m').createObservableGauge('heap');
  g.addCallback(async (r) => {
    await new Promise((resolve) => setTimeout(resolve, 10));
    r.observe(123.25);
  });
  await sdk.forceFlush();
  const rb = new FileReadBack(path);
  const [m] = rb.measurements().filter((x) => rb.metric(x.metricRef).name === 'heap');
  t.deepEqual(m.value, { $case: 'asDouble', value: 123.25 });
  t.deepEqual(rb.metric(m.metricRef).aggregation, { $case: 'gauge', value: {} });
  rb.close();
  await cleanup();
});

test('an attribute set observed twice in one collection is written once, with the last value', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const meter = sdk.meterProvider.getMeter('m');
  const oc = meter.createObservableCounter('twice', { valueType: ValueType.INT });
  oc.addCallback((r) => {
    r.observe(1, { a: 'x', b: 1 });
    r.observe(0, { b: 1, a: 'x' }); // the same set, keys in another order
    r.observe(5, { a: 'y' });
  });
  oc.addCallback((r) => r.observe(3, { a: 'x', b: 1 }));
  await sdk.forceFlush();
  const rb = new FileReadBack(path);
  const ms = rb.measurements().filter((m) => rb.metric(m.metricRef).name === 'twice');
  t.deepEqual(
    ms.map((m) => ({ value: m.value, attrs: rb.attrs(m.attributes) })),
    [
      { value: { $case: 'asLong', value: 3n }, attrs: { a: 'x', b: 1n } },
      { value: { $case: 'asLong', value: 5n }, attrs: { a: 'y' } },
    ],
  );
  rb.close();
  await cleanup();
});

test('a removed callback is no longer called', async (t) => {
  const { sdk, cleanup } = startTestSdk();
  let calls = 0;
  const cb = (): void => {
    calls++;
  };
  const g = sdk.meterProvider.getMeter('m').createObservableGauge('g');
  g.addCallback(cb);
  await sdk.forceFlush();
  g.removeCallback(cb);
  await sdk.forceFlush();
  t.is(calls, 1);
  await cleanup();
});

test('a batch callback observes several instruments in one collection', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const meter = sdk.meterProvider.getMeter('m');
  const a = meter.createObservableCounter('batch.a', { valueType: ValueType.INT });
  const b = meter.createObservableGauge('batch.b');
  meter.addBatchObservableCallback(
    (r) => {
      r.observe(a, 7);
      r.observe(b, 0.5, { k: 'v' });
    },
    [a, b],
  );
  await sdk.forceFlush();
  const rb = new FileReadBack(path);
  const byName = Object.fromEntries(rb.measurements().map((m) => [rb.metric(m.metricRef).name, { value: m.value, attrs: rb.attrs(m.attributes) }]));
  t.deepEqual(byName['batch.a'], { value: { $case: 'asLong', value: 7n }, attrs: {} });
  t.deepEqual(byName['batch.b'], { value: { $case: 'asDouble', value: 0.5 }, attrs: { k: 'v' } });
  rb.close();
  await cleanup();
});

test('a throwing callback does not stop the other callbacks', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const meter = sdk.meterProvider.getMeter('m');
  meter.createObservableGauge('bad').addCallback(() => {
    throw new Error('boom');
  });
  meter.createObservableGauge('good').addCallback((r) => r.observe(1));
  await sdk.forceFlush();
  const rb = new FileReadBack(path);
  t.true(rb.measurements().some((m) => rb.metric(m.metricRef).name === 'good'));
  rb.close();
  await cleanup();
});

test('observable instruments are collected on the timer', async (t) => {
  const { sdk, path, cleanup } = startTestSdk({ metricCollectionIntervalMillis: 50 });
  let calls = 0;
  sdk.meterProvider
    .getMeter('m')
    .createObservableGauge('ticks')
    .addCallback((r) => {
      calls++;
      r.observe(1);
    });
  const deadline = Date.now() + 10_000;
  while (calls < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  const rb = new FileReadBack(path);
  t.true(rb.measurements().filter((m) => rb.metric(m.metricRef).name === 'ticks').length >= 2);
  rb.close();
  await cleanup();
});

test('a measurement inside a sampled span carries its span context (exemplar)', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const span = sdk.tracerProvider.getTracer('t').startSpan('s');
  sdk.meterProvider.getMeter('m').createHistogram('h').record(5, {}, trace.setSpan(ROOT_CONTEXT, span));
  const rb = new FileReadBack(path);
  const [m] = rb.measurements();
  t.is(hex(m.spanContext!.traceId), span.spanContext().traceId);
  t.is(hex(m.spanContext!.spanId), span.spanContext().spanId);
  t.is(m.spanContext!.flags, 1);
  rb.close();
  await cleanup();
});

test('a measurement outside any span has no span context', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  sdk.meterProvider.getMeter('m').createHistogram('h').record(5);
  const rb = new FileReadBack(path);
  t.is(rb.measurements()[0].spanContext, undefined);
  rb.close();
  await cleanup();
});

test('an invalid instrument name gives a no-op instrument that writes nothing', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  sdk.meterProvider.getMeter('m').createCounter('1 bad name').add(1);
  const rb = new FileReadBack(path);
  t.is(rb.measurements().length, 0);
  rb.close();
  await cleanup();
});

test('a measurement too large for a slot is dropped and counted', async (t) => {
  const { sdk, path, cleanup } = startTestSdk({ measurements: { slots: 8, slotSize: 256 } });
  const counter = sdk.meterProvider.getMeter('m').createCounter('c');
  counter.add(1, { big: 'x'.repeat(1000) });
  counter.add(2);
  const rb = new FileReadBack(path);
  t.deepEqual(
    rb.measurements().map((m) => m.value),
    [{ $case: 'asDouble', value: 2 }],
  );
  t.is(sdk.droppedCounts().measurements, 1);
  rb.close();
  await cleanup();
});
