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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::asl::StateMachineType;
    use crate::clock::Clock;
    use crate::machine::StateMachine;
    use crate::vm::{ExecShared, ExecutionIdentity, Step, Thread};

    fn exec() -> Arc<ExecShared> {
        let identity = ExecutionIdentity {
            execution_arn: "arn:aws:states:us-east-1:123456789012:execution:M:e".into(),
            name: "e".into(),
            state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:M".into(),
            state_machine_name: "M".into(),
            role_arn: "arn:aws:iam::123456789012:role/R".into(),
            start_ms: 0,
            redrive_count: None,
        };
        ExecShared::new(identity, Value::Null, Clock::new(), false)
    }

    const TWO_PASSES: &str = r#"{"StartAt":"A","States":{
        "A":{"Type":"Pass","InputPath":"$.in","Parameters":{"v.$":"$.x"},"ResultPath":"$.r","Next":"B"},
        "B":{"Type":"Pass","Result":"second","End":true}}}"#;

    fn input() -> Value {
        crate::value::parse_str(r#"{"in":{"x":1}}"#).expect("json")
    }

    #[test]
    fn an_inspected_thread_records_the_stages_and_stops_at_the_transition() {
        let machine = StateMachine::new("M", TWO_PASSES, StateMachineType::Standard).expect("valid");
        let program = Arc::clone(&machine.program);
        let a = program.find_state_anywhere("A").expect("A");
        let mut thread = Thread::at_state(Arc::clone(&program), a, input());
        thread.inspect(Inspection::default());
        let Step::Succeeded(output) = thread.run(&exec()) else { panic!("the state succeeds") };
        assert_eq!(output.to_json(), r#"{"in":{"x":1},"r":{"v":1}}"#);
        let ins = thread.inspection().expect("recorded");
        assert_eq!(ins.next_state, program.find_state_anywhere("B"));
        let stage = |v: &Option<Value>| v.as_ref().map(Value::to_json);
        assert_eq!(stage(&ins.after_input_path).as_deref(), Some(r#"{"x":1}"#));
        assert_eq!(stage(&ins.after_parameters).as_deref(), Some(r#"{"v":1}"#));
        assert_eq!(stage(&ins.after_result_selector).as_deref(), Some(r#"{"v":1}"#));
        assert_eq!(stage(&ins.after_result_path).as_deref(), Some(r#"{"in":{"x":1},"r":{"v":1}}"#));
    }

    #[test]
    fn without_an_inspection_the_thread_runs_on() {
        let machine = StateMachine::new("M", TWO_PASSES, StateMachineType::Standard).expect("valid");
        let mut thread = Thread::new(Arc::clone(&machine.program), crate::program::ROOT_BLOCK, input());
        let Step::Succeeded(output) = thread.run(&exec()) else { panic!("the machine succeeds") };
        assert_eq!(output.to_json(), r#""second""#);
        assert!(thread.inspection().is_none());
    }
}
