import test from 'ava';
import { otlpMetrics } from '@otlp-mmap/protocol';
import { MetricsAggregator, DEFAULT_HISTOGRAM_BOUNDARIES, type MetricsAggregatorOptions } from '../../packages/collector/src/metrics/index.js';
import { FakeDictionary, aggregations } from './helpers/fake-dictionary.js';
import { measurement } from './helpers/measurements.js';
import { histogramPoints, metricNamed } from './helpers/collect.js';
import { roundTrip } from './helpers/normalize.js';

function setup(boundaries: number[], options: MetricsAggregatorOptions = {}) {
  const dict = new FakeDictionary();
  const ref = dict.addMetric({ name: 'h', aggregation: aggregations.histogram(boundaries) });
  const agg = new MetricsAggregator(options);
  const record = (value: bigint | number, time = 10n) => agg.record(measurement(ref, value, time), dict);
  return { agg, record, collect: (now: bigint) => histogramPoints(agg.collect(now), 'h') };
}

test('a value equal to a boundary goes to the lower bucket', (t) => {
  const { record, collect } = setup([0, 10, 100]);
  for (const v of [-5, 0, 10, 10.000001, 100, 101]) record(v);
  t.deepEqual(collect(100n)[0].bucketCounts, [2n, 1n, 2n, 1n]);
});

test('each bucket counts the values in (previous boundary, boundary]', (t) => {
  const { record, collect } = setup([1, 2]);
  for (const v of [Number.MIN_VALUE, 1, 1 + Number.EPSILON, 2, 2 + 2 * Number.EPSILON, 1e308]) record(v);
  t.deepEqual(collect(100n)[0].bucketCounts, [2n, 2n, 2n]);
});

test('empty boundaries mean the OpenTelemetry default boundaries', (t) => {
  const { record, collect } = setup([]);
  record(7);
  const [p] = collect(100n);
  t.deepEqual(p.explicitBounds, [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000]);
  t.deepEqual(p.explicitBounds, [...DEFAULT_HISTOGRAM_BOUNDARIES]);
  t.is(p.bucketCounts.length, 16);
  t.is(p.bucketCounts[2], 1n);
});

test('count, sum, min and max cover every recorded value, integers included', (t) => {
  const { record, collect } = setup([10]);
  record(3);
  record(-2.5);
  record(40n);
  const [p] = collect(100n);
  t.is(p.count, 3n);
  t.is(p.sum, 40.5);
  t.is(p.min, -2.5);
  t.is(p.max, 40);
  t.is(
    p.bucketCounts.reduce((a, c) => a + c, 0n),
    p.count,
  );
});

test('NaN and infinite values are dropped and counted', (t) => {
  const { agg, record, collect } = setup([10]);
  record(Number.NaN);
  record(Infinity);
  record(-Infinity);
  record(1);
  const [p] = collect(100n);
  t.is(p.count, 1n);
  t.is(agg.stats().dropped.nonFiniteValue, 3);
});

test('unsorted or duplicated boundaries are sorted and de-duplicated', (t) => {
  const { record, collect } = setup([10, 1, 10, Number.NaN, 5]);
  record(6);
  const [p] = collect(100n);
  t.deepEqual(p.explicitBounds, [1, 5, 10]);
  t.deepEqual(p.bucketCounts, [0n, 0n, 1n, 0n]);
});

test('a delta histogram restarts at every collection', (t) => {
  const { record, collect } = setup([10], { temporalityPreference: 'delta' });
  record(1, 10n);
  record(20, 20n);
  const [first] = collect(100n);
  t.deepEqual([first.count, first.bucketCounts, first.startTimeUnixNano], [2n, [1n, 1n], 10n]);
  record(5, 150n);
  const [second] = collect(200n);
  t.deepEqual([second.count, second.bucketCounts, second.min, second.max, second.startTimeUnixNano], [1n, [1n, 0n], 5, 5, 100n]);
});

test('a cumulative histogram accumulates across collections with a fixed start time', (t) => {
  const { record, collect } = setup([10]);
  record(1, 10n);
  collect(100n);
  record(20, 150n);
  const [p] = collect(200n);
  t.deepEqual([p.count, p.bucketCounts, p.min, p.max, p.startTimeUnixNano, p.timeUnixNano], [2n, [1n, 1n], 1, 20, 10n, 200n]);
});

test('a histogram is exported with its temporality and encodes as valid OTLP', (t) => {
  const dict = new FakeDictionary();
  const ref = dict.addMetric({ name: 'h', unit: 'ms', description: 'd', aggregation: aggregations.histogram([1]) });
  const agg = new MetricsAggregator({ temporalityPreference: 'delta' });
  agg.record(measurement(ref, 0.5, 1n), dict);
  const exported = roundTrip(agg.collect(10n));
  const metric = metricNamed(exported, 'h');
  t.is(metric?.description, 'd');
  t.is(
    metric?.data?.$case === 'histogram' ? metric.data.value.aggregationTemporality : undefined,
    otlpMetrics.AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA,
  );
  t.deepEqual(histogramPoints(exported, 'h')[0].bucketCounts, [1n, 0n]);
});
