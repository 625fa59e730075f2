//! The 18 intrinsic functions (`States.Format(…)`, …), parsed once at compile time and
//! evaluated against the state's roots.
//!
//! CONTRACT:
//! - [`is_intrinsic`] tells whether a `.$` value is an intrinsic call rather than a path.
//! - [`Intrinsic::parse`] accepts the whole grammar: `'single-quoted strings'` with `\'`, `\{`,
//!   `\}`, `\\` escapes, numbers, `null`, `true`/`false`, paths (`$…`, `$$…`, `$var…`) and nested
//!   calls; unknown functions and malformed calls are syntax errors.
//! - [`Intrinsic::eval`] returns the value, or an [`AslError`] named `States.IntrinsicFailure`
//!   (built with [`AslError::intrinsic`]) with AWS's cause text; a path argument that selects
//!   nothing is `States.Runtime` as AWS raises it.
//!
//! Files: `parse` (text → call tree), `functions` (the 18 functions), `tests`.
//! Invariants: parsing happens once per definition; evaluation never panics on any input;
//! path arguments are compiled [`Path`]s evaluated against [`Roots`] without deep copies.

mod functions;
mod parse;
#[cfg(test)]
mod tests;

use crate::error::AslError;
use crate::jsonpath::{Path, Roots};
use crate::value::Value;

use functions::ArgValue;
use parse::{Arg, Call};

/// An intrinsic call that does not parse.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct IntrinsicSyntaxError {
    pub message: String,
}

/// True when `text` (the value of a `.$` key) is an intrinsic call, not a path.
pub fn is_intrinsic(text: &str) -> bool {
    text.trim_start().starts_with("States.")
}

/// The 18 intrinsic functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Function {
    Format,
    StringToJson,
    JsonToString,
    Array,
    ArrayPartition,
    ArrayContains,
    ArrayRange,
    ArrayGetItem,
    ArrayLength,
    ArrayUnique,
    Base64Encode,
    Base64Decode,
    Hash,
    JsonMerge,
    MathRandom,
    MathAdd,
    StringSplit,
    Uuid,
}

impl Function {
    const ALL: [Function; 18] = [
        Function::Format,
        Function::StringToJson,
        Function::JsonToString,
        Function::Array,
        Function::ArrayPartition,
        Function::ArrayContains,
        Function::ArrayRange,
        Function::ArrayGetItem,
        Function::ArrayLength,
        Function::ArrayUnique,
        Function::Base64Encode,
        Function::Base64Decode,
        Function::Hash,
        Function::JsonMerge,
        Function::MathRandom,
        Function::MathAdd,
        Function::StringSplit,
        Function::Uuid,
    ];

    /// The full name as written in definitions, e.g. `States.Format`.
    pub fn name(self) -> &'static str {
        match self {
            Function::Format => "States.Format",
            Function::StringToJson => "States.StringToJson",
            Function::JsonToString => "States.JsonToString",
            Function::Array => "States.Array",
            Function::ArrayPartition => "States.ArrayPartition",
            Function::ArrayContains => "States.ArrayContains",
            Function::ArrayRange => "States.ArrayRange",
            Function::ArrayGetItem => "States.ArrayGetItem",
            Function::ArrayLength => "States.ArrayLength",
            Function::ArrayUnique => "States.ArrayUnique",
            Function::Base64Encode => "States.Base64Encode",
            Function::Base64Decode => "States.Base64Decode",
            Function::Hash => "States.Hash",
            Function::JsonMerge => "States.JsonMerge",
            Function::MathRandom => "States.MathRandom",
            Function::MathAdd => "States.MathAdd",
            Function::StringSplit => "States.StringSplit",
            Function::Uuid => "States.UUID",
        }
    }

    /// Looks a function up by its exact (case-sensitive) name.
    pub fn from_name(name: &str) -> Option<Function> {
        Function::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// A compiled intrinsic call.
#[derive(Clone, Debug)]
pub struct Intrinsic {
    source: crate::value::Str,
    call: Call,
}

impl Intrinsic {
    pub fn parse(text: &str) -> Result<Intrinsic, IntrinsicSyntaxError> {
        let call = parse::parse_call_text(text)?;
        Ok(Intrinsic { source: text.into(), call })
    }

    /// The text the call was compiled from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The outermost function.
    pub fn function(&self) -> Function {
        self.call.function
    }

    /// `field` names the payload-template key (e.g. `FunctionResult.$`) for causes.
    pub fn eval(&self, roots: &dyn Roots, field: &str) -> Result<Value, AslError> {
        eval_call(&self.call, roots, field)
    }
}

impl std::fmt::Display for Intrinsic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.source)
    }
}

fn eval_call(call: &Call, roots: &dyn Roots, field: &str) -> Result<Value, AslError> {
    let mut args: Vec<ArgValue> = Vec::with_capacity(call.args.len());
    for arg in &call.args {
        args.push(match arg {
            Arg::Text { value, raw } => ArgValue { value: Value::String(value.clone()), format_raw: Some(raw.clone()) },
            Arg::Literal(v) => ArgValue { value: v.clone(), format_raw: None },
            Arg::Path(path) => ArgValue { value: resolve_path_arg(path, roots, field)?, format_raw: None },
            Arg::Call(inner) => ArgValue { value: eval_call(inner, roots, field)?, format_raw: None },
        });
    }
    functions::call(call.function, &args).map_err(AslError::intrinsic)
}

/// A path argument that selects nothing fails the state with `States.Runtime`, worded as AWS
/// words a missing payload-template path (recorded: test_invalid_jsonpath__INVALID_JSONPATH_IN_
/// STRING_EXPR_JSONPATH, "The JSONPath '$.x' specified for the field 'value.$' could not be
/// found in the input '…'"). No recorded case shows a miss inside an intrinsic, so the same
/// wording is used with the path argument's text.
fn resolve_path_arg(path: &Path, roots: &dyn Roots, field: &str) -> Result<Value, AslError> {
    path.resolve(roots).map_err(|_| {
        AslError::runtime(format!(
            "The JSONPath '{}' specified for the field '{}' could not be found in the input '{}'",
            path.source(),
            field,
            roots.input().to_json()
        ))
    })
}
