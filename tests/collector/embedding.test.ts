// The collector as a library: what `@otlp-mmap/collector` exports, and a
// collector run inside this process through that API alone (the defaults
// of what it is not given), fed by @otlp-mmap/sdk and exporting to a real
// OTLP receiver.
import test from 'ava';
import * as collectorPackage from '@otlp-mmap/collector';
import { Collector, CollectorError, dump, parseConfig } from '@otlp-mmap/collector';
import { otlpMetrics } from '@otlp-mmap/protocol';
import { startMmapSdk } from '@otlp-mmap/sdk';
import { tempDir } from '../helpers/files.js';
import { OtlpReceiver } from '../helpers/otlp-receiver.js';
import { waitFor } from './support/collector-process.js';
import { FAST } from './support/setup.js';

test("the package exports what an embedding program uses, and none of the collector's internals", (t) => {
  t.deepEqual(Object.keys(collectorPackage).sort(), [
    'Collector',
    'CollectorError',
    'ConfigError',
    'DEFAULT_READ_BYTES',
    'EXIT_TRUNCATED',
    'SIGNALS',
    'dump',
    'parseConfig',
  ]);
});

test('a Collector given only its configuration exports spans, and metrics with the configured temporality, until stopped', async (t) => {
  const tmp = tempDir('otlp-mmap-embed-');
  const receiver = await OtlpReceiver.start();
  t.teardown(async () => {
    await receiver.close();
    tmp.cleanup();
  });
  const path = tmp.file('app.otlp-mmap');
  const sdk = startMmapSdk({ path, registerGlobals: false, serviceName: 'embedded' });
  t.teardown(() => sdk.shutdown());
  sdk.tracerProvider.getTracer('lib').startSpan('embedded-span').end();
  sdk.meterProvider.getMeter('lib').createCounter('embedded.count').add(5);
  await sdk.forceFlush();

  const lines: string[] = [];
  const collector = new Collector(parseConfig(['--input', path, ...FAST, '--endpoint', receiver.httpUrl, '--temporality', 'delta'], {}), {
    log: (line) => lines.push(line),
  });
  const running = collector.run();
  try {
    await waitFor(() => receiver.spans().some((s) => s.name === 'embedded-span'), 10_000, 'the span');
    await waitFor(() => receiver.metricsReceived().some((m) => m.metric.name === 'embedded.count'), 10_000, 'the counter');
  } finally {
    collector.stop();
    await running;
  }
  const sum = receiver.metricsReceived().find((m) => m.metric.name === 'embedded.count')?.metric.data;
  t.is(sum?.$case, 'sum');
  t.is(sum?.$case === 'sum' ? sum.value.aggregationTemporality : undefined, otlpMetrics.AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA);
  t.true(
    lines.some((line) => line.startsWith('final ')),
    `a final status line: ${lines.join('\n')}`,
  );
});

test('dump of a missing file rejects with a CollectorError carrying the exit code', async (t) => {
  const tmp = tempDir('otlp-mmap-embed-');
  t.teardown(tmp.cleanup);
  const error = await t.throwsAsync(dump(parseConfig(['dump', tmp.file('missing.otlp-mmap')], {})), { instanceOf: CollectorError });
  t.is(error?.exitCode, 1);
  t.regex(error?.message ?? '', /no such file/);
});
