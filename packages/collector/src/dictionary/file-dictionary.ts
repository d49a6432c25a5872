import {
  AnyValue,
  InstrumentationScope,
  MetricRef,
  Resource,
  memoizeEncoding,
  otlpCommon,
  useEncodingMemo,
  type KeyValueRef,
  type otlpResource,
} from '@otlp-mmap/protocol';
import { DictionaryError, type DictionaryView, type ResolvedMetric, type ResolvedScope } from './dictionary-view.js';
import { copyBytes } from '../file/byte-slab.js';

/** The part of the binding's `Reader` a dictionary needs. */
export interface DictionarySource {
  /** Bytes of the entry at `ref` (without its length prefix); throws when the reference is bad. */
  entry(ref: number): Uint8Array;
  /** The entry decoded as UTF-8; ref 0 reads as "". */
  string(ref: number): string;
}

/** Limits that keep resolution of untrusted data bounded (FORMAT.md 7.6). */
export interface DictionaryLimits {
  /** Deepest nesting of arrays, kvlists and value_ref hops in one value. */
  readonly maxDepth: number;
  /** Entries kept per cache before it is cleared (bounds memory on hostile files). */
  readonly maxCacheEntries: number;
}

const DEFAULT_LIMITS: DictionaryLimits = { maxDepth: 32, maxCacheEntries: 100_000 };

