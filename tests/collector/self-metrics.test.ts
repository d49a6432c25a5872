// The collector's own metrics: exported where the application's metrics go,
// under the collector's own resource, at each metric collection and once
// more at the end; their values are the final status line's, field by field.
import test from 'ava';
import { AggregationTemporality, MetricRef, type otlpMetrics } from '@otlp-mmap/protocol';
import { attributeMap, OtlpReceiver } from '../helpers/otlp-receiver.js';
import { waitFor, type CollectorProcess } from './support/collector-process.js';
import { RING_SPANS, type TestWriter } from './support/mmap-writer.js';
import { e2e } from './support/setup.js';

const SELF = 'otlp-mmap-collector';

interface Received {
  readonly resource: Record<string, unknown>;
  readonly scope: string;
  readonly metric: otlpMetrics.Metric;
}

/** The collector's own metrics of each request that carried them, in arrival order. */
function selfRequests(receiver: OtlpReceiver): Received[][] {
  return receiver.metrics
    .map((request) =>
      request.resourceMetrics
        .filter((rm) => attributeMap(rm.resource?.attributes ?? [])['service.name'] === SELF)
        .flatMap((rm) =>
          rm.scopeMetrics.flatMap((sm) =>
            sm.metrics.map((metric) => ({ resource: attributeMap(rm.resource?.attributes ?? []), scope: sm.scope?.name ?? '', metric })),
          ),
        ),
    )
    .filter((metrics) => metrics.length > 0);
}

function points(metric: otlpMetrics.Metric): { attributes: Record<string, unknown>; value: number }[] {
  const data = metric.data;
  if (data?.$case !== 'sum' && data?.$case !== 'gauge') throw new Error(`${metric.name}: not a sum`);
  return data.value.dataPoints.map((p) => ({
    attributes: attributeMap(p.attributes),
    value: Number(p.value?.$case === 'asInt' ? p.value.value : (p.value?.value ?? NaN)),
  }));
}

const SIGNAL_OF_ITEM: Record<string, string> = { span: 'traces', log: 'logs', metric_data_point: 'metrics' };
/** Reasons a ring counts that are not about one kind of message (the rest of the measurements ring's reasons are the aggregation's). */
const RING_REASONS = new Set(['undecodable', 'failed', 'abandoned', 'skipped_uncommitted', 'corrupt', 'resync_skipped']);

/**
 * The status-line fields that the metrics tell, worked out from the metrics
 * alone by the README's table: the specification this test holds the
 * collector to (independent of its code).
 */
