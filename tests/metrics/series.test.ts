import test from 'ava';
import type { KeyValueRef } from '@otlp-mmap/protocol';
import { MetricsAggregator, type DropReason, type MetricsAggregatorOptions } from '../../packages/collector/src/metrics/index.js';
import { DictionaryError } from '../../packages/collector/src/dictionary/dictionary-view.js';
import { FakeDictionary, aggregations } from './helpers/fake-dictionary.js';
import { measurement } from './helpers/measurements.js';
import { allMetrics, numberPoints, pointValue } from './helpers/collect.js';
import { attributesKey } from './helpers/normalize.js';

function setup(options: MetricsAggregatorOptions = {}) {
  const dict = new FakeDictionary();
  const ref = dict.addMetric({ name: 'c', aggregation: aggregations.counter });
  const agg = new MetricsAggregator(options);
  const record = (value: bigint, attributes: KeyValueRef[], time = 10n) => agg.record(measurement(ref, value, time, attributes), dict);
  const points = (now: bigint) =>
    numberPoints(agg.collect(now), 'c')
      .map((p) => [attributesKey(p.attributes), pointValue(p)] as const)
      .sort(([a], [b]) => (a < b ? -1 : 1));
  return { dict, ref, agg, record, points };
}

test('the order of attributes does not make a new series', (t) => {
  const { dict, record, points } = setup();
  record(1n, dict.kvs({ a: 'x', b: 1n, c: true }));
  record(2n, dict.kvs({ c: true, a: 'x', b: 1n }));
  record(4n, dict.kvs({ b: 1n, c: true, a: 'x' }));
  t.deepEqual(points(100n), [['[["a","x"],["b",1],["c",true]]', 7n]]);
});

test('a value written inline or by reference is the same series', (t) => {
  const { dict, record, points } = setup();
  record(1n, [dict.kv('k', 'v')]);
  const valueRef = dict.addValue({ value: { $case: 'stringValue', value: 'v' } });
  record(2n, [{ keyRef: dict.addString('k'), value: { value: { $case: 'valueRef', value: valueRef } } }]);
  t.deepEqual(points(100n), [['[["k","v"]]', 3n]]);
});

test('different values, types or keys make different series', (t) => {
  const { dict, record, points } = setup();
  record(1n, dict.kvs({ k: 'v' }));
  record(1n, dict.kvs({ k: 'w' }));
  record(1n, dict.kvs({ k: 1n }));
  record(1n, dict.kvs({ k: true }));
  record(1n, dict.kvs({ j: 'v' }));
  record(1n, []);
  t.is(points(100n).length, 6);
});

test('duplicate keys in one measurement resolve to the last value', (t) => {
  const { dict, record, points } = setup();
  record(1n, [dict.kv('k', 'first'), dict.kv('k', 'last')]);
  t.deepEqual(points(100n), [['[["k","last"]]', 1n]]);
});

test('attributes are resolved through the dictionary once per attribute list, not per measurement', (t) => {
  const { dict, record } = setup();
  const attributes = dict.kvs({ a: 'x', b: 'y' });
  for (let i = 0; i < 100; i++) record(1n, attributes);
  t.is(dict.attributeResolutions, 1);
});

test('beyond the cardinality limit, new attribute sets go to one overflow series', (t) => {
  const { dict, agg, record, points } = setup({ cardinalityLimit: 3 });
  record(1n, dict.kvs({ k: 'a' }));
  record(2n, dict.kvs({ k: 'b' }));
  record(4n, dict.kvs({ k: 'c' }));
  record(8n, dict.kvs({ k: 'd' }));
  record(16n, dict.kvs({ k: 'a' }));
  t.deepEqual(points(100n), [
    ['[["k","a"]]', 17n],
    ['[["k","b"]]', 2n],
    ['[["otel.metric.overflow",true]]', 12n],
  ]);
  t.is(agg.stats().series, 3);
});

