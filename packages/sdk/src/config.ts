/**
 * Resolution of {@link MmapSdkOptions} against the environment: every
 * environment variable the SDK reads is read here.
 *
 * `SDK_MMAP_*` variables are this SDK's own: an invalid value is a setup error
 * (thrown, naming the variable). `OTEL_*` variables follow OpenTelemetry
 * practice: an invalid value is reported to diag and the default is used.
 *
 * @internal
 */
import { diag, type TextMapPropagator } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import { JaegerPropagator } from '@opentelemetry/propagator-jaeger';
import { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, type Sampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import type { MmapSdkOptions, RingSizeOptions } from './options.js';

export const DEFAULT_SPANS: Required<RingSizeOptions> = { slots: 4096, slotSize: 2048 };
export const DEFAULT_EVENTS: Required<RingSizeOptions> = { slots: 4096, slotSize: 1024 };
export const DEFAULT_MEASUREMENTS: Required<RingSizeOptions> = { slots: 8192, slotSize: 512 };
export const DEFAULT_DICTIONARY_SIZE = 1 << 20;
export const DEFAULT_METRIC_INTERVAL_MS = 60_000;

export interface ResolvedSpanLimits {
  attributeCountLimit: number;
  attributeValueLengthLimit: number;
  eventCountLimit: number;
  linkCountLimit: number;
  attributePerEventCountLimit: number;
  attributePerLinkCountLimit: number;
}

export interface ResolvedLogLimits {
  attributeCountLimit: number;
  attributeValueLengthLimit: number;
}

export interface ResolvedConfig {
  path: string;
  attach: boolean;
  spans: Required<RingSizeOptions>;
  events: Required<RingSizeOptions>;
  measurements: Required<RingSizeOptions>;
  dictionarySize: number;
  maxFileSize: number | undefined;
  fileMode: number | undefined;
  sampler: Sampler;
  /** True when the sampler is the default ParentBased(AlwaysOn) (the tracer then takes a fast path). */
  defaultSampler: boolean;
  spanLimits: ResolvedSpanLimits;
  logLimits: ResolvedLogLimits;
  metricIntervalMs: number;
  exponentialHistograms: boolean;
  registerGlobals: boolean;
  /** The propagator to register with the globals; undefined: none. */
  propagator: TextMapPropagator | undefined;
  /** Signals written into the file (`OTEL_<SIGNAL>_EXPORTER=none` turns one off). */
  signals: { traces: boolean; metrics: boolean; logs: boolean };
}

type Env = Record<string, string | undefined>;

/**
 * Whether the SDK is disabled: the `disabled` option, else `OTEL_SDK_DISABLED`
 * (`true`, any case, disables it; any other value does not).
 */
export function sdkDisabled(options: MmapSdkOptions, env: Env = process.env): boolean {
  return options.disabled ?? env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true';
}

/** Resolves options and environment; throws a clear error on a bad SDK option. */
export function resolveConfig(options: MmapSdkOptions, env: Env = process.env): ResolvedConfig {
  const path = options.path ?? nonEmpty(env.SDK_MMAP_EXPORTER_FILE);
  if (path === undefined || path === '') {
    throw new Error('otlp-mmap: no file to write to: pass the `path` option or set SDK_MMAP_EXPORTER_FILE');
  }
  const sampler = options.sampler ?? samplerFromEnv(env);
  const generalCount = otelInt(env, 'OTEL_ATTRIBUTE_COUNT_LIMIT');
  const generalLength = otelInt(env, 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT');
  const sl = options.spanLimits ?? {};
  const ll = options.logRecordLimits ?? {};
  const histogram = options.histogramAggregation ?? nonEmpty(env.SDK_MMAP_HISTOGRAM_AGGREGATION) ?? 'explicit';
  if (histogram !== 'explicit' && histogram !== 'exponential') {
    throw new Error(`otlp-mmap: histogramAggregation must be "explicit" or "exponential", not ${JSON.stringify(histogram)}`);
  }
  const interval = options.metricCollectionIntervalMillis ?? otelInt(env, 'OTEL_METRIC_EXPORT_INTERVAL') ?? DEFAULT_METRIC_INTERVAL_MS;
  if (!(interval > 0) || !Number.isFinite(interval)) {
    throw new Error(`otlp-mmap: metricCollectionIntervalMillis must be a positive number, not ${interval}`);
  }
  return {
    path,
    attach: options.attach ?? sdkBool(env, 'SDK_MMAP_ATTACH') ?? false,
    spans: ring('spans', 'SPANS', options.spans, DEFAULT_SPANS, env),
    events: ring('events', 'EVENTS', options.events, DEFAULT_EVENTS, env),
    measurements: ring('measurements', 'MEASUREMENTS', options.measurements, DEFAULT_MEASUREMENTS, env),
    dictionarySize: positive('dictionarySize', options.dictionarySize ?? sdkInt(env, 'SDK_MMAP_DICTIONARY_SIZE') ?? DEFAULT_DICTIONARY_SIZE),
    maxFileSize: optionalPositive('maxFileSize', options.maxFileSize ?? sdkInt(env, 'SDK_MMAP_MAX_FILE_SIZE')),
    fileMode: options.fileMode,
    sampler,
    defaultSampler: options.sampler === undefined && isDefaultSamplerEnv(env),
    spanLimits: {
      attributeCountLimit: limit(sl.attributeCountLimit ?? otelInt(env, 'OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT') ?? generalCount, 128),
      attributeValueLengthLimit: limit(sl.attributeValueLengthLimit ?? otelInt(env, 'OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT') ?? generalLength, Infinity),
      eventCountLimit: limit(sl.eventCountLimit ?? otelInt(env, 'OTEL_SPAN_EVENT_COUNT_LIMIT'), 128),
      linkCountLimit: limit(sl.linkCountLimit ?? otelInt(env, 'OTEL_SPAN_LINK_COUNT_LIMIT'), 128),
      attributePerEventCountLimit: limit(sl.attributePerEventCountLimit ?? otelInt(env, 'OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT'), 128),
      attributePerLinkCountLimit: limit(sl.attributePerLinkCountLimit ?? otelInt(env, 'OTEL_LINK_ATTRIBUTE_COUNT_LIMIT'), 128),
    },
    logLimits: {
      attributeCountLimit: limit(ll.attributeCountLimit ?? otelInt(env, 'OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT') ?? generalCount, 128),
      attributeValueLengthLimit: limit(ll.attributeValueLengthLimit ?? otelInt(env, 'OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT') ?? generalLength, Infinity),
    },
    metricIntervalMs: interval,
    exponentialHistograms: histogram === 'exponential',
    registerGlobals: options.registerGlobals ?? true,
    propagator: options.propagator !== undefined ? (options.propagator ?? undefined) : propagatorFromEnv(env),
    signals: {
      traces: signalExported(env, 'OTEL_TRACES_EXPORTER'),
      metrics: signalExported(env, 'OTEL_METRICS_EXPORTER'),
      logs: signalExported(env, 'OTEL_LOGS_EXPORTER'),
    },
  };
}

/**
 * Whether a signal is written, from its `OTEL_<SIGNAL>_EXPORTER` list
 * (comma-separated). The mmap file is this SDK's exporter — the collector
 * exports OTLP — so `otlp` (the default) keeps the signal on and `none` turns
 * it off (it wins when listed with others, with a diag warning). Other
 * exporters (`console`, `zipkin`, `prometheus`, ...) do not exist here: they
 * are reported to diag and the signal stays on.
 */
function signalExported(env: Env, name: string): boolean {
  const values = [
    ...new Set(
      (env[name] ?? '')
        .split(',')
        .map((v) => v.trim().toLowerCase())
        .filter((v) => v !== ''),
    ),
  ];
  for (const value of values) {
    if (value !== 'otlp' && value !== 'none') {
      diag.warn(
        `otlp-mmap: ${name}=${JSON.stringify(value)} is not supported: this SDK writes into the mmap file ` +
          '(its collector exports OTLP); only "otlp" and "none" are accepted',
      );
    }
  }
  if (!values.includes('none')) return true;
  if (values.length > 1) diag.warn(`otlp-mmap: ${name} lists "none" with other exporters; the signal is off`);
  return false;
}

/** The propagators `OTEL_PROPAGATORS` may name (those of `@opentelemetry/sdk-node`). */
const PROPAGATORS: Record<string, () => TextMapPropagator> = {
  tracecontext: () => new W3CTraceContextPropagator(),
  baggage: () => new W3CBaggagePropagator(),
  b3: () => new B3Propagator(),
  b3multi: () => new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER }),
  jaeger: () => new JaegerPropagator(),
};

