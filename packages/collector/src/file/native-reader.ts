/**
 * The native binding `@otlp-mmap/native`, as the collector uses it (its
 * `Reader`). Loaded with `require` so the CommonJS loader
 * that the napi build generates works the same from ESM.
 *
 * @internal
 */
import { createRequire } from 'node:module';
import type * as Native from '@otlp-mmap/native';

/** The binding's types, generated from the Rust source by the napi build. */
export type FileInfo = Native.FileInfo;
export type ReaderStats = Native.ReaderStats;
export type MmapReader = Native.Reader;
export type RingId = Native.Ring;
type NativeModule = typeof Native;

/**
 * Ring identifiers (FORMAT.md section 3, in file order): the values of the
 * binding's `Ring` enum, usable before the binding is loaded.
 */
export const RING_EVENTS = 0 as Native.Ring.Events;
export const RING_SPANS = 1 as Native.Ring.Spans;
export const RING_MEASUREMENTS = 2 as Native.Ring.Measurements;
export const RING_NAMES = ['events', 'spans', 'measurements'] as const;

let native: NativeModule | undefined;

function load(): NativeModule {
  native ??= createRequire(import.meta.url)('@otlp-mmap/native') as NativeModule;
  return native;
}

/**
 * Opens and validates a file. Throws the binding's errors (with `code`).
 * A `readOnly` reader opens and maps the file read-only and never writes to
 * it: reading consumes nothing.
 */
export function openReader(path: string, uncommittedTimeoutMs: number, readOnly = false): MmapReader {
  return load().Reader.open(path, { uncommittedTimeoutMs, readOnly });
}

/** The `code` of a binding error, if any. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
