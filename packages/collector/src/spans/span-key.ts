/**
 * Identity of a span: (trace id, span id) as one string map key. Two bytes
 * per UTF-16 code unit, so the key is a 12-unit string built without
 * intermediate Buffers (it is computed for every span message).
 */
export function spanKey(traceId: Uint8Array, spanId: Uint8Array): string {
  const t = traceId;
  const s = spanId;
  return String.fromCharCode(
    (t[0] << 8) | t[1], (t[2] << 8) | t[3], (t[4] << 8) | t[5], (t[6] << 8) | t[7],
    (t[8] << 8) | t[9], (t[10] << 8) | t[11], (t[12] << 8) | t[13], (t[14] << 8) | t[15],
    (s[0] << 8) | s[1], (s[2] << 8) | s[3], (s[4] << 8) | s[5], (s[6] << 8) | s[7],
  );
}

/** Whether ids have the sizes OTLP requires (16-byte trace id, 8-byte span id). */
export function validIds(traceId: Uint8Array, spanId: Uint8Array): boolean {
  return traceId.length === 16 && spanId.length === 8;
}

/** {@link spanKey} of the ids at `input[traceAt, traceAt + 16)` and `input[spanAt, spanAt + 8)`. */
export function spanKeyAt(input: Uint8Array, traceAt: number, spanAt: number): string {
  const t = input;
  const a = traceAt;
  const b = spanAt;
  return String.fromCharCode(
    (t[a] << 8) | t[a + 1], (t[a + 2] << 8) | t[a + 3], (t[a + 4] << 8) | t[a + 5], (t[a + 6] << 8) | t[a + 7],
    (t[a + 8] << 8) | t[a + 9], (t[a + 10] << 8) | t[a + 11], (t[a + 12] << 8) | t[a + 13], (t[a + 14] << 8) | t[a + 15],
    (t[b] << 8) | t[b + 1], (t[b + 2] << 8) | t[b + 3], (t[b + 4] << 8) | t[b + 5], (t[b + 6] << 8) | t[b + 7],
  );
}
