/**
 * Purpose-built decoders for the three ring messages (`SpanEvent`, `Event`,
 * `Measurement`), the hottest decoding path of the collector.
 *
 * They produce exactly what the ts-proto decoders in `gen/mmap.ts` produce
 * (same TypeScript types, same values, same errors, same reader position;
 * a property test in `tests/protocol/` checks this on random and malformed
 * input), using the same `BinaryReader` primitives for every field, but
 * without what makes the generated code slow on this path:
 *
 * - no `new Uint8Array(0)` default for every bytes field that the decoder
 *   then replaces (an absent bytes field gets one shared empty array;
 *   zero-length typed arrays hold nothing that could be changed);
 * - no recursion-depth expando property written to (and restored on) the
 *   reader around every nested message, with a try/finally: the depth is an
 *   argument instead, with the same limit (100 nested messages) and error.
 *
 * These are our own OTLP-MMAP messages, not OTLP: what the collector exports
 * is still encoded by the generated OTLP code. Dictionary entries (decoded
 * once and cached) keep the generated decoders.
 */
import { BinaryReader } from '@bufbuild/protobuf/wire';
import type {
  AnyValue,
  ArrayValue,
  EndSpan,
  Event,
  KeyValueList,
  KeyValueRef,
  Link,
  Measurement,
  SpanContext,
  SpanEvent,
  StartSpan,
  Status,
} from './gen/mmap.js';
import * as T from './gen/mmap-tags.js';

// Module-local copies of the field tags: V8 folds a module's own constants
// into optimised code (a switch on them compiles as one on literals), but
// loads an imported binding each time it is used.
const {
  SPAN_EVENT_SCOPE_REF,
  SPAN_EVENT_TRACE_ID,
  SPAN_EVENT_SPAN_ID,
  SPAN_EVENT_START,
  SPAN_EVENT_END,
  SPAN_EVENT_NAME,
  SPAN_EVENT_ATTRIBUTES,
  SPAN_EVENT_LINK,
  START_SPAN_PARENT_SPAN_ID,
  START_SPAN_FLAGS,
  START_SPAN_NAME,
  START_SPAN_KIND,
  START_SPAN_START_TIME_UNIX_NANO,
  START_SPAN_ATTRIBUTES,
  START_SPAN_TRACE_STATE,
  END_SPAN_END_TIME_UNIX_NANO,
  END_SPAN_STATUS,
  END_SPAN_DROPPED_ATTRIBUTES_COUNT,
  END_SPAN_DROPPED_EVENTS_COUNT,
  END_SPAN_DROPPED_LINKS_COUNT,
  CHANGE_SPAN_NAME_NAME,
  UPDATE_ATTRIBUTES_ATTRIBUTES,
  ADD_LINK_LINKS,
  LINK_TRACE_ID,
  LINK_SPAN_ID,
  LINK_TRACE_STATE,
  LINK_ATTRIBUTES,
  LINK_DROPPED_ATTRIBUTES_COUNT,
  LINK_FLAGS,
  STATUS_MESSAGE,
  STATUS_CODE,
  EVENT_SCOPE_REF,
  EVENT_TIME_UNIX_NANO,
  EVENT_SEVERITY_NUMBER,
  EVENT_SEVERITY_TEXT,
  EVENT_BODY,
  EVENT_EVENT_NAME_REF,
  EVENT_SPAN_CONTEXT,
  EVENT_ATTRIBUTES,
  EVENT_OBSERVED_TIME_UNIX_NANO,
  EVENT_DROPPED_ATTRIBUTES_COUNT,
  MEASUREMENT_METRIC_REF,
  MEASUREMENT_ATTRIBUTES,
  MEASUREMENT_TIME_UNIX_NANO,
  MEASUREMENT_AS_LONG,
  MEASUREMENT_AS_DOUBLE,
  MEASUREMENT_SPAN_CONTEXT,
  KEY_VALUE_REF_KEY_REF,
  KEY_VALUE_REF_VALUE,
  ANY_VALUE_STRING_VALUE,
  ANY_VALUE_BOOL_VALUE,
  ANY_VALUE_INT_VALUE,
  ANY_VALUE_DOUBLE_VALUE,
  ANY_VALUE_ARRAY_VALUE,
  ANY_VALUE_KVLIST_VALUE,
  ANY_VALUE_BYTES_VALUE,
  ANY_VALUE_VALUE_REF,
  ARRAY_VALUE_VALUES,
  KEY_VALUE_LIST_VALUES,
  SPAN_CONTEXT_SPAN_ID,
  SPAN_CONTEXT_TRACE_ID,
  SPAN_CONTEXT_FLAGS,
} = T;

