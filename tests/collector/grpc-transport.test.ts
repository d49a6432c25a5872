// The OTLP/gRPC transport (unary calls over node:http2) against an HTTP/2 server on 127.0.0.1
// that answers the ways gRPC servers and proxies do: what it sends (framing, headers), and how
// each kind of answer becomes a result (delivered, retried with the server's delay, or given up).
import test from 'ava';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gunzipSync } from 'node:zlib';
import { otlpTraceService } from '@otlp-mmap/protocol';
import { GrpcTransport } from '../../packages/collector/src/export/grpc-transport.js';

const PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

interface Seen {
  readonly headers: http2.IncomingHttpHeaders;
  readonly body: Buffer;
}
type Answer = (stream: http2.ServerHttp2Stream, seen: Seen) => void;

/** A server whose every call is answered by `answer`; `seen` lists what the calls sent. */
async function server(t: { teardown(fn: () => void): void }, answer: Answer): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const h2 = http2.createServer();
  h2.on('stream', (stream, headers) => {
    stream.on('error', () => {}); // a stream the answer resets reports it here
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const call = { headers, body: Buffer.concat(chunks) };
      seen.push(call);
      answer(stream, call);
    });
  });
  await new Promise<void>((resolve) => h2.listen(0, '127.0.0.1', resolve));
  t.teardown(() => h2.close());
  return { url: `http://127.0.0.1:${(h2.address() as AddressInfo).port}`, seen };
}

/** A gRPC answer: the status in trailers after a response message, or in the headers alone (trailers-only). */
function reply(
  stream: http2.ServerHttp2Stream,
  status: number,
  options: { message?: Uint8Array; trailers?: Record<string, string>; trailersOnly?: boolean } = {},
): void {
  const trailers = { 'grpc-status': String(status), ...options.trailers };
  if (options.trailersOnly) {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc', ...trailers }, { endStream: true });
    return;
  }
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers(trailers));
  const message = options.message ?? new Uint8Array(0);
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  stream.end(frame);
}

function transport(
  t: { teardown(fn: () => Promise<void>): void },
  url: string,
  options: Partial<ConstructorParameters<typeof GrpcTransport>[0]> = {},
): GrpcTransport {
  const tr = new GrpcTransport({
    url,
    path: PATH,
    headers: {},
    timeoutMs: 5000,
    compression: 'none',
    rejectedInResponse: (b) => Number(otlpTraceService.ExportTraceServiceResponse.decode(b).partialSuccess?.rejectedSpans ?? 0n),
    ...options,
  });
  t.teardown(() => tr.close());
  return tr;
}

const BODY = new Uint8Array([10, 3, 1, 2, 3]);

test('a call is one length-prefixed message with the gRPC headers, the deadline and the configured headers', async (t) => {
  const { url, seen } = await server(t, (stream) => reply(stream, 0));
  const result = await transport(t, url, { headers: { 'X-Api-Key': 'secret', te: 'gzip' }, timeoutMs: 2500 }).send(BODY);
  t.deepEqual(result, { kind: 'ok', rejected: 0 });
  const [call] = seen;
  t.is(call.headers[':method'], 'POST');
  t.is(call.headers[':path'], PATH);
  t.is(call.headers['content-type'], 'application/grpc');
  t.is(call.headers.te, 'trailers', 'a configured header does not replace what gRPC needs');
  t.is(call.headers['grpc-timeout'], '2500m');
  t.is(call.headers['x-api-key'], 'secret');
  t.is(call.headers['grpc-encoding'], undefined);
  t.deepEqual([...call.body], [0, 0, 0, 0, BODY.length, ...BODY]);
});

test('with gzip the message is compressed, flagged, and announced in grpc-encoding', async (t) => {
  const { url, seen } = await server(t, (stream) => reply(stream, 0));
  const result = await transport(t, url, { compression: 'gzip' }).send(BODY);
  t.is(result.kind, 'ok');
  const [call] = seen;
  t.is(call.headers['grpc-encoding'], 'gzip');
  t.is(call.body[0], 1, 'the compressed flag');
  t.is(call.body.readUInt32BE(1), call.body.length - 5);
  t.deepEqual([...gunzipSync(call.body.subarray(5))], [...BODY]);
});

test('several calls share one connection', async (t) => {
  const sessions = new Set<http2.Http2Session>();
  const { url } = await server(t, (stream) => {
    sessions.add(stream.session!);
    reply(stream, 0);
  });
  const tr = transport(t, url);
  for (let i = 0; i < 3; i++) t.is((await tr.send(BODY)).kind, 'ok');
  t.is(sessions.size, 1);
});

test('a partial success in the response message counts the rejected items', async (t) => {
  const response = otlpTraceService.ExportTraceServiceResponse.encode({ partialSuccess: { rejectedSpans: 7n, errorMessage: 'too old' } }).finish();
  const { url } = await server(t, (stream) => reply(stream, 0, { message: response }));
  t.deepEqual(await transport(t, url).send(BODY), { kind: 'ok', rejected: 7 });
});

