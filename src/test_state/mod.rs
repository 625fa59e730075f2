//! The TestState API, transport-free: run one state of a definition on an input, optionally
//! with a mocked result or error, and report its output, error, next state and (at DEBUG and
//! TRACE) the data after each processing stage, in AWS's request and response shapes.
//!
//! The state runs on the engine's own VM: the definition is compiled as a machine (a single
//! state becomes the machine's only state, see `definition`), and a VM thread placed on the
//! state under test runs with an [`Inspection`](crate::vm::Inspection), which makes it stop at
//! the state's first transition and record each stage. The driver here answers the thread's
//! suspensions itself: a Task with the mock (or the engine's resources when there is none), a
//! Parallel or Map with the mock (TestState requires one for them), a retry back-off by
//! stopping with status RETRIABLE.
//!
//! Invariants:
//! - Every refusal is a [`TestStateError`] carrying the AWS `__type` it maps to; nothing here
//!   panics on a request, whatever it holds.
//! - A request is checked completely before anything runs.

mod context;
mod definition;
mod prepare;
mod response;
mod run;
mod shapes;
#[cfg(test)]
mod tests;

use serde::Deserialize;

use crate::runtime::Engine;

pub use response::{InspectionData, InspectionErrorDetails, TestExecutionStatus, TestStateResponse};
pub use shapes::FieldValidation;

/// A TestState request as AWS's API takes it (camelCase JSON; JSON documents as strings).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestStateRequest {
    /// One state, or a whole state machine when `state_name` is given.
    pub definition: String,
    pub role_arn: Option<String>,
    /// The state's input, JSON text (default `{}`).
    pub input: Option<String>,
    /// `INFO` (default), `DEBUG` or `TRACE`.
    pub inspection_level: Option<String>,
    /// Reveals secrets in HTTP Task requests and responses; accepted, though no HTTP Task
    /// integration runs here yet, so there is nothing to reveal.
    pub reveal_secrets: Option<bool>,
    /// Variables visible to the state, a JSON object as text.
    pub variables: Option<String>,
    /// The state to test inside a whole-machine definition.
    pub state_name: Option<String>,
    pub mock: Option<MockInput>,
    /// The context object (`$$`), JSON text; only together with a mock.
    pub context: Option<String>,
    pub state_configuration: Option<StateConfiguration>,
}

impl TestStateRequest {
    /// Parses a request body, refusing what AWS's model refuses (`ValidationException`).
    pub fn from_json(text: &str) -> Result<TestStateRequest, TestStateError> {
        serde_json::from_str(text).map_err(|e| TestStateError::validation(format!("The request is not a valid TestState request: {e}")))
    }
}

/// `mock`: the result or the error the state's invocation gives instead of running it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MockInput {
    /// JSON text.
    pub result: Option<String>,
    pub error_output: Option<MockErrorOutput>,
    /// `STRICT` (default), `PRESENT` or `NONE`.
    pub field_validation_mode: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct MockErrorOutput {
    pub error: Option<String>,
    pub cause: Option<String>,
}

/// `stateConfiguration`: where in its life the tested state is taken to be.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateConfiguration {
    /// Retries the matching retrier has already made.
    pub retrier_retry_count: Option<i64>,
    /// The state inside the Map or Parallel that raised the mocked error.
    pub error_caused_by_state: Option<String>,
    /// Map iterations that failed (checked against the tolerated failure count/percentage).
    pub map_iteration_failure_count: Option<i64>,
    /// What the Map's ItemReader read, JSON text.
    pub map_item_reader_data: Option<String>,
}

/// Why a TestState request was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TestStateError {
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    InvalidDefinition(String),
    #[error("{0}")]
    InvalidExecutionInput(String),
    #[error("{0}")]
    InvalidArn(String),
}

impl TestStateError {
    pub fn validation(message: impl Into<String>) -> TestStateError {
        TestStateError::Validation(message.into())
    }

    /// The AWS error name (`__type`) this maps to.
    pub fn aws_type(&self) -> &'static str {
        match self {
            TestStateError::Validation(_) => "ValidationException",
            TestStateError::InvalidDefinition(_) => "InvalidDefinition",
            TestStateError::InvalidExecutionInput(_) => "InvalidExecutionInput",
            TestStateError::InvalidArn(_) => "InvalidArn",
        }
    }

    pub fn message(&self) -> &str {
        match self {
            TestStateError::Validation(m)
            | TestStateError::InvalidDefinition(m)
            | TestStateError::InvalidExecutionInput(m)
            | TestStateError::InvalidArn(m) => m,
        }
    }
}

/// Runs the TestState operation. Call it inside a tokio runtime; the state's run is cut at the
/// engine's maximum duration (5 minutes), failing with `States.Timeout` as AWS's does.
pub async fn test_state(engine: &Engine, req: TestStateRequest) -> Result<TestStateResponse, TestStateError> {
    let plan = prepare::prepare(engine, &req)?;
    Ok(run::run(engine, plan).await)
}
