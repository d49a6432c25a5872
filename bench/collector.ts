// Benchmark of the collector (issue 5), end to end on this machine: a file
// pre-filled with N spans (StartSpan with 5 attributes + EndSpan each) is
// drained by the collector process and exported over OTLP/HTTP protobuf to a
// local sink on 127.0.0.1 that only counts bytes and spans. Reports spans/s, the
// collector's CPU time and its peak RSS (total, which includes the pages of
// the mapped file the collector touched, and anonymous only). Nothing is asserted.
//
// Two drains, each measured whole, from the moment its file is put at the
// input path until its last span is exported:
// - cold: the first file the collector reads after it starts. Its first
//   spans run in the interpreter while V8 compiles the hot code (on the same
//   core when pinned), and the first export opens the connection;
// - warm: then another writer's file of N spans is put at the same path (as
//   a restarted application would), and the collector, now warmed up,
//   follows it. This is what a long-running collector pays per span.
// "steady" is the CPU from the moment the sink had a quarter of a drain's
// spans to its end. The collector prints no status lines meanwhile (the sink
// counts the spans it receives). All of them count the kernel's page faults on the
// pre-filled file (2·N slots, first touched by the drain).
//
// Run: pnpm bench:collector [-- N]   (uses packages/collector/dist when built,
// else, or with BENCH_SOURCES=1, the TypeScript sources through tsx)
// The collector runs alone on CPU 1, this process on CPU 0 (where `taskset` can; BENCH_PIN=0 not to).
// BENCH_NODE_ARGS: the collector's node flags (default those of the otlp-mmap-collector command).
// BENCH_STDOUT=1: the collector's stdout (e.g. --trace-gc output) shown. BENCH_ARGS: more collector options.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RingReader } from '@otlp-mmap/protocol';
import { TestWriter } from '../tests/collector/support/mmap-writer.js';
import { fmt, printTable, shouldPin } from './stats.js';

const N = Number(process.argv[2] ?? 200_000);
const BATCH = Number(process.argv[3] ?? 512);
// The collector ships a partial batch once its first span is --batch-timeout old
// (default 1000 ms). Every batch of a drain is full except the last one, which
// would otherwise sit idle for that whole second and be counted in the elapsed
// time of a ~1.5 s run; 20 ms (the status granularity) measures the drain
// instead. BENCH_BATCH_TIMEOUT=1000 reproduces the default.
const BATCH_TIMEOUT_MS = Number(process.env.BENCH_BATCH_TIMEOUT ?? 20);
const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'otlp-mmap-bench-collector-'));
const staging = join(dir, 'staging.mmap');
const stagingWarm = join(dir, 'staging-warm.mmap');
const input = join(dir, 'input.mmap');

// 1. Pre-fill the files: one for the cold drain, one (another writer's file, put at the same
// path afterwards) for the warm drain.
let slots = 1;
while (slots < 2 * N) slots *= 2;
function fill(path: string): number {
  const writer = new TestWriter(path, { spans: { slots, slotSize: 256 }, events: { slots: 16 }, measurements: { slots: 16 } });
  const scope = writer.scope('bench', writer.resource({ 'service.name': 'bench', 'host.name': 'bench-host' }));
  const started = performance.now();
  for (let i = 1; i <= N; i++) {
    writer.startSpan(scope, 1 + (i >>> 10), i, 'GET /api/v1/orders/{id}', {
      'http.request.method': 'GET',
      'http.route': '/api/v1/orders/{id}',
      'http.response.status_code': 200,
      'server.address': 'orders.internal',
      'user.id': i,
    });
    writer.endSpan(scope, 1 + (i >>> 10), i);
  }
  const ms = performance.now() - started;
  writer.close();
  return ms;
}
const fillMs = fill(staging);
fill(stagingWarm);