/** Shared default of absent bytes fields (ts-proto allocates a new empty array each time). */
const EMPTY_BYTES = new Uint8Array(0);

/** Strings of at most this many bytes are looked up in the string cache. */
const MAX_CACHED_STRING = 128;
/** Slots of the direct-mapped string and int64 caches (a power of two). */
const CACHE_SLOTS = 4096;
const cachedStrings: string[] = new Array<string>(CACHE_SLOTS).fill('');
const cachedInts = new Float64Array(CACHE_SLOTS).fill(-1);
const cachedBigInts: bigint[] = new Array<bigint>(CACHE_SLOTS).fill(0n);

/** Bytes fields up to this size are copied into a shared slab; larger ones get their own buffer. */
const SLAB_SIZE = 4096;
const MAX_SLAB_COPY = SLAB_SIZE / 8;
let slab = new Uint8Array(SLAB_SIZE);
let slabUsed = 0;

/** A copy of `input[start, start + length)` that shares no memory with `input`. */
function copyOut(input: Uint8Array, start: number, length: number): Uint8Array {
  if (length === 0) return EMPTY_BYTES;
  if (length > MAX_SLAB_COPY) return input.slice(start, start + length);
  if (slabUsed + length > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    slabUsed = 0;
  }
  const at = slabUsed;
  if (length <= 64) {
    // Ids: a plain loop beats creating a view of the input for set().
    for (let i = 0; i < length; i++) slab[at + i] = input[start + i];
  } else {
    slab.set(input.subarray(start, start + length), at);
  }
  slabUsed += (length + 7) & ~7;
  return new Uint8Array(slab.buffer, at, length); // cheaper than subarray(): no species look-up
}

/**
 * A `BinaryReader` for ring batches. Values it decodes never share memory
 * with its input, so a decoded message may be kept after the batch is gone:
 * bytes fields are copies (small ones carved out of shared 4 KiB slabs, as
 * Node's Buffer pool does, so one kept id pins at most its slab). And it
 * decodes the values telemetry repeats most without allocating: ASCII
 * strings (span names, attribute values) come from a small direct-mapped
 * cache of strings decoded before, and small non-negative int64 values
 * (dictionary references) from a cache of bigints. Results are equal to
 * `BinaryReader`'s (strings and bigints are immutable, so sharing them is
 * not observable); anything else (non-ASCII text, long strings, large or
 * negative numbers, truncated input) is read by `BinaryReader` itself.
 */
export class RingReader extends BinaryReader {
  /** The input (BinaryReader keeps its own reference private). */
  private readonly input: Uint8Array;

  constructor(input: Uint8Array) {
    super(input);
    this.input = input;
  }

  override string(strict?: boolean): string {
    const lengthAt = this.pos;
    const len = this.uint32();
    const start = this.pos;
    const end = start + len;
    if (len === 0 || len > MAX_CACHED_STRING || end > this.len) {
      this.pos = lengthAt;
      return super.string(strict);
    }
    const buf = this.input;
    // The slot comes from the length and a few sampled bytes; the full comparison decides.
    let hash = Math.imul(len, 0x9e3779b1) ^ buf[start] ^ (buf[end - 1] << 8) ^ (buf[start + (len >> 1)] << 16);
    hash = Math.imul(hash ^ buf[start + (len >> 2)] ^ (buf[start + ((3 * len) >> 2)] << 8), 0x85ebca6b);
    const slot = (hash ^ (hash >>> 13)) & (CACHE_SLOTS - 1);
    const cached = cachedStrings[slot];
    if (cached.length === len) {
      let i = 0;
      while (i < len && cached.charCodeAt(i) === buf[start + i]) i++;
      if (i === len) {
        // Equal to a cached string decoded from ASCII bytes: these bytes are that ASCII text.
        this.pos = end;
        return cached;
      }
    }
    this.pos = lengthAt;
    const value = super.string(strict);
    let ascii = 0;
    for (let i = start; i < end; i++) ascii |= buf[i];
    if (ascii < 0x80) cachedStrings[slot] = value; // only ASCII: its UTF-16 code units are its bytes
    return value;
  }

