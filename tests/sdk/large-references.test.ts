/**
 * Dictionary references are file offsets: a file of 256 MiB or more has key references of 2^28 and up
 * (5-byte varints), one past 4 GiB references of 2^32 and up. Every encoder shortcut of the SDK (the
 * one-pass KeyValueRef writers, the span-start memo, the measurement attribute memo) must write every
 * attribute whatever the size of its key reference.
 *
 * The SDK runs here on a stand-in for the binding's Writer that hands out dictionary references from a
 * chosen base and keeps what is appended; each message is decoded back with @otlp-mmap/protocol's
 * generated decoders (and the collector's ring decoders, which must agree) and its key references
 * resolved through the stand-in's dictionary.
 */
import { diag, DiagLogLevel, SpanKind, ValueType, type Attributes } from '@opentelemetry/api';
import { AlwaysOnSampler, ParentBasedSampler } from '@opentelemetry/sdk-trace-base';
import {
  type AnyValue,
  Event,
  EventDecoder,
  type KeyValueRef,
  Measurement,
  MeasurementDecoder,
  Resource,
  SpanEvent,
  SpanEventDecoder,
} from '@otlp-mmap/protocol';
import test from 'ava';
import { internResource } from '../../packages/sdk/src/file/entries.js';
import { MmapFile } from '../../packages/sdk/src/file/mmap-file.js';
import { MmapLoggerProvider } from '../../packages/sdk/src/logs/logger-provider.js';
import { MmapMeterProvider } from '../../packages/sdk/src/metrics/meter-provider.js';
import { MmapTracerProvider } from '../../packages/sdk/src/trace/tracer-provider.js';

const EVENTS = 0;
const SPANS = 1;
const MEASUREMENTS = 2;

/** First reference handed out, per case: varints of 1, 2, 3, 4, 5, 6 and 8 bytes, up to the largest safe integer. */
const BASES: [string, number][] = [
  ['1 byte', 1],
  ['2 bytes (2^7)', 2 ** 7],
  ['3 bytes (2^14)', 2 ** 14],
  ['4 bytes (2^21)', 2 ** 21],
  ['5 bytes (2^28)', 2 ** 28],
  ['5 bytes (2^32)', 2 ** 32],
  ['6 bytes (2^35)', 2 ** 35],
  ['8 bytes (2^53 - 4096)', Number.MAX_SAFE_INTEGER - 4096],
];

/** The binding's Writer as far as the SDK uses it: references from `base` up, appends kept. */
class RecordingWriter {
  private next: number;
  readonly strings = new Map<number, string>();
  readonly entries = new Map<number, Uint8Array>();
  readonly messages: Uint8Array[][] = [[], [], []];

  constructor(base: number) {
    this.next = base;
  }

  internString(value: string): number {
    for (const [ref, s] of this.strings) if (s === value) return ref;
    const ref = this.next++;
    this.strings.set(ref, value);
    return ref;
  }

  intern(bytes: Uint8Array): number {
    const ref = this.next++;
    this.entries.set(ref, Uint8Array.from(bytes));
    return ref;
  }

  append(ring: number, message: Uint8Array, length?: number | null): boolean {
    this.messages[ring].push(Uint8Array.from(message.subarray(0, length ?? message.length)));
    return true;
  }

  maxMessageSize(): number {
    return 4000;
  }

  sync(): void {}
  close(): void {}
}

type Plain = string | boolean | bigint | number | null | Plain[] | { [key: string]: Plain };

/** Resolves key references through the writer's strings; a reference it never gave out fails the test. */
function resolver(writer: RecordingWriter): { attrs: (kvs: KeyValueRef[]) => Record<string, Plain>; value: (v: AnyValue | undefined) => Plain } {
  const key = (ref: bigint): string => {
    const s = writer.strings.get(Number(ref));
    if (s === undefined) throw new Error(`key reference ${ref} was never handed out`);
    return s;
  };
  const value = (v: AnyValue | undefined): Plain => {
    const inner = v?.value;
    if (inner === undefined) return null;
    switch (inner.$case) {
      case 'arrayValue':
        return inner.value.values.map(value);
      case 'kvlistValue':
        return attrs(inner.value.values);
      case 'bytesValue':
      case 'valueRef':
        throw new Error(`unexpected ${inner.$case}`);
      default:
        return inner.value;
    }
  };
  const attrs = (kvs: KeyValueRef[]): Record<string, Plain> => Object.fromEntries(kvs.map((kv) => [key(kv.keyRef), value(kv.value)]));
  return { attrs, value };
}

