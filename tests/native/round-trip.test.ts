// The binding's Writer and Reader together: what one writes, the other reads.
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { Reader, Ring, Writer } from '@otlp-mmap/native';
import { AnyValue, Measurement, SpanEvent } from '@otlp-mmap/protocol';
import { decodeFramed } from '../helpers/framing.js';
import { tempDir } from '../helpers/files.js';
import { errorCode, writerAndReader } from '../helpers/native-pair.js';

function setup(t: import('ava').ExecutionContext, options?: Parameters<typeof Writer.create>[1]) {
  return writerAndReader(t, 'round-trip.mmap', options);
}

test('span events written through the binding are read back in order and decode unchanged', (t) => {
  const { writer, reader } = setup(t);
  const sent = Array.from({ length: 50 }, (_, i) =>
    SpanEvent.fromPartial({
      traceId: new Uint8Array(16).fill(i + 1),
      spanId: new Uint8Array(8).fill(i + 1),
      scopeRef: BigInt(100 + i),
      event: { $case: 'name', value: { name: `span-${i}` } },
    }),
  );
  for (const e of sent) t.true(writer.append(Ring.Spans, SpanEvent.encode(e).finish()));
  const got = decodeFramed(reader.read(Ring.Spans, 1000), SpanEvent);
  t.deepEqual(got, sent);
  t.is(reader.read(Ring.Spans, 1000).length, 0, 'nothing left to read');
});

test('each ring is independent: a message appended to one ring is read only from that ring', (t) => {
  const { writer, reader } = setup(t);
  const m = Measurement.encode(Measurement.fromPartial({ metricRef: 7n, value: { $case: 'asLong', value: -3n } })).finish();
  writer.append(Ring.Measurements, m);
  t.is(reader.read(Ring.Events, 10).length, 0);
  t.is(reader.read(Ring.Spans, 10).length, 0);
  t.deepEqual(decodeFramed(reader.read(Ring.Measurements, 10), Measurement)[0]?.value, { $case: 'asLong', value: -3n });
});

test('append with a length uses only the start of a reusable buffer', (t) => {
  const { writer, reader } = setup(t);
  const buffer = new Uint8Array(64).fill(9);
  buffer.set([1, 2, 3]);
  t.true(writer.append(Ring.Events, buffer, 3));
  t.deepEqual([...decodeFramed(reader.read(Ring.Events, 1), { decode: (b: Uint8Array) => b })[0]!], [1, 2, 3]);
});

test('a full ring answers false instead of blocking, and accepts again once the reader consumed', (t) => {
  const { writer, reader } = setup(t, { events: { slots: 4, slotSize: 32 } });
  let written = 0;
  while (writer.append(Ring.Events, new Uint8Array([written]))) written++;
  t.true(written >= 3 && written <= 4, `a 4-slot ring holds 3 or 4 messages (held ${written})`);
  t.false(writer.append(Ring.Events, new Uint8Array([99])), 'still full');
  t.is(decodeFramed(reader.read(Ring.Events, 1), { decode: (b: Uint8Array) => b }).length, 1);
  t.true(writer.append(Ring.Events, new Uint8Array([100])), 'room after one read');
});

test('a message larger than a slot is refused with ERR_MESSAGE_TOO_LARGE and the next message still flows', (t) => {
  const { writer, reader } = setup(t, { events: { slots: 4, slotSize: 64 } });
  const max = writer.maxMessageSize(Ring.Events);
  t.true(max > 0 && max < 64);
  t.is(
    errorCode(() => writer.append(Ring.Events, new Uint8Array(max + 1))),
    'ERR_MESSAGE_TOO_LARGE',
  );
  t.true(writer.append(Ring.Events, new Uint8Array(max).fill(1)), 'a message of exactly the maximum fits');
  const got = decodeFramed(reader.read(Ring.Events, 10), { decode: (b: Uint8Array) => b });
  t.is(got.length, 1);
  t.is(got[0]!.length, max);
  t.is(writer.info().events.writerIndex, 0, 'the refused message claimed no index');
});

test('dictionary entries are found by reference, strings decode, and reference 0 is the empty string', (t) => {
  const { writer, reader } = setup(t);
  const s = writer.internString('http.method');
  const value = AnyValue.encode({ value: { $case: 'intValue', value: 42n } }).finish();
  const v = writer.addEntry(value);
  t.is(reader.string(s), 'http.method');
  t.deepEqual(AnyValue.decode(reader.entry(v)).value, { $case: 'intValue', value: 42n });
  t.is(reader.string(0), '');
});