  override bytes(): Uint8Array {
    const len = this.uint32();
    const start = this.pos;
    this.pos += len;
    if (this.pos > this.len) throw new RangeError('premature EOF'); // as BinaryReader
    return copyOut(this.input, start, len);
  }

  override int64(): bigint {
    // Varints of up to 4 bytes (values below 2^28) that end inside the input.
    const buf = this.input;
    const p = this.pos;
    let value = -1;
    let next = p;
    if (p + 4 <= this.len) {
      const b0 = buf[p];
      if (b0 < 0x80) {
        value = b0;
        next = p + 1;
      } else {
        const b1 = buf[p + 1];
        if (b1 < 0x80) {
          value = (b0 & 0x7f) | (b1 << 7);
          next = p + 2;
        } else {
          const b2 = buf[p + 2];
          if (b2 < 0x80) {
            value = (b0 & 0x7f) | ((b1 & 0x7f) << 7) | (b2 << 14);
            next = p + 3;
          } else {
            const b3 = buf[p + 3];
            if (b3 < 0x80) {
              value = (b0 & 0x7f) | ((b1 & 0x7f) << 7) | ((b2 & 0x7f) << 14) | (b3 << 21);
              next = p + 4;
            }
          }
        }
      }
    }
    if (value < 0) return super.int64() as bigint;
    this.pos = next;
    const slot = value & (CACHE_SLOTS - 1);
    if (cachedInts[slot] === value) return cachedBigInts[slot];
    const big = BigInt(value);
    cachedInts[slot] = value;
    cachedBigInts[slot] = big;
    return big;
  }
}

/** Same limit and message as the generated decoders. */
const MAX_DEPTH = 100;

function enter(depth: number): void {
  if (depth >= MAX_DEPTH) throw new globalThis.Error('protobuf decode recursion limit exceeded');
}

/** What follows a field the message does not know (or knows with another wire type): true = stop here. */
function skipUnknown(reader: BinaryReader, tag: number): boolean {
  if ((tag & 7) === 4 || tag === 0) return true;
  reader.skip(tag & 7);
  return false;
}

function endOf(reader: BinaryReader, length: number | undefined): number {
  return length === undefined ? reader.len : reader.pos + length;
}

function decodeAnyValue(reader: BinaryReader, length: number, depth: number): AnyValue {
  enter(depth);
  const end = reader.pos + length;
  const message: AnyValue = { value: undefined };
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag) {
      case ANY_VALUE_STRING_VALUE:
        message.value = { $case: 'stringValue', value: reader.string() };
        continue;
      case ANY_VALUE_BOOL_VALUE:
        message.value = { $case: 'boolValue', value: reader.bool() };
        continue;
      case ANY_VALUE_INT_VALUE:
        message.value = { $case: 'intValue', value: reader.int64() as bigint };
        continue;
      case ANY_VALUE_DOUBLE_VALUE:
        message.value = { $case: 'doubleValue', value: reader.double() };
        continue;
      case ANY_VALUE_ARRAY_VALUE:
        message.value = { $case: 'arrayValue', value: decodeArrayValue(reader, reader.uint32(), depth + 1) };
        continue;
      case ANY_VALUE_KVLIST_VALUE:
        message.value = { $case: 'kvlistValue', value: decodeKeyValueList(reader, reader.uint32(), depth + 1) };
        continue;
      case ANY_VALUE_BYTES_VALUE:
        message.value = { $case: 'bytesValue', value: reader.bytes() };
        continue;
      case ANY_VALUE_VALUE_REF:
        message.value = { $case: 'valueRef', value: reader.int64() as bigint };
        continue;
    }
    if (skipUnknown(reader, tag)) break;
  }
  return message;
}

function decodeArrayValue(reader: BinaryReader, length: number, depth: number): ArrayValue {
  enter(depth);
  const end = reader.pos + length;
  const message: ArrayValue = { values: [] };
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === ARRAY_VALUE_VALUES) {
      message.values.push(decodeAnyValue(reader, reader.uint32(), depth + 1));
      continue;
    }
    if (skipUnknown(reader, tag)) break;
  }
  return message;
}

