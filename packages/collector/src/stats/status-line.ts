import { SIGNALS } from '../config/config.js';
import type { Exporters } from '../export/exporters.js';
import { RING_NAMES, type FileInfo, type ReaderStats } from '../file/native-reader.js';
import { DROP_REASONS } from '../metrics/drop-reason.js';
import type { Pipeline } from '../pipeline/pipeline.js';

/** A snapshot of everything the status line reports. */
export interface StatusSnapshot {
  readonly at: number;
  readonly messages: readonly [number, number, number];
}

/** Per-ring counters of the binding's Reader (`Reader.stats()`), whatever fields it has. */
export type RingCounters = Readonly<Record<string, readonly number[]>>;

/**
 * One status line of `key=value` fields: read rates since the previous
 * snapshot and messages read so far per ring, ring lag (writer_index -
 * reader_index), open spans, queued, exported and dropped items per signal,
 * and the loss counters.
 *
 * Every record of the file that is not exported is counted under a named
 * reason here, per ring: `<reason>_<ring>` fields (`undecodable_events`,
 * `corrupt_spans`, ...) and `measurements_<reason>` fields appear once they
 * are non-zero; the totals (`undecodable`, `corrupt`, ...) are always there.
 * The ring-level reasons are every counter of `Reader.stats()` but `read`.
 */
export function statusLine(
  label: string,
  pipeline: Pipeline,
  exporters: Exporters,
  info: FileInfo | undefined,
  readerStats: ReaderStats | RingCounters | undefined,
  previous: StatusSnapshot,
): { line: string; snapshot: StatusSnapshot } {
  const now = Date.now();
  const seconds = Math.max(0.001, (now - previous.at) / 1000);
  const m = pipeline.read.messages;
  const fields: string[] = [label];
  for (const [i, ring] of RING_NAMES.entries()) fields.push(`${ring}_per_s=${Math.round((m[i] - previous.messages[i]) / seconds)}`);
  for (const [i, ring] of RING_NAMES.entries()) fields.push(`read_${ring}=${m[i]}`);
  if (info) for (const ring of RING_NAMES) fields.push(`lag_${ring}=${info[ring].writerIndex - info[ring].readerIndex}`);
  fields.push(`open_spans=${pipeline.spans.openCount}`);
  for (const s of SIGNALS) fields.push(`queued_${s}=${exporters.queues[s].pendingItems}`);
  for (const s of SIGNALS) fields.push(`exported_${s}=${exporters.queues[s].counters.exported}`);
  for (const s of SIGNALS) fields.push(`dropped_${s}=${exporters.queues[s].counters.dropped}`);
  for (const s of SIGNALS) nonZero(fields, `rejected_${s}`, exporters.queues[s].counters.rejected);
  fields.push(`retries=${SIGNALS.reduce((n, s) => n + exporters.queues[s].counters.retries, 0)}`);
  fields.push(`incomplete_spans=${pipeline.spans.counters.incomplete}`);
  fields.push(`evicted_spans=${pipeline.spans.counters.evicted}`);
  nonZero(fields, 'replaced_spans', pipeline.spans.counters.replaced);
  fields.push(`unknown_span_updates=${pipeline.spans.counters.unknownSpan}`);
  nonZero(fields, 'invalid_spans', pipeline.spans.counters.invalid);
  fields.push(`orphan_span_events=${pipeline.events.orphanSpanEvents}`);
  fields.push(`unresolved=${pipeline.spans.counters.unresolved + pipeline.events.unresolved + pipeline.read.unresolvedScopes}`);
  perRing(fields, 'undecodable', pipeline.read.undecodable, true);
  perRing(fields, 'failed', pipeline.read.failed, false);
  perRing(fields, 'abandoned', pipeline.read.abandoned, false);
  const measurements = pipeline.measurementCounts();
  nonZero(fields, 'measurements_aggregated', measurements.recorded);
  const reasons = new Set([...DROP_REASONS, ...Object.keys(measurements.dropped)]);
  for (const reason of reasons) nonZero(fields, `measurements_${snakeCase(reason)}`, measurements.dropped[reason] ?? 0);
  if (readerStats) {
    for (const [key, perRingCounts] of Object.entries(readerStats)) {
      if (key !== 'read' && Array.isArray(perRingCounts)) perRing(fields, snakeCase(key), perRingCounts as readonly number[], true);
    }
  }
  fields.push(`resets=${pipeline.read.resets}`);
  fields.push(`truncations=${pipeline.read.truncations}`);
  fields.push(`lost_truncated=${pipeline.read.lostOnTruncation}`);
  fields.push(`rss_mb=${Math.round(process.memoryUsage.rss() / 1048576)}`);
  return { line: fields.join(' '), snapshot: { at: now, messages: [m[0], m[1], m[2]] } };
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

/** `name=total` (always, with `total`) and `name_<ring>=n` for each ring with a non-zero count. */
function perRing(fields: string[], name: string, counts: readonly number[], total: boolean): void {
  if (total) fields.push(`${name}=${counts.reduce((a, b) => a + Number(b), 0)}`);
  for (const [i, ring] of RING_NAMES.entries()) nonZero(fields, `${name}_${ring}`, Number(counts[i] ?? 0));
}

function nonZero(fields: string[], key: string, value: number): void {
  if (value !== 0) fields.push(`${key}=${value}`);
}

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
