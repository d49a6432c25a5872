/**
 * Bit-level helpers for IEEE 754 binary64 values (frexp / ldexp in spirit),
 * used by the exponential histogram mappings so that powers of two,
 * subnormals and the extremes of the double range map exactly (no logarithm
 * involved).
 *
 * @internal
 */

/** Exponent of the smallest normal double, 2^-1022. */
export const MIN_NORMAL_EXPONENT = -1022;
/** Exponent of the largest finite double's binade, [2^1023, 2^1024). */
export const MAX_NORMAL_EXPONENT = 1023;
/** The smallest normal double, 2^-1022. */
export const MIN_NORMAL_VALUE = 2.2250738585072014e-308;

const EXPONENT_BIAS = 1023;
const SIGNIFICAND_BITS = 52;
/** Mask of the significand bits held in the high 32-bit word. */
const HIGH_SIGNIFICAND_MASK = 0x000fffff;

const float = new Float64Array(1);
const words = new Uint32Array(float.buffer);
// FORMAT.md only targets little-endian machines, but stay correct anyway.
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = littleEndian ? 1 : 0;
const LO = littleEndian ? 0 : 1;

/**
 * The unbiased exponent field of `value`: `e` such that a normal value is
 * `1.f × 2^e`. Subnormals (and zero) give -1023. The sign is ignored.
 */
export function exponentField(value: number): number {
  float[0] = value;
  return ((words[HI] >>> 20) & 0x7ff) - EXPONENT_BIAS;
}

/** True when the significand bits of `value` are all zero (a normal value that is a power of two). */
export function significandIsZero(value: number): boolean {
  float[0] = value;
  return (words[HI] & HIGH_SIGNIFICAND_MASK) === 0 && words[LO] === 0;
}

/**
 * Exactly 2^exponent, built from its bits, for any exponent in
 * [-1074, 1023] (subnormal results included). Outside that range the result
 * is 0 or Infinity.
 */
export function powerOfTwo(exponent: number): number {
  if (exponent > MAX_NORMAL_EXPONENT) return Infinity;
  if (exponent < MIN_NORMAL_EXPONENT - SIGNIFICAND_BITS) return 0;
  if (exponent >= MIN_NORMAL_EXPONENT) {
    words[HI] = (exponent + EXPONENT_BIAS) << 20;
    words[LO] = 0;
  } else {
    const bit = exponent - (MIN_NORMAL_EXPONENT - SIGNIFICAND_BITS); // 0..51
    words[HI] = bit >= 32 ? 1 << (bit - 32) : 0;
    words[LO] = bit < 32 ? (1 << bit) >>> 0 : 0;
  }
  return float[0];
}
