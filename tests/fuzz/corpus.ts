/**
 * Seeds of the Node fuzz: files written by the real SDK through the OpenTelemetry API (spans with every
 * kind of attribute, links, events, exceptions, renames, late attributes, one left open; log records with
 * every kind of body; every kind of instrument, explicit and exponential histograms), and one written
 * through the binding's Writer with what the SDK never writes (see writeHandMadeSeed); each kept as the
 * file's bytes and as the ring messages and dictionary they hold.
 */
import { readFileSync } from 'node:fs';
import { SpanKind, SpanStatusCode, ValueType, type Attributes } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { Reader, Writer } from '@otlp-mmap/native';
import { AnyValue, Event, InstrumentationScope, Measurement, MetricRef, Resource, SpanEvent } from '@otlp-mmap/protocol';
import { startMmapSdk } from '@otlp-mmap/sdk';
import { tempDir } from '../helpers/files.js';

/** One seed file. */
export interface Seed {
  /** The whole file as the SDK left it (nothing read yet). */
  readonly file: Uint8Array;
  /** The messages of each ring [events, spans, measurements]. */
  readonly messages: readonly (readonly Uint8Array[])[];
  /** The file from its start to the end of the dictionary's last entry (references are offsets into it). */
  readonly dictionary: Uint8Array;
  /** File offset of the first dictionary entry. */
  readonly firstEntry: number;
  /** References of the entries, in file order. */
  readonly entries: readonly number[];
  /** Where the rings are: [events, spans, measurements]. */
  readonly rings: readonly RingLayout[];
}

/** A ring's place in the file (FORMAT.md 3). */
export interface RingLayout {
  readonly offset: number;
  readonly slots: number;
  readonly slotSize: number;
}

/** Small rings and dictionary: a seed file is a few hundred KiB. */
const SDK_FILE = {
  events: { slots: 128, slotSize: 1024 },
  spans: { slots: 128, slotSize: 2048 },
  measurements: { slots: 256, slotSize: 512 },
  dictionarySize: 64 * 1024,
} as const;

const ATTRIBUTES: Attributes = {
  'http.request.method': 'GET',
  'url.path': '/api/v1/users/12345',
  'http.response.status_code': 200,
  'server.port': 443,
  'big.int': 2 ** 40,
  'negative.int': -7,
  ratio: 0.25,
  'cache.hit': true,
  'text.utf8': 'héllo ✓',
  'list.int': [1, 2, 3],
  'list.string': ['a', 'b'],
};

export async function buildSeeds(): Promise<Seed[]> {
  const tmp = tempDir('otlp-mmap-fuzz-seed-');
  try {
    return [
      await writeSeed(tmp.file('explicit.mmap'), 'explicit'),
      await writeSeed(tmp.file('exponential.mmap'), 'exponential'),
      readSeed(writeHandMadeSeed(tmp.file('hand-made.mmap'))),
    ];
  } finally {
    tmp.cleanup();
  }
}

/**
 * What the SDK never writes but a file may hold, written through the binding's Writer: value_ref
 * chains and loops, references to the wrong kind of entry, metric definitions with odd aggregations
 * (unsorted and non-finite histogram boundaries, extreme exponential histogram parameters, unknown
 * temporalities), extreme values and enums.
 */
