/**
 * One sequence of measurements, described once and played into both
 * sdk-metrics (the reference) and our MetricsAggregator, collected after
 * every round. The lead's SDK → file → collector differential can play the
 * same scenarios through the real path and compare with {@link normalize}.
 */
import { ValueType, type Attributes, type ObservableResult } from '@opentelemetry/api';
import {
  AggregationTemporality,
  AggregationType,
  InstrumentType,
  MeterProvider,
  MetricReader,
  type AggregationTemporalitySelector,
  type ViewOptions,
} from '@opentelemetry/sdk-metrics';
import type { MetricRef, otlpMetrics } from '@otlp-mmap/protocol';
import { MetricsAggregator } from '../../../packages/collector/src/metrics/index.js';
import { FakeDictionary, aggregations, type Primitive } from './fake-dictionary.js';
import { measurement } from './measurements.js';
import { sdkToOtlp } from './normalize.js';

export type InstrumentKind = 'counter' | 'upDownCounter' | 'histogram' | 'gauge' | 'observableCounter' | 'observableUpDownCounter';

export interface InstrumentSpec {
  name: string;
  kind: InstrumentKind;
  valueType: 'int' | 'double';
  /** For histograms: explicit boundaries (default OTel boundaries when omitted) or exponential. */
  aggregation?: { type: 'explicit'; boundaries: number[] } | { type: 'exponential'; maxSize: number };
}

/** One measurement; for observable instruments, one observation of the current total. */
export interface Op {
  instrument: number;
  attributes: Record<string, string | number | boolean>;
  value: number;
}

export interface Scenario {
  instruments: InstrumentSpec[];
  /** Measurements between two collections. */
  rounds: Op[][];
  preference: 'cumulative' | 'delta' | 'lowmemory';
  cardinalityLimit?: number;
  /**
   * How far the writer's clock is ahead of the collector's: measurement
   * times are this much later than the collection that follows them
   * (default 0: measurements are stamped before their collection).
   */
  clockSkew?: bigint;
}

/** A reader collected only on demand. */
export class ManualReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** The selectors of OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE. */
export function temporalitySelector(preference: Scenario['preference']): AggregationTemporalitySelector {
  const { DELTA, CUMULATIVE } = AggregationTemporality;
  return (type: InstrumentType) => {
    if (preference === 'cumulative') return CUMULATIVE;
    if (preference === 'delta') {
      return type === InstrumentType.UP_DOWN_COUNTER || type === InstrumentType.OBSERVABLE_UP_DOWN_COUNTER ? CUMULATIVE : DELTA;
    }
    return type === InstrumentType.COUNTER || type === InstrumentType.HISTOGRAM ? DELTA : CUMULATIVE;
  };
}

/** Plays a scenario through sdk-metrics; one OTLP export per round. */
export async function runSdk(scenario: Scenario): Promise<otlpMetrics.ResourceMetrics[][]> {
  const limit = scenario.cardinalityLimit;
  const reader = new ManualReader({
    aggregationTemporalitySelector: temporalitySelector(scenario.preference),
    ...(limit !== undefined ? { cardinalitySelector: () => limit } : {}),
  });
  const views: ViewOptions[] = [];
  for (const spec of scenario.instruments) {
    if (spec.aggregation?.type === 'explicit') {
      views.push({
        instrumentName: spec.name,
        aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: spec.aggregation.boundaries } },
        // A view's storage ignores the reader's cardinalitySelector.
        aggregationCardinalityLimit: limit,
      });
    } else if (spec.aggregation?.type === 'exponential') {
      views.push({
        instrumentName: spec.name,
        aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: spec.aggregation.maxSize } },
        aggregationCardinalityLimit: limit,
      });
    }
  }
  const provider = new MeterProvider({ readers: [reader], views });
  const meter = provider.getMeter('test');
  let observations: Op[] = [];
  const recorders = scenario.instruments.map((spec, index) => {
    const options = { valueType: spec.valueType === 'int' ? ValueType.INT : ValueType.DOUBLE };
    const observe = (result: ObservableResult) => {
      for (const op of observations) if (op.instrument === index) result.observe(op.value, op.attributes as Attributes);
    };
    switch (spec.kind) {
      case 'counter': {
        const c = meter.createCounter(spec.name, options);
        return (op: Op) => c.add(op.value, op.attributes);
      }
      case 'upDownCounter': {
        const c = meter.createUpDownCounter(spec.name, options);
        return (op: Op) => c.add(op.value, op.attributes);
      }
      case 'histogram': {
        const h = meter.createHistogram(spec.name, options);
        return (op: Op) => h.record(op.value, op.attributes);
      }
      case 'gauge': {
        const g = meter.createGauge(spec.name, options);
        return (op: Op) => g.record(op.value, op.attributes);
      }
      case 'observableCounter':
        meter.createObservableCounter(spec.name, options).addCallback(observe);
        return undefined;
      case 'observableUpDownCounter':
        meter.createObservableUpDownCounter(spec.name, options).addCallback(observe);
        return undefined;
    }
    throw new Error(`unknown instrument kind ${(spec as { kind: string }).kind}`);
  });
  const exports: otlpMetrics.ResourceMetrics[][] = [];
  for (const round of scenario.rounds) {
    observations = validObservations(scenario, round);
    for (const op of round) recorders[op.instrument]?.(op);
    const { resourceMetrics, errors } = await reader.collect();
    if (errors.length > 0) throw new AggregateError(errors, 'sdk-metrics collection failed');
    exports.push(sdkToOtlp(resourceMetrics));
  }
  await provider.shutdown();
  return exports;
}