/**
 * The propagator `OTEL_PROPAGATORS` names (comma-separated; default
 * `tracecontext,baggage`): `tracecontext`, `baggage`, `b3` (single header),
 * `b3multi`, `jaeger`. `none` alone registers none; other names (xray,
 * ottrace, ...) are skipped with a diag warning.
 */
function propagatorFromEnv(env: Env): TextMapPropagator | undefined {
  const raw = nonEmpty(env.OTEL_PROPAGATORS) ?? 'tracecontext,baggage';
  const names = [
    ...new Set(
      raw
        .split(',')
        .map((n) => n.trim().toLowerCase())
        .filter((n) => n !== ''),
    ),
  ];
  const propagators: TextMapPropagator[] = [];
  for (const name of names) {
    const make = Object.hasOwn(PROPAGATORS, name) ? PROPAGATORS[name] : undefined;
    if (make !== undefined) propagators.push(make());
    else if (name !== 'none') diag.warn(`otlp-mmap: OTEL_PROPAGATORS: propagator ${JSON.stringify(name)} is not supported; skipped`);
  }
  if (names.includes('none')) {
    if (names.length > 1) diag.warn('otlp-mmap: OTEL_PROPAGATORS lists "none" with other propagators; registering none');
    return undefined;
  }
  return propagators.length === 0 ? undefined : propagators.length === 1 ? propagators[0] : new CompositePropagator({ propagators });
}

