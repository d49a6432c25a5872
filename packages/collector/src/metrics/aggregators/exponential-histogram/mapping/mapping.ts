import { ExponentMapping } from './exponent-mapping.js';
import { LogarithmMapping } from './logarithm-mapping.js';

/** Smallest scale an exponential histogram may use (FORMAT.md 7.3). */
export const MIN_SCALE = -10;
/** Largest scale an exponential histogram may use (FORMAT.md 7.3). */
export const MAX_SCALE = 20;

/**
 * Maps positive finite values to bucket indexes of one scale of the
 * OpenTelemetry base-2 exponential histogram: bucket `i` holds the values in
 * `(base^i, base^(i+1)]` with `base = 2^(2^-scale)`.
 *
 * Values below the smallest normal double (2^-1022) all fall into the bucket
 * whose upper boundary is 2^-1022, as the specification's reference
 * mappings do.
 */
export interface Mapping {
  readonly scale: number;
  /** Index of the bucket holding `value` (positive and finite). */
  mapToIndex(value: number): number;
  /**
   * Lower boundary of bucket `index` (the boundary itself belongs to bucket
   * `index - 1`). Throws a RangeError for an index outside the range
   * `mapToIndex` can return.
   */
  lowerBoundary(index: number): number;
  /** Smallest index `mapToIndex` returns (the bucket of the subnormals). */
  readonly minIndex: number;
  /** Largest index `mapToIndex` returns (the bucket of `Number.MAX_VALUE`). */
  readonly maxIndex: number;
}

const mappings: Mapping[] = [];
for (let scale = MIN_SCALE; scale <= MAX_SCALE; scale++) {
  mappings.push(scale <= 0 ? new ExponentMapping(scale) : new LogarithmMapping(scale));
}

/** The (shared, immutable) mapping of `scale`, which must be an integer in [-10, 20]. */
export function mappingForScale(scale: number): Mapping {
  const mapping = mappings[scale - MIN_SCALE];
  if (mapping === undefined || !Number.isInteger(scale)) {
    throw new RangeError(`exponential histogram scale ${scale} is outside [${MIN_SCALE}, ${MAX_SCALE}]`);
  }
  return mapping;
}