test('the default cardinality limit is 2000 series per metric, overflow included', (t) => {
  const { dict, record, points } = setup();
  for (let i = 0; i < 2100; i++) record(1n, dict.kvs({ i: BigInt(i) }));
  const exported = points(100n);
  t.is(exported.length, 2000);
  t.deepEqual(
    exported.find(([k]) => k.includes('overflow')),
    ['[["otel.metric.overflow",true]]', 101n],
  );
});

test('with cumulative export, series keep their place under the limit across collections', (t) => {
  const { dict, record, points } = setup({ cardinalityLimit: 3 });
  record(1n, dict.kvs({ k: 'a' }));
  record(1n, dict.kvs({ k: 'b' }));
  points(100n);
  record(1n, dict.kvs({ k: 'c' }));
  t.deepEqual(points(200n), [
    ['[["k","a"]]', 1n],
    ['[["k","b"]]', 1n],
    ['[["otel.metric.overflow",true]]', 1n],
  ]);
});

test('with delta export, the cardinality limit counts only the series of the current interval', (t) => {
  const { dict, record, points } = setup({ cardinalityLimit: 3, temporalityPreference: 'delta' });
  record(1n, dict.kvs({ k: 'a' }));
  record(1n, dict.kvs({ k: 'b' }));
  record(1n, dict.kvs({ k: 'c' }));
  t.is(points(100n).length, 3);
  record(1n, dict.kvs({ k: 'c' }));
  record(1n, dict.kvs({ k: 'd' }));
  t.deepEqual(points(200n), [
    ['[["k","c"]]', 1n],
    ['[["k","d"]]', 1n],
  ]);
});

test('a measurement whose metric_ref does not resolve is dropped and counted, and the metric works once it resolves', (t) => {
  const dict = new FakeDictionary();
  const drops: DropReason[] = [];
  const agg = new MetricsAggregator({ onDrop: (r) => drops.push(r) });
  agg.record(measurement(999_999n, 1n, 1n), dict);
  t.deepEqual(drops, ['unresolvedMetric']);
  t.is(agg.stats().dropped.unresolvedMetric, 1);
  t.deepEqual(agg.collect(10n), []);
  const ref = dict.addMetric({ name: 'late', aggregation: aggregations.counter });
  agg.record(measurement(ref, 1n, 11n), dict);
  t.is(numberPoints(agg.collect(20n), 'late').length, 1);
});

test('a MetricRef without aggregation drops its measurements as unsupported', (t) => {
  const dict = new FakeDictionary();
  const ref = dict.addMetric({ name: 'none', aggregation: undefined });
  const agg = new MetricsAggregator();
  agg.record(measurement(ref, 1n, 1n), dict);
  agg.record(measurement(ref, 1n, 2n), dict);
  t.is(agg.stats().dropped.unsupportedAggregation, 2);
  t.deepEqual(agg.collect(10n), []);
});

test('an attribute whose key does not resolve is left out of the series and counted', (t) => {
  const { dict, agg, record, points } = setup();
  record(1n, [dict.kv('ok', 'v'), { keyRef: 123_456_789n, value: { value: { $case: 'stringValue', value: 'x' } } }]);
  t.deepEqual(points(100n), [['[["ok","v"]]', 1n]]);
  t.is(agg.stats().droppedAttributes, 1);
});

test('attributes that make the dictionary throw drop the measurement without throwing', (t) => {
  const { dict, ref, agg } = setup();
  const broken = Object.create(dict) as FakeDictionary;
  broken.attributes = () => {
    throw new DictionaryError('value_ref loop', 8n);
  };
  t.notThrows(() => agg.record(measurement(ref, 1n, 1n, [dict.kv('k', 'v')]), broken));
  t.is(agg.stats().dropped.unresolvedAttributes, 1);
});

test('an onDrop callback that throws does not stop aggregation', (t) => {
  const { dict, agg, record, points } = setup({
    onDrop: () => {
      throw new Error('boom');
    },
  });
  t.notThrows(() => record(-1n, []));
  record(1n, dict.kvs({}));
  t.deepEqual(points(100n), [['[]', 1n]]);
  t.is(agg.stats().dropped.negativeMonotonicIncrement, 1);
});

