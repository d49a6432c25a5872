/**
 * Hot-path cost of @otlp-mmap/sdk against the OpenTelemetry JS SDK, side by side.
 *
 *   node --conditions=source --import=tsx bench/sdk.ts [--batches=21] [--ops=4000] [--only=span,spanRepeat,counter,histogram,log]
 *   (on Linux with 2+ CPUs and `taskset`, the SDK under test runs alone on CPU 1; BENCH_PIN=0 turns that off, see pinTo)
 *
 * Operations:
 *
 * - span start with 10 attributes + end: the per-request values varying from span to span, and (spanRepeat)
 *   all repeating
 * - counter.add(1, {4 attributes})
 * - histogram.record(v, {4 attributes})
 * - logger.emit({ severity, body, 2 attributes })
 *
 * "otel" is @opentelemetry/sdk-trace-base + BatchSpanProcessor, sdk-metrics + PeriodicExportingMetricReader
 * and sdk-logs + BatchLogRecordProcessor, each with its OTLP/protobuf exporter sending to a no-op HTTP
 * sink on 127.0.0.1 (a child process). Each of its batches ends with a forceFlush, so the export
 * serialisation and sending are paid inside the timing, amortised per operation. "mmap" writes straight
 * into the file; after each batch (outside the timing) another process drains the rings through the
 * binding's Reader, as the collector does.
 *
 * Each SDK runs in its own child process (its own heap: neither pays for the other's garbage). The
 * parent asks them for batches of `ops` calls in alternation, so both see the same load on this shared
 * machine, and prints the median ns/op of each.
 */
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { type Attributes, SpanKind, ValueType } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { shouldPin } from './stats.js';

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v];
  }),
);
const BATCHES = Number(args.batches) || 51;
const OPS = Number(args.ops) || 4000;
const WARMUP_BATCHES = 3;

/**
 * The attributes of an HTTP server span. Like real requests, they differ from one span to the next in
 * the per-request values (path, client address, user agent, status code) and repeat the rest; 64 sets,
 * built before timing, taken in turn.
 */
const SPAN_ATTRIBUTE_SETS: Attributes[] = Array.from({ length: 64 }, (_, i) => ({
  'http.request.method': 'GET',
  'url.path': `/api/v1/users/${12345 + i * 7}`,
  'url.scheme': 'https',
  'server.address': 'api.example.com',
  'server.port': 443,
  'http.route': '/api/v1/users/:id',
  'user_agent.original': i % 4 === 0 ? 'curl/8.5.0' : 'Mozilla/5.0 (X11; Linux x86_64) bench',
  'client.address': `10.1.${i >> 3}.${i & 7}`,
  'network.protocol.version': '1.1',
  'http.response.status_code': i % 16 === 0 ? 404 : 200,
}));
const METRIC_ATTRIBUTES: Attributes = {
  'http.request.method': 'GET',
  'http.route': '/api/v1/users/:id',
  'http.response.status_code': 200,
  'server.port': 443,
};
const LOG_ATTRIBUTES: Attributes = { 'http.route': '/api/v1/users/:id', 'user.id': 12345 };

type OpName = 'span' | 'spanRepeat' | 'counter' | 'histogram' | 'log';
const OPERATIONS: [OpName, string][] = [
  ['span', 'span start (10 attrs) + end'],
  ['spanRepeat', 'same, attribute values repeating'],
  ['counter', 'counter.add(1, {4 attrs})'],
  ['histogram', 'histogram.record(v, {4 attrs})'],
  ['log', 'logger.emit (body + 2 attrs)'],
];

/** What a child process runs: one operation, timed batch by batch. */
interface Subject {
  op(i: number): void;
  /** Timed after each batch (the other SDK's export). */
  flush?: () => Promise<void>;
  /** Untimed work after each batch (draining our rings). */
  after?: () => void | Promise<void>;
  close(): Promise<void>;
}

// ------------------------------------------------------------------- children