test('a retryable status in a trailers-only response is retried after the RetryInfo delay the server gave', async (t) => {
  // google.rpc.Status { code: 8, details: [Any { type_url: .../google.rpc.RetryInfo, value: RetryInfo { retry_delay: { seconds: 2, nanos: 500000000 } } }] }
  const duration = Buffer.from([0x08, 0x02, 0x10, 0x80, 0xca, 0xb5, 0xee, 0x01]);
  const retryInfo = Buffer.concat([Buffer.from([0x0a, duration.length]), duration]);
  const typeUrl = Buffer.from('type.googleapis.com/google.rpc.RetryInfo');
  const any = Buffer.concat([Buffer.from([0x0a, typeUrl.length]), typeUrl, Buffer.from([0x12, retryInfo.length]), retryInfo]);
  const status = Buffer.concat([Buffer.from([0x08, 0x08, 0x1a, any.length]), any]);
  const { url } = await server(t, (stream) =>
    reply(stream, 8, {
      trailersOnly: true,
      trailers: { 'grpc-message': 'slow%20down', 'grpc-status-details-bin': status.toString('base64').replace(/=+$/, '') },
    }),
  );
  t.deepEqual(await transport(t, url).send(BODY), {
    kind: 'retry',
    reason: 'gRPC RESOURCE_EXHAUSTED: slow down',
    errorType: 'RESOURCE_EXHAUSTED',
    afterMs: 2500,
  });
});

test('a status OTLP does not retry gives the batch up, with the percent-decoded grpc-message', async (t) => {
  const { url } = await server(t, (stream) => reply(stream, 3, { trailers: { 'grpc-message': 'bad%20span%3A%20no%20id' } }));
  t.deepEqual(await transport(t, url).send(BODY), { kind: 'fail', reason: 'gRPC INVALID_ARGUMENT: bad span: no id', errorType: 'INVALID_ARGUMENT' });
});

test('an HTTP error without a gRPC status maps as gRPC says: 503 is UNAVAILABLE (retried), 404 UNIMPLEMENTED (given up)', async (t) => {
  let status = 503;
  const { url } = await server(t, (stream) => {
    stream.respond({ ':status': status, 'content-type': 'text/plain' });
    stream.end('proxy says no');
  });
  const tr = transport(t, url);
  t.like(await tr.send(BODY), { kind: 'retry', errorType: 'UNAVAILABLE' });
  status = 404;
  t.like(await tr.send(BODY), { kind: 'fail', errorType: 'UNIMPLEMENTED' });
});

test('no answer within the timeout is DEADLINE_EXCEEDED, retried', async (t) => {
  const { url } = await server(t, () => {
    // never answers
  });
  t.like(await transport(t, url, { timeoutMs: 200 }).send(BODY), { kind: 'retry', errorType: 'DEADLINE_EXCEEDED' });
});

test('a refused connection is UNAVAILABLE with the cause, retried; the next call connects once the server is there', async (t) => {
  const { url } = await server(t, (stream) => reply(stream, 0));
  const closed = http2.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const refused = await transport(t, `http://127.0.0.1:${port}`).send(BODY);
  t.like(refused, { kind: 'retry', errorType: 'UNAVAILABLE' });
  t.regex((refused as { reason: string }).reason, /^gRPC UNAVAILABLE: connect ECONNREFUSED/);
  t.is((await transport(t, url).send(BODY)).kind, 'ok');
});

test('a connection the server closed (GOAWAY) is replaced by a new one for the next call', async (t) => {
  const sessions = new Set<http2.Http2Session>();
  const { url } = await server(t, (stream) => {
    sessions.add(stream.session!);
    reply(stream, 0);
    stream.session!.close(); // GOAWAY after this call
  });
  const tr = transport(t, url);
  t.is((await tr.send(BODY)).kind, 'ok');
  await new Promise((r) => setTimeout(r, 50));
  t.is((await tr.send(BODY)).kind, 'ok');
  t.is(sessions.size, 2);
});

test('a connection lost after the response headers, before a status, is UNAVAILABLE, retried', async (t) => {
  const { url } = await server(t, (stream) => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    setTimeout(() => stream.session!.destroy(), 20);
  });
  t.like(await transport(t, url).send(BODY), { kind: 'retry', errorType: 'UNAVAILABLE' });
});

test("a finished call's payload is freed by young collections, even when the call's stream went to the old generation", async (t) => {
  // Each payload left to the next full collection piled up as external memory (64 MB in the
  // benchmark's drain) until V8 ran one: young collections must free a finished call's payload
  // even when the call's own objects (its stream, its listeners) went to the old generation.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (options: { type: 'minor' }) => void;
  const youngCollections = async (): Promise<void> => {
    for (let i = 0; i < 3; i++) {
      gc({ type: 'minor' });
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const h2 = http2.createServer();
  h2.on('stream', (stream) => {
    stream.resume(); // keeps nothing
    // The request is all sent and not yet answered: young collections now move what the call
    // still holds to the old generation, as the collector's own allocations do in a drain.
    stream.on('end', () => {
      gc({ type: 'minor' });
      gc({ type: 'minor' });
      reply(stream, 0);
    });
  });
  await new Promise<void>((resolve) => h2.listen(0, '127.0.0.1', resolve));
  t.teardown(() => h2.close());
  const tr = transport(t, `http://127.0.0.1:${(h2.address() as AddressInfo).port}`);
  t.is((await tr.send(BODY)).kind, 'ok'); // the connection is up
  await youngCollections();
  const before = process.memoryUsage().arrayBuffers;
  for (let i = 0; i < 20; i++) t.is((await tr.send(new Uint8Array(1 << 20))).kind, 'ok');
  await youngCollections();
  const grown = process.memoryUsage().arrayBuffers - before;
  t.true(grown < 8 << 20, `array buffers grew by ${(grown / 1048576).toFixed(1)} MB after 20 calls of 1 MB`);
});
