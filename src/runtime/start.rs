//! Admission and the two ways to start an execution: [`Engine::start_sync`] (run to the end in
//! the caller's task) and [`Engine::start`] (spawned, answered at once with the identity).
//!
//! Invariants:
//! - At most `EngineConfig::max_in_flight` executions are admitted and unfinished at any time;
//!   past that, starting fails with [`StartError::Throttled`] instead of queueing, so memory is
//!   bounded by the limit and callers (the API's ThrottlingException, a blocked producer) decide.
//! - An admitted execution is counted until its outcome is delivered: the permit lives in the
//!   spawned task and is released by `Drop`, so a panic or a runtime shutdown cannot leak it.
//! - `start`'s `on_done` runs exactly once, with the outcome, including after a stop (ABORTED).
//!   A task dropped by a runtime shutdown never reports; a server that must not lose accepted
//!   executions drains them (waits for `in_flight() == 0`) before it shuts its runtime down.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crossbeam_utils::CachePadded;
use tokio::sync::Notify;

use crate::program::Program;
use crate::value::{Str, Value};
use crate::vm::ExecutionIdentity;

use super::execution::{execute, new_execution};
use super::{Engine, ExecutionOutcome, StartOptions};

/// Why an execution could not be started.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum StartError {
    /// The engine already runs its maximum number of executions.
    #[error("Rate exceeded: {limit} executions are already in flight")]
    Throttled { limit: usize },
}

impl StartError {
    /// The AWS error name this maps to in an API response.
    pub fn aws_type(&self) -> &'static str {
        match self {
            StartError::Throttled { .. } => "ThrottlingException",
        }
    }
}

/// The count of admitted, unfinished executions (one padded atomic: a single increment and
/// decrement per execution is cheaper than summing shards on every admission check).
#[derive(Default)]
pub(super) struct Admission {
    in_flight: CachePadded<AtomicUsize>,
}

/// One admitted execution; releases its slot when dropped.
struct Permit {
    admission: Arc<Admission>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.admission.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Admission {
    fn admit(self: &Arc<Self>, limit: usize) -> Result<Permit, StartError> {
        let admitted = self
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| if n < limit { Some(n + 1) } else { None })
            .is_ok();
        if admitted {
            Ok(Permit { admission: Arc::clone(self) })
        } else {
            Err(StartError::Throttled { limit })
        }
    }
}

/// An execution started with [`Engine::start`].
pub struct Started {
    pub identity: ExecutionIdentity,
    pub stop: StopHandle,
}

/// Why an execution was stopped (StopExecution's `error` and `cause`).
#[derive(Debug, Clone, Default)]
pub struct StopReason {
    pub error: Option<Str>,
    pub cause: Option<Str>,
}

impl StopReason {
    /// The `ExecutionAborted` history details: `{Error, Cause}` as a failure's.
    pub(super) fn details(&self) -> Option<Value> {
        let as_error = crate::error::AslError { error: self.error.clone(), cause: self.cause.clone(), needs_state_prefix: false };
        Some(as_error.to_error_output())
    }
}

/// The receiving side of a stop request, watched by the execution's drive.
#[derive(Default)]
pub(super) struct StopSignal {
    reason: Mutex<Option<StopReason>>,
    notify: Notify,
}

impl StopSignal {
    /// Resolves once a stop has been requested, with its reason.
    pub(super) async fn stopped(&self) -> StopReason {
        loop {
            let notified = self.notify.notified();
            if let Some(reason) = self.reason.lock().ok().and_then(|r| r.clone()) {
                return reason;
            }
            notified.await;
        }
    }
}

/// Stops a running execution; stopping a finished one does nothing. Cheap to clone.
#[derive(Clone)]
pub struct StopHandle {
    signal: Arc<StopSignal>,
}

impl StopHandle {
    pub fn stop(&self, error: Option<Str>, cause: Option<Str>) {
        if let Ok(mut reason) = self.signal.reason.lock() {
            reason.get_or_insert(StopReason { error, cause });
        }
        self.signal.notify.notify_one();
    }
}

impl Engine {
    /// Runs an execution to its end in the caller's task: no spawn, and a pure workflow
    /// completes within this one poll.
    pub async fn start_sync(&self, program: &Arc<Program>, input: Value, opts: StartOptions) -> Result<ExecutionOutcome, StartError> {
        let _permit = self.admission.admit(self.config.max_in_flight)?;
        let exec = new_execution(self, input, &opts);
        Ok(execute(self, program, exec, opts.mock.as_ref(), None).await)
    }

    /// Admits an execution and spawns it on the current tokio runtime; answers at once with its
    /// identity and a stop handle. `on_done` receives the outcome exactly once.
    ///
    /// Panics if called outside a tokio runtime (as `tokio::spawn` does): that is a programming
    /// error of the embedding code, not something input can cause.
    pub fn start(
        &self,
        program: Arc<Program>,
        input: Value,
        opts: StartOptions,
        on_done: impl FnOnce(ExecutionOutcome) + Send + 'static,
    ) -> Result<Started, StartError> {
        let permit = self.admission.admit(self.config.max_in_flight)?;
        let exec = new_execution(self, input, &opts);
        let signal = Arc::new(StopSignal::default());
        let started = Started { identity: exec.identity.clone(), stop: StopHandle { signal: Arc::clone(&signal) } };
        let engine = self.clone();
        // Only what the execution needs is moved into the task: its size is the memory of
        // every parked execution.
        let mock = opts.mock;
        tokio::spawn(async move {
            let _permit = permit;
            let outcome = execute(&engine, &program, exec, mock.as_ref(), Some(&signal)).await;
            on_done(outcome);
        });
        Ok(started)
    }

    /// Executions admitted and not yet finished.
    pub fn in_flight(&self) -> usize {
        self.admission.in_flight.load(Ordering::Acquire)
    }
}
