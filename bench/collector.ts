// Benchmark of the collector (issues 5 and 16), end to end on this machine, per export protocol
// (OTLP/HTTP protobuf and OTLP/gRPC), each to a real receiver on 127.0.0.1 that only counts: it
// walks each request's wire format down to the spans (ResourceSpans > ScopeSpans > Span) without
// decoding them. Nothing is asserted; it prints one table.
//
// Per protocol and round (protocols alternate within a round):
// - cold: a fresh collector process started on a file pre-filled with N spans (StartSpan with
//   5 attributes + EndSpan each); its whole CPU from the process start (the kernel's accounting
//   of all its threads, /proc/PID/stat utime+stime, read when the sink has the last span), and
//   the elapsed time from the spawn;
// - warm: then another writer's file of N spans is put at the same path (as a restarted
//   application would), and the running collector follows it: CPU and time of that drain;
// - peak RSS: VmHWM of the process by the end of the warm drain (it includes the pages of the
//   mapped file the collector touched), and the peak anonymous RSS sampled during the drains;
// - idle: another fresh process beside a file with nothing in it: RSS and CPU (summed over its
//   threads, /proc/PID/task/*/schedstat, nanoseconds) over IDLE_MS after a settling second;
// - delay: a writer in this process commits StartSpan+EndSpan pairs at RATE messages per second
//   for DELAY_MS (and 2 s more, not measured) with the end time set to the commit's wall clock; the sink takes each span's
//   end_time_unix_nano from the request and the delay is the request's arrival minus that
//   (commit -> export request received on loopback), p50/p99/max over all spans. With the
//   collector's defaults (batch timeout 1000 ms) and, as a second row, --batch-timeout 10, which
//   leaves mostly the polling.
//
// Run: npm run bench:collector [-- N]   (the otlp-mmap-collector command, packages/collector/bin,
// over the compiled dist; BENCH_SOURCES=1: the TypeScript sources through tsx instead)
// BENCH_ROUNDS (default 3): rounds, medians printed. BENCH_BATCH: --batch-size (default: the
// collector's). BENCH_NODE_ARGS: run `node <these flags> dist/cli.js` instead of the command
// (BENCH_NODE_ARGS=' ' for plain node). BENCH_ARGS: more collector options. BENCH_PROTOCOLS:
// e.g. grpc. BENCH_DRAINS=0 / BENCH_IDLE=0 / BENCH_DELAY=0: skip those parts. BENCH_STDOUT=1: the collector's stdout shown (--trace-gc). BENCH_PIN=0: no CPU pinning (by
// default the collector runs alone on CPU 1, this process and its sinks on CPU 0).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { RingReader, StatusCode } from '@otlp-mmap/protocol';
import { anyValue, ids, TestWriter } from '../tests/collector/support/mmap-writer.js';
import { fmt, median, printTable, shouldPin } from './stats.js';

const N = Number(process.argv[2] ?? 200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BATCH = process.env.BENCH_BATCH;
type Protocol = 'http/protobuf' | 'grpc';
const PROTOCOLS = (process.env.BENCH_PROTOCOLS ?? 'http/protobuf,grpc').split(',') as Protocol[];
const IDLE_MS = 10_000;
const RATE = 10_000;
const DELAY_MS = 6_000;
// The collector ships a partial batch once its first span is --batch-timeout old (default 1000 ms).
// In a drain every batch is full but the last, which would otherwise idle for that second inside
// the measured time; 20 ms measures the drain. The idle and delay parts use the defaults.
const DRAIN_BATCH_TIMEOUT_MS = 20;
const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'otlp-mmap-bench-collector-'));
const input = join(dir, 'input.mmap');
const staging = join(dir, 'staging.mmap');

