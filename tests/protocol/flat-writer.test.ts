// FlatWriter writes exactly the bytes of @bufbuild/protobuf's BinaryWriter:
// the generated OTLP encoders given either writer produce equal output for
// any trace, metrics or logs export request, and equal errors for values a
// field cannot hold.
import test from 'ava';
import fc from 'fast-check';
import { BinaryWriter, FlatWriter, otlpCommon, otlpLogsService, otlpMetricsService, otlpTraceService } from '@otlp-mmap/protocol';

const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const uint64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const uint32 = fc.nat({ max: 0xffffffff });
const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const bytes = fc.uint8Array({ maxLength: 40 });
/** Any UTF-16 text (lone surrogates included), sometimes long enough for a multi-byte length prefix. */
const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 20, unit: 'binary' }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 300, unit: 'binary' }) },
  { weight: 1, arbitrary: fc.string({ minLength: 60, maxLength: 200, unit: 'grapheme-ascii' }) },
  { weight: 1, arbitrary: fc.array(fc.integer({ min: 0xd7f0, max: 0xe010 }), { maxLength: 10 }).map((units) => String.fromCharCode(...units)) },
);
const double = fc.double();

/** Partial messages: any field may be absent (fromPartial fills in the default). */
function partial<T extends Record<string, fc.Arbitrary<unknown>>>(fields: T) {
  return fc.record(fields, { requiredKeys: [] });
}

const { anyValue } = fc.letrec((tie) => ({
  anyValue: partial({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      text.map((value) => ({ $case: 'stringValue' as const, value })),
      fc.boolean().map((value) => ({ $case: 'boolValue' as const, value })),
      int64.map((value) => ({ $case: 'intValue' as const, value })),
      double.map((value) => ({ $case: 'doubleValue' as const, value })),
      fc.array(tie('anyValue'), { maxLength: 3 }).map((values) => ({ $case: 'arrayValue' as const, value: { values } })),
      fc.array(tie('keyValue'), { maxLength: 3 }).map((values) => ({ $case: 'kvlistValue' as const, value: { values } })),
      bytes.map((value) => ({ $case: 'bytesValue' as const, value })),
      int32.map((value) => ({ $case: 'stringValueStrindex' as const, value })),
    ),
  }),
  keyValue: partial({ key: text, value: tie('anyValue'), keyStrindex: int32 }),
}));
const keyValue = partial({ key: text, value: anyValue, keyStrindex: int32 });
const attributes = fc.array(keyValue, { maxLength: 6 });
const entityRef = partial({ schemaUrl: text, type: text, idKeys: fc.array(text, { maxLength: 3 }), descriptionKeys: fc.array(text, { maxLength: 3 }) });
const resource = partial({ attributes, droppedAttributesCount: uint32, entityRefs: fc.array(entityRef, { maxLength: 2 }) });
const scope = partial({ name: text, version: text, attributes, droppedAttributesCount: uint32 });

const span = partial({
  traceId: bytes,
  spanId: bytes,
  traceState: text,
  parentSpanId: bytes,
  flags: uint32,
  name: text,
  kind: fc.integer({ min: 0, max: 5 }),
  startTimeUnixNano: uint64,
  endTimeUnixNano: uint64,
  attributes,
  droppedAttributesCount: uint32,
  events: fc.array(partial({ timeUnixNano: uint64, name: text, attributes, droppedAttributesCount: uint32 }), { maxLength: 3 }),
  droppedEventsCount: uint32,
  links: fc.array(partial({ traceId: bytes, spanId: bytes, traceState: text, attributes, droppedAttributesCount: uint32, flags: uint32 }), { maxLength: 3 }),
  droppedLinksCount: uint32,
  status: partial({ message: text, code: fc.integer({ min: 0, max: 2 }) }),
});
const traceRequest = partial({
  resourceSpans: fc.array(
    partial({
      resource,
      scopeSpans: fc.array(partial({ scope, spans: fc.array(span, { maxLength: 40 }), schemaUrl: text }), { maxLength: 3 }),
      schemaUrl: text,
    }),
    { maxLength: 3 },
  ),
});

const logRecord = partial({
  timeUnixNano: uint64,
  observedTimeUnixNano: uint64,
  severityNumber: fc.integer({ min: 0, max: 24 }),
  severityText: text,
  body: anyValue,
  attributes,
  droppedAttributesCount: uint32,
  flags: uint32,
  traceId: bytes,
  spanId: bytes,
  eventName: text,
});
const logsRequest = partial({
  resourceLogs: fc.array(
    partial({
      resource,
      scopeLogs: fc.array(partial({ scope, logRecords: fc.array(logRecord, { maxLength: 40 }), schemaUrl: text }), { maxLength: 3 }),
      schemaUrl: text,
    }),
    { maxLength: 3 },
  ),
});