function statusFieldsOf(metrics: readonly Received[]): Record<string, number> {
  const fields: Record<string, number> = {};
  const add = (key: string, value: number): void => {
    fields[key] = (fields[key] ?? 0) + value;
  };
  for (const { metric } of metrics) {
    const exporter = /^otel\.sdk\.exporter\.(span|log|metric_data_point)\.(exported|inflight)$/.exec(metric.name);
    for (const { attributes: a, value } of points(metric)) {
      if (exporter) {
        const signal = SIGNAL_OF_ITEM[exporter[1]];
        if (exporter[2] === 'inflight') add(`queued_${signal}`, value);
        else if (a['error.type'] === undefined) add(`exported_${signal}`, value);
        else if (a['error.type'] === 'rejected') add(`rejected_${signal}`, value);
        else add(`dropped_${signal}`, value);
        continue;
      }
      const ring = a['otlp_mmap.ring'] as string | undefined;
      const reason = a['error.type'] as string | undefined;
      switch (metric.name) {
        case 'otlp_mmap.collector.exporter.retries':
          add('retries', value);
          break;
        case 'otlp_mmap.collector.ring.read':
          add(`read_${ring}`, value);
          break;
        case 'otlp_mmap.collector.ring.lag':
          add(`lag_${ring}`, value);
          break;
        case 'otlp_mmap.collector.ring.lap32_committed':
          add(`lap32_committed_${ring}`, value);
          add('lap32_committed', value);
          break;
        case 'otlp_mmap.collector.ring.resyncs':
          add(`resyncs_${ring}`, value);
          add('resyncs', value);
          break;
        case 'otlp_mmap.collector.ring.dropped':
          if (reason === 'invalid_span') add('invalid_spans', value);
          else if (reason === 'unknown_span_update') add('unknown_span_updates', value);
          else if (ring === 'measurements' && !RING_REASONS.has(reason!)) add(`measurements_${reason}`, value);
          else {
            add(`${reason}_${ring}`, value);
            add(reason!, value);
          }
          break;
        case 'otlp_mmap.collector.span.open':
          add('open_spans', value);
          break;
        case 'otlp_mmap.collector.span.incomplete':
          add('incomplete_spans', value);
          break;
        case 'otlp_mmap.collector.span.evicted':
          add('evicted_spans', value);
          break;
        case 'otlp_mmap.collector.span.replaced':
          add('replaced_spans', value);
          break;
        case 'otlp_mmap.collector.span_event.orphaned':
          add('orphan_span_events', value);
          break;
        case 'otlp_mmap.collector.reference.unresolved':
          add('unresolved', value);
          break;
        case 'otlp_mmap.collector.measurement.aggregated':
          add('measurements_aggregated', value);
          break;
        case 'otlp_mmap.collector.file.resets':
          add('resets', value);
          break;
        case 'otlp_mmap.collector.file.truncations':
          add('truncations', value);
          break;
        case 'otlp_mmap.collector.file.truncation_lost':
          add('lost_truncated', value);
          break;
        case 'process.memory.usage':
          add('rss_mb', Math.round(value / 1048576));
          break;
        default:
          throw new Error(`a metric the README's table does not name: ${metric.name}`);
      }
    }
  }
  return fields;
}

function counter(writer: TestWriter, scope: bigint, name: string): bigint {
  const definition: MetricRef = {
    name,
    description: '',
    unit: '1',
    instrumentationScopeRef: scope,
    aggregation: { $case: 'sum', value: { aggregationTemporality: AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA, isMonotonic: true } },
  };
  return BigInt(writer.native.addEntry(MetricRef.encode(definition).finish()));
}

/** Spans, a log record, a measurement, and records the collector counts instead of exporting: an undecodable message, an update for an unknown span, a measurement of an unknown metric. */
function writeMix(writer: TestWriter): void {
  const scope = writer.scope('app-lib', writer.resource({ 'service.name': 'the-app' }));
  for (let i = 1; i <= 5; i++) {
    writer.startSpan(scope, 1, i, `op${i}`);
    writer.endSpan(scope, 1, i);
  }
  writer.startSpan(scope, 1, 99, 'still open');
  writer.log(scope, 'hello');
  writer.endSpan(scope, 7, 7); // a span that was never started
  writer.native.append(RING_SPANS, new Uint8Array([0xff, 0xff, 0xff])); // does not decode
  const hits = counter(writer, scope, 'hits');
  writer.measurement({ metricRef: hits, attributes: [], timeUnixNano: 1n, value: { $case: 'asLong', value: 3n }, spanContext: undefined });
  writer.measurement({ metricRef: 999_999n, attributes: [], timeUnixNano: 1n, value: { $case: 'asLong', value: 1n }, spanContext: undefined });
}

function withoutRates(line: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(line).filter(([k]) => !k.endsWith('_per_s')));
}

/** Runs a collector over a mix of good and bad records: traces (HTTP) retried once, logs to a closed port (given up), metrics over gRPC. */
async function runMix(
  t: Parameters<typeof e2e>[0],
  extra: readonly string[] = [],
): Promise<{ c: CollectorProcess; metricsReceiver: OtlpReceiver; tracesReceiver: OtlpReceiver }> {
  const { receiver: tracesReceiver, writer, collector } = await e2e(t);
  const metricsReceiver = await OtlpReceiver.start();
  t.teardown(() => metricsReceiver.close());
  writeMix(writer);
  tracesReceiver.failNext(1);
  const c = collector(
    [
      '--stats',
      '--stats-interval',
      '100000',
      '--retry-max-elapsed',
      '1500',
      '--traces-endpoint',
      `${tracesReceiver.httpUrl}/v1/traces`,
      '--logs-endpoint',
      'http://127.0.0.1:9/v1/logs',
      '--metrics-endpoint',
      metricsReceiver.grpcUrl,
      ...extra,
    ],
    { OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'grpc' },
  );
  await waitFor(() => tracesReceiver.spans().length >= 5 && /logs: dropped 1 items/.test(c.stderr), 20_000, 'the spans delivered and the log record given up');
  return { c, metricsReceiver, tracesReceiver };
}

