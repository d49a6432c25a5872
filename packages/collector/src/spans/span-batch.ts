/**
 * Applies a batch of the spans ring to an {@link ActiveSpans} table.
 *
 * Every span brings two messages, a StartSpan and an EndSpan, so those two
 * are read here straight from their bytes, without building the decoded
 * `SpanEvent` first: an EndSpan's ids are only compared (its span is found
 * from the bytes), and a StartSpan's attributes that the dictionary already
 * shares (see `FileDictionary.cachedAttribute`) are taken as they are,
 * without a `KeyValueRef`, `AnyValue` and oneof object each — and one
 * whose bytes equal those of the shared attribute found at its position
 * in an earlier StartSpan is taken without being decoded at all (see
 * `ActiveSpans.sharedAttributeAt`).
 *
 * This is a shortcut, not a second decoder: it only takes messages laid out
 * the plain way (each field once, no field it does not know, every length
 * where it should be, attributes with one key and one scalar value), and
 * gives anything else to `SpanEventDecoder` and `ActiveSpans.apply`, which
 * define the result. It reads before it changes anything, so a message it
 * gives up on has had no effect. What it applies is what the decoder and
 * `apply` would have made of the same bytes (a property test in
 * `tests/collector/` compares both on random batches).
 */
import { decodeNestedKeyValueRef, SpanEventDecoder, type KeyValueRef, type RingReader, type SpanEvent, type otlpCommon } from '@otlp-mmap/protocol';
import * as T from '@otlp-mmap/protocol/tags';
import { decodeBatch } from '../file/messages.js';
import type { ActiveSpans } from './active-spans.js';

// The field tags read here, as module-local constants: V8 folds a module's
// own constants into optimised code, but loads an imported binding each time
// it is used.
const {
  SPAN_EVENT_SCOPE_REF,
  SPAN_EVENT_TRACE_ID,
  SPAN_EVENT_SPAN_ID,
  SPAN_EVENT_START,
  SPAN_EVENT_END,
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
  STATUS_MESSAGE,
  STATUS_CODE,
  KEY_VALUE_REF_KEY_REF,
  KEY_VALUE_REF_VALUE,
  ANY_VALUE_STRING_VALUE,
  ANY_VALUE_BOOL_VALUE,
  ANY_VALUE_INT_VALUE,
  ANY_VALUE_DOUBLE_VALUE,
} = T;

/** A StartSpan with more attributes goes to the decoder. */
const MAX_ATTRIBUTES = 128;
const EMPTY: Uint8Array = new Uint8Array(0);

type Scalar = string | boolean | bigint | number;
// biome-ignore lint/suspicious/noConstEnum: module-local, so tsc and esbuild put its values in place (a plain enum is an object, looked up on the hot path); the rule is about exported ones.
const enum Kind {
  /** Not a message taken here. */
  Other,
  Start,
  End,
}

/** What the last message {@link read} took is. */
let accepted: Kind = Kind.Other;
/**
 * What the last {@link read} found (module state reused for every message:
 * reading allocates nothing but the values themselves).
 */
const msg = {
  scopeRef: 0n,
  traceAt: 0,
  spanAt: 0,
  /** Where the length of the trace, span and parent ids are (they are copied only once the message is taken). */
  traceLengthAt: 0,
  spanLengthAt: 0,
  parentLengthAt: -1,
  flags: 0,
  name: '',
  kind: 0,
  time: 0n,
  hasStatus: false,
  statusMessage: '',
  statusCode: 0,
  attributes: 0,
  /** Extensions (FORMAT.md 8): StartSpan's trace state, EndSpan's dropped counts. */
  traceState: '',
  droppedAttributes: 0,
  droppedEvents: 0,
  droppedLinks: 0,
};
/** Per attribute: its key reference and scalar value, or (`decoded`) the KeyValueRef decoded in full. */
const keyRefs: bigint[] = new Array<bigint>(MAX_ATTRIBUTES).fill(0n);
const values: Scalar[] = new Array<Scalar>(MAX_ATTRIBUTES).fill('');
const cases = new Uint8Array(MAX_ATTRIBUTES);
const decoded: (KeyValueRef | undefined)[] = new Array<KeyValueRef | undefined>(MAX_ATTRIBUTES).fill(undefined);
/** Per attribute: where its KeyValueRef is in the input, and (`CASE_SHARED`) the shared attribute those bytes are. */
const attributeStarts = new Int32Array(MAX_ATTRIBUTES);
const attributeEnds = new Int32Array(MAX_ATTRIBUTES);
const shared: (otlpCommon.KeyValue | undefined)[] = new Array<otlpCommon.KeyValue | undefined>(MAX_ATTRIBUTES).fill(undefined);
/** The table the batch being read goes to (its attribute memo is looked at while reading). */
let target: ActiveSpans | undefined;
const CASE_DECODED = 0;
const CASE_STRING = 1;
const CASE_BOOL = 2;
const CASE_INT = 3;
const CASE_DOUBLE = 4;
const CASE_SHARED = 5;

