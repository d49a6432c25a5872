/**
 * Conversion of JS values to OTLP-MMAP `AnyValue` / `KeyValueRef`
 * (FORMAT.md section 5), written straight into a {@link ProtoWriter}.
 *
 * | JS value | AnyValue |
 * |----------|----------|
 * | string | `string_value` (cut to the value length limit, if any) |
 * | boolean | `bool_value` |
 * | number, safe integer (not -0) | `int_value` |
 * | number, otherwise (fractions, -0, NaN, ±Infinity, unsafe integers) | `double_value` |
 * | bigint within int64 | `int_value` |
 * | bigint outside int64 | `string_value` with its decimal digits (nothing is lost) |
 * | Uint8Array / Buffer | `bytes_value` (cut to the length limit, if any) |
 * | ArrayBuffer | `bytes_value` of its contents |
 * | other typed arrays, arrays (homogeneous or mixed) | `array_value` |
 * | Map | `kvlist_value`, keys converted with `String()` |
 * | Date | `string_value`, ISO 8601 |
 * | other objects | `kvlist_value` of their own enumerable string keys |
 * | null / undefined as an attribute value | the attribute is dropped (OpenTelemetry attribute rules) |
 * | null / undefined inside an array or a map | empty `AnyValue` |
 * | function, symbol | dropped with a diag warning (an empty value inside an array, to keep positions) |
 * | a cycle, or nesting deeper than {@link MAX_VALUE_DEPTH} | that nested value is dropped with a diag warning (an empty value inside an array) |
 *
 * @internal
 */
import { diag } from '@opentelemetry/api';
import {
  ANY_VALUE_ARRAY_VALUE,
  ANY_VALUE_BOOL_VALUE,
  ANY_VALUE_BYTES_VALUE,
  ANY_VALUE_DOUBLE_VALUE,
  ANY_VALUE_INT_VALUE,
  ANY_VALUE_KVLIST_VALUE,
  ANY_VALUE_STRING_VALUE,
  ARRAY_VALUE_VALUES,
  KEY_VALUE_REF_KEY_REF,
  KEY_VALUE_REF_VALUE,
  KEY_VALUE_LIST_VALUES,
} from '@otlp-mmap/protocol/tags';
import type { ProtoWriter } from './proto-writer.js';

/** Deepest nesting of arrays and maps that is converted. */
export const MAX_VALUE_DEPTH = 32;

