import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import { BinaryReader, StatusCode, SpanKind as WireSpanKind, type SpanEvent } from '@otlp-mmap/protocol';
import { AlwaysOffSampler, AlwaysOnSampler, SamplingDecision, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { TraceState } from '@opentelemetry/core';
import test from 'ava';
import { FileReadBack, hex, splitMessages, startTestSdk } from './support/read-back.js';

function only<T>(items: T[], what: string): T {
  if (items.length !== 1) throw new Error(`expected one ${what}, got ${items.length}`);
  return items[0];
}

function caseOf(e: SpanEvent): string | undefined {
  return e.event?.$case;
}

test('a started span writes StartSpan with name, kind, start time, flags and attributes', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const span = sdk.tracerProvider.getTracer('spans-test', '1.2.3').startSpan('GET /users', {
    kind: SpanKind.SERVER,
    startTime: [1_700_000_000, 123_456_789],
    attributes: { 'http.method': 'GET', 'http.status_code': 200 },
  });
  const rb = new FileReadBack(path);
  const ev = only(rb.spans(), 'span event');
  t.is(caseOf(ev), 'start');
  if (ev.event?.$case !== 'start') return;
  const start = ev.event.value;
  t.is(start.name, 'GET /users');
  t.is(start.kind, WireSpanKind.SPAN_KIND_SERVER);
  t.is(start.startTimeUnixNano, 1_700_000_000_123_456_789n);
  t.is(start.flags, 0x101); // sampled, has-is-remote, not remote
  t.is(start.parentSpanId.length, 0);
  t.deepEqual(rb.attrs(start.attributes), { 'http.method': 'GET', 'http.status_code': 200n });
  t.is(hex(ev.traceId), span.spanContext().traceId);
  t.is(hex(ev.spanId), span.spanContext().spanId);
  const scope = rb.scope(ev.scopeRef);
  t.is(rb.string(scope.nameRef), 'spans-test');
  t.is(rb.string(scope.versionRef), '1.2.3');
  rb.close();
  await cleanup();
});

test('a child span carries its parent span id and trace id', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const tracer = sdk.tracerProvider.getTracer('t');
  const parent = tracer.startSpan('parent');
  const child = tracer.startSpan('child', {}, trace.setSpan(ROOT_CONTEXT, parent));
  const rb = new FileReadBack(path);
  const [, c] = rb.spans();
  if (c.event?.$case !== 'start') return t.fail();
  t.is(hex(c.traceId), parent.spanContext().traceId);
  t.is(hex(c.event.value.parentSpanId), parent.spanContext().spanId);
  t.is(child.spanContext().traceId, parent.spanContext().traceId);
  rb.close();
  await cleanup();
});

test('a remote parent sets the is-remote flag bits', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const remote = trace.wrapSpanContext({
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
  });
  sdk.tracerProvider.getTracer('t').startSpan('child', {}, trace.setSpan(ROOT_CONTEXT, remote));
  const rb = new FileReadBack(path);
  const ev = only(rb.spans(), 'span event');
  if (ev.event?.$case !== 'start') return t.fail();
  t.is(hex(ev.traceId), '0af7651916cd43dd8448eb211c80319c');
  t.is(hex(ev.event.value.parentSpanId), 'b7ad6b7169203331');
  t.is(ev.event.value.flags, 0x301);
  rb.close();
  await cleanup();
});

test('setAttribute and setAttributes write UpdateAttributes', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const span = sdk.tracerProvider.getTracer('t').startSpan('s');
  span.setAttribute('one', 1);
  span.setAttributes({ two: 'zwei', three: [true, false] });
  const rb = new FileReadBack(path);
  const [, a, b] = rb.spans();
  if (a.event?.$case !== 'attributes' || b.event?.$case !== 'attributes') return t.fail();
  t.deepEqual(rb.attrs(a.event.value.attributes), { one: 1n });
  t.deepEqual(rb.attrs(b.event.value.attributes), { two: 'zwei', three: [true, false] });
  t.is(hex(a.spanId), span.spanContext().spanId);
  rb.close();
  await cleanup();
});

