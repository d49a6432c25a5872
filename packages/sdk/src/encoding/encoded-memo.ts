/**
 * Remembers the encoded bytes of recent fields by position, so that a field
 * written again with the same key and value is copied instead of encoded.
 *
 * Instrumentations start their spans with the same attribute keys in the same
 * order, and many values repeat from one span to the next (method, scheme,
 * route, server address, status code), as do span names. Entry `slot` (the
 * attribute's position in its call) holds the last field written there; a
 * lookup compares the key and the value with `===` and, on a match, copies the
 * bytes four at a time. Only primitive values that encode the same whenever
 * they compare equal are remembered: strings, booleans and non-zero numbers
 * (0 and -0 compare equal but encode differently). Nothing is cached by
 * identity of an object, so a mutated attribute object is never mistaken for
 * an earlier one.
 *
 * The bytes depend on what the caller derives from the key and value (the
 * key's dictionary reference, the value length limit); each memo serves one
 * caller whose derivation never changes.
 *
 * @internal
 */
import type { ProtoWriter } from './proto-writer.js';

/** Bytes per entry; a field must leave 3 bytes of slack for the word copy. */
const ENTRY_SIZE = 128;
/** After this many misses in a row a slot is volatile... */
const VOLATILE_AFTER = 4;
/** ...and is remembered once every 16 misses (when `misses & 15` is 0). */
const VOLATILE_SAMPLE = 15;

export class EncodedMemo {
  private readonly keys: (string | undefined)[];
  private readonly values: unknown[];
  private readonly lengths: Int32Array;
  /** Misses in a row per slot (see {@link EncodedMemo.remember}). */
  private readonly misses: Int32Array;
  private readonly pool: DataView;
  private readonly entries: number;

  /** @param entries number of slots (positions 0 .. entries-1). */
  constructor(entries: number) {
    this.entries = entries;
    this.keys = new Array<string | undefined>(entries).fill(undefined);
    this.values = new Array<unknown>(entries).fill(undefined);
    this.lengths = new Int32Array(entries);
    this.misses = new Int32Array(entries);
    this.pool = new DataView(new ArrayBuffer(entries * ENTRY_SIZE));
  }

  /** Writes the bytes remembered at `slot` if they were for `key` and `value`. */
  replay(w: ProtoWriter, slot: number, key: string, value: unknown): boolean {
    // A volatile slot (see remember) is not even compared until its next sample.
    const misses = this.misses[slot];
    if (misses > VOLATILE_AFTER && ((misses + 1) & VOLATILE_SAMPLE) !== 0) return false;
    if (this.keys[slot] !== key || this.values[slot] !== value) return false;
    w.copyWords(this.pool, slot * ENTRY_SIZE, this.lengths[slot]);
    this.misses[slot] = 0;
    return true;
  }

  /**
   * Remembers `w`'s bytes from `start` to its position as the field of `key`
   * and `value` at `slot`. A slot whose value changed on every recent call
   * (a request path, a client address) is remembered only now and then, so
   * that it costs little more than encoding.
   */
  remember(w: ProtoWriter, slot: number, key: string, value: unknown, start: number): void {
    if (slot >= this.entries) return;
    const misses = ++this.misses[slot];
    if (misses > VOLATILE_AFTER && (misses & VOLATILE_SAMPLE) !== 0) return;
    const length = w.pos - start;
    if (
      length > ENTRY_SIZE - 3 ||
      !(typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && value !== 0))
    ) {
      this.keys[slot] = undefined;
      return;
    }
    w.copyWordsOut(start, length, this.pool, slot * ENTRY_SIZE);
    this.keys[slot] = key;
    this.values[slot] = value;
    this.lengths[slot] = length;
  }
}
