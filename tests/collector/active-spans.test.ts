// ActiveSpans against an in-memory DictionaryView: the span life cycle rules.
import test from 'ava';
import type { AnyValue, KeyValueRef, SpanEvent } from '@otlp-mmap/protocol';
import { ActiveSpans, type ActiveSpanLimits } from '../../packages/collector/src/spans/active-spans.js';
import { spanDictionary } from './support/span-dictionary.js';

/** Strings are their reference number in decimal; reference 13 does not resolve. */
const dict = spanDictionary;

const T = new Uint8Array(16).fill(1);
const S = new Uint8Array(8).fill(2);
const int = (n: number): AnyValue => ({ value: { $case: 'intValue', value: BigInt(n) } });
const kv = (key: number, value: number): KeyValueRef => ({ keyRef: BigInt(key), value: int(value) });
const msg = (event: SpanEvent['event'], spanId = S): SpanEvent => ({ scopeRef: 9n, traceId: T, spanId, event });
const start = (attributes: KeyValueRef[] = [], spanId = S): SpanEvent =>
  msg({ $case: 'start', value: { parentSpanId: new Uint8Array(0), flags: 1, name: 'n', kind: 1, startTimeUnixNano: 10n, attributes, traceState: '' } }, spanId);
const end = (spanId = S): SpanEvent =>
  msg({ $case: 'end', value: { endTimeUnixNano: 20n, status: undefined, droppedAttributesCount: 0, droppedEventsCount: 0, droppedLinksCount: 0 } }, spanId);

function table(limits: Partial<ActiveSpanLimits> = {}, now = { t: 0 }): ActiveSpans {
  return new ActiveSpans(dict, { maxAgeMs: 1000, maxActive: 10, maxAttributes: 4, maxEvents: 2, maxLinks: 2, endGraceMs: 500, ...limits }, () => now.t);
}

test('UpdateAttributes appends, and a repeated key keeps the latest value in its first position', (t) => {
  const spans = table();
  spans.apply(start([kv(1, 1), kv(2, 2)]));
  spans.apply(msg({ $case: 'attributes', value: { attributes: [kv(3, 3), kv(1, 10)] } }));
  spans.apply(end());
  spans.release(true);
  const [done] = spans.release(true);
  t.deepEqual(
    done.span.attributes.map((a) => [a.key, a.value?.value?.value]),
    [
      ['k1', 10n],
      ['k2', 2n],
      ['k3', 3n],
    ],
  );
});

test('an ended span waits one read cycle for late span events, then is released', (t) => {
  const spans = table();
  spans.apply(start());
  spans.apply(end());
  t.deepEqual(spans.release(true), [], 'not in the cycle it ended');
  t.true(spans.addEvent(T, S, { timeUnixNano: 15n, name: 'late', attributes: [], droppedAttributesCount: 0 }));
  const released = spans.release(true);
  t.is(released.length, 1);
  t.deepEqual(
    released[0].span.events.map((e) => e.name),
    ['late'],
  );
});

test('an ended span is not released while the events ring lags, until the grace time passes', (t) => {
  const now = { t: 0 };
  const spans = table({}, now);
  spans.apply(start());
  spans.apply(end());
  spans.release(false);
  t.deepEqual(spans.release(false), []);
  now.t = 600;
  t.is(spans.releaseExpired().length, 1);
});

test('limits: attributes, events and links beyond the caps are counted as dropped on the span', (t) => {
  const spans = table();
  spans.apply(start([kv(1, 1), kv(2, 2), kv(3, 3), kv(4, 4), kv(5, 5)]));
  for (let i = 0; i < 3; i++) spans.addEvent(T, S, { timeUnixNano: 1n, name: `e${i}`, attributes: [], droppedAttributesCount: 0 });
  const link = { traceId: T, spanId: S, traceState: '', attributes: [], droppedAttributesCount: 0, flags: 0 };
  spans.apply(msg({ $case: 'link', value: { links: [link, link, link] } }));
  const [span] = spans.takeAll();
  t.is(span.span.attributes.length, 4 + 1, 'four kept plus the incomplete marker');
  t.is(span.span.droppedAttributesCount, 1);
  t.is(span.span.droppedEventsCount, 1);
  t.is(span.span.droppedLinksCount, 1);
});

