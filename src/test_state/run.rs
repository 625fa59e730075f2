//! Running a checked TestState [`Plan`]: one VM thread on the state under test, its suspensions
//! answered here (mock, engine resources, RETRIABLE on a scheduled retry), then the response.

use std::sync::Arc;

use crate::error::{AslError, STATES_EXCEED_TOLERATED_FAILURE_THRESHOLD, STATES_TIMEOUT};
use crate::program::{State, StateKind};
use crate::runtime::Engine;
use crate::value::Value;
use crate::vm::{ExecShared, MapRun, Step, Suspend, Thread};

use super::prepare::{Level, Mock, Plan};
use super::response::{inspection_data, MapSettings, Observed, TestExecutionStatus, TestStateResponse};

/// How the thread stopped.
enum End {
    Output(Value),
    Failed(AslError),
    /// A retrier scheduled another attempt.
    Retriable,
}

pub async fn run(engine: &Engine, plan: Plan) -> TestStateResponse {
    let Plan { program, state: state_id, input, level, vars, mock, identity, clock, context, inspection, map_failures } = plan;
    let state = program.state(state_id);
    let exec = ExecShared::with_context(identity, input.clone(), clock, false, Some(context));
    // The state is entered at event #2, as in an execution, for causes that quote the id.
    exec.event("ExecutionStarted", None, || None);
    let show_variables = vars.is_some() || assigns_variables(state);
    let mut thread = Thread::at_state(Arc::clone(&program), state_id, input.clone());
    if let Some(v) = vars {
        thread.set_vars(v);
    }
    thread.inspect(inspection);

    let mut map = None;
    let driven = drive(&mut thread, &exec, engine, mock.as_ref(), map_failures, &mut map);
    let end = tokio::time::timeout(engine.config.max_duration, driven).await.unwrap_or_else(|_| End::Failed(AslError::named(STATES_TIMEOUT)));

    let recorded = thread.inspection().cloned().unwrap_or_default();
    let (status, output, error) = match end {
        End::Output(v) if recorded.catch_index.is_some() => (TestExecutionStatus::CaughtError, Some(v), recorded.error.clone()),
        End::Output(v) => (TestExecutionStatus::Succeeded, Some(v), None),
        End::Failed(e) => (TestExecutionStatus::Failed, None, Some(e)),
        End::Retriable => (TestExecutionStatus::Retriable, None, recorded.error.clone()),
    };
    let next_state = match status {
        TestExecutionStatus::Succeeded | TestExecutionStatus::CaughtError => recorded.next_state.map(|id| program.state(id).name.to_string()),
        _ => None,
    };
    let inspection_data = (level != Level::Info).then(|| {
        inspection_data(&Observed {
            state,
            input: &input,
            inspection: &recorded,
            map,
            mock_text: match &mock {
                Some(Mock::Result { text, .. }) => Some(text.as_str()),
                _ => None,
            },
            variables: show_variables.then(|| Value::from(thread.vars().locals().clone())),
        })
    });
    TestStateResponse {
        output: output.map(|v| v.to_json()),
        error: error.as_ref().and_then(|e| e.error.as_deref().map(String::from)),
        cause: error.as_ref().and_then(|e| e.cause.as_deref().map(String::from)),
        inspection_data,
        next_state,
        status,
    }
}

async fn drive(
    thread: &mut Thread,
    exec: &Arc<ExecShared>,
    engine: &Engine,
    mock: Option<&Mock>,
    map_failures: u64,
    map: &mut Option<MapSettings>,
) -> End {
    loop {
        let suspension = match thread.run(exec) {
            Step::Succeeded(v) => return End::Output(v),
            Step::Failed(e) => return End::Failed(e),
            Step::Suspended(s) => s,
        };
        match suspension {
            Suspend::Yield => tokio::task::yield_now().await,
            Suspend::Wait { .. } if thread.inspection().is_some_and(|i| i.retry_backoff_seconds.is_some()) => return End::Retriable,
            // A Wait state. AWS does not document whether TestState waits; we report the
            // state's output without sleeping, since the test is about its data flow.
            Suspend::Wait { .. } => thread.resume_wait(),
            Suspend::Task(call) => {
                let result = match mock {
                    Some(m) => mocked(m),
                    None => engine.resources.invoke(&call, exec).await,
                };
                thread.resume_task(result);
            }
            Suspend::Parallel { .. } => thread.resume_fanout(mock.map_or_else(no_mock, mocked)),
            Suspend::Map(run) => {
                *map = Some(MapSettings {
                    max_concurrency: run.max_concurrency as u64,
                    tolerated_failure_count: run.tolerated_failure_count,
                    tolerated_failure_percentage: run.tolerated_failure_percentage,
                });
                let result = match mock.map_or_else(no_mock, mocked) {
                    Ok(v) if exceeds_tolerance(&run, &v, map_failures) => Err(AslError::new(
                        STATES_EXCEED_TOLERATED_FAILURE_THRESHOLD,
                        "The specified tolerated failure threshold was exceeded",
                    )),
                    other => other,
                };
                thread.resume_fanout(result);
            }
        }
    }
}

fn mocked(mock: &Mock) -> Result<Value, AslError> {
    match mock {
        Mock::Result { value, .. } => Ok(value.clone()),
        Mock::Error(e) => Err(e.clone()),
    }
}

/// `prepare` refuses a Parallel or Map without a mock; this keeps the driver total anyway.
fn no_mock() -> Result<Value, AslError> {
    Err(AslError::runtime("TestState needs a mock to run a Parallel or Map state"))
}

/// Whether `failures` of the mocked iterations break the Map's tolerance. AWS's recordings
/// show the failure count ignored for a Map that sets no tolerance at all.
fn exceeds_tolerance(run: &MapRun, result: &Value, failures: u64) -> bool {
    let configured = run.tolerated_failure_count.is_some() || run.tolerated_failure_percentage.is_some();
    let total = result.as_array().map_or(run.inputs.len(), Vec::len);
    configured && run.exceeds_tolerance(failures as usize, total)
}

fn assigns_variables(state: &State) -> bool {
    state.assign.is_some()
        || state.catch.iter().any(|c| c.assign.is_some())
        || matches!(&state.kind, StateKind::Choice { choices, .. } if choices.iter().any(|c| c.assign.is_some()))
}
