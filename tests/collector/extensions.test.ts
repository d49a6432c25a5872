// The extension fields of FORMAT.md section 8, end to end: what the
// application gives the SDK (a span's tracestate, what span limits drop, a
// log record's observed time, the dropped attributes of log records and span
// events, the schema URLs of the resource and of each scope) goes through the
// file and the collector (a child process) to a real OTLP receiver, over
// gRPC, HTTP/protobuf, HTTP/JSON and the JSON-lines output. And a file
// without extensions (written by the tests' own writer, which knows only the
// defaults) exports the OTLP defaults.
import test from 'ava';
import { context, createTraceState, trace, TraceFlags } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { startMmapSdk } from '@otlp-mmap/sdk';
import { fromJson, OtlpReceiver, type ReceivedLog, type ReceivedSpan } from '../helpers/otlp-receiver.js';
import { tempDir } from '../helpers/files.js';
import { CollectorProcess, waitFor } from './support/collector-process.js';
import { FAST, e2e } from './support/setup.js';
import type { otlpLogsService, otlpMetricsService, otlpTraceService } from '@otlp-mmap/protocol';

const RESOURCE_SCHEMA = 'https://opentelemetry.io/schemas/1.26.0';
const TRACER_SCHEMA = 'https://example.com/schemas/tracer/1.0';
const OTHER_TRACER_SCHEMA = 'https://example.com/schemas/tracer/2.0';
const LOGGER_SCHEMA = 'https://example.com/schemas/logger/1.0';
const METER_SCHEMA = 'https://example.com/schemas/meter/1.0';
const TRACE_STATE = 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7';
/** 2023-11-14T22:13:20.123456Z as an HrTime (a number that old would read as a performance.now() value). */
const OBSERVED: [number, number] = [1_700_000_000, 123_456_000];

/** Writes the telemetry every protocol test expects, through the SDK into `path`. */
async function writeThroughSdk(path: string): Promise<void> {
  const sdk = startMmapSdk({
    path,
    registerGlobals: false,
    resource: resourceFromAttributes({ 'service.name': 'extensions' }, { schemaUrl: RESOURCE_SCHEMA }),
    resourceDetectors: [],
    spanLimits: { attributeCountLimit: 2, eventCountLimit: 1, linkCountLimit: 1, attributePerEventCountLimit: 1 },
    logRecordLimits: { attributeCountLimit: 1 },
    metricCollectionIntervalMillis: 3_600_000,
  });
  try {
    const remoteParent = trace.setSpanContext(context.active(), {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
      traceState: createTraceState(TRACE_STATE),
    });
    const link = (n: number) => ({ context: { traceId: `${'1'.repeat(31)}${n}`, spanId: `${'2'.repeat(15)}${n}`, traceFlags: 1 } });
    const tracer = sdk.tracerProvider.getTracer('ext-tracer', '1.0.0', { schemaUrl: TRACER_SCHEMA });
    const span = tracer.startSpan('limited', { attributes: { a: 1, b: 2, c: 3 }, links: [link(1), link(2)] }, remoteParent);
    span.setAttribute('d', 4); // over the limit after the start
    span.addEvent('first', { kept: 1, dropped: 2, 'also.dropped': 3 });
    span.addEvent('second'); // over the event limit
    span.end();
    // The same scope name and version with another schema URL: another scope.
    sdk.tracerProvider.getTracer('ext-tracer', '1.0.0', { schemaUrl: OTHER_TRACER_SCHEMA }).startSpan('other-schema').end();
    // No trace state, nothing over a limit: no extension written, OTLP defaults exported.
    sdk.tracerProvider.getTracer('plain-tracer').startSpan('plain').end();

    const logger = sdk.loggerProvider.getLogger('ext-logger', '1.0.0', { schemaUrl: LOGGER_SCHEMA });
    logger.emit({ severityNumber: SeverityNumber.INFO, body: 'observed earlier', observedTimestamp: OBSERVED, attributes: { kept: 1, dropped: 2, more: 3 } });
    const counter = sdk.meterProvider.getMeter('ext-meter', '1.0.0', { schemaUrl: METER_SCHEMA }).createCounter('ext.count');
    counter.add(1);
  } finally {
    await sdk.shutdown();
  }
}

interface Exported {
  traces: otlpTraceService.ExportTraceServiceRequest[];
  logs: otlpLogsService.ExportLogsServiceRequest[];
  metrics: otlpMetricsService.ExportMetricsServiceRequest[];
}

