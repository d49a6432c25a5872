import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import test from 'ava';
import { FileReadBack, hex, startTestSdk } from './support/read-back.js';

test('emit writes an Event with time, severity, body, attributes and scope', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  sdk.loggerProvider.getLogger('app.logger', '3.1', { attributes: { component: 'db' } }).emit({
    timestamp: [1_700_000_000, 42],
    severityNumber: SeverityNumber.WARN,
    severityText: 'WARN',
    body: 'disk almost full',
    attributes: { 'disk.free': 0.05 },
  });
  const rb = new FileReadBack(path);
  const [e] = rb.events();
  t.is(e.timeUnixNano, 1_700_000_000_000_000_042n);
  t.is(e.severityNumber, 13);
  t.is(e.severityText, 'WARN');
  t.deepEqual(rb.value(e.body), 'disk almost full');
  t.deepEqual(rb.attrs(e.attributes), { 'disk.free': 0.05 });
  t.is(e.eventNameRef, 0n);
  t.is(e.spanContext, undefined);
  const scope = rb.scope(e.scopeRef);
  t.is(rb.string(scope.nameRef), 'app.logger');
  t.is(rb.string(scope.versionRef), '3.1');
  t.deepEqual(rb.attrs(scope.attributes), { component: 'db' });
  rb.close();
  await cleanup();
});

test('emit with an eventName writes event_name_ref', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  sdk.loggerProvider.getLogger('l').emit({ eventName: 'browser.page_view', body: { url: '/home' } });
  const rb = new FileReadBack(path);
  const [e] = rb.events();
  t.is(rb.string(e.eventNameRef), 'browser.page_view');
  t.deepEqual(rb.value(e.body), { url: '/home' });
  rb.close();
  await cleanup();
});

test('without a timestamp the observed timestamp is used', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  sdk.loggerProvider.getLogger('l').emit({ observedTimestamp: new Date(1_700_000_000_123), body: 'x' });
  const rb = new FileReadBack(path);
  t.is(rb.events()[0].timeUnixNano, 1_700_000_000_123_000_000n);
  rb.close();
  await cleanup();
});

test('without any timestamp the current time is used', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const before = BigInt(Date.now() - 5) * 1_000_000n;
  sdk.loggerProvider.getLogger('l').emit({ body: 'x' });
  const rb = new FileReadBack(path);
  const time = rb.events()[0].timeUnixNano;
  t.true(time >= before && time <= BigInt(Date.now() + 5) * 1_000_000n);
  rb.close();
  await cleanup();
});

for (const [name, body, expected] of [
  ['string', 'text', 'text'],
  ['integer', 7, 7n],
  ['double', 2.5, 2.5],
  ['boolean', true, true],
  ['bytes', new Uint8Array([1, 2]), Buffer.from([1, 2])],
  ['array', ['a', 1], ['a', 1n]],
  ['map', { a: { b: [true] } }, { a: { b: [true] } }],
] as const) {
  test(`emit with a ${name} body writes it as such`, async (t) => {
    const { sdk, path, cleanup } = startTestSdk();
    sdk.loggerProvider.getLogger('l').emit({ body: body as never });
    const rb = new FileReadBack(path);
    t.deepEqual(rb.value(rb.events()[0].body), expected);
    rb.close();
    await cleanup();
  });
}

test('the span context comes from the record context', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const span = sdk.tracerProvider.getTracer('t').startSpan('s');
  sdk.loggerProvider.getLogger('l').emit({ body: 'in span', context: trace.setSpan(ROOT_CONTEXT, span) });
  const rb = new FileReadBack(path);
  const [e] = rb.events();
  t.is(hex(e.spanContext!.traceId), span.spanContext().traceId);
  t.is(hex(e.spanContext!.spanId), span.spanContext().spanId);
  t.is(e.spanContext!.flags, 1);
  rb.close();
  await cleanup();
});

test('an exception on the record adds exception.* attributes', async (t) => {
  // Event slots of 4 KiB: the stack trace (ava's frames, under the checkout's
  // path) can exceed what the default 1 KiB slot holds.
  const { sdk, path, cleanup } = startTestSdk({ events: { slotSize: 4096 } });
  const err = new RangeError('out of range');
  sdk.loggerProvider.getLogger('l').emit({ body: 'failed', exception: err, attributes: { 'exception.type': 'Custom' } });
  const rb = new FileReadBack(path);
  t.deepEqual(rb.attrs(rb.events()[0].attributes), {
    'exception.type': 'Custom',
    'exception.message': 'out of range',
    'exception.stacktrace': err.stack!,
  });
  rb.close();
  await cleanup();
});

test('the log record attribute count limit applies', async (t) => {
  const { sdk, path, cleanup } = startTestSdk({ logRecordLimits: { attributeCountLimit: 1 } });
  sdk.loggerProvider.getLogger('l').emit({ body: 'x', attributes: { a: 1, b: 2 } });
  const rb = new FileReadBack(path);
  t.deepEqual(rb.attrs(rb.events()[0].attributes), { a: 1n });
  rb.close();
  await cleanup();
});

test('a log record whose body cannot fit a slot is dropped and counted', async (t) => {
  const { sdk, path, cleanup } = startTestSdk({ events: { slots: 8, slotSize: 256 } });
  sdk.loggerProvider.getLogger('l').emit({ body: 'x'.repeat(1000) });
  const rb = new FileReadBack(path);
  t.is(rb.events().length, 0);
  t.is(sdk.droppedCounts().events, 1);
  rb.close();
  await cleanup();
});
