//! One execution from start to outcome: identity and ARNs, the deadline, the drive loop.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::time::Instant;

use crate::clock::Clock;
use crate::error::{AslError, STATES_TIMEOUT};
use crate::program::{BlockId, Program, ROOT_BLOCK};
use crate::value::{Str, Value};
use crate::vm::{ExecShared, ExecutionIdentity, Frame, HistoryEvent, Step, Suspend, Thread};

use super::start::StopSignal;
use super::{fanout, Engine};
use crate::tasks::MockTestCase;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecutionStatus {
    Succeeded,
    Failed,
    TimedOut,
    /// Stopped through a [`StopHandle`](super::StopHandle) (StopExecution).
    Aborted,
}

impl ExecutionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Succeeded => "SUCCEEDED",
            ExecutionStatus::Failed => "FAILED",
            ExecutionStatus::TimedOut => "TIMED_OUT",
            ExecutionStatus::Aborted => "ABORTED",
        }
    }
}

/// How an execution is started.
#[derive(Clone, Debug)]
pub struct StartOptions {
    pub state_machine_name: Str,
    /// Execution name; a UUID when absent.
    pub name: Option<Str>,
    /// Synchronous Express executions (StartSyncExecution) have no RedriveCount in `$$`.
    pub sync: bool,
    /// `express:` execution ARNs (with a trailing UUID) rather than `execution:` ones.
    pub express: bool,
    pub role_arn: Option<Str>,
    /// The state machine's ARN (a version or alias ARN when started through one); built from
    /// the engine's region and account and the name when absent.
    pub state_machine_arn: Option<Str>,
    /// A Step Functions Local test case for this execution only (a server's
    /// `stateMachineArn#TestCase`); it takes the place of the engine-wide one.
    pub mock: Option<Arc<MockTestCase>>,
    /// Whether to keep this execution's history events; `None` follows
    /// `EngineConfig::record_history`. Recording costs about a fifth of a short execution, so a
    /// caller that will not read the history (a server with no ring and no logging) turns it off.
    pub record_history: Option<bool>,
}

impl StartOptions {
    pub fn new(state_machine_name: &str) -> StartOptions {
        StartOptions {
            state_machine_name: Str::from(state_machine_name),
            name: None,
            sync: true,
            express: true,
            role_arn: None,
            state_machine_arn: None,
            mock: None,
            record_history: None,
        }
    }

    /// Options whose state machine and role ARNs are built once here, not per execution: for
    /// callers starting many executions of one machine (each then shares these strings).
    pub fn for_machine(engine: &Engine, state_machine_name: &str) -> StartOptions {
        let cfg = &engine.config;
        let sm = state_machine_name;
        StartOptions {
            state_machine_arn: Some(Str::from(["arn:aws:states:", &cfg.region, ":", &cfg.account, ":stateMachine:", sm].concat())),
            role_arn: Some(default_role_arn(&cfg.account, sm)),
            ..StartOptions::new(sm)
        }
    }
}

/// The result of an execution, with the identity that produced it.
#[derive(Clone, Debug)]
pub struct ExecutionOutcome {
    pub identity: ExecutionIdentity,
    pub input: Value,
    pub status: ExecutionStatus,
    pub output: Option<Value>,
    pub error: Option<Str>,
    pub cause: Option<Str>,
    pub stop_ms: i64,
    /// Recorded history (empty unless the engine records it).
    pub history: Vec<HistoryEvent>,
}

/// Virtual time charged for each exhausted transition budget (see `EngineConfig::virtual_time`).
const VIRTUAL_COST_OF_BUDGET: Duration = Duration::from_secs(1);

/// Runs one execution of `program` to its end.
pub async fn run_execution(engine: &Engine, program: Arc<Program>, input: Value, opts: &StartOptions) -> ExecutionOutcome {
    let exec = new_execution(engine, input, opts);
    execute(engine, &program, exec, opts.mock.as_ref(), None).await
}

/// An execution's shared state, with its identity (ARNs, start time) fixed now.
pub(super) fn new_execution(engine: &Engine, input: Value, opts: &StartOptions) -> Arc<ExecShared> {
    let clock = Clock::new();
    let identity = make_identity(engine, opts, clock.now_ms());
    ExecShared::new(identity, input, clock, opts.record_history.unwrap_or(engine.config.record_history))
}

