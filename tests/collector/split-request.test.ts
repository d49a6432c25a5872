// Splitting an export request that encodes larger than --batch-bytes: parts in order, each item once,
// each under its own resource and scope, and the items of each part counted as the queue counts them.
import test from 'ava';
import type { otlpMetrics, otlpTrace, otlpTraceService } from '@otlp-mmap/protocol';
import { splitRequest } from '../../packages/collector/src/export/split-request.js';

const span = (name: string): otlpTrace.Span => ({ name }) as otlpTrace.Span;
const request = (): otlpTraceService.ExportTraceServiceRequest =>
  ({
    resourceSpans: [
      { resource: { attributes: [] }, schemaUrl: 'r1', scopeSpans: [{ scope: { name: 'a' }, schemaUrl: '', spans: ['a1', 'a2', 'a3'].map(span) }] },
      {
        resource: { attributes: [] },
        schemaUrl: 'r2',
        scopeSpans: [
          { scope: { name: 'b' }, schemaUrl: '', spans: ['b1', 'b2'].map(span) },
          { scope: { name: 'c' }, schemaUrl: '', spans: ['c1'].map(span) },
        ],
      },
    ],
  }) as unknown as otlpTraceService.ExportTraceServiceRequest;

/** resource schema / scope name: span names, per part. */
function shape(parts: ReturnType<typeof splitRequest>): string[][] {
  return parts.map((p) =>
    (p.request as otlpTraceService.ExportTraceServiceRequest).resourceSpans.flatMap((rs) =>
      rs.scopeSpans.map((ss) => `${rs.schemaUrl}/${ss.scope!.name}: ${ss.spans.map((s) => s.name).join(' ')}`),
    ),
  );
}

test('a request splits into parts of about as many spans, in order, each span under its own resource and scope', (t) => {
  const parts = splitRequest('traces', request(), 2);
  t.deepEqual(shape(parts), [['r1/a: a1 a2 a3'], ['r2/b: b1 b2', 'r2/c: c1']]);
  t.deepEqual(
    parts.map((p) => p.items),
    [3, 3],
  );
  const three = splitRequest('traces', request(), 3);
  t.deepEqual(shape(three), [['r1/a: a1 a2'], ['r1/a: a3', 'r2/b: b1'], ['r2/b: b2', 'r2/c: c1']]);
});

test('more parts than spans gives one span per part; a single span comes back whole', (t) => {
  t.is(splitRequest('traces', request(), 100).length, 6);
  const one = { resourceSpans: [{ resource: undefined, schemaUrl: '', scopeSpans: [{ scope: undefined, schemaUrl: '', spans: [span('only')] }] }] };
  const parts = splitRequest('traces', one as unknown as otlpTraceService.ExportTraceServiceRequest, 4);
  t.is(parts.length, 1);
  t.is(parts[0].items, 1);
});

test('the original request is left as it was', (t) => {
  const r = request();
  const before = JSON.stringify(r);
  splitRequest('traces', r, 3);
  t.is(JSON.stringify(r), before);
});

test('a metrics part counts the data points of its metrics', (t) => {
  const gauge = (points: number): otlpMetrics.Metric =>
    ({ name: `g${points}`, data: { $case: 'gauge', value: { dataPoints: Array.from({ length: points }, () => ({})) } } }) as unknown as otlpMetrics.Metric;
  const metrics = {
    resourceMetrics: [{ resource: undefined, schemaUrl: '', scopeMetrics: [{ scope: undefined, schemaUrl: '', metrics: [gauge(5), gauge(2), gauge(7)] }] }],
  };
  const parts = splitRequest('metrics', metrics as never, 2);
  t.deepEqual(
    parts.map((p) => p.items),
    [5, 9],
  );
});
