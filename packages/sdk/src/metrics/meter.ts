/**
 * Meter: creates instruments, each described once in the dictionary by a
 * MetricRef (see metric-definition.ts).
 *
 * @internal
 */
import {
  type BatchObservableCallback,
  type Counter,
  createNoopMeter,
  diag,
  type Gauge,
  type Histogram,
  type Meter,
  type MetricOptions,
  type Observable,
  type ObservableCounter,
  type ObservableGauge,
  type ObservableUpDownCounter,
  type UpDownCounter,
  ValueType,
} from '@opentelemetry/api';
import type { MmapFile } from '../file/mmap-file.js';
import { InstrumentKind, internMetric } from './metric-definition.js';
import { ObservableInstrument, type ObservableRegistry } from './observables.js';
import { SyncInstrument } from './sync-instruments.js';

const NAME_PATTERN = /^[a-z][a-z0-9_.\-/]{0,254}$/i;
const noopMeter = createNoopMeter();

/** @internal */
export interface MeterShared {
  readonly file: MmapFile;
  readonly registry: ObservableRegistry;
  readonly exponentialHistograms: boolean;
}

export class MmapMeter implements Meter {
  private readonly shared: MeterShared;
  private readonly scopeRef: number;

  /** @internal */
  constructor(shared: MeterShared, scopeRef: number) {
    this.shared = shared;
    this.scopeRef = scopeRef;
  }

  createCounter(name: string, options?: MetricOptions): Counter {
    return this.sync(name, options, InstrumentKind.Counter) ?? noopMeter.createCounter(name);
  }

  createUpDownCounter(name: string, options?: MetricOptions): UpDownCounter {
    return this.sync(name, options, InstrumentKind.UpDownCounter) ?? noopMeter.createUpDownCounter(name);
  }

  createHistogram(name: string, options?: MetricOptions): Histogram {
    return this.sync(name, options, InstrumentKind.Histogram) ?? noopMeter.createHistogram(name);
  }

  createGauge(name: string, options?: MetricOptions): Gauge {
    return this.sync(name, options, InstrumentKind.Gauge) ?? noopMeter.createGauge(name);
  }

  createObservableCounter(name: string, options?: MetricOptions): ObservableCounter {
    return this.observable(name, options, InstrumentKind.ObservableCounter) ?? noopMeter.createObservableCounter(name);
  }

  createObservableUpDownCounter(name: string, options?: MetricOptions): ObservableUpDownCounter {
    return this.observable(name, options, InstrumentKind.ObservableUpDownCounter) ?? noopMeter.createObservableUpDownCounter(name);
  }

  createObservableGauge(name: string, options?: MetricOptions): ObservableGauge {
    return this.observable(name, options, InstrumentKind.ObservableGauge) ?? noopMeter.createObservableGauge(name);
  }

  addBatchObservableCallback(callback: BatchObservableCallback, observables: Observable[]): void {
    this.shared.registry.addBatch(callback, observables);
  }

  removeBatchObservableCallback(callback: BatchObservableCallback, observables: Observable[]): void {
    this.shared.registry.removeBatch(callback, observables);
  }

  private sync(name: string, options: MetricOptions | undefined, kind: InstrumentKind): SyncInstrument | undefined {
    const ref = this.define(name, options, kind);
    if (ref === undefined) return undefined;
    const nonNegative = kind === InstrumentKind.Counter || kind === InstrumentKind.Histogram;
    return new SyncInstrument(this.shared.file, ref, name, options?.valueType === ValueType.INT, nonNegative);
  }

  private observable(name: string, options: MetricOptions | undefined, kind: InstrumentKind): ObservableInstrument | undefined {
    const ref = this.define(name, options, kind);
    if (ref === undefined) return undefined;
    const instrument = new ObservableInstrument(this.shared.file, ref, name, options?.valueType === ValueType.INT, kind === InstrumentKind.ObservableCounter);
    this.shared.registry.add(instrument);
    return instrument;
  }

  /** The MetricRef of the instrument, or undefined (noop instrument) when the name is invalid. */
  private define(name: string, options: MetricOptions | undefined, kind: InstrumentKind): number | undefined {
    if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
      diag.warn(`otlp-mmap: invalid instrument name ${JSON.stringify(name)}; a no-op instrument is returned`);
      return undefined;
    }
    try {
      return internMetric(this.shared.file.dictionary, this.scopeRef, {
        name,
        description: options?.description ?? '',
        unit: options?.unit ?? '',
        kind,
        boundaries: kind === InstrumentKind.Histogram ? boundaries(name, options) : [],
        exponential: kind === InstrumentKind.Histogram && this.shared.exponentialHistograms,
      });
    } catch (err) {
      diag.error(`otlp-mmap: could not define instrument ${name}`, err);
      return undefined;
    }
  }
}

function boundaries(name: string, options: MetricOptions | undefined): number[] {
  const given = options?.advice?.explicitBucketBoundaries;
  if (given === undefined) return [];
  const ok = Array.isArray(given) && given.every((b, i) => typeof b === 'number' && Number.isFinite(b) && (i === 0 || b > given[i - 1]));
  if (!ok) {
    diag.warn(`otlp-mmap: explicitBucketBoundaries of ${name} must be finite and increasing; default boundaries used`);
    return [];
  }
  return given.slice();
}
