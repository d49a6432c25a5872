import test from 'ava';
import { otlpMetrics } from '@otlp-mmap/protocol';
import { MetricsAggregator, type MetricsAggregatorOptions } from '../../packages/collector/src/metrics/index.js';
import { FakeDictionary, aggregations } from './helpers/fake-dictionary.js';
import { measurement } from './helpers/measurements.js';
import { metricNamed, numberPoints, pointValue } from './helpers/collect.js';

const DELTA = otlpMetrics.AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA;
const CUMULATIVE = otlpMetrics.AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE;

function setup(aggregation: keyof typeof aggregations, options: MetricsAggregatorOptions = {}) {
  const dict = new FakeDictionary();
  const definition = aggregations[aggregation];
  const ref = dict.addMetric({ name: 'm', aggregation: (typeof definition === 'function' ? definition() : definition) as never });
  const agg = new MetricsAggregator(options);
  const record = (value: bigint | number, time: bigint, attributes: Record<string, string> = {}) =>
    agg.record(measurement(ref, value, time, dict.kvs(attributes)), dict);
  const collect = (now: bigint) => agg.collect(now);
  return { dict, ref, agg, record, collect };
}

function sumOf(exported: otlpMetrics.ResourceMetrics[]) {
  const data = metricNamed(exported, 'm')?.data;
  return data?.$case === 'sum' ? data.value : undefined;
}

test('a counter is exported as a cumulative monotonic sum by default, accumulating across collections', (t) => {
  const { record, collect } = setup('counter');
  record(3n, 10n);
  record(4n, 11n);
  const first = collect(100n);
  t.is(sumOf(first)?.aggregationTemporality, CUMULATIVE);
  t.true(sumOf(first)?.isMonotonic);
  t.deepEqual(
    numberPoints(first, 'm').map((p) => [pointValue(p), p.startTimeUnixNano, p.timeUnixNano]),
    [[7n, 10n, 100n]],
  );
  record(5n, 150n);
  t.deepEqual(
    numberPoints(collect(200n), 'm').map((p) => [pointValue(p), p.startTimeUnixNano, p.timeUnixNano]),
    [[12n, 10n, 200n]],
  );
  // No new measurement: the cumulative point is reported again.
  t.deepEqual(
    numberPoints(collect(300n), 'm').map((p) => [pointValue(p), p.startTimeUnixNano]),
    [[12n, 10n]],
  );
});

test('delta sums restart at every collection, each interval starting at the previous collection time', (t) => {
  const { record, collect } = setup('counter', { temporalityPreference: 'delta' });
  record(3n, 10n);
  record(4n, 20n);
  const first = collect(100n);
  t.is(sumOf(first)?.aggregationTemporality, DELTA);
  t.deepEqual(
    numberPoints(first, 'm').map((p) => [pointValue(p), p.startTimeUnixNano, p.timeUnixNano]),
    [[7n, 10n, 100n]],
  );
  record(1n, 150n);
  t.deepEqual(
    numberPoints(collect(200n), 'm').map((p) => [pointValue(p), p.startTimeUnixNano, p.timeUnixNano]),
    [[1n, 100n, 200n]],
  );
  record(2n, 250n);
  record(2n, 260n);
  t.deepEqual(
    numberPoints(collect(300n), 'm').map((p) => [pointValue(p), p.startTimeUnixNano, p.timeUnixNano]),
    [[4n, 200n, 300n]],
  );
});

test('a delta series without measurements in an interval is not reported', (t) => {
  const { record, collect } = setup('counter', { temporalityPreference: 'delta' });
  record(1n, 10n, { k: 'a' });
  record(1n, 10n, { k: 'b' });
  t.is(numberPoints(collect(100n), 'm').length, 2);
  record(1n, 110n, { k: 'b' });
  const second = numberPoints(collect(200n), 'm');
  t.is(second.length, 1);
  t.is(second[0].attributes[0].value?.value?.value, 'b');
  t.is(metricNamed(collect(300n), 'm'), undefined);
});

test('the first delta interval starts at startTimeUnixNano when it is given', (t) => {
  const { record, collect } = setup('counter', { temporalityPreference: 'delta', startTimeUnixNano: 5n });
  record(1n, 10n);
  t.is(numberPoints(collect(100n), 'm')[0].startTimeUnixNano, 5n);
});

