//! One execution from start to outcome: identity and ARNs, the deadline, the drive loop.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;

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
    /// A Step Functions Local test case for this execution only (a server's
    /// `stateMachineArn#TestCase`); it takes the place of the engine-wide one.
    pub mock: Option<Arc<MockTestCase>>,
}

impl StartOptions {
    pub fn new(state_machine_name: &str) -> StartOptions {
        StartOptions { state_machine_name: Str::from(state_machine_name), name: None, sync: true, express: true, role_arn: None, mock: None }
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
    let clock = Clock::new();
    let identity = make_identity(engine, opts, clock.now_ms());
    execute(engine, &program, clock, identity, input, opts, None).await
}

/// Runs one execution whose identity is already fixed (by [`Engine::start`], which must answer
/// with the ARN before the execution runs), optionally stoppable.
pub(super) async fn execute(
    engine: &Engine,
    program: &Arc<Program>,
    clock: Clock,
    identity: ExecutionIdentity,
    input: Value,
    opts: &StartOptions,
    stop: Option<&StopSignal>,
) -> ExecutionOutcome {
    let program = super::local::local_program(&program);
    let with_mock;
    let engine = match &opts.mock {
        Some(mock) => {
            with_mock = Engine { resources: Arc::new(engine.resources.with_mock(Arc::clone(mock))), ..engine.clone() };
            &with_mock
        }
        None => engine,
    };
    let exec = ExecShared::new(identity, input.clone(), clock, engine.config.record_history);
    exec.event("ExecutionStarted", None, || Some(Value::object([("input", input.clone())])));

    let mut deadline = engine.config.max_duration;
    if let Some(t) = program.timeout_seconds {
        deadline = deadline.min(Duration::from_secs(t));
    }
    let mut thread = Thread::new(Arc::clone(&program), ROOT_BLOCK, input.clone());
    // The fast path: a thread that never suspends needs no timer at all.
    let first = thread.run(&exec);
    let result = match first {
        Step::Succeeded(v) => Some(Ended::Finished(Ok(v))),
        Step::Failed(e) => Some(Ended::Finished(Err(e))),
        Step::Suspended(s) => {
            let driven = async {
                handle_suspension(&mut thread, &exec, engine, s).await;
                drive(&mut thread, &exec, engine).await
            };
            let timed = tokio::time::timeout(deadline, driven);
            match stop {
                None => timed.await.ok().map(Ended::Finished),
                Some(stop) => tokio::select! {
                    r = timed => r.ok().map(Ended::Finished),
                    reason = stop.stopped() => Some(Ended::Stopped(reason)),
                },
            }
        }
    };
    let (status, output, error, cause) = match result {
        Some(Ended::Finished(Ok(v))) => {
            exec.event("ExecutionSucceeded", None, || Some(Value::object([("output", v.clone())])));
            (ExecutionStatus::Succeeded, Some(v), None, None)
        }
        Some(Ended::Finished(Err(e))) => {
            exec.event("ExecutionFailed", None, || Some(e.to_error_output()));
            (ExecutionStatus::Failed, None, e.error, e.cause)
        }
        Some(Ended::Stopped(reason)) => {
            exec.event("ExecutionAborted", None, || reason.details());
            (ExecutionStatus::Aborted, None, reason.error, reason.cause)
        }
        None => {
            exec.event("ExecutionTimedOut", None, || None);
            (ExecutionStatus::TimedOut, None, Some(Str::from(STATES_TIMEOUT)), None)
        }
    };
    ExecutionOutcome {
        identity: exec.identity.clone(),
        input,
        status,
        output,
        error,
        cause,
        stop_ms: exec.clock.now_ms(),
        history: exec.history(),
    }
}

/// How the drive of an execution ended (the deadline is the third way).
enum Ended {
    Finished(Result<Value, AslError>),
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
    let concat = |parts: &[&str]| Str::from(parts.concat());
    ExecutionIdentity {
        execution_arn: Str::from(arn),
        name,
        state_machine_arn: concat(&["arn:aws:states:", &cfg.region, ":", &cfg.account, ":stateMachine:", sm]),
        state_machine_name: opts.state_machine_name.clone(),
        role_arn: opts
            .role_arn
            .clone()
            .unwrap_or_else(|| concat(&["arn:aws:iam::", &cfg.account, ":role/service-role/StepFunctions-", sm, "-role"])),
        start_ms,
        redrive_count: if opts.sync && opts.express { None } else { Some(0) },
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
        Suspend::Parallel { branches, input, vars } => {
            let program = Arc::clone(thread.program());
            let result = fanout::run_parallel(&program, &branches, input, &vars, exec, engine).await;
            thread.resume_branches(result);
        }
        Suspend::Map(run) => {
            let program = Arc::clone(thread.program());
            let state = thread.current_state();
            let result = fanout::run_map(&program, state, run, exec, engine).await;
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
