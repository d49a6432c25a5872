import type { otlpMetrics } from '@otlp-mmap/protocol';
import type { Signal } from '../config/config.js';
import { dataPoints } from '../otlp/data-points.js';
import type { ExportRequest } from '../otlp/signals.js';

/** One part of a split request, and the items (spans, log records, metric data points) it holds. */
export interface RequestPart {
  readonly request: ExportRequest;
  readonly items: number;
}

/** A resource's or scope's group and the leaves (spans, log records, metrics) under it, without knowing which. */
interface Group {
  readonly [key: string]: unknown;
}

/**
 * Splits `request` into `parts` requests of about as many leaves each
 * (spans, log records or metrics), in order: each leaf keeps its resource
 * and scope (shallow copies of those, with the leaves of the part). A
 * request with fewer leaves than `parts` gives one part per leaf; one with a
 * single leaf comes back whole. A metric's data points are not split: the
 * items of a metrics part are the data points of its metrics.
 */
export function splitRequest(signal: Signal, request: ExportRequest, parts: number): RequestPart[] {
  const [outerKey, innerKey, leafKey] = SHAPES[signal];
  const leaves: Array<{ outer: Group; inner: Group; leaf: unknown }> = [];
  for (const outer of (request as unknown as Record<string, Group[]>)[outerKey]!) {
    for (const inner of outer[innerKey] as Group[]) {
      for (const leaf of inner[leafKey] as unknown[]) leaves.push({ outer, inner, leaf });
    }
  }
  const count = Math.max(1, Math.min(parts, leaves.length));
  const result: RequestPart[] = [];
  for (let p = 0; p < count; p++) {
    const slice = leaves.slice(Math.floor((p * leaves.length) / count), Math.floor(((p + 1) * leaves.length) / count));
    const outers: Group[] = [];
    let items = 0;
    let lastOuter: Group | undefined;
    let lastInner: Group | undefined;
    let outerCopy: { [key: string]: unknown } | undefined;
    let innerLeaves: unknown[] = [];
    for (const { outer, inner, leaf } of slice) {
      if (outer !== lastOuter) {
        outerCopy = { ...outer, [innerKey]: [] };
        outers.push(outerCopy);
        lastOuter = outer;
        lastInner = undefined;
      }
      if (inner !== lastInner) {
        innerLeaves = [];
        (outerCopy![innerKey] as Group[]).push({ ...inner, [leafKey]: innerLeaves });
        lastInner = inner;
      }
      innerLeaves.push(leaf);
      items += signal === 'metrics' ? dataPoints(leaf as otlpMetrics.Metric) : 1;
    }
    result.push({ request: { [outerKey]: outers } as unknown as ExportRequest, items });
  }
  return result;
}

/** The field names down to the leaves of each signal's request. */
const SHAPES: Readonly<Record<Signal, readonly [string, string, string]>> = {
  traces: ['resourceSpans', 'scopeSpans', 'spans'],
  logs: ['resourceLogs', 'scopeLogs', 'logRecords'],
  metrics: ['resourceMetrics', 'scopeMetrics', 'metrics'],
};
