import { ValueType } from '@opentelemetry/api';
import test from 'ava';
import { DROPPED_METRIC_NAME } from '@otlp-mmap/sdk';
import { FileReadBack, startTestSdk } from './support/read-back.js';

test('a full spans ring drops and counts instead of blocking', async (t) => {
  const { sdk, path, cleanup } = startTestSdk({ spans: { slots: 8, slotSize: 256 } });
  const tracer = sdk.tracerProvider.getTracer('t');
  const started = Date.now();
  for (let i = 0; i < 100; i++) tracer.startSpan(`s${i}`).end();
  t.true(Date.now() - started < 2000);
  const rb = new FileReadBack(path);
  const written = rb.spans().length;
  const dropped = sdk.droppedCounts().spans;
  t.true(written >= 7 && written <= 8, `${written} written`);
  t.true(dropped > 0);
  // Ends of spans whose start was dropped are not written either, so what was written plus what was
  // dropped never exceeds what the application asked for.
  t.true(written + dropped <= 200);
  rb.close();
  await cleanup();
});

test('after the reader drains a full ring, writing resumes', async (t) => {
  const { sdk, path, cleanup } = startTestSdk({ measurements: { slots: 4, slotSize: 256 } });
  const counter = sdk.meterProvider.getMeter('m').createCounter('c', { valueType: ValueType.INT });
  for (let i = 0; i < 10; i++) counter.add(1);
  const rb = new FileReadBack(path);
  t.true(rb.measurements().length <= 4);
  const droppedBefore = sdk.droppedCounts().measurements;
  t.true(droppedBefore >= 6);
  counter.add(5);
  const after = rb.measurements();
  t.is(after.length, 1);
  t.deepEqual(after[0].value, { $case: 'asLong', value: 5n });
  t.is(sdk.droppedCounts().measurements, droppedBefore);
  rb.close();
  await cleanup();
});

test('the dropped counts are reported by the otlp_mmap.sdk.dropped self-metric', async (t) => {
  const { sdk, path, cleanup } = startTestSdk({ events: { slots: 2, slotSize: 256 } });
  const logger = sdk.loggerProvider.getLogger('l');
  for (let i = 0; i < 5; i++) logger.emit({ body: `log ${i}` });
  const dropped = sdk.droppedCounts().events;
  t.true(dropped >= 3);
  await sdk.forceFlush();
  const rb = new FileReadBack(path);
  const selfMetric = rb.measurements().filter((m) => rb.metric(m.metricRef).name === DROPPED_METRIC_NAME);
  const bySignal = Object.fromEntries(selfMetric.map((m) => [rb.attrs(m.attributes).signal, m.value?.value]));
  t.deepEqual(bySignal, { spans: 0n, events: BigInt(dropped), measurements: 0n });
  const def = rb.metric(selfMetric[0].metricRef);
  t.deepEqual(def.aggregation, { $case: 'sum', value: { aggregationTemporality: 2, isMonotonic: true } });
  rb.close();
  await cleanup();
});
