//! The synchronous, resumable interpreter of one [`Program`] block.
//!
//! A [`Thread`] runs one `States` block (the top level, a Parallel branch or a Map iteration)
//! from its `StartAt` until it ends, fails, or must wait for something outside the VM: a Task's
//! I/O, a Wait or retry timer, the branches of a Parallel or the iterations of a Map. It then
//! returns [`Step::Suspended`]; the driver (`runtime`) does the waiting and calls the matching
//! `resume_*` method, and [`Thread::run`] continues. There is no `.await` in here, so the VM
//! can be tested, fuzzed and benchmarked without a runtime.
//!
//! Invariants:
//! - A suspended thread accepts exactly the resume call that matches its suspension; any other
//!   call is ignored and the thread fails with an engine error rather than panicking.
//! - History event ids are allocated in the order events happen (see `context`), and every
//!   runtime error leaving a state carries "(entered at the event id #N)" for that state.
//! - `run` returns after at most [`TRANSITION_BUDGET`] transitions with `Suspend::Yield`, so a
//!   tight Choice loop cannot hold a worker thread or outrun the execution deadline.

pub mod context;
pub mod history;
pub mod inspect;
pub mod io;
mod jsonata;
mod jsonata_state;
mod map;
mod retry;
pub mod vars;
mod wait;

use std::sync::Arc;

use crate::error::AslError;
use crate::program::*;
use crate::value::{Str, Value};

pub use context::{ExecShared, ExecutionIdentity, MapItem, StateRoots};
pub use history::HistoryEvent;
pub use inspect::Inspection;
pub use map::MapRun;
pub use vars::Frame;

use io::{apply_io_path, apply_result_path, check_size, eval_template};

/// Transitions one `run` call may make before yielding to the driver.
pub const TRANSITION_BUDGET: u32 = 1024;

/// What `run` stopped on.
#[derive(Debug)]
pub enum Step {
    Succeeded(Value),
    Failed(AslError),
    Suspended(Suspend),
}

/// What a suspended thread waits for.
#[derive(Debug)]
pub enum Suspend {
    /// Invoke a Task resource; resume with [`Thread::resume_task`]. (Boxed, as is the Map run:
    /// the enum is held by every parked execution, and Waits need only the small variants.)
    Task(Box<TaskCall>),
    /// Sleep until a wall time (Wait state or retry back-off); resume with [`Thread::resume_wait`].
    Wait { until_ms: i64 },
    /// Run every branch on the same input; resume with [`Thread::resume_branches`].
    Parallel { branches: Vec<BlockId>, input: Value, vars: Arc<Frame> },
    /// Run the iterations of a Map; resume with [`Thread::resume_branches`].
    Map(Box<MapRun>),
    /// The transition budget ran out; call `run` again (after yielding).
    Yield,
}

/// A Task invocation the driver must perform.
#[derive(Debug, Clone)]
pub struct TaskCall {
    pub resource: Str,
    pub input: Value,
    pub state_name: Str,
    /// The Task's timeout, if the definition sets one.
    pub timeout_ms: Option<u64>,
    pub heartbeat_ms: Option<u64>,
    pub credentials: Option<Value>,
    /// 0 for the first attempt, then 1, 2, … for retries.
    pub attempt: u32,
}

/// Where a thread is inside the current state.
#[derive(Debug)]
enum Phase {
    /// About to enter `pc` (emit its Entered event).
    Enter,
    /// Entered; about to (re)do the state's work (also after a retry back-off).
    Work,
    AwaitTask,
    TaskDone(Result<Value, AslError>),
    AwaitWait,
    WaitDone,
    AwaitBranches,
    BranchesDone(Result<Value, AslError>),
    AwaitRetry,
    Finished,
}

