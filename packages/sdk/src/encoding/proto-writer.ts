/**
 * A small protobuf encoder that writes straight into one reusable buffer.
 *
 * It knows exactly what the SDK's messages need: varints (32-bit, and 64-bit
 * given as two uint32 halves or as a safe JS integer), fixed32, fixed64 (two
 * halves, so timestamps need no bigint), doubles, strings, raw bytes, bytes
 * given as hex, and nested length-delimited messages whose length is
 * back-patched when the message is closed.
 *
 * A nested message reserves one byte for its length; when the content turns
 * out to be 128 bytes or longer the content is shifted right to make room for
 * the longer varint. Most nested messages (a KeyValueRef, an AnyValue) are
 * short, so the shift is rare and cheap.
 *
 * The buffer grows on demand (doubling) into a new one; {@link ProtoWriter.reset}
 * comes back to the initial buffer, so memory stays bounded by the largest
 * message in flight and a buffer given to the constructor (the binding's
 * scratch memory) is where every ordinary message is encoded.
 *
 * @internal
 */

import * as T from '@otlp-mmap/protocol/tags';

// Module-local copies of the tags the fast paths below write: V8 folds a
// module's own constants into optimised code, but loads an imported binding
// each time it is used.
const {
  SPAN_EVENT_SCOPE_REF,
  SPAN_EVENT_TRACE_ID,
  SPAN_EVENT_SPAN_ID,
  START_SPAN_FLAGS,
  START_SPAN_NAME,
  START_SPAN_KIND,
  START_SPAN_START_TIME_UNIX_NANO,
  KEY_VALUE_REF_KEY_REF,
  KEY_VALUE_REF_VALUE,
  ANY_VALUE_STRING_VALUE,
  ANY_VALUE_BOOL_VALUE,
  ANY_VALUE_INT_VALUE,
  ANY_VALUE_DOUBLE_VALUE,
} = T;

/** Protobuf wire types. */
export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

const TWO_32 = 4294967296;
const MAX_DEPTH = 128;

export class ProtoWriter {
  /** The encoded bytes are `buf[0..pos)`. */
  buf: Buffer;
  /** Write position. */
  pos = 0;
  /** `buf` as a DataView, for writing 32-bit words in one store. */
  private view: DataView;
  /** The buffer the writer starts in and comes back to. */
  private readonly home: Buffer;
  private readonly stack = new Int32Array(MAX_DEPTH);
  private depth = 0;

  /**
   * @param initial the buffer's initial size, or the buffer itself (the
   *   writer comes back to it on {@link ProtoWriter.reset} after growing).
   */
  constructor(initial: number | Buffer = 4096) {
    this.home = typeof initial === 'number' ? Buffer.allocUnsafe(initial) : initial;
    this.buf = this.home;
    this.view = viewOf(this.buf);
  }

  /** Starts a new message, back in the initial buffer if the last one outgrew it. */
  reset(): void {
    this.pos = 0;
    this.depth = 0;
    if (this.buf !== this.home) {
      this.buf = this.home;
      this.view = viewOf(this.buf);
    }
  }

  /** True while the message is in the buffer given to (or made by) the constructor. */
  get inInitialBuffer(): boolean {
    return this.buf === this.home;
  }

  /** Number of nested messages currently open. */
  get openMessages(): number {
    return this.depth;
  }

  /**
   * Upper bound of the size the message will have once every open nested
   * message is closed (each length varint may grow by up to 4 bytes).
   */
  boundedSize(): number {
    return this.pos + 4 * this.depth;
  }

