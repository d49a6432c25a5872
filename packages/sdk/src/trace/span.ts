/**
 * A recording span that writes each step of its life cycle to the file as it
 * happens (FORMAT.md section 5, SpanEvent): StartSpan when created,
 * UpdateAttributes / ChangeSpanName / AddLink as the application calls the
 * span, EndSpan (with the status) on `end()`. Span events and exceptions go
 * to the events ring as `Event`s carrying the span context (FORMAT.md 7.4).
 *
 * The span keeps almost no state: ids (as uint32 words), flags, the start
 * time, status and limit counters. Attributes are not kept, so the attribute
 * count limit counts attributes *written* (a key set twice counts twice).
 *
 * A message that does not fit one slot is split: attributes that do not fit
 * the StartSpan (or an update) follow in further UpdateAttributes messages; a
 * single attribute that cannot fit even an empty message is dropped, reported
 * to diag and counted (`droppedCounts().attributes`).
 *
 * Extensions (FORMAT.md 8), each written only when it is not the default:
 * the trace state with the StartSpan; with the EndSpan, how many attributes
 * (over the count limit, or too large for a slot), events and links (over
 * their limits) the span left out in its whole life; with a span event, how
 * many of its attributes were left out. A span event's string attribute
 * value too long for the slot is cut to fit (counted, diag).
 *
 * @internal
 */
import {
  type Attributes,
  type AttributeValue,
  diag,
  type Exception,
  type HrTime,
  isSpanContextValid,
  type Link,
  type Span,
  type SpanAttributes,
  type SpanContext,
  SpanStatusCode,
  type SpanStatus,
  type TimeInput,
  TraceFlags,
  type TraceState,
} from '@opentelemetry/api';
import * as F from '@otlp-mmap/protocol/tags';
import { writeKeyValue } from '../encoding/any-value.js';
import { writeCutToFit } from '../encoding/fit.js';
import type { EncodedMemo } from '../encoding/encoded-memo.js';
import type { ProtoWriter } from '../encoding/proto-writer.js';
import { RING_EVENTS, RING_SPANS } from '../file/native.js';
import { isBefore, type Nanos64, timeInputInto } from '../time.js';
import { wordHex } from './ids.js';
import type { TraceShared } from './span-limits.js';

const hasOwn = Object.prototype.hasOwnProperty;
const FLAG_HAS_IS_REMOTE = 0x100;
const FLAG_IS_REMOTE = 0x200;

const scratchTime: Nanos64 = { lo: 0, hi: 0 };
/** Memo slot of the span name; attribute positions 0-63 use the slots below it. */
export const MEMO_NAME = 64;
/** First key slots (Dictionary.stringAt) of StartSpan and UpdateAttributes attributes. */
const SLOTS_START = 0;
const SLOTS_UPDATE = 64;
/** Room kept at the end of an events slot for a span event's dropped-attributes extension. */
const DROPPED_COUNT_ROOM = 7;

export class MmapSpan implements Span {
  /** @internal trace id words (big-endian). */
  readonly t0: number;
  /** @internal */ readonly t1: number;
  /** @internal */ readonly t2: number;
  /** @internal */ readonly t3: number;
  /** @internal span id words. */
  readonly s0: number;
  /** @internal */ readonly s1: number;
  /** @internal W3C trace flags. */
  readonly traceFlags: number;
  /** @internal */ readonly traceState: TraceState | undefined;
  private readonly shared: TraceShared;
  private readonly scopeRef: number;
  private spanName: string;
  private context: SpanContext | undefined;
  private startLo = 0;
  private startHi = 0;
  private ended = false;
  /** Nothing is written: RECORD_ONLY sampling, or the StartSpan was dropped. */
  private silent: boolean;
  private statusCode: SpanStatusCode = SpanStatusCode.UNSET;
  private statusMessage: string | undefined;
  private attributeCount = 0;
  private eventCount = 0;
  private linkCount = 0;
  /** Attributes left out (over the count limit, or too large for any slot): EndSpan's dropped_attributes_count. */
  private droppedAttributes = 0;
  private warnedLimit = false;

