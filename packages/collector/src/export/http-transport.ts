import * as http from 'node:http';
import * as https from 'node:https';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { explainTlsFailure, type TlsMaterial } from './tls.js';
import type { SendResult, Transport } from './transport.js';

/** gzip on libuv's thread pool: compressing a request of megabytes does not stop the reading of the rings. */
const gzipAsync = promisify(gzip);

/** HTTP status codes OTLP/HTTP says to retry. */
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

/** Parses Retry-After (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export interface HttpTransportOptions {
  readonly url: string;
  readonly contentType: 'application/x-protobuf' | 'application/json';
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly compression: 'gzip' | 'none';
  /** Items rejected according to a successful response body (partial success). */
  readonly rejectedInResponse?: (body: Uint8Array) => number;
  /** CA, client key and certificate for an https:// URL (see `tls.ts`); undefined: the system's CAs, no client certificate. */
  readonly tls?: TlsMaterial;
}

/** OTLP/HTTP: one POST per request, keep-alive connections. */
export class HttpTransport implements Transport {
  readonly destination: string;
  private readonly url: URL;
  private readonly agent: http.Agent;
  private readonly client: typeof http | typeof https;

  constructor(private readonly options: HttpTransportOptions) {
    this.url = new URL(options.url);
    this.destination = options.url;
    if (this.url.protocol === 'https:') {
      this.client = https;
      const { ca, key, cert } = options.tls ?? {};
      this.agent = new https.Agent({ keepAlive: true, maxSockets: 4, ca, key, cert });
    } else {
      this.client = http;
      this.agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    }
  }

  async send(body: Uint8Array): Promise<SendResult> {
    let payload: Uint8Array;
    try {
      payload = this.options.compression === 'gzip' ? await gzipAsync(body) : body;
    } catch (error) {
      return { kind: 'fail', reason: `gzip: ${error instanceof Error ? error.message : String(error)}`, errorType: 'compression_failed' };
    }
    const headers: Record<string, string | number> = {
      ...this.options.headers,
      'content-type': this.options.contentType,
      'content-length': payload.length,
    };
    if (this.options.compression === 'gzip') headers['content-encoding'] = 'gzip';
    return new Promise<SendResult>((resolve) => {
      let settled = false;
      const finish = (result: SendResult): void => {
        if (!settled) {
          settled = true;
          resolve(result);
        }
      };
      const req = this.client.request(this.url, { method: 'POST', headers, agent: this.agent, timeout: this.options.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => finish({ kind: 'retry', reason: `response: ${e.message}`, errorType: (e as NodeJS.ErrnoException).code ?? 'response_error' }));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            let rejected = 0;
            const responseBody = Buffer.concat(chunks);
            if (responseBody.length > 0 && this.options.contentType === 'application/x-protobuf' && this.options.rejectedInResponse) {
              try {
                rejected = this.options.rejectedInResponse(responseBody);
              } catch {
                rejected = 0;
              }
            }
            finish({ kind: 'ok', rejected });
          } else if (RETRYABLE_STATUS.has(status)) {
            const header = res.headers['retry-after'];
            finish({
              kind: 'retry',
              reason: `HTTP ${status}`,
              errorType: String(status),
              afterMs: parseRetryAfter(Array.isArray(header) ? header[0] : header),
            });
          } else {
            finish({ kind: 'fail', reason: `HTTP ${status}: ${Buffer.concat(chunks).toString('utf8').slice(0, 200)}`, errorType: String(status) });
          }
        });
      });
      req.on('timeout', () => {
        req.destroy(Object.assign(new Error(`timed out after ${this.options.timeoutMs} ms`), { code: 'timeout' }));
      });
      req.on('error', (e) => {
        const code = (e as NodeJS.ErrnoException).code;
        finish({ kind: 'retry', reason: explainTlsFailure(code, e.message, this.options.tls) ?? e.message, errorType: code ?? e.name });
      });
      req.end(payload);
    });
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}
