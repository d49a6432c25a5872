import type { otlpCommon } from '@otlp-mmap/protocol';
import { SIGNALS, type Signal, type SignalTarget } from '../config/config.js';
import { RING_NAMES } from '../file/native-reader.js';
import type { CollectorStats, PerRing } from '../stats/collector-stats.js';
import { snakeCase } from '../stats/status-line.js';
import { int, string } from './resource.js';

/**
 * The collector's own metrics: every number of the status line (but the
 * per-second read rates, which a counter's rate gives), from the same
 * {@link CollectorStats}. Names follow the OpenTelemetry semantic
 * conventions where they have one (v1.45.0: the SDK exporter metrics
 * `otel.sdk.exporter.*` and `process.memory.usage`), and the collector's
 * own namespace `otlp_mmap.collector.*` elsewhere; the README's table maps
 * each status-line field to its metric.
 */

/** How a metric adds up: a monotonic counter, or an up-down counter (a level such as a queue's size). */
export type SelfMetricKind = 'counter' | 'updowncounter';

/** One value of a metric, with its attributes. */
export interface SelfMetricPoint {
  readonly attributes: readonly otlpCommon.KeyValue[];
  readonly value: number;
}

/** One metric of the collector, before it becomes OTLP (see `self-telemetry.ts`). */
export interface SelfMetric {
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  readonly kind: SelfMetricKind;
  readonly points: readonly SelfMetricPoint[];
}

/** The attribute naming the ring a count is about: `events`, `spans` or `measurements`. */
export const RING_ATTRIBUTE = 'otlp_mmap.ring';

/** Per signal: the item the semantic conventions count, its unit, and the word in `otel.component.type`. */
const ITEMS: Readonly<Record<Signal, { readonly metric: string; readonly unit: string; readonly component: string }>> = {
  traces: { metric: 'span', unit: '{span}', component: 'span' },
  logs: { metric: 'log', unit: '{log_record}', component: 'log' },
  metrics: { metric: 'metric_data_point', unit: '{data_point}', component: 'metric' },
};

/**
 * `otel.component.type` and `otel.component.name` of a signal's exporter,
 * with `server.address` and `server.port` for an OTLP endpoint. The types
 * are the conventions' well-known values (`otlp_grpc_span_exporter`,
 * `otlp_http_log_exporter`, `otlp_http_json_metric_exporter`, ...); the
 * JSON-lines output, which has none, is `otlp_json_lines_<item>_exporter`.
 * Each signal has one exporter, hence the instance counter 0.
 */
export function exporterAttributes(signal: Signal, target: SignalTarget): otlpCommon.KeyValue[] {
  const item = ITEMS[signal].component;
  let type: string;
  if (target.kind === 'json-lines') type = `otlp_json_lines_${item}_exporter`;
  else if (target.protocol === 'grpc') type = `otlp_grpc_${item}_exporter`;
  else if (target.protocol === 'http/json') type = `otlp_http_json_${item}_exporter`;
  else type = `otlp_http_${item}_exporter`;
  const attributes = [string('otel.component.type', type), string('otel.component.name', `${type}/0`)];
  if (target.kind === 'otlp') {
    const url = new URL(target.url);
    attributes.push(string('server.address', url.hostname.replace(/^\[(.*)\]$/, '$1')));
    attributes.push(int('server.port', Number(url.port || (url.protocol === 'https:' ? 443 : 80))));
  }
  return attributes;
}