function writeHandMadeSeed(path: string): string {
  const w = Writer.create(path, SDK_FILE);
  const str = (s: string): bigint => BigInt(w.internString(s));
  const entry = (bytes: Uint8Array): bigint => BigInt(w.addEntry(bytes));
  const text = (value: string): AnyValue => ({ value: { $case: 'stringValue', value } });
  const ref = (value: bigint): AnyValue => ({ value: { $case: 'valueRef', value } });
  const resource = entry(
    Resource.encode({
      attributes: [{ keyRef: str('service.name'), value: text('hand-made') }],
      droppedAttributesCount: 0,
      schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
    }).finish(),
  );
  const scope = entry(
    InstrumentationScope.encode({
      nameRef: str('hand'),
      versionRef: str('0'),
      attributes: [],
      droppedAttributesCount: 0,
      resourceRef: resource,
      schemaUrl: 'https://example.com/hand',
    }).finish(),
  );
  const leaf = entry(AnyValue.encode(text('leaf')).finish());
  const middle = entry(AnyValue.encode(ref(leaf)).finish());
  const top = entry(AnyValue.encode({ value: { $case: 'kvlistValue', value: { values: [{ keyRef: str('k'), value: ref(middle) }] } } }).finish());
  // An entry whose value_ref points at itself: its reference is where the dictionary ends now.
  const selfRef = BigInt(w.info().dictionary.end);
  entry(AnyValue.encode(ref(selfRef)).finish());
  const values: AnyValue[] = [
    ref(top),
    ref(selfRef),
    ref(str('a string, not an AnyValue')),
    ref(1n << 50n),
    { value: { $case: 'doubleValue', value: Number.NaN } },
    { value: { $case: 'intValue', value: -(2n ** 63n) } },
  ];
  const attributes = values.map((value, i) => ({ keyRef: str(`v${i}`), value }));
  const metric = (name: string, aggregation: MetricRef['aggregation']): bigint =>
    entry(MetricRef.encode({ name, description: '', unit: '', instrumentationScopeRef: scope, aggregation }).finish());
  const metrics = [
    metric('odd.bounds', {
      $case: 'histogram',
      value: { aggregationTemporality: 2, bucketBoundaries: [5, Number.NaN, 1, Number.POSITIVE_INFINITY, -0, Number.NEGATIVE_INFINITY, 5] },
    }),
    metric('many.bounds', { $case: 'histogram', value: { aggregationTemporality: 1, bucketBoundaries: Array.from({ length: 50 }, (_, i) => i * 0.5) } }),
    metric('exp.extreme', { $case: 'expHist', value: { aggregationTemporality: 1, maxBuckets: 1n << 40n, maxScale: 100n } }),
    metric('exp.tiny', { $case: 'expHist', value: { aggregationTemporality: 2, maxBuckets: 1n, maxScale: -100n } }),
    metric('sum.unknown', { $case: 'sum', value: { aggregationTemporality: 99 as never, isMonotonic: true } }),
    metric('sum.cumulative', { $case: 'sum', value: { aggregationTemporality: 2, isMonotonic: true } }),
    metric('gauge', { $case: 'gauge', value: {} }),
  ];
  const time = 1_700_000_000_000_000_000n;
  const measurementValues: NonNullable<Measurement['value']>[] = [
    { $case: 'asDouble', value: 1e308 },
    { $case: 'asDouble', value: -1e-320 },
    { $case: 'asDouble', value: Number.POSITIVE_INFINITY },
    { $case: 'asDouble', value: -0 },
    { $case: 'asLong', value: 2n ** 63n - 1n },
    { $case: 'asLong', value: -(2n ** 63n) },
    { $case: 'asDouble', value: 3.5 },
  ];
  for (const metricRef of metrics) {
    for (const value of measurementValues) {
      w.append(2 as never, Measurement.encode({ metricRef, attributes: attributes.slice(0, 2), timeUnixNano: time, value, spanContext: undefined }).finish());
    }
  }
  const traceId = new Uint8Array(16).fill(0xab);
  for (let i = 1; i <= 4; i++) {
    const spanId = new Uint8Array(8).fill(i);
    const span = (event: SpanEvent['event']): void => {
      w.append(1 as never, SpanEvent.encode({ scopeRef: scope, traceId, spanId, event }).finish());
    };
    span({
      $case: 'start',
      value: {
        parentSpanId: new Uint8Array(8).fill(i - 1),
        flags: 0xffffffff,
        name: `hand ${i}`,
        kind: 99 as never,
        startTimeUnixNano: 2n ** 64n - 1n,
        attributes,
        traceState: 'vendor=hand,other=made',
      },
    });
    span({ $case: 'attributes', value: { attributes } });
    span({
      $case: 'link',
      value: { links: [{ traceId, spanId: new Uint8Array(8).fill(9), traceState: 'a=b', attributes, droppedAttributesCount: 2 ** 32 - 1, flags: 0x300 }] },
    });
    span({ $case: 'name', value: { name: 'renamed' } });
    w.append(
      0 as never,
      Event.encode({
        scopeRef: scope,
        timeUnixNano: time,
        severityNumber: 0,
        severityText: '',
        body: undefined,
        eventNameRef: str('hand.event'),
        spanContext: { traceId, spanId, flags: 1 },
        attributes,
        observedTimeUnixNano: time + 1n,
        droppedAttributesCount: 3,
      }).finish(),
    );
    if (i % 2 === 0)
      span({
        $case: 'end',
        value: {
          endTimeUnixNano: 0n,
          status: { message: 'x', code: 7 as never },
          droppedAttributesCount: 2 ** 32 - 1,
          droppedEventsCount: 1,
          droppedLinksCount: 2,
        },
      });
  }
  for (const body of values) {
    w.append(
      0 as never,
      Event.encode({
        scopeRef: scope,
        timeUnixNano: time,
        severityNumber: 99 as never,
        severityText: 'ODD',
        body,
        eventNameRef: 0n,
        spanContext: undefined,
        attributes,
        observedTimeUnixNano: 0n,
        droppedAttributesCount: 0,
      }).finish(),
    );
  }
  w.close();
  return path;
}

