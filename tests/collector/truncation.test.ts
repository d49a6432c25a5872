// A file cut shorter by another program while the collector or `dump`
// reads it: real processes (an instrumented application, the collector,
// `dump`), real truncation (ftruncate), a real OTLP receiver.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { tempDir } from '../helpers/files.js';
import { OtlpReceiver } from '../helpers/otlp-receiver.js';
import { type Cut, CUTS, cutFile, cutSize, TruncationApp } from '../helpers/truncation.js';
import { CollectorProcess, waitFor } from './support/collector-process.js';
import { TestWriter } from './support/mmap-writer.js';
import { FAST } from './support/setup.js';

const CLI = fileURLToPath(new URL('../../packages/collector/src/cli.ts', import.meta.url));

function label(cut: Cut): string {
  return cut.startsWith('inside') ? cut : `to ${cut}`;
}

for (const cut of CUTS) {
  test.serial(`a file cut ${label(cut)} while the collector reads it: one line, the truncation counted, the re-created file exported`, async (t) => {
    const tmp = tempDir('otlp-mmap-truncation-');
    const path = tmp.file('app.mmap');
    const receiver = await OtlpReceiver.start();
    // A busy application: the collector is reading most of the time.
    const app = await TruncationApp.start(path, { ticksPerInterval: 2 });
    const collector = new CollectorProcess(['--input', path, ...FAST, '--endpoint', receiver.httpUrl, '--stats', '--stats-interval', '100']);
    t.teardown(async () => {
      app.kill();
      if (collector.running) await collector.stop('SIGKILL');
      await receiver.close();
      tmp.cleanup();
    });
    await waitFor(() => receiver.spans().length >= 200, 20_000, '200 spans before the cut');

    cutFile(path, cutSize(path, cut));

    await app.until((s) => s.diagErrors >= 1, 10_000, 'the application to notice the cut');
    app.phase('after');
    await waitFor(() => receiver.spans().some((s) => s.name.startsWith('after-')), 20_000, 'spans of the re-created file');
    const after = receiver.spans().filter((s) => s.name.startsWith('after-'));
    t.is(after[0]!.scope, 'truncation-app');
    t.is(after[0]!.resource['service.name'], 'truncated-app');
    t.is(after[0]!.attributes['app.phase'], 'after');
    t.true(collector.running, 'the collector is alive');

    const exit = await collector.stop('SIGTERM');
    t.deepEqual(exit, { code: 0, signal: null });
    const lines = collector.stderr.split('\n').filter((l) => /was truncated/.test(l));
    t.is(lines.length, 1, collector.stderr);
    t.regex(lines[0]!, /was truncated by another program while being read/);
    const final = collector.statusLines('final').at(-1)!;
    t.is(final.truncations, 1);
    t.true(final.lost_truncated >= 0);
    t.deepEqual(
      collector.stderr.split('\n').filter((l) => /failed/.test(l)),
      [],
      'no step failed on the way',
    );
    t.deepEqual(await app.stop(), { code: 0, signal: null });
  });
}

test('a cut that leaves the rings whole: the collector counts the messages written and never read', async (t) => {
  const tmp = tempDir('otlp-mmap-truncation-');
  const path = tmp.file('app.mmap');
  const receiver = await OtlpReceiver.start();
  const writer = new TestWriter(path);
  const collector = new CollectorProcess(['--input', path, ...FAST, '--endpoint', receiver.httpUrl, '--stats', '--stats-interval', '100']);
  t.teardown(async () => {
    if (collector.running) await collector.stop('SIGKILL');
    writer.close();
    await receiver.close();
    tmp.cleanup();
  });
  const scope = writer.scope('lib', writer.resource({ 'service.name': 'cut' }));
  writer.log(scope, 'read before the cut');
  await waitFor(() => receiver.logRecords().length >= 1, 15_000, 'the first log record');
  // Stop the collector between polls, write 7 records it will never read, cut inside the dictionary.
  await collector.pause();
  for (let i = 0; i < 7; i++) writer.log(scope, `unread-${i}`);
  cutFile(path, cutSize(path, 'inside the dictionary'));
  collector.resume();
  await waitFor(() => /was truncated/.test(collector.stderr), 15_000, 'the truncation line');
  t.regex(collector.stderr, /7 unread messages lost/);
  // A writer re-creates the file (here another one: this process's writer is done with it).
  writer.close();
  const next = new TestWriter(path);
  t.teardown(() => next.close());
  next.log(next.scope('lib', next.resource({ 'service.name': 'next' })), 'from the new file');
  await waitFor(() => receiver.logRecords().length >= 2, 15_000, "the new file's record");
  const exit = await collector.stop('SIGTERM');
  t.is(exit.code, 0);
  t.deepEqual(
    receiver.logRecords().map((l) => l.body),
    ['read before the cut', 'from the new file'],
  );
  const final = collector.statusLines('final').at(-1)!;
  t.is(final.truncations, 1);
  t.is(final.lost_truncated, 7);
});

test('a file cut while dump reads it: what was read is written, the summary counts the truncation, exit code 3', async (t) => {
  const tmp = tempDir('otlp-mmap-truncation-');
  const path = tmp.file('app.mmap');
  const writer = new TestWriter(path, { spans: { slots: 16384 } });
  t.teardown(() => {
    writer.close();
    tmp.cleanup();
  });
  const scope = writer.scope('lib', writer.resource({ 'service.name': 'dumped' }));
  const total = 8000; // spans: 8000 starts and 4000 ends fit the ring
  for (let i = 0; i < total; i++) {
    writer.startSpan(scope, 1, i + 1, `span-${i}`);
    if (i % 2 === 0) writer.endSpan(scope, 1, i + 1);
  }
  // dump with its stdout unread: once the pipe and its export queue are full it stops reading, mid-file.
  const dump = spawn(process.execPath, ['--conditions=source', '--import=tsx', CLI, 'dump', path, '--batch-size', '64', '--queue-size', '256'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  dump.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => dump.on('exit', (code, signal) => resolve({ code, signal })));
  t.teardown(() => dump.kill('SIGKILL'));
  // dump reads read-only (the file's reader_index stays): that it has read part of the file shows in its
  // output, which stays unread in the pipe and in the paused stream's buffer.
  dump.stdout.pause();
  await waitFor(() => dump.stdout.readableLength > 0, 20_000, 'dump to start writing what it read');
  await new Promise((r) => setTimeout(r, 300));
  t.is(dump.exitCode, null, 'dump stopped mid-file, held up by its unread output');

  cutFile(path, 0);
  let stdout = '';
  dump.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  dump.stdout.resume();
  const exit = await exited;

  t.deepEqual(exit, { code: 3, signal: null }, stderr);
  const lines = stderr.trim().split('\n');
  t.is(lines.length, 2, stderr);
  t.regex(lines[0]!, /^otlp-mmap-collector: dump .* truncations=1 /);
  t.regex(lines[1]!, /was truncated by another program while dump read it/);
  const exported = stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { resourceSpans?: { scopeSpans: { spans: unknown[] }[] }[] })
    .flatMap((l) => l.resourceSpans ?? [])
    .flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
  t.true(exported.length > 0 && exported.length < total, `${exported.length} spans written before the cut`);
});