const exemplar = partial({
  filteredAttributes: attributes,
  timeUnixNano: uint64,
  value: fc.oneof(
    double.map((value) => ({ $case: 'asDouble' as const, value })),
    int64.map((value) => ({ $case: 'asInt' as const, value })),
  ),
  spanId: bytes,
  traceId: bytes,
});
const common = { attributes, startTimeUnixNano: uint64, timeUnixNano: uint64, exemplars: fc.array(exemplar, { maxLength: 2 }), flags: uint32 };
const numberPoint = partial({
  ...common,
  value: fc.oneof(
    double.map((value) => ({ $case: 'asDouble' as const, value })),
    int64.map((value) => ({ $case: 'asInt' as const, value })),
  ),
});
const histogramPoint = partial({
  ...common,
  count: uint64,
  sum: double,
  bucketCounts: fc.array(uint64, { maxLength: 30 }),
  explicitBounds: fc.array(double, { maxLength: 30 }),
  min: double,
  max: double,
});
const buckets = partial({ offset: int32, bucketCounts: fc.array(uint64, { maxLength: 30 }) });
const exponentialPoint = partial({
  ...common,
  count: uint64,
  sum: double,
  scale: int32,
  zeroCount: uint64,
  positive: buckets,
  negative: buckets,
  min: double,
  max: double,
  zeroThreshold: double,
});
const summaryPoint = partial({
  ...common,
  count: uint64,
  sum: double,
  quantileValues: fc.array(partial({ quantile: double, value: double }), { maxLength: 4 }),
});
const temporality = fc.integer({ min: 0, max: 2 });
const points = <T>(point: fc.Arbitrary<T>) => fc.array(point, { maxLength: 5 });
const metric = partial({
  name: text,
  description: text,
  unit: text,
  data: fc.oneof(
    partial({ dataPoints: points(numberPoint) }).map((value) => ({ $case: 'gauge' as const, value })),
    partial({ dataPoints: points(numberPoint), aggregationTemporality: temporality, isMonotonic: fc.boolean() }).map((value) => ({
      $case: 'sum' as const,
      value,
    })),
    partial({ dataPoints: points(histogramPoint), aggregationTemporality: temporality }).map((value) => ({ $case: 'histogram' as const, value })),
    partial({ dataPoints: points(exponentialPoint), aggregationTemporality: temporality }).map((value) => ({ $case: 'exponentialHistogram' as const, value })),
    partial({ dataPoints: points(summaryPoint) }).map((value) => ({ $case: 'summary' as const, value })),
  ),
  metadata: attributes,
});
const metricsRequest = partial({
  resourceMetrics: fc.array(
    partial({
      resource,
      scopeMetrics: fc.array(partial({ scope, metrics: fc.array(metric, { maxLength: 8 }), schemaUrl: text }), { maxLength: 3 }),
      schemaUrl: text,
    }),
    { maxLength: 3 },
  ),
});

interface Codec<T> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
  fromPartial(partial: never): T;
}

/**
 * One FlatWriter for the whole property: it must also reset fully between
 * messages. Each message is encoded twice, the second time with its strings
 * in the writer's UTF-8 cache.
 */
function sameBytes<T>(codec: Codec<T>, request: unknown, flat: FlatWriter): boolean {
  const message = codec.fromPartial(request as never);
  const expected = Buffer.from(codec.encode(message, new BinaryWriter()).finish());
  const first = Buffer.from(codec.encode(message, flat).finish());
  const second = Buffer.from(codec.encode(message, flat).finish());
  return expected.equals(first) && expected.equals(second);
}

test('trace export requests encode to the same bytes as with BinaryWriter', (t) => {
  const flat = new FlatWriter();
  fc.assert(
    fc.property(traceRequest, (r) => sameBytes(otlpTraceService.ExportTraceServiceRequest, r, flat)),
    { numRuns: 300 },
  );
  t.pass();
});

test('logs export requests encode to the same bytes as with BinaryWriter', (t) => {
  const flat = new FlatWriter();
  fc.assert(
    fc.property(logsRequest, (r) => sameBytes(otlpLogsService.ExportLogsServiceRequest, r, flat)),
    { numRuns: 300 },
  );
  t.pass();
});