test('a cumulative sum keeps the last observed total with a fixed start time', (t) => {
  const { record, collect } = setup('observableUpDownCounter', { startTimeUnixNano: 1n });
  record(10n, 10n);
  record(12n, 20n);
  t.deepEqual(
    numberPoints(collect(100n), 'm').map((p) => [pointValue(p), p.startTimeUnixNano, p.timeUnixNano]),
    [[12n, 1n, 100n]],
  );
  record(5n, 150n); // not monotonic: a decrease is just a lower total
  t.deepEqual(
    numberPoints(collect(200n), 'm').map((p) => [pointValue(p), p.startTimeUnixNano]),
    [[5n, 1n]],
  );
  t.false(sumOf(collect(300n))?.isMonotonic);
});

test('without a start time, an observed total starts at its first observation', (t) => {
  const { record, collect } = setup('observableCounter');
  record(10n, 10n);
  t.is(numberPoints(collect(100n), 'm')[0].startTimeUnixNano, 10n);
});

test('a decrease of a monotonic cumulative sum is a reset that starts at the previous observation', (t) => {
  const { record, collect } = setup('observableCounter', { startTimeUnixNano: 1n });
  record(10n, 10n);
  record(15n, 20n);
  t.deepEqual(
    numberPoints(collect(100n), 'm').map((p) => [pointValue(p), p.startTimeUnixNano]),
    [[15n, 1n]],
  );
  record(3n, 150n);
  t.deepEqual(
    numberPoints(collect(200n), 'm').map((p) => [pointValue(p), p.startTimeUnixNano]),
    [[3n, 20n]],
  );
  record(4n, 250n);
  t.deepEqual(
    numberPoints(collect(300n), 'm').map((p) => [pointValue(p), p.startTimeUnixNano]),
    [[4n, 20n]],
  );
});

test('a reset right after the first observation still gets a new start time', (t) => {
  const { record, collect } = setup('observableCounter');
  record(10n, 10n);
  record(3n, 20n);
  t.deepEqual(
    numberPoints(collect(100n), 'm').map((p) => [pointValue(p), p.startTimeUnixNano]),
    [[3n, 20n]],
  );
});

test('observed totals exported as delta report the change since the previous collection', (t) => {
  const { record, collect } = setup('observableCounter', { temporalityPreference: 'delta', startTimeUnixNano: 1n });
  record(10n, 10n);
  t.deepEqual(
    numberPoints(collect(100n), 'm').map((p) => [pointValue(p), p.startTimeUnixNano, p.timeUnixNano]),
    [[10n, 1n, 100n]],
  );
  record(14n, 150n);
  record(17n, 160n);
  t.deepEqual(
    numberPoints(collect(200n), 'm').map((p) => [pointValue(p), p.startTimeUnixNano, p.timeUnixNano]),
    [[7n, 100n, 200n]],
  );
  // Not observed in the interval: nothing to report.
  t.is(metricNamed(collect(300n), 'm'), undefined);
  record(20n, 350n);
  t.deepEqual(
    numberPoints(collect(400n), 'm').map((p) => [pointValue(p), p.startTimeUnixNano]),
    [[3n, 300n]],
  );
});

test('after a reset, observed totals exported as delta report the new total, starting where the previous point ended', (t) => {
  // OTel data model, Resets and Gaps: a delta point starts at the previous
  // point's time; it never overlaps it (the previous point covered up to 100).
  const { record, collect } = setup('observableCounter', { temporalityPreference: 'delta', startTimeUnixNano: 1n });
  record(10n, 10n);
  collect(100n);
  record(4n, 150n);
  t.deepEqual(
    numberPoints(collect(200n), 'm').map((p) => [pointValue(p), p.startTimeUnixNano, p.timeUnixNano]),
    [[4n, 100n, 200n]],
  );
});

test('a reset seen after an observation in the same interval starts the delta point at that observation, leaving a gap rather than an overlap', (t) => {
  const { record, collect } = setup('observableCounter', { temporalityPreference: 'delta', startTimeUnixNano: 1n });
  record(10n, 10n);
  collect(100n);
  record(15n, 150n);
  record(3n, 170n); // restarted between 150 and 170
  t.deepEqual(
    numberPoints(collect(200n), 'm').map((p) => [pointValue(p), p.startTimeUnixNano, p.timeUnixNano]),
    [[3n, 150n, 200n]],
  );
  record(5n, 250n);
  t.deepEqual(
    numberPoints(collect(300n), 'm').map((p) => [pointValue(p), p.startTimeUnixNano, p.timeUnixNano]),
    [[2n, 200n, 300n]],
  );
});