/// One running block of a program.
pub struct Thread {
    program: Arc<Program>,
    pc: StateId,
    phase: Phase,
    /// The current state's raw input.
    input: Value,
    /// The current state's input after InputPath (kept across suspensions).
    effective: Value,
    /// An upper bound on `input`'s compact JSON length, when known (see `output_len_bound`).
    /// Known bounds are under the payload limit, so they fit in a `u32` (every parked
    /// execution holds its thread).
    input_len_bound: Option<u32>,
    /// An upper bound on the length of the output `finish` just produced; it becomes the next
    /// state's `input_len_bound`. Pass states chain these bounds through
    /// `State::output_bound`, so a run of them proves its outputs fit the payload limit
    /// without walking each one.
    output_len_bound: Option<u32>,
    entered_event: u64,
    entered_ms: i64,
    /// Attempts made per retrier of the current state; reset on every transition.
    retry_counts: smallvec::SmallVec<[u32; 4]>,
    /// Total retries of the current state (the context object's `State.RetryCount`).
    retries: u32,
    /// A failure event to record once `handle_error` decides the state is not retried.
    failed_event: Option<&'static str>,
    /// This block's variable frame.
    vars: Arc<Frame>,
    /// Set for single-state runs (TestState): stage values are recorded and the thread stops at
    /// the state's first transition.
    inspection: Option<Box<Inspection>>,
}

/// Internal result of a piece of state work.
enum Flow {
    Next(StateId, Value),
    End(Value),
    Fail(AslError),
    Suspend(Suspend),
}

impl Thread {
    /// A thread that will start `block` with `input` and a fresh top-level variable frame.
    pub fn new(program: Arc<Program>, block: BlockId, input: Value) -> Thread {
        Thread::with_vars(program, block, input, Frame::root())
    }

    /// A thread for a branch or iteration whose variables live in `vars`.
    pub fn with_vars(program: Arc<Program>, block: BlockId, input: Value, vars: Arc<Frame>) -> Thread {
        let pc = program.block(block).start;
        Thread {
            program,
            pc,
            phase: Phase::Enter,
            effective: Value::Null,
            input,
            input_len_bound: None,
            output_len_bound: None,
            entered_event: 0,
            entered_ms: 0,
            retry_counts: smallvec::SmallVec::new(),
            retries: 0,
            failed_event: None,
            vars,
            inspection: None,
        }
    }

    /// The thread's variables (for tools and tests).
    pub fn vars(&self) -> &Arc<Frame> {
        &self.vars
    }

    /// A thread that starts at a given state (TestState, tools).
    pub fn at_state(program: Arc<Program>, state: StateId, input: Value) -> Thread {
        let mut t = Thread::new(program, ROOT_BLOCK, input);
        t.pc = state;
        t
    }

    /// Makes this a single-state run that records what `inspection` asks for (see `inspect`).
    pub fn inspect(&mut self, inspection: Inspection) {
        self.inspection = Some(Box::new(inspection));
    }

    /// What an inspected run recorded so far.
    pub fn inspection(&self) -> Option<&Inspection> {
        self.inspection.as_deref()
    }

    /// Replaces the thread's variables (TestState's `variables`).
    pub fn set_vars(&mut self, vars: Arc<Frame>) {
        self.vars = vars;
    }

    #[inline]
    fn record(&mut self, f: impl FnOnce(&mut Inspection)) {
        if let Some(i) = self.inspection.as_deref_mut() {
            f(i);
        }
    }

    /// The items an inspected Map state uses instead of reading its own.
    fn items_override(&self) -> Option<Value> {
        self.inspection.as_ref().and_then(|i| i.items_override.clone())
    }

    pub fn program(&self) -> &Arc<Program> {
        &self.program
    }

    /// The state the thread is in (or about to enter).
    pub fn current_state(&self) -> StateId {
        self.pc
    }

    pub fn resume_task(&mut self, result: Result<Value, AslError>) {
        if matches!(self.phase, Phase::AwaitTask) {
            self.phase = Phase::TaskDone(result);
        } else {
            self.phase = Phase::TaskDone(Err(engine_error("a task result arrived for a thread not waiting on a task")));
        }
    }

