/**
 * The native binding `@otlp-mmap/native`, as the SDK uses it. The ring
 * identifiers, the binding itself (loaded on first use, so that importing
 * the SDK never fails by itself) and the `code` of its errors come from
 * `@otlp-mmap/native/lazy`; the types are the binding's, generated from the
 * Rust source by the napi build.
 *
 * @internal
 */
import type * as Native from '@otlp-mmap/native';

export { errorCode, loadBinding, RING_EVENTS, RING_MEASUREMENTS, RING_SPANS } from '@otlp-mmap/native/lazy';

export type NativeWriter = Omit<Native.Writer, 'scratchAppender' | 'isTruncated' | 'recreate'> & {
  /** Optional, so that a stand-in writer (benchmarks, tests) may leave it out. */
  scratchAppender?: Native.Writer['scratchAppender'];
  /** Optional as `scratchAppender`: without it a cut no append meets goes unnoticed. */
  isTruncated?: Native.Writer['isTruncated'];
  /** Optional as `scratchAppender`: without it a truncated file is not re-created. */
  recreate?: Native.Writer['recreate'];
};
/** `appender(ring, length)` appends `appender.buffer[0..length)`. */
export type ScratchAppender = ReturnType<Native.Writer['scratchAppender']>;
export type NativeWriterOptions = Native.WriterOptions;
export type RingId = Native.Ring;
