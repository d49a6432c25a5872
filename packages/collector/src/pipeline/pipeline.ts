import {
  EncodedMeasurementDecoder,
  EventDecoder,
  MeasurementDecoder,
  type EncodedMeasurement,
  type otlpMetricsService,
  type Event,
  type Measurement,
  type otlpMetrics,
} from '@otlp-mmap/protocol';
import type { CollectorConfig, Signal } from '../config/config.js';
import type { DictionaryView } from '../dictionary/dictionary-view.js';
import { decodeBatch } from '../file/messages.js';
import { RING_EVENTS, RING_MEASUREMENTS, RING_SPANS, type MmapReader, type RingId } from '../file/native-reader.js';
import { isSpanEvent, toLogRecord, toSpanEvent, type EventCounters, type ScopedLogRecord } from '../logs/events.js';
import { dataPoints } from '../otlp/data-points.js';
import { logsRequest, traceRequest } from '../otlp/grouping.js';
import type { ExportRequest } from '../otlp/signals.js';
import { ActiveSpans, DEFAULT_SPAN_LIMITS, type FinishedSpan } from '../spans/active-spans.js';
import { applySpanBatch } from '../spans/span-batch.js';
import { newReadCounters, type ReadCounters } from '../stats/counters.js';
import { Batcher } from './batcher.js';

/** Metric aggregation as the pipeline uses it (implemented in `metrics/`). */
export interface MetricsSink {
  record(measurement: Measurement, dictionary: DictionaryView): void;
  /**
   * Optional fast path: a measurement with its attributes left encoded in
   * `input` (see `MetricsAggregator.recordEncoded`). Without it the pipeline
   * decodes attributes and calls {@link record}.
   */
  recordEncoded?(measurement: EncodedMeasurement, input: Uint8Array, dictionary: DictionaryView): void;
  collect(nowUnixNano: bigint): otlpMetrics.ResourceMetrics[];
  /**
   * Optional counters for the status line: measurements aggregated, and
   * those dropped by reason (`MetricsAggregator.stats` gives them).
   */
  stats?(): MeasurementCounts;
}

/** What a {@link MetricsSink} did with the measurements it was given. */
export interface MeasurementCounts {
  /** Measurements aggregated. */
  readonly recorded: number;
  /** Measurements dropped, by reason (camelCase names). */
  readonly dropped: Readonly<Record<string, number>>;
}

/** Where finished batches go: one export queue per signal. */
export interface SignalSinks {
  /** Whether the signal's queue has room (reading stops while it does not). */
  hasRoom(signal: Signal): boolean;
  /** Queues a request holding `items` items. */
  submit(signal: Signal, request: ExportRequest, items: number): void;
  /**
   * Optional: items per request that keep its encoding under the
   * destination's byte cap, by the sizes seen so far (Infinity before any).
   */
  batchLimit?(signal: Signal): number;
}

/** What one {@link Pipeline.poll} did. */
export interface PollResult {
  /** Messages read from all rings. */
  readonly read: number;
  /** Whether some ring returned a full batch (more is probably waiting). */
  readonly more: boolean;
}

/** Events kept back while the spans ring lags, waiting for their span to start. */
const MAX_DEFERRED_EVENTS = 10_000;

