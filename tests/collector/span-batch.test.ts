// applySpanBatch (the spans ring's shortcut for StartSpan and EndSpan) has
// the effect of decoding every message with SpanEventDecoder and applying it
// with ActiveSpans.apply: same spans, same attributes (the same shared
// objects), same counters, same messages reported bad — on any batch,
// including odd layouts, unknown fields, values it does not take,
// extension fields (FORMAT.md 8) and truncated messages.
import test from 'ava';
import fc from 'fast-check';
import { AnyValue, BinaryWriter, SpanEvent, SpanEventDecoder, type EndSpan, type KeyValueRef, type StartSpan } from '@otlp-mmap/protocol';
import { SPAN_EVENT_SCOPE_REF, SPAN_EVENT_SPAN_ID } from '@otlp-mmap/protocol/tags';
import { FileDictionary, type DictionarySource } from '../../packages/collector/src/dictionary/file-dictionary.js';
import { ActiveSpans } from '../../packages/collector/src/spans/active-spans.js';
import { decodeBatch } from '../../packages/collector/src/file/messages.js';
import { applySpanBatch } from '../../packages/collector/src/spans/span-batch.js';

/** Keys at references 1 to 4, a value entry at 5 (unless `changed` says otherwise); everything else does not resolve. */
class Source implements DictionarySource {
  private readonly entries = new Map<number, Uint8Array>([
    [1, Buffer.from('http.route')],
    [2, Buffer.from('http.request.method')],
    [3, Buffer.from('user.id')],
    [4, Buffer.from('ok')],
    [5, AnyValue.encode({ value: { $case: 'stringValue', value: 'from a value_ref' } }).finish()],
  ]);
  constructor(changed: Record<number, string> = {}) {
    for (const [ref, text] of Object.entries(changed)) this.entries.set(Number(ref), Buffer.from(text));
  }
  entry(ref: number): Uint8Array {
    const e = this.entries.get(ref);
    if (!e) throw Object.assign(new Error(`bad reference ${ref}`), { code: 'ERR_BAD_REFERENCE' });
    return e;
  }
  string(ref: number): string {
    return ref === 0 ? '' : Buffer.from(this.entry(ref)).toString('utf8');
  }
}

const traceIds = [new Uint8Array(16).fill(1), new Uint8Array(16).fill(2), new Uint8Array(15).fill(3)];
const spanIds = [new Uint8Array(8).fill(1), new Uint8Array(8).fill(2), new Uint8Array(8).fill(3), new Uint8Array(0)];

const anyValue = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('GET', '/orders/{id}', 'x'.repeat(300), 'é').map((value) => ({ value: { $case: 'stringValue' as const, value } })) },
  { weight: 2, arbitrary: fc.boolean().map((value) => ({ value: { $case: 'boolValue' as const, value } })) },
  { weight: 3, arbitrary: fc.bigInt({ min: -3n, max: 3n }).map((value) => ({ value: { $case: 'intValue' as const, value } })) },
  { weight: 2, arbitrary: fc.constantFrom(0, -0, 1.5, Number.NaN).map((value) => ({ value: { $case: 'doubleValue' as const, value } })) },
  fc.constant({ value: { $case: 'bytesValue' as const, value: new Uint8Array([1, 2]) } }),
  fc.constant({ value: { $case: 'valueRef' as const, value: 5n } }),
  fc.constant({ value: { $case: 'arrayValue' as const, value: { values: [{ value: { $case: 'boolValue' as const, value: true } }] } } }),
  fc.constant({ value: undefined }),
) as fc.Arbitrary<AnyValue>;
const keyValueRef: fc.Arbitrary<KeyValueRef> = fc.record({
  keyRef: fc.constantFrom(1n, 2n, 3n, 4n, 0n, 99n, 2n ** 40n),
  value: fc.option(anyValue, { nil: undefined, freq: 8 }),
});
const event: fc.Arbitrary<SpanEvent['event']> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record({
        parentSpanId: fc.constantFrom(new Uint8Array(0), new Uint8Array(8).fill(9)),
        flags: fc.constantFrom(0, 1, 0x301),
        name: fc.constantFrom('', 'GET /orders/{id}', 'ü'),
        kind: fc.constantFrom(0, 2, -1),
        startTimeUnixNano: fc.constantFrom(0n, 1_700_000_000_000_000_000n),
        attributes: fc.array(keyValueRef, { maxLength: 5 }),
        traceState: fc.constantFrom('', '', 'vendor=a,other=b'), // the extension (FORMAT.md 8)
      })
      .map((value) => ({ $case: 'start' as const, value: value as StartSpan })), // kind -1: a value no SpanKind names
  },
  {
    weight: 4,
    arbitrary: fc
      .record({
        endTimeUnixNano: fc.constantFrom(0n, 1_700_000_000_000_500_000n),
        status: fc.option(fc.record({ message: fc.constantFrom('', 'boom'), code: fc.constantFrom(0, 1, 2, -5) }), { nil: undefined }),
        // the extensions (FORMAT.md 8)
        droppedAttributesCount: fc.constantFrom(0, 0, 3, 2 ** 32 - 1),
        droppedEventsCount: fc.constantFrom(0, 0, 1),
        droppedLinksCount: fc.constantFrom(0, 0, 2),
      })
      .map((value) => ({ $case: 'end' as const, value: value as EndSpan })), // code -5: likewise
  },
  fc.constantFrom('renamed', '').map((name) => ({ $case: 'name' as const, value: { name } })),
  fc.array(keyValueRef, { maxLength: 2 }).map((attributes) => ({ $case: 'attributes' as const, value: { attributes } })),
  fc.constant(undefined),
);
const spanEvent: fc.Arbitrary<SpanEvent> = fc.record({
  scopeRef: fc.constantFrom(0n, 7n, 2n ** 60n),
  traceId: fc.constantFrom(traceIds[0], traceIds[0], traceIds[1], traceIds[2]),
  spanId: fc.constantFrom(spanIds[0], spanIds[1], spanIds[2], spanIds[0], spanIds[3]),
  event,
});

