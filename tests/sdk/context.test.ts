/**
 * Parent/child relations through the global API: this file registers the SDK globally (one SDK for the
 * whole file, tests run serially).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { context, metrics, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';
import test from 'ava';
import { type MmapSdk, startMmapSdk } from '@otlp-mmap/sdk';
import type { SpanEvent } from '@otlp-mmap/protocol';
import { FileReadBack, hex, tempPath } from './support/read-back.js';

let sdk: MmapSdk;
let rb: FileReadBack;
const tmp = tempPath();

test.before(() => {
  sdk = startMmapSdk({ path: tmp.path, metricCollectionIntervalMillis: 3_600_000 });
  rb = new FileReadBack(tmp.path);
});

test.after.always(async () => {
  rb.close();
  await sdk.shutdown();
  tmp.cleanup();
});

/** name -> { spanId, parentSpanId, traceId } of the spans started since the last call. */
function started(): Map<string, { spanId: string; parent: string; traceId: string }> {
  const out = new Map<string, { spanId: string; parent: string; traceId: string }>();
  for (const e of rb.spans() as SpanEvent[]) {
    if (e.event?.$case === 'start') {
      out.set(e.event.value.name, { spanId: hex(e.spanId), parent: hex(e.event.value.parentSpanId), traceId: hex(e.traceId) });
    }
  }
  return out;
}

test.serial('the SDK registers itself as the global tracer, meter and logger provider', (t) => {
  t.is(trace.getTracerProvider().getTracer('x').constructor.name, 'MmapTracer');
  t.is(metrics.getMeterProvider(), sdk.meterProvider);
  t.is(logs.getLoggerProvider().getLogger('x').constructor.name, 'MmapLogger');
  t.deepEqual(propagation.fields().sort(), ['baggage', 'traceparent', 'tracestate']);
});

test.serial('a span started inside context.with is a child of the span set there', (t) => {
  const tracer = trace.getTracer('ctx');
  const parent = tracer.startSpan('with-parent');
  context.with(trace.setSpan(context.active(), parent), () => {
    tracer.startSpan('with-child').end();
  });
  parent.end();
  const s = started();
  t.is(s.get('with-child')?.parent, s.get('with-parent')?.spanId);
  t.is(s.get('with-child')?.traceId, s.get('with-parent')?.traceId);
});

test.serial('startActiveSpan makes the span active across await', async (t) => {
  const tracer = trace.getTracer('ctx');
  await tracer.startActiveSpan('await-parent', async (parent) => {
    await sleep(5);
    tracer.startSpan('await-child').end();
    await Promise.resolve();
    tracer.startSpan('await-child-2').end();
    parent.end();
  });
  const s = started();
  t.is(s.get('await-child')?.parent, s.get('await-parent')?.spanId);
  t.is(s.get('await-child-2')?.parent, s.get('await-parent')?.spanId);
});

test.serial('the active span survives setTimeout', async (t) => {
  const tracer = trace.getTracer('ctx');
  await new Promise<void>((resolve) => {
    tracer.startActiveSpan('timer-parent', (parent) => {
      setTimeout(() => {
        tracer.startSpan('timer-child').end();
        parent.end();
        resolve();
      }, 5);
    });
  });
  const s = started();
  t.is(s.get('timer-child')?.parent, s.get('timer-parent')?.spanId);
});

test.serial('a span started outside any active span is a root span', (t) => {
  trace.getTracer('ctx').startSpan('lonely').end();
  t.is(started().get('lonely')?.parent, '');
});

test.serial('the W3C propagator carries a span to a remote child', (t) => {
  const tracer = trace.getTracer('ctx');
  const parent = tracer.startSpan('propagated-parent');
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(ROOT_CONTEXT, parent), carrier);
  t.regex(carrier.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  const remote = propagation.extract(ROOT_CONTEXT, carrier);
  tracer.startSpan('propagated-child', {}, remote).end();
  const s = started();
  t.is(s.get('propagated-child')?.parent, parent.spanContext().spanId);
});

test.serial('a log emitted inside an active span carries its context', (t) => {
  const tracer = trace.getTracer('ctx');
  rb.events();
  tracer.startActiveSpan('log-parent', (span) => {
    logs.getLogger('ctx').emit({ body: 'inside' });
    span.end();
  });
  const [e] = rb.events();
  const s = started();
  t.is(s.get('log-parent')?.spanId, hex(e.spanContext!.spanId));
});

test.serial('a metric recorded inside an active span carries its context', (t) => {
  const tracer = trace.getTracer('ctx');
  const counter = metrics.getMeter('ctx').createCounter('ctx.counter');
  rb.measurements();
  tracer.startActiveSpan('metric-parent', (span) => {
    counter.add(1);
    span.end();
  });
  const m = rb.measurements().find((x) => rb.metric(x.metricRef).name === 'ctx.counter');
  t.is(started().get('metric-parent')?.spanId, hex(m!.spanContext!.spanId));
});
