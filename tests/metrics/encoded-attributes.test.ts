// The collector's fast path: measurements whose attributes stay encoded
// (EncodedMeasurementDecoder) and whose series is found by the attribute
// bytes (MetricsAggregator.recordEncoded). It must aggregate exactly as
// record() does with the decoded message.
import test from 'ava';
import fc from 'fast-check';
import { EncodedMeasurementDecoder, Measurement, type KeyValueRef } from '@otlp-mmap/protocol';
import { MetricsAggregator, type DropReason, type MetricsAggregatorOptions } from '../../packages/collector/src/metrics/index.js';
import { FakeDictionary, aggregations, type Primitive } from './helpers/fake-dictionary.js';
import { measurement } from './helpers/measurements.js';
import { numberPoints, pointValue } from './helpers/collect.js';
import { attributesKey } from './helpers/normalize.js';
import { EncodedAttributeCache, MAX_ENCODED_KEY_BYTES, hashBytes } from '../../packages/collector/src/metrics/attribute-key.js';

function setup(options: MetricsAggregatorOptions = {}) {
  const dict = new FakeDictionary();
  const ref = dict.addMetric({ name: 'c', aggregation: aggregations.counter });
  const agg = new MetricsAggregator(options);
  /** Encodes the measurement as the SDK writes it into the ring, then records it through the encoded path. */
  const recordEncoded = (value: bigint, attributes: KeyValueRef[], time = 10n) => {
    const bytes = Measurement.encode(measurement(ref, value, time, attributes)).finish();
    agg.recordEncoded(EncodedMeasurementDecoder.decode(bytes), bytes, dict);
  };
  const record = (value: bigint, attributes: KeyValueRef[], time = 10n) => agg.record(measurement(ref, value, time, attributes), dict);
  const points = (now: bigint) =>
    numberPoints(agg.collect(now), 'c')
      .map((p) => [attributesKey(p.attributes), pointValue(p)] as const)
      .sort(([a], [b]) => (a < b ? -1 : 1));
  return { dict, ref, agg, record, recordEncoded, points };
}

test('one attribute set in two key orders, through record and through the encoded path, is one series', (t) => {
  const { dict, record, recordEncoded, points } = setup();
  recordEncoded(1n, dict.kvs({ a: 'x', b: 1n, c: true }));
  recordEncoded(2n, dict.kvs({ c: true, a: 'x', b: 1n }));
  record(4n, dict.kvs({ b: 1n, c: true, a: 'x' }));
  recordEncoded(8n, dict.kvs({ a: 'x', b: 1n, c: true }));
  t.deepEqual(points(100n), [['[["a","x"],["b",1],["c",true]]', 15n]]);
});

test('attribute bytes seen before are neither decoded nor resolved again', (t) => {
  const { dict, recordEncoded, points } = setup();
  const attributes = dict.kvs({ a: 'x', b: 'y' });
  for (let i = 0; i < 100; i++) recordEncoded(1n, attributes, BigInt(i));
  t.is(dict.attributeResolutions, 1);
  t.deepEqual(points(200n), [['[["a","x"],["b","y"]]', 100n]]);
});

test('the encoded-attributes cache stays bounded under unique attribute bytes, and overflow works as with record', (t) => {
  const limit = 10;
  const encoded = setup({ cardinalityLimit: limit });
  const decoded = setup({ cardinalityLimit: limit });
  for (let i = 0; i < 5000; i++) {
    encoded.recordEncoded(1n, encoded.dict.kvs({ id: `user-${i}` }));
    decoded.record(1n, decoded.dict.kvs({ id: `user-${i}` }));
    t.true(encoded.agg.encodedCacheEntries() <= 4 * limit + 64);
  }
  t.is(encoded.agg.stats().recorded, 5000);
  t.is(encoded.agg.stats().series, limit);
  const points = encoded.points(100n);
  t.deepEqual(points, decoded.points(100n));
  t.deepEqual(
    points.find(([key]) => key.includes('otel.metric.overflow')),
    ['[["otel.metric.overflow",true]]', BigInt(5000 - (limit - 1))],
  );
});

