//! TEMPORARY interface shim (replaced by the real module from branch h-jsonata before merge).
use crate::value::Value;
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct JsonataError { pub code: String, pub message: String, pub position: Option<usize> }
#[derive(Debug)]
pub struct Expression;
impl Expression {
    pub fn parse(_text: &str) -> Result<Expression, JsonataError> { todo!() }
    pub fn evaluate(&self, _input: Option<&Value>, _bindings: &dyn Fn(&str) -> Option<Value>) -> Result<Option<Value>, JsonataError> { todo!() }
    pub fn free_variables(&self) -> Vec<String> { todo!() }
    pub fn called_functions(&self) -> Vec<String> { todo!() }
}
/// Error code for an expression whose value is not JSON (a function).
pub const UNSUPPORTED_RESULT: &str = "UNSUPPORTED_RESULT";
