import type { Mapping } from './mapping.js';
import { MAX_NORMAL_EXPONENT, MIN_NORMAL_EXPONENT, MIN_NORMAL_VALUE, exponentField, powerOfTwo, significandIsZero } from './ieee754.js';

/**
 * Mapping for scales > 0: `index = floor(ln(value) × 2^scale / ln 2)`, with
 * exact results at powers of two (from the exponent bits), every subnormal
 * in the bucket just below 2^-1022, and indexes clamped to the bucket of
 * `Number.MAX_VALUE`. This is the formulation of the OpenTelemetry
 * specification, so indexes agree with other SDKs (including near bucket
 * boundaries, where a logarithm can be off by one ulp).
 *
 * @internal
 */
export class LogarithmMapping implements Mapping {
  readonly minIndex: number;
  readonly maxIndex: number;
  private readonly scaleFactor: number;
  private readonly inverseFactor: number;
  private readonly subBuckets: number;

  constructor(readonly scale: number) {
    if (scale <= 0 || scale > 20) throw new RangeError(`LogarithmMapping needs scale in [1, 20], got ${scale}`);
    this.subBuckets = 2 ** scale;
    this.scaleFactor = Math.LOG2E * this.subBuckets;
    this.inverseFactor = Math.LN2 / this.subBuckets;
    this.minIndex = MIN_NORMAL_EXPONENT * this.subBuckets - 1;
    this.maxIndex = (MAX_NORMAL_EXPONENT + 1) * this.subBuckets - 1;
  }

  mapToIndex(value: number): number {
    if (value <= MIN_NORMAL_VALUE) return this.minIndex;
    if (significandIsZero(value)) return exponentField(value) * this.subBuckets - 1;
    const index = Math.floor(Math.log(value) * this.scaleFactor);
    return Math.min(index, this.maxIndex);
  }

  lowerBoundary(index: number): number {
    if (!Number.isInteger(index) || index < this.minIndex || index > this.maxIndex) {
      throw new RangeError(`index ${index} is outside [${this.minIndex}, ${this.maxIndex}] at scale ${this.scale}`);
    }
    // Split into a power of two (exact) and a factor in [1, 2): no overflow
    // near Number.MAX_VALUE, and exact at every power of two.
    const whole = Math.floor(index / this.subBuckets);
    const fraction = index - whole * this.subBuckets;
    const base = powerOfTwo(whole);
    return fraction === 0 ? base : base * Math.exp(fraction * this.inverseFactor);
  }
}
