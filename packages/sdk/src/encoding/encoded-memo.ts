/**
 * Remembers the encoded bytes of recent fields by position, so that a field
 * written again with the same key and value is copied instead of encoded.
 *
 * Instrumentations start their spans with the same attribute keys in the same
 * order, and many values repeat from one span to the next (method, scheme,
 * route, server address, status code), as do span names. Slot `slot` (the
 * attribute's position in its call) holds the last two distinct fields written
 * there, so a value that alternates among two (GET and POST, 200 and 404, the
 * two user agents of a health check and a browser) is found as well; a lookup
 * compares the key and the value with `===` and, on a match, copies the bytes
 * four at a time. Only primitive values that encode the same whenever they
 * compare equal are remembered: strings, booleans and non-zero numbers (0 and
 * -0 compare equal but encode differently). Nothing is cached by identity of
 * an object, so a mutated attribute object is never mistaken for an earlier
 * one.
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
  /** Key, value and byte length of entry `2 * slot + way` (two ways per slot). */
  private readonly keys: (string | undefined)[];
  private readonly values: unknown[];
  private readonly lengths: Int32Array;
  /** The way of each slot written or matched last (the other one is replaced next). */
  private readonly recent: Uint8Array;
  /** Misses in a row per slot (see {@link EncodedMemo.remember}). */
  private readonly misses: Int32Array;
  private readonly pool: DataView;
  private readonly entries: number;

  /** @param entries number of slots (positions 0 .. entries-1). */
  constructor(entries: number) {
    this.entries = entries;
    this.keys = new Array<string | undefined>(2 * entries).fill(undefined);
    this.values = new Array<unknown>(2 * entries).fill(undefined);
    this.lengths = new Int32Array(2 * entries);
    this.recent = new Uint8Array(entries);
    this.misses = new Int32Array(entries);
    this.pool = new DataView(new ArrayBuffer(2 * entries * ENTRY_SIZE));
  }

  /** Writes the bytes remembered at `slot` if they were for `key` and `value`. */
  replay(w: ProtoWriter, slot: number, key: string, value: unknown): boolean {
    // A volatile slot (see remember) is not even compared until its next sample.
    const misses = this.misses[slot];
    if (misses > VOLATILE_AFTER && ((misses + 1) & VOLATILE_SAMPLE) !== 0) return false;
    const keys = this.keys;
    const values = this.values;
    let entry = 2 * slot + this.recent[slot];
    if (keys[entry] !== key || values[entry] !== value) {
      entry ^= 1;
      if (keys[entry] !== key || values[entry] !== value) return false;
      this.recent[slot] = entry & 1;
    }
    w.copyWords(this.pool, entry * ENTRY_SIZE, this.lengths[entry]);
    this.misses[slot] = 0;
    return true;
  }

  /**
   * Remembers `w`'s bytes from `start` to its position as the field of `key`
   * and `value` at `slot`, in place of the slot's less recent entry. A slot
   * whose value changed on every recent call (a request path, a client
   * address) is remembered only now and then, so that it costs little more
   * than encoding.
   */
  remember(w: ProtoWriter, slot: number, key: string, value: unknown, start: number): void {
    if (slot >= this.entries) return;
    const misses = ++this.misses[slot];
    if (misses > VOLATILE_AFTER && (misses & VOLATILE_SAMPLE) !== 0) return;
    const length = w.pos - start;
    const way = this.recent[slot] ^ 1;
    const entry = 2 * slot + way;
    if (length > ENTRY_SIZE - 3 || !(typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && value !== 0))) {
      this.keys[entry] = undefined;
      return;
    }
    w.copyWordsOut(start, length, this.pool, entry * ENTRY_SIZE);
    this.keys[entry] = key;
    this.values[entry] = value;
    this.lengths[entry] = length;
    this.recent[slot] = way;
  }
}