test('a negative total of an observable counter is dropped and counted, and the series goes on from its previous total', (t) => {
  const drops: string[] = [];
  const { agg, record, collect } = setup('observableCounter', { startTimeUnixNano: 1n, onDrop: (reason) => drops.push(reason) });
  record(5n, 10n);
  record(-18n, 20n);
  record(-0.5, 30n);
  t.deepEqual(
    numberPoints(collect(100n), 'm').map((p) => [pointValue(p), p.startTimeUnixNano]),
    [[5n, 1n]],
  );
  t.is(agg.stats().dropped.negativeMonotonicTotal, 2);
  t.deepEqual(drops, ['negativeMonotonicTotal', 'negativeMonotonicTotal']);
  // Not a reset: the next total counts from the same start.
  record(23n, 150n);
  t.deepEqual(
    numberPoints(collect(200n), 'm').map((p) => [pointValue(p), p.startTimeUnixNano]),
    [[23n, 1n]],
  );
});

test('a negative total of an observable counter exported as delta is dropped: the next delta is the change from the last valid total', (t) => {
  const { agg, record, collect } = setup('observableCounter', { temporalityPreference: 'delta', startTimeUnixNano: 1n });
  record(5n, 10n);
  t.deepEqual(
    numberPoints(collect(100n), 'm').map((p) => pointValue(p)),
    [5n],
  );
  record(-18n, 150n);
  t.is(metricNamed(collect(200n), 'm'), undefined, 'nothing valid observed in the interval');
  record(23n, 250n);
  t.deepEqual(
    numberPoints(collect(300n), 'm').map((p) => [pointValue(p), p.startTimeUnixNano]),
    [[18n, 200n]],
  );
  t.is(agg.stats().dropped.negativeMonotonicTotal, 1);
});

test('a negative total of an observable up-down counter is kept', (t) => {
  const { agg, record, collect } = setup('observableUpDownCounter');
  record(-18n, 10n);
  t.deepEqual(
    numberPoints(collect(100n), 'm').map((p) => pointValue(p)),
    [-18n],
  );
  t.is(agg.stats().dropped.negativeMonotonicTotal, 0);
});

for (const preference of ['cumulative', 'delta'] as const) {
  for (const kind of ['counter', 'observableCounter', 'upDownCounter', 'gauge', 'histogram'] as const) {
    test(`${preference}: points of a ${kind} stream measured at a time ahead of the collector's clock never start after their time`, (t) => {
      const { record, collect } = setup(kind, { temporalityPreference: preference });
      record(3n, 1_000n); // the writer's clock is ahead
      const points = (now: bigint) => {
        const data = metricNamed(collect(now), 'm')?.data;
        return (data?.value.dataPoints ?? []) as { startTimeUnixNano: bigint; timeUnixNano: bigint }[];
      };
      const first = points(100n);
      t.is(first.length, 1);
      t.true(first[0].startTimeUnixNano <= first[0].timeUnixNano, `start ${first[0].startTimeUnixNano} > time ${first[0].timeUnixNano}`);
      record(4n, 2_000n);
      for (const p of points(200n)) {
        t.true(p.startTimeUnixNano <= p.timeUnixNano, `start ${p.startTimeUnixNano} > time ${p.timeUnixNano}`);
        // A cumulative stream keeps one start across its points (no reset happened).
        if (preference === 'cumulative' && kind !== 'gauge') t.is(p.startTimeUnixNano, first[0].startTimeUnixNano);
      }
    });
  }
}

test('a negative increment to a monotonic delta sum is dropped and counted', (t) => {
  const drops: string[] = [];
  const { agg, record, collect } = setup('counter', { onDrop: (reason) => drops.push(reason) });
  record(5n, 10n);
  record(-2n, 11n);
  record(-0.5, 12n);
  t.is(pointValue(numberPoints(collect(100n), 'm')[0]), 5n);
  t.is(agg.stats().dropped.negativeMonotonicIncrement, 2);
  t.deepEqual(drops, ['negativeMonotonicIncrement', 'negativeMonotonicIncrement']);
  t.is(agg.stats().recorded, 1);
});

test('a negative increment to a non-monotonic delta sum is added', (t) => {
  const { record, collect } = setup('upDownCounter');
  record(5n, 10n);
  record(-7n, 11n);
  t.is(pointValue(numberPoints(collect(100n), 'm')[0]), -2n);
});

