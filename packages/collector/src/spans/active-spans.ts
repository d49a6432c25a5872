import type { SpanEvent, KeyValueRef } from '@otlp-mmap/protocol';
import type { otlpTrace, otlpCommon } from '@otlp-mmap/protocol';
import type { DictionaryView } from '../dictionary/dictionary-view.js';
import { validIds } from './span-key.js';
import { OUT, SpanTable, type SpanTableEntry } from './span-table.js';

/** A span ready for export, with the scope it belongs to. */
export interface FinishedSpan {
  readonly scopeRef: bigint;
  readonly span: otlpTrace.Span;
}

/** Limits that bound the memory of the active-span table. */
export interface ActiveSpanLimits {
  /** A span open longer than this (collector clock) is evicted as incomplete. */
  readonly maxAgeMs: number;
  /** At most this many open spans; beyond it the oldest are evicted as incomplete. */
  readonly maxActive: number;
  /** Per span: attributes, events and links kept (the rest are counted as dropped on the span). */
  readonly maxAttributes: number;
  readonly maxEvents: number;
  readonly maxLinks: number;
  /** How long an ended span waits for late span events before it is released anyway. */
  readonly endGraceMs: number;
}

export const DEFAULT_SPAN_LIMITS: ActiveSpanLimits = {
  maxAgeMs: 600_000,
  maxActive: 100_000,
  maxAttributes: 128,
  maxEvents: 128,
  maxLinks: 128,
  endGraceMs: 2_000,
};

/** Counters of span reconstruction. */
export interface SpanCounters {
  /** Valid SpanEvent messages applied. */
  applied: number;
  /** Of those, StartSpans: spans opened (each is exported once, ended or incomplete). */
  started: number;
  /** SpanEvent messages with bad ids or no event, skipped. */
  invalid: number;
  /** Name/attribute/link/end messages for a span that is not open (unknown or already exported). */
  unknownSpan: number;
  /** Spans exported without an EndSpan (age or count cap, shutdown, reset, dump), marked incomplete. */
  incomplete: number;
  /** Of those, evicted by the age limit or the count cap. */
  evicted: number;
  /** Of those, open spans whose ids a new StartSpan took (the earlier span is exported, incomplete). */
  replaced: number;
  /** Attributes, links or event attributes whose dictionary references did not resolve. */
  unresolved: number;
  /**
   * Span events over the per-span cap: not exported, counted in their span's
   * `droppedEventsCount` (which also holds what the writer dropped itself,
   * the EndSpan's extension, so this counts the file's records alone).
   */
  eventsOverCap: number;
}

/**
 * Shared, frozen empty event and link lists of new spans: most spans never
 * get either, so a span gets its own list only when the first one arrives.
 */
const NO_EVENTS = Object.freeze([]) as unknown as otlpTrace.Span_Event[];
const NO_LINKS = Object.freeze([]) as unknown as otlpTrace.Span_Link[];

/** StartSpan attribute positions whose last shared attribute is remembered (see ActiveSpans.cachedAttribute). */
const MEMO_POSITIONS = 32;
/** The longest encoded attribute (KeyValueRef) remembered there. */
const MEMO_BYTES = 64;

/** Attribute on a span exported without its EndSpan. */
export const INCOMPLETE_ATTRIBUTE = 'otlp_mmap.span.incomplete';

/**
 * One span of the table, open or ended. It is also what the release methods
 * return (it is a {@link FinishedSpan}), so releasing allocates nothing.
 */
interface TrackedSpan extends FinishedSpan, SpanTableEntry {
  readonly span: otlpTrace.Span;
  /** Collector clock when the span was started (for the age limit). */
  readonly openedAt: number;
  /** Latest timestamp known for the span (start or a span event). */
  lastTimeUnixNano: bigint;
  /** Read cycle in which the EndSpan was read (-1 while open). */
  endedAtTick: number;
  /** Collector clock when the EndSpan was read. */
  endedAt: number;
}