test('messages for a span that is not open, and messages with bad ids, are counted and ignored', (t) => {
  const spans = table();
  spans.apply(msg({ $case: 'name', value: { name: 'x' } }));
  spans.apply(end());
  spans.apply({ scopeRef: 0n, traceId: new Uint8Array(3), spanId: S, event: { $case: 'name', value: { name: 'x' } } });
  spans.apply({ scopeRef: 0n, traceId: T, spanId: S, event: undefined });
  t.is(spans.counters.unknownSpan, 2);
  t.is(spans.counters.invalid, 2);
  t.is(spans.openCount, 0);
});

test('an attribute whose key does not resolve is left out and counted', (t) => {
  const spans = table();
  spans.apply(start([kv(13, 1), kv(1, 1)]));
  t.is(spans.counters.unresolved, 1);
  t.deepEqual(
    spans.takeAll()[0].span.attributes.map((a) => a.key),
    ['k1', 'otlp_mmap.span.incomplete'],
  );
});

test('the age limit evicts open spans as incomplete with the latest known time as end time', (t) => {
  const now = { t: 0 };
  const spans = table({ maxAgeMs: 100 }, now);
  spans.apply(start());
  spans.addEvent(T, S, { timeUnixNano: 15n, name: 'e', attributes: [], droppedAttributesCount: 0 });
  now.t = 50;
  spans.apply(start([], new Uint8Array(8).fill(3)));
  now.t = 120;
  const evicted = spans.collectGarbage();
  t.is(evicted.length, 1);
  t.is(evicted[0].span.endTimeUnixNano, 15n);
  t.is(spans.counters.evicted, 1);
  t.is(spans.openCount, 1);
});

test('spans started one after another keep the trace id each was started with', (t) => {
  const spans = table();
  const other = new Uint8Array(16).fill(7);
  const ids = [1, 2, 3, 4].map((n) => new Uint8Array(8).fill(10 + n));
  const traces = [T, T.slice(), other, T.slice()];
  for (let i = 0; i < 4; i++) {
    spans.apply({ ...start([], ids[i]), traceId: traces[i] });
    spans.apply({ ...end(ids[i]), traceId: traces[i] });
  }
  spans.release(true);
  const done = spans.release(true);
  t.deepEqual(
    done.map((d) => [Buffer.from(d.span.traceId).toString('hex'), Buffer.from(d.span.spanId).toString('hex')]),
    traces.map((trace, i) => [Buffer.from(trace).toString('hex'), Buffer.from(ids[i]).toString('hex')]),
  );
});

const id = (n: number) => new Uint8Array(8).fill(n);

test('the count cap evicts the oldest open span, never an ended span waiting for release', (t) => {
  const spans = table({ maxActive: 2 });
  spans.apply(start([], id(1)));
  spans.apply(end(id(1)));
  for (const n of [2, 3, 4]) spans.apply(start([], id(n)));
  t.deepEqual(
    spans.takeEvicted().map((e) => e.span.spanId[0]),
    [2],
  );
  t.is(spans.openCount, 2);
  spans.release(true);
  const released = spans.release(true);
  t.deepEqual(
    released.map((e) => [e.span.spanId[0], e.span.endTimeUnixNano]),
    [[1, 20n]],
  );
  t.deepEqual(
    spans.takeAll().map((e) => e.span.spanId[0]),
    [3, 4],
  );
});