test('exported metrics are grouped by resource, then by instrumentation scope', (t) => {
  const dict = new FakeDictionary();
  const r1 = dict.addResource({ 'service.name': 'one' });
  const r2 = dict.addResource({ 'service.name': 'two' });
  const s1 = dict.addScope('lib-a', '1.0', r1);
  const s2 = dict.addScope('lib-b', '', r1);
  const s3 = dict.addScope('lib-a', '1.0', r2);
  const agg = new MetricsAggregator();
  for (const [name, scope] of [
    ['x', s1],
    ['y', s1],
    ['z', s2],
    ['w', s3],
  ] as const) {
    const ref = dict.addMetric({ name, aggregation: aggregations.counter }, scope);
    agg.record(measurement(ref, 1n, 1n), dict);
  }
  const exported = agg.collect(10n);
  t.deepEqual(
    exported.map((rm) => [rm.resource?.attributes[0].value?.value?.value, rm.scopeMetrics.map((sm) => [sm.scope?.name, sm.metrics.map((m) => m.name)])]),
    [
      [
        'one',
        [
          ['lib-a', ['x', 'y']],
          ['lib-b', ['z']],
        ],
      ],
      ['two', [['lib-a', ['w']]]],
    ],
  );
  t.is(allMetrics(exported).length, 4);
});

test('invalid options are refused with a RangeError', (t) => {
  t.throws(() => new MetricsAggregator({ cardinalityLimit: 0 }), { instanceOf: RangeError });
  t.throws(() => new MetricsAggregator({ cardinalityLimit: 1.5 }), { instanceOf: RangeError });
  t.throws(() => new MetricsAggregator({ temporalityPreference: 'sometimes' as never }), { instanceOf: RangeError });
});

test('stats count recorded measurements, streams and series', (t) => {
  const { dict, agg, record } = setup();
  record(1n, dict.kvs({ k: 'a' }));
  record(1n, dict.kvs({ k: 'b' }));
  const stats = agg.stats();
  t.is(stats.recorded, 2);
  t.is(stats.streams, 1);
  t.is(stats.series, 2);
});

test('an integer value and a value reference with the same number are different series', (t) => {
  const { dict, record, points } = setup();
  const ref = dict.addValue({ value: { $case: 'stringValue', value: 'text' } });
  const key = dict.addString('k');
  record(1n, [{ keyRef: key, value: { value: { $case: 'intValue', value: ref } } }]);
  record(2n, [{ keyRef: key, value: { value: { $case: 'valueRef', value: ref } } }]);
  t.deepEqual(points(100n), [
    ['[["k","text"]]', 2n],
    [`[["k",${Number(ref)}]]`, 1n],
  ]);
});

test('attribute lists the cache cannot hold (bytes, nested values) still aggregate into the right series', (t) => {
  const { dict, record, points } = setup();
  const key = dict.addString('blob');
  const bytes = () => [{ keyRef: key, value: { value: { $case: 'bytesValue' as const, value: new Uint8Array([1, 2]) } } }];
  const array = () => [
    {
      keyRef: key,
      value: { value: { $case: 'arrayValue' as const, value: { values: [{ value: { $case: 'boolValue' as const, value: true } }] } } },
    },
  ];
  record(1n, bytes());
  record(2n, bytes());
  record(4n, array());
  t.deepEqual(points(100n), [
    ['[["blob","0102"]]', 3n],
    ['[["blob",[true]]]', 4n],
  ]);
});

test('an attribute list seen in overflow gets its own series in a later delta interval', (t) => {
  const { dict, record, points } = setup({ cardinalityLimit: 2, temporalityPreference: 'delta' });
  const b = dict.kvs({ k: 'b' });
  record(1n, dict.kvs({ k: 'a' }));
  record(1n, b);
  record(1n, b);
  t.deepEqual(points(100n), [
    ['[["k","a"]]', 1n],
    ['[["otel.metric.overflow",true]]', 2n],
  ]);
  record(5n, b);
  t.deepEqual(points(200n), [['[["k","b"]]', 5n]]);
});