/**
 * The spans being reconstructed from the spans ring, keyed by (trace id,
 * span id). StartSpan opens a span; ChangeSpanName renames it;
 * UpdateAttributes appends attributes (a repeated key keeps the latest value);
 * AddLink accumulates links; EndSpan sets end time and status.
 *
 * An ended span is held back until the events ring has been read up to the
 * point where the span ended (see {@link release}), so span events written
 * just before EndSpan still reach it. Messages for a span that is not open
 * are counted and ignored (their StartSpan was consumed by an earlier
 * collector, or came from another writer process and is not visible yet).
 */
export class ActiveSpans {
  readonly counters: SpanCounters = {
    applied: 0,
    started: 0,
    invalid: 0,
    unknownSpan: 0,
    incomplete: 0,
    evicted: 0,
    replaced: 0,
    unresolved: 0,
    eventsOverCap: 0,
  };
  /**
   * Every span of the table by key, open or ended, in opening order (so the
   * oldest open spans come first). One table instead of one per state: an
   * EndSpan only marks its span, and a span costs two look-ups less.
   */
  private readonly spans = new SpanTable<TrackedSpan>();
  /** Ended spans waiting for late span events, in end order (what may be released is always a prefix). */
  private endedQueue: TrackedSpan[] = [];
  private endedHead = 0;
  private tick = 0;
  /**
   * Trace id of the last span started. Spans of one trace often start one
   * after another; the next one shares this array instead of keeping its
   * own copy (ids are never changed once decoded).
   */
  private lastTraceId: Uint8Array = new Uint8Array(0);
  /**
   * Per StartSpan attribute position: the encoded KeyValueRef of the last
   * shared attribute found there (`MEMO_BYTES` bytes per position; length
   * -1: none) and that attribute.
   */
  private readonly memoBytes = new Uint8Array(MEMO_POSITIONS * MEMO_BYTES);
  private readonly memoLengths = new Int32Array(MEMO_POSITIONS).fill(-1);
  private readonly memoShared: (otlpCommon.KeyValue | undefined)[] = new Array<otlpCommon.KeyValue | undefined>(MEMO_POSITIONS).fill(undefined);

  /** The trace id of the last span opened (see {@link open}): a new span of that trace may pass this very array. */
  get lastOpenedTraceId(): Uint8Array {
    return this.lastTraceId;
  }
  private readonly countUnresolved = (): void => {
    this.counters.unresolved++;
  };