  constructor(
    shared: TraceShared,
    scopeRef: number,
    name: string,
    t0: number,
    t1: number,
    t2: number,
    t3: number,
    s0: number,
    s1: number,
    traceFlags: number,
    traceState: TraceState | undefined,
    silent: boolean,
  ) {
    this.shared = shared;
    this.scopeRef = scopeRef;
    this.spanName = name;
    this.t0 = t0;
    this.t1 = t1;
    this.t2 = t2;
    this.t3 = t3;
    this.s0 = s0;
    this.s1 = s1;
    this.traceFlags = traceFlags;
    this.traceState = traceState;
    this.silent = silent;
  }

  /**
   * Writes the StartSpan (and follow-ups for what did not fit, and the links).
   * @internal
   */
  start(
    kind: number,
    hasParent: boolean,
    parentS0: number,
    parentS1: number,
    parentIsRemote: boolean,
    startTime: TimeInput | undefined,
    attributes: Attributes | undefined,
    samplerAttributes: Attributes | undefined,
    links: Link[] | undefined,
    memo: EncodedMemo,
  ): void {
    timeInputInto(startTime, scratchTime);
    this.startLo = scratchTime.lo;
    this.startHi = scratchTime.hi;
    if (this.silent) return;
    const file = this.shared.file;
    const max = file.maxMessageSize[RING_SPANS];
    let name = this.spanName;
    if (name.length > max >>> 1) {
      diag.warn(`otlp-mmap: span name of ${name.length} characters truncated`);
      name = name.slice(0, max >>> 2);
    }
    let rest: string[] | null = null;
    let samplerRest: string[] | null = null;
    const w = file.begin();
    try {
      // With attributes a StartSpan usually reaches 128 bytes: reserve its two-byte length.
      w.spanEventHeader(
        this.scopeRef,
        this.t0,
        this.t1,
        this.t2,
        this.t3,
        this.s0,
        this.s1,
        F.SPAN_EVENT_START,
        attributes !== undefined || samplerAttributes !== undefined,
      );
      if (hasParent) {
        w.uint32(F.START_SPAN_PARENT_SPAN_ID);
        w.wordBytes2(parentS0, parentS1);
      }
      // flags, name, kind and start time, through the writer's StartSpan fast paths
      w.startSpanFlags(this.traceFlags | FLAG_HAS_IS_REMOTE | (parentIsRemote ? FLAG_IS_REMOTE : 0));
      if (!memo.replay(w, MEMO_NAME, name, '')) {
        const mark = w.pos;
        w.startSpanName(name);
        memo.remember(w, MEMO_NAME, name, '', mark);
      }
      w.startSpanKindTime(kind + 1, this.startLo, this.startHi);
      if (this.traceState !== undefined) {
        const state = this.traceState.serialize();
        // A W3C tracestate holds at most 32 entries (512 characters in practice): one longer than a quarter slot is left out.
        if (state !== '' && state.length <= max >>> 2) {
          w.uint32(F.START_SPAN_TRACE_STATE);
          w.string(state);
        }
      }
      if (attributes !== undefined) rest = this.encodeAttributes(w, F.START_SPAN_ATTRIBUTES, attributes, null, max, memo);
      if (samplerAttributes !== undefined) {
        samplerRest =
          rest === null ? this.encodeAttributes(w, F.START_SPAN_ATTRIBUTES, samplerAttributes, null, max, undefined) : Object.keys(samplerAttributes);
      }
      w.join();
      if (!file.commit(RING_SPANS, w)) this.silent = true;
    } finally {
      file.release(w);
    }
    if (this.silent) return;
    if (rest !== null && attributes !== undefined) this.writeUpdate(attributes, rest);
    if (samplerRest !== null && samplerAttributes !== undefined) this.writeUpdate(samplerAttributes, samplerRest);
    if (links !== undefined && links.length > 0) this.writeLinks(links);
  }