function nowUnixNano(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/**
 * Turns the messages of one file into export batches: spans ring ->
 * {@link ActiveSpans}; events ring -> span events or log records;
 * measurements ring -> the metrics sink. Each poll reads the events ring
 * before the spans ring, so every span event written before an EndSpan is
 * read no later than the cycle after that EndSpan (see ActiveSpans.release).
 */
export class Pipeline {
  readonly read: ReadCounters = newReadCounters();
  /** Counts of the metrics sinks of earlier files (see {@link measurementCounts}). */
  private retiredMeasurements: { recorded: number; dropped: Record<string, number> } = { recorded: 0, dropped: {} };
  readonly events: EventCounters = { spanEvents: 0, logRecords: 0, orphanSpanEvents: 0, unresolved: 0 };
  readonly spans: ActiveSpans;
  private readonly spanBatcher: Batcher<FinishedSpan>;
  private readonly logBatcher: Batcher<ScopedLogRecord>;
  private deferred: Event[] = [];
  /** The reader {@link fullAbove} was learnt from. */
  private boundsOf: MmapReader | undefined;
  /** Per ring: a batch longer than this may have stopped at the byte bound (see learnBounds). */
  private fullAbove: [number, number, number] = [0, 0, 0];
  private lastGc = Date.now();
  /**
   * The clock of the span table, read once per poll (and housekeeping or
   * flush) instead of twice per span: its limits are in seconds.
   */
  private clock = Date.now();

  /**
   * @param report told of every unexpected error that cost records (a bug);
   *   those records are counted in `read.failed` either way.
   */
  constructor(
    private readonly config: CollectorConfig,
    private dictionary: DictionaryView,
    private metrics: MetricsSink,
    private readonly sinks: SignalSinks,
    private readonly report: (what: string, error: unknown) => void = () => {},
  ) {
    this.spans = new ActiveSpans(dictionary, { ...DEFAULT_SPAN_LIMITS, maxAgeMs: config.spanMaxAgeMs, maxActive: config.maxActiveSpans }, () => this.clock);
    this.spanBatcher = new Batcher(config.batchSize, config.batchTimeoutMs, (batch) => this.shipSpans(batch));
    this.logBatcher = new Batcher(config.batchSize, config.batchTimeoutMs, (batch) => this.shipLogs(batch));
  }

  /** Switches to a new file (after re-initialisation). Call {@link flushAll} first. */
  useFile(dictionary: DictionaryView, metrics: MetricsSink): void {
    this.retiredMeasurements = addCounts(this.retiredMeasurements, this.metrics.stats?.());
    this.dictionary = dictionary;
    this.metrics = metrics;
    this.spans.useDictionary(dictionary);
  }

  /** Reads what the rings hold now (within the read batch and backpressure) and processes it. */
  poll(reader: MmapReader): PollResult {
    this.clock = Date.now();
    const max = this.config.readBatch;
    const bytes = this.config.readBytes;
    if (reader !== this.boundsOf) this.learnBounds(reader);
    const full = this.fullAbove;
    if (this.sinks.batchLimit !== undefined) {
      this.spanBatcher.limit(this.sinks.batchLimit('traces'));
      this.logBatcher.limit(this.sinks.batchLimit('logs'));
    }
    let read = 0;
    let more = false;
    if (this.sinks.hasRoom('traces') && this.sinks.hasRoom('logs')) {
      const events: Event[] = [];
      const eventBatch = reader.read(RING_EVENTS, max, bytes);
      const eventCount = decodeBatch(
        eventBatch,
        EventDecoder,
        (e) => events.push(e),
        () => this.read.undecodable[RING_EVENTS]++,
      );
      let spanBatch: Uint8Array;
      try {
        spanBatch = reader.read(RING_SPANS, max, bytes);
      } catch (error) {
        // The file was cut (or closed) under the reader: the events already read are sound, keep them.
        this.read.messages[RING_EVENTS] += eventCount;
        this.processEvents(events, true);
        throw error;
      }
      const spanCount = applySpanBatch(
        spanBatch,
        this.spans,
        () => this.read.undecodable[RING_SPANS]++,
        (error) => this.fail(RING_SPANS, 1, 'applying a span message', error),
      );
      this.read.messages[RING_EVENTS] += eventCount;
      this.read.messages[RING_SPANS] += spanCount;
      read += eventCount + spanCount;
      const eventsFull = eventCount >= max || eventBatch.length > full[RING_EVENTS];
      const spansFull = spanCount >= max || spanBatch.length > full[RING_SPANS];
      this.processEvents(events, !spansFull);
      this.spanBatcher.addAll(this.spans.takeEvicted());
      this.spanBatcher.addAll(this.spans.release(!eventsFull));
      more ||= eventsFull || spansFull;
    }
    const batch = reader.read(RING_MEASUREMENTS, max, bytes);
    const onBad = () => this.read.undecodable[RING_MEASUREMENTS]++;
    // With a sink that takes them, attributes stay encoded: a repeated attribute list is found by its bytes.
    const measurementCount =
      this.metrics.recordEncoded !== undefined
        ? decodeBatch(batch, EncodedMeasurementDecoder, (m, input) => this.recordEncoded(m, input), onBad)
        : decodeBatch(batch, MeasurementDecoder, (m) => this.record(m), onBad);
    this.read.messages[RING_MEASUREMENTS] += measurementCount;
    read += measurementCount;
    more ||= measurementCount >= max || batch.length > full[RING_MEASUREMENTS];
    this.housekeeping();
    return { read, more };
  }

  /**
   * A read stops at `--read-bytes` only when the next message would not
   * fit, and a message takes at most a slot: a batch no longer than the
   * bound minus the ring's slot size did not stop there (the ring was read
   * to its end, or to the message bound).
   */
  private learnBounds(reader: MmapReader): void {
    const info = reader.info();
    const bytes = this.config.readBytes;
    this.fullAbove = [bytes - info.events.bufferSize, bytes - info.spans.bufferSize, bytes - info.measurements.bufferSize];
    this.boundsOf = reader;
  }

  /** Ships partial batches that waited long enough and evicts spans past their age. */
  housekeeping(): void {
    const now = Date.now();
    this.clock = now;
    if (now - this.lastGc >= Math.min(1000, this.config.spanMaxAgeMs)) {
      this.lastGc = now;
      this.spanBatcher.addAll(this.spans.collectGarbage());
    }
    this.spanBatcher.addAll(this.spans.releaseExpired());
    this.spanBatcher.poll();
    this.logBatcher.poll();
  }

  /**
   * Ships everything held: deferred events as log records, ended spans,
   * and (with `openSpans`) open spans marked incomplete.
   */
  flushAll(openSpans: boolean): void {
    this.clock = Date.now();
    this.processEvents([], true);
    if (openSpans) this.spanBatcher.addAll(this.spans.takeAll());
    else this.spanBatcher.addAll(this.spans.releaseAll());
    this.spanBatcher.flush();
    this.logBatcher.flush();
  }

  /** Measurements aggregated and dropped (by reason) since the pipeline started, over every file. */
  measurementCounts(): MeasurementCounts {
    return addCounts(this.retiredMeasurements, this.metrics.stats?.());
  }

  /** Collects the metrics aggregation and queues the result; returns the data points queued. */
  collectMetrics(): number {
    const resourceMetrics = this.metrics.collect(nowUnixNano());
    let points = 0;
    for (const rm of resourceMetrics) for (const sm of rm.scopeMetrics) for (const m of sm.metrics) points += dataPoints(m);
    if (points === 0) return 0;
    const request: otlpMetricsService.ExportMetricsServiceRequest = { resourceMetrics };
    this.sinks.submit('metrics', request, points);
    return points;
  }

  private record(measurement: Measurement): void {
    try {
      this.metrics.record(measurement, this.dictionary);
    } catch (error) {
      this.fail(RING_MEASUREMENTS, 1, 'recording a measurement', error);
    }
  }

  private recordEncoded(measurement: EncodedMeasurement, input: Uint8Array): void {
    try {
      this.metrics.recordEncoded!(measurement, input, this.dictionary);
    } catch (error) {
      this.fail(RING_MEASUREMENTS, 1, 'recording a measurement', error);
    }
  }

  /** Counts `records` of `ring` lost to an unexpected error, and reports it. */
  private fail(ring: RingId, records: number, what: string, error: unknown): void {
    this.read.failed[ring] += records;
    this.report(what, error);
  }

  private processEvents(events: readonly Event[], spansCaughtUp: boolean): void {
    const pending = this.deferred.length > 0 ? [...this.deferred, ...events] : events;
    this.deferred = [];
    const observed = nowUnixNano();
    for (const event of pending) {
      try {
        this.processEvent(event, spansCaughtUp, observed);
      } catch (error) {
        this.fail(RING_EVENTS, 1, 'converting an event', error);
      }
    }
  }

  private processEvent(event: Event, spansCaughtUp: boolean, observed: bigint): void {
    if (isSpanEvent(event)) {
      const context = event.spanContext!;
      const spanEvent = toSpanEvent(event, this.dictionary, this.events);
      if (this.spans.addEvent(context.traceId, context.spanId, spanEvent)) {
        this.events.spanEvents++;
        return;
      }
      if (!spansCaughtUp && this.deferred.length < MAX_DEFERRED_EVENTS) {
        // Its StartSpan may still be unread in the lagging spans ring.
        this.deferred.push(event);
        return;
      }
      this.events.orphanSpanEvents++;
    }
    const record = toLogRecord(event, this.dictionary, this.events, observed);
    this.logBatcher.add(record);
  }

  private shipSpans(batch: FinishedSpan[]): void {
    let request: ExportRequest;
    try {
      request = traceRequest(batch, this.dictionary, () => this.read.unresolvedScopes++);
    } catch (error) {
      this.fail(RING_SPANS, batch.length, 'grouping spans for export', error);
      return;
    }
    this.sinks.submit('traces', request, batch.length);
  }

  private shipLogs(batch: ScopedLogRecord[]): void {
    let request: ExportRequest;
    try {
      request = logsRequest(batch, this.dictionary, () => this.read.unresolvedScopes++);
    } catch (error) {
      this.fail(RING_EVENTS, batch.length, 'grouping log records for export', error);
      return;
    }
    this.sinks.submit('logs', request, batch.length);
  }
}

function addCounts(total: MeasurementCounts, more: MeasurementCounts | undefined): { recorded: number; dropped: Record<string, number> } {
  const dropped: Record<string, number> = { ...total.dropped };
  if (more !== undefined) for (const [reason, n] of Object.entries(more.dropped)) dropped[reason] = (dropped[reason] ?? 0) + n;
  return { recorded: total.recorded + (more?.recorded ?? 0), dropped };
}
