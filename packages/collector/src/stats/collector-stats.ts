import { SIGNALS, type Signal } from '../config/config.js';
import type { Exporters } from '../export/exporters.js';
import type { FileInfo, ReaderStats } from '../file/native-reader.js';
import type { MeasurementCounts } from '../pipeline/pipeline.js';
import type { Pipeline } from '../pipeline/pipeline.js';

/** Per-ring counters of the binding's Reader (`Reader.stats()`), whatever fields it has. */
export type RingCounters = Readonly<Record<string, readonly number[]>>;

/** Three numbers, one per ring, in file order: events, spans, measurements. */
export type PerRing = readonly [number, number, number];

/** What one signal's export queue did (see `ExportQueue.counters`). */
export interface ExportStats {
  /** Items queued or in flight (retries and their backoff included). */
  readonly queued: number;
  readonly exported: number;
  readonly dropped: number;
  readonly rejected: number;
  readonly retries: number;
  /** `dropped` by cause (`error.type`). */
  readonly droppedBy: Readonly<Record<string, number>>;
  /** `retries` by the cause of the attempt retried. */
  readonly retriedBy: Readonly<Record<string, number>>;
}

/**
 * Every number the collector reports about itself, taken at one moment: the
 * one source of both the status line (`stats/status-line.ts`) and the
 * collector's own metrics (`telemetry/self-metrics.ts`).
 */
export interface CollectorStats {
  /** When it was taken (epoch ms). */
  readonly at: number;
  /** Messages read per ring. */
  readonly read: PerRing;
  /** `writer_index - reader_index` per ring; undefined when no file is mapped (or its headers are gone). */
  readonly lag: PerRing | undefined;
  readonly openSpans: number;
  readonly export: Readonly<Record<Signal, ExportStats>>;
  /** Spans exported without their EndSpan (age, count cap, shutdown, file change). */
  readonly incompleteSpans: number;
  /** Of those, the ones evicted by the age or count cap. */
  readonly evictedSpans: number;
  /** Open spans whose ids a new StartSpan took (exported, marked incomplete). */
  readonly replacedSpans: number;
  /** Span events over the per-span cap (counted in their span's droppedEventsCount, not exported). */
  readonly spanEventsOverCap: number;
  /** Span updates for a span that is not open (ignored). */
  readonly unknownSpanUpdates: number;
  /** Span messages without valid ids or without an event (ignored). */
  readonly invalidSpans: number;
  /** Span events for a span not open, exported as log records. */
  readonly orphanSpanEvents: number;
  /** References left out because they did not resolve (the record was exported). */
  readonly unresolved: number;
  /** Messages that did not decode, per ring. */
  readonly undecodable: PerRing;
  /** Records lost to an unexpected error, per ring. */
  readonly failed: PerRing;
  /** Messages left unread in a replaced file, per ring. */
  readonly abandoned: PerRing;
  readonly measurements: MeasurementCounts;
  /** The reader's own per-ring counters (`skippedUncommitted`, `corrupt`, `resyncs`, ...), `read` and `lap32Committed` excluded; all files summed. */
  readonly ringCounters: RingCounters;
  /**
   * Messages read (included in `read`) from slots committed with the lap of a
   * writer that truncates the index to 32 bits (FORMAT.md 7.9), per ring: not a loss.
   */
  readonly lap32Committed: PerRing;
  readonly resets: number;
  readonly truncations: number;
  readonly lostOnTruncation: number;
  /** Resident set size of the process, bytes. */
  readonly rssBytes: number;
}

/** The reader counter of messages read from slots with a 32-bit lap: counted apart, not among the losses. */
const LAP32_COMMITTED = 'lap32Committed';

/**
 * Takes the numbers of a running (or finished) collector. `info` gives the
 * ring lag (leave it out for a file whose ring headers may be gone),
 * `readerStats` the reader's counters (of all files read so far).
 */
export function collectStats(
  pipeline: Pipeline,
  exporters: Exporters,
  info: FileInfo | undefined,
  readerStats: ReaderStats | RingCounters | undefined,
  at = Date.now(),
): CollectorStats {
  const exportStats = {} as Record<Signal, ExportStats>;
  for (const signal of SIGNALS) {
    const queue = exporters.queues[signal];
    const c = queue.counters;
    exportStats[signal] = {
      queued: queue.pendingItems,
      exported: c.exported,
      dropped: c.dropped,
      rejected: c.rejected,
      retries: c.retries,
      droppedBy: { ...c.droppedBy },
      retriedBy: { ...c.retriedBy },
    };
  }
  const ringCounters: Record<string, number[]> = {};
  let lap32Committed: PerRing = [0, 0, 0];
  if (readerStats) {
    for (const [key, counts] of Object.entries(readerStats)) {
      if (!Array.isArray(counts)) continue;
      const numbers = (counts as readonly unknown[]).map(Number);
      if (key === LAP32_COMMITTED) lap32Committed = copy(numbers);
      else if (key !== 'read') ringCounters[key] = numbers;
    }
  }
  const spans = pipeline.spans.counters;
  return {
    at,
    read: copy(pipeline.read.messages),
    lag: info ? [lagOf(info.events), lagOf(info.spans), lagOf(info.measurements)] : undefined,
    openSpans: pipeline.spans.openCount,
    export: exportStats,
    incompleteSpans: spans.incomplete,
    evictedSpans: spans.evicted,
    replacedSpans: spans.replaced,
    spanEventsOverCap: spans.eventsOverCap,
    unknownSpanUpdates: spans.unknownSpan,
    invalidSpans: spans.invalid,
    orphanSpanEvents: pipeline.events.orphanSpanEvents,
    unresolved: spans.unresolved + pipeline.events.unresolved + pipeline.read.unresolvedScopes,
    undecodable: copy(pipeline.read.undecodable),
    failed: copy(pipeline.read.failed),
    abandoned: copy(pipeline.read.abandoned),
    measurements: pipeline.measurementCounts(),
    ringCounters,
    lap32Committed,
    resets: pipeline.read.resets,
    truncations: pipeline.read.truncations,
    lostOnTruncation: pipeline.read.lostOnTruncation,
    rssBytes: process.memoryUsage.rss(),
  };
}

function lagOf(ring: { writerIndex: number; readerIndex: number }): number {
  return ring.writerIndex - ring.readerIndex;
}

function copy(counts: readonly number[]): PerRing {
  return [counts[0] ?? 0, counts[1] ?? 0, counts[2] ?? 0];
}

/** Adds per-ring counters (of a reader that was closed) to a running total. */
export function addRingCounters(total: RingCounters | undefined, more: ReaderStats | RingCounters | undefined): RingCounters | undefined {
  if (more === undefined) return total;
  const sum: Record<string, number[]> = {};
  for (const source of [total, more]) {
    if (source === undefined) continue;
    for (const [key, counts] of Object.entries(source)) {
      if (!Array.isArray(counts)) continue;
      sum[key] ??= [0, 0, 0];
      const into = sum[key];
      for (const [i, n] of (counts as readonly number[]).entries()) into[i] = (into[i] ?? 0) + Number(n);
    }
  }
  return sum;
}
