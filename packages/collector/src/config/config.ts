import type { FileSetting, TlsSettings } from '../export/tls.js';
import { parseTemporalityPreference, type TemporalityPreference } from '../metrics/index.js';
import { parseArguments } from './arguments.js';
import { ConfigError } from './config-error.js';
import { envValue, setting as settingOf, signalSetting, signalVariable } from './environment.js';
import { defaultReadBatch } from './read-batch.js';
import { integer, parseBoolean, parseEndpoint, parseHeaders, parseProtocol } from './values.js';

export { ConfigError } from './config-error.js';

/**
 * The collector's configuration: command-line flags and the standard
 * `OTEL_EXPORTER_OTLP_*` / `OTEL_METRIC_*` environment variables, read in
 * this one place (the option table: `options.ts`; the command line:
 * `arguments.ts`; which variable stands for which flag: `environment.ts`;
 * the values: `values.ts`). A flag wins over its environment variable; a
 * per-signal setting wins over the generic one.
 */

/** OTLP transport of one signal (`--protocol`, `OTEL_EXPORTER_OTLP_PROTOCOL`). */
export type OtlpProtocol = 'grpc' | 'http/protobuf' | 'http/json';

/** Telemetry signals, in the order they are configured and reported. */
export const SIGNALS = ['traces', 'logs', 'metrics'] as const;
/** One of {@link SIGNALS}. */
export type Signal = (typeof SIGNALS)[number];

/** Where one signal goes: OTLP JSON lines (`output`), or an OTLP endpoint. */
export type SignalTarget =
  | { readonly kind: 'json-lines' }
  | {
      readonly kind: 'otlp';
      readonly protocol: OtlpProtocol;
      /** Full URL: for HTTP the request URL, for gRPC the server address as a URL. */
      readonly url: string;
      /** Request headers (`--header`, `OTEL_EXPORTER_OTLP_HEADERS`), keys lower-cased. */
      readonly headers: Readonly<Record<string, string>>;
      /** Timeout of one export request (`--timeout`). */
      readonly timeoutMs: number;
      readonly compression: 'gzip' | 'none';
      /** Certificate files (read when the exporters start, see `export/tls.ts`). */
      readonly tls: TlsSettings;
      /** `OTEL_EXPORTER_OTLP_INSECURE` (or its per-signal form, or `--insecure`) when set: it decided the scheme of a gRPC endpoint given without one. */
      readonly insecure?: { readonly value: boolean; readonly what: string };
    };

/** Retry policy of the exporters. */
export interface RetryConfig {
  /** First backoff after a failed export (`--retry-initial`). */
  readonly initialBackoffMs: number;
  /** Largest backoff (`--retry-max`). */
  readonly maxBackoffMs: number;
  /** A batch still failing after this long since its first attempt is dropped (counted). */
  readonly maxElapsedMs: number;
}

/**
 * Everything a collector run needs; {@link parseConfig} builds it from the
 * command's flags and environment variables (the flag each field comes from
 * is named; `otlp-mmap-collector --help` and the package README say more).
 */
export interface CollectorConfig {
  /** `run`: follow the file until stopped; `dump`: read it once. */
  readonly command: 'run' | 'dump';
  /** The OTLP-MMAP file (`--input`, `SDK_MMAP_EXPORTER_FILE`). */
  readonly input: string;
  /** JSON-lines destination for signals without an endpoint; undefined = stdout. */
  readonly output: string | undefined;
  readonly targets: Readonly<Record<Signal, SignalTarget>>;
  readonly retry: RetryConfig;
  /** Export queue capacity per signal, in items (spans, log records, metric data points). */
  readonly queueSize: number;
  /** Spans or log records per export request, at most (`--batch-size`). */
  readonly batchSize: number;
  /**
   * Encoded bytes per export request, at most (`--batch-bytes`): a batch
   * whose encoding is larger is split into requests under it (a single
   * larger item still goes, alone).
   */
  readonly batchBytes: number;
  /** A partial batch is exported after this long (`--batch-timeout`). */
  readonly batchTimeoutMs: number;
  /** A span not ended after this long is exported as incomplete (`--span-max-age`). */
  readonly spanMaxAgeMs: number;
  /** Open spans kept at most; the oldest beyond are exported as incomplete (`--max-active-spans`). */
  readonly maxActiveSpans: number;
  /** Metric collection and export period (`--metric-interval`). */
  readonly metricIntervalMs: number;
  /** Export temporality of metrics (`--temporality`). */
  readonly temporality: TemporalityPreference;
  /** Series per metric stream (`--cardinality-limit`). */
  readonly cardinalityLimit: number;
  /** Idle wait between reads of the rings (`--poll-interval`): the first wait after a read that found nothing. */
  readonly pollIntervalMs: number;
  /**
   * The longest idle wait (`--max-poll-interval`, never below
   * `pollIntervalMs`): while the rings stay empty, the wait is a quarter of
   * how long they have been empty, between the two; a read that finds
   * something starts again from `pollIntervalMs`.
   */
  readonly maxPollIntervalMs: number;
  /** Messages read per ring per poll (`--read-batch`). */
  readonly readBatch: number;
  /** Most bytes one read of a ring returns (a single larger message is still read, alone). */
  readonly readBytes: number;
  /** A slot claimed and left uncommitted this long is skipped (`--uncommitted-timeout`, FORMAT.md 7.8). */
  readonly uncommittedTimeoutMs: number;
  /** 0 = wait forever for the input file. */
  readonly waitTimeoutMs: number;
  /** Bound on the final drain and flush when stopped (`--shutdown-timeout`). */
  readonly shutdownTimeoutMs: number;
  /** 0 = no periodic status line. */
  readonly statsIntervalMs: number;
  /** Whether the collector exports metrics of its own (`--self-metrics`, see `telemetry/`). */
  readonly selfMetrics: boolean;
}

