import type { Event } from '@otlp-mmap/protocol';
import type { otlpLogs, otlpTrace } from '@otlp-mmap/protocol';
import type { DictionaryView } from '../dictionary/dictionary-view.js';
import { DictionaryError } from '../dictionary/dictionary-view.js';
import { copyBytes } from '../file/byte-slab.js';

/** A log record ready for export, with the scope it belongs to. */
export interface ScopedLogRecord {
  readonly scopeRef: bigint;
  readonly record: otlpLogs.LogRecord;
}

/** Counters of event conversion. */
export interface EventCounters {
  /** Events that became span events. */
  spanEvents: number;
  /** Events that became log records. */
  logRecords: number;
  /** Span events whose span was not open: exported as log records with the span's trace context. */
  orphanSpanEvents: number;
  /** Bodies, attributes or event names that did not resolve and were left out. */
  unresolved: number;
}

/**
 * Whether an Event is an event recorded on a span (FORMAT.md 7.4): it
 * carries a span context and an event name, and none of what only a log
 * record has (a body or a severity). A log record emitted inside a span has
 * a span context too, but is exported as a log record.
 */
export function isSpanEvent(event: Event): boolean {
  return event.spanContext !== undefined && event.eventNameRef !== 0n && event.body === undefined && event.severityNumber === 0 && event.severityText === '';
}

function eventName(event: Event, dictionary: DictionaryView, counters: EventCounters): string {
  try {
    return dictionary.string(event.eventNameRef);
  } catch (error) {
    if (!(error instanceof DictionaryError)) throw error;
    counters.unresolved++;
    return '';
  }
}

/**
 * The OTLP dropped attributes count of an event: what the writer left out
 * (the `dropped_attributes_count` extension, FORMAT.md 8) and what did not
 * resolve here, capped to OTLP's uint32.
 */
function droppedAttributes(event: Event, unresolved: number): number {
  return Math.min(0xffffffff, event.droppedAttributesCount + unresolved);
}

/** Converts an Event recorded on a span to an OTLP span event. */
export function toSpanEvent(event: Event, dictionary: DictionaryView, counters: EventCounters): otlpTrace.Span_Event {
  let dropped = 0;
  const attributes = dictionary.attributes(event.attributes, () => {
    dropped++;
    counters.unresolved++;
  });
  return {
    timeUnixNano: event.timeUnixNano,
    name: eventName(event, dictionary, counters),
    attributes,
    droppedAttributesCount: droppedAttributes(event, dropped),
  };
}

/**
 * Converts an Event to an OTLP log record. What does not resolve (body,
 * an attribute, the event name) is left out and counted; the record is
 * exported anyway. The observed time is the Event's
 * `observed_time_unix_nano` extension (FORMAT.md 8), or
 * `readTimeUnixNano` (when the collector read it) when that is absent.
 */
export function toLogRecord(event: Event, dictionary: DictionaryView, counters: EventCounters, readTimeUnixNano: bigint): ScopedLogRecord {
  let body: otlpLogs.LogRecord['body'];
  if (event.body !== undefined) {
    try {
      body = dictionary.anyValue(event.body);
    } catch (error) {
      if (!(error instanceof DictionaryError)) throw error;
      counters.unresolved++;
      body = undefined;
    }
  }
  let dropped = 0;
  const attributes = dictionary.attributes(event.attributes, () => {
    dropped++;
    counters.unresolved++;
  });
  const context = event.spanContext;
  const record: otlpLogs.LogRecord = {
    timeUnixNano: event.timeUnixNano,
    observedTimeUnixNano: event.observedTimeUnixNano !== 0n ? event.observedTimeUnixNano : readTimeUnixNano,
    severityNumber: event.severityNumber as number as otlpLogs.SeverityNumber,
    severityText: event.severityText,
    body,
    attributes,
    droppedAttributesCount: droppedAttributes(event, dropped),
    flags: context ? context.flags & 0xff : 0,
    traceId: context && context.traceId.length === 16 ? copyBytes(context.traceId) : new Uint8Array(0),
    spanId: context && context.spanId.length === 8 ? copyBytes(context.spanId) : new Uint8Array(0),
    eventName: event.eventNameRef === 0n ? '' : eventName(event, dictionary, counters),
  };
  counters.logRecords++;
  return { scopeRef: event.scopeRef, record };
}
