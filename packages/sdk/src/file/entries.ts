/**
 * Dictionary entries written once per process: the resource and the
 * instrumentation scopes (FORMAT.md section 5, "Dictionary messages").
 *
 * @internal
 */
import type { Attributes } from '@opentelemetry/api';
import { writeKeyValue } from '../encoding/any-value.js';
import * as F from '@otlp-mmap/protocol/tags';
import { ProtoWriter } from '../encoding/proto-writer.js';
import type { Dictionary } from './dictionary.js';

/**
 * Reference of the Resource entry with these attributes and schema URL (the
 * `schema_url` extension, FORMAT.md 8, written when not empty).
 */
export function internResource(dict: Dictionary, attributes: Attributes, schemaUrl: string | undefined): number {
  return dict.message(`resource\0${schemaUrl ?? ''}\0${stableKey(attributes)}`, () => {
    const w = new ProtoWriter(1024);
    for (const key of Object.keys(attributes)) {
      writeKeyValue(w, F.RESOURCE_ATTRIBUTES, key, attributes[key], dict, Infinity);
    }
    if (schemaUrl) {
      w.uint32(F.RESOURCE_SCHEMA_URL);
      w.string(schemaUrl);
    }
    return w.buf.subarray(0, w.pos);
  });
}

/**
 * Reference of the InstrumentationScope entry (name, version, attributes,
 * resource, and the `schema_url` extension when not empty): scopes that
 * differ in any of these, the schema URL included, are distinct entries.
 */
export function internScope(
  dict: Dictionary,
  resourceRef: number,
  name: string,
  version: string | undefined,
  attributes: Readonly<Record<string, unknown>> | undefined,
  schemaUrl: string | undefined,
): number {
  const key = `scope\0${resourceRef}\0${name}\0${version ?? ''}\0${schemaUrl ?? ''}\0${attributes ? stableKey(attributes) : ''}`;
  return dict.message(key, () => {
    const w = new ProtoWriter(256);
    const nameRef = dict.string(name);
    const versionRef = version ? dict.string(version) : 0;
    if (nameRef !== 0) {
      w.uint32(F.INSTRUMENTATION_SCOPE_NAME_REF);
      w.int64(nameRef);
    }
    if (versionRef !== 0) {
      w.uint32(F.INSTRUMENTATION_SCOPE_VERSION_REF);
      w.int64(versionRef);
    }
    if (attributes) {
      for (const k of Object.keys(attributes)) writeKeyValue(w, F.INSTRUMENTATION_SCOPE_ATTRIBUTES, k, attributes[k], dict, Infinity);
    }
    if (resourceRef !== 0) {
      w.uint32(F.INSTRUMENTATION_SCOPE_RESOURCE_REF);
      w.int64(resourceRef);
    }
    if (schemaUrl) {
      w.uint32(F.INSTRUMENTATION_SCOPE_SCHEMA_URL);
      w.string(schemaUrl);
    }
    return w.buf.subarray(0, w.pos);
  });
}

let uniqueKeys = 0;

/**
 * A string identifying attribute content, independent of key order. Content
 * that cannot be serialised (a cycle, a throwing getter) gets a key of its
 * own: it is then simply not deduplicated.
 */
export function stableKey(value: unknown): string {
  try {
    return stableJson(value);
  } catch {
    return `unique:${++uniqueKeys}`;
  }
}

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (v instanceof Uint8Array) return `bytes:${Buffer.from(v).toString('base64')}`;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}
