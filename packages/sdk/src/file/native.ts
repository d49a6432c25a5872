/**
 * The native binding `@otlp-mmap/native`, as the SDK uses it. Loaded with `require` so that the CommonJS loader the
 * napi build generates works the same from ESM and from CommonJS.
 *
 * @internal
 */
import { createRequire } from 'node:module';
import type * as Native from '@otlp-mmap/native';

/** The binding's types, generated from the Rust source by the napi build. */
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
type NativeModule = typeof Native;

/**
 * Ring identifiers (FORMAT.md section 3, in file order): the values of the
 * binding's `Ring` enum, usable before the binding is loaded.
 */
export const RING_EVENTS = 0 as Native.Ring.Events;
export const RING_SPANS = 1 as Native.Ring.Spans;
export const RING_MEASUREMENTS = 2 as Native.Ring.Measurements;

let loaded: NativeModule | undefined;

/** Loads the binding on first use, so importing the SDK never fails by itself. */
export function nativeBinding(): NativeModule {
  if (loaded === undefined) {
    const require = createRequire(import.meta.url);
    loaded = require('@otlp-mmap/native') as NativeModule;
  }
  return loaded;
}

/** The stable `code` of an error thrown by the binding, if any. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}
