/**
 * Options of {@link startMmapSdk}. Every option has an environment variable;
 * an option given in code wins over the environment.
 */
import type { Attributes, TextMapPropagator } from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { Resource, ResourceDetector } from '@opentelemetry/resources';
import type { Sampler } from '@opentelemetry/sdk-trace-base';

/** Size of one ring of the file. */
export interface RingSizeOptions {
  /** Number of slots, a power of two. */
  slots?: number;
  /** Bytes per slot, a multiple of 8; the largest message is a few bytes less. */
  slotSize?: number;
}

/** OpenTelemetry span limits (the JS SDK's names and defaults). */
export interface SpanLimitsOptions {
  /** Attributes per span (default 128; `OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`, `OTEL_ATTRIBUTE_COUNT_LIMIT`). */
  attributeCountLimit?: number;
  /** Longest string or byte array value (default unlimited; `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`, `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`). */
  attributeValueLengthLimit?: number;
  /** Events per span (default 128; `OTEL_SPAN_EVENT_COUNT_LIMIT`). */
  eventCountLimit?: number;
  /** Links per span (default 128; `OTEL_SPAN_LINK_COUNT_LIMIT`). */
  linkCountLimit?: number;
  /** Attributes per span event (default 128; `OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT`). */
  attributePerEventCountLimit?: number;
  /** Attributes per link (default 128; `OTEL_LINK_ATTRIBUTE_COUNT_LIMIT`). */
  attributePerLinkCountLimit?: number;
}

/** OpenTelemetry log record limits. */
export interface LogRecordLimitsOptions {
  /** Attributes per log record (default 128; `OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT`, `OTEL_ATTRIBUTE_COUNT_LIMIT`). */
  attributeCountLimit?: number;
  /** Longest string or byte array value (default unlimited; `OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT`, `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`). */
  attributeValueLengthLimit?: number;
}

/** Options of {@link startMmapSdk}. */
export interface MmapSdkOptions {
  /** The OTLP-MMAP file (`SDK_MMAP_EXPORTER_FILE`). Required here or in the environment. */
  path?: string;
  /**
   * Attach to an existing file instead of creating it (`SDK_MMAP_ATTACH=true`):
   * several processes write into one file. The file's ring sizes are used;
   * ring and dictionary options are ignored.
   */
  attach?: boolean;
  /** `service.name` (wins over `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`). */
  serviceName?: string;
  /**
   * The propagator registered as the global one with the other globals.
   * Default: the one `OTEL_PROPAGATORS` names (`tracecontext`, `baggage`,
   * `b3`, `b3multi`, `jaeger`, `none`; others are skipped with a diag
   * warning), else W3C trace context + baggage. `null` registers none.
   */
  propagator?: TextMapPropagator | null;
  /** Resource attributes merged over the default and detected resource. */
  resourceAttributes?: Attributes;
  /** A resource merged over the default and detected resource (before `resourceAttributes`). */
  resource?: Resource;
  /**
   * Resource detectors, as in `@opentelemetry/sdk-node` (`[]`: none).
   * Default: those `OTEL_NODE_RESOURCE_DETECTORS` names (`env`, `host`, `os`,
   * `process`, `serviceinstance`, `container`, `all`, `none`), else `env`,
   * `process` and `host` (the NodeSDK default; `@otlp-mmap/sdk/register`
   * defaults to `all`). The resource is written into the file once, at
   * start: attributes a detector finds asynchronously (`host.id`,
   * `container.id`) are written by {@link startMmapSdkAsync}, which waits for
   * them, and left out by `startMmapSdk`.
   */
  resourceDetectors?: ResourceDetector[];
  /**
   * Instrumentations to enable with this SDK's providers (as NodeSDK's
   * option: `registerInstrumentations` of `@opentelemetry/instrumentation`);
   * disabled again by `shutdown`. E.g. `getNodeAutoInstrumentations()` of
   * `@opentelemetry/auto-instrumentations-node`.
   */
  instrumentations?: (Instrumentation | Instrumentation[])[];
  /** Spans ring (default 4096 slots × 2048 B; `SDK_MMAP_SPANS_SLOTS`, `SDK_MMAP_SPANS_SLOT_SIZE`). */
  spans?: RingSizeOptions;
  /** Events ring: logs and span events (default 4096 × 1024 B; `SDK_MMAP_EVENTS_SLOTS`, `SDK_MMAP_EVENTS_SLOT_SIZE`). */
  events?: RingSizeOptions;
  /** Measurements ring (default 8192 × 512 B; `SDK_MMAP_MEASUREMENTS_SLOTS`, `SDK_MMAP_MEASUREMENTS_SLOT_SIZE`). */
  measurements?: RingSizeOptions;
  /** Initial dictionary bytes (default 1 MiB; `SDK_MMAP_DICTIONARY_SIZE`). */
  dictionarySize?: number;
  /** The file never grows past this many bytes (default 16 GiB, the binding's; `SDK_MMAP_MAX_FILE_SIZE`). */
  maxFileSize?: number;
  /** Mode of a created file (default 0o600). */
  fileMode?: number;
  /** Sampler (default from `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`, else ParentBased(AlwaysOn)). */
  sampler?: Sampler;
  /** Span limits (defaults from the `OTEL_*_LIMIT` variables). */
  spanLimits?: SpanLimitsOptions;
  /** Log record limits (defaults from the `OTEL_*_LIMIT` variables). */
  logRecordLimits?: LogRecordLimitsOptions;
  /** Interval of observable-instrument collection in ms (default 60000; `OTEL_METRIC_EXPORT_INTERVAL`). */
  metricCollectionIntervalMillis?: number;
  /**
   * Aggregation written for histograms (`SDK_MMAP_HISTOGRAM_AGGREGATION`):
   * `explicit` (default; bucket boundaries from the instrument's advice) or
   * `exponential` (max 160 buckets, max scale 20).
   */
  histogramAggregation?: 'explicit' | 'exponential';
  /**
   * Register the providers, an AsyncLocalStorage context manager and the
   * propagator as the OpenTelemetry globals (default true). With false, use
   * the providers of the returned SDK object. A signal turned off with
   * `OTEL_TRACES_EXPORTER` / `OTEL_METRICS_EXPORTER` / `OTEL_LOGS_EXPORTER`
   * `=none` gets a no-op provider, which is not registered.
   */
  registerGlobals?: boolean;
  /**
   * A disabled SDK (`OTEL_SDK_DISABLED=true`) creates no file, registers
   * nothing and hands out no-op providers; no `path` is needed then.
   */
  disabled?: boolean;
}
