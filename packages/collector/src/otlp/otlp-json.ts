/**
 * Maps ts-proto OTLP objects to OTLP/JSON (the protobuf JSON mapping with the
 * OTLP exceptions): field names in lowerCamelCase, `traceId` / `spanId` /
 * `parentSpanId` as hex strings, other bytes as base64, enums as integers,
 * 64-bit integers as decimal strings, non-finite doubles as "NaN" /
 * "Infinity" / "-Infinity". Oneofs (ts-proto `{ $case, value }`) become the
 * field named by `$case`. Fields holding their default value are left out,
 * as the mapping allows.
 */

/** A JSON value as produced by {@link toOtlpJson}. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

const HEX_ID_FIELDS = new Set(['traceId', 'spanId', 'parentSpanId']);

function isDefault(value: unknown): boolean {
  return (
    value === undefined ||
    value === 0 ||
    value === 0n ||
    value === '' ||
    value === false ||
    (Array.isArray(value) && value.length === 0) ||
    (value instanceof Uint8Array && value.length === 0)
  );
}

function isOneof(value: object): value is { $case: string; value: unknown } {
  return '$case' in value && typeof (value as { $case: unknown }).$case === 'string';
}

function convert(value: unknown, field: string): JsonValue {
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'number':
      if (Number.isFinite(value)) return value;
      return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
    case 'string':
    case 'boolean':
      return value;
    case 'object': {
      if (value === null) return null;
      if (value instanceof Uint8Array) {
        return HEX_ID_FIELDS.has(field)
          ? Buffer.from(value.buffer, value.byteOffset, value.length).toString('hex')
          : Buffer.from(value.buffer, value.byteOffset, value.length).toString('base64');
      }
      if (Array.isArray(value)) return value.map((item) => convert(item, field));
      const out: { [key: string]: JsonValue } = {};
      for (const [key, v] of Object.entries(value)) {
        if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array) && !Array.isArray(v) && isOneof(v)) {
          out[v.$case] = convert(v.value, v.$case);
        } else if (!isDefault(v)) {
          out[key] = convert(v, key);
        }
      }
      return out;
    }
    default:
      throw new TypeError(`cannot map a ${typeof value} to OTLP JSON (field ${field})`);
  }
}

/**
 * Converts an OTLP message object (for example an
 * `otlpTraceService.ExportTraceServiceRequest`) to its OTLP/JSON form.
 */
export function toOtlpJson(message: object): { [key: string]: JsonValue } {
  return convert(message, '') as { [key: string]: JsonValue };
}
