//! Conversion between our [`Value`] and the crate's `JValue`, at the evaluation boundary.
//!
//! In: every number becomes a double (JSONata has no other kind); `UInt`s and `Int`s beyond
//! 2^53 lose precision exactly as they do in jsonata-js.
//! Out: integral doubles within ±2^53 become `Number::Int`, other finite doubles `Float`;
//! undefined items of arrays and fields of objects are dropped (as `JSON.stringify` drops
//! them); a function anywhere in the result is an "unsupported result type" error.

use std::sync::Arc;

use indexmap::IndexMap;
use jsonata_core::value::{JArray, JValue};

use super::JsonataError;
use crate::value::{Map, Number, Str, Value};

/// Code of the error raised when a result holds a function (AWS: "returned an unsupported
/// result type"). Not a JSONata code: the caller maps it to its own message.
pub const UNSUPPORTED_RESULT: &str = "UNSUPPORTED_RESULT_TYPE";

/// Results nested deeper than this are refused rather than risk the native stack.
const MAX_RESULT_DEPTH: usize = 5_000;

const MAX_SAFE: f64 = 9_007_199_254_740_992.0; // 2^53

pub fn to_jvalue(v: &Value) -> JValue {
    match v {
        Value::Null => JValue::Null,
        Value::Bool(b) => JValue::Bool(*b),
        Value::Number(n) => JValue::Number(n.as_f64()),
        Value::String(s) => JValue::String(std::rc::Rc::from(&**s)),
        Value::Array(items) => {
            let mut flat = true;
            let items = items
                .iter()
                .map(|item| {
                    flat &= !matches!(item, Value::Array(_));
                    to_jvalue(item)
                })
                .collect();
            JValue::Array(JArray::new_flat(items, flat))
        }
        Value::Object(map) => {
            let mut m = IndexMap::with_capacity(map.len());
            for (k, v) in map.iter() {
                m.insert(k.to_string(), to_jvalue(v));
            }
            JValue::object(m)
        }
    }
}

/// A JSONata number as our `Number`.
pub fn number(f: f64) -> Number {
    if f.fract() == 0.0 && f.abs() <= MAX_SAFE {
        // `-0.0` prints as `0` in JSONata (JavaScript) too.
        Number::Int(f as i64)
    } else {
        Number::Float(f)
    }
}

/// The crate's result as ours; `None` for undefined.
pub fn from_jvalue(v: &JValue) -> Result<Option<Value>, JsonataError> {
    out(v, 0)
}

fn out(v: &JValue, depth: usize) -> Result<Option<Value>, JsonataError> {
    if depth > MAX_RESULT_DEPTH {
        return Err(JsonataError::new("U1001", "Result nested too deeply"));
    }
    Ok(Some(match v {
        JValue::Undefined => return Ok(None),
        JValue::Null => Value::Null,
        JValue::Bool(b) => Value::Bool(*b),
        JValue::Number(f) => {
            if f.is_finite() {
                Value::Number(number(*f))
            } else {
                // JSON.stringify prints non-finite numbers as null.
                Value::Null
            }
        }
        JValue::String(s) => Value::String(Str::from(&**s)),
        JValue::Array(items) => {
            let mut vec = Vec::with_capacity(items.len());
            for item in items.iter() {
                if let Some(x) = out(item, depth + 1)? {
                    vec.push(x);
                }
            }
            Value::Array(Arc::new(vec))
        }
        JValue::Object(map) => {
            let mut m = Map::with_capacity(map.len());
            for (k, v) in map.iter() {
                if let Some(x) = out(v, depth + 1)? {
                    m.insert(Str::from(k.as_str()), x);
                }
            }
            Value::Object(Arc::new(m))
        }
        _ => {
            return Err(JsonataError::new(
                UNSUPPORTED_RESULT,
                "The expression returned a function, which is not a JSON value",
            ))
        }
    }))
}
