/**
 * Counts of telemetry the SDK could not write.
 */

/** Messages that were not written, per signal, since the SDK started. */
export interface DroppedCounts {
  /** Span life-cycle messages (start, end, attribute updates, links, name changes). */
  spans: number;
  /** Log records and span events (the events ring). */
  events: number;
  /** Metric measurements. */
  measurements: number;
  /**
   * Attributes left out because a single attribute could not fit an empty
   * message of its ring, could not be interned, or cannot be written at all
   * (an empty key; a function or symbol value).
   */
  attributes: number;
  /**
   * String attribute values of log records and span events cut short to fit
   * a slot of the events ring (the attribute was written, shortened; see the
   * README, "Limits").
   */
  truncatedAttributes: number;
}

/** @internal */
export function emptyDroppedCounts(): DroppedCounts {
  return { spans: 0, events: 0, measurements: 0, attributes: 0, truncatedAttributes: 0 };
}
