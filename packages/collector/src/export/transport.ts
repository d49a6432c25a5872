/**
 * Outcome of one export attempt. A failure has a `reason` for people and an
 * `errorType` for metrics: low-cardinality, as the semantic conventions'
 * `error.type` wants it (an HTTP status code, a gRPC status name, a Node
 * error code such as `ECONNREFUSED`, or `timeout`).
 */
export type SendResult =
  | { readonly kind: 'ok'; readonly rejected: number }
  /** Worth trying again; `afterMs` is the server's Retry-After / RetryInfo when it gave one. */
  | { readonly kind: 'retry'; readonly reason: string; readonly errorType: string; readonly afterMs?: number }
  | { readonly kind: 'fail'; readonly reason: string; readonly errorType: string };

/** Moves one encoded request to its destination. */
export interface Transport {
  /** Human-readable destination, for messages. */
  readonly destination: string;
  send(body: Uint8Array): Promise<SendResult>;
  close(): Promise<void>;
}

/** The destination of a gRPC target, as messages name it: scheme, host, port (the scheme's default when not given), method path. */
export function grpcDestination(url: string, path: string): string {
  const parsed = new URL(url);
  const port = parsed.port || (parsed.protocol === 'https:' ? '443' : '80');
  return `${parsed.protocol}//${parsed.hostname}:${port}${path}`;
}

/**
 * A transport whose module is loaded by its first {@link send}: a
 * collector that has nothing to export (idle, or another protocol for this
 * signal) neither loads nor compiles `node:http2`, `node:http` and the rest.
 */
export class LazyTransport implements Transport {
  private loaded: Promise<Transport> | undefined;

  constructor(
    readonly destination: string,
    private readonly load: () => Promise<Transport>,
  ) {}

  async send(body: Uint8Array): Promise<SendResult> {
    this.loaded ??= this.load();
    let transport: Transport;
    try {
      transport = await this.loaded;
    } catch (error) {
      return { kind: 'fail', reason: `the transport did not load: ${error instanceof Error ? error.message : String(error)}`, errorType: 'load_failed' };
    }
    return transport.send(body);
  }

  async close(): Promise<void> {
    const loaded = this.loaded;
    if (loaded === undefined) return;
    try {
      await (await loaded).close();
    } catch {
      // Never loaded: nothing to close.
    }
  }
}
