/**
 * A tracer copies the encoded name and attributes of its previous span start
 * when the next start repeats them at the same position. Whatever the
 * application passes, every StartSpan must read back with exactly the name and
 * attributes of its own call.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Attributes } from '@opentelemetry/api';
import type { SpanEvent } from '@otlp-mmap/protocol';
import test from 'ava';
import fc from 'fast-check';
import { FileReadBack, startTestSdk } from './support/read-back.js';

function setup(t: { teardown(fn: () => unknown): void }) {
  const { sdk, path, cleanup } = startTestSdk({ registerGlobals: false });
  t.teardown(cleanup);
  const starts = (): { name: string; attrs: Record<string, unknown> }[] => {
    const rb = new FileReadBack(path);
    t.teardown(() => rb.close());
    return rb
      .spans()
      .filter((e: SpanEvent) => e.event?.$case === 'start')
      .map((e) => {
        if (e.event?.$case !== 'start') throw new Error('not a start');
        return { name: e.event.value.name, attrs: rb.attrs(e.event.value.attributes) };
      });
  };
  return { sdk, starts };
}

/** What an attribute value reads back as: integers as bigint, other numbers as doubles. */
function expected(attrs: Attributes): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue;
    out[k] = typeof v === 'number' && Number.isSafeInteger(v) && !Object.is(v, -0) ? BigInt(v) : v;
  }
  return out;
}

test('an attribute object changed between span starts is written with its values of each start', (t) => {
  const { sdk, starts } = setup(t);
  const tracer = sdk.tracerProvider.getTracer('memo');
  const attrs: Attributes = { route: '/a', code: 200 };
  tracer.startSpan('s', { attributes: attrs });
  attrs.code = 500;
  tracer.startSpan('s', { attributes: attrs });
  attrs.route = '/b';
  tracer.startSpan('s', { attributes: attrs });
  t.deepEqual(
    starts().map((s) => s.attrs),
    [
      { route: '/a', code: 200n },
      { route: '/a', code: 500n },
      { route: '/b', code: 500n },
    ],
  );
});

test('zero after minus zero (and back) keeps its own encoding at one position', (t) => {
  const { sdk, starts } = setup(t);
  const tracer = sdk.tracerProvider.getTracer('memo');
  for (const v of [0, -0, -0, 0, 0]) tracer.startSpan('s', { attributes: { v } });
  const values = starts().map((s) => s.attrs.v);
  t.deepEqual(values, [0n, -0, -0, 0n, 0n]);
  t.true(Object.is(values[1], -0));
});

test('a key moved to another position and a renamed span read back as given', (t) => {
  const { sdk, starts } = setup(t);
  const tracer = sdk.tracerProvider.getTracer('memo');
  tracer.startSpan('first', { attributes: { a: 'x', b: 'y' } });
  tracer.startSpan('first', { attributes: { b: 'y', a: 'x' } });
  tracer.startSpan('second', { attributes: { a: 'y', b: 'x' } });
  t.deepEqual(starts(), [
    { name: 'first', attrs: { a: 'x', b: 'y' } },
    { name: 'first', attrs: { b: 'y', a: 'x' } },
    { name: 'second', attrs: { a: 'y', b: 'x' } },
  ]);
});

test('spans of two tracers started in turn keep their own names and attributes', (t) => {
  const { sdk, starts } = setup(t);
  const http = sdk.tracerProvider.getTracer('http');
  const db = sdk.tracerProvider.getTracer('db');
  for (let i = 0; i < 3; i++) {
    http.startSpan('GET', { attributes: { 'http.route': '/a', n: i + 1 } });
    db.startSpan('SELECT', { attributes: { 'db.system': 'pg', n: i + 1 } });
  }
  t.deepEqual(
    starts(),
    [1, 2, 3].flatMap((n) => [
      { name: 'GET', attrs: { 'http.route': '/a', n: BigInt(n) } },
      { name: 'SELECT', attrs: { 'db.system': 'pg', n: BigInt(n) } },
    ]),
  );
});

test('any sequence of span starts over few keys and values reads back call by call', (t) => {
  const key = fc.constantFrom('a', 'b', 'c', 'http.route');
  const value = fc.constantFrom<unknown>('x', 'y', '', 'é', 1, 2, 0, -0, 1.5, Number.NaN, true, false, null, 2 ** 40);
  const name = fc.constantFrom('GET', 'POST', 'é', '');
  fc.assert(
    fc.property(fc.array(fc.tuple(name, fc.dictionary(key, value)), { minLength: 1, maxLength: 12 }), (calls) => {
      const { sdk, path, cleanup } = startTestSdk({ registerGlobals: false });
      try {
        const tracer = sdk.tracerProvider.getTracer('memo');
        for (const [n, attrs] of calls) tracer.startSpan(n, { attributes: attrs as Attributes });
        const rb = new FileReadBack(path);
        try {
          const got = rb.spans().map((e) => {
            if (e.event?.$case !== 'start') throw new Error('not a start');
            return { name: e.event.value.name, attrs: rb.attrs(e.event.value.attributes) };
          });
          const want = calls.map(([n, attrs]) => ({ name: n, attrs: expected(attrs as Attributes) }));
          return isDeepStrictEqual(got, want);
        } finally {
          rb.close();
        }
      } finally {
        void cleanup();
      }
    }),
    { numRuns: 60 },
  );
  t.pass();
});

test('a value that changes on every span and then settles reads back right throughout', (t) => {
  const { sdk, starts } = setup(t);
  const tracer = sdk.tracerProvider.getTracer('memo');
  const paths = [...Array.from({ length: 40 }, (_, i) => `/users/${i}`), ...Array.from({ length: 40 }, () => '/users/settled')];
  for (const path of paths) tracer.startSpan('GET', { attributes: { method: 'GET', path } });
  t.deepEqual(
    starts().map((s) => s.attrs),
    paths.map((path) => ({ method: 'GET', path })),
  );
});

test('values alternating among two and then a third at one position read back call by call', (t) => {
  const { sdk, starts } = setup(t);
  const tracer = sdk.tracerProvider.getTracer('memo');
  const agents = ['curl/8.5.0', 'Mozilla/5.0', 'Mozilla/5.0', 'curl/8.5.0', 'curl/8.5.0', 'kube-probe/1.29', 'Mozilla/5.0', 'curl/8.5.0'];
  const codes = [200, 404, 200, 404, 404, 500, 200, 500];
  for (const [i, agent] of agents.entries()) tracer.startSpan('GET', { attributes: { agent, code: codes[i] } });
  t.deepEqual(
    starts().map((s) => s.attrs),
    agents.map((agent, i) => ({ agent, code: BigInt(codes[i]) })),
  );
});
