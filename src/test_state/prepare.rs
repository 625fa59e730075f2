//! Checking a TestState request completely and turning it into a [`Plan`] to run.
//!
//! Messages are AWS's where the recorded cases show them. Where they do not (an unknown enum
//! value, a mock on a state that cannot take one, a Map or Parallel without a mock, a context
//! without a mock, stateConfiguration fields that do not fit the state), the wording is ours,
//! the error name AWS's (`ValidationException`).

use std::sync::Arc;

use crate::clock::Clock;
use crate::error::AslError;
use crate::program::{Program, StateId, StateKind};
use crate::runtime::Engine;
use crate::value::{Str, Value};
use crate::vm::{ExecutionIdentity, Frame, Inspection};

use super::definition::{self, SINGLE_STATE_NAME};
use super::shapes::{check_mock_result, FieldValidation};
use super::{context, TestStateError, TestStateRequest};

/// How much a response shows (`inspectionLevel`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Debug,
    Trace,
}

/// What replaces the state's invocation.
#[derive(Debug, Clone)]
pub enum Mock {
    /// The result, and its text as given (AWS echoes that text in some inspection fields).
    Result { value: Value, text: String },
    Error(AslError),
}

/// A checked request, ready to run.
pub struct Plan {
    pub program: Arc<Program>,
    pub state: StateId,
    pub input: Value,
    pub level: Level,
    /// The request's variables, when it gave any.
    pub vars: Option<Arc<Frame>>,
    pub mock: Option<Mock>,
    pub identity: ExecutionIdentity,
    pub clock: Clock,
    pub context: Value,
    /// Settings for the VM's inspection (prior retries, Map items).
    pub inspection: Inspection,
    /// Failed Map iterations to assume (`mapIterationFailureCount`).
    pub map_failures: u64,
}

fn enum_error(value: &str, field: &str, allowed: &str) -> TestStateError {
    TestStateError::validation(format!(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: Member must satisfy enum value set: [{allowed}]"
    ))
}

pub fn prepare(engine: &Engine, req: &TestStateRequest) -> Result<Plan, TestStateError> {
    let level = match req.inspection_level.as_deref() {
        None | Some("INFO") => Level::Info,
        Some("DEBUG") => Level::Debug,
        Some("TRACE") => Level::Trace,
        Some(other) => return Err(enum_error(other, "inspectionLevel", "INFO, DEBUG, TRACE")),
    };
    let field_validation = match req.mock.as_ref().and_then(|m| m.field_validation_mode.as_deref()) {
        None | Some("STRICT") => FieldValidation::Strict,
        Some("PRESENT") => FieldValidation::Present,
        Some("NONE") => FieldValidation::None,
        Some(other) => return Err(enum_error(other, "mock.fieldValidationMode", "STRICT, PRESENT, NONE")),
    };
    let subject = definition::load(&req.definition, req.state_name.as_deref())?;
    let program = Arc::clone(&subject.machine.program);
    let state = program.state(subject.state);

    if let Some(role) = &req.role_arn {
        if !role.starts_with("arn:") || !role.contains(":iam::") {
            return Err(TestStateError::InvalidArn(format!("Invalid Arn: '{role}'")));
        }
    }
    let input_text = req.input.as_deref().map(str::trim).filter(|t| !t.is_empty()).unwrap_or("{}");
    let input = crate::value::parse_str(input_text)
        .map_err(|e| TestStateError::InvalidExecutionInput(format!("Invalid State Input: {}", e.message)))?;
    let vars = req.variables.as_deref().map(parse_variables).transpose()?;

    let mock = match &req.mock {
        None => None,
        Some(m) => Some(match (&m.result, &m.error_output) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(TestStateError::validation("A test mock should have only one of the following fields: [result, errorOutput]."))
            }
            (Some(text), None) => {
                let value =
                    crate::value::parse_str(text).map_err(|_| TestStateError::validation("Mocked result must be valid JSON"))?;
                Mock::Result { value, text: text.clone() }
            }
            (None, Some(e)) => Mock::Error(AslError {
                error: e.error.as_deref().map(Str::from),
                cause: e.cause.as_deref().map(Str::from),
                needs_state_prefix: false,
            }),
        }),
    };
    check_mock_fits_state(state, mock.as_ref(), field_validation)?;

    let config = req.state_configuration.clone().unwrap_or_default();
    let prior_retries = u32::try_from(non_negative(config.retrier_retry_count, "retrierRetryCount")?).unwrap_or(u32::MAX);
    let map_failures = non_negative(config.map_iteration_failure_count, "mapIterationFailureCount")?;
    let map = match &state.kind {
        StateKind::Map(spec) => Some(spec),
        _ => None,
    };
    if map_failures > 0 && map.is_none() {
        return Err(TestStateError::validation("mapIterationFailureCount can only be specified when testing a Map state"));
    }
    if let (Some(Mock::Result { value: Value::Array(items), .. }), true) = (&mock, map.is_some()) {
        if map_failures > items.len() as u64 {
            return Err(TestStateError::validation("Map iteration failure count must be less than or equal to the number of Map iterations"));
        }
    }
    let items_override = match &config.map_item_reader_data {
        None => None,
        Some(text) => {
            if map.is_none_or(|m| m.item_reader.is_none()) {
                return Err(TestStateError::validation("mapItemReaderData can only be specified when testing a Map state with an ItemReader"));
            }
            Some(crate::value::parse_str(text).map_err(|_| TestStateError::validation("mapItemReaderData must be valid JSON"))?)
        }
    };
    if let Some(name) = &config.error_caused_by_state {
        let inside = program.find_state_anywhere(name).is_some_and(|inner| is_nested_in(&program, inner, subject.state));
        if !inside {
            return Err(TestStateError::validation(format!(
                "errorCausedByState '{name}' is not a state inside the Map or Parallel state under test"
            )));
        }
    }
    if req.context.is_some() && mock.is_none() {
        return Err(TestStateError::validation("A context can only be specified together with a mock"));
    }

    let clock = Clock::new();
    let identity = identity(engine, req.role_arn.as_deref(), clock.now_ms());
    let task_token = matches!(&state.kind, StateKind::Task(t) if t.resource.ends_with(".waitForTaskToken"))
        .then(|| Str::from(crate::ids::uuid_v4()));
    let state_name = if req.state_name.is_some() { &*state.name } else { SINGLE_STATE_NAME };
    let default_context = context::default_context(&identity, &input, state_name, prior_retries, task_token);
    let context = match &req.context {
        Some(text) => context::caller_context(text, default_context)?,
        None => default_context,
    };
    Ok(Plan {
        state: subject.state,
        program,
        input,
        level,
        vars,
        mock,
        identity,
        clock,
        context,
        inspection: Inspection { prior_retries, items_override, ..Inspection::default() },
        map_failures,
    })
}

