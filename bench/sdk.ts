/**
 * Hot-path cost of @otlp-mmap/sdk against the OpenTelemetry JS SDK, side by side.
 *
 *   node --conditions=source --import=tsx bench/sdk.ts [--batches=15] [--ops=4000]
 *
 * Per operation, several batches of `ops` calls are timed and the median ns/op is printed:
 *
 * - span start with 10 attributes + end
 * - counter.add(1, {4 attributes})
 * - histogram.record(v, {4 attributes})
 * - logger.emit({ severity, body, 2 attributes })
 *
 * "otel" is @opentelemetry/sdk-trace-base + BatchSpanProcessor, sdk-metrics + PeriodicExportingMetricReader
 * and sdk-logs + BatchLogRecordProcessor, each with its OTLP/protobuf exporter sending to a no-op HTTP
 * sink on 127.0.0.1 (a child process). Each of its batches includes a forceFlush, so the export
 * serialisation is paid inside the timing, amortised per operation. "mmap" writes straight into the
 * file; between batches (outside the timing) the rings are drained through the binding's Reader, as
 * the collector would do from its own process.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Attributes, type Counter, type Histogram, SpanKind, type Tracer, ValueType } from '@opentelemetry/api';
import { type Logger, SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Reader } from '@otlp-mmap/native';
import { startMmapSdk } from '@otlp-mmap/sdk';

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, Number(v)];
  }),
);
const BATCHES = args.batches || 15;
const OPS = args.ops || 4000;
const WARMUP_BATCHES = 3;

const SPAN_ATTRIBUTES: Attributes = {
  'http.request.method': 'GET',
  'url.path': '/api/v1/users/12345',
  'url.scheme': 'https',
  'server.address': 'api.example.com',
  'server.port': 443,
  'http.route': '/api/v1/users/:id',
  'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64) bench',
  'client.address': '10.1.2.3',
  'network.protocol.version': '1.1',
  'http.response.status_code': 200,
};
const METRIC_ATTRIBUTES: Attributes = { 'http.request.method': 'GET', 'http.route': '/api/v1/users/:id', 'http.response.status_code': 200, 'server.port': 443 };
const LOG_ATTRIBUTES: Attributes = { 'http.route': '/api/v1/users/:id', 'user.id': 12345 };

interface Subject {
  /** One operation. */
  op(i: number): void;
  /** Timed after each batch (the other SDK's export); undefined for none. */
  flush?: () => Promise<void>;
  /** Untimed work after each batch (draining our rings). */
  after?: () => void;
}

async function measure(subject: Subject): Promise<number> {
  const perOp: number[] = [];
  for (let b = 0; b < WARMUP_BATCHES + BATCHES; b++) {
    const t0 = performance.now();
    for (let i = 0; i < OPS; i++) subject.op(i);
    if (subject.flush) await subject.flush();
    const t1 = performance.now();
    subject.after?.();
    if (b >= WARMUP_BATCHES) perOp.push(((t1 - t0) * 1e6) / OPS);
    await new Promise((resolve) => setImmediate(resolve));
  }
  perOp.sort((a, b) => a - b);
  return perOp[Math.floor(perOp.length / 2)];
}

function startSink(): Promise<{ port: number; stop: () => void }> {
  const code = `
    const http = require('http');
    const server = http.createServer((req, res) => {
      req.on('data', () => {});
      req.on('end', () => { res.writeHead(200, { 'content-type': 'application/x-protobuf' }); res.end(); });
    });
    server.keepAliveTimeout = 60000;
    server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
  `;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve({ port: Number(d.toString().trim()), stop: () => child.kill() }));
    child.once('error', reject);
  });
}

