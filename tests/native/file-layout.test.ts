// Checks the bytes a Writer puts in the file against FORMAT.md, reading the
// file with plain fs + DataView (not through the binding), so a layout bug in
// the core cannot hide behind a matching bug in its reader.
import test from 'ava';
import { readFileSync, statSync } from 'node:fs';
import { Reader, Ring, Writer } from '@otlp-mmap/native';
import { tempDir } from '../helpers/files.js';

const HEADER_SIZE = 64;
const RING_HEADER_SIZE = 32;
const DICTIONARY_HEADER_SIZE = 64;

interface RingConfig {
  slots: number;
  slotSize: number;
}

function view(path: string): DataView {
  const bytes = readFileSync(path);
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function i64(v: DataView, offset: number): number {
  return Number(v.getBigInt64(offset, true));
}

function ringSize(c: RingConfig): number {
  return RING_HEADER_SIZE + 4 * c.slots + c.slots * c.slotSize;
}

function lap(index: number, slots: number): number {
  return Number((BigInt(index) >> BigInt(Math.log2(slots))) & 0xffffffffn) | 0;
}

function readVarint(v: DataView, offset: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = v.getUint8(offset++);
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return { value, next: offset };
    shift += 7;
  }
}

const configs: Array<{ name: string; events: RingConfig; spans: RingConfig; measurements: RingConfig; dictionarySize: number }> = [
  {
    name: 'small rings',
    events: { slots: 2, slotSize: 16 },
    spans: { slots: 4, slotSize: 64 },
    measurements: { slots: 8, slotSize: 32 },
    dictionarySize: 4096,
  },
  {
    name: 'typical rings',
    events: { slots: 1024, slotSize: 512 },
    spans: { slots: 2048, slotSize: 2048 },
    measurements: { slots: 4096, slotSize: 256 },
    dictionarySize: 1 << 20,
  },
];

for (const c of configs) {
  test(`a new file (${c.name}) has the header, ring headers and dictionary header FORMAT.md prescribes`, (t) => {
    const tmp = tempDir();
    t.teardown(tmp.cleanup);
    const path = tmp.file('layout.mmap');
    const before = BigInt(Date.now()) * 1_000_000n;
    const writer = Writer.create(path, { events: c.events, spans: c.spans, measurements: c.measurements, dictionarySize: c.dictionarySize });
    writer.close();
    const after = BigInt(Date.now() + 1) * 1_000_000n;
    const v = view(path);

    t.is(i64(v, 0), 1, 'version');
    const events = HEADER_SIZE;
    const spans = events + ringSize(c.events);
    const measurements = spans + ringSize(c.spans);
    const dictionary = measurements + ringSize(c.measurements);
    t.deepEqual([i64(v, 8), i64(v, 16), i64(v, 24), i64(v, 32)], [events, spans, measurements, dictionary], 'section offsets');
    for (const offset of [events, spans, measurements, dictionary]) t.is(offset % 8, 0, `offset ${offset} is 8-byte aligned`);
    const start = v.getBigUint64(40, true);
    t.true(start >= before && start <= after, 'start_time_unix_nano is the creation time');
    for (let i = 48; i < 64; i++) t.is(v.getUint8(i), 0, `reserved header byte ${i} is zero`);

    for (const [offset, rc] of [
      [events, c.events],
      [spans, c.spans],
      [measurements, c.measurements],
    ] as const) {
      t.is(i64(v, offset), rc.slots, 'num_buffers');
      t.is(i64(v, offset + 8), rc.slotSize, 'buffer_size');
      t.is(i64(v, offset + 16), -1, 'reader_index starts at -1');
      t.is(i64(v, offset + 24), -1, 'writer_index starts at -1');
      for (let s = 0; s < rc.slots; s++) {
        if (v.getInt32(offset + RING_HEADER_SIZE + 4 * s, true) !== -1) {
          t.fail(`availability entry ${s} is not -1`);
        }
      }
    }

    t.is(i64(v, dictionary), dictionary + DICTIONARY_HEADER_SIZE, 'dictionary end starts just past its header');
    t.is(i64(v, dictionary + 8), 0, 'num_entries starts at 0');
    for (let i = 16; i < 64; i++) t.is(v.getUint8(dictionary + i), 0, `reserved dictionary byte ${i} is zero`);
    t.true(statSync(path).size >= dictionary + DICTIONARY_HEADER_SIZE, 'the file holds the dictionary header');
    t.is(statSync(path).mode & 0o777, 0o600, 'the file is private (FORMAT.md 7.7)');
  });
}