/**
 * Applies the messages of one `Reader.read` batch of the spans ring (see
 * `decodeBatch`: a message that does not decode is counted through `onBad`
 * and skipped). A message whose application throws (a bug) is reported to
 * `onFailed` and the batch goes on. Returns the messages read.
 */
export function applySpanBatch(
  batch: Uint8Array,
  spans: ActiveSpans,
  onBad: (error: unknown) => void,
  onFailed: (error: unknown) => void = (error) => {
    throw error;
  },
): number {
  target = spans;
  try {
    const applyDecoded = (message: SpanEvent): void => {
      try {
        spans.apply(message);
      } catch (error) {
        onFailed(error);
      }
    };
    return decodeBatch(batch, SpanEventDecoder, applyDecoded, onBad, {
      read: (reader, end, input) => {
        accepted = read(reader, end, input);
        return accepted !== Kind.Other;
      },
      apply: (reader, input) => {
        try {
          if (accepted === Kind.End) {
            const status = msg.hasStatus ? { message: msg.statusMessage, code: msg.statusCode } : undefined;
            spans.end(input, msg.traceAt, input, msg.spanAt, msg.time, status, msg.droppedAttributes, msg.droppedEvents, msg.droppedLinks);
          } else {
            applyStart(reader, input, spans);
          }
        } catch (error) {
          onFailed(error);
        }
      },
    });
  } finally {
    target = undefined; // keeps no table alive
  }
}

function applyStart(reader: RingReader, input: Uint8Array, spans: ActiveSpans): void {
  // Spans of one trace often follow each other: the table's array of the last trace id, not a copy.
  let traceId = spans.lastOpenedTraceId;
  if (!equalAt(input, msg.traceAt, traceId)) {
    reader.pos = msg.traceLengthAt;
    traceId = reader.bytes();
  }
  reader.pos = msg.spanLengthAt;
  const spanId = reader.bytes();
  let parentSpanId = EMPTY;
  if (msg.parentLengthAt >= 0) {
    reader.pos = msg.parentLengthAt;
    parentSpanId = reader.bytes();
  }
  spans.open(msg.scopeRef, traceId, spanId, parentSpanId, msg.flags, msg.name, msg.kind, msg.time, startAttributes(spans, input), msg.traceState);
}

/** Whether `input[at, at + 16)` holds `id`, a 16-byte trace id. */
function equalAt(input: Uint8Array, at: number, id: Uint8Array): boolean {
  if (id.length !== 16) return false;
  for (let i = 0; i < 16; i++) if (input[at + i] !== id[i]) return false;
  return true;
}

/**
 * The StartSpan's attributes, resolved as `DictionaryView.attributes`
 * resolves them: one by one, so one that the dictionary shares is taken as
 * it is and only the others are resolved.
 */
function startAttributes(spans: ActiveSpans, input: Uint8Array): otlpCommon.KeyValue[] {
  const n = msg.attributes;
  if (n === 0) return [];
  // Sized up front, as DictionaryView.attributes does: the span keeps this array.
  const out = new Array<otlpCommon.KeyValue>(n);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const c = cases[i];
    if (c === CASE_SHARED) {
      out[k++] = shared[i]!;
      continue;
    }
    if (c !== CASE_DECODED) {
      const found = spans.cachedAttribute(keyRefs[i], values[i], i, input, attributeStarts[i], attributeEnds[i]);
      if (found !== undefined) {
        out[k++] = found;
        continue;
      }
    }
    const resolved = spans.resolveAttribute(keyValueRef(i)); // undefined: left out (and counted)
    if (resolved !== undefined) out[k++] = resolved;
  }
  if (k < n) out.length = k;
  return out;
}

function keyValueRef(i: number): KeyValueRef {
  switch (cases[i]) {
    case CASE_STRING:
      return { keyRef: keyRefs[i], value: { value: { $case: 'stringValue', value: values[i] as string } } };
    case CASE_BOOL:
      return { keyRef: keyRefs[i], value: { value: { $case: 'boolValue', value: values[i] as boolean } } };
    case CASE_INT:
      return { keyRef: keyRefs[i], value: { value: { $case: 'intValue', value: values[i] as bigint } } };
    case CASE_DOUBLE:
      return { keyRef: keyRefs[i], value: { value: { $case: 'doubleValue', value: values[i] as number } } };
    default:
      return decoded[i]!;
  }
}