/** The collector's metrics of one moment, from its stats and the targets its exporters send to. */
export function selfMetrics(stats: CollectorStats, targets: Readonly<Record<Signal, SignalTarget>>): SelfMetric[] {
  const metrics: SelfMetric[] = [];
  const add = (name: string, kind: SelfMetricKind, unit: string, description: string, points: SelfMetricPoint[]): void => {
    if (points.length > 0) metrics.push({ name, kind, unit, description, points });
  };
  const single = (value: number): SelfMetricPoint[] => [{ attributes: [], value }];

  // The export side, per signal: the semantic conventions' SDK exporter metrics.
  const retries: SelfMetricPoint[] = [];
  for (const signal of SIGNALS) {
    const s = stats.export[signal];
    const item = ITEMS[signal];
    const component = exporterAttributes(signal, targets[signal]);
    const exported: SelfMetricPoint[] = [{ attributes: component, value: s.exported }];
    if (s.rejected > 0) exported.push({ attributes: [...component, string('error.type', 'rejected')], value: s.rejected });
    for (const [cause, n] of Object.entries(s.droppedBy)) if (n > 0) exported.push({ attributes: [...component, string('error.type', cause)], value: n });
    add(
      `otel.sdk.exporter.${item.metric}.exported`,
      'counter',
      item.unit,
      `Items whose export finished: without error.type delivered, with error.type given up (rejected, or the cause of the last attempt)`,
      exported,
    );
    add(
      `otel.sdk.exporter.${item.metric}.inflight`,
      'updowncounter',
      item.unit,
      'Items queued for export or being exported (retries and their backoff included)',
      [{ attributes: component, value: s.queued }],
    );
    for (const [cause, n] of Object.entries(s.retriedBy)) if (n > 0) retries.push({ attributes: [...component, string('error.type', cause)], value: n });
  }
  add('otlp_mmap.collector.exporter.retries', 'counter', '{attempt}', 'Export attempts that failed and were retried, by the cause of the failure', retries);

  // The file side, per ring.
  add('otlp_mmap.collector.ring.read', 'counter', '{message}', 'Messages read from the rings of the file', perRing(stats.read, false));
  if (stats.lag)
    add(
      'otlp_mmap.collector.ring.lag',
      'updowncounter',
      '{message}',
      'Messages written and not read yet (writer_index - reader_index)',
      perRing(stats.lag, false),
    );
  const dropped: SelfMetricPoint[] = [];
  const drop = (reason: string, counts: readonly number[]): void => {
    counts.forEach((n, ring) => {
      if (n > 0) dropped.push({ attributes: [string(RING_ATTRIBUTE, RING_NAMES[ring]), string('error.type', reason)], value: n });
    });
  };
  drop('undecodable', stats.undecodable);
  drop('failed', stats.failed);
  drop('abandoned', stats.abandoned);
  const resyncs = stats.ringCounters.resyncs;
  for (const [key, counts] of Object.entries(stats.ringCounters)) if (key !== 'resyncs') drop(snakeCase(key), counts);
  drop('invalid_span', [0, stats.invalidSpans, 0]);
  drop('unknown_span_update', [0, stats.unknownSpanUpdates, 0]);
  for (const [reason, n] of Object.entries(stats.measurements.dropped)) drop(snakeCase(reason), [0, 0, n]);
  add('otlp_mmap.collector.ring.dropped', 'counter', '{message}', 'Messages of the file that were not exported, by reason (error.type)', dropped);
  if (stats.lap32Committed.some((n) => n > 0))
    add(
      'otlp_mmap.collector.ring.lap32_committed',
      'counter',
      '{message}',
      'Messages read from slots a writer committed with the lap of a 32-bit index (FORMAT.md 7.9); included in ring.read',
      perRing(stats.lap32Committed, true),
    );
  if (resyncs) add('otlp_mmap.collector.ring.resyncs', 'counter', '{resync}', 'Impossible ring indexes found and corrected', perRing(resyncs, true));

  add('otlp_mmap.collector.span.open', 'updowncounter', '{span}', 'Spans started and not exported yet', single(stats.openSpans));
  add(
    'otlp_mmap.collector.span.incomplete',
    'counter',
    '{span}',
    'Spans exported without their end (age or count cap, shutdown, file change)',
    single(stats.incompleteSpans),
  );
  add(
    'otlp_mmap.collector.span.evicted',
    'counter',
    '{span}',
    'Open spans exported incomplete because of --span-max-age or --max-active-spans',
    single(stats.evictedSpans),
  );
  add('otlp_mmap.collector.span.replaced', 'counter', '{span}', 'Open spans whose ids a new StartSpan took (exported incomplete)', single(stats.replacedSpans));
  add(
    'otlp_mmap.collector.span_event.orphaned',
    'counter',
    '{event}',
    'Span events for a span not open, exported as log records',
    single(stats.orphanSpanEvents),
  );
  add(
    'otlp_mmap.collector.reference.unresolved',
    'counter',
    '{reference}',
    'References to the dictionary that did not resolve (left out of an exported record)',
    single(stats.unresolved),
  );
  add(
    'otlp_mmap.collector.measurement.aggregated',
    'counter',
    '{measurement}',
    'Measurements aggregated into the exported metrics',
    single(stats.measurements.recorded),
  );
  add('otlp_mmap.collector.file.resets', 'counter', '{reset}', 'Files re-initialised or replaced by a new writer', single(stats.resets));
  add(
    'otlp_mmap.collector.file.truncations',
    'counter',
    '{truncation}',
    'Times the file was cut shorter by another program while being read',
    single(stats.truncations),
  );
  add('otlp_mmap.collector.file.truncation_lost', 'counter', '{message}', 'Messages known lost to truncations of the file', single(stats.lostOnTruncation));
  add('process.memory.usage', 'updowncounter', 'By', 'The amount of physical memory in use (RSS)', single(stats.rssBytes));
  return metrics;
}

/** One point per ring (only the non-zero ones with `nonZeroOnly`). */
function perRing(counts: PerRing | readonly number[], nonZeroOnly: boolean): SelfMetricPoint[] {
  const points: SelfMetricPoint[] = [];
  RING_NAMES.forEach((ring, i) => {
    const value = Number(counts[i] ?? 0);
    if (!nonZeroOnly || value > 0) points.push({ attributes: [string(RING_ATTRIBUTE, ring)], value });
  });
  return points;
}