  spanContext(): SpanContext {
    let ctx = this.context;
    if (ctx === undefined) {
      ctx = {
        traceId: wordHex(this.t0) + wordHex(this.t1) + wordHex(this.t2) + wordHex(this.t3),
        spanId: wordHex(this.s0) + wordHex(this.s1),
        traceFlags: this.traceFlags,
        isRemote: false,
      };
      if (this.traceState !== undefined) ctx.traceState = this.traceState;
      this.context = ctx;
    }
    return ctx;
  }

  setAttribute(key: string, value: AttributeValue): this {
    if (this.ended) {
      this.warnEnded('setAttribute');
      return this;
    }
    if (this.silent || value === undefined || value === null) return this;
    try {
      const file = this.shared.file;
      const max = file.maxMessageSize[RING_SPANS];
      if (this.attributeCount >= this.shared.limits.attributeCountLimit) {
        this.dropOverLimit();
        return this;
      }
      const w = file.begin();
      let fits = true;
      try {
        this.header(w, F.SPAN_EVENT_ATTRIBUTES);
        const bodyStart = w.pos;
        fits = this.encodeOne(w, F.UPDATE_ATTRIBUTES_ATTRIBUTES, key, value, max, SLOTS_UPDATE);
        w.join();
        if (fits && w.pos > bodyStart) file.commit(RING_SPANS, w);
      } finally {
        file.release(w);
      }
      if (!fits) this.dropTooLarge(key);
    } catch (err) {
      diag.error('otlp-mmap: setAttribute failed', err);
    }
    return this;
  }

  setAttributes(attributes: SpanAttributes): this {
    if (this.ended) {
      this.warnEnded('setAttributes');
      return this;
    }
    if (this.silent || attributes === undefined || attributes === null) return this;
    try {
      this.writeUpdate(attributes, null);
    } catch (err) {
      diag.error('otlp-mmap: setAttributes failed', err);
    }
    return this;
  }

  addEvent(name: string, attributesOrStartTime?: SpanAttributes | TimeInput, startTime?: TimeInput): this {
    if (this.ended) {
      this.warnEnded('addEvent');
      return this;
    }
    if (this.silent) return this;
    if (this.eventCount >= this.shared.limits.eventCountLimit) {
      if (this.eventCount === this.shared.limits.eventCountLimit) diag.warn('otlp-mmap: span event count limit reached; dropping events');
      this.eventCount++;
      return this;
    }
    this.eventCount++;
    let attributes: Attributes | undefined;
    let time: TimeInput | undefined = startTime;
    if (isTimeInput(attributesOrStartTime)) {
      time = attributesOrStartTime;
    } else {
      attributes = attributesOrStartTime;
    }
    try {
      this.writeEvent(String(name), attributes, time);
    } catch (err) {
      diag.error('otlp-mmap: addEvent failed', err);
    }
    return this;
  }

  addLink(link: Link): this {
    return this.addLinks([link]);
  }

  addLinks(links: Link[]): this {
    if (this.ended) {
      this.warnEnded('addLinks');
      return this;
    }
    if (this.silent || !Array.isArray(links) || links.length === 0) return this;
    try {
      this.writeLinks(links);
    } catch (err) {
      diag.error('otlp-mmap: addLinks failed', err);
    }
    return this;
  }

  setStatus(status: SpanStatus): this {
    if (this.ended) {
      this.warnEnded('setStatus');
      return this;
    }
    if (status === undefined || status === null || status.code === SpanStatusCode.UNSET) return this;
    if (this.statusCode === SpanStatusCode.OK) return this; // OK is final
    this.statusCode = status.code;
    this.statusMessage = status.code === SpanStatusCode.ERROR && typeof status.message === 'string' ? status.message : undefined;
    return this;
  }

  updateName(name: string): this {
    if (this.ended) {
      this.warnEnded('updateName');
      return this;
    }
    this.spanName = name;
    if (this.silent) return this;
    try {
      const file = this.shared.file;
      const max = file.maxMessageSize[RING_SPANS];
      const safe = name.length > max >>> 1 ? name.slice(0, max >>> 2) : name;
      const w = file.begin();
      try {
        this.header(w, F.SPAN_EVENT_NAME);
        w.uint32(F.CHANGE_SPAN_NAME_NAME);
        w.string(safe);
        w.join();
        file.commit(RING_SPANS, w);
      } finally {
        file.release(w);
      }
    } catch (err) {
      diag.error('otlp-mmap: updateName failed', err);
    }
    return this;
  }

