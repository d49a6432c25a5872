import test from 'ava';
import fc from 'fast-check';
import { otlpMetrics } from '@otlp-mmap/protocol';
import { MetricsAggregator, type DropReason } from '../../packages/collector/src/metrics/index.js';
import {
  ExponentialHistogramAggregator,
  type ExponentialHistogramAccumulation,
} from '../../packages/collector/src/metrics/aggregators/exponential-histogram.js';
import { mappingForScale } from '../../packages/collector/src/metrics/aggregators/exponential-histogram/mapping/mapping.js';
import { FakeDictionary, aggregations } from './helpers/fake-dictionary.js';
import { measurement } from './helpers/measurements.js';
import { expHistogramPoints, metricNamed } from './helpers/collect.js';
import { roundTrip } from './helpers/normalize.js';

function histogram(maxBuckets: number, maxScale = 20) {
  const aggregator = new ExponentialHistogramAggregator(maxBuckets, maxScale);
  const acc = aggregator.createAccumulation(0n);
  const record = (v: number): DropReason | undefined => aggregator.record(acc, { $case: 'asDouble', value: v }, 0n);
  const point = () => aggregator.toDataPoint(acc, [], 0n, 1n);
  return { aggregator, acc, record, point };
}

function counts(p: otlpMetrics.ExponentialHistogramDataPoint, sign: 'positive' | 'negative') {
  const b = p[sign]!;
  return { offset: b.offset, counts: b.bucketCounts.map(Number) };
}

test('a histogram starts at max_scale and keeps it while values fit', (t) => {
  const h = histogram(160);
  h.record(1.5);
  h.record(1.5 * (1 + 1e-5)); // about 15 buckets apart at scale 20
  t.is(h.point().scale, 20);
  t.is(h.acc.positive.length, mappingForScale(20).mapToIndex(1.5 * (1 + 1e-5)) - mappingForScale(20).mapToIndex(1.5) + 1);
});

test('downscaling merges adjacent buckets just enough to fit max_buckets', (t) => {
  const h = histogram(4, 0);
  for (const v of [1, 2, 4, 8]) h.record(v); // scale 0 indexes -1, 0, 1, 2
  t.is(h.point().scale, 0);
  t.deepEqual(counts(h.point(), 'positive'), { offset: -1, counts: [1, 1, 1, 1] });
  h.record(16); // index 3: five buckets needed, one step down is enough
  const p = h.point();
  t.is(p.scale, -1);
  t.deepEqual(counts(p, 'positive'), { offset: -1, counts: [1, 2, 2] });
  t.is(p.count, 5n);
});

test('downscaling for one sign also downscales the buckets of the other sign', (t) => {
  const h = histogram(2, 0);
  h.record(-1); // negative index -1
  h.record(-2); // negative index 0
  h.record(1); // positive index -1
  h.record(4); // positive index 1: needs scale -1
  const p = h.point();
  t.is(p.scale, -1);
  t.deepEqual(counts(p, 'positive'), { offset: -1, counts: [1, 1] });
  t.deepEqual(counts(p, 'negative'), { offset: -1, counts: [1, 1] });
});

test('values spanning the whole double range fit at scale -10 with two buckets', (t) => {
  const h = histogram(2);
  t.is(h.record(Number.MIN_VALUE), undefined);
  t.is(h.record(Number.MAX_VALUE), undefined);
  const p = h.point();
  t.is(p.scale, -10);
  t.deepEqual(counts(p, 'positive'), { offset: -1, counts: [1, 1] });
  t.is(p.min, Number.MIN_VALUE);
  t.is(p.max, Number.MAX_VALUE);
});

test('a value that would need a scale below -10 is dropped, counted, and leaves the histogram unchanged', (t) => {
  const h = histogram(1);
  h.record(1e300);
  const before = structuredClone(roundTrip([wrap(h.point())]));
  t.is(h.record(1e-300), 'scaleUnderflow');
  t.deepEqual(roundTrip([wrap(h.point())]), before);
  t.is(h.acc.count, 1);
  // The histogram is still usable afterwards.
  t.is(h.record(2e300), undefined);
  t.is(h.point().count, 2n);
});