test('updateName writes ChangeSpanName', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  sdk.tracerProvider.getTracer('t').startSpan('GET').updateName('GET /orders/:id');
  const rb = new FileReadBack(path);
  const [, n] = rb.spans();
  t.deepEqual(n.event, { $case: 'name', value: { name: 'GET /orders/:id' } });
  rb.close();
  await cleanup();
});

test('links given at start and added later are written as AddLink', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const ctxA = {
    traceId: '11111111111111111111111111111111',
    spanId: '2222222222222222',
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: new TraceState('k=v'),
  };
  const ctxB = { traceId: '33333333333333333333333333333333', spanId: '4444444444444444', traceFlags: TraceFlags.NONE };
  const span = sdk.tracerProvider.getTracer('t').startSpan('s', { links: [{ context: ctxA, attributes: { why: 'batch' } }] });
  span.addLink({ context: ctxB });
  const rb = new FileReadBack(path);
  const events = rb.spans();
  t.deepEqual(events.map(caseOf), ['start', 'link', 'link']);
  if (events[1].event?.$case !== 'link' || events[2].event?.$case !== 'link') return t.fail();
  const a = only(events[1].event.value.links, 'link');
  t.is(hex(a.traceId), ctxA.traceId);
  t.is(hex(a.spanId), ctxA.spanId);
  t.is(a.traceState, 'k=v');
  t.is(a.flags, 0x301);
  t.deepEqual(rb.attrs(a.attributes), { why: 'batch' });
  const b = only(events[2].event.value.links, 'link');
  t.is(hex(b.spanId), ctxB.spanId);
  t.is(b.flags, 0x100);
  rb.close();
  await cleanup();
});

test('addEvent writes an Event with the span context and the event name', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const span = sdk.tracerProvider.getTracer('t').startSpan('s');
  span.addEvent('cache.miss', { key: 'user:1' }, [1_700_000_001, 5]);
  const rb = new FileReadBack(path);
  const ev = only(rb.events(), 'event');
  t.is(rb.string(ev.eventNameRef), 'cache.miss');
  t.is(ev.timeUnixNano, 1_700_000_001_000_000_005n);
  t.is(hex(ev.spanContext!.traceId), span.spanContext().traceId);
  t.is(hex(ev.spanContext!.spanId), span.spanContext().spanId);
  t.is(ev.spanContext!.flags, 1);
  t.deepEqual(rb.attrs(ev.attributes), { key: 'user:1' });
  rb.close();
  await cleanup();
});

test('recordException writes an "exception" event with type, message and stacktrace', async (t) => {
  // Event slots of 4 KiB: the stack trace (ava's frames, under the checkout's
  // path) can exceed what the default 1 KiB slot holds.
  const { sdk, path, cleanup } = startTestSdk({ events: { slotSize: 4096 } });
  const span = sdk.tracerProvider.getTracer('t').startSpan('s');
  const err = new TypeError('bad input');
  span.recordException(err);
  const rb = new FileReadBack(path);
  const ev = only(rb.events(), 'event');
  t.is(rb.string(ev.eventNameRef), 'exception');
  t.deepEqual(rb.attrs(ev.attributes), {
    'exception.type': 'TypeError',
    'exception.message': 'bad input',
    'exception.stacktrace': err.stack!,
  });
  rb.close();
  await cleanup();
});

test('end writes EndSpan with the end time and the status', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const span = sdk.tracerProvider.getTracer('t').startSpan('s', { startTime: [1_700_000_000, 0] });
  span.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream timed out' });
  span.end([1_700_000_002, 999_999_999]);
  const rb = new FileReadBack(path);
  const [, end] = rb.spans();
  t.deepEqual(end.event, {
    $case: 'end',
    value: {
      endTimeUnixNano: 1_700_000_002_999_999_999n,
      status: { message: 'upstream timed out', code: StatusCode.STATUS_CODE_ERROR },
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    },
  });
  rb.close();
  await cleanup();
});

test('a span with unset status ends without a status', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  sdk.tracerProvider.getTracer('t').startSpan('s').end();
  const rb = new FileReadBack(path);
  const [, end] = rb.spans();
  if (end.event?.$case !== 'end') return t.fail();
  t.is(end.event.value.status, undefined);
  rb.close();
  await cleanup();
});