  constructor(
    private dictionary: DictionaryView,
    private readonly limits: ActiveSpanLimits = DEFAULT_SPAN_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Open spans (not yet ended). */
  get openCount(): number {
    return this.spans.size - this.endedInTable;
  }
  /** Ended spans still in {@link spans} (an ended span whose ids were reused by a new span is not). */
  private endedInTable = 0;

  /** Ended spans waiting for late span events. */
  get endedCount(): number {
    return this.endedQueue.length - this.endedHead;
  }

  /** Switches to another file's dictionary (after a re-initialisation, once the table is emptied). */
  useDictionary(dictionary: DictionaryView): void {
    this.dictionary = dictionary;
    this.memoLengths.fill(-1);
  }

  /**
   * Applies one SpanEvent message. Its byte arrays (ids) are kept as they
   * are, not copied: the message must own them, as messages decoded by
   * `RingReader` (the pipeline's reader) do; views into a batch that is
   * reused would corrupt the kept ids.
   */
  apply(message: SpanEvent): void {
    const event = message.event;
    if (!event || !validIds(message.traceId, message.spanId)) {
      this.counters.invalid++;
      return;
    }
    if (event.$case === 'start') {
      const start = event.value;
      const attributes = this.resolveAttributes(start.attributes);
      this.open(
        message.scopeRef,
        message.traceId,
        message.spanId,
        start.parentSpanId,
        start.flags,
        start.name,
        start.kind,
        start.startTimeUnixNano,
        attributes,
        start.traceState,
      );
      return;
    }
    if (event.$case === 'end') {
      const e = event.value;
      this.end(message.traceId, 0, message.spanId, 0, e.endTimeUnixNano, e.status, e.droppedAttributesCount, e.droppedEventsCount, e.droppedLinksCount);
      return;
    }
    const open = this.openSpan(message.traceId, 0, message.spanId, 0);
    if (open === undefined) return;
    const span = open.span;
    switch (event.$case) {
      case 'name':
        span.name = event.value.name;
        break;
      case 'attributes':
        this.appendAttributes(span, event.value.attributes);
        break;
      case 'link':
        for (const link of event.value.links) {
          if (span.links.length >= this.limits.maxLinks) {
            span.droppedLinksCount++;
            continue;
          }
          let unresolved = 0;
          const attributes = this.dictionary.attributes(link.attributes, () => {
            unresolved++;
            this.counters.unresolved++;
          });
          if (span.links === NO_LINKS) span.links = [];
          span.links.push({
            traceId: link.traceId,
            spanId: link.spanId,
            traceState: link.traceState,
            attributes,
            // A uint32 in OTLP: a count from the file near 2^32 must not overflow it (the export would not encode).
            droppedAttributesCount: Math.min(0xffffffff, link.droppedAttributesCount + unresolved),
            flags: link.flags,
          });
        }
        break;
    }
  }

  /**
   * The open span with the ids at `t[ta, ta + 16)` and `s[sa, sa + 8)` a
   * message applies to, counted as applied; undefined (and counted) when
   * there is none.
   */
  private openSpan(t: Uint8Array, ta: number, s: Uint8Array, sa: number): TrackedSpan | undefined {
    const open = this.spans.getAt(t, ta, s, sa);
    if (!open || open.endedAtTick >= 0) {
      this.counters.unknownSpan++;
      return undefined;
    }
    this.counters.applied++;
    return open;
  }

  /** Resolves attributes for a span (counting those that do not resolve); the caller owns the array. */
  resolveAttributes(refs: readonly KeyValueRef[]): otlpCommon.KeyValue[] {
    return refs.length === 0 ? [] : this.dictionary.attributes(refs, this.countUnresolved);
  }

  /** Resolves one attribute for a span (counted when it does not resolve: then undefined). */
  resolveAttribute(kv: KeyValueRef): otlpCommon.KeyValue | undefined {
    const dictionary = this.dictionary;
    return dictionary.attribute !== undefined ? dictionary.attribute(kv, this.countUnresolved) : dictionary.attributes([kv], this.countUnresolved)[0];
  }

  /**
   * The shared attribute last found at `position` of a StartSpan (see
   * {@link cachedAttribute}) if it was encoded as `input[start, end)`. Spans
   * of one kind repeat their attributes position by position: equal bytes
   * are an equal key reference and value, found without decoding them. Looks
   * only (changes nothing).
   */
  sharedAttributeAt(input: Uint8Array, start: number, end: number, position: number): otlpCommon.KeyValue | undefined {
    const length = end - start;
    if (position >= MEMO_POSITIONS || this.memoLengths[position] !== length) return undefined;
    const memo = this.memoBytes;
    const base = position * MEMO_BYTES;
    for (let i = 0; i < length; i++) if (memo[base + i] !== input[start + i]) return undefined;
    return this.memoShared[position];
  }

  /**
   * The attribute the dictionary shares for this key and scalar value, if
   * it has one already (see `DictionaryView.cachedAttribute`): what
   * {@link resolveAttributes} would give for it. `position` is the
   * attribute's index in its StartSpan, `input[start, end)` its KeyValueRef
   * (remembered for {@link sharedAttributeAt}).
   */
  cachedAttribute(
    keyRef: bigint,
    value: string | boolean | bigint | number,
    position: number,
    input: Uint8Array,
    start: number,
    end: number,
  ): otlpCommon.KeyValue | undefined {
    const shared = this.dictionary.cachedAttribute?.(keyRef, value);
    const length = end - start;
    if (shared !== undefined && position < MEMO_POSITIONS && length <= MEMO_BYTES) {
      const memo = this.memoBytes;
      const base = position * MEMO_BYTES;
      for (let i = 0; i < length; i++) memo[base + i] = input[start + i];
      this.memoLengths[position] = length;
      this.memoShared[position] = shared;
    }
    return shared;
  }

  /**
   * Opens a span (a StartSpan). Its ids are valid (see `validIds`) and kept
   * as they are; `attributes` are resolved, and the span owns the array
   * from now on. `traceState` is the StartSpan's extension (FORMAT.md 8;
   * empty when absent).
   */
  open(
    scopeRef: bigint,
    traceId: Uint8Array,
    spanId: Uint8Array,
    parentSpanId: Uint8Array,
    flags: number,
    name: string,
    kind: number,
    startTimeUnixNano: bigint,
    attributes: otlpCommon.KeyValue[],
    traceState: string,
  ): void {
    if (sameId(traceId, this.lastTraceId)) traceId = this.lastTraceId;
    else this.lastTraceId = traceId;
    const span: otlpTrace.Span = {
      traceId,
      spanId,
      traceState,
      parentSpanId,
      flags,
      name,
      kind: kind as otlpTrace.Span_SpanKind,
      startTimeUnixNano,
      endTimeUnixNano: 0n,
      attributes: [],
      droppedAttributesCount: 0,
      events: NO_EVENTS,
      droppedEventsCount: 0,
      links: NO_LINKS,
      droppedLinksCount: 0,
      status: undefined,
    };
    if (attributes.length > 0) this.appendResolved(span, attributes);
    this.counters.applied++;
    this.counters.started++;
    // endedAt holds a clock reading from the start (meaningful once ended): a
    // field that began as a small integer would change its object layout when
    // the first span ends, and make V8 throw away code compiled for the old one.
    const now = this.now();
    const tracked: TrackedSpan = {
      scopeRef,
      span,
      openedAt: now,
      lastTimeUnixNano: startTimeUnixNano,
      endedAtTick: -1,
      endedAt: now,
      tableSlot: OUT,
      tableHash: 0,
      tableKey: '',
    };
    // The ids may be in the table already (a repeated StartSpan, or ids reused after an end): the new
    // span goes to the end, so the table stays in opening order. An ended span stays queued for
    // release; an open one is exported as it is, incomplete (with the evicted spans).
    const previous = this.spans.add(tracked);
    if (previous !== undefined) {
      if (previous.endedAtTick >= 0) this.endedInTable--;
      else {
        this.counters.replaced++;
        this.pendingEvictions.push(this.incomplete(previous));
      }
    }
    if (this.openCount > this.limits.maxActive) this.evictOldest();
  }

  /**
   * Ends the open span with the ids at `t[ta, ta + 16)` and `s[sa, sa + 8)`
   * (`t` and `s` may be one array): an EndSpan. The dropped counts are the
   * EndSpan's extensions (FORMAT.md 8: what the writer left out of the whole
   * span; 0 when absent), added to what this table dropped itself.
   */
  end(
    t: Uint8Array,
    ta: number,
    s: Uint8Array,
    sa: number,
    endTimeUnixNano: bigint,
    status: { readonly message: string; readonly code: number } | undefined,
    droppedAttributes: number,
    droppedEvents: number,
    droppedLinks: number,
  ): void {
    const open = this.openSpan(t, ta, s, sa);
    if (open === undefined) return;
    const span = open.span;
    span.endTimeUnixNano = endTimeUnixNano;
    if (status) span.status = { message: status.message, code: status.code as otlpTrace.Status_StatusCode };
    // uint32 in OTLP: a sum near 2^32 must not overflow it (the export would not encode).
    if (droppedAttributes !== 0) span.droppedAttributesCount = Math.min(0xffffffff, span.droppedAttributesCount + droppedAttributes);
    if (droppedEvents !== 0) span.droppedEventsCount = Math.min(0xffffffff, span.droppedEventsCount + droppedEvents);
    if (droppedLinks !== 0) span.droppedLinksCount = Math.min(0xffffffff, span.droppedLinksCount + droppedLinks);
    open.endedAtTick = this.tick;
    open.endedAt = this.now();
    this.endedInTable++;
    this.endedQueue.push(open);
  }

  /**
   * Attaches a span event to the open (or just ended) span it names.
   * Returns false when that span is not known here.
   */
  addEvent(traceId: Uint8Array, spanId: Uint8Array, event: otlpTrace.Span_Event): boolean {
    if (!validIds(traceId, spanId)) return false;
    const open = this.spans.getAt(traceId, 0, spanId, 0);
    if (!open) return false;
    if (open.span.events.length >= this.limits.maxEvents) {
      open.span.droppedEventsCount++;
      this.counters.eventsOverCap++;
    } else {
      if (open.span.events === NO_EVENTS) open.span.events = [];
      open.span.events.push(event);
    }
    if (event.timeUnixNano > open.lastTimeUnixNano) open.lastTimeUnixNano = event.timeUnixNano;
    return true;
  }

  /**
   * Ends a read cycle and returns the ended spans that may be exported:
   * those that ended in an earlier cycle when this cycle read the events ring
   * up to its end (`eventsCaughtUp`), so every span event written before their
   * EndSpan has been seen; and any that waited longer than the grace time.
   */
  release(eventsCaughtUp: boolean): FinishedSpan[] {
    const out: FinishedSpan[] = [];
    const now = this.now();
    // The queue is in end order (cycles and clock only grow), so what may go
    // is a prefix of it: stop at the first span that must still wait.
    while (this.endedHead < this.endedQueue.length) {
      const e = this.endedQueue[this.endedHead];
      const overCap = this.endedCount > this.limits.maxActive; // bounds memory when the events ring never catches up
      if (!((eventsCaughtUp && e.endedAtTick < this.tick) || now - e.endedAt >= this.limits.endGraceMs || overCap)) break;
      out.push(this.dequeueEnded());
    }
    this.compactEnded();
    this.tick++;
    this.evictCursor = undefined;
    this.spans.compact(); // no iterator of the table is in use between cycles
    return out;
  }

  /** Returns the ended spans that waited longer than the grace time, without ending the cycle. */
  releaseExpired(): FinishedSpan[] {
    const out: FinishedSpan[] = [];
    if (this.endedHead === this.endedQueue.length) return out;
    const now = this.now();
    while (this.endedHead < this.endedQueue.length && now - this.endedQueue[this.endedHead].endedAt >= this.limits.endGraceMs) {
      out.push(this.dequeueEnded());
    }
    this.compactEnded();
    return out;
  }

  /** Returns every ended span now (nothing more will be read). */
  releaseAll(): FinishedSpan[] {
    const out: FinishedSpan[] = this.endedQueue.slice(this.endedHead);
    this.clearEnded();
    return out;
  }

  /** Removes the first ended span from the queue (and from the table, unless a later span reused its ids). */
  private dequeueEnded(): TrackedSpan {
    const e = this.endedQueue[this.endedHead];
    this.endedQueue[this.endedHead++] = undefined as unknown as TrackedSpan; // do not keep it alive
    if (e.tableSlot !== OUT) {
      this.spans.remove(e);
      this.endedInTable--;
    }
    return e;
  }

  /** Drops the released prefix of the queue once it is large. */
  private compactEnded(): void {
    if (this.endedHead === this.endedQueue.length) {
      this.endedQueue = [];
      this.endedHead = 0;
    } else if (this.endedHead >= 1024 && this.endedHead * 2 >= this.endedQueue.length) {
      this.endedQueue = this.endedQueue.slice(this.endedHead);
      this.endedHead = 0;
    }
  }

  /** Empties the queue of ended spans and removes them from the table (open spans stay). */
  private clearEnded(): void {
    for (let i = this.endedHead; i < this.endedQueue.length; i++) {
      const e = this.endedQueue[i];
      this.spans.remove(e);
    }
    this.endedInTable = 0;
    this.endedQueue = [];
    this.endedHead = 0;
  }

  /** Evicts spans open longer than the age limit; they are returned marked incomplete. */
  collectGarbage(): FinishedSpan[] {
    const out: FinishedSpan[] = [];
    const oldest = this.now() - this.limits.maxAgeMs;
    for (const open of this.spans.values()) {
      if (open.openedAt > oldest) {
        // Insertion order = opening order (within each of the table's two parts: look at both then).
        if (!this.spans.hasOverflow) break;
        continue;
      }
      if (open.endedAtTick >= 0) continue; // ended: released by release(), not evicted
      this.spans.remove(open);
      this.counters.evicted++;
      out.push(this.incomplete(open));
    }
    return out;
  }

  /** Empties the table: ended spans as they are, open spans marked incomplete (and those not yet taken by {@link takeEvicted}). */
  takeAll(): FinishedSpan[] {
    const out: FinishedSpan[] = this.takeEvicted();
    for (let i = this.endedHead; i < this.endedQueue.length; i++) out.push(this.endedQueue[i]);
    for (const open of this.spans.values()) if (open.endedAtTick < 0) out.push(this.incomplete(open));
    this.endedInTable = 0;
    this.endedQueue = [];
    this.endedHead = 0;
    this.spans.clear();
    this.evictCursor = undefined;
    return out;
  }

  private pendingEvictions: FinishedSpan[] = [];

  /** Spans evicted by the count cap, or replaced by a span with their ids, since the last call. */
  takeEvicted(): FinishedSpan[] {
    const out = this.pendingEvictions;
    this.pendingEvictions = [];
    return out;
  }

  /**
   * Where the search for the oldest open span goes on from. Every span
   * before it in the table is ended (ended spans never reopen, and new spans
   * go to the end), so the ended spans ahead of the open ones are stepped
   * over once per read cycle, not at every eviction. Dropped at the end of
   * each cycle: an idle iterator could keep an outgrown table (and the spans
   * it held) alive.
   */
  private evictCursor: Iterator<TrackedSpan> | undefined;

  /**
   * Evicts the open span opened first (ended spans ahead of it in the table
   * wait for their release); spans kept in the table's overflow part (ids
   * whose hash another span has) come after all others.
   */
  private evictOldest(): void {
    // A finished iterator stays finished: start over once for spans added since.
    for (let pass = 0; pass < 2; pass++) {
      this.evictCursor ??= this.spans.values();
      for (let next = this.evictCursor.next(); !next.done; next = this.evictCursor.next()) {
        const open = next.value;
        if (open.endedAtTick >= 0) continue;
        this.spans.remove(open);
        this.counters.evicted++;
        this.pendingEvictions.push(this.incomplete(open));
        return;
      }
      this.evictCursor = undefined;
    }
  }

  private incomplete(open: TrackedSpan): FinishedSpan {
    const span = open.span;
    span.endTimeUnixNano = open.lastTimeUnixNano;
    span.attributes.push({ key: INCOMPLETE_ATTRIBUTE, value: { value: { $case: 'boolValue', value: true } }, keyStrindex: 0 });
    this.counters.incomplete++;
    return open;
  }

  private appendAttributes(span: otlpTrace.Span, refs: readonly KeyValueRef[]): void {
    if (refs.length === 0) return;
    this.appendResolved(span, this.dictionary.attributes(refs, this.countUnresolved));
  }

  /** Appends resolved attributes (the array may become the span's own). */
  private appendResolved(span: otlpTrace.Span, resolved: otlpCommon.KeyValue[]): void {
    if (span.attributes.length === 0 && resolved.length <= this.limits.maxAttributes && uniqueKeys(resolved)) {
      span.attributes = resolved; // the common StartSpan case: nothing to merge
      return;
    }
    mergeAttributes(span, resolved, this.limits.maxAttributes);
  }
}

/** Whether two 16-byte trace ids are equal. */
function sameId(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = a.length - 1; i >= 0; i--) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether no two attributes share a key. */
function uniqueKeys(attributes: readonly otlpCommon.KeyValue[]): boolean {
  for (let i = 1; i < attributes.length; i++) {
    const key = attributes[i].key;
    for (let j = 0; j < i; j++) if (attributes[j].key === key) return false;
  }
  return true;
}

/** Appends attributes; a key already present takes the new value in place. */
function mergeAttributes(span: otlpTrace.Span, added: otlpCommon.KeyValue[], max: number): void {
  const attributes = span.attributes;
  for (const kv of added) {
    let replaced = false;
    for (let i = 0; i < attributes.length; i++) {
      if (attributes[i].key === kv.key) {
        attributes[i] = kv;
        replaced = true;
        break;
      }
    }
    if (replaced) continue;
    if (attributes.length >= max) span.droppedAttributesCount++;
    else attributes.push(kv);
  }
}
