// The OTLP/JSON mapping of ts-proto objects (OTLP spec, "JSON Protobuf Encoding").
import test from 'ava';
import { otlpMetricsService, otlpTraceService, type otlpLogsService } from '@otlp-mmap/protocol';
import { encodeOtlpJson, toOtlpJson } from '../../packages/collector/src/otlp/otlp-json.js';

const traceId = Uint8Array.from({ length: 16 }, (_, i) => i);
const spanId = Uint8Array.from({ length: 8 }, (_, i) => 0xf0 + i);

const request: otlpTraceService.ExportTraceServiceRequest = {
  resourceSpans: [
    {
      resource: {
        attributes: [{ key: 'service.name', value: { value: { $case: 'stringValue', value: 'svc' } }, keyStrindex: 0 }],
        droppedAttributesCount: 0,
        entityRefs: [],
      },
      schemaUrl: '',
      scopeSpans: [
        {
          scope: { name: 'lib', version: '', attributes: [], droppedAttributesCount: 0 },
          schemaUrl: '',
          spans: [
            {
              traceId,
              spanId,
              traceState: '',
              parentSpanId: new Uint8Array(0),
              flags: 257,
              name: 'op',
              kind: 2,
              startTimeUnixNano: 18_446_744_073_709_551_615n,
              endTimeUnixNano: 0n,
              attributes: [
                { key: 'i', value: { value: { $case: 'intValue', value: -9_007_199_254_740_993n } }, keyStrindex: 0 },
                { key: 'zero', value: { value: { $case: 'intValue', value: 0n } }, keyStrindex: 0 },
                { key: 'd', value: { value: { $case: 'doubleValue', value: Number.NaN } }, keyStrindex: 0 },
                { key: 'inf', value: { value: { $case: 'doubleValue', value: -Infinity } }, keyStrindex: 0 },
                { key: 'b', value: { value: { $case: 'bytesValue', value: new Uint8Array([0xff, 0x00]) } }, keyStrindex: 0 },
                { key: 'f', value: { value: { $case: 'boolValue', value: false } }, keyStrindex: 0 },
                {
                  key: 'nested',
                  value: {
                    value: {
                      $case: 'kvlistValue',
                      value: {
                        values: [
                          {
                            key: 'arr',
                            value: { value: { $case: 'arrayValue', value: { values: [{ value: { $case: 'stringValue', value: '' } }] } } },
                            keyStrindex: 0,
                          },
                        ],
                      },
                    },
                  },
                  keyStrindex: 0,
                },
              ],
              droppedAttributesCount: 0,
              events: [],
              droppedEventsCount: 0,
              links: [{ traceId, spanId, traceState: '', attributes: [], droppedAttributesCount: 0, flags: 0 }],
              droppedLinksCount: 0,
              status: { message: '', code: 2 },
            },
          ],
        },
      ],
    },
  ],
};

test('ids are lowercase hex, other bytes base64, int64 decimal strings, enums integers, oneofs named by their case', (t) => {
  const json = toOtlpJson(request) as { resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[] };
  const span = json.resourceSpans[0].scopeSpans[0].spans[0];
  t.is(span.traceId, '000102030405060708090a0b0c0d0e0f');
  t.is(span.spanId, 'f0f1f2f3f4f5f6f7');
  t.is(span.kind, 2);
  t.is(span.flags, 257);
  t.is(span.startTimeUnixNano, '18446744073709551615');
  t.deepEqual(span.status, { code: 2 });
  t.deepEqual(span.links, [{ traceId: '000102030405060708090a0b0c0d0e0f', spanId: 'f0f1f2f3f4f5f6f7' }]);
  t.deepEqual(span.attributes, [
    { key: 'i', value: { intValue: '-9007199254740993' } },
    { key: 'zero', value: { intValue: '0' } },
    { key: 'd', value: { doubleValue: 'NaN' } },
    { key: 'inf', value: { doubleValue: '-Infinity' } },
    { key: 'b', value: { bytesValue: '/wA=' } },
    { key: 'f', value: { boolValue: false } },
    { key: 'nested', value: { kvlistValue: { values: [{ key: 'arr', value: { arrayValue: { values: [{ stringValue: '' }] } } }] } } },
  ]);
});

test('fields holding their default value are left out', (t) => {
  const json = toOtlpJson(request) as { resourceSpans: { scopeSpans: { scope: Record<string, unknown>; spans: Record<string, unknown>[] }[] }[] };
  const span = json.resourceSpans[0].scopeSpans[0].spans[0];
  for (const field of ['parentSpanId', 'traceState', 'endTimeUnixNano', 'events', 'droppedAttributesCount']) t.false(field in span, field);
  t.deepEqual(json.resourceSpans[0].scopeSpans[0].scope, { name: 'lib' });
});

