/**
 * Test support: start the SDK on a fresh file in a temporary directory, and
 * read what it wrote back through the binding's Reader, decoded with the
 * ts-proto types of @otlp-mmap/protocol, with dictionary references resolved.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reader } from '@otlp-mmap/native';
import { type AnyValue, BinaryReader, Event, InstrumentationScope, type KeyValueRef, Measurement, MetricRef, Resource, SpanEvent } from '@otlp-mmap/protocol';
import { type MmapSdk, type MmapSdkOptions, startMmapSdk } from '@otlp-mmap/sdk';

export const EVENTS = 0;
export const SPANS = 1;
export const MEASUREMENTS = 2;

/** A fresh path in a new temporary directory (removed by `cleanup`). */
export function tempPath(): { path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'otlp-mmap-sdk-'));
  return { path: join(dir, 'telemetry.mmap'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** An SDK on a fresh file, not registered globally unless asked. */
export function startTestSdk(options: MmapSdkOptions = {}): { sdk: MmapSdk; path: string; cleanup: () => Promise<void> } {
  const tmp = tempPath();
  const sdk = startMmapSdk({ path: tmp.path, registerGlobals: false, metricCollectionIntervalMillis: 3_600_000, ...options });
  return {
    sdk,
    path: tmp.path,
    cleanup: async () => {
      await sdk.shutdown();
      tmp.cleanup();
    },
  };
}

/** Splits a Reader.read() buffer into message bodies. */
export function splitMessages(buf: Buffer): Uint8Array[] {
  const out: Uint8Array[] = [];
  const r = new BinaryReader(buf);
  while (r.pos < r.len) out.push(r.bytes());
  return out;
}

/** Decoded JS form of an AnyValue: string, boolean, bigint (int), number (double), Uint8Array, array, Record (kvlist), null (empty). */
export type Plain = string | boolean | bigint | number | Uint8Array | null | Plain[] | { [key: string]: Plain };

/** Reads the file: every ring message so far, consumed. */
export class FileReadBack {
  readonly reader: Reader;

  constructor(path: string) {
    this.reader = Reader.open(path);
  }

  private drain(ring: number): Uint8Array[] {
    const all: Uint8Array[] = [];
    for (;;) {
      const buf = this.reader.read(ring as never, 1024);
      if (buf.length === 0) return all;
      all.push(...splitMessages(buf));
    }
  }

  spans(): SpanEvent[] {
    return this.drain(SPANS).map((m) => SpanEvent.decode(m));
  }

  events(): Event[] {
    return this.drain(EVENTS).map((m) => Event.decode(m));
  }

  measurements(): Measurement[] {
    return this.drain(MEASUREMENTS).map((m) => Measurement.decode(m));
  }

  string(ref: bigint | number): string {
    return this.reader.string(Number(ref));
  }

  metric(ref: bigint | number): MetricRef {
    return MetricRef.decode(this.reader.entry(Number(ref)));
  }

  scope(ref: bigint | number): InstrumentationScope {
    return InstrumentationScope.decode(this.reader.entry(Number(ref)));
  }

  resource(ref: bigint | number): Resource {
    return Resource.decode(this.reader.entry(Number(ref)));
  }

  numEntries(): number {
    return this.reader.info().dictionary.numEntries;
  }

  /** KeyValueRefs as a plain object (keys resolved). */
  attrs(kvs: KeyValueRef[]): Record<string, Plain> {
    const out: Record<string, Plain> = {};
    for (const kv of kvs) out[this.string(kv.keyRef)] = this.value(kv.value);
    return out;
  }

  /** Keys of KeyValueRefs in order. */
  keys(kvs: KeyValueRef[]): string[] {
    return kvs.map((kv) => this.string(kv.keyRef));
  }

  value(v: AnyValue | undefined): Plain {
    const inner = v?.value;
    if (inner === undefined) return null;
    switch (inner.$case) {
      case 'stringValue':
      case 'boolValue':
      case 'intValue':
      case 'doubleValue':
      case 'bytesValue':
        return inner.value;
      case 'arrayValue':
        return inner.value.values.map((x) => this.value(x));
      case 'kvlistValue':
        return this.attrs(inner.value.values);
      case 'valueRef':
        throw new Error('value_ref not expected from this SDK');
    }
  }

  close(): void {
    this.reader.close();
  }
}

/** Lowercase hex of bytes. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
