//! The engine's JSON value: shared, copy-on-write, insertion-ordered.
//!
//! Invariants:
//! - Cloning a [`Value`] never deep-copies: strings, arrays and objects sit behind `Arc`s, so a
//!   clone is one refcount increment. Path selection hands out references or such clones.
//! - Mutation goes through [`Value::as_object_mut`] / [`Value::as_array_mut`], which use
//!   `Arc::make_mut`: in place when the value is not shared, a one-level copy otherwise.
//! - Objects keep insertion order (AWS's Jackson does), and a duplicate key while parsing keeps
//!   the first position with the last value, as Jackson's `ObjectNode` does.
//! - Numbers keep integer/float identity: `1` stays `1`, `1.0` stays `1.0`. Integers beyond
//!   `u64` and all non-integers are `f64`.
//!
//! Parsing goes straight from bytes into `Value` (see [`parse`]); serialising happens once, at a
//! boundary (see [`Value::to_json`]).

mod map;
mod number;
mod parse;
mod ser;

use std::fmt;
use std::sync::Arc;

pub use map::{Key, Map};
pub use number::Number;
pub use parse::{parse, parse_str, ParseError};
pub use ser::write_string;

/// Shared immutable string: cloning bumps a refcount.
pub type Str = Arc<str>;

/// A JSON value as the engine holds it.
#[derive(Clone, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    String(Str),
    Array(Arc<Vec<Value>>),
    Object(Arc<Map>),
}

impl Value {
    /// An empty object.
    pub fn empty_object() -> Value {
        Value::Object(Arc::new(Map::default()))
    }

    /// Builds an object from key/value pairs, in order; later duplicates win.
    pub fn object<K: Into<Str>, I: IntoIterator<Item = (K, Value)>>(pairs: I) -> Value {
        let mut map = Map::default();
        for (k, v) in pairs {
            map.insert(k.into(), v);
        }
        Value::Object(Arc::new(map))
    }

    /// Builds an array.
    pub fn array(items: Vec<Value>) -> Value {
        Value::Array(Arc::new(items))
    }

    pub fn string(s: impl Into<Str>) -> Value {
        Value::String(s.into())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn as_number(&self) -> Option<Number> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        self.as_number().map(Number::as_f64)
    }
    /// The value as an `i64` when it is an integral number in range (a float like `2.0` is not).
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(Number::as_i64)
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }
    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }
    /// Mutable access to an object, copying one level if it is shared.
    pub fn as_object_mut(&mut self) -> Option<&mut Map> {
        match self {
            Value::Object(o) => Some(Arc::make_mut(o)),
            _ => None,
        }
    }
    /// Mutable access to an array, copying one level if it is shared.
    pub fn as_array_mut(&mut self) -> Option<&mut Vec<Value>> {
        match self {
            Value::Array(a) => Some(Arc::make_mut(a)),
            _ => None,
        }
    }

    /// Object member lookup; `None` for missing keys and non-objects.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object().and_then(|m| m.get(key))
    }

    /// Array element lookup; `None` when out of range or not an array.
    pub fn index(&self, i: usize) -> Option<&Value> {
        self.as_array().and_then(|a| a.get(i))
    }

    /// The JSON type name as AWS's messages spell it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }

    /// Compact JSON text (no spaces), as AWS prints values in causes and outputs.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(64);
        ser::write_compact(self, &mut out);
        out
    }

    /// Appends the compact JSON text ([`Value::to_json`]'s) to `out`.
    pub fn write_json(&self, out: &mut String) {
        ser::write_compact(self, out);
    }

    /// Pretty JSON text with two-space indentation.
    pub fn to_json_pretty(&self) -> String {
        let mut out = String::with_capacity(128);
        ser::write_pretty(self, &mut out, 0);
        out
    }

    /// Length in bytes of the compact UTF-8 serialisation, without allocating it.
    pub fn json_len(&self) -> usize {
        ser::compact_len(self)
    }

    /// Whether the compact serialisation exceeds `limit` bytes; exact, but formats numbers and
    /// scans strings only when a cheap upper bound is over the limit.
    pub fn json_len_exceeds(&self, limit: usize) -> bool {
        self.json_len_bound_within(limit).is_none()
    }

    /// An upper bound of the compact serialisation's length when that length is at most
    /// `limit`, `None` when it exceeds it. Like [`Value::json_len_exceeds`], measures exactly
    /// only when the cheap bound is over the limit.
    pub fn json_len_bound_within(&self, limit: usize) -> Option<usize> {
        let bound = ser::compact_len_upper_bound(self);
        if bound <= limit {
            return Some(bound);
        }
        let exact = ser::compact_len(self);
        (exact <= limit).then_some(exact)
    }

    /// Converts from a `serde_json` value (definitions are read with serde_json).
    pub fn from_serde(v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(Number::from_serde(n)),
            serde_json::Value::String(s) => Value::String(Str::from(s.as_str())),
            serde_json::Value::Array(a) => Value::array(a.iter().map(Value::from_serde).collect()),
            serde_json::Value::Object(o) => {
                let mut map = Map::with_capacity(o.len());
                for (k, v) in o {
                    map.insert(Str::from(k.as_str()), Value::from_serde(v));
                }
                Value::Object(Arc::new(map))
            }
        }
    }

    /// Converts to a `serde_json` value (for API envelopes and tests).
    pub fn to_serde(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => n.to_serde(),
            Value::String(s) => serde_json::Value::String(s.to_string()),
            Value::Array(a) => serde_json::Value::Array(a.iter().map(Value::to_serde).collect()),
            Value::Object(o) => serde_json::Value::Object(
                o.iter().map(|(k, v)| (k.to_string(), v.to_serde())).collect(),
            ),
        }
    }
}

