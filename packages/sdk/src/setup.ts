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
  trace,
  type TracerProvider,
  ValueType,
} from '@opentelemetry/api';
import { createNoopLogger, type LoggerProvider, logs } from '@opentelemetry/api-logs';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import type { Resource } from '@opentelemetry/resources';
import { type ResolvedConfig, resolveConfig, sdkDisabled } from './config.js';
import { installDiagLoggerFromEnv } from './diag-logger.js';
import { type DroppedCounts, emptyDroppedCounts } from './file/dropped.js';
import { internResource } from './file/entries.js';
import { MmapFile } from './file/mmap-file.js';
import { errorCode, loadBinding, type NativeWriter } from './file/native.js';
import { MmapLoggerProvider } from './logs/logger-provider.js';
import { MmapMeterProvider } from './metrics/meter-provider.js';
import type { MmapSdkOptions } from './options.js';
import { detectResource, NODE_SDK_DEFAULT_DETECTORS, resourceDetectors, settledAttributes } from './resource.js';
import { MmapTracerProvider } from './trace/tracer-provider.js';
import { SDK_NAME, SDK_VERSION } from './version.js';

/** Name of the SDK's self-metric: messages dropped, per `signal`. */
export const DROPPED_METRIC_NAME = 'otlp_mmap.sdk.dropped';

/**
 * What is settled before the SDK object is made: the diag logger of
 * `OTEL_LOG_LEVEL` (installed first, so that setup problems are reported) and
 * the detected resource (undefined when the SDK is disabled).
 *
 * @internal
 */
export interface SdkStart {
  resource: Resource | undefined;
  uninstallDiag: (() => void) | undefined;
}

/**
 * Installs the diag logger and runs the resource detectors (`defaults`: the
 * detectors when neither the option nor `OTEL_NODE_RESOURCE_DETECTORS` names
 * any).
 *
 * @internal
 */
export function prepareStart(options: MmapSdkOptions, defaults: readonly string[] = NODE_SDK_DEFAULT_DETECTORS): SdkStart {
  const uninstallDiag = installDiagLoggerFromEnv();
  if (sdkDisabled(options)) return { resource: undefined, uninstallDiag };
  try {
    return { resource: detectResource(options, resourceDetectors(options, defaults)), uninstallDiag };
  } catch (err) {
    uninstallDiag?.();
    throw err;
  }
}

const noopMeterProvider: MeterProvider = { getMeter: () => createNoopMeter() };
const noopLoggerProvider: LoggerProvider = { getLogger: () => createNoopLogger() };

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

  /** @internal Use {@link startMmapSdk} or {@link startMmapSdkAsync}. */
  constructor(options: MmapSdkOptions, start: SdkStart = prepareStart(options)) {
    if (start.uninstallDiag !== undefined) this.unregister.push(start.uninstallDiag);
    if (start.resource === undefined) {
      this.enabled = false;
      this.path = '';
      this.tracerProvider = new ProxyTracerProvider(); // without a delegate: no-op tracers
      this.meterProvider = noopMeterProvider;
      this.loggerProvider = noopLoggerProvider;
      this.file = undefined;
      this.meters = undefined;
      return;
    }
    this.enabled = true;
    let config: ResolvedConfig;
    let native: NativeWriter;
    try {
      config = resolveConfig(options);
      native = openWriter(config.path, config.attach, {
        events: config.events,
        spans: config.spans,
        measurements: config.measurements,
        dictionarySize: config.dictionarySize,
        ...(config.maxFileSize !== undefined ? { maxFileSize: config.maxFileSize } : {}),
        ...(config.fileMode !== undefined ? { fileMode: config.fileMode } : {}),
      });
    } catch (err) {
      start.uninstallDiag?.();
      throw err;
    }
    this.path = config.path;
    const file = new MmapFile(native, { path: config.path, attached: config.attach });
    this.file = file;
    const resourceRef = internResource(file.dictionary, settledAttributes(start.resource), start.resource.schemaUrl);
    const { traces, metrics: metricsOn, logs: logsOn } = config.signals;
    this.tracerProvider = traces
      ? new MmapTracerProvider({ file, limits: config.spanLimits, sampler: config.sampler, defaultSampler: config.defaultSampler }, resourceRef)
      : new ProxyTracerProvider();
    this.meters = metricsOn ? new MmapMeterProvider(file, resourceRef, config.metricIntervalMs, config.exponentialHistograms) : undefined;
    this.meterProvider = this.meters ?? noopMeterProvider;
    this.loggerProvider = logsOn ? new MmapLoggerProvider(file, resourceRef, config.logLimits) : noopLoggerProvider;
    if (this.meters !== undefined) this.registerSelfMetric(this.meters, file);
    if (config.registerGlobals) this.registerGlobals(config);
    const instrumentations = options.instrumentations ?? [];
    if (instrumentations.length > 0) {
      this.unregister.push(
        registerInstrumentations({
          instrumentations,
          tracerProvider: this.tracerProvider,
          meterProvider: this.meterProvider,
          loggerProvider: this.loggerProvider,
        }),
      );
    }
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
        for (const undo of this.unregister.splice(0).reverse()) undo();
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

  /**
   * Registers the globals; one that is already set is kept (diag warning). A
   * signal turned off with `OTEL_<SIGNAL>_EXPORTER=none` registers no
   * provider: the API's stays a no-op.
   */
  private registerGlobals(config: ResolvedConfig): void {
    const contextManager = new AsyncLocalStorageContextManager().enable();
    if (
      !this.registerGlobal(
        'context manager',
        () => context.setGlobalContextManager(contextManager),
        () => context.disable(),
      )
    ) {
      contextManager.disable();
    }
    const { propagator, signals } = config;
    if (propagator !== undefined) {
      this.registerGlobal(
        'propagator',
        () => propagation.setGlobalPropagator(propagator),
        () => propagation.disable(),
      );
    }
    if (signals.traces) {
      this.registerGlobal(
        'tracer provider',
        () => trace.setGlobalTracerProvider(this.tracerProvider),
        () => trace.disable(),
      );
    }
    if (signals.metrics) {
      this.registerGlobal(
        'meter provider',
        () => metrics.setGlobalMeterProvider(this.meterProvider),
        () => metrics.disable(),
      );
    }
    if (signals.logs) {
      const provider = this.loggerProvider;
      this.registerGlobal(
        'logger provider',
        () => logs.setGlobalLoggerProvider(provider) === provider,
        () => logs.disable(),
      );
    }
  }

  private registerGlobal(what: string, register: () => boolean, unregister: () => void): boolean {
    if (register()) {
      this.unregister.push(unregister);
      return true;
    }
    diag.warn(`otlp-mmap: a global ${what} is already registered; keeping it`);
    return false;
  }
}