/// Runs an execution created by [`new_execution`] (by [`Engine::start`], which must answer
/// with the ARN before the execution runs), optionally stoppable. It takes only what it keeps
/// while parked: the future of a waiting execution is its memory (see `drive_until`).
pub(super) async fn execute(
    engine: &Engine,
    program: &Arc<Program>,
    exec: Arc<ExecShared>,
    mock: Option<&Arc<MockTestCase>>,
    stop: Option<&StopSignal>,
) -> ExecutionOutcome {
    let program = super::local::local_program(program);
    let with_mock;
    let engine = match mock {
        Some(mock) => {
            with_mock = Engine { resources: Arc::new(engine.resources.with_mock(Arc::clone(mock))), ..engine.clone() };
            &with_mock
        }
        None => engine,
    };
    exec.event("ExecutionStarted", None, || Some(Value::object([("input", exec.input.clone())])));

    let mut deadline = engine.config.max_duration;
    if let Some(t) = program.timeout_seconds {
        deadline = deadline.min(Duration::from_secs(t));
    }
    let mut thread = Thread::new(Arc::clone(&program), ROOT_BLOCK, exec.input.clone());
    // The fast path: a thread that never suspends needs no timer at all.
    let ended = match thread.run(&exec) {
        Step::Succeeded(v) => Ended::Finished(Ok(v)),
        Step::Failed(e) => Ended::Finished(Err(e)),
        Step::Suspended(s) => {
            let deadline = exec.clock.instant_at(exec.identity.start_ms) + deadline;
            let driven = drive_until(&mut thread, &exec, engine, s, deadline);
            match stop {
                None => driven.await,
                Some(stop) => tokio::select! {
                    ended = driven => ended,
                    reason = stop.stopped() => Ended::Stopped(reason),
                },
            }
        }
    };
    let (status, output, error, cause) = match ended {
        Ended::Finished(Ok(v)) => {
            exec.event("ExecutionSucceeded", None, || Some(Value::object([("output", v.clone())])));
            (ExecutionStatus::Succeeded, Some(v), None, None)
        }
        Ended::Finished(Err(e)) => {
            exec.event("ExecutionFailed", None, || Some(e.to_error_output()));
            (ExecutionStatus::Failed, None, e.error, e.cause)
        }
        Ended::Stopped(reason) => {
            exec.event("ExecutionAborted", None, || reason.details());
            (ExecutionStatus::Aborted, None, reason.error, reason.cause)
        }
        Ended::TimedOut => {
            exec.event("ExecutionTimedOut", None, || None);
            (ExecutionStatus::TimedOut, None, Some(Str::from(STATES_TIMEOUT)), None)
        }
    };
    ExecutionOutcome {
        identity: exec.identity.clone(),
        input: exec.input.clone(),
        status,
        output,
        error,
        cause,
        stop_ms: exec.clock.now_ms(),
        history: exec.take_history(),
    }
}

/// How the drive of an execution ended.
enum Ended {
    Finished(Result<Value, AslError>),
    TimedOut,
    Stopped(super::start::StopReason),
}

pub(super) fn make_identity(engine: &Engine, opts: &StartOptions, start_ms: i64) -> ExecutionIdentity {
    let cfg = &engine.config;
    let sm = &*opts.state_machine_name;
    // Built with push_str rather than format!: this runs once per execution.
    let name: Str = opts.name.clone().unwrap_or_else(|| Str::from(crate::ids::uuid_v4()));
    let mut arn = String::with_capacity(64 + sm.len() + name.len() + cfg.region.len() + cfg.account.len());
    for part in ["arn:aws:states:", &cfg.region, ":", &cfg.account, if opts.express { ":express:" } else { ":execution:" }, sm, ":", &name] {
        arn.push_str(part);
    }
    if opts.express {
        arn.push(':');
        crate::ids::push_uuid_v4(&mut arn);
    }
    ExecutionIdentity {
        execution_arn: Str::from(arn),
        name,
        state_machine_arn: opts
            .state_machine_arn
            .clone()
            .unwrap_or_else(|| Str::from(["arn:aws:states:", &cfg.region, ":", &cfg.account, ":stateMachine:", sm].concat())),
        state_machine_name: opts.state_machine_name.clone(),
        role_arn: opts.role_arn.clone().unwrap_or_else(|| default_role_arn(&cfg.account, sm)),
        start_ms,
        redrive_count: if opts.sync && opts.express { None } else { Some(0) },
    }
}

/// The role AWS's console creates for a state machine, used when none is given.
fn default_role_arn(account: &str, state_machine: &str) -> Str {
    Str::from(["arn:aws:iam::", account, ":role/service-role/StepFunctions-", state_machine, "-role"].concat())
}

