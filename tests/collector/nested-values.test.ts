// Nested attribute values (arrays and key-value lists, with value_refs at
// any level): the collector resolves them exactly as the Rust core does, on
// random values written to a real file, and exports them whole.
import test from 'ava';
import fc from 'fast-check';
import { Reader, Writer } from '@otlp-mmap/native';
import { AnyValue, otlpCommon, type KeyValueRef } from '@otlp-mmap/protocol';
import { FileDictionary } from '../../packages/collector/src/dictionary/file-dictionary.js';
import { tempDir } from '../helpers/files.js';
import { waitFor } from './support/collector-process.js';
import { e2e } from './support/setup.js';

/** A value to write: a scalar, a container, or `ref` — its child goes to a dictionary entry reached by value_ref. */
type Node =
  | { kind: 'empty' }
  | { kind: 'string'; value: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'int'; value: bigint }
  | { kind: 'double'; value: number }
  | { kind: 'bytes'; value: Uint8Array }
  | { kind: 'array'; values: Node[] }
  | { kind: 'kvlist'; entries: [string, Node][] }
  | { kind: 'ref'; child: Node };

const scalar: fc.Arbitrary<Node> = fc.oneof(
  fc.constant<Node>({ kind: 'empty' }),
  fc.string({ maxLength: 12 }).map((value): Node => ({ kind: 'string', value })),
  fc.boolean().map((value): Node => ({ kind: 'bool', value })),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((value): Node => ({ kind: 'int', value })),
  fc.oneof(fc.double({ noNaN: true }), fc.constant(-0)).map((value): Node => ({ kind: 'double', value })),
  fc.uint8Array({ maxLength: 6 }).map((value): Node => ({ kind: 'bytes', value })),
);

/** Nested at most a few levels (far below both resolvers' depth bound of 32): references inside arrays, lists inside lists. */
const node: fc.Arbitrary<Node> = fc.letrec<{ node: Node }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('node'), { maxLength: 4 }).map((values): Node => ({ kind: 'array', values })),
    fc.array(fc.tuple(fc.constantFrom('a', 'b', 'key.c', ''), tie('node')), { maxLength: 4 }).map((entries): Node => ({ kind: 'kvlist', entries })),
    tie('node').map((child): Node => ({ kind: 'ref', child })),
  ),
})).node;

/**
 * Writes what `n` needs into the dictionary and returns its AnyValue of the
 * file's format. Identical referenced subtrees share one entry (a value_ref
 * resolved in several places).
 */
function materialize(writer: Writer, n: Node, shared: Map<string, bigint>): AnyValue {
  switch (n.kind) {
    case 'empty':
      return { value: undefined };
    case 'string':
      return { value: { $case: 'stringValue', value: n.value } };
    case 'bool':
      return { value: { $case: 'boolValue', value: n.value } };
    case 'int':
      return { value: { $case: 'intValue', value: n.value } };
    case 'double':
      return { value: { $case: 'doubleValue', value: n.value } };
    case 'bytes':
      return { value: { $case: 'bytesValue', value: n.value } };
    case 'array':
      return { value: { $case: 'arrayValue', value: { values: n.values.map((v) => materialize(writer, v, shared)) } } };
    case 'kvlist': {
      const values: KeyValueRef[] = n.entries.map(([key, v]) => ({ keyRef: BigInt(writer.internString(key)), value: materialize(writer, v, shared) }));
      return { value: { $case: 'kvlistValue', value: { values } } };
    }
    case 'ref': {
      const bytes = AnyValue.encode(materialize(writer, n.child, shared)).finish();
      const key = Buffer.from(bytes).toString('base64');
      let ref = shared.get(key);
      if (ref === undefined) {
        ref = BigInt(writer.addEntry(bytes));
        shared.set(key, ref);
      }
      return { value: { $case: 'valueRef', value: ref } };
    }
  }
}

