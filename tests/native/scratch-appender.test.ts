/**
 * `Writer.scratchAppender(capacity)`: an append bound to one writer and to
 * scratch memory owned by the binding (the SDK's hot path). It must append
 * exactly `buffer[0..length)`, report a full ring like `append`, refuse bad
 * arguments with stable codes, and stay safe whatever JavaScript does with
 * the writer or the buffer.
 */
import test from 'ava';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MessageChannel } from 'node:worker_threads';
import { Reader, Ring, Writer } from '@otlp-mmap/native';
import { decodeFramed } from '../helpers/framing.js';
import { tempDir } from '../helpers/files.js';
import { errorCode, writerAndReader } from '../helpers/native-pair.js';

function setup(t: import('ava').ExecutionContext, options?: Parameters<typeof Writer.create>[1]) {
  return writerAndReader(t, 'scratch.mmap', options);
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const raw = { decode: (b: Uint8Array) => [...b] };

test('an appender appends the first length bytes of its buffer to the ring it is given', (t) => {
  const { writer, reader } = setup(t);
  const append = writer.scratchAppender(256);
  t.is(append.buffer.length, 256);
  append.buffer.set([1, 2, 3, 4, 5]);
  t.true(append(Ring.Spans, 3));
  append.buffer.set([7, 8]);
  t.true(append(Ring.Events, 2));
  t.deepEqual(decodeFramed(reader.read(Ring.Spans, 10), raw), [[1, 2, 3]]);
  t.deepEqual(decodeFramed(reader.read(Ring.Events, 10), raw), [[7, 8]]);
});

test('an appender answers false on a full ring and true again once the reader consumed', (t) => {
  const { writer, reader } = setup(t, { events: { slots: 4, slotSize: 32 } });
  const append = writer.scratchAppender(64);
  let written = 0;
  append.buffer[0] = 42;
  while (append(Ring.Events, 1)) written++;
  t.true(written >= 3 && written <= 4);
  t.false(append(Ring.Events, 1));
  reader.read(Ring.Events, 1);
  t.true(append(Ring.Events, 1));
});

test('an appender refuses a message larger than a slot with ERR_MESSAGE_TOO_LARGE, claiming nothing', (t) => {
  const { writer, reader } = setup(t, { events: { slots: 4, slotSize: 64 } });
  const append = writer.scratchAppender(4096);
  t.is(
    errorCode(() => append(Ring.Events, 1000)),
    'ERR_MESSAGE_TOO_LARGE',
  );
  append.buffer[0] = 5;
  t.true(append(Ring.Events, 1));
  t.deepEqual(decodeFramed(reader.read(Ring.Events, 10), raw), [[5]]);
});

test('an appender refuses a length outside its buffer, a fractional length and an unknown ring', (t) => {
  const { writer } = setup(t);
  const append = writer.scratchAppender(16);
  t.is(
    errorCode(() => append(Ring.Events, 17)),
    'ERR_INVALID_OPTION',
  );
  t.is(
    errorCode(() => append(Ring.Events, -1)),
    'ERR_INVALID_OPTION',
  );
  t.is(
    errorCode(() => append(Ring.Events, 1.5)),
    'ERR_INVALID_OPTION',
  );
  t.is(
    errorCode(() => append(7 as Ring, 1)),
    'ERR_INVALID_OPTION',
  );
  t.is(
    errorCode(() => (append as unknown as (r: unknown, l: unknown) => boolean)('spans', 1)),
    'ERR_INVALID_ARG_TYPE',
  );
});

test('a capacity of zero or beyond 64 MiB is refused with ERR_INVALID_OPTION', (t) => {
  const { writer } = setup(t);
  t.is(
    errorCode(() => writer.scratchAppender(0)),
    'ERR_INVALID_OPTION',
  );
  t.is(
    errorCode(() => writer.scratchAppender(2 ** 27)),
    'ERR_INVALID_OPTION',
  );
});

test('an appender of a closed writer throws ERR_CLOSED, and a closed writer makes no appender', (t) => {
  const { writer } = setup(t);
  const append = writer.scratchAppender(16);
  writer.close();
  t.is(
    errorCode(() => append(Ring.Events, 1)),
    'ERR_CLOSED',
  );
  t.is(
    errorCode(() => writer.scratchAppender(16)),
    'ERR_CLOSED',
  );
});

test('an appender whose buffer was transferred away keeps appending from the memory it owns', (t) => {
  const { writer, reader } = setup(t);
  const append = writer.scratchAppender(16);
  append.buffer.set([3, 1, 4]);
  const channel = new MessageChannel();
  let transferred = true;
  try {
    channel.port1.postMessage(append.buffer.buffer, [append.buffer.buffer as ArrayBuffer]);
  } catch {
    transferred = false; // Node may refuse to transfer an external buffer: nothing to check then
  } finally {
    channel.port1.close();
    channel.port2.close();
  }
  t.true(append(Ring.Spans, 3));
  t.deepEqual(decodeFramed(reader.read(Ring.Spans, 10), raw), [[3, 1, 4]], transferred ? 'after transfer' : 'transfer refused');
});

test('an appender keeps its writer alive after the last other reference to it is gone', async (t) => {
  const tmp = tempDir();
  t.teardown(tmp.cleanup);
  const path = tmp.file('owned.mmap');
  const append = Writer.create(path).scratchAppender(16);
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  append.buffer.set([9, 9]);
  t.true(append(Ring.Events, 2));
  const reader = Reader.open(path);
  t.teardown(() => reader.close());
  t.deepEqual(decodeFramed(reader.read(Ring.Events, 10), raw), [[9, 9]]);
});
