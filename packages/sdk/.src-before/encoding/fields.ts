/**
 * Field tags of the OTLP-MMAP messages (FORMAT.md section 5), precomputed as
 * `(field << 3) | wire type`. Tags of fields numbered 16 and above take two
 * varint bytes; {@link ProtoWriter.tag}/`uint32` handle that.
 *
 * @internal
 */
import { WIRE_FIXED32, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from './proto-writer.js';

const t = (field: number, wire: number): number => (field << 3) | wire;

/** SpanEvent */
export const SPAN_EVENT_SCOPE_REF = t(20, WIRE_VARINT);
export const SPAN_EVENT_TRACE_ID = t(1, WIRE_LEN);
export const SPAN_EVENT_SPAN_ID = t(2, WIRE_LEN);
export const SPAN_EVENT_START = t(11, WIRE_LEN);
export const SPAN_EVENT_END = t(12, WIRE_LEN);
export const SPAN_EVENT_NAME = t(13, WIRE_LEN);
export const SPAN_EVENT_ATTRIBUTES = t(14, WIRE_LEN);
export const SPAN_EVENT_LINK = t(15, WIRE_LEN);

/** StartSpan */
export const START_PARENT_SPAN_ID = t(4, WIRE_LEN);
export const START_FLAGS = t(16, WIRE_FIXED32);
export const START_NAME = t(5, WIRE_LEN);
export const START_KIND = t(6, WIRE_VARINT);
export const START_TIME = t(7, WIRE_FIXED64);
export const START_ATTRIBUTES = t(9, WIRE_LEN);

/** EndSpan */
export const END_TIME = t(8, WIRE_FIXED64);
export const END_STATUS = t(15, WIRE_LEN);

/** Status */
export const STATUS_MESSAGE = t(2, WIRE_LEN);
export const STATUS_CODE = t(3, WIRE_VARINT);

/** ChangeSpanName */
export const CHANGE_NAME_NAME = t(5, WIRE_LEN);

/** UpdateAttributes */
export const UPDATE_ATTRIBUTES = t(9, WIRE_LEN);

/** AddLink / Link */
export const ADD_LINK_LINKS = t(13, WIRE_LEN);
export const LINK_TRACE_ID = t(1, WIRE_LEN);
export const LINK_SPAN_ID = t(2, WIRE_LEN);
export const LINK_TRACE_STATE = t(3, WIRE_LEN);
export const LINK_ATTRIBUTES = t(4, WIRE_LEN);
export const LINK_DROPPED_ATTRIBUTES = t(5, WIRE_VARINT);
export const LINK_FLAGS = t(6, WIRE_FIXED32);

/** Event */
export const EVENT_SCOPE_REF = t(1, WIRE_VARINT);
export const EVENT_TIME = t(2, WIRE_FIXED64);
export const EVENT_SEVERITY_NUMBER = t(3, WIRE_VARINT);
export const EVENT_SEVERITY_TEXT = t(4, WIRE_LEN);
export const EVENT_BODY = t(5, WIRE_LEN);
export const EVENT_NAME_REF = t(6, WIRE_VARINT);
export const EVENT_SPAN_CONTEXT = t(7, WIRE_LEN);
export const EVENT_ATTRIBUTES = t(8, WIRE_LEN);

/** Measurement */
export const MEASUREMENT_METRIC_REF = t(1, WIRE_VARINT);
export const MEASUREMENT_ATTRIBUTES = t(2, WIRE_LEN);
export const MEASUREMENT_TIME = t(3, WIRE_FIXED64);
export const MEASUREMENT_AS_LONG = t(4, WIRE_VARINT);
export const MEASUREMENT_AS_DOUBLE = t(5, WIRE_FIXED64);
export const MEASUREMENT_SPAN_CONTEXT = t(6, WIRE_LEN);

/** SpanContext (span_id and trace_id numbers are the reverse of SpanEvent's) */
export const SPAN_CONTEXT_SPAN_ID = t(1, WIRE_LEN);
export const SPAN_CONTEXT_TRACE_ID = t(2, WIRE_LEN);
export const SPAN_CONTEXT_FLAGS = t(3, WIRE_FIXED32);

/** Resource */
export const RESOURCE_ATTRIBUTES = t(1, WIRE_LEN);
export const RESOURCE_DROPPED = t(2, WIRE_VARINT);

/** InstrumentationScope */
export const SCOPE_NAME_REF = t(1, WIRE_VARINT);
export const SCOPE_VERSION_REF = t(2, WIRE_VARINT);
export const SCOPE_ATTRIBUTES = t(3, WIRE_LEN);
export const SCOPE_RESOURCE_REF = t(5, WIRE_VARINT);

/** MetricRef */
export const METRIC_NAME = t(1, WIRE_LEN);
export const METRIC_DESCRIPTION = t(2, WIRE_LEN);
export const METRIC_UNIT = t(3, WIRE_LEN);
export const METRIC_SCOPE_REF = t(4, WIRE_VARINT);
export const METRIC_GAUGE = t(5, WIRE_LEN);
export const METRIC_SUM = t(6, WIRE_LEN);
export const METRIC_HISTOGRAM = t(7, WIRE_LEN);
export const METRIC_EXP_HIST = t(8, WIRE_LEN);
export const SUM_TEMPORALITY = t(2, WIRE_VARINT);
export const SUM_MONOTONIC = t(3, WIRE_VARINT);
export const HISTOGRAM_TEMPORALITY = t(1, WIRE_VARINT);
export const HISTOGRAM_BOUNDARIES = t(2, WIRE_LEN);
export const EXP_HIST_TEMPORALITY = t(1, WIRE_VARINT);
export const EXP_HIST_MAX_BUCKETS = t(2, WIRE_VARINT);
export const EXP_HIST_MAX_SCALE = t(3, WIRE_VARINT);

/** KeyValueRef */
export const KV_KEY_REF = t(1, WIRE_VARINT);
export const KV_VALUE = t(2, WIRE_LEN);

/** AnyValue */
export const ANY_STRING = t(1, WIRE_LEN);
export const ANY_BOOL = t(2, WIRE_VARINT);
export const ANY_INT = t(3, WIRE_VARINT);
export const ANY_DOUBLE = t(4, WIRE_FIXED64);
export const ANY_ARRAY = t(5, WIRE_LEN);
export const ANY_KVLIST = t(6, WIRE_LEN);
export const ANY_BYTES = t(7, WIRE_LEN);

/** ArrayValue / KeyValueList */
export const ARRAY_VALUES = t(1, WIRE_LEN);
export const KVLIST_VALUES = t(1, WIRE_LEN);