fn non_negative(n: Option<i64>, field: &str) -> Result<u64, TestStateError> {
    match n {
        None => Ok(0),
        Some(n) if n >= 0 => Ok(n as u64),
        Some(n) => Err(TestStateError::validation(format!(
            "1 validation error detected: Value '{n}' at 'stateConfiguration.{field}' failed to satisfy constraint: Member must have value greater than or equal to 0"
        ))),
    }
}

fn parse_variables(text: &str) -> Result<Arc<Frame>, TestStateError> {
    let invalid = || TestStateError::validation("variables must be a JSON object");
    let values = crate::value::parse_str(text).map_err(|_| invalid())?;
    if !matches!(values, Value::Object(_)) {
        return Err(invalid());
    }
    let mut frame = Frame::root();
    crate::vm::vars::apply(&mut frame, values, SINGLE_STATE_NAME).map_err(|e| TestStateError::validation(e.cause.as_deref().unwrap_or_default()))?;
    Ok(frame)
}

/// Which states take a mock, which need one, and whether the mocked result has the right shape.
fn check_mock_fits_state(state: &crate::program::State, mock: Option<&Mock>, mode: FieldValidation) -> Result<(), TestStateError> {
    let result = match mock {
        Some(Mock::Result { value, .. }) => Some(value),
        _ => None,
    };
    match &state.kind {
        StateKind::Task(task) => {
            let needs_mock = task.resource.contains(":activity:") || task.resource.contains(".sync") || task.resource.ends_with(".waitForTaskToken");
            if needs_mock && mock.is_none() {
                return Err(TestStateError::validation(
                    "A mock is required to test Activity tasks and the .sync and .waitForTaskToken integration patterns",
                ));
            }
            match result {
                Some(r) if !needs_mock => check_mock_result(&task.resource, r, mode),
                _ => Ok(()),
            }
        }
        StateKind::Parallel { .. } | StateKind::Map(_) => {
            let kind = state.kind.type_name();
            if mock.is_none() {
                return Err(TestStateError::validation(format!("A mock is required to test a {kind} state")));
            }
            let writes_results = matches!(&state.kind, StateKind::Map(spec) if spec.result_writer.is_some());
            match result {
                Some(r) if writes_results && !matches!(r, Value::Object(_)) => Err(TestStateError::validation("Mocked result must be a JSON object.")),
                Some(r) if !writes_results && !matches!(r, Value::Array(_)) => Err(TestStateError::validation("Mocked result must be a JSON array.")),
                _ => Ok(()),
            }
        }
        _ if mock.is_some() => Err(TestStateError::validation(format!(
            "A mock cannot be specified for a {} state; only Task, Map and Parallel states are mocked",
            state.kind.type_name()
        ))),
        _ => Ok(()),
    }
}

/// Whether `inner` sits (at any depth) inside a branch or processor of `outer`.
fn is_nested_in(program: &Program, inner: StateId, outer: StateId) -> bool {
    let mut block = program.state(inner).block;
    while let Some(parent) = program.block(block).parent {
        if parent == outer {
            return true;
        }
        block = program.state(parent).block;
    }
    false
}

/// Who the tested state's make-believe execution is. AWS's recordings show an `express:`
/// execution ARN without the trailing UUID synchronous executions have.
fn identity(engine: &Engine, role_arn: Option<&str>, start_ms: i64) -> ExecutionIdentity {
    let cfg = &engine.config;
    let sm = "TestStateMachine";
    let name = crate::ids::uuid_v4();
    ExecutionIdentity {
        execution_arn: Str::from(format!("arn:aws:states:{}:{}:express:{sm}:{name}", cfg.region, cfg.account)),
        name: Str::from(name),
        state_machine_arn: Str::from(format!("arn:aws:states:{}:{}:stateMachine:{sm}", cfg.region, cfg.account)),
        state_machine_name: Str::from(sm),
        // AWS requires a role unless the state is mocked; without one we name a plausible role
        // so `$$.Execution.RoleArn` resolves.
        role_arn: Str::from(role_arn.map_or_else(|| format!("arn:aws:iam::{}:role/TestStateRole", cfg.account), String::from)),
        start_ms,
        redrive_count: None,
    }
}
