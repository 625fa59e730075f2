//! Single-state inspection, for the TestState API: a [`Thread`](super::Thread) given an
//! [`Inspection`] runs exactly one state and records the value after each data-flow stage and
//! what its Retry/Catch decided, so a caller can report them without a second interpreter.
//!
//! Invariants:
//! - Without an inspection the VM behaves exactly as before; every hook is one `Option` check.
//! - With one, the thread stops at the state's first transition (`next_state` records where it
//!   would go) and reports the output as `Step::Succeeded`; a scheduled retry is recorded
//!   (`retry_backoff_seconds`) before the thread suspends on its back-off timer.
//! - The VM records what happened; which stages AWS shows for which state type is the caller's
//!   business (`test_state`), so AWS's reporting quirks stay out of the interpreter.

use crate::error::AslError;
use crate::program::StateId;
use crate::value::Value;

/// Settings for, and the record of, one inspected state run.
#[derive(Debug, Default, Clone)]
pub struct Inspection {
    /// Retries the matching retrier is taken to have made already (TestState's
    /// `stateConfiguration.retrierRetryCount`).
    pub prior_retries: u32,
    /// Items a Map state uses instead of reading them (TestState's `mapItemReaderData`, for a
    /// Map with an `ItemReader`).
    pub items_override: Option<Value>,

    /// JSONPath: the effective input after `InputPath`.
    pub after_input_path: Option<Value>,
    /// JSONPath: the Task/Pass/Parallel input after `Parameters` (the effective input if none).
    pub after_parameters: Option<Value>,
    /// JSONata: the Task/Parallel input after `Arguments`.
    pub after_arguments: Option<Value>,
    /// The Task, Parallel or Map result, or a Pass state's `Result`.
    pub result: Option<Value>,
    pub after_result_selector: Option<Value>,
    pub after_result_path: Option<Value>,
    /// The error Retry/Catch acted on (with its state prefix).
    pub error: Option<AslError>,
    /// The retrier whose `ErrorEquals` matched the error, exhausted or not.
    pub retry_index: Option<usize>,
    /// Set when that retrier schedules another attempt: the back-off before it.
    pub retry_backoff_seconds: Option<f64>,
    /// The catcher that handled the error.
    pub catch_index: Option<usize>,
    /// Where the state would go next (a `Next`, a Choice branch, a catcher's `Next`).
    pub next_state: Option<StateId>,
}
