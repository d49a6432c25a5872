import * as http2 from 'node:http2';
import { promisify } from 'node:util';
import { gunzipSync, gzip } from 'node:zlib';
import { explainTlsFailure, type TlsMaterial } from './tls.js';
import { grpcDestination, type SendResult, type Transport } from './transport.js';

/** gzip on libuv's thread pool, off the event loop. */
const gzipAsync = promisify(gzip);

/** gRPC status codes by number (the index), as the gRPC specification names them. */
const STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;
const OK = 0;
const CANCELLED = 1;
const UNKNOWN = 2;
const DEADLINE_EXCEEDED = 4;
const PERMISSION_DENIED = 7;
const RESOURCE_EXHAUSTED = 8;
const UNIMPLEMENTED = 12;
const INTERNAL = 13;
const UNAVAILABLE = 14;
const UNAUTHENTICATED = 16;

/** gRPC status codes OTLP/gRPC says to retry. */
const RETRYABLE_CODES = new Set([CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, 10 /* ABORTED */, 11 /* OUT_OF_RANGE */, UNAVAILABLE, 15 /* DATA_LOSS */]);

/** The gRPC status of an HTTP response that carries none (gRPC's "HTTP to gRPC status code mapping"). */
function statusOfHttp(status: number): number {
  switch (status) {
    case 400:
      return INTERNAL;
    case 401:
      return UNAUTHENTICATED;
    case 403:
      return PERMISSION_DENIED;
    case 404:
      return UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return UNAVAILABLE;
    default:
      return UNKNOWN;
  }
}

/** The gRPC status of a stream the peer reset before it ended (as gRPC clients map RST_STREAM codes). */
function statusOfReset(code: number): number {
  const c = http2.constants;
  if (code === c.NGHTTP2_REFUSED_STREAM) return UNAVAILABLE;
  if (code === c.NGHTTP2_CANCEL) return CANCELLED;
  if (code === c.NGHTTP2_ENHANCE_YOUR_CALM) return RESOURCE_EXHAUSTED;
  if (code === c.NGHTTP2_INADEQUATE_SECURITY) return PERMISSION_DENIED;
  return INTERNAL;
}

/** The longest `grpc-timeout` value: at most 8 digits. */
const MAX_TIMEOUT_DIGITS = 99_999_999;

/** Headers a caller may not set: HTTP/2 pseudo-headers, connection headers, and those gRPC framing owns. */
const RESERVED_HEADERS = new Set(['content-type', 'te', 'grpc-timeout', 'grpc-encoding', 'grpc-accept-encoding', 'connection', 'host', 'transfer-encoding']);

export interface GrpcTransportOptions {
  /** http://host:port (plaintext) or https://host:port (TLS). */
  readonly url: string;
  /** Method path, e.g. /opentelemetry.proto.collector.trace.v1.TraceService/Export. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly compression: 'gzip' | 'none';
  readonly rejectedInResponse: (body: Uint8Array) => number;
  /** CA, client key and certificate for an https:// URL (see `tls.ts`); undefined: the system's CAs, no client certificate. */
  readonly tls?: TlsMaterial;
}

/**
 * OTLP/gRPC: a unary call per request, over one HTTP/2 connection
 * (`node:http2`) with gRPC's framing: the encoded request as one
 * length-prefixed message (compressed with gzip, flag 1, when configured),
 * the deadline as `grpc-timeout`, and the outcome from the `grpc-status` /
 * `grpc-message` trailers (or the headers of a trailers-only response; an
 * HTTP status without them maps as gRPC says). The request is already
 * encoded with the generated protobuf code, and the response is decoded
 * with it too. The connection is opened on the first call, and again after
 * it closes, fails or is told to go away (GOAWAY).
 */
export class GrpcTransport implements Transport {
  readonly destination: string;
  private readonly authority: string;
  private readonly headers: Readonly<Record<string, string>>;
  private session: http2.ClientHttp2Session | undefined;
  /** The error that ended the current (or last) connection: the cause to report for its calls. */
  private sessionError: Error | undefined;
  private closed = false;

