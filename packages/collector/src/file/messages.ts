import { RingReader, type BinaryReader } from '@otlp-mmap/protocol';

/**
 * Decodes the messages of one `Reader.read` batch (each a varint length,
 * then the bytes). A message that does not decode is counted through
 * `onBad` and skipped; a length running past the batch ends it.
 */
export function decodeBatch<T>(
  batch: Uint8Array,
  codec: { decode(input: BinaryReader, length?: number): T },
  onMessage: (message: T) => void,
  onBad: (error: unknown) => void,
): number {
  // A plain Uint8Array view (not a Buffer): decoded bytes fields become cheap
  // Uint8Array views whose slice() copies, so nothing kept pins the batch.
  // RingReader: a BinaryReader that caches repeated strings and small int64s.
  const reader = new RingReader(new Uint8Array(batch.buffer, batch.byteOffset, batch.byteLength));
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
    onMessage(message);
  }
  return count;
}