/// Structural equality; numbers compare by numeric value (`1 == 1.0`), objects ignore order.
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Array(a), Value::Array(b)) => Arc::ptr_eq(a, b) || a == b,
            (Value::Object(a), Value::Object(b)) => {
                Arc::ptr_eq(a, b)
                    || (a.len() == b.len()
                        && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| v == w)))
            }
            _ => false,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(Str::from(s))
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(Str::from(s))
    }
}
impl From<Str> for Value {
    fn from(s: Str) -> Value {
        Value::String(s)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Number(Number::Int(n))
    }
}
impl From<f64> for Value {
    fn from(n: f64) -> Value {
        Value::Number(Number::from_f64(n))
    }
}
impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Value {
        Value::array(v)
    }
}
impl From<Map> for Value {
    fn from(m: Map) -> Value {
        Value::Object(Arc::new(m))
    }
}

impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Number(Number::Int(n)) => s.serialize_i64(*n),
            Value::Number(Number::UInt(n)) => s.serialize_u64(*n),
            Value::Number(Number::Float(n)) => s.serialize_f64(*n),
            Value::String(v) => s.serialize_str(v),
            Value::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a.iter() {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Value::Object(o) => {
                let mut map = s.serialize_map(Some(o.len()))?;
                for (k, v) in o.iter() {
                    map.serialize_entry(&**k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> serde::Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(parse::ValueVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_shares_storage() {
        let v = parse_str(r#"{"a":[1,2,3],"b":{"c":"d"}}"#).unwrap();
        let w = v.clone();
        match (&v, &w) {
            (Value::Object(a), Value::Object(b)) => assert!(Arc::ptr_eq(a, b)),
            _ => panic!("not objects"),
        }
    }

    #[test]
    fn copy_on_write_leaves_original() {
        let v = parse_str(r#"{"a":1}"#).unwrap();
        let mut w = v.clone();
        w.as_object_mut().unwrap().insert("b".into(), Value::from(2i64));
        assert_eq!(v.to_json(), r#"{"a":1}"#);
        assert_eq!(w.to_json(), r#"{"a":1,"b":2}"#);
    }

    #[test]
    fn keeps_insertion_order_and_number_identity() {
        let text = r#"{"z":1,"a":1.0,"m":-3,"big":18446744073709551615,"f":1.5e300}"#;
        let v = parse_str(text).unwrap();
        assert_eq!(v.to_json(), r#"{"z":1,"a":1.0,"m":-3,"big":18446744073709551615,"f":1.5E300}"#);
    }

    #[test]
    fn equality_is_numeric_and_order_free() {
        assert_eq!(parse_str(r#"{"a":1,"b":2}"#).unwrap(), parse_str(r#"{"b":2,"a":1.0}"#).unwrap());
        assert_ne!(parse_str("[1,2]").unwrap(), parse_str("[2,1]").unwrap());
    }

    #[test]
    fn json_len_matches_serialisation() {
        let v = parse_str(r#"{"a":"é\n\"x","b":[1,2.5,null,true],"c":{}}"#).unwrap();
        assert_eq!(v.json_len(), v.to_json().len());
        assert!(!v.json_len_exceeds(v.json_len()));
        assert!(v.json_len_exceeds(v.json_len() - 1));
    }
}
