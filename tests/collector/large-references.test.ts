// A file whose dictionary lies past 2^28 bytes (a spans ring of 262,144 slots of 1 KiB: the file is
// sparse), so that every dictionary reference needs a varint of 5 bytes: integer, double and boolean
// attributes written by the SDK still reach the receiver, on spans, log records and metric series.
import test from 'ava';
import { Reader } from '@otlp-mmap/native';
import { startMmapSdk } from '@otlp-mmap/sdk';
import { attributeMap, OtlpReceiver } from '../helpers/otlp-receiver.js';
import { tempDir } from '../helpers/files.js';
import { CollectorProcess, waitFor } from './support/collector-process.js';
import { FAST } from './support/setup.js';

test('int, double and bool attributes arrive from a file whose dictionary references exceed 2^28', async (t) => {
  const tmp = tempDir();
  const receiver = await OtlpReceiver.start();
  const path = tmp.file('large.otlp-mmap');
  const sdk = startMmapSdk({ path, serviceName: 'large-refs', registerGlobals: false, spans: { slots: 262_144, slotSize: 1024 } });
  const collector = new CollectorProcess(['--input', path, ...FAST, '--endpoint', receiver.httpUrl]);
  t.teardown(async () => {
    if (collector.running) await collector.stop('SIGKILL');
    await sdk.shutdown();
    await receiver.close();
    tmp.cleanup();
  });

  const reader = Reader.open(path);
  const dictionaryAt = reader.info().dictionary.offset;
  reader.close();
  t.true(dictionaryAt > 2 ** 28, `the dictionary starts at ${dictionaryAt}`);

  const attributes = { 'http.response.status_code': 200, 'server.port': 443, ratio: 0.25, 'cache.hit': true, 'retry.last': false, route: '/users/:id' };
  const expected = { 'http.response.status_code': 200n, 'server.port': 443n, ratio: 0.25, 'cache.hit': true, 'retry.last': false, route: '/users/:id' };
  const tracer = sdk.tracerProvider.getTracer('large-refs');
  for (let i = 0; i < 3; i++) tracer.startSpan('GET /users/:id', { attributes }).end(); // later ones replayed from the span-start memo
  sdk.loggerProvider.getLogger('large-refs').emit({ body: 'served', attributes });
  const counter = sdk.meterProvider.getMeter('large-refs').createCounter('requests');
  for (let i = 0; i < 3; i++) counter.add(1, attributes);
  t.deepEqual(sdk.droppedCounts(), { spans: 0, events: 0, measurements: 0, attributes: 0, truncatedAttributes: 0 });

  await waitFor(() => receiver.spans().length >= 3 && receiver.logRecords().length >= 1, 20_000, 'the spans and the log record');
  await collector.stop();
  for (const span of receiver.spans()) t.deepEqual(span.attributes, expected);
  t.deepEqual(receiver.logRecords()[0].attributes, expected);
  const series = receiver.metricsReceived().filter((m) => m.metric.name === 'requests');
  t.true(series.length > 0, 'the counter arrives');
  const last = series.at(-1)!.metric.data;
  t.is(last?.$case, 'sum');
  const points = last?.$case === 'sum' ? last.value.dataPoints : [];
  t.is(points.length, 1, 'one series, not merged with attribute-less measurements');
  t.deepEqual(attributeMap(points[0].attributes), expected);
  t.is(points[0].value?.$case === 'asDouble' ? points[0].value.value : Number(points[0].value?.value), 3);
});