// 1. The files: one for the cold drains, another writer's for the warm drains (copied for each run,
// so every run drains the same bytes), and an empty one for the idle runs.
let slots = 1;
while (slots < 2 * N) slots *= 2;
const SPAN_RING = { spans: { slots, slotSize: 256 }, events: { slots: 16 }, measurements: { slots: 16 } };
function fill(path: string): number {
  const writer = new TestWriter(path, SPAN_RING);
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
const coldTemplate = join(dir, 'cold.template');
const warmTemplate = join(dir, 'warm.template');
const emptyTemplate = join(dir, 'empty.template');
const fillMs = fill(coldTemplate);
fill(warmTemplate);
new TestWriter(emptyTemplate).close();

// 2. The sinks: OTLP/HTTP (HTTP/1.1) and OTLP/gRPC (HTTP/2, length-prefixed messages, grpc-status
// trailer), both counting spans by walking the wire format; in the delay part they also read each
// span's end_time_unix_nano (Span field 8, fixed64).
const WIRE_LEN = 2;
const WIRE_FIXED64 = 1;
/** Calls `visit` with each message at the field path `path` (field numbers of nested messages) in `message`. */
function eachNested(message: Uint8Array, path: readonly number[], visit: (m: Uint8Array) => void, depth = 0): void {
  const reader = new RingReader(message);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field !== path[depth] || wireType !== WIRE_LEN) {
      reader.skip(wireType);
      continue;
    }
    const length = reader.uint32();
    const inner = message.subarray(reader.pos, reader.pos + length);
    if (depth === path.length - 1) visit(inner);
    else eachNested(inner, path, visit, depth + 1);
    reader.pos += length;
  }
}
function endTimeNs(span: Uint8Array): bigint | undefined {
  const reader = new RingReader(span);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 8 && wireType === WIRE_FIXED64) return Buffer.from(span.buffer, span.byteOffset + reader.pos, 8).readBigUInt64LE();
    reader.skip(wireType);
  }
  return undefined;
}
let spansReceived = 0;
let requests = 0;
let bytesReceived = 0;
/** In the delay part: the delay of each span received (ms), of the spans committed before delayUntilNs. */
let delays: number[] | undefined;
let delayUntilNs = 0n;
const SPAN_PATH = [1, 2, 2];
function onTraces(body: Uint8Array): void {
  requests++;
  bytesReceived += body.length;
  if (delays === undefined) {
    let n = 0;
    eachNested(body, SPAN_PATH, () => n++);
    spansReceived += n;
    return;
  }
  const nowNs = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
  const list = delays;
  eachNested(body, SPAN_PATH, (span) => {
    spansReceived++;
    const end = endTimeNs(span);
    // Spans committed after the measured period only keep the rate up while the measured ones leave.
    if (end !== undefined && end < delayUntilNs) list.push(Number(nowNs - end) / 1e6);
  });
}
const httpSink = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    // Spans only: a metrics request (the collector's own metrics) nests its metrics at the same field numbers.
    if (req.url === '/v1/traces') onTraces(Buffer.concat(chunks));
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
});
// Flow-control windows of 16 MiB, as a gRPC server's grow (grpc-go estimates the bandwidth-delay
// product; Node's HTTP/2 defaults of 64 KiB would stall each request of a few hundred KiB on
// WINDOW_UPDATE round trips with this process, which the collector shares no CPU with).
const WINDOW = 16 * 1024 * 1024;
const grpcSink = http2.createServer({ settings: { initialWindowSize: WINDOW } });
grpcSink.on('session', (session) => session.setLocalWindowSize(WINDOW));
grpcSink.on('stream', (stream, headers) => {
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => {
    const body = Buffer.concat(chunks);
    if (headers[':path'] === '/opentelemetry.proto.collector.trace.v1.TraceService/Export') {
      for (let pos = 0; pos + 5 <= body.length; ) {
        const length = body.readUInt32BE(pos + 1);
        const message = body.subarray(pos + 5, pos + 5 + length);
        onTraces(body[pos] === 1 ? gunzipSync(message) : message);
        pos += 5 + length;
      }
    }
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(Buffer.alloc(5)); // an empty response message, uncompressed
  });
});
grpcSink.on('sessionError', () => {});
await new Promise<void>((r) => httpSink.listen(0, '127.0.0.1', r));
await new Promise<void>((r) => grpcSink.listen(0, '127.0.0.1', r));
const endpoints: Record<Protocol, string> = {
  'http/protobuf': `http://127.0.0.1:${(httpSink.address() as AddressInfo).port}`,
  grpc: `http://127.0.0.1:${(grpcSink.address() as AddressInfo).port}`,
};

