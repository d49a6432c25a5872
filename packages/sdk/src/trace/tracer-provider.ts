/**
 * The TracerProvider of the mmap SDK.
 */
import type { Tracer, TracerOptions, TracerProvider } from '@opentelemetry/api';
import { internScope } from '../file/entries.js';
import type { TraceShared } from './span-limits.js';
import { MmapTracer } from './tracer.js';

/**
 * Hands out tracers whose spans are written into the mmap file. Obtain it
 * from {@link startMmapSdk} (`sdk.tracerProvider`), or through the global
 * `trace` API once the SDK is registered.
 */
export class MmapTracerProvider implements TracerProvider {
  private readonly shared: TraceShared;
  private readonly resourceRef: number;
  private readonly tracers = new Map<string, MmapTracer>();

  /** @internal */
  constructor(shared: TraceShared, resourceRef: number) {
    this.shared = shared;
    this.resourceRef = resourceRef;
  }

  /** A tracer for the instrumentation scope `name`/`version` (cached per scope). */
  getTracer(name: string, version?: string, options?: TracerOptions): Tracer {
    const key = `${name}\0${version ?? ''}\0${options?.schemaUrl ?? ''}`;
    let tracer = this.tracers.get(key);
    if (tracer === undefined) {
      const scopeRef = internScope(this.shared.file.dictionary, this.resourceRef, name, version, undefined, options?.schemaUrl);
      tracer = new MmapTracer(this.shared, scopeRef);
      this.tracers.set(key, tracer);
    }
    return tracer;
  }
}
