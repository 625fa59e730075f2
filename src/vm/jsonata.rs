//! JSONata-mode state processing: `$states` (`input`, `result`, `errorOutput`, `context`),
//! JSONata templates, and AWS's `States.QueryEvaluationError` causes.
//!
//! Invariants: `$states` is built only when an expression asks for it, once per evaluation
//! environment; `$states.result` exists only after a Task/Parallel/Map produced a result and
//! `$states.errorOutput` only in a Catcher, as AWS allows.

use std::cell::OnceCell;

use crate::error::AslError;
use crate::jsonpath::Roots;
use crate::jsonata::fast::{Step, Walk};
use crate::jsonata::Expression;
use crate::program::JTemplate;
use crate::value::{Map, Value};

use super::context::StateRoots;

/// What a JSONata expression in a state can see.
pub struct JEnv<'a> {
    pub roots: &'a StateRoots<'a>,
    pub result: Option<&'a Value>,
    pub error_output: Option<&'a Value>,
    states: OnceCell<Value>,
}

impl<'a> JEnv<'a> {
    /// `roots.input` is the state's raw input (`$states.input`).
    pub fn new(roots: &'a StateRoots<'a>, result: Option<&'a Value>, error_output: Option<&'a Value>) -> JEnv<'a> {
        JEnv { roots, result, error_output, states: OnceCell::new() }
    }

    fn states(&self) -> Value {
        self.states
            .get_or_init(|| {
                let mut m = Map::default();
                m.insert("input".into(), self.roots.input.clone());
                if let Some(r) = self.result {
                    m.insert("result".into(), r.clone());
                }
                if let Some(e) = self.error_output {
                    m.insert("errorOutput".into(), e.clone());
                }
                m.insert("context".into(), self.roots.context());
                Value::from(m)
            })
            .clone()
    }

    fn binding(&self, name: &str) -> Option<Value> {
        if name == "states" {
            Some(self.states())
        } else {
            self.roots.vars.and_then(|v| v.get(name))
        }
    }
}

/// Evaluates a JSONata template: constants as they are, expressions in place.
pub fn eval(t: &JTemplate, env: &JEnv) -> Result<Value, AslError> {
    match t {
        JTemplate::Const(v) => Ok(v.clone()),
        JTemplate::Expr { expr, source, field } => match fast_path(expr, env).unwrap_or_else(|| expr.evaluate(None, &|name| env.binding(name))) {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(AslError::query_evaluation(format!(
                "The JSONata expression '{source}' specified for the field '{field}' returned nothing (undefined)."
            ))),
            Err(e) if e.code == crate::jsonata::UNSUPPORTED_RESULT => Err(AslError::query_evaluation(format!(
                "The JSONata expression '{source}' specified for the field '{field}' returned an unsupported result type."
            ))),
            Err(e) => Err(AslError::query_evaluation(format!(
                "The JSONata expression '{source}' specified for the field '{field}' threw an error during evaluation. {}: {}",
                e.code, e.message
            ))),
        },
        JTemplate::Object(fields) => {
            let mut m = Map::with_capacity(fields.len());
            for (k, f) in fields {
                m.insert(k.clone(), eval(f, env)?);
            }
            Ok(Value::from(m))
        }
        JTemplate::Array(items) => items.iter().map(|i| eval(i, env)).collect::<Result<Vec<_>, _>>().map(Value::array),
    }
}

/// Answers a plain field path (`$states.input.a`, `$var.b[0]`) straight from our values, or
/// `None` when the full evaluator must decide.
fn fast_path(expr: &Expression, env: &JEnv) -> Option<Result<Option<Value>, crate::jsonata::JsonataError>> {
    let path = expr.simple_path()?;
    let walk = if path.root == "states" {
        let Some(Step::Field(first)) = path.steps.first() else { return None };
        match &**first {
            "input" => path.walk(env.roots.input, 1),
            "result" => match env.result {
                Some(r) => path.walk(r, 1),
                None => Walk::Undefined,
            },
            "errorOutput" => match env.error_output {
                Some(e) => path.walk(e, 1),
                None => Walk::Undefined,
            },
            "context" => path.walk(&env.roots.context(), 1),
            _ => Walk::Undefined,
        }
    } else {
        // A name that is no variable may be a built-in function: let the evaluator say.
        let value = env.roots.vars.and_then(|v| v.get(&path.root))?;
        path.walk(&value, 0)
    };
    match walk {
        Walk::Value(v) => Some(Ok(Some(v))),
        Walk::Undefined => Some(Ok(None)),
        Walk::Fallback => None,
    }
}

/// AWS's cause when an expression's value has the wrong type for its field.
pub fn unexpected_type(t: &JTemplate, expected: &str, v: &Value) -> AslError {
    match t {
        JTemplate::Expr { source, field, .. } => AslError::query_evaluation(format!(
            "The JSONata expression '{source}' specified for the field '{field}' returned an unexpected result type. Expected '{expected}', but was '{}' for value: {}",
            v.type_name(),
            v.to_json()
        )),
        _ => AslError::query_evaluation(format!(
            "The value specified for the field returned an unexpected result type. Expected '{expected}', but was '{}' for value: {}",
            v.type_name(),
            v.to_json()
        )),
    }
}

/// Evaluates a field that must give an array.
pub fn eval_array(t: &JTemplate, env: &JEnv) -> Result<Value, AslError> {
    let v = eval(t, env)?;
    match v {
        Value::Array(_) => Ok(v),
        other => Err(unexpected_type(t, "array", &other)),
    }
}

/// Evaluates a field that must give a boolean (a Choice `Condition`).
pub fn eval_bool(t: &JTemplate, env: &JEnv) -> Result<bool, AslError> {
    let v = eval(t, env)?;
    v.as_bool().ok_or_else(|| unexpected_type(t, "boolean", &v))
}

/// Evaluates a field that must give a whole number (seconds, counts).
pub fn eval_integer(t: &JTemplate, env: &JEnv) -> Result<i64, AslError> {
    let v = eval(t, env)?;
    match &v {
        Value::Number(n) => match n.as_i64() {
            Some(i) => Ok(i),
            None if n.as_f64().fract() == 0.0 && n.as_f64().abs() < 9.0e15 => Ok(n.as_f64() as i64),
            None => Err(unexpected_type(t, "integer", &v)),
        },
        _ => Err(unexpected_type(t, "integer", &v)),
    }
}

/// Evaluates a field that must give a number.
pub fn eval_number(t: &JTemplate, env: &JEnv) -> Result<f64, AslError> {
    let v = eval(t, env)?;
    v.as_f64().ok_or_else(|| unexpected_type(t, "number", &v))
}

/// Evaluates a field that must give a string (Fail `Error`/`Cause`, Wait `Timestamp`).
pub fn eval_string(t: &JTemplate, env: &JEnv) -> Result<crate::value::Str, AslError> {
    let v = eval(t, env)?;
    match v {
        Value::String(s) => Ok(s),
        other => Err(unexpected_type(t, "string", &other)),
    }
}
