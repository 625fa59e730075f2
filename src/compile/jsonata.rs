//! JSONata-mode fields: values in which strings written `{% … %}` are JSONata expressions, at
//! any depth of objects and arrays. Expressions are parsed here, once.

use std::sync::Arc;

use serde_json::Value as Json;

use super::{err, CompileError};
use crate::jsonata::Expression;
use crate::program::JTemplate;
use crate::value::{Str, Value};

/// The expression inside a `{% … %}` string, if `s` is one.
pub fn expression_text(s: &str) -> Option<&str> {
    s.strip_prefix("{%").and_then(|r| r.strip_suffix("%}")).map(str::trim)
}

/// Compiles a JSONata-mode value found at `field` (e.g. `Output`, `Arguments/FunctionName`).
pub fn compile_jtemplate(v: &Json, field: &str, loc: &str) -> Result<JTemplate, CompileError> {
    match v {
        Json::String(s) => match expression_text(s) {
            Some(text) => {
                let expr = Expression::parse(text)
                    .or_else(|e| err(loc, format!("The JSONata expression '{text}' specified for the field '{field}' is invalid: {e}")))?;
                Ok(JTemplate::Expr { expr: Arc::new(expr), source: Str::from(text), field: Str::from(field) })
            }
            None => Ok(JTemplate::Const(Value::from(s.as_str()))),
        },
        Json::Object(obj) => {
            let mut fields = Vec::with_capacity(obj.len());
            for (k, v) in obj {
                fields.push((Str::from(k.as_str()), compile_jtemplate(v, &format!("{field}/{k}"), &format!("{loc}/{k}"))?));
            }
            let constant: Option<Vec<(Str, Value)>> =
                fields.iter().map(|(k, f)| const_of(f).map(|v| (k.clone(), v))).collect();
            Ok(match constant {
                Some(pairs) => JTemplate::Const(Value::object(pairs)),
                None => JTemplate::Object(fields),
            })
        }
        Json::Array(items) => {
            let compiled = items
                .iter()
                .enumerate()
                .map(|(i, v)| compile_jtemplate(v, &format!("{field}/{i}"), &format!("{loc}/{i}")))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(match compiled.iter().map(const_of).collect::<Option<Vec<_>>>() {
                Some(values) => JTemplate::Const(Value::array(values)),
                None => JTemplate::Array(compiled),
            })
        }
        other => Ok(JTemplate::Const(Value::from_serde(other))),
    }
}

fn const_of(t: &JTemplate) -> Option<Value> {
    match t {
        JTemplate::Const(v) => Some(v.clone()),
        _ => None,
    }
}

/// Whether `v` is a JSONata expression string.
pub fn is_expression(v: &Json) -> bool {
    v.as_str().is_some_and(|s| expression_text(s).is_some())
}
