/**
 * A protobuf wire writer for encoding large messages fast: the bytes go into
 * one growing buffer that the writer keeps between messages, nested messages
 * get their length prefix back-patched in place, and no value is boxed on the
 * way (64-bit integers are written straight from their `bigint`).
 *
 * `BinaryWriter` of @bufbuild/protobuf 2.17 works this way in outline too;
 * this one does less per value: length prefixes sized from the previous
 * message at the same depth (fewer moves), 64-bit integers without a
 * `{ lo, hi }` object each, UTF-8 of repeated short strings copied from a
 * cache, and range checks inline on the fast paths (measured with
 * `bench/otlp-encode.ts`).
 *
 * It is not specific to any message: it implements the methods of
 * `@bufbuild/protobuf`'s `BinaryWriter` that generated code calls, with the
 * same output byte for byte (a property test in `tests/protocol/` compares
 * both on random OTLP requests) and the same errors for values a field cannot
 * hold. Generated `encode(message, writer)` functions accept it in place of a
 * `BinaryWriter`.
 */
import { BinaryWriter, type WireType } from '@bufbuild/protobuf/wire';

/** Capacity of the buffer allocated by the first write. */
const INITIAL_CAPACITY = 1024;
/**
 * A buffer grown past this size is given back by {@link FlatWriter.finish}
 * when the message it just held used less than a quarter of it, so one huge
 * message does not pin its buffer for the life of the writer.
 */
const KEEP_CAPACITY = 4 * 1024 * 1024;
/** Strings up to this many UTF-16 code units are encoded by a plain loop; longer ones by `TextEncoder.encodeInto`. */
const SHORT_STRING = 64;
/** Entries of the UTF-8 cache of short strings (see `FlatWriter.utf8`). */
const UTF8_CACHE_ENTRIES = 4096;
/** Byte arrays up to this size are copied by a plain loop; longer ones by `Uint8Array.set`. */
const SHORT_BYTES = 32;
/** Nesting depths whose length-prefix size is remembered (deeper ones guess one byte). */
const TRACKED_DEPTHS = 64;

const UINT32_MAX = 0xffffffff;
const INT32_MAX = 0x7fffffff;
const INT32_MIN = -0x80000000;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

const textEncoder = new TextEncoder();
/** Splits 64-bit integers into 32-bit halves without allocating. */
const scratch = new DataView(new ArrayBuffer(8));

