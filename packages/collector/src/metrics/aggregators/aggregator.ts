import type { Measurement, otlpCommon, otlpMetrics } from '@otlp-mmap/protocol';
import type { DropReason } from '../drop-reason.js';

/** The value of a measurement: integer streams stay `bigint`. */
export type MeasurementValue = NonNullable<Measurement['value']>;

/** State every accumulation carries: the start of the time window it covers. */
export interface Accumulation {
  startTimeUnixNano: bigint;
}

/** What every OTLP data point type has in common here. */
export interface DataPoint {
  exemplars: otlpMetrics.Exemplar[];
}

/** The OTLP `data` oneof of a Metric. */
export type MetricData = NonNullable<otlpMetrics.Metric['data']>;

/**
 * The maths of one aggregation, independent of attributes, series storage
 * and temporality: create an accumulation, record values into it, and turn
 * accumulations into OTLP data points. Temporality handling (when to reset,
 * which start time to report, when to diff totals) lives in the metric stream.
 *
 * @typeParam A - the accumulation of one time series.
 * @typeParam P - the OTLP data point type.
 * @internal
 */
export interface Aggregator<A extends Accumulation, P extends DataPoint> {
  /**
   * Present when measurements are absolute totals (a CUMULATIVE Sum) rather
   * than increments or samples: exporting them as deltas needs a diff.
   */
  readonly totals?: TotalsSupport<A>;
  /** Cells of a series' exemplar reservoir (OpenTelemetry's default reservoir sizes). */
  readonly exemplarCells: number;
  /** One exemplar cell per histogram bucket (an aligned-histogram reservoir) rather than one shared pool. */
  readonly exemplarsAligned: boolean;
  /** The bucket of a value, for an aligned reservoir (0 otherwise). */
  exemplarBucket(value: MeasurementValue): number;
  createAccumulation(startTimeUnixNano: bigint): A;
  /** Records one value; returns why it was dropped, or undefined when it was taken. */
  record(accumulation: A, value: MeasurementValue, timeUnixNano: bigint): DropReason | undefined;
  toDataPoint(accumulation: A, attributes: otlpCommon.KeyValue[], startTimeUnixNano: bigint, timeUnixNano: bigint): P;
  toMetricData(points: P[], temporality: otlpMetrics.AggregationTemporality): MetricData;
}

/** What an aggregator of absolute totals adds for delta export. @internal */
export interface TotalsSupport<A> {
  /** The change from `previous` to `current` (after a reset: all of `current`). */
  diff(previous: A, current: A): A;
  /** An independent copy, kept as the reference for the next {@link TotalsSupport.diff}. */
  clone(accumulation: A): A;
}