async function mmapSubject(op: OpName): Promise<Subject> {
  const { startMmapSdk } = await import('@otlp-mmap/sdk');
  const dir = mkdtempSync(join(tmpdir(), 'otlp-mmap-bench-'));
  const path = join(dir, 'bench.mmap');
  const sdk = startMmapSdk({
    path,
    registerGlobals: false,
    spans: { slots: 16384, slotSize: 2048 },
    events: { slots: 16384, slotSize: 1024 },
    measurements: { slots: 16384, slotSize: 512 },
    metricCollectionIntervalMillis: 3_600_000,
  });
  // The rings are drained by another process, as the collector does: its reads
  // (and their garbage) stay out of this process.
  const drainer = fork(fileURLToPath(import.meta.url), ['--role=drainer', `--file=${path}`], {
    execArgv: ['--conditions=source', '--import=tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  pinTo(0, drainer.pid);
  await new Promise((resolve) => drainer.once('message', resolve));
  const drain = (): Promise<void> =>
    new Promise((resolve) => {
      drainer.once('message', () => resolve());
      drainer.send('drain');
    });
  const close = async (): Promise<void> => {
    const dropped = sdk.droppedCounts();
    if (dropped.spans + dropped.events + dropped.measurements > 0) process.stderr.write(`mmap dropped ${JSON.stringify(dropped)}\n`);
    drainer.send('close');
    await sdk.shutdown();
    rmSync(dir, { recursive: true, force: true });
  };
  const tracer = sdk.tracerProvider.getTracer('bench');
  const meter = sdk.meterProvider.getMeter('bench');
  const logger = sdk.loggerProvider.getLogger('bench');
  return { op: operation(op, tracer, meter, logger), after: drain, close };
}

/** The drainer process: reads every ring empty when asked. */
async function drainer(path: string): Promise<void> {
  const { Reader } = await import('@otlp-mmap/native');
  const reader = Reader.open(path);
  process.on('message', (msg: string) => {
    if (msg === 'close') {
      reader.close();
      process.exit(0);
    }
    for (const r of [0, 1, 2]) while (reader.read(r as never, 4096).length > 0);
    process.send?.('drained');
  });
  process.send?.('ready');
}

async function otelSubject(op: OpName, sinkUrl: string): Promise<Subject> {
  const { OTLPLogExporter } = await import('@opentelemetry/exporter-logs-otlp-proto');
  const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-proto');
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  const { BatchLogRecordProcessor, LoggerProvider } = await import('@opentelemetry/sdk-logs');
  const { MeterProvider, PeriodicExportingMetricReader } = await import('@opentelemetry/sdk-metrics');
  const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: `${sinkUrl}/v1/traces` }), {
        maxQueueSize: OPS * 2,
        maxExportBatchSize: 512,
        scheduledDelayMillis: 60_000,
      }),
    ],
  });
  const metricReader = new PeriodicExportingMetricReader({
    exporter: new OTLPMetricExporter({ url: `${sinkUrl}/v1/metrics` }),
    exportIntervalMillis: 3_600_000,
  });
  const meterProvider = new MeterProvider({ readers: [metricReader] });
  const loggerProvider = new LoggerProvider({
    processors: [
      new BatchLogRecordProcessor({
        exporter: new OTLPLogExporter({ url: `${sinkUrl}/v1/logs` }),
        maxQueueSize: OPS * 2,
        maxExportBatchSize: 512,
        scheduledDelayMillis: 60_000,
      }),
    ],
  });
  const flush = op === 'span' ? () => tracerProvider.forceFlush() : op === 'log' ? () => loggerProvider.forceFlush() : () => metricReader.forceFlush();
  const close = async (): Promise<void> => {
    await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown(), loggerProvider.shutdown()]);
  };
  return {
    op: operation(op, tracerProvider.getTracer('bench'), meterProvider.getMeter('bench'), loggerProvider.getLogger('bench')),
    flush,
    close,
  };
}

interface Apis {
  tracer: import('@opentelemetry/api').Tracer;
  meter: import('@opentelemetry/api').Meter;
  logger: import('@opentelemetry/api-logs').Logger;
}

function operation(op: OpName, tracer: Apis['tracer'], meter: Apis['meter'], logger: Apis['logger']): (i: number) => void {
  switch (op) {
    case 'span':
      return (i) => {
        tracer.startSpan('GET /api/v1/users/:id', { kind: SpanKind.SERVER, attributes: SPAN_ATTRIBUTE_SETS[i & 63] }).end();
      };
    case 'spanRepeat':
      // Every span with the attribute values of the one before (a fresh object each time, as instrumentations make).
      return () => {
        tracer.startSpan('GET /api/v1/users/:id', { kind: SpanKind.SERVER, attributes: { ...SPAN_ATTRIBUTE_SETS[1] } }).end();
      };
    case 'counter': {
      const counter = meter.createCounter('bench.requests', { valueType: ValueType.INT });
      return () => counter.add(1, METRIC_ATTRIBUTES);
    }
    case 'histogram': {
      const histogram = meter.createHistogram('bench.latency', { unit: 'ms' });
      return (i) => histogram.record((i % 100) * 1.5, METRIC_ATTRIBUTES);
    }
    case 'log':
      return (i) =>
        logger.emit({
          severityNumber: SeverityNumber.INFO,
          severityText: 'INFO',
          body: `request ${i} served`,
          attributes: LOG_ATTRIBUTES,
        });
  }
}

