/**
 * Writes one `Measurement` (FORMAT.md 5) to the measurements ring: the
 * instrument's MetricRef, the attributes, the time, the value (`as_long` for
 * instruments of `ValueType.INT`, `as_double` otherwise) and, for exemplars,
 * the context of the sampled span active when the value was recorded.
 *
 * @internal
 */
import { type Attributes, type Context, context as contextApi, isSpanContextValid, trace, TraceFlags } from '@opentelemetry/api';
import { writeKeyValue } from '../encoding/any-value.js';
import * as F from '../encoding/fields.js';
import type { ProtoWriter } from '../encoding/proto-writer.js';
import type { MmapFile } from '../file/mmap-file.js';
import { RING_MEASUREMENTS } from '../file/native.js';
import { MmapSpan } from '../trace/span.js';

const hasOwn = Object.prototype.hasOwnProperty;
/** First key slot (Dictionary.stringAt) of measurement attributes. */
const SLOTS_MEASUREMENT = 128;

export function writeMeasurement(
  file: MmapFile,
  metricRef: number,
  isInt: boolean,
  value: number,
  attributes: Attributes | undefined,
  ctx: Context | undefined,
  timeLo: number,
  timeHi: number,
): boolean {
  const w = file.begin();
  try {
    w.uint32(F.MEASUREMENT_METRIC_REF);
    w.int64(metricRef);
    if (attributes) {
      const dict = file.dictionary;
      let i = 0;
      for (const key in attributes) {
        if (hasOwn.call(attributes, key)) {
          writeKeyValue(w, F.MEASUREMENT_ATTRIBUTES, key, attributes[key], dict, Infinity, SLOTS_MEASUREMENT + (i++ & 63));
        }
      }
    }
    w.tagFixed64(F.MEASUREMENT_TIME, timeLo, timeHi);
    if (isInt) {
      w.uint32(F.MEASUREMENT_AS_LONG);
      w.int64(value);
    } else {
      w.uint32(F.MEASUREMENT_AS_DOUBLE);
      w.double(value);
    }
    writeExemplarContext(w, ctx);
    return file.commit(RING_MEASUREMENTS, w);
  } finally {
    file.release(w);
  }
}

function writeExemplarContext(w: ProtoWriter, ctx: Context | undefined): void {
  const span = trace.getSpan(ctx ?? contextApi.active());
  if (span === undefined) return;
  if (span instanceof MmapSpan) {
    if ((span.traceFlags & TraceFlags.SAMPLED) === 0) return;
    w.uint32(F.MEASUREMENT_SPAN_CONTEXT);
    w.fork();
    w.uint32(F.SPAN_CONTEXT_SPAN_ID);
    w.wordBytes2(span.s0, span.s1);
    w.uint32(F.SPAN_CONTEXT_TRACE_ID);
    w.wordBytes4(span.t0, span.t1, span.t2, span.t3);
    w.uint32(F.SPAN_CONTEXT_FLAGS);
    w.fixed32(span.traceFlags);
    w.join();
    return;
  }
  const sc = span.spanContext();
  if (!isSpanContextValid(sc) || (sc.traceFlags & TraceFlags.SAMPLED) === 0) return;
  w.uint32(F.MEASUREMENT_SPAN_CONTEXT);
  w.fork();
  w.uint32(F.SPAN_CONTEXT_SPAN_ID);
  w.hexBytes(sc.spanId);
  w.uint32(F.SPAN_CONTEXT_TRACE_ID);
  w.hexBytes(sc.traceId);
  w.uint32(F.SPAN_CONTEXT_FLAGS);
  w.fixed32(sc.traceFlags & 0xff);
  w.join();
}
