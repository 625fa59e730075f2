//! Validation of ASL definitions with AWS's diagnostic codes, messages and locations.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum StateMachineType {
    #[default]
    Standard,
    Express,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    Error,
    Warning,
}

/// One finding, in the shape of ValidateStateMachineDefinition's `diagnostics[]`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// Validates a definition's text.
pub fn validate(definition: &str, kind: StateMachineType) -> Vec<Diagnostic> {
    let _ = (definition, kind);
    todo!("asl::validate")
}
