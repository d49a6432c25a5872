/**
 * The part of `@otlp-mmap/native` the SDK uses, typed after
 * docs/binding-api.md. Loaded with `require` so that the CommonJS loader the
 * napi build generates works the same from ESM and from CommonJS.
 *
 * @internal
 */
import { createRequire } from 'node:module';

/** Ring identifiers (FORMAT.md section 3, in file order). */
export const RING_EVENTS = 0;
export const RING_SPANS = 1;
export const RING_MEASUREMENTS = 2;
export type RingId = 0 | 1 | 2;

export interface NativeRingOptions {
  slots?: number;
  slotSize?: number;
}

export interface NativeWriterOptions {
  events?: NativeRingOptions;
  spans?: NativeRingOptions;
  measurements?: NativeRingOptions;
  dictionarySize?: number;
  maxFileSize?: number;
  fileMode?: number;
}

export interface NativeRingInfo {
  offset: number;
  numBuffers: number;
  bufferSize: number;
  readerIndex: number;
  writerIndex: number;
}

export interface NativeFileInfo {
  version: number;
  startTimeUnixNano: bigint;
  fileSize: number;
  events: NativeRingInfo;
  spans: NativeRingInfo;
  measurements: NativeRingInfo;
  dictionary: { offset: number; end: number; numEntries: number };
}

export interface NativeWriter {
  append(ring: number, message: Uint8Array, length?: number): boolean;
  maxMessageSize(ring: number): number;
  addEntry(bytes: Uint8Array): number;
  intern(bytes: Uint8Array): number;
  internString(value: string): number;
  info(): NativeFileInfo;
  sync(): void;
  close(): void;
}

interface NativeModule {
  Writer: {
    create(path: string, options?: NativeWriterOptions): NativeWriter;
    attach(path: string, options?: { maxFileSize?: number }): NativeWriter;
  };
}

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
