import type { SpanContext, otlpMetrics } from '@otlp-mmap/protocol';
import { isValidSpanContext } from './exemplar-filter.js';
import type { MeasurementValue } from '../aggregators/aggregator.js';

/** A measurement kept as an exemplar. */
interface Cell {
  value: MeasurementValue;
  timeUnixNano: bigint;
  spanContext: SpanContext | undefined;
}

/**
 * Keeps a few measurements of one series as exemplars, per the OpenTelemetry
 * exemplar reservoirs: `cells` cells, each an independent uniform sample
 * (reservoir sampling, algorithm R) of the measurements offered to it since
 * the last collection. A fixed-size reservoir offers every measurement to one
 * pool of cells; an aligned-histogram reservoir has one cell per bucket and
 * offers each measurement to the cell of its bucket.
 *
 * @internal
 */
export class ExemplarReservoir {
  private readonly cells: Array<Cell | undefined>;
  /** Measurements offered since the last collection, per pool (one pool, or one per bucket). */
  private readonly seen: number[];

  /**
   * @param size - number of cells.
   * @param aligned - one cell per bucket (explicit histograms) rather than one shared pool.
   * @param random - uniform in [0, 1), for sampling.
   */
  constructor(
    size: number,
    private readonly aligned: boolean,
    private readonly random: () => number,
  ) {
    this.cells = new Array(size).fill(undefined);
    this.seen = new Array(aligned ? size : 1).fill(0);
  }

  /** Offers a measurement; `bucket` is the histogram bucket (aligned reservoirs only). */
  offer(value: MeasurementValue, timeUnixNano: bigint, spanContext: SpanContext | undefined, bucket = 0): void {
    const pool = this.aligned ? bucket : 0;
    const seen = ++this.seen[pool];
    let cell: number;
    if (this.aligned) {
      // One cell: keep the n-th offer with probability 1/n.
      if (seen > 1 && this.random() * seen >= 1) return;
      cell = bucket;
    } else if (seen <= this.cells.length) {
      cell = seen - 1;
    } else {
      cell = Math.floor(this.random() * seen);
      if (cell >= this.cells.length) return;
    }
    this.cells[cell] = { value, timeUnixNano, spanContext };
  }

  /** The exemplars sampled since the last call, in OTLP form; starts a new sampling period. */
  collect(): otlpMetrics.Exemplar[] {
    const out: otlpMetrics.Exemplar[] = [];
    for (let i = 0; i < this.cells.length; i++) {
      const cell = this.cells[i];
      if (cell === undefined) continue;
      const context = cell.spanContext !== undefined && isValidSpanContext(cell.spanContext) ? cell.spanContext : undefined;
      out.push({
        filteredAttributes: [],
        timeUnixNano: cell.timeUnixNano,
        value:
          cell.value.$case === 'asLong'
            ? { $case: 'asInt', value: BigInt.asIntN(64, cell.value.value) === cell.value.value ? cell.value.value : saturate(cell.value.value) }
            : { $case: 'asDouble', value: cell.value.value },
        spanId: context?.spanId ?? new Uint8Array(0),
        traceId: context?.traceId ?? new Uint8Array(0),
      });
      this.cells[i] = undefined;
    }
    this.seen.fill(0);
    return out;
  }
}

function saturate(value: bigint): bigint {
  return value < 0n ? -(1n << 63n) : (1n << 63n) - 1n;
}
