// A stack trace longer than an events-ring slot (1 KiB by default) must not
// cost the user the exception: with the SDK's default options, the string
// value is cut to fit the slot (counted in droppedCounts().truncatedAttributes
// and reported to diag), and the log record or span event arrives at the
// receiver with the start of the stack trace.
import test from 'ava';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { startMmapSdk } from '@otlp-mmap/sdk';
import { OtlpReceiver } from '../helpers/otlp-receiver.js';
import { tempDir } from '../helpers/files.js';
import { CollectorProcess, waitFor } from './support/collector-process.js';
import { FAST } from './support/setup.js';

/** An Error whose stack is about 6 KiB: 80 frames with long paths. */
function deepError(): Error {
  const error = new Error('deep failure');
  const frames = Array.from({ length: 80 }, (_, i) => `    at handler${i} (/srv/app/node_modules/some-framework/lib/router/layer-${i}.js:${i + 1}:17)`);
  error.stack = `Error: deep failure\n${frames.join('\n')}`;
  return error;
}

test('a log record and a span event carrying a stack trace longer than a slot arrive with it cut to fit, counted', async (t) => {
  const tmp = tempDir();
  const receiver = await OtlpReceiver.start();
  const path = tmp.file('long.otlp-mmap');
  const warnings: string[] = [];
  diag.setLogger(
    { error: () => {}, warn: (m: string) => warnings.push(m), info: () => {}, debug: () => {}, verbose: () => {} },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  let collector: CollectorProcess | undefined;
  t.teardown(async () => {
    diag.disable();
    if (collector?.running) await collector.stop('SIGKILL');
    await receiver.close();
    tmp.cleanup();
  });
  const error = deepError();
  t.true(error.stack!.length > 4 * 1024);
  const sdk = startMmapSdk({ path, registerGlobals: false, serviceName: 'long-values', resourceDetectors: [] }); // default ring sizes
  sdk.loggerProvider.getLogger('app').emit({ severityNumber: SeverityNumber.ERROR, body: 'request failed', exception: error });
  const span = sdk.tracerProvider.getTracer('app').startSpan('request');
  span.recordException(error);
  span.end();
  const counts = sdk.droppedCounts();
  await sdk.shutdown();
  t.deepEqual([counts.events, counts.attributes, counts.truncatedAttributes], [0, 0, 2], 'nothing dropped, two values cut');
  t.true(
    warnings.some((w) => w.includes('exception.stacktrace') && w.includes('cut to fit')),
    'reported to diag',
  );

  collector = new CollectorProcess(['--input', path, ...FAST, '--endpoint', receiver.grpcUrl, '--protocol', 'grpc']);
  await waitFor(() => receiver.spans().length >= 1 && receiver.logRecords().length >= 1, 15_000, 'the span and the log record');
  await collector.stop();

  const [log] = receiver.logRecords();
  const fromLog = log.attributes['exception.stacktrace'] as string;
  t.is(log.attributes['exception.message'], 'deep failure');
  t.is(log.attributes['exception.type'], 'Error');
  t.true(fromLog.length > 512 && fromLog.length < 1024, `cut to what fits a 1 KiB slot (${fromLog.length} characters)`);
  t.true(error.stack!.startsWith(fromLog), 'the start of the stack trace');

  const [received] = receiver.spans();
  const exception = received.span.events.find((e) => e.name === 'exception');
  t.truthy(exception, 'the exception event is on the span');
  const fromEvent = exception!.attributes.find((a) => a.key === 'exception.stacktrace')?.value?.value;
  t.is(fromEvent?.$case, 'stringValue');
  const text = fromEvent?.$case === 'stringValue' ? fromEvent.value : '';
  t.true(text.length > 512 && error.stack!.startsWith(text), `the start of the stack trace (${text.length} characters)`);
});

test('a multi-byte string value too long for a slot is cut on a character boundary', async (t) => {
  const tmp = tempDir();
  const receiver = await OtlpReceiver.start();
  const path = tmp.file('utf8.otlp-mmap');
  let collector: CollectorProcess | undefined;
  t.teardown(async () => {
    if (collector?.running) await collector.stop('SIGKILL');
    await receiver.close();
    tmp.cleanup();
  });
  const value = '日本語😀'.repeat(400); // 3- and 4-byte UTF-8, surrogate pairs
  const sdk = startMmapSdk({ path, registerGlobals: false, serviceName: 'utf8', resourceDetectors: [] });
  sdk.loggerProvider.getLogger('app').emit({ body: 'text', attributes: { text: value } });
  const counts = sdk.droppedCounts();
  await sdk.shutdown();
  t.is(counts.truncatedAttributes, 1);
  collector = new CollectorProcess(['--input', path, ...FAST, '--endpoint', receiver.grpcUrl, '--protocol', 'grpc']);
  await waitFor(() => receiver.logRecords().length >= 1, 15_000, 'the log record');
  await collector.stop();
  const text = receiver.logRecords()[0].attributes.text as string;
  t.true(text.length > 100, `${text.length} characters kept`);
  t.true(value.startsWith(text), 'a prefix of the value, no replacement character from half a surrogate pair');
});
