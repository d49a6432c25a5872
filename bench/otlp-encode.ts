// Benchmark of OTLP export encoding (issue 5): the generated ts-proto encoder
// of an ExportTraceServiceRequest (512 spans, 5 attributes each, the shape the
// collector benchmark exports), writing through @bufbuild/protobuf's
// BinaryWriter or through our FlatWriter. Each writer runs in its own child
// process (one writer class per process, as in the collector, so the generated
// code is not made polymorphic by the comparison), alternating, and the table
// shows medians. Nothing is asserted.
//
// Run: node --conditions=source --import=tsx bench/otlp-encode.ts [-- ROUNDS]
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BinaryWriter, FlatWriter, type otlpCommon, otlpTrace, otlpTraceService } from '@otlp-mmap/protocol';
import { fmt, median, printTable } from './stats.js';

const SPANS = 512;
const REQUESTS = 400;

function request(): otlpTraceService.ExportTraceServiceRequest {
  const keys = ['http.request.method', 'http.route', 'http.response.status_code', 'server.address', 'user.id'];
  const shared: otlpCommon.KeyValue[] = [
    { key: keys[0], value: { value: { $case: 'stringValue', value: 'GET' } }, keyStrindex: 0 },
    { key: keys[1], value: { value: { $case: 'stringValue', value: '/api/v1/orders/{id}' } }, keyStrindex: 0 },
    { key: keys[2], value: { value: { $case: 'intValue', value: 200n } }, keyStrindex: 0 },
    { key: keys[3], value: { value: { $case: 'stringValue', value: 'orders.internal' } }, keyStrindex: 0 },
  ];
  const spans: otlpTrace.Span[] = [];
  for (let i = 0; i < SPANS; i++) {
    spans.push({
      traceId: new Uint8Array(16).fill(1 + (i >>> 4)),
      spanId: new Uint8Array(8).fill(1 + (i & 0xff)),
      traceState: '',
      parentSpanId: new Uint8Array(0),
      flags: 1,
      name: 'GET /api/v1/orders/{id}',
      kind: otlpTrace.Span_SpanKind.SPAN_KIND_SERVER,
      startTimeUnixNano: 1_700_000_000_000_000_000n + BigInt(i) * 1000n,
      endTimeUnixNano: 1_700_000_000_000_100_000n + BigInt(i) * 1000n,
      attributes: [...shared, { key: keys[4], value: { value: { $case: 'intValue', value: BigInt(100_000 + i) } }, keyStrindex: 0 }],
      droppedAttributesCount: 0,
      events: [],
      droppedEventsCount: 0,
      links: [],
      droppedLinksCount: 0,
      status: undefined,
    });
  }
  const resource = {
    attributes: [{ key: 'service.name', value: { value: { $case: 'stringValue' as const, value: 'bench' } }, keyStrindex: 0 }],
    droppedAttributesCount: 0,
    entityRefs: [],
  };
  return {
    resourceSpans: [
      { resource, schemaUrl: '', scopeSpans: [{ scope: { name: 'bench', version: '', attributes: [], droppedAttributesCount: 0 }, spans, schemaUrl: '' }] },
    ],
  };
}

/** Child: encodes REQUESTS requests with one writer (after a warm-up) and prints spans/s and the request size. */
function child(kind: 'stock' | 'flat'): void {
  const r = request();
  const writer = kind === 'flat' ? new FlatWriter() : new BinaryWriter();
  let bytes = 0;
  for (let i = 0; i < 100; i++) bytes = otlpTraceService.ExportTraceServiceRequest.encode(r, writer).finish().length;
  const start = performance.now();
  for (let i = 0; i < REQUESTS; i++) bytes = otlpTraceService.ExportTraceServiceRequest.encode(r, writer).finish().length;
  const ms = performance.now() - start;
  process.stdout.write(JSON.stringify({ spansPerS: (REQUESTS * SPANS) / (ms / 1000), bytes }));
}

if (process.argv[2] === '--child') {
  child(process.argv[3] as 'stock' | 'flat');
} else {
  const rounds = Number(process.argv[2] ?? 5);
  const script = fileURLToPath(import.meta.url);
  const results: Record<'stock' | 'flat', number[]> = { stock: [], flat: [] };
  let size = 0;
  for (let i = 0; i < rounds; i++) {
    for (const kind of ['stock', 'flat'] as const) {
      const out = execFileSync(process.execPath, [...process.execArgv, script, '--child', kind], { encoding: 'utf8' });
      const { spansPerS, bytes } = JSON.parse(out) as { spansPerS: number; bytes: number };
      results[kind].push(spansPerS);
      size = bytes;
    }
  }
  console.log(
    `OTLP encoding: ExportTraceServiceRequest of ${SPANS} spans (5 attributes each, ${fmt(size)} bytes), ${REQUESTS} requests per run, medians of ${rounds} runs each\n`,
  );
  const stock = median(results.stock);
  const flat = median(results.flat);
  printTable(
    ['writer', 'spans/s (median)', 'µs per span', 'vs BinaryWriter'],
    [
      ['BinaryWriter (@bufbuild/protobuf)', fmt(stock), fmt(1e6 / stock, 2), '1.00x'],
      ['FlatWriter', fmt(flat), fmt(1e6 / flat, 2), `${fmt(flat / stock, 2)}x`],
    ],
  );
}
