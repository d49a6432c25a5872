// Failure and lifecycle behaviour, end to end with real processes: endpoint
// outages, a writer killed with SIGKILL, a collector killed and restarted,
// file re-initialisation, SIGTERM drain, and `dump`.
import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runCollector, waitFor } from './support/collector-process.js';
import { TestWriter } from './support/mmap-writer.js';
import { e2e } from './support/setup.js';

function names<T extends { name?: string; body?: unknown }>(items: readonly T[]): string[] {
  return items.map((i) => String(i.name ?? i.body));
}

/** Spans as `name@service.name/scope`, sorted. */
function spanLabels(spans: readonly { name: string; resource: Record<string, unknown>; scope: string }[]): string[] {
  return spans.map((s) => `${s.name}@${String(s.resource['service.name'])}/${s.scope}`).sort();
}

/**
 * A new writer's file at `path` (created over the old one, or anew) with one
 * ended span `new-done` of service `new`, scope `new-lib`; its dictionary is
 * shifted so that references of the old file would resolve wrongly. Returns
 * the new scope for more.
 */
function newWriter(t: ExecutionContext, path: string): { next: TestWriter; newScope: bigint } {
  const next = new TestWriter(path);
  t.teardown(() => next.close());
  next.resource({ padding: 'x'.repeat(100) });
  const newScope = next.scope('new-lib', next.resource({ 'service.name': 'new' }));
  next.startSpan(newScope, 2, 1, 'new-done');
  next.endSpan(newScope, 2, 1);
  return { next, newScope };
}

function duplicates(values: readonly string[]): string[] {
  const seen = new Set<string>();
  return values.filter((v) => {
    if (seen.has(v)) return true;
    seen.add(v);
    return false;
  });
}

test('while the receiver is down, reading stops at the queue bound (data stays in the file) and everything arrives once it is back', async (t) => {
  const { receiver, writer, collector } = await e2e(t, { spans: { slots: 8192 } });
  await receiver.stop();
  const scope = writer.scope('lib', 0n);
  const total = 2000;
  for (let i = 1; i <= total; i++) {
    writer.startSpan(scope, 1, i, `s${i}`);
    writer.endSpan(scope, 1, i);
  }
  const c = collector([
    '--endpoint',
    receiver.httpUrl,
    '--queue-size',
    '200',
    '--batch-size',
    '50',
    '--read-batch',
    '100',
    '--stats',
    '--stats-interval',
    '100',
  ]);
  await waitFor(() => c.statusLines().length >= 10, 15_000, 'ten status lines while the receiver is down');
  const down = c.statusLines();
  const last = down.at(-1)!;
  t.true(
    down.every((s) => s.queued_traces <= 200 + 100 + 50),
    'queue bounded by capacity + one read + one batch',
  );
  t.true(last.lag_spans > 0, 'backpressure left the rest in the ring');
  t.is(last.dropped_traces, 0);
  t.true(last.rss_mb < 300, `collector RSS ${last.rss_mb} MB while the receiver is down`);
  await receiver.listen();
  await waitFor(() => receiver.spans().length >= total, 30_000, `${total} spans after recovery`);
  await c.stop();
  t.is(receiver.spans().length, total);
  t.deepEqual(duplicates(names(receiver.spans())), []);
  t.is(c.statusLines('final').at(-1)!.dropped_traces, 0);
});

