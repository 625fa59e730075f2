//! ASL errors as data: the `{Error, Cause}` pair that Retry and Catch act on, and the
//! predefined `States.*` names.
//!
//! An [`AslError`] is what a state produces when it fails. Both parts are optional because AWS
//! allows a Fail state with neither (the execution then fails with no `error` field).
//! Runtime errors raised by the engine (paths that select nothing, bad Wait values, …) are built
//! here without the "An error occurred while executing the state …" prefix; the VM adds that
//! prefix with the state's name and entered event id, because only it knows them.

use crate::value::{Str, Value};

pub const STATES_ALL: &str = "States.ALL";
pub const STATES_RUNTIME: &str = "States.Runtime";
pub const STATES_TIMEOUT: &str = "States.Timeout";
pub const STATES_TASK_FAILED: &str = "States.TaskFailed";
pub const STATES_HEARTBEAT_TIMEOUT: &str = "States.HeartbeatTimeout";
pub const STATES_BRANCH_FAILED: &str = "States.BranchFailed";
pub const STATES_NO_CHOICE_MATCHED: &str = "States.NoChoiceMatched";
pub const STATES_INTRINSIC_FAILURE: &str = "States.IntrinsicFailure";
pub const STATES_DATA_LIMIT_EXCEEDED: &str = "States.DataLimitExceeded";
pub const STATES_RESULT_PATH_MATCH_FAILURE: &str = "States.ResultPathMatchFailure";
pub const STATES_PARAMETER_PATH_FAILURE: &str = "States.ParameterPathFailure";
pub const STATES_EXCEED_TOLERATED_FAILURE_THRESHOLD: &str = "States.ExceedToleratedFailureThreshold";
pub const STATES_QUERY_EVALUATION_ERROR: &str = "States.QueryEvaluationError";
pub const STATES_PERMISSIONS: &str = "States.Permissions";

/// A failure as ASL sees it.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct AslError {
    pub error: Option<Str>,
    pub cause: Option<Str>,
    /// True for engine-raised runtime errors whose cause still needs the
    /// "An error occurred while executing the state …" prefix (added once, by the VM).
    pub needs_state_prefix: bool,
}

impl AslError {
    pub fn new(error: impl Into<Str>, cause: impl Into<Str>) -> AslError {
        AslError { error: Some(error.into()), cause: Some(cause.into()), needs_state_prefix: false }
    }

    /// An error with a name and no cause.
    pub fn named(error: impl Into<Str>) -> AslError {
        AslError { error: Some(error.into()), cause: None, needs_state_prefix: false }
    }

    /// `States.Runtime` with a cause that the VM prefixes with the state's name and event id.
    pub fn runtime(cause: impl Into<Str>) -> AslError {
        AslError { needs_state_prefix: true, ..AslError::new(STATES_RUNTIME, cause) }
    }

    /// `States.IntrinsicFailure`; AWS prefixes these causes with the state too.
    pub fn intrinsic(cause: impl Into<Str>) -> AslError {
        AslError { needs_state_prefix: true, ..AslError::new(STATES_INTRINSIC_FAILURE, cause) }
    }

    /// `States.QueryEvaluationError` (JSONata), prefixed like runtime errors.
    pub fn query_evaluation(cause: impl Into<Str>) -> AslError {
        AslError { needs_state_prefix: true, ..AslError::new(STATES_QUERY_EVALUATION_ERROR, cause) }
    }

    pub fn error_name(&self) -> &str {
        self.error.as_deref().unwrap_or("")
    }

    /// The Error Output object `{"Error": …, "Cause": …}` given to Catch; absent parts are omitted.
    pub fn to_error_output(&self) -> Value {
        let mut pairs: Vec<(&str, Value)> = Vec::with_capacity(2);
        if let Some(e) = &self.error {
            pairs.push(("Error", Value::String(e.clone())));
        }
        if let Some(c) = &self.cause {
            pairs.push(("Cause", Value::String(c.clone())));
        }
        Value::object(pairs)
    }

    /// Adds AWS's state prefix to the cause if it still needs one.
    pub fn with_state_prefix(mut self, state_name: &str, entered_event_id: u64) -> AslError {
        if self.needs_state_prefix {
            let cause = self.cause.as_deref().unwrap_or("");
            self.cause = Some(
                format!(
                    "An error occurred while executing the state '{state_name}' (entered at the event id #{entered_event_id}). {cause}"
                )
                .into(),
            );
            self.needs_state_prefix = false;
        }
        self
    }
}

impl std::fmt::Display for AslError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error_name(), self.cause.as_deref().unwrap_or(""))
    }
}

impl std::error::Error for AslError {}