/** What may happen to a message's bytes on their way (odd but legal layouts, and damage). */
const alteration = fc.oneof(
  { weight: 8, arbitrary: fc.constant((b: Uint8Array) => b) },
  fc.constant((b: Uint8Array) => concat(b, new Uint8Array([0x90, 0x03, 0x01]))), // unknown field 50
  fc.constant((b: Uint8Array) => concat(b, new BinaryWriter().uint32(SPAN_EVENT_SPAN_ID).bytes(spanIds[1]).finish())), // span_id again
  fc.constant((b: Uint8Array) => concat(new BinaryWriter().uint32(SPAN_EVENT_SCOPE_REF).int64(3n).finish(), b)), // scope_ref twice
  fc.constant((b: Uint8Array) => b.subarray(0, Math.max(0, b.length - 1))), // truncated
);

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function batchOf(messages: Uint8Array[]): Uint8Array {
  const w = new BinaryWriter();
  for (const m of messages) w.bytes(m);
  return w.finish();
}

function table(): ActiveSpans {
  return new ActiveSpans(
    new FileDictionary(new Source()),
    { maxAgeMs: 60_000, maxActive: 4, maxAttributes: 3, maxEvents: 4, maxLinks: 4, endGraceMs: 0 },
    () => 0,
  );
}

test('a batch applied through the shortcut ends as it does decoded and applied message by message', (t) => {
  fc.assert(
    fc.property(fc.array(fc.array(fc.tuple(spanEvent, alteration), { maxLength: 12 }), { minLength: 1, maxLength: 3 }), (batches) => {
      const fast = table();
      const slow = table();
      let fastBad = 0;
      let slowBad = 0;
      for (const batch of batches) {
        const bytes = batchOf(batch.map(([m, alter]) => alter(SpanEvent.encode(m).finish())));
        const fastCount = applySpanBatch(bytes, fast, () => fastBad++);
        const slowCount = decodeBatch(
          bytes,
          SpanEventDecoder,
          (m) => slow.apply(m),
          () => slowBad++,
        );
        t.is(fastCount, slowCount);
        t.deepEqual(fast.release(true), slow.release(true));
      }
      t.is(fastBad, slowBad);
      t.deepEqual(fast.takeAll(), slow.takeAll());
      t.deepEqual(fast.counters, slow.counters);
    }),
    { numRuns: 300 },
  );
});

/** A StartSpan of span `spanId` with one attribute. */
function startWith(spanId: Uint8Array, attribute: KeyValueRef): Uint8Array {
  return SpanEvent.encode({
    scopeRef: 1n,
    traceId: traceIds[0],
    spanId,
    event: {
      $case: 'start',
      value: { parentSpanId: new Uint8Array(0), flags: 1, name: 'n', kind: 2, startTimeUnixNano: 5n, attributes: [attribute], traceState: '' },
    },
  }).finish();
}

test('attributes the dictionary already shares are the same objects on every span', (t) => {
  const spans = table();
  const route: KeyValueRef = { keyRef: 1n, value: { value: { $case: 'stringValue', value: '/orders/{id}' } } };
  applySpanBatch(batchOf([startWith(spanIds[0], route), startWith(spanIds[1], route)]), spans, () => t.fail());
  const [a, b] = spans.takeAll();
  t.deepEqual(a.span.attributes[0], { key: 'http.route', value: { value: { $case: 'stringValue', value: '/orders/{id}' } }, keyStrindex: 0 });
  t.is(a.span.attributes[0], b.span.attributes[0]);
});

test('a -0 attribute value stays -0 after the dictionary shared a 0 for the same key', (t) => {
  const spans = table();
  const double = (value: number): KeyValueRef => ({ keyRef: 3n, value: { value: { $case: 'doubleValue', value } } });
  applySpanBatch(batchOf([startWith(spanIds[0], double(0)), startWith(spanIds[1], double(-0))]), spans, () => t.fail());
  const [zero, minusZero] = spans.takeAll().map((s) => s.span.attributes[0].value?.value?.value);
  t.true(Object.is(zero, 0));
  t.true(Object.is(minusZero, -0));
});

test('after a switch to another file a repeated attribute is resolved in the new dictionary', (t) => {
  const spans = table();
  const route: KeyValueRef = { keyRef: 1n, value: { value: { $case: 'stringValue', value: '/orders/{id}' } } };
  applySpanBatch(batchOf([startWith(spanIds[0], route), startWith(spanIds[1], route)]), spans, () => t.fail());
  t.deepEqual(
    spans.takeAll().map((s) => s.span.attributes[0].key),
    ['http.route', 'http.route'],
  );
  spans.useDictionary(new FileDictionary(new Source({ 1: 'url.template' })));
  applySpanBatch(batchOf([startWith(spanIds[2], route)]), spans, () => t.fail());
  t.is(spans.takeAll()[0].span.attributes[0].key, 'url.template');
});

test('a key repeated at one position with values taking turns keeps the value of each span', (t) => {
  const spans = table();
  const routes = ['/a', '/b', '/a', '/b']; // the table keeps 4 open spans
  const starts = routes.map((value, i) => startWith(new Uint8Array(8).fill(i + 1), { keyRef: 1n, value: { value: { $case: 'stringValue', value } } }));
  applySpanBatch(batchOf(starts), spans, () => t.fail());
  t.deepEqual(
    spans.takeAll().map((s) => s.span.attributes[0].value?.value?.value),
    routes,
  );
});
