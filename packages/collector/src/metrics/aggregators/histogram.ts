import type { otlpCommon, otlpMetrics } from '@otlp-mmap/protocol';
import type { DropReason } from '../drop-reason.js';
import type { Accumulation, Aggregator, MeasurementValue, MetricData } from './aggregator.js';

/** The OpenTelemetry default explicit bucket boundaries (FORMAT.md 7.3). */
export const DEFAULT_HISTOGRAM_BOUNDARIES: readonly number[] = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

/** Explicit-bucket histogram state of one series. */
export interface HistogramAccumulation extends Accumulation {
  count: number;
  sum: number;
  min: number;
  max: number;
  /** `boundaries.length + 1` counts; bucket i holds (b[i-1], b[i]]. */
  counts: Float64Array;
}

/**
 * Explicit-bucket histogram aggregation: count, sum, min, max and bucket
 * counts, where a value equal to a boundary goes to the lower bucket
 * (bucket `i` counts `(b[i-1], b[i]]`). NaN and ±Infinity are dropped.
 *
 * @internal
 */
export class HistogramAggregator implements Aggregator<HistogramAccumulation, otlpMetrics.HistogramDataPoint> {
  /** Strictly increasing finite boundaries. */
  readonly boundaries: readonly number[];

  /**
   * @param boundaries - the MetricRef's boundaries; empty means the
   *   OpenTelemetry defaults. Non-finite entries are ignored and the rest
   *   sorted and de-duplicated, so a malformed definition still aggregates.
   */
  constructor(boundaries: readonly number[]) {
    this.boundaries = boundaries.length === 0 ? DEFAULT_HISTOGRAM_BOUNDARIES : sanitizeBoundaries(boundaries);
  }

  readonly exemplarsAligned = true;

  get exemplarCells(): number {
    return this.boundaries.length + 1;
  }

  exemplarBucket(value: MeasurementValue): number {
    return bucketOf(this.boundaries, Number(value.value));
  }

  createAccumulation(startTimeUnixNano: bigint): HistogramAccumulation {
    return {
      startTimeUnixNano,
      count: 0,
      sum: 0,
      min: Infinity,
      max: -Infinity,
      counts: new Float64Array(this.boundaries.length + 1),
    };
  }

  record(acc: HistogramAccumulation, value: MeasurementValue, _timeUnixNano: bigint): DropReason | undefined {
    const v = typeof value.value === 'number' ? value.value : Number(value.value);
    if (!Number.isFinite(v)) return 'nonFiniteValue';
    acc.count++;
    acc.sum += v;
    if (v < acc.min) acc.min = v;
    if (v > acc.max) acc.max = v;
    acc.counts[bucketOf(this.boundaries, v)]++;
    return undefined;
  }

  toDataPoint(acc: HistogramAccumulation, attributes: otlpCommon.KeyValue[], startTimeUnixNano: bigint, timeUnixNano: bigint): otlpMetrics.HistogramDataPoint {
    const bucketCounts: bigint[] = new Array(acc.counts.length);
    for (let i = 0; i < acc.counts.length; i++) bucketCounts[i] = BigInt(acc.counts[i]);
    return {
      attributes,
      startTimeUnixNano,
      timeUnixNano,
      count: BigInt(acc.count),
      sum: acc.sum,
      bucketCounts,
      explicitBounds: [...this.boundaries],
      exemplars: [],
      flags: 0,
      min: acc.count > 0 ? acc.min : undefined,
      max: acc.count > 0 ? acc.max : undefined,
    };
  }

  toMetricData(points: otlpMetrics.HistogramDataPoint[], temporality: otlpMetrics.AggregationTemporality): MetricData {
    return { $case: 'histogram', value: { dataPoints: points, aggregationTemporality: temporality } };
  }
}

/** Index of the first boundary `>= value` (boundaries.length when none): binary search. */
export function bucketOf(boundaries: readonly number[], value: number): number {
  let low = 0;
  let high = boundaries.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (boundaries[mid] < value) low = mid + 1;
    else high = mid;
  }
  return low;
}

function sanitizeBoundaries(boundaries: readonly number[]): number[] {
  const sorted = boundaries.filter((b) => Number.isFinite(b)).sort((a, b) => a - b);
  return sorted.filter((b, i) => i === 0 || b !== sorted[i - 1]);
}