/**
 * Default `--read-bytes`: what one read of a ring holds at most. Slots may
 * be up to 16 MiB, so a read of 1024 messages could otherwise hold 16 GiB.
 */
export const DEFAULT_READ_BYTES = 64 * 1024 * 1024;

/**
 * Default `--batch-size`. Fewer, larger requests cost less per item, but a
 * batch's spans stay objects until it is encoded: at 8192 (the OpenTelemetry
 * Collector batch processor's `send_batch_size`) they outlive V8's young
 * generation, and the benchmark needed more CPU and RSS than with 1024-4096
 * (the package README has the figures).
 */
export const DEFAULT_BATCH_SIZE = 2048;

/**
 * Default `--batch-bytes`: 3 MiB, safely under the 4 MiB that gRPC servers
 * (the OpenTelemetry Collector's OTLP receiver among them) accept by default
 * in one message.
 */
export const DEFAULT_BATCH_BYTES = 3 * 1024 * 1024;

const SIGNAL_PATH: Record<Signal, string> = { traces: 'v1/traces', logs: 'v1/logs', metrics: 'v1/metrics' };

/**
 * Builds the configuration from arguments (without the node/script prefix)
 * and an environment. Throws {@link ConfigError} with a one-line message.
 *
 * @param argv the command's arguments: `['--input', file, '--endpoint', url]`,
 *   `['dump', file]`, ...
 * @param env where the `OTEL_EXPORTER_OTLP_*` and other variables are read.
 */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CollectorConfig {
  const { positional, flags } = parseArguments(argv);
  let command: 'run' | 'dump' = 'run';
  let input: string | undefined;
  if (positional[0] === 'dump') {
    command = 'dump';
    if (positional.length !== 2) throw new ConfigError('usage: otlp-mmap-collector dump FILE [--output FILE]');
    input = positional[1];
    if (flags.has('input')) throw new ConfigError('dump takes the file as its argument, not --input');
  } else if (positional.length > 0) {
    throw new ConfigError(`unexpected argument "${positional[0]}" (see --help)`);
  }

  const flag = (name: string): string | undefined => flags.get(name)?.[0];
  /** Flag, else its environment variable. */
  const setting = (name: string) => settingOf(flags, env, name);
  const num = (name: string, dflt: number, min = 0): number => {
    const s = setting(name);
    return s === undefined ? dflt : integer(s.value, s.what, min);
  };

  input ??= setting('input')?.value;
  if (!input) throw new ConfigError('no input file: give --input FILE or set SDK_MMAP_EXPORTER_FILE');

  const generic = setting('endpoint');
  const flagHeaders: Record<string, string> = {};
  for (const h of flags.get('header') ?? []) Object.assign(flagHeaders, parseHeaders(h, '--header'));

  const targets = {} as Record<Signal, SignalTarget>;
  for (const signal of SIGNALS) {
    const perSignal = setting(`${signal}-endpoint`);
    /** Flag, else the signal's variable, else the generic variable. */
    const signalOrGeneric = (name: string, suffix: string) => signalSetting(flags, env, name, signal, suffix);
    const protoSetting = signalOrGeneric('protocol', 'PROTOCOL');
    const protocol = protoSetting ? parseProtocol(protoSetting.value, protoSetting.what) : 'http/protobuf';
    const insecureSetting = signalOrGeneric('insecure', 'INSECURE');
    const insecure = insecureSetting ? { value: parseBoolean(insecureSetting.value, insecureSetting.what), what: insecureSetting.what } : undefined;
    let url: string | undefined;
    if (perSignal) url = parseEndpoint(perSignal.value, perSignal.what, protocol, insecure?.value ?? false).toString();
    else if (generic) {
      const genericUrl = parseEndpoint(generic.value, generic.what, protocol, insecure?.value ?? false);
      if (protocol === 'grpc') url = genericUrl.toString();
      else {
        const base = genericUrl.toString();
        url = `${base.endsWith('/') ? base : `${base}/`}${SIGNAL_PATH[signal]}`;
      }
    }
    // `dump` always writes JSON lines: it is a read-out, not an exporter.
    if (url === undefined || command === 'dump') {
      targets[signal] = { kind: 'json-lines' };
      continue;
    }
    const timeoutSetting = signalOrGeneric('timeout', 'TIMEOUT');
    const timeoutMs = timeoutSetting ? integer(timeoutSetting.value, timeoutSetting.what, 1) : 10000;
    const compSetting = signalOrGeneric('compression', 'COMPRESSION');
    const compression = compSetting?.value ?? 'none';
    if (compression !== 'gzip' && compression !== 'none') {
      throw new ConfigError(`${compSetting!.what}: expected gzip or none, got "${compression}"`);
    }
    const headers: Record<string, string> = {};
    const genericHeaders = envValue(env, 'OTEL_EXPORTER_OTLP_HEADERS');
    if (genericHeaders) Object.assign(headers, parseHeaders(genericHeaders, 'OTEL_EXPORTER_OTLP_HEADERS'));
    const signalHeaders = signalVariable(env, signal, 'HEADERS');
    if (signalHeaders) Object.assign(headers, parseHeaders(signalHeaders.value, signalHeaders.what));
    Object.assign(headers, flagHeaders);
    const file = (name: string, suffix: string): FileSetting | undefined => {
      const s = signalOrGeneric(name, suffix);
      return s === undefined ? undefined : { path: s.value, what: s.what };
    };
    const tls: TlsSettings = {
      certificate: file('certificate', 'CERTIFICATE'),
      clientKey: file('client-key', 'CLIENT_KEY'),
      clientCertificate: file('client-certificate', 'CLIENT_CERTIFICATE'),
    };
    targets[signal] = { kind: 'otlp', protocol, url, headers, timeoutMs, compression, tls, ...(insecure ? { insecure } : {}) };
  }

  const selfMetricsSetting = setting('self-metrics');
  if (selfMetricsSetting !== undefined && selfMetricsSetting.value !== 'on' && selfMetricsSetting.value !== 'off') {
    throw new ConfigError(`${selfMetricsSetting.what}: expected on or off, got "${selfMetricsSetting.value}"`);
  }
  // Default: on when the metrics go to an OTLP endpoint; never for `dump`, a read-out of the file alone.
  const selfMetrics = command === 'run' && (selfMetricsSetting ? selfMetricsSetting.value === 'on' : targets.metrics.kind === 'otlp');

  const temporalitySetting = setting('temporality');
  const temporality = parseTemporalityPreference(temporalitySetting?.value);
  if (temporality === undefined) {
    throw new ConfigError(`${temporalitySetting!.what}: expected cumulative, delta, lowmemory or source, got "${temporalitySetting!.value}"`);
  }

  const retry: RetryConfig = {
    initialBackoffMs: num('retry-initial', 1000, 1),
    maxBackoffMs: num('retry-max', 5000, 1),
    maxElapsedMs: num('retry-max-elapsed', 300000, 0),
  };
  if (retry.maxBackoffMs < retry.initialBackoffMs) throw new ConfigError('--retry-max must not be below --retry-initial');

  const pollIntervalMs = num('poll-interval', 10, 1);
  return {
    command,
    input,
    output: flag('output'),
    targets,
    retry,
    queueSize: num('queue-size', 20000, 1),
    batchSize: num('batch-size', DEFAULT_BATCH_SIZE, 1),
    batchBytes: num('batch-bytes', DEFAULT_BATCH_BYTES, 1),
    batchTimeoutMs: num('batch-timeout', 1000, 1),
    spanMaxAgeMs: num('span-max-age', 600000, 1),
    maxActiveSpans: num('max-active-spans', 100000, 1),
    metricIntervalMs: num('metric-interval', 60000, 1),
    temporality,
    cardinalityLimit: num('cardinality-limit', 2000, 1),
    pollIntervalMs,
    maxPollIntervalMs: Math.max(pollIntervalMs, num('max-poll-interval', 200, 1)),
    readBatch: num('read-batch', defaultReadBatch(), 1),
    readBytes: num('read-bytes', DEFAULT_READ_BYTES, 1),
    uncommittedTimeoutMs: num('uncommitted-timeout', 2000, 0),
    waitTimeoutMs: num('wait-timeout', 0, 0),
    shutdownTimeoutMs: num('shutdown-timeout', 10000, 1),
    statsIntervalMs: flags.has('stats') ? num('stats-interval', 10000, 1) : 0,
    selfMetrics,
  };
}