test('under the count cap, spans are evicted oldest open first however starts, ends and evictions interleave', (t) => {
  const spans = table({ maxActive: 3 });
  const evicted: number[] = [];
  const startAndCollect = (n: number): void => {
    spans.apply(start([], id(n)));
    evicted.push(...spans.takeEvicted().map((e) => e.span.spanId[0]));
  };
  for (const n of [1, 2, 3, 4]) startAndCollect(n); // 4 evicts 1
  spans.apply(end(id(3)));
  for (const n of [5, 6]) startAndCollect(n); // 5 fits (3 has ended), 6 evicts 2
  spans.apply(end(id(5)));
  spans.release(true);
  spans.release(true); // 3 and 5 leave the table
  for (const n of [7, 8, 9]) startAndCollect(n); // 7 fits, 8 evicts 4, 9 evicts 6
  t.deepEqual(evicted, [1, 2, 4, 6]);
  t.deepEqual(
    spans.takeAll().map((e) => e.span.spanId[0]),
    [7, 8, 9],
  );
});

test('the age limit evicts open spans only: an ended span opened as long ago is released as ended', (t) => {
  const now = { t: 0 };
  const spans = table({ maxAgeMs: 100 }, now);
  spans.apply(start([], id(1)));
  spans.apply(end(id(1)));
  spans.apply(start([], id(2)));
  now.t = 200;
  t.deepEqual(
    spans.collectGarbage().map((e) => e.span.spanId[0]),
    [2],
  );
  t.is(spans.openCount, 0);
  t.deepEqual(
    [...spans.release(true), ...spans.release(true)].map((e) => [e.span.spanId[0], e.span.endTimeUnixNano]),
    [[1, 20n]],
  );
});

test('ids started again before the ended span is released: both spans are exported, later messages go to the new one', (t) => {
  const spans = table();
  spans.apply(start());
  spans.apply(end());
  spans.apply(
    msg({
      $case: 'start',
      value: { parentSpanId: new Uint8Array(0), flags: 1, name: 'again', kind: 1, startTimeUnixNano: 30n, attributes: [], traceState: '' },
    }),
  );
  t.is(spans.openCount, 1);
  t.true(spans.addEvent(T, S, { timeUnixNano: 35n, name: 'late', attributes: [], droppedAttributesCount: 0 }));
  spans.release(true);
  const [first] = spans.release(true);
  t.deepEqual([first.span.name, first.span.events.length], ['n', 0]);
  t.is(spans.openCount, 1, 'releasing the first span leaves the second open');
  spans.apply(end());
  spans.release(true);
  const [second] = spans.release(true);
  t.deepEqual([second.span.name, second.span.endTimeUnixNano, second.span.events.map((e) => e.name)], ['again', 20n, ['late']]);
  t.is(spans.openCount, 0);
  t.is(spans.endedCount, 0);
});

test('ids started again while the span is open: the earlier span is exported incomplete and counted, not lost', (t) => {
  const spans = table();
  spans.apply(start([kv(1, 1)]));
  t.true(spans.addEvent(T, S, { timeUnixNano: 15n, name: 'first-event', attributes: [], droppedAttributesCount: 0 }));
  spans.apply(
    msg({
      $case: 'start',
      value: { parentSpanId: new Uint8Array(0), flags: 1, name: 'again', kind: 1, startTimeUnixNano: 30n, attributes: [], traceState: '' },
    }),
  );
  t.is(spans.openCount, 1);
  t.is(spans.counters.replaced, 1);
  const [earlier, ...more] = spans.takeEvicted();
  t.deepEqual(more, []);
  t.is(earlier.span.name, 'n');
  t.deepEqual(
    earlier.span.events.map((e) => e.name),
    ['first-event'],
  );
  t.true(earlier.span.attributes.some((a) => a.key === 'otlp_mmap.span.incomplete'));
  t.is(earlier.span.endTimeUnixNano, 15n, 'ends at the latest time known for it');
  spans.apply(end());
  spans.release(true);
  t.deepEqual(
    spans.release(true).map((f) => f.span.name),
    ['again'],
  );
});

test('a span replaced just before everything is taken is in what takeAll returns', (t) => {
  const spans = table();
  spans.apply(start());
  spans.apply(start());
  t.deepEqual(
    spans.takeAll().map((f) => f.span.startTimeUnixNano),
    [10n, 10n],
  );
  t.is(spans.counters.replaced, 1);
});
