/**
 * The collector's command-line options: one table that the argument parser,
 * the environment rules (which variable stands for a flag) and `--help` all
 * read.
 */

export interface OptionSpec {
  /** The flag without its dashes: `--name`. */
  readonly name: string;
  /** What the flag takes, as `--help` names it (`FILE`, `MS`); none for a switch. */
  readonly arg?: string;
  /** The environment variable the setting comes from when the flag is not given. */
  readonly env?: string;
  readonly help: string;
  /** Given several times, the flag accumulates its values instead of keeping the last. */
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
  {
    name: 'protocol',
    arg: 'P',
    env: 'OTEL_EXPORTER_OTLP_PROTOCOL',
    help: 'grpc | http/protobuf | http/json (default http/protobuf); per signal: OTEL_EXPORTER_OTLP_{TRACES,LOGS,METRICS}_PROTOCOL',
  },
  { name: 'header', arg: 'K=V', env: 'OTEL_EXPORTER_OTLP_HEADERS', help: 'request header (repeatable; env: k=v,k2=v2, per signal too)', repeat: true },
  { name: 'timeout', arg: 'MS', env: 'OTEL_EXPORTER_OTLP_TIMEOUT', help: 'timeout of one export request (default 10000; per signal too)' },
  { name: 'compression', arg: 'C', env: 'OTEL_EXPORTER_OTLP_COMPRESSION', help: 'gzip | none (default none; per signal too)' },
  {
    name: 'certificate',
    arg: 'FILE',
    env: 'OTEL_EXPORTER_OTLP_CERTIFICATE',
    help: "PEM file of the CA certificates trusted for TLS, instead of the system's (per signal too)",
  },
  {
    name: 'client-key',
    arg: 'FILE',
    env: 'OTEL_EXPORTER_OTLP_CLIENT_KEY',
    help: 'PEM file of the private key for mTLS, with --client-certificate (per signal too)',
  },
  {
    name: 'client-certificate',
    arg: 'FILE',
    env: 'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE',
    help: 'PEM file of the client certificate (chain) for mTLS (per signal too)',
  },
  {
    name: 'insecure',
    arg: 'BOOL',
    env: 'OTEL_EXPORTER_OTLP_INSECURE',
    help: 'true: plaintext gRPC to an endpoint given without http:// or https:// (default false: TLS; the scheme, when given, decides; per signal too)',
  },
  { name: 'queue-size', arg: 'N', help: 'export queue capacity per signal in items; when full, reading stops (default 20000)' },
  { name: 'retry-initial', arg: 'MS', help: 'first retry backoff (default 1000)' },
  { name: 'retry-max', arg: 'MS', help: 'largest retry backoff (default 5000)' },
  { name: 'retry-max-elapsed', arg: 'MS', help: 'drop a batch still failing after this long (default 300000)' },
  { name: 'batch-size', arg: 'N', env: 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', help: 'spans / log records per export request, at most (default 2048)' },
  {
    name: 'batch-bytes',
    arg: 'N',
    env: 'SDK_MMAP_COLLECTOR_BATCH_BYTES',
    help: "encoded bytes per export request, at most: larger batches are split (a single larger item goes alone; default 3145728 = 3 MiB, under gRPC's usual 4 MiB)",
  },
  { name: 'batch-timeout', arg: 'MS', env: 'OTEL_BSP_SCHEDULE_DELAY', help: 'ship a partial batch after this long (default 1000)' },
  { name: 'span-max-age', arg: 'MS', help: 'a span not ended after this long is exported as incomplete (default 600000)' },
  { name: 'max-active-spans', arg: 'N', help: 'at most this many open spans; the oldest are exported as incomplete (default 100000)' },
  { name: 'metric-interval', arg: 'MS', env: 'OTEL_METRIC_EXPORT_INTERVAL', help: 'metric collection and export interval (default 60000)' },
  {
    name: 'temporality',
    arg: 'T',
    env: 'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE',
    help: 'cumulative | delta | lowmemory | source (source: as each MetricRef says; default cumulative)',
  },
  { name: 'cardinality-limit', arg: 'N', env: 'OTEL_METRIC_CARDINALITY_LIMIT', help: 'series per metric stream (default 2000)' },
  {
    name: 'poll-interval',
    arg: 'MS',
    help: 'idle wait between reads of the rings, and between looks for a missing or replaced input file (at most 50 ms) (default 10)',
  },
  {
    name: 'max-poll-interval',
    arg: 'MS',
    help: 'while the rings stay empty, the idle wait grows to a quarter of how long they have been, up to this (default 200; at least --poll-interval)',
  },
  {
    name: 'read-batch',
    arg: 'N',
    help: "messages read per ring per poll (default 1024; 256 when V8's young generation starts small, as in plain `node` without --min-semi-space-size)",
  },
  {
    name: 'read-bytes',
    arg: 'N',
    env: 'SDK_MMAP_COLLECTOR_READ_BYTES',
    help: 'bytes read per ring per poll, at most (a single larger message is still read, alone; default 67108864 = 64 MiB)',
  },
  { name: 'uncommitted-timeout', arg: 'MS', help: 'skip a claimed slot left uncommitted this long (FORMAT 7.8; default 2000)' },
  { name: 'wait-timeout', arg: 'MS', help: 'give up when the input file does not appear in time (default 0 = wait forever)' },
  { name: 'shutdown-timeout', arg: 'MS', help: 'bound on the final drain and flush at SIGTERM/SIGINT (default 10000)' },
  { name: 'stats', help: 'print a status line to stderr periodically (see --stats-interval)' },
  { name: 'stats-interval', arg: 'MS', help: 'status line period with --stats (default 10000)' },
  {
    name: 'self-metrics',
    arg: 'on|off',
    env: 'SDK_MMAP_COLLECTOR_SELF_METRICS',
    help: "export the collector's own metrics with the metrics, at --metric-interval (default: on when metrics go to an OTLP endpoint, off for JSON lines)",
  },
  { name: 'help', help: 'show this help' },
];

/** The option named `name`, if there is one. */
export function optionNamed(name: string): OptionSpec | undefined {
  return OPTIONS.find((o) => o.name === name);
}