/** One value of every kind, each taking another path of the encoder. */
const ATTRIBUTES: Attributes = {
  'http.request.method': 'GET', // short ASCII string
  'http.response.status_code': 200, // small non-negative integer
  'zero.count': 0,
  'big.int': 2 ** 40, // safe integer beyond 2^28
  'negative.int': -5,
  'double.value': 1.5,
  'unsafe.int': 2 ** 60, // not a safe integer: a double
  'flag.true': true,
  'flag.false': false,
  'text.value': 'héllo', // non-ASCII: the general path
  'array.value': [1, 2, 3],
};
const EXPECTED: Record<string, Plain> = {
  'http.request.method': 'GET',
  'http.response.status_code': 200n,
  'zero.count': 0n,
  'big.int': 2n ** 40n,
  'negative.int': -5n,
  'double.value': 1.5,
  'unsafe.int': 2 ** 60,
  'flag.true': true,
  'flag.false': false,
  'text.value': 'héllo',
  'array.value': [1n, 2n, 3n],
};
/** Measurement attributes: the measurement fast paths (ASCII strings, small integers) and the general ones. */
const METRIC_ATTRIBUTES: Attributes = { 'http.route': '/users/:id', 'server.port': 443, ok: true, ratio: 0.25 };
const METRIC_EXPECTED: Record<string, Plain> = { 'http.route': '/users/:id', 'server.port': 443n, ok: true, ratio: 0.25 };

function sdkOn(writer: RecordingWriter): {
  file: MmapFile;
  tracers: MmapTracerProvider;
  loggers: MmapLoggerProvider;
  meters: MmapMeterProvider;
  resourceRef: number;
} {
  const file = new MmapFile(writer as never);
  const resourceRef = internResource(file.dictionary, ATTRIBUTES, undefined);
  const limits = {
    attributeCountLimit: 128,
    attributeValueLengthLimit: Infinity,
    eventCountLimit: 128,
    linkCountLimit: 128,
    attributePerEventCountLimit: 128,
    attributePerLinkCountLimit: 128,
  };
  const tracers = new MmapTracerProvider({ file, limits, sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }), defaultSampler: true }, resourceRef);
  const loggers = new MmapLoggerProvider(file, resourceRef, { attributeCountLimit: 128, attributeValueLengthLimit: Infinity });
  const meters = new MmapMeterProvider(file, resourceRef, 3_600_000, false);
  return { file, tracers, loggers, meters, resourceRef };
}

/** Decodes with the generated decoder, and checks the ring decoder reads the same. */
function decodeAll<T>(messages: Uint8Array[], generated: { decode(b: Uint8Array): T }, ring: { decode(b: Uint8Array): T }): T[] {
  return messages.map((m) => {
    const message = generated.decode(m);
    const fast = ring.decode(m);
    if (JSON.stringify(fast, jsonBigInt) !== JSON.stringify(message, jsonBigInt)) throw new Error('the ring decoder disagrees with the generated one');
    return message;
  });
}

function jsonBigInt(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `${value}n` : value instanceof Uint8Array ? Buffer.from(value).toString('hex') : value;
}