test('metrics export requests encode to the same bytes as with BinaryWriter', (t) => {
  const flat = new FlatWriter();
  fc.assert(
    fc.property(metricsRequest, (r) => sameBytes(otlpMetricsService.ExportMetricsServiceRequest, r, flat)),
    { numRuns: 300 },
  );
  t.pass();
});

test('strings with lone surrogates become U+FFFD as TextEncoder makes them, short or long', (t) => {
  const writer = new FlatWriter();
  for (const value of ['\ud800', 'a\udc00b', '\udbff\udfff\ud800', `${'x'.repeat(100)}\ud83d`, `${'\ud83d\ude00'.repeat(50)}\udfff`]) {
    const stock = Buffer.from(new BinaryWriter().string(value).finish());
    t.deepEqual(Buffer.from(writer.string(value).finish()), stock, JSON.stringify(value));
    t.deepEqual(Buffer.from(writer.string(value).finish()), stock, `${JSON.stringify(value)} again (cached)`);
  }
  t.deepEqual(Buffer.from(new FlatWriter().string('a\ud800').finish()), Buffer.from([4, 0x61, 0xef, 0xbf, 0xbd]));
});

test('nested messages whose length needs more prefix bytes than the last one at their depth are moved intact', (t) => {
  // Sizes around the 1/2/3-byte varint boundaries, alternating so every guess from the previous sibling is wrong.
  const sizes = [0, 127, 128, 16383, 16384, 5, 200000, 1, 129];
  const value = (n: number): otlpCommon.AnyValue => ({ value: { $case: 'bytesValue', value: new Uint8Array(n).fill(n & 0xff) } });
  const list: otlpCommon.KeyValueList = { values: sizes.map((n, i) => ({ key: `k${i}`, value: value(n), keyStrindex: 0 })) };
  const flat = new FlatWriter();
  for (let round = 0; round < 2; round++) {
    const actual = otlpCommon.KeyValueList.encode(list, flat).finish();
    t.deepEqual(Buffer.from(actual), Buffer.from(otlpCommon.KeyValueList.encode(list, new BinaryWriter()).finish()));
    t.deepEqual(otlpCommon.KeyValueList.decode(actual), list);
  }
});

test('values a field cannot hold throw the errors BinaryWriter throws', (t) => {
  const cases: [string, (w: BinaryWriter) => unknown][] = [
    ['uint32 -1', (w) => w.uint32(-1)],
    ['uint32 2^32', (w) => w.uint32(2 ** 32)],
    ['uint32 1.5', (w) => w.uint32(1.5)],
    ['fixed32 NaN', (w) => w.fixed32(Number.NaN)],
    ['int32 2^31', (w) => w.int32(2 ** 31)],
    ['sfixed32 -2^31-1', (w) => w.sfixed32(-(2 ** 31) - 1)],
    ['float 1e39', (w) => w.float(1e39)],
    ['fixed64 -1', (w) => w.fixed64(-1n)],
    ['fixed64 2^64', (w) => w.fixed64(2n ** 64n)],
    ['uint64 -1', (w) => w.uint64(-1n)],
    ['int64 2^63', (w) => w.int64(2n ** 63n)],
    ['sfixed64 -2^63-1', (w) => w.sfixed64(-(2n ** 63n) - 1n)],
    ['join without fork', (w) => w.join()],
  ];
  for (const [name, write] of cases) {
    const expected = t.throws(() => write(new BinaryWriter()), undefined, name);
    t.throws(() => write(new FlatWriter()), { message: expected?.message }, name);
  }
});

test('numbers given as strings or numbers in 64-bit fields encode as BinaryWriter encodes them', (t) => {
  const writes: ((w: BinaryWriter) => unknown)[] = [
    (w) => w.int64('-5').uint64('18446744073709551615').fixed64(12).sfixed64('-9223372036854775808').sint64(-3n).sint64('9223372036854775807'),
    (w) =>
      w
        .uint32('300' as unknown as number)
        .int32('-7' as unknown as number)
        .sint32(-2147483648)
        .float(Number.NaN)
        .double(-0)
        .bool(true),
    (w) =>
      w
        .int64(4294967296n)
        .int64(-1n)
        .uint64(2n ** 35n)
        .tag(536870911, 2)
        .raw(new Uint8Array(100).fill(9)),
  ];
  for (const write of writes) {
    const stock = new BinaryWriter();
    const flat = new FlatWriter();
    write(stock);
    write(flat);
    t.deepEqual(Buffer.from(flat.finish()), Buffer.from(stock.finish()));
  }
});
