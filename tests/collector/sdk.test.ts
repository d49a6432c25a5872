// The SDK and the collector together: telemetry made with the OpenTelemetry
// API through @otlp-mmap/sdk (in this test process) is exported by the
// collector (a child process) to the receiver over gRPC.
import test from 'ava';
import { SpanStatusCode } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { startMmapSdk } from '@otlp-mmap/sdk';
import { OtlpReceiver } from '../helpers/otlp-receiver.js';
import { tempDir } from '../helpers/files.js';
import { CollectorProcess, waitFor } from './support/collector-process.js';
import { FAST } from './support/setup.js';

test('spans with a recorded exception, a log inside a span and a counter made through the SDK arrive as OTLP', async (t) => {
  const tmp = tempDir();
  const receiver = await OtlpReceiver.start();
  const path = tmp.file('sdk.otlp-mmap');
  const sdk = startMmapSdk({ path, serviceName: 'sdk-e2e' });
  const collector = new CollectorProcess(['--input', path, ...FAST, '--endpoint', receiver.grpcUrl, '--protocol', 'grpc']);
  t.teardown(async () => {
    if (collector.running) await collector.stop('SIGKILL');
    await sdk.shutdown();
    await receiver.close();
    tmp.cleanup();
  });

  const tracer = sdk.tracerProvider.getTracer('e2e-tracer', '1.2.3');
  const logger = sdk.loggerProvider.getLogger('e2e-logger');
  const counter = sdk.meterProvider.getMeter('e2e-meter').createCounter('e2e.count');
  tracer.startActiveSpan('parent', (parent) => {
    parent.setAttribute('step', 'one');
    parent.updateName('parent-renamed');
    tracer.startActiveSpan('child', (child) => {
      child.recordException(new Error('kaboom'));
      child.setStatus({ code: SpanStatusCode.ERROR, message: 'failed' });
      child.end();
    });
    logger.emit({ severityNumber: SeverityNumber.WARN, body: 'inside the parent span', attributes: { k: 'v' } });
    counter.add(3, { route: '/x' });
    parent.end();
  });

  await waitFor(() => receiver.spans().length >= 2 && receiver.logRecords().length >= 1, 15_000, 'spans and the log record');
  await collector.stop();

  const parent = receiver.spans().find((s) => s.name === 'parent-renamed');
  const child = receiver.spans().find((s) => s.name === 'child');
  t.truthy(parent);
  t.truthy(child);
  t.is(parent!.attributes.step, 'one');
  t.is(parent!.resource['service.name'], 'sdk-e2e');
  t.is(parent!.scope, 'e2e-tracer');
  t.is(Buffer.from(child!.span.parentSpanId).toString('hex'), parent!.spanId);
  t.is(child!.span.status?.code, 2);
  const exception = child!.span.events.find((e) => e.name === 'exception');
  t.truthy(exception, 'the exception shows on the span');
  t.true(exception!.attributes.some((a) => a.key === 'exception.message' && a.value?.value?.value === 'kaboom'));
  const [log] = receiver.logRecords();
  t.is(log.body, 'inside the parent span');
  t.is(Buffer.from(log.record.traceId).toString('hex'), parent!.traceId, 'the log carries the trace context');
  t.is(log.scope, 'e2e-logger');
  t.true(
    receiver.metricsReceived().some((m) => m.metric.name === 'e2e.count'),
    'the counter arrives (final collection at SIGTERM at the latest)',
  );
});
