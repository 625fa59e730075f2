//! How AWS's Java runtime prints values where it uses `toString()` rather than JSON: inside
//! Jayway messages and in `States.Format` arguments.
//!
//! AWS evaluates paths with Jackson-backed plain Java objects: objects are `LinkedHashMap`
//! (`{a=1, b=[x, y]}`), arrays `ArrayList` (`[1, 2]`), strings print raw, numbers as
//! `Integer`/`Long`/`BigInteger`/`Double`. The recorded case
//! `test_format_2__exec_hist_resp_7` shows `{Arg1=1, Arg2=[]}` for an object in Format, and
//! `test_context_json_path` shows the same for `$$.StateMachine`.

use crate::value::{Number, Value};

/// The Java class Jackson would give this value (used in Jayway's "found '…'" messages).
pub(crate) fn java_class_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "java.lang.Boolean",
        Value::Number(Number::Int(i)) => {
            if i32::try_from(*i).is_ok() {
                "java.lang.Integer"
            } else {
                "java.lang.Long"
            }
        }
        Value::Number(Number::UInt(_)) => "java.math.BigInteger",
        Value::Number(Number::Float(_)) => "java.lang.Double",
        Value::String(_) => "java.lang.String",
        Value::Array(_) => "java.util.ArrayList",
        Value::Object(_) => "java.util.LinkedHashMap",
    }
}

/// Java `String.valueOf` of the Jackson-mapped value.
pub fn java_to_string(value: &Value) -> String {
    let mut out = String::new();
    write_java(value, &mut out);
    out
}

fn write_java(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => n.write(out),
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_java(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                write_java(v, out);
            }
            out.push('}');
        }
    }
}