// 2. The sink: counts requests, bytes and spans, answers 200. Spans are counted by walking the
// request's wire format down to ResourceSpans.scope_spans(2) > ScopeSpans.spans(2), without decoding them.
let bytes = 0;
let requests = 0;
let spansReceived = 0;
/** Occurrences of the field path `path` (field numbers of nested messages) in `message`. */
function countNested(message: Uint8Array, path: readonly number[], depth = 0): number {
  const reader = new RingReader(message);
  let n = 0;
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field !== path[depth] || wireType !== WIRE_LEN) {
      reader.skip(wireType);
      continue;
    }
    const length = reader.uint32();
    if (depth === path.length - 1) n++;
    else n += countNested(message.subarray(reader.pos, reader.pos + length), path, depth + 1);
    reader.pos += length;
  }
  return n;
}
const WIRE_LEN = 2;
const sink = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => {
    bytes += c.length;
    chunks.push(c);
  });
  req.on('end', () => {
    requests++;
    // Spans only: a metrics request (the collector's own metrics) nests its metrics at the same field numbers.
    if (req.url === '/v1/traces') spansReceived += countNested(Buffer.concat(chunks), [1, 2, 2]);
    onSpans();
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
});
await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
const port = (sink.address() as AddressInfo).port;

// 3. The collector, waiting for the input file to appear.
const dist = join(root, 'packages/collector/dist/cli.js');
const useDist = existsSync(dist) && process.env.BENCH_SOURCES !== '1'; // BENCH_SOURCES=1: always the TypeScript sources
const runtime = useDist ? [dist] : ['--conditions=source', '--import=tsx', join(root, 'packages/collector/src/cli.ts')];
// The node flags of the otlp-mmap-collector command (its shebang, packages/collector/bin); BENCH_NODE_ARGS
// replaces them (BENCH_NODE_ARGS= for plain `node packages/collector`, or e.g. --cpu-prof).
const extraNodeArgs = (process.env.BENCH_NODE_ARGS ?? '--min-semi-space-size=16').split(' ').filter(Boolean);
const collectorArgs = [
  ...extraNodeArgs,
  ...runtime,
  '--input',
  input,
  '--endpoint',
  `http://127.0.0.1:${port}`,
  '--batch-size',
  String(BATCH),
  '--batch-timeout',
  String(BATCH_TIMEOUT_MS),
  '--poll-interval',
  '1',
  ...(process.env.BENCH_ARGS ?? '').split(' ').filter(Boolean),
];
// Pinned (see shouldPin): the collector alone on CPU 1 (all its threads: "on one core" literally),
// this process and its sink on CPU 0, so that neither takes the other's core.
const pin = shouldPin();
if (pin) execFileSync('taskset', ['-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
const child = spawn(pin ? 'taskset' : process.execPath, pin ? ['-c', '1', process.execPath, ...collectorArgs] : collectorArgs, {
  stdio: ['ignore', process.env.BENCH_STDOUT === '1' ? 'inherit' : 'ignore', 'pipe'],
  env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: '' },
});
let stderr = '';
child.stderr!.setEncoding('utf8').on('data', (d: string) => {
  stderr = (stderr + d).slice(-4096);
});
/** Collector CPU (ms) when the sink first had a quarter of the drain's spans. */
let steadyFrom: { received: number; cpuMs: number } | undefined;
let steadyAfter = Infinity;
let steadyUntil = 0;
function onSpans(): void {
  if (steadyFrom === undefined && spansReceived >= steadyAfter && spansReceived < steadyUntil) steadyFrom = { received: spansReceived, cpuMs: cpuMs() };
}
const pid = child.pid!;

function cpuMs(which: 'all' | 'sys' = 'all'): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = (which === 'all' ? Number(fields[11]) : 0) + Number(fields[12]); // utime + stime
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}
function peakRssMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
/** Anonymous (heap) RSS, without the file pages mapped from the ring (RssFile). */
let peakAnonMb = 0;
function sampleAnon(): void {
  const m = /RssAnon:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m) peakAnonMb = Math.max(peakAnonMb, Number(m[1]) / 1024);
}

interface Drain {
  readonly elapsedMs: number;
  readonly cpuMs: number;
  readonly sysMs: number;
  readonly steadySpans: number;
  readonly steadyCpuMs: number;
  readonly sinkCpuMs: number;
  readonly peakRssMb: number;
  readonly rssBeforeMb: number;
  readonly peakAnonMb: number;
  readonly requests: number;
  readonly bytes: number;
}

