/**
 * Byte-level mutations for the Node fuzz, driven by a small seeded PRNG so that a run is reproducible
 * from its seed. The mutations are the usual ones of coverage-less fuzzers, biased towards what breaks
 * protobuf readers: varints made long or huge, lengths bent, bytes zeroed, ranges repeated (which
 * repeats fields and nests messages), splices of two valid messages.
 */

/** mulberry32: a fast 32-bit PRNG, good enough for choosing mutations. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 2^32). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform integer in [0, n). */
  below(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() / 4294967296 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 255;
    return out;
  }
}

/** Values that often sit on a boundary of a varint, a length or a tag (0x40: AnyValue.value_ref). */
const INTERESTING = [0, 1, 2, 7, 8, 0x0a, 0x12, 0x1a, 0x22, 0x2a, 0x32, 0x3a, 0x40, 0x42, 0x7f, 0x80, 0x81, 0xfe, 0xff];

/** Varints that stress readers: the largest 64-bit one, 2^53 and a bit, 2^31, and an over-long encoding of 0. */
const VARINTS = [
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
  [0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10],
  [0x80, 0x80, 0x80, 0x80, 0x08],
  [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
  [0xff, 0xff, 0xff, 0xff, 0x0f],
];

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * `input` with 1 to 4 mutations; `other` is another valid message to splice with. The result never
 * exceeds `maxLength` bytes.
 */
export function mutate(rng: Rng, input: Uint8Array, other: Uint8Array, maxLength: number): Uint8Array {
  let out = input;
  const rounds = 1 + rng.below(4);
  for (let r = 0; r < rounds; r++) out = mutateOnce(rng, out, other);
  return out.length > maxLength ? out.subarray(0, maxLength) : out;
}

function mutateOnce(rng: Rng, input: Uint8Array, other: Uint8Array): Uint8Array {
  const n = input.length;
  const at = rng.below(n + 1);
  switch (rng.below(12)) {
    case 0: {
      // flip a bit
      if (n === 0) return rng.bytes(1);
      const out = input.slice();
      out[rng.below(n)] ^= 1 << rng.below(8);
      return out;
    }
    case 1: {
      // an interesting byte
      if (n === 0) return Uint8Array.of(rng.pick(INTERESTING));
      const out = input.slice();
      out[rng.below(n)] = rng.pick(INTERESTING);
      return out;
    }
    case 2:
      // insert random bytes
      return concat(input.subarray(0, at), rng.bytes(1 + rng.below(4)), input.subarray(at));
    case 3: {
      // delete a range
      const length = 1 + rng.below(Math.max(1, n - at));
      return concat(input.subarray(0, at), input.subarray(Math.min(n, at + length)));
    }
    case 4: {
      // repeat a range (repeated fields; a length then covers more or less)
      const length = 1 + rng.below(Math.max(1, Math.min(64, n - at)));
      const chunk = input.subarray(at, Math.min(n, at + length));
      let out = input.subarray(0, at + chunk.length);
      for (let i = 1 + rng.below(3); i > 0; i--) out = concat(out, chunk);
      return concat(out, input.subarray(at + chunk.length));
    }
    case 5: {
      // splice with another message
      const cut = rng.below(other.length + 1);
      return rng.chance(0.5) ? concat(input.subarray(0, at), other.subarray(cut)) : concat(other.subarray(0, cut), input.subarray(at));
    }
    case 6:
      // truncate
      return input.subarray(0, at);
    case 7: {
      // a stressful varint in place of a byte
      const varint = Uint8Array.from(rng.pick(VARINTS));
      return concat(input.subarray(0, at), varint, input.subarray(Math.min(n, at + 1)));
    }
    case 8: {
      // zero a range
      const out = input.slice();
      const length = 1 + rng.below(16);
      out.fill(0, at, Math.min(n, at + length));
      return out;
    }
    case 9:
      // wrap the tail in a field of the same message (deeper nesting, lengths to match)
      return concat(input.subarray(0, at), wrap(rng, input.subarray(at), 1 + rng.below(40)));
    case 10: {
      // bend a length: add or take a little
      if (n === 0) return input;
      const out = input.slice();
      const i = rng.below(n);
      out[i] = (out[i] + rng.pick([1, -1, 2, -2, 64, -64])) & 255;
      return out;
    }
    default:
      // all new random bytes
      return rng.bytes(rng.below(64));
  }
}

/** `inner` nested `depth` times in length-delimited fields of one tag. */
function wrap(rng: Rng, inner: Uint8Array, depth: number): Uint8Array {
  const tag = rng.pick([0x0a, 0x12, 0x2a, 0x32, 0x42, 0x4a, 0x5a]);
  let out = inner;
  for (let i = 0; i < depth; i++) out = concat(Uint8Array.of(tag), varint(out.length), out);
  return out;
}

export function varint(value: number): Uint8Array {
  const out: number[] = [];
  let v = value;
  while (v > 127) {
    out.push((v % 128) | 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Uint8Array.from(out);
}
