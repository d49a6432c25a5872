import { RingReader, type BinaryReader } from '@otlp-mmap/protocol';

/** A faster way through some messages of a batch (see {@link decodeBatch}). */
export interface BatchShortcut {
  /** Whether this message is one for {@link apply}; changes nothing (it may move the reader). */
  read(reader: RingReader, end: number, input: Uint8Array): boolean;
  /** Applies the message {@link read} accepted last. */
  apply(reader: RingReader, input: Uint8Array): void;
}

/**
 * Decodes the messages of one `Reader.read` batch (each a varint length,
 * then the bytes). A message that does not decode is counted through
 * `onBad` and skipped; a length running past the batch ends it. Does not
 * decode either: an empty message or one starting with a field tag 0 (what
 * a zeroed slot holds: no writer writes either), one starting with an
 * end-group tag, and one the decoder leaves before its end (a field tag 0 or
 * an end-group tag later on, which a protobuf decoder takes as "stop here")
 * or after it (a field running on into the next message).
 * `onMessage` also gets the input the reader decodes from (positions in
 * a decoded message, as in `EncodedMeasurement`, are relative to it); it is
 * valid only during the call. `onMessage` and the shortcut's `apply` must
 * not throw: what they cannot take they count themselves.
 *
 * `shortcut`, when given, sees each message first: its `read` looks at the
 * message (the reader at its start, `end` where it ends) and must change
 * nothing; when it returns true, `apply` deals with the message in its
 * place. When it returns false or throws, the message is decoded as usual.
 */
export function decodeBatch<T>(
  batch: Uint8Array,
  codec: { decode(input: BinaryReader, length?: number): T },
  onMessage: (message: T, input: Uint8Array) => void,
  onBad: (error: unknown) => void,
  shortcut?: BatchShortcut,
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
    if (length === 0) {
      onBad(new Error('empty message'));
      continue;
    }
    // A first byte below 8 is a tag of field 0, (b & 7) === 4 an end-group tag: the decoder would stop
    // there and give an empty message.
    const first = input[reader.pos];
    if (first < 8 || (first & 7) === 4) {
      reader.pos = end;
      onBad(new Error(`message starts with an invalid field tag (byte ${first})`));
      continue;
    }
    if (shortcut !== undefined) {
      const start = reader.pos;
      let taken = false;
      try {
        taken = shortcut.read(reader, end, input);
      } catch {
        // malformed: decoding it reports it
      }
      if (taken) {
        shortcut.apply(reader, input);
        reader.pos = end;
        continue;
      }
      reader.pos = start;
    }
    let message: T;
    try {
      message = codec.decode(reader, length);
    } catch (error) {
      reader.pos = end;
      onBad(error);
      continue;
    }
    if (reader.pos !== end) {
      onBad(new Error(`message of ${length} bytes decoded to ${reader.pos - (end - length)}`));
      reader.pos = end;
      continue;
    }
    onMessage(message, input);
  }
  return count;
}
