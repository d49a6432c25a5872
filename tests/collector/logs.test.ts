// Log records, end to end: events without span ownership become OTLP log
// records; batching by size and timeout; unresolvable parts are left out.
import test from 'ava';
import { waitFor } from './support/collector-process.js';
import { hex, ids, RING_EVENTS } from './support/mmap-writer.js';
import { e2e } from './support/setup.js';

test('a partial batch of log records is shipped when the batch timeout expires', async (t) => {
  const { receiver, writer, collector } = await e2e(t);
  const scope = writer.scope('app', writer.resource({ 'service.name': 'svc' }));
  for (let i = 0; i < 3; i++) writer.log(scope, `line ${i}`, { i });
  const c = collector(['--endpoint', receiver.httpUrl, '--batch-size', '100', '--batch-timeout', '400']);
  await waitFor(() => receiver.logRecords().length >= 3, 15_000, 'three log records');
  await c.stop();
  t.is(receiver.logs.length, 1, 'one request holding the partial batch of 3 (< batch size 100)');
  t.deepEqual(
    receiver.logRecords().map((l) => l.body),
    ['line 0', 'line 1', 'line 2'],
  );
  t.deepEqual(
    receiver.logRecords().map((l) => l.attributes.i),
    [0n, 1n, 2n],
  );
  t.is(receiver.logRecords()[0].record.severityNumber, 9);
  t.is(receiver.logRecords()[0].resource['service.name'], 'svc');
});

test('log records are batched by size', async (t) => {
  const { receiver, writer, collector } = await e2e(t);
  const scope = writer.scope('app', 0n);
  for (let i = 0; i < 10; i++) writer.log(scope, `line ${i}`);
  const c = collector(['--endpoint', receiver.httpUrl, '--batch-size', '4', '--batch-timeout', '300']);
  await waitFor(() => receiver.logRecords().length >= 10, 15_000, 'ten log records');
  await c.stop();
  t.deepEqual(
    receiver.logs.map((r) => r.resourceLogs[0].scopeLogs[0].logRecords.length),
    [4, 4, 2],
  );
});

test('a log record whose body or attribute does not resolve is exported without it, counted, and the pipeline goes on', async (t) => {
  const { receiver, writer, collector } = await e2e(t);
  const scope = writer.scope('app', 0n);
  const loop = writer.valueEntry({ value: { $case: 'valueRef', value: 0n } });
  writer.event({ scopeRef: scope, severityNumber: 13, body: { value: { $case: 'valueRef', value: 999_999_999n } }, attributes: writer.attrs({ ok: 'kept' }) });
  writer.event({
    scopeRef: scope,
    severityNumber: 13,
    body: { value: { $case: 'stringValue', value: 'has a bad attribute' } },
    attributes: [{ keyRef: 888_888_888n, value: { value: { $case: 'stringValue', value: 'x' } } }, ...writer.attrs({ good: 1 })],
  });
  writer.event({ scopeRef: scope, severityNumber: 13, body: { value: { $case: 'valueRef', value: loop } } });
  // Bytes that are not an Event at all, then a good record.
  t.true(writer.native.append(RING_EVENTS, Buffer.from([0x0a, 0xff, 0xff, 0xff])));
  writer.log(scope, 'after the bad ones');
  const c = collector(['--endpoint', receiver.httpUrl, '--stats', '--stats-interval', '100']);
  await waitFor(() => receiver.logRecords().length >= 4, 15_000, 'four log records');
  await c.stop();
  const logs = receiver.logRecords();
  t.deepEqual(
    logs.map((l) => l.body),
    [undefined, 'has a bad attribute', undefined, 'after the bad ones'],
  );
  t.deepEqual(logs[0].attributes, { ok: 'kept' });
  t.deepEqual(logs[1].attributes, { good: 1n });
  t.is(logs[1].record.droppedAttributesCount, 1);
  const final = c.statusLines('final').at(-1)!;
  t.is(final.unresolved, 3, 'two bodies and one attribute');
  t.is(final.undecodable, 1);
});

test('an event recorded on a span that is not open is exported as a log record carrying the trace context', async (t) => {
  const { receiver, writer, collector } = await e2e(t);
  const scope = writer.scope('app', 0n);
  writer.spanEvent(scope, 5, 55, 'late-event', { k: 'v' });
  const c = collector(['--endpoint', receiver.httpUrl]);
  await waitFor(() => receiver.logRecords().length >= 1, 15_000, 'the log record');
  await c.stop();
  const [log] = receiver.logRecords();
  t.is(log.record.eventName, 'late-event');
  t.is(hex(log.record.traceId), hex(ids(5, 55).traceId));
  t.is(hex(log.record.spanId), hex(ids(5, 55).spanId));
  t.is(c.statusLines('final').at(-1)!.orphan_span_events, 1);
});