test('OK status is final: a later ERROR does not replace it', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const span = sdk.tracerProvider.getTracer('t').startSpan('s');
  span.setStatus({ code: SpanStatusCode.OK });
  span.setStatus({ code: SpanStatusCode.ERROR, message: 'late' });
  span.end();
  const rb = new FileReadBack(path);
  const [, end] = rb.spans();
  if (end.event?.$case !== 'end') return t.fail();
  t.deepEqual(end.event.value.status, { message: '', code: StatusCode.STATUS_CODE_OK });
  rb.close();
  await cleanup();
});

test('a span ends only once: later end and updates write nothing', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const span = sdk.tracerProvider.getTracer('t').startSpan('s');
  t.true(span.isRecording());
  span.end();
  t.false(span.isRecording());
  span.end();
  span.setAttribute('late', 1);
  span.updateName('late');
  span.addEvent('late');
  const rb = new FileReadBack(path);
  t.deepEqual(rb.spans().map(caseOf), ['start', 'end']);
  t.is(rb.events().length, 0);
  rb.close();
  await cleanup();
});

test('an end time before the start time is clamped to the start time', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const span = sdk.tracerProvider.getTracer('t').startSpan('s', { startTime: [1_700_000_010, 0] });
  span.end([1_700_000_000, 0]);
  const rb = new FileReadBack(path);
  const [, end] = rb.spans();
  if (end.event?.$case !== 'end') return t.fail();
  t.is(end.event.value.endTimeUnixNano, 1_700_000_010_000_000_000n);
  rb.close();
  await cleanup();
});

test('a span started without a time gets the current time to the nanosecond scale', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const before = BigInt(Date.now() - 5) * 1_000_000n;
  sdk.tracerProvider.getTracer('t').startSpan('s');
  const after = BigInt(Date.now() + 5) * 1_000_000n;
  const rb = new FileReadBack(path);
  const ev = only(rb.spans(), 'span event');
  if (ev.event?.$case !== 'start') return t.fail();
  t.true(ev.event.value.startTimeUnixNano >= before && ev.event.value.startTimeUnixNano <= after);
  rb.close();
  await cleanup();
});

test('the default sampler follows a non-sampled parent: nothing is written', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const parent = trace.wrapSpanContext({
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.NONE,
    isRemote: true,
  });
  const span = sdk.tracerProvider.getTracer('t').startSpan('s', {}, trace.setSpan(ROOT_CONTEXT, parent));
  t.false(span.isRecording());
  t.is(span.spanContext().traceId, '0af7651916cd43dd8448eb211c80319c');
  span.setAttribute('a', 1);
  span.end();
  const rb = new FileReadBack(path);
  t.is(rb.spans().length, 0);
  rb.close();
  await cleanup();
});

test('an AlwaysOff sampler produces non-recording spans that write nothing', async (t) => {
  const { sdk, path, cleanup } = startTestSdk({ sampler: new AlwaysOffSampler() });
  const span = sdk.tracerProvider.getTracer('t').startSpan('s');
  t.false(span.isRecording());
  span.end();
  const rb = new FileReadBack(path);
  t.is(rb.spans().length, 0);
  rb.close();
  await cleanup();
});

test('a TraceIdRatioBased sampler keeps about its ratio of root spans', async (t) => {
  const { sdk, path, cleanup } = startTestSdk({ sampler: new TraceIdRatioBasedSampler(0.25) });
  const tracer = sdk.tracerProvider.getTracer('t');
  for (let i = 0; i < 2000; i++) tracer.startSpan('s').end();
  const rb = new FileReadBack(path);
  const starts = rb.spans().filter((e) => caseOf(e) === 'start').length;
  t.true(starts > 350 && starts < 650, `${starts} of 2000 sampled`);
  rb.close();
  await cleanup();
});

