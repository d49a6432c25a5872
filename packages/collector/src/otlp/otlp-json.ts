/**
 * Maps ts-proto OTLP objects to OTLP/JSON (the protobuf JSON mapping with the
 * OTLP exceptions): field names in lowerCamelCase, `traceId` / `spanId` /
 * `parentSpanId` as hex strings, other bytes as base64, enums as integers,
 * 64-bit integers as decimal strings, non-finite doubles as "NaN" /
 * "Infinity" / "-Infinity". Oneofs (ts-proto `{ $case, value }`) become the
 * field named by `$case`. Fields holding their default value are left out,
 * as the mapping allows, except fields with explicit presence (proto3
 * `optional`: the `sum`, `min` and `max` of histogram points), which are
 * written whenever they are set, 0 included. A double -0 is not the default
 * (as in the binary encoding) and is written as `-0`.
 */

/** A JSON value as produced by {@link toOtlpJson}. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

const HEX_ID_FIELDS = new Set(['traceId', 'spanId', 'parentSpanId']);

/**
 * The OTLP fields with explicit presence (proto3 `optional double`):
 * HistogramDataPoint and ExponentialHistogramDataPoint `sum`, `min`, `max`.
 * ts-proto leaves them `undefined` when unset; when set they are written,
 * even as 0 ("If the field is set, its value is serialized", in the
 * protobuf JSON mapping's words for fields with presence).
 */
const PRESENCE_FIELDS = new Set(['sum', 'min', 'max']);

/** Whether conversion met a -0, which JSON.stringify would print as 0. */
interface Conversion {
  negativeZero: boolean;
}

function isDefault(value: unknown): boolean {
  return (
    value === undefined ||
    (value === 0 && !Object.is(value, -0)) ||
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

function convert(value: unknown, field: string, conversion: Conversion): JsonValue {
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'number':
      if (Object.is(value, -0)) conversion.negativeZero = true;
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
      if (Array.isArray(value)) return value.map((item) => convert(item, field, conversion));
      const out: { [key: string]: JsonValue } = {};
      for (const [key, v] of Object.entries(value)) {
        if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array) && !Array.isArray(v) && isOneof(v)) {
          out[v.$case] = convert(v.value, v.$case, conversion);
        } else if (!isDefault(v) || (typeof v === 'number' && PRESENCE_FIELDS.has(key))) {
          out[key] = convert(v, key, conversion);
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
 * `otlpTraceService.ExportTraceServiceRequest`) to its OTLP/JSON form. A
 * double -0 stays -0 in the result; {@link encodeOtlpJson} writes it so.
 */
export function toOtlpJson(message: object): { [key: string]: JsonValue } {
  return convert(message, '', { negativeZero: false }) as { [key: string]: JsonValue };
}

/** The OTLP/JSON text of an OTLP message object: `JSON.stringify` of {@link toOtlpJson}, with -0 written as `-0`. */
export function encodeOtlpJson(message: object): string {
  const conversion: Conversion = { negativeZero: false };
  const json = convert(message, '', conversion);
  return conversion.negativeZero ? stringify(json) : JSON.stringify(json);
}

/** JSON.stringify for {@link JsonValue}s, except that -0 is written `-0` (JSON.stringify writes `0`). */
function stringify(value: JsonValue): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : JSON.stringify(value);
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stringify).join(',')}]`;
  return `{${Object.entries(value)
    .map(([k, v]) => `${JSON.stringify(k)}:${stringify(v)}`)
    .join(',')}}`;
}
