import type { AnyValue, KeyValueRef, MetricRef, otlpCommon, otlpResource } from '@otlp-mmap/protocol';

/** An InstrumentationScope entry with its Resource, resolved to OTLP types. */
export interface ResolvedScope {
  /** Dictionary reference of the scope entry. */
  readonly ref: bigint;
  readonly scope: otlpCommon.InstrumentationScope;
  /** The scope's `schema_url` extension (FORMAT.md 8; "" when absent): OTLP Scope{Spans,Logs,Metrics}.schema_url. */
  readonly schemaUrl: string;
  /** Dictionary reference of the scope's Resource (0n when it has none). */
  readonly resourceRef: bigint;
  readonly resource: otlpResource.Resource;
  /** The resource's `schema_url` extension ("" when absent): OTLP Resource{Spans,Logs,Metrics}.schema_url. */
  readonly resourceSchemaUrl: string;
}

/** A MetricRef entry with its scope, resolved. */
export interface ResolvedMetric {
  /** Dictionary reference of the MetricRef entry: identifies the metric stream. */
  readonly ref: bigint;
  readonly definition: MetricRef;
  readonly scope: ResolvedScope;
}

/**
 * Read access to the dictionary of an OTLP-MMAP file, resolved into OTLP
 * types. Span, log and metric logic depend on this interface only, so they
 * can be tested without a file. Implementations cache what they resolve.
 *
 * Every method throws {@link DictionaryError} for a reference that does not
 * resolve (out of range, not decodable, a value_ref loop, too deep).
 */
export interface DictionaryView {
  string(ref: bigint): string;
  resource(ref: bigint): otlpResource.Resource;
  scope(ref: bigint): ResolvedScope;
  metric(ref: bigint): ResolvedMetric;
  /** Resolves one value, following `value_ref` with a bounded depth. */
  anyValue(value: AnyValue | undefined): otlpCommon.AnyValue;
  /**
   * Resolves a list of attributes. An attribute whose key or value does not
   * resolve is left out; `onDropped` (if given) is called once per such
   * attribute so callers can count it. Returns a new array, which the
   * caller owns (ActiveSpans adopts it as a span's attribute list).
   */
  attributes(kvs: readonly KeyValueRef[], onDropped?: (error: DictionaryError) => void): otlpCommon.KeyValue[];
  /**
   * Optional: one attribute as {@link attributes} resolves it in a list
   * (undefined when it is left out, after `onDropped`), without the lists.
   */
  attribute?(kv: KeyValueRef, onDropped?: (error: DictionaryError) => void): otlpCommon.KeyValue | undefined;
  /**
   * Optional look-up of an attribute with a scalar value (a string, bool,
   * int as bigint, or double other than -0) under key reference `keyRef`:
   * the object {@link attributes} returns for it when the view has one
   * shared already, else undefined. Creates nothing, counts nothing.
   */
  cachedAttribute?(keyRef: bigint, value: string | boolean | bigint | number): otlpCommon.KeyValue | undefined;
}

/** A dictionary reference or entry that cannot be resolved. */
export class DictionaryError extends Error {
  constructor(
    message: string,
    /** The reference being resolved when the error happened. */
    readonly ref: bigint,
  ) {
    super(message);
    this.name = 'DictionaryError';
  }
}
