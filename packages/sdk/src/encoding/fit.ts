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

/** {@link writeKeyValueWithin}: the attribute was written as it is. */
export const FIT_WRITTEN = 0;
/** {@link writeKeyValueWithin}: the attribute's string value was cut to fit. */
export const FIT_TRUNCATED = 1;
/** {@link writeKeyValueWithin}: the attribute did not fit and was left out. */
export const FIT_DROPPED = 2;
/** {@link writeKeyValueWithin}: the attribute cannot be written at all (see `writeKeyValue`); nothing written. */
export const FIT_SKIPPED = 3;

/**
 * Bytes a KeyValueRef record takes besides its string's bytes, at most: the
 * record's tag and length, the key reference (tag and a 64-bit varint), the
 * value's tag and length, the string's tag and length.
 */
const RECORD_OVERHEAD = 1 + 3 + 1 + 10 + 1 + 4 + 1 + 4;

/**
 * Writes attribute `key` = `value` as field `tag` of the message being
 * written (at the top level of `w`), keeping the message within `max` bytes.
 * When the record does not fit and the value is a string, the value is cut
 * to the longest prefix whose UTF-8 fits what is left (whole code points);
 * any other value that does not fit is left out. Nothing is written unless the result
 * is {@link FIT_WRITTEN} or {@link FIT_TRUNCATED}.
 */
export function writeKeyValueWithin(w: ProtoWriter, tag: number, key: string, value: unknown, keys: KeyRefs, lengthLimit: number, max: number): number {
  const mark = w.pos;
  const depth = w.openMessages;
  if (!writeKeyValue(w, tag, key, value, keys, lengthLimit)) return FIT_SKIPPED;
  if (w.pos <= max) return FIT_WRITTEN;
  w.rewind(mark, depth);
  if (typeof value !== 'string') return FIT_DROPPED;
  const chars = utf8Prefix(value, max - mark - RECORD_OVERHEAD);
  if (chars <= 0) return FIT_DROPPED;
  if (!writeKeyValue(w, tag, key, value.slice(0, chars), keys, lengthLimit)) return FIT_SKIPPED;
  if (w.pos <= max) return FIT_TRUNCATED;
  w.rewind(mark, depth);
  return FIT_DROPPED;
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