test('an up-down counter stays cumulative under the delta preference', (t) => {
  const { record, collect } = setup('upDownCounter', { temporalityPreference: 'delta' });
  record(5n, 10n);
  collect(100n);
  record(1n, 110n);
  const exported = collect(200n);
  t.is(sumOf(exported)?.aggregationTemporality, CUMULATIVE);
  t.is(pointValue(numberPoints(exported, 'm')[0]), 6n);
});

test('integer streams stay exact integers beyond 2^53', (t) => {
  const { record, collect } = setup('counter');
  record(2n ** 60n, 10n);
  record(1n, 11n);
  const [p] = numberPoints(collect(100n), 'm');
  t.deepEqual(p.value, { $case: 'asInt', value: 2n ** 60n + 1n });
});

test('integer sums beyond int64 are saturated when exported', (t) => {
  const { record, collect } = setup('counter');
  record(2n ** 62n, 10n);
  record(2n ** 62n, 11n);
  t.deepEqual(numberPoints(collect(100n), 'm')[0].value, { $case: 'asInt', value: 2n ** 63n - 1n });
});

test('double streams are exported as doubles', (t) => {
  const { record, collect } = setup('counter');
  record(0.25, 10n);
  record(0.5, 11n);
  t.deepEqual(numberPoints(collect(100n), 'm')[0].value, { $case: 'asDouble', value: 0.75 });
});

test('a double measurement turns an integer series into a double series', (t) => {
  const { record, collect } = setup('counter');
  record(2n, 10n);
  record(0.5, 11n);
  t.deepEqual(numberPoints(collect(100n), 'm')[0].value, { $case: 'asDouble', value: 2.5 });
});

test('NaN and infinite increments are dropped and counted', (t) => {
  const { agg, record, collect } = setup('upDownCounter');
  record(1, 10n);
  record(Number.NaN, 11n);
  record(Infinity, 12n);
  t.is(pointValue(numberPoints(collect(100n), 'm')[0]), 1);
  t.is(agg.stats().dropped.nonFiniteValue, 2);
});

test('a measurement without a value is dropped and counted', (t) => {
  const { dict, ref, agg } = setup('counter');
  agg.record(measurement(ref, undefined, 10n), dict);
  t.is(agg.stats().dropped.missingValue, 1);
  t.deepEqual(agg.collect(100n), []);
});

test('the lowmemory preference exports counters as delta and observable counters as cumulative', (t) => {
  const dict = new FakeDictionary();
  const counter = dict.addMetric({ name: 'c', aggregation: aggregations.counter });
  const observable = dict.addMetric({ name: 'o', aggregation: aggregations.observableCounter });
  const agg = new MetricsAggregator({ temporalityPreference: 'lowmemory' });
  agg.record(measurement(counter, 1n, 1n), dict);
  agg.record(measurement(observable, 1n, 1n), dict);
  const exported = agg.collect(10n);
  const temporality = (name: string) => {
    const d = metricNamed(exported, name)?.data;
    return d?.$case === 'sum' ? d.value.aggregationTemporality : undefined;
  };
  t.is(temporality('c'), DELTA);
  t.is(temporality('o'), CUMULATIVE);
});

test('the delta preference exports observable counters as delta', (t) => {
  const { record, collect } = setup('observableCounter', { temporalityPreference: 'delta' });
  record(1n, 1n);
  t.is(sumOf(collect(10n))?.aggregationTemporality, DELTA);
});

test('the source preference exports each sum with the temporality of its MetricRef', (t) => {
  const dict = new FakeDictionary();
  const counter = dict.addMetric({ name: 'c', aggregation: aggregations.counter });
  const observable = dict.addMetric({ name: 'o', aggregation: aggregations.observableCounter });
  const agg = new MetricsAggregator({ temporalityPreference: 'source' });
  agg.record(measurement(counter, 2n, 1n), dict);
  agg.record(measurement(observable, 5n, 1n), dict);
  const exported = agg.collect(10n);
  const c = metricNamed(exported, 'c')?.data;
  const o = metricNamed(exported, 'o')?.data;
  t.is(c?.$case === 'sum' ? c.value.aggregationTemporality : undefined, DELTA);
  t.is(o?.$case === 'sum' ? o.value.aggregationTemporality : undefined, CUMULATIVE);
});
