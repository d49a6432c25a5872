// Benchmark of the collector's metric aggregation (issue 6), on one core:
// decoded Measurement messages go into MetricsAggregator.record() with an
// in-memory dictionary (the same fake the tests use), then one collect().
//
// - counter: a monotonic int Sum with 3 attributes (2 strings, 1 int) over
//   1,000 series, round-robin;
// - exponential histogram: doubles from a log-normal spread into 10 series
//   (max_buckets 160, max_scale 20).
//
// "record" times MetricsAggregator.record on pre-decoded messages. Medians
// of several rounds; nothing is asserted.
//
// "file: SDK -> ring -> decode + record" is the collector's real path: our
// SDK writes the measurements into a real file (counter.add / an exponential
// histogram's record), and the timed part drains the measurements ring
// through the binding, decodes with the collector's ring decoder and
// resolves through the file dictionary. "decode + record" decodes every
// attribute list; "encoded attributes + recordEncoded" is what the collector
// pipeline does: the attributes stay encoded and series are found by their
// bytes (decoded only on first sight).
//
// Run: node --conditions=source --import=tsx bench/metrics.ts [measurements per round]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reader, Ring } from '@otlp-mmap/native';
import { EncodedMeasurementDecoder, type Measurement, MeasurementDecoder } from '@otlp-mmap/protocol';
import { startMmapSdk } from '@otlp-mmap/sdk';
import { FileDictionary } from '../packages/collector/src/dictionary/file-dictionary.js';
import { decodeBatch } from '../packages/collector/src/file/messages.js';
import { MetricsAggregator } from '../packages/collector/src/metrics/index.js';
import { FakeDictionary, aggregations } from '../tests/metrics/helpers/fake-dictionary.js';
import { measurement } from '../tests/metrics/helpers/measurements.js';
import { fmt, median, printTable } from './stats.js';

const N = Number(process.argv[2] ?? 1_000_000);
const ROUNDS = 7;
const dict = new FakeDictionary();
const counterRef = dict.addMetric({ name: 'http.server.requests', aggregation: aggregations.counter });
const histRef = dict.addMetric({ name: 'http.server.duration', aggregation: aggregations.expHist(160n, 20n) });

const routes = Array.from({ length: 50 }, (_, i) => `/api/v1/resource/${i}`);
const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'];

// 1,000 distinct attribute sets: 50 routes x 5 methods x 4 status classes.
const counterMessages: Measurement[] = [];
for (let i = 0; i < 1000; i++) {
  const attributes = [
    dict.kv('http.route', routes[i % 50]),
    dict.kv('http.request.method', methods[Math.floor(i / 50) % 5]),
    dict.kv('http.response.status_code', BigInt(200 + 100 * Math.floor(i / 250))),
  ];
  counterMessages.push(measurement(counterRef, 1n, 1_764_000_000_000_000_000n + BigInt(i), attributes));
}

let seed = 42;
function random(): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
}
const histMessages: Measurement[] = [];
for (let i = 0; i < 10_000; i++) {
  const u = Math.max(random(), 1e-12);
  const v = random();
  const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  const value = Math.exp(3 + 2 * normal); // milliseconds, spread over decades
  histMessages.push(measurement(histRef, value, 1_764_000_000_000_000_000n + BigInt(i), [dict.kv('route', routes[i % 10])]));
}

function run(messages: Measurement[]): number {
  const aggregator = new MetricsAggregator();
  // Warm the series (first sight resolves attributes) outside the timing.
  for (const m of messages) aggregator.record(m, dict);
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) aggregator.record(messages[i % messages.length]!, dict);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const exported = aggregator.collect(process.hrtime.bigint());
  if (exported.length === 0 || aggregator.stats().recorded !== N + messages.length) throw new Error('benchmark recorded nothing');
  return N / seconds;
}

const rows: string[][] = [];
for (const [name, messages, target] of [
  ['counter, 3 attributes, 1,000 series', counterMessages, 2e6],
  ['exponential histogram, 10 series', histMessages, 1e6],
] as const) {
  const rates = Array.from({ length: ROUNDS }, () => run([...messages]));
  rows.push([name, 'record (aggregation only)', fmt(median(rates)), fmt(target)]);
}
// The collector's real path, from a file the SDK wrote.
const FILE_N = 200_000;
const dir = mkdtempSync(join(tmpdir(), 'otlp-mmap-bench-metrics-'));
function runFile(kind: 'counter' | 'histogram', encoded: boolean): number {
  const path = join(dir, `${kind}.mmap`);
  const sdk = startMmapSdk({
    path,
    serviceName: 'bench',
    registerGlobals: false,
    histogramAggregation: 'exponential',
    measurements: { slots: 1 << 18, slotSize: 128 },
  });
  const meter = sdk.meterProvider.getMeter('bench');
  if (kind === 'counter') {
    const counter = meter.createCounter('http.server.requests');
    for (let i = 0; i < FILE_N; i++) {
      const s = i % 1000;
      counter.add(1, {
        'http.route': routes[s % 50]!,
        'http.request.method': methods[Math.floor(s / 50) % 5]!,
        'http.response.status_code': 200 + 100 * Math.floor(s / 250),
      });
    }
  } else {
    const histogram = meter.createHistogram('http.server.duration');
    for (let i = 0; i < FILE_N; i++) histogram.record(histMessages[i % histMessages.length]!.value?.value as number, { route: routes[i % 10]! });
  }
  const dropped = sdk.droppedCounts().measurements;
  const reader = Reader.open(path);
  const dictionary = new FileDictionary(reader);
  const aggregator = new MetricsAggregator();
  const start = process.hrtime.bigint();
  let n = 0;
  for (;;) {
    const batch = reader.read(Ring.Measurements, 4096);
    if (batch.length === 0) break;
    n += encoded
      ? decodeBatch(
          batch,
          EncodedMeasurementDecoder,
          (m, input) => aggregator.recordEncoded(m, input, dictionary),
          (e) => {
            throw e;
          },
        )
      : decodeBatch(
          batch,
          MeasurementDecoder,
          (m) => aggregator.record(m, dictionary),
          (e) => {
            throw e;
          },
        );
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (n !== FILE_N || dropped !== 0 || aggregator.stats().recorded !== FILE_N) throw new Error(`file path lost measurements (${n}, dropped ${dropped})`);
  aggregator.collect(process.hrtime.bigint());
  reader.close();
  void sdk.shutdown();
  return n / seconds;
}
for (const [name, kind, target] of [
  ['counter, 3 attributes, 1,000 series', 'counter', 2e6],
  ['exponential histogram, 10 series', 'histogram', 1e6],
] as const) {
  // Both paths alternate round by round, so a busy machine slows both alike.
  const decoded: number[] = [];
  const encoded: number[] = [];
  for (let round = 0; round < 5; round++) {
    decoded.push(runFile(kind, false));
    encoded.push(runFile(kind, true));
  }
  rows.push([name, 'file: SDK -> ring -> decode + record', fmt(median(decoded)), fmt(target)]);
  rows.push([name, 'file: ... -> encoded attributes + recordEncoded (collector)', fmt(median(encoded)), fmt(target)]);
}
rmSync(dir, { recursive: true, force: true });

console.log(`MetricsAggregator throughput, ${fmt(N)} measurements per round, median of ${ROUNDS} rounds (node ${process.version})\n`);
printTable(['workload', 'path', 'measurements/s', 'target'], rows);
