import type { otlpCommon } from '@otlp-mmap/protocol';
import type { otlpMetrics } from '@otlp-mmap/protocol';
import type { DropReason } from '../drop-reason.js';
import type { Accumulation, Aggregator, MeasurementValue, MetricData, TotalsSupport } from './aggregator.js';

/** A sum of one series. Integer values stay exact (`bigint`) until a double arrives. */
export interface SumAccumulation extends Accumulation {
  value: bigint | number;
  /** Time of the last recorded total (totals mode), used as the start after a reset. */
  lastTimeUnixNano: bigint;
  /** Whether anything was recorded. */
  observed: boolean;
  /** Resets seen so far (totals mode), so a diff knows not to subtract across one. */
  resets: number;
}

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

/**
 * Sum aggregation (FORMAT.md 7.1–7.2).
 *
 * - Increments mode (MetricRef temporality DELTA): each value is added; a
 *   negative increment to a monotonic sum is dropped.
 * - Totals mode (CUMULATIVE): each value replaces the total; a negative
 *   total of a monotonic sum is dropped (a monotonic series counts up from
 *   0); a decrease of a monotonic total is a reset. The series then restarts at the time of the
 *   previous total (the writer restarted after it), or, when that would not
 *   change the start time, at the time of the total that shows the decrease:
 *   a reset is always visible as a new start time.
 *
 * NaN and ±Infinity are dropped (one of them would poison the sum forever).
 *
 * @internal
 */
export class SumAggregator implements Aggregator<SumAccumulation, otlpMetrics.NumberDataPoint> {
  readonly totals: TotalsSupport<SumAccumulation> | undefined;

  /**
   * @param monotonic - the MetricRef's `is_monotonic`.
   * @param recordsTotals - measurements are totals (MetricRef temporality CUMULATIVE).
   */
  constructor(
    readonly monotonic: boolean,
    readonly recordsTotals: boolean,
  ) {
    this.totals = recordsTotals ? { diff: diffTotals, clone: (acc) => ({ ...acc }) } : undefined;
  }

  readonly exemplarCells = 1;
  readonly exemplarsAligned = false;

  exemplarBucket(): number {
    return 0;
  }

  createAccumulation(startTimeUnixNano: bigint): SumAccumulation {
    return { startTimeUnixNano, value: 0n, lastTimeUnixNano: startTimeUnixNano, observed: false, resets: 0 };
  }

  record(acc: SumAccumulation, value: MeasurementValue, timeUnixNano: bigint): DropReason | undefined {
    const v = value.value;
    if (typeof v === 'number' && !Number.isFinite(v)) return 'nonFiniteValue';
    if (this.recordsTotals) {
      if (this.monotonic && (typeof v === 'bigint' ? v < 0n : v < 0)) return 'negativeMonotonicTotal';
      if (this.monotonic && acc.observed && lessThan(v, acc.value)) {
        acc.startTimeUnixNano = acc.lastTimeUnixNano > acc.startTimeUnixNano ? acc.lastTimeUnixNano : timeUnixNano;
        acc.resets++;
      }
      acc.value = v;
      acc.lastTimeUnixNano = timeUnixNano;
    } else {
      if (this.monotonic && (typeof v === 'bigint' ? v < 0n : v < 0)) return 'negativeMonotonicIncrement';
      acc.value = add(acc.value, v);
    }
    acc.observed = true;
    return undefined;
  }

  toDataPoint(acc: SumAccumulation, attributes: otlpCommon.KeyValue[], startTimeUnixNano: bigint, timeUnixNano: bigint): otlpMetrics.NumberDataPoint {
    return numberDataPoint(acc.value, attributes, startTimeUnixNano, timeUnixNano);
  }

  toMetricData(points: otlpMetrics.NumberDataPoint[], temporality: otlpMetrics.AggregationTemporality): MetricData {
    return { $case: 'sum', value: { dataPoints: points, aggregationTemporality: temporality, isMonotonic: this.monotonic } };
  }
}

/**
 * An OTLP number data point; a `bigint` is exported as `as_int`, saturated
 * to the int64 range.
 *
 * @internal
 */
export function numberDataPoint(
  value: bigint | number,
  attributes: otlpCommon.KeyValue[],
  startTimeUnixNano: bigint,
  timeUnixNano: bigint,
): otlpMetrics.NumberDataPoint {
  return {
    attributes,
    startTimeUnixNano,
    timeUnixNano,
    value:
      typeof value === 'bigint'
        ? { $case: 'asInt', value: value > INT64_MAX ? INT64_MAX : value < INT64_MIN ? INT64_MIN : value }
        : { $case: 'asDouble', value },
    exemplars: [],
    flags: 0,
  };
}

function diffTotals(previous: SumAccumulation, current: SumAccumulation): SumAccumulation {
  const reset = current.resets !== previous.resets;
  return { ...current, value: reset ? current.value : subtract(current.value, previous.value) };
}

function add(a: bigint | number, b: bigint | number): bigint | number {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a + b;
  return Number(a) + Number(b);
}

function subtract(a: bigint | number, b: bigint | number): bigint | number {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a - b;
  return Number(a) - Number(b);
}

/** Exact even between a bigint and a number (JavaScript compares their mathematical values). */
function lessThan(a: bigint | number, b: bigint | number): boolean {
  return a < b;
}