function decodeKeyValueList(reader: BinaryReader, length: number, depth: number): KeyValueList {
  enter(depth);
  const end = reader.pos + length;
  const message: KeyValueList = { values: [] };
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === KEY_VALUE_LIST_VALUES) {
      message.values.push(decodeKeyValueRef(reader, reader.uint32(), depth + 1));
      continue;
    }
    if (skipUnknown(reader, tag)) break;
  }
  return message;
}

function decodeKeyValueRef(reader: BinaryReader, length: number, depth: number): KeyValueRef {
  enter(depth);
  const end = reader.pos + length;
  const message: KeyValueRef = { keyRef: 0n, value: undefined };
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === KEY_VALUE_REF_KEY_REF) {
      message.keyRef = reader.int64() as bigint;
      continue;
    }
    if (tag === KEY_VALUE_REF_VALUE) {
      message.value = decodeAnyValue(reader, reader.uint32(), depth + 1);
      continue;
    }
    if (skipUnknown(reader, tag)) break;
  }
  return message;
}

function decodeSpanContext(reader: BinaryReader, length: number, depth: number): SpanContext {
  enter(depth);
  const end = reader.pos + length;
  const message: SpanContext = { spanId: EMPTY_BYTES, traceId: EMPTY_BYTES, flags: 0 };
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag) {
      case SPAN_CONTEXT_SPAN_ID:
        message.spanId = reader.bytes();
        continue;
      case SPAN_CONTEXT_TRACE_ID:
        message.traceId = reader.bytes();
        continue;
      case SPAN_CONTEXT_FLAGS:
        message.flags = reader.fixed32();
        continue;
    }
    if (skipUnknown(reader, tag)) break;
  }
  return message;
}

function decodeStartSpan(reader: BinaryReader, length: number, depth: number): StartSpan {
  enter(depth);
  const end = reader.pos + length;
  const message: StartSpan = { parentSpanId: EMPTY_BYTES, flags: 0, name: '', kind: 0, startTimeUnixNano: 0n, attributes: [], traceState: '' };
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag) {
      case START_SPAN_PARENT_SPAN_ID:
        message.parentSpanId = reader.bytes();
        continue;
      case START_SPAN_FLAGS:
        message.flags = reader.fixed32();
        continue;
      case START_SPAN_NAME:
        message.name = reader.string();
        continue;
      case START_SPAN_KIND:
        message.kind = reader.int32();
        continue;
      case START_SPAN_START_TIME_UNIX_NANO:
        message.startTimeUnixNano = reader.fixed64() as bigint;
        continue;
      case START_SPAN_ATTRIBUTES:
        message.attributes.push(decodeKeyValueRef(reader, reader.uint32(), depth + 1));
        continue;
      case START_SPAN_TRACE_STATE:
        message.traceState = reader.string();
        continue;
    }
    if (skipUnknown(reader, tag)) break;
  }
  return message;
}

function decodeStatus(reader: BinaryReader, length: number, depth: number): Status {
  enter(depth);
  const end = reader.pos + length;
  const message: Status = { message: '', code: 0 };
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === STATUS_MESSAGE) {
      message.message = reader.string();
      continue;
    }
    if (tag === STATUS_CODE) {
      message.code = reader.int32();
      continue;
    }
    if (skipUnknown(reader, tag)) break;
  }
  return message;
}

function decodeEndSpan(reader: BinaryReader, length: number, depth: number): EndSpan {
  enter(depth);
  const end = reader.pos + length;
  const message: EndSpan = { endTimeUnixNano: 0n, status: undefined, droppedAttributesCount: 0, droppedEventsCount: 0, droppedLinksCount: 0 };
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag) {
      case END_SPAN_END_TIME_UNIX_NANO:
        message.endTimeUnixNano = reader.fixed64() as bigint;
        continue;
      case END_SPAN_STATUS:
        message.status = decodeStatus(reader, reader.uint32(), depth + 1);
        continue;
      case END_SPAN_DROPPED_ATTRIBUTES_COUNT:
        message.droppedAttributesCount = reader.uint32();
        continue;
      case END_SPAN_DROPPED_EVENTS_COUNT:
        message.droppedEventsCount = reader.uint32();
        continue;
      case END_SPAN_DROPPED_LINKS_COUNT:
        message.droppedLinksCount = reader.uint32();
        continue;
    }
    if (skipUnknown(reader, tag)) break;
  }
  return message;
}

