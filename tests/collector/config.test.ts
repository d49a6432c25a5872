// Configuration: flags and the standard OTEL_EXPORTER_OTLP_* variables.
import { execFileSync } from 'node:child_process';
import test from 'ava';
import { ConfigError, parseConfig } from '@otlp-mmap/collector';
import { defaultReadBatch } from '../../packages/collector/src/config/read-batch.js';

const otlp = (c: ReturnType<typeof parseConfig>, s: 'traces' | 'logs' | 'metrics') => {
  const target = c.targets[s];
  if (target.kind !== 'otlp') throw new Error(`${s} is not OTLP`);
  return target;
};

test('the generic HTTP endpoint gets /v1/<signal> appended; per-signal endpoints are used as-is', (t) => {
  const c = parseConfig([], {
    SDK_MMAP_EXPORTER_FILE: '/tmp/x',
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/base',
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://metrics:9000/custom',
  });
  t.is(c.input, '/tmp/x');
  t.is(otlp(c, 'traces').url, 'http://collector:4318/base/v1/traces');
  t.is(otlp(c, 'logs').url, 'http://collector:4318/base/v1/logs');
  t.is(otlp(c, 'metrics').url, 'http://metrics:9000/custom');
  t.is(otlp(c, 'traces').protocol, 'http/protobuf');
});

test('per-signal protocol, headers, timeout and compression override the generic ones; flags override both', (t) => {
  const env = {
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
    OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_HEADERS: 'a=1,b=2',
    OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'b=3',
    OTEL_EXPORTER_OTLP_TIMEOUT: '5000',
    OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '7000',
    OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
  };
  const c = parseConfig(['--input', 'f'], env);
  t.is(otlp(c, 'traces').protocol, 'grpc');
  t.is(otlp(c, 'traces').url, 'http://c:4317/');
  t.is(otlp(c, 'logs').protocol, 'http/json');
  t.is(otlp(c, 'logs').url, 'http://c:4317/v1/logs');
  t.deepEqual(otlp(c, 'traces').headers, { a: '1', b: '3' });
  t.deepEqual(otlp(c, 'logs').headers, { a: '1', b: '2' });
  t.is(otlp(c, 'traces').timeoutMs, 5000);
  t.is(otlp(c, 'metrics').timeoutMs, 7000);
  t.is(otlp(c, 'logs').compression, 'gzip');
  const flagged = parseConfig(['--input', 'f', '--protocol', 'http/protobuf', '--timeout', '100', '--header', 'b=9'], env);
  t.is(otlp(flagged, 'logs').protocol, 'http/protobuf');
  t.is(otlp(flagged, 'metrics').timeoutMs, 100);
  t.is(otlp(flagged, 'traces').headers.b, '9');
});

test('without any endpoint every signal goes to the JSON-lines default', (t) => {
  const c = parseConfig(['--input', 'f', '--output', 'o.jsonl'], {});
  t.deepEqual(
    Object.values(c.targets).map((x) => x.kind),
    ['json-lines', 'json-lines', 'json-lines'],
  );
  t.is(c.output, 'o.jsonl');
});

test('the metric interval and temporality come from OTEL_METRIC_EXPORT_INTERVAL and the temporality preference', (t) => {
  const c = parseConfig(['--input', 'f'], { OTEL_METRIC_EXPORT_INTERVAL: '1500', OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'Delta' });
  t.is(c.metricIntervalMs, 1500);
  t.is(c.temporality, 'delta');
  t.is(parseConfig(['--input', 'f'], {}).metricIntervalMs, 60000);
});

