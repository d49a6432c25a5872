/**
 * A real @opentelemetry/instrumentation-http run on our providers: an HTTP server and client on
 * 127.0.0.1 in this process; their spans are read back from the file.
 */
import type * as HttpModule from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { SpanKind as WireSpanKind } from '@otlp-mmap/protocol';
import test from 'ava';
import { type MmapSdk, startMmapSdk } from '@otlp-mmap/sdk';
import { FileReadBack, type Plain, tempPath } from './support/read-back.js';
import { collectSpans } from './support/spans.js';

let sdk: MmapSdk;
let http: typeof HttpModule;
const tmp = tempPath();

test.before(() => {
  sdk = startMmapSdk({ path: tmp.path, serviceName: 'http-test', metricCollectionIntervalMillis: 3_600_000 });
  registerInstrumentations({
    instrumentations: [new HttpInstrumentation()],
    tracerProvider: sdk.tracerProvider,
    meterProvider: sdk.meterProvider,
  });
  // Loaded through require after the instrumentation is enabled, so that it is patched.
  http = createRequire(import.meta.url)('http') as typeof HttpModule;
});

test.after.always(async () => {
  await sdk.shutdown();
  tmp.cleanup();
});

test.serial('server and client spans of a real HTTP exchange come out linked, with HTTP attributes', async (t) => {
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(`hello ${req.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const tracer = trace.getTracer('http-test');
  let parentSpanId = '';
  const body = await tracer.startActiveSpan('outer-operation', async (outer) => {
    parentSpanId = outer.spanContext().spanId;
    const text = await new Promise<string>((resolve, reject) => {
      http
        .get(`http://127.0.0.1:${port}/users/42?verbose=1`, (res) => {
          let data = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (data += chunk));
          res.on('end', () => resolve(data));
        })
        .on('error', reject);
    });
    outer.end();
    return text;
  });
  t.is(body, 'hello /users/42?verbose=1');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await new Promise((resolve) => setTimeout(resolve, 20));

  const rb = new FileReadBack(tmp.path);
  const spans = collectSpans(rb);
  rb.close();
  const client = spans.find((s) => s.kind === WireSpanKind.SPAN_KIND_CLIENT);
  const server_ = spans.find((s) => s.kind === WireSpanKind.SPAN_KIND_SERVER);
  const outer = spans.find((s) => s.name === 'outer-operation');
  if (!client || !server_ || !outer) return t.fail(`spans seen: ${JSON.stringify(spans.map((s) => [s.name, s.kind]))}`);

  t.is(client.parent, parentSpanId);
  t.is(server_.parent, client.spanId);
  t.is(server_.traceId, outer.traceId);
  t.is(client.traceId, outer.traceId);
  t.true(client.ended && server_.ended && outer.ended);

  const method = (a: Record<string, Plain>): Plain => a['http.request.method'] ?? a['http.method'];
  const status = (a: Record<string, Plain>): Plain => a['http.response.status_code'] ?? a['http.status_code'];
  t.is(method(client.attributes), 'GET');
  t.is(method(server_.attributes), 'GET');
  t.is(status(client.attributes), 200n);
  t.is(status(server_.attributes), 200n);
  t.is(server_.attributes['http.target'] ?? server_.attributes['url.path'], server_.attributes['http.target'] ? '/users/42?verbose=1' : '/users/42');
  t.is(client.attributes['net.peer.port'] ?? client.attributes['server.port'], BigInt(port));
});
