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
