// Metrics made through the SDK, end to end: a counter, a histogram with
// advised buckets and an observable gauge, recorded with @otlp-mmap/sdk in
// this process, aggregated by the collector (a child process) and received
// by a real OTLP receiver, over two collections: values, temporality and
// start times as OpenTelemetry defines them for each temporality preference.
//
// The collector is frozen (SIGSTOP) while a phase is written, so its next
// poll reads the whole phase at once and one collection holds all of it;
// the gauge's observation (7, then 3) tells which phase a collection holds.
import test, { type ExecutionContext } from 'ava';
import { ValueType } from '@opentelemetry/api';
import { otlpMetrics, type otlpMetricsService } from '@otlp-mmap/protocol';
import { startMmapSdk } from '@otlp-mmap/sdk';
import { tempDir } from '../helpers/files.js';
import { OtlpReceiver } from '../helpers/otlp-receiver.js';
import { CollectorProcess, waitFor } from './support/collector-process.js';
import { FAST } from './support/setup.js';

const { AGGREGATION_TEMPORALITY_CUMULATIVE: CUMULATIVE, AGGREGATION_TEMPORALITY_DELTA: DELTA } = otlpMetrics.AggregationTemporality;

type Request = otlpMetricsService.ExportMetricsServiceRequest;

/** What one collection exported for the three instruments of the meter `shop`. */
interface Collection {
  orders: otlpMetrics.Sum;
  latency: otlpMetrics.Histogram;
  depth: otlpMetrics.Gauge;
  resource: Record<string, unknown>;
  scopeVersion: string;
}

function shopMetric(request: Request, name: string): { metric: otlpMetrics.Metric; rm: otlpMetrics.ResourceMetrics; sm: otlpMetrics.ScopeMetrics } | undefined {
  for (const rm of request.resourceMetrics) {
    for (const sm of rm.scopeMetrics) {
      if (sm.scope?.name !== 'shop') continue;
      const metric = sm.metrics.find((m) => m.name === name);
      if (metric) return { metric, rm, sm };
    }
  }
  return undefined;
}

function ordersAt(request: Request, route: string): bigint | undefined {
  const data = shopMetric(request, 'orders')?.metric.data;
  if (data?.$case !== 'sum') return undefined;
  const point = data.value.dataPoints.find((p) => p.attributes.some((a) => a.key === 'route' && a.value?.value?.value === route));
  return point?.value?.$case === 'asInt' ? point.value.value : undefined;
}

/** The queue.depth observation a request carries: it tells the phases apart. */
function depthIn(request: Request): bigint | undefined {
  const data = shopMetric(request, 'queue.depth')?.metric.data;
  const value = data?.$case === 'gauge' ? data.value.dataPoints[0]?.value : undefined;
  return value?.$case === 'asInt' ? value.value : undefined;
}

