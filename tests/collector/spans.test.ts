// Span reconstruction, end to end: a writer fills the spans and events rings,
// the collector runs as a child process and exports OTLP/HTTP protobuf to a
// real receiver; the assertions are on what the receiver decoded.
import test from 'ava';
import { StatusCode } from '@otlp-mmap/protocol';
import { waitFor } from './support/collector-process.js';
import { hex, ids } from './support/mmap-writer.js';
import { e2e } from './support/setup.js';

test('a span is exported with its latest name, appended attributes (latest value per key), accumulated links, events and status', async (t) => {
  const { receiver, writer, collector } = await e2e(t);
  const scope = writer.scope('checkout', writer.resource({ 'service.name': 'shop' }));
  writer.startSpan(scope, 7, 1, 'GET', { 'http.method': 'GET', retries: 0 });
  writer.rename(scope, 7, 1, 'GET /cart');
  writer.updateAttributes(scope, 7, 1, { 'http.route': '/cart', retries: 2 });
  writer.updateAttributes(scope, 7, 1, { 'http.status_code': 500 });
  writer.addLinks(scope, 7, 1, [{ ...ids(8, 100), traceState: 'a=1', attributes: writer.attrs({ kind: 'first' }), droppedAttributesCount: 0, flags: 1 }]);
  writer.addLinks(scope, 7, 1, [{ ...ids(9, 200), traceState: '', attributes: writer.attrs({ kind: 'second' }), droppedAttributesCount: 0, flags: 1 }]);
  writer.spanEvent(scope, 7, 1, 'exception', { 'exception.type': 'Error', 'exception.message': 'out of stock' });
  writer.endSpan(scope, 7, 1, StatusCode.STATUS_CODE_ERROR, 'out of stock');

  const c = collector(['--endpoint', receiver.httpUrl]);
  await waitFor(() => receiver.spans().length >= 1, 15_000, 'the span');
  await c.stop();

  const [span] = receiver.spans();
  t.is(receiver.spans().length, 1);
  t.is(span.name, 'GET /cart');
  t.deepEqual(span.attributes, { 'http.method': 'GET', retries: 2n, 'http.route': '/cart', 'http.status_code': 500n });
  t.deepEqual(
    span.span.links.map((l) => [hex(l.traceId), hex(l.spanId), l.traceState, l.attributes[0].value?.value?.value]),
    [
      [hex(ids(8, 100).traceId), hex(ids(8, 100).spanId), 'a=1', 'first'],
      [hex(ids(9, 200).traceId), hex(ids(9, 200).spanId), '', 'second'],
    ],
  );
  t.is(span.span.events.length, 1, 'the exception is a span event');
  t.is(span.span.events[0].name, 'exception');
  t.is(span.span.status?.code, StatusCode.STATUS_CODE_ERROR as number);
  t.is(span.span.status?.message, 'out of stock');
  t.is(span.span.endTimeUnixNano, 1_700_000_001_000_000_001n);
  t.is(span.resource['service.name'], 'shop');
  t.is(span.scope, 'checkout');
});

test('spans are grouped by resource and then by scope', async (t) => {
  const { receiver, writer, collector } = await e2e(t);
  const shop = writer.resource({ 'service.name': 'shop' });
  const bank = writer.resource({ 'service.name': 'bank' });
  const scopes = [writer.scope('http', shop), writer.scope('db', shop), writer.scope('http', bank)];
  let n = 0;
  for (const scope of scopes) {
    for (let i = 0; i < 3; i++) {
      n++;
      writer.startSpan(scope, 1, n, `span-${n}`);
      writer.endSpan(scope, 1, n);
    }
  }
  const c = collector(['--endpoint', receiver.httpUrl, '--batch-timeout', '300']);
  await waitFor(() => receiver.spans().length >= 9, 15_000, '9 spans');
  await c.stop();

  const layout = receiver.traces.flatMap((r) =>
    r.resourceSpans.map((rs) => ({
      service: rs.resource?.attributes.find((a) => a.key === 'service.name')?.value?.value?.value,
      scopes: rs.scopeSpans.map((ss) => `${ss.scope?.name}:${ss.spans.length}`).sort(),
    })),
  );
  t.is(receiver.traces.length, 1, 'one batch');
  t.deepEqual(
    layout.sort((a, b) => String(a.service).localeCompare(String(b.service))),
    [
      { service: 'bank', scopes: ['http:3'] },
      { service: 'shop', scopes: ['db:3', 'http:3'] },
    ],
  );
});

test('a span that never ends is exported marked incomplete after --span-max-age and counted', async (t) => {
  const { receiver, writer, collector } = await e2e(t);
  const scope = writer.scope('s', writer.resource({ 'service.name': 'svc' }));
  writer.startSpan(scope, 3, 1, 'never-ends', { a: 1 });
  writer.startSpan(scope, 3, 2, 'ends');
  writer.endSpan(scope, 3, 2);
  const c = collector(['--endpoint', receiver.httpUrl, '--span-max-age', '300', '--stats', '--stats-interval', '100']);
  await waitFor(() => receiver.spans().length >= 2, 15_000, 'both spans');
  await waitFor(() => c.statusLines().some((s) => s.evicted_spans === 1), 5_000, 'the eviction in the status line');
  await c.stop();
  const dangling = receiver.spans().find((s) => s.name === 'never-ends');
  t.truthy(dangling);
  t.is(dangling!.attributes['otlp_mmap.span.incomplete'], true);
  t.is(dangling!.attributes.a, 1n);
  t.is(receiver.spans().find((s) => s.name === 'ends')!.attributes['otlp_mmap.span.incomplete'], undefined);
  t.is(c.statusLines('final').at(-1)!.open_spans, 0);
});

test('the count cap evicts the oldest open spans so memory stays bounded', async (t) => {
  const { receiver, writer, collector } = await e2e(t);
  const scope = writer.scope('s', 0n);
  for (let i = 1; i <= 5; i++) writer.startSpan(scope, 4, i, `open-${i}`);
  const c = collector(['--endpoint', receiver.httpUrl, '--max-active-spans', '2']);
  await waitFor(() => receiver.spans().length >= 3, 15_000, 'three evicted spans');
  await new Promise((r) => setTimeout(r, 300));
  t.deepEqual(
    receiver
      .spans()
      .map((s) => s.name)
      .sort(),
    ['open-1', 'open-2', 'open-3'],
  );
  await c.stop();
  // At shutdown the two still open are flushed as incomplete too.
  t.deepEqual(
    receiver
      .spans()
      .map((s) => s.name)
      .sort(),
    ['open-1', 'open-2', 'open-3', 'open-4', 'open-5'],
  );
});
