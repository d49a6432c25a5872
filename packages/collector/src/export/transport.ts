/** Outcome of one export attempt. */
export type SendResult =
  | { readonly kind: 'ok'; readonly rejected: number }
  /** Worth trying again; `afterMs` is the server's Retry-After / RetryInfo when it gave one. */
  | { readonly kind: 'retry'; readonly reason: string; readonly afterMs?: number }
  | { readonly kind: 'fail'; readonly reason: string };

/** Moves one encoded request to its destination. */
export interface Transport {
  /** Human-readable destination, for messages. */
  readonly destination: string;
  send(body: Uint8Array): Promise<SendResult>;
  close(): Promise<void>;
}
