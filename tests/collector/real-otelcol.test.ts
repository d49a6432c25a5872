// Against a real OpenTelemetry Collector, built from its Go modules
// (tests/otelcol): telemetry made through @otlp-mmap/sdk into a file, drained
// by this collector and exported over gRPC with mTLS (certificates made for
// the run) to the OpenTelemetry Collector's OTLP receiver, whose file
// exporter writes what it accepted as OTLP/JSON lines.
//
// Building that collector needs Go and the Go module proxy: the first build
// takes minutes (the binary is then cached under tests/otelcol/bin/). Without
// Go the test fails, saying so: it is the proof that the export is accepted
// by the reference implementation, not an optional extra.
import test from 'ava';
import { SpanStatusCode } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { startMmapSdk } from '@otlp-mmap/sdk';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { makeTestCertificates } from '../helpers/certificates.js';
import { tempDir } from '../helpers/files.js';
import { buildOtelcol, freePort, Otelcol, OTELCOL_BUILD_TIMEOUT_MS } from '../helpers/otelcol.js';
import { fromJson, attributeMap, type ReceivedSignal } from '../helpers/otlp-receiver.js';
import { CollectorProcess, waitFor } from './support/collector-process.js';
import { FAST } from './support/setup.js';
import type { otlpLogsService, otlpTraceService } from '@otlp-mmap/protocol';

type Json = Record<string, unknown>;

/** The file exporter's lines, by signal. */
function readOutput(path: string): { traces: otlpTraceService.ExportTraceServiceRequest[]; logs: otlpLogsService.ExportLogsServiceRequest[]; metrics: Json[] } {
  const out = { traces: [] as otlpTraceService.ExportTraceServiceRequest[], logs: [] as otlpLogsService.ExportLogsServiceRequest[], metrics: [] as Json[] };
  if (!existsSync(path)) return out;
  // Whole lines only: the file exporter flushes its buffer when full, which may end the file in the middle of a line.
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.pop();
  for (const line of lines) {
    if (line.trim() === '') continue;
    const j = JSON.parse(line) as Json;
    const signal: ReceivedSignal | undefined = 'resourceSpans' in j ? 'traces' : 'resourceLogs' in j ? 'logs' : 'resourceMetrics' in j ? 'metrics' : undefined;
    if (signal === 'traces') out.traces.push(fromJson('traces', j) as otlpTraceService.ExportTraceServiceRequest);
    else if (signal === 'logs') out.logs.push(fromJson('logs', j) as otlpLogsService.ExportLogsServiceRequest);
    else if (signal === 'metrics') out.metrics.push(j);
  }
  return out;
}

/** Every metric of the metrics lines, with its resource attributes (OTLP/JSON values left as they are). */
function metricsOf(lines: readonly Json[]): { resource: Record<string, unknown>; metric: Json }[] {
  const out: { resource: Record<string, unknown>; metric: Json }[] = [];
  for (const line of lines) {
    for (const rm of line.resourceMetrics as Json[]) {
      const resource: Record<string, unknown> = {};
      for (const a of ((rm.resource as Json | undefined)?.attributes as Json[] | undefined) ?? [])
        resource[a.key as string] = Object.values(a.value as Json)[0];
      for (const sm of rm.scopeMetrics as Json[]) for (const metric of sm.metrics as Json[]) out.push({ resource, metric });
    }
  }
  return out;
}

function sumPoints(metric: Json): Json[] {
  return ((metric.sum as Json | undefined)?.dataPoints as Json[] | undefined) ?? [];
}

