//! Bytes → [`Value`], in one pass through serde_json's tokenizer with no intermediate DOM.

use std::fmt;
use std::sync::Arc;

use serde::de::{self, MapAccess, SeqAccess, Visitor};

use super::{Map, Number, Str, Value};

/// A JSON text that could not be parsed; the message names line and column.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub message: String,
    pub line: usize,
    pub column: usize,
}

/// Parses one JSON document (surrounding whitespace allowed, nothing else).
pub fn parse(bytes: &[u8]) -> Result<Value, ParseError> {
    parse_from(serde_json::Deserializer::from_slice(bytes))
}

/// Parses one JSON document from text. Text is known to be UTF-8, so its strings are not
/// validated again as [`parse`]'s are.
pub fn parse_str(text: &str) -> Result<Value, ParseError> {
    parse_from(serde_json::Deserializer::from_str(text))
}

fn parse_from<'de, R: serde_json::de::Read<'de>>(mut de: serde_json::Deserializer<R>) -> Result<Value, ParseError> {
    let value = de::Deserialize::deserialize(&mut de).map_err(to_parse_error)?;
    de.end().map_err(to_parse_error)?;
    Ok(value)
}

fn to_parse_error(e: serde_json::Error) -> ParseError {
    ParseError { message: e.to_string(), line: e.line(), column: e.column() }
}

pub(super) struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(Number::Int(n)))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(match i64::try_from(n) {
            Ok(i) => Number::Int(i),
            Err(_) => Number::UInt(n),
        }))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Value::Number(Number::Float(n)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(Str::from(s)))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(Str::from(s)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(4));
        while let Some(v) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(Arc::new(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::with_capacity(access.size_hint().unwrap_or(8));
        while let Some(key) = access.next_key::<KeyStr>()? {
            let value: Value = access.next_value()?;
            map.insert(key.0, value);
        }
        Ok(Value::Object(Arc::new(map)))
    }
}

/// An object key, read without an intermediate `String` when the input has no escapes.
struct KeyStr(Str);

impl<'de> de::Deserialize<'de> for KeyStr {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<KeyStr, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = KeyStr;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E>(self, s: &str) -> Result<KeyStr, E> {
                Ok(KeyStr(Str::from(s)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_trailing_garbage_and_reports_position() {
        let e = parse_str("{\"a\":1} x").unwrap_err();
        assert_eq!(e.line, 1);
        assert!(parse_str("").is_err());
        assert!(parse_str("[1,]").is_err());
    }

    #[test]
    fn duplicate_keys_keep_first_position_last_value() {
        let v = parse_str(r#"{"a":1,"b":2,"a":3}"#).unwrap();
        assert_eq!(v.to_json(), r#"{"a":3,"b":2}"#);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "[".repeat(100_000);
        assert!(parse_str(&deep).is_err());
    }
}
