import { AggregationTemporality, otlpMetrics, type MetricRef } from '@otlp-mmap/protocol';

/**
 * Which temporality the collector exports, as
 * `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE` defines it, plus
 * `source`:
 *
 * - `cumulative`: everything cumulative (the default).
 * - `delta`: Counter, ObservableCounter and Histogram delta; UpDownCounter
 *   and ObservableUpDownCounter cumulative; gauges report only the series
 *   measured since the last collection.
 * - `lowmemory`: Counter and Histogram delta; everything else cumulative.
 * - `source`: each stream as its MetricRef says (FORMAT.md 7.1 read
 *   literally: DELTA streams as deltas, CUMULATIVE as totals; histograms by
 *   their temporality; UNSPECIFIED as cumulative).
 */
export type TemporalityPreference = 'cumulative' | 'delta' | 'lowmemory' | 'source';

/** Instrument kinds, recovered from a MetricRef's aggregation. @internal */
export type InstrumentKind = 'counter' | 'upDownCounter' | 'observableCounter' | 'observableUpDownCounter' | 'histogram' | 'gauge';

/**
 * The instrument a MetricRef stands for: a DELTA Sum is written by a
 * synchronous (Up)DownCounter, a CUMULATIVE Sum by an observable one
 * (FORMAT.md 7.1). Undefined when the MetricRef has no aggregation.
 *
 * @internal
 */
export function instrumentKindOf(definition: MetricRef): InstrumentKind | undefined {
  const aggregation = definition.aggregation;
  switch (aggregation?.$case) {
    case 'gauge':
      return 'gauge';
    case 'sum': {
      const totals = aggregation.value.aggregationTemporality === AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE;
      if (aggregation.value.isMonotonic) return totals ? 'observableCounter' : 'counter';
      return totals ? 'observableUpDownCounter' : 'upDownCounter';
    }
    case 'histogram':
    case 'expHist':
      return 'histogram';
    default:
      return undefined;
  }
}

/**
 * The temporality a stream is exported with.
 *
 * @internal
 */
export function exportTemporality(definition: MetricRef, preference: TemporalityPreference): otlpMetrics.AggregationTemporality {
  const DELTA = otlpMetrics.AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA;
  const CUMULATIVE = otlpMetrics.AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE;
  const kind = instrumentKindOf(definition);
  switch (preference) {
    case 'cumulative':
      return CUMULATIVE;
    case 'delta':
      return kind === 'counter' || kind === 'observableCounter' || kind === 'histogram' || kind === 'gauge' ? DELTA : CUMULATIVE;
    case 'lowmemory':
      return kind === 'counter' || kind === 'histogram' ? DELTA : CUMULATIVE;
    case 'source': {
      const aggregation = definition.aggregation;
      if (aggregation === undefined || aggregation.$case === 'gauge') return CUMULATIVE;
      return aggregation.value.aggregationTemporality === AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA ? DELTA : CUMULATIVE;
    }
  }
}

/**
 * Parses `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE` (case
 * insensitive, surrounding blanks ignored). Unset or empty gives
 * `cumulative`; an unknown value gives undefined so the caller can report it.
 */
export function parseTemporalityPreference(value: string | undefined): TemporalityPreference | undefined {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '') return 'cumulative';
  return v === 'cumulative' || v === 'delta' || v === 'lowmemory' || v === 'source' ? v : undefined;
}
