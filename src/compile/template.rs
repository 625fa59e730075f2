//! Payload templates (`Parameters`, `ResultSelector`, `ItemSelector`, `BatchInput`): keys ending
//! in `.$` hold a path (`$…`, `$$…`, `$var…`) or an intrinsic call; everything else is literal.
//! Constant subtrees are folded into one prebuilt [`Value`] so evaluating them costs a refcount.

use serde_json::Value as Json;

use super::{err, parse_path, CompileError};
use crate::intrinsics::{is_intrinsic, Intrinsic};
use crate::program::Template;
use crate::value::{Str, Value};

/// Compiles a template located at `loc` (for error messages).
pub fn compile_template(t: &Json, loc: &str) -> Result<Template, CompileError> {
    match t {
        Json::Object(obj) => {
            let mut fields = Vec::with_capacity(obj.len());
            for (key, v) in obj {
                let field_loc = format!("{loc}/{key}");
                match key.strip_suffix(".$") {
                    Some(stripped) => {
                        let Some(text) = v.as_str() else {
                            return err(&field_loc, format!("The value for the field '{key}' must be a STRING that contains a JSONPath or an intrinsic function"));
                        };
                        let node = if is_intrinsic(text) {
                            let call = Intrinsic::parse(text).or_else(|e| err(&field_loc, e.message))?;
                            Template::Intrinsic { call, field: Str::from(key.as_str()) }
                        } else {
                            Template::Path { path: parse_path(text, &field_loc)?, field: Str::from(key.as_str()) }
                        };
                        fields.push((Str::from(stripped), node));
                    }
                    None => fields.push((Str::from(key.as_str()), compile_template(v, &field_loc)?)),
                }
            }
            let constant: Option<Vec<(Str, Value)>> =
                fields.iter().map(|(k, f)| const_of(f).map(|v| (k.clone(), v))).collect();
            if let Some(pairs) = constant {
                return Ok(Template::Const(Value::object(pairs)));
            }
            Ok(Template::object(fields))
        }
        Json::Array(items) => {
            let compiled = items
                .iter()
                .enumerate()
                .map(|(i, v)| compile_template(v, &format!("{loc}/{i}")))
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(values) = compiled.iter().map(const_of).collect::<Option<Vec<_>>>() {
                return Ok(Template::Const(Value::array(values)));
            }
            Ok(Template::Array(compiled))
        }
        other => Ok(Template::Const(Value::from_serde(other))),
    }
}

/// The value of a constant node (a refcount clone), `None` for dynamic nodes.
fn const_of(t: &Template) -> Option<Value> {
    match t {
        Template::Const(v) => Some(v.clone()),
        _ => None,
    }
}
