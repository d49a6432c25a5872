import { getHeapSpaceStatistics } from 'node:v8';
import type { FileSetting, TlsSettings } from '../export/tls.js';
import { parseTemporalityPreference, type TemporalityPreference } from '../metrics/index.js';

/**
 * The collector's configuration: command-line flags and the standard
 * `OTEL_EXPORTER_OTLP_*` / `OTEL_METRIC_*` environment variables, read in
 * this one place. A flag wins over its environment variable; a per-signal
 * setting wins over the generic one.
 */

/** OTLP transport of one signal. */
export type OtlpProtocol = 'grpc' | 'http/protobuf' | 'http/json';

/** Telemetry signals, in the order they are configured and reported. */
export const SIGNALS = ['traces', 'logs', 'metrics'] as const;
export type Signal = (typeof SIGNALS)[number];

/** Where one signal goes. */
export type SignalTarget =
  | { readonly kind: 'json-lines' }
  | {
      readonly kind: 'otlp';
      readonly protocol: OtlpProtocol;
      /** Full URL: for HTTP the request URL, for gRPC the server address as a URL. */
      readonly url: string;
      readonly headers: Readonly<Record<string, string>>;
      readonly timeoutMs: number;
      readonly compression: 'gzip' | 'none';
      /** Certificate files (read when the exporters start, see `export/tls.ts`). */
      readonly tls: TlsSettings;
      /** `OTEL_EXPORTER_OTLP_INSECURE` (or its per-signal form, or `--insecure`) when set: it decided the scheme of a gRPC endpoint given without one. */
      readonly insecure?: { readonly value: boolean; readonly what: string };
    };

/** Retry policy of the exporters. */
export interface RetryConfig {
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /** A batch still failing after this long since its first attempt is dropped (counted). */
  readonly maxElapsedMs: number;
}

/** Everything a collector run needs. */
export interface CollectorConfig {
  readonly command: 'run' | 'dump';
  readonly input: string;
  /** JSON-lines destination for signals without an endpoint; undefined = stdout. */
  readonly output: string | undefined;
  readonly targets: Readonly<Record<Signal, SignalTarget>>;
  readonly retry: RetryConfig;
  /** Export queue capacity per signal, in items (spans, log records, metric data points). */
  readonly queueSize: number;
  readonly batchSize: number;
  readonly batchTimeoutMs: number;
  readonly spanMaxAgeMs: number;
  readonly maxActiveSpans: number;
  readonly metricIntervalMs: number;
  readonly temporality: TemporalityPreference;
  readonly cardinalityLimit: number;
  readonly pollIntervalMs: number;
  readonly readBatch: number;
  /** Most bytes one read of a ring returns (a single larger message is still read, alone). */
  readonly readBytes: number;
  readonly uncommittedTimeoutMs: number;
  /** 0 = wait forever for the input file. */
  readonly waitTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
  /** 0 = no periodic status line. */
  readonly statsIntervalMs: number;
  /** Whether the collector exports metrics of its own (see `telemetry/`). */
  readonly selfMetrics: boolean;
}

/**
 * Default `--read-bytes`: what one read of a ring holds at most. Slots may
 * be up to 16 MiB, so a read of 1024 messages could otherwise hold 16 GiB.
 */
export const DEFAULT_READ_BYTES = 64 * 1024 * 1024;