    pub fn resume_wait(&mut self) {
        self.phase = match self.phase {
            Phase::AwaitWait => Phase::WaitDone,
            Phase::AwaitRetry => Phase::Work,
            _ => Phase::TaskDone(Err(engine_error("a timer fired for a thread not waiting on one"))),
        };
    }

    pub fn resume_branches(&mut self, result: Result<Vec<Value>, AslError>) {
        self.resume_fanout(result.map(Value::array));
    }

    /// Resumes a Parallel or Map with its whole result at once (TestState's mocked result).
    pub fn resume_fanout(&mut self, result: Result<Value, AslError>) {
        if matches!(self.phase, Phase::AwaitBranches) {
            self.phase = Phase::BranchesDone(result);
        } else {
            self.phase = Phase::TaskDone(Err(engine_error("branch results arrived for a thread not waiting on branches")));
        }
    }

    /// Runs until the thread ends, fails or must wait.
    pub fn run(&mut self, exec: &ExecShared) -> Step {
        let program = Arc::clone(&self.program);
        let mut budget = TRANSITION_BUDGET;
        loop {
            let state = program.state(self.pc);
            let flow = match std::mem::replace(&mut self.phase, Phase::Work) {
                Phase::Enter => {
                    self.retry_counts.clear();
                    self.retry_counts.resize(state.retry.len(), 0);
                    self.retries = 0;
                    if state.reads_entered_time {
                        self.entered_ms = exec.clock.now_ms();
                    }
                    let input = &self.input;
                    self.entered_event = exec.event(state.kind.entered_event(), Some(&state.name), || {
                        Some(Value::object([("name", Value::String(state.name.clone())), ("input", input.clone())]))
                    });
                    self.work(state, exec)
                }
                Phase::Work => self.work(state, exec),
                Phase::TaskDone(result) => self.task_done(state, exec, result),
                Phase::WaitDone => self.wait_done(state, exec),
                Phase::BranchesDone(result) => self.branches_done(state, exec, result),
                Phase::Finished => return Step::Failed(engine_error("run called on a finished thread")),
                waiting @ (Phase::AwaitTask | Phase::AwaitWait | Phase::AwaitBranches | Phase::AwaitRetry) => {
                    self.phase = waiting;
                    return Step::Failed(engine_error("run called on a thread that is still waiting"));
                }
            };
            match flow {
                Flow::Next(next, output) if self.inspection.is_some() => {
                    self.record(|i| i.next_state = Some(next));
                    self.phase = Phase::Finished;
                    return Step::Succeeded(output);
                }
                Flow::Next(next, output) => {
                    self.input = output;
                    self.input_len_bound = self.output_len_bound.take();
                    self.pc = next;
                    self.phase = Phase::Enter;
                    budget -= 1;
                    if budget == 0 {
                        return Step::Suspended(Suspend::Yield);
                    }
                }
                Flow::End(output) => {
                    self.phase = Phase::Finished;
                    return Step::Succeeded(output);
                }
                Flow::Fail(e) => {
                    self.phase = Phase::Finished;
                    return Step::Failed(e);
                }
                Flow::Suspend(s) => {
                    self.phase = match &s {
                        Suspend::Task(_) => Phase::AwaitTask,
                        Suspend::Wait { .. } if matches!(self.phase, Phase::AwaitRetry) => Phase::AwaitRetry,
                        Suspend::Wait { .. } => Phase::AwaitWait,
                        Suspend::Parallel { .. } | Suspend::Map(_) => Phase::AwaitBranches,
                        Suspend::Yield => Phase::Work,
                    };
                    return Step::Suspended(s);
                }
            }
        }
    }

