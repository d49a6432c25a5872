import { BinaryReader } from '@otlp-mmap/protocol';

/**
 * Splits a batch returned by `Reader.read` (messages back to back, each a
 * varint length followed by its bytes) into the message bodies.
 */
export function splitFramed(batch: Uint8Array): Uint8Array[] {
  // A plain Uint8Array view, so decoded bytes fields are Uint8Arrays, not Buffers.
  const reader = new BinaryReader(new Uint8Array(batch.buffer, batch.byteOffset, batch.byteLength));
  const out: Uint8Array[] = [];
  while (reader.pos < reader.len) {
    out.push(reader.bytes());
  }
  return out;
}

/** Decodes every message of a batch with a ts-proto codec. */
export function decodeFramed<T>(batch: Uint8Array, codec: { decode(input: Uint8Array): T }): T[] {
  return splitFramed(batch).map((bytes) => codec.decode(bytes));
}
