/**
 * The MetricRef dictionary entry of an instrument (FORMAT.md 5 and 7.1–7.3).
 *
 * | instrument | aggregation written |
 * |------------|---------------------|
 * | Counter | Sum, DELTA, monotonic |
 * | UpDownCounter | Sum, DELTA, not monotonic |
 * | ObservableCounter | Sum, CUMULATIVE, monotonic |
 * | ObservableUpDownCounter | Sum, CUMULATIVE, not monotonic |
 * | Gauge, ObservableGauge | Gauge |
 * | Histogram | Histogram, DELTA, the advice's bucket boundaries (empty = default) |
 * | Histogram, exponential option | ExponentialHistogram, DELTA, max_buckets 160, max_scale 20 |
 *
 * @internal
 */
import * as F from '@otlp-mmap/protocol/tags';
import { ProtoWriter } from '../encoding/proto-writer.js';
import type { Dictionary } from '../file/dictionary.js';

export enum InstrumentKind {
  Counter,
  UpDownCounter,
  Histogram,
  Gauge,
  ObservableCounter,
  ObservableUpDownCounter,
  ObservableGauge,
}

const DELTA = 1;
const CUMULATIVE = 2;
export const EXP_HIST_MAX_BUCKETS = 160;
export const EXP_HIST_MAX_SCALE = 20;

export interface MetricDefinition {
  name: string;
  description: string;
  unit: string;
  kind: InstrumentKind;
  /** Explicit bucket boundaries (histograms); empty means the default ones. */
  boundaries: number[];
  exponential: boolean;
}

/** Reference of the MetricRef entry of `def` in scope `scopeRef`, written once. */
export function internMetric(dict: Dictionary, scopeRef: number, def: MetricDefinition): number {
  const key = `metric\0${scopeRef}\0${def.name}\0${def.description}\0${def.unit}\0${def.kind}\0${def.exponential}\0${def.boundaries.join(',')}`;
  return dict.message(key, () => encodeMetric(scopeRef, def));
}

function encodeMetric(scopeRef: number, def: MetricDefinition): Uint8Array {
  const w = new ProtoWriter(256);
  if (def.name) {
    w.uint32(F.METRIC_REF_NAME);
    w.string(def.name);
  }
  if (def.description) {
    w.uint32(F.METRIC_REF_DESCRIPTION);
    w.string(def.description);
  }
  if (def.unit) {
    w.uint32(F.METRIC_REF_UNIT);
    w.string(def.unit);
  }
  if (scopeRef !== 0) {
    w.uint32(F.METRIC_REF_INSTRUMENTATION_SCOPE_REF);
    w.int64(scopeRef);
  }
  switch (def.kind) {
    case InstrumentKind.Counter:
    case InstrumentKind.UpDownCounter:
    case InstrumentKind.ObservableCounter:
    case InstrumentKind.ObservableUpDownCounter: {
      const cumulative = def.kind === InstrumentKind.ObservableCounter || def.kind === InstrumentKind.ObservableUpDownCounter;
      const monotonic = def.kind === InstrumentKind.Counter || def.kind === InstrumentKind.ObservableCounter;
      w.uint32(F.METRIC_REF_SUM);
      w.fork();
      w.uint32(F.SUM_AGGREGATION_TEMPORALITY);
      w.uint32(cumulative ? CUMULATIVE : DELTA);
      if (monotonic) {
        w.uint32(F.SUM_IS_MONOTONIC);
        w.uint32(1);
      }
      w.join();
      break;
    }
    case InstrumentKind.Gauge:
    case InstrumentKind.ObservableGauge:
      w.uint32(F.METRIC_REF_GAUGE);
      w.uint32(0);
      break;
    case InstrumentKind.Histogram:
      if (def.exponential) {
        w.uint32(F.METRIC_REF_EXP_HIST);
        w.fork();
        w.uint32(F.EXPONENTIAL_HISTOGRAM_AGGREGATION_TEMPORALITY);
        w.uint32(DELTA);
        w.uint32(F.EXPONENTIAL_HISTOGRAM_MAX_BUCKETS);
        w.uint32(EXP_HIST_MAX_BUCKETS);
        w.uint32(F.EXPONENTIAL_HISTOGRAM_MAX_SCALE);
        w.uint32(EXP_HIST_MAX_SCALE);
        w.join();
      } else {
        w.uint32(F.METRIC_REF_HISTOGRAM);
        w.fork();
        w.uint32(F.HISTOGRAM_AGGREGATION_TEMPORALITY);
        w.uint32(DELTA);
        if (def.boundaries.length > 0) {
          w.uint32(F.HISTOGRAM_BUCKET_BOUNDARIES);
          w.fork();
          for (const b of def.boundaries) w.double(b);
          w.join();
        }
        w.join();
      }
      break;
  }
  return w.buf.subarray(0, w.pos);
}
