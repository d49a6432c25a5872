// Inputs the Node fuzz (tests/fuzz/run.ts) found, each kept as the behaviour it broke.
import test from 'ava';
import { ExponentialHistogramAggregator } from '../../packages/collector/src/metrics/aggregators/exponential-histogram.js';
import { lastStatus } from '../helpers/accounting.js';
import { tempDir } from '../helpers/files.js';
import { runCollector } from '../collector/support/collector-process.js';
import { ids, TestWriter } from '../collector/support/mmap-writer.js';

test('a link whose dropped_attributes_count is near 2^32, with an attribute that does not resolve, still exports its span (the count saturates)', async (t) => {
  // Found by the fuzz: 2^32 - 1 + 1 unresolved attribute did not fit OTLP's uint32, the export request
  // did not encode, and the whole batch of spans was lost.
  const tmp = tempDir();
  t.teardown(tmp.cleanup);
  const path = tmp.file('link.otlp-mmap');
  const writer = new TestWriter(path);
  const scope = writer.scope('lib', 0n);
  writer.startSpan(scope, 1, 1, 'linked');
  writer.addLinks(scope, 1, 1, [
    {
      ...ids(2, 2),
      traceState: '',
      attributes: [{ keyRef: 1n << 45n, value: { value: { $case: 'boolValue', value: true } } }],
      droppedAttributesCount: 2 ** 32 - 1,
      flags: 0,
    },
  ]);
  writer.endSpan(scope, 1, 1);
  writer.close();
  const d = await runCollector(['dump', path]);
  t.is(d.exit.code, 0, d.stderr);
  const status = lastStatus(d.stderr, 'dump');
  t.is(status.dropped_traces, 0);
  const line = d.jsonLines().find((l) => 'resourceSpans' in l) as
    | { resourceSpans: { scopeSpans: { spans: { name: string; links: { droppedAttributesCount: number }[] }[] }[] }[] }
    | undefined;
  const span = line?.resourceSpans[0].scopeSpans[0].spans[0];
  t.is(span?.name, 'linked');
  t.is(span?.links[0].droppedAttributesCount, 2 ** 32 - 1);
});

test('an exponential histogram asking for more than 16384 buckets gets 16384: one series stays small whatever the values', (t) => {
  // Found by the fuzz: max_buckets 2^40 was capped at 10^6 only; 1e308 and 1e-300 in one series then
  // filled ~10^6 buckets, and every collection of that series took ~0.3 s and ~50 MB to export.
  const aggregator = ExponentialHistogramAggregator.fromDefinition(1n << 40n, 20n);
  t.is(aggregator.maxBuckets, 16_384);
  const accumulation = aggregator.createAccumulation(0n);
  for (const value of [1e308, 1e-300, 3.5, 1e-320, 5e307]) aggregator.record(accumulation, { $case: 'asDouble', value }, 1n);
  const point = aggregator.toDataPoint(accumulation, [], 0n, 1n);
  t.true(point.positive!.bucketCounts.length <= 16_384, `${point.positive!.bucketCounts.length} buckets`);
  t.is(point.count, 5n);
});