test('an explicit AlwaysOn sampler records the child of a non-sampled parent', async (t) => {
  const { sdk, path, cleanup } = startTestSdk({ sampler: new AlwaysOnSampler() });
  const parent = trace.wrapSpanContext({
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.NONE,
  });
  sdk.tracerProvider.getTracer('t').startSpan('s', {}, trace.setSpan(ROOT_CONTEXT, parent)).end();
  const rb = new FileReadBack(path);
  t.deepEqual(rb.spans().map(caseOf), ['start', 'end']);
  rb.close();
  await cleanup();
});

test('the attribute count limit drops attributes beyond it', async (t) => {
  const { sdk, path, cleanup } = startTestSdk({ spanLimits: { attributeCountLimit: 2 } });
  const span = sdk.tracerProvider.getTracer('t').startSpan('s', { attributes: { a: 1, b: 2, c: 3 } });
  span.setAttribute('d', 4);
  const rb = new FileReadBack(path);
  const events = rb.spans();
  t.is(events.length, 1);
  if (events[0].event?.$case !== 'start') return t.fail();
  t.deepEqual(rb.keys(events[0].event.value.attributes), ['a', 'b']);
  rb.close();
  await cleanup();
});

test('the attribute value length limit truncates strings and string array items', async (t) => {
  const { sdk, path, cleanup } = startTestSdk({ spanLimits: { attributeValueLengthLimit: 4 } });
  sdk.tracerProvider.getTracer('t').startSpan('s', { attributes: { s: 'abcdefgh', arr: ['123456', 'ab'], n: 123456 } });
  const rb = new FileReadBack(path);
  const [ev] = rb.spans();
  if (ev.event?.$case !== 'start') return t.fail();
  t.deepEqual(rb.attrs(ev.event.value.attributes), { s: 'abcd', arr: ['1234', 'ab'], n: 123456n });
  rb.close();
  await cleanup();
});

test('the event count limit drops events beyond it', async (t) => {
  const { sdk, path, cleanup } = startTestSdk({ spanLimits: { eventCountLimit: 2 } });
  const span = sdk.tracerProvider.getTracer('t').startSpan('s');
  for (let i = 0; i < 5; i++) span.addEvent(`e${i}`);
  const rb = new FileReadBack(path);
  t.deepEqual(
    rb.events().map((e) => rb.string(e.eventNameRef)),
    ['e0', 'e1'],
  );
  rb.close();
  await cleanup();
});

test('the link count limit drops links beyond it', async (t) => {
  const { sdk, path, cleanup } = startTestSdk({ spanLimits: { linkCountLimit: 1 } });
  const context = { traceId: '11111111111111111111111111111111', spanId: '2222222222222222', traceFlags: 1 };
  sdk.tracerProvider.getTracer('t').startSpan('s', { links: [{ context }, { context }, { context }] });
  const rb = new FileReadBack(path);
  const links = rb.spans().flatMap((e) => (e.event?.$case === 'link' ? e.event.value.links : []));
  t.is(links.length, 1);
  rb.close();
  await cleanup();
});

test('spanContext of a recording span matches what is written and is sampled', async (t) => {
  const { sdk, cleanup } = startTestSdk();
  const sc = sdk.tracerProvider.getTracer('t').startSpan('s').spanContext();
  t.regex(sc.traceId, /^[0-9a-f]{32}$/);
  t.regex(sc.spanId, /^[0-9a-f]{16}$/);
  t.is(sc.traceFlags, TraceFlags.SAMPLED);
  t.false(sc.isRemote);
  await cleanup();
});

test('attributes and trace state from a custom sampler are written with the start', async (t) => {
  const sampler = {
    shouldSample: () => ({
      decision: SamplingDecision.RECORD_AND_SAMPLED,
      attributes: { 'sampling.rule': 'keep-all' },
      traceState: new TraceState('vendor=1'),
    }),
    toString: () => 'KeepAllWithRule',
  };
  const { sdk, path, cleanup } = startTestSdk({ sampler });
  const span = sdk.tracerProvider.getTracer('t').startSpan('s', { attributes: { own: true } });
  t.is(span.spanContext().traceState?.serialize(), 'vendor=1');
  const rb = new FileReadBack(path);
  const [ev] = rb.spans();
  if (ev.event?.$case !== 'start') return t.fail();
  t.deepEqual(rb.attrs(ev.event.value.attributes), { own: true, 'sampling.rule': 'keep-all' });
  rb.close();
  await cleanup();
});

