// Inputs the Node fuzz (tests/fuzz/run.ts) found, each kept as the behaviour it broke.
import test from 'ava';
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
    { ...ids(2, 2), traceState: '', attributes: [{ keyRef: 1n << 45n, value: { value: { $case: 'boolValue', value: true } } }], droppedAttributesCount: 2 ** 32 - 1, flags: 0 },
  ]);
  writer.endSpan(scope, 1, 1);
  writer.close();
  const d = await runCollector(['dump', path]);
  t.is(d.exit.code, 0, d.stderr);
  const status = lastStatus(d.stderr, 'dump');
  t.is(status.dropped_traces, 0);
  const line = d.jsonLines().find((l) => 'resourceSpans' in l) as { resourceSpans: { scopeSpans: { spans: { name: string; links: { droppedAttributesCount: number }[] }[] }[] }[] } | undefined;
  const span = line?.resourceSpans[0].scopeSpans[0].spans[0];
  t.is(span?.name, 'linked');
  t.is(span?.links[0].droppedAttributesCount, 2 ** 32 - 1);
});
