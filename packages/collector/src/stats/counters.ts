/** Counters of the ring reading side. */
export interface ReadCounters {
  /** Messages read per ring [events, spans, measurements]. */
  messages: [number, number, number];
  /** Messages that did not decode, per ring. */
  undecodable: [number, number, number];
  /** File re-initialisations handled. */
  resets: number;
  /** Times the file was found cut shorter (truncated) by another program while being read. */
  truncations: number;
  /** Messages known lost to truncations: unread in rings whose header survived the cut, or discarded mid-copy. */
  lostOnTruncation: number;
  /** Measurements the metrics aggregation refused (its own reasons are in its stats). */
  measurementErrors: number;
  /** Scopes that did not resolve while grouping a batch. */
  unresolvedScopes: number;
}

export function newReadCounters(): ReadCounters {
  return { messages: [0, 0, 0], undecodable: [0, 0, 0], resets: 0, truncations: 0, lostOnTruncation: 0, measurementErrors: 0, unresolvedScopes: 0 };
}