test('a RECORD (not sampled) decision gives a recording span that writes nothing', async (t) => {
  const sampler = { shouldSample: () => ({ decision: SamplingDecision.RECORD }), toString: () => 'RecordOnly' };
  const { sdk, path, cleanup } = startTestSdk({ sampler });
  const span = sdk.tracerProvider.getTracer('t').startSpan('s');
  t.true(span.isRecording());
  t.is(span.spanContext().traceFlags, TraceFlags.NONE);
  span.setAttribute('a', 1);
  span.end();
  const rb = new FileReadBack(path);
  t.is(rb.spans().length, 0);
  rb.close();
  await cleanup();
});

test('null and undefined attribute values and empty keys are not written', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const span = sdk.tracerProvider.getTracer('t').startSpan('s', { attributes: { keep: 1, gone: undefined, '': 'x' } });
  span.setAttribute('nothing', null as never);
  const rb = new FileReadBack(path);
  const events = rb.spans();
  t.is(events.length, 1);
  if (events[0].event?.$case !== 'start') return t.fail();
  t.deepEqual(rb.attrs(events[0].event.value.attributes), { keep: 1n });
  rb.close();
  await cleanup();
});

test('span ids are unique and trace ids are shared only within a trace', async (t) => {
  const { sdk, cleanup } = startTestSdk();
  const tracer = sdk.tracerProvider.getTracer('t');
  const spanIds = new Set<string>();
  const traceIds = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const sc = tracer.startSpan('s').spanContext();
    spanIds.add(sc.spanId);
    traceIds.add(sc.traceId);
  }
  t.is(spanIds.size, 5000);
  t.is(traceIds.size, 5000);
  await cleanup();
});

test('a throwing attribute getter or exception object never makes the API throw', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const span = sdk.tracerProvider.getTracer('t').startSpan('s');
  const hostile = {
    get boom(): string {
      throw new Error('getter');
    },
  };
  const weird = {
    get name(): string {
      throw new Error('getter');
    },
  };
  t.notThrows(() => span.setAttributes({ nested: hostile as never }));
  t.notThrows(() => span.recordException(weird as never));
  span.setAttribute('after', 1);
  span.end();
  const rb = new FileReadBack(path);
  t.deepEqual(
    rb.spans().map((e) => e.event?.$case),
    ['start', 'attributes', 'end'],
  );
  rb.close();
  await cleanup();
});

/** Field numbers of the messages in a ring message's bytes: its own, and (`nested`) those of its length-delimited fields that parse as messages. */
function fieldNumbers(bytes: Uint8Array, nested: readonly number[]): number[] {
  const out: number[] = [];
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const tag = r.uint32();
    out.push(tag >>> 3);
    if ((tag & 7) === 2 && nested.includes(tag >>> 3)) out.push(...fieldNumbers(r.bytes(), []));
    else r.skip(tag & 7);
  }
  return out;
}

test('extension fields are written only when not the default: a plain span has none, one with a trace state and drops has them', async (t) => {
  const { sdk, path, cleanup } = startTestSdk({ spanLimits: { attributeCountLimit: 1 } });
  const tracer = sdk.tracerProvider.getTracer('t');
  tracer.startSpan('plain', { attributes: { a: 1 } }).end();
  const parent = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    traceFlags: TraceFlags.SAMPLED,
    traceState: new TraceState('k=v'),
  });
  tracer.startSpan('extended', { attributes: { a: 1, b: 2 } }, parent).end();
  const rb = new FileReadBack(path);
  const raw: Uint8Array[] = [];
  for (;;) {
    const batch = rb.reader.read(1 as never, 1024);
    if (batch.length === 0) break;
    raw.push(...splitMessages(batch));
  }
  rb.close();
  const numbers = raw.map((m) => fieldNumbers(m, [11, 12]).filter((n) => n >= 1000)); // StartSpan 11, EndSpan 12
  t.deepEqual(numbers, [[], [], [1000], [1000]], 'plain start and end: none; trace_state on the start, dropped_attributes_count on the end');
  await cleanup();
});
