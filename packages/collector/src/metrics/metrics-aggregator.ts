import {
  AggregationTemporality,
  decodeAttributeRecords,
  type EncodedMeasurement,
  type KeyValueRef,
  type Measurement,
  type otlpCommon,
  type otlpMetrics,
  type otlpResource,
} from '@otlp-mmap/protocol';
import type { DictionaryView, ResolvedMetric } from '../dictionary/dictionary-view.js';
import type { Accumulation, Aggregator, DataPoint } from './aggregators/aggregator.js';
import { ExponentialHistogramAggregator } from './aggregators/exponential-histogram.js';
import { HistogramAggregator } from './aggregators/histogram.js';
import { LastValueAggregator } from './aggregators/last-value.js';
import { SumAggregator } from './aggregators/sum.js';
import { DROP_REASONS, type DropReason } from './drop-reason.js';
import type { ExemplarFilter } from './exemplars/exemplar-filter.js';
import { MetricStream, type StreamContext } from './metric-stream.js';
import { exportTemporality, type TemporalityPreference } from './temporality.js';

/** Default cardinality limit per metric stream (as sdk-metrics). */
export const DEFAULT_CARDINALITY_LIMIT = 2000;

/** Options of a {@link MetricsAggregator}. */
export interface MetricsAggregatorOptions {
  /** Export temporality; default `cumulative`. See {@link TemporalityPreference}. */
  temporalityPreference?: TemporalityPreference;
  /**
   * Maximum number of series per metric stream, the overflow series
   * (`otel.metric.overflow=true`) included; default 2000, at least 1.
   */
  cardinalityLimit?: number;
  /**
   * When the telemetry began (e.g. the file header's `start_time_unix_nano`):
   * the start time of the first delta interval and of observed totals.
   * Without it, a series starts at its first measurement.
   */
  startTimeUnixNano?: bigint;
  /**
   * Which measurements may become exemplars (`OTEL_METRICS_EXEMPLAR_FILTER`);
   * default `trace_based`: measurements made in a sampled span, identified by
   * the measurement's span context. Each series keeps a uniform sample of
   * them per collection interval: one per bucket for explicit histograms,
   * min(20, max_buckets) for exponential histograms, one otherwise.
   */
  exemplarFilter?: ExemplarFilter;
  /** Uniform random numbers in [0, 1) for exemplar sampling; default `Math.random`. */
  random?: () => number;
  /**
   * Called once per dropped measurement, after it was counted. Must not
   * throw (an exception is swallowed).
   */
  onDrop?: (reason: DropReason, measurement: Measurement, detail?: unknown) => void;
}

/** Counters of a {@link MetricsAggregator}, for self-observability. */
export interface MetricsStats {
  /** Measurements aggregated. */
  readonly recorded: number;
  /** Measurements dropped, by reason. */
  readonly dropped: Readonly<Record<DropReason, number>>;
  /**
   * Attributes left out of a series because their key or value did not
   * resolve (counted when an attribute list is resolved, i.e. once per
   * distinct raw attribute list, not per measurement).
   */
  readonly droppedAttributes: number;
  /** Metric streams known. */
  readonly streams: number;
  /** Series held over all streams. */
  readonly series: number;
}

/**
 * Aggregates OTLP-MMAP measurements into OpenTelemetry metrics, the way
 * `@opentelemetry/sdk-metrics` would have in-process.
 *
 * Feed it decoded `Measurement`s with {@link record}; call {@link collect}
 * at every export interval (and once more at shutdown) and export what it
 * returns. It holds no timer, reads no file and never throws from
 * `record`: every measurement it cannot use is dropped and counted (see
 * {@link stats} and `onDrop`).
 *
 * Each MetricRef (by dictionary reference) is one metric stream: Sum,
 * Gauge, explicit Histogram or ExponentialHistogram according to its
 * aggregation, with FORMAT.md 7.1–7.3 semantics; series are keyed by
 * attribute set, order independent, with a per-stream cardinality limit.
 *
 * @example
 * ```ts
 * const aggregator = new MetricsAggregator({ temporalityPreference: 'delta' });
 * for (const m of measurements) aggregator.record(m, dictionary);
 * const resourceMetrics = aggregator.collect(nowUnixNano());
 * ```
 */
