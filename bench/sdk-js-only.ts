/**
 * The JavaScript share of the SDK's hot paths: the same operations as bench/sdk.ts, with the native
 * binding replaced by a no-op writer (append accepts and discards), so what is timed is the SDK's own
 * work (span object, context, sampling, ids, timestamps, encoding). Nothing here is asserted.
 *
 *   node --conditions=source --import=tsx bench/sdk-js-only.ts [span,bare,counter,histogram]
 *
 * "bare" is a span start + end without attributes; "spanConst" repeats one attribute set (every value the
 * same as the previous span's), where "span" varies the per-request values as bench/sdk.ts does.
 */
import { performance } from 'node:perf_hooks';
import { SpanKind } from '@opentelemetry/api';
import { AlwaysOnSampler, ParentBasedSampler } from '@opentelemetry/sdk-trace-base';
import { MmapFile } from '../packages/sdk/src/file/mmap-file.js';
import { SyncInstrument } from '../packages/sdk/src/metrics/sync-instruments.js';
import { MmapTracerProvider } from '../packages/sdk/src/trace/tracer-provider.js';

const ROUNDS = Number(process.env.ROUNDS ?? 25);
const OPS = 20000;

let nextRef = 1;
const noopWriter = {
  internString: () => nextRef++,
  intern: () => nextRef++,
  append: () => true,
  // As the binding's, with the append a no-op: the SDK's usual path (encode into this buffer, append by length).
  scratchAppender: (capacity: number) => Object.assign(() => true, { buffer: Buffer.alloc(capacity) }),
  maxMessageSize: () => 2000,
  sync: () => {},
  close: () => {},
};
const file = new MmapFile(noopWriter as never);
const limits = {
  attributeCountLimit: 128,
  attributeValueLengthLimit: Infinity,
  eventCountLimit: 128,
  linkCountLimit: 128,
  attributePerEventCountLimit: 128,
  attributePerLinkCountLimit: 128,
};
const shared = { file, limits, sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }), defaultSampler: true };
const tracer = new MmapTracerProvider(shared, 0).getTracer('bench');
const counter = new SyncInstrument(file, 7, 'bench.requests', true, true);
const histogram = new SyncInstrument(file, 8, 'bench.latency', false, true);

/** As in bench/sdk.ts: 64 HTTP server span attribute sets, per-request values varying, taken in turn. */
const SPAN_ATTRIBUTE_SETS = Array.from({ length: 64 }, (_, i) => ({
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
const METRIC_ATTRIBUTES = {
  'http.request.method': 'GET',
  'http.route': '/api/v1/users/:id',
  'http.response.status_code': 200,
  'server.port': 443,
};

const operations: Record<string, (i: number) => void> = {
  spanConst: () => tracer.startSpan('GET /api/v1/users/:id', { kind: SpanKind.SERVER, attributes: SPAN_ATTRIBUTE_SETS[1] }).end(),
  span: (i) => tracer.startSpan('GET /api/v1/users/:id', { kind: SpanKind.SERVER, attributes: SPAN_ATTRIBUTE_SETS[i & 63] }).end(),
  bare: () => tracer.startSpan('GET /api/v1/users/:id', { kind: SpanKind.SERVER }).end(),
  counter: () => counter.add(1, METRIC_ATTRIBUTES),
  histogram: (i) => histogram.record((i % 100) * 1.5, METRIC_ATTRIBUTES),
};

for (const name of (process.argv[2] ?? 'span,bare,counter,histogram').split(',')) {
  const op = operations[name];
  if (op === undefined) throw new Error(`unknown operation ${name}`);
  const perOp: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = performance.now();
    for (let i = 0; i < OPS; i++) op(i);
    perOp.push(((performance.now() - start) * 1e6) / OPS);
  }
  perOp.sort((a, b) => a - b);
  console.log(`${name.padEnd(10)} median ${perOp[ROUNDS >> 1].toFixed(0)} ns/op (min ${perOp[0].toFixed(0)})`);
}