function toNumberRef(ref: bigint): number {
  if (ref < 0n || ref > BigInt(Number.MAX_SAFE_INTEGER)) throw new DictionaryError(`reference ${ref} is out of range`, ref);
  return Number(ref);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A Map that forgets everything when it reaches its capacity. */
class BoundedCache<V> {
  // Keyed by number: Map lookups with BigInt keys are several times slower.
  private readonly map = new Map<number, V>();
  constructor(private readonly capacity: number) {}
  get(key: bigint): V | undefined {
    return this.map.get(Number(key));
  }
  set(key: bigint, value: V): void {
    if (this.map.size >= this.capacity) this.map.clear();
    this.map.set(Number(key), value);
  }
}

// Shared attributes (see sharedKeyValue) carry their encoding: the export
// encoders write those bytes instead of encoding them again for every span.
useEncodingMemo(otlpCommon.KeyValue);

/** Whether attributes under this key reference may be shared (see `sharedKeyValue`). */
function sharedKeyRef(keyRef: bigint): boolean {
  return keyRef > 0n && keyRef <= 0xffffffffn;
}

/** Distinct values remembered per attribute key (see {@link FileDictionary} `keyValues`). */
const KEY_VALUES_PER_KEY = 256;
/** Attribute keys with remembered values before that cache is cleared. */
const KEY_VALUE_KEYS = 1024;
/** Longer string values are resolved every time (they would make the cache large). */
const MAX_CACHED_VALUE_LENGTH = 256;

const EMPTY_RESOURCE: otlpResource.Resource = { attributes: [], droppedAttributesCount: 0, entityRefs: [] };

/** A Resource entry resolved: the OTLP resource and its `schema_url` extension. */
interface ResolvedResource {
  readonly resource: otlpResource.Resource;
  readonly schemaUrl: string;
}

const NO_RESOURCE: ResolvedResource = { resource: EMPTY_RESOURCE, schemaUrl: '' };

/**
 * {@link DictionaryView} over the dictionary of an open file. Entries never
 * change once written (FORMAT.md 4), so every resolved string, resource,
 * scope, metric and value_ref target is cached.
 */
export class FileDictionary implements DictionaryView {
  private readonly limits: DictionaryLimits;
  private readonly strings: BoundedCache<string>;
  private readonly resources: BoundedCache<ResolvedResource>;
  private readonly scopes: BoundedCache<ResolvedScope>;
  private readonly metrics: BoundedCache<ResolvedMetric>;
  private readonly values: BoundedCache<otlpCommon.AnyValue>;
  /**
   * Resolved attributes with a scalar value, by key reference then value
   * (a string, boolean, bigint or number: the JavaScript types tell the
   * OTLP value kinds apart). Spans repeat most attributes with the same
   * values, and sharing one immutable `KeyValue` object spares allocating
   * (and keeping alive) a new one per attribute. High-cardinality keys stop
   * growing at {@link KEY_VALUES_PER_KEY} values and are then resolved anew.
   */
  private keyValues = new Map<number, Map<string | boolean | bigint | number, otlpCommon.KeyValue>>();
  /** Attributes of resources and scopes left out because they did not resolve. */
  unresolvedAttributes = 0;
  private readonly countDropped = (): void => {
    this.unresolvedAttributes++;
  };

  constructor(
    private readonly source: DictionarySource,
    limits: Partial<DictionaryLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    const cap = this.limits.maxCacheEntries;
    this.strings = new BoundedCache(cap);
    this.resources = new BoundedCache(cap);
    this.scopes = new BoundedCache(cap);
    this.metrics = new BoundedCache(cap);
    this.values = new BoundedCache(cap);
  }

  string(ref: bigint): string {
    if (ref === 0n) return '';
    const cached = this.strings.get(ref);
    if (cached !== undefined) return cached;
    let value: string;
    try {
      value = this.source.string(toNumberRef(ref));
    } catch (error) {
      throw new DictionaryError(`string ${ref}: ${describe(error)}`, ref);
    }
    this.strings.set(ref, value);
    return value;
  }

  resource(ref: bigint): otlpResource.Resource {
    return this.resolvedResource(ref).resource;
  }

  private resolvedResource(ref: bigint): ResolvedResource {
    if (ref === 0n) return NO_RESOURCE;
    const cached = this.resources.get(ref);
    if (cached) return cached;
    const entry = this.decodeEntry(ref, Resource, 'resource');
    const resolved: ResolvedResource = {
      resource: {
        attributes: this.attributes(entry.attributes, this.countDropped),
        droppedAttributesCount: entry.droppedAttributesCount,
        entityRefs: [],
      },
      schemaUrl: entry.schemaUrl,
    };
    this.resources.set(ref, resolved);
    return resolved;
  }

  scope(ref: bigint): ResolvedScope {
    const cached = this.scopes.get(ref);
    if (cached) return cached;
    let resolved: ResolvedScope;
    if (ref === 0n) {
      resolved = {
        ref,
        scope: { name: '', version: '', attributes: [], droppedAttributesCount: 0 },
        schemaUrl: '',
        resourceRef: 0n,
        resource: EMPTY_RESOURCE,
        resourceSchemaUrl: '',
      };
    } else {
      const entry = this.decodeEntry(ref, InstrumentationScope, 'scope');
      const resource = this.resolvedResource(entry.resourceRef);
      resolved = {
        ref,
        scope: {
          name: this.string(entry.nameRef),
          version: this.string(entry.versionRef),
          attributes: this.attributes(entry.attributes, this.countDropped),
          droppedAttributesCount: entry.droppedAttributesCount,
        },
        schemaUrl: entry.schemaUrl,
        resourceRef: entry.resourceRef,
        resource: resource.resource,
        resourceSchemaUrl: resource.schemaUrl,
      };
    }
    this.scopes.set(ref, resolved);
    return resolved;
  }

  metric(ref: bigint): ResolvedMetric {
    const cached = this.metrics.get(ref);
    if (cached) return cached;
    if (ref === 0n) throw new DictionaryError('metric reference 0', ref);
    const definition = this.decodeEntry(ref, MetricRef, 'metric');
    const resolved: ResolvedMetric = { ref, definition, scope: this.scope(definition.instrumentationScopeRef) };
    this.metrics.set(ref, resolved);
    return resolved;
  }

  anyValue(value: AnyValue | undefined): otlpCommon.AnyValue {
    return this.resolveValue(value, 0, undefined);
  }

  attributes(kvs: readonly KeyValueRef[], onDropped?: (error: DictionaryError) => void): otlpCommon.KeyValue[] {
    return this.resolveKeyValues(kvs, 0, undefined, onDropped);
  }

  attribute(kv: KeyValueRef, onDropped?: (error: DictionaryError) => void): otlpCommon.KeyValue | undefined {
    return this.resolveKeyValue(kv, 0, undefined, onDropped);
  }

  /** One attribute: shared, resolved, or (undefined) dropped and reported to `onDropped`. */
  private resolveKeyValue(
    kv: KeyValueRef,
    depth: number,
    path: Set<bigint> | undefined,
    onDropped: ((error: DictionaryError) => void) | undefined,
  ): otlpCommon.KeyValue | undefined {
    const shared = this.sharedKeyValue(kv);
    if (shared !== undefined) return shared;
    try {
      return { key: this.string(kv.keyRef), value: this.resolveValue(kv.value, depth, path), keyStrindex: 0 };
    } catch (error) {
      if (!(error instanceof DictionaryError) || !onDropped) throw error;
      onDropped(error);
      return undefined;
    }
  }

  private resolveKeyValues(
    kvs: readonly KeyValueRef[],
    depth: number,
    path: Set<bigint> | undefined,
    onDropped: ((error: DictionaryError) => void) | undefined,
  ): otlpCommon.KeyValue[] {
    // Sized up front: these arrays are kept with their spans, and one grown by
    // push() keeps room for 17 entries however few it holds.
    const out = new Array<otlpCommon.KeyValue>(kvs.length);
    let n = 0;
    for (const kv of kvs) {
      const resolved = this.resolveKeyValue(kv, depth, path, onDropped);
      if (resolved !== undefined) out[n++] = resolved;
    }
    if (n < out.length) out.length = n;
    return out;
  }

  /** See `DictionaryView.cachedAttribute`. */
  cachedAttribute(keyRef: bigint, value: string | boolean | bigint | number): otlpCommon.KeyValue | undefined {
    // The look-up of sharedKeyValue, nothing created.
    return sharedKeyRef(keyRef) ? this.keyValues.get(Number(keyRef))?.get(value) : undefined;
  }

  /**
   * The shared `KeyValue` of an attribute with a scalar value (created on
   * first use), or undefined when it is not cached (not a scalar, a long
   * string, -0, or its key is full). It is frozen, and carries its encoding
   * for the export encoders (see `memoizeEncoding`).
   */
  private sharedKeyValue(kv: KeyValueRef): otlpCommon.KeyValue | undefined {
    const v = kv.value?.value;
    if (v === undefined) return undefined;
    let scalar: string | boolean | bigint | number;
    switch (v.$case) {
      case 'stringValue':
        if (v.value.length > MAX_CACHED_VALUE_LENGTH) return undefined;
        scalar = v.value;
        break;
      case 'boolValue':
      case 'intValue':
        scalar = v.value;
        break;
      case 'doubleValue':
        if (Object.is(v.value, -0)) return undefined; // a Map does not tell -0 from 0
        scalar = v.value;
        break;
      default:
        return undefined;
    }
    const keyRef = kv.keyRef;
    if (!sharedKeyRef(keyRef)) return undefined;
    const byKey = Number(keyRef);
    let values = this.keyValues.get(byKey);
    if (values === undefined) {
      if (this.keyValues.size >= KEY_VALUE_KEYS) this.keyValues = new Map();
      values = new Map();
      this.keyValues.set(byKey, values);
    }
    const cached = values.get(scalar);
    if (cached !== undefined) return cached;
    if (values.size >= KEY_VALUES_PER_KEY) return undefined;
    let key: string;
    try {
      key = this.string(keyRef);
    } catch (error) {
      if (error instanceof DictionaryError) return undefined; // the caller resolves it again and reports it
      throw error;
    }
    // Frozen with its encoding: it is shared by every span and record with this attribute.
    const resolved = memoizeEncoding(otlpCommon.KeyValue, { key, value: kv.value as otlpCommon.AnyValue, keyStrindex: 0 });
    values.set(scalar, resolved);
    return resolved;
  }

  private resolveValue(value: AnyValue | undefined, depth: number, path: Set<bigint> | undefined): otlpCommon.AnyValue {
    const v = value?.value;
    if (v === undefined) return { value: undefined };
    if (depth > this.limits.maxDepth) throw new DictionaryError(`value nested deeper than ${this.limits.maxDepth}`, 0n);
    switch (v.$case) {
      case 'stringValue':
      case 'boolValue':
      case 'intValue':
      case 'doubleValue':
        // Same shape in both schemas: reuse the decoded object instead of allocating.
        return value as otlpCommon.AnyValue;
      case 'bytesValue':
        // Copy: the bytes may be a view into a ring batch that must not be kept alive.
        return { value: { $case: 'bytesValue', value: copyBytes(v.value) } };
      case 'arrayValue':
        return { value: { $case: 'arrayValue', value: { values: v.value.values.map((x) => this.resolveValue(x, depth + 1, path)) } } };
      case 'kvlistValue':
        return { value: { $case: 'kvlistValue', value: { values: this.resolveKeyValues(v.value.values, depth + 1, path, undefined) } } };
      case 'valueRef':
        return this.resolveValueRef(v.value, depth, path);
    }
  }

  private resolveValueRef(ref: bigint, depth: number, path: Set<bigint> | undefined): otlpCommon.AnyValue {
    const cached = this.values.get(ref);
    if (cached) return cached;
    if (path?.has(ref)) throw new DictionaryError(`value_ref loop at ${ref}`, ref);
    if (ref === 0n) throw new DictionaryError('value_ref 0', ref);
    const entry = this.decodeEntry(ref, AnyValue, 'value');
    const nextPath = new Set(path);
    nextPath.add(ref);
    const resolved = this.resolveValue(entry, depth + 1, nextPath);
    this.values.set(ref, resolved);
    return resolved;
  }

  private decodeEntry<T>(ref: bigint, codec: { decode(input: Uint8Array): T }, what: string): T {
    let bytes: Uint8Array;
    try {
      bytes = this.source.entry(toNumberRef(ref));
    } catch (error) {
      if (error instanceof DictionaryError) throw error;
      throw new DictionaryError(`${what} ${ref}: ${describe(error)}`, ref);
    }
    try {
      return codec.decode(bytes);
    } catch (error) {
      throw new DictionaryError(`${what} ${ref}: not decodable: ${describe(error)}`, ref);
    }
  }
}
