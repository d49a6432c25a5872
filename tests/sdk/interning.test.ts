import test from 'ava';
import { FileReadBack, startTestSdk } from './support/read-back.js';

test('a repeated attribute key is written to the dictionary once', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const tracer = sdk.tracerProvider.getTracer('t');
  tracer.startSpan('a', { attributes: { 'http.route': '/a' } });
  const rb = new FileReadBack(path);
  const entries = rb.numEntries();
  for (let i = 0; i < 10; i++) tracer.startSpan('b', { attributes: { 'http.route': `/b${i}` } });
  t.is(rb.numEntries(), entries);
  const keyRefs = new Set(rb.spans().flatMap((e) => (e.event?.$case === 'start' ? e.event.value.attributes.map((a) => a.keyRef) : [])));
  t.is(keyRefs.size, 1);
  rb.close();
  await cleanup();
});

test('the same scope asked for twice is one dictionary entry', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const rb = new FileReadBack(path);
  sdk.tracerProvider.getTracer('lib', '1.0');
  const entries = rb.numEntries();
  sdk.tracerProvider.getTracer('lib', '1.0');
  sdk.meterProvider.getMeter('lib', '1.0');
  sdk.loggerProvider.getLogger('lib', '1.0');
  t.is(rb.numEntries(), entries);
  rb.close();
  await cleanup();
});

test('the same instrument definition created twice is one MetricRef', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const meter = sdk.meterProvider.getMeter('m');
  meter.createCounter('requests', { unit: '{request}' }).add(1);
  const rb = new FileReadBack(path);
  const entries = rb.numEntries();
  meter.createCounter('requests', { unit: '{request}' }).add(1);
  t.is(rb.numEntries(), entries);
  const [a, b] = rb.measurements();
  t.is(a.metricRef, b.metricRef);
  rb.close();
  await cleanup();
});

test('a different instrument definition gets its own MetricRef', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const meter = sdk.meterProvider.getMeter('m');
  meter.createCounter('requests').add(1);
  meter.createUpDownCounter('requests').add(1);
  const rb = new FileReadBack(path);
  const [a, b] = rb.measurements();
  t.not(a.metricRef, b.metricRef);
  rb.close();
  await cleanup();
});

test('the resource is written once and referenced by every scope', async (t) => {
  const { sdk, path, cleanup } = startTestSdk({ serviceName: 'interning' });
  const rb = new FileReadBack(path);
  const a = sdk.tracerProvider.getTracer('a');
  const b = sdk.tracerProvider.getTracer('b');
  a.startSpan('x');
  b.startSpan('y');
  const [x, y] = rb.spans();
  const sa = rb.scope(x.scopeRef);
  const sb = rb.scope(y.scopeRef);
  t.not(x.scopeRef, y.scopeRef);
  t.is(sa.resourceRef, sb.resourceRef);
  t.is(rb.attrs(rb.resource(sa.resourceRef).attributes)['service.name'], 'interning');
  rb.close();
  await cleanup();
});

test('attribute keys that change places between calls keep their own references', async (t) => {
  const { sdk, path, cleanup } = startTestSdk();
  const tracer = sdk.tracerProvider.getTracer('t');
  const counter = sdk.meterProvider.getMeter('m').createCounter('c');
  // The same positions hold different keys from one call to the next.
  tracer.startSpan('a', { attributes: { first: 'one', second: 'two' } }).end();
  tracer.startSpan('b', { attributes: { second: 'two', first: 'one' } }).end();
  tracer.startSpan('c', { attributes: { third: 'three' } }).end();
  const attrs = { x: 'a', y: 'b' };
  counter.add(1, attrs);
  delete (attrs as Record<string, string>).x;
  (attrs as Record<string, string>).z = 'c';
  counter.add(1, attrs);
  const rb = new FileReadBack(path);
  const starts = rb.spans().flatMap((e) => (e.event?.$case === 'start' ? [e.event.value] : []));
  t.deepEqual(
    starts.map((s) => rb.attrs(s.attributes)),
    [{ first: 'one', second: 'two' }, { second: 'two', first: 'one' }, { third: 'three' }],
  );
  t.deepEqual(
    starts.map((s) => rb.keys(s.attributes)),
    [['first', 'second'], ['second', 'first'], ['third']],
  );
  t.deepEqual(
    rb.measurements().map((m) => rb.attrs(m.attributes)),
    [
      { x: 'a', y: 'b' },
      { y: 'b', z: 'c' },
    ],
  );
  rb.close();
  await cleanup();
});
