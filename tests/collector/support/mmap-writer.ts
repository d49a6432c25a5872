/**
 * Test-side writer of OTLP-MMAP files: the binding's Writer plus builders
 * for the messages of FORMAT.md section 5, encoded with the generated
 * ts-proto code. Lets tests produce exact (and deliberately malformed) input
 * without the SDK.
 */
import { createRequire } from 'node:module';
import {
  AnyValue,
  Event,
  InstrumentationScope,
  Measurement,
  Resource,
  SpanEvent,
  SpanKind,
  StatusCode,
  type KeyValueRef,
  type Link,
} from '@otlp-mmap/protocol';

export const RING_EVENTS = 0;
export const RING_SPANS = 1;
export const RING_MEASUREMENTS = 2;

interface NativeWriter {
  append(ring: number, message: Uint8Array, length?: number): boolean;
  addEntry(bytes: Uint8Array): number;
  internString(value: string): number;
  info(): { events: { offset: number; readerIndex: number; writerIndex: number }; spans: { offset: number; readerIndex: number; writerIndex: number } };
  close(): void;
}
interface NativeModule {
  Writer: {
    create(path: string, options?: Record<string, unknown>): NativeWriter;
    attach(path: string): NativeWriter;
  };
}
const native = createRequire(import.meta.url)('@otlp-mmap/native') as NativeModule;

/** An attribute value as tests write it. */
export type TestValue = string | number | boolean | bigint | Uint8Array | AnyValue;

export function anyValue(v: TestValue): AnyValue {
  if (typeof v === 'string') return { value: { $case: 'stringValue', value: v } };
  if (typeof v === 'boolean') return { value: { $case: 'boolValue', value: v } };
  if (typeof v === 'bigint') return { value: { $case: 'intValue', value: v } };
  if (typeof v === 'number') return Number.isInteger(v) ? { value: { $case: 'intValue', value: BigInt(v) } } : { value: { $case: 'doubleValue', value: v } };
  if (v instanceof Uint8Array) return { value: { $case: 'bytesValue', value: v } };
  return v;
}

export function ids(trace: number, span: number): { traceId: Uint8Array; spanId: Uint8Array } {
  const traceId = new Uint8Array(16);
  new DataView(traceId.buffer).setUint32(12, trace);
  traceId[0] = 0xab;
  const spanId = new Uint8Array(8);
  new DataView(spanId.buffer).setUint32(4, span);
  spanId[0] = 0xcd;
  return { traceId, spanId };
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export class TestWriter {
  readonly native: NativeWriter;
  constructor(
    readonly path: string,
    options?: Record<string, unknown>,
    attach = false,
  ) {
    this.native = attach ? native.Writer.attach(path) : native.Writer.create(path, options);
  }

  attrs(record: Record<string, TestValue>): KeyValueRef[] {
    return Object.entries(record).map(([k, v]) => ({ keyRef: BigInt(this.native.internString(k)), value: anyValue(v) }));
  }

  resource(attributes: Record<string, TestValue>, schemaUrl = ''): bigint {
    return BigInt(this.native.addEntry(Resource.encode({ attributes: this.attrs(attributes), droppedAttributesCount: 0, schemaUrl }).finish()));
  }

  scope(name: string, resourceRef: bigint, version = '1.0.0', schemaUrl = ''): bigint {
    return BigInt(
      this.native.addEntry(
        InstrumentationScope.encode({
          nameRef: BigInt(this.native.internString(name)),
          versionRef: BigInt(this.native.internString(version)),
          attributes: [],
          droppedAttributesCount: 0,
          resourceRef,
          schemaUrl,
        }).finish(),
      ),
    );
  }

  /** Adds a dictionary entry holding an AnyValue (for value_ref). */
  valueEntry(value: AnyValue): bigint {
    return BigInt(this.native.addEntry(AnyValue.encode(value).finish()));
  }

  span(message: SpanEvent): void {
    if (!this.native.append(RING_SPANS, SpanEvent.encode(message).finish())) throw new Error('spans ring full');
  }

  startSpan(scopeRef: bigint, trace: number, span: number, name: string, attributes: Record<string, TestValue> = {}, parent?: number, traceState = ''): void {
    this.span({
      scopeRef,
      ...ids(trace, span),
      event: {
        $case: 'start',
        value: {
          parentSpanId: parent === undefined ? new Uint8Array(0) : ids(trace, parent).spanId,
          flags: 1,
          name,
          kind: SpanKind.SPAN_KIND_INTERNAL,
          startTimeUnixNano: 1_700_000_000_000_000_000n + BigInt(span),
          attributes: this.attrs(attributes),
          traceState,
        },
      },
    });
  }

  rename(scopeRef: bigint, trace: number, span: number, name: string): void {
    this.span({ scopeRef, ...ids(trace, span), event: { $case: 'name', value: { name } } });
  }

  updateAttributes(scopeRef: bigint, trace: number, span: number, attributes: Record<string, TestValue>): void {
    this.span({ scopeRef, ...ids(trace, span), event: { $case: 'attributes', value: { attributes: this.attrs(attributes) } } });
  }

  addLinks(scopeRef: bigint, trace: number, span: number, links: Link[]): void {
    this.span({ scopeRef, ...ids(trace, span), event: { $case: 'link', value: { links } } });
  }

  endSpan(
    scopeRef: bigint,
    trace: number,
    span: number,
    code = StatusCode.STATUS_CODE_UNSET,
    message = '',
    dropped: { attributes?: number; events?: number; links?: number } = {},
  ): void {
    this.span({
      scopeRef,
      ...ids(trace, span),
      event: {
        $case: 'end',
        value: {
          endTimeUnixNano: 1_700_000_001_000_000_000n + BigInt(span),
          status: { code, message },
          droppedAttributesCount: dropped.attributes ?? 0,
          droppedEventsCount: dropped.events ?? 0,
          droppedLinksCount: dropped.links ?? 0,
        },
      },
    });
  }

  event(message: Partial<Event>): boolean {
    const full: Event = {
      scopeRef: 0n,
      timeUnixNano: 1_700_000_000_500_000_000n,
      severityNumber: 0,
      severityText: '',
      body: undefined,
      eventNameRef: 0n,
      spanContext: undefined,
      attributes: [],
      observedTimeUnixNano: 0n,
      droppedAttributesCount: 0,
      ...message,
    };
    return this.native.append(RING_EVENTS, Event.encode(full).finish());
  }

  /** An event recorded on a span (FORMAT.md 7.4). */
  spanEvent(scopeRef: bigint, trace: number, span: number, name: string, attributes: Record<string, TestValue> = {}): void {
    const { traceId, spanId } = ids(trace, span);
    if (
      !this.event({
        scopeRef,
        eventNameRef: BigInt(this.native.internString(name)),
        spanContext: { traceId, spanId, flags: 1 },
        attributes: this.attrs(attributes),
      })
    )
      throw new Error('events ring full');
  }

  log(scopeRef: bigint, body: string, attributes: Record<string, TestValue> = {}, severityNumber = 9): boolean {
    return this.event({ scopeRef, body: anyValue(body), severityNumber, severityText: 'INFO', attributes: this.attrs(attributes) });
  }

  measurement(m: Measurement): boolean {
    return this.native.append(RING_MEASUREMENTS, Measurement.encode(m).finish());
  }

  close(): void {
    this.native.close();
  }
}
