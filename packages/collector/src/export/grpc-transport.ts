import * as grpc from '@grpc/grpc-js';
import { explainTlsFailure, type TlsMaterial } from './tls.js';
import type { SendResult, Transport } from './transport.js';

/** gRPC status codes OTLP/gRPC says to retry. */
const RETRYABLE_CODES = new Set([
  grpc.status.CANCELLED,
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.RESOURCE_EXHAUSTED,
  grpc.status.ABORTED,
  grpc.status.OUT_OF_RANGE,
  grpc.status.UNAVAILABLE,
  grpc.status.DATA_LOSS,
]);

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
 * OTLP/gRPC: a unary call per request. The request is already encoded with the
 * generated protobuf code, so serialisation is the identity; the response is
 * decoded with the generated code too.
 */
export class GrpcTransport implements Transport {
  readonly destination: string;
  private readonly client: grpc.Client;

  constructor(private readonly options: GrpcTransportOptions) {
    const url = new URL(options.url);
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    this.destination = `${url.protocol}//${url.hostname}:${port}${options.path}`;
    const tls = options.tls;
    const credentials =
      url.protocol === 'https:' ? grpc.credentials.createSsl(tls?.ca ?? null, tls?.key ?? null, tls?.cert ?? null) : grpc.credentials.createInsecure();
    const channelOptions: grpc.ChannelOptions = {};
    if (options.compression === 'gzip') channelOptions['grpc.default_compression_algorithm'] = 2;
    this.client = new grpc.Client(`${url.hostname}:${port}`, credentials, channelOptions);
  }

  send(body: Uint8Array): Promise<SendResult> {
    const metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(this.options.headers)) metadata.set(k, v);
    return new Promise<SendResult>((resolve) => {
      this.client.makeUnaryRequest<Uint8Array, Uint8Array>(
        this.options.path,
        (b) => Buffer.from(b.buffer, b.byteOffset, b.length),
        (b) => b,
        body,
        metadata,
        { deadline: Date.now() + this.options.timeoutMs },
        (error, response) => {
          if (!error) {
            let rejected = 0;
            try {
              rejected = response ? this.options.rejectedInResponse(response) : 0;
            } catch {
              rejected = 0;
            }
            resolve({ kind: 'ok', rejected });
          } else {
            const name = grpc.status[error.code] ?? String(error.code);
            const reason = `gRPC ${name}: ${explainTlsFailure(undefined, error.details, this.options.tls) ?? error.details}`;
            if (RETRYABLE_CODES.has(error.code)) resolve({ kind: 'retry', reason, errorType: name, afterMs: retryDelayOf(error.metadata) });
            else resolve({ kind: 'fail', reason, errorType: name });
          }
        },
      );
    });
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

/**
 * The retry delay of a google.rpc.RetryInfo in the `grpc-status-details-bin`
 * trailer, when the server sent one. Only the `retry_delay` Duration is read
 * (Status.details[].value -> RetryInfo field 1 -> Duration seconds/nanos).
 */
function retryDelayOf(metadata: grpc.Metadata | undefined): number | undefined {
  const raw = metadata?.get('grpc-status-details-bin')[0];
  if (!(raw instanceof Buffer)) return undefined;
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
