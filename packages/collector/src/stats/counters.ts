/** Counters of the ring reading side. */
export interface ReadCounters {
  /** Messages read per ring [events, spans, measurements]. */
  messages: [number, number, number];
  /** Messages that did not decode, per ring. */
  undecodable: [number, number, number];
  /**
   * Records lost to an unexpected error while they were processed (a bug:
   * the error is reported), per ring: messages, and at export the log
   * records or spans of a batch that could not be grouped.
   */
  failed: [number, number, number];
  /**
   * Messages left unread in a file that another file replaced at the input
   * path, per ring: what its rings still held once the collector stopped
   * draining it (the export queues full, or more than the drain reads).
   */
  abandoned: [number, number, number];
  /** File re-initialisations handled. */
  resets: number;
  /** Times the file was found cut shorter (truncated) by another program while being read. */
  truncations: number;
  /** Messages known lost to truncations: unread in rings whose header survived the cut, or discarded mid-copy. */
  lostOnTruncation: number;
  /** Scopes that did not resolve while grouping a batch. */
  unresolvedScopes: number;
}

export function newReadCounters(): ReadCounters {
  return {
    messages: [0, 0, 0],
    undecodable: [0, 0, 0],
    failed: [0, 0, 0],
    abandoned: [0, 0, 0],
    resets: 0,
    truncations: 0,
    lostOnTruncation: 0,
    unresolvedScopes: 0,
  };
}