  end(endTime?: TimeInput): void {
    if (this.ended) {
      diag.warn(`otlp-mmap: span "${this.spanName}" (${this.spanContext().spanId}) ended twice; ignored`);
      return;
    }
    this.ended = true;
    if (this.silent) return;
    try {
      timeInputInto(endTime, scratchTime);
      let lo = scratchTime.lo;
      let hi = scratchTime.hi;
      if (isBefore(lo, hi, this.startLo, this.startHi)) {
        diag.warn(`otlp-mmap: span "${this.spanName}" ends before it starts; end time set to the start time`);
        lo = this.startLo;
        hi = this.startHi;
      }
      const file = this.shared.file;
      const w = file.begin();
      try {
        this.header(w, F.SPAN_EVENT_END);
        w.tagFixed64(F.END_SPAN_END_TIME_UNIX_NANO, lo, hi);
        if (this.statusCode !== SpanStatusCode.UNSET) {
          w.uint32(F.END_SPAN_STATUS);
          w.fork();
          if (this.statusMessage) {
            w.uint32(F.STATUS_MESSAGE);
            w.string(this.statusMessage);
          }
          w.uint32(F.STATUS_CODE);
          w.uint32(this.statusCode);
          w.join();
        }
        const limits = this.shared.limits;
        if (this.droppedAttributes > 0) {
          w.uint32(F.END_SPAN_DROPPED_ATTRIBUTES_COUNT);
          w.uint32(Math.min(this.droppedAttributes, 0xffffffff));
        }
        if (this.eventCount > limits.eventCountLimit) {
          w.uint32(F.END_SPAN_DROPPED_EVENTS_COUNT);
          w.uint32(Math.min(this.eventCount - limits.eventCountLimit, 0xffffffff));
        }
        if (this.linkCount > limits.linkCountLimit) {
          w.uint32(F.END_SPAN_DROPPED_LINKS_COUNT);
          w.uint32(Math.min(this.linkCount - limits.linkCountLimit, 0xffffffff));
        }
        w.join();
        file.commit(RING_SPANS, w);
      } finally {
        file.release(w);
      }
    } catch (err) {
      diag.error('otlp-mmap: end failed', err);
    }
  }

  isRecording(): boolean {
    return !this.ended;
  }

  recordException(exception: Exception, time?: TimeInput): void {
    try {
      this.exceptionEvent(exception, time);
    } catch (err) {
      diag.error('otlp-mmap: recordException failed', err);
    }
  }

  private exceptionEvent(exception: Exception, time: TimeInput | undefined): void {
    const attributes: Attributes = {};
    if (typeof exception === 'string') {
      attributes['exception.message'] = exception;
    } else if (exception) {
      if (exception.code !== undefined && exception.code !== null) attributes['exception.type'] = String(exception.code);
      else if (exception.name) attributes['exception.type'] = exception.name;
      if (exception.message) attributes['exception.message'] = exception.message;
      if (exception.stack) attributes['exception.stacktrace'] = exception.stack;
    }
    if (attributes['exception.type'] === undefined && attributes['exception.message'] === undefined) {
      diag.warn(`otlp-mmap: recordException got an exception without type or message: ${String(exception)}`);
      return;
    }
    this.addEvent('exception', attributes, time);
  }

  // ------------------------------------------------------------------ encoding

  /** SpanEvent fields every message of this span starts with, and opens the `event` field. */
  private header(w: ProtoWriter, eventTag: number): void {
    w.spanEventHeader(this.scopeRef, this.t0, this.t1, this.t2, this.t3, this.s0, this.s1, eventTag);
  }