/** A configuration problem, reported as one line with a non-zero exit. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

interface OptionSpec {
  readonly name: string;
  readonly arg?: string;
  readonly env?: string;
  readonly help: string;
  readonly repeat?: boolean;
}

/** Every option, in the order `--help` lists them. */
export const OPTIONS: readonly OptionSpec[] = [
  { name: 'input', arg: 'FILE', env: 'SDK_MMAP_EXPORTER_FILE', help: 'OTLP-MMAP file to read; waits until it exists' },
  { name: 'output', arg: 'FILE', help: 'append OTLP JSON lines here for signals without an endpoint (default: stdout; created with mode 0600)' },
  { name: 'endpoint', arg: 'URL', env: 'OTEL_EXPORTER_OTLP_ENDPOINT', help: 'OTLP endpoint for all signals; HTTP adds /v1/traces, /v1/logs, /v1/metrics' },
  { name: 'traces-endpoint', arg: 'URL', env: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', help: 'endpoint for traces, used as-is' },
  { name: 'logs-endpoint', arg: 'URL', env: 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT', help: 'endpoint for logs, used as-is' },
  { name: 'metrics-endpoint', arg: 'URL', env: 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', help: 'endpoint for metrics, used as-is' },
  { name: 'protocol', arg: 'P', env: 'OTEL_EXPORTER_OTLP_PROTOCOL', help: 'grpc | http/protobuf | http/json (default http/protobuf); per signal: OTEL_EXPORTER_OTLP_{TRACES,LOGS,METRICS}_PROTOCOL' },
  { name: 'header', arg: 'K=V', env: 'OTEL_EXPORTER_OTLP_HEADERS', help: 'request header (repeatable; env: k=v,k2=v2, per signal too)', repeat: true },
  { name: 'timeout', arg: 'MS', env: 'OTEL_EXPORTER_OTLP_TIMEOUT', help: 'timeout of one export request (default 10000; per signal too)' },
  { name: 'compression', arg: 'C', env: 'OTEL_EXPORTER_OTLP_COMPRESSION', help: 'gzip | none (default none; per signal too)' },
  { name: 'certificate', arg: 'FILE', env: 'OTEL_EXPORTER_OTLP_CERTIFICATE', help: "PEM file of the CA certificates trusted for TLS, instead of the system's (per signal too)" },
  { name: 'client-key', arg: 'FILE', env: 'OTEL_EXPORTER_OTLP_CLIENT_KEY', help: 'PEM file of the private key for mTLS, with --client-certificate (per signal too)' },
  { name: 'client-certificate', arg: 'FILE', env: 'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE', help: 'PEM file of the client certificate (chain) for mTLS (per signal too)' },
  { name: 'insecure', arg: 'BOOL', env: 'OTEL_EXPORTER_OTLP_INSECURE', help: 'true: plaintext gRPC to an endpoint given without http:// or https:// (default false: TLS; the scheme, when given, decides; per signal too)' },
  { name: 'queue-size', arg: 'N', help: 'export queue capacity per signal in items; when full, reading stops (default 20000)' },
  { name: 'retry-initial', arg: 'MS', help: 'first retry backoff (default 1000)' },
  { name: 'retry-max', arg: 'MS', help: 'largest retry backoff (default 5000)' },
  { name: 'retry-max-elapsed', arg: 'MS', help: 'drop a batch still failing after this long (default 300000)' },
  { name: 'batch-size', arg: 'N', env: 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', help: 'spans / log records per export (default 512)' },
  { name: 'batch-timeout', arg: 'MS', env: 'OTEL_BSP_SCHEDULE_DELAY', help: 'ship a partial batch after this long (default 1000)' },
  { name: 'span-max-age', arg: 'MS', help: 'a span not ended after this long is exported as incomplete (default 600000)' },
  { name: 'max-active-spans', arg: 'N', help: 'at most this many open spans; the oldest are exported as incomplete (default 100000)' },
  { name: 'metric-interval', arg: 'MS', env: 'OTEL_METRIC_EXPORT_INTERVAL', help: 'metric collection and export interval (default 60000)' },
  { name: 'temporality', arg: 'T', env: 'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', help: 'cumulative | delta | lowmemory | source (source: as each MetricRef says; default cumulative)' },
  { name: 'cardinality-limit', arg: 'N', env: 'OTEL_METRIC_CARDINALITY_LIMIT', help: 'series per metric stream (default 2000)' },
  { name: 'poll-interval', arg: 'MS', help: 'idle wait between reads of the rings, and between looks for a missing or replaced input file (at most 50 ms) (default 10)' },
  { name: 'read-batch', arg: 'N', help: "messages read per ring per poll (default 1024; 256 when V8's young generation starts small, as in plain `node` without --min-semi-space-size)" },
  { name: 'read-bytes', arg: 'N', env: 'SDK_MMAP_COLLECTOR_READ_BYTES', help: 'bytes read per ring per poll, at most (a single larger message is still read, alone; default 67108864 = 64 MiB)' },
  { name: 'uncommitted-timeout', arg: 'MS', help: 'skip a claimed slot left uncommitted this long (FORMAT 7.8; default 2000)' },
  { name: 'wait-timeout', arg: 'MS', help: 'give up when the input file does not appear in time (default 0 = wait forever)' },
  { name: 'shutdown-timeout', arg: 'MS', help: 'bound on the final drain and flush at SIGTERM/SIGINT (default 10000)' },
  { name: 'stats', help: 'print a status line to stderr periodically (see --stats-interval)' },
  { name: 'stats-interval', arg: 'MS', help: 'status line period with --stats (default 10000)' },
  { name: 'self-metrics', arg: 'on|off', env: 'SDK_MMAP_COLLECTOR_SELF_METRICS', help: "export the collector's own metrics with the metrics, at --metric-interval (default: on when metrics go to an OTLP endpoint, off for JSON lines)" },
  { name: 'help', help: 'show this help' },
];

/** The `--help` text. */
export function helpText(): string {
  const lines = [
    'Usage: otlp-mmap-collector [options]            run beside the application, export until SIGTERM/SIGINT',
    '       otlp-mmap-collector dump FILE [options]  read FILE once, write everything unread as OTLP JSON lines, exit',
    '',
    'Without any endpoint, signals are written as OTLP JSON lines (one Export*ServiceRequest per line).',
    '',
    'Options (flag beats environment variable):',
  ];
  for (const o of OPTIONS) {
    const flag = `--${o.name}${o.arg ? ` ${o.arg}` : ''}`;
    lines.push(`  ${flag.padEnd(26)} ${o.help}${o.env ? ` [${o.env}]` : ''}`);
  }
  return lines.join('\n');
}

type Flags = Map<string, string[]>;

function parseArgv(argv: readonly string[]): { positional: string[]; flags: Flags } {
  const positional: string[] = [];
  const flags: Flags = new Map();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const spec = OPTIONS.find((o) => o.name === name);
    if (!spec) throw new ConfigError(`unknown option --${name} (see --help)`);
    let value = '';
    if (spec.arg) {
      if (eq >= 0) value = arg.slice(eq + 1);
      else {
        if (i + 1 >= argv.length) throw new ConfigError(`option --${name} needs a value (${spec.arg})`);
        value = argv[++i];
      }
    } else if (eq >= 0) {
      throw new ConfigError(`option --${name} takes no value`);
    }
    // A repeatable option accumulates; any other takes its last value.
    flags.set(name, spec.repeat ? [...(flags.get(name) ?? []), value] : [value]);
  }
  return { positional, flags };
}

/** Whether the arguments ask for help. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

function envValue(env: NodeJS.ProcessEnv, name: string | undefined): string | undefined {
  if (!name) return undefined;
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function integer(text: string, what: string, min: number): number {
  if (!/^\d+$/.test(text.trim())) throw new ConfigError(`${what}: expected a whole number, got "${text}"`);
  const n = Number(text.trim());
  if (!Number.isSafeInteger(n) || n < min) throw new ConfigError(`${what}: must be at least ${min}, got "${text}"`);
  return n;
}

function parseHeaders(text: string, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ConfigError(`${what}: expected key=value, got "${part}"`);
    try {
      out[decodeURIComponent(part.slice(0, eq).trim()).toLowerCase()] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      throw new ConfigError(`${what}: bad percent-encoding in "${part}"`);
    }
  }
  return out;
}

function parseProtocol(text: string, what: string): OtlpProtocol {
  if (text === 'grpc' || text === 'http/protobuf' || text === 'http/json') return text;
  throw new ConfigError(`${what}: expected grpc, http/protobuf or http/json, got "${text}"`);
}

function parseBoolean(text: string, what: string): boolean {
  const lower = text.trim().toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  throw new ConfigError(`${what}: expected true or false, got "${text}"`);
}

/**
 * An endpoint URL. A gRPC endpoint may also be given as `host:port` without
 * a scheme; `insecure` then decides between plaintext (`http://`) and TLS
 * (`https://`, the default). A scheme, when given, decides.
 */
function parseEndpoint(text: string, what: string, protocol: OtlpProtocol, insecure: boolean): URL {
  if (protocol === 'grpc' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return parseUrl(`${insecure ? 'http' : 'https'}://${text}`, what);
  return parseUrl(text, what);
}

function parseUrl(text: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`${what}: not a URL: "${text}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${what}: expected an http:// or https:// URL, got "${text}"`);
  }
  return url;
}

const SIGNAL_PATH: Record<Signal, string> = { traces: 'v1/traces', logs: 'v1/logs', metrics: 'v1/metrics' };

/**
 * Builds the configuration from arguments (without the node/script prefix)
 * and an environment. Throws {@link ConfigError} with a one-line message.
 */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CollectorConfig {
  const { positional, flags } = parseArgv(argv);
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
  const spec = (name: string): OptionSpec => OPTIONS.find((o) => o.name === name)!;
  /** Flag, else its environment variable. */
  const setting = (name: string): { value: string; what: string } | undefined => {
    const f = flag(name);
    if (f !== undefined) return { value: f, what: `--${name}` };
    const envName = spec(name).env;
    const e = envValue(env, envName);
    return e === undefined ? undefined : { value: e, what: envName! };
  };
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
    const upper = signal.toUpperCase();
    const perSignal = setting(`${signal}-endpoint`);
    const perEnv = (suffix: string): { value: string; what: string } | undefined => {
      const name = `OTEL_EXPORTER_OTLP_${upper}_${suffix}`;
      const v = envValue(env, name);
      return v === undefined ? undefined : { value: v, what: name };
    };
    const protoSetting = (flag('protocol') !== undefined ? setting('protocol') : undefined) ?? perEnv('PROTOCOL') ?? setting('protocol');
    const protocol = protoSetting ? parseProtocol(protoSetting.value, protoSetting.what) : 'http/protobuf';
    /** The flag, else the per-signal variable, else the generic variable. */
    const signalSetting = (name: string, suffix: string): { value: string; what: string } | undefined =>
      (flag(name) !== undefined ? setting(name) : undefined) ?? perEnv(suffix) ?? setting(name);
    const insecureSetting = signalSetting('insecure', 'INSECURE');
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
    const timeoutSetting = (flag('timeout') !== undefined ? setting('timeout') : undefined) ?? perEnv('TIMEOUT') ?? setting('timeout');
    const timeoutMs = timeoutSetting ? integer(timeoutSetting.value, timeoutSetting.what, 1) : 10000;
    const compSetting = (flag('compression') !== undefined ? setting('compression') : undefined) ?? perEnv('COMPRESSION') ?? setting('compression');
    const compression = compSetting?.value ?? 'none';
    if (compression !== 'gzip' && compression !== 'none') {
      throw new ConfigError(`${compSetting!.what}: expected gzip or none, got "${compression}"`);
    }
    const headers: Record<string, string> = {};
    const genericHeaders = envValue(env, 'OTEL_EXPORTER_OTLP_HEADERS');
    if (genericHeaders) Object.assign(headers, parseHeaders(genericHeaders, 'OTEL_EXPORTER_OTLP_HEADERS'));
    const signalHeaders = perEnv('HEADERS');
    if (signalHeaders) Object.assign(headers, parseHeaders(signalHeaders.value, signalHeaders.what));
    Object.assign(headers, flagHeaders);
    const file = (name: string, suffix: string): FileSetting | undefined => {
      const s = signalSetting(name, suffix);
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

  return {
    command,
    input,
    output: flag('output'),
    targets,
    retry,
    queueSize: num('queue-size', 20000, 1),
    batchSize: num('batch-size', 512, 1),
    batchTimeoutMs: num('batch-timeout', 1000, 1),
    spanMaxAgeMs: num('span-max-age', 600000, 1),
    maxActiveSpans: num('max-active-spans', 100000, 1),
    metricIntervalMs: num('metric-interval', 60000, 1),
    temporality,
    cardinalityLimit: num('cardinality-limit', 2000, 1),
    pollIntervalMs: num('poll-interval', 10, 1),
    readBatch: num('read-batch', defaultReadBatch(), 1),
    readBytes: num('read-bytes', DEFAULT_READ_BYTES, 1),
    uncommittedTimeoutMs: num('uncommitted-timeout', 2000, 0),
    waitTimeoutMs: num('wait-timeout', 0, 0),
    shutdownTimeoutMs: num('shutdown-timeout', 10000, 1),
    statsIntervalMs: flags.has('stats') ? num('stats-interval', 10000, 1) : 0,
    selfMetrics,
  };
}

/**
 * The default `--read-batch`, from the size V8's young generation has when
 * the collector starts. With plain `node` it starts at 1 MB and grows slowly:
 * the spans of a large read outlive two young collections and are promoted,
 * and the old generation (RSS) grows in bursts — 10 pinned runs of the
 * benchmark peaked at 98–174 MB with 1024 and at 96–140 MB with 256. With
 * `--min-semi-space-size=16` (the `otlp-mmap-collector` command) it starts at
 * 16 MB, and 1024 was ~5 % faster than 256 in the same series.
 */
export function defaultReadBatch(youngGenerationBytes = startingYoungGeneration()): number {
  // Plain node's young generation has grown to 4–8 MB by the time the
  // configuration is read (module loading); only the flag gives 16 MB.
  return youngGenerationBytes >= 16 * 1024 * 1024 ? 1024 : 256;
}

function startingYoungGeneration(): number {
  return getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
}
