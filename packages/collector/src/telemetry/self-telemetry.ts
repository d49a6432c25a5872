import { otlpMetrics, type otlpCommon, type otlpMetricsService } from '@otlp-mmap/protocol';
import type { CollectorConfig } from '../config/config.js';
import type { Exporters, SideQueue } from '../export/exporters.js';
import type { CollectorStats } from '../stats/collector-stats.js';
import { COLLECTOR_SCOPE_NAME, COLLECTOR_VERSION, collectorResource } from './resource.js';
import { selfMetrics, type SelfMetric } from './self-metrics.js';

/** Requests of the collector's own metrics that may wait for export at once. */
const QUEUED_REQUESTS = 4;

function nowUnixNano(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/**
 * Exports the collector's own metrics ({@link selfMetrics}) to where the
 * application's metrics go — the same destination, protocol, headers and
 * TLS — under the collector's own resource, through a queue of its own: the
 * status line's exported/dropped counts stay those of the file's telemetry.
 *
 * Counters are cumulative from the collector's start, or deltas since the
 * previous export with `--temporality delta`; up-down counters (queue size,
 * lag, open spans, memory) are always cumulative, as the OpenTelemetry
 * metrics SDK does. A collection that finds the queue full (the destination
 * down) is skipped: a cumulative value carries it, and a delta is taken from
 * the last collection that was queued.
 */
export class SelfTelemetry {
  private readonly side: SideQueue;
  private readonly startTimeUnixNano = nowUnixNano();
  private readonly delta: boolean;
  /** With delta temporality: per series, the value and time of the last export queued. */
  private last = new Map<string, { value: number; at: bigint }>();

  constructor(
    private readonly config: CollectorConfig,
    exporters: Exporters,
  ) {
    this.side = exporters.openSideQueue('metrics', QUEUED_REQUESTS);
    this.delta = config.temporality === 'delta';
  }

  /** The queue the metrics go through (its counters count the collector's own data points). */
  get queue(): SideQueue['queue'] {
    return this.side.queue;
  }

  /** Queues the metrics of `stats`; false when the queue was full and nothing was queued. */
  export(stats: CollectorStats): boolean {
    const now = BigInt(stats.at) * 1_000_000n;
    const next = new Map<string, { value: number; at: bigint }>();
    const metrics = selfMetrics(stats, this.config.targets).map((m) => this.toOtlp(m, now, next));
    const points = metrics.reduce((n, m) => n + (m.data?.$case === 'sum' ? m.data.value.dataPoints.length : 0), 0);
    const request: otlpMetricsService.ExportMetricsServiceRequest = {
      resourceMetrics: [
        {
          resource: collectorResource(),
          scopeMetrics: [
            { scope: { name: COLLECTOR_SCOPE_NAME, version: COLLECTOR_VERSION, attributes: [], droppedAttributesCount: 0 }, metrics, schemaUrl: '' },
          ],
          schemaUrl: '',
        },
      ],
    };
    if (!this.side.submit(request, points)) return false;
    if (this.delta) this.last = next;
    return true;
  }

  private toOtlp(metric: SelfMetric, now: bigint, next: Map<string, { value: number; at: bigint }>): otlpMetrics.Metric {
    const monotonic = metric.kind === 'counter';
    const delta = this.delta && monotonic;
    const dataPoints = metric.points.map((p) => {
      let start = this.startTimeUnixNano;
      let value = p.value;
      if (delta) {
        const key = `${metric.name}\u0000${seriesKey(p.attributes)}`;
        const before = this.last.get(key);
        next.set(key, { value: p.value, at: now });
        if (before !== undefined) {
          start = before.at;
          value = p.value - before.value;
        }
      }
      return otlpMetrics.NumberDataPoint.fromPartial({
        attributes: [...p.attributes],
        startTimeUnixNano: start,
        timeUnixNano: now,
        value: { $case: 'asInt', value: BigInt(Math.round(value)) },
      });
    });
    return otlpMetrics.Metric.fromPartial({
      name: metric.name,
      description: metric.description,
      unit: metric.unit,
      data: {
        $case: 'sum',
        value: {
          dataPoints,
          isMonotonic: monotonic,
          aggregationTemporality: delta
            ? otlpMetrics.AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA
            : otlpMetrics.AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE,
        },
      },
    });
  }
}

function seriesKey(attributes: readonly otlpCommon.KeyValue[]): string {
  return attributes.map((a) => `${a.key}=${a.value?.value?.value ?? ''}`).join('\u0000');
}