test('a scale underflow through the aggregator is counted as a drop, not thrown', (t) => {
  const dict = new FakeDictionary();
  const ref = dict.addMetric({ name: 'h', aggregation: aggregations.expHist(1n, 20n) });
  const agg = new MetricsAggregator();
  agg.record(measurement(ref, 1e300, 1n), dict);
  agg.record(measurement(ref, 1e-300, 2n), dict);
  t.is(agg.stats().dropped.scaleUnderflow, 1);
  t.is(expHistogramPoints(agg.collect(3n), 'h')[0].count, 1n);
});

test('zeros are counted in the zero count and not in any bucket', (t) => {
  const h = histogram(160);
  h.record(0);
  h.record(-0);
  h.record(3);
  const p = h.point();
  t.is(p.zeroCount, 2n);
  t.is(p.count, 3n);
  t.deepEqual(counts(p, 'negative'), { offset: 0, counts: [] });
  t.is(p.zeroThreshold, 0);
});

test('only zeros give scale 0 and empty buckets', (t) => {
  const h = histogram(160);
  h.record(0);
  const p = h.point();
  t.is(p.scale, 0);
  t.is(p.zeroCount, 1n);
  t.deepEqual(counts(p, 'positive'), { offset: 0, counts: [] });
});

test('negative values fill the negative buckets like their magnitudes fill the positive ones', (t) => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: 1e-300, max: 1e300, noNaN: true }), { minLength: 1, maxLength: 60 }), (values) => {
      const pos = histogram(20);
      const neg = histogram(20);
      for (const v of values) {
        pos.record(v);
        neg.record(-v);
      }
      const p = pos.point();
      const n = neg.point();
      return p.scale === n.scale && JSON.stringify(counts(p, 'positive')) === JSON.stringify(counts(n, 'negative'));
    }),
  );
  t.pass();
});

test('NaN and infinities are dropped and counted', (t) => {
  const h = histogram(160);
  t.is(h.record(Number.NaN), 'nonFiniteValue');
  t.is(h.record(Infinity), 'nonFiniteValue');
  t.is(h.record(-Infinity), 'nonFiniteValue');
  t.is(h.acc.count, 0);
});

test('after any sequence of values the buckets equal a direct mapping of every value at the final scale', (t) => {
  const value = fc.oneof(
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE, 0, 1, 2, 0.5, 2 ** -1022),
    fc.integer({ min: -1000, max: 1000 }),
  );
  fc.assert(
    fc.property(fc.array(value, { maxLength: 200 }), fc.integer({ min: 2, max: 40 }), fc.integer({ min: -10, max: 20 }), (values, maxBuckets, maxScale) => {
      const h = histogram(maxBuckets, maxScale);
      for (const v of values) if (h.record(v) !== undefined) return false;
      const p = h.point();
      const acc: ExponentialHistogramAccumulation = h.acc;
      const mapping = mappingForScale(acc.scale);
      const expected = { positive: new Map<number, number>(), negative: new Map<number, number>() };
      for (const v of values) {
        if (v === 0) continue;
        const side = v > 0 ? expected.positive : expected.negative;
        const index = mapping.mapToIndex(Math.abs(v));
        side.set(index, (side.get(index) ?? 0) + 1);
      }
      for (const sign of ['positive', 'negative'] as const) {
        const b = counts(p, sign);
        if (b.counts.length > maxBuckets) return false;
        for (let i = 0; i < b.counts.length; i++) {
          if (b.counts[i] !== (expected[sign].get(b.offset + i) ?? 0)) return false;
        }
        const total = [...expected[sign].values()].reduce((a, c) => a + c, 0);
        if (b.counts.reduce((a, c) => a + c, 0) !== total) return false;
      }
      // Not downscaled further than needed: one scale up would not fit.
      if (acc.scale < maxScale) {
        const finer = mappingForScale(acc.scale + 1);
        const fits = (vs: number[]) => {
          if (vs.length === 0) return true;
          const idx = vs.map((v) => finer.mapToIndex(Math.abs(v)));
          return Math.max(...idx) - Math.min(...idx) + 1 <= maxBuckets;
        };
        if (fits(values.filter((v) => v > 0)) && fits(values.filter((v) => v < 0))) return false;
      }
      return Number(p.count) === values.length;
    }),
    { numRuns: 300 },
  );
  t.pass();
});

function wrap(point: otlpMetrics.ExponentialHistogramDataPoint): otlpMetrics.ResourceMetrics {
  return {
    resource: undefined,
    schemaUrl: '',
    scopeMetrics: [
      {
        scope: undefined,
        schemaUrl: '',
        metrics: [
          {
            name: 'h',
            description: '',
            unit: '',
            metadata: [],
            data: {
              $case: 'exponentialHistogram',
              value: { dataPoints: [point], aggregationTemporality: otlpMetrics.AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE },
            },
          },
        ],
      },
    ],
  };
}

