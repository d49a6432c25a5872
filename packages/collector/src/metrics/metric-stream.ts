import { otlpMetrics, type EncodedMeasurement, type Measurement } from '@otlp-mmap/protocol';
import type { DictionaryView, ResolvedMetric } from '../dictionary/dictionary-view.js';
import type { Accumulation, Aggregator, DataPoint, MeasurementValue } from './aggregators/aggregator.js';
import type { DropReason } from './drop-reason.js';
import { passesFilter, type ExemplarFilter } from './exemplars/exemplar-filter.js';
import { ExemplarReservoir } from './exemplars/exemplar-reservoir.js';
import { SeriesStorage, type Series } from './series-storage.js';

/** What a stream needs from its owner. @internal */
export interface StreamContext {
  /** Start of the first collection interval, if known (the writer's start time). */
  readonly startTimeUnixNano: bigint | undefined;
  /** Time of the previous collection, undefined before the first. */
  readonly lastCollectionUnixNano: bigint | undefined;
  readonly exemplarFilter: ExemplarFilter;
  /** Uniform in [0, 1), for exemplar sampling. */
  readonly random: () => number;
  onDroppedAttribute(): void;
}

/**
 * One metric stream (one MetricRef): its series, its aggregator, and the
 * temporality handling that turns recorded state into exported points.
 *
 * | measurements          | export     | what happens at collection                          |
 * |-----------------------|------------|-----------------------------------------------------|
 * | increments / samples  | cumulative | report the series' accumulation, keep it             |
 * | increments / samples  | delta      | report series touched since last time, then reset    |
 * | totals (Sum CUMUL.)   | cumulative | report the last total with its (reset-aware) start   |
 * | totals (Sum CUMUL.)   | delta      | report total minus the total reported last time      |
 *
 * @internal
 */
export class MetricStream<A extends Accumulation = Accumulation> {
  private readonly storage: SeriesStorage<A>;
  private readonly delta: boolean;

  constructor(
    readonly metric: ResolvedMetric,
    private readonly aggregator: Aggregator<A, DataPoint>,
    readonly temporality: otlpMetrics.AggregationTemporality,
    cardinalityLimit: number,
    private readonly context: StreamContext,
  ) {
    this.delta = temporality === otlpMetrics.AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA;
    const retain = !this.delta || aggregator.totals !== undefined;
    this.storage = new SeriesStorage<A>(cardinalityLimit, retain ? 'retain' : 'interval', (time) => aggregator.createAccumulation(this.seriesStart(time)));
  }

  /** Number of series held. */
  get seriesCount(): number {
    return this.storage.size;
  }

  /**
   * Records one measurement.
   *
   * @throws a DictionaryError (or anything `dict.attributes` throws) when the
   *   attributes cannot be resolved; nothing is changed then.
   */
  record(m: Measurement, value: MeasurementValue, dict: DictionaryView): DropReason | undefined {
    return this.recordIn(this.storage.lookup(m.attributes, m.timeUnixNano, dict, this.context.onDroppedAttribute), m, value);
  }

  /**
   * Records one measurement whose attributes are the encoded records
   * `input[m.attributesStart, m.attributesEnd)` (see `EncodedMeasurement`).
   *
   * @throws when the records do not decode or resolve; nothing is changed then.
   */
  recordEncoded(m: EncodedMeasurement, input: Uint8Array, value: MeasurementValue, dict: DictionaryView): DropReason | undefined {
    const series = this.storage.lookupEncoded(input, m.attributesStart, m.attributesEnd, m.timeUnixNano, dict, this.context.onDroppedAttribute);
    return this.recordIn(series, m, value);
  }

  /** Entries of the series' encoded-attributes cache. @internal */
  get encodedCacheSize(): number {
    return this.storage.encodedCacheSize;
  }

  private recordIn(series: Series<A>, m: Measurement, value: MeasurementValue): DropReason | undefined {
    const dropped = this.aggregator.record(series.accumulation, value, m.timeUnixNano);
    if (dropped === undefined) {
      series.touched = true;
      series.recorded = true;
      if (this.context.exemplarFilter !== 'always_off' && passesFilter(this.context.exemplarFilter, m.spanContext)) {
        const aggregator = this.aggregator;
        series.exemplars ??= new ExemplarReservoir(aggregator.exemplarCells, aggregator.exemplarsAligned, this.context.random);
        series.exemplars.offer(value, m.timeUnixNano, m.spanContext, aggregator.exemplarBucket(value));
      }
    }
    return dropped;
  }

  /** The stream's OTLP Metric for a collection at `now`, or undefined when it has no point to report. */
  collect(now: bigint): otlpMetrics.Metric | undefined {
    const points: DataPoint[] = [];
    const push = (series: Series<A>, point: DataPoint) => {
      if (series.exemplars !== undefined) point.exemplars = series.exemplars.collect();
      points.push(point);
    };
    const last = this.context.lastCollectionUnixNano;
    // A point's start never follows its time (OTLP: start_time_unix_nano <=
    // time_unix_nano). Measurement times come from the writer's clock and
    // may be ahead of ours: a start taken from one is pulled back to now.
    const notAfterNow = (start: bigint): bigint => (start > now ? now : start);
    for (const series of this.storage.all()) {
      const acc = series.accumulation;
      // Stored, so that later cumulative points keep this start.
      acc.startTimeUnixNano = notAfterNow(acc.startTimeUnixNano);
      if (!this.delta) {
        if (series.recorded) push(series, this.aggregator.toDataPoint(acc, series.attributes, acc.startTimeUnixNano, now));
      } else if (series.touched) {
        const totals = this.aggregator.totals;
        if (totals !== undefined) {
          const previous = series.reported;
          const change = previous === undefined ? acc : totals.diff(previous, acc);
          const reset = previous !== undefined && previous.startTimeUnixNano !== acc.startTimeUnixNano;
          // OTel metrics data model, "Resets and Gaps": in an unbroken
          // sequence of delta points, "the StartTimeUnixNano of each point
          // matches the TimeUnixNano of the preceding point"; a reset begins
          // a new sequence, and points must not overlap (where nothing is
          // known, the stream has a gap). So after a reset the change (the
          // whole new total) starts at the series' new start, but never
          // before the end of the previous point: the previous point already
          // covered the time up to the last collection.
          let start: bigint;
          if (previous === undefined) start = acc.startTimeUnixNano;
          else if (reset && last !== undefined && acc.startTimeUnixNano > last) start = acc.startTimeUnixNano;
          else start = last ?? acc.startTimeUnixNano;
          push(series, this.aggregator.toDataPoint(change, series.attributes, notAfterNow(start), now));
          series.reported = totals.clone(acc);
        } else {
          push(series, this.aggregator.toDataPoint(acc, series.attributes, notAfterNow(last ?? acc.startTimeUnixNano), now));
          series.accumulation = this.aggregator.createAccumulation(now);
        }
      }
    }
    this.storage.endInterval();
    if (points.length === 0) return undefined;
    const definition = this.metric.definition;
    return {
      name: definition.name,
      description: definition.description,
      unit: definition.unit,
      metadata: [],
      data: this.aggregator.toMetricData(points, this.temporality),
    };
  }

  /** Start of a new series first measured at `time`. */
  private seriesStart(time: bigint): bigint {
    if (this.aggregator.totals !== undefined) {
      // A total counts from the writer's start, not from its first observation.
      const start = this.context.startTimeUnixNano;
      return start !== undefined && start < time ? start : time;
    }
    return time;
  }
}