// 3. The collector: the otlp-mmap-collector command (its own node flags), or BENCH_NODE_ARGS;
// BENCH_CLIS='label=path/cli.js,label2=...' compares builds, alternated within each round (each run
// as `node <BENCH_NODE_ARGS, default --min-semi-space-size=16> path/cli.js`).
const dist = join(root, 'packages/collector/dist/cli.js');
const useSources = process.env.BENCH_SOURCES === '1' || !existsSync(dist);
const nodeArgs = process.env.BENCH_NODE_ARGS;
interface Variant {
  readonly label: string;
  readonly command: readonly string[];
}
const variants: Variant[] = process.env.BENCH_CLIS
  ? process.env.BENCH_CLIS.split(',').map((entry) => {
      // label=path/cli.js, with optionally @--option value ... (collector options of that variant)
      // and then ^--node-flag ... (node flags of that variant instead of BENCH_NODE_ARGS)
      const label = entry.slice(0, entry.indexOf('='));
      const spec = entry.slice(entry.indexOf('=') + 1);
      const [rest, variantFlags] = spec.split('^') as [string, string?];
      const [path, options = ''] = rest.split('@') as [string, string?];
      const flags = (variantFlags ?? nodeArgs ?? '--min-semi-space-size=16').split(' ').filter(Boolean);
      return { label, command: [process.execPath, ...flags, path, ...options.split(' ').filter(Boolean)] };
    })
  : [
      useSources
        ? {
            label: `tsx sources, node ${nodeArgs?.trim() || '(no flags)'}`,
            command: [
              process.execPath,
              ...(nodeArgs ?? '').split(' ').filter(Boolean),
              '--conditions=source',
              '--import=tsx',
              join(root, 'packages/collector/src/cli.ts'),
            ],
          }
        : nodeArgs !== undefined
          ? { label: `node ${nodeArgs.trim() || '(no flags)'} dist/cli.js`, command: [process.execPath, ...nodeArgs.split(' ').filter(Boolean), dist] }
          : { label: 'the otlp-mmap-collector command', command: [join(root, 'packages/collector/bin/otlp-mmap-collector.js')] },
    ];
let command: readonly string[] = variants[0]!.command;
const pin = shouldPin();
if (pin) execFileSync('taskset', ['-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });

/** Whether the last collector started has ended. */
let exited = false;
function startCollector(protocol: Protocol, args: readonly string[]): { child: ChildProcess; pid: number; stderr: () => string } {
  const all = [...command, '--input', input, '--endpoint', endpoints[protocol], '--protocol', protocol, ...args];
  all.push(...(process.env.BENCH_ARGS ?? '').split(' ').filter(Boolean));
  const child = spawn(pin ? 'taskset' : all[0], pin ? ['-c', '1', ...all] : all.slice(1), {
    stdio: ['ignore', process.env.BENCH_STDOUT === '1' ? 'inherit' : 'ignore', 'pipe'],
    env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_PROTOCOL: '' },
  });
  let stderr = '';
  exited = false;
  child.once('exit', () => {
    exited = true;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-4096);
  });
  return { child, pid: child.pid!, stderr: () => stderr };
}
async function stopCollector(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const ended = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await ended;
}

/** CPU ms of the whole process (all threads, from its start): utime + stime in USER_HZ (100) ticks. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}
/** CPU ns of the process's live threads (schedstat: finer than the ticks of /proc/PID/stat). */
function cpuNs(pid: number): number {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return ns;
}
function statusMb(pid: number, field: string): number {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return Number.NaN; // the process has ended (waitForSpans says why)
  }
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
  return m ? Number(m[1]) / 1024 : Number.NaN;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForSpans(target: number, stderr: () => string, onSample: () => void): Promise<void> {
  const started = performance.now();
  while (spansReceived < target) {
    if (performance.now() - started > 120_000) throw new Error(`timed out at ${spansReceived} of ${target} spans; the collector said: ${stderr()}`);
    if (exited) throw new Error(`the collector ended at ${spansReceived} of ${target} spans; it said: ${stderr()}`);
    onSample();
    await sleep(2);
  }
}

interface Drain {
  readonly elapsedMs: number;
  readonly cpuMs: number;
  readonly requests: number;
  readonly mb: number;
}
interface Run {
  readonly cold: Drain;
  readonly warm: Drain;
  readonly peakRssMb: number;
  readonly peakAnonMb: number;
}

