import type { Mapping } from './mapping.js';
import { MAX_NORMAL_EXPONENT, MIN_NORMAL_EXPONENT, MIN_NORMAL_VALUE, exponentField, powerOfTwo, significandIsZero } from './ieee754.js';

/**
 * Mapping for scales ≤ 0, computed from the exponent bits only, so it is
 * exact everywhere: at scale 0 bucket `i` is `(2^i, 2^(i+1)]`, and each
 * step down merges pairs of buckets (index >> -scale).
 *
 * @internal
 */
export class ExponentMapping implements Mapping {
  readonly minIndex: number;
  readonly maxIndex: number;
  private readonly shift: number;

  constructor(readonly scale: number) {
    if (scale > 0) throw new RangeError(`ExponentMapping needs scale <= 0, got ${scale}`);
    this.shift = -scale;
    // 2^-1022 is a power of two, so at scale 0 it sits in bucket -1023.
    this.minIndex = (MIN_NORMAL_EXPONENT - 1) >> this.shift;
    this.maxIndex = MAX_NORMAL_EXPONENT >> this.shift;
  }

  mapToIndex(value: number): number {
    if (value < MIN_NORMAL_VALUE) return this.minIndex;
    const exponent = exponentField(value);
    // (2^e, 2^(e+1)] at scale 0: an exact power of two belongs to the bucket below.
    const index0 = significandIsZero(value) ? exponent - 1 : exponent;
    return index0 >> this.shift;
  }

  lowerBoundary(index: number): number {
    if (!Number.isInteger(index) || index < this.minIndex || index > this.maxIndex) {
      throw new RangeError(`index ${index} is outside [${this.minIndex}, ${this.maxIndex}] at scale ${this.scale}`);
    }
    // index << shift is at least -1024 for every scale in [-10, 0]: representable.
    return powerOfTwo(index * 2 ** this.shift);
  }
}
