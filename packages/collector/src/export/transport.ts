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