function checkExported(t: import('ava').ExecutionContext, exported: Exported): void {
  const resourceSpans = exported.traces.flatMap((r) => r.resourceSpans);
  const scopeSpans = resourceSpans.flatMap((rs) => rs.scopeSpans);
  const spans = scopeSpans.flatMap((ss) => ss.spans);
  const limited = spans.find((s) => s.name === 'limited');
  t.truthy(limited);
  t.is(limited!.traceState, TRACE_STATE, 'Span.trace_state');
  t.is(limited!.droppedAttributesCount, 2, 'one attribute over the limit at the start, one set after it');
  t.is(limited!.droppedEventsCount, 1);
  t.is(limited!.droppedLinksCount, 1);
  t.is(limited!.events.length, 1);
  t.is(limited!.events[0].droppedAttributesCount, 2, 'Span.Event.dropped_attributes_count');
  const plain = spans.find((s) => s.name === 'plain');
  t.deepEqual(
    [plain!.traceState, plain!.droppedAttributesCount, plain!.droppedEventsCount, plain!.droppedLinksCount],
    ['', 0, 0, 0],
    'defaults where nothing was dropped',
  );
  t.true(resourceSpans.length > 0 && resourceSpans.every((rs) => rs.schemaUrl === RESOURCE_SCHEMA), 'ResourceSpans.schema_url');
  const extScopes = scopeSpans.filter((ss) => ss.scope?.name === 'ext-tracer');
  t.deepEqual(extScopes.map((ss) => [ss.schemaUrl, ss.spans.map((s) => s.name)]).sort(), [
    [TRACER_SCHEMA, ['limited']],
    [OTHER_TRACER_SCHEMA, ['other-schema']],
  ]);
  t.is(scopeSpans.find((ss) => ss.scope?.name === 'plain-tracer')?.schemaUrl, '');

  const resourceLogs = exported.logs.flatMap((r) => r.resourceLogs);
  const scopeLogs = resourceLogs.flatMap((rl) => rl.scopeLogs);
  const log = scopeLogs.flatMap((sl) => sl.logRecords).find((r) => r.body?.value?.$case === 'stringValue' && r.body.value.value === 'observed earlier');
  t.truthy(log);
  t.is(log!.observedTimeUnixNano, 1_700_000_000_123_456_000n, 'LogRecord.observed_time_unix_nano as the application gave it');
  t.is(log!.droppedAttributesCount, 2, 'LogRecord.dropped_attributes_count');
  t.true(
    resourceLogs.every((rl) => rl.schemaUrl === RESOURCE_SCHEMA),
    'ResourceLogs.schema_url',
  );
  t.deepEqual(
    scopeLogs.map((sl) => [sl.scope?.name, sl.schemaUrl]),
    [['ext-logger', LOGGER_SCHEMA]],
  );

  const resourceMetrics = exported.metrics.flatMap((r) => r.resourceMetrics);
  const extMeter = resourceMetrics.flatMap((rm) => rm.scopeMetrics.map((sm) => ({ rm, sm }))).find(({ sm }) => sm.scope?.name === 'ext-meter');
  t.truthy(extMeter, 'the counter arrives');
  t.is(extMeter!.sm.schemaUrl, METER_SCHEMA, 'ScopeMetrics.schema_url');
  t.is(extMeter!.rm.schemaUrl, RESOURCE_SCHEMA, 'ResourceMetrics.schema_url');
}

for (const protocol of ['grpc', 'http/protobuf', 'http/json'] as const) {
  test(`every extension field written by the SDK arrives over ${protocol}`, async (t) => {
    const tmp = tempDir();
    const receiver = await OtlpReceiver.start();
    const path = tmp.file('ext.otlp-mmap');
    let collector: CollectorProcess | undefined;
    t.teardown(async () => {
      if (collector?.running) await collector.stop('SIGKILL');
      await receiver.close();
      tmp.cleanup();
    });
    await writeThroughSdk(path);
    const endpoint = protocol === 'grpc' ? receiver.grpcUrl : receiver.httpUrl;
    collector = new CollectorProcess(['--input', path, ...FAST, '--endpoint', endpoint, '--protocol', protocol]);
    await waitFor(() => receiver.spans().length >= 3 && receiver.logRecords().length >= 1, 15_000, 'spans and the log record');
    await collector.stop(); // the final metric collection at SIGTERM
    checkExported(t, { traces: receiver.traces, logs: receiver.logs, metrics: receiver.metrics });
  });
}

