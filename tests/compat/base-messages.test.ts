// Compatibility of the extension fields (FORMAT.md section 8) with every
// other v1 reader: a file the SDK writes with extensions, decoded with only
// the base messages — a decoder built from tests/fixtures/mmap-v1-base.proto
// (proto/mmap.proto without the extensions) by buf and @bufbuild/protobuf's
// reflection, an implementation independent of ours — gives exactly the base
// data that the full messages give, and sees the extensions only as unknown
// fields numbered from 1000.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { context, createTraceState, trace, TraceFlags } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { createFileRegistry, type DescMessage, fromBinary, type JsonValue, type Message, type Registry, toJson } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { Reader } from '@otlp-mmap/native';
import { startMmapSdk } from '@otlp-mmap/sdk';
import { tempDir } from '../helpers/files.js';
import { splitFramed } from '../helpers/framing.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BUF = join(ROOT, 'node_modules', '.bin', 'buf');
const PACKAGE = 'opentelemetry.proto.mmap.v1';
const RINGS = { events: 0, spans: 1, measurements: 2 } as const;
const RING_MESSAGE = { events: 'Event', spans: 'SpanEvent', measurements: 'Measurement' } as const;
const FIRST_EXTENSION = 1000;

/** The messages of a .proto file, compiled by buf (in a folder of its own, as `mmap.proto`). */
function registryOf(proto: string): Registry {
  const tmp = tempDir('otlp-mmap-proto-');
  try {
    copyFileSync(proto, tmp.file('mmap.proto'));
    const out = tmp.file('set.binpb');
    execFileSync(BUF, ['build', '--exclude-source-info', '-o', out], { cwd: tmp.file('') });
    return createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(out)));
  } finally {
    tmp.cleanup();
  }
}

const full = registryOf(join(ROOT, 'proto', 'mmap.proto'));
const base = registryOf(join(ROOT, 'tests', 'fixtures', 'mmap-v1-base.proto'));

function message(registry: Registry, name: string): DescMessage {
  const desc = registry.getMessage(`${PACKAGE}.${name}`);
  if (desc === undefined) throw new Error(`no message ${name}`);
  return desc;
}

/** The JSON of a message decoded with the full messages, without its extension fields (at any depth). */
function withoutExtensions(desc: DescMessage, json: JsonValue): JsonValue {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return json;
  const out: { [key: string]: JsonValue } = {};
  for (const field of desc.fields) {
    const value = json[field.jsonName];
    if (value === undefined || field.number >= FIRST_EXTENSION) continue;
    const nested = field.fieldKind === 'message' ? field.message : field.fieldKind === 'list' && field.listKind === 'message' ? field.message : undefined;
    out[field.jsonName] =
      nested === undefined ? value : Array.isArray(value) ? value.map((v) => withoutExtensions(nested, v)) : withoutExtensions(nested, value);
  }
  return out;
}

/** Field numbers a decoded message (and the messages in it) did not know. */
function unknownFields(msg: Message, into: Set<number> = new Set()): Set<number> {
  for (const u of (msg as { $unknown?: { no: number }[] }).$unknown ?? []) into.add(u.no);
  for (const value of Object.values(msg) as unknown[]) {
    const items: unknown[] = Array.isArray(value) ? value : [value];
    for (const item of items) {
      if (item === null || typeof item !== 'object') continue;
      if ('$typeName' in item) {
        unknownFields(item as Message, into);
        continue;
      }
      // A oneof: { case, value }.
      const member = (item as { case?: unknown; value?: unknown }).value;
      if ('case' in item && member !== null && typeof member === 'object' && '$typeName' in member) unknownFields(member as Message, into);
    }
  }
  return into;
}