for (const [label, base] of BASES) {
  test(`span start attributes of every kind arrive with key references of ${label}, memo replay included`, (t) => {
    const writer = new RecordingWriter(base);
    const { file, tracers } = sdkOn(writer);
    const tracer = tracers.getTracer('large-refs');
    // The second and third spans repeat the first one's attributes: replayed from the span-start memo.
    for (let i = 0; i < 3; i++) tracer.startSpan('GET /users/:id', { kind: SpanKind.SERVER, attributes: ATTRIBUTES }).end();
    const r = resolver(writer);
    const starts = decodeAll(writer.messages[SPANS], SpanEvent, SpanEventDecoder).filter((m) => m.event?.$case === 'start');
    t.is(starts.length, 3);
    for (const m of starts) t.deepEqual(r.attrs(m.event?.$case === 'start' ? m.event.value.attributes : []), EXPECTED);
    t.deepEqual(file.droppedCounts(), { spans: 0, events: 0, measurements: 0, attributes: 0, truncatedAttributes: 0 });
  });

  test(`attributes set after the start, span events and links arrive with key references of ${label}`, (t) => {
    const writer = new RecordingWriter(base);
    const { file, tracers } = sdkOn(writer);
    const tracer = tracers.getTracer('large-refs');
    const linked = tracer.startSpan('linked');
    const span = tracer.startSpan('s', { links: [{ context: linked.spanContext(), attributes: ATTRIBUTES }] });
    span.setAttribute('late.int', 7);
    span.setAttribute('late.bool', true);
    span.setAttribute('late.double', 2.5);
    span.setAttributes(ATTRIBUTES);
    span.addEvent('checkpoint', ATTRIBUTES);
    span.end();
    linked.end();
    const r = resolver(writer);
    const spans = decodeAll(writer.messages[SPANS], SpanEvent, SpanEventDecoder);
    const updates: Record<string, Plain> = {};
    for (const m of spans) if (m.event?.$case === 'attributes') Object.assign(updates, r.attrs(m.event.value.attributes));
    t.deepEqual(updates, { 'late.int': 7n, 'late.bool': true, 'late.double': 2.5, ...EXPECTED });
    const links = spans.flatMap((m) => (m.event?.$case === 'link' ? m.event.value.links : []));
    t.is(links.length, 1, 'the link, written after the start');
    t.deepEqual(r.attrs(links[0].attributes), EXPECTED);
    const [event] = decodeAll(writer.messages[EVENTS], Event, EventDecoder);
    t.is(writer.strings.get(Number(event.eventNameRef)), 'checkpoint');
    t.deepEqual(r.attrs(event.attributes), EXPECTED);
    t.deepEqual(file.droppedCounts(), { spans: 0, events: 0, measurements: 0, attributes: 0, truncatedAttributes: 0 });
  });

  test(`log record attributes and bodies arrive with key references of ${label}`, (t) => {
    const writer = new RecordingWriter(base);
    const { file, loggers } = sdkOn(writer);
    const logger = loggers.getLogger('large-refs');
    logger.emit({ body: { count: 3, ok: true, ratio: 0.5, name: 'x' }, attributes: ATTRIBUTES });
    logger.emit({ body: 'plain', attributes: ATTRIBUTES });
    const r = resolver(writer);
    const records = decodeAll(writer.messages[EVENTS], Event, EventDecoder);
    t.is(records.length, 2);
    t.deepEqual(r.value(records[0].body), { count: 3n, ok: true, ratio: 0.5, name: 'x' });
    for (const record of records) t.deepEqual(r.attrs(record.attributes), EXPECTED);
    t.deepEqual(file.droppedCounts(), { spans: 0, events: 0, measurements: 0, attributes: 0, truncatedAttributes: 0 });
  });

  test(`measurement attributes arrive with key references of ${label}, attribute memo included`, async (t) => {
    const writer = new RecordingWriter(base);
    const { file, meters } = sdkOn(writer);
    const meter = meters.getMeter('large-refs');
    const counter = meter.createCounter('requests', { valueType: ValueType.INT });
    const histogram = meter.createHistogram('latency');
    const ints = { 'http.route': '/users/:id', 'server.port': 443, 'http.response.status_code': 200 };
    // Repeated: the second and third are copied from the instrument's attribute memo.
    for (let i = 0; i < 3; i++) counter.add(1, ints);
    histogram.record(12.5, METRIC_ATTRIBUTES);
    histogram.record(12.5, ATTRIBUTES);
    await meters.shutdown();
    const r = resolver(writer);
    const measurements = decodeAll(writer.messages[MEASUREMENTS], Measurement, MeasurementDecoder);
    t.is(measurements.length, 5);
    for (const m of measurements.slice(0, 3)) {
      t.deepEqual(r.attrs(m.attributes), { 'http.route': '/users/:id', 'server.port': 443n, 'http.response.status_code': 200n });
    }
    t.deepEqual(r.attrs(measurements[3].attributes), METRIC_EXPECTED);
    t.deepEqual(r.attrs(measurements[4].attributes), EXPECTED);
    // Each measurement names its metric definition, an entry the writer holds.
    for (const m of measurements) t.true(writer.entries.has(Number(m.metricRef)));
    t.deepEqual(file.droppedCounts(), { spans: 0, events: 0, measurements: 0, attributes: 0, truncatedAttributes: 0 });
  });

  test(`resource attributes arrive with key references of ${label}`, (t) => {
    const writer = new RecordingWriter(base);
    const { resourceRef } = sdkOn(writer);
    t.deepEqual(resolver(writer).attrs(Resource.decode(writer.entries.get(resourceRef)!).attributes), EXPECTED);
  });
}

test('an attribute that cannot be written (no key, a function, a symbol) is counted as dropped and reported to diag', (t) => {
  const warnings: string[] = [];
  const logger = { error: () => {}, warn: (m: string) => warnings.push(m), info: () => {}, debug: () => {}, verbose: () => {} };
  diag.setLogger(logger, DiagLogLevel.WARN);
  t.teardown(() => diag.disable());
  const writer = new RecordingWriter(2 ** 35);
  const { file, tracers, loggers } = sdkOn(writer);
  const bad = { '': 'no key', fn: () => 1, sym: Symbol('s'), kept: 3 } as unknown as Attributes;
  tracers.getTracer('t').startSpan('s', { attributes: bad }).end();
  loggers.getLogger('l').emit({ body: 'b', attributes: bad });
  t.is(file.droppedCounts().attributes, 6, 'three per record');
  t.is(warnings.length, 6);
  const r = resolver(writer);
  const [start] = decodeAll(writer.messages[SPANS], SpanEvent, SpanEventDecoder);
  t.deepEqual(r.attrs(start.event?.$case === 'start' ? start.event.value.attributes : []), { kept: 3n });
  const [record] = decodeAll(writer.messages[EVENTS], Event, EventDecoder);
  t.deepEqual(r.attrs(record.attributes), { kept: 3n });
});
