/**
 * Encoded bytes kept with message objects that are encoded unchanged again
 * and again.
 *
 * The collector shares one `KeyValue` object among every span, log record
 * and event that has the same attribute (the same key with the same method,
 * route, host, status ...), and encoding those objects is a third of the
 * cost of encoding a span. {@link memoizeEncoding} encodes such an object
 * once, with the generated encoder, freezes it, and keeps the bytes on it;
 * {@link useEncodingMemo} makes the generated encoder of the message type
 * write those bytes for it from then on (every other object is encoded as
 * before). The output is the generated encoder's, byte for byte: the bytes
 * are what it wrote for this very object, which cannot have changed since.
 *
 * Encoding only: decoding and the JSON forms (`toJSON`) do not see the
 * memo (it is a symbol-keyed property).
 */
import { BinaryWriter } from '@bufbuild/protobuf/wire';

/** The encoder of a generated message type, as ts-proto emits it. */
export interface MessageEncoder<T> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
}

const ENCODED: unique symbol = Symbol('otlp-mmap.encoded');

interface Memoized {
  readonly [ENCODED]?: Uint8Array;
}

/** Message types whose encoder consults the memo. */
const installed = new WeakSet<object>();

/**
 * Makes `type`'s generated `encode` (and so every generated encoder that
 * nests this type) write the bytes kept by {@link memoizeEncoding} for the
 * objects that have them. Idempotent.
 */
export function useEncodingMemo<T extends object>(type: MessageEncoder<T>): void {
  if (installed.has(type)) return;
  installed.add(type);
  const encode = type.encode.bind(type);
  type.encode = (message: T, writer: BinaryWriter = new BinaryWriter()): BinaryWriter => {
    const bytes = (message as Memoized)[ENCODED];
    if (bytes !== undefined) return writer.raw(bytes);
    return encode(message, writer);
  };
}

/**
 * Encodes `message` with `type`'s generated encoder, keeps the bytes on it
 * and deep-freezes it (it is shared and must never change: the bytes would
 * no longer be its encoding). Returns the same object. Takes effect in
 * encoders once {@link useEncodingMemo} was called for `type`.
 *
 * A message that holds a bytes field (a typed array, which cannot be
 * frozen) or is frozen already is returned as it is, without a memo.
 */
export function memoizeEncoding<T extends object>(type: MessageEncoder<T>, message: T): T {
  if (Object.isFrozen(message) || holdsBytes(message)) return message;
  const bytes = type.encode(message, new BinaryWriter()).finish();
  Object.defineProperty(message, ENCODED, { value: bytes, enumerable: false });
  deepFreeze(message);
  return message;
}

/** Whether `message` carries encoded bytes from {@link memoizeEncoding}. */
export function hasMemoizedEncoding(message: object): boolean {
  return (message as Memoized)[ENCODED] !== undefined;
}

function holdsBytes(value: object): boolean {
  if (ArrayBuffer.isView(value)) return true;
  for (const child of Object.values(value)) {
    if (typeof child === 'object' && child !== null && holdsBytes(child)) return true;
  }
  return false;
}

function deepFreeze(value: object): void {
  Object.freeze(value);
  for (const child of Object.values(value)) {
    if (typeof child === 'object' && child !== null && !Object.isFrozen(child)) deepFreeze(child);
  }
}
