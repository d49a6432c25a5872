// What one Reader.read returns (the byte bound), a read-only Reader, and the
// resynchronisation counters, through the binding.
import test from 'ava';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { Reader, Ring } from '@otlp-mmap/native';
import { splitFramed } from '../helpers/framing.js';
import { errorCode, writerAndReader } from '../helpers/native-pair.js';

const MiB = 1024 * 1024;

test('maxBytes bounds what one read returns, and a larger message comes alone', (t) => {
  const { writer, reader } = writerAndReader(t, 'bound.mmap', { events: { slots: 8, slotSize: 512 } });
  for (let i = 0; i < 5; i++) t.true(writer.append(Ring.Events, new Uint8Array(300).fill(i)));
  const first = reader.read(Ring.Events, 100, 700);
  t.true(first.length <= 700);
  t.deepEqual(
    splitFramed(first).map((m) => m[0]),
    [0, 1],
  );
  t.deepEqual(
    splitFramed(reader.read(Ring.Events, 100, 10)).map((m) => [m[0], m.length]),
    [[2, 300]],
    'alone, past the bound',
  );
  t.deepEqual(
    splitFramed(reader.read(Ring.Events, 100)).map((m) => m[0]),
    [3, 4],
    'default bound: 64 MiB',
  );
  t.is(
    errorCode(() => reader.read(Ring.Events, 100, -1)),
    'ERR_INVALID_OPTION',
  );
});

test('a batch of several MiB comes back whole, read after read', (t) => {
  const { writer, reader } = writerAndReader(t, 'large.mmap', { spans: { slots: 8, slotSize: 2 * MiB } });
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 7; i++) t.true(writer.append(Ring.Spans, new Uint8Array(MiB + i).fill(round * 10 + i)));
    const batch = reader.read(Ring.Spans, 100);
    t.true(batch.length > 7 * MiB);
    const messages = splitFramed(batch);
    t.deepEqual(
      messages.map((m) => [m.length, m[0], m[m.length - 1]]),
      Array.from({ length: 7 }, (_, i) => [MiB + i, round * 10 + i, round * 10 + i]),
    );
  }
});

test('a readOnly reader reads what a consuming reader would, and consumes nothing', (t) => {
  const { path, writer } = writerAndReader(t, 'read-only.mmap', { events: { slots: 8, slotSize: 64 } });
  for (let i = 0; i < 3; i++) t.true(writer.append(Ring.Events, new Uint8Array([i])));
  const before = readFileSync(path);
  for (let pass = 0; pass < 2; pass++) {
    const r = Reader.open(path, { readOnly: true });
    t.deepEqual(
      splitFramed(r.read(Ring.Events, 100)).map((m) => m[0]),
      [0, 1, 2],
      'the same every time',
    );
    t.is(r.info().events.readerIndex, 2, 'its own position');
    r.close();
  }
  t.true(readFileSync(path).equals(before), 'no byte of the file changed');
  t.is(writer.info().events.readerIndex, -1);
});

test('stats() counts a resynchronised ring', (t) => {
  const { path, writer, reader } = writerAndReader(t, 'resync.mmap', { measurements: { slots: 8, slotSize: 64 } });
  t.true(writer.append(Ring.Measurements, new Uint8Array([7])));
  const fd = openSync(path, 'r+');
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(1_000n);
  writeSync(fd, b, 0, 8, writer.info().measurements.offset + 16); // reader_index past writer_index
  closeSync(fd);
  t.deepEqual(
    splitFramed(reader.read(Ring.Measurements, 100)).map((m) => m[0]),
    [7],
  );
  const stats = reader.stats();
  t.deepEqual(stats.resyncs, [0, 0, 1]);
  t.deepEqual(stats.resyncSkipped, [0, 0, 0]);
});
