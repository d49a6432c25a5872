/**
 * An in-memory DictionaryView for metric tests: entries are added with
 * builder methods and get increasing fake references, so aggregation can be
 * tested without a file.
 */
import { AggregationTemporality, type AnyValue, type KeyValueRef, type MetricRef, type otlpCommon, type otlpResource } from '@otlp-mmap/protocol';
import { DictionaryError, type DictionaryView, type ResolvedMetric, type ResolvedScope } from '../../../packages/collector/src/dictionary/dictionary-view.js';

/** A primitive attribute value as tests write it (bigint = int, number = double). */
export type Primitive = string | boolean | bigint | number;

export class FakeDictionary implements DictionaryView {
  private nextRef = 64n;
  private readonly strings = new Map<bigint, string>();
  private readonly stringRefs = new Map<string, bigint>();
  private readonly values = new Map<bigint, AnyValue>();
  private readonly resources = new Map<bigint, otlpResource.Resource>();
  private readonly scopes = new Map<bigint, ResolvedScope>();
  private readonly metrics = new Map<bigint, ResolvedMetric>();
  /** How many times `attributes` was called (to check the series cache). */
  attributeResolutions = 0;

  string(ref: bigint): string {
    if (ref === 0n) return '';
    const s = this.strings.get(ref);
    if (s === undefined) throw new DictionaryError(`no string at ${ref}`, ref);
    return s;
  }

  /** Adds (or reuses) a string entry. */
  addString(value: string): bigint {
    const existing = this.stringRefs.get(value);
    if (existing !== undefined) return existing;
    const ref = this.allocate();
    this.strings.set(ref, value);
    this.stringRefs.set(value, ref);
    return ref;
  }

  /** Adds an AnyValue entry (for `value_ref`). */
  addValue(value: AnyValue): bigint {
    const ref = this.allocate();
    this.values.set(ref, value);
    return ref;
  }

  addResource(attributes: Record<string, Primitive> = {}): bigint {
    const ref = this.allocate();
    this.resources.set(ref, { attributes: toOtlpAttributes(attributes), droppedAttributesCount: 0, entityRefs: [] });
    return ref;
  }

  addScope(name: string, version = '', resourceRef = 0n): bigint {
    const ref = this.allocate();
    this.scopes.set(ref, {
      ref,
      scope: { name, version, attributes: [], droppedAttributesCount: 0 },
      schemaUrl: '',
      resourceRef,
      resource: resourceRef === 0n ? { attributes: [], droppedAttributesCount: 0, entityRefs: [] } : this.resource(resourceRef),
      resourceSchemaUrl: '',
    });
    return ref;
  }

  /** Adds a MetricRef; `scopeRef` defaults to a fresh scope named "test". */
  addMetric(definition: Partial<MetricRef> & Pick<MetricRef, 'aggregation'>, scopeRef?: bigint): bigint {
    const scope = scopeRef ?? this.addScope('test');
    const ref = this.allocate();
    const full: MetricRef = { name: 'metric', description: '', unit: '', instrumentationScopeRef: scope, ...definition };
    this.metrics.set(ref, { ref, definition: full, scope: this.scope(scope) });
    return ref;
  }

  /** A KeyValueRef with an inline value. */
  kv(key: string, value: Primitive): KeyValueRef {
    return { keyRef: this.addString(key), value: anyValue(value) };
  }

  /** KeyValueRefs for a record of attributes, in the record's order. */
  kvs(attributes: Record<string, Primitive>): KeyValueRef[] {
    return Object.entries(attributes).map(([k, v]) => this.kv(k, v));
  }

  resource(ref: bigint): otlpResource.Resource {
    const r = this.resources.get(ref);
    if (r === undefined) throw new DictionaryError(`no resource at ${ref}`, ref);
    return r;
  }

  scope(ref: bigint): ResolvedScope {
    const s = this.scopes.get(ref);
    if (s === undefined) throw new DictionaryError(`no scope at ${ref}`, ref);
    return s;
  }

  metric(ref: bigint): ResolvedMetric {
    const m = this.metrics.get(ref);
    if (m === undefined) throw new DictionaryError(`no metric at ${ref}`, ref);
    return m;
  }

  anyValue(value: AnyValue | undefined, depth = 0): otlpCommon.AnyValue {
    const v = value?.value;
    if (v === undefined) return { value: undefined };
    if (depth > 8) throw new DictionaryError('value_ref chain too deep', 0n);
    switch (v.$case) {
      case 'valueRef': {
        const target = this.values.get(v.value);
        if (target === undefined) throw new DictionaryError(`no value at ${v.value}`, v.value);
        return this.anyValue(target, depth + 1);
      }
      case 'arrayValue':
        return { value: { $case: 'arrayValue', value: { values: v.value.values.map((x) => this.anyValue(x, depth + 1)) } } };
      case 'kvlistValue':
        return { value: { $case: 'kvlistValue', value: { values: this.attributes(v.value.values) } } };
      default:
        return { value: v };
    }
  }

  attributes(kvs: readonly KeyValueRef[], onDropped?: (error: DictionaryError) => void): otlpCommon.KeyValue[] {
    this.attributeResolutions++;
    const out: otlpCommon.KeyValue[] = [];
    for (const kv of kvs) {
      try {
        out.push({ key: this.string(kv.keyRef), value: this.anyValue(kv.value), keyStrindex: 0 });
      } catch (error) {
        if (!(error instanceof DictionaryError)) throw error;
        onDropped?.(error);
      }
    }
    return out;
  }

  private allocate(): bigint {
    const ref = this.nextRef;
    this.nextRef += 8n;
    return ref;
  }
}

export function anyValue(value: Primitive): AnyValue {
  switch (typeof value) {
    case 'string':
      return { value: { $case: 'stringValue', value } };
    case 'boolean':
      return { value: { $case: 'boolValue', value } };
    case 'bigint':
      return { value: { $case: 'intValue', value } };
    default:
      return { value: { $case: 'doubleValue', value } };
  }
}

function toOtlpAttributes(attributes: Record<string, Primitive>): otlpCommon.KeyValue[] {
  return Object.entries(attributes).map(([key, v]) => ({ key, value: anyValue(v) as otlpCommon.AnyValue, keyStrindex: 0 }));
}

/** MetricRef aggregations, for brevity in tests. */
export const aggregations = {
  counter: { $case: 'sum', value: { aggregationTemporality: AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA, isMonotonic: true } },
  upDownCounter: { $case: 'sum', value: { aggregationTemporality: AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA, isMonotonic: false } },
  observableCounter: { $case: 'sum', value: { aggregationTemporality: AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE, isMonotonic: true } },
  observableUpDownCounter: { $case: 'sum', value: { aggregationTemporality: AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE, isMonotonic: false } },
  gauge: { $case: 'gauge', value: {} },
  histogram: (bucketBoundaries: number[] = [], temporality = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE) => ({
    $case: 'histogram' as const,
    value: { aggregationTemporality: temporality, bucketBoundaries },
  }),
  expHist: (maxBuckets = 160n, maxScale = 20n, temporality = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE) => ({
    $case: 'expHist' as const,
    value: { aggregationTemporality: temporality, maxBuckets, maxScale },
  }),
} as const satisfies Record<string, MetricRef['aggregation'] | ((...args: never[]) => MetricRef['aggregation'])>;
