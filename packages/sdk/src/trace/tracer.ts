/**
 * Tracer: decides sampling and starts {@link MmapSpan}s.
 *
 * Parent: the span in the given (or active) context unless `root` is set; a
 * parent from another process (remote) or another SDK is read from its
 * SpanContext. A span that is not sampled is a non-recording span that writes
 * nothing; a RECORD (not sampled) decision gives a recording span that writes
 * nothing either, since everything written is exported.
 *
 * @internal
 */
import {
  type Context,
  context as contextApi,
  diag,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  ROOT_CONTEXT,
  type Span,
  type SpanOptions,
  type Tracer,
  trace,
  TraceFlags,
  type TraceState,
} from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import { SamplingDecision } from '@opentelemetry/sdk-trace-base';
import { hexWord, randomWord, wordHex } from './ids.js';
import { EncodedMemo } from '../encoding/encoded-memo.js';
import { MEMO_NAME, MmapSpan } from './span.js';
import type { TraceShared } from './span-limits.js';

export class MmapTracer implements Tracer {
  private readonly shared: TraceShared;
  private readonly scopeRef: number;
  /** Encoded names and attributes of this tracer's recent span starts (see EncodedMemo). */
  private readonly memo = new EncodedMemo(MEMO_NAME + 1);

  /** @internal */
  constructor(shared: TraceShared, scopeRef: number) {
    this.shared = shared;
    this.scopeRef = scopeRef;
  }

  startSpan(name: string, options?: SpanOptions, context?: Context): Span {
    try {
      return this.start(name, options, context ?? contextApi.active());
    } catch (err) {
      diag.error('otlp-mmap: startSpan failed', err);
      return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    }
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, context: Context, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, arg2?: F | SpanOptions, arg3?: F | Context, arg4?: F): ReturnType<F> | undefined {
    let options: SpanOptions | undefined;
    let ctx: Context | undefined;
    let fn: F;
    if (typeof arg2 === 'function') {
      fn = arg2;
    } else if (typeof arg3 === 'function') {
      options = arg2;
      fn = arg3;
    } else if (typeof arg4 === 'function') {
      options = arg2;
      ctx = arg3;
      fn = arg4;
    } else {
      return undefined;
    }
    const parentContext = ctx ?? contextApi.active();
    const span = this.startSpan(name, options, parentContext);
    return contextApi.with(trace.setSpan(parentContext, span), fn as (s: Span) => ReturnType<F>, undefined, span);
  }

  private start(name: string, options: SpanOptions | undefined, ctx: Context): Span {
    const shared = this.shared;
    // The root context holds nothing: no suppression flag and no parent to look up.
    const isRoot = ctx === ROOT_CONTEXT;
    if (shared.file.closed || (!isRoot && isTracingSuppressed(ctx))) return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    const parentSpan = options?.root || isRoot ? undefined : trace.getSpan(ctx);
    let hasParent = false;
    let parentRemote = false;
    let parentFlags = 0;
    let p0 = 0;
    let p1 = 0;
    let t0: number;
    let t1: number;
    let t2: number;
    let t3: number;
    let traceState: TraceState | undefined;
    if (parentSpan instanceof MmapSpan) {
      hasParent = true;
      t0 = parentSpan.t0;
      t1 = parentSpan.t1;
      t2 = parentSpan.t2;
      t3 = parentSpan.t3;
      p0 = parentSpan.s0;
      p1 = parentSpan.s1;
      parentFlags = parentSpan.traceFlags;
      traceState = parentSpan.traceState;
    } else {
      const psc = parentSpan?.spanContext();
      if (psc !== undefined && isSpanContextValid(psc)) {
        hasParent = true;
        parentRemote = psc.isRemote === true;
        parentFlags = psc.traceFlags;
        traceState = psc.traceState;
        t0 = hexWord(psc.traceId, 0);
        t1 = hexWord(psc.traceId, 1);
        t2 = hexWord(psc.traceId, 2);
        t3 = hexWord(psc.traceId, 3);
        p0 = hexWord(psc.spanId, 0);
        p1 = hexWord(psc.spanId, 1);
      } else {
        t0 = randomWord();
        t1 = randomWord();
        t2 = randomWord();
        t3 = randomWord();
        if ((t0 | t1 | t2 | t3) === 0) t3 = 1;
      }
    }
    const s0 = randomWord();
    let s1 = randomWord();
    if ((s0 | s1) === 0) s1 = 1;

    const kind = options?.kind ?? 0;
    let attributes = options?.attributes;
    let samplerAttributes: typeof attributes;
    let decision: SamplingDecision;
    if (shared.defaultSampler) {
      decision = !hasParent || (parentFlags & TraceFlags.SAMPLED) !== 0 ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD;
    } else {
      const traceId = wordHex(t0) + wordHex(t1) + wordHex(t2) + wordHex(t3);
      const result = shared.sampler.shouldSample(ctx, traceId, name, kind, attributes ?? {}, options?.links ?? []);
      decision = result.decision;
      if (result.traceState !== undefined) traceState = result.traceState;
      if (result.attributes !== undefined && Object.keys(result.attributes).length > 0) {
        samplerAttributes = result.attributes;
      }
    }
    if (decision === SamplingDecision.NOT_RECORD) {
      const sc = {
        traceId: wordHex(t0) + wordHex(t1) + wordHex(t2) + wordHex(t3),
        spanId: wordHex(s0) + wordHex(s1),
        traceFlags: TraceFlags.NONE,
        traceState,
      };
      return trace.wrapSpanContext(sc);
    }
    const sampled = decision === SamplingDecision.RECORD_AND_SAMPLED;
    const span = new MmapSpan(shared, this.scopeRef, name, t0, t1, t2, t3, s0, s1, sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, traceState, !sampled);
    if (attributes === null) attributes = undefined;
    span.start(kind, hasParent, p0, p1, parentRemote, options?.startTime, attributes, samplerAttributes, options?.links, this.memo);
    return span;
  }
}