test('appending commits the lap into the availability entry and a varint-prefixed message into the slot', (t) => {
  const tmp = tempDir();
  t.teardown(tmp.cleanup);
  const path = tmp.file('ring.mmap');
  const spansRing = { slots: 4, slotSize: 64 };
  const writer = Writer.create(path, { spans: spansRing });
  const messages = Array.from({ length: 3 }, (_, i) => new Uint8Array(10 + i).fill(0xa0 + i));
  for (const m of messages) t.true(writer.append(Ring.Spans, m));
  writer.close();

  const v = view(path);
  const spans = i64(v, 16);
  t.is(i64(v, spans + 24), 2, 'writer_index is the last claimed sequence number');
  t.is(i64(v, spans + 16), -1, 'reader_index is untouched by writers');
  const slotsStart = spans + RING_HEADER_SIZE + 4 * spansRing.slots;
  messages.forEach((m, i) => {
    t.is(v.getInt32(spans + RING_HEADER_SIZE + 4 * i, true), lap(i, spansRing.slots), `availability of slot ${i}`);
    const slot = slotsStart + i * spansRing.slotSize;
    const { value: length, next } = readVarint(v, slot);
    t.is(length, m.length, `length prefix of slot ${i}`);
    t.deepEqual(new Uint8Array(v.buffer, v.byteOffset + next, length), m, `bytes of slot ${i}`);
  });
  t.is(v.getInt32(spans + RING_HEADER_SIZE + 4 * 3, true), -1, 'an unwritten slot stays -1');
});

test('a dictionary entry is a varint length then the bytes, and end and num_entries move past it', (t) => {
  const tmp = tempDir();
  t.teardown(tmp.cleanup);
  const path = tmp.file('dict.mmap');
  const writer = Writer.create(path, { dictionarySize: 4096 });
  const dictionary = writer.info().dictionary.offset;
  const hello = writer.internString('hello');
  const blob = writer.addEntry(new Uint8Array(300).fill(7));
  writer.close();

  const v = view(path);
  t.is(hello, dictionary + DICTIONARY_HEADER_SIZE, 'the first entry starts right after the dictionary header');
  const s = readVarint(v, hello);
  t.is(s.value, 5);
  t.is(Buffer.from(v.buffer, v.byteOffset + s.next, 5).toString('utf8'), 'hello');
  t.is(blob, s.next + 5, 'entries are contiguous');
  const b = readVarint(v, blob);
  t.is(b.value, 300);
  t.is(b.next - blob, 2, 'a 300-byte length takes a two-byte varint');
  t.is(i64(v, dictionary), b.next + 300, 'end is just past the last entry');
  t.is(i64(v, dictionary + 8), 2, 'num_entries counts both entries');
});

test('after wrapping, the availability entry holds the lap of the full 64-bit index', (t) => {
  const tmp = tempDir();
  t.teardown(tmp.cleanup);
  const path = tmp.file('wrap.mmap');
  const slots = 4;
  const writer = Writer.create(path, { events: { slots, slotSize: 16 } });
  const reader = Reader.open(path);
  for (let i = 0; i < 11; i++) {
    if (!writer.append(Ring.Events, new Uint8Array([i]))) {
      reader.read(Ring.Events, 16);
      t.true(writer.append(Ring.Events, new Uint8Array([i])));
    }
  }
  reader.close();
  writer.close();
  const v = view(path);
  const events = i64(v, 8);
  t.is(i64(v, events + 24), 10);
  for (let index = 7; index <= 10; index++) {
    t.is(v.getInt32(events + RING_HEADER_SIZE + 4 * (index & (slots - 1)), true), lap(index, slots), `lap of index ${index}`);
  }
});