  /** Makes room for `n` more bytes (small, so that it inlines; growing is out of line). */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(this.pos + n);
  }

  private grow(need: number): void {
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = viewOf(next);
  }

  /**
   * Appends `length` bytes of `src` from `offset`, four at a time. `src` must
   * have 3 readable bytes past them (the last word may reach there; the extra
   * bytes land past the new position, where they are overwritten or ignored).
   */
  copyWords(src: DataView, offset: number, length: number): void {
    this.ensure(length + 3);
    const view = this.view;
    let p = this.pos;
    for (let o = offset, end = offset + length; o < end; o += 4, p += 4) view.setUint32(p, src.getUint32(o, true), true);
    this.pos += length;
  }

  /** Copies `length` bytes from `start` to `dst` at `offset`, four at a time (`dst` needs 3 bytes of slack). */
  copyWordsOut(start: number, length: number, dst: DataView, offset: number): void {
    this.ensure(3);
    const view = this.view;
    for (let o = offset, p = start, end = start + length; p < end; o += 4, p += 4) dst.setUint32(o, view.getUint32(p, true), true);
  }

  /** A field tag (field number and wire type). */
  tag(field: number, wireType: number): void {
    this.uint32((field << 3) | wireType);
  }

  /** Varint of a value in [0, 2^32). */
  uint32(value: number): void {
    this.ensure(5);
    const buf = this.buf;
    let pos = this.pos;
    let v = value >>> 0;
    while (v > 127) {
      buf[pos++] = (v & 127) | 128;
      v >>>= 7;
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  /** Varint of a 64-bit value given as two uint32 halves (two's complement for negatives). */
  varint64(lo: number, hi: number): void {
    if (hi === 0) {
      this.uint32(lo);
      return;
    }
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    lo >>>= 0;
    hi >>>= 0;
    // 4 full groups of 7 bits come from lo alone.
    for (let i = 0; i < 4; i++) {
      buf[pos++] = (lo & 127) | 128;
      lo >>>= 7;
    }
    // The fifth group takes lo's top 4 bits and hi's low 3.
    const mixed = lo | ((hi & 7) << 4);
    hi >>>= 3;
    if (hi === 0) {
      buf[pos++] = mixed;
      this.pos = pos;
      return;
    }
    buf[pos++] = mixed | 128;
    while (hi > 127) {
      buf[pos++] = (hi & 127) | 128;
      hi >>>= 7;
    }
    buf[pos++] = hi;
    this.pos = pos;
  }

  /** Varint of a safe integer (int64 semantics; negatives take 10 bytes). */
  int64(value: number): void {
    if (value >= 0 && value < TWO_32) {
      this.uint32(value);
      return;
    }
    const hi = Math.floor(value / TWO_32);
    const lo = value - hi * TWO_32;
    this.varint64(lo, hi);
  }

  /** Little-endian 32-bit value. */
  fixed32(value: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, value, true);
    this.pos += 4;
  }

  /** Little-endian 64-bit value given as two uint32 halves. */
  fixed64(lo: number, hi: number): void {
    this.fixed32(lo);
    this.fixed32(hi);
  }

  /** IEEE 754 double, little-endian. */
  double(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  /** Length-delimited UTF-8 string (without its tag). */
  string(value: string): void {
    const n = value.length;
    if (n < 128) {
      // Short strings: try a pure-ASCII copy, which avoids a native call.
      this.ensure(n + 1);
      const buf = this.buf;
      const start = this.pos;
      let pos = start + 1;
      for (let i = 0; i < n; i++) {
        const c = value.charCodeAt(i);
        if (c >= 128) {
          this.stringSlow(value);
          return;
        }
        buf[pos++] = c;
      }
      buf[start] = n;
      this.pos = pos;
      return;
    }
    this.stringSlow(value);
  }

  private stringSlow(value: string): void {
    const max = value.length * 3;
    const lenBytes = varintSize(max);
    this.ensure(max + lenBytes);
    const start = this.pos;
    const written = this.buf.write(value, start + lenBytes, 'utf8');
    const actualLenBytes = varintSize(written);
    if (actualLenBytes !== lenBytes) {
      this.buf.copyWithin(start + actualLenBytes, start + lenBytes, start + lenBytes + written);
    }
    this.pos = start;
    this.uint32(written);
    this.pos = start + actualLenBytes + written;
  }

  /** Length-delimited raw bytes (without its tag). */
  bytes(value: Uint8Array): void {
    const n = value.length;
    this.uint32(n);
    this.ensure(n);
    this.buf.set(value, this.pos);
    this.pos += n;
  }

  /**
   * Length-delimited bytes given as a hex string of even length (a W3C trace
   * or span id). Invalid hex digits encode as 0.
   */
  hexBytes(hex: string): void {
    const n = hex.length >>> 1;
    this.uint32(n);
    this.ensure(n);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) {
      buf[pos++] = (hexDigit(hex.charCodeAt(2 * i)) << 4) | hexDigit(hex.charCodeAt(2 * i + 1));
    }
    this.pos = pos;
  }

  /** Length-delimited bytes from big-endian uint32 words (ids kept as numbers). */
  wordBytes2(w0: number, w1: number): void {
    this.ensure(9);
    const buf = this.buf;
    let pos = this.pos;
    buf[pos++] = 8;
    pos = putWord(buf, pos, w0);
    this.pos = putWord(buf, pos, w1);
  }

  /** Length-delimited 16 bytes from four big-endian uint32 words. */
  wordBytes4(w0: number, w1: number, w2: number, w3: number): void {
    this.ensure(17);
    const buf = this.buf;
    let pos = this.pos;
    buf[pos++] = 16;
    pos = putWord(buf, pos, w0);
    pos = putWord(buf, pos, w1);
    pos = putWord(buf, pos, w2);
    this.pos = putWord(buf, pos, w3);
  }

  /** A one-byte tag (field < 16) followed by a fixed64 given as two halves. */
  tagFixed64(tag: number, lo: number, hi: number): void {
    this.ensure(9);
    const p = this.pos;
    this.buf[p] = tag;
    this.view.setUint32(p + 1, lo, true);
    this.view.setUint32(p + 5, hi, true);
    this.pos = p + 9;
  }

  /**
   * A two-byte tag (fields 16 to 2047: the extensions of FORMAT.md 8)
   * followed by a fixed64 given as two halves, in one bounds check.
   */
  tag2Fixed64(tag: number, lo: number, hi: number): void {
    this.ensure(10);
    const p = this.pos;
    this.buf[p] = (tag & 0x7f) | 0x80;
    this.buf[p + 1] = tag >>> 7;
    this.view.setUint32(p + 2, lo, true);
    this.view.setUint32(p + 6, hi, true);
    this.pos = p + 10;
  }

  /**
   * Two one-byte-tag fields in one bounds check: a fixed64 given as two
   * halves, then a double (a Measurement's time and `as_double`).
   */
  tagFixed64TagDouble(tag: number, lo: number, hi: number, doubleTag: number, value: number): void {
    this.ensure(18);
    const p = this.pos;
    const view = this.view;
    this.buf[p] = tag;
    view.setUint32(p + 1, lo, true);
    view.setUint32(p + 5, hi, true);
    this.buf[p + 9] = doubleTag;
    view.setFloat64(p + 10, value, true);
    this.pos = p + 18;
  }

  /**
   * StartSpan `flags` (fixed32), the first field after the parent span id;
   * {@link ProtoWriter.startSpanName} and {@link ProtoWriter.startSpanKindTime}
   * follow.
   */
  startSpanFlags(flags: number): void {
    this.ensure(6);
    const p = this.pos;
    // A two-byte tag (field number 16 and above).
    this.buf[p] = (START_SPAN_FLAGS & 0x7f) | 0x80;
    this.buf[p + 1] = START_SPAN_FLAGS >>> 7;
    this.view.setUint32(p + 2, flags, true);
    this.pos = p + 6;
  }

  /** StartSpan `name`. */
  startSpanName(name: string): void {
    this.ensure(1);
    this.buf[this.pos++] = START_SPAN_NAME;
    this.string(name);
  }

  /** StartSpan `kind` and `start_time_unix_nano`. */
  startSpanKindTime(kind: number, timeLo: number, timeHi: number): void {
    this.ensure(1);
    this.buf[this.pos++] = START_SPAN_KIND;
    this.uint32(kind);
    this.tagFixed64(START_SPAN_START_TIME_UNIX_NANO, timeLo, timeHi);
  }

  /**
   * The fields every SpanEvent starts with — `scope_ref`, `trace_id` and
   * `span_id`, ids given as big-endian uint32 words — then opens the
   * `event` field whose one-byte tag is `eventTag`. One bounds check, no calls.
   *
   * `wide` reserves two bytes for the event's length instead of one: for a
   * message expected to reach 128 bytes (a StartSpan with attributes), whose
   * content then needs no shift when it is closed.
   */
  spanEventHeader(scopeRef: number, t0: number, t1: number, t2: number, t3: number, s0: number, s1: number, eventTag: number, wide = false): void {
    if (this.depth >= MAX_DEPTH) throw new RangeError('protobuf nesting too deep');
    this.ensure(48);
    const buf = this.buf;
    let p = this.pos;
    // A two-byte tag (field number 16 and above).
    buf[p++] = (SPAN_EVENT_SCOPE_REF & 0x7f) | 0x80;
    buf[p++] = SPAN_EVENT_SCOPE_REF >>> 7;
    let v = scopeRef;
    while (v > 127) {
      buf[p++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    buf[p++] = v;
    const view = this.view;
    buf[p] = SPAN_EVENT_TRACE_ID;
    buf[p + 1] = 16;
    view.setUint32(p + 2, t0);
    view.setUint32(p + 6, t1);
    view.setUint32(p + 10, t2);
    view.setUint32(p + 14, t3);
    buf[p + 18] = SPAN_EVENT_SPAN_ID;
    buf[p + 19] = 8;
    view.setUint32(p + 20, s0);
    view.setUint32(p + 24, s1);
    buf[p + 28] = eventTag;
    p += 29;
    if (wide) {
      // A wide fork is stacked as -(start + 1).
      this.stack[this.depth++] = -p - 1;
      this.pos = p + 2;
    } else {
      this.stack[this.depth++] = p; // fork()
      this.pos = p + 1;
    }
  }

  // ---------------------------------------------------------------- fast paths
  // A `KeyValueRef { key_ref; value }` (FORMAT.md 5) whose lengths are
  // all known in advance is written in one pass, without fork/join. Every
  // `key_ref` a file can hold (any safe integer: references are file offsets)
  // is taken. Only kvAscii declines some values (long or non-ASCII strings),
  // returning false having written nothing: the caller then takes the general
  // path. The others always write.

  /**
   * Writes the head of a one-pass KeyValueRef at `pos`: its field tag, its
   * length `kvLen` (< 128) and `key_ref`. Returns the position
   * after it; `pos` is left for the caller to move once the value is written.
   */
  private kvHead(tag: number, kvLen: number, keyRef: number): number {
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = tag;
    buf[p++] = kvLen;
    buf[p++] = KEY_VALUE_REF_KEY_REF;
    // References of 2^32 and more (files past 4 GiB) do not fit the 32-bit shifts below.
    if (keyRef >= TWO_32) return putLargeVarint(buf, p, keyRef);
    let r = keyRef;
    while (r > 127) {
      buf[p++] = (r & 127) | 128;
      r >>>= 7;
    }
    buf[p++] = r;
    return p;
  }

  /** KeyValueRef with a short ASCII `string_value`. */
  kvAscii(tag: number, keyRef: number, value: string): boolean {
    const n = value.length;
    if (n > 100) return false;
    const refLen = varintSize(keyRef);
    const kvLen = refLen + 5 + n; // key_ref tag, ref, value tag, length, (string_value tag, n, n bytes)
    if (kvLen > 127) return false;
    this.ensure(kvLen + 2);
    const buf = this.buf;
    let p = this.kvHead(tag, kvLen, keyRef);
    buf[p++] = KEY_VALUE_REF_VALUE;
    buf[p++] = n + 2;
    buf[p++] = ANY_VALUE_STRING_VALUE;
    buf[p++] = n;
    for (let i = 0; i < n; i++) {
      const c = value.charCodeAt(i);
      if (c >= 128) return false;
      buf[p++] = c;
    }
    this.pos = p;
    return true;
  }

  /** KeyValueRef with an `int_value` in [0, 2^28). */
  kvSmallInt(tag: number, keyRef: number, value: number): void {
    const refLen = varintSize(keyRef);
    const valLen = varintSize(value);
    const kvLen = refLen + 4 + valLen; // key_ref tag, ref, value tag, length, (int_value tag, varint)
    this.ensure(kvLen + 2);
    const buf = this.buf;
    let p = this.kvHead(tag, kvLen, keyRef);
    buf[p++] = KEY_VALUE_REF_VALUE;
    buf[p++] = valLen + 1;
    buf[p++] = ANY_VALUE_INT_VALUE;
    let v = value;
    while (v > 127) {
      buf[p++] = (v & 127) | 128;
      v >>>= 7;
    }
    buf[p++] = v;
    this.pos = p;
  }

  /** KeyValueRef with a `double_value`. */
  kvDouble(tag: number, keyRef: number, value: number): void {
    const refLen = varintSize(keyRef);
    this.ensure(refLen + 16);
    const buf = this.buf;
    let p = this.kvHead(tag, refLen + 12, keyRef); // key_ref tag, ref, value tag, 9, (double_value tag, 8 bytes)
    buf[p++] = KEY_VALUE_REF_VALUE;
    buf[p++] = 9;
    buf[p++] = ANY_VALUE_DOUBLE_VALUE;
    this.pos = p;
    this.double(value);
  }

  /** KeyValueRef with a `bool_value`. */
  kvBool(tag: number, keyRef: number, value: boolean): void {
    const refLen = varintSize(keyRef);
    this.ensure(refLen + 8);
    const buf = this.buf;
    let p = this.kvHead(tag, refLen + 5, keyRef); // key_ref tag, ref, value tag, 2, (bool_value tag, 0|1)
    buf[p++] = KEY_VALUE_REF_VALUE;
    buf[p++] = 2;
    buf[p++] = ANY_VALUE_BOOL_VALUE;
    buf[p++] = value ? 1 : 0;
    this.pos = p;
  }

  /** Opens a nested length-delimited message (the tag must be written already). */
  fork(): void {
    if (this.depth >= MAX_DEPTH) throw new RangeError('protobuf nesting too deep');
    this.ensure(1);
    this.stack[this.depth++] = this.pos;
    this.pos += 1;
  }

  /** Closes the innermost nested message and back-patches its length. */
  join(): void {
    const start = this.stack[--this.depth];
    if (start < 0) {
      this.joinWide(-start - 1);
      return;
    }
    const len = this.pos - start - 1;
    if (len < 128) {
      this.buf[start] = len;
      return;
    }
    const extra = varintSize(len) - 1;
    this.ensure(extra);
    this.buf.copyWithin(start + 1 + extra, start + 1, this.pos);
    const end = this.pos + extra;
    this.pos = start;
    this.uint32(len);
    this.pos = end;
  }

  /** Closes a nested message opened with two bytes reserved for its length. */
  private joinWide(start: number): void {
    const buf = this.buf;
    const len = this.pos - start - 2;
    if (len >= 128 && len < 16384) {
      buf[start] = (len & 127) | 128;
      buf[start + 1] = len >>> 7;
      return;
    }
    if (len < 128) {
      // Shorter than expected: move the content back by one byte.
      buf.copyWithin(start + 1, start + 2, this.pos);
      buf[start] = len;
      this.pos -= 1;
      return;
    }
    const extra = varintSize(len) - 2;
    this.ensure(extra);
    this.buf.copyWithin(start + 2 + extra, start + 2, this.pos);
    const end = this.pos + extra;
    this.pos = start;
    this.uint32(len);
    this.pos = end;
  }

  /** Abandons open nested messages and rewinds to `pos` (used to roll back a field). */
  rewind(pos: number, depth: number): void {
    this.pos = pos;
    this.depth = depth;
  }
}

/** Writes the varint of a safe integer of 2^32 or more at `p`; returns the position after it. */
function putLargeVarint(buf: Buffer, p: number, value: number): number {
  let r = value;
  while (r > 127) {
    buf[p++] = (r % 128) | 128;
    r = Math.floor(r / 128);
  }
  buf[p++] = r;
  return p;
}

function viewOf(buf: Buffer): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.length);
}

function putWord(buf: Buffer, pos: number, w: number): number {
  buf[pos] = (w >>> 24) & 255;
  buf[pos + 1] = (w >>> 16) & 255;
  buf[pos + 2] = (w >>> 8) & 255;
  buf[pos + 3] = w & 255;
  return pos + 4;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return 0;
}

/** Bytes taken by the varint of a non-negative safe integer. */
export function varintSize(value: number): number {
  if (value < 128) return 1;
  if (value < 16384) return 2;
  if (value < 2097152) return 3;
  if (value < 268435456) return 4;
  return largeVarintSize(value);
}

/** varintSize of a value of 2^28 or more (out of line: references that large are rare). */
function largeVarintSize(value: number): number {
  if (value < 34359738368) return 5; // 2^35
  if (value < 4398046511104) return 6; // 2^42
  if (value < 562949953421312) return 7; // 2^49
  return 8; // up to 2^56
}
