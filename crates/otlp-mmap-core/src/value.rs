//! Resolution of `AnyValue`s (FORMAT.md section 5) into owned [`Value`]s.
//!
//! Keys of key-value lists are dictionary references, and `value_ref` points
//! to a dictionary entry holding another `AnyValue`, so resolving needs a
//! [`Dictionary`]. Input is untrusted (FORMAT.md 7.6): nesting is bounded by a
//! depth budget shared by arrays, key-value lists and `value_ref` hops, a
//! `value_ref` that leads back to itself is a loop, and the total number of
//! values one resolution produces is capped (references can fan out).

use prost::Message;

use crate::dictionary::Dictionary;
use crate::error::{Error, Result};
use crate::proto::{any_value, AnyValue, KeyValueRef};

/// Deepest nesting accepted (arrays, kvlists and value_ref hops together).
pub const MAX_DEPTH: usize = 32;
/// Most values one resolution may produce.
pub const MAX_VALUES: usize = 1 << 20;

/// A resolved attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Empty,
    String(String),
    Bool(bool),
    Int(i64),
    Double(f64),
    Bytes(Vec<u8>),
    Array(Vec<Value>),
    KvList(Vec<(String, Value)>),
}

struct Resolver<'d, D: Dictionary + ?Sized> {
    dict: &'d D,
    /// `value_ref`s on the path from the root to the current value.
    path: Vec<i64>,
    produced: usize,
}

/// Resolves `value` through `dict`.
pub fn resolve<D: Dictionary + ?Sized>(value: &AnyValue, dict: &D) -> Result<Value> {
    Resolver {
        dict,
        path: Vec::new(),
        produced: 0,
    }
    .value(value, 0)
}

/// Decodes `bytes` as an `AnyValue` message of FORMAT.md section 5 and
/// resolves it through `dict`. `Err(BadValue)` when the bytes do not decode.
pub fn resolve_encoded<D: Dictionary + ?Sized>(bytes: &[u8], dict: &D) -> Result<Value> {
    let value =
        AnyValue::decode(bytes).map_err(|e| Error::BadValue(format!("not an AnyValue: {e}")))?;
    resolve(&value, dict)
}

/// Resolves a list of `KeyValueRef`s (attributes) into `(key, value)` pairs.
pub fn resolve_attributes<D: Dictionary + ?Sized>(
    attributes: &[KeyValueRef],
    dict: &D,
) -> Result<Vec<(String, Value)>> {
    let mut resolver = Resolver {
        dict,
        path: Vec::new(),
        produced: 0,
    };
    resolver.key_values(attributes, 0)
}

