/**
 * Asynchronous (observable) instruments and their collection.
 *
 * A collection calls every registered callback and batch callback once and
 * writes the observations as Measurements stamped with the collection's start
 * time when it ends. An instrument observed more than once with the same
 * attributes in one collection keeps the last value (as the OpenTelemetry
 * SDK does): an observation is a total, and two totals of one series at one
 * time cannot both hold. Callbacks may return promises: the collection waits
 * for them up to a timeout, and observations arriving after the collection
 * is over are ignored. A callback that throws or rejects is reported to diag
 * and does not stop the others.
 *
 * @internal
 */
import {
  type Attributes,
  type BatchObservableCallback,
  type BatchObservableResult,
  diag,
  type Observable,
  type ObservableCallback,
  type ObservableCounter,
  type ObservableGauge,
  type ObservableResult,
  type ObservableUpDownCounter,
} from '@opentelemetry/api';
import type { MmapFile } from '../file/mmap-file.js';
import { type Nanos64, nowInto } from '../time.js';
import { int64Value, writeMeasurement } from './measurement.js';

export class ObservableInstrument implements ObservableCounter, ObservableUpDownCounter, ObservableGauge {
  /** @internal */ readonly callbacks: ObservableCallback[] = [];
  /** @internal */ readonly file: MmapFile;
  /** @internal */ readonly metricRef: number;
  /** @internal */ readonly name: string;
  /** @internal */ readonly isInt: boolean;
  /** @internal */ readonly nonDecreasingHint: boolean;

  constructor(file: MmapFile, metricRef: number, name: string, isInt: boolean, monotonic: boolean) {
    this.file = file;
    this.metricRef = metricRef;
    this.name = name;
    this.isInt = isInt;
    this.nonDecreasingHint = monotonic;
  }

  addCallback(callback: ObservableCallback): void {
    if (typeof callback !== 'function') return;
    if (!this.callbacks.includes(callback)) this.callbacks.push(callback);
  }

  removeCallback(callback: ObservableCallback): void {
    const i = this.callbacks.indexOf(callback);
    if (i >= 0) this.callbacks.splice(i, 1);
  }

  /** @internal The value to write for an observation, or undefined when it is invalid. */
  accept(value: number): number | undefined {
    if (typeof value !== 'number' || (Number.isNaN(value) && this.isInt)) {
      diag.warn(`otlp-mmap: invalid observation for ${this.name}; ignored`);
      return undefined;
    }
    if (this.isInt && !Number.isSafeInteger(value)) {
      const int = int64Value(value);
      if (int === undefined) {
        diag.warn(`otlp-mmap: observation ${value} of INT instrument ${this.name} is not an int64; ignored`);
        return undefined;
      }
      value = int;
    }
    return value;
  }

  /** @internal Writes one observation. */
  write(value: number, attributes: Attributes | undefined, time: Nanos64): void {
    if (this.file.closed) return;
    try {
      writeMeasurement(this.file, this.metricRef, this.isInt, value, attributes, undefined, time.lo, time.hi);
    } catch (err) {
      diag.error(`otlp-mmap: observation of ${this.name} failed`, err);
    }
  }
}

/** The observations of one collection: the last value per instrument and attribute set. */
class Observations {
  private readonly byInstrument = new Map<ObservableInstrument, Map<string, { value: number; attributes: Attributes | undefined }>>();

  add(instrument: ObservableInstrument, value: number, attributes: Attributes | undefined): void {
    const accepted = instrument.accept(value);
    if (accepted === undefined) return;
    let series = this.byInstrument.get(instrument);
    if (series === undefined) {
      series = new Map();
      this.byInstrument.set(instrument, series);
    }
    let key: string;
    try {
      key = attributesKey(attributes);
    } catch (err) {
      diag.warn(`otlp-mmap: attributes of an observation of ${instrument.name} cannot be compared; kept as given`, err);
      key = `\u0000${series.size}`;
    }
    series.set(key, { value: accepted, attributes });
  }

