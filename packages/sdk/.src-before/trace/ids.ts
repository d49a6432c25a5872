/**
 * Trace and span ids kept as big-endian uint32 words, so encoding them needs
 * no hex parsing; the W3C hex strings are built only when asked for.
 *
 * @internal
 */

import { randomFillSync } from 'node:crypto';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

const POOL_WORDS = 4096;
const pool = new Uint32Array(POOL_WORDS);
let next = POOL_WORDS;

/** A random uint32, from a pool refilled by the CSPRNG 16 KiB at a time. */
export function randomWord(): number {
  if (next === POOL_WORDS) {
    randomFillSync(pool);
    next = 0;
  }
  return pool[next++];
}

/** 8 hex digits of a uint32. */
export function wordHex(w: number): string {
  return HEX[w >>> 24] + HEX[(w >>> 16) & 255] + HEX[(w >>> 8) & 255] + HEX[w & 255];
}

/** The uint32 at hex digits [8i, 8i + 8) of an id string. */
export function hexWord(hex: string, i: number): number {
  return parseInt(hex.substring(8 * i, 8 * i + 8), 16) >>> 0;
}
