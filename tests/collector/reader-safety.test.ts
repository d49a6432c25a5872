// What the collector's reads hold and what they survive, end to end with
// real collector processes: byte-bounded reads of big slots, rings whose
// indexes are impossible, and `dump` reading a file it may not write.
import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runCollector, waitFor } from './support/collector-process.js';
import { anyValue } from './support/mmap-writer.js';
import { e2e } from './support/setup.js';

const MiB = 1024 * 1024;

/** A field of /proc/<pid>/status in kB (VmHWM: peak resident set). */
function procStatusKb(pid: number, field: string): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  if (!line) throw new Error(`no ${field} for ${pid}`);
  return Number(line.split(/\s+/)[1]);
}

/** Writes `value` as a little-endian int64 at `offset` of the file, as a corrupt or hostile program would. */
function pokeI64(path: string, offset: number, value: bigint): void {
  const fd = openSync(path, 'r+');
  try {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(value);
    writeSync(fd, b, 0, 8, offset);
  } finally {
    closeSync(fd);
  }
}

/** Offsets of a ring's reader_index and writer_index (FORMAT.md section 3). */
function indexOffsets(ringOffset: number): { reader: number; writer: number } {
  return { reader: ringOffset + 16, writer: ringOffset + 24 };
}

test('reading a ring full of big messages holds at most about --read-bytes more than reading them one at a time, and every message arrives', async (t) => {
  const slotSize = 4 * MiB;
  const slots = 32;
  const { receiver, writer, collector } = await e2e(t, { events: { slots, slotSize } });
  const bound = 8 * MiB;
  // One record per request and a queue of one: the export side holds one
  // record at a time, so what grows with a read is what the read holds.
  const c = collector([
    '--endpoint',
    receiver.httpUrl,
    '--read-bytes',
    String(bound),
    '--batch-size',
    '1',
    '--queue-size',
    '1',
    '--stats',
    '--stats-interval',
    '100',
  ]);
  await waitFor(() => c.statusLines().length > 0, 30_000, 'the collector to start');
  const startKb = procStatusKb(c.child.pid!, 'VmHWM');
  const scope = writer.scope('lib', writer.resource({ 'service.name': 'big' }));
  // Bytes bodies: decoded into ArrayBuffers, which V8 collects under
  // external-memory pressure. (4 MiB strings stay in the old generation
  // until its limit, ~350 MB here, whatever the reads hold.)
  const body = (i: number): Uint8Array => new Uint8Array(slotSize - 256).fill(65 + (i % 26));
  const log = (i: number): boolean => writer.event({ scopeRef: scope, body: anyValue(body(i)), severityNumber: 9 });
  const received = (): string[] => {
    const got = receiver.logRecords().map((l) => `${String.fromCharCode((l.body as Uint8Array)[0])}${(l.body as Uint8Array).length}`);
    receiver.logs.length = 0;
    return got;
  };
  const perRing = slots - 1; // a ring holds slots - 1 unread messages
  const expected = Array.from({ length: perRing }, (_, i) => `${String.fromCharCode(65 + (i % 26))}${slotSize - 256}`).sort();
  // Twice the ring's worth one message at a time: the working set of one
  // such message, V8's garbage slack included.
  for (let round = 0; round < 2; round++) {
    const got: string[] = [];
    for (let i = 0; i < perRing; i++) {
      t.true(log(i));
      await waitFor(() => receiver.logRecords().length > 0, 60_000, `record ${i}`);
      got.push(...received());
    }
    t.deepEqual(got.sort(), expected);
  }
  const oneAtATimeKb = procStatusKb(c.child.pid!, 'VmHWM');
  // Then a full ring at once: an unbounded read would take all of it.
  for (let i = 0; i < perRing; i++) t.true(log(i), `message ${i} fits its slot`);
  const got: string[] = [];
  await waitFor(
    () => {
      got.push(...received());
      return got.length >= perRing;
    },
    120_000,
    `${perRing} big log records`,
  );
  const peakKb = procStatusKb(c.child.pid!, 'VmHWM');
  await c.stop('SIGTERM');
  // Requests may overlap, so records may arrive in another order.
  t.deepEqual(got.sort(), expected, 'every message, whole');
  const MiBof = (kb: number): number => Math.round(kb / 1024);
  t.log(
    `VmHWM: ${MiBof(startKb)} MiB at start, ${MiBof(oneAtATimeKb)} MiB after messages one at a time, ${MiBof(peakKb)} MiB after a full ring (${perRing * 4} MiB) read with --read-bytes ${bound / MiB} MiB`,
  );
  // Unbounded, one read holds the whole ring (124 MiB) plus its copies.
  t.true(peakKb - oneAtATimeKb <= 4 * (bound / 1024), `a full ring grew the peak by ${MiBof(peakKb - oneAtATimeKb)} MiB, more than 4 x --read-bytes`);
});

