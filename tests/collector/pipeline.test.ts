// The read cycle of the Pipeline against a scripted reader: how the events
// ring and the spans ring are interleaved so span events reach their span.
import test from 'ava';
import { BinaryWriter, Event, SpanEvent, type otlpLogsService, type otlpTraceService } from '@otlp-mmap/protocol';
import { parseConfig } from '@otlp-mmap/collector';
import type { DictionaryView } from '../../packages/collector/src/dictionary/dictionary-view.js';
import { Pipeline, type SignalSinks } from '../../packages/collector/src/pipeline/pipeline.js';

const T = new Uint8Array(16).fill(7);
const id = (n: number): Uint8Array => new Uint8Array(8).fill(n);

const start = (span: number): SpanEvent => ({
  scopeRef: 0n,
  traceId: T,
  spanId: id(span),
  event: {
    $case: 'start',
    value: { parentSpanId: new Uint8Array(0), flags: 1, name: `span-${span}`, kind: 1, startTimeUnixNano: 1n, attributes: [], traceState: '' },
  },
});
const end = (span: number): SpanEvent => ({
  scopeRef: 0n,
  traceId: T,
  spanId: id(span),
  event: { $case: 'end', value: { endTimeUnixNano: 2n, status: undefined, droppedAttributesCount: 0, droppedEventsCount: 0, droppedLinksCount: 0 } },
});
const spanEvent = (span: number): Event => ({
  scopeRef: 0n,
  timeUnixNano: 1n,
  severityNumber: 0,
  severityText: '',
  body: undefined,
  eventNameRef: 5n,
  spanContext: { traceId: T, spanId: id(span), flags: 1 },
  attributes: [],
  observedTimeUnixNano: 0n,
  droppedAttributesCount: 0,
});

function framed<T>(codec: { encode(m: T, w?: BinaryWriter): BinaryWriter }, messages: readonly T[]): Buffer {
  const w = new BinaryWriter();
  for (const m of messages) w.bytes(codec.encode(m).finish());
  return Buffer.from(w.finish());
}

const ring = { offset: 0, numBuffers: 1024, bufferSize: 1024, readerIndex: -1, writerIndex: -1 };

/** A reader whose every read returns the next scripted batch of that ring. */
function scriptedReader(script: { events: Event[][]; spans: SpanEvent[][] }) {
  const queues = [script.events.map((b) => framed(Event, b)), script.spans.map((b) => framed(SpanEvent, b)), []] as Buffer[][];
  return {
    read: (ring: 0 | 1 | 2) => queues[ring].shift() ?? Buffer.alloc(0),
    entry: () => Buffer.alloc(0),
    string: () => '',
    // The pipeline reads the slot sizes once (a batch near --read-bytes may have stopped there).
    info: () => ({
      version: 1,
      startTimeUnixNano: 1n,
      fileSize: 0,
      events: ring,
      spans: ring,
      measurements: ring,
      dictionary: { offset: 0, end: 0, numEntries: 0 },
    }),
    stats: () => ({
      skippedUncommitted: [0, 0, 0],
      corrupt: [0, 0, 0],
      read: [0, 0, 0],
      resyncs: [0, 0, 0],
      resyncSkipped: [0, 0, 0],
      lap32Committed: [0, 0, 0],
    }),
    isReset: () => false,
    truncation: () => null,
    close: () => {},
  };
}

const dictionary: DictionaryView = {
  string: (r) => `name-${r}`,
  resource: () => ({ attributes: [], droppedAttributesCount: 0, entityRefs: [] }),
  scope: (ref) => ({
    ref,
    scope: { name: 's', version: '', attributes: [], droppedAttributesCount: 0 },
    schemaUrl: '',
    resourceRef: 0n,
    resource: { attributes: [], droppedAttributesCount: 0, entityRefs: [] },
    resourceSchemaUrl: '',
  }),
  metric: () => {
    throw new Error('unused');
  },
  anyValue: () => ({ value: undefined }),
  attributes: () => [],
};

function setup(readBatch: number) {
  const traces: otlpTraceService.ExportTraceServiceRequest[] = [];
  const logs: otlpLogsService.ExportLogsServiceRequest[] = [];
  const sinks: SignalSinks = {
    hasRoom: () => true,
    submit: (signal, request) => {
      if (signal === 'traces') traces.push(request as otlpTraceService.ExportTraceServiceRequest);
      if (signal === 'logs') logs.push(request as otlpLogsService.ExportLogsServiceRequest);
    },
  };
  const config = parseConfig(['--input', 'x', '--read-batch', String(readBatch), '--batch-timeout', '100000']);
  const pipeline = new Pipeline(config, dictionary, { record: () => {}, collect: () => [] }, sinks);
  const spans = () => traces.flatMap((r) => r.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));
  const logRecords = () => logs.flatMap((r) => r.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords)));
  return { pipeline, spans, logRecords };
}

