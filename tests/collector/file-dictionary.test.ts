// FileDictionary over an in-memory DictionarySource: resolution, caching and
// the bounds FORMAT.md 7.6 asks for (value_ref loops, depth, bad entries).
import test from 'ava';
import { AnyValue, InstrumentationScope, Resource, type KeyValueRef } from '@otlp-mmap/protocol';
import { DictionaryError } from '../../packages/collector/src/dictionary/dictionary-view.js';
import { FileDictionary, type DictionarySource } from '../../packages/collector/src/dictionary/file-dictionary.js';

class FakeSource implements DictionarySource {
  readonly entries = new Map<number, Uint8Array>();
  reads = 0;
  private next = 100;
  add(bytes: Uint8Array): bigint {
    const ref = this.next;
    this.next += 100;
    this.entries.set(ref, bytes);
    return BigInt(ref);
  }
  addString(s: string): bigint {
    return this.add(Buffer.from(s, 'utf8'));
  }
  /** Reserves a reference whose entry is set later (to build loops). */
  reserve(): number {
    const ref = this.next;
    this.next += 100;
    return ref;
  }
  entry(ref: number): Uint8Array {
    this.reads++;
    const e = this.entries.get(ref);
    if (!e) throw Object.assign(new Error(`bad reference ${ref}`), { code: 'ERR_BAD_REFERENCE' });
    return e;
  }
  string(ref: number): string {
    return ref === 0 ? '' : Buffer.from(this.entry(ref)).toString('utf8');
  }
}

const str = (value: string): AnyValue => ({ value: { $case: 'stringValue', value } });
const ref = (value: bigint): AnyValue => ({ value: { $case: 'valueRef', value } });

test('a scope resolves its name, version, attributes, resource and both schema URLs; results are cached', (t) => {
  const src = new FakeSource();
  const key = src.addString('service.name');
  const resource = src.add(
    Resource.encode({ attributes: [{ keyRef: key, value: str('svc') }], droppedAttributesCount: 0, schemaUrl: 'https://example.com/resource/1.0' }).finish(),
  );
  const scope = src.add(
    InstrumentationScope.encode({
      nameRef: src.addString('lib'),
      versionRef: src.addString('2.0'),
      attributes: [],
      droppedAttributesCount: 0,
      resourceRef: resource,
      schemaUrl: 'https://example.com/scope/2.0',
    }).finish(),
  );
  const dict = new FileDictionary(src);
  const resolved = dict.scope(scope);
  t.is(resolved.scope.name, 'lib');
  t.is(resolved.scope.version, '2.0');
  t.is(resolved.schemaUrl, 'https://example.com/scope/2.0', 'the scope schema_url extension');
  t.is(resolved.resourceRef, resource);
  t.is(resolved.resourceSchemaUrl, 'https://example.com/resource/1.0', 'the resource schema_url extension');
  t.deepEqual(
    resolved.resource.attributes.map((a) => [a.key, a.value?.value?.value]),
    [['service.name', 'svc']],
  );
  const reads = src.reads;
  dict.scope(scope);
  t.is(src.reads, reads, 'second resolution served from the cache');
});

test('value_ref is followed, and nested arrays and kvlists resolve their keys', (t) => {
  const src = new FakeSource();
  const inner = src.add(
    AnyValue.encode({ value: { $case: 'arrayValue', value: { values: [str('a'), { value: { $case: 'intValue', value: 3n } }] } } }).finish(),
  );
  const outer = src.add(AnyValue.encode(ref(inner)).finish());
  const k = src.addString('k');
  const dict = new FileDictionary(src);
  const v = dict.anyValue(ref(outer));
  t.deepEqual(v, {
    value: { $case: 'arrayValue', value: { values: [{ value: { $case: 'stringValue', value: 'a' } }, { value: { $case: 'intValue', value: 3n } }] } },
  });
  const kv = dict.anyValue({ value: { $case: 'kvlistValue', value: { values: [{ keyRef: k, value: str('v') }] } } });
  t.deepEqual(kv, {
    value: { $case: 'kvlistValue', value: { values: [{ key: 'k', value: { value: { $case: 'stringValue', value: 'v' } }, keyStrindex: 0 }] } },
  });
});

test('value_refs inside arrays are resolved, at every level of nesting', (t) => {
  const src = new FakeSource();
  const array = (values: AnyValue[]): AnyValue => ({ value: { $case: 'arrayValue', value: { values } } });
  const a = src.add(AnyValue.encode(str('a')).finish());
  const deep = src.add(AnyValue.encode(array([ref(a), str('b')])).finish());
  const dict = new FileDictionary(src);
  const resolved = dict.anyValue(array([ref(a), array([ref(deep), ref(a)])]));
  const s = (value: string) => ({ value: { $case: 'stringValue' as const, value } });
  const list = (values: unknown[]) => ({ value: { $case: 'arrayValue', value: { values } } });
  t.deepEqual(resolved, list([s('a'), list([list([s('a'), s('b')]), s('a')])]));
});

