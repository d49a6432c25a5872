/**
 * Why a measurement was not aggregated. Every drop is counted under its
 * reason in {@link MetricsStats.dropped} and reported to `onDrop`.
 */
export type DropReason =
  /** The measurement's `metric_ref` does not resolve to a MetricRef. */
  | 'unresolvedMetric'
  /** The MetricRef has no aggregation set (or one this collector does not know). */
  | 'unsupportedAggregation'
  /** The measurement has neither `as_long` nor `as_double`. */
  | 'missingValue'
  /** The measurement's attributes could not be resolved at all. */
  | 'unresolvedAttributes'
  /** A negative increment to a monotonic DELTA sum (FORMAT.md 7.2). */
  | 'negativeMonotonicIncrement'
  /**
   * A negative total observed for a monotonic CUMULATIVE sum (an
   * ObservableCounter): a monotonic series counts up from 0, so a negative
   * total is invalid; the observation is left out and the series unchanged.
   */
  | 'negativeMonotonicTotal'
  /** NaN or ±Infinity where the aggregation cannot hold it (sums, histograms). */
  | 'nonFiniteValue'
  /**
   * An exponential histogram would need a scale below -10 to hold the value
   * within `max_buckets` buckets; the value is left out and the histogram is
   * unchanged.
   */
  | 'scaleUnderflow';

/** All drop reasons, for building counters. */
export const DROP_REASONS: readonly DropReason[] = [
  'unresolvedMetric',
  'unsupportedAggregation',
  'missingValue',
  'unresolvedAttributes',
  'negativeMonotonicIncrement',
  'negativeMonotonicTotal',
  'nonFiniteValue',
  'scaleUnderflow',
];
