// Benchmark of the native binding (issue 3): append from JS, drain from JS as
// raw bytes and as decoded objects. Run: pnpm bench:native
// Figures are medians over several rounds; nothing here is asserted.
import { rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reader, Ring, Writer } from '@otlp-mmap/native';
import { BinaryReader, RingReader, SpanEvent, SpanEventDecoder, SpanKind } from '@otlp-mmap/protocol';
import { fmt, median, printTable } from './stats.js';

const SLOTS = 1 << 16;
const ROUNDS = 9;
const dir = mkdtempSync(join(tmpdir(), 'otlp-mmap-bench-'));
const path = join(dir, 'bench.mmap');
const writer = Writer.create(path, { spans: { slots: SLOTS, slotSize: 256 } });
const reader = Reader.open(path);

// A ~200-byte SpanEvent: a span start with five attributes.
const message = SpanEvent.encode(
  SpanEvent.fromPartial({
    traceId: new Uint8Array(16).fill(0xab),
    spanId: new Uint8Array(8).fill(0xcd),
    scopeRef: 4242n,
    event: {
      $case: 'start',
      value: {
        name: 'GET /api/v1/orders/{id}',
        kind: SpanKind.SPAN_KIND_SERVER,
        flags: 0x101,
        startTimeUnixNano: 1_764_000_000_000_000_000n,
        parentSpanId: new Uint8Array(8).fill(0xef),
        attributes: [
          { keyRef: 1001n, value: { value: { $case: 'stringValue', value: 'GET' } } },
          { keyRef: 1002n, value: { value: { $case: 'stringValue', value: 'https://shop.example.com/api/v1/orders/12345' } } },
          { keyRef: 1003n, value: { value: { $case: 'intValue', value: 200n } } },
          { keyRef: 1004n, value: { value: { $case: 'stringValue', value: 'Mozilla/5.0 (X11; Linux x86_64) bench' } } },
          { keyRef: 1005n, value: { value: { $case: 'doubleValue', value: 12.5 } } },
        ],
      },
    },
  }),
).finish();

function fill(n: number): void {
  for (let i = 0; i < n; i++) if (!writer.append(Ring.Spans, message)) throw new Error('ring full while filling');
}

// The SDK's path: the message is already in the binding's scratch memory; a call passes ring and length.
const appendScratch = writer.scratchAppender(4096);
appendScratch.buffer.set(message);
function fillScratch(n: number): void {
  for (let i = 0; i < n; i++) if (!appendScratch(Ring.Spans, message.length)) throw new Error('ring full while filling');
}

function drainRaw(): number {
  let n = 0;
  for (;;) {
    const batch = reader.read(Ring.Spans, 4096);
    if (batch.length === 0) return n;
    // Walk the frames as a consumer would, without decoding.
    const r = new BinaryReader(batch);
    while (r.pos < r.len) {
      const len = r.uint32();
      r.pos += len;
      n++;
    }
  }
}

function drainDecoded(decoder: { decode(r: BinaryReader, length: number): SpanEvent }, Reader: new (input: Uint8Array) => BinaryReader): number {
  let n = 0;
  for (;;) {
    const batch = reader.read(Ring.Spans, 4096);
    if (batch.length === 0) return n;
    const r = new Reader(batch);
    while (r.pos < r.len) {
      const len = r.uint32();
      const e = decoder.decode(r, len);
      if (e.event?.$case !== 'start') throw new Error('decode mismatch');
      n++;
    }
  }
}

const count = SLOTS - 2;
const append: number[] = [];
const appendScratchNs: number[] = [];
const raw: number[] = [];
const decoded: number[] = [];
const decodedFast: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  let t0 = process.hrtime.bigint();
  fill(count);
  append.push(Number(process.hrtime.bigint() - t0) / count);

  t0 = process.hrtime.bigint();
  const nRaw = drainRaw();
  raw.push(nRaw / (Number(process.hrtime.bigint() - t0) / 1e9));

  t0 = process.hrtime.bigint();
  fillScratch(count);
  appendScratchNs.push(Number(process.hrtime.bigint() - t0) / count);
  if (drainRaw() !== count) throw new Error('lost messages');

  fill(count);
  t0 = process.hrtime.bigint();
  const nDecoded = drainDecoded(SpanEvent, BinaryReader);
  decoded.push(nDecoded / (Number(process.hrtime.bigint() - t0) / 1e9));

  fill(count);
  t0 = process.hrtime.bigint();
  const nFast = drainDecoded(SpanEventDecoder, RingReader);
  decodedFast.push(nFast / (Number(process.hrtime.bigint() - t0) / 1e9));
  if (nRaw !== count || nDecoded !== count || nFast !== count) throw new Error('lost messages');
}
writer.close();
reader.close();
rmSync(dir, { recursive: true, force: true });

console.log(`native binding, ${message.length}-byte message, ${fmt(count)} messages x ${ROUNDS} rounds (medians)\n`);
printTable(
  ['operation', 'median', 'target'],
  [
    ['append one message from JS', `${fmt(median(append), 1)} ns/msg`, '<= 150 ns'],
    ['append through a scratch appender (the SDK path)', `${fmt(median(appendScratchNs), 1)} ns/msg`, '<= 150 ns'],
    ['drain as raw bytes', `${fmt(median(raw) / 1e6, 2)} M msg/s`, '>= 5 M/s'],
    ['drain decoded (generated ts-proto SpanEvent.decode)', `${fmt(median(decoded) / 1e6, 2)} M msg/s`, '>= 1 M/s'],
    ['drain decoded (SpanEventDecoder + RingReader, as the collector)', `${fmt(median(decodedFast) / 1e6, 2)} M msg/s`, '>= 1 M/s'],
  ],
);
