/**
 * The part of `@otlp-mmap/native` the collector uses (its `Reader`), typed
 * after docs/binding-api.md. Loaded with `require` so the CommonJS loader
 * that the napi build generates works the same from ESM.
 *
 * @internal
 */
import { createRequire } from 'node:module';

/** Ring identifiers (FORMAT.md section 3, in file order). */
export const RING_EVENTS = 0;
export const RING_SPANS = 1;
export const RING_MEASUREMENTS = 2;
export type RingId = typeof RING_EVENTS | typeof RING_SPANS | typeof RING_MEASUREMENTS;
export const RING_NAMES = ['events', 'spans', 'measurements'] as const;

export interface RingInfo {
  offset: number;
  numBuffers: number;
  bufferSize: number;
  readerIndex: number;
  writerIndex: number;
}

export interface FileInfo {
  version: number;
  startTimeUnixNano: bigint;
  fileSize: number;
  events: RingInfo;
  spans: RingInfo;
  measurements: RingInfo;
  dictionary: { offset: number; end: number; numEntries: number };
}

export interface ReaderStats {
  /** Per ring: claimed indexes skipped after the timeout (FORMAT.md 7.8). */
  skippedUncommitted: number[];
  /** Per ring: slots skipped because their content was invalid. */
  corrupt: number[];
}

/** An open OTLP-MMAP file, read side. */
export interface MmapReader {
  read(ring: RingId, maxMessages: number): Buffer;
  entry(ref: number): Buffer;
  string(ref: number): string;
  info(): FileInfo;
  stats(): ReaderStats;
  isReset(): boolean;
  close(): void;
}

interface NativeModule {
  Reader: { open(path: string, options?: { uncommittedTimeoutMs?: number }): MmapReader };
}

let native: NativeModule | undefined;

function load(): NativeModule {
  native ??= createRequire(import.meta.url)('@otlp-mmap/native') as NativeModule;
  return native;
}

/** Opens and validates a file. Throws the binding's errors (with `code`). */
export function openReader(path: string, uncommittedTimeoutMs: number): MmapReader {
  return load().Reader.open(path, { uncommittedTimeoutMs });
}

/** The `code` of a binding error, if any. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