/** A fresh collector on the pre-filled file (cold), then on another writer's file (warm). */
async function drains(protocol: Protocol): Promise<Run> {
  copyFileSync(coldTemplate, input);
  copyFileSync(warmTemplate, staging);
  const args = ['--batch-timeout', String(DRAIN_BATCH_TIMEOUT_MS), ...(BATCH ? ['--batch-size', BATCH] : [])];
  let peakAnonMb = 0;
  const measure = async (pid: number, stderr: () => string, start: number, cpuBefore: number): Promise<Drain> => {
    const target = spansReceived + N;
    const [requestsBefore, bytesBefore] = [requests, bytesReceived];
    await waitForSpans(target, stderr, () => {
      peakAnonMb = Math.max(peakAnonMb, statusMb(pid, 'RssAnon'));
    });
    const cpu = cpuMs(pid) - cpuBefore;
    return { elapsedMs: performance.now() - start, cpuMs: cpu, requests: requests - requestsBefore, mb: (bytesReceived - bytesBefore) / 1048576 };
  };
  const coldStart = performance.now();
  spansReceived = 0;
  const { child, pid, stderr } = startCollector(protocol, args);
  const cold = await measure(pid, stderr, coldStart, 0);
  const warmStart = performance.now();
  const cpuBefore = cpuMs(pid);
  renameSync(staging, input);
  const warm = await measure(pid, stderr, warmStart, cpuBefore);
  const peakRssMb = statusMb(pid, 'VmHWM');
  await stopCollector(child);
  return { cold, warm, peakRssMb, peakAnonMb };
}

interface Idle {
  readonly rssMb: number;
  readonly anonMb: number;
  readonly cpuPercent: number;
}
/** A fresh collector beside an empty file: RSS and CPU share of a core over IDLE_MS after a settling second. */
async function idle(protocol: Protocol): Promise<Idle> {
  copyFileSync(emptyTemplate, input);
  const { child, pid } = startCollector(protocol, []);
  await sleep(1500);
  const before = cpuNs(pid);
  const t0 = performance.now();
  await sleep(IDLE_MS);
  const cpuPercent = (cpuNs(pid) - before) / 1e6 / (performance.now() - t0) / 0.01;
  const result = { rssMb: statusMb(pid, 'VmRSS'), anonMb: statusMb(pid, 'RssAnon'), cpuPercent };
  await stopCollector(child);
  return result;
}

interface Delay {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly spans: number;
}
/** Commits RATE messages per second for DELAY_MS and measures each span's commit -> arrival at the sink. */
async function delay(protocol: Protocol, args: readonly string[]): Promise<Delay> {
  rmSync(input, { force: true });
  const writer = new TestWriter(input, { spans: { slots: 65536, slotSize: 256 }, events: { slots: 16 }, measurements: { slots: 16 } });
  const scope = writer.scope('bench', writer.resource({ 'service.name': 'bench' }));
  const keyRef = BigInt(writer.native.internString('user.id'));
  const { child, stderr } = startCollector(protocol, args);
  await sleep(1500);
  delays = [];
  spansReceived = 0;
  const started = performance.now();
  let written = 0;
  const nowNs = (): bigint => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
  // The rate goes on for 2 s after the measured period: the last measured spans leave as in the
  // steady state, not in a partial batch that waits for --batch-timeout because nothing follows.
  delayUntilNs = BigInt(Math.round((performance.timeOrigin + started + DELAY_MS) * 1000)) * 1000n;
  while (performance.now() - started < DELAY_MS + 2000) {
    const due = Math.floor(((performance.now() - started) * RATE) / 1000 / 2);
    for (; written < due; written++) {
      const i = written + 1;
      const idsOf = ids(1 + (i >>> 10), i);
      const t = nowNs();
      writer.span({
        scopeRef: scope,
        ...idsOf,
        event: {
          $case: 'start',
          value: {
            parentSpanId: new Uint8Array(0),
            flags: 1,
            name: 'GET /x',
            kind: 2,
            startTimeUnixNano: t,
            attributes: [{ keyRef, value: anyValue(i) }],
            traceState: '',
          },
        },
      });
      writer.span({
        scopeRef: scope,
        ...idsOf,
        event: {
          $case: 'end',
          value: {
            endTimeUnixNano: nowNs(),
            status: { code: StatusCode.STATUS_CODE_UNSET, message: '' },
            droppedAttributesCount: 0,
            droppedEventsCount: 0,
            droppedLinksCount: 0,
          },
        },
      });
    }
    await sleep(1);
  }
  await waitForSpans(written, stderr, () => {});
  delayUntilNs = 0n;
  const list = delays.sort((a, b) => a - b);
  delays = undefined;
  await stopCollector(child);
  writer.close();
  return { p50: list[Math.floor(list.length * 0.5)]!, p99: list[Math.floor(list.length * 0.99)]!, max: list.at(-1)!, spans: list.length };
}