impl<D: Dictionary + ?Sized> Resolver<'_, D> {
    fn value(&mut self, value: &AnyValue, depth: usize) -> Result<Value> {
        if depth > MAX_DEPTH {
            return Err(Error::BadValue(format!(
                "value nested deeper than {MAX_DEPTH}"
            )));
        }
        self.produced += 1;
        if self.produced > MAX_VALUES {
            return Err(Error::BadValue(format!(
                "value holds more than {MAX_VALUES} values"
            )));
        }
        use any_value::Value as V;
        Ok(match &value.value {
            None => Value::Empty,
            Some(V::StringValue(s)) => Value::String(s.clone()),
            Some(V::BoolValue(b)) => Value::Bool(*b),
            Some(V::IntValue(i)) => Value::Int(*i),
            Some(V::DoubleValue(d)) => Value::Double(*d),
            Some(V::BytesValue(b)) => Value::Bytes(b.clone()),
            Some(V::ArrayValue(array)) => {
                let mut out = Vec::with_capacity(array.values.len());
                for v in &array.values {
                    out.push(self.value(v, depth + 1)?);
                }
                Value::Array(out)
            }
            Some(V::KvlistValue(list)) => Value::KvList(self.key_values(&list.values, depth + 1)?),
            Some(V::ValueRef(reference)) => self.value_ref(*reference, depth)?,
        })
    }

    fn key_values(&mut self, list: &[KeyValueRef], depth: usize) -> Result<Vec<(String, Value)>> {
        let mut out = Vec::with_capacity(list.len());
        for kv in list {
            let key = self.dict.string(kv.key_ref)?;
            let value = match &kv.value {
                Some(v) => self.value(v, depth)?,
                None => Value::Empty,
            };
            out.push((key, value));
        }
        Ok(out)
    }

    fn value_ref(&mut self, reference: i64, depth: usize) -> Result<Value> {
        if self.path.contains(&reference) {
            return Err(Error::BadValue(format!(
                "value_ref loop through reference {reference}"
            )));
        }
        let bytes = self.dict.entry(reference)?;
        let inner = AnyValue::decode(bytes.as_slice())
            .map_err(|e| Error::bad_ref(reference, format!("entry is not an AnyValue: {e}")))?;
        self.path.push(reference);
        let result = self.value(&inner, depth + 1);
        self.path.pop();
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{ArrayValue, KeyValueList};
    use std::collections::HashMap;

    /// A dictionary held in memory: reference -> entry bytes.
    #[derive(Default)]
    struct MapDictionary {
        entries: HashMap<i64, Vec<u8>>,
    }

    impl Dictionary for MapDictionary {
        fn entry(&self, reference: i64) -> Result<Vec<u8>> {
            if reference == 0 {
                return Ok(Vec::new());
            }
            self.entries
                .get(&reference)
                .cloned()
                .ok_or_else(|| Error::bad_ref(reference, "no such entry"))
        }
    }

    fn s(v: &str) -> AnyValue {
        AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }
    }
    fn int(v: i64) -> AnyValue {
        AnyValue {
            value: Some(any_value::Value::IntValue(v)),
        }
    }
    fn vref(r: i64) -> AnyValue {
        AnyValue {
            value: Some(any_value::Value::ValueRef(r)),
        }
    }
    fn array(values: Vec<AnyValue>) -> AnyValue {
        AnyValue {
            value: Some(any_value::Value::ArrayValue(ArrayValue { values })),
        }
    }
    fn kvlist(values: Vec<(i64, AnyValue)>) -> AnyValue {
        AnyValue {
            value: Some(any_value::Value::KvlistValue(KeyValueList {
                values: values
                    .into_iter()
                    .map(|(key_ref, v)| KeyValueRef {
                        key_ref,
                        value: Some(v),
                    })
                    .collect(),
            })),
        }
    }

    #[test]
    fn resolve_encoded_decodes_then_resolves_and_rejects_what_does_not_decode() {
        let mut d = MapDictionary::default();
        d.entries.insert(8, s("inner").encode_to_vec());
        let bytes = array(vec![vref(8), int(3)]).encode_to_vec();
        assert_eq!(
            resolve_encoded(&bytes, &d).unwrap(),
            Value::Array(vec![Value::String("inner".into()), Value::Int(3)])
        );
        assert!(matches!(
            resolve_encoded(&[0x0a, 0x05, b'x'], &d),
            Err(Error::BadValue(_))
        ));
    }

    #[test]
    fn converts_scalars_and_empty() {
        let d = MapDictionary::default();
        assert_eq!(
            resolve(&AnyValue { value: None }, &d).unwrap(),
            Value::Empty
        );
        assert_eq!(resolve(&s("x"), &d).unwrap(), Value::String("x".into()));
        assert_eq!(resolve(&int(-4), &d).unwrap(), Value::Int(-4));
        let b = AnyValue {
            value: Some(any_value::Value::BoolValue(true)),
        };
        assert_eq!(resolve(&b, &d).unwrap(), Value::Bool(true));
        let f = AnyValue {
            value: Some(any_value::Value::DoubleValue(1.5)),
        };
        assert_eq!(resolve(&f, &d).unwrap(), Value::Double(1.5));
        let by = AnyValue {
            value: Some(any_value::Value::BytesValue(vec![1, 2])),
        };
        assert_eq!(resolve(&by, &d).unwrap(), Value::Bytes(vec![1, 2]));
    }

    #[test]
    fn converts_nested_arrays_and_kvlists() {
        let mut d = MapDictionary::default();
        d.entries.insert(100, b"outer".to_vec());
        d.entries.insert(200, b"inner".to_vec());
        let v = array(vec![
            int(1),
            array(vec![s("a"), array(vec![])]),
            kvlist(vec![(
                100,
                kvlist(vec![(200, array(vec![int(2), int(3)]))]),
            )]),
        ]);
        let expected = Value::Array(vec![
            Value::Int(1),
            Value::Array(vec![Value::String("a".into()), Value::Array(vec![])]),
            Value::KvList(vec![(
                "outer".into(),
                Value::KvList(vec![(
                    "inner".into(),
                    Value::Array(vec![Value::Int(2), Value::Int(3)]),
                )]),
            )]),
        ]);
        assert_eq!(resolve(&v, &d).unwrap(), expected);
    }

    #[test]
    fn follows_value_ref_through_the_dictionary() {
        let mut d = MapDictionary::default();
        d.entries.insert(10, b"k".to_vec());
        d.entries
            .insert(500, array(vec![s("shared"), vref(600)]).encode_to_vec());
        d.entries
            .insert(600, kvlist(vec![(10, int(7))]).encode_to_vec());
        let got = resolve(&array(vec![vref(500), vref(500)]), &d).unwrap();
        let one = Value::Array(vec![
            Value::String("shared".into()),
            Value::KvList(vec![("k".into(), Value::Int(7))]),
        ]);
        assert_eq!(got, Value::Array(vec![one.clone(), one]));
    }

    #[test]
    fn rejects_value_ref_loops() {
        let mut d = MapDictionary::default();
        d.entries.insert(300, vref(300).encode_to_vec());
        let err = resolve(&vref(300), &d).unwrap_err();
        assert!(
            matches!(err, Error::BadValue(ref m) if m.contains("loop")),
            "{err}"
        );

        d.entries
            .insert(400, array(vec![vref(401)]).encode_to_vec());
        d.entries
            .insert(401, kvlist(vec![(0, vref(400))]).encode_to_vec());
        let err = resolve(&vref(400), &d).unwrap_err();
        assert!(
            matches!(err, Error::BadValue(ref m) if m.contains("loop")),
            "{err}"
        );
    }

    #[test]
    fn rejects_nesting_beyond_the_depth_limit() {
        let d = MapDictionary::default();
        let mut v = int(1);
        for _ in 0..MAX_DEPTH {
            v = array(vec![v]);
        }
        assert!(
            resolve(&v, &d).is_ok(),
            "exactly MAX_DEPTH levels are accepted"
        );
        let deeper = array(vec![v]);
        assert!(matches!(resolve(&deeper, &d), Err(Error::BadValue(_))));
    }

    #[test]
    fn rejects_a_long_value_ref_chain() {
        let mut d = MapDictionary::default();
        for r in 1..=40i64 {
            d.entries.insert(r * 8, vref((r + 1) * 8).encode_to_vec());
        }
        d.entries.insert(41 * 8, int(1).encode_to_vec());
        assert!(matches!(resolve(&vref(8), &d), Err(Error::BadValue(_))));
    }

    #[test]
    fn reports_a_value_ref_to_a_non_anyvalue_entry() {
        let mut d = MapDictionary::default();
        d.entries.insert(8, vec![0xFF, 0xFF, 0xFF]);
        assert!(matches!(
            resolve(&vref(8), &d),
            Err(Error::BadReference { .. })
        ));
    }
}