test('a real OpenTelemetry Collector accepts the export over gRPC with mTLS: spans, logs and metrics with their content', async (t) => {
  t.timeout(OTELCOL_BUILD_TIMEOUT_MS + 3 * 60_000, 'building the OpenTelemetry Collector or the export took too long');
  const build = await buildOtelcol();
  t.log(build.built ? `built ${build.path} in ${(build.ms / 1000).toFixed(1)} s` : `using the cached ${build.path}`);

  const tmp = tempDir('otlp-mmap-otelcol-');
  const certs = makeTestCertificates();
  const port = await freePort();
  const output = tmp.file('otelcol-output.jsonl');
  const config = tmp.file('otelcol.yaml');
  writeFileSync(
    config,
    [
      'receivers:',
      '  otlp:',
      '    protocols:',
      '      grpc:',
      `        endpoint: 127.0.0.1:${port}`,
      '        tls:',
      `          cert_file: ${certs.server.certPath}`,
      `          key_file: ${certs.server.keyPath}`,
      `          client_ca_file: ${certs.ca.certPath}`,
      'exporters:',
      '  file:',
      `    path: ${output}`,
      '    flush_interval: 100ms',
      'service:',
      '  telemetry:',
      '    metrics:',
      '      level: none',
      '  pipelines:',
      '    traces: { receivers: [otlp], exporters: [file] }',
      '    logs: { receivers: [otlp], exporters: [file] }',
      '    metrics: { receivers: [otlp], exporters: [file] }',
      '',
    ].join('\n'),
  );
  const otelcol = new Otelcol(build.path, config);
  const path = tmp.file('app.otlp-mmap');
  const sdk = startMmapSdk({ path, serviceName: 'otelcol-e2e' });
  let collector: CollectorProcess | undefined;
  t.teardown(async () => {
    if (collector?.running) await collector.stop('SIGKILL');
    await sdk.shutdown();
    await otelcol.stop();
    certs.cleanup();
    tmp.cleanup();
  });
  await waitFor(() => otelcol.output.includes('Everything is ready') || !otelcol.running, 60_000, 'the OpenTelemetry Collector to start');
  t.true(otelcol.running, otelcol.output);

  const tracer = sdk.tracerProvider.getTracer('e2e-tracer', '1.2.3');
  const logger = sdk.loggerProvider.getLogger('e2e-logger');
  const counter = sdk.meterProvider.getMeter('e2e-meter').createCounter('e2e.count');
  tracer.startActiveSpan('parent', (parent) => {
    parent.setAttribute('step', 'one');
    tracer.startActiveSpan('child', (child) => {
      child.recordException(new Error('kaboom'));
      child.setStatus({ code: SpanStatusCode.ERROR, message: 'failed' });
      child.end();
    });
    logger.emit({ severityNumber: SeverityNumber.WARN, body: 'inside the parent span', attributes: { k: 'v' } });
    counter.add(3, { route: '/x' });
    parent.end();
  });

  collector = new CollectorProcess(
    ['--input', path, ...FAST, '--endpoint', `https://127.0.0.1:${port}`, '--protocol', 'grpc', '--stats', '--stats-interval', '100000'],
    {
      OTEL_EXPORTER_OTLP_CERTIFICATE: certs.ca.certPath,
      OTEL_EXPORTER_OTLP_CLIENT_KEY: certs.client.keyPath,
      OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: certs.client.certPath,
    },
  );
  const appMetric = (): boolean => metricsOf(readOutput(output).metrics).some((m) => m.metric.name === 'e2e.count');
  await waitFor(
    () => {
      const out = readOutput(output);
      return (
        out.traces.flatMap((r) => r.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans))).length >= 2 && out.logs.length >= 1 && appMetric()
      );
    },
    30_000,
    'the spans, the log record and the counter in the file exporter output',
  );
  const exit = await collector.stop();
  t.is(exit.code, 0, collector.stderr);
  const final = collector.statusLines('final').at(-1)!;
  // The collector's own metrics of the end (sent after the final status line) arrive too.
  const selfSpans = (): Json[] =>
    metricsOf(readOutput(output).metrics)
      .filter((m) => m.resource['service.name'] === 'otlp-mmap-collector' && m.metric.name === 'otel.sdk.exporter.span.exported')
      .map((m) => m.metric);
  await waitFor(() => selfSpans().some((m) => sumPoints(m).some((p) => Number(p.asInt) === final.exported_traces)), 15_000, "the collector's final metrics");
  t.is(await otelcol.stop(), 0, otelcol.output);

  const out = readOutput(output);
  const spans = out.traces.flatMap((r) =>
    r.resourceSpans.flatMap((rs) =>
      rs.scopeSpans.flatMap((ss) => ss.spans.map((span) => ({ span, resource: attributeMap(rs.resource?.attributes ?? []), scope: ss.scope?.name }))),
    ),
  );
  t.is(spans.length, 2, 'each span once');
  const parent = spans.find((s) => s.span.name === 'parent')!;
  const child = spans.find((s) => s.span.name === 'child')!;
  t.is(parent.resource['service.name'], 'otelcol-e2e');
  t.is(parent.scope, 'e2e-tracer');
  t.is(attributeMap(parent.span.attributes).step, 'one');
  t.deepEqual(Buffer.from(child.span.parentSpanId), Buffer.from(parent.span.spanId));
  t.deepEqual(Buffer.from(child.span.traceId), Buffer.from(parent.span.traceId));
  t.is(child.span.status?.code, 2);
  t.is(child.span.status?.message, 'failed');
  const exception = child.span.events.find((e) => e.name === 'exception');
  t.is(attributeMap(exception?.attributes ?? [])['exception.message'], 'kaboom');
  t.true(child.span.endTimeUnixNano > child.span.startTimeUnixNano);

  const logs = out.logs.flatMap((r) =>
    r.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((record) => ({ record, scope: sl.scope?.name })))),
  );
  t.is(logs.length, 1);
  t.is(logs[0].record.body?.value?.$case === 'stringValue' ? logs[0].record.body.value.value : undefined, 'inside the parent span');
  t.is(Number(logs[0].record.severityNumber), Number(SeverityNumber.WARN));
  t.is(attributeMap(logs[0].record.attributes).k, 'v');
  t.deepEqual(Buffer.from(logs[0].record.traceId), Buffer.from(parent.span.traceId), 'the log record carries the trace context');
  t.is(logs[0].scope, 'e2e-logger');

  const count = metricsOf(out.metrics).filter((m) => m.metric.name === 'e2e.count');
  t.true(count.length >= 1);
  t.is(count[0].resource['service.name'], 'otelcol-e2e');
  const point = sumPoints(count.at(-1)!.metric)[0];
  t.is(Number(point.asInt ?? point.asDouble), 3);
  t.deepEqual(point.attributes, [{ key: 'route', value: { stringValue: '/x' } }]);

  t.is(final.exported_traces, 2);
  t.is(final.exported_logs, 1);
  t.is(final.dropped_traces + final.dropped_logs + final.dropped_metrics, 0);
  t.is(final.retries, 0);
});
