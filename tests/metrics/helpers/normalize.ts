/**
 * Normalises exported OTLP metrics (ours, or sdk-metrics' converted to OTLP)
 * into one plain, order-independent shape so two exports can be compared
 * point for point: metrics sorted by scope and name, points by attributes,
 * int and double attribute values both as numbers, exponential histogram
 * buckets trimmed of zero counts at their ends, timestamps left out unless
 * asked for. Reusable for the SDK → file → collector differential tests.
 */
import { otlpMetrics, otlpMetricsService, type otlpCommon } from '@otlp-mmap/protocol';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import type { ResourceMetrics as SdkResourceMetrics } from '@opentelemetry/sdk-metrics';

export interface NormalBuckets {
  offset: number;
  counts: number[];
}

export interface NormalPoint {
  /** Canonical JSON of the attributes, sorted by key. */
  attributes: string;
  startTimeUnixNano?: bigint;
  timeUnixNano?: bigint;
  /** Sum or gauge value. */
  value?: number;
  valueType?: 'int' | 'double';
  count?: number;
  sum?: number;
  min?: number;
  max?: number;
  bounds?: number[];
  bucketCounts?: number[];
  scale?: number;
  zeroCount?: number;
  positive?: NormalBuckets;
  negative?: NormalBuckets;
}

export interface NormalMetric {
  /** `scope name@version/metric name`. */
  id: string;
  unit: string;
  description: string;
  kind: 'sum' | 'gauge' | 'histogram' | 'exponentialHistogram' | 'summary' | 'none';
  temporality?: 'delta' | 'cumulative' | 'unspecified';
  monotonic?: boolean;
  points: NormalPoint[];
}

export interface NormalizeOptions {
  /** Keep start and end times of points (default false). */
  keepTimes?: boolean;
}

/** Converts sdk-metrics' collected ResourceMetrics to OTLP, through the official protobuf serializer. */
export function sdkToOtlp(resourceMetrics: SdkResourceMetrics): otlpMetrics.ResourceMetrics[] {
  const bytes = ProtobufMetricsSerializer.serializeRequest(resourceMetrics);
  if (bytes === undefined) throw new Error('sdk-metrics serializer produced nothing');
  return otlpMetricsService.ExportMetricsServiceRequest.decode(bytes).resourceMetrics;
}

/** Round-trips OTLP metrics through protobuf encoding (checks they encode, and gives wire defaults). */
export function roundTrip(resourceMetrics: otlpMetrics.ResourceMetrics[]): otlpMetrics.ResourceMetrics[] {
  const bytes = otlpMetricsService.ExportMetricsServiceRequest.encode({ resourceMetrics }).finish();
  return otlpMetricsService.ExportMetricsServiceRequest.decode(bytes).resourceMetrics;
}

export function normalize(resourceMetrics: otlpMetrics.ResourceMetrics[], options: NormalizeOptions = {}): NormalMetric[] {
  const out: NormalMetric[] = [];
  for (const rm of resourceMetrics) {
    for (const sm of rm.scopeMetrics) {
      const scopeId = `${sm.scope?.name ?? ''}@${sm.scope?.version ?? ''}`;
      for (const metric of sm.metrics) out.push(normalizeMetric(scopeId, metric, options));
    }
  }
  return out.sort((a, b) => compareStrings(a.id, b.id));
}

function normalizeMetric(scopeId: string, metric: otlpMetrics.Metric, options: NormalizeOptions): NormalMetric {
  const base = { id: `${scopeId}/${metric.name}`, unit: metric.unit, description: metric.description };
  const times = (p: { startTimeUnixNano: bigint; timeUnixNano: bigint }) =>
    options.keepTimes ? { startTimeUnixNano: p.startTimeUnixNano, timeUnixNano: p.timeUnixNano } : {};
  const data = metric.data;
  let result: NormalMetric;
  switch (data?.$case) {
    case 'sum':
      result = {
        ...base,
        kind: 'sum',
        temporality: temporalityName(data.value.aggregationTemporality),
        monotonic: data.value.isMonotonic,
        points: data.value.dataPoints.map((p) => ({ attributes: attributesKey(p.attributes), ...times(p), ...numberValue(p) })),
      };
      break;
    case 'gauge':
      result = {
        ...base,
        kind: 'gauge',
        points: data.value.dataPoints.map((p) => ({ attributes: attributesKey(p.attributes), ...times(p), ...numberValue(p) })),
      };
      break;
    case 'histogram':
      result = {
        ...base,
        kind: 'histogram',
        temporality: temporalityName(data.value.aggregationTemporality),
        points: data.value.dataPoints.map((p) => ({
          attributes: attributesKey(p.attributes),
          ...times(p),
          count: Number(p.count),
          sum: p.sum,
          min: p.min,
          max: p.max,
          bounds: [...p.explicitBounds],
          bucketCounts: p.bucketCounts.map(Number),
        })),
      };
      break;
    case 'exponentialHistogram':
      result = {
        ...base,
        kind: 'exponentialHistogram',
        temporality: temporalityName(data.value.aggregationTemporality),
        points: data.value.dataPoints.map((p) => ({
          attributes: attributesKey(p.attributes),
          ...times(p),
          count: Number(p.count),
          sum: p.sum,
          min: p.min,
          max: p.max,
          scale: p.scale,
          zeroCount: Number(p.zeroCount),
          positive: trimBuckets(p.positive),
          negative: trimBuckets(p.negative),
        })),
      };
      break;
    default:
      result = { ...base, kind: data?.$case ?? 'none', points: [] };
  }
  result.points.sort((a, b) => compareStrings(a.attributes, b.attributes));
  return result;
}