/** Bytes of `value` as an unsigned 32-bit varint. */
function varint32Size(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

/**
 * The length-prefix problem of a single-buffer writer: a nested message's
 * length is known only after its content is written, and a varint length
 * takes 1 to 5 bytes. `fork()` reserves as many bytes as the last message at
 * the same nesting depth needed (messages at one depth tend to be alike: the
 * spans of a request, the attributes of a span); `join()` writes the length
 * there, moving the content first when the guess was wrong.
 */
export class FlatWriter extends BinaryWriter {
  private buf: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  private dv: DataView<ArrayBuffer> = new DataView(this.buf.buffer);
  private at = 0;
  /** Per open fork: where its length prefix starts ... */
  private readonly forkStart: number[] = [];
  /** ... and how many bytes were reserved for it. */
  private readonly forkReserved: number[] = [];
  /**
   * UTF-8 of short strings written before. Telemetry repeats its strings
   * (attribute keys, span names, common values), and copying bytes is
   * cheaper than encoding text. Emptied when full.
   */
  private readonly utf8 = new Map<string, Uint8Array>();
  /** Per nesting depth: the prefix size the last joined message needed. */
  private readonly prefixGuess = new Uint8Array(TRACKED_DEPTHS).fill(1);

  /**
   * All bytes written since the last `finish()`, as a new array (the writer
   * keeps its buffer for the next message). Resets the writer.
   */
  override finish(): Uint8Array<ArrayBuffer> {
    const result = this.buf.slice(0, this.at);
    if (this.buf.length > KEEP_CAPACITY && this.at * 4 < this.buf.length) this.replaceBuffer(new Uint8Array(0));
    this.at = 0;
    this.forkStart.length = 0;
    this.forkReserved.length = 0;
    return result;
  }

  /** Starts a length-delimited value (a nested message or a packed field); end it with {@link join}. */
  override fork(): this {
    const depth = this.forkStart.length;
    const reserved = depth < TRACKED_DEPTHS ? this.prefixGuess[depth] : 1;
    this.reserve(reserved);
    this.forkStart.push(this.at);
    this.forkReserved.push(reserved);
    this.at += reserved;
    return this;
  }

  /** Ends the last {@link fork}: writes the length of what was written since, in front of it. */
  override join(): this {
    const start = this.forkStart.pop();
    const reserved = this.forkReserved.pop();
    if (start === undefined || reserved === undefined) throw new Error('invalid state, fork stack empty');
    const contentStart = start + reserved;
    const length = this.at - contentStart;
    const needed = varint32Size(length);
    if (needed !== reserved) {
      if (needed > reserved) this.reserve(needed - reserved);
      this.buf.copyWithin(start + needed, contentStart, this.at);
      this.at += needed - reserved;
    }
    const depth = this.forkStart.length;
    if (depth < TRACKED_DEPTHS) this.prefixGuess[depth] = needed;
    this.writeVarint32(start, length);
    return this;
  }

  override tag(fieldNo: number, type: WireType): this {
    return this.uint32(((fieldNo << 3) | type) >>> 0);
  }

  override raw(chunk: Uint8Array): this {
    this.copyIn(chunk);
    return this;
  }

  override uint32(value: number): this {
    if (value >>> 0 !== value) value = checkUint32(value);
    return this.varint32(value);
  }

  override int32(value: number): this {
    if ((value | 0) !== value) value = checkInt32(value);
    if (value >= 0) return this.varint32(value);
    // Negative: sign-extended to 64 bits, always 10 bytes.
    this.reserve(10);
    const buf = this.buf;
    let at = this.at;
    for (let i = 0; i < 9; i++) {
      buf[at++] = (value & 0x7f) | 0x80;
      value >>= 7;
    }
    buf[at++] = 1;
    this.at = at;
    return this;
  }

  override sint32(value: number): this {
    if ((value | 0) !== value) value = checkInt32(value);
    return this.uint32(((value << 1) ^ (value >> 31)) >>> 0);
  }

  override bool(value: boolean): this {
    this.reserve(1);
    this.buf[this.at++] = value ? 1 : 0;
    return this;
  }

  override bytes(value: Uint8Array): this {
    this.uint32(value.byteLength);
    this.copyIn(value);
    return this;
  }

  override string(value: string): this {
    if (typeof value !== 'string') value = String(value); // as BinaryWriter
    const len = value.length;
    // A UTF-16 code unit takes at most 3 UTF-8 bytes; the prefix at most 5.
    this.reserve(len * 3 + 5);
    // The byte length is known only after encoding: guess the prefix from the
    // code units (right for ASCII) and move the text if the guess was wrong.
    const guess = varint32Size(len);
    const start = this.at;
    const textStart = start + guess;
    let written: number;
    if (len > SHORT_STRING) {
      written = textEncoder.encodeInto(value, this.buf.subarray(textStart)).written;
    } else {
      const cached = this.utf8.get(value);
      if (cached !== undefined) {
        written = cached.length;
        const buf = this.buf;
        for (let i = 0; i < written; i++) buf[textStart + i] = cached[i];
      } else {
        written = this.encodeShort(value, textStart);
        if (this.utf8.size >= UTF8_CACHE_ENTRIES) this.utf8.clear();
        this.utf8.set(value, this.buf.slice(textStart, textStart + written));
      }
    }
    const needed = varint32Size(written);
    if (needed !== guess) this.buf.copyWithin(start + needed, textStart, textStart + written);
    this.at = this.writeVarint32(start, written) + written;
    return this;
  }

  override float(value: number): this {
    checkFloat32(value);
    this.reserve(4);
    this.dv.setFloat32(this.at, value, true);
    this.at += 4;
    return this;
  }

  override double(value: number): this {
    this.reserve(8);
    this.dv.setFloat64(this.at, value, true);
    this.at += 8;
    return this;
  }

  override fixed32(value: number): this {
    if (value >>> 0 !== value) value = checkUint32(value);
    this.reserve(4);
    this.dv.setUint32(this.at, value, true);
    this.at += 4;
    return this;
  }

  override sfixed32(value: number): this {
    if ((value | 0) !== value) value = checkInt32(value);
    this.reserve(4);
    this.dv.setInt32(this.at, value, true);
    this.at += 4;
    return this;
  }

  override fixed64(value: string | number | bigint): this {
    const v = typeof value === 'bigint' && value >= 0n && value <= UINT64_MAX ? value : parseUint64(value);
    this.reserve(8);
    this.dv.setBigUint64(this.at, v, true);
    this.at += 8;
    return this;
  }

  override sfixed64(value: string | number | bigint): this {
    const v = typeof value === 'bigint' && value >= INT64_MIN && value <= INT64_MAX ? value : parseInt64(value);
    this.reserve(8);
    this.dv.setBigInt64(this.at, v, true);
    this.at += 8;
    return this;
  }

  override int64(value: string | number | bigint): this {
    const v = typeof value === 'bigint' && value >= INT64_MIN && value <= INT64_MAX ? value : parseInt64(value);
    if (v >= 0n && v <= 0xffffffffn) return this.varint32(Number(v));
    scratch.setBigInt64(0, v, true);
    return this.varint64(scratch.getUint32(0, true), scratch.getUint32(4, true));
  }

  override uint64(value: string | number | bigint): this {
    const v = typeof value === 'bigint' && value >= 0n && value <= UINT64_MAX ? value : parseUint64(value);
    if (v <= 0xffffffffn) return this.varint32(Number(v));
    scratch.setBigUint64(0, v, true);
    return this.varint64(scratch.getUint32(0, true), scratch.getUint32(4, true));
  }

  override sint64(value: string | number | bigint): this {
    const v = typeof value === 'bigint' && value >= INT64_MIN && value <= INT64_MAX ? value : parseInt64(value);
    scratch.setBigInt64(0, v, true);
    const lo = scratch.getInt32(0, true);
    const hi = scratch.getInt32(4, true);
    // Zigzag: (v << 1) ^ (v >> 63), on the two 32-bit halves.
    const sign = hi >> 31;
    return this.varint64(((lo << 1) ^ sign) >>> 0, (((hi << 1) | (lo >>> 31)) ^ sign) >>> 0);
  }

  private varint32(value: number): this {
    this.reserve(5);
    this.at = this.writeVarint32(this.at, value);
    return this;
  }

  /** Writes the 64-bit unsigned varint `hi:lo` (two uint32 halves). */
  private varint64(lo: number, hi: number): this {
    if (hi === 0) return this.varint32(lo);
    this.reserve(10);
    const buf = this.buf;
    let at = this.at;
    // Bits 0..27: four bytes, all followed by more (hi is not zero).
    for (let i = 0; i < 4; i++) {
      buf[at++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    // Bits 28..34: the last 4 bits of lo and the first 3 of hi; then 7 bits of hi at a time.
    let group = lo | ((hi & 0x07) << 4);
    hi >>>= 3;
    while (hi !== 0) {
      buf[at++] = group | 0x80;
      group = hi & 0x7f;
      hi >>>= 7;
    }
    buf[at++] = group;
    this.at = at;
    return this;
  }

  /** Writes `value` (a uint32) as a varint at `at` (room checked by the caller); returns the position after it. */
  private writeVarint32(at: number, value: number): number {
    const buf = this.buf;
    while (value > 0x7f) {
      buf[at++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    buf[at++] = value;
    return at;
  }

  /**
   * UTF-8 of a short string at `at` (room checked by the caller), as
   * `TextEncoder` encodes it: a lone surrogate becomes U+FFFD. Returns the
   * bytes written.
   */
  private encodeShort(value: string, at: number): number {
    const buf = this.buf;
    const begin = at;
    const len = value.length;
    for (let i = 0; i < len; i++) {
      let c = value.charCodeAt(i);
      if (c < 0x80) {
        buf[at++] = c;
      } else if (c < 0x800) {
        buf[at++] = 0xc0 | (c >> 6);
        buf[at++] = 0x80 | (c & 0x3f);
      } else if (c < 0xd800 || c > 0xdfff) {
        buf[at++] = 0xe0 | (c >> 12);
        buf[at++] = 0x80 | ((c >> 6) & 0x3f);
        buf[at++] = 0x80 | (c & 0x3f);
      } else {
        const next = i + 1 < len ? value.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          i++;
          buf[at++] = 0xf0 | (c >> 18);
          buf[at++] = 0x80 | ((c >> 12) & 0x3f);
          buf[at++] = 0x80 | ((c >> 6) & 0x3f);
          buf[at++] = 0x80 | (c & 0x3f);
        } else {
          // A lone surrogate: U+FFFD REPLACEMENT CHARACTER.
          buf[at++] = 0xef;
          buf[at++] = 0xbf;
          buf[at++] = 0xbd;
        }
      }
    }
    return at - begin;
  }

  private copyIn(chunk: Uint8Array): void {
    const n = chunk.length;
    this.reserve(n);
    if (n <= SHORT_BYTES) {
      const buf = this.buf;
      const at = this.at;
      for (let i = 0; i < n; i++) buf[at + i] = chunk[i];
    } else {
      this.buf.set(chunk, this.at);
    }
    this.at += n;
  }

  /** Makes room for `n` more bytes after the write position. */
  private reserve(n: number): void {
    const required = this.at + n;
    if (required <= this.buf.length) return;
    let capacity = this.buf.length || INITIAL_CAPACITY;
    while (capacity < required) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.buf.subarray(0, this.at));
    this.replaceBuffer(grown);
  }

  private replaceBuffer(buf: Uint8Array<ArrayBuffer>): void {
    this.buf = buf;
    this.dv = new DataView(buf.buffer);
  }
}

/* Validation of values that the fast checks did not accept: the result and errors of BinaryWriter. */

function checkUint32(value: unknown): number {
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number') throw new Error(`invalid uint32: ${typeof value}`);
  if (!Number.isInteger(n) || n > UINT32_MAX || n < 0) throw new Error(`invalid uint32: ${n}`);
  return n >>> 0;
}

function checkInt32(value: unknown): number {
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number') throw new Error(`invalid int32: ${typeof value}`);
  if (!Number.isInteger(n) || n > INT32_MAX || n < INT32_MIN) throw new Error(`invalid int32: ${n}`);
  return n | 0;
}

function checkFloat32(value: unknown): void {
  let n = value;
  if (typeof value === 'string') {
    n = Number(value);
    if (Number.isNaN(n) && value !== 'NaN') throw new Error(`invalid float32: ${value}`);
  } else if (typeof value !== 'number') {
    throw new Error(`invalid float32: ${typeof value}`);
  }
  // Too large for a float32 (it would round to infinity); NaN and infinities are valid.
  if (!Number.isFinite(Math.fround(n as number)) && Number.isFinite(n)) throw new Error(`invalid float32: ${n}`);
}

function parseInt64(value: string | number | bigint): bigint {
  const v = typeof value === 'bigint' ? value : BigInt(value);
  if (v > INT64_MAX || v < INT64_MIN) throw new Error(`invalid int64: ${value}`);
  return v;
}

function parseUint64(value: string | number | bigint): bigint {
  const v = typeof value === 'bigint' ? value : BigInt(value);
  if (v > UINT64_MAX || v < 0n) throw new Error(`invalid uint64: ${value}`);
  return v;
}
