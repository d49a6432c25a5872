/**
 * The SDK's entry point: {@link startMmapSdk}.
 */
import {
  context,
  createNoopMeter,
  diag,
  type MeterProvider,
  metrics,
  propagation,
  ProxyTracerProvider,
  type TextMapPropagator,
  trace,
  type TracerProvider,
  ValueType,
} from '@opentelemetry/api';
import { createNoopLogger, type LoggerProvider, logs } from '@opentelemetry/api-logs';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { resolveConfig, sdkDisabled } from './config.js';
import { type DroppedCounts, emptyDroppedCounts } from './file/dropped.js';
import { internResource } from './file/entries.js';
import { MmapFile } from './file/mmap-file.js';
import { errorCode, nativeBinding, type NativeWriter } from './file/native.js';
import { MmapLoggerProvider } from './logs/logger-provider.js';
import { MmapMeterProvider } from './metrics/meter-provider.js';
import type { MmapSdkOptions } from './options.js';
import { resourceAttributes } from './resource.js';
import { MmapTracerProvider } from './trace/tracer-provider.js';
import { SDK_NAME, SDK_VERSION } from './version.js';

/** Name of the SDK's self-metric: messages dropped, per `signal`. */
export const DROPPED_METRIC_NAME = 'otlp_mmap.sdk.dropped';

/**
 * A running mmap SDK: the three providers writing into one file, and its
 * life cycle.
 */
export class MmapSdk {
  /** The file being written ("" when the SDK is disabled). */
  readonly path: string;
  /** Tracer provider (registered as the global one unless `registerGlobals: false`). */
  readonly tracerProvider: TracerProvider;
  /** Meter provider (registered as the global one unless `registerGlobals: false`). */
  readonly meterProvider: MeterProvider;
  /** Logger provider (registered as the global one unless `registerGlobals: false`). */
  readonly loggerProvider: LoggerProvider;
  /** False when disabled (`OTEL_SDK_DISABLED=true` or `disabled: true`): no file, no-op providers. */
  readonly enabled: boolean;
  /** The file and our meter provider; undefined when disabled. */
  private readonly file: MmapFile | undefined;
  private readonly meters: MmapMeterProvider | undefined;
  private readonly unregister: (() => void)[] = [];
  private shutdownPromise: Promise<void> | undefined;

  /** @internal Use {@link startMmapSdk}. */
  constructor(options: MmapSdkOptions) {
    if (sdkDisabled(options)) {
      this.enabled = false;
      this.path = '';
      this.tracerProvider = new ProxyTracerProvider(); // without a delegate: no-op tracers
      this.meterProvider = { getMeter: () => createNoopMeter() };
      this.loggerProvider = { getLogger: () => createNoopLogger() };
      this.file = undefined;
      this.meters = undefined;
      return;
    }
    this.enabled = true;
    const config = resolveConfig(options);
    this.path = config.path;
    const native = openWriter(config.path, config.attach, {
      events: config.events,
      spans: config.spans,
      measurements: config.measurements,
      dictionarySize: config.dictionarySize,
      ...(config.maxFileSize !== undefined ? { maxFileSize: config.maxFileSize } : {}),
      ...(config.fileMode !== undefined ? { fileMode: config.fileMode } : {}),
    });
    const file = new MmapFile(native, { path: config.path, attached: config.attach });
    this.file = file;
    const resourceRef = internResource(file.dictionary, resourceAttributes(options));
    this.tracerProvider = new MmapTracerProvider(
      { file, limits: config.spanLimits, sampler: config.sampler, defaultSampler: config.defaultSampler },
      resourceRef,
    );
    const meters = new MmapMeterProvider(file, resourceRef, config.metricIntervalMs, config.exponentialHistograms);
    this.meters = meters;
    this.meterProvider = meters;
    this.loggerProvider = new MmapLoggerProvider(file, resourceRef, config.logLimits);
    this.registerSelfMetric(meters, file);
    if (config.registerGlobals) this.registerGlobals(config.propagator);
  }

  /** Messages (and attributes) that could not be written since the start. */
  droppedCounts(): DroppedCounts {
    return this.file?.droppedCounts() ?? emptyDroppedCounts();
  }

  /**
   * Collects the observable instruments now. Everything else is already in
   * the file: spans, logs and synchronous measurements are written as they
   * happen.
   */
  async forceFlush(): Promise<void> {
    if (this.shutdownPromise !== undefined) return;
    await this.meters?.forceFlush();
  }