    fn roots<'a>(&'a self, state: &'a State, exec: &'a ExecShared, input: &'a Value) -> StateRoots<'a> {
        StateRoots {
            input,
            exec,
            state_name: &state.name,
            entered_ms: self.entered_ms,
            retry_count: matches!(state.kind, StateKind::Task(_)).then_some(self.retries),
            map_item: None,
            vars: Some(&self.vars),
            jsonata: state.query_language == QueryLanguage::Jsonata,
        }
    }

    /// Evaluates `assign` against the current variables, then applies every assignment at once.
    /// JSONPath: `$` is `on.dollar`. JSONata: `$states.input` is the state input, plus
    /// `$states.result` / `$states.errorOutput` where given.
    fn assign(&mut self, assign: &Option<Assign>, state: &State, exec: &ExecShared, on: AssignOn) -> Result<(), AslError> {
        let values = match assign {
            None => return Ok(()),
            Some(Assign::JsonPath(t)) => eval_template(t, &self.roots(state, exec, on.dollar))?,
            Some(Assign::Jsonata(t)) => {
                let roots = self.roots(state, exec, &self.input);
                jsonata::eval(t, &jsonata::JEnv::new(&roots, on.result, on.error_output))?
            }
        };
        vars::apply(&mut self.vars, values, &state.name)
    }

    /// Whether a Choice branch's test holds.
    fn condition_holds(&self, c: &Condition, roots: &StateRoots) -> Result<bool, AslError> {
        match c {
            Condition::Rule(rule) => rule.eval(roots),
            Condition::Jsonata(t) => jsonata::eval_bool(t, &jsonata::JEnv::new(roots, None, None)),
        }
    }

    /// Prefixes a runtime error with this state's name and entered event id.
    fn located(&self, state: &State, e: AslError) -> AslError {
        e.with_state_prefix(&state.name, self.entered_event)
    }

    /// The state's work from its (re)start up to a result or a suspension.
    fn work(&mut self, state: &State, exec: &ExecShared) -> Flow {
        match self.work_inner(state, exec) {
            Ok(flow) => flow,
            Err(e) => self.handle_error(state, exec, e),
        }
    }

