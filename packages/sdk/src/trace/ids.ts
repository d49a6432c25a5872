/**
 * Trace and span ids kept as big-endian uint32 words, so encoding them needs
 * no hex parsing; the W3C hex strings are built only when asked for.
 *
 * @internal
 */

const TWO_32 = 4294967296;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A random uint32. */
export function randomWord(): number {
  return (Math.random() * TWO_32) >>> 0;
}

/** 8 hex digits of a uint32. */
export function wordHex(w: number): string {
  return HEX[w >>> 24] + HEX[(w >>> 16) & 255] + HEX[(w >>> 8) & 255] + HEX[w & 255];
}

/** The uint32 at hex digits [8i, 8i + 8) of an id string. */
export function hexWord(hex: string, i: number): number {
  return parseInt(hex.substring(8 * i, 8 * i + 8), 16) >>> 0;
}
