/**
 * Timestamps as unsigned 64-bit nanoseconds since the Unix epoch, kept as two
 * uint32 halves so the hot path needs no bigint.
 *
 * "Now" is `performance.timeOrigin + performance.now()` (the same clock as the
 * OpenTelemetry JS SDK, monotonic within the process). Inputs given as
 * `HrTime` (`[seconds, nanoseconds]`) are converted exactly; numbers are epoch
 * milliseconds, or `performance.now()` values when smaller than the time
 * origin (as in `@opentelemetry/core`); `Date`s are epoch milliseconds.
 *
 * @internal
 */
import type { HrTime, TimeInput } from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';

const TWO_32 = 4294967296;

/** A mutable (lo, hi) pair: nanoseconds = hi * 2^32 + lo. */
export interface Nanos64 {
  lo: number;
  hi: number;
}

const originMs = performance.timeOrigin;
const originSec = Math.floor(originMs / 1000);
const originNanos = Math.round((originMs - originSec * 1000) * 1e6);

/**
 * Stores `sec * 1e9 + nanos` into `out` exactly (sec < 2^32, nanos < 2^32).
 * The product is split so that every intermediate stays below 2^53.
 */
export function secNanosInto(sec: number, nanos: number, out: Nanos64): void {
  const sLow = sec % 65536;
  const sHigh = (sec - sLow) / 65536;
  const a = sLow * 1e9 + nanos; // < 2^47
  const aHi = Math.floor(a / TWO_32);
  const aLo = a - aHi * TWO_32;
  const b = sHigh * 1e9; // < 2^46, contributes b * 2^16
  const bHi = Math.floor(b / 65536);
  const bLo = b - bHi * 65536;
  let lo = aLo + bLo * 65536;
  let hi = aHi + bHi;
  if (lo >= TWO_32) {
    lo -= TWO_32;
    hi += 1;
  }
  out.lo = lo;
  out.hi = hi;
}

/** The time origin in epoch nanoseconds, as (lo, hi). */
const origin: Nanos64 = { lo: 0, hi: 0 };
secNanosInto(originSec, originNanos, origin);
const originLo = origin.lo;
const originHi = origin.hi;
/** Below this many ms after the origin (~104 days), `perfMs * 1e6` is an exact-enough safe integer. */
const FAST_PERF_MS = 9e9;

/** Converts a `performance.now()` reading (ms) to epoch nanoseconds. */
export function perfMillisInto(perfMs: number, out: Nanos64): void {
  if (perfMs >= 0 && perfMs < FAST_PERF_MS) {
    // One rounding to whole nanoseconds, then a 64-bit add of (lo, hi) halves.
    const ns = Math.round(perfMs * 1e6);
    const nsHi = Math.floor(ns / TWO_32);
    let lo = originLo + (ns - nsHi * TWO_32);
    let hi = originHi + nsHi;
    if (lo >= TWO_32) {
      lo -= TWO_32;
      hi += 1;
    }
    out.lo = lo;
    out.hi = hi;
    return;
  }
  perfMillisSlow(perfMs, out);
}

function perfMillisSlow(perfMs: number, out: Nanos64): void {
  const wholeMs = Math.floor(perfMs);
  const subNanos = Math.round((perfMs - wholeMs) * 1e6);
  const msInSec = wholeMs % 1000;
  let nanos = originNanos + msInSec * 1e6 + subNanos;
  let sec = originSec + (wholeMs - msInSec) / 1000;
  if (nanos >= 1e9) {
    const carry = Math.floor(nanos / 1e9);
    sec += carry;
    nanos -= carry * 1e9;
  }
  secNanosInto(sec, nanos, out);
}

/** The current time. */
export function nowInto(out: Nanos64): void {
  perfMillisInto(performance.now(), out);
}

/** Epoch milliseconds (may be fractional) to nanoseconds. */
export function epochMillisInto(ms: number, out: Nanos64): void {
  if (!(ms >= 0) || !Number.isFinite(ms)) {
    out.lo = 0;
    out.hi = 0;
    return;
  }
  const sec = Math.floor(ms / 1000);
  const nanos = Math.round((ms - sec * 1000) * 1e6);
  secNanosInto(sec, Math.min(nanos, 999_999_999), out);
}

/** True when `value` is an `HrTime`. */
export function isHrTime(value: unknown): value is HrTime {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'number' && typeof value[1] === 'number';
}

/**
 * Converts an OpenTelemetry `TimeInput` to nanoseconds; `undefined` (or an
 * input of an unexpected type) means now. Returns false when the input was
 * unusable and now was taken instead.
 */
export function timeInputInto(input: TimeInput | undefined, out: Nanos64): boolean {
  if (input === undefined) {
    nowInto(out);
    return true;
  }
  if (typeof input === 'number') {
    if (input < originMs) perfMillisInto(input, out);
    else epochMillisInto(input, out);
    return true;
  }
  if (isHrTime(input)) {
    const sec = input[0];
    const nanos = input[1];
    if (sec >= 0 && sec < TWO_32 && nanos >= 0 && nanos < 1e9 && Number.isInteger(sec) && Number.isInteger(nanos)) {
      secNanosInto(sec, nanos, out);
      return true;
    }
    nowInto(out);
    return false;
  }
  if (input instanceof Date) {
    epochMillisInto(input.getTime(), out);
    return true;
  }
  nowInto(out);
  return false;
}

/** a < b for (lo, hi) pairs. */
export function isBefore(aLo: number, aHi: number, bLo: number, bHi: number): boolean {
  return aHi < bHi || (aHi === bHi && aLo < bLo);
}