function decodeKeyValueRefList(reader: BinaryReader, length: number, depth: number, field: number): KeyValueRef[] {
  enter(depth);
  const end = reader.pos + length;
  const attributes: KeyValueRef[] = [];
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === field) {
      attributes.push(decodeKeyValueRef(reader, reader.uint32(), depth + 1));
      continue;
    }
    if (skipUnknown(reader, tag)) break;
  }
  return attributes;
}

function decodeChangeSpanName(reader: BinaryReader, length: number, depth: number): { name: string } {
  enter(depth);
  const end = reader.pos + length;
  const message = { name: '' };
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === CHANGE_SPAN_NAME_NAME) {
      message.name = reader.string();
      continue;
    }
    if (skipUnknown(reader, tag)) break;
  }
  return message;
}

function decodeLink(reader: BinaryReader, length: number, depth: number): Link {
  enter(depth);
  const end = reader.pos + length;
  const message: Link = { traceId: EMPTY_BYTES, spanId: EMPTY_BYTES, traceState: '', attributes: [], droppedAttributesCount: 0, flags: 0 };
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag) {
      case LINK_TRACE_ID:
        message.traceId = reader.bytes();
        continue;
      case LINK_SPAN_ID:
        message.spanId = reader.bytes();
        continue;
      case LINK_TRACE_STATE:
        message.traceState = reader.string();
        continue;
      case LINK_ATTRIBUTES:
        message.attributes.push(decodeKeyValueRef(reader, reader.uint32(), depth + 1));
        continue;
      case LINK_DROPPED_ATTRIBUTES_COUNT:
        message.droppedAttributesCount = reader.uint32();
        continue;
      case LINK_FLAGS:
        message.flags = reader.fixed32();
        continue;
    }
    if (skipUnknown(reader, tag)) break;
  }
  return message;
}

function decodeAddLink(reader: BinaryReader, length: number, depth: number): { links: Link[] } {
  enter(depth);
  const end = reader.pos + length;
  const links: Link[] = [];
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === ADD_LINK_LINKS) {
      links.push(decodeLink(reader, reader.uint32(), depth + 1));
      continue;
    }
    if (skipUnknown(reader, tag)) break;
  }
  return { links };
}

function decodeSpanEvent(reader: BinaryReader, length: number | undefined): SpanEvent {
  const end = endOf(reader, length);
  const message: SpanEvent = { scopeRef: 0n, traceId: EMPTY_BYTES, spanId: EMPTY_BYTES, event: undefined };
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag) {
      case SPAN_EVENT_SCOPE_REF:
        message.scopeRef = reader.int64() as bigint;
        continue;
      case SPAN_EVENT_TRACE_ID:
        message.traceId = reader.bytes();
        continue;
      case SPAN_EVENT_SPAN_ID:
        message.spanId = reader.bytes();
        continue;
      case SPAN_EVENT_START:
        message.event = { $case: 'start', value: decodeStartSpan(reader, reader.uint32(), 1) };
        continue;
      case SPAN_EVENT_END:
        message.event = { $case: 'end', value: decodeEndSpan(reader, reader.uint32(), 1) };
        continue;
      case SPAN_EVENT_NAME:
        message.event = { $case: 'name', value: decodeChangeSpanName(reader, reader.uint32(), 1) };
        continue;
      case SPAN_EVENT_ATTRIBUTES:
        message.event = { $case: 'attributes', value: { attributes: decodeKeyValueRefList(reader, reader.uint32(), 1, UPDATE_ATTRIBUTES_ATTRIBUTES) } };
        continue;
      case SPAN_EVENT_LINK:
        message.event = { $case: 'link', value: decodeAddLink(reader, reader.uint32(), 1) };
        continue;
    }
    if (skipUnknown(reader, tag)) break;
  }
  return message;
}

