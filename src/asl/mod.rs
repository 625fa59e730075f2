//! The definition as written: reading ASL JSON and validating it with AWS's diagnostics.
//!
//! CONTRACT:
//! - [`validate`] takes the definition text and the state machine type and returns every
//!   diagnostic AWS's ValidateStateMachineDefinition would give (code, message, location such
//!   as `/States/X/Next`), errors before warnings. An empty list of errors means the compiler
//!   may assume the structure is well-formed (it still never panics).

pub mod validate;

pub use validate::{validate, Diagnostic, Severity, StateMachineType};
