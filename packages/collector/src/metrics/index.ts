/**
 * Metric aggregation of the collector: turns OTLP-MMAP `Measurement`s into
 * OTLP `ResourceMetrics`. Entry point: {@link MetricsAggregator}.
 */
export {
  MetricsAggregator,
  DEFAULT_CARDINALITY_LIMIT,
  type MetricsAggregatorOptions,
  type MetricsStats,
} from './metrics-aggregator.js';
export { DROP_REASONS, type DropReason } from './drop-reason.js';
export { parseTemporalityPreference, type TemporalityPreference } from './temporality.js';
export { parseExemplarFilter, type ExemplarFilter } from './exemplars/exemplar-filter.js';
export { OVERFLOW_ATTRIBUTES } from './series-storage.js';
export { DEFAULT_HISTOGRAM_BOUNDARIES } from './aggregators/histogram.js';
export { DEFAULT_MAX_BUCKETS } from './aggregators/exponential-histogram.js';
export { mappingForScale, MIN_SCALE, MAX_SCALE, type Mapping } from './aggregators/exponential-histogram/mapping/mapping.js';
