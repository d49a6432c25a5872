// A message object given to memoizeEncoding encodes, through the generated
// encoders, to exactly the bytes of an equal object without a memo, wherever
// it is nested; it is frozen so that those bytes cannot go stale.
import test from 'ava';
import fc from 'fast-check';
import { BinaryWriter, FlatWriter, memoizeEncoding, otlpCommon, otlpTrace, useEncodingMemo } from '@otlp-mmap/protocol';
import { hasMemoizedEncoding } from '../../packages/protocol/src/wire/encoded-memo.js';

useEncodingMemo(otlpCommon.KeyValue);

const scalar = fc.oneof(
  fc.string({ maxLength: 300, unit: 'binary' }).map((value) => ({ $case: 'stringValue' as const, value })),
  fc.boolean().map((value) => ({ $case: 'boolValue' as const, value })),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((value) => ({ $case: 'intValue' as const, value })),
  fc.double().map((value) => ({ $case: 'doubleValue' as const, value })),
);
const keyValue = fc.record({
  key: fc.string({ maxLength: 40, unit: 'binary' }),
  value: fc.option(fc.record({ value: fc.option(scalar, { nil: undefined }) }), { nil: undefined }),
  keyStrindex: fc.constant(0),
});

/**
 * A span carrying `attributes` (the objects themselves: `fromPartial` would
 * copy them), and all of them again nested in a kvlist value.
 */
function span(attributes: otlpCommon.KeyValue[]): otlpTrace.Span {
  const nested: otlpCommon.KeyValue = { key: 'nested', value: { value: { $case: 'kvlistValue', value: { values: attributes } } }, keyStrindex: 0 };
  return {
    ...otlpTrace.Span.fromPartial({ traceId: new Uint8Array(16).fill(1), spanId: new Uint8Array(8).fill(2), name: 's' }),
    attributes: [...attributes, nested],
  };
}

test('memoized attributes encode to the same bytes as fresh equal ones, in any writer and at any depth', (t) => {
  fc.assert(
    fc.property(fc.array(keyValue, { maxLength: 6 }), (attributes) => {
      const fresh = span(structuredClone(attributes));
      const memoized = span(structuredClone(attributes).map((kv) => memoizeEncoding(otlpCommon.KeyValue, kv)));
      t.true(memoized.attributes.slice(0, -1).every(hasMemoizedEncoding));
      for (const writer of [() => new BinaryWriter(), () => new FlatWriter()]) {
        const expected = otlpTrace.Span.encode(fresh, writer()).finish();
        const actual = otlpTrace.Span.encode(memoized, writer()).finish();
        t.deepEqual(Buffer.from(actual), Buffer.from(expected));
      }
    }),
  );
});

test('a memoized attribute is frozen down to its value: changing it throws', (t) => {
  const kv = memoizeEncoding(otlpCommon.KeyValue, { key: 'http.route', value: { value: { $case: 'stringValue', value: '/a' } }, keyStrindex: 0 });
  t.true(hasMemoizedEncoding(kv));
  t.throws(
    () => {
      (kv as { key: string }).key = 'other';
    },
    { instanceOf: TypeError },
  );
  t.throws(
    () => {
      (kv.value!.value as { value: string }).value = '/b';
    },
    { instanceOf: TypeError },
  );
  t.is(kv.key, 'http.route');
});

test('an attribute holding bytes gets no memo and stays changeable', (t) => {
  const kv: otlpCommon.KeyValue = { key: 'b', value: { value: { $case: 'bytesValue', value: new Uint8Array([1, 2]) } }, keyStrindex: 0 };
  t.is(memoizeEncoding(otlpCommon.KeyValue, kv), kv);
  t.false(hasMemoizedEncoding(kv));
  t.false(Object.isFrozen(kv));
});

test('installing the memo again keeps one wrapper around the generated encoder', (t) => {
  const encode = otlpCommon.KeyValue.encode;
  useEncodingMemo(otlpCommon.KeyValue);
  t.is(otlpCommon.KeyValue.encode, encode);
});