test("the collector's own metrics reach the metrics endpoint under its own resource, and their last values are the final status line's", async (t) => {
  const { c, metricsReceiver, tracesReceiver } = await runMix(t);
  await waitFor(() => selfRequests(metricsReceiver).length >= 2, 15_000, 'two exports of the metrics at the interval');
  const exit = await c.stop();
  t.is(exit.code, 0, c.stderr);

  const requests = selfRequests(metricsReceiver);
  const last = requests.at(-1)!;
  const final = c.statusLines('final').at(-1)!;
  const nonZero = (fields: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== 0));
  t.deepEqual(nonZero(statusFieldsOf(last)), nonZero(withoutRates(final)), 'every non-zero field of the final status line, and nothing else');
  for (const [key, value] of Object.entries(withoutRates(final))) t.is(statusFieldsOf(last)[key] ?? 0, value, key);

  // What the mix should have produced, so the comparison above is not of zeros.
  t.is(final.exported_traces, 6, 'five ended spans and the open one, incomplete at shutdown');
  t.is(final.incomplete_spans, 1);
  t.is(final.dropped_logs, 1);
  t.true(final.retries >= 1);
  t.is(final.undecodable_spans, 1);
  t.is(final.unknown_span_updates, 1);
  t.is(final.measurements_unresolved_metric, 1);
  t.is(final.measurements_aggregated, 1);

  // Resource and scope: the collector's own, apart from the application's.
  const resource = last[0].resource;
  t.is(resource['service.name'], SELF);
  t.regex(String(resource['service.version']), /^\d+\.\d+\.\d+/);
  t.regex(String(resource['service.instance.id']), /^[0-9a-f-]{36}$/);
  t.is(resource['process.pid'], BigInt(c.child.pid!));
  t.true(requests.every((r) => r[0].resource['service.instance.id'] === resource['service.instance.id']));
  t.is(last[0].scope, '@otlp-mmap/collector');
  const app = metricsReceiver.metricsReceived().filter((m) => m.resource['service.name'] === 'the-app');
  t.true(
    app.some((m) => m.metric.name === 'hits'),
    "the application's metric still arrives under the application's resource",
  );
  t.false(app.some((m) => m.metric.name.startsWith('otel.') || m.metric.name.startsWith('otlp_mmap.')));

  // Semantic-convention attributes.
  const byName = new Map(last.map((m) => [m.metric.name, m.metric]));
  const spansExported = points(byName.get('otel.sdk.exporter.span.exported')!);
  t.deepEqual(spansExported, [
    {
      attributes: {
        'otel.component.type': 'otlp_http_span_exporter',
        'otel.component.name': 'otlp_http_span_exporter/0',
        'server.address': '127.0.0.1',
        'server.port': BigInt(new URL(tracesReceiver.httpUrl).port),
      },
      value: 6,
    },
  ]);
  const logsExported = points(byName.get('otel.sdk.exporter.log.exported')!);
  t.deepEqual(
    logsExported.find((p) => p.attributes['error.type'] !== undefined),
    {
      attributes: {
        'otel.component.type': 'otlp_http_log_exporter',
        'otel.component.name': 'otlp_http_log_exporter/0',
        'server.address': '127.0.0.1',
        'server.port': 9n,
        'error.type': 'ECONNREFUSED',
      },
      value: 1,
    },
    'a log record given up, with the cause of its last attempt',
  );
  t.true(
    points(byName.get('otlp_mmap.collector.exporter.retries')!).some(
      (p) => p.attributes['error.type'] === '503' && p.attributes['otel.component.type'] === 'otlp_http_span_exporter',
    ),
  );
  t.is(points(byName.get('otel.sdk.exporter.metric_data_point.inflight')!)[0].attributes['otel.component.type'], 'otlp_grpc_metric_exporter');
  const memory = byName.get('process.memory.usage')!;
  t.is(memory.unit, 'By');
  t.is(memory.data?.$case, 'sum');
  if (memory.data?.$case === 'sum') t.false(memory.data.value.isMonotonic);
  const read = byName.get('otel.sdk.exporter.span.exported')!;
  if (read.data?.$case === 'sum') {
    t.true(read.data.value.isMonotonic);
    t.is(read.data.value.aggregationTemporality, AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE);
  }
});

