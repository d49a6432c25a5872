import { SIGNALS } from '../config/config.js';
import { RING_NAMES } from '../file/native-reader.js';
import { DROP_REASONS } from '../metrics/drop-reason.js';
import type { CollectorStats } from './collector-stats.js';

export { addRingCounters, type RingCounters } from './collector-stats.js';

/** What the previous status line saw, for the read rates of the next one. */
export interface StatusSnapshot {
  readonly at: number;
  readonly messages: readonly [number, number, number];
}

/**
 * One status line of `key=value` fields from a {@link CollectorStats}: read
 * rates since the previous snapshot and messages read so far per ring, ring
 * lag (writer_index - reader_index), open spans, queued, exported and
 * dropped items per signal, and the loss counters.
 *
 * Every record of the file that is not exported is counted under a named
 * reason here, per ring: `<reason>_<ring>` fields (`undecodable_events`,
 * `corrupt_spans`, ...) and `measurements_<reason>` fields appear once they
 * are non-zero; the totals (`undecodable`, `corrupt`, ...) are always there.
 * The ring-level reasons are every counter of `Reader.stats()` but `read`
 * and `lap32Committed` (messages read from slots that a writer committed with
 * a 32-bit lap, FORMAT.md 7.9: `lap32_committed`, `lap32_committed_<ring>`
 * once non-zero, included in `read_<ring>`).
 */
export function statusLine(label: string, stats: CollectorStats, previous: StatusSnapshot): { line: string; snapshot: StatusSnapshot } {
  const seconds = Math.max(0.001, (stats.at - previous.at) / 1000);
  const m = stats.read;
  const fields: string[] = [label];
  for (const [i, ring] of RING_NAMES.entries()) fields.push(`${ring}_per_s=${Math.round((m[i] - previous.messages[i]) / seconds)}`);
  for (const [i, ring] of RING_NAMES.entries()) fields.push(`read_${ring}=${m[i]}`);
  // Read from slots with a 32-bit lap (FORMAT.md 7.9), once there are any: not a loss.
  const lap32 = stats.lap32Committed;
  nonZero(fields, 'lap32_committed', lap32[0] + lap32[1] + lap32[2]);
  perRing(fields, 'lap32_committed', lap32, false);
  const lag = stats.lag;
  if (lag) for (const [i, ring] of RING_NAMES.entries()) fields.push(`lag_${ring}=${lag[i]}`);
  fields.push(`open_spans=${stats.openSpans}`);
  for (const s of SIGNALS) fields.push(`queued_${s}=${stats.export[s].queued}`);
  for (const s of SIGNALS) fields.push(`exported_${s}=${stats.export[s].exported}`);
  for (const s of SIGNALS) fields.push(`dropped_${s}=${stats.export[s].dropped}`);
  for (const s of SIGNALS) nonZero(fields, `rejected_${s}`, stats.export[s].rejected);
  fields.push(`retries=${SIGNALS.reduce((n, s) => n + stats.export[s].retries, 0)}`);
  fields.push(`incomplete_spans=${stats.incompleteSpans}`);
  fields.push(`evicted_spans=${stats.evictedSpans}`);
  nonZero(fields, 'replaced_spans', stats.replacedSpans);
  nonZero(fields, 'span_events_over_cap', stats.spanEventsOverCap);
  fields.push(`unknown_span_updates=${stats.unknownSpanUpdates}`);
  nonZero(fields, 'invalid_spans', stats.invalidSpans);
  fields.push(`orphan_span_events=${stats.orphanSpanEvents}`);
  fields.push(`unresolved=${stats.unresolved}`);
  perRing(fields, 'undecodable', stats.undecodable, true);
  perRing(fields, 'failed', stats.failed, false);
  perRing(fields, 'abandoned', stats.abandoned, false);
  const measurements = stats.measurements;
  nonZero(fields, 'measurements_aggregated', measurements.recorded);
  const reasons = new Set([...DROP_REASONS, ...Object.keys(measurements.dropped)]);
  for (const reason of reasons) nonZero(fields, `measurements_${snakeCase(reason)}`, measurements.dropped[reason] ?? 0);
  for (const [key, perRingCounts] of Object.entries(stats.ringCounters)) perRing(fields, snakeCase(key), perRingCounts, true);
  fields.push(`resets=${stats.resets}`);
  fields.push(`truncations=${stats.truncations}`);
  fields.push(`lost_truncated=${stats.lostOnTruncation}`);
  fields.push(`rss_mb=${Math.round(stats.rssBytes / 1048576)}`);
  return { line: fields.join(' '), snapshot: { at: stats.at, messages: [m[0], m[1], m[2]] } };
}

/** `name=total` (always, with `total`) and `name_<ring>=n` for each ring with a non-zero count. */
function perRing(fields: string[], name: string, counts: readonly number[], total: boolean): void {
  if (total) fields.push(`${name}=${counts.reduce((a, b) => a + Number(b), 0)}`);
  for (const [i, ring] of RING_NAMES.entries()) nonZero(fields, `${name}_${ring}`, Number(counts[i] ?? 0));
}

function nonZero(fields: string[], key: string, value: number): void {
  if (value !== 0) fields.push(`${key}=${value}`);
}

/** `skippedUncommitted` -> `skipped_uncommitted`: the status line's spelling of a counter name. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
