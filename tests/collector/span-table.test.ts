// Spans whose ids hash alike in the span table (a 30-bit hash of the ids) are
// still told apart: each is found, ended, replaced, evicted and released as
// its own span.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import type { SpanEvent } from '@otlp-mmap/protocol';
import { ActiveSpans } from '../../packages/collector/src/spans/active-spans.js';
import { idHashAt, OUT, SpanTable, type SpanTableEntry } from '../../packages/collector/src/spans/span-table.js';
import { spanDictionary } from './support/span-dictionary.js';

const TRACE = new Uint8Array(16).fill(7);

/** Two different span ids of TRACE whose (trace, span) ids hash alike. */
function collidingSpanIds(): [Uint8Array, Uint8Array] {
  const seen = new Map<number, Uint8Array>();
  for (;;) {
    const id = new Uint8Array(randomBytes(8));
    const hash = idHashAt(TRACE, 0, id, 0);
    const other = seen.get(hash);
    if (other !== undefined && Buffer.compare(other, id) !== 0) return [other, id];
    seen.set(hash, id);
  }
}

const start = (spanId: Uint8Array, name: string): SpanEvent => ({
  scopeRef: 1n,
  traceId: TRACE,
  spanId,
  event: { $case: 'start', value: { parentSpanId: new Uint8Array(0), flags: 1, name, kind: 1, startTimeUnixNano: 10n, attributes: [], traceState: '' } },
});
const end = (spanId: Uint8Array, time: bigint): SpanEvent => ({
  scopeRef: 1n,
  traceId: TRACE,
  spanId,
  event: { $case: 'end', value: { endTimeUnixNano: time, status: undefined, droppedAttributesCount: 0, droppedEventsCount: 0, droppedLinksCount: 0 } },
});

function table(now = { t: 0 }): ActiveSpans {
  return new ActiveSpans(spanDictionary, { maxAgeMs: 1000, maxActive: 10, maxAttributes: 4, maxEvents: 2, maxLinks: 2, endGraceMs: 0 }, () => now.t);
}

/** Name and end time of each span released now (no grace time: every ended span). */
function released(spans: ActiveSpans): [string, bigint][] {
  return spans.release(true).map((f) => [f.span.name, f.span.endTimeUnixNano]);
}

test('two spans whose ids hash alike are both kept and each ends with its own EndSpan', (t) => {
  const [a, b] = collidingSpanIds();
  const spans = table();
  spans.apply(start(a, 'a'));
  spans.apply(start(b, 'b'));
  t.is(spans.openCount, 2);
  spans.apply(end(b, 30n));
  spans.apply(end(a, 20n));
  t.deepEqual(released(spans).sort(), [
    ['a', 20n],
    ['b', 30n],
  ]);
  t.is(spans.counters.unknownSpan, 0);
  t.is(spans.openCount, 0);
});

test('a span kept apart for its hash is still found after the span holding the hash is gone', (t) => {
  const [a, b] = collidingSpanIds();
  const spans = table();
  spans.apply(start(a, 'a'));
  spans.apply(start(b, 'b'));
  spans.apply(end(a, 20n));
  t.deepEqual(released(spans), [['a', 20n]]);
  spans.apply(end(b, 30n));
  t.deepEqual(released(spans), [['b', 30n]]);
});

test('a repeated StartSpan of a span kept apart replaces it, wherever the new one is kept', (t) => {
  const [a, b] = collidingSpanIds();
  const spans = table();
  spans.apply(start(a, 'a'));
  spans.apply(start(b, 'b1'));
  spans.apply(end(a, 20n));
  t.deepEqual(released(spans), [['a', 20n]]); // a is gone: b's hash is free again
  spans.apply(start(b, 'b2'));
  t.is(spans.openCount, 1, 'the first b is dropped, not kept beside the second');
  spans.apply(end(b, 30n));
  t.deepEqual(released(spans), [['b2', 30n]]);
  t.is(spans.openCount, 0);
});

test('the age limit evicts a span kept apart even behind younger spans', (t) => {
  const [a, b] = collidingSpanIds();
  const now = { t: 0 };
  const spans = table(now);
  spans.apply(start(a, 'a'));
  spans.apply(start(b, 'b'));
  now.t = 600;
  spans.apply(start(new Uint8Array(8).fill(1), 'young'));
  spans.apply(end(a, 20n));
  now.t = 1500;
  const evicted = spans.collectGarbage().map((f) => f.span.name);
  t.deepEqual(evicted, ['b']);
  t.is(spans.counters.evicted, 1);
});

/** A table entry for span id `n` of TRACE. */
function entry(n: number): SpanTableEntry & { n: number } {
  const spanId = new Uint8Array(8);
  new DataView(spanId.buffer).setUint32(0, n);
  return { n, span: { traceId: TRACE, spanId }, tableSlot: OUT, tableHash: 0, tableKey: '' };
}

test('the table rebuilt after many additions keeps its entries, their order and their look-ups', (t) => {
  const spans = new SpanTable<ReturnType<typeof entry>>();
  const all = Array.from({ length: 10_000 }, (_, n) => entry(n));
  for (const e of all) spans.add(e);
  // Most come and go, as ended spans do; every tenth stays.
  for (const e of all) if (e.n % 10 !== 0) spans.remove(e);
  spans.compact();
  const kept = all.filter((e) => e.n % 10 === 0);
  t.deepEqual(
    [...spans.values()].map((e) => e.n),
    kept.map((e) => e.n),
  );
  t.is(spans.size, kept.length);
  for (const e of kept) t.is(spans.getAt(TRACE, 0, e.span.spanId, 0), e);
  t.is(spans.getAt(TRACE, 0, all[1].span.spanId, 0), undefined);
  // Removals and additions after the rebuild act on the rebuilt table.
  spans.remove(kept[0]);
  spans.add(all[1]);
  t.is(spans.getAt(TRACE, 0, kept[0].span.spanId, 0), undefined);
  t.deepEqual(
    [...spans.values()].map((e) => e.n),
    [...kept.slice(1).map((e) => e.n), 1],
  );
});

test('the oldest open span is still the one evicted after many release cycles', (t) => {
  const spans = table();
  const ids = Array.from({ length: 5000 }, () => new Uint8Array(randomBytes(8)));
  const first = ids[0];
  spans.apply(start(first, 'first-open'));
  // Thousands of spans start and end around it, a release cycle each (the table is rebuilt meanwhile).
  for (const id of ids.slice(1)) {
    spans.apply(start(id, 'short'));
    spans.apply(end(id, 20n));
    spans.release(true);
  }
  // Over the cap of 10 open spans: the first one opened goes.
  for (const id of Array.from({ length: 10 }, () => new Uint8Array(randomBytes(8)))) spans.apply(start(id, 'later'));
  t.deepEqual(
    spans.takeEvicted().map((f) => f.span.name),
    ['first-open'],
  );
});
