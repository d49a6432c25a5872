/**
 * OTEL_TRACES_EXPORTER / OTEL_METRICS_EXPORTER / OTEL_LOGS_EXPORTER: `none`
 * turns a signal off (a no-op provider, nothing written, nothing registered);
 * `otlp` is this SDK's own export path (the file, then the collector);
 * other exporters are reported to diag. Serial: environment and diag are
 * process-wide.
 */
import { diag, type DiagLogger, DiagLogLevel, metrics, trace, ValueType } from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';
import { startMmapSdk } from '@otlp-mmap/sdk';
import test from 'ava';
import { FileReadBack, tempPath } from './support/read-back.js';

function withEnv<T>(vars: Record<string, string>, fn: () => T): T {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(vars)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Starts an SDK (global unless told) under `env`, records one of each signal through its providers, and reads the file back. */
async function recordEach(env: Record<string, string>, registerGlobals = false) {
  const tmp = tempPath();
  const sdk = withEnv(env, () => startMmapSdk({ path: tmp.path, registerGlobals }));
  const span = sdk.tracerProvider.getTracer('t').startSpan('s');
  const spanRecording = span.isRecording();
  span.addEvent('inside the span');
  span.end();
  sdk.meterProvider.getMeter('m').createCounter('c', { valueType: ValueType.INT }).add(1);
  sdk.loggerProvider.getLogger('l').emit({ body: 'a log record' });
  await sdk.forceFlush();
  const rb = new FileReadBack(tmp.path);
  const events = rb.events();
  const read = {
    spanRecording,
    spans: rb.spans().length,
    measurements: rb.measurements().length,
    logRecords: events.filter((e) => e.spanContext === undefined).length,
    spanEvents: events.filter((e) => e.spanContext !== undefined).length,
  };
  rb.close();
  return {
    read,
    sdk,
    done: async () => {
      await sdk.shutdown();
      tmp.cleanup();
    },
  };
}

function captureDiag(): { warnings: string[]; stop: () => void } {
  const warnings: string[] = [];
  const logger: DiagLogger = {
    error: (m) => warnings.push(m),
    warn: (m) => warnings.push(m),
    info: () => {},
    debug: () => {},
    verbose: () => {},
  };
  diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  return { warnings, stop: () => diag.disable() };
}

test.serial('by default every signal is written', async (t) => {
  const { read, done } = await recordEach({});
  t.like(read, { spanRecording: true, spans: 2, logRecords: 1, spanEvents: 1 });
  t.true(read.measurements >= 1);
  await done();
});

test.serial('OTEL_TRACES_EXPORTER=none: spans are not recorded, not written, and no global tracer provider is registered', async (t) => {
  const { read, done } = await recordEach({ OTEL_TRACES_EXPORTER: 'none' }, true);
  t.like(read, { spanRecording: false, spans: 0, spanEvents: 0, logRecords: 1 });
  t.true(read.measurements >= 1);
  t.false(trace.getTracer('global').startSpan('s').isRecording());
  await done();
});

test.serial('OTEL_METRICS_EXPORTER=none: no measurement is written (not even the SDK self-metric), the other signals are', async (t) => {
  const { read, sdk, done } = await recordEach({ OTEL_METRICS_EXPORTER: 'none' }, true);
  t.like(read, { spanRecording: true, spans: 2, measurements: 0, logRecords: 1 });
  t.not(metrics.getMeterProvider(), sdk.meterProvider, 'no global meter provider registered');
  await done();
});

test.serial('OTEL_LOGS_EXPORTER=none: log records are not written; span events, which belong to traces, still are', async (t) => {
  const { read, sdk, done } = await recordEach({ OTEL_LOGS_EXPORTER: 'none' }, true);
  t.like(read, { spans: 2, logRecords: 0, spanEvents: 1 });
  t.not(logs.getLoggerProvider(), sdk.loggerProvider, 'no global logger provider registered');
  await done();
});

test.serial('OTEL_TRACES_EXPORTER=otlp is this SDK: spans are written and nothing is reported', async (t) => {
  const captured = captureDiag();
  const { read, done } = await recordEach({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_METRICS_EXPORTER: 'otlp', OTEL_LOGS_EXPORTER: 'otlp' });
  captured.stop();
  t.like(read, { spans: 2, logRecords: 1 });
  t.deepEqual(captured.warnings, []);
  await done();
});

test.serial('an exporter this SDK does not have (zipkin, console) is reported to diag and the signal stays on', async (t) => {
  const captured = captureDiag();
  const { read, done } = await recordEach({ OTEL_TRACES_EXPORTER: 'zipkin', OTEL_LOGS_EXPORTER: 'console' });
  captured.stop();
  t.like(read, { spans: 2, logRecords: 1 });
  t.true(
    captured.warnings.some((w) => w.includes('OTEL_TRACES_EXPORTER="zipkin" is not supported')),
    captured.warnings.join('\n'),
  );
  t.true(captured.warnings.some((w) => w.includes('OTEL_LOGS_EXPORTER="console" is not supported')));
  await done();
});

test.serial('"none" listed with another exporter turns the signal off, with a diag warning', async (t) => {
  const captured = captureDiag();
  const { read, done } = await recordEach({ OTEL_TRACES_EXPORTER: 'otlp,none' });
  captured.stop();
  t.is(read.spans, 0);
  t.true(captured.warnings.some((w) => w.includes('OTEL_TRACES_EXPORTER lists "none"')));
  await done();
});