/** Reads the SpanEvent in `[reader.pos, end)` into {@link msg}, if it is one taken here. */
function read(reader: RingReader, end: number, input: Uint8Array): Kind {
  let scopeRef = 0n;
  let seenScope = false;
  let traceLengthAt = -1;
  let spanLengthAt = -1;
  let eventTag = 0;
  let eventEnd = 0;
  let kind: Kind = Kind.Other;
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag) {
      case SPAN_EVENT_SCOPE_REF:
        if (seenScope) return Kind.Other;
        seenScope = true;
        scopeRef = reader.int64() as bigint;
        break;
      case SPAN_EVENT_TRACE_ID:
        if (traceLengthAt >= 0) return Kind.Other;
        traceLengthAt = reader.pos;
        if (reader.uint32() !== 16) return Kind.Other;
        msg.traceAt = reader.pos;
        reader.pos += 16;
        break;
      case SPAN_EVENT_SPAN_ID:
        if (spanLengthAt >= 0) return Kind.Other;
        spanLengthAt = reader.pos;
        if (reader.uint32() !== 8) return Kind.Other;
        msg.spanAt = reader.pos;
        reader.pos += 8;
        break;
      case SPAN_EVENT_START:
      case SPAN_EVENT_END: {
        if (eventTag !== 0) return Kind.Other;
        eventTag = tag;
        const length = reader.uint32();
        eventEnd = reader.pos + length;
        if (eventEnd > end) return Kind.Other;
        kind = tag === SPAN_EVENT_START ? readStart(reader, eventEnd, input) : readEnd(reader, eventEnd);
        if (kind === Kind.Other) return Kind.Other;
        break;
      }
      default:
        return Kind.Other;
    }
  }
  if (reader.pos !== end || traceLengthAt < 0 || spanLengthAt < 0 || eventTag === 0) return Kind.Other;
  msg.scopeRef = scopeRef;
  msg.traceLengthAt = traceLengthAt;
  msg.spanLengthAt = spanLengthAt;
  return kind;
}

function readEnd(reader: RingReader, end: number): Kind {
  let time = 0n;
  let seenTime = false;
  let hasStatus = false;
  let droppedAttributes = 0;
  let droppedEvents = 0;
  let droppedLinks = 0;
  let seenCounts = 0; // bit per extension field
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === END_SPAN_END_TIME_UNIX_NANO && !seenTime) {
      seenTime = true;
      time = reader.fixed64() as bigint;
    } else if (tag === END_SPAN_STATUS && !hasStatus) {
      hasStatus = true;
      const length = reader.uint32();
      const statusEnd = reader.pos + length;
      if (statusEnd > end || !readStatus(reader, statusEnd)) return Kind.Other;
    } else if (tag === END_SPAN_DROPPED_ATTRIBUTES_COUNT && (seenCounts & 1) === 0) {
      seenCounts |= 1;
      droppedAttributes = reader.uint32();
    } else if (tag === END_SPAN_DROPPED_EVENTS_COUNT && (seenCounts & 2) === 0) {
      seenCounts |= 2;
      droppedEvents = reader.uint32();
    } else if (tag === END_SPAN_DROPPED_LINKS_COUNT && (seenCounts & 4) === 0) {
      seenCounts |= 4;
      droppedLinks = reader.uint32();
    } else {
      return Kind.Other;
    }
  }
  if (reader.pos !== end) return Kind.Other;
  msg.time = time;
  msg.hasStatus = hasStatus;
  msg.droppedAttributes = droppedAttributes;
  msg.droppedEvents = droppedEvents;
  msg.droppedLinks = droppedLinks;
  if (!hasStatus) {
    msg.statusMessage = '';
    msg.statusCode = 0;
  }
  return Kind.End;
}

function readStatus(reader: RingReader, end: number): boolean {
  let message = '';
  let code = 0;
  let seenMessage = false;
  let seenCode = false;
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === STATUS_MESSAGE && !seenMessage) {
      seenMessage = true;
      message = reader.string();
    } else if (tag === STATUS_CODE && !seenCode) {
      seenCode = true;
      code = reader.int32();
    } else {
      return false;
    }
  }
  msg.statusMessage = message;
  msg.statusCode = code;
  return reader.pos === end;
}