  constructor(private readonly options: GrpcTransportOptions) {
    this.destination = grpcDestination(options.url, options.path);
    this.authority = this.destination.slice(0, this.destination.length - options.path.length);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(options.headers)) {
      const key = k.toLowerCase();
      if (!key.startsWith(':') && !RESERVED_HEADERS.has(key)) headers[key] = v;
    }
    headers[':method'] = 'POST';
    headers[':path'] = options.path;
    headers['content-type'] = 'application/grpc';
    headers.te = 'trailers';
    headers['grpc-timeout'] = `${Math.min(options.timeoutMs, MAX_TIMEOUT_DIGITS)}m`;
    headers['grpc-accept-encoding'] = 'identity,gzip';
    if (options.compression === 'gzip') headers['grpc-encoding'] = 'gzip';
    this.headers = headers;
  }

  async send(body: Uint8Array): Promise<SendResult> {
    if (this.closed) return { kind: 'fail', reason: 'gRPC CANCELLED: the transport is closed', errorType: 'CANCELLED' };
    const gzip = this.options.compression === 'gzip';
    let payload: Uint8Array;
    try {
      payload = gzip ? await gzipAsync(body) : body;
    } catch (error) {
      return { kind: 'fail', reason: `gzip: ${error instanceof Error ? error.message : String(error)}`, errorType: 'compression_failed' };
    }
    // The payload goes to the stream from here, out of reach of the call's closures (see startCall).
    const call = this.startCall();
    if (call.stream !== undefined) this.writeMessage(call.stream, gzip, payload);
    return call.result;
  }

  /**
   * Opens the call's stream and listens for its outcome. The listeners must
   * not reach the payload: Node's HTTP/2 stream objects, and so their
   * listeners and what those closures reach, outlive young collections and
   * go only in a full one. When the payload was in their scope, every
   * request's payload stayed until V8 ran a full collection for the
   * external memory (README, collector benchmark section).
   */
  private startCall(): { result: Promise<SendResult>; stream?: http2.ClientHttp2Stream } {
    let opened: http2.ClientHttp2Stream | undefined;
    const result = new Promise<SendResult>((resolve) => {
      let session: http2.ClientHttp2Session;
      try {
        session = this.connect();
      } catch (error) {
        resolve(this.failure(UNAVAILABLE, error instanceof Error ? error.message : String(error)));
        return;
      }
      let settled = false;
      const finish = (result: SendResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const stream = session.request(this.headers);
      const timer = setTimeout(() => {
        finish(this.failure(DEADLINE_EXCEEDED, `no answer within ${this.options.timeoutMs} ms`));
        stream.close(http2.constants.NGHTTP2_CANCEL);
      }, this.options.timeoutMs);
      let head: http2.IncomingHttpHeaders | undefined;
      let trailers: http2.IncomingHttpHeaders | undefined;
      const chunks: Buffer[] = [];
      let streamError: Error | undefined;
      stream.on('response', (h) => {
        head = h;
      });
      stream.on('trailers', (h) => {
        trailers = h;
      });
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', (e) => {
        streamError = e;
      });
      stream.on('close', () => {
        if (settled) return;
        if (head === undefined) {
          // No answer: the connection failed (the connection's error says why) or the stream was reset.
          // A connection that failed cancels its pending streams with an error whose cause is the connection's.
          const cancelledBy = (streamError as { cause?: unknown } | undefined)?.cause;
          const cause = (cancelledBy instanceof Error ? cancelledBy : undefined) ?? this.sessionError ?? streamError;
          const code =
            stream.rstCode !== undefined && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR && !cause ? statusOfReset(stream.rstCode) : UNAVAILABLE;
          finish(
            this.failure(code, cause?.message ?? `stream closed without a response (RST_STREAM ${stream.rstCode})`, (cause as NodeJS.ErrnoException)?.code),
          );
          return;
        }
        if (trailers === undefined && head['grpc-status'] === undefined) {
          // Headers but no status: the stream was reset or the connection lost before the trailers.
          const lost = session.destroyed || this.sessionError !== undefined;
          const reset = stream.rstCode !== undefined && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR;
          if (lost || reset || streamError !== undefined) {
            const cause = this.sessionError ?? streamError;
            const code = lost || !reset ? UNAVAILABLE : statusOfReset(stream.rstCode!);
            finish(
              this.failure(
                code,
                lost && !cause
                  ? 'the connection closed before the call ended'
                  : (cause?.message ?? `stream reset before its status (RST_STREAM ${stream.rstCode})`),
              ),
            );
            return;
          }
        }
        finish(this.outcome(head, trailers, Buffer.concat(chunks)));
      });
      opened = stream;
    });
    return { result, stream: opened };
  }

  /** Writes the length-prefixed message and ends the stream: the 5-byte prefix (compressed flag, length), then the payload (not copied). */
  private writeMessage(stream: http2.ClientHttp2Stream, gzip: boolean, payload: Uint8Array): void {
    const prefix = Buffer.allocUnsafe(5);
    prefix[0] = gzip ? 1 : 0;
    prefix.writeUInt32BE(payload.length, 1);
    stream.write(prefix);
    stream.end(payload);
  }

  /** The result of a call that got a response. */
  private outcome(head: http2.IncomingHttpHeaders, trailers: http2.IncomingHttpHeaders | undefined, body: Buffer): SendResult {
    const httpStatus = Number(head[':status']);
    const fields = trailers ?? head; // trailers-only: the status is in the headers
    const rawStatus = fields['grpc-status'] ?? (trailers === undefined ? undefined : head['grpc-status']);
    if (rawStatus === undefined) {
      if (httpStatus !== 200) return this.failure(statusOfHttp(httpStatus), `HTTP ${httpStatus} without a gRPC status`);
      return this.failure(UNKNOWN, 'the response carried no grpc-status');
    }
    const code = Number(rawStatus);
    if (code === OK) {
      let rejected = 0;
      try {
        const message = responseMessage(body, head['grpc-encoding']);
        rejected = message && message.length > 0 ? this.options.rejectedInResponse(message) : 0;
      } catch {
        rejected = 0;
      }
      return { kind: 'ok', rejected };
    }
    const details = decodeGrpcMessage(String(fields['grpc-message'] ?? ''));
    const detailsBin = fields['grpc-status-details-bin'];
    return this.failure(
      Number.isInteger(code) && code >= 0 ? code : UNKNOWN,
      details,
      undefined,
      retryDelayOf(typeof detailsBin === 'string' ? detailsBin : undefined),
    );
  }

  private failure(code: number, message: string, errorCode?: string, afterMs?: number): SendResult {
    const name = STATUS_NAMES[code] ?? String(code);
    const reason = `gRPC ${name}: ${explainTlsFailure(errorCode, message, this.options.tls) ?? message}`;
    if (RETRYABLE_CODES.has(code)) return { kind: 'retry', reason, errorType: name, ...(afterMs !== undefined ? { afterMs } : {}) };
    return { kind: 'fail', reason, errorType: name };
  }

  /** The open connection, or a new one. */
  private connect(): http2.ClientHttp2Session {
    const current = this.session;
    if (current !== undefined && !current.closed && !current.destroyed) return current;
    const tls = this.options.tls;
    this.sessionError = undefined;
    const session = http2.connect(this.authority, tls ? { ca: tls.ca, key: tls.key, cert: tls.cert } : {});
    const forget = (): void => {
      if (this.session === session) this.session = undefined;
    };
    session.on('error', (error) => {
      this.sessionError = error;
      forget();
    });
    session.on('goaway', forget);
    session.on('close', forget);
    this.session = session;
    return session;
  }

  async close(): Promise<void> {
    this.closed = true;
    const session = this.session;
    this.session = undefined;
    if (session === undefined || session.destroyed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        session.destroy();
        resolve();
      }, 1000);
      session.close(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** The first length-prefixed message of a gRPC response body (decompressed when flagged), if any. */
function responseMessage(body: Buffer, encoding: string | string[] | undefined): Buffer | undefined {
  if (body.length < 5) return undefined;
  const length = body.readUInt32BE(1);
  if (5 + length > body.length) return undefined;
  const message = body.subarray(5, 5 + length);
  if (body[0] !== 1) return message;
  if (encoding !== 'gzip') throw new Error(`compressed response with grpc-encoding ${String(encoding)}`);
  return gunzipSync(message);
}

/** `grpc-message` is percent-encoded (gRPC's HTTP/2 protocol); a malformed escape is kept as it is. */
function decodeGrpcMessage(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * The retry delay of a google.rpc.RetryInfo in the `grpc-status-details-bin`
 * trailer (base64, padding optional), when the server sent one. Only the
 * `retry_delay` Duration is read (Status.details[].value -> RetryInfo field 1
 * -> Duration seconds/nanos).
 */
function retryDelayOf(base64: string | undefined): number | undefined {
  if (base64 === undefined) return undefined;
  const raw = Buffer.from(base64, 'base64');
  try {
    for (const detail of fields(raw)) {
      if (detail.num !== 3 || !detail.bytes) continue; // Status.details (Any)
      let typeUrl = '';
      let value: Buffer | undefined;
      for (const f of fields(detail.bytes)) {
        if (f.num === 1 && f.bytes) typeUrl = f.bytes.toString('utf8');
        if (f.num === 2 && f.bytes) value = f.bytes;
      }
      if (!typeUrl.endsWith('google.rpc.RetryInfo') || !value) continue;
      for (const f of fields(value)) {
        if (f.num !== 1 || !f.bytes) continue;
        let seconds = 0;
        let nanos = 0;
        for (const d of fields(f.bytes)) {
          if (d.num === 1 && d.varint !== undefined) seconds = d.varint;
          if (d.num === 2 && d.varint !== undefined) nanos = d.varint;
        }
        return seconds * 1000 + Math.floor(nanos / 1e6);
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** Minimal walk over the top-level fields of a protobuf message (varint and length-delimited only). */
function* fields(buf: Buffer): Generator<{ num: number; varint?: number; bytes?: Buffer }> {
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let shift = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= buf.length) throw new Error('truncated');
      const b = buf[pos++];
      result += (b & 0x7f) * shift;
      if ((b & 0x80) === 0) return result;
      shift *= 128;
    }
    throw new Error('bad varint');
  };
  while (pos < buf.length) {
    const key = varint();
    const num = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) yield { num, varint: varint() };
    else if (wire === 2) {
      const len = varint();
      if (pos + len > buf.length) throw new Error('truncated');
      yield { num, bytes: buf.subarray(pos, pos + len) };
      pos += len;
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else throw new Error('unsupported wire type');
  }
}