test('a writer_index far ahead is resynchronised: the ring recovers, later records arrive, and the count is reported', async (t) => {
  const { receiver, writer, path, collector } = await e2e(t, { events: { slots: 16, slotSize: 512 } });
  const scope = writer.scope('lib', writer.resource({ 'service.name': 'svc' }));
  t.true(writer.log(scope, 'before'));
  const events = writer.native.info().events;
  pokeI64(path, indexOffsets(events.offset).writer, 1_000_000n);
  t.false(writer.log(scope, 'dropped while the ring looks full'), 'every slot looks taken');
  const c = collector(['--endpoint', receiver.httpUrl, '--uncommitted-timeout', '200', '--stats', '--stats-interval', '100']);
  await waitFor(() => receiver.logRecords().length >= 1, 20_000, 'the record committed before');
  // The window of claims never committed is skipped after one timeout; then writers find room.
  await waitFor(() => writer.log(scope, 'after'), 20_000, 'room in the ring');
  for (let i = 0; i < 20; i++) await waitFor(() => writer.log(scope, `after-${i}`), 20_000, 'room in the ring');
  await waitFor(() => receiver.logRecords().length >= 22, 20_000, 'the records written after the resync');
  await waitFor(() => (c.statusLines().at(-1)?.resyncs ?? 0) >= 1, 20_000, 'a status line counting the resync');
  const exit = await c.stop('SIGTERM');
  t.is(exit.code, 0);
  t.deepEqual(
    receiver.logRecords().map((l) => l.body),
    ['before', 'after', ...Array.from({ length: 20 }, (_, i) => `after-${i}`)],
  );
  const final = c.statusLines('final').at(-1)!;
  t.is(final.resyncs, 1);
  // From reader_index 0 to 1_000_000 - 16: the indexes given up.
  t.is(final.resync_skipped, 1_000_000 - 16);
  t.is(final.skipped_uncommitted, 16, 'the window of claims nobody committed');
});

test('a reader_index ahead of writer_index is resynchronised: records written meanwhile are exported, and dump counts it too', async (t) => {
  const { receiver, writer, path, collector } = await e2e(t, { spans: { slots: 32, slotSize: 512 } });
  const scope = writer.scope('lib', writer.resource({ 'service.name': 'svc' }));
  const spans = writer.native.info().spans;
  pokeI64(path, indexOffsets(spans.offset).reader, 5_000n);
  // Writers compare with reader_index only: they go on writing (20 messages fit 32 slots).
  for (let i = 1; i <= 10; i++) {
    writer.startSpan(scope, 1, i, `s${i}`);
    writer.endSpan(scope, 1, i);
  }
  const dumped = await runCollector(['dump', path]);
  t.is(dumped.exit.code, 0, dumped.stderr);
  t.is(dumped.statusLines('dump').at(-1)!.resyncs, 1, "dump's summary counts the resync");
  t.is(dumped.statusLines('dump').at(-1)!.exported_traces, 10);
  const c = collector(['--endpoint', receiver.httpUrl, '--stats', '--stats-interval', '100']);
  await waitFor(() => receiver.spans().length >= 10, 20_000, 'the ten spans');
  const exit = await c.stop('SIGTERM');
  t.is(exit.code, 0);
  t.deepEqual(
    receiver
      .spans()
      .map((s) => s.name)
      .sort(),
    Array.from({ length: 10 }, (_, i) => `s${i + 1}`).sort(),
  );
  const final = c.statusLines('final').at(-1)!;
  t.is(final.resyncs, 1);
  t.is(final.resync_skipped, 0, 'nothing given up: the indexes past writer_index were never claimed');
});

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

test('dump leaves every byte of the file as it was, and a second dump reads the same', async (t) => {
  const { writer, path } = await e2e(t);
  const scope = writer.scope('lib', writer.resource({ 'service.name': 'crashed' }));
  writer.startSpan(scope, 1, 1, 'finished');
  writer.endSpan(scope, 1, 1);
  writer.log(scope, 'last log');
  const before = sha256(path);
  const first = await runCollector(['dump', path]);
  t.is(first.exit.code, 0, first.stderr);
  t.is(sha256(path), before, 'the file is unchanged');
  const second = await runCollector(['dump', path]);
  t.is(sha256(path), before);
  // Log records carry the time they were read (observedTimeUnixNano): compare the rest.
  const content = (stdout: string): string => stdout.replace(/"observedTimeUnixNano":"\d+"/g, '');
  t.is(content(second.stdout), content(first.stdout), 'nothing was consumed');
  t.true(first.stdout.includes('"finished"') && first.stdout.includes('last log'));
});

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = fileURLToPath(new URL('../../packages/collector/src/cli.ts', import.meta.url));

/** Runs `dump path` as another user (uid/gid); resolves to its exit code and output. */
/**
 * Runs `dump` on `path`; with `withoutPrivileges`, as root without any
 * capability (`setpriv` empties the bounding set), so that the kernel checks
 * file permissions as for any user while the checkout stays readable
 * wherever it lies (a fresh clone may sit in a 0700 temporary directory
 * that another user cannot enter).
 */
function dumpAs(path: string, withoutPrivileges: boolean): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const node = [process.execPath, '--conditions=source', '--import=tsx', CLI, 'dump', path];
    const [command, ...args] = withoutPrivileges ? ['setpriv', '--bounding-set=-all', '--inh-caps=-all', '--', ...node] : node;
    const child = spawn(command!, args, {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('a 0444 file owned by another user is dumped by a user who can only read it', async (t) => {
  const { writer, path } = await e2e(t);
  const scope = writer.scope('lib', writer.resource({ 'service.name': 'black-box' }));
  writer.startSpan(scope, 1, 1, 'evidence');
  writer.endSpan(scope, 1, 1);
  writer.close();
  chmodSync(path, 0o444);
  const root = process.getuid?.() === 0;
  if (root) {
    // Owned by nobody and read by a process without capabilities: the kernel
    // checks permissions (root's capabilities would bypass them).
    chownSync(path, 65534, 65534);
    t.throws(
      () => execFileSync('setpriv', ['--bounding-set=-all', '--inh-caps=-all', '--', 'sh', '-c', `: >> '${path}'`], { stdio: 'ignore' }),
      undefined,
      'writing the file is refused',
    );
  } else {
    t.log('not root: dumping a 0444 file of this user (writing it is refused to its owner too)');
  }
  const before = sha256(path);
  const result = await dumpAs(path, root);
  t.is(result.code, 0, result.stderr);
  t.true(result.stdout.includes('"evidence"'), result.stdout);
  t.is(sha256(path), before, 'the file is unchanged');
});
