/**
 * Identity of a span: (trace id, span id) as one string, for a map key. Two
 * bytes per UTF-16 code unit, so the key is a 12-unit string built without
 * intermediate Buffers. The ids are the 16 bytes at `t[ta]` and the 8 bytes
 * at `s[sa]` (`t` and `s` may be one array: a message's bytes).
 */
export function spanKey(t: Uint8Array, ta: number, s: Uint8Array, sa: number): string {
  const a = ta;
  const b = sa;
  return String.fromCharCode(
    (t[a] << 8) | t[a + 1],
    (t[a + 2] << 8) | t[a + 3],
    (t[a + 4] << 8) | t[a + 5],
    (t[a + 6] << 8) | t[a + 7],
    (t[a + 8] << 8) | t[a + 9],
    (t[a + 10] << 8) | t[a + 11],
    (t[a + 12] << 8) | t[a + 13],
    (t[a + 14] << 8) | t[a + 15],
    (s[b] << 8) | s[b + 1],
    (s[b + 2] << 8) | s[b + 3],
    (s[b + 4] << 8) | s[b + 5],
    (s[b + 6] << 8) | s[b + 7],
  );
}

/** Whether ids have the sizes OTLP requires (16-byte trace id, 8-byte span id). */
export function validIds(traceId: Uint8Array, spanId: Uint8Array): boolean {
  return traceId.length === 16 && spanId.length === 8;
}
