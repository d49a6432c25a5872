import type { SpanContext } from '@otlp-mmap/protocol';

/**
 * Which measurements may become exemplars, as `OTEL_METRICS_EXEMPLAR_FILTER`
 * names them: `trace_based` (the default) takes measurements made inside a
 * sampled span, `always_on` every measurement, `always_off` none.
 */
export type ExemplarFilter = 'trace_based' | 'always_on' | 'always_off';

const SAMPLED = 0x1;

/**
 * Whether a measurement with this span context passes the filter. A span
 * context counts only when it is well formed (16-byte trace id and 8-byte
 * span id, not all zero).
 *
 * @internal
 */
export function passesFilter(filter: ExemplarFilter, spanContext: SpanContext | undefined): boolean {
  switch (filter) {
    case 'always_off':
      return false;
    case 'always_on':
      return true;
    case 'trace_based':
      return spanContext !== undefined && (spanContext.flags & SAMPLED) !== 0 && isValidSpanContext(spanContext);
  }
}

/** A 16-byte, non-zero trace id and an 8-byte, non-zero span id. @internal */
export function isValidSpanContext(spanContext: SpanContext): boolean {
  return (
    spanContext.traceId.length === 16 && spanContext.spanId.length === 8 && spanContext.traceId.some((b) => b !== 0) && spanContext.spanId.some((b) => b !== 0)
  );
}

/** Parses `OTEL_METRICS_EXEMPLAR_FILTER` (case insensitive); unset gives `trace_based`, unknown gives undefined. */
export function parseExemplarFilter(value: string | undefined): ExemplarFilter | undefined {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '') return 'trace_based';
  return v === 'trace_based' || v === 'always_on' || v === 'always_off' ? v : undefined;
}