    fn work_inner(&mut self, state: &State, exec: &ExecShared) -> Result<Flow, AslError> {
        if state.query_language == QueryLanguage::Jsonata {
            return self.work_jsonata(state, exec);
        }
        // Borrowed, not cloned: `finish` may take the input over and change it in place.
        let effective = apply_io_path(&state.io.input_path, &self.input, &self.roots(state, exec, &self.input))?;
        self.record(|i| i.after_input_path = Some(effective.clone()));
        self.effective = effective;
        match &state.kind {
            StateKind::Pass { result } => {
                let value = match (result, &state.io.parameters) {
                    (Some(r), _) => r.clone(),
                    (None, Some(t)) => eval_template(t, &self.roots(state, exec, &self.effective))?,
                    (None, None) => self.effective.clone(),
                };
                let is_result = result.is_some();
                self.record(|i| match is_result {
                    true => i.result = Some(value.clone()),
                    false => i.after_parameters = Some(value.clone()),
                });
                self.finish(state, exec, value)
            }
            StateKind::Succeed => {
                let output = apply_io_path(&state.io.output_path, &self.effective, &self.roots(state, exec, &self.effective))?;
                self.exited(state, exec, &output);
                Ok(Flow::End(output))
            }
            StateKind::Fail(spec) => {
                let roots = self.roots(state, exec, &self.input);
                let error = fail_field(&spec.error, "ErrorPath", &roots)?;
                let cause = fail_field(&spec.cause, "CausePath", &roots)?;
                Ok(Flow::Fail(AslError { error, cause, needs_state_prefix: false }))
            }
            StateKind::Choice { choices, default } => {
                let roots = self.roots(state, exec, &self.effective);
                let mut chosen = None;
                for branch in choices {
                    if self.condition_holds(&branch.condition, &roots)? {
                        chosen = Some(branch);
                        break;
                    }
                }
                // A matching rule assigns its own variables; the state's Assign runs when the
                // Default is taken.
                let (next, assign) = match (chosen, default) {
                    (Some(b), _) => (Some(b.next), &b.assign),
                    (None, d) => (*d, &state.assign),
                };
                let Some(next) = next else {
                    return Err(AslError::new(
                        crate::error::STATES_NO_CHOICE_MATCHED,
                        format!("An error occurred while executing the state '{}' (entered at the event id #{}). No Matches!", state.name, self.entered_event),
                    ));
                };
                let output = apply_io_path(&state.io.output_path, &self.effective, &roots)?;
                let effective = self.effective.clone();
                self.assign(assign, state, exec, AssignOn::dollar(&effective))?;
                self.exited(state, exec, &output);
                Ok(Flow::Next(next, output))
            }
            StateKind::Wait(spec) => {
                let roots = self.roots(state, exec, &self.effective);
                let until = wait::until_ms(spec, &roots, self.entered_ms)?;
                if until <= exec.clock.now_ms() {
                    return self.wait_done_inner(state, exec);
                }
                Ok(Flow::Suspend(Suspend::Wait { until_ms: until }))
            }
            StateKind::Task(spec) => {
                let roots = self.roots(state, exec, &self.effective);
                let task_input = match &state.io.parameters {
                    Some(t) => eval_template(t, &roots)?,
                    None => self.effective.clone(),
                };
                let timeout_ms = seconds_ms(spec.timeout.as_ref(), "TimeoutSecondsPath", &roots)?;
                let heartbeat_ms = seconds_ms(spec.heartbeat.as_ref(), "HeartbeatSecondsPath", &roots)?;
                self.record(|i| i.after_parameters = Some(task_input.clone()));
                Ok(self.schedule_task(state, exec, spec, task_input, timeout_ms, heartbeat_ms))
            }
            StateKind::Parallel { branches } => {
                let roots = self.roots(state, exec, &self.effective);
                let branch_input = match &state.io.parameters {
                    Some(t) => eval_template(t, &roots)?,
                    None => self.effective.clone(),
                };
                self.record(|i| i.after_parameters = Some(branch_input.clone()));
                exec.event("ParallelStateStarted", Some(&state.name), || None);
                Ok(Flow::Suspend(Suspend::Parallel { branches: branches.clone(), input: branch_input, vars: Arc::clone(&self.vars) }))
            }
            StateKind::Map(spec) => {
                let roots = self.roots(state, exec, &self.effective);
                let items = self.items_override();
                Ok(Flow::Suspend(Suspend::Map(Box::new(map::prepare(spec, &roots, exec, &self.vars, items)?))))
            }
        }
    }

    /// Records the scheduling events and suspends on the Task call.
    fn schedule_task(
        &self,
        state: &State,
        exec: &ExecShared,
        spec: &TaskSpec,
        task_input: Value,
        timeout_ms: Option<u64>,
        heartbeat_ms: Option<u64>,
    ) -> Flow {
        let lambda = is_lambda(&spec.resource);
        exec.event(if lambda { "LambdaFunctionScheduled" } else { "TaskScheduled" }, Some(&state.name), || {
            Some(Value::object([("resource", Value::String(spec.resource.clone())), ("parameters", Value::from(task_input.to_json()))]))
        });
        exec.event(if lambda { "LambdaFunctionStarted" } else { "TaskStarted" }, Some(&state.name), || None);
        Flow::Suspend(Suspend::Task(Box::new(TaskCall {
            resource: spec.resource.clone(),
            input: task_input,
            state_name: state.name.clone(),
            timeout_ms,
            heartbeat_ms,
            credentials: spec.credentials.clone(),
            attempt: self.retries,
        })))
    }

