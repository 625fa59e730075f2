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

use crate::error::AslError;
use crate::jsonpath::Roots;
use crate::value::Value;

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

/// A compiled intrinsic call.
#[derive(Clone, Debug)]
pub struct Intrinsic {
    // implementation detail
}

impl Intrinsic {
    pub fn parse(text: &str) -> Result<Intrinsic, IntrinsicSyntaxError> {
        let _ = text;
        todo!("intrinsics::Intrinsic::parse")
    }

    /// `field` names the payload-template key (e.g. `FunctionResult.$`) for causes.
    pub fn eval(&self, roots: &dyn Roots, field: &str) -> Result<Value, AslError> {
        let _ = (roots, field);
        todo!("intrinsics::Intrinsic::eval")
    }
}
