import { SPAN_EVENT_START } from '@otlp-mmap/protocol/tags';
import test from 'ava';
import { ProtoWriter } from '../../packages/sdk/src/encoding/proto-writer.js';

/** A SpanEvent header, then `size` content bytes, closed; with one or two bytes reserved for the length. */
function encode(size: number, wide: boolean): string {
  const w = new ProtoWriter(64);
  w.spanEventHeader(300, 1, 2, 3, 0xffffffff, 5, 0x80000000, SPAN_EVENT_START, wide);
  for (let i = 0; i < size; i++) {
    w.ensure(1);
    w.buf[w.pos++] = i & 255;
  }
  w.join();
  return w.buf.subarray(0, w.pos).toString('hex');
}

test('an event opened with a two-byte length reserve encodes the same bytes as one opened with one byte', (t) => {
  for (const size of [0, 1, 127, 128, 129, 500, 16383, 16384, 16385, 70000, 2097152]) {
    t.is(encode(size, true), encode(size, false), `content of ${size} bytes`);
  }
});

test('the event length is the minimal varint of the content size', (t) => {
  const hex = encode(200, true);
  // header: scope_ref (tag 2 bytes + 300 in 2), trace_id (18), span_id (10), event tag (1), then the length.
  t.is(hex.slice(66, 70), 'c801'); // 200 = 0xc8 0x01
  t.is(hex.length / 2, 33 + 2 + 200);
});

test('tag2Fixed64 writes what a varint tag and a fixed64 write, for two-byte tags', (t) => {
  for (const field of [16, 1000, 1001, 2047]) {
    const tag = (field << 3) | 1; // wire type fixed64
    const fast = new ProtoWriter(4);
    fast.tag2Fixed64(tag, 0x89abcdef, 0x01234567);
    const plain = new ProtoWriter(4);
    plain.uint32(tag);
    plain.fixed64(0x89abcdef, 0x01234567);
    t.is(fast.buf.subarray(0, fast.pos).toString('hex'), plain.buf.subarray(0, plain.pos).toString('hex'), `field ${field}`);
  }
});