test('with --temporality delta the counters are deltas that add up to the final status line', async (t) => {
  const { c, metricsReceiver } = await runMix(t, ['--temporality', 'delta']);
  await waitFor(() => selfRequests(metricsReceiver).length >= 2, 15_000, 'two exports of the metrics');
  await c.stop();
  const requests = selfRequests(metricsReceiver);
  const final = c.statusLines('final').at(-1)!;
  let sumRead = 0;
  let previousEnd: bigint | undefined;
  for (const request of requests) {
    const metric = request.find((m) => m.metric.name === 'otlp_mmap.collector.ring.read')!.metric;
    if (metric.data?.$case !== 'sum') throw new Error('not a sum');
    t.is(metric.data.value.aggregationTemporality, AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA);
    const spans = metric.data.value.dataPoints.find((p) => attributeMap(p.attributes)['otlp_mmap.ring'] === 'spans')!;
    if (previousEnd !== undefined) t.is(spans.startTimeUnixNano, previousEnd, 'each delta starts where the previous one ended');
    previousEnd = spans.timeUnixNano;
    sumRead += Number(spans.value?.$case === 'asInt' ? spans.value.value : 0);
  }
  t.is(sumRead, final.read_spans);
  const open = requests.at(-1)!.find((m) => m.metric.name === 'otlp_mmap.collector.span.open')!.metric;
  if (open.data?.$case === 'sum')
    t.is(open.data.value.aggregationTemporality, AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE, 'a level stays cumulative');
});

for (const [how, args, env] of [
  ['--self-metrics off', ['--self-metrics', 'off'], {}],
  ['SDK_MMAP_COLLECTOR_SELF_METRICS=off', [], { SDK_MMAP_COLLECTOR_SELF_METRICS: 'off' }],
] as const) {
  test(`${how} turns the collector's own metrics off; the application's metrics still go`, async (t) => {
    const { receiver, writer, collector } = await e2e(t);
    writeMix(writer);
    const c = collector(['--endpoint', receiver.httpUrl, ...args], env);
    await waitFor(() => receiver.metricsReceived().some((m) => m.metric.name === 'hits'), 15_000, "the application's metric");
    await new Promise((resolve) => setTimeout(resolve, 600)); // three more metric intervals
    await c.stop();
    t.is(selfRequests(receiver).length, 0);
    t.true(receiver.metricsReceived().every((m) => m.resource['service.name'] === 'the-app'));
  });
}

test("by default the metrics go to JSON lines without any of the collector's own; --self-metrics on adds them there too", async (t) => {
  const { writer, collector } = await e2e(t);
  writeMix(writer);
  const quiet = collector([]);
  await waitFor(() => quiet.jsonLines().some((l) => 'resourceMetrics' in l), 15_000, 'the metrics line');
  await quiet.stop();
  t.false(quiet.stdout.includes(SELF));
  const { writer: w2, collector: c2 } = await e2e(t);
  writeMix(w2);
  const loud = c2(['--self-metrics', 'on']);
  await waitFor(() => loud.stdout.includes(`"stringValue":"${SELF}"`), 15_000, "the collector's own metrics in the JSON lines");
  await loud.stop();
  t.pass();
});
