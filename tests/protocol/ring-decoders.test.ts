// The fast ring-message decoders decode exactly what the generated ts-proto
// decoders decode: same values for every message, same reader position after
// it, and the same error for malformed input.
import test from 'ava';
import fc from 'fast-check';
import {
  BinaryReader,
  BinaryWriter,
  EncodedMeasurementDecoder,
  Event,
  EventDecoder,
  Measurement,
  decodeAttributeRecords,
  type EncodedMeasurement,
  MeasurementDecoder,
  RingReader,
  SpanEvent,
  SpanEventDecoder,
  type AnyValue,
  type KeyValueRef,
  type Link,
  type SpanContext,
} from '@otlp-mmap/protocol';

const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const uint64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const uint32 = fc.nat({ max: 0xffffffff });
const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const bytes = fc.uint8Array({ maxLength: 20 });
const text = fc.string({ maxLength: 40, unit: 'binary' });

const { anyValue } = fc.letrec<{ anyValue: AnyValue; keyValue: KeyValueRef }>((tie) => ({
  anyValue: fc.record({
    value: fc.option(
      fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        text.map((value) => ({ $case: 'stringValue' as const, value })),
        fc.boolean().map((value) => ({ $case: 'boolValue' as const, value })),
        int64.map((value) => ({ $case: 'intValue' as const, value })),
        fc.double().map((value) => ({ $case: 'doubleValue' as const, value })),
        fc.array(tie('anyValue') as fc.Arbitrary<AnyValue>, { maxLength: 3 }).map((values) => ({ $case: 'arrayValue' as const, value: { values } })),
        fc.array(tie('keyValue') as fc.Arbitrary<KeyValueRef>, { maxLength: 3 }).map((values) => ({ $case: 'kvlistValue' as const, value: { values } })),
        bytes.map((value) => ({ $case: 'bytesValue' as const, value })),
        int64.map((value) => ({ $case: 'valueRef' as const, value })),
      ),
      { nil: undefined },
    ),
  }),
  keyValue: fc.record({ keyRef: int64, value: fc.option(tie('anyValue') as fc.Arbitrary<AnyValue>, { nil: undefined }) }),
}));
const keyValue: fc.Arbitrary<KeyValueRef> = fc.record({ keyRef: int64, value: fc.option(anyValue, { nil: undefined }) });
const attributes = fc.array(keyValue, { maxLength: 4 });
const spanContext: fc.Arbitrary<SpanContext> = fc.record({ spanId: bytes, traceId: bytes, flags: uint32 });
const link: fc.Arbitrary<Link> = fc.record({ traceId: bytes, spanId: bytes, traceState: text, attributes, droppedAttributesCount: uint32, flags: uint32 });

const spanEvent: fc.Arbitrary<SpanEvent> = fc.record({
  scopeRef: int64,
  traceId: bytes,
  spanId: bytes,
  event: fc.option(
    fc.oneof(
      fc
        .record({ parentSpanId: bytes, flags: uint32, name: text, kind: int32, startTimeUnixNano: uint64, attributes, traceState: text })
        .map((value) => ({ $case: 'start' as const, value })),
      fc
        .record({
          endTimeUnixNano: uint64,
          status: fc.option(fc.record({ message: text, code: int32 }), { nil: undefined }),
          droppedAttributesCount: uint32,
          droppedEventsCount: uint32,
          droppedLinksCount: uint32,
        })
        .map((value) => ({ $case: 'end' as const, value })),
      text.map((name) => ({ $case: 'name' as const, value: { name } })),
      attributes.map((a) => ({ $case: 'attributes' as const, value: { attributes: a } })),
      fc.array(link, { maxLength: 3 }).map((links) => ({ $case: 'link' as const, value: { links } })),
    ),
    { nil: undefined },
  ),
});

const event: fc.Arbitrary<Event> = fc.record({
  scopeRef: int64,
  timeUnixNano: uint64,
  severityNumber: int32,
  severityText: text,
  body: fc.option(anyValue, { nil: undefined }),
  eventNameRef: int64,
  spanContext: fc.option(spanContext, { nil: undefined }),
  attributes,
  observedTimeUnixNano: uint64,
  droppedAttributesCount: uint32,
});

