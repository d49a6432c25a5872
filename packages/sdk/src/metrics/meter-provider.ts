/**
 * The MeterProvider of the mmap SDK.
 */
import type { Meter, MeterOptions, MeterProvider } from '@opentelemetry/api';
import { internScope } from '../file/entries.js';
import type { MmapFile } from '../file/mmap-file.js';
import { type MeterShared, MmapMeter } from './meter.js';
import { ObservableRegistry } from './observables.js';

/** How long a collection waits for asynchronous observable callbacks. */
const CALLBACK_TIMEOUT_MS = 30_000;

/**
 * Hands out meters whose measurements are written into the mmap file.
 * Synchronous instruments write each measurement at once; observable
 * instruments are collected every `intervalMs` on a timer that does not keep
 * the process alive, and on {@link MmapMeterProvider.forceFlush}.
 */
export class MmapMeterProvider implements MeterProvider {
  private readonly shared: MeterShared;
  private readonly resourceRef: number;
  private readonly meters = new Map<string, MmapMeter>();
  private readonly timer: NodeJS.Timeout;
  private stopped = false;

  /** @internal */
  constructor(file: MmapFile, resourceRef: number, intervalMs: number, exponentialHistograms: boolean) {
    this.shared = { file, registry: new ObservableRegistry(), exponentialHistograms };
    this.resourceRef = resourceRef;
    this.timer = setInterval(() => {
      void this.collect();
    }, intervalMs);
    this.timer.unref();
  }

  /** A meter for the instrumentation scope `name`/`version` (cached per scope). */
  getMeter(name: string, version?: string, options?: MeterOptions): Meter {
    const key = `${name}\0${version ?? ''}\0${options?.schemaUrl ?? ''}`;
    let meter = this.meters.get(key);
    if (meter === undefined) {
      const scopeRef = internScope(this.shared.file.dictionary, this.resourceRef, name, version, undefined, options?.schemaUrl);
      meter = new MmapMeter(this.shared, scopeRef);
      this.meters.set(key, meter);
    }
    return meter;
  }

  /** Collects every observable instrument now. */
  async forceFlush(): Promise<void> {
    await this.collect();
  }

  /** Runs a last collection and stops the timer. Idempotent. */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    await this.shared.registry.collect(CALLBACK_TIMEOUT_MS);
  }

  private collect(): Promise<void> {
    if (this.shared.file.closed) return Promise.resolve();
    return this.shared.registry.collect(CALLBACK_TIMEOUT_MS);
  }
}