test('invalid values are refused with a message naming the setting', (t) => {
  const bad: [string[], Record<string, string>, RegExp][] = [
    [['--input', 'f'], { OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift' }, /OTEL_EXPORTER_OTLP_PROTOCOL/],
    [['--input', 'f'], { OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://x' }, /http:\/\/ or https:\/\//],
    [['--input', 'f', '--endpoint', 'http://x', '--compression', 'zstd'], {}, /--compression/],
    [['--input', 'f', '--temporality', 'sometimes'], {}, /--temporality/],
    [['--input', 'f', '--header', 'novalue'], {}, /--header/],
    [['dump'], {}, /usage/],
  ];
  for (const [argv, env, message] of bad) t.throws(() => parseConfig(argv, env), { instanceOf: ConfigError, message });
});

test('the read batch defaults to 1024 with a 16 MB young generation and to 256 with a small one', (t) => {
  t.is(defaultReadBatch(16 * 1024 * 1024), 1024);
  t.is(defaultReadBatch(8 * 1024 * 1024), 256);
  t.is(parseConfig(['--input', 'x', '--read-batch', '64']).readBatch, 64);
});

test('the read batch follows the young generation node was started with', (t) => {
  const script = "import('@otlp-mmap/collector').then((m) => console.log(m.parseConfig(['--input', 'x']).readBatch))";
  const readBatch = (flags: string[]): number =>
    Number(execFileSync(process.execPath, [...flags, '--conditions=source', '--import=tsx', '--input-type=module', '-e', script], { encoding: 'utf8' }).trim());
  t.is(readBatch([]), 256);
  t.is(readBatch(['--min-semi-space-size=16']), 1024);
});

test('--read-bytes bounds a read in bytes: 64 MiB by default, SDK_MMAP_COLLECTOR_READ_BYTES, the flag winning', (t) => {
  t.is(parseConfig(['--input', 'x'], {}).readBytes, 64 * 1024 * 1024);
  t.is(parseConfig(['--input', 'x'], { SDK_MMAP_COLLECTOR_READ_BYTES: '1048576' }).readBytes, 1048576);
  t.is(parseConfig(['--input', 'x', '--read-bytes', '4096'], { SDK_MMAP_COLLECTOR_READ_BYTES: '1048576' }).readBytes, 4096);
  t.throws(() => parseConfig(['--input', 'x', '--read-bytes', '0'], {}), { instanceOf: ConfigError, message: /--read-bytes/ });
  t.throws(() => parseConfig(['--input', 'x'], { SDK_MMAP_COLLECTOR_READ_BYTES: '64MiB' }), {
    instanceOf: ConfigError,
    message: /SDK_MMAP_COLLECTOR_READ_BYTES/,
  });
});

test('batches hold up to 2048 items and 3 MiB encoded by default; OTEL_BSP_MAX_EXPORT_BATCH_SIZE, SDK_MMAP_COLLECTOR_BATCH_BYTES and the flags change them', (t) => {
  const defaults = parseConfig(['--input', 'x'], {});
  t.is(defaults.batchSize, 2048);
  t.is(defaults.batchBytes, 3 * 1024 * 1024);
  t.true(defaults.batchBytes < 4 * 1024 * 1024, "under gRPC's default 4 MiB message limit");
  const env = { OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '1000', SDK_MMAP_COLLECTOR_BATCH_BYTES: '1048576' };
  t.like(parseConfig(['--input', 'x'], env), { batchSize: 1000, batchBytes: 1048576 });
  t.like(parseConfig(['--input', 'x', '--batch-size', '10', '--batch-bytes', '5000'], env), { batchSize: 10, batchBytes: 5000 });
  t.throws(() => parseConfig(['--input', 'x', '--batch-bytes', '0'], {}), { instanceOf: ConfigError, message: /--batch-bytes/ });
});

test('the idle wait starts at --poll-interval and grows up to --max-poll-interval (200 ms by default, never below the poll interval)', (t) => {
  t.like(parseConfig(['--input', 'x'], {}), { pollIntervalMs: 10, maxPollIntervalMs: 200 });
  t.like(parseConfig(['--input', 'x', '--max-poll-interval', '500'], {}), { pollIntervalMs: 10, maxPollIntervalMs: 500 });
  t.like(parseConfig(['--input', 'x', '--poll-interval', '250'], {}), { pollIntervalMs: 250, maxPollIntervalMs: 250 });
});

test('a flag takes its value after = or as the next argument, even one that starts with a dash', (t) => {
  t.is(parseConfig(['--input=a=b'], {}).input, 'a=b');
  t.is(parseConfig(['--input', '--output'], {}).input, '--output');
  t.throws(() => parseConfig(['--input', 'f', '--timeout', '-5', '--endpoint', 'http://x'], {}), {
    instanceOf: ConfigError,
    message: '--timeout: expected a whole number, got "-5"',
  });
});

test('a repeated --header accumulates; any other repeated flag keeps its last value', (t) => {
  const c = parseConfig(['--input', 'a', '--input', 'b', '--endpoint', 'http://x', '--header', 'k1=v1', '--header=k2=v2'], {});
  t.is(c.input, 'b');
  t.deepEqual(otlp(c, 'traces').headers, { k1: 'v1', k2: 'v2' });
});

test("bad command lines are refused with the collector's own one-line messages", (t) => {
  const bad: [string[], string][] = [
    [['--input', 'f', '--nope=1'], 'unknown option --nope (see --help)'],
    [['--input', 'f', '--'], 'unknown option -- (see --help)'],
    [['--input'], 'option --input needs a value (FILE)'],
    [['--input', 'f', '--stats=yes'], 'option --stats takes no value'],
    [['--input', 'f', '-h'], 'unexpected argument "-h" (see --help)'],
    [['dump', 'f', '--input', 'g'], 'dump takes the file as its argument, not --input'],
  ];
  for (const [argv, message] of bad) t.throws(() => parseConfig(argv, {}), { instanceOf: ConfigError, message }, argv.join(' '));
});

test('certificate files come from the flag, else the per-signal variable, else the generic one; each remembers what named it', (t) => {
  const env = {
    OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c:4318',
    OTEL_EXPORTER_OTLP_CERTIFICATE: '/etc/ca.pem',
    OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: '/etc/traces-ca.pem',
    OTEL_EXPORTER_OTLP_CLIENT_KEY: '/etc/key.pem',
    OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE: '/etc/logs-cert.pem',
  };
  const c = parseConfig(['--input', 'f'], env);
  t.deepEqual(otlp(c, 'traces').tls.certificate, { path: '/etc/traces-ca.pem', what: 'OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE' });
  t.deepEqual(otlp(c, 'logs').tls.certificate, { path: '/etc/ca.pem', what: 'OTEL_EXPORTER_OTLP_CERTIFICATE' });
  t.deepEqual(otlp(c, 'logs').tls.clientKey, { path: '/etc/key.pem', what: 'OTEL_EXPORTER_OTLP_CLIENT_KEY' });
  t.deepEqual(otlp(c, 'logs').tls.clientCertificate, { path: '/etc/logs-cert.pem', what: 'OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE' });
  t.is(otlp(c, 'metrics').tls.clientCertificate, undefined);
  const flagged = parseConfig(
    ['--input', 'f', '--certificate', '/flag/ca.pem', '--client-key', '/flag/key.pem', '--client-certificate', '/flag/cert.pem'],
    env,
  );
  for (const signal of ['traces', 'logs', 'metrics'] as const) {
    t.deepEqual(otlp(flagged, signal).tls, {
      certificate: { path: '/flag/ca.pem', what: '--certificate' },
      clientKey: { path: '/flag/key.pem', what: '--client-key' },
      clientCertificate: { path: '/flag/cert.pem', what: '--client-certificate' },
    });
  }
});

test('a gRPC endpoint without a scheme is TLS unless OTEL_EXPORTER_OTLP_INSECURE=true; a scheme decides by itself', (t) => {
  const grpc = { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' };
  t.is(otlp(parseConfig(['--input', 'f'], { ...grpc, OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317' }), 'traces').url, 'https://collector:4317/');
  const insecure = parseConfig(['--input', 'f'], {
    ...grpc,
    OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317',
    OTEL_EXPORTER_OTLP_INSECURE: 'TRUE',
    OTEL_EXPORTER_OTLP_LOGS_INSECURE: 'false',
  });
  t.is(otlp(insecure, 'traces').url, 'http://collector:4317/');
  t.is(otlp(insecure, 'logs').url, 'https://collector:4317/', 'the per-signal variable wins');
  t.is(otlp(parseConfig(['--input', 'f', '--insecure', 'true'], { ...grpc, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'c:1' }), 'traces').url, 'http://c:1/');
  const schemes = parseConfig(['--input', 'f'], {
    ...grpc,
    OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c:4317',
    OTEL_EXPORTER_OTLP_INSECURE: 'true',
    OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://c:4317',
  });
  t.is(otlp(schemes, 'traces').url, 'https://c:4317/');
  t.is(otlp(schemes, 'logs').url, 'http://c:4317/');
  t.throws(() => parseConfig(['--input', 'f'], { ...grpc, OTEL_EXPORTER_OTLP_ENDPOINT: 'c:1', OTEL_EXPORTER_OTLP_INSECURE: 'yes' }), {
    instanceOf: ConfigError,
    message: 'OTEL_EXPORTER_OTLP_INSECURE: expected true or false, got "yes"',
  });
  t.throws(() => parseConfig(['--input', 'f'], { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }), { instanceOf: ConfigError }, 'HTTP needs a URL');
});

test("the collector's own metrics are on when metrics go to an OTLP endpoint, off for JSON lines and dump, and --self-metrics decides", (t) => {
  t.true(parseConfig(['--input', 'f', '--endpoint', 'http://c:4318'], {}).selfMetrics);
  t.false(parseConfig(['--input', 'f', '--endpoint', 'http://c:4318', '--metrics-endpoint', 'http://c:1/v1/metrics', '--self-metrics', 'off'], {}).selfMetrics);
  t.false(parseConfig(['--input', 'f', '--endpoint', 'http://c:4318'], { SDK_MMAP_COLLECTOR_SELF_METRICS: 'off' }).selfMetrics);
  t.false(parseConfig(['--input', 'f', '--traces-endpoint', 'http://c:4318/v1/traces'], {}).selfMetrics, 'metrics to JSON lines');
  t.true(parseConfig(['--input', 'f', '--self-metrics', 'on'], {}).selfMetrics);
  t.false(parseConfig(['dump', 'f', '--self-metrics', 'on'], {}).selfMetrics);
  t.throws(() => parseConfig(['--input', 'f', '--self-metrics', 'yes'], {}), {
    instanceOf: ConfigError,
    message: '--self-metrics: expected on or off, got "yes"',
  });
});