  /**
   * Encodes own attributes of `attrs` (all of them, or those named by `keys`)
   * as repeated field `tag` while they fit `max`. Returns the keys that did not
   * fit, first the one that overflowed, or null.
   */
  private encodeAttributes(w: ProtoWriter, tag: number, attrs: Attributes, keys: string[] | null, max: number, memo: EncodedMemo | undefined): string[] | null {
    let rest: string[] | null = null;
    // Key slots (Dictionary.stringAt): StartSpan and UpdateAttributes keys apart.
    const slotBase = tag === F.START_SPAN_ATTRIBUTES ? SLOTS_START : SLOTS_UPDATE;
    if (keys === null) {
      // The hot path (every attribute of a span start): encodeOne inlined by
      // hand, with the loop invariants read once.
      const limits = this.shared.limits;
      const countLimit = limits.attributeCountLimit;
      const lengthLimit = limits.attributeValueLengthLimit;
      const dictionary = this.shared.file.dictionary;
      const depth = w.openMessages;
      const limit = max - 4 * depth;
      let count = this.attributeCount;
      let i = 0;
      for (const key in attrs) {
        if (!hasOwn.call(attrs, key)) continue;
        if (rest !== null) {
          rest.push(key);
          continue;
        }
        const value = attrs[key];
        if (count >= countLimit) {
          if (value !== undefined && value !== null) this.dropOverLimit();
          continue;
        }
        const position = i++ & 63;
        const mark = w.pos;
        // The usual case: the same key and value at this position as in the
        // tracer's previous span start (see EncodedMemo).
        if (memo?.replay(w, position, key, value)) {
          if (w.pos > limit) {
            w.rewind(mark, depth);
            rest = [key];
            continue;
          }
          count++;
          continue;
        }
        // A string longer than a slot can never fit: do not even encode it.
        if (typeof value === 'string' && value.length > max && value.length <= lengthLimit) {
          rest = [key];
          continue;
        }
        // Short ASCII strings (the usual miss: a path, an address) in one
        // pass here; anything else, or a declined fast path, in writeKeyValue.
        let written = false;
        if (typeof value === 'string' && tag <= 127 && value.length <= lengthLimit && key.length !== 0) {
          const keyRef = dictionary.stringAt(slotBase + position, key);
          written = keyRef !== 0 && w.kvAscii(tag, keyRef, value);
        }
        if (!written && !writeKeyValue(w, tag, key, value, dictionary, lengthLimit, slotBase + position)) continue;
        if (memo !== undefined) memo.remember(w, position, key, value, mark);
        if (w.pos > limit) {
          w.rewind(mark, depth);
          rest = [key];
          continue;
        }
        count++;
      }
      this.attributeCount = count;
    } else {
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i];
        if (rest !== null) rest.push(key);
        else if (!this.encodeOne(w, tag, key, attrs[key], max, slotBase + (i & 63))) rest = [key];
      }
    }
    return rest;
  }

  /** Encodes one attribute; false (nothing written) when it does not fit `max`. */
  private encodeOne(w: ProtoWriter, tag: number, key: string, value: unknown, max: number, slot: number): boolean {
    const limits = this.shared.limits;
    if (this.attributeCount >= limits.attributeCountLimit) {
      if (value !== undefined && value !== null) this.dropOverLimit();
      return true;
    }
    const lengthLimit = limits.attributeValueLengthLimit;
    // A string longer than a slot can never fit: do not even encode it.
    if (typeof value === 'string' && value.length > max && value.length <= lengthLimit) return false;
    const mark = w.pos;
    if (!writeKeyValue(w, tag, key, value, this.shared.file.dictionary, lengthLimit, slot)) return true;
    if (w.pos + 4 * w.openMessages > max) {
      w.rewind(mark, w.openMessages);
      return false;
    }
    this.attributeCount++;
    return true;
  }

  /** Writes attributes as UpdateAttributes messages, as many as needed. */
  private writeUpdate(attrs: Attributes, keys: string[] | null): void {
    const file = this.shared.file;
    const max = file.maxMessageSize[RING_SPANS];
    let todo: string[] | null = keys;
    let all = keys === null;
    for (;;) {
      let rest: string[] | null;
      const w = file.begin();
      try {
        this.header(w, F.SPAN_EVENT_ATTRIBUTES);
        const bodyStart = w.pos;
        rest = this.encodeAttributes(w, F.UPDATE_ATTRIBUTES_ATTRIBUTES, attrs, all ? null : todo, max, undefined);
        while (rest !== null && w.pos === bodyStart) {
          // Not even alone in an empty message: this attribute can never be written.
          this.dropTooLarge(rest[0]);
          rest = rest.length > 1 ? this.encodeAttributes(w, F.UPDATE_ATTRIBUTES_ATTRIBUTES, attrs, rest.slice(1), max, undefined) : null;
        }
        w.join();
        if (w.pos > bodyStart + 1) file.commit(RING_SPANS, w);
      } finally {
        file.release(w);
      }
      if (rest === null) return;
      todo = rest;
      all = false;
    }
  }

  private writeLinks(links: Link[]): void {
    const file = this.shared.file;
    const max = file.maxMessageSize[RING_SPANS];
    const limits = this.shared.limits;
    let i = 0;
    while (i < links.length) {
      const w = file.begin();
      try {
        this.header(w, F.SPAN_EVENT_LINK);
        const bodyStart = w.pos;
        for (; i < links.length; i++) {
          if (this.linkCount >= limits.linkCountLimit) {
            if (this.linkCount === limits.linkCountLimit) diag.warn('otlp-mmap: span link count limit reached; dropping links');
            this.linkCount++;
            continue;
          }
          const link = links[i];
          if (!link?.context) continue;
          const mark = w.pos;
          const depth = w.openMessages;
          this.encodeLink(w, link, true);
          if (w.boundedSize() > max) {
            w.rewind(mark, depth);
            if (w.pos > bodyStart) break; // flush, then retry this link in a new message
            this.encodeLink(w, link, false); // alone it does not fit: keep it without attributes
            file.countDroppedAttribute();
            diag.warn('otlp-mmap: link attributes too large for a slot; dropped');
          }
          this.linkCount++;
        }
        w.join();
        if (w.pos > bodyStart + 1) file.commit(RING_SPANS, w);
      } finally {
        file.release(w);
      }
    }
  }

  private encodeLink(w: ProtoWriter, link: Link, withAttributes: boolean): void {
    const ctx = link.context;
    w.uint32(F.ADD_LINK_LINKS);
    w.fork();
    w.uint32(F.LINK_TRACE_ID);
    w.hexBytes(ctx.traceId);
    w.uint32(F.LINK_SPAN_ID);
    w.hexBytes(ctx.spanId);
    const state = ctx.traceState?.serialize();
    if (state) {
      w.uint32(F.LINK_TRACE_STATE);
      w.string(state);
    }
    let dropped = 0;
    const attrs = link.attributes;
    if (attrs) {
      const limit = this.shared.limits.attributePerLinkCountLimit;
      const lengthLimit = this.shared.limits.attributeValueLengthLimit;
      let count = 0;
      for (const key in attrs) {
        if (!hasOwn.call(attrs, key)) continue;
        if (!withAttributes || count >= limit) {
          if (attrs[key] !== undefined && attrs[key] !== null) dropped++;
          continue;
        }
        if (writeKeyValue(w, F.LINK_ATTRIBUTES, key, attrs[key], this.shared.file.dictionary, lengthLimit)) count++;
      }
    }
    if (dropped > 0) {
      w.uint32(F.LINK_DROPPED_ATTRIBUTES_COUNT);
      w.uint32(dropped);
    }
    w.uint32(F.LINK_FLAGS);
    w.fixed32((ctx.traceFlags & 0xff) | FLAG_HAS_IS_REMOTE | (ctx.isRemote ? FLAG_IS_REMOTE : 0));
    w.join();
  }

  private writeEvent(name: string, attributes: Attributes | undefined, time: TimeInput | undefined): void {
    const file = this.shared.file;
    const max = file.maxMessageSize[RING_EVENTS] - DROPPED_COUNT_ROOM;
    const limits = this.shared.limits;
    const nameRef = file.dictionary.string(name);
    timeInputInto(time, scratchTime);
    const w = file.begin();
    try {
      w.uint32(F.EVENT_SCOPE_REF);
      w.int64(this.scopeRef);
      w.tagFixed64(F.EVENT_TIME_UNIX_NANO, scratchTime.lo, scratchTime.hi);
      if (nameRef !== 0) {
        w.uint32(F.EVENT_EVENT_NAME_REF);
        w.int64(nameRef);
      }
      writeSpanContext(w, F.EVENT_SPAN_CONTEXT, this, false);
      if (attributes) {
        let count = 0;
        let dropped = 0;
        for (const key in attributes) {
          if (!hasOwn.call(attributes, key)) continue;
          const value = attributes[key];
          if (count >= limits.attributePerEventCountLimit) {
            if (value !== undefined && value !== null) dropped++;
            continue;
          }
          const mark = w.pos;
          if (!writeKeyValue(w, F.EVENT_ATTRIBUTES, key, value, file.dictionary, limits.attributeValueLengthLimit)) continue;
          if (w.pos > max) {
            w.rewind(mark, 0);
            if (!writeCutToFit(w, F.EVENT_ATTRIBUTES, key, value, file.dictionary, limits.attributeValueLengthLimit, max)) {
              dropped++;
              file.countDroppedAttribute();
              diag.warn(`otlp-mmap: attribute "${key}" of an event of span "${this.spanName}" is too large for a slot; dropped`);
              continue;
            }
            file.countTruncatedAttribute();
            diag.warn(`otlp-mmap: attribute "${key}" of an event of span "${this.spanName}" is too long for a slot; its value was cut to fit`);
          }
          count++;
        }
        if (dropped > 0) {
          w.uint32(F.EVENT_DROPPED_ATTRIBUTES_COUNT);
          w.uint32(dropped);
        }
      }
      file.commit(RING_EVENTS, w);
    } finally {
      file.release(w);
    }
  }

  private dropTooLarge(key: string): void {
    this.droppedAttributes++;
    this.shared.file.countDroppedAttribute();
    diag.warn(`otlp-mmap: attribute "${key}" of span "${this.spanName}" is too large for a slot; dropped`);
  }

  private dropOverLimit(): void {
    this.droppedAttributes++;
    if (!this.warnedLimit) {
      this.warnedLimit = true;
      diag.warn(`otlp-mmap: span "${this.spanName}" reached the attribute count limit; further attributes dropped`);
    }
  }

  private warnEnded(operation: string): void {
    diag.warn(`otlp-mmap: ${operation} on span "${this.spanName}" after it ended; ignored`);
  }
}