test('the exported ExponentialHistogramDataPoint is valid OTLP and survives a protobuf round trip', (t) => {
  const dict = new FakeDictionary();
  const ref = dict.addMetric({ name: 'latency', unit: 's', aggregation: aggregations.expHist(8n, 20n) });
  const agg = new MetricsAggregator();
  const values = [0, 0.001, 0.5, 3, 1024, -7, -0.25, 0, 1e6];
  for (const [i, v] of values.entries()) agg.record(measurement(ref, v, BigInt(10 + i), dict.kvs({ route: '/a' })), dict);
  const exported = roundTrip(agg.collect(100n));
  const metric = metricNamed(exported, 'latency');
  t.is(metric?.unit, 's');
  const [p] = expHistogramPoints(exported, 'latency');
  t.truthy(p);
  t.is(p.count, BigInt(values.length));
  t.is(p.zeroCount, 2n);
  const positive = p.positive!.bucketCounts.reduce((a, c) => a + c, 0n);
  const negative = p.negative!.bucketCounts.reduce((a, c) => a + c, 0n);
  t.is(p.count, p.zeroCount + positive + negative);
  t.is(positive, 5n);
  t.is(negative, 2n);
  t.true(p.positive!.bucketCounts.length <= 8 && p.negative!.bucketCounts.length <= 8);
  t.is(
    p.sum,
    values.reduce((a, c) => a + c, 0),
  );
  t.is(p.min, -7);
  t.is(p.max, 1e6);
  t.true(p.scale >= -10 && p.scale <= 20);
  // Every value lies in the bucket the offsets say it does.
  const mapping = mappingForScale(p.scale);
  for (const v of values.filter((x) => x > 0)) {
    const i = mapping.mapToIndex(v) - p.positive!.offset;
    t.true(i >= 0 && i < p.positive!.bucketCounts.length && p.positive!.bucketCounts[i] > 0n, `value ${v}`);
  }
  for (const v of values.filter((x) => x < 0)) {
    const i = mapping.mapToIndex(-v) - p.negative!.offset;
    t.true(i >= 0 && i < p.negative!.bucketCounts.length && p.negative!.bucketCounts[i] > 0n, `value ${v}`);
  }
  t.is(p.startTimeUnixNano, 10n);
  t.is(p.timeUnixNano, 100n);
});

test('max_buckets <= 0 means 160 buckets', (t) => {
  const a = ExponentialHistogramAggregator.fromDefinition(0n, 20n);
  t.is(a.maxBuckets, 160);
  t.is(ExponentialHistogramAggregator.fromDefinition(-5n, 20n).maxBuckets, 160);
});

test('an ExponentialHistogram with both fields unset means max_scale 20', (t) => {
  t.is(ExponentialHistogramAggregator.fromDefinition(0n, 0n).maxScale, 20);
  // Only max_scale unset (0) with max_buckets set is a real scale 0.
  t.is(ExponentialHistogramAggregator.fromDefinition(160n, 0n).maxScale, 0);
});

test('max_scale is clamped to [-10, 20]', (t) => {
  t.is(ExponentialHistogramAggregator.fromDefinition(160n, 50n).maxScale, 20);
  t.is(ExponentialHistogramAggregator.fromDefinition(160n, -30n).maxScale, -10);
  t.is(ExponentialHistogramAggregator.fromDefinition(160n, 7n).maxScale, 7);
});

test('a delta exponential histogram restarts at max_scale after each collection', (t) => {
  const dict = new FakeDictionary();
  const ref = dict.addMetric({ name: 'h', aggregation: aggregations.expHist(4n, 20n) });
  const agg = new MetricsAggregator({ temporalityPreference: 'delta' });
  for (const v of [1, 1000, 1e6]) agg.record(measurement(ref, v, 1n), dict);
  const first = expHistogramPoints(agg.collect(10n), 'h')[0];
  t.true(first.scale < 20);
  agg.record(measurement(ref, 1.5, 11n), dict);
  const second = expHistogramPoints(agg.collect(20n), 'h')[0];
  t.is(second.scale, 20);
  t.is(second.count, 1n);
  t.is(second.startTimeUnixNano, 10n);
});
