/**
 * The propagator registered with the globals: W3C trace context + baggage by
 * default, what OTEL_PROPAGATORS names, or the `propagator` option.
 * Serial: each test owns the global registrations until it shuts down.
 */
import { propagation, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { startMmapSdk } from '@otlp-mmap/sdk';
import test from 'ava';
import { tempPath } from './support/read-back.js';

async function withGlobalSdk(env: Record<string, string>, options: Parameters<typeof startMmapSdk>[0], fn: () => void): Promise<void> {
  const tmp = tempPath();
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const sdk = startMmapSdk({ path: tmp.path, ...options });
    try {
      fn();
    } finally {
      await sdk.shutdown();
    }
  } finally {
    for (const k of Object.keys(env)) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    tmp.cleanup();
  }
}

function injectedHeaders(): Record<string, string> {
  const ctx = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.SAMPLED,
  });
  const withBaggage = propagation.setBaggage(ctx, propagation.createBaggage({ user: { value: 'alice' } }));
  const carrier: Record<string, string> = {};
  propagation.inject(withBaggage, carrier);
  return carrier;
}

test.serial('by default the global propagator writes traceparent and baggage', async (t) => {
  await withGlobalSdk({}, {}, () => {
    const headers = injectedHeaders();
    t.is(headers.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    t.is(headers.baggage, 'user=alice');
  });
});

test.serial('OTEL_PROPAGATORS=baggage registers the baggage propagator alone', async (t) => {
  await withGlobalSdk({ OTEL_PROPAGATORS: 'baggage' }, {}, () => {
    t.deepEqual(Object.keys(injectedHeaders()), ['baggage']);
  });
});

test.serial('OTEL_PROPAGATORS=none registers no propagator', async (t) => {
  await withGlobalSdk({ OTEL_PROPAGATORS: 'none' }, {}, () => {
    t.deepEqual(injectedHeaders(), {});
    t.deepEqual(propagation.fields(), []);
  });
});

test.serial('an unsupported name in OTEL_PROPAGATORS is skipped and the others still register', async (t) => {
  await withGlobalSdk({ OTEL_PROPAGATORS: 'xray, tracecontext' }, {}, () => {
    t.deepEqual(Object.keys(injectedHeaders()), ['traceparent']);
  });
});

test.serial('OTEL_PROPAGATORS=b3 writes the single b3 header and reads it back', async (t) => {
  await withGlobalSdk({ OTEL_PROPAGATORS: 'b3' }, {}, () => {
    const headers = injectedHeaders();
    t.deepEqual(headers, { b3: '0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1' });
    const extracted = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, headers));
    t.like(extracted, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', isRemote: true });
  });
});

test.serial('OTEL_PROPAGATORS=b3multi writes the X-B3-* headers', async (t) => {
  await withGlobalSdk({ OTEL_PROPAGATORS: 'b3multi' }, {}, () => {
    t.deepEqual(injectedHeaders(), {
      'x-b3-traceid': '0af7651916cd43dd8448eb211c80319c',
      'x-b3-spanid': 'b7ad6b7169203331',
      'x-b3-sampled': '1',
    });
  });
});

test.serial('OTEL_PROPAGATORS=jaeger writes uber-trace-id and the baggage as uberctx-* headers', async (t) => {
  await withGlobalSdk({ OTEL_PROPAGATORS: 'jaeger' }, {}, () => {
    t.deepEqual(injectedHeaders(), {
      'uber-trace-id': '0af7651916cd43dd8448eb211c80319c:b7ad6b7169203331:0:01',
      'uberctx-user': 'alice',
    });
  });
});

test.serial('OTEL_PROPAGATORS=tracecontext,b3multi,baggage registers all three', async (t) => {
  await withGlobalSdk({ OTEL_PROPAGATORS: 'tracecontext,b3multi,baggage' }, {}, () => {
    t.deepEqual(Object.keys(injectedHeaders()).sort(), ['baggage', 'traceparent', 'x-b3-sampled', 'x-b3-spanid', 'x-b3-traceid']);
  });
});

test.serial('the propagator option wins over OTEL_PROPAGATORS, and null registers none', async (t) => {
  await withGlobalSdk({ OTEL_PROPAGATORS: 'baggage' }, { propagator: null }, () => {
    t.deepEqual(injectedHeaders(), {});
  });
});
