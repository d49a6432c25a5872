// Export protocols and retries: the same data over gRPC, HTTP/protobuf,
// HTTP/JSON and the embedded JSON-lines default, chosen by the standard
// OTEL_EXPORTER_OTLP_* variables or flags.
import test from 'ava';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { fromJson, type ReceivedProtocol } from '../helpers/otlp-receiver.js';
import { runCollector, waitFor } from './support/collector-process.js';
import type { TestWriter } from './support/mmap-writer.js';
import { e2e } from './support/setup.js';

function writeSample(writer: TestWriter): void {
  const scope = writer.scope('lib', writer.resource({ 'service.name': 'proto-test' }));
  writer.startSpan(scope, 1, 1, 'op', { big: 9_007_199_254_740_993n, ratio: 0.25, raw: new Uint8Array([1, 2, 255]) });
  writer.spanEvent(scope, 1, 1, 'exception', { 'exception.message': 'x' });
  writer.endSpan(scope, 1, 1);
  writer.log(scope, 'hello', { n: -5 });
}

for (const [protocol, how] of [
  ['grpc', 'OTEL_EXPORTER_OTLP_PROTOCOL'],
  ['http/protobuf', 'OTEL_EXPORTER_OTLP_PROTOCOL'],
  ['http/json', 'OTEL_EXPORTER_OTLP_PROTOCOL'],
  ['http/json', '--protocol flag'],
] as const) {
  test(`${protocol} (chosen by ${how}) delivers spans and logs with full type fidelity`, async (t) => {
    const { receiver, writer, collector } = await e2e(t);
    writeSample(writer);
    const endpoint = protocol === 'grpc' ? receiver.grpcUrl : receiver.httpUrl;
    const c =
      how === 'OTEL_EXPORTER_OTLP_PROTOCOL'
        ? collector([], { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=secret%20key' })
        : collector(['--endpoint', endpoint, '--protocol', protocol, '--header', 'x-api-key=secret key']);
    await waitFor(() => receiver.spans().length >= 1 && receiver.logRecords().length >= 1, 15_000, 'span and log');
    await c.stop();
    t.deepEqual(new Set(receiver.requests.map((r) => r.protocol)), new Set<ReceivedProtocol>([protocol]));
    t.true(receiver.requests.every((r) => r.headers['x-api-key'] === 'secret key'));
    const [span] = receiver.spans();
    t.is(span.attributes.big, 9_007_199_254_740_993n, 'int64 beyond 2^53 survives');
    t.is(span.attributes.ratio, 0.25);
    t.deepEqual([...(span.attributes.raw as Uint8Array)], [1, 2, 255]);
    t.is(span.span.events[0].name, 'exception');
    t.is(span.resource['service.name'], 'proto-test');
    t.is(receiver.logRecords()[0].attributes.n, -5n);
    t.is(receiver.logRecords()[0].body, 'hello');
  });
}

test('per-signal endpoints are used as-is and beat the generic one', async (t) => {
  const { receiver, writer, collector } = await e2e(t);
  writeSample(writer);
  const c = collector([], {
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', // nothing listens there
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.httpUrl}/v1/traces`,
    OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: receiver.grpcUrl,
    OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'grpc',
  });
  await waitFor(() => receiver.spans().length >= 1 && receiver.logRecords().length >= 1, 15_000, 'span and log');
  await c.stop('SIGKILL');
  t.deepEqual(receiver.requests.map((r) => `${r.signal}:${r.protocol}`).sort(), ['logs:grpc', 'traces:http/protobuf']);
});

test('gzip compression is applied on HTTP when configured', async (t) => {
  const { receiver, writer, collector } = await e2e(t);
  writeSample(writer);
  const c = collector(['--endpoint', receiver.httpUrl, '--compression', 'gzip']);
  await waitFor(() => receiver.spans().length >= 1, 15_000, 'span');
  await c.stop();
  t.true(receiver.requests.every((r) => r.headers['content-encoding'] === 'gzip'));
});

test('without an endpoint, every signal is written as OTLP JSON lines to stdout', async (t) => {
  const { writer, collector } = await e2e(t);
  writeSample(writer);
  const c = collector([]);
  await waitFor(() => c.jsonLines().length >= 2, 15_000, 'two JSON lines');
  await c.stop();
  const lines = c.jsonLines();
  const traces = lines.map((l) => ('resourceSpans' in l ? fromJson('traces', l) : undefined)).find(Boolean) as {
    resourceSpans: { scopeSpans: { spans: { name: string; spanId: Uint8Array }[] }[] }[];
  };
  t.is(traces.resourceSpans[0].scopeSpans[0].spans[0].name, 'op');
  const raw = lines.find((l) => 'resourceSpans' in l) as { resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[] };
  const span = raw.resourceSpans[0].scopeSpans[0].spans[0];
  t.regex(String(span.traceId), /^[0-9a-f]{32}$/, 'trace id as hex');
  t.regex(String(span.spanId), /^[0-9a-f]{16}$/, 'span id as hex');
  t.is(span.kind, 1, 'enum as integer');
  t.is(typeof span.startTimeUnixNano, 'string', 'int64 as decimal string');
  t.true(lines.some((l) => 'resourceLogs' in l));
});

test('--output writes the JSON lines to a file', async (t) => {
  const { writer, collector, file } = await e2e(t);
  writeSample(writer);
  const out = file('out.jsonl');
  const c = collector(['--output', out]);
  await waitFor(
    () => {
      try {
        return readFileSync(out, 'utf8').trim().split('\n').length >= 2;
      } catch {
        return false;
      }
    },
    15_000,
    'two lines in the output file',
  );
  await c.stop();
  t.is(c.stdout, '');
  const kinds = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => Object.keys(JSON.parse(l) as object)[0])
    .sort();
  t.deepEqual(kinds, ['resourceLogs', 'resourceSpans']);
});

test('--output creates its file readable by its owner only (0600), and leaves the mode of an existing file alone', async (t) => {
  const { writer, path, file } = await e2e(t);
  writeSample(writer);
  const umask = process.umask(0o022); // what a shell usually has: 0644 for a file created with the default mode
  t.teardown(() => process.umask(umask));
  const created = file('created.jsonl');
  const d = await runCollector(['dump', path, '--output', created]);
  t.is(d.exit.code, 0, d.stderr);
  t.true(readFileSync(created, 'utf8').includes('resourceSpans'));
  t.is(statSync(created).mode & 0o777, 0o600);
  for (const mode of [0o640, 0o600]) {
    const existing = file(`existing-${mode.toString(8)}.jsonl`);
    writeFileSync(existing, '');
    chmodSync(existing, mode);
    const again = await runCollector(['dump', path, '--output', existing]);
    t.is(again.exit.code, 0, again.stderr);
    t.is(statSync(existing).mode & 0o777, mode);
  }
});

for (const protocol of ['http/protobuf', 'grpc'] as const) {
  test(`${protocol}: a receiver answering ${protocol === 'grpc' ? 'UNAVAILABLE' : '503'} is retried until it recovers, nothing lost, nothing twice`, async (t) => {
    const { receiver, writer, collector } = await e2e(t);
    receiver.failNext(3);
    const scope = writer.scope('lib', 0n);
    for (let i = 1; i <= 20; i++) {
      writer.startSpan(scope, 2, i, `s${i}`);
      writer.endSpan(scope, 2, i);
    }
    // The collector's own metrics off: the refusals are for the spans.
    const c = collector([
      '--endpoint',
      protocol === 'grpc' ? receiver.grpcUrl : receiver.httpUrl,
      '--protocol',
      protocol,
      '--batch-size',
      '20',
      '--self-metrics',
      'off',
    ]);
    await waitFor(() => receiver.spans().length >= 20, 15_000, '20 spans');
    await c.stop();
    t.is(receiver.requests.filter((r) => !r.accepted).length, 3, 'three refused attempts');
    t.is(receiver.spans().length, 20);
    t.is(new Set(receiver.spans().map((s) => s.name)).size, 20);
    t.true(c.statusLines('final').at(-1)!.retries >= 3);
  });
}

test('HTTP Retry-After is honoured before the next attempt', async (t) => {
  const { writer, collector } = await e2e(t);
  const { OtlpReceiver } = await import('../helpers/otlp-receiver.js');
  const receiver = await OtlpReceiver.start({ retryAfterSeconds: 1 });
  t.teardown(() => receiver.close());
  receiver.failNext(1);
  const scope = writer.scope('lib', 0n);
  writer.startSpan(scope, 2, 1, 's');
  writer.endSpan(scope, 2, 1);
  const c = collector(['--endpoint', receiver.httpUrl, '--self-metrics', 'off']);
  await waitFor(() => receiver.requests.length >= 1, 15_000, 'first attempt');
  const first = Date.now();
  await waitFor(() => receiver.spans().length >= 1, 15_000, 'the span');
  const waited = Date.now() - first;
  await c.stop();
  t.true(waited >= 900, `waited ${waited} ms, Retry-After said 1 s (the backoff alone is <= 200 ms here)`);
});

for (const protocol of ['http/protobuf', 'grpc'] as const) {
  test(`${protocol}: a batch whose encoding would exceed --batch-bytes goes as several requests under it, every span once`, async (t) => {
    const { receiver, writer, collector } = await e2e(t, { spans: { slots: 1024, slotSize: 1024 } });
    const scope = writer.scope('lib', writer.resource({ 'service.name': 'bytes-test' }));
    const total = 300;
    for (let i = 1; i <= total; i++) {
      // ~600 encoded bytes each, distinct (nothing shared between spans)
      writer.startSpan(scope, 1, i, `s${i}`, { 'db.statement': `SELECT ${String(i).padStart(6, '0')} ${'x'.repeat(560)}` });
      writer.endSpan(scope, 1, i);
    }
    const cap = 20_000;
    const c = collector([
      '--endpoint',
      protocol === 'grpc' ? receiver.grpcUrl : receiver.httpUrl,
      '--protocol',
      protocol,
      '--batch-bytes',
      String(cap),
      '--batch-timeout',
      '200',
    ]);
    await waitFor(() => receiver.spans().length >= total, 15_000, 'every span');
    await c.stop();
    const traces = receiver.requests.filter((r) => r.signal === 'traces');
    t.true(
      traces.every((r) => r.bytes !== undefined && r.bytes <= cap),
      `request sizes: ${traces.map((r) => r.bytes).join(', ')}`,
    );
    t.true(traces.length >= Math.ceil((total * 600) / cap), `${traces.length} requests`);
    t.is(new Set(receiver.spans().map((s) => s.name)).size, total, 'each span once');
    t.is(receiver.spans().length, total);
    t.is(c.statusLines('final').at(-1)!.exported_traces, total);
  });
}

// The frames' compression flag and grpc-encoding are checked in grpc-transport.test.ts; here a gRPC server
// (grpc-js) decompresses what the collector compressed.
test('grpc: with gzip compression a gRPC server gets the spans and logs intact', async (t) => {
  const { receiver, writer, collector } = await e2e(t);
  writeSample(writer);
  const c = collector(['--endpoint', receiver.grpcUrl, '--protocol', 'grpc', '--compression', 'gzip']);
  await waitFor(() => receiver.spans().length >= 1 && receiver.logRecords().length >= 1, 15_000, 'span and log');
  await c.stop();
  t.true(receiver.requests.every((r) => r.protocol === 'grpc' && r.accepted));
  t.is(receiver.spans()[0].span.name, 'op');
  t.is(receiver.spans()[0].attributes.big, 9_007_199_254_740_993n);
  t.is(receiver.logRecords()[0].body, 'hello');
});
