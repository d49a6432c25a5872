/**
 * A counter or histogram reuses the encoded attributes of its last
 * measurement when the next one has the same attributes. Whatever the
 * application does with its attribute objects between calls, every
 * measurement must read back with exactly the attributes it was given.
 */
import test from 'ava';
import type { Attributes } from '@opentelemetry/api';
import { FileReadBack, startTestSdk } from './support/read-back.js';

function setup(t: { teardown(fn: () => unknown): void }) {
  const { sdk, path, cleanup } = startTestSdk({ registerGlobals: false });
  t.teardown(cleanup);
  const readBack = (): { rb: FileReadBack; attrs: Record<string, unknown>[]; keys: string[][] } => {
    const rb = new FileReadBack(path);
    t.teardown(() => rb.close());
    const ms = rb.measurements();
    return { rb, attrs: ms.map((m) => rb.attrs(m.attributes)), keys: ms.map((m) => Object.keys(rb.attrs(m.attributes))) };
  };
  return { meter: sdk.meterProvider.getMeter('m'), readBack };
}

test('an attribute object changed between calls is written with its values of each call', (t) => {
  const { meter, readBack } = setup(t);
  const counter = meter.createCounter('c');
  const attrs: Attributes = { route: '/a', code: 200 };
  counter.add(1, attrs);
  counter.add(1, attrs);
  attrs.code = 500;
  counter.add(1, attrs);
  attrs.extra = 'x';
  counter.add(1, attrs);
  delete attrs.extra;
  delete attrs.code;
  counter.add(1, attrs);
  t.deepEqual(readBack().attrs, [
    { route: '/a', code: 200n },
    { route: '/a', code: 200n },
    { route: '/a', code: 500n },
    { route: '/a', code: 500n, extra: 'x' },
    { route: '/a' },
  ]);
});

test('-0 after 0 under the same key is written as a double, not as the remembered int', (t) => {
  const { meter, readBack } = setup(t);
  const histogram = meter.createHistogram('h');
  histogram.record(1, { v: 0 });
  histogram.record(1, { v: 0 });
  histogram.record(1, { v: -0 });
  const { attrs } = readBack();
  t.deepEqual(attrs.slice(0, 2), [{ v: 0n }, { v: 0n }]);
  t.true(Object.is(attrs[2]!.v, -0));
});

test('the same attributes in another order are written in that order', (t) => {
  const { meter, readBack } = setup(t);
  const counter = meter.createCounter('c');
  counter.add(1, { a: 'x', b: 1 });
  counter.add(1, { a: 'x', b: 1 });
  counter.add(1, { b: 1, a: 'x' });
  t.deepEqual(readBack().keys, [
    ['a', 'b'],
    ['a', 'b'],
    ['b', 'a'],
  ]);
});

test('attribute sets that keep changing are each written exactly', (t) => {
  const { meter, readBack } = setup(t);
  const counter = meter.createCounter('c');
  const expected: Record<string, unknown>[] = [];
  for (let i = 0; i < 300; i++) {
    const attrs = i % 3 === 0 ? { route: '/same', code: 200 } : { route: `/r${i % 7}`, code: i };
    counter.add(1, attrs);
    expected.push({ route: attrs.route, code: BigInt(attrs.code) });
  }
  t.deepEqual(readBack().attrs, expected);
});

test('a measurement recorded from an attribute getter of the same instrument leaves both intact', (t) => {
  const { meter, readBack } = setup(t);
  const counter = meter.createCounter('c');
  counter.add(1, { outer: 'o', n: 1 });
  let inner = true;
  // Same keys and values as the first call; reading `n` records another set.
  const attrs = {
    outer: 'o',
    get n(): number {
      if (inner) {
        inner = false;
        counter.add(1, { outer: 'inner' });
      }
      return 1;
    },
  };
  counter.add(1, attrs);
  counter.add(1, attrs);
  t.deepEqual(readBack().attrs, [{ outer: 'o', n: 1n }, { outer: 'inner' }, { outer: 'o', n: 1n }, { outer: 'o', n: 1n }]);
});

test('an attribute getter that throws while attributes are re-encoded leaves no stale bytes for the next call', (t) => {
  const { meter, readBack } = setup(t);
  const counter = meter.createCounter('c');
  counter.add(1, { a: 1, b: 2 });
  counter.add(1, { a: 1, b: 2 });
  const throwing = {
    a: 5,
    get b(): number {
      throw new Error('getter fails');
    },
  };
  t.notThrows(() => counter.add(1, throwing));
  counter.add(1, { a: 5, b: 2 });
  t.deepEqual(readBack().attrs, [
    { a: 1n, b: 2n },
    { a: 1n, b: 2n },
    { a: 5n, b: 2n },
  ]);
});
