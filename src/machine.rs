//! A state machine ready to run: its definition validated (as AWS's CreateStateMachine does)
//! and compiled once into a shared [`Program`].

use std::sync::Arc;

use crate::asl::{validate, Diagnostic, Severity, StateMachineType};
use crate::compile::compile;
use crate::program::Program;
use crate::value::Str;

/// A definition AWS would refuse, with the message CreateStateMachine gives
/// (`Invalid State Machine Definition: 'CODE: message at /location, …'`).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct DefinitionError {
    pub message: String,
    pub diagnostics: Vec<Diagnostic>,
}

impl DefinitionError {
    /// The AWS error name (`__type`) this maps to.
    pub fn aws_type(&self) -> &'static str {
        "InvalidDefinition"
    }
}

/// A validated, compiled state machine.
#[derive(Debug, Clone)]
pub struct StateMachine {
    pub name: Str,
    pub kind: StateMachineType,
    pub definition: Str,
    pub program: Arc<Program>,
}

impl StateMachine {
    /// Validates and compiles `definition`.
    pub fn new(name: &str, definition: &str, kind: StateMachineType) -> Result<StateMachine, DefinitionError> {
        let diagnostics: Vec<Diagnostic> =
            validate(definition, kind).into_iter().filter(|d| d.severity == Severity::Error).collect();
        if !diagnostics.is_empty() {
            return Err(DefinitionError { message: invalid_definition_message(&diagnostics), diagnostics });
        }
        let json: serde_json::Value = serde_json::from_str(definition).map_err(|e| DefinitionError {
            message: format!("Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: {e}'"),
            diagnostics: Vec::new(),
        })?;
        let program = compile(&json).map_err(|e| DefinitionError {
            message: format!("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: {} at {}'", e.message, e.location),
            diagnostics: Vec::new(),
        })?;
        Ok(StateMachine { name: Str::from(name), kind, definition: Str::from(definition), program: Arc::new(program) })
    }
}

/// AWS's CreateStateMachine message for a list of error diagnostics.
pub fn invalid_definition_message(diagnostics: &[Diagnostic]) -> String {
    let parts: Vec<String> = diagnostics
        .iter()
        .map(|d| match &d.location {
            Some(loc) => format!("{}: {} at {}", d.code, d.message, loc),
            None => format!("{}: {}", d.code, d.message),
        })
        .collect();
    format!("Invalid State Machine Definition: '{}'", parts.join(", "))
}
