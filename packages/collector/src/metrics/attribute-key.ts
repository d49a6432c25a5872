import type { AnyValue, KeyValueRef, otlpCommon } from '@otlp-mmap/protocol';

/**
 * Keys that identify a time series by its attribute set.
 *
 * Two levels, so the hot path never touches the dictionary:
 * - {@link RawAttributeCache}: keyed by the measurement's own attribute
 *   list (key references and inline values). Cheap, but two raw lists may
 *   name the same attribute set (another key order, a value inline vs by
 *   reference). It only serves as a cache in front of the canonical key.
 * - {@link canonicalAttributes}: built from the resolved attributes, sorted
 *   by key, duplicates resolved (last wins). Equal sets give equal keys
 *   whatever their order: this is the series identity.
 *
 * @internal
 */

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;

/** Children of a trie node for one attribute key, split by value kind so kinds never collide. */
interface ValueChildren<V> {
  strings?: Map<string, TrieNode<V>>;
  bools?: Map<boolean, TrieNode<V>>;
  ints?: Map<number, TrieNode<V>>;
  doubles?: Map<number, TrieNode<V>>;
  refs?: Map<number, TrieNode<V>>;
  empty?: TrieNode<V>;
}

interface TrieNode<V> {
  byKey?: Map<number, ValueChildren<V>>;
  value?: V;
}

type Kind = Exclude<keyof ValueChildren<unknown>, 'empty'>;

/**
 * A cache from a measurement's raw attribute list (key references and
 * inline values, in the order written) to a value, without building a
 * string per lookup: a trie with one level per attribute, each level keyed
 * by the key reference and then by the primitive value (hash lookups on
 * numbers and on the decoded strings themselves).
 *
 * Lists holding bytes, nested arrays or key-value lists, or references too
 * large for a double, are not cached (`get` misses, `set` does nothing): the
 * caller resolves them every time. The cache holds at most `limit` entries;
 * when full it starts afresh.
 *
 * @internal
 */
export class RawAttributeCache<V> {
  private root: TrieNode<V> = {};
  private entries = 0;

  constructor(private readonly limit: number) {}

  get(kvs: readonly KeyValueRef[]): V | undefined {
    return this.walk(kvs, false)?.value;
  }

  set(kvs: readonly KeyValueRef[], value: V): void {
    if (this.entries >= this.limit) this.clear();
    const node = this.walk(kvs, true);
    if (node === undefined) return;
    if (node.value === undefined) this.entries++;
    node.value = value;
  }

  clear(): void {
    this.root = {};
    this.entries = 0;
  }

  private walk(kvs: readonly KeyValueRef[], create: boolean): TrieNode<V> | undefined {
    let node = this.root;
    for (let i = 0; i < kvs.length; i++) {
      const kv = kvs[i];
      const keyRef = kv.keyRef;
      if (keyRef > MAX_SAFE || keyRef < MIN_SAFE) return undefined;
      let byKey = node.byKey;
      if (byKey === undefined) {
        if (!create) return undefined;
        byKey = node.byKey = new Map();
      }
      let children = byKey.get(Number(keyRef));
      if (children === undefined) {
        if (!create) return undefined;
        children = {};
        byKey.set(Number(keyRef), children);
      }
      const v = kv.value?.value;
      let next: TrieNode<V> | undefined;
      if (v === undefined) {
        next = children.empty;
        if (next === undefined && create) next = children.empty = {};
      } else {
        let kind: Kind;
        let key: string | boolean | number;
        switch (v.$case) {
          case 'stringValue':
            kind = 'strings';
            key = v.value;
            break;
          case 'boolValue':
            kind = 'bools';
            key = v.value;
            break;
          case 'intValue':
            if (v.value > MAX_SAFE || v.value < MIN_SAFE) return undefined;
            kind = 'ints';
            key = Number(v.value);
            break;
          case 'doubleValue':
            kind = 'doubles';
            key = v.value;
            break;
          case 'valueRef':
            if (v.value > MAX_SAFE || v.value < MIN_SAFE) return undefined;
            kind = 'refs';
            key = Number(v.value);
            break;
          default:
            return undefined;
        }
        let map = children[kind] as Map<typeof key, TrieNode<V>> | undefined;
        if (map === undefined) {
          if (!create) return undefined;
          map = new Map();
          (children as Record<Kind, Map<typeof key, TrieNode<V>>>)[kind] = map;
        }
        next = map.get(key);
        if (next === undefined && create) {
          next = {};
          map.set(key, next);
        }
      }
      if (next === undefined) return undefined;
      node = next;
    }
    return node;
  }
}

/** The attribute set in canonical form (sorted by key, last duplicate wins) and its key. */
export function canonicalAttributes(attributes: readonly otlpCommon.KeyValue[]): {
  attributes: otlpCommon.KeyValue[];
  key: string;
} {
  const byKey = new Map<string, otlpCommon.KeyValue>();
  for (const kv of attributes) {
    byKey.delete(kv.key);
    byKey.set(kv.key, kv);
  }
  const sorted = [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  let key = '';
  for (const kv of sorted) key += kv.key.length + ':' + kv.key + valueKey(kv.value);
  return { attributes: sorted, key };
}

function valueKey(value: otlpCommon.AnyValue | undefined): string {
  const v = value?.value;
  if (v === undefined) return 'u';
  switch (v.$case) {
    case 'stringValue':
      return 's' + v.value.length + ':' + v.value;
    case 'boolValue':
      return v.value ? 'T' : 'F';
    case 'intValue':
      return 'i' + v.value + ';';
    case 'doubleValue':
      return 'd' + v.value + ';';
    case 'bytesValue':
      return 'x' + hex(v.value) + ';';
    case 'arrayValue':
      return '[' + v.value.values.map(valueKey).join('') + ']';
    case 'kvlistValue':
      return '{' + v.value.values.map((kv) => kv.key.length + ':' + kv.key + valueKey(kv.value)).join('') + '}';
    case 'stringValueStrindex':
      return 'n' + v.value + ';';
  }
}

function hex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += (b < 16 ? '0' : '') + b.toString(16);
  return out;
}
