/**
 * Synchronous instruments: every `add`/`record` is one Measurement in the
 * file, written at once (no in-process aggregation).
 *
 * Values are checked as the OpenTelemetry SDK does: a non-number is ignored, a
 * negative value to a Counter or Histogram is ignored (diag warning), and a
 * non-integer to a `ValueType.INT` instrument is truncated (diag warning).
 *
 * @internal
 */
import { type Attributes, type Context, type Counter, diag, type Gauge, type Histogram, type UpDownCounter } from '@opentelemetry/api';
import type { MmapFile } from '../file/mmap-file.js';
import { type Nanos64, nowInto } from '../time.js';
import { AttributeMemo } from './attribute-memo.js';
import { int64Value, writeMeasurement } from './measurement.js';

const now: Nanos64 = { lo: 0, hi: 0 };

export class SyncInstrument implements Counter, UpDownCounter, Histogram, Gauge {
  private readonly file: MmapFile;
  private readonly metricRef: number;
  private readonly name: string;
  private readonly isInt: boolean;
  private readonly nonNegative: boolean;
  /** The encoded attributes of the last measurement, reused when they repeat. */
  private readonly memo = new AttributeMemo();

  constructor(file: MmapFile, metricRef: number, name: string, isInt: boolean, nonNegative: boolean) {
    this.file = file;
    this.metricRef = metricRef;
    this.name = name;
    this.isInt = isInt;
    this.nonNegative = nonNegative;
  }

  add(value: number, attributes?: Attributes, context?: Context): void {
    this.write(value, attributes, context);
  }

  record(value: number, attributes?: Attributes, context?: Context): void {
    this.write(value, attributes, context);
  }

  private write(value: number, attributes: Attributes | undefined, context: Context | undefined): void {
    if (typeof value !== 'number') {
      diag.warn(`otlp-mmap: non-number value for instrument ${this.name}; ignored`);
      return;
    }
    if (this.nonNegative && value < 0) {
      diag.warn(`otlp-mmap: negative value for instrument ${this.name}; ignored`);
      return;
    }
    if (this.isInt && !Number.isSafeInteger(value)) {
      const int = int64Value(value);
      if (int === undefined) {
        diag.warn(`otlp-mmap: value ${value} of INT instrument ${this.name} is not an int64; ignored`);
        return;
      }
      if (int !== value) diag.warn(`otlp-mmap: non-integer value for INT instrument ${this.name}; truncated`);
      value = int;
    }
    if (this.file.closed) return;
    try {
      nowInto(now);
      writeMeasurement(this.file, this.metricRef, this.isInt, value, attributes, context, now.lo, now.hi, this.memo);
    } catch (err) {
      diag.error(`otlp-mmap: recording to ${this.name} failed`, err);
    }
  }
}