test('a log record keeps an empty body absent and maps its trace context', (t) => {
  const logs: otlpLogsService.ExportLogsServiceRequest = {
    resourceLogs: [
      {
        resource: undefined,
        schemaUrl: '',
        scopeLogs: [
          {
            scope: undefined,
            schemaUrl: '',
            logRecords: [
              {
                timeUnixNano: 5n,
                observedTimeUnixNano: 6n,
                severityNumber: 17,
                severityText: 'ERROR',
                body: undefined,
                attributes: [],
                droppedAttributesCount: 0,
                flags: 1,
                traceId,
                spanId,
                eventName: 'e',
              },
            ],
          },
        ],
      },
    ],
  };
  const json = toOtlpJson(logs) as { resourceLogs: { scopeLogs: { logRecords: Record<string, unknown>[] }[] }[] };
  t.deepEqual(json.resourceLogs[0].scopeLogs[0].logRecords[0], {
    timeUnixNano: '5',
    observedTimeUnixNano: '6',
    severityNumber: 17,
    severityText: 'ERROR',
    flags: 1,
    traceId: '000102030405060708090a0b0c0d0e0f',
    spanId: 'f0f1f2f3f4f5f6f7',
    eventName: 'e',
  });
});

test('the JSON form carries the same request as the protobuf form', (t) => {
  // Re-encode through protobuf first so the comparison covers what the exporters actually send.
  const decoded = otlpTraceService.ExportTraceServiceRequest.decode(otlpTraceService.ExportTraceServiceRequest.encode(request).finish());
  t.deepEqual(JSON.parse(JSON.stringify(toOtlpJson(decoded))), JSON.parse(JSON.stringify(toOtlpJson(request))));
});

/** A metrics request with one histogram point and one exponential histogram point holding `fields`. */
function histogramRequest(fields: { sum?: number; min?: number; max?: number }): otlpMetricsService.ExportMetricsServiceRequest {
  return otlpMetricsService.ExportMetricsServiceRequest.fromPartial({
    resourceMetrics: [
      {
        scopeMetrics: [
          {
            metrics: [
              { name: 'h', data: { $case: 'histogram', value: { aggregationTemporality: 2, dataPoints: [{ count: 1n, bucketCounts: [1n], ...fields }] } } },
              {
                name: 'e',
                data: { $case: 'exponentialHistogram', value: { aggregationTemporality: 2, dataPoints: [{ count: 1n, zeroCount: 1n, ...fields }] } },
              },
            ],
          },
        ],
      },
    ],
  });
}

/** The two points of {@link histogramRequest} as the JSON text has them. */
function pointsOf(text: string): Record<string, unknown>[] {
  const json = JSON.parse(text) as { resourceMetrics: { scopeMetrics: { metrics: Record<string, { dataPoints: Record<string, unknown>[] }>[] }[] }[] };
  const metrics = json.resourceMetrics[0].scopeMetrics[0].metrics;
  return [metrics[0].histogram.dataPoints[0], metrics[1].exponentialHistogram.dataPoints[0]];
}

test('sum, min and max of histogram points are written when they are set, 0 included (fields with explicit presence)', (t) => {
  const text = encodeOtlpJson(histogramRequest({ sum: 0, min: 0, max: 0 }));
  for (const point of pointsOf(text)) t.like(point, { sum: 0, min: 0, max: 0 });
});

test('sum, min and max of histogram points are left out when they are not set', (t) => {
  for (const point of pointsOf(encodeOtlpJson(histogramRequest({})))) {
    t.false('sum' in point || 'min' in point || 'max' in point, JSON.stringify(point));
  }
});

test('a double -0 is written as -0, not 0', (t) => {
  const text = encodeOtlpJson(histogramRequest({ sum: -0, min: -0, max: 0 }));
  t.regex(text, /"sum":-0,/);
  t.regex(text, /"min":-0,/);
  for (const point of pointsOf(text)) {
    t.true(Object.is(point.sum, -0));
    t.true(Object.is(point.min, -0));
    t.true(Object.is(point.max, 0));
  }
  // The same text as JSON.stringify everywhere else.
  const plain = histogramRequest({ sum: 2.5, min: 1, max: 4 });
  t.is(encodeOtlpJson(plain), JSON.stringify(toOtlpJson(plain)));
});