async function child(role: string, op: OpName, sinkUrl: string): Promise<void> {
  const subject = role === 'mmap' ? await mmapSubject(op) : await otelSubject(op, sinkUrl);
  process.on('message', (msg: string) => {
    void (async () => {
      if (msg === 'close') {
        await subject.close();
        process.exit(0);
      }
      const t0 = performance.now();
      for (let i = 0; i < OPS; i++) subject.op(i);
      if (subject.flush) await subject.flush();
      const t1 = performance.now();
      await subject.after?.();
      process.send?.(((t1 - t0) * 1e6) / OPS);
    })();
  });
  process.send?.('ready');
}

// --------------------------------------------------------------------- parent

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
  const sink = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'ignore'] });
  process.once('exit', () => sink.kill());
  return new Promise((resolve, reject) => {
    sink.stdout.once('data', (d: Buffer) => resolve({ port: Number(d.toString().trim()), stop: () => sink.kill() }));
    sink.once('error', reject);
  });
}

function startChild(role: string, op: OpName, sinkUrl: string): Promise<ChildProcess> {
  const self = fileURLToPath(import.meta.url);
  const proc = fork(self, [`--role=${role}`, `--op=${op}`, `--sink=${sinkUrl}`, `--ops=${OPS}`], {
    execArgv: ['--conditions=source', '--import=tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  pinTo(1, proc.pid);
  process.once('exit', () => proc.kill());
  return new Promise((resolve, reject) => {
    proc.once('message', () => resolve(proc));
    proc.once('error', reject);
    proc.once('exit', (code) => reject(new Error(`${role} child exited with ${code}`)));
  });
}

function runBatch(proc: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    proc.once('message', (ns) => resolve(ns as number));
    proc.send('batch');
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Whether the processes are pinned (see pinTo and shouldPin). */
const PIN = shouldPin();

/**
 * Pinning (Linux, 2+ CPUs, `taskset`; BENCH_PIN=0 turns it off): the measured SDK children on CPU 1 (one batch at a time), this
 * process, the sink and our drainer on CPU 0, so the SDK under test has its core to itself.
 */
function pinTo(cpu: number, pid: number | undefined): void {
  if (!PIN || pid === undefined) return;
  execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}

async function parent(): Promise<void> {
  pinTo(0, process.pid);
  const sink = await startSink();
  const sinkUrl = `http://127.0.0.1:${sink.port}`;
  console.log(
    `node ${process.version}, ${BATCHES} batches of ${OPS} ops per SDK (+${WARMUP_BATCHES} warm-up), median ns/op${PIN ? ', SDKs pinned to CPU 1' : ''}\n`,
  );
  const lines: string[][] = [];
  const only = args.only?.split(',');
  for (const [op, label] of OPERATIONS) {
    if (only !== undefined && !only.includes(op)) continue;
    const [mmap, otel] = await Promise.all([startChild('mmap', op, sinkUrl), startChild('otel', op, sinkUrl)]);
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < WARMUP_BATCHES + BATCHES; i++) {
      const x = await runBatch(mmap);
      const y = await runBatch(otel);
      if (i >= WARMUP_BATCHES) {
        a.push(x);
        b.push(y);
      }
    }
    for (const proc of [mmap, otel]) {
      proc.removeAllListeners('exit');
      proc.send('close');
    }
    const ours = median(a);
    const theirs = median(b);
    lines.push([label, ours.toFixed(0), theirs.toFixed(0), `${(theirs / ours).toFixed(1)}x`]);
    process.stderr.write(`  measured ${label}\n`);
  }
  const header = ['operation', 'mmap (ns/op)', 'otel + OTLP/proto (ns/op)', 'otel / mmap'];
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]): string => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(fmt(header));
  console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const l of lines) console.log(fmt(l));
  sink.stop();
}

if (args.role === 'drainer') await drainer(args.file ?? '');
else if (args.role) await child(args.role, args.op as OpName, args.sink ?? '');
else await parent();