/** Gives the dictionary reference of a key string. */
export interface KeyRefs {
  string(value: string): number;
  /** Same as `string`, with a hint: the attribute's position slot (see `Dictionary.stringAt`). */
  stringAt(slot: number, value: string): number;
  /** Counts one attribute left out because it cannot be written (reported to diag by the caller). */
  countDropped(): void;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const LOW_32 = 0xffffffffn;

/** Objects being converted, outermost first (cycle guard). */
const ancestors: object[] = [];

/**
 * Writes a `KeyValueRef` as the field `tag`. Returns false, having written
 * nothing, when the attribute must be dropped: a null/undefined value (the
 * OpenTelemetry attribute rules), or an empty key or a value that cannot be
 * represented (both reported to diag and counted through
 * {@link KeyRefs.countDropped}). `slot`, when not negative, is the
 * attribute's position slot for {@link KeyRefs.stringAt}.
 */
export function writeKeyValue(w: ProtoWriter, tag: number, key: string, value: unknown, keys: KeyRefs, lengthLimit: number, slot = -1): boolean {
  if (value === undefined || value === null) return false;
  if (typeof key !== 'string' || key.length === 0) {
    diag.warn(`otlp-mmap: attribute with an invalid key (${String(key)}) dropped`);
    keys.countDropped();
    return false;
  }
  const keyRef = slot >= 0 ? keys.stringAt(slot, key) : keys.string(key);
  // Fast paths: the common scalar attributes, written in one pass. Tags above
  // 127 and key ref 0 (an interning failure) take the general path.
  if (tag < 128 && keyRef !== 0) {
    switch (typeof value) {
      case 'string':
        if (w.kvAscii(tag, keyRef, value.length > lengthLimit ? value.slice(0, lengthLimit) : value)) return true;
        break;
      case 'number':
        if (value >= 0 && value < 268435456 && Number.isInteger(value) && !Object.is(value, -0)) {
          w.kvSmallInt(tag, keyRef, value);
          return true;
        }
        if (!Number.isSafeInteger(value)) {
          w.kvDouble(tag, keyRef, value);
          return true;
        }
        break;
      case 'boolean':
        w.kvBool(tag, keyRef, value);
        return true;
    }
  }
  const mark = w.pos;
  const depth = w.openMessages;
  w.uint32(tag);
  w.fork();
  if (keyRef !== 0) {
    w.uint32(KEY_VALUE_REF_KEY_REF);
    w.int64(keyRef);
  }
  w.uint32(KEY_VALUE_REF_VALUE);
  w.fork();
  if (typeof value === 'string') {
    w.uint32(ANY_VALUE_STRING_VALUE);
    w.string(value.length > lengthLimit ? value.slice(0, lengthLimit) : value);
  } else if (!writeAnyValue(w, value, keys, lengthLimit, 0)) {
    // writeAnyValue told diag why.
    w.rewind(mark, depth);
    keys.countDropped();
    return false;
  }
  w.join();
  w.join();
  return true;
}

/**
 * Writes the content of an `AnyValue` message (its oneof field, nothing for
 * null/undefined). Returns false, having written nothing, when the value
 * cannot be represented.
 */
export function writeAnyValue(w: ProtoWriter, value: unknown, keys: KeyRefs, lengthLimit: number, depth: number): boolean {
  switch (typeof value) {
    case 'string':
      w.uint32(ANY_VALUE_STRING_VALUE);
      w.string(value.length > lengthLimit ? value.slice(0, lengthLimit) : value);
      return true;
    case 'number':
      if (Number.isSafeInteger(value) && !Object.is(value, -0)) {
        w.uint32(ANY_VALUE_INT_VALUE);
        w.int64(value);
      } else {
        w.uint32(ANY_VALUE_DOUBLE_VALUE);
        w.double(value);
      }
      return true;
    case 'boolean':
      w.uint32(ANY_VALUE_BOOL_VALUE);
      w.uint32(value ? 1 : 0);
      return true;
    case 'bigint':
      writeBigInt(w, value);
      return true;
    case 'undefined':
      return true;
    case 'object':
      if (value === null) return true;
      return writeObject(w, value, keys, lengthLimit, depth);
    default:
      diag.warn(`otlp-mmap: a ${typeof value} cannot be an attribute or body value; dropped`);
      return false;
  }
}

function writeBigInt(w: ProtoWriter, value: bigint): void {
  if (value >= INT64_MIN && value <= INT64_MAX) {
    const u = BigInt.asUintN(64, value);
    w.uint32(ANY_VALUE_INT_VALUE);
    w.varint64(Number(u & LOW_32), Number(u >> 32n));
  } else {
    w.uint32(ANY_VALUE_STRING_VALUE);
    w.string(value.toString());
  }
}

function writeObject(w: ProtoWriter, value: object, keys: KeyRefs, lengthLimit: number, depth: number): boolean {
  if (value instanceof Uint8Array) {
    w.uint32(ANY_VALUE_BYTES_VALUE);
    w.bytes(value.length > lengthLimit ? value.subarray(0, lengthLimit) : value);
    return true;
  }
  if (value instanceof ArrayBuffer) {
    w.uint32(ANY_VALUE_BYTES_VALUE);
    const bytes = new Uint8Array(value);
    w.bytes(bytes.length > lengthLimit ? bytes.subarray(0, lengthLimit) : bytes);
    return true;
  }
  if (value instanceof Date) {
    w.uint32(ANY_VALUE_STRING_VALUE);
    w.string(Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString());
    return true;
  }
  if (depth >= MAX_VALUE_DEPTH) {
    diag.warn(`otlp-mmap: value nested deeper than ${MAX_VALUE_DEPTH} levels; dropped`);
    return false;
  }
  if (ancestors.includes(value)) {
    diag.warn('otlp-mmap: value contains a cycle; dropped');
    return false;
  }
  ancestors.push(value);
  try {
    if (Array.isArray(value) || ArrayBuffer.isView(value)) {
      writeArray(w, value as ArrayLike<unknown>, keys, lengthLimit, depth + 1);
    } else if (value instanceof Map) {
      writeMap(w, value, keys, lengthLimit, depth + 1);
    } else {
      writePlainObject(w, value as Record<string, unknown>, keys, lengthLimit, depth + 1);
    }
  } finally {
    ancestors.pop();
  }
  return true;
}

function writeArray(w: ProtoWriter, items: ArrayLike<unknown>, keys: KeyRefs, lengthLimit: number, depth: number): void {
  w.uint32(ANY_VALUE_ARRAY_VALUE);
  w.fork();
  const n = items.length;
  for (let i = 0; i < n; i++) {
    w.uint32(ARRAY_VALUE_VALUES);
    w.fork();
    // A value that cannot be represented stays as an empty value: positions are kept.
    writeAnyValue(w, items[i], keys, lengthLimit, depth);
    w.join();
  }
  w.join();
}

function writeMap(w: ProtoWriter, map: Map<unknown, unknown>, keys: KeyRefs, lengthLimit: number, depth: number): void {
  w.uint32(ANY_VALUE_KVLIST_VALUE);
  w.fork();
  for (const [k, v] of map) writeNestedEntry(w, typeof k === 'string' ? k : String(k), v, keys, lengthLimit, depth);
  w.join();
}

function writePlainObject(w: ProtoWriter, obj: Record<string, unknown>, keys: KeyRefs, lengthLimit: number, depth: number): void {
  w.uint32(ANY_VALUE_KVLIST_VALUE);
  w.fork();
  for (const k of Object.keys(obj)) writeNestedEntry(w, k, obj[k], keys, lengthLimit, depth);
  w.join();
}

/** A map entry: null/undefined values stay (as empty values); unrepresentable ones are dropped. */
function writeNestedEntry(w: ProtoWriter, key: string, value: unknown, keys: KeyRefs, lengthLimit: number, depth: number): void {
  const mark = w.pos;
  const open = w.openMessages;
  const keyRef = keys.string(key);
  w.uint32(KEY_VALUE_LIST_VALUES);
  w.fork();
  if (keyRef !== 0) {
    w.uint32(KEY_VALUE_REF_KEY_REF);
    w.int64(keyRef);
  }
  w.uint32(KEY_VALUE_REF_VALUE);
  w.fork();
  if (!writeAnyValue(w, value, keys, lengthLimit, depth)) {
    w.rewind(mark, open);
    return;
  }
  w.join();
  w.join();
}