  /**
   * Runs a last collection of the observable instruments, removes the global
   * registrations this SDK made, and closes the file. Later telemetry is
   * ignored. Idempotent: every call returns the same promise.
   */
  shutdown(): Promise<void> {
    if (this.shutdownPromise === undefined) {
      this.shutdownPromise = (async () => {
        try {
          await this.meters?.shutdown();
        } catch (err) {
          diag.error('otlp-mmap: final metric collection failed', err);
        }
        for (const undo of this.unregister.splice(0)) undo();
        this.file?.close();
      })();
    }
    return this.shutdownPromise;
  }

  private registerSelfMetric(meters: MmapMeterProvider, file: MmapFile): void {
    const meter = meters.getMeter(SDK_NAME, SDK_VERSION);
    const dropped = meter.createObservableCounter(DROPPED_METRIC_NAME, {
      description: 'Telemetry messages the SDK could not write into the mmap file (ring full, too large, or file truncated).',
      unit: '{message}',
      valueType: ValueType.INT,
    });
    dropped.addCallback((result) => {
      const counts = file.droppedCounts();
      result.observe(counts.spans, { signal: 'spans' });
      result.observe(counts.events, { signal: 'events' });
      result.observe(counts.measurements, { signal: 'measurements' });
    });
  }

  private registerGlobals(propagator: TextMapPropagator | undefined): void {
    const contextManager = new AsyncLocalStorageContextManager().enable();
    if (context.setGlobalContextManager(contextManager)) {
      this.unregister.push(() => context.disable());
    } else {
      contextManager.disable();
      diag.warn('otlp-mmap: a global context manager is already registered; keeping it');
    }
    if (propagator !== undefined) {
      if (propagation.setGlobalPropagator(propagator)) this.unregister.push(() => propagation.disable());
      else diag.warn('otlp-mmap: a global propagator is already registered; keeping it');
    }
    if (trace.setGlobalTracerProvider(this.tracerProvider)) this.unregister.push(() => trace.disable());
    else diag.warn('otlp-mmap: a global tracer provider is already registered; keeping it');
    if (metrics.setGlobalMeterProvider(this.meterProvider)) this.unregister.push(() => metrics.disable());
    else diag.warn('otlp-mmap: a global meter provider is already registered; keeping it');
    if (logs.setGlobalLoggerProvider(this.loggerProvider) === this.loggerProvider) this.unregister.push(() => logs.disable());
    else diag.warn('otlp-mmap: a global logger provider is already registered; keeping it');
  }
}

/**
 * Starts the SDK: creates (or, with `attach`, opens) the OTLP-MMAP file,
 * writes the resource, and — unless `registerGlobals` is false — registers
 * the tracer, meter and logger providers, an AsyncLocalStorage context
 * manager and the propagator (by default W3C trace context and baggage, or
 * what `OTEL_PROPAGATORS` names) as the OpenTelemetry globals.
 *
 * With `OTEL_SDK_DISABLED=true` (or `disabled: true`) it does none of that
 * and returns a no-op SDK (`enabled` false).
 *
 * Throws (a setup error, never later) when no file is given, an option or
 * `SDK_MMAP_*` variable is invalid, or the file cannot be created or attached.
 *
 * @example
 * ```ts
 * import { startMmapSdk } from '@otlp-mmap/sdk';
 * const sdk = startMmapSdk({ path: '/var/run/app/telemetry.otlp-mmap', serviceName: 'checkout' });
 * process.on('SIGTERM', () => void sdk.shutdown());
 * ```
 */
export function startMmapSdk(options: MmapSdkOptions = {}): MmapSdk {
  return new MmapSdk(options);
}

function openWriter(path: string, attach: boolean, options: Parameters<ReturnType<typeof nativeBinding>['Writer']['create']>[1]): NativeWriter {
  const { Writer } = nativeBinding();
  try {
    return attach ? Writer.attach(path, options?.maxFileSize !== undefined ? { maxFileSize: options.maxFileSize } : {}) : Writer.create(path, options);
  } catch (err) {
    const code = errorCode(err);
    const message = err instanceof Error ? err.message : String(err);
    const wrapped = new Error(
      `otlp-mmap: could not ${attach ? 'attach to' : 'create'} ${path}: ${message}${code ? ` (${code})` : ''}`,
      { cause: err },
    );
    if (code) Object.assign(wrapped, { code });
    throw wrapped;
  }
}