export class MetricsAggregator {
  private readonly preference: TemporalityPreference;
  private readonly cardinalityLimit: number;
  private readonly onDrop: MetricsAggregatorOptions['onDrop'];
  private readonly streams = new Map<bigint, MetricStream | DropReason>();
  private readonly context: StreamContext & { lastCollectionUnixNano: bigint | undefined };
  private recorded = 0;
  private droppedAttributes = 0;
  private readonly dropped: Record<DropReason, number>;
  /** The stream of the previous measurement: consecutive measurements often share it. */
  private lastRef = -1n;
  private lastStream: MetricStream | DropReason | undefined;

  /** @throws RangeError for an invalid option. */
  constructor(options: MetricsAggregatorOptions = {}) {
    const preference = options.temporalityPreference ?? 'cumulative';
    if (!['cumulative', 'delta', 'lowmemory', 'source'].includes(preference)) {
      throw new RangeError(`unknown temporality preference ${JSON.stringify(preference)}`);
    }
    const limit = options.cardinalityLimit ?? DEFAULT_CARDINALITY_LIMIT;
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`cardinalityLimit must be an integer >= 1, got ${limit}`);
    }
    const exemplarFilter = options.exemplarFilter ?? 'trace_based';
    if (!['trace_based', 'always_on', 'always_off'].includes(exemplarFilter)) {
      throw new RangeError(`unknown exemplar filter ${JSON.stringify(exemplarFilter)}`);
    }
    this.preference = preference;
    this.cardinalityLimit = limit;
    this.onDrop = options.onDrop;
    this.dropped = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
    this.context = {
      startTimeUnixNano: options.startTimeUnixNano,
      lastCollectionUnixNano: options.startTimeUnixNano,
      exemplarFilter,
      random: options.random ?? Math.random,
      onDroppedAttribute: () => {
        this.droppedAttributes++;
      },
    };
  }

  /**
   * Aggregates one measurement, resolving its MetricRef and (the first time
   * an attribute list is seen) its attributes through `dict`. Never throws:
   * a measurement that cannot be used is dropped and counted.
   */
  record(m: Measurement, dict: DictionaryView): void {
    this.recordFrom(m, undefined, dict);
  }

  /**
   * Aggregates one measurement decoded by `EncodedMeasurementDecoder` from
   * `input` (the batch it was read from; only read during the call), exactly
   * as {@link record} would aggregate the fully decoded message. The
   * attribute records are looked up by their bytes, and decoded and
   * resolved only the first time a stream sees those bytes; records that do
   * not decode drop the measurement (`unresolvedAttributes`). `onDrop` gets
   * the measurement with its attributes decoded (when they decode).
   */
  recordEncoded(m: EncodedMeasurement, input: Uint8Array, dict: DictionaryView): void {
    this.recordFrom(m, m.attributesStart < 0 ? undefined : input, dict);
  }

  /** Entries held by the encoded-attributes caches of all streams (for tests of their bound). @internal */
  encodedCacheEntries(): number {
    let entries = 0;
    for (const stream of this.streams.values()) if (typeof stream !== 'string') entries += stream.encodedCacheSize;
    return entries;
  }

  /** `input` set: `m` is an EncodedMeasurement whose attributes are still encoded in it. */
  private recordFrom(m: Measurement, input: Uint8Array | undefined, dict: DictionaryView): void {
    let stream = m.metricRef === this.lastRef ? this.lastStream : this.streams.get(m.metricRef);
    if (stream === undefined) {
      stream = this.openStream(m, input, dict);
      if (stream === undefined) return;
    }
    this.lastRef = m.metricRef;
    this.lastStream = stream;
    if (typeof stream === 'string') return this.drop(stream, m, undefined, input);
    const value = m.value;
    if (value === undefined) return this.drop('missingValue', m, undefined, input);
    let dropped: DropReason | undefined;
    try {
      dropped = input === undefined ? stream.record(m, value, dict) : stream.recordEncoded(m as EncodedMeasurement, input, value, dict);
    } catch (error) {
      return this.drop('unresolvedAttributes', m, error, input);
    }
    if (dropped !== undefined) return this.drop(dropped, m, undefined, input);
    this.recorded++;
  }

  /**
   * Collects every stream at time `nowUnixNano`: the metrics to export,
   * grouped by resource then instrumentation scope (streams with nothing
   * to report are left out). Delta streams start a new interval.
   */
  collect(nowUnixNano: bigint): otlpMetrics.ResourceMetrics[] {
    const byResource = new Map<
      bigint,
      {
        resource: otlpResource.Resource;
        schemaUrl: string;
        scopes: Map<bigint, { scope: otlpCommon.InstrumentationScope; schemaUrl: string; metrics: otlpMetrics.Metric[] }>;
      }
    >();
    for (const stream of this.streams.values()) {
      if (typeof stream === 'string') continue;
      const metric = stream.collect(nowUnixNano);
      if (metric === undefined) continue;
      const { scope } = stream.metric;
      let resource = byResource.get(scope.resourceRef);
      if (resource === undefined) {
        resource = { resource: scope.resource, schemaUrl: scope.resourceSchemaUrl, scopes: new Map() };
        byResource.set(scope.resourceRef, resource);
      }
      let scopeMetrics = resource.scopes.get(scope.ref);
      if (scopeMetrics === undefined) {
        scopeMetrics = { scope: scope.scope, schemaUrl: scope.schemaUrl, metrics: [] };
        resource.scopes.set(scope.ref, scopeMetrics);
      }
      scopeMetrics.metrics.push(metric);
    }
    this.context.lastCollectionUnixNano = nowUnixNano;
    return [...byResource.values()].map(({ resource, schemaUrl, scopes }) => ({
      resource,
      scopeMetrics: [...scopes.values()].map(({ scope, schemaUrl, metrics }) => ({ scope, metrics, schemaUrl })),
      schemaUrl,
    }));
  }

  /** Counters since construction. */
  stats(): MetricsStats {
    let series = 0;
    let streams = 0;
    for (const stream of this.streams.values()) {
      if (typeof stream === 'string') continue;
      streams++;
      series += stream.seriesCount;
    }
    return {
      recorded: this.recorded,
      dropped: { ...this.dropped },
      droppedAttributes: this.droppedAttributes,
      streams,
      series,
    };
  }

  private openStream(m: Measurement, input: Uint8Array | undefined, dict: DictionaryView): MetricStream | DropReason | undefined {
    let metric: ResolvedMetric;
    try {
      metric = dict.metric(m.metricRef);
    } catch (error) {
      // Not cached: the entry may still be on its way (the dictionary grows).
      this.drop('unresolvedMetric', m, error, input);
      return undefined;
    }
    const aggregator = aggregatorFor(metric);
    const stream =
      aggregator === undefined
        ? 'unsupportedAggregation'
        : new MetricStream(metric, aggregator, exportTemporality(metric.definition, this.preference), this.cardinalityLimit, this.context);
    this.streams.set(m.metricRef, stream);
    return stream;
  }

  private drop(reason: DropReason, m: Measurement, detail?: unknown, input?: Uint8Array): void {
    this.dropped[reason]++;
    if (this.onDrop !== undefined) {
      try {
        if (input !== undefined) m = withDecodedAttributes(m as EncodedMeasurement, input);
        this.onDrop(reason, m, detail);
      } catch {
        // A failing callback must not stop aggregation.
      }
    }
  }
}

/** `m` as the generated decoder would give it (attributes decoded), for `onDrop`; as is when they do not decode. */
function withDecodedAttributes(m: EncodedMeasurement, input: Uint8Array): Measurement {
  let attributes: KeyValueRef[];
  try {
    attributes = decodeAttributeRecords(input, m.attributesStart, m.attributesEnd);
  } catch {
    return m;
  }
  return { metricRef: m.metricRef, attributes, timeUnixNano: m.timeUnixNano, value: m.value, spanContext: m.spanContext };
}

function aggregatorFor(metric: ResolvedMetric): Aggregator<Accumulation, DataPoint> | undefined {
  const aggregation = metric.definition.aggregation;
  switch (aggregation?.$case) {
    case 'sum':
      return new SumAggregator(
        aggregation.value.isMonotonic,
        aggregation.value.aggregationTemporality === AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE,
      );
    case 'gauge':
      return new LastValueAggregator();
    case 'histogram':
      return new HistogramAggregator(aggregation.value.bucketBoundaries);
    case 'expHist':
      return ExponentialHistogramAggregator.fromDefinition(aggregation.value.maxBuckets, aggregation.value.maxScale);
    default:
      return undefined;
  }
}