/** An OTLP AnyValue as canonical bytes (ts-proto's encoding), for exact comparison (-0, int64, bytes). */
function canonical(value: otlpCommon.AnyValue): Buffer {
  return Buffer.from(otlpCommon.AnyValue.encode(value).finish());
}

/** The core's resolution (through the binding), in the same canonical bytes. */
function coreResolution(reader: Reader, value: AnyValue): Buffer {
  return canonical(otlpCommon.AnyValue.decode(reader.resolveValue(AnyValue.encode(value).finish())));
}

function show(bytes: Buffer): string {
  return JSON.stringify(otlpCommon.AnyValue.decode(bytes), (_key, v: unknown) =>
    typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? `bytes:${Buffer.from(v).toString('hex')}` : Object.is(v, -0) ? '-0' : v,
  );
}

test('the collector resolves random nested values with references exactly as the Rust core does', (t) => {
  const tmp = tempDir('otlp-mmap-nested-');
  t.teardown(() => tmp.cleanup());
  let run = 0;
  fc.assert(
    fc.property(fc.array(node, { minLength: 1, maxLength: 8 }), (roots) => {
      const path = tmp.file(`values-${run++}.mmap`);
      const small = { slots: 2, slotSize: 64 };
      const writer = Writer.create(path, { events: small, spans: small, measurements: small, dictionarySize: 1 << 16 });
      const reader = Reader.open(path);
      try {
        const shared = new Map<string, bigint>();
        const values = roots.map((root) => materialize(writer, root, shared));
        // One dictionary for all roots: its cache of resolved references is shared by them.
        const dictionary = new FileDictionary(reader);
        for (const value of values) {
          const ours = canonical(dictionary.anyValue(value));
          const core = coreResolution(reader, value);
          if (!ours.equals(core)) throw new Error(`collector ${show(ours)}\ncore      ${show(core)}`);
        }
      } finally {
        reader.close();
        writer.close();
      }
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('a log record exports attributes with references inside arrays and key-value lists nested in key-value lists, resolved', async (t) => {
  const { receiver, writer, path, collector } = await e2e(t);
  const scope = writer.scope('lib', writer.resource({ 'service.name': 'nested' }));
  const str = (value: string): AnyValue => ({ value: { $case: 'stringValue', value } });
  const ref = (value: AnyValue): AnyValue => ({ value: { $case: 'valueRef', value: writer.valueEntry(value) } });
  const key = (k: string) => BigInt(writer.native.internString(k));
  const kvlist = (entries: [string, AnyValue][]): AnyValue => ({
    value: { $case: 'kvlistValue', value: { values: entries.map(([k, value]) => ({ keyRef: key(k), value })) } },
  });
  const array = (values: AnyValue[]): AnyValue => ({ value: { $case: 'arrayValue', value: { values } } });
  const value = kvlist([
    ['list', array([ref(str('first')), str('second'), ref(array([ref(str('deep'))]))])],
    [
      'inner',
      kvlist([
        ['x', ref(str('x-value'))],
        ['y', kvlist([['z', array([ref(kvlist([['w', str('w-value')]]))])]])],
      ]),
    ],
  ]);
  t.true(writer.event({ scopeRef: scope, body: str('nested'), attributes: [{ keyRef: key('v'), value }] }));
  const c = collector(['--endpoint', receiver.httpUrl]);
  await waitFor(() => receiver.logRecords().length >= 1, 20_000, 'the log record');
  await c.stop();
  const [record] = receiver.logRecords();
  t.deepEqual(record.attributes.v, {
    list: ['first', 'second', ['deep']],
    inner: { x: 'x-value', y: { z: [{ w: 'w-value' }] } },
  });
  const exported = record.record.attributes.find((a) => a.key === 'v')?.value;
  // The same as the core resolves it.
  const reader = Reader.open(path, { readOnly: true });
  t.teardown(() => reader.close());
  t.true(canonical(exported!).equals(coreResolution(reader, value)));
});
