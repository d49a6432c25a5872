/**
 * Writes one `Measurement` (FORMAT.md 5) to the measurements ring: the
 * instrument's MetricRef, the attributes, the time, the value (`as_long` for
 * instruments of `ValueType.INT`, `as_double` otherwise) and, for exemplars,
 * the context of the sampled span active when the value was recorded.
 *
 * @internal
 */
import { type Attributes, type Context, context as contextApi, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { writeKeyValue } from '../encoding/any-value.js';
import * as F from '@otlp-mmap/protocol/tags';
import type { ProtoWriter } from '../encoding/proto-writer.js';
import type { Dictionary } from '../file/dictionary.js';
import type { MmapFile } from '../file/mmap-file.js';
import { RING_MEASUREMENTS } from '../file/native.js';
import { writeSpanContext } from '../trace/span.js';
import type { AttributeMemo } from './attribute-memo.js';

const hasOwn = Object.prototype.hasOwnProperty;
/** 2^63: the first integer an int64 cannot hold. */
const TWO_63 = 2 ** 63;

/**
 * The int64 an INT instrument writes for `value`: truncated toward zero,
 * or undefined when the result is not an integer an int64 holds
 * (NaN, ±Infinity, |value| ≥ 2^63). Every double of magnitude ≥ 2^53 is an
 * integer, and those below 2^63 are written exactly (`ProtoWriter.int64`).
 */
export function int64Value(value: number): number | undefined {
  const v = Math.trunc(value);
  return v >= -TWO_63 && v < TWO_63 ? v : undefined;
}

/** First key slot (Dictionary.stringAt) of measurement attributes. */
const SLOTS_MEASUREMENT = 128;
const TAG_ATTRIBUTES = F.MEASUREMENT_ATTRIBUTES;

export function writeMeasurement(
  file: MmapFile,
  metricRef: number,
  isInt: boolean,
  value: number,
  attributes: Attributes | undefined,
  ctx: Context | undefined,
  timeLo: number,
  timeHi: number,
  memo?: AttributeMemo,
): boolean {
  const w = file.begin();
  try {
    w.uint32(F.MEASUREMENT_METRIC_REF);
    w.int64(metricRef);
    if (attributes) {
      if (memo === undefined || memo.busy) writeAttributes(w, attributes, file.dictionary, undefined);
      else {
        memo.busy = true;
        try {
          writeAttributes(w, attributes, file.dictionary, memo);
        } finally {
          memo.busy = false;
        }
      }
    }
    if (isInt) {
      w.tagFixed64(F.MEASUREMENT_TIME_UNIX_NANO, timeLo, timeHi);
      w.uint32(F.MEASUREMENT_AS_LONG);
      w.int64(value);
    } else {
      w.tagFixed64TagDouble(F.MEASUREMENT_TIME_UNIX_NANO, timeLo, timeHi, F.MEASUREMENT_AS_DOUBLE, value);
    }
    writeExemplarContext(w, ctx);
    return file.commit(RING_MEASUREMENTS, w);
  } finally {
    file.release(w);
  }
}

/**
 * The attributes as `KeyValueRef` fields. Short ASCII strings and integers in
 * [0, 2^28) under a non-empty key take the writer's one-pass fast paths here
 * (the same bytes as writeKeyValue's); anything else, or a string the ASCII
 * fast path declines, takes writeKeyValue. With a memo, a repeat of the last attribute
 * set copies its bytes (see {@link AttributeMemo}).
 */
function writeAttributes(w: ProtoWriter, attributes: Attributes, dict: Dictionary, memo: AttributeMemo | undefined): void {
  if (memo !== undefined) {
    if (memo.matches(attributes)) {
      const bytes = memo.bytes;
      w.ensure(bytes.length);
      w.buf.set(bytes, w.pos);
      w.pos += bytes.length;
      return;
    }
    if (memo.shouldRefresh()) {
      // Forgotten first: an encode cut short (a throwing getter) must not
      // leave old bytes under partly new keys and values.
      memo.clear();
    } else memo = undefined;
  }
  const start = w.pos;
  let i = 0;
  let fast = true;
  for (const key in attributes) {
    if (!hasOwn.call(attributes, key)) continue;
    const n = i++;
    const slot = SLOTS_MEASUREMENT + (n & 63);
    const v = attributes[key];
    if (typeof v === 'string') {
      if (key.length !== 0) {
        const keyRef = dict.stringAt(slot, key);
        if (keyRef !== 0 && w.kvAscii(TAG_ATTRIBUTES, keyRef, v)) {
          if (memo !== undefined) memo.push(n, key, v);
          continue;
        }
      }
    } else if (typeof v === 'number' && v >= 0 && v < 268435456 && (v | 0) === v && key.length !== 0) {
      // -0 passes the tests above; it is a double_value, left to writeKeyValue.
      if (v !== 0 || 1 / v > 0) {
        const keyRef = dict.stringAt(slot, key);
        if (keyRef !== 0) {
          w.kvSmallInt(TAG_ATTRIBUTES, keyRef, v);
          if (memo !== undefined) memo.push(n, key, v);
          continue;
        }
      }
    }
    fast = false;
    writeKeyValue(w, TAG_ATTRIBUTES, key, v, dict, Infinity, slot);
  }
  if (memo !== undefined) {
    if (fast) memo.store(i, w.buf, start, w.pos);
    else memo.clear();
  }
}

function writeExemplarContext(w: ProtoWriter, ctx: Context | undefined): void {
  const active = ctx ?? contextApi.active();
  // The root context holds no span (the common case outside any span).
  if (active === ROOT_CONTEXT) return;
  const span = trace.getSpan(active);
  if (span !== undefined) writeSpanContext(w, F.MEASUREMENT_SPAN_CONTEXT, span, true);
}