    fn task_done(&mut self, state: &State, exec: &ExecShared, result: Result<Value, AslError>) -> Flow {
        let lambda = matches!(&state.kind, StateKind::Task(t) if is_lambda(&t.resource));
        match result {
            Ok(value) => {
                if let Err(e) = check_size(&value, &state.name) {
                    return self.handle_error(state, exec, e);
                }
                exec.event(if lambda { "LambdaFunctionSucceeded" } else { "TaskSucceeded" }, Some(&state.name), || {
                    Some(Value::object([("output", Value::from(value.to_json()))]))
                });
                match self.finish(state, exec, value) {
                    Ok(flow) => flow,
                    Err(e) => self.handle_error(state, exec, e),
                }
            }
            Err(e) => {
                if matches!(state.kind, StateKind::Task(_)) {
                    let timed_out = e.error_name() == crate::error::STATES_TIMEOUT;
                    let kind = match (lambda, timed_out) {
                        (true, true) => "LambdaFunctionTimedOut",
                        (true, false) => "LambdaFunctionFailed",
                        (false, true) => "TaskTimedOut",
                        (false, false) => "TaskFailed",
                    };
                    exec.event(kind, Some(&state.name), || Some(e.to_error_output()));
                }
                self.handle_error(state, exec, e)
            }
        }
    }

    fn wait_done(&mut self, state: &State, exec: &ExecShared) -> Flow {
        match self.wait_done_inner(state, exec) {
            Ok(flow) => flow,
            Err(e) => self.handle_error(state, exec, e),
        }
    }

    fn wait_done_inner(&mut self, state: &State, exec: &ExecShared) -> Result<Flow, AslError> {
        if state.query_language == QueryLanguage::Jsonata {
            return self.finish_jsonata(state, exec, None);
        }
        let output = apply_io_path(&state.io.output_path, &self.effective, &self.roots(state, exec, &self.effective))?;
        let effective = self.effective.clone();
        self.assign(&state.assign, state, exec, AssignOn::dollar(&effective))?;
        self.exited(state, exec, &output);
        Ok(self.transition(state, output))
    }

    fn branches_done(&mut self, state: &State, exec: &ExecShared, result: Result<Value, AslError>) -> Flow {
        match result {
            Ok(value) => {
                // AWS records MapStateSucceeded but no ParallelStateSucceeded (recorded histories).
                if matches!(state.kind, StateKind::Map(_)) {
                    exec.event(state.kind.outcome_event(true), Some(&state.name), || None);
                }
                match self.finish(state, exec, value) {
                    Ok(flow) => flow,
                    Err(e) => self.handle_error(state, exec, e),
                }
            }
            Err(e) => {
                // `<Type>StateFailed` is recorded only when the state will not be retried.
                self.failed_event = Some(state.kind.outcome_event(false));
                self.handle_error(state, exec, e)
            }
        }
    }

    /// ResultSelector → ResultPath → OutputPath → size check → Exited → transition.
    fn finish(&mut self, state: &State, exec: &ExecShared, result: Value) -> Result<Flow, AslError> {
        if state.query_language == QueryLanguage::Jsonata {
            return self.finish_jsonata(state, exec, Some(result));
        }
        // A Pass state's value is recorded where it is made (its `Result`, or its parameters).
        if !matches!(state.kind, StateKind::Pass { .. }) {
            self.record(|i| i.result = Some(result.clone()));
        }
        let selected = match &state.io.result_selector {
            Some(t) => eval_template(t, &self.roots(state, exec, &result))?,
            None => result,
        };
        self.record(|i| i.after_result_selector = Some(selected.clone()));
        // Only from a known input bound: walking the input to get one could cost as much as
        // the output's own check.
        let known_bound = state.output_bound.zip(self.input_len_bound).map(|(b, input_len)| b.at(input_len as usize));
        // A state that can retry or catch keeps its input for that; any other hands its only
        // reference to ResultPath, which then changes the input in place instead of copying it.
        let input = if state.retry.is_empty() && state.catch.is_empty() {
            self.effective = Value::Null;
            std::mem::take(&mut self.input)
        } else {
            self.input.clone()
        };
        let merged = apply_result_path(&state.io.result_path, input, selected.clone())?;
        self.record(|i| i.after_result_path = Some(merged.clone()));
        let output = apply_io_path(&state.io.output_path, &merged, &self.roots(state, exec, &merged))?;
        let output_bound = match known_bound {
            Some(bound) if bound <= io::PAYLOAD_LIMIT_BYTES => bound,
            _ => check_size(&output, &state.name)?,
        };
        self.assign(&state.assign, state, exec, AssignOn::dollar(&selected))?;
        self.exited(state, exec, &output);
        self.output_len_bound = u32::try_from(output_bound).ok();
        Ok(self.transition(state, output))
    }

