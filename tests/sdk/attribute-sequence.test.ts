/**
 * Attributes of every scalar kind written side by side, each followed by
 * another field of the same message: a wrong length in one attribute's
 * encoding would swallow or shift what follows it (the measurement's time,
 * the next attribute), so each signal is read back whole.
 */
import test from 'ava';
import { FileReadBack, startTestSdk } from './support/read-back.js';

const mixed = { d: 0.5, c: true, i: 7, s: 'text', big: 2 ** 60, neg: -1.25, last: false };
const expected = { d: 0.5, c: true, i: 7n, s: 'text', big: 2 ** 60, neg: -1.25, last: false };

test('a measurement with mixed attribute kinds reads back with every attribute and its time intact', async (t) => {
  const { sdk, path, cleanup } = startTestSdk({ registerGlobals: false });
  t.teardown(cleanup);
  sdk.meterProvider.getMeter('m').createCounter('c').add(3, mixed);
  const rb = new FileReadBack(path);
  t.teardown(() => rb.close());
  const [m] = rb.measurements();
  t.deepEqual(rb.attrs(m!.attributes), expected);
  t.true(m!.timeUnixNano > 1_600_000_000_000_000_000n, 'the time field after the attributes is intact');
  t.deepEqual(m!.value, { $case: 'asDouble', value: 3 });
});

test('a span start with mixed attribute kinds reads back with every attribute and its name intact', async (t) => {
  const { sdk, path, cleanup } = startTestSdk({ registerGlobals: false });
  t.teardown(cleanup);
  sdk.tracerProvider.getTracer('t').startSpan('mixed', { attributes: mixed }).end();
  const rb = new FileReadBack(path);
  t.teardown(() => rb.close());
  const start = rb.spans().find((e) => e.event?.$case === 'start');
  t.truthy(start);
  if (start?.event?.$case !== 'start') return;
  t.is(start.event.value.name, 'mixed');
  t.deepEqual(rb.attrs(start.event.value.attributes), expected);
});

test('a log record with mixed attribute kinds reads back with every attribute and its body intact', async (t) => {
  const { sdk, path, cleanup } = startTestSdk({ registerGlobals: false });
  t.teardown(cleanup);
  sdk.loggerProvider.getLogger('l').emit({ body: 'b', attributes: mixed });
  const rb = new FileReadBack(path);
  t.teardown(() => rb.close());
  const [e] = rb.events();
  t.deepEqual(rb.attrs(e!.attributes), expected);
  t.is(rb.value(e!.body), 'b');
});
