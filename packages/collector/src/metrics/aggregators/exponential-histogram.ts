import type { otlpCommon, otlpMetrics } from '@otlp-mmap/protocol';
import type { DropReason } from '../drop-reason.js';
import type { Accumulation, Aggregator, MeasurementValue, MetricData } from './aggregator.js';
import { Buckets } from './exponential-histogram/buckets.js';
import { MAX_SCALE, MIN_SCALE, mappingForScale } from './exponential-histogram/mapping/mapping.js';

/** Default `max_buckets` (FORMAT.md 7.3). */
export const DEFAULT_MAX_BUCKETS = 160;

/**
 * The most buckets per sign a MetricRef can ask for: 100 times the default.
 * A series at a million buckets (the cap before) held 16 MB and took a large
 * part of a second to export at every collection: a file could stall the
 * collector with one metric definition and two values.
 */
export const MAX_MAX_BUCKETS = 16_384;

/** Exponential histogram state of one series. */
export interface ExponentialHistogramAccumulation extends Accumulation {
  scale: number;
  count: number;
  zeroCount: number;
  sum: number;
  min: number;
  max: number;
  positive: Buckets;
  negative: Buckets;
}

/**
 * Base-2 exponential histogram aggregation (OpenTelemetry data model).
 *
 * A series starts at `maxScale`; when a value falls outside the window of
 * `maxBuckets` buckets of its sign, the histogram is downscaled just enough
 * (adjacent buckets merged, both signs) for it to fit. A value that would
 * need a scale below -10 (only possible with `maxBuckets` 1) is dropped
 * before anything changes. Zeros go to the zero count (threshold 0), NaN and
 * ±Infinity are dropped.
 *
 * @internal
 */
export class ExponentialHistogramAggregator implements Aggregator<ExponentialHistogramAccumulation, otlpMetrics.ExponentialHistogramDataPoint> {
  /**
   * @param maxBuckets - buckets per sign, at least 1.
   * @param maxScale - starting (and highest) scale, in [-10, 20].
   */
  constructor(
    readonly maxBuckets: number,
    readonly maxScale: number,
  ) {
    if (!Number.isInteger(maxBuckets) || maxBuckets < 1) throw new RangeError(`maxBuckets must be >= 1, got ${maxBuckets}`);
    mappingForScale(maxScale);
  }

  /**
   * Reads `max_buckets` and `max_scale` of a MetricRef as FORMAT.md 7.3
   * says: `max_buckets` ≤ 0 means 160; both unset means scale 20; otherwise
   * `max_scale` is clamped to [-10, 20]. `max_buckets` above
   * {@link MAX_MAX_BUCKETS} is taken as that (memory and export time per
   * series stay small).
   */
  static fromDefinition(maxBuckets: bigint, maxScale: bigint): ExponentialHistogramAggregator {
    const size = maxBuckets <= 0n ? DEFAULT_MAX_BUCKETS : maxBuckets > BigInt(MAX_MAX_BUCKETS) ? MAX_MAX_BUCKETS : Number(maxBuckets);
    let scale: number;
    if (maxBuckets === 0n && maxScale === 0n) scale = MAX_SCALE;
    else scale = maxScale < BigInt(MIN_SCALE) ? MIN_SCALE : maxScale > BigInt(MAX_SCALE) ? MAX_SCALE : Number(maxScale);
    return new ExponentialHistogramAggregator(size, scale);
  }

  readonly exemplarsAligned = false;

  /** min(20, max_buckets), the OpenTelemetry default for exponential histograms. */
  get exemplarCells(): number {
    return Math.min(20, this.maxBuckets);
  }

  exemplarBucket(): number {
    return 0;
  }

  createAccumulation(startTimeUnixNano: bigint): ExponentialHistogramAccumulation {
    return {
      startTimeUnixNano,
      scale: this.maxScale,
      count: 0,
      zeroCount: 0,
      sum: 0,
      min: Infinity,
      max: -Infinity,
      positive: new Buckets(),
      negative: new Buckets(),
    };
  }

  record(acc: ExponentialHistogramAccumulation, value: MeasurementValue, _timeUnixNano: bigint): DropReason | undefined {
    const v = typeof value.value === 'number' ? value.value : Number(value.value);
    if (!Number.isFinite(v)) return 'nonFiniteValue';
    if (v !== 0) {
      const buckets = v > 0 ? acc.positive : acc.negative;
      const magnitude = v > 0 ? v : -v;
      let index = mappingForScale(acc.scale).mapToIndex(magnitude);
      if (!buckets.fits(index, this.maxBuckets)) {
        const change = scaleChangeToFit(buckets, index, this.maxBuckets, acc.scale - MIN_SCALE);
        if (change === undefined) return 'scaleUnderflow';
        acc.positive.downscale(change);
        acc.negative.downscale(change);
        acc.scale -= change;
        // Map afresh at the new scale (as the specification and sdk-metrics
        // do); should a logarithm land one bucket off near a boundary and
        // leave the window, the shifted index is the exact fallback.
        const remapped = mappingForScale(acc.scale).mapToIndex(magnitude);
        index = buckets.fits(remapped, this.maxBuckets) ? remapped : index >> change;
      }
      buckets.increment(index, 1);
      acc.sum += v;
    } else {
      acc.zeroCount++;
    }
    acc.count++;
    if (v < acc.min) acc.min = v;
    if (v > acc.max) acc.max = v;
    return undefined;
  }

  toDataPoint(
    acc: ExponentialHistogramAccumulation,
    attributes: otlpCommon.KeyValue[],
    startTimeUnixNano: bigint,
    timeUnixNano: bigint,
  ): otlpMetrics.ExponentialHistogramDataPoint {
    const onlyZeros = acc.count === acc.zeroCount;
    return {
      attributes,
      startTimeUnixNano,
      timeUnixNano,
      count: BigInt(acc.count),
      sum: acc.sum,
      // With no bucket in use the scale is meaningless; report 0 as sdk-metrics does.
      scale: onlyZeros ? 0 : acc.scale,
      zeroCount: BigInt(acc.zeroCount),
      positive: bucketsToOtlp(acc.positive),
      negative: bucketsToOtlp(acc.negative),
      flags: 0,
      exemplars: [],
      min: acc.count > 0 ? acc.min : undefined,
      max: acc.count > 0 ? acc.max : undefined,
      zeroThreshold: 0,
    };
  }

  toMetricData(points: otlpMetrics.ExponentialHistogramDataPoint[], temporality: otlpMetrics.AggregationTemporality): MetricData {
    return { $case: 'exponentialHistogram', value: { dataPoints: points, aggregationTemporality: temporality } };
  }
}

/**
 * How many scale steps down make `buckets` plus `index` fit in `maxBuckets`,
 * or undefined when more than `maxChange` steps would be needed.
 */
function scaleChangeToFit(buckets: Buckets, index: number, maxBuckets: number, maxChange: number): number | undefined {
  let low = Math.min(buckets.indexStart, index);
  let high = Math.max(buckets.indexEnd, index);
  let change = 0;
  while (high - low + 1 > maxBuckets) {
    // Bounded: with maxBuckets 1, -1 and 0 never merge however far we shift.
    if (change === maxChange) return undefined;
    low >>= 1;
    high >>= 1;
    change++;
  }
  return change;
}

function bucketsToOtlp(buckets: Buckets): otlpMetrics.ExponentialHistogramDataPoint_Buckets {
  return buckets.length === 0 ? { offset: 0, bucketCounts: [] } : { offset: buckets.indexStart, bucketCounts: buckets.toArray() };
}
