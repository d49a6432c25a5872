// Rings read across index 2^32 (FORMAT.md 7.9), end to end with a real
// collector: a file whose ring indexes start at 2^32 - 8, written by the
// binding's writer (the lap of section 3) or by a writer that computes the
// lap from a 32-bit index (emulated here through the file, as another
// program would write it).
import test, { type ExecutionContext } from 'ava';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { Event } from '@otlp-mmap/protocol';
import { runCollector, waitFor } from './support/collector-process.js';
import { anyValue, type TestWriter } from './support/mmap-writer.js';
import { e2e } from './support/setup.js';

const SLOTS = 16;
const SHIFT = 4;
const SLOT_SIZE = 256;
/** The last index consumed: the first message takes 2^32 - 8. */
const START = 2n ** 32n - 9n;

type Lap = 'full' | '32-bit';

/** Reads or writes little-endian integers of a file by offset, as another program would. */
class FileBytes {
  constructor(readonly path: string) {}
  readI64(offset: number): bigint {
    const b = Buffer.alloc(8);
    const fd = openSync(this.path, 'r');
    try {
      readSync(fd, b, 0, 8, offset);
    } finally {
      closeSync(fd);
    }
    return b.readBigInt64LE();
  }
  write(offset: number, bytes: Uint8Array): void {
    const fd = openSync(this.path, 'r+');
    try {
      writeSync(fd, bytes, 0, bytes.length, offset);
    } finally {
      closeSync(fd);
    }
  }
  writeI64(offset: number, value: bigint): void {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(value);
    this.write(offset, b);
  }
  writeI32(offset: number, value: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(value);
    this.write(offset, b);
  }
}

/** The availability value of a writer that truncates the index to 32 bits before shifting (FORMAT.md 7.9). */
function lapOf32BitIndex(index: bigint): number {
  return Number(BigInt.asUintN(32, index) >> BigInt(SHIFT)) | 0;
}

/** A log record with `body`, as the events ring holds it. */
function logRecord(scopeRef: bigint, body: string): Uint8Array {
  return Event.encode({
    ...Event.fromPartial({}),
    scopeRef,
    timeUnixNano: 1_700_000_000_500_000_000n,
    severityNumber: 9,
    severityText: 'INFO',
    body: anyValue(body),
    eventNameRef: 0n,
    spanContext: undefined,
    attributes: [],
  }).finish();
}

/**
 * A writer of the events ring: the binding's (`full` lap) or a single
 * writer that claims, writes and commits through the file with the lap of a
 * 32-bit index. Returns false when the ring is full.
 */
function eventsWriter(writer: TestWriter, path: string, lap: Lap, scopeRef: bigint): (body: string) => boolean {
  if (lap === 'full') return (body) => writer.log(scopeRef, body);
  const file = new FileBytes(path);
  const ring = writer.native.info().events.offset;
  return (body) => {
    const r = file.readI64(ring + 16);
    const w = file.readI64(ring + 24);
    if (w + 1n - BigInt(SLOTS) >= r) return false;
    const index = w + 1n;
    const slot = Number(index & BigInt(SLOTS - 1));
    file.writeI64(ring + 24, index); // claim (the only writer: no race)
    const message = logRecord(scopeRef, body);
    file.write(ring + 32 + 4 * SLOTS + slot * SLOT_SIZE, Buffer.concat([Buffer.from([message.length]), message]));
    file.writeI32(ring + 32 + 4 * slot, lapOf32BitIndex(index)); // commit
    return true;
  };
}

/** A fresh file whose events ring has consumed every index up to 2^32 - 9. */
async function fileFrom2Pow32(t: ExecutionContext) {
  const env = await e2e(t, { events: { slots: SLOTS, slotSize: SLOT_SIZE } });
  const file = new FileBytes(env.path);
  const ring = env.writer.native.info().events.offset;
  file.writeI64(ring + 16, START);
  file.writeI64(ring + 24, START);
  const scope = env.writer.scope('lib', env.writer.resource({ 'service.name': 'laps' }));
  return { ...env, scope };
}

for (const lap of ['full', '32-bit'] as const) {
  test(`a ring written with the ${lap} lap from index 2^32 - 8 is read across 2^32: nothing is lost, and slots with a 32-bit lap are counted`, async (t) => {
    const { receiver, writer, path, collector, scope } = await fileFrom2Pow32(t);
    const emit = eventsWriter(writer, path, lap, scope);
    // The default uncommitted timeout (2 s): a 32-bit lap mistaken for an
    // uncommitted claim would lose one record per timeout.
    const c = collector(['--endpoint', receiver.httpUrl]);
    const bodies = Array.from({ length: 40 }, (_, i) => `record-${i}`);
    for (const [i, body] of bodies.entries()) {
      await waitFor(() => emit(body), 20_000, `room for record ${i}`);
      if (i % 10 === 9) await waitFor(() => receiver.logRecords().length >= i + 1, 20_000, `records up to ${i}`);
    }
    const exit = await c.stop('SIGTERM');
    t.is(exit.code, 0, c.stderr);
    t.deepEqual(
      receiver.logRecords().map((l) => l.body),
      bodies,
      'every record, in order',
    );
    t.is(writer.native.info().events.readerIndex, Number(START) + 40);
    const final = c.statusLines('final').at(-1)!;
    t.is(final.read_events, 40);
    t.is(final.skipped_uncommitted, 0);
    // Indexes 2^32 .. 2^32 + 31 are where the two laps differ.
    t.is(final.lap32_committed_events ?? 0, lap === '32-bit' ? 32 : 0);
    t.is(final.lap32_committed ?? 0, lap === '32-bit' ? 32 : 0);
    // The collector's own metric says the same (its last export, at shutdown).
    const counted = receiver
      .metricsReceived()
      .filter((m) => m.metric.name === 'otlp_mmap.collector.ring.lap32_committed')
      .map((m) => (m.metric.data?.$case === 'sum' ? m.metric.data.value.dataPoints : []));
    if (lap === 'full') t.is(counted.length, 0, 'no such metric while nothing has a 32-bit lap');
    else {
      const last = counted.at(-1) ?? [];
      t.deepEqual(
        last.map((p) => [p.attributes.find((a) => a.key === 'otlp_mmap.ring')?.value?.value?.value, Number(p.value?.value)]),
        [['events', 32]],
      );
    }
  });
}

test('dump reads a ring committed with the 32-bit lap past 2^32 and its summary counts those slots', async (t) => {
  const { writer, path, scope } = await fileFrom2Pow32(t);
  const emit = eventsWriter(writer, path, '32-bit', scope);
  for (let i = 0; i < SLOTS - 1; i++) t.true(emit(`record-${i}`));
  const d = await runCollector(['dump', path]);
  t.is(d.exit.code, 0, d.stderr);
  const bodies = d
    .jsonLines()
    .flatMap((line) => (line.resourceLogs as { scopeLogs: { logRecords: { body: { stringValue: string } }[] }[] }[]) ?? [])
    .flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((l) => l.body.stringValue)));
  t.deepEqual(
    bodies,
    Array.from({ length: SLOTS - 1 }, (_, i) => `record-${i}`),
  );
  const summary = d.statusLines('dump').at(-1)!;
  // Indexes 2^32 - 8 .. 2^32 + 6: the last 7 carry a lap that differs.
  t.like(summary, { read_events: 15, lap32_committed: 7, lap32_committed_events: 7, skipped_uncommitted: 0 });
});
