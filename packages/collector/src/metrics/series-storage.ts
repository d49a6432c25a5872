import { decodeAttributeRecords, type KeyValueRef, type otlpCommon } from '@otlp-mmap/protocol';
import type { DictionaryView } from '../dictionary/dictionary-view.js';
import { EncodedAttributeCache, RawAttributeCache, canonicalAttributes, hashBytes } from './attribute-key.js';
import type { ExemplarReservoir } from './exemplars/exemplar-reservoir.js';

/** Attributes of the series that collects measurements beyond the cardinality limit. */
export const OVERFLOW_ATTRIBUTES: readonly otlpCommon.KeyValue[] = Object.freeze([
  { key: 'otel.metric.overflow', value: { value: { $case: 'boolValue', value: true } }, keyStrindex: 0 },
]);

/** One time series of a metric stream: its attributes and accumulation. @internal */
export class Series<A> {
  /** Accepted measurements since the last collection. */
  touched = false;
  /** Ever accepted a measurement. */
  recorded = false;
  /** Counted against the cardinality limit in the current interval. */
  active = true;
  /** Evicted from its storage; cached references to it are stale. */
  removed = false;
  /** The accumulation last reported (totals exported as deltas). */
  reported: A | undefined;
  /** Exemplars sampled since the last collection (created on the first one). */
  exemplars: ExemplarReservoir | undefined;

  constructor(
    readonly attributes: otlpCommon.KeyValue[],
    public accumulation: A,
  ) {}
}

/** How long series live in a {@link SeriesStorage}. */
export type SeriesLifetime =
  /** Series live as long as the storage (cumulative state, totals); the limit counts them all. */
  | 'retain'
  /**
   * Series not touched in an interval are evicted; the limit counts the
   * series of the current interval (the previous interval's series are kept
   * one interval longer, so at most about twice the limit are held).
   */
  | 'interval';

/**
 * The series of one metric stream, keyed by attribute set (order
 * independent), with a cardinality limit: at most `limit - 1` ordinary
 * series, every further attribute set goes to one overflow series with
 * `otel.metric.overflow=true` (as sdk-metrics does).
 *
 * Lookups first try a cache keyed by the measurement's raw attribute
 * references, so attributes are resolved through the dictionary only the
 * first time a raw attribute list is seen; {@link lookupEncoded} puts one
 * more cache in front, keyed by the attribute records' bytes, so that
 * attributes are not even decoded when their bytes were seen before.
 *
 * @internal
 */
export class SeriesStorage<A> {
  private readonly byKey = new Map<string, Series<A>>();
  private readonly rawCache: RawAttributeCache<Series<A>>;
  private readonly encodedCache: EncodedAttributeCache<Series<A>>;
  private overflowSeries: Series<A> | undefined;
  private activeCount = 0;

  constructor(
    private readonly limit: number,
    private readonly lifetime: SeriesLifetime,
    private readonly createAccumulation: (firstTimeUnixNano: bigint) => A,
  ) {
    this.rawCache = new RawAttributeCache(4 * limit + 64);
    this.encodedCache = new EncodedAttributeCache(4 * limit + 64);
  }

  /** Entries of the encoded-attributes cache (bounded: see {@link EncodedAttributeCache}). */
  get encodedCacheSize(): number {
    return this.encodedCache.size;
  }

  /**
   * The series of the attribute records `bytes[start, end)` (as left encoded
   * by `EncodedMeasurementDecoder`), created if needed. Bytes seen before
   * are neither decoded nor resolved again; otherwise as {@link lookup}
   * with the decoded list, so the series is the one of the canonical
   * attribute set whatever the order or encoding the bytes hold.
   *
   * @throws when the records do not decode, or whatever `dict.attributes` throws.
   */
  lookupEncoded(bytes: Uint8Array, start: number, end: number, timeUnixNano: bigint, dict: DictionaryView, onDroppedAttribute: () => void): Series<A> {
    const hash = hashBytes(bytes, start, end);
    const cached = this.encodedCache.get(hash, bytes, start, end);
    if (cached !== undefined && !cached.removed) return this.activate(cached, timeUnixNano);
    const series = this.lookup(decodeAttributeRecords(bytes, start, end), timeUnixNano, dict, onDroppedAttribute);
    // Same rule as the raw cache: the overflow series is cached only when series are retained.
    if (series !== this.overflowSeries || this.lifetime === 'retain') this.encodedCache.set(hash, bytes, start, end, series);
    return series;
  }

  /** Number of series held, overflow included. */
  get size(): number {
    return this.byKey.size + (this.overflowSeries ? 1 : 0);
  }

  /**
   * The series of an attribute list, created if needed.
   *
   * @throws whatever `dict.attributes` throws (the caller drops the measurement).
   */
  lookup(kvs: readonly KeyValueRef[], timeUnixNano: bigint, dict: DictionaryView, onDroppedAttribute: () => void): Series<A> {
    const cached = this.rawCache.get(kvs);
    if (cached !== undefined && !cached.removed) return this.activate(cached, timeUnixNano);
    const { attributes, key } = canonicalAttributes(dict.attributes(kvs, onDroppedAttribute));
    let series = this.byKey.get(key);
    if (series === undefined && this.activeCount >= this.limit - 1) {
      series = this.overflow(timeUnixNano);
    } else if (series === undefined) {
      series = new Series(attributes, this.createAccumulation(timeUnixNano));
      this.byKey.set(key, series);
      this.activeCount++;
    } else {
      series = this.activate(series, timeUnixNano);
    }
    // An attribute list in overflow may get its own series in a later interval: cache it only when series are retained.
    if (series !== this.overflowSeries || this.lifetime === 'retain') this.rawCache.set(kvs, series);
    return series;
  }

  /** Every series held, overflow last. */
  *all(): IterableIterator<Series<A>> {
    yield* this.byKey.values();
    if (this.overflowSeries) yield this.overflowSeries;
  }

  /**
   * Ends a collection interval: clears `touched`; with lifetime `interval`,
   * evicts the series not touched in it and restarts the limit's count.
   * Call after the series were exported.
   */
  endInterval(): void {
    if (this.lifetime === 'interval') {
      for (const [key, series] of this.byKey) {
        if (!series.touched) {
          series.removed = true;
          this.byKey.delete(key);
        } else {
          series.active = false;
        }
      }
      if (this.overflowSeries && !this.overflowSeries.touched) this.overflowSeries = undefined;
      this.activeCount = 0;
    }
    for (const series of this.all()) series.touched = false;
  }

  private activate(series: Series<A>, timeUnixNano: bigint): Series<A> {
    if (series.active) return series;
    if (this.activeCount >= this.limit - 1) return this.overflow(timeUnixNano);
    series.active = true;
    this.activeCount++;
    return series;
  }

  private overflow(timeUnixNano: bigint): Series<A> {
    if (this.overflowSeries === undefined) {
      this.overflowSeries = new Series([...OVERFLOW_ATTRIBUTES], this.createAccumulation(timeUnixNano));
    }
    return this.overflowSeries;
  }
}