/** A file the SDK wrote with every kind of extension in it. */
async function fileWithExtensions(path: string): Promise<void> {
  const sdk = startMmapSdk({
    path,
    registerGlobals: false,
    resource: resourceFromAttributes({ 'service.name': 'compat' }, { schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' }),
    resourceDetectors: [],
    spanLimits: { attributeCountLimit: 1, eventCountLimit: 1, linkCountLimit: 1, attributePerEventCountLimit: 1 },
    logRecordLimits: { attributeCountLimit: 1 },
    metricCollectionIntervalMillis: 3_600_000,
  });
  try {
    const parent = trace.setSpanContext(context.active(), {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
      traceState: createTraceState('vendor=value'),
    });
    const tracer = sdk.tracerProvider.getTracer('compat', '1.0.0', { schemaUrl: 'https://example.com/tracer' });
    const links = [1, 2].map((n) => ({ context: { traceId: `${'a'.repeat(31)}${n}`, spanId: `${'b'.repeat(15)}${n}`, traceFlags: 1 } }));
    const span = tracer.startSpan('with-extensions', { attributes: { a: 1, b: 2 }, links }, parent);
    span.addEvent('event', { x: 1, y: 2 });
    span.addEvent('over the limit');
    span.end();
    sdk.loggerProvider
      .getLogger('compat', '1.0.0', { schemaUrl: 'https://example.com/logger' })
      .emit({ severityNumber: SeverityNumber.WARN, body: 'log', attributes: { x: 1, y: 2 } });
    sdk.meterProvider.getMeter('compat', '1.0.0', { schemaUrl: 'https://example.com/meter' }).createCounter('c').add(1, { k: 'v' });
  } finally {
    await sdk.shutdown();
  }
}

test('the base fixture is proto/mmap.proto without the extension fields, message by message', (t) => {
  const fields = (registry: Registry, below: number) =>
    [...registry]
      .filter((d): d is DescMessage => d.kind === 'message')
      .map((d) => [d.typeName, d.fields.filter((f) => f.number < below).map((f) => `${f.number} ${f.name} ${f.fieldKind}`)])
      .sort();
  t.deepEqual(fields(base, Number.POSITIVE_INFINITY), fields(full, FIRST_EXTENSION));
  t.true(
    [...full].some((d) => d.kind === 'message' && d.fields.some((f) => f.number >= FIRST_EXTENSION)),
    'the full messages have extensions',
  );
});

test('a file with extensions decodes with the base messages to the same base data, extensions seen only as unknown fields', async (t) => {
  const tmp = tempDir();
  t.teardown(tmp.cleanup);
  const path = tmp.file('compat.otlp-mmap');
  await fileWithExtensions(path);
  const reader = Reader.open(path);
  t.teardown(() => reader.close());

  const unknown = new Set<number>();
  const scopeRefs = new Set<number>();
  const check = (name: string, bytes: Uint8Array): void => {
    const fullDesc = message(full, name);
    const baseDesc = message(base, name);
    const asBase = fromBinary(baseDesc, bytes);
    t.deepEqual(toJson(baseDesc, asBase), withoutExtensions(fullDesc, toJson(fullDesc, fromBinary(fullDesc, bytes))), `${name}: same base data`);
    unknownFields(asBase, unknown);
  };
  let messages = 0;
  for (const ring of Object.keys(RINGS) as (keyof typeof RINGS)[]) {
    for (;;) {
      const batch = reader.read(RINGS[ring] as never, 1024);
      if (batch.length === 0) break;
      for (const bytes of splitFramed(batch)) {
        check(RING_MESSAGE[ring], bytes);
        messages++;
        const decoded = toJson(message(full, RING_MESSAGE[ring]), fromBinary(message(full, RING_MESSAGE[ring]), bytes)) as { scopeRef?: string };
        if (decoded.scopeRef !== undefined) scopeRefs.add(Number(decoded.scopeRef));
      }
    }
  }
  t.true(messages >= 5, 'spans, events and measurements were read');
  // The dictionary messages with extensions: every scope the spans and events name, and its resource.
  for (const ref of scopeRefs) {
    const scope = new Uint8Array(reader.entry(ref));
    check('InstrumentationScope', scope);
    const resourceRef = (toJson(message(full, 'InstrumentationScope'), fromBinary(message(full, 'InstrumentationScope'), scope)) as { resourceRef?: string })
      .resourceRef;
    check('Resource', new Uint8Array(reader.entry(Number(resourceRef))));
  }
  t.deepEqual(
    [...unknown].sort((a, b) => a - b),
    [1000, 1001, 1002],
    'the only fields the base messages do not know are the extensions (StartSpan 1000; EndSpan 1000-1002; Event 1000-1001; Resource/Scope 1000)',
  );
});