function collection(request: Request): Collection {
  const orders = shopMetric(request, 'orders')!;
  const latency = shopMetric(request, 'latency')?.metric.data;
  const depth = shopMetric(request, 'queue.depth')?.metric.data;
  if (orders.metric.data?.$case !== 'sum' || latency?.$case !== 'histogram' || depth?.$case !== 'gauge') {
    throw new Error(`the collection lacks a metric: ${JSON.stringify(request, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
  }
  const resource: Record<string, unknown> = {};
  for (const kv of orders.rm.resource?.attributes ?? []) resource[kv.key] = kv.value?.value?.value;
  return { orders: orders.metric.data.value, latency: latency.value, depth: depth.value, resource, scopeVersion: orders.sm.scope?.version ?? '' };
}

function pointOf<P extends { attributes: { key: string; value?: { value?: { value: unknown } } }[] }>(points: P[], key: string, value: unknown): P | undefined {
  return points.find((p) => p.attributes.some((a) => a.key === key && a.value?.value?.value === value));
}

/**
 * Runs two phases of measurements through the SDK and a collector with the
 * temporality `preference`; returns the requests that carried each phase.
 */
async function twoCollections(t: ExecutionContext, preference: 'cumulative' | 'delta'): Promise<{ first: Request; second: Request; receiver: OtlpReceiver }> {
  const tmp = tempDir('otlp-mmap-sdk-metrics-');
  const receiver = await OtlpReceiver.start();
  const path = tmp.file('app.otlp-mmap');
  const sdk = startMmapSdk({ path, serviceName: 'metrics-e2e', registerGlobals: false, metricCollectionIntervalMillis: 3_600_000 });
  const collector = new CollectorProcess(['--input', path, ...FAST, '--endpoint', receiver.httpUrl, '--temporality', preference]);
  t.teardown(async () => {
    if (collector.running) {
      collector.resume();
      await collector.stop('SIGKILL');
    }
    await sdk.shutdown();
    await receiver.close();
    tmp.cleanup();
  });

  const meter = sdk.meterProvider.getMeter('shop', '2.0.0');
  const orders = meter.createCounter('orders', { valueType: ValueType.INT, unit: '{order}' });
  const latency = meter.createHistogram('latency', { unit: 'ms', advice: { explicitBucketBoundaries: [10, 100] } });
  let depth = 7;
  meter.createObservableGauge('queue.depth', { valueType: ValueType.INT }).addCallback((result) => result.observe(depth, { queue: 'q1' }));

  // Phase 1.
  await collector.pause();
  orders.add(2, { route: '/a' });
  orders.add(3, { route: '/a' });
  orders.add(1, { route: '/b' });
  for (const v of [5, 10, 50]) latency.record(v);
  await sdk.forceFlush(); // observes queue.depth = 7
  collector.resume();
  const phase1 = (r: Request) => depthIn(r) === 7n;
  await waitFor(() => receiver.metrics.some(phase1), 60_000, 'the collection of phase 1');

  // Phase 2.
  await collector.pause();
  orders.add(4, { route: '/a' });
  for (const v of [100, 1000]) latency.record(v);
  depth = 3;
  await sdk.forceFlush();
  collector.resume();
  const phase2 = (r: Request) => depthIn(r) === 3n;
  await waitFor(() => receiver.metrics.some(phase2), 60_000, 'the collection of phase 2');

  const exit = await collector.stop('SIGTERM', 60_000);
  t.is(exit.code, 0, collector.stderr);
  return { first: receiver.metrics.find(phase1)!, second: receiver.metrics.find(phase2)!, receiver };
}

test('cumulative preference: totals grow across collections from one fixed start time per series', async (t) => {
  const { first, second } = await twoCollections(t, 'cumulative');
  const c1 = collection(first);
  const c2 = collection(second);

  t.is(c1.resource['service.name'], 'metrics-e2e');
  t.is(c1.scopeVersion, '2.0.0');

  // Counter: a cumulative, monotonic integer sum per route.
  for (const c of [c1, c2]) {
    t.is(c.orders.aggregationTemporality, CUMULATIVE);
    t.true(c.orders.isMonotonic);
  }
  const a1 = pointOf(c1.orders.dataPoints, 'route', '/a')!;
  const a2 = pointOf(c2.orders.dataPoints, 'route', '/a')!;
  const b2 = pointOf(c2.orders.dataPoints, 'route', '/b')!;
  t.deepEqual(a1.value, { $case: 'asInt', value: 5n });
  t.deepEqual(a2.value, { $case: 'asInt', value: 9n });
  t.deepEqual(b2.value, { $case: 'asInt', value: 1n }, 'a series without new measurements keeps its total');
  t.is(a2.startTimeUnixNano, a1.startTimeUnixNano, 'the start time stays fixed');
  t.true(a1.startTimeUnixNano > 0n && a1.startTimeUnixNano <= a1.timeUnixNano);
  t.true(a2.timeUnixNano > a1.timeUnixNano);

  // Histogram: cumulative counts over the advised boundaries.
  const h1 = c1.latency.dataPoints[0];
  const h2 = c2.latency.dataPoints[0];
  t.is(c2.latency.aggregationTemporality, CUMULATIVE);
  t.deepEqual(h1.explicitBounds, [10, 100]);
  t.deepEqual([h1.count, h1.sum, h1.min, h1.max, h1.bucketCounts], [3n, 65, 5, 50, [2n, 1n, 0n]], 'a value equal to a boundary counts in the lower bucket');
  t.deepEqual([h2.count, h2.sum, h2.min, h2.max, h2.bucketCounts], [5n, 1165, 5, 1000, [2n, 2n, 1n]]);
  t.is(h2.startTimeUnixNano, h1.startTimeUnixNano);
  t.true(h1.startTimeUnixNano <= h1.timeUnixNano && h2.timeUnixNano > h1.timeUnixNano);

  // Observable gauge: the last observation.
  const g1 = pointOf(c1.depth.dataPoints, 'queue', 'q1')!;
  const g2 = pointOf(c2.depth.dataPoints, 'queue', 'q1')!;
  t.deepEqual(g1.value, { $case: 'asInt', value: 7n });
  t.deepEqual(g2.value, { $case: 'asInt', value: 3n });
  t.true(g2.timeUnixNano > g1.timeUnixNano);
});

test('delta preference: each collection holds only its interval, starting where the previous collection ended', async (t) => {
  const { first, second, receiver } = await twoCollections(t, 'delta');
  const c1 = collection(first);
  const c2 = collection(second);

  for (const c of [c1, c2]) {
    t.is(c.orders.aggregationTemporality, DELTA);
    t.is(c.latency.aggregationTemporality, DELTA);
  }
  const a1 = pointOf(c1.orders.dataPoints, 'route', '/a')!;
  const a2 = pointOf(c2.orders.dataPoints, 'route', '/a')!;
  t.deepEqual(a1.value, { $case: 'asInt', value: 5n });
  t.deepEqual(pointOf(c1.orders.dataPoints, 'route', '/b')?.value, { $case: 'asInt', value: 1n });
  t.deepEqual(a2.value, { $case: 'asInt', value: 4n });
  t.is(pointOf(c2.orders.dataPoints, 'route', '/b'), undefined, 'a series without new measurements is not exported');
  t.true(a1.startTimeUnixNano < a1.timeUnixNano);
  t.true(a2.startTimeUnixNano >= a1.timeUnixNano, 'the second interval starts no earlier than the first collection');
  t.true(a2.startTimeUnixNano < a2.timeUnixNano);

  const h1 = c1.latency.dataPoints[0];
  const h2 = c2.latency.dataPoints[0];
  t.deepEqual([h1.count, h1.sum, h1.min, h1.max, h1.bucketCounts], [3n, 65, 5, 50, [2n, 1n, 0n]]);
  t.deepEqual([h2.count, h2.sum, h2.min, h2.max, h2.bucketCounts], [2n, 1100, 100, 1000, [0n, 1n, 1n]], 'min and max restart each interval');
  t.true(h2.startTimeUnixNano >= h1.timeUnixNano && h2.startTimeUnixNano < h2.timeUnixNano);

  t.deepEqual(pointOf(c1.depth.dataPoints, 'queue', 'q1')?.value, { $case: 'asInt', value: 7n });
  t.deepEqual(pointOf(c2.depth.dataPoints, 'queue', 'q1')?.value, { $case: 'asInt', value: 3n });

  // Every increment was exported exactly once, whatever other collections ran.
  const exported = receiver.metrics.map((r) => ordersAt(r, '/a')).filter((v) => v !== undefined);
  t.deepEqual(exported, [5n, 4n]);
});
