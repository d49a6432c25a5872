/**
 * Trace and span ids kept as big-endian uint32 words, so encoding them needs
 * no hex parsing; the W3C hex strings are built only when asked for.
 *
 * @internal
 */

import { randomFillSync } from 'node:crypto';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * State of the id generator, xoshiro128** (Blackman and Vigna): a 128-bit
 * pseudo-random generator seeded once from the CSPRNG. Ids must be unique and
 * uniformly distributed, not secret (the OpenTelemetry JS SDK draws them from
 * `Math.random()`); this one costs a few integer operations per word, less
 * than refilling a pool from the CSPRNG (the SDK README's performance notes).
 */
const state = new Int32Array(4);
do randomFillSync(state);
while ((state[0] | state[1] | state[2] | state[3]) === 0);

/** A pseudo-random uint32 (see {@link state}). */
export function randomWord(): number {
  const s = state;
  const s0 = s[0];
  const s1 = s[1];
  const s2 = s[2] ^ s0;
  const s3 = s[3] ^ s1;
  const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
  s[0] = s0 ^ s3;
  s[1] = s1 ^ s2;
  s[2] = s2 ^ (s1 << 9);
  s[3] = rotl(s3, 11);
  return result;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** 8 hex digits of a uint32. */
export function wordHex(w: number): string {
  return HEX[w >>> 24] + HEX[(w >>> 16) & 255] + HEX[(w >>> 8) & 255] + HEX[w & 255];
}

/** The uint32 at hex digits [8i, 8i + 8) of an id string. */
export function hexWord(hex: string, i: number): number {
  return parseInt(hex.substring(8 * i, 8 * i + 8), 16) >>> 0;
}
