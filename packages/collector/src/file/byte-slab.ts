/**
 * Copies small byte strings (trace and span ids, short bytes values) out of
 * a ring batch. Allocating one ArrayBuffer per 8- or 16-byte id is slow, so
 * copies are carved out of shared 4 KiB slabs (as Node's Buffer pool does).
 * A kept copy pins at most its 4 KiB slab, never the ring batch it came from.
 */
const SLAB_SIZE = 4096;
let slab = new Uint8Array(SLAB_SIZE);
let used = 0;

export function copyBytes(source: Uint8Array): Uint8Array {
  const n = source.length;
  if (n === 0) return EMPTY;
  if (n > SLAB_SIZE / 8) return source.slice();
  if (used + n > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    used = 0;
  }
  const copy = slab.subarray(used, used + n);
  copy.set(source);
  used += (n + 7) & ~7;
  return copy;
}

const EMPTY = new Uint8Array(0);