function numberValue(p: otlpMetrics.NumberDataPoint): Pick<NormalPoint, 'value' | 'valueType'> {
  const v = p.value;
  if (v === undefined) return {};
  return v.$case === 'asInt' ? { value: Number(v.value), valueType: 'int' } : { value: v.value, valueType: 'double' };
}

function trimBuckets(buckets: otlpMetrics.ExponentialHistogramDataPoint_Buckets | undefined): NormalBuckets {
  const counts = (buckets?.bucketCounts ?? []).map(Number);
  let first = 0;
  while (first < counts.length && counts[first] === 0) first++;
  let last = counts.length - 1;
  while (last >= first && counts[last] === 0) last--;
  if (first > last) return { offset: 0, counts: [] };
  return { offset: (buckets?.offset ?? 0) + first, counts: counts.slice(first, last + 1) };
}

function temporalityName(t: otlpMetrics.AggregationTemporality): NormalMetric['temporality'] {
  if (t === otlpMetrics.AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA) return 'delta';
  if (t === otlpMetrics.AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE) return 'cumulative';
  return 'unspecified';
}

/** Canonical JSON of an attribute list: sorted by key; ints and doubles both as numbers. */
export function attributesKey(attributes: otlpCommon.KeyValue[]): string {
  const entries = attributes.map((kv) => [kv.key, plainValue(kv.value)] as const).sort((a, b) => compareStrings(a[0], b[0]));
  return JSON.stringify(entries);
}

function plainValue(value: otlpCommon.AnyValue | undefined): unknown {
  const v = value?.value;
  if (v === undefined) return null;
  switch (v.$case) {
    case 'intValue':
      return Number(v.value);
    case 'bytesValue':
      return Buffer.from(v.value).toString('hex');
    case 'arrayValue':
      return v.value.values.map(plainValue);
    case 'kvlistValue':
      return v.value.values.map((kv) => [kv.key, plainValue(kv.value)]);
    default:
      return v.value;
  }
}

export interface CompareOptions {
  /** Relative tolerance for floating sums (default 1e-9). */
  relativeTolerance?: number;
  /** Absolute tolerance for floating sums, for sums that cancel out (default 0). */
  absoluteTolerance?: number;
}

/**
 * Differences between two normalised exports, as readable paths
 * (empty when equal). Floating `sum` and double `value` fields compare
 * within a relative tolerance; everything else exactly.
 */
export function differences(actual: NormalMetric[], expected: NormalMetric[], options: CompareOptions = {}): string[] {
  const tolerance = options.relativeTolerance ?? 1e-9;
  const absolute = options.absoluteTolerance ?? 0;
  const diffs: string[] = [];
  const walk = (path: string, a: unknown, e: unknown, loose: boolean): void => {
    if (typeof a === 'number' && typeof e === 'number') {
      if (Object.is(a, e) || a === e) return;
      if (loose && Number.isFinite(a) && Number.isFinite(e)) {
        const error = Math.abs(a - e);
        if (error <= absolute || error <= tolerance * Math.max(Math.abs(a), Math.abs(e))) return;
      }
      diffs.push(`${path}: ${a} !== ${e}`);
      return;
    }
    if (Array.isArray(a) && Array.isArray(e)) {
      if (a.length !== e.length) diffs.push(`${path}: length ${a.length} !== ${e.length}`);
      for (let i = 0; i < Math.min(a.length, e.length); i++) walk(`${path}[${i}]`, a[i], e[i], loose);
      return;
    }
    if (a !== null && e !== null && typeof a === 'object' && typeof e === 'object') {
      const keys = new Set([...Object.keys(a), ...Object.keys(e)]);
      for (const key of keys) {
        const av = (a as Record<string, unknown>)[key];
        const ev = (e as Record<string, unknown>)[key];
        if (av === undefined && ev === undefined) continue;
        walk(`${path}.${key}`, av, ev, key === 'sum' || (key === 'value' && (a as NormalPoint).valueType === 'double'));
      }
      return;
    }
    if (a !== e) diffs.push(`${path}: ${String(a)} !== ${String(e)}`);
  };
  const byId = (list: NormalMetric[]) => new Map(list.map((m) => [m.id, m]));
  const a = byId(actual);
  const e = byId(expected);
  for (const id of new Set([...a.keys(), ...e.keys()])) {
    const am = a.get(id);
    const em = e.get(id);
    if (am === undefined || em === undefined) {
      diffs.push(`${id}: ${am === undefined ? 'missing' : 'unexpected'}`);
      continue;
    }
    const { points: ap, ...aRest } = am;
    const { points: ep, ...eRest } = em;
    walk(id, aRest, eRest, false);
    const pa = new Map(ap.map((p) => [p.attributes, p]));
    const pe = new Map(ep.map((p) => [p.attributes, p]));
    for (const key of new Set([...pa.keys(), ...pe.keys()])) {
      const x = pa.get(key);
      const y = pe.get(key);
      if (x === undefined || y === undefined) diffs.push(`${id}{${key}}: point ${x === undefined ? 'missing' : 'unexpected'}`);
      else walk(`${id}{${key}}`, x, y, false);
    }
  }
  return diffs;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
