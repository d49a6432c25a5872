//! A resolved [`Value`] encoded as an OTLP `opentelemetry.proto.common.v1.AnyValue`
//! message, for `Reader.resolveValue` (used by tests to compare the core's
//! resolution of values with the collector's). Not on any hot path: each
//! nested message is encoded into its own buffer, then copied with its
//! length.

use otlp_mmap_core::varint;
use otlp_mmap_core::Value;

/// Wire types of the protobuf encoding.
const VARINT: u64 = 0;
const FIXED64: u64 = 1;
const LEN: u64 = 2;

/// OTLP AnyValue field numbers (`opentelemetry/proto/common/v1/common.proto`).
const STRING_VALUE: u64 = 1;
const BOOL_VALUE: u64 = 2;
const INT_VALUE: u64 = 3;
const DOUBLE_VALUE: u64 = 4;
const ARRAY_VALUE: u64 = 5;
const KVLIST_VALUE: u64 = 6;
const BYTES_VALUE: u64 = 7;
/// `values` of ArrayValue and KeyValueList; `key` and `value` of KeyValue.
const VALUES: u64 = 1;
const KEY: u64 = 1;
const VALUE: u64 = 2;

fn tag(field: u64, wire_type: u64, out: &mut Vec<u8>) {
    varint::push(field << 3 | wire_type, out);
}

fn bytes_field(field: u64, bytes: &[u8], out: &mut Vec<u8>) {
    tag(field, LEN, out);
    varint::push(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

/// The AnyValue message of `value` (without a length prefix). The oneof
/// field is written whenever set, even with its default (`""`, `false`, 0);
/// `Empty` is the message without fields.
pub fn encode(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Empty => {}
        Value::String(s) => bytes_field(STRING_VALUE, s.as_bytes(), out),
        Value::Bool(b) => {
            tag(BOOL_VALUE, VARINT, out);
            varint::push(u64::from(*b), out);
        }
        Value::Int(i) => {
            tag(INT_VALUE, VARINT, out);
            varint::push(*i as u64, out);
        }
        Value::Double(d) => {
            tag(DOUBLE_VALUE, FIXED64, out);
            out.extend_from_slice(&d.to_le_bytes());
        }
        Value::Bytes(b) => bytes_field(BYTES_VALUE, b, out),
        Value::Array(values) => {
            let mut array = Vec::new();
            for v in values {
                let mut item = Vec::new();
                encode(v, &mut item);
                bytes_field(VALUES, &item, &mut array);
            }
            bytes_field(ARRAY_VALUE, &array, out);
        }
        Value::KvList(entries) => {
            let mut list = Vec::new();
            for (key, v) in entries {
                let mut kv = Vec::new();
                bytes_field(KEY, key.as_bytes(), &mut kv);
                let mut item = Vec::new();
                encode(v, &mut item);
                bytes_field(VALUE, &item, &mut kv);
                bytes_field(VALUES, &kv, &mut list);
            }
            bytes_field(KVLIST_VALUE, &list, out);
        }
    }
}
