/**
 * The JS value -> AnyValue conversion table (packages/sdk/src/encoding/any-value.ts), one row per test,
 * observed through a log record body (any value) or its attributes (attribute rules).
 */
import test, { type ExecutionContext } from 'ava';
import { FileReadBack, type Plain, startTestSdk } from './support/read-back.js';

async function bodyOf(value: unknown): Promise<{ body: Plain; present: boolean }> {
  const { sdk, path, cleanup } = startTestSdk();
  sdk.loggerProvider.getLogger('l').emit({ body: value as never });
  const rb = new FileReadBack(path);
  const [event] = rb.events();
  const result = { body: rb.value(event.body), present: event.body !== undefined };
  rb.close();
  await cleanup();
  return result;
}

async function attributesOf(attributes: Record<string, unknown>): Promise<Record<string, Plain>> {
  const { sdk, path, cleanup } = startTestSdk();
  sdk.loggerProvider.getLogger('l').emit({ body: 'x', attributes: attributes as never });
  const rb = new FileReadBack(path);
  const [event] = rb.events();
  const result = rb.attrs(event.attributes);
  rb.close();
  await cleanup();
  return result;
}

async function rawCase(t: ExecutionContext, value: unknown): Promise<{ $case: string; value: unknown } | undefined> {
  const { sdk, path, cleanup } = startTestSdk();
  sdk.loggerProvider.getLogger('l').emit({ body: value as never });
  const rb = new FileReadBack(path);
  const [event] = rb.events();
  rb.close();
  await cleanup();
  t.truthy(event);
  return event.body?.value as { $case: string; value: unknown } | undefined;
}

test('a string becomes string_value', async (t) => {
  t.deepEqual(await rawCase(t, 'héllo ✓'), { $case: 'stringValue', value: 'héllo ✓' });
});

test('a long non-ASCII string survives whole', async (t) => {
  const s = 'ü€𝄞'.repeat(60);
  t.deepEqual(await rawCase(t, s), { $case: 'stringValue', value: s });
});

test('true and false become bool_value', async (t) => {
  t.deepEqual(await rawCase(t, true), { $case: 'boolValue', value: true });
  t.deepEqual(await rawCase(t, false), { $case: 'boolValue', value: false });
});

test('a safe integer becomes int_value, negative ones included', async (t) => {
  t.deepEqual(await rawCase(t, 42), { $case: 'intValue', value: 42n });
  t.deepEqual(await rawCase(t, -9_007_199_254_740_991), { $case: 'intValue', value: -9_007_199_254_740_991n });
  t.deepEqual(await rawCase(t, 0), { $case: 'intValue', value: 0n });
});

test('a fractional number becomes double_value', async (t) => {
  t.deepEqual(await rawCase(t, 0.1), { $case: 'doubleValue', value: 0.1 });
});

test('-0 becomes double_value -0', async (t) => {
  const v = await rawCase(t, -0);
  t.is(v?.$case, 'doubleValue');
  t.true(Object.is(v?.value, -0));
});

test('NaN and ±Infinity become double_value', async (t) => {
  t.true(Number.isNaN((await rawCase(t, Number.NaN))?.value));
  t.deepEqual(await rawCase(t, Number.POSITIVE_INFINITY), { $case: 'doubleValue', value: Number.POSITIVE_INFINITY });
  t.deepEqual(await rawCase(t, Number.NEGATIVE_INFINITY), { $case: 'doubleValue', value: Number.NEGATIVE_INFINITY });
});

test('an integer beyond the safe range becomes double_value', async (t) => {
  t.deepEqual(await rawCase(t, 2 ** 60), { $case: 'doubleValue', value: 2 ** 60 });
});

test('a bigint within int64 becomes int_value', async (t) => {
  t.deepEqual(await rawCase(t, 9_223_372_036_854_775_807n), { $case: 'intValue', value: 9_223_372_036_854_775_807n });
  t.deepEqual(await rawCase(t, -9_223_372_036_854_775_808n), { $case: 'intValue', value: -9_223_372_036_854_775_808n });
});

test('a bigint outside int64 becomes its decimal string', async (t) => {
  t.deepEqual(await rawCase(t, 2n ** 64n), { $case: 'stringValue', value: '18446744073709551616' });
});

test('a Uint8Array or Buffer becomes bytes_value', async (t) => {
  t.deepEqual(await rawCase(t, new Uint8Array([0, 1, 255])), { $case: 'bytesValue', value: Buffer.from([0, 1, 255]) });
  t.deepEqual(await rawCase(t, Buffer.from('abc')), { $case: 'bytesValue', value: Buffer.from('abc') });
});

test('a homogeneous array becomes array_value', async (t) => {
  t.deepEqual((await bodyOf(['a', 'b'])).body, ['a', 'b']);
});

test('a mixed array keeps each item type', async (t) => {
  t.deepEqual((await bodyOf([1, 'two', 3.5, false, [4]])).body, [1n, 'two', 3.5, false, [4n]]);
});

test('a nested plain object becomes kvlist_value', async (t) => {
  t.deepEqual((await bodyOf({ user: { id: 7, tags: ['a'] }, ok: true })).body, { user: { id: 7n, tags: ['a'] }, ok: true });
});

test('a Map becomes kvlist_value with stringified keys', async (t) => {
  t.deepEqual(
    (
      await bodyOf(
        new Map<unknown, unknown>([
          ['a', 1],
          [2, 'b'],
        ]),
      )
    ).body,
    { a: 1n, '2': 'b' },
  );
});

test('a Date becomes its ISO string', async (t) => {
  t.deepEqual(await rawCase(t, new Date(Date.UTC(2024, 0, 2, 3, 4, 5))), { $case: 'stringValue', value: '2024-01-02T03:04:05.000Z' });
});

test('null and undefined attribute values drop the attribute', async (t) => {
  t.deepEqual(await attributesOf({ a: null, b: undefined, c: 1 }), { c: 1n });
});

test('null and undefined as a body mean no body', async (t) => {
  t.false((await bodyOf(null)).present);
  t.false((await bodyOf(undefined)).present);
});

test('null inside an array stays as an empty value', async (t) => {
  t.deepEqual((await bodyOf([1, null, undefined, 2])).body, [1n, null, null, 2n]);
});

test('functions and symbols are dropped as attributes and kept as empty values inside arrays', async (t) => {
  t.deepEqual(await attributesOf({ f: () => 1, s: Symbol('x'), ok: 'yes' }), { ok: 'yes' });
  t.deepEqual((await bodyOf([1, () => 1, Symbol('y')])).body, [1n, null, null]);
});

test('a cyclic value is dropped, the rest of the record is kept', async (t) => {
  const cyclic: Record<string, unknown> = { name: 'loop' };
  cyclic.self = cyclic;
  t.deepEqual(await attributesOf({ cyclic, ok: 1 }), { cyclic: { name: 'loop' }, ok: 1n });
});

test('nesting deeper than 32 levels is cut: the too-deep part is dropped, the rest kept', async (t) => {
  let deep: unknown = 'bottom';
  for (let i = 0; i < 40; i++) deep = [deep];
  const attrs = await attributesOf({ deep, ok: 1 });
  t.is(attrs.ok, 1n);
  let levels = 0;
  let v: Plain = attrs.deep;
  while (Array.isArray(v)) {
    levels++;
    v = v[0];
  }
  t.is(levels, 32);
  t.is(v, null);
});