test('key-value lists nested in key-value lists and in arrays keep every entry, keys and values resolved', (t) => {
  const src = new FakeSource();
  const [k1, k2, k3] = ['outer', 'inner', 'leaf'].map((k) => src.addString(k));
  const kvlist = (entries: [bigint, AnyValue][]): AnyValue => ({
    value: { $case: 'kvlistValue', value: { values: entries.map(([keyRef, value]) => ({ keyRef, value })) } },
  });
  const leaf = src.add(AnyValue.encode(str('leaf-value')).finish());
  const innerList = kvlist([
    [k3, ref(leaf)],
    [k2, str('two')],
  ]);
  const dict = new FileDictionary(src);
  const resolved = dict.anyValue(
    kvlist([
      [k1, innerList],
      [k2, { value: { $case: 'arrayValue', value: { values: [innerList] } } }],
    ]),
  );
  const s = (value: string) => ({ value: { $case: 'stringValue' as const, value } });
  const kvs = (entries: [string, unknown][]) => ({
    value: { $case: 'kvlistValue', value: { values: entries.map(([key, value]) => ({ key, value, keyStrindex: 0 })) } },
  });
  const expectedInner = kvs([
    ['leaf', s('leaf-value')],
    ['inner', s('two')],
  ]);
  t.deepEqual(
    resolved,
    kvs([
      ['outer', expectedInner],
      ['inner', { value: { $case: 'arrayValue', value: { values: [expectedInner] } } }],
    ]),
  );
});

test('a value_ref loop is detected and reported, not followed forever', (t) => {
  const src = new FakeSource();
  const a = src.reserve();
  const b = src.add(AnyValue.encode(ref(BigInt(a))).finish());
  src.entries.set(a, AnyValue.encode(ref(b)).finish());
  const error = t.throws(() => new FileDictionary(src).anyValue(ref(BigInt(a))), { instanceOf: DictionaryError });
  t.regex(error!.message, /loop/);
});

test('nesting deeper than the limit is refused', (t) => {
  let value: AnyValue = str('leaf');
  for (let i = 0; i < 40; i++) value = { value: { $case: 'arrayValue', value: { values: [value] } } };
  t.throws(() => new FileDictionary(new FakeSource(), { maxDepth: 32 }).anyValue(value), { instanceOf: DictionaryError, message: /deeper/ });
});

test('attributes whose key or value does not resolve are left out and reported one by one', (t) => {
  const src = new FakeSource();
  const good = src.addString('good');
  const garbage = src.add(new Uint8Array([0xff, 0xff, 0xff]));
  const kvs: KeyValueRef[] = [
    { keyRef: good, value: str('kept') },
    { keyRef: 123_456n, value: str('bad key') },
    { keyRef: good, value: ref(garbage) },
    { keyRef: good, value: ref(-5n) },
  ];
  const dropped: bigint[] = [];
  const out = new FileDictionary(src).attributes(kvs, (e) => dropped.push(e.ref));
  t.deepEqual(
    out.map((kv) => kv.value?.value?.value),
    ['kept'],
  );
  t.deepEqual(dropped, [123_456n, garbage, -5n]);
});

test('an undecodable scope entry throws DictionaryError naming the reference', (t) => {
  const src = new FakeSource();
  const bad = src.add(new Uint8Array([0x0a, 0x7f]));
  const error = t.throws(() => new FileDictionary(src).scope(bad), { instanceOf: DictionaryError });
  t.is(error!.ref, bad);
});

test('attributes with equal key and value share one resolved KeyValue; different value kinds stay apart', (t) => {
  const src = new FakeSource();
  const k = src.addString('k');
  const dict = new FileDictionary(src);
  const kv = (value: AnyValue): KeyValueRef => ({ keyRef: k, value });
  const values: AnyValue[] = [
    str('1'),
    { value: { $case: 'intValue', value: 1n } },
    { value: { $case: 'doubleValue', value: 1 } },
    { value: { $case: 'doubleValue', value: 0 } },
    { value: { $case: 'doubleValue', value: -0 } },
    { value: { $case: 'boolValue', value: true } },
  ];
  const first = dict.attributes(values.map(kv));
  const second = dict.attributes(values.map((v) => kv(structuredClone(v))));
  t.is(second[0], first[0], 'same key and string value: the same object');
  t.is(second[1], first[1], 'same key and int value: the same object');
  t.deepEqual(second, first);
  t.deepEqual(
    first.map((a) => [a.key, a.value?.value?.$case, a.value?.value?.value]),
    [
      ['k', 'stringValue', '1'],
      ['k', 'intValue', 1n],
      ['k', 'doubleValue', 1],
      ['k', 'doubleValue', 0],
      ['k', 'doubleValue', -0],
      ['k', 'boolValue', true],
    ],
  );
  t.true(Object.is(first[4].value?.value?.value, -0), '-0 is not taken for 0');
  t.true(Object.is(second[4].value?.value?.value, -0));
});

test('a key with more distinct values than the cache holds still resolves every value', (t) => {
  const src = new FakeSource();
  const k = src.addString('user.id');
  const dict = new FileDictionary(src);
  for (let i = 0; i < 1000; i++) {
    const [a] = dict.attributes([{ keyRef: k, value: { value: { $case: 'intValue', value: BigInt(i) } } }]);
    t.is(a.value?.value?.value, BigInt(i));
  }
});