/** Results by variant label and protocol. */
const runs = new Map<string, Run[]>();
const idles = new Map<string, Idle[]>();
const key = (v: Variant, p: Protocol): string => `${v.label}\u0000${p}`;
const push = <T>(map: Map<string, T[]>, k: string, value: T): void => {
  map.set(k, [...(map.get(k) ?? []), value]);
};
for (let round = 0; round < (process.env.BENCH_DRAINS === '0' ? 0 : ROUNDS); round++) {
  const order = variants.flatMap((v) => PROTOCOLS.map((p) => [v, p] as const));
  for (const [v, p] of round % 2 ? order.reverse() : order) {
    command = v.command;
    push(runs, key(v, p), await drains(p));
  }
}
if (process.env.BENCH_IDLE !== '0') {
  for (let round = 0; round < Math.min(ROUNDS, 2); round++) {
    for (const v of variants) {
      command = v.command;
      for (const p of PROTOCOLS) push(idles, key(v, p), await idle(p));
    }
  }
}
const delaysOf: Array<[string, Delay]> = [];
if (process.env.BENCH_DELAY !== '0') {
  for (const v of variants) {
    command = v.command;
    const name = variants.length > 1 ? `${v.label}: ` : '';
    for (const p of PROTOCOLS) delaysOf.push([`${name}${p}, defaults`, await delay(p, [])]);
    for (const p of PROTOCOLS) delaysOf.push([`${name}${p}, --batch-timeout 10`, await delay(p, ['--batch-timeout', '10'])]);
  }
}
httpSink.close();
grpcSink.close();
rmSync(dir, { recursive: true, force: true });

console.log(
  `collector: ${fmt(N)} pre-filled spans (5 attributes each), ${variants.map((v) => v.label).join(' vs ')}, batch ${BATCH ?? 'default'} (drains: --batch-timeout ${DRAIN_BATCH_TIMEOUT_MS}), medians of ${ROUNDS} rounds${pin ? ', collector pinned to CPU 1' : ''}`,
);
console.log(`(a file filled in ${fmt(fillMs)} ms; cold = whole process from its start, CPU read when the sink has the last span)\n`);
const range = (values: number[], digits = 0): string =>
  values.length > 1
    ? `${fmt(median(values), digits)} (${fmt(Math.min(...values), digits)}–${fmt(Math.max(...values), digits)})`
    : fmt(values[0] ?? NaN, digits);
const rows: string[][] = [];
const idleRows: string[][] = [];
for (const v of variants) {
  for (const protocol of PROTOCOLS) {
    const rs = runs.get(key(v, protocol)) ?? [];
    const name = variants.length > 1 ? `${v.label}: ${protocol}` : protocol;
    const is = idles.get(key(v, protocol)) ?? [];
    if (is.length > 0)
      idleRows.push([
        name,
        range(is.map((i) => i.rssMb)),
        fmt(median(is.map((i) => i.anonMb))),
        range(
          is.map((i) => i.cpuPercent),
          2,
        ),
      ]);
    for (const which of ['cold', 'warm'] as const) {
      const ds = rs.map((r) => r[which]);
      rows.push([
        name,
        which,
        range(ds.map((d) => N / (d.cpuMs / 1000))),
        fmt(median(ds.map((d) => d.cpuMs))),
        fmt(median(ds.map((d) => N / (d.elapsedMs / 1000)))),
        which === 'warm' ? range(rs.map((r) => r.peakRssMb)) : '',
        which === 'warm' ? fmt(median(rs.map((r) => r.peakAnonMb))) : '',
        fmt(median(ds.map((d) => d.requests))),
        fmt(median(ds.map((d) => d.mb)), 1),
      ]);
    }
  }
}
printTable(['protocol', 'drain', 'spans per CPU-s', 'CPU ms', 'spans/s', 'peak RSS MB', 'peak anon MB', 'requests', 'MB sent'], rows);
if (idleRows.length > 0) {
  console.log(`\nidle beside an empty file (fresh process, ${IDLE_MS / 1000} s after a settling 1.5 s; defaults):\n`);
  printTable(['protocol', 'RSS MB', 'anon RSS MB', 'CPU % of a core'], idleRows);
}
if (delaysOf.length > 0) {
  console.log(`\ncommit -> export request at the sink, ${fmt(RATE)} messages/s (StartSpan + EndSpan pairs) for ${DELAY_MS / 1000} s:\n`);
  printTable(
    ['protocol, options', 'spans', 'p50 ms', 'p99 ms', 'max ms'],
    delaysOf.map(([label, d]) => [label, fmt(d.spans), fmt(d.p50, 1), fmt(d.p99, 1), fmt(d.max, 1)]),
  );
}