test('attribute records that do not decode drop the measurement as unresolvedAttributes, and onDrop sees it', (t) => {
  const drops: DropReason[] = [];
  const { dict, ref, agg, recordEncoded, points } = setup({ onDrop: (reason) => drops.push(reason) });
  // metric_ref, then one attribute record (field 2, length 2) whose key_ref varint runs past the record.
  const refBytes = Measurement.encode(measurement(ref, undefined, 0n)).finish();
  const bytes = new Uint8Array([...refBytes, 18, 2, 8, 0x80, 32, 1]);
  const m = EncodedMeasurementDecoder.decode(bytes);
  t.true(m.attributesStart >= 0);
  agg.recordEncoded(m, bytes, dict);
  recordEncoded(3n, dict.kvs({ k: 'v' }));
  t.deepEqual(drops, ['unresolvedAttributes']);
  t.is(agg.stats().dropped.unresolvedAttributes, 1);
  t.deepEqual(points(100n), [['[["k","v"]]', 3n]]);
});

// Differential: random sequences, with a small cardinality limit, both
// temporalities and collections in between, give the same exports through
// both paths.
const primitive: fc.Arbitrary<Primitive> = fc.oneof(fc.constantFrom('a', 'b', 'c'), fc.constantFrom(1n, 2n), fc.boolean());
const attributeSet = fc.dictionary(fc.constantFrom('k1', 'k2', 'k3', 'k4'), primitive, { maxKeys: 4 });
const step = fc.oneof(
  {
    weight: 9,
    arbitrary: fc.record({ kind: fc.constant('record' as const), value: fc.bigInt({ min: -3n, max: 20n }), attributes: attributeSet, reverse: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('collect' as const) }) },
);

test('recordEncoded exports exactly what record exports (random sequences, cardinality limit, delta and cumulative)', (t) => {
  fc.assert(
    fc.property(
      fc.array(step, { maxLength: 120 }),
      fc.constantFrom('delta', 'cumulative' as const),
      fc.integer({ min: 1, max: 6 }),
      (steps, temporality, limit) => {
        const options: MetricsAggregatorOptions = {
          cardinalityLimit: limit,
          temporalityPreference: temporality as 'delta' | 'cumulative',
          startTimeUnixNano: 1n,
        };
        const encoded = setup(options);
        const decoded = setup(options);
        let time = 10n;
        for (const s of steps) {
          time += 10n;
          if (s.kind === 'collect') {
            t.deepEqual(encoded.agg.collect(time), decoded.agg.collect(time));
            continue;
          }
          const entries = Object.entries(s.attributes);
          if (s.reverse) entries.reverse();
          const kvs = (dict: FakeDictionary) => entries.map(([k, v]) => dict.kv(k, v));
          encoded.recordEncoded(s.value, kvs(encoded.dict), time);
          decoded.record(s.value, kvs(decoded.dict), time);
        }
        t.deepEqual(encoded.agg.collect(time + 1n), decoded.agg.collect(time + 1n));
        t.deepEqual(encoded.agg.stats(), decoded.agg.stats());
      },
    ),
    { numRuns: 200 },
  );
});

test('EncodedAttributeCache: byte sequences with equal hashes never mix, a full cache starts afresh, long sequences are not cached', (t) => {
  const cache = new EncodedAttributeCache<string>(3);
  const input = new Uint8Array([1, 2, 3, 4, 5, 1, 2, 3, 4, 6, 9, 9]);
  // Same (forced) hash, bytes differing only in the last byte.
  cache.set(7, input, 0, 5, 'first');
  cache.set(7, input, 5, 10, 'second');
  t.is(cache.get(7, input, 0, 5), 'first');
  t.is(cache.get(7, input, 5, 10), 'second');
  t.is(cache.get(7, input, 0, 4), undefined);
  t.is(cache.get(8, input, 0, 5), undefined);
  cache.set(hashBytes(input, 10, 12), input, 10, 12, 'third');
  t.is(cache.size, 3);
  cache.set(hashBytes(input, 0, 12), input, 0, 12, 'fourth');
  t.is(cache.size, 1);
  t.is(cache.get(7, input, 0, 5), undefined);
  t.is(cache.get(hashBytes(input, 0, 12), input, 0, 12), 'fourth');
  const long = new Uint8Array(MAX_ENCODED_KEY_BYTES + 1);
  cache.set(hashBytes(long, 0, long.length), long, 0, long.length, 'long');
  t.is(cache.get(hashBytes(long, 0, long.length), long, 0, long.length), undefined);
  t.is(cache.size, 1);
});

test('EncodedAttributeCache: a cached copy does not change when the input it came from does', (t) => {
  const cache = new EncodedAttributeCache<string>(10);
  const input = new Uint8Array([10, 20, 30, 40, 50, 60]);
  const hash = hashBytes(input, 1, 6);
  cache.set(hash, input, 1, 6, 'v');
  const original = input.slice();
  input.fill(0);
  t.is(cache.get(hash, input, 1, 6), undefined);
  t.is(cache.get(hash, original, 1, 6), 'v');
});
