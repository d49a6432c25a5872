import type { KeyValueRef, otlpCommon } from '@otlp-mmap/protocol';

/**
 * Keys that identify a time series by its attribute set.
 *
 * Three levels, so the hot path neither decodes attributes nor touches the
 * dictionary:
 * - {@link EncodedAttributeCache}: keyed by the bytes of the measurement's
 *   attribute records as written in the ring (the collector's path: the
 *   decoder leaves them encoded). A hit costs a hash and a comparison of
 *   those bytes; only a miss decodes them and goes to the next level.
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

/** Attribute byte sequences longer than this are not cached (the cache's memory stays bounded). */
export const MAX_ENCODED_KEY_BYTES = 512;

interface EncodedEntry<V> {
  /** A copy of the bytes, and a view of it to compare 4 bytes at a time. */
  readonly bytes: Uint8Array;
  readonly view: DataView;
  value: V;
  /** The next entry whose bytes have the same hash. */
  next: EncodedEntry<V> | undefined;
}

/**
 * A DataView of the last input hashed or compared (the batch being
 * decoded), made once per batch: 4-byte reads through it are much faster
 * than assembling words from bytes. It keeps that one batch reachable until
 * the next one.
 */
let lastInput: Uint8Array | undefined;
let lastView: DataView = new DataView(new ArrayBuffer(0));

function viewOf(bytes: Uint8Array): DataView {
  if (bytes !== lastInput) {
    lastInput = bytes;
    lastView = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  return lastView;
}

/**
 * A 30-bit hash of `bytes[start, end)`: FNV-1a over little-endian 4-byte
 * words (a quarter of the multiplications of the bytewise form), then a
 * final mix. Not cryptographic: equal hashes are always confirmed by
 * comparing the bytes.
 */
export function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  const view = viewOf(bytes);
  let h = 0x811c9dc5 ^ (end - start);
  let i = start;
  for (const last = end - 3; i < last; i += 4) h = Math.imul(h ^ view.getInt32(i, true), 0x01000193);
  for (; i < end; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  // 30 bits: a small integer (Smi) for V8, so Map keys stay unboxed.
  return (h ^ (h >>> 13)) & 0x3fffffff;
}

/** Whether the entry holds exactly `bytes[start, start + length)`. */
function holds(entry: EncodedEntry<unknown>, bytes: Uint8Array, start: number, length: number): boolean {
  if (entry.bytes.length !== length) return false;
  const cached = entry.view;
  const view = viewOf(bytes);
  let i = 0;
  for (const last = length - 3; i < last; i += 4) if (cached.getInt32(i, true) !== view.getInt32(start + i, true)) return false;
  for (; i < length; i++) if (entry.bytes[i] !== bytes[start + i]) return false;
  return true;
}

/**
 * A cache from the encoded attribute records of a measurement (a byte range
 * of a ring batch) to a value: a map from a hash of the bytes to entries
 * holding a copy of the bytes, compared in full on every hit, so collisions
 * never mix attribute lists. Equal bytes always decode to equal attributes
 * (see `decodeAttributeRecords`), so it can sit in front of the canonical
 * key; different bytes for one attribute set (another key order) are only
 * different entries holding the same value.
 *
 * Bounded: at most `limit` entries of at most {@link MAX_ENCODED_KEY_BYTES}
 * bytes each (longer ranges are never cached: `get` misses, `set` does
 * nothing); when full it starts afresh.
 *
 * @internal
 */
export class EncodedAttributeCache<V> {
  private buckets = new Map<number, EncodedEntry<V>>();
  private entries = 0;

  constructor(private readonly limit: number) {}

  /** Number of entries held. */
  get size(): number {
    return this.entries;
  }

  /** The value cached for `bytes[start, end)`, whose {@link hashBytes} is `hash`. */
  get(hash: number, bytes: Uint8Array, start: number, end: number): V | undefined {
    const length = end - start;
    for (let entry = this.buckets.get(hash); entry !== undefined; entry = entry.next) {
      if (holds(entry, bytes, start, length)) return entry.value;
    }
    return undefined;
  }

  /** Caches `value` for `bytes[start, end)` (copied), whose {@link hashBytes} is `hash`. */
  set(hash: number, bytes: Uint8Array, start: number, end: number, value: V): void {
    const length = end - start;
    if (length > MAX_ENCODED_KEY_BYTES) return;
    let head = this.buckets.get(hash);
    for (let entry = head; entry !== undefined; entry = entry.next) {
      if (holds(entry, bytes, start, length)) {
        entry.value = value;
        return;
      }
    }
    if (this.entries >= this.limit) {
      this.clear();
      head = undefined;
    }
    const copy = bytes.slice(start, end);
    this.buckets.set(hash, { bytes: copy, view: new DataView(copy.buffer, copy.byteOffset, copy.byteLength), value, next: head });
    this.entries++;
  }

  clear(): void {
    this.buckets = new Map();
    this.entries = 0;
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
  for (const kv of sorted) key += `${kv.key.length}:${kv.key}${valueKey(kv.value)}`;
  return { attributes: sorted, key };
}

function valueKey(value: otlpCommon.AnyValue | undefined): string {
  const v = value?.value;
  if (v === undefined) return 'u';
  switch (v.$case) {
    case 'stringValue':
      return `s${v.value.length}:${v.value}`;
    case 'boolValue':
      return v.value ? 'T' : 'F';
    case 'intValue':
      return `i${v.value};`;
    case 'doubleValue':
      return `d${v.value};`;
    case 'bytesValue':
      return `x${hex(v.value)};`;
    case 'arrayValue':
      return `[${v.value.values.map(valueKey).join('')}]`;
    case 'kvlistValue':
      return `{${v.value.values.map((kv) => `${kv.key.length}:${kv.key}${valueKey(kv.value)}`).join('')}}`;
    case 'stringValueStrindex':
      return `n${v.value};`;
  }
}

function hex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += (b < 16 ? '0' : '') + b.toString(16);
  return out;
}