test('interning the same bytes twice returns the same reference and adds no entry', (t) => {
  const { writer } = setup(t);
  const a = writer.internString('service.name');
  const entries = writer.info().dictionary.numEntries;
  t.is(writer.internString('service.name'), a);
  t.is(writer.intern(new TextEncoder().encode('service.name')), a);
  t.is(writer.info().dictionary.numEntries, entries);
  t.not(writer.internString('service.version'), a);
});

test('an entry larger than the initial dictionary grows the file and reads back intact', (t) => {
  const { writer, reader } = setup(t, { dictionarySize: 4096 });
  const big = new Uint8Array(3 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
  const ref = writer.addEntry(big);
  t.true(Buffer.from(big).equals(reader.entry(ref)), 'every byte reads back');
  t.true(reader.info().fileSize >= ref + big.length);
});

test('a reference outside the dictionary is refused with ERR_BAD_REFERENCE', (t) => {
  const { reader } = setup(t);
  t.is(
    errorCode(() => reader.entry(8)),
    'ERR_BAD_REFERENCE',
    'inside the header',
  );
  t.is(
    errorCode(() => reader.entry(1 << 40)),
    'ERR_BAD_REFERENCE',
    'past the end',
  );
});

test('a reader that reopens the file resumes after the last message it consumed', (t) => {
  const { path, writer, reader } = setup(t);
  for (let i = 0; i < 10; i++) writer.append(Ring.Events, new Uint8Array([i]));
  t.is(decodeFramed(reader.read(Ring.Events, 4), { decode: (b: Uint8Array) => b[0] }).length, 4);
  reader.close();
  const again = Reader.open(path);
  t.teardown(() => again.close());
  t.deepEqual(decodeFramed(again.read(Ring.Events, 100), { decode: (b: Uint8Array) => b[0] }), [4, 5, 6, 7, 8, 9]);
});

test('re-initialising the file is seen by an open reader as a reset; attaching is not', (t) => {
  const { path, writer, reader } = setup(t);
  const attached = Writer.attach(path);
  attached.append(Ring.Events, new Uint8Array([1]));
  attached.close();
  t.false(reader.isReset(), 'attach keeps the file');
  t.is(reader.read(Ring.Events, 10).length > 0, true, 'the attached writer wrote into the same rings');
  writer.close();
  const fresh = Writer.create(path);
  t.teardown(() => fresh.close());
  t.true(reader.isReset());
  t.true(Reader.open(path).info().startTimeUnixNano > 0n);
});

test('files of another version are refused with ERR_VERSION naming the version', (t) => {
  const tmp = tempDir();
  t.teardown(tmp.cleanup);
  for (const version of [0n, 2n]) {
    const path = tmp.file(`v${version}.mmap`);
    Writer.create(path).close();
    const bytes = readFileSync(path);
    bytes.writeBigInt64LE(version, 0);
    writeFileSync(path, bytes);
    const error = t.throws(() => Reader.open(path));
    t.is((error as { code?: string }).code, 'ERR_VERSION');
    t.regex(error!.message, new RegExp(`${version}`));
  }
  const garbage = tmp.file('garbage.mmap');
  writeFileSync(garbage, Buffer.from('this is not an otlp-mmap file at all, just text padding it out'.repeat(4)));
  const error = t.throws(() => Reader.open(garbage));
  t.true(['ERR_VERSION', 'ERR_INVALID_FILE'].includes((error as { code?: string }).code ?? ''));
});

test('a bad writer option is refused with ERR_INVALID_OPTION', (t) => {
  const tmp = tempDir();
  t.teardown(tmp.cleanup);
  t.is(
    errorCode(() => Writer.create(tmp.file('a.mmap'), { events: { slots: 3 } })),
    'ERR_INVALID_OPTION',
    'slots not a power of two',
  );
  t.is(
    errorCode(() => Writer.create(tmp.file('b.mmap'), { spans: { slotSize: 12 } })),
    'ERR_INVALID_OPTION',
    'slot size not a multiple of 8',
  );
});

test('a closed writer throws ERR_CLOSED instead of touching unmapped memory', (t) => {
  const { writer } = setup(t);
  writer.close();
  writer.close();
  t.is(
    errorCode(() => writer.append(Ring.Events, new Uint8Array([1]))),
    'ERR_CLOSED',
  );
});
