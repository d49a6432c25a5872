/**
 * Interning into the file's dictionary (FORMAT.md section 4).
 *
 * Strings (attribute keys, event names, scope names) and messages (resource,
 * scope, metric definitions) are cached in JS maps, so a repeated key costs a
 * map lookup and never crosses into native code. The binding's `intern()`
 * deduplicates as well, so even a cache miss (the string cache is bounded)
 * adds no entry for bytes this process wrote before.
 *
 * A failure (dictionary full, file closed) yields reference 0 ("none"), is
 * reported to diag, and is counted by the caller's `onFailure`.
 *
 * @internal
 */
import { diag } from '@opentelemetry/api';
import type { NativeWriter } from './native.js';

/** Beyond this many cached strings, new ones go straight to the binding. */
const MAX_CACHED_STRINGS = 16384;
/** Number of positional key slots (a power of two); see {@link Dictionary.stringAt}. */
export const KEY_SLOTS = 256;

export class Dictionary {
  private readonly native: NativeWriter;
  private readonly strings = new Map<string, number>();
  private readonly messages = new Map<string, number>();
  /** Last key seen at each slot, and its reference. */
  private readonly slotKeys: (string | undefined)[] = new Array<string | undefined>(KEY_SLOTS).fill(undefined);
  private readonly slotRefs: number[] = new Array<number>(KEY_SLOTS).fill(0);
  private readonly onFailure: () => void;
  private closed = false;

  constructor(native: NativeWriter, onFailure: () => void) {
    this.native = native;
    this.onFailure = onFailure;
  }

  /** Reference of the string entry holding `value` ("" is reference 0). */
  string(value: string): number {
    const cached = this.strings.get(value);
    if (cached !== undefined) return cached;
    if (value === '') return 0;
    if (this.closed) return 0;
    let ref: number;
    try {
      ref = this.native.internString(value);
    } catch (err) {
      diag.error('otlp-mmap: could not add a string to the dictionary', err);
      this.onFailure();
      return 0;
    }
    if (this.strings.size < MAX_CACHED_STRINGS) this.strings.set(value, ref);
    return ref;
  }

  /**
   * Same as {@link Dictionary.string}, remembering the last string seen at
   * `slot` (the position of an attribute in its call, offset per call site).
   * Callers that pass the same attribute keys in the same order each time
   * (the usual case) then pay a string comparison instead of a map lookup.
   * Keyed by the string itself, so a mutated attribute object is never
   * mistaken for the one seen before.
   */
  stringAt(slot: number, value: string): number {
    const i = slot & (KEY_SLOTS - 1);
    if (this.slotKeys[i] === value) return this.slotRefs[i];
    const ref = this.string(value);
    if (ref !== 0) {
      this.slotKeys[i] = value;
      this.slotRefs[i] = ref;
    }
    return ref;
  }

  /** Counts one attribute that could not be written (see `KeyRefs.countDropped`). */
  countDropped(): void {
    this.onFailure();
  }

  /**
   * Reference of the entry holding `encode()`'s bytes. `key` identifies the
   * content (two calls with one key must encode the same bytes), so a repeat
   * neither encodes nor crosses into native code.
   */
  message(key: string, encode: () => Uint8Array): number {
    const cached = this.messages.get(key);
    if (cached !== undefined) return cached;
    if (this.closed) return 0;
    let ref: number;
    try {
      ref = this.native.intern(encode());
    } catch (err) {
      diag.error('otlp-mmap: could not add an entry to the dictionary', err);
      this.onFailure();
      return 0;
    }
    this.messages.set(key, ref);
    return ref;
  }

  /** @internal */
  close(): void {
    this.closed = true;
  }
}
