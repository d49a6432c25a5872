import test from 'ava';
import type { SpanContext } from '@otlp-mmap/protocol';
import { MetricsAggregator, parseExemplarFilter, type MetricsAggregatorOptions } from '../../packages/collector/src/metrics/index.js';
import { ExemplarReservoir } from '../../packages/collector/src/metrics/exemplars/exemplar-reservoir.js';
import { FakeDictionary, aggregations } from './helpers/fake-dictionary.js';
import { measurement } from './helpers/measurements.js';
import { expHistogramPoints, histogramPoints, numberPoints } from './helpers/collect.js';
import { roundTrip } from './helpers/normalize.js';

const TRACE = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
const SPAN = Uint8Array.from({ length: 8 }, (_, i) => 0xa0 + i);
const sampled: SpanContext = { traceId: TRACE, spanId: SPAN, flags: 1 };
const notSampled: SpanContext = { traceId: TRACE, spanId: SPAN, flags: 0 };

/** A small deterministic PRNG (mulberry32), so sampling tests do not flake. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function setup(aggregation: Parameters<FakeDictionary['addMetric']>[0]['aggregation'], options: MetricsAggregatorOptions = {}) {
  const dict = new FakeDictionary();
  const ref = dict.addMetric({ name: 'm', aggregation });
  const agg = new MetricsAggregator({ random: seeded(7), ...options });
  const record = (value: bigint | number, time: bigint, spanContext?: SpanContext) =>
    agg.record({ ...measurement(ref, value, time, dict.kvs({ k: 'v' })), spanContext }, dict);
  return { agg, record };
}

test('a measurement made in a sampled span becomes an exemplar of its series', (t) => {
  const { agg, record } = setup(aggregations.counter);
  record(5n, 10n, sampled);
  const [p] = numberPoints(roundTrip(agg.collect(100n)), 'm');
  t.deepEqual(p.exemplars, [{ filteredAttributes: [], timeUnixNano: 10n, value: { $case: 'asInt', value: 5n }, spanId: SPAN, traceId: TRACE }]);
});

test('with the trace_based filter, measurements outside a sampled span give no exemplar', (t) => {
  const { agg, record } = setup(aggregations.counter);
  record(1n, 10n, notSampled);
  record(1n, 11n);
  record(1n, 12n, { traceId: new Uint8Array(16), spanId: SPAN, flags: 1 });
  t.deepEqual(numberPoints(agg.collect(100n), 'm')[0].exemplars, []);
});

test('the always_on filter keeps measurements without a span, with empty ids', (t) => {
  const { agg, record } = setup(aggregations.gauge, { exemplarFilter: 'always_on' });
  record(2.5, 10n);
  const [e] = numberPoints(agg.collect(100n), 'm')[0].exemplars;
  t.deepEqual([e.value, e.traceId.length, e.spanId.length], [{ $case: 'asDouble', value: 2.5 }, 0, 0]);
});

test('the always_off filter keeps no exemplar', (t) => {
  const { agg, record } = setup(aggregations.counter, { exemplarFilter: 'always_off' });
  record(1n, 10n, sampled);
  t.deepEqual(numberPoints(agg.collect(100n), 'm')[0].exemplars, []);
});

test('exemplars are reported in the collection that follows them only', (t) => {
  const { agg, record } = setup(aggregations.counter);
  record(1n, 10n, sampled);
  t.is(numberPoints(agg.collect(100n), 'm')[0].exemplars.length, 1);
  t.is(numberPoints(agg.collect(200n), 'm')[0].exemplars.length, 0);
});

test('an explicit histogram keeps at most one exemplar per bucket', (t) => {
  const { agg, record } = setup(aggregations.histogram([10, 100]));
  for (let i = 0; i < 50; i++) record(i % 2 ? 5 : 50, BigInt(i), sampled);
  const [p] = histogramPoints(agg.collect(100n), 'm');
  const values = p.exemplars.map((e) => (e.value?.$case === 'asDouble' ? e.value.value : undefined)).sort();
  t.deepEqual(values, [5, 50]);
});

test('an exponential histogram keeps min(20, max_buckets) exemplars', (t) => {
  for (const [maxBuckets, expected] of [
    [160n, 20],
    [4n, 4],
  ] as const) {
    const { agg, record } = setup(aggregations.expHist(maxBuckets, 20n));
    for (let i = 1; i <= 100; i++) record(i, BigInt(i), sampled);
    t.is(expHistogramPoints(agg.collect(1000n), 'm')[0].exemplars.length, expected);
  }
});

test('a fixed-size reservoir samples every offered measurement with equal probability', (t) => {
  const random = seeded(12345);
  const hits = new Array(10).fill(0);
  const trials = 20_000;
  for (let trial = 0; trial < trials; trial++) {
    const reservoir = new ExemplarReservoir(1, false, random);
    for (let v = 0; v < 10; v++) reservoir.offer({ $case: 'asDouble', value: v }, 0n, undefined);
    const [e] = reservoir.collect();
    hits[e.value?.value as number]++;
  }
  for (const h of hits) t.true(Math.abs(h / trials - 0.1) < 0.01, `frequency ${h / trials}`);
});

test('an aligned reservoir samples each bucket uniformly', (t) => {
  const random = seeded(99);
  const hits = [0, 0, 0, 0];
  const trials = 20_000;
  for (let trial = 0; trial < trials; trial++) {
    const reservoir = new ExemplarReservoir(2, true, random);
    for (let v = 0; v < 4; v++) reservoir.offer({ $case: 'asDouble', value: v }, 0n, undefined, 1);
    reservoir.offer({ $case: 'asDouble', value: -1 }, 0n, undefined, 0);
    const exemplars = reservoir.collect();
    t.is(exemplars.length, 2);
    hits[exemplars[1].value?.value as number]++;
  }
  for (const h of hits) t.true(Math.abs(h / trials - 0.25) < 0.015, `frequency ${h / trials}`);
});

test('the exemplar filter parses like OTEL_METRICS_EXEMPLAR_FILTER', (t) => {
  t.is(parseExemplarFilter(undefined), 'trace_based');
  t.is(parseExemplarFilter('ALWAYS_ON'), 'always_on');
  t.is(parseExemplarFilter('always_off'), 'always_off');
  t.is(parseExemplarFilter('sometimes'), undefined);
  t.throws(() => new MetricsAggregator({ exemplarFilter: 'sometimes' as never }), { instanceOf: RangeError });
});