test('every extension field written by the SDK arrives in the JSON-lines output', async (t) => {
  const tmp = tempDir();
  const path = tmp.file('ext.otlp-mmap');
  let collector: CollectorProcess | undefined;
  t.teardown(async () => {
    if (collector?.running) await collector.stop('SIGKILL');
    tmp.cleanup();
  });
  await writeThroughSdk(path);
  collector = new CollectorProcess(['--input', path, ...FAST]);
  await waitFor(
    () => collector!.jsonLines().some((l) => 'resourceSpans' in l) && collector!.jsonLines().some((l) => 'resourceLogs' in l),
    15_000,
    'two JSON lines',
  );
  await collector.stop();
  const lines = collector.jsonLines();
  const raw = lines.find((l) => 'resourceSpans' in l) as { resourceSpans: { schemaUrl?: string }[] };
  t.is(raw.resourceSpans[0].schemaUrl, RESOURCE_SCHEMA, 'schemaUrl in lowerCamelCase, as OTLP/JSON spells it');
  checkExported(t, {
    traces: lines.filter((l) => 'resourceSpans' in l).map((l) => fromJson('traces', l) as otlpTraceService.ExportTraceServiceRequest),
    logs: lines.filter((l) => 'resourceLogs' in l).map((l) => fromJson('logs', l) as otlpLogsService.ExportLogsServiceRequest),
    metrics: lines.filter((l) => 'resourceMetrics' in l).map((l) => fromJson('metrics', l) as otlpMetricsService.ExportMetricsServiceRequest),
  });
});

test('a file without extension fields exports the OTLP defaults, and log records observed at read time', async (t) => {
  const { receiver, writer, collector } = await e2e(t);
  // The tests' writer encodes with the generated codecs, which leave default (absent) extensions out.
  const scope = writer.scope('base-only', writer.resource({ 'service.name': 'base' }));
  writer.startSpan(scope, 1, 1, 'op', { k: 'v' });
  writer.spanEvent(scope, 1, 1, 'evt', { a: 1 });
  writer.endSpan(scope, 1, 1);
  writer.log(scope, 'hello');
  const before = BigInt(Date.now()) * 1_000_000n;
  const c = collector(['--endpoint', receiver.grpcUrl, '--protocol', 'grpc']);
  await waitFor(() => receiver.spans().length >= 1 && receiver.logRecords().length >= 1, 15_000, 'span and log');
  await c.stop();
  const after = BigInt(Date.now()) * 1_000_000n;
  const [span]: ReceivedSpan[] = receiver.spans();
  t.deepEqual(
    [
      span.span.traceState,
      span.span.droppedAttributesCount,
      span.span.droppedEventsCount,
      span.span.droppedLinksCount,
      span.span.events[0].droppedAttributesCount,
    ],
    ['', 0, 0, 0, 0],
  );
  t.deepEqual([span.resourceSchemaUrl, span.scopeSchemaUrl], ['', '']);
  const [log]: ReceivedLog[] = receiver.logRecords();
  t.deepEqual([log.record.droppedAttributesCount, log.resourceSchemaUrl, log.scopeSchemaUrl], [0, '', '']);
  t.true(log.record.observedTimeUnixNano >= before && log.record.observedTimeUnixNano <= after, 'observed when the collector read it');
});

test('extension fields written by another writer (the generated encoder) are exported as they are', async (t) => {
  const { receiver, writer, collector } = await e2e(t);
  const scope = writer.scope('counts', writer.resource({ 'service.name': 'counts' }, 'https://example.com/r'), '1.0.0', 'https://example.com/s');
  writer.startSpan(scope, 1, 1, 'op', { a: 1 }, undefined, 'k=v');
  writer.endSpan(scope, 1, 1, undefined, undefined, { attributes: 5, events: 6, links: 7 });
  writer.event({
    scopeRef: scope,
    body: { value: { $case: 'stringValue', value: 'x' } },
    severityNumber: 9,
    observedTimeUnixNano: 42n,
    droppedAttributesCount: 3,
  });
  const c = collector(['--endpoint', receiver.grpcUrl, '--protocol', 'grpc']);
  await waitFor(() => receiver.spans().length >= 1 && receiver.logRecords().length >= 1, 15_000, 'span and log');
  await c.stop();
  const [span] = receiver.spans();
  t.deepEqual(
    [
      span.span.traceState,
      span.span.droppedAttributesCount,
      span.span.droppedEventsCount,
      span.span.droppedLinksCount,
      span.resourceSchemaUrl,
      span.scopeSchemaUrl,
    ],
    ['k=v', 5, 6, 7, 'https://example.com/r', 'https://example.com/s'],
  );
  const [log] = receiver.logRecords();
  t.deepEqual([log.record.observedTimeUnixNano, log.record.droppedAttributesCount], [42n, 3]);
});