function isTimeInput(value: unknown): value is TimeInput {
  return typeof value === 'number' || value instanceof Date || isHrTimeLike(value);
}

function isHrTimeLike(value: unknown): value is HrTime {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'number' && typeof value[1] === 'number';
}

/**
 * Writes the context of `span` as the `SpanContext` message field `tag`
 * (`Event.span_context`: a span event, a log record; `Measurement.span_context`:
 * an exemplar): an {@link MmapSpan}'s ids from its words, any other span's
 * (a remote or non-recording one) from its hex ids when they are valid.
 * With `sampledOnly`, nothing is written for a span that is not sampled.
 */
export function writeSpanContext(w: ProtoWriter, tag: number, span: Span, sampledOnly: boolean): void {
  const own = span instanceof MmapSpan ? span : undefined;
  let other: SpanContext | undefined;
  let flags: number;
  if (own !== undefined) {
    flags = own.traceFlags;
  } else {
    other = span.spanContext();
    if (!isSpanContextValid(other)) return;
    flags = other.traceFlags & 0xff;
  }
  if (sampledOnly && (flags & TraceFlags.SAMPLED) === 0) return;
  w.uint32(tag);
  w.fork();
  w.uint32(F.SPAN_CONTEXT_SPAN_ID);
  if (own !== undefined) w.wordBytes2(own.s0, own.s1);
  else w.hexBytes(other!.spanId);
  w.uint32(F.SPAN_CONTEXT_TRACE_ID);
  if (own !== undefined) w.wordBytes4(own.t0, own.t1, own.t2, own.t3);
  else w.hexBytes(other!.traceId);
  w.uint32(F.SPAN_CONTEXT_FLAGS);
  w.fixed32(flags);
  w.join();
}