function decodeEvent(reader: BinaryReader, length: number | undefined): Event {
  const end = endOf(reader, length);
  const message: Event = {
    scopeRef: 0n,
    timeUnixNano: 0n,
    severityNumber: 0,
    severityText: '',
    body: undefined,
    eventNameRef: 0n,
    spanContext: undefined,
    attributes: [],
    observedTimeUnixNano: 0n,
    droppedAttributesCount: 0,
  };
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag) {
      case EVENT_SCOPE_REF:
        message.scopeRef = reader.int64() as bigint;
        continue;
      case EVENT_TIME_UNIX_NANO:
        message.timeUnixNano = reader.fixed64() as bigint;
        continue;
      case EVENT_SEVERITY_NUMBER:
        message.severityNumber = reader.int32();
        continue;
      case EVENT_SEVERITY_TEXT:
        message.severityText = reader.string();
        continue;
      case EVENT_BODY:
        message.body = decodeAnyValue(reader, reader.uint32(), 1);
        continue;
      case EVENT_EVENT_NAME_REF:
        message.eventNameRef = reader.int64() as bigint;
        continue;
      case EVENT_SPAN_CONTEXT:
        message.spanContext = decodeSpanContext(reader, reader.uint32(), 1);
        continue;
      case EVENT_ATTRIBUTES:
        message.attributes.push(decodeKeyValueRef(reader, reader.uint32(), 1));
        continue;
      case EVENT_OBSERVED_TIME_UNIX_NANO:
        message.observedTimeUnixNano = reader.fixed64() as bigint;
        continue;
      case EVENT_DROPPED_ATTRIBUTES_COUNT:
        message.droppedAttributesCount = reader.uint32();
        continue;
    }
    if (skipUnknown(reader, tag)) break;
  }
  return message;
}

function decodeMeasurement(reader: BinaryReader, length: number | undefined): Measurement {
  const end = endOf(reader, length);
  const message: Measurement = { metricRef: 0n, attributes: [], timeUnixNano: 0n, value: undefined, spanContext: undefined };
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag) {
      case MEASUREMENT_METRIC_REF:
        message.metricRef = reader.int64() as bigint;
        continue;
      case MEASUREMENT_ATTRIBUTES:
        message.attributes.push(decodeKeyValueRef(reader, reader.uint32(), 1));
        continue;
      case MEASUREMENT_TIME_UNIX_NANO:
        message.timeUnixNano = reader.fixed64() as bigint;
        continue;
      case MEASUREMENT_AS_LONG:
        message.value = { $case: 'asLong', value: reader.int64() as bigint };
        continue;
      case MEASUREMENT_AS_DOUBLE:
        message.value = { $case: 'asDouble', value: reader.double() };
        continue;
      case MEASUREMENT_SPAN_CONTEXT:
        message.spanContext = decodeSpanContext(reader, reader.uint32(), 1);
        continue;
    }
    if (skipUnknown(reader, tag)) break;
  }
  return message;
}

/**
 * A Measurement whose attributes may have been left encoded: the
 * collector's hot path. Most measurements repeat an attribute list seen
 * before, so instead of decoding it the decoder records where its bytes are
 * and the aggregator looks the series up by those bytes, decoding them (with
 * {@link decodeAttributeRecords}) only the first time it sees them.
 */
export interface EncodedMeasurement extends Measurement {
  /**
   * Where the attribute records (field 2, tags included, all adjacent) are
   * in the reader's input: `[attributesStart, attributesEnd)`; `attributes`
   * is then empty. Both are -1 when `attributes` holds the decoded list
   * instead (attribute records not adjacent in the message: legal, but not
   * what writers do).
   */
  attributesStart: number;
  attributesEnd: number;
}

