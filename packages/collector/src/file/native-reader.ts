/**
 * The native binding `@otlp-mmap/native`, as the collector uses it: its
 * `Reader`. The ring identifiers and names, the binding itself (loaded on
 * first use) and the `code` of its errors come from `@otlp-mmap/native/lazy`;
 * the types are the binding's, generated from the Rust source by the napi
 * build.
 *
 * @internal
 */
import type * as Native from '@otlp-mmap/native';
import { loadBinding } from '@otlp-mmap/native/lazy';

export { errorCode, RING_EVENTS, RING_MEASUREMENTS, RING_NAMES, RING_SPANS } from '@otlp-mmap/native/lazy';

export type FileInfo = Native.FileInfo;
export type ReaderStats = Native.ReaderStats;
/** The binding's Reader without `resolveValue`, which only tests use (the collector resolves values itself). */
export type MmapReader = Omit<Native.Reader, 'resolveValue'>;
export type RingId = Native.Ring;

/**
 * Opens and validates a file. Throws the binding's errors (with `code`).
 * A `readOnly` reader opens and maps the file read-only and never writes to
 * it: reading consumes nothing.
 */
export function openReader(path: string, uncommittedTimeoutMs: number, readOnly = false): MmapReader {
  return loadBinding().Reader.open(path, { uncommittedTimeoutMs, readOnly });
}