test('a span event read after its EndSpan (events ring read first, one cycle later) still lands on the span', (t) => {
  const { pipeline, spans, logRecords } = setup(10);
  const reader = scriptedReader({ events: [[], [spanEvent(1)]], spans: [[start(1), end(1)], []] });
  pipeline.poll(reader);
  pipeline.poll(reader);
  pipeline.flushAll(false);
  t.deepEqual(
    spans().map((s) => [s.name, s.events.map((e) => e.name)]),
    [['span-1', ['name-5']]],
  );
  t.deepEqual(logRecords(), []);
});

test('a span event read before its StartSpan while the spans ring lags waits for the span instead of becoming a log', (t) => {
  const { pipeline, spans, logRecords } = setup(3);
  const reader = scriptedReader({
    events: [[spanEvent(9)]],
    spans: [
      [start(1), end(1), start(2)],
      [start(9), end(9)],
    ],
  });
  pipeline.poll(reader); // spans batch full: the ring lags, the event is kept back
  pipeline.poll(reader); // span 9 starts and ends; the kept event attaches
  pipeline.flushAll(true);
  const nine = spans().find((s) => s.name === 'span-9');
  t.deepEqual(
    nine?.events.map((e) => e.name),
    ['name-5'],
  );
  t.deepEqual(logRecords(), []);
});

test('with the spans ring caught up, an event for an unknown span becomes a log record with its trace context', (t) => {
  const { pipeline, spans, logRecords } = setup(10);
  const reader = scriptedReader({ events: [[spanEvent(4)]], spans: [[start(1)]] });
  pipeline.poll(reader);
  pipeline.flushAll(false);
  t.deepEqual(spans(), [], 'span 1 is still open and not flushed without openSpans');
  t.is(logRecords().length, 1);
  t.deepEqual(logRecords()[0].spanId, id(4));
  t.is(logRecords()[0].eventName, 'name-5');
  t.is(pipeline.events.orphanSpanEvents, 1);
});

test('arbitrary bytes in every ring never stop the pipeline: good messages after them are still exported', async (t) => {
  const fc = await import('fast-check');
  const { FileDictionary } = await import('../../packages/collector/src/dictionary/file-dictionary.js');
  const junkSource = {
    entry: (): Uint8Array => new Uint8Array([0x0a, 0x05, 0xff]),
    string: (ref: number): string =>
      ref % 3 === 0
        ? 'k'
        : (() => {
            throw new Error('bad reference');
          })(),
  };
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }),
      fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }),
      (eventJunk, spanJunk) => {
        const { pipeline, spans } = setup(1000);
        const frame = (messages: readonly Uint8Array[]): Buffer => {
          const w = new BinaryWriter();
          for (const m of messages) w.bytes(m);
          return Buffer.from(w.finish());
        };
        const batches = [
          [frame(eventJunk)],
          [frame([...spanJunk, SpanEvent.encode(start(42)).finish(), SpanEvent.encode(end(42)).finish()])],
          [frame(eventJunk)],
        ];
        const reader = { ...scriptedReader({ events: [], spans: [] }), read: (ring: 0 | 1 | 2) => batches[ring].shift() ?? Buffer.alloc(0) };
        pipeline.useFile(new FileDictionary(junkSource), { record: () => {}, collect: () => [] });
        pipeline.poll(reader);
        pipeline.poll(reader);
        pipeline.flushAll(true);
        return spans().some((s) => s.name === 'span-42');
      },
    ),
    { numRuns: 200 },
  );
  t.pass();
});

test('a read that may have stopped at --read-bytes counts as a full one: the pipeline reads again at once', (t) => {
  const { pipeline } = setup(1000);
  const config = parseConfig(['--input', 'x', '--read-bytes', '4096']);
  const bounded = new Pipeline(config, dictionary, { record: () => {}, collect: () => [] }, { hasRoom: () => true, submit: () => {} });
  // Slots of 1024 bytes: a batch over 4096 - 1024 bytes may have left the next message in the ring.
  const big = (n: number): Event => ({ ...spanEvent(n), attributes: [], severityText: 'x'.repeat(900) });
  t.true(bounded.poll(scriptedReader({ events: [[big(1), big(2), big(3), big(4)]], spans: [] })).more, 'a batch near the byte bound');
  t.false(bounded.poll(scriptedReader({ events: [[big(5)]], spans: [] })).more, 'a batch far below it');
  t.false(pipeline.poll(scriptedReader({ events: [[big(6), big(7), big(8), big(9)]], spans: [] })).more, 'with the default bound of 64 MiB');
});