function readStart(reader: RingReader, end: number, input: Uint8Array): Kind {
  let parentLengthAt = -1;
  let flags = 0;
  let name = '';
  let kind = 0;
  let time = 0n;
  let traceState = '';
  let seen = 0; // bit per scalar field
  let n = 0;
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag) {
      case START_SPAN_PARENT_SPAN_ID: {
        if (parentLengthAt >= 0) return Kind.Other;
        parentLengthAt = reader.pos;
        const length = reader.uint32();
        reader.pos += length;
        break;
      }
      case START_SPAN_FLAGS:
        if (seen & 1) return Kind.Other;
        seen |= 1;
        flags = reader.fixed32();
        break;
      case START_SPAN_NAME:
        if (seen & 2) return Kind.Other;
        seen |= 2;
        name = reader.string();
        break;
      case START_SPAN_KIND:
        if (seen & 4) return Kind.Other;
        seen |= 4;
        kind = reader.int32();
        break;
      case START_SPAN_START_TIME_UNIX_NANO:
        if (seen & 8) return Kind.Other;
        seen |= 8;
        time = reader.fixed64() as bigint;
        break;
      case START_SPAN_TRACE_STATE:
        if (seen & 16) return Kind.Other;
        seen |= 16;
        traceState = reader.string();
        break;
      case START_SPAN_ATTRIBUTES: {
        if (n === MAX_ATTRIBUTES) return Kind.Other;
        const length = reader.uint32();
        const attributeStart = reader.pos;
        const attributeEnd = attributeStart + length;
        if (attributeEnd > end) return Kind.Other;
        // The same bytes as the shared attribute last found at this position: that attribute, not decoded again.
        const found = target?.sharedAttributeAt(input, attributeStart, attributeEnd, n);
        if (found !== undefined) {
          cases[n] = CASE_SHARED;
          shared[n] = found;
          reader.pos = attributeEnd;
        } else {
          if (!readAttribute(reader, attributeEnd, n)) return Kind.Other;
          attributeStarts[n] = attributeStart;
          attributeEnds[n] = attributeEnd;
        }
        n++;
        break;
      }
      default:
        return Kind.Other;
    }
  }
  if (reader.pos !== end) return Kind.Other;
  msg.parentLengthAt = parentLengthAt;
  msg.flags = flags;
  msg.name = name;
  msg.kind = kind;
  msg.time = time;
  msg.attributes = n;
  msg.traceState = traceState;
  return Kind.Start;
}

/**
 * Reads attribute `i` (a KeyValueRef ending at `end`): a key and a scalar
 * value when it is that simple, else decoded in full. False when it does
 * not end where its length says.
 */
function readAttribute(reader: RingReader, end: number, i: number): boolean {
  const start = reader.pos;
  if (readScalarAttribute(reader, end, i)) return true;
  reader.pos = start;
  decoded[i] = decodeNestedKeyValueRef(reader, end - start, 2); // as in a StartSpan: SpanEvent > StartSpan > KeyValueRef
  cases[i] = CASE_DECODED;
  return reader.pos === end;
}

function readScalarAttribute(reader: RingReader, end: number, i: number): boolean {
  if (reader.uint32() !== KEY_VALUE_REF_KEY_REF) return false;
  const keyRef = reader.int64() as bigint;
  if (reader.pos >= end || reader.uint32() !== KEY_VALUE_REF_VALUE) return false;
  const valueLength = reader.uint32();
  const valueEnd = reader.pos + valueLength;
  if (valueEnd !== end || reader.pos >= end) return false;
  let value: Scalar;
  let scalarCase: number;
  switch (reader.uint32()) {
    case ANY_VALUE_STRING_VALUE:
      value = reader.string();
      scalarCase = CASE_STRING;
      break;
    case ANY_VALUE_BOOL_VALUE:
      value = reader.bool();
      scalarCase = CASE_BOOL;
      break;
    case ANY_VALUE_INT_VALUE:
      value = reader.int64() as bigint;
      scalarCase = CASE_INT;
      break;
    case ANY_VALUE_DOUBLE_VALUE:
      value = reader.double();
      if (Object.is(value, -0)) return false; // never shared (a Map does not tell it from 0)
      scalarCase = CASE_DOUBLE;
      break;
    default:
      return false;
  }
  if (reader.pos !== end) return false;
  keyRefs[i] = keyRef;
  values[i] = value;
  cases[i] = scalarCase;
  decoded[i] = undefined;
  return true;
}