    fn transition(&self, state: &State, output: Value) -> Flow {
        match state.next {
            Transition::Next(next) => Flow::Next(next, output),
            Transition::End => Flow::End(output),
        }
    }

    fn exited(&self, state: &State, exec: &ExecShared, output: &Value) {
        exec.event(state.kind.exited_event(), Some(&state.name), || {
            Some(Value::object([("name", Value::String(state.name.clone())), ("output", output.clone())]))
        });
    }
}

/// What an `Assign` is evaluated on.
#[derive(Clone, Copy)]
struct AssignOn<'a> {
    /// JSONPath `$`.
    dollar: &'a Value,
    /// JSONata `$states.result`.
    result: Option<&'a Value>,
    /// JSONata `$states.errorOutput`.
    error_output: Option<&'a Value>,
}

impl<'a> AssignOn<'a> {
    fn dollar(v: &'a Value) -> AssignOn<'a> {
        AssignOn { dollar: v, result: None, error_output: None }
    }
}

fn engine_error(msg: &str) -> AslError {
    AslError::new(crate::error::STATES_RUNTIME, format!("Internal engine error: {msg}"))
}

fn is_lambda(resource: &str) -> bool {
    resource.starts_with("arn:aws:lambda:") || resource.starts_with("arn:aws-cn:lambda:") || resource.starts_with("arn:aws-us-gov:lambda:")
}

fn fail_field(field: &FailField, name: &str, roots: &StateRoots) -> Result<Option<Str>, AslError> {
    Ok(match field {
        FailField::None => None,
        FailField::Literal(s) => Some(s.clone()),
        FailField::Path(p) => Some(match io::resolve_field_path(p, name, roots)? {
            Value::String(s) => s,
            other => Str::from(other.to_json()),
        }),
        FailField::Intrinsic(call) => Some(match call.eval(roots, name)? {
            Value::String(s) => s,
            other => Str::from(other.to_json()),
        }),
        FailField::Jsonata(t) => Some(jsonata::eval_string(t, &jsonata::JEnv::new(roots, None, None))?),
    })
}

/// A seconds value (TimeoutSeconds/HeartbeatSeconds or their paths) in milliseconds.
fn seconds_ms(source: Option<&NumberSource>, path_field: &str, roots: &StateRoots) -> Result<Option<u64>, AslError> {
    match source {
        None => Ok(None),
        Some(NumberSource::Literal(n)) => Ok(Some((n.max(0.0) * 1000.0) as u64)),
        Some(NumberSource::Jsonata(t)) => {
            let n = jsonata::eval_integer(t, &jsonata::JEnv::new(roots, None, None))?;
            Ok(Some(n.max(0) as u64 * 1000))
        }
        Some(NumberSource::Path(p)) => {
            let v = p.resolve(roots).map_err(|miss| {
                AslError::runtime(format!("Invalid path '{}' : {}", p.source(), miss.message))
            })?;
            match v.as_i64() {
                Some(n) if n > 0 => Ok(Some(n as u64 * 1000)),
                _ => Err(AslError::runtime(format!(
                    "The {path_field} field refers to value \"{}\" which is not a valid positive integer: {}",
                    io::quote_raw(&v),
                    p.source()
                ))),
            }
        }
    }
}
