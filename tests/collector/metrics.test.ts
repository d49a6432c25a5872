// Metrics wiring, end to end: measurements ring -> the metrics aggregation ->
// a collection every --metric-interval -> OTLP export; a final collection at
// shutdown. (The aggregation maths has its own tests.)
import test from 'ava';
import { AggregationTemporality, MetricRef } from '@otlp-mmap/protocol';
import { runCollector, waitFor } from './support/collector-process.js';
import type { TestWriter } from './support/mmap-writer.js';
import { e2e } from './support/setup.js';

function counter(writer: TestWriter, scope: bigint, name: string): bigint {
  const definition: MetricRef = {
    name,
    description: 'requests served',
    unit: '1',
    instrumentationScopeRef: scope,
    aggregation: { $case: 'sum', value: { aggregationTemporality: AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA, isMonotonic: true } },
  };
  return BigInt(writer.native.addEntry(MetricRef.encode(definition).finish()));
}

test('measurements are aggregated and exported at the metric interval, grouped under their resource and scope', async (t) => {
  const { receiver, writer, collector } = await e2e(t);
  const scope = writer.scope('meter', writer.resource({ 'service.name': 'metered' }));
  const requests = counter(writer, scope, 'requests');
  for (const v of [1n, 2n, 3n]) {
    writer.measurement({
      metricRef: requests,
      attributes: writer.attrs({ route: '/a' }),
      timeUnixNano: 1_700_000_000_000_000_000n,
      value: { $case: 'asLong', value: v },
      spanContext: undefined,
    });
  }
  const c = collector(['--endpoint', receiver.httpUrl, '--metric-interval', '200']);
  await waitFor(() => receiver.metricsReceived().some((m) => m.metric.name === 'requests'), 15_000, 'the requests metric');
  await c.stop();
  const got = receiver.metricsReceived().find((m) => m.metric.name === 'requests')!;
  t.is(got.resource['service.name'], 'metered');
  t.is(got.scope, 'meter');
  const data = got.metric.data;
  t.is(data?.$case, 'sum');
  if (data?.$case !== 'sum') return;
  t.true(data.value.isMonotonic);
  const point = data.value.dataPoints[0];
  t.deepEqual(point.value, { $case: 'asInt', value: 6n });
  t.is(point.attributes[0].key, 'route');
});

test('a final collection at SIGTERM exports measurements recorded since the last interval', async (t) => {
  const { receiver, writer, collector } = await e2e(t);
  const scope = writer.scope('meter', 0n);
  const hits = counter(writer, scope, 'hits');
  writer.measurement({ metricRef: hits, attributes: [], timeUnixNano: 1n, value: { $case: 'asLong', value: 5n }, spanContext: undefined });
  const c = collector(['--endpoint', receiver.httpUrl, '--metric-interval', '600000', '--stats', '--stats-interval', '50']);
  await waitFor(() => c.statusLines().some((s) => s.measurements_per_s > 0), 15_000, 'the measurement to be read');
  const exit = await c.stop('SIGTERM');
  t.is(exit.code, 0);
  t.true(receiver.metricsReceived().some((m) => m.metric.name === 'hits'));
});

function histogram(writer: TestWriter, scope: bigint, name: string, exponential: boolean): bigint {
  const temporality = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE;
  const definition: MetricRef = {
    name,
    description: '',
    unit: 's',
    instrumentationScopeRef: scope,
    aggregation: exponential
      ? { $case: 'expHist', value: { aggregationTemporality: temporality, maxBuckets: 160n, maxScale: 20n } }
      : { $case: 'histogram', value: { aggregationTemporality: temporality, bucketBoundaries: [] } },
  };
  return BigInt(writer.native.addEntry(MetricRef.encode(definition).finish()));
}

test('the JSON-lines output writes the sum, min and max of histogram points when they are 0, and -0 as -0', async (t) => {
  const { writer, path } = await e2e(t);
  const scope = writer.scope('meter', 0n);
  const record = (metricRef: bigint, value: number, k: string) =>
    writer.measurement({ metricRef, attributes: writer.attrs({ k }), timeUnixNano: 1n, value: { $case: 'asDouble', value }, spanContext: undefined });
  for (const [name, exponential] of [
    ['explicit', false],
    ['exponential', true],
  ] as const) {
    const ref = histogram(writer, scope, name, exponential);
    record(ref, 0, 'zero');
    record(ref, -0, 'negative-zero');
  }
  const d = await runCollector(['dump', path]);
  t.is(d.exit.code, 0, d.stderr);
  type Point = { attributes: { value: { stringValue: string } }[]; sum?: number; min?: number; max?: number };
  type Line = { resourceMetrics?: { scopeMetrics: { metrics: Record<string, { dataPoints: Point[] }>[] }[] }[] };
  // JSON.parse reads -0 as -0.
  const points = (d.jsonLines() as Line[]).flatMap((line) =>
    (line.resourceMetrics ?? []).flatMap((rm) =>
      rm.scopeMetrics.flatMap((sm) => sm.metrics.flatMap((m) => (m.histogram ?? m.exponentialHistogram)?.dataPoints ?? [])),
    ),
  );
  t.is(points.length, 4);
  for (const p of points) {
    const negative = p.attributes[0].value.stringValue === 'negative-zero';
    t.true(Object.is(p.sum, 0), `sum ${p.sum}`);
    t.true(Object.is(p.min, negative ? -0 : 0), `min ${p.min}`);
    t.true(Object.is(p.max, negative ? -0 : 0), `max ${p.max}`);
  }
});

test('a negative total of an observable counter is never exported: it is dropped, counted in the status line, and the next delta counts from the last valid total', async (t) => {
  const { receiver, writer, collector } = await e2e(t);
  const scope = writer.scope('meter', 0n);
  const define = (name: string, aggregation: MetricRef['aggregation']): bigint =>
    BigInt(writer.native.addEntry(MetricRef.encode({ name, description: '', unit: '1', instrumentationScopeRef: scope, aggregation }).finish()));
  const cpu = define('cpu.time', {
    $case: 'sum',
    value: { aggregationTemporality: AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE, isMonotonic: true },
  });
  // A gauge written after each observation: its value names the collection that read the observation.
  const marker = define('marker', { $case: 'gauge', value: {} });
  const write = (metricRef: bigint, value: bigint) =>
    writer.measurement({ metricRef, attributes: [], timeUnixNano: 1n, value: { $case: 'asLong', value }, spanContext: undefined });
  const collected = (round: bigint) =>
    receiver
      .metricsReceived()
      .some((m) => m.metric.name === 'marker' && m.metric.data?.$case === 'gauge' && m.metric.data.value.dataPoints[0]?.value?.value === round);
  const c = collector(['--endpoint', receiver.httpUrl, '--temporality', 'delta', '--self-metrics', 'off']);
  for (const [round, total] of [5n, -18n, 23n].entries()) {
    write(cpu, total);
    write(marker, BigInt(round));
    await waitFor(() => collected(BigInt(round)), 15_000, `the collection of round ${round}`);
  }
  const exit = await c.stop('SIGTERM');
  t.is(exit.code, 0, c.stderr);
  const values = receiver
    .metricsReceived()
    .filter((m) => m.metric.name === 'cpu.time')
    .flatMap((m) => (m.metric.data?.$case === 'sum' ? m.metric.data.value.dataPoints : []))
    .map((p) => p.value?.value);
  t.deepEqual(values, [5n, 18n]);
  const final = c.statusLines('final').at(-1)!;
  t.is(final.measurements_negative_monotonic_total, 1);
});