  writeAll(time: Nanos64): void {
    for (const [instrument, series] of this.byInstrument) {
      for (const { value, attributes } of series.values()) instrument.write(value, attributes, time);
    }
  }
}

/**
 * An attribute set as a string that does not depend on key order; equal for
 * sets that hold the same keys and values.
 */
function attributesKey(attributes: Attributes | undefined): string {
  if (attributes === undefined || attributes === null) return '';
  let key = '';
  for (const name of Object.keys(attributes).sort()) {
    const value = attributes[name];
    if (value === undefined || value === null) continue;
    key += `${JSON.stringify(name)}:${typeof value}:${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))},`;
  }
  return key;
}

interface BatchRegistration {
  callback: BatchObservableCallback;
  observables: ObservableInstrument[];
}

/** All observable instruments of one MeterProvider. */
export class ObservableRegistry {
  private readonly instruments: ObservableInstrument[] = [];
  private readonly batches: BatchRegistration[] = [];
  private running: Promise<void> | undefined;

  add(instrument: ObservableInstrument): void {
    this.instruments.push(instrument);
  }

  addBatch(callback: BatchObservableCallback, observables: Observable[]): void {
    if (typeof callback !== 'function' || !Array.isArray(observables)) return;
    const ours = observables.filter((o): o is ObservableInstrument => o instanceof ObservableInstrument);
    if (ours.length !== observables.length) diag.warn('otlp-mmap: batch callback given observables of another SDK; they are ignored');
    if (ours.length === 0) return;
    if (this.batches.some((b) => b.callback === callback && sameMembers(b.observables, ours))) return;
    this.batches.push({ callback, observables: ours });
  }

  removeBatch(callback: BatchObservableCallback, observables: Observable[]): void {
    const i = this.batches.findIndex((b) => b.callback === callback && sameMembers(b.observables, observables as ObservableInstrument[]));
    if (i >= 0) this.batches.splice(i, 1);
  }

  /** Runs one collection (joins the running one, if any). */
  collect(timeoutMs: number): Promise<void> {
    if (this.running === undefined) {
      this.running = this.run(timeoutMs).finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  private async run(timeoutMs: number): Promise<void> {
    const time: Nanos64 = { lo: 0, hi: 0 };
    nowInto(time);
    let open = true;
    const observations = new Observations();
    const pending: Promise<unknown>[] = [];
    const settle = (name: string, result: unknown): void => {
      if (result !== null && typeof result === 'object' && typeof (result as Promise<void>).then === 'function') {
        pending.push((result as Promise<void>).then(undefined, (err: unknown) => diag.error(`otlp-mmap: callback of ${name} failed`, err)));
      }
    };
    for (const instrument of this.instruments) {
      for (const callback of instrument.callbacks.slice()) {
        const result: ObservableResult = {
          observe(value: number, attributes?: Attributes): void {
            if (open) observations.add(instrument, value, attributes);
          },
        };
        try {
          settle(instrument.name, callback(result));
        } catch (err) {
          diag.error(`otlp-mmap: callback of ${instrument.name} failed`, err);
        }
      }
    }
    for (const batch of this.batches.slice()) {
      const result: BatchObservableResult = {
        observe(metric: Observable, value: number, attributes?: Attributes): void {
          if (!open) return;
          if (!(metric instanceof ObservableInstrument) || !batch.observables.includes(metric)) {
            diag.warn('otlp-mmap: batch callback observed an instrument it was not registered with; ignored');
            return;
          }
          observations.add(metric, value, attributes);
        },
      };
      try {
        settle('a batch callback', batch.callback(result));
      } catch (err) {
        diag.error('otlp-mmap: batch callback failed', err);
      }
    }
    if (pending.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          diag.warn('otlp-mmap: observable callbacks timed out');
          resolve();
        }, timeoutMs);
        timer.unref();
      });
      await Promise.race([Promise.all(pending), timeout]);
      clearTimeout(timer);
    }
    open = false;
    observations.writeAll(time);
  }
}

function sameMembers(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
