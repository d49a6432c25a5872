/**
 * The collector's accounting rule, as tests check it: every record of a file is exported, or counted
 * under a named reason in the status line (`--stats`, the final line, `dump`'s summary). This module
 * counts what was exported (from a receiver or from OTLP JSON lines) and what the status line says was
 * lost, per ring.
 */
import type { otlpMetrics, otlpTrace } from '@otlp-mmap/protocol';
import type { OtlpReceiver } from './otlp-receiver.js';

export const RINGS = ['events', 'spans', 'measurements'] as const;
export type RingName = (typeof RINGS)[number];

/** The attribute the collector puts on a span exported without its EndSpan. */
const INCOMPLETE = 'otlp_mmap.span.incomplete';

/** One exported span, as far as the accounting needs it. */
export interface ExportedSpan {
  readonly name: string;
  /** Exported with its EndSpan (not marked incomplete). */
  readonly ended: boolean;
  /**
   * Span events on it, those over the per-span cap (droppedEventsCount)
   * included: for files whose writer reports no dropped events of its own
   * (the EndSpan's extension field), which droppedEventsCount would hold too.
   */
  readonly events: number;
  /** Span events exported on it. */
  readonly exportedEvents: number;
}

/** What reached the destination. */
export interface ExportTally {
  readonly logRecords: number;
  readonly spans: ExportedSpan[];
  /** Measurements aggregated into what was exported: Sum values (each measurement counted 1) and histogram counts. */
  readonly measurements: number;
}

/**
 * The tally of what a receiver got (metrics with DELTA temporality: every
 * point counts). The collector's own metrics (its own resource) are not
 * records of the file and are left out.
 */
export function tallyReceiver(receiver: OtlpReceiver): ExportTally {
  const spans = receiver.spans().map((s) => exportedSpan(s.span));
  let measurements = 0;
  for (const { metric, resource } of receiver.metricsReceived()) {
    if (resource['service.name'] !== 'otlp-mmap-collector') measurements += measurementsIn(metric);
  }
  return { logRecords: receiver.logRecords().length, spans, measurements };
}

function exportedSpan(span: otlpTrace.Span): ExportedSpan {
  return {
    name: span.name,
    ended: !span.attributes.some((a) => a.key === INCOMPLETE),
    events: span.events.length + span.droppedEventsCount,
    exportedEvents: span.events.length,
  };
}

function measurementsIn(metric: otlpMetrics.Metric): number {
  const data = metric.data;
  if (data?.$case === 'sum') return data.value.dataPoints.reduce((n, p) => n + Number(p.value?.value ?? 0), 0);
  if (data?.$case === 'histogram') return data.value.dataPoints.reduce((n, p) => n + Number(p.count), 0);
  return 0;
}

type J = Record<string, unknown>;
const list = (v: unknown): J[] => (Array.isArray(v) ? (v as J[]) : []);

/** The tally of OTLP JSON lines (`dump` or the JSON-lines output). */
export function tallyJsonLines(lines: readonly J[]): ExportTally {
  let logRecords = 0;
  const spans: ExportedSpan[] = [];
  let measurements = 0;
  for (const line of lines) {
    for (const rs of list(line.resourceSpans)) {
      for (const ss of list(rs.scopeSpans)) {
        for (const s of list(ss.spans)) {
          spans.push({
            name: String(s.name ?? ''),
            ended: !list(s.attributes).some((a) => a.key === INCOMPLETE),
            events: list(s.events).length + Number(s.droppedEventsCount ?? 0),
            exportedEvents: list(s.events).length,
          });
        }
      }
    }
    for (const rl of list(line.resourceLogs)) for (const sl of list(rl.scopeLogs)) logRecords += list(sl.logRecords).length;
    for (const rm of list(line.resourceMetrics)) {
      for (const sm of list(rm.scopeMetrics)) {
        for (const m of list(sm.metrics)) {
          const sum = m.sum as J | undefined;
          const histogram = m.histogram as J | undefined;
          for (const p of list(sum?.dataPoints)) measurements += Number(p.asInt ?? p.asDouble ?? 0);
          for (const p of list(histogram?.dataPoints)) measurements += Number(p.count ?? 0);
        }
      }
    }
  }
  return { logRecords, spans, measurements };
}

/** The `key=value` fields of the last status line with `label` (`final`, `dump`, `stats`) in `stderr`. */
export function lastStatus(stderr: string, label: string): Record<string, number> {
  const line = stderr
    .split('\n')
    .filter((l) => l.startsWith(`otlp-mmap-collector: ${label} `))
    .at(-1);
  if (line === undefined) throw new Error(`no ${label} status line in:\n${stderr}`);
  return parseStatus(line.slice(line.indexOf(label)));
}

/** `label key=value ...` into numbers by key. */
export function parseStatus(line: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const field of line.split(' ').slice(1)) {
    const [k, v] = field.split('=');
    out[k] = Number(v);
  }
  return out;
}

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * Records of `ring` counted as lost in a status line, under every named reason: the collector's own
 * (undecodable, failed, abandoned with a replaced file, invalid span messages, updates of spans not
 * open, measurement drop reasons)
 * and the ring-level ones, which are the counters `Reader.stats()` has besides `read` (pass its keys:
 * the binding may gain more).
 */
export function lostRecords(status: Readonly<Record<string, number>>, ring: RingName, readerCounters: readonly string[]): number {
  const field = (key: string): number => status[key] ?? 0;
  let lost = field(`undecodable_${ring}`) + field(`failed_${ring}`) + field(`abandoned_${ring}`);
  // `lap32Committed` counts messages that were read (FORMAT.md 7.9), not lost ones.
  for (const counter of readerCounters) if (counter !== 'read' && counter !== 'lap32Committed') lost += field(`${snakeCase(counter)}_${ring}`);
  if (ring === 'spans') lost += field('invalid_spans') + field('unknown_span_updates');
  if (ring === 'measurements') {
    for (const [key, value] of Object.entries(status)) {
      if (key.startsWith('measurements_') && key !== 'measurements_per_s' && key !== 'measurements_aggregated') lost += value;
    }
  }
  return lost;
}