/** Puts `file` at the input path and measures until the collector has exported `N` more spans. */
async function drain(file: string): Promise<Drain> {
  const receivedBefore = spansReceived;
  const target = receivedBefore + N;
  const requestsBefore = requests;
  const bytesBefore = bytes;
  steadyAfter = receivedBefore + N / 4;
  steadyUntil = target;
  steadyFrom = undefined;
  peakAnonMb = 0;
  const rssBeforeMb = peakRssMb();
  const cpuBefore = cpuMs();
  const sysBefore = cpuMs('sys');
  const benchCpuBefore = process.cpuUsage(); // this process: the sink (and the sampling loop)
  const start = performance.now();
  renameSync(file, input);
  while (spansReceived < target) {
    if (performance.now() - start > 120_000) throw new Error(`timed out at ${spansReceived} spans; the collector said: ${stderr}`);
    sampleAnon();
    await new Promise((r) => setTimeout(r, 5));
  }
  sampleAnon();
  const elapsedMs = performance.now() - start;
  const endCpu = cpuMs();
  const benchCpu = process.cpuUsage(benchCpuBefore);
  const from = steadyFrom as { received: number; cpuMs: number } | undefined;
  return {
    elapsedMs,
    cpuMs: endCpu - cpuBefore,
    sysMs: cpuMs('sys') - sysBefore,
    steadySpans: from === undefined ? NaN : target - from.received,
    steadyCpuMs: from === undefined ? NaN : endCpu - from.cpuMs,
    sinkCpuMs: (benchCpu.user + benchCpu.system) / 1000,
    peakRssMb: peakRssMb(),
    rssBeforeMb,
    peakAnonMb,
    requests: requests - requestsBefore,
    bytes: bytes - bytesBefore,
  };
}

await new Promise((r) => setTimeout(r, 1500)); // let the collector start and settle
const cold = await drain(staging);
// Another writer's file at the same path: the collector notices it once idle, flushes, and reads it.
const warm = await drain(stagingWarm);
child.kill('SIGTERM');
await new Promise((r) => child.on('exit', r));
sink.close();
rmSync(dir, { recursive: true, force: true });

console.log(
  `collector: ${fmt(N)} pre-filled spans (5 attributes each), OTLP/HTTP protobuf, batch ${BATCH} (timeout ${BATCH_TIMEOUT_MS} ms), ${useDist ? 'compiled dist' : 'tsx sources'}, node ${extraNodeArgs.join(' ') || '(no flags)'}${pin ? ', pinned to CPU 1' : ''}`,
);
console.log(
  `(a file filled in ${fmt(fillMs)} ms; elapsed includes up to 1 ms (--poll-interval) of file polling, which is also how often the collector looks at the path again (the warm drain))\n`,
);
const row = (label: string, d: Drain): string[] => [
  label,
  fmt(N),
  fmt(d.elapsedMs),
  fmt(N / (d.elapsedMs / 1000)),
  fmt(d.cpuMs),
  fmt(N / (d.cpuMs / 1000)),
  `${fmt(d.steadySpans / (d.steadyCpuMs / 1000))} (${fmt(d.steadySpans)} in ${fmt(d.steadyCpuMs)} ms)`,
  fmt(d.sysMs),
  fmt(d.sinkCpuMs),
  `${fmt(d.peakRssMb)} (${fmt(d.rssBeforeMb)})`,
  fmt(d.peakAnonMb),
  fmt(d.requests),
  fmt(d.bytes / 1048576, 1),
];
printTable(
  [
    'drain',
    'spans',
    'elapsed ms',
    'spans/s',
    'CPU ms',
    'spans per CPU-s',
    'steady: spans per CPU-s',
    'of CPU: kernel ms',
    'sink CPU ms',
    'peak RSS MB (before)',
    'peak RssAnon MB',
    'requests',
    'MB sent',
  ],
  [row('cold', cold), row('warm', warm)],
);