/** A seed from a file nothing has read yet. */
function readSeed(path: string): Seed {
  const file = new Uint8Array(readFileSync(path));
  const reader = Reader.open(path);
  try {
    const info = reader.info();
    const messages = [0, 1, 2].map((ring) => drain(reader, ring));
    const firstEntry = info.dictionary.offset + 64;
    const dictionary = file.slice(0, info.dictionary.end);
    const rings = [info.events, info.spans, info.measurements].map((r) => ({ offset: r.offset, slots: r.numBuffers, slotSize: r.bufferSize }));
    return { file, messages, dictionary, firstEntry, entries: entryRefs(dictionary, firstEntry), rings };
  } finally {
    reader.close();
  }
}

async function writeSeed(path: string, histograms: 'explicit' | 'exponential'): Promise<Seed> {
  const sdk = startMmapSdk({
    path,
    serviceName: 'fuzz-seed',
    registerGlobals: false,
    metricCollectionIntervalMillis: 3_600_000,
    histogramAggregation: histograms,
    ...SDK_FILE,
  });
  const tracer = sdk.tracerProvider.getTracer('fuzz-tracer', '1.0.0');
  const logger = sdk.loggerProvider.getLogger('fuzz-logger');
  const meter = sdk.meterProvider.getMeter('fuzz-meter');

  const parent = tracer.startSpan('GET /users/:id', { kind: SpanKind.SERVER, attributes: ATTRIBUTES });
  const child = tracer.startSpan('db.query', {
    attributes: { 'db.system': 'postgresql' },
    links: [{ context: parent.spanContext(), attributes: { 'link.kind': 'follows' } }],
  });
  child.addEvent('checkpoint', { step: 1, ok: true });
  child.recordException(new Error('kaboom'));
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'failed' });
  child.setAttribute('late.attribute', 42);
  child.updateName('db.query renamed');
  child.end();
  tracer
    .startSpan('with many attributes', { attributes: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`key.${i}`, `value ${i}`.repeat(8)])) })
    .end();
  for (let i = 0; i < 5; i++) tracer.startSpan('repeated', { attributes: ATTRIBUTES }).end();
  tracer.startSpan('left open', { attributes: { open: true } });
  parent.end();

  logger.emit({ severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: 'a plain message', attributes: ATTRIBUTES });
  logger.emit({ body: { user: { id: 7, roles: ['a', 'b'] }, when: new Date(0), raw: new Uint8Array([1, 2, 3]), big: 2n ** 70n } as never });
  logger.emit({ body: [1, 'two', 3.5, false, null], eventName: 'custom.event' });
  logger.emit({ severityNumber: SeverityNumber.ERROR, body: 'failure', exception: new Error('boom'), attributes: { n: -1 } });
  logger.emit({ body: 12345678901234n as never });

  const counter = meter.createCounter('requests', { valueType: ValueType.INT });
  const updown = meter.createUpDownCounter('in.flight');
  const histogram = meter.createHistogram('latency', { unit: 'ms' });
  const gauge = meter.createGauge('temperature');
  for (let i = 0; i < 6; i++) {
    counter.add(1, { route: '/a', code: 200 });
    updown.add(i % 2 === 0 ? 1 : -1, { pool: 'main' });
    histogram.record(i * 3.5, { route: i % 2 === 0 ? '/a' : '/b' });
    gauge.record(20 + i, { room: 'lab' });
  }
  counter.add(2);
  meter.createObservableGauge('observed').addCallback((r) => r.observe(3, { source: 'cb' }));
  meter.createObservableCounter('observed.total').addCallback((r) => r.observe(10));
  await sdk.forceFlush();
  await sdk.shutdown();
  return readSeed(path);
}

function drain(reader: Reader, ring: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (;;) {
    const batch = reader.read(ring as never, 1024);
    if (batch.length === 0) return out;
    out.push(...splitFramed(batch));
  }
}

/** The messages of a read batch (each a varint length, then the bytes). */
export function splitFramed(batch: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let pos = 0;
  while (pos < batch.length) {
    const [length, at] = readVarint(batch, pos);
    out.push(batch.slice(at, at + length));
    pos = at + length;
  }
  return out;
}

function readVarint(bytes: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (;;) {
    const b = bytes[pos++];
    value += (b & 127) * scale;
    if (b < 128) return [value, pos];
    scale *= 128;
  }
}

function entryRefs(dictionary: Uint8Array, first: number): number[] {
  const refs: number[] = [];
  let at = first;
  while (at < dictionary.length) {
    refs.push(at);
    const [length, next] = readVarint(dictionary, at);
    at = next + length;
  }
  return refs;
}
