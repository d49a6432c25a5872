import { SIGNALS } from '../config/config.js';
import type { Exporters } from '../export/exporters.js';
import type { FileInfo, ReaderStats } from '../file/native-reader.js';
import type { Pipeline } from '../pipeline/pipeline.js';

/** A snapshot of everything the status line reports. */
export interface StatusSnapshot {
  readonly at: number;
  readonly messages: readonly [number, number, number];
}

const RINGS = ['events', 'spans', 'measurements'] as const;

/**
 * One status line of `key=value` fields: read rates since the previous
 * snapshot, ring lag (writer_index - reader_index), open spans, queued,
 * exported and dropped items per signal, and the loss counters.
 */
export function statusLine(
  label: string,
  pipeline: Pipeline,
  exporters: Exporters,
  info: FileInfo | undefined,
  readerStats: ReaderStats | undefined,
  previous: StatusSnapshot,
): { line: string; snapshot: StatusSnapshot } {
  const now = Date.now();
  const seconds = Math.max(0.001, (now - previous.at) / 1000);
  const m = pipeline.read.messages;
  const fields: string[] = [label];
  RINGS.forEach((ring, i) => fields.push(`${ring}_per_s=${Math.round((m[i] - previous.messages[i]) / seconds)}`));
  if (info) RINGS.forEach((ring) => fields.push(`lag_${ring}=${info[ring].writerIndex - info[ring].readerIndex}`));
  fields.push(`open_spans=${pipeline.spans.openCount}`);
  for (const s of SIGNALS) fields.push(`queued_${s}=${exporters.queues[s].pendingItems}`);
  for (const s of SIGNALS) fields.push(`exported_${s}=${exporters.queues[s].counters.exported}`);
  for (const s of SIGNALS) fields.push(`dropped_${s}=${exporters.queues[s].counters.dropped}`);
  fields.push(`retries=${SIGNALS.reduce((n, s) => n + exporters.queues[s].counters.retries, 0)}`);
  fields.push(`incomplete_spans=${pipeline.spans.counters.incomplete}`);
  fields.push(`evicted_spans=${pipeline.spans.counters.evicted}`);
  fields.push(`unknown_span_updates=${pipeline.spans.counters.unknownSpan}`);
  fields.push(`orphan_span_events=${pipeline.events.orphanSpanEvents}`);
  fields.push(`unresolved=${pipeline.spans.counters.unresolved + pipeline.events.unresolved + pipeline.read.unresolvedScopes}`);
  fields.push(`undecodable=${pipeline.read.undecodable.reduce((a, b) => a + b, 0)}`);
  if (readerStats) {
    fields.push(`skipped_uncommitted=${readerStats.skippedUncommitted.reduce((a, b) => a + b, 0)}`);
    fields.push(`corrupt=${readerStats.corrupt.reduce((a, b) => a + b, 0)}`);
    fields.push(`resyncs=${readerStats.resyncs.reduce((a, b) => a + b, 0)}`);
    fields.push(`resync_skipped=${readerStats.resyncSkipped.reduce((a, b) => a + b, 0)}`);
  }
  fields.push(`resets=${pipeline.read.resets}`);
  fields.push(`rss_mb=${Math.round(process.memoryUsage.rss() / 1048576)}`);
  return { line: fields.join(' '), snapshot: { at: now, messages: [m[0], m[1], m[2]] } };
}