async function main(): Promise<void> {
  const sink = await startSink();
  const base = `http://127.0.0.1:${sink.port}`;
  const dir = mkdtempSync(join(tmpdir(), 'otlp-mmap-bench-'));
  const path = join(dir, 'bench.mmap');

  // ---- ours
  const ring = { slots: 16384 };
  const sdk = startMmapSdk({
    path,
    registerGlobals: false,
    spans: { ...ring, slotSize: 2048 },
    events: { ...ring, slotSize: 1024 },
    measurements: { ...ring, slotSize: 512 },
    metricCollectionIntervalMillis: 3_600_000,
  });
  const reader = Reader.open(path);
  const drain = (): void => {
    for (const r of [0, 1, 2]) while (reader.read(r as never, 4096).length > 0);
  };
  const mmapTracer = sdk.tracerProvider.getTracer('bench');
  const mmapMeter = sdk.meterProvider.getMeter('bench');
  const mmapLogger = sdk.loggerProvider.getLogger('bench');

  // ---- theirs
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: `${base}/v1/traces` }), {
        maxQueueSize: OPS * 2,
        maxExportBatchSize: 512,
        scheduledDelayMillis: 60_000,
      }),
    ],
  });
  const metricReader = new PeriodicExportingMetricReader({
    exporter: new OTLPMetricExporter({ url: `${base}/v1/metrics` }),
    exportIntervalMillis: 3_600_000,
  });
  const meterProvider = new MeterProvider({ readers: [metricReader] });
  const loggerProvider = new LoggerProvider({
    processors: [
      new BatchLogRecordProcessor(new OTLPLogExporter({ url: `${base}/v1/logs` }), {
        maxQueueSize: OPS * 2,
        maxExportBatchSize: 512,
        scheduledDelayMillis: 60_000,
      }),
    ],
  });
  const otelTracer = tracerProvider.getTracer('bench');
  const otelMeter = meterProvider.getMeter('bench');
  const otelLogger = loggerProvider.getLogger('bench');

  const spanOp = (tracer: Tracer) => (): void => {
    tracer.startSpan('GET /api/v1/users/:id', { kind: SpanKind.SERVER, attributes: SPAN_ATTRIBUTES }).end();
  };
  const addOp = (counter: Counter) => (): void => counter.add(1, METRIC_ATTRIBUTES);
  const recordOp = (histogram: Histogram) => (i: number): void => histogram.record((i % 100) * 1.5, METRIC_ATTRIBUTES);
  const emitOp = (logger: Logger) => (i: number): void =>
    logger.emit({ severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: `request ${i} served`, attributes: LOG_ATTRIBUTES });

  const rows: [string, Subject, Subject][] = [
    [
      'span start (10 attrs) + end',
      { op: spanOp(mmapTracer), after: drain },
      { op: spanOp(otelTracer), flush: () => tracerProvider.forceFlush() },
    ],
    [
      'counter.add(1, {4 attrs})',
      { op: addOp(mmapMeter.createCounter('bench.requests', { valueType: ValueType.INT })), after: drain },
      { op: addOp(otelMeter.createCounter('bench.requests', { valueType: ValueType.INT })), flush: () => metricReader.forceFlush() },
    ],
    [
      'histogram.record(v, {4 attrs})',
      { op: recordOp(mmapMeter.createHistogram('bench.latency', { unit: 'ms' })), after: drain },
      { op: recordOp(otelMeter.createHistogram('bench.latency', { unit: 'ms' })), flush: () => metricReader.forceFlush() },
    ],
    [
      'logger.emit (body + 2 attrs)',
      { op: emitOp(mmapLogger), after: drain },
      { op: emitOp(otelLogger), flush: () => loggerProvider.forceFlush() },
    ],
  ];

  console.log(`node ${process.version}, ${BATCHES} batches of ${OPS} ops (+${WARMUP_BATCHES} warm-up), median ns/op\n`);
  const header = ['operation', 'mmap (ns/op)', 'otel + OTLP/proto (ns/op)', 'otel / mmap'];
  const lines: string[][] = [];
  for (const [name, ours, theirs] of rows) {
    const a = await measure(ours);
    const b = await measure(theirs);
    lines.push([name, a.toFixed(0), b.toFixed(0), `${(b / a).toFixed(1)}x`]);
    process.stderr.write(`  measured ${name}\n`);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]): string => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(fmt(header));
  console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const l of lines) console.log(fmt(l));
  const dropped = sdk.droppedCounts();
  console.log(`\nmmap dropped: ${JSON.stringify(dropped)}`);

  await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown(), loggerProvider.shutdown()]);
  reader.close();
  await sdk.shutdown();
  sink.stop();
  rmSync(dir, { recursive: true, force: true });
}

await main();
