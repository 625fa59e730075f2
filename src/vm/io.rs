//! Input and output processing, as AWS orders it: InputPath → Parameters → (the state's work)
//! → ResultSelector → ResultPath → OutputPath. Each step either passes a value through by
//! refcount or builds only the new parts; nothing is deep-copied.

use std::sync::Arc;

use crate::error::AslError;
use crate::jsonpath::{Path, Roots};
use crate::program::{IoPath, ResultPath, Template};
use crate::value::{Map, Value};

use super::context::StateRoots;

/// AWS's limit on any state's input or output, in bytes of UTF-8 JSON.
pub const PAYLOAD_LIMIT_BYTES: usize = 262_144;

/// InputPath / OutputPath.
pub fn apply_io_path(path: &IoPath, value: &Value, roots: &StateRoots) -> Result<Value, AslError> {
    match path {
        IoPath::Identity => Ok(value.clone()),
        IoPath::Empty => Ok(Value::empty_object()),
        IoPath::Path(p) => p
            .resolve(&roots.with_input(value))
            .map_err(|miss| AslError::runtime(format!("Invalid path '{}' : {}", p.source(), miss.message))),
    }
}

/// ResultPath: places `result` into the state's raw `input`.
pub fn apply_result_path(path: &ResultPath, input: Value, result: Value) -> Result<Value, AslError> {
    match path {
        ResultPath::Replace => Ok(result),
        ResultPath::Discard => Ok(input),
        ResultPath::Path(p) => p
            .assign(input, result)
            .map_err(|(miss, _untouched_input)| AslError::runtime(format!("Invalid path '{}' : {}", p.source(), miss.message))),
    }
}

/// Evaluates a payload template against `roots` (whose input is the template's `$`).
pub fn eval_template(t: &Template, roots: &dyn Roots) -> Result<Value, AslError> {
    match t {
        Template::Const(v) => Ok(v.clone()),
        Template::Path { path, field } => resolve_field_path(path, field, roots),
        Template::Intrinsic { call, field } => call.eval(roots, field),
        Template::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(eval_template(item, roots)?);
            }
            Ok(Value::array(out))
        }
        Template::Object { fields, distinct } => {
            let mut map = Map::with_capacity(fields.len());
            for (key, f) in fields {
                let value = eval_template(f, roots)?;
                if *distinct {
                    map.push_distinct(key.clone(), value);
                } else {
                    map.insert(key.clone(), value);
                }
            }
            Ok(Value::Object(Arc::new(map)))
        }
    }
}

/// A path named by a field (`key.$`, `ErrorPath`, …) that must select something.
pub fn resolve_field_path(path: &Path, field: &str, roots: &dyn Roots) -> Result<Value, AslError> {
    path.resolve(roots).map_err(|_| {
        let source = match path.root() {
            crate::jsonpath::Root::Context => roots.context(),
            _ => roots.input().clone(),
        };
        AslError::runtime(format!(
            "The JSONPath '{}' specified for the field '{}' could not be found in the input '{}'",
            path.source(),
            field,
            source.to_json()
        ))
    })
}

/// `States.DataLimitExceeded` when `value` serialises to more than the payload limit;
/// otherwise an upper bound on its length.
pub fn check_size(value: &Value, state_name: &str) -> Result<usize, AslError> {
    value.json_len_bound_within(PAYLOAD_LIMIT_BYTES).ok_or_else(|| {
        AslError::new(
            crate::error::STATES_DATA_LIMIT_EXCEEDED,
            format!("The state/task '{state_name}' returned a result with a size exceeding the maximum number of bytes service limit."),
        )
    })
}

/// How AWS quotes a value after `==` in runtime causes: strings raw, everything else as JSON.
pub fn quote_raw(value: &Value) -> String {
    match value {
        Value::String(s) => s.to_string(),
        other => other.to_json(),
    }
}