/// Drives the top-level thread from its first suspension to its end, cut at `deadline`.
///
/// The deadline is applied at each suspension instead of by a timer around the whole drive: a
/// Wait sleeps once, until its own time or the deadline, whichever is first, so a parked
/// execution holds one timer and a small future (a million parked executions must fit in
/// 2 GiB). Anything else waited for (Task I/O, fan-out, a yield of a long CPU loop) runs under
/// `timeout_at(deadline)`, which also cuts the branches and iterations running inside it.
async fn drive_until(thread: &mut Thread, exec: &Arc<ExecShared>, engine: &Engine, first: Suspend, deadline: Instant) -> Ended {
    let mut suspended = first;
    loop {
        let in_time = match suspended {
            Suspend::Wait { until_ms } => {
                let until = exec.clock.instant_at(until_ms);
                tokio::time::sleep_until(until.min(deadline)).await;
                if until > deadline {
                    false
                } else {
                    thread.resume_wait();
                    true
                }
            }
            // Boxed: Task I/O and fan-out futures are far larger than a Wait's sleep and
            // would otherwise size every parked execution.
            other => tokio::time::timeout_at(deadline, Box::pin(handle_suspension(thread, exec, engine, other))).await.is_ok(),
        };
        if !in_time {
            return Ended::TimedOut;
        }
        match thread.run(exec) {
            Step::Succeeded(v) => return Ended::Finished(Ok(v)),
            Step::Failed(e) => return Ended::Finished(Err(e)),
            Step::Suspended(next) => suspended = next,
        }
    }
}

/// Runs a thread to its end, doing what it waits for.
pub(super) fn drive<'a>(thread: &'a mut Thread, exec: &'a Arc<ExecShared>, engine: &'a Engine) -> BoxFuture<'a, Result<Value, AslError>> {
    Box::pin(async move {
        loop {
            match thread.run(exec) {
                Step::Succeeded(v) => return Ok(v),
                Step::Failed(e) => return Err(e),
                Step::Suspended(s) => handle_suspension(thread, exec, engine, s).await,
            }
        }
    })
}

async fn handle_suspension(thread: &mut Thread, exec: &Arc<ExecShared>, engine: &Engine, s: Suspend) {
    match s {
        Suspend::Yield if engine.config.virtual_time => tokio::time::sleep(VIRTUAL_COST_OF_BUDGET).await,
        Suspend::Yield => tokio::task::yield_now().await,
        Suspend::Wait { until_ms } => {
            exec.clock.sleep_until_ms(until_ms).await;
            thread.resume_wait();
        }
        Suspend::Task(call) => {
            let result = engine.resources.invoke(&call, exec).await;
            thread.resume_task(result);
        }
        // Fan-out futures are large and rare: boxed, so a parked execution (Wait, Task) keeps
        // only what its own suspension needs (see `parked_executions_stay_small`).
        Suspend::Parallel { branches, input, vars } => {
            let program = Arc::clone(thread.program());
            let result = Box::pin(fanout::run_parallel(&program, &branches, input, &vars, exec, engine)).await;
            thread.resume_branches(result);
        }
        Suspend::Map(run) => {
            let program = Arc::clone(thread.program());
            let state = thread.current_state();
            let result = Box::pin(fanout::run_map(&program, state, *run, exec, engine)).await;
            thread.resume_branches(result);
        }
    }
}

/// Runs `block` of `program` as a thread of `exec` (a Parallel branch or Map iteration) whose
/// variable frame is `vars`.
pub(super) async fn run_block(
    program: &Arc<Program>,
    block: BlockId,
    input: Value,
    vars: Arc<Frame>,
    exec: &Arc<ExecShared>,
    engine: &Engine,
) -> Result<Value, AslError> {
    let mut thread = Thread::with_vars(Arc::clone(program), block, input, vars);
    drive(&mut thread, exec, engine).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A parked execution's memory is mostly its future (a million parked Waits must fit in
    /// 2 GiB with their values and timers). Generous bounds, to catch a large value creeping
    /// into what every execution holds, not to pin the compiler's layout.
    #[test]
    fn parked_executions_stay_small() {
        let engine = Engine::default();
        let program = Arc::new(crate::compile::compile_str(r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#).unwrap());
        let opts = StartOptions::new("x");
        assert!(std::mem::size_of::<Suspend>() <= 64, "Suspend: {}", std::mem::size_of::<Suspend>());
        let exec = new_execution(&engine, Value::Null, &opts);
        let mut thread = Thread::new(Arc::clone(&program), ROOT_BLOCK, Value::Null);
        let drive = drive_until(&mut thread, &exec, &engine, Suspend::Yield, Instant::now());
        assert!(std::mem::size_of_val(&drive) <= 40000, "drive_until: {}", std::mem::size_of_val(&drive));
        drop(drive);
        let signal = crate::runtime::start::StopSignal::default();
        let whole = execute(&engine, &program, exec, None, Some(&signal));
        assert!(std::mem::size_of_val(&whole) <= 90000, "execute: {}", std::mem::size_of_val(&whole));
    }
}
