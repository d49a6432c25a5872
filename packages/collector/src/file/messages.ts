import { RingReader, type BinaryReader } from '@otlp-mmap/protocol';

/**
 * Decodes the messages of one `Reader.read` batch (each a varint length,
 * then the bytes). A message that does not decode is counted through
 * `onBad` and skipped; a length running past the batch ends it.
 * `onMessage` also gets the input the reader decodes from (positions in
 * a decoded message, as in `EncodedMeasurement`, are relative to it); it is
 * valid only during the call.
 */
export function decodeBatch<T>(
  batch: Uint8Array,
  codec: { decode(input: BinaryReader, length?: number): T },
  onMessage: (message: T, input: Uint8Array) => void,
  onBad: (error: unknown) => void,
): number {
  // A plain Uint8Array view (not a Buffer): decoded bytes fields become cheap
  // Uint8Array views whose slice() copies, so nothing kept pins the batch.
  // RingReader: a BinaryReader that caches repeated strings and small int64s.
  const input = new Uint8Array(batch.buffer, batch.byteOffset, batch.byteLength);
  const reader = new RingReader(input);
  let count = 0;
  while (reader.pos < reader.len) {
    let length: number;
    try {
      length = reader.uint32();
    } catch (error) {
      onBad(error);
      return count;
    }
    const end = reader.pos + length;
    if (end > reader.len) {
      onBad(new Error('message length runs past the batch'));
      return count;
    }
    count++;
    let message: T;
    try {
      message = codec.decode(reader, length);
    } catch (error) {
      reader.pos = end;
      onBad(error);
      continue;
    }
    reader.pos = end;
    onMessage(message, input);
  }
  return count;
}
