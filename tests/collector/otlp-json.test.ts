// The OTLP/JSON mapping of ts-proto objects (OTLP spec, "JSON Protobuf Encoding").
import test from 'ava';
import { otlpTraceService, type otlpLogsService } from '@otlp-mmap/protocol';
import { toOtlpJson } from '../../packages/collector/src/otlp/otlp-json.js';

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