const measurement: fc.Arbitrary<Measurement> = fc.record({
  metricRef: int64,
  attributes,
  timeUnixNano: uint64,
  value: fc.option(
    fc.oneof(
      int64.map((value) => ({ $case: 'asLong' as const, value })),
      fc.double().map((value) => ({ $case: 'asDouble' as const, value })),
    ),
    { nil: undefined },
  ),
  spanContext: fc.option(spanContext, { nil: undefined }),
});

interface Codec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: BinaryReader, length?: number): T;
}

type Outcome<T> = { ok: true; message: T; pos: number } | { ok: false; error: string };

/** Decodes `length` bytes at `offset` of `buffer` (as in a ring batch, with bytes around them). */
function run<T>(
  decode: (r: BinaryReader, length?: number) => T,
  buffer: Uint8Array,
  offset: number,
  length: number | undefined,
  Reader: new (input: Uint8Array) => BinaryReader = BinaryReader,
): Outcome<T> {
  const reader = new Reader(buffer);
  reader.pos = offset;
  try {
    const message = decode(reader, length);
    return { ok: true, message, pos: reader.pos };
  } catch (error) {
    return { ok: false, error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

function sameAsGenerated<T>(
  t: import('ava').ExecutionContext,
  generated: Codec<T>,
  fast: { decode(input: BinaryReader, length?: number): T },
  input: Uint8Array,
  offset: number,
  length: number | undefined,
): void {
  const expected = run((r, l) => generated.decode(r, l), input, offset, length);
  // The fast decoders on a plain BinaryReader, and on the caching RingReader the collector uses.
  t.deepEqual(
    run((r, l) => fast.decode(r, l), input, offset, length),
    expected,
  );
  t.deepEqual(
    run((r, l) => fast.decode(r, l), input, offset, length, RingReader),
    expected,
  );
}

/** The framing a ring batch gives: other bytes before and after the message. */
const framed = fc.record({ before: fc.uint8Array({ maxLength: 4 }), after: fc.uint8Array({ maxLength: 8 }) });

function wellFormed<T>(name: string, arbitrary: fc.Arbitrary<T>, generated: Codec<T>, fast: { decode(input: BinaryReader, length?: number): T }): void {
  test(`${name}: decodes every message exactly as the generated decoder does`, (t) => {
    fc.assert(
      fc.property(arbitrary, framed, (message, { before, after }) => {
        const body = generated.encode(message).finish();
        const input = new Uint8Array([...before, ...body, ...after]);
        sameAsGenerated(t, generated, fast, input, before.length, body.length);
        const decoded = run((r, l) => fast.decode(r, l), input, before.length, body.length);
        t.true(decoded.ok && decoded.pos === before.length + body.length);
        // Without a length, the whole input is the message.
        sameAsGenerated(t, generated, fast, body, 0, undefined);
      }),
      { numRuns: 300 },
    );
  });

  test(`${name}: treats malformed input (mutated, truncated, random bytes) exactly as the generated decoder does`, (t) => {
    fc.assert(
      fc.property(
        arbitrary,
        fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        fc.uint8Array({ maxLength: 64 }),
        framed,
        (message, changes, cut, noise, { before, after }) => {
          const body = generated.encode(message).finish();
          const mutated = body.slice();
          for (const c of changes) if (mutated.length > 0) mutated[c.at % mutated.length] = c.value;
          const truncated = body.subarray(0, body.length === 0 ? 0 : cut % body.length);
          for (const candidate of [mutated, truncated, noise]) {
            const input = new Uint8Array([...before, ...candidate, ...after]);
            sameAsGenerated(t, generated, fast, input, before.length, candidate.length);
            sameAsGenerated(t, generated, fast, candidate, 0, undefined);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
}

wellFormed('SpanEvent', spanEvent, SpanEvent, SpanEventDecoder);
wellFormed('Event', event, Event, EventDecoder);
wellFormed('Measurement', measurement, Measurement, MeasurementDecoder);

// EncodedMeasurementDecoder leaves the attributes encoded: what it decodes
// plus decodeAttributeRecords on its byte range must be what the generated
// decoder decodes.

/** The encoded decoder's outcome as a Measurement (attributes decoded from their range), or its error. */
function runEncoded(buffer: Uint8Array, offset: number, length: number | undefined, Reader: new (input: Uint8Array) => BinaryReader): Outcome<Measurement> {
  const outcome = run((r, l) => EncodedMeasurementDecoder.decode(r, l), buffer, offset, length, Reader);
  if (!outcome.ok) return outcome;
  const { attributesStart, attributesEnd, ...fields } = outcome.message as EncodedMeasurement;
  if (attributesStart < 0) {
    // Fallback (records not adjacent): attributes decoded in place.
    return { ok: true, message: fields, pos: outcome.pos };
  }
  if (fields.attributes.length !== 0) throw new Error('attributes both decoded and left encoded');
  try {
    return { ok: true, message: { ...fields, attributes: decodeAttributeRecords(buffer, attributesStart, attributesEnd) }, pos: outcome.pos };
  } catch (error) {
    return { ok: false, error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

/** Two encoded Measurements back to back: one message (repeated fields appended, last scalar wins), attributes maybe apart. */
const twoMeasurements = fc.tuple(measurement, measurement).map(([a, b]) => {
  const first = Measurement.encode(a).finish();
  const second = Measurement.encode(b).finish();
  return new Uint8Array([...first, ...second]);
});

test('EncodedMeasurement: decodes every message as the generated decoder does, attributes decoded from their range', (t) => {
  fc.assert(
    fc.property(
      fc.oneof(
        measurement.map((m) => Measurement.encode(m).finish()),
        twoMeasurements,
      ),
      framed,
      (body, { before, after }) => {
        const input = new Uint8Array([...before, ...body, ...after]);
        const expected = run((r, l) => Measurement.decode(r, l), input, before.length, body.length);
        t.true(expected.ok);
        for (const Reader of [BinaryReader, RingReader]) {
          t.deepEqual(runEncoded(input, before.length, body.length, Reader), expected);
          t.deepEqual(
            runEncoded(body, 0, undefined, Reader),
            run((r, l) => Measurement.decode(r, l), body, 0, undefined),
          );
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('EncodedMeasurement: on malformed input it never decodes anything the generated decoder would not (it may refuse more)', (t) => {
  let compared = 0;
  fc.assert(
    fc.property(
      fc.oneof(
        measurement.map((m) => Measurement.encode(m).finish()),
        twoMeasurements,
      ),
      fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 4 }),
      fc.nat(),
      fc.uint8Array({ maxLength: 64 }),
      framed,
      (body, changes, cut, noise, { before, after }) => {
        const mutated = body.slice();
        for (const c of changes) if (mutated.length > 0) mutated[c.at % mutated.length] = c.value;
        const truncated = body.subarray(0, body.length === 0 ? 0 : cut % body.length);
        for (const candidate of [mutated, truncated, noise]) {
          const input = new Uint8Array([...before, ...candidate, ...after]);
          const expected = run((r, l) => Measurement.decode(r, l), input, before.length, candidate.length);
          for (const Reader of [BinaryReader, RingReader]) {
            const actual = runEncoded(input, before.length, candidate.length, Reader);
            if (actual.ok) {
              t.deepEqual(actual, expected);
              compared++;
            }
          }
        }
      },
    ),
    { numRuns: 300 },
  );
  t.true(compared > 0);
});

test('EncodedMeasurement: equal attribute bytes decode to equal attributes, whatever surrounds them', (t) => {
  fc.assert(
    fc.property(attributes, measurement, measurement, (attrs, a, b) => {
      const decodeRange = (m: Measurement) => {
        const body = Measurement.encode({ ...m, attributes: attrs }).finish();
        const decoded = EncodedMeasurementDecoder.decode(body);
        return {
          bytes: body.subarray(decoded.attributesStart, decoded.attributesEnd),
          attributes: decodeAttributeRecords(body, decoded.attributesStart, decoded.attributesEnd),
        };
      };
      const x = decodeRange(a);
      const y = decodeRange(b);
      t.deepEqual(x.bytes, y.bytes);
      t.deepEqual(x.attributes, attrs);
      t.deepEqual(y.attributes, attrs);
    }),
    { numRuns: 200 },
  );
});

test('decodeAttributeRecords refuses a record whose content runs past its length instead of reading on', (t) => {
  // One record of length 2 holding key_ref with a 3-byte varint: the generated decoder would read past the record.
  const bytes = new Uint8Array([18, 2, 8, 0x80, 0x80, 0x01]);
  t.throws(() => decodeAttributeRecords(bytes, 0, 4));
  t.throws(() => decodeAttributeRecords(bytes, 0, bytes.length));
  t.throws(() => decodeAttributeRecords(new Uint8Array([8, 1]), 0, 2), { message: /not an attribute record/ });
  t.deepEqual(decodeAttributeRecords(new Uint8Array([18, 2, 8, 5]), 0, 4), [{ keyRef: 5n, value: undefined }]);
});

test('nesting deeper than the generated decoder allows is refused with the same error', (t) => {
  // An Event whose body is an AnyValue array nested 120 levels deep.
  let value: AnyValue = { value: { $case: 'intValue', value: 1n } };
  for (let i = 0; i < 120; i++) value = { value: { $case: 'arrayValue', value: { values: [value] } } };
  const body = Event.encode({
    scopeRef: 1n,
    timeUnixNano: 0n,
    severityNumber: 0,
    severityText: '',
    body: value,
    eventNameRef: 0n,
    spanContext: undefined,
    attributes: [],
    observedTimeUnixNano: 0n,
    droppedAttributesCount: 0,
  }).finish();
  const expected = run((r, l) => Event.decode(r, l), body, 0, body.length);
  t.false(expected.ok);
  t.deepEqual(
    run((r, l) => EventDecoder.decode(r, l), body, 0, body.length),
    expected,
  );
});

test('RingReader reads strings and int64 values exactly as BinaryReader does, cached or not', (t) => {
  // Few distinct lengths and a small alphabet, so that cache slots are shared by different strings of one length.
  const value = fc.oneof(
    fc.string({ minLength: 0, maxLength: 3, unit: fc.constantFrom('a', 'b', 'é', '\u{1F600}') }).map((v) => ({ kind: 'string' as const, v })),
    fc.string({ minLength: 100, maxLength: 200, unit: fc.constantFrom('a', 'b') }).map((v) => ({ kind: 'string' as const, v })),
    fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 29n }), int64).map((v) => ({ kind: 'int64' as const, v })),
  );
  fc.assert(
    fc.property(fc.array(value, { minLength: 1, maxLength: 30 }), fc.nat(), (values, cut) => {
      const w = new BinaryWriter();
      for (const x of values) x.kind === 'string' ? w.string(x.v) : w.int64(x.v);
      const full = w.finish();
      for (const bytes of [full, full.subarray(0, cut % (full.length + 1))]) {
        const read = (reader: BinaryReader): unknown[] => {
          const out: unknown[] = [];
          try {
            for (const x of values) out.push(x.kind === 'string' ? reader.string() : reader.int64(), reader.pos);
          } catch (error) {
            out.push(`${(error as Error).name}: ${(error as Error).message}`);
          }
          return out;
        };
        t.deepEqual(read(new RingReader(bytes)), read(new BinaryReader(bytes)));
      }
    }),
    { numRuns: 500 },
  );
});

test('bytes decoded through RingReader are copies: changing the input later does not change them', (t) => {
  const traceId = new Uint8Array(16).fill(7);
  const body = SpanEvent.encode({ scopeRef: 1n, traceId, spanId: new Uint8Array(8).fill(9), event: undefined }).finish();
  const decoded = SpanEventDecoder.decode(new RingReader(body), body.length);
  body.fill(0);
  t.deepEqual(decoded.traceId, new Uint8Array(16).fill(7));
  t.deepEqual(decoded.spanId, new Uint8Array(8).fill(9));
  t.not(decoded.traceId.buffer, body.buffer);
});

test('an absent bytes field decodes as an empty array, as in the generated decoder', (t) => {
  const decoded = SpanEventDecoder.decode(SpanEvent.encode({ scopeRef: 3n, traceId: new Uint8Array(0), spanId: new Uint8Array(0), event: undefined }).finish());
  t.deepEqual(decoded, { scopeRef: 3n, traceId: new Uint8Array(0), spanId: new Uint8Array(0), event: undefined });
});
