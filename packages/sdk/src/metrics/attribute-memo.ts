/**
 * The encoded attributes of an instrument's last measurement, reused when the
 * next one has the same attributes.
 *
 * Most applications record an instrument with few distinct attribute sets
 * (often the very same object). When every key and value of a call equals the
 * remembered one, in the same order, the encoded `KeyValueRef` fields are the
 * same bytes (dictionary references never change within a file), so they are
 * copied instead of re-encoded. Values are compared with `===`, except that
 * `-0` never matches (it encodes as a double, `0` as an int).
 *
 * Only attribute sets that were encoded entirely through the scalar fast paths
 * are remembered (short ASCII strings and integers in [0, 2^28), all keys
 * interned), so a failure or a dropped attribute is never replayed. When
 * attributes keep changing, refreshing is backed off so that a miss costs
 * little more than one comparison.
 *
 * @internal
 */
export class AttributeMemo {
  /** Set while a measurement of the instrument is being encoded (re-entrant calls do without the memo). */
  busy = false;
  /** Number of remembered attributes; -1 when nothing is remembered. */
  count = -1;
  readonly keys: string[] = [];
  readonly values: (string | number)[] = [];
  /** The encoded KeyValueRef fields. */
  bytes: Uint8Array = new Uint8Array(0);
  /** Misses to let pass before refreshing again. */
  private skip = 0;
  /** Current back-off (0 after a hit). */
  private backoff = 0;

  /** True when `attributes` has exactly the remembered keys and values, in order. */
  matches(attributes: Record<string, unknown>): boolean {
    const count = this.count;
    if (count < 0) return false;
    const keys = this.keys;
    const values = this.values;
    let n = 0;
    for (const key in attributes) {
      if (!hasOwn.call(attributes, key)) continue;
      const v = attributes[key];
      if (n >= count || keys[n] !== key || values[n] !== v || (v === 0 && 1 / v < 0)) return false;
      n++;
    }
    if (n !== count) return false;
    this.backoff = 0;
    return true;
  }

  /** True when a miss should refresh the memo now (backs off while misses follow refreshes). */
  shouldRefresh(): boolean {
    if (this.skip > 0) {
      this.skip--;
      return false;
    }
    this.skip = this.backoff;
    this.backoff = this.backoff === 0 ? 1 : Math.min(this.backoff * 2, MAX_BACKOFF);
    return true;
  }

  /** Remembers one attribute (in order); call `store` after the last. */
  push(n: number, key: string, value: string | number): void {
    this.keys[n] = key;
    this.values[n] = value;
  }

  /** Remembers `count` attributes (given with `push`) encoded as `buf[start..end)`. */
  store(count: number, buf: Uint8Array, start: number, end: number): void {
    this.count = count;
    // A copy (Buffer#slice would share the encoder's memory).
    const bytes = this.bytes.length === end - start ? this.bytes : new Uint8Array(end - start);
    bytes.set(buf.subarray(start, end));
    this.bytes = bytes;
  }

  /** Forgets what is remembered. */
  clear(): void {
    this.count = -1;
  }
}

const hasOwn = Object.prototype.hasOwnProperty;
const MAX_BACKOFF = 64;
