import test from 'ava';
import { FileReadBack, startTestSdk } from './support/read-back.js';

const SMALL_SPANS = { spans: { slots: 64, slotSize: 256 } };

function manyAttributes(n: number): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (let i = 0; i < n; i++) attrs[`attribute.number.${i}`] = `value-${i}-`.padEnd(24, 'x');
  return attrs;
}

test('a span start larger than a slot arrives whole: the rest follows as UpdateAttributes', async (t) => {
  const { sdk, path, cleanup } = startTestSdk(SMALL_SPANS);
  const attrs = manyAttributes(30);
  sdk.tracerProvider.getTracer('t').startSpan('big', { attributes: attrs });
  const rb = new FileReadBack(path);
  const events = rb.spans();
  t.is(events[0].event?.$case, 'start');
  t.true(events.length > 2, `${events.length} messages`);
  t.true(events.slice(1).every((e) => e.event?.$case === 'attributes'));
  const received: Record<string, unknown> = {};
  for (const e of events) {
    if (e.event?.$case === 'start' || e.event?.$case === 'attributes') Object.assign(received, rb.attrs(e.event.value.attributes));
  }
  t.deepEqual(received, attrs);
  t.is(sdk.droppedCounts().spans, 0);
  rb.close();
  await cleanup();
});

test('setAttributes larger than a slot is split over several UpdateAttributes', async (t) => {
  const { sdk, path, cleanup } = startTestSdk(SMALL_SPANS);
  const attrs = manyAttributes(20);
  sdk.tracerProvider.getTracer('t').startSpan('s').setAttributes(attrs);
  const rb = new FileReadBack(path);
  const updates = rb.spans().filter((e) => e.event?.$case === 'attributes');
  t.true(updates.length > 1);
  const received: Record<string, unknown> = {};
  for (const e of updates) if (e.event?.$case === 'attributes') Object.assign(received, rb.attrs(e.event.value.attributes));
  t.deepEqual(received, attrs);
  rb.close();
  await cleanup();
});

test('an attribute too large for any slot is dropped and counted; the others arrive', async (t) => {
  const { sdk, path, cleanup } = startTestSdk(SMALL_SPANS);
  sdk.tracerProvider
    .getTracer('t')
    .startSpan('s', { attributes: { before: 1, huge: 'x'.repeat(10_000), after: 2 } })
    .end();
  const rb = new FileReadBack(path);
  const events = rb.spans();
  const received: Record<string, unknown> = {};
  for (const e of events) {
    if (e.event?.$case === 'start' || e.event?.$case === 'attributes') Object.assign(received, rb.attrs(e.event.value.attributes));
  }
  t.deepEqual(received, { before: 1n, after: 2n });
  t.is(events.at(-1)?.event?.$case, 'end');
  t.is(sdk.droppedCounts().attributes, 1);
  rb.close();
  await cleanup();
});

test('a span name longer than a slot is truncated, not lost', async (t) => {
  const { sdk, path, cleanup } = startTestSdk(SMALL_SPANS);
  sdk.tracerProvider.getTracer('t').startSpan('n'.repeat(5000)).end();
  const rb = new FileReadBack(path);
  const [start, end] = rb.spans();
  if (start.event?.$case !== 'start') return t.fail();
  t.true(start.event.value.name.length > 0 && start.event.value.name.length < 256);
  t.is(end.event?.$case, 'end');
  rb.close();
  await cleanup();
});