function ring(name: string, envName: string, given: RingSizeOptions | undefined, defaults: Required<RingSizeOptions>, env: Env): Required<RingSizeOptions> {
  const slots = given?.slots ?? sdkInt(env, `SDK_MMAP_${envName}_SLOTS`) ?? defaults.slots;
  const slotSize = given?.slotSize ?? sdkInt(env, `SDK_MMAP_${envName}_SLOT_SIZE`) ?? defaults.slotSize;
  if (!Number.isInteger(slots) || slots < 1 || (slots & (slots - 1)) !== 0 || slots > 2 ** 30) {
    throw new Error(`otlp-mmap: ${name}.slots must be a power of two (1 to 2^30), not ${slots}`);
  }
  if (!Number.isInteger(slotSize) || slotSize < 64 || slotSize % 8 !== 0 || slotSize > 2 ** 26) {
    throw new Error(`otlp-mmap: ${name}.slotSize must be a multiple of 8 between 64 and 64 MiB, not ${slotSize}`);
  }
  return { slots, slotSize };
}

function nonEmpty(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v === undefined || v === '' ? undefined : v;
}

function sdkInt(env: Env, name: string): number | undefined {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`otlp-mmap: ${name} must be a positive integer, not ${JSON.stringify(raw)}`);
  return n;
}

function sdkBool(env: Env, name: string): boolean | undefined {
  const raw = nonEmpty(env[name])?.toLowerCase();
  if (raw === undefined) return undefined;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new Error(`otlp-mmap: ${name} must be true or false, not ${JSON.stringify(env[name])}`);
}

function otelInt(env: Env, name: string): number | undefined {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) {
    diag.warn(`otlp-mmap: ignoring ${name}=${JSON.stringify(raw)} (not a non-negative integer)`);
    return undefined;
  }
  return n;
}

function positive(name: string, n: number): number {
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`otlp-mmap: ${name} must be a positive integer, not ${n}`);
  return n;
}

function optionalPositive(name: string, n: number | undefined): number | undefined {
  return n === undefined ? undefined : positive(name, n);
}

function limit(value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(value >= 0)) {
    diag.warn(`otlp-mmap: ignoring a negative limit (${value})`);
    return fallback;
  }
  return value;
}

const SAMPLER_NAMES = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'];

function samplerName(env: Env): string {
  const name = nonEmpty(env.OTEL_TRACES_SAMPLER)?.toLowerCase() ?? 'parentbased_always_on';
  if (!SAMPLER_NAMES.includes(name)) {
    diag.warn(`otlp-mmap: OTEL_TRACES_SAMPLER=${JSON.stringify(name)} is not supported; using parentbased_always_on`);
    return 'parentbased_always_on';
  }
  return name;
}

function isDefaultSamplerEnv(env: Env): boolean {
  return samplerName(env) === 'parentbased_always_on';
}

/** The sampler named by OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG. */
export function samplerFromEnv(env: Env): Sampler {
  const ratio = (): number => {
    const raw = nonEmpty(env.OTEL_TRACES_SAMPLER_ARG);
    if (raw === undefined) return 1;
    const r = Number(raw);
    if (!(r >= 0 && r <= 1)) {
      diag.warn(`otlp-mmap: OTEL_TRACES_SAMPLER_ARG=${JSON.stringify(raw)} is not a ratio in [0, 1]; using 1`);
      return 1;
    }
    return r;
  };
  switch (samplerName(env)) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio());
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio()) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}
