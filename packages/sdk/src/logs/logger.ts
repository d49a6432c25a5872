/**
 * Logger: each emitted log record is one `Event` on the events ring
 * (FORMAT.md 5): time (`timestamp`, else `observedTimestamp`, else now),
 * severity number and text, body (any value), event name (a dictionary
 * string), the span context of the record's `context` (or the active one),
 * and attributes (with the log record limits; an `exception` adds the
 * semantic-convention `exception.*` attributes unless already present).
 * Extensions (FORMAT.md 8): the observed time (`observedTimestamp`, else
 * now, as `@opentelemetry/sdk-logs` does) always, and the number of
 * attributes left out when there are any.
 *
 * A string attribute value that does not fit what is left of the slot is
 * cut to fit (counted, diag); another attribute that does not fit is
 * dropped and counted; a record whose body alone does not fit is dropped
 * and counted.
 *
 * @internal
 */
import { type Attributes, context as contextApi, diag, trace } from '@opentelemetry/api';
import type { Logger, LogRecord, SeverityNumber } from '@opentelemetry/api-logs';
import type { ResolvedLogLimits } from '../config.js';
import { writeAnyValue, writeKeyValue } from '../encoding/any-value.js';
import { writeCutToFit } from '../encoding/fit.js';
import * as F from '@otlp-mmap/protocol/tags';
import type { ProtoWriter } from '../encoding/proto-writer.js';
import type { MmapFile } from '../file/mmap-file.js';
import { RING_EVENTS } from '../file/native.js';
import { writeSpanContext } from '../trace/span.js';
import { type Nanos64, timeInputInto } from '../time.js';

const hasOwn = Object.prototype.hasOwnProperty;
const time: Nanos64 = { lo: 0, hi: 0 };
const observed: Nanos64 = { lo: 0, hi: 0 };
/**
 * Room kept at the end of a slot for the dropped-attributes extension
 * (a two-byte tag and a uint32 varint), written after the attributes.
 */
const DROPPED_COUNT_ROOM = 7;

export class MmapLogger implements Logger {
  private readonly file: MmapFile;
  private readonly scopeRef: number;
  private readonly limits: ResolvedLogLimits;

  /** @internal */
  constructor(file: MmapFile, scopeRef: number, limits: ResolvedLogLimits) {
    this.file = file;
    this.scopeRef = scopeRef;
    this.limits = limits;
  }

  enabled(): boolean {
    return !this.file.closed;
  }

  emit(record: LogRecord): void {
    const file = this.file;
    if (file.closed || record === null || typeof record !== 'object') return;
    try {
      const nameRef = record.eventName ? file.dictionary.string(String(record.eventName)) : 0;
      timeInputInto(record.timestamp ?? record.observedTimestamp, time);
      // Observed now unless given: the clock reading above when it was one.
      const given = record.observedTimestamp !== undefined || record.timestamp !== undefined;
      if (given) timeInputInto(record.observedTimestamp, observed);
      const w = file.begin();
      try {
        w.uint32(F.EVENT_SCOPE_REF);
        w.int64(this.scopeRef);
        w.tagFixed64(F.EVENT_TIME_UNIX_NANO, time.lo, time.hi);
        if (given) w.tag2Fixed64(F.EVENT_OBSERVED_TIME_UNIX_NANO, observed.lo, observed.hi);
        else w.tag2Fixed64(F.EVENT_OBSERVED_TIME_UNIX_NANO, time.lo, time.hi);
        const severity = record.severityNumber;
        if (typeof severity === 'number' && severity > 0 && severity <= 24) {
          w.uint32(F.EVENT_SEVERITY_NUMBER);
          w.uint32(severity as SeverityNumber);
        }
        if (typeof record.severityText === 'string' && record.severityText !== '') {
          w.uint32(F.EVENT_SEVERITY_TEXT);
          w.string(record.severityText);
        }
        if (record.body !== undefined && record.body !== null) {
          const mark = w.pos;
          w.uint32(F.EVENT_BODY);
          w.fork();
          if (writeAnyValue(w, record.body, file.dictionary, this.limits.attributeValueLengthLimit, 0)) w.join();
          else w.rewind(mark, 0);
        }
        if (nameRef !== 0) {
          w.uint32(F.EVENT_EVENT_NAME_REF);
          w.int64(nameRef);
        }
        const span = trace.getSpan(record.context ?? contextApi.active());
        if (span !== undefined) writeSpanContext(w, F.EVENT_SPAN_CONTEXT, span, false);
        this.writeAttributes(w, record);
        file.commit(RING_EVENTS, w);
      } finally {
        file.release(w);
      }
    } catch (err) {
      diag.error('otlp-mmap: emit failed', err);
    }
  }

  /** Writes the record's attributes, then how many were left out (if any). */
  private writeAttributes(w: ProtoWriter, record: LogRecord): void {
    const file = this.file;
    const max = file.maxMessageSize[RING_EVENTS] - DROPPED_COUNT_ROOM;
    const countLimit = this.limits.attributeCountLimit;
    const lengthLimit = this.limits.attributeValueLengthLimit;
    let count = 0;
    let dropped = 0;
    const add = (key: string, value: unknown): void => {
      if (count >= countLimit) {
        if (value !== undefined && value !== null) dropped++;
        return;
      }
      const mark = w.pos;
      if (!writeKeyValue(w, F.EVENT_ATTRIBUTES, key, value, file.dictionary, lengthLimit)) return;
      if (w.pos > max) {
        w.rewind(mark, 0);
        if (!writeCutToFit(w, F.EVENT_ATTRIBUTES, key, value, file.dictionary, lengthLimit, max)) {
          dropped++;
          file.countDroppedAttribute();
          diag.warn(`otlp-mmap: log attribute "${key}" too large for a slot; dropped`);
          return;
        }
        file.countTruncatedAttribute();
        diag.warn(`otlp-mmap: log attribute "${key}" too long for a slot; its value was cut to fit`);
      }
      count++;
    };
    const attributes = record.attributes;
    if (attributes) {
      for (const key in attributes) if (hasOwn.call(attributes, key)) add(key, attributes[key]);
    }
    if (record.exception !== undefined && record.exception !== null) {
      const ex = exceptionAttributes(record.exception);
      for (const key of Object.keys(ex)) if (!attributes || !hasOwn.call(attributes, key)) add(key, ex[key]);
    }
    if (dropped > 0) {
      w.uint32(F.EVENT_DROPPED_ATTRIBUTES_COUNT);
      w.uint32(dropped);
    }
  }
}

/** The semantic-convention attributes of an exception value. */
function exceptionAttributes(exception: unknown): Attributes {
  const out: Attributes = {};
  if (typeof exception === 'string') {
    out['exception.message'] = exception;
  } else if (typeof exception === 'object' && exception !== null) {
    const e = exception as { code?: unknown; name?: unknown; message?: unknown; stack?: unknown };
    if (e.code !== undefined && e.code !== null) out['exception.type'] = String(e.code);
    else if (typeof e.name === 'string') out['exception.type'] = e.name;
    if (typeof e.message === 'string') out['exception.message'] = e.message;
    if (typeof e.stack === 'string') out['exception.stacktrace'] = e.stack;
  }
  return out;
}
