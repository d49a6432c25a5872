/**
 * Attributes of events-ring messages (log records, span events) written so
 * that the message fits one slot: a string value too long for what is left
 * of the slot (an `exception.stacktrace`, a long message) is cut to fit
 * instead of being lost.
 *
 * @internal
 */
import { writeKeyValue, type KeyRefs } from './any-value.js';
import type { ProtoWriter } from './proto-writer.js';

/**
 * Bytes a KeyValueRef record takes besides its string's bytes, at most: the
 * record's tag and length, the key reference (tag and a 64-bit varint), the
 * value's tag and length, the string's tag and length.
 */
const RECORD_OVERHEAD = 1 + 3 + 1 + 10 + 1 + 4 + 1 + 4;

/**
 * For an attribute that did not fit: writes attribute `key` = `value` as
 * field `tag` at the top level of the message being written, its string
 * value cut to the longest prefix whose UTF-8 fits the `max` bytes of the
 * message (whole code points). Call it with the writer back where the
 * attribute started. Returns whether it wrote it; it writes nothing when
 * `value` is not a string or not even a short prefix fits.
 */
export function writeCutToFit(w: ProtoWriter, tag: number, key: string, value: unknown, keys: KeyRefs, lengthLimit: number, max: number): boolean {
  if (typeof value !== 'string') return false;
  const mark = w.pos;
  const depth = w.openMessages;
  const chars = utf8Prefix(value, max - mark - RECORD_OVERHEAD);
  if (chars <= 0) return false;
  if (!writeKeyValue(w, tag, key, value.slice(0, chars), keys, lengthLimit)) return false;
  if (w.pos <= max) return true;
  w.rewind(mark, depth);
  return false;
}

/**
 * The number of UTF-16 code units of the longest prefix of `value` whose
 * UTF-8 encoding takes at most `bytes` bytes, without splitting a surrogate
 * pair (a lone surrogate counts as the 3 bytes of U+FFFD, as it is encoded).
 */
export function utf8Prefix(value: string, bytes: number): number {
  let used = 0;
  let i = 0;
  while (i < value.length) {
    const c = value.charCodeAt(i);
    let size = 3;
    let units = 1;
    if (c < 0x80) size = 1;
    else if (c < 0x800) size = 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        size = 4;
        units = 2;
      }
    }
    if (used + size > bytes) break;
    used += size;
    i += units;
  }
  return i;
}
