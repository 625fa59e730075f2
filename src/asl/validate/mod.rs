//! Validation of ASL definitions with AWS's diagnostic codes, messages and locations.
//!
//! Owns: turning definition text into the `diagnostics[]` that ValidateStateMachineDefinition
//! returns, and the `InvalidDefinition` message CreateStateMachine builds from them.
//!
//! Invariants:
//! - [`validate`] never panics, whatever the text (no indexing or `unwrap` on user data).
//! - A definition real AWS accepts yields no ERROR diagnostic. When AWS's behaviour is unknown
//!   the definition is accepted and the doubt is written down next to the rule.
//! - Locations are JSON-pointer-like paths from the definition root (`/States/X/Field`);
//!   object-level rules (required/unsupported/exclusive fields) point at the object, value
//!   rules point at the field.
//!
//! Layout: [`json_text`] (parsing with Jackson-style errors), [`states`] (per-state schema),
//! [`rules`] (Retry/Catch/Choice rules/payload templates), [`paths`] (path, intrinsic and
//! timestamp syntax), [`transitions`] (targets, reachability, names), [`express`],
//! [`jsonata_exprs`] (expressions and `$states` fields), [`variable_scopes`] (no shadowing).

mod jsonata_exprs;
mod express;
mod json_text;
mod paths;
mod rules;
mod states;
mod transitions;
mod variable_scopes;

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod tests;

use serde::Serialize;
use serde_json::{Map, Value};

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

/// Diagnostic codes AWS documents (ValidateStateMachineDefinitionDiagnostic).
pub mod codes {
    pub const INVALID_JSON_DESCRIPTION: &str = "INVALID_JSON_DESCRIPTION";
    pub const SCHEMA_VALIDATION_FAILED: &str = "SCHEMA_VALIDATION_FAILED";
    pub const INVALID_RESOURCE: &str = "INVALID_RESOURCE";
    pub const MISSING_END_STATE: &str = "MISSING_END_STATE";
    pub const DUPLICATE_STATE_NAME: &str = "DUPLICATE_STATE_NAME";
    pub const INVALID_STATE_NAME: &str = "INVALID_STATE_NAME";
    pub const MISSING_TRANSITION_TARGET: &str = "MISSING_TRANSITION_TARGET";
    pub const TOO_DEEPLY_NESTED: &str = "TOO_DEEPLY_NESTED";
}

/// Validates a definition's text.
pub fn validate(definition: &str, kind: StateMachineType) -> Vec<Diagnostic> {
    let root = match json_text::parse_definition(definition) {
        Ok(root) => root,
        Err(diagnostic) => return vec![diagnostic],
    };
    let Value::Object(root) = root else {
        // Recorded: `" "` gives this message without a location; other non-objects are assumed
        // to be reported the same way.
        return vec![Diagnostic::error(
            codes::SCHEMA_VALIDATION_FAILED,
            "Definition must be a valid JSON object",
            None,
        )];
    };
    let mut ctx = Ctx::new(kind);
    states::check_machine(&mut ctx, &root);
    jsonata_exprs::check(&mut ctx, &root);
    variable_scopes::check(&mut ctx, &root);
    ctx.diagnostics
}

/// True when no diagnostic is an error (ValidateStateMachineDefinition's `result: OK`).
pub fn is_valid(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().all(|d| d.severity != Severity::Error)
}

/// The `InvalidDefinition` message CreateStateMachine gives for these diagnostics, or `None`
/// when there are no errors: `Invalid State Machine Definition: 'CODE: message at /loc, …'`.
/// A diagnostic without a location renders `at null`, as AWS does for MISSING_END_STATE.
pub fn invalid_definition_message(diagnostics: &[Diagnostic]) -> Option<String> {
    let parts: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| {
            format!(
                "{}: {} at {}",
                d.code,
                d.message,
                d.location.as_deref().unwrap_or("null")
            )
        })
        .collect();
    if parts.is_empty() {
        None
    } else {
        Some(format!("Invalid State Machine Definition: '{}'", parts.join(", ")))
    }
}

impl Diagnostic {
    pub fn error(code: &str, message: impl Into<String>, location: Option<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Error, code: code.to_string(), message: message.into(), location }
    }
}

/// The query language a state is evaluated in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lang {
    JsonPath,
    Jsonata,
}

impl Lang {
    fn name(self) -> &'static str {
        match self {
            Lang::JsonPath => "JSONPath",
            Lang::Jsonata => "JSONata",
        }
    }
}

/// Validation state shared by the checkers: the findings so far and machine-wide facts.
pub(crate) struct Ctx {
    pub diagnostics: Vec<Diagnostic>,
    pub kind: StateMachineType,
    /// The machine's language; nested ItemProcessor/Branches states inherit it (not their
    /// parent state's), as measured on AWS (floci #2968).
    pub machine_lang: Lang,
    /// Every state name seen so far (names are unique across the whole machine).
    pub seen_state_names: std::collections::HashSet<String>,
}

impl Ctx {
    fn new(kind: StateMachineType) -> Ctx {
        Ctx {
            diagnostics: Vec::new(),
            kind,
            machine_lang: Lang::JsonPath,
            seen_state_names: Default::default(),
        }
    }

    pub fn report(&mut self, code: &str, message: impl Into<String>, location: &str) {
        self.diagnostics.push(Diagnostic::error(code, message, Some(location_or_root(location))));
    }

    pub fn schema(&mut self, location: &str, message: impl Into<String>) {
        self.report(codes::SCHEMA_VALIDATION_FAILED, message, location);
    }

    pub fn unsupported_field(&mut self, object_location: &str, field: &str) {
        self.schema(object_location, format!("Field '{field}' is not supported"));
    }

    pub fn required_fields(&mut self, object_location: &str, missing: &[&str]) {
        if !missing.is_empty() {
            self.schema(object_location, format!("These fields are required: [{}]", missing.join(", ")));
        }
    }

    pub fn expected_type(&mut self, location: &str, type_name: &str) {
        self.schema(location, format!("Expected value of type [{type_name}]"));
    }

    /// `There should only be one of the following fields: [a, b]` when more than one is present.
    pub fn at_most_one_of(&mut self, object: &Map<String, Value>, object_location: &str, fields: &[&str]) {
        if fields.iter().filter(|f| object.contains_key(**f)).count() > 1 {
            self.schema(
                object_location,
                format!("There should only be one of the following fields: [{}]", fields.join(", ")),
            );
        }
    }

    /// Reports fields of `object` outside `allowed` as unsupported, in the object's order.
    pub fn only_fields(&mut self, object: &Map<String, Value>, object_location: &str, allowed: &[&str]) {
        for key in object.keys() {
            if !allowed.contains(&key.as_str()) {
                self.unsupported_field(object_location, key);
            }
        }
    }
}

/// AWS writes the root as `/`.
fn location_or_root(location: &str) -> String {
    if location.is_empty() {
        "/".to_string()
    } else {
        location.to_string()
    }
}

/// `{% … %}`: a JSONata expression in a JSONata state (not evaluated here).
pub(crate) fn is_jsonata_expression(text: &str) -> bool {
    text.len() >= 4 && text.starts_with("{%") && text.ends_with("%}")
}