/**
 * Starts the SDK: creates (or, with `attach`, opens) the OTLP-MMAP file,
 * writes the resource, and — unless `registerGlobals` is false — registers
 * the tracer, meter and logger providers, an AsyncLocalStorage context
 * manager and the propagator (by default W3C trace context and baggage, or
 * what `OTEL_PROPAGATORS` names) as the OpenTelemetry globals; then enables
 * the `instrumentations`.
 *
 * With `OTEL_SDK_DISABLED=true` (or `disabled: true`) it does none of that
 * and returns a no-op SDK (`enabled` false). `OTEL_LOG_LEVEL` installs a
 * console diag logger first, unless the application installed one.
 *
 * The resource is written at once: attributes that resource detectors find
 * asynchronously (`host.id`, `container.id`) are left out. Use
 * {@link startMmapSdkAsync} to wait for them.
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

/**
 * {@link startMmapSdk}, after waiting for the resource attributes that
 * detectors find asynchronously (`host.id` read from the machine id,
 * `container.id` from the cgroup files), so that the resource written into
 * the file is complete — what `@opentelemetry/sdk-node` exports. Rejects with
 * the setup errors `startMmapSdk` throws.
 *
 * @example
 * ```ts
 * // telemetry.mjs, loaded with node --import ./telemetry.mjs app.mjs
 * import { startMmapSdkAsync } from '@otlp-mmap/sdk';
 * export const sdk = await startMmapSdkAsync({ path: '/var/run/app/telemetry.otlp-mmap' });
 * ```
 */
export async function startMmapSdkAsync(options: MmapSdkOptions = {}): Promise<MmapSdk> {
  return startWithSettledResource(options, NODE_SDK_DEFAULT_DETECTORS);
}

/** @internal {@link startMmapSdkAsync} with other default detectors (`register` uses `all`). */
export async function startWithSettledResource(options: MmapSdkOptions, defaultDetectors: readonly string[]): Promise<MmapSdk> {
  const start = prepareStart(options, defaultDetectors);
  try {
    await start.resource?.waitForAsyncAttributes?.();
  } catch (err) {
    start.uninstallDiag?.();
    throw err;
  }
  return new MmapSdk(options, start);
}

function openWriter(path: string, attach: boolean, options: Parameters<ReturnType<typeof loadBinding>['Writer']['create']>[1]): NativeWriter {
  const { Writer } = loadBinding();
  try {
    return attach ? Writer.attach(path, options?.maxFileSize !== undefined ? { maxFileSize: options.maxFileSize } : {}) : Writer.create(path, options);
  } catch (err) {
    const code = errorCode(err);
    const message = err instanceof Error ? err.message : String(err);
    const wrapped = new Error(`otlp-mmap: could not ${attach ? 'attach to' : 'create'} ${path}: ${message}${code ? ` (${code})` : ''}`, { cause: err });
    if (code) Object.assign(wrapped, { code });
    throw wrapped;
  }
}