function decodeEncodedMeasurement(reader: BinaryReader, length: number | undefined): EncodedMeasurement {
  const begin = reader.pos;
  const end = endOf(reader, length);
  const message: EncodedMeasurement = {
    metricRef: 0n,
    attributes: [],
    timeUnixNano: 0n,
    value: undefined,
    spanContext: undefined,
    attributesStart: begin,
    attributesEnd: begin,
  };
  let attributesStart = -1;
  let attributesEnd = -1;
  while (reader.pos < end) {
    const tagAt = reader.pos;
    const tag = reader.uint32();
    switch (tag) {
      case MEASUREMENT_METRIC_REF:
        message.metricRef = reader.int64() as bigint;
        continue;
      case MEASUREMENT_ATTRIBUTES: {
        if (attributesStart < 0) {
          attributesStart = tagAt;
        } else if (attributesEnd !== tagAt) {
          // Records apart from each other: no single range, decode everything.
          reader.pos = begin;
          return { ...decodeMeasurement(reader, length), attributesStart: -1, attributesEnd: -1 };
        }
        const entryLength = reader.uint32();
        reader.pos += entryLength;
        if (reader.pos > reader.len) throw new RangeError('premature EOF'); // as BinaryReader
        attributesEnd = reader.pos;
        continue;
      }
      case MEASUREMENT_TIME_UNIX_NANO:
        message.timeUnixNano = reader.fixed64() as bigint;
        continue;
      case MEASUREMENT_AS_LONG:
        message.value = { $case: 'asLong', value: reader.int64() as bigint };
        continue;
      case MEASUREMENT_AS_DOUBLE:
        message.value = { $case: 'asDouble', value: reader.double() };
        continue;
      case MEASUREMENT_SPAN_CONTEXT:
        message.spanContext = decodeSpanContext(reader, reader.uint32(), 1);
        continue;
    }
    if (skipUnknown(reader, tag)) break;
  }
  if (attributesStart >= 0) {
    message.attributesStart = attributesStart;
    message.attributesEnd = attributesEnd;
  }
  return message;
}

/**
 * Decodes the attribute records `input[start, end)` of an
 * {@link EncodedMeasurement} into what `Measurement.decode` puts in
 * `attributes`. The range is decoded on its own (values are copies), and
 * each record must end exactly where its length says: so the result depends
 * on these bytes only, and whenever this succeeds the generated decoder
 * reads the same attributes from the message. (For malformed records the
 * generated decoder may read on past a record; this throws instead.)
 *
 * @throws RangeError / Error on malformed records.
 */
export function decodeAttributeRecords(input: Uint8Array, start: number, end: number): KeyValueRef[] {
  if (start < 0 || end < start || end > input.length) throw new RangeError('attribute range outside the input');
  const reader = new RingReader(input.subarray(start, end));
  const attributes: KeyValueRef[] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag !== MEASUREMENT_ATTRIBUTES) throw new Error(`not an attribute record (tag ${tag})`);
    const entryLength = reader.uint32();
    const entryEnd = reader.pos + entryLength;
    if (entryEnd > reader.len) throw new RangeError('premature EOF');
    attributes.push(decodeKeyValueRef(reader, entryLength, 1));
    if (reader.pos !== entryEnd) throw new RangeError('attribute record does not end at its length');
  }
  return attributes;
}

/**
 * Decodes one `KeyValueRef` of `length` bytes at the reader's position, as
 * the ring message decoders do for an attribute nested `depth` messages deep
 * (the depth counts towards the same recursion limit).
 */
export function decodeNestedKeyValueRef(reader: BinaryReader, length: number, depth: number): KeyValueRef {
  return decodeKeyValueRef(reader, length, depth);
}

/** A decoder of one ring message type, call-compatible with the generated `decode`. */
export interface RingMessageDecoder<T> {
  /**
   * Decodes one message: `length` bytes from the reader's position (or the
   * rest of the input without it). Throws on malformed input as the generated
   * decoder does. Bytes fields are copies when reading through a
   * {@link RingReader} (also what a `Uint8Array` input gets), and views into
   * the input with a plain `BinaryReader`, as with the generated decoder.
   */
  decode(input: BinaryReader | Uint8Array, length?: number): T;
}

function decoder<T>(decode: (reader: BinaryReader, length: number | undefined) => T): RingMessageDecoder<T> {
  return { decode: (input, length) => decode(input instanceof BinaryReader ? input : new RingReader(input), length) };
}

/** Fast decoder of spans-ring messages; same result as `SpanEvent.decode`. */
export const SpanEventDecoder: RingMessageDecoder<SpanEvent> = decoder(decodeSpanEvent);
/** Fast decoder of events-ring messages; same result as `Event.decode`. */
export const EventDecoder: RingMessageDecoder<Event> = decoder(decodeEvent);
/** Fast decoder of measurements-ring messages; same result as `Measurement.decode`. */
export const MeasurementDecoder: RingMessageDecoder<Measurement> = decoder(decodeMeasurement);
/**
 * Decoder of measurements-ring messages that leaves the attributes encoded
 * (see {@link EncodedMeasurement}); every other field as `Measurement.decode`.
 */
export const EncodedMeasurementDecoder: RingMessageDecoder<EncodedMeasurement> = decoder(decodeEncodedMeasurement);
