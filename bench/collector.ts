// Benchmark of the collector (issue 5), end to end on this machine: a file
// pre-filled with N spans (StartSpan with 5 attributes + EndSpan each) is
// drained by the collector process and exported over OTLP/HTTP protobuf to a
// local sink on 127.0.0.1 that only counts bytes. Reports spans/s, the
// collector's CPU time and its peak RSS (total, which includes the pages of
// the mapped file the collector touched, and anonymous only). Nothing is asserted.
//
// Spans per CPU-second are given twice: over the whole drain, which includes
// the collector's warm-up (its first spans run in the interpreter while V8
// compiles the hot code on background threads, and the first export opens
// the connection), and in steady state: the CPU the collector spent from the
// moment a quarter of the spans had been exported to the end, which is what a
// long-running collector pays per span. Both count the kernel's page faults on
// the pre-filled file (a file 2·N slots large, first touched by the drain).
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
const input = join(dir, 'input.mmap');

// 1. Pre-fill the file.
let slots = 1;
while (slots < 2 * N) slots *= 2;
const writer = new TestWriter(staging, { spans: { slots, slotSize: 256 }, events: { slots: 16 }, measurements: { slots: 16 } });
const scope = writer.scope('bench', writer.resource({ 'service.name': 'bench', 'host.name': 'bench-host' }));
const fillStart = performance.now();
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
const fillMs = performance.now() - fillStart;
writer.close();

// 2. The sink: counts requests and bytes, answers 200.
let bytes = 0;
let requests = 0;
const sink = http.createServer((req, res) => {
  req.on('data', (c: Buffer) => (bytes += c.length));
  req.on('end', () => {
    requests++;
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
const collectorArgs = [...extraNodeArgs, ...runtime, '--input', input, '--endpoint', `http://127.0.0.1:${port}`, '--batch-size', String(BATCH), '--batch-timeout', String(BATCH_TIMEOUT_MS), '--stats', '--stats-interval', '20', '--poll-interval', '1', ...(process.env.BENCH_ARGS ?? '').split(' ').filter(Boolean)];
// Pinned (see shouldPin): the collector alone on CPU 1 (all its threads: "on one core" literally),
// this process and its sink on CPU 0, so that neither takes the other's core.
const pin = shouldPin();
if (pin) execFileSync('taskset', ['-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
const child = spawn(pin ? 'taskset' : process.execPath, pin ? ['-c', '1', process.execPath, ...collectorArgs] : collectorArgs, {
  stdio: ['ignore', process.env.BENCH_STDOUT === '1' ? 'inherit' : 'ignore', 'pipe'],
  env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: '' },
});
let stderr = '';
let exportedSoFar = 0;
/** Collector CPU (ms) when the status lines first showed a quarter of the spans exported. */
let steadyFrom: { exported: number; cpuMs: number } | undefined;
child.stderr!.setEncoding('utf8').on('data', (d: string) => {
  stderr = (stderr + d).slice(-4096);
  for (const m of d.matchAll(/exported_traces=(\d+)/g)) exportedSoFar = Number(m[1]);
  if (steadyFrom === undefined && exportedSoFar >= N / 4 && exportedSoFar < N) steadyFrom = { exported: exportedSoFar, cpuMs: cpuMs() };
});
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
function exported(): number {
  return exportedSoFar;
}

await new Promise((r) => setTimeout(r, 1500)); // let the collector start and settle
const rssBeforeMb = peakRssMb();
const cpuBefore = cpuMs();
const sysBefore = cpuMs('sys');
const benchCpuBefore = process.cpuUsage(); // this process: the sink (and the sampling loop)
const start = performance.now();
renameSync(staging, input);
while (exported() < N) {
  if (performance.now() - start > 120_000) throw new Error(`timed out; last status: ${stderr.split('\n').at(-2)}`);
  sampleAnon();
  await new Promise((r) => setTimeout(r, 5));
}
sampleAnon();
const elapsedMs = performance.now() - start;
const cpu = cpuMs() - cpuBefore;
const sys = cpuMs('sys') - sysBefore;
const endCpu = cpuMs();
const steadyCpu = steadyFrom === undefined ? NaN : endCpu - steadyFrom.cpuMs;
const steadySpans = steadyFrom === undefined ? NaN : N - steadyFrom.exported;
const benchCpu = process.cpuUsage(benchCpuBefore);
const sinkCpuMs = (benchCpu.user + benchCpu.system) / 1000;
const rss = peakRssMb();
child.kill('SIGTERM');
await new Promise((r) => child.on('exit', r));
sink.close();
rmSync(dir, { recursive: true, force: true });

console.log(
  `collector: ${fmt(N)} pre-filled spans (5 attributes each), OTLP/HTTP protobuf, batch ${BATCH} (timeout ${BATCH_TIMEOUT_MS} ms), ${useDist ? 'compiled dist' : 'tsx sources'}, node ${extraNodeArgs.join(' ') || '(no flags)'}${pin ? ', pinned to CPU 1' : ''}`,
);
console.log(`(file filled in ${fmt(fillMs)} ms; elapsed includes up to 1 ms (--poll-interval) of file polling and 20 ms status granularity)\n`);
printTable(
  ['spans', 'elapsed ms', 'spans/s', 'CPU ms', 'spans per CPU-s', 'steady: spans per CPU-s', 'of CPU: kernel ms', 'sink CPU ms', 'peak RSS MB (idle before)', 'peak RssAnon MB', 'requests', 'MB sent'],
  [
    [
      fmt(N),
      fmt(elapsedMs),
      fmt(N / (elapsedMs / 1000)),
      fmt(cpu),
      fmt(N / (cpu / 1000)),
      `${fmt(steadySpans / (steadyCpu / 1000))} (${fmt(steadySpans)} in ${fmt(steadyCpu)} ms)`,
      fmt(sys),
      fmt(sinkCpuMs),
      `${fmt(rss)} (${fmt(rssBeforeMb)})`,
      fmt(peakAnonMb),
      fmt(requests),
      fmt(bytes / 1048576, 1),
    ],
  ],
);