test('a writer killed with SIGKILL mid-stream: every committed item is exported exactly once', async (t) => {
  const { receiver, path, file, collector } = await e2e(t);
  const progress = file('progress.txt');
  const committed = (): number[] => {
    try {
      return readFileSync(progress, 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import=tsx', fileURLToPath(new URL('./support/writer-child.ts', import.meta.url)), path, progress],
    { stdio: 'inherit' },
  );
  const exited = new Promise((r) => child.on('exit', r));
  t.teardown(() => child.kill('SIGKILL'));
  await waitFor(() => committed().length > 0, 15_000, 'the writer child');
  const c = collector(['--endpoint', receiver.httpUrl]);
  await waitFor(() => committed().length > 3000, 20_000, '3000 items written');
  child.kill('SIGKILL');
  await exited;
  const lastPrinted = Math.max(...committed());
  // The item after the last printed one may also have been committed before the kill.
  await waitFor(() => receiver.logRecords().length >= lastPrinted + 1 && receiver.spans().length >= lastPrinted + 1, 20_000, 'every committed item');
  await new Promise((r) => setTimeout(r, 500));
  await c.stop();
  const logs = names(receiver.logRecords());
  const spans = names(receiver.spans());
  t.deepEqual(duplicates(logs), []);
  t.deepEqual(duplicates(spans), []);
  for (let i = 0; i <= lastPrinted; i++) {
    if (!logs.includes(`log-${i}`) || !spans.includes(`span-${i}`)) {
      t.fail(`item ${i} (committed) was not exported`);
      return;
    }
  }
  t.true(logs.length <= lastPrinted + 2 && spans.length <= lastPrinted + 2);
});

test('a slot claimed but never committed (writer died in between) is skipped after --uncommitted-timeout and counted', async (t) => {
  const { receiver, writer, path, collector } = await e2e(t);
  const scope = writer.scope('lib', 0n);
  for (let i = 0; i < 3; i++) writer.log(scope, `before-${i}`);
  // Claim the next events index without committing it: bump writer_index in the ring header (FORMAT.md 3).
  const eventsRing = writer.native.info().events.offset;
  const fd = openSync(path, 'r+');
  const buf = Buffer.alloc(8);
  readSync(fd, buf, 0, 8, eventsRing + 24);
  buf.writeBigInt64LE(buf.readBigInt64LE(0) + 1n);
  writeSync(fd, buf, 0, 8, eventsRing + 24);
  closeSync(fd);
  for (let i = 0; i < 3; i++) writer.log(scope, `after-${i}`);
  const c = collector(['--endpoint', receiver.httpUrl, '--uncommitted-timeout', '300', '--stats', '--stats-interval', '100']);
  await waitFor(() => receiver.logRecords().length >= 6, 15_000, 'six log records');
  await c.stop();
  t.deepEqual(names(receiver.logRecords()), ['before-0', 'before-1', 'before-2', 'after-0', 'after-1', 'after-2']);
  t.is(c.statusLines('final').at(-1)!.skipped_uncommitted, 1);
});

test('a collector killed with SIGKILL and restarted resumes where it stopped: nothing delivered before the kill is exported again', async (t) => {
  const { receiver, writer, collector } = await e2e(t, { events: { slots: 16384 } });
  const scope = writer.scope('lib', 0n);
  let n = 0;
  const writeSome = (count: number): void => {
    for (let i = 0; i < count; i++) if (writer.log(scope, `log-${n}`)) n++;
  };
  writeSome(500);
  // Batches of 512: some of what the pump writes is delivered before the kill (~1200 records in 300 ms).
  const first = collector(['--endpoint', receiver.httpUrl, '--batch-size', '512']);
  await waitFor(() => receiver.logRecords().length >= 500, 15_000, 'the first 500');
  const pump = setInterval(() => writeSome(20), 5);
  await new Promise((r) => setTimeout(r, 300));
  await first.stop('SIGKILL');
  const deliveredBeforeKill = receiver.logRecords().length;
  const writtenAtKill = n;
  writeSome(300); // written while no collector runs
  const second = collector(['--endpoint', receiver.httpUrl, '--batch-size', '512']);
  await new Promise((r) => setTimeout(r, 1500));
  clearInterval(pump);
  const total = n;
  await waitFor(() => names(receiver.logRecords()).includes(`log-${total - 1}`), 15_000, 'the last record');
  await new Promise((r) => setTimeout(r, 300));
  await second.stop();
  const got = names(receiver.logRecords());
  t.deepEqual(duplicates(got), [], 'nothing exported twice');
  t.true(deliveredBeforeKill > 500);
  for (let i = writtenAtKill; i < total; i++) {
    if (!got.includes(`log-${i}`)) {
      t.fail(`log-${i}, written after the kill, was not exported`);
      return;
    }
  }
  t.pass();
});

test('a file re-initialised by a new writer: the old file is flushed, the new one is read with its own dictionary', async (t) => {
  const { receiver, writer, path, collector } = await e2e(t);
  const oldScope = writer.scope('old-lib', writer.resource({ 'service.name': 'old' }));
  writer.startSpan(oldScope, 1, 1, 'old-done');
  writer.endSpan(oldScope, 1, 1);
  writer.startSpan(oldScope, 1, 2, 'old-open');
  writer.log(oldScope, 'old-log');
  const c = collector(['--endpoint', receiver.httpUrl, '--stats', '--stats-interval', '100']);
  await waitFor(() => receiver.spans().length >= 1 && receiver.logRecords().length >= 1, 15_000, 'the old file data');
  writer.close();
  const { next, newScope } = newWriter(t, path);
  next.log(newScope, 'new-log');
  await waitFor(() => receiver.spans().length >= 3 && receiver.logRecords().length >= 2, 15_000, 'the new file data');
  await c.stop();
  t.deepEqual(spanLabels(receiver.spans()), ['new-done@new/new-lib', 'old-done@old/old-lib', 'old-open@old/old-lib']);
  t.is(receiver.spans().find((s) => s.name === 'old-open')!.attributes['otlp_mmap.span.incomplete'], true);
  t.deepEqual(
    receiver.logRecords().map((l) => `${String(l.body)}@${String(l.resource['service.name'])}`),
    ['old-log@old', 'new-log@new'],
  );
  t.is(c.statusLines('final').at(-1)!.resets, 1);
});

test('a file deleted and created anew at the input path is followed: what the old writer wrote after the delete is still exported, then the new file is read', async (t) => {
  const { receiver, writer, path, collector } = await e2e(t);
  const oldScope = writer.scope('old-lib', writer.resource({ 'service.name': 'old' }));
  writer.startSpan(oldScope, 1, 1, 'old-before-delete');
  writer.endSpan(oldScope, 1, 1);
  const c = collector(['--endpoint', receiver.httpUrl, '--stats', '--stats-interval', '100']);
  await waitFor(() => receiver.spans().length >= 1, 15_000, 'the old file data');
  // The old file is unlinked but its writer still has it mapped and keeps writing for a while.
  rmSync(path);
  writer.startSpan(oldScope, 1, 2, 'old-after-delete');
  writer.endSpan(oldScope, 1, 2);
  await waitFor(() => receiver.spans().length >= 2, 15_000, 'what the old writer wrote after the delete');
  newWriter(t, path);
  await waitFor(() => receiver.spans().length >= 3, 15_000, 'the new file data');
  await c.stop();
  t.deepEqual(spanLabels(receiver.spans()), ['new-done@new/new-lib', 'old-after-delete@old/old-lib', 'old-before-delete@old/old-lib']);
  t.is(c.statusLines('final').at(-1)!.resets, 1);
});

test("a file replaced by one that is not an OTLP-MMAP file: the old file's data is exported, then one error line about the new file and a non-zero exit", async (t) => {
  const { receiver, writer, path, collector } = await e2e(t);
  const scope = writer.scope('lib', writer.resource({ 'service.name': 'old' }));
  writer.startSpan(scope, 1, 1, 'old-done');
  writer.endSpan(scope, 1, 1);
  const c = collector(['--endpoint', receiver.httpUrl]);
  await waitFor(() => receiver.spans().length >= 1, 15_000, 'the old file data');
  rmSync(path);
  writeFileSync(path, Buffer.alloc(4096, 7));
  const exit = await c.exited;
  t.not(exit.code, 0);
  t.deepEqual(names(receiver.spans()), ['old-done']);
  const lines = c.stderr.trim().split('\n');
  t.regex(lines[0], /was replaced by a new writer/);
  t.regex(lines.at(-1)!, /cannot read .*telemetry\.mmap/);
  t.deepEqual(
    lines.filter((l) => /failed/.test(l)),
    [],
    'no step failed on the way (the closed old file is not read again)',
  );
});

test('SIGTERM drains the rings and flushes partial batches before exiting 0', async (t) => {
  const { receiver, writer, collector } = await e2e(t);
  // A long poll interval and batch timeout: only the shutdown path can deliver this data in time.
  const c = collector(['--endpoint', receiver.httpUrl, '--poll-interval', '60000', '--batch-timeout', '60000', '--stats', '--stats-interval', '50']);
  await waitFor(() => c.statusLines().length >= 1, 15_000, 'the collector to open the file');
  const scope = writer.scope('lib', 0n);
  writer.startSpan(scope, 1, 1, 'ended');
  writer.endSpan(scope, 1, 1);
  writer.startSpan(scope, 1, 2, 'still-open');
  writer.log(scope, 'last words');
  const exit = await c.stop('SIGTERM');
  t.is(exit.code, 0);
  t.deepEqual(names(receiver.spans()).sort(), ['ended', 'still-open']);
  t.deepEqual(names(receiver.logRecords()), ['last words']);
});

test('dump converts everything unread to OTLP JSON lines, marks open spans incomplete, and consumes nothing', async (t) => {
  const { writer, path } = await e2e(t);
  const scope = writer.scope('lib', writer.resource({ 'service.name': 'crashed' }));
  writer.startSpan(scope, 1, 1, 'finished');
  writer.endSpan(scope, 1, 1);
  writer.startSpan(scope, 1, 2, 'in-flight');
  writer.spanEvent(scope, 1, 2, 'exception', { 'exception.message': 'about to crash' });
  writer.log(scope, 'last log');
  const d = await runCollector(['dump', path]);
  t.is(d.exit.code, 0);
  const lines = d.jsonLines() as {
    resourceSpans?: { scopeSpans: { spans: { name: string; attributes?: { key: string }[]; events?: { name: string }[] }[] }[] }[];
    resourceLogs?: unknown[];
  }[];
  const spans = lines.flatMap((l) => l.resourceSpans ?? []).flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
  t.deepEqual(spans.map((s) => s.name).sort(), ['finished', 'in-flight']);
  const open = spans.find((s) => s.name === 'in-flight')!;
  t.true(open.attributes!.some((a) => a.key === 'otlp_mmap.span.incomplete'));
  t.is(open.events![0].name, 'exception');
  t.is(lines.filter((l) => l.resourceLogs).length, 1);
  const again = await runCollector(['dump', path]);
  t.is(again.exit.code, 0);
  t.is(again.jsonLines().length, lines.length, 'a second dump reads it all again (dump is read-only)');
});

test('bad options and bad files end with one clear error line and a non-zero exit', async (t) => {
  const { file } = await e2e(t);
  const bad = file('not-otlp-mmap.bin');
  writeFileSync(bad, Buffer.alloc(4096, 7));
  const cases: [string[], RegExp][] = [
    [['--input', bad, '--bogus'], /unknown option --bogus/],
    [['--input', bad, '--batch-size', 'ten'], /--batch-size: expected a whole number/],
    [['--input', bad, '--protocol', 'smtp'], /--protocol: expected grpc, http\/protobuf or http\/json/],
    [['dump', file('missing.mmap')], /cannot read .*missing\.mmap/],
    [['dump', bad], /cannot read .*not-otlp-mmap\.bin/],
    [['--input', file('never.mmap'), '--wait-timeout', '200'], /did not appear within 200 ms/],
    [[], /no input file/],
  ];
  for (const [args, message] of cases) {
    const r = await runCollector(args);
    t.not(r.exit.code, 0, args.join(' '));
    const lines = r.stderr.trim().split('\n');
    t.is(lines.length, 1, `one line for ${args.join(' ')}: ${r.stderr}`);
    t.regex(lines[0], message);
  }
  const bogusEndpointEnv = await runCollector(['--input', bad], { OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' });
  t.regex(bogusEndpointEnv.stderr, /OTEL_EXPORTER_OTLP_ENDPOINT: not a URL/);
  const help = await runCollector(['--help']);
  t.is(help.exit.code, 0);
  for (const option of [
    '--input',
    '--output',
    '--endpoint',
    '--protocol',
    '--stats',
    '--span-max-age',
    '--batch-timeout',
    '--metric-interval',
    '--temporality',
  ]) {
    t.true(help.stdout.includes(option), `--help documents ${option}`);
  }
});
