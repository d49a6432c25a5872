import type { otlpCommon, otlpMetrics } from '@otlp-mmap/protocol';
import type { DropReason } from '../drop-reason.js';
import type { Accumulation, Aggregator, MeasurementValue, MetricData } from './aggregator.js';
import { numberDataPoint } from './sum.js';

/** The last value of one series and when it was measured. */
export interface LastValueAccumulation extends Accumulation {
  value: bigint | number;
  timeUnixNano: bigint;
  observed: boolean;
}

/**
 * Gauge aggregation: the last value wins, exported with its own timestamp.
 * Any double is kept (NaN included: a gauge is not poisoned by it). Among
 * measurements out of order, the one with the latest timestamp wins; equal
 * timestamps: the one read last.
 *
 * @internal
 */
export class LastValueAggregator implements Aggregator<LastValueAccumulation, otlpMetrics.NumberDataPoint> {
  readonly exemplarCells = 1;
  readonly exemplarsAligned = false;

  exemplarBucket(): number {
    return 0;
  }

  createAccumulation(startTimeUnixNano: bigint): LastValueAccumulation {
    return { startTimeUnixNano, value: 0n, timeUnixNano: startTimeUnixNano, observed: false };
  }

  record(acc: LastValueAccumulation, value: MeasurementValue, timeUnixNano: bigint): DropReason | undefined {
    if (!acc.observed || timeUnixNano >= acc.timeUnixNano) {
      acc.value = value.value;
      acc.timeUnixNano = timeUnixNano;
      acc.observed = true;
    }
    return undefined;
  }

  toDataPoint(
    acc: LastValueAccumulation,
    attributes: otlpCommon.KeyValue[],
    startTimeUnixNano: bigint,
    _collectionTimeUnixNano: bigint,
  ): otlpMetrics.NumberDataPoint {
    const start = startTimeUnixNano <= acc.timeUnixNano ? startTimeUnixNano : acc.timeUnixNano;
    return numberDataPoint(acc.value, attributes, start, acc.timeUnixNano);
  }

  toMetricData(points: otlpMetrics.NumberDataPoint[]): MetricData {
    return { $case: 'gauge', value: { dataPoints: points } };
  }
}