function metricRefAggregation(spec: InstrumentSpec): MetricRef['aggregation'] {
  switch (spec.kind) {
    case 'histogram':
      if (spec.aggregation?.type === 'exponential') return aggregations.expHist(BigInt(spec.aggregation.maxSize), 20n);
      return aggregations.histogram(spec.aggregation?.boundaries ?? []);
    default:
      return aggregations[spec.kind];
  }
}

/** Plays a scenario through MetricsAggregator (measurement messages + fake dictionary); one export per round. */
export function runCollector(scenario: Scenario): otlpMetrics.ResourceMetrics[][] {
  const dict = new FakeDictionary();
  const scope = dict.addScope('test');
  const refs = scenario.instruments.map((spec) => dict.addMetric({ name: spec.name, aggregation: metricRefAggregation(spec) }, scope));
  const aggregator = new MetricsAggregator({
    temporalityPreference: scenario.preference,
    ...(scenario.cardinalityLimit !== undefined ? { cardinalityLimit: scenario.cardinalityLimit } : {}),
  });
  let time = 1_000n;
  const exports: otlpMetrics.ResourceMetrics[][] = [];
  for (const round of scenario.rounds) {
    for (const op of asWritten(scenario, round)) {
      const spec = scenario.instruments[op.instrument];
      const attributes = Object.entries(op.attributes).map(([k, v]) => dict.kv(k, (typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : v) as Primitive));
      const value = spec.valueType === 'int' ? BigInt(op.value) : op.value;
      aggregator.record(measurement(refs[op.instrument], value, time++ + (scenario.clockSkew ?? 0n), attributes), dict);
    }
    exports.push(aggregator.collect(time++));
  }
  return exports;
}

/**
 * The observations of one round that a collector keeps: the last one per
 * attribute set (as both SDKs keep it), without negative totals of an
 * ObservableCounter. A monotonic series counts up from 0, so a negative
 * total is invalid: the collector drops it and counts it
 * (`negativeMonotonicTotal`), while sdk-metrics 2.12 would record it as a
 * total of 0 (its monotonic accumulation ignores a negative value) and take
 * the next total for a reset. The reference is played without them: a
 * dropped observation is one that was not made.
 */
export function validObservations(scenario: Scenario, round: Op[]): Op[] {
  return asWritten(scenario, round).filter((op) => !(scenario.instruments[op.instrument].kind === 'observableCounter' && op.value < 0));
}

/**
 * The ops of one round as our SDK writes them: an observable instrument's
 * round is one collection, where a repeated attribute set keeps only its last
 * value (as sdk-metrics does); every other op as it comes.
 */
function asWritten(scenario: Scenario, round: Op[]): Op[] {
  const observed = new Map<string, Op>();
  const out: Op[] = [];
  for (const op of round) {
    const kind = scenario.instruments[op.instrument].kind;
    if (kind !== 'observableCounter' && kind !== 'observableUpDownCounter') {
      out.push(op);
      continue;
    }
    const key = `${op.instrument}|${JSON.stringify(Object.entries(op.attributes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))}`;
    observed.delete(key); // keep the last one, in the place of its last observation
    observed.set(key, op);
  }
  return [...out, ...observed.values()];
}
