/**
 * `@otlp-mmap/sdk`: OpenTelemetry JS tracer, meter and logger providers that
 * write telemetry straight into an OTLP-MMAP v1 file, for a separate
 * collector process to export.
 *
 * Start with {@link startMmapSdk} / {@link startMmapSdkAsync}, or without code:
 * `node --import @otlp-mmap/sdk/register app.js`.
 *
 * @packageDocumentation
 */
export { MmapSdk, startMmapSdk, startMmapSdkAsync, DROPPED_METRIC_NAME } from './setup.js';
export type {
  MmapSdkOptions,
  RingSizeOptions,
  SpanLimitsOptions,
  LogRecordLimitsOptions,
} from './options.js';
export type { DroppedCounts } from './file/dropped.js';
export { MmapTracerProvider } from './trace/tracer-provider.js';
export { MmapMeterProvider } from './metrics/meter-provider.js';
export { MmapLoggerProvider } from './logs/logger-provider.js';
export { SDK_NAME, SDK_VERSION } from './version.js';
