import test from 'ava';
import fc from 'fast-check';
import type { AnyValue, KeyValueRef, Measurement } from '@otlp-mmap/protocol';
import { DROP_REASONS, MetricsAggregator } from '../../packages/collector/src/metrics/index.js';
import { FakeDictionary, aggregations } from './helpers/fake-dictionary.js';
import { roundTrip } from './helpers/normalize.js';

/** A dictionary with one metric of every kind, plus refs that resolve to nothing. */
function dictionary() {
  const dict = new FakeDictionary();
  const refs = [
    dict.addMetric({ name: 'counter', aggregation: aggregations.counter }),
    dict.addMetric({ name: 'updown', aggregation: aggregations.upDownCounter }),
    dict.addMetric({ name: 'ocounter', aggregation: aggregations.observableCounter }),
    dict.addMetric({ name: 'gauge', aggregation: aggregations.gauge }),
    dict.addMetric({ name: 'hist', aggregation: aggregations.histogram([Number.NaN, 3, -1]) }),
    dict.addMetric({ name: 'exp1', aggregation: aggregations.expHist(1n, 99n) }),
    dict.addMetric({ name: 'exp', aggregation: aggregations.expHist(-3n, -99n) }),
    dict.addMetric({ name: 'none', aggregation: undefined }),
  ];
  const keys = ['a', 'b', 'otel.metric.overflow'].map((k) => dict.addString(k));
  const valueRef = dict.addValue({ value: { $case: 'stringValue', value: 'v' } });
  return { dict, refs, keys, valueRef };
}

const { dict, refs, keys, valueRef } = dictionary();

const anyValue: fc.Arbitrary<AnyValue> = fc.letrec<{ value: AnyValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant({ value: undefined }),
    fc.string().map((value) => ({ value: { $case: 'stringValue' as const, value } })),
    fc.boolean().map((value) => ({ value: { $case: 'boolValue' as const, value } })),
    fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }).map((value) => ({ value: { $case: 'intValue' as const, value } })),
    fc.double().map((value) => ({ value: { $case: 'doubleValue' as const, value } })),
    fc.uint8Array({ maxLength: 4 }).map((value) => ({ value: { $case: 'bytesValue' as const, value } })),
    fc.constantFrom(valueRef, 0n, 1n << 62n, -8n).map((value) => ({ value: { $case: 'valueRef' as const, value } })),
    fc.array(tie('value'), { maxLength: 3 }).map((values) => ({ value: { $case: 'arrayValue' as const, value: { values } } })),
  ),
})).value;

const keyValue: fc.Arbitrary<KeyValueRef> = fc.record({
  keyRef: fc.oneof(fc.constantFrom(...keys), fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n })),
  value: fc.option(anyValue, { nil: undefined }),
});

const measurementArb: fc.Arbitrary<Measurement> = fc.record({
  metricRef: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...refs) }, fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n })),
  attributes: fc.array(keyValue, { maxLength: 4 }),
  timeUnixNano: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  value: fc.option(
    fc.oneof(
      fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }).map((value) => ({ $case: 'asLong' as const, value })),
      fc.double().map((value) => ({ $case: 'asDouble' as const, value })),
    ),
    { nil: undefined },
  ),
  spanContext: fc.constant(undefined),
});

test('arbitrary measurements never make record or collect throw, every one is counted, and exports encode', (t) => {
  fc.assert(
    fc.property(
      fc.array(measurementArb, { maxLength: 80 }),
      fc.constantFrom('cumulative', 'delta', 'lowmemory', 'source'),
      fc.integer({ min: 1, max: 5 }),
      (measurements, preference, cardinalityLimit) => {
        const agg = new MetricsAggregator({ temporalityPreference: preference as 'delta', cardinalityLimit });
        let time = 0n;
        for (const [i, m] of measurements.entries()) {
          agg.record(m, dict);
          if (i % 17 === 16) {
            time += 10n;
            roundTrip(agg.collect(time));
          }
        }
        roundTrip(agg.collect(time + 10n));
        const stats = agg.stats();
        const dropped = DROP_REASONS.reduce((sum, r) => sum + stats.dropped[r], 0);
        if (stats.recorded + dropped !== measurements.length) return false;
        // Series stay bounded by the limit per stream (7 streams at most; a
        // delta stream also keeps the previous interval's series one interval longer).
        return stats.series <= 7 * 2 * cardinalityLimit;
      },
    ),
    { numRuns: 300 },
  );
  t.pass();
});
