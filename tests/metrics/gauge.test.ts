import test from 'ava';
import { MetricsAggregator, type MetricsAggregatorOptions } from '../../packages/collector/src/metrics/index.js';
import { FakeDictionary, aggregations } from './helpers/fake-dictionary.js';
import { measurement } from './helpers/measurements.js';
import { metricNamed, numberPoints, pointValue } from './helpers/collect.js';

function setup(options: MetricsAggregatorOptions = {}) {
  const dict = new FakeDictionary();
  const ref = dict.addMetric({ name: 'g', aggregation: aggregations.gauge });
  const agg = new MetricsAggregator(options);
  const record = (value: bigint | number, time: bigint, attributes: Record<string, string> = {}) =>
    agg.record(measurement(ref, value, time, dict.kvs(attributes)), dict);
  return { agg, record, collect: (now: bigint) => agg.collect(now) };
}

test('a gauge reports the last value with the time it was measured', (t) => {
  const { record, collect } = setup();
  record(1.5, 10n);
  record(2.5, 20n);
  const exported = collect(100n);
  t.is(metricNamed(exported, 'g')?.data?.$case, 'gauge');
  const [p] = numberPoints(exported, 'g');
  t.deepEqual([pointValue(p), p.timeUnixNano], [2.5, 20n]);
  t.true(p.startTimeUnixNano <= p.timeUnixNano);
});

test('an older measurement read later does not replace a newer gauge value', (t) => {
  const { record, collect } = setup();
  record(2, 20n);
  record(1, 10n);
  t.is(pointValue(numberPoints(collect(100n), 'g')[0]), 2);
});

test('an integer gauge is exported as an integer', (t) => {
  const { record, collect } = setup();
  record(-42n, 20n);
  t.deepEqual(numberPoints(collect(100n), 'g')[0].value, { $case: 'asInt', value: -42n });
});

test('a gauge keeps reporting its last value under the cumulative preference', (t) => {
  const { record, collect } = setup();
  record(7, 20n);
  collect(100n);
  t.is(pointValue(numberPoints(collect(200n), 'g')[0]), 7);
});

test('under the delta preference a gauge reports only the series measured since the last collection', (t) => {
  const { record, collect } = setup({ temporalityPreference: 'delta' });
  record(7, 20n, { k: 'a' });
  record(8, 20n, { k: 'b' });
  t.is(numberPoints(collect(100n), 'g').length, 2);
  record(9, 120n, { k: 'b' });
  const points = numberPoints(collect(200n), 'g');
  t.deepEqual(
    points.map((p) => [p.attributes[0].value?.value?.value, pointValue(p)]),
    [['b', 9]],
  );
});

test('a gauge keeps NaN as a value', (t) => {
  const { record, collect } = setup();
  record(Number.NaN, 20n);
  t.true(Number.isNaN(pointValue(numberPoints(collect(100n), 'g')[0])));
});
