//! The library's start API: `Engine::start_sync`, `Engine::start` (spawned, stoppable),
//! admission limits, and per-execution mock test cases.

use std::sync::Arc;

use expressway::asl::StateMachineType;
use expressway::machine::StateMachine;
use expressway::runtime::{Engine, EngineConfig, ExecutionOutcome, ExecutionStatus, StartError, StartOptions};
use expressway::tasks::{MockConfig, Resources};
use expressway::value::{parse_str, Value};
use tokio::sync::oneshot;

const WAIT_THEN_PASS: &str = r#"{"StartAt":"W","States":{
    "W":{"Type":"Wait","Seconds":60,"Next":"P"},
    "P":{"Type":"Pass","Result":"done","End":true}}}"#;

const TASK: &str = r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f","End":true}}}"#;

fn machine(def: &str) -> StateMachine {
    StateMachine::new("M", def, StateMachineType::Express).unwrap_or_else(|e| panic!("invalid: {e}"))
}

fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap()
}

fn engine(max_in_flight: usize) -> Engine {
    Engine::new(EngineConfig { max_in_flight, record_history: true, ..EngineConfig::default() }, Resources::default())
}

/// Starts `def` with `start` and returns the identity's ARN and a receiver of the outcome.
fn start(engine: &Engine, def: &StateMachine, opts: StartOptions) -> (String, oneshot::Receiver<ExecutionOutcome>) {
    let (tx, rx) = oneshot::channel();
    let started = engine
        .start(Arc::clone(&def.program), Value::Null, opts, move |o| {
            let _ = tx.send(o);
        })
        .expect("admitted");
    (started.identity.execution_arn.to_string(), rx)
}

#[test]
fn start_answers_with_the_identity_before_the_execution_ends_and_reports_its_outcome_once() {
    let rt = paused_runtime();
    rt.block_on(async {
        let engine = engine(10);
        let m = machine(WAIT_THEN_PASS);
        let (arn, rx) = start(&engine, &m, StartOptions::new("M"));
        assert!(arn.starts_with("arn:aws:states:us-east-1:123456789012:express:M:"), "{arn}");
        assert_eq!(engine.in_flight(), 1);
        let outcome = rx.await.expect("outcome delivered");
        assert_eq!(outcome.status, ExecutionStatus::Succeeded);
        assert_eq!(outcome.identity.execution_arn.to_string(), arn);
        assert_eq!(outcome.output.map(|v| v.to_json()).as_deref(), Some(r#""done""#));
        assert_eq!(engine.in_flight(), 0);
    });
}

#[test]
fn admission_is_bounded_and_frees_its_slot_when_an_execution_ends() {
    let rt = paused_runtime();
    rt.block_on(async {
        let engine = engine(2);
        let m = machine(WAIT_THEN_PASS);
        let (_, first) = start(&engine, &m, StartOptions::new("M"));
        let (_, second) = start(&engine, &m, StartOptions::new("M"));
        let refused = engine.start(Arc::clone(&m.program), Value::Null, StartOptions::new("M"), |_| {});
        assert_eq!(refused.err(), Some(StartError::Throttled { limit: 2 }));
        let refused = engine.start_sync(&m.program, Value::Null, StartOptions::new("M")).await;
        assert_eq!(refused.err().map(|e| e.aws_type()), Some("ThrottlingException"));
        first.await.expect("first outcome");
        second.await.expect("second outcome");
        assert_eq!(engine.in_flight(), 0);
        let again = engine.start_sync(&m.program, Value::Null, StartOptions::new("M")).await;
        assert_eq!(again.map(|o| o.status).ok(), Some(ExecutionStatus::Succeeded));
    });
}

#[test]
fn a_stopped_execution_ends_aborted_with_the_reason_in_its_history() {
    let rt = paused_runtime();
    rt.block_on(async {
        let engine = engine(10);
        let m = machine(WAIT_THEN_PASS);
        let (tx, rx) = oneshot::channel();
        let started = engine
            .start(Arc::clone(&m.program), Value::Null, StartOptions::new("M"), move |o| {
                let _ = tx.send(o);
            })
            .expect("admitted");
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        started.stop.stop(Some("Stopped.ByUser".into()), Some("no longer needed".into()));
        started.stop.stop(Some("Second".into()), None);
        let outcome = rx.await.expect("outcome delivered after a stop");
        assert_eq!(outcome.status, ExecutionStatus::Aborted);
        assert_eq!(outcome.status.as_str(), "ABORTED");
        assert_eq!(outcome.error.as_deref(), Some("Stopped.ByUser"), "the first stop's reason is kept");
        assert_eq!(outcome.cause.as_deref(), Some("no longer needed"));
        let last = outcome.history.last().expect("history recorded");
        assert_eq!(last.kind, "ExecutionAborted");
        assert_eq!(last.details.as_ref().map(Value::to_json).as_deref(), Some(r#"{"Error":"Stopped.ByUser","Cause":"no longer needed"}"#));
        assert_eq!(engine.in_flight(), 0);
    });
}

#[test]
fn a_per_execution_test_case_answers_the_task_without_touching_the_engine_wide_resources() {
    let mocks = MockConfig::parse(
        r#"{"StateMachines":{"M":{"TestCases":{"Ok":{"T":"R"}}}},
            "MockedResponses":{"R":{"0":{"Return":{"mocked":true}}}}}"#,
    )
    .expect("valid mock file");
    let rt = paused_runtime();
    rt.block_on(async {
        let engine = engine(10);
        let m = machine(TASK);
        let opts = StartOptions { mock: Some(Arc::new(mocks.test_case("M", "Ok").expect("test case"))), ..StartOptions::new("M") };
        let mocked = engine.start_sync(&m.program, Value::Null, opts).await.expect("admitted");
        assert_eq!(mocked.status, ExecutionStatus::Succeeded);
        assert_eq!(mocked.output.map(|v| v.to_json()).as_deref(), Some(r#"{"mocked":true}"#));
        let plain = engine.start_sync(&m.program, parse_str("{}").unwrap(), StartOptions::new("M")).await.expect("admitted");
        assert_eq!(plain.status, ExecutionStatus::Failed, "without the test case the resource has no handler");
    });
}

#[test]
fn options_built_once_for_a_machine_give_the_same_identity_as_plain_ones() {
    let rt = paused_runtime();
    rt.block_on(async {
        let engine = engine(10);
        let m = machine(WAIT_THEN_PASS);
        let plain = engine.start_sync(&m.program, Value::Null, StartOptions::new("M")).await.expect("admitted").identity;
        let shared = engine.start_sync(&m.program, Value::Null, StartOptions::for_machine(&engine, "M")).await.expect("admitted").identity;
        assert_eq!(plain.state_machine_arn, shared.state_machine_arn);
        assert_eq!(&*shared.state_machine_arn, "arn:aws:states:us-east-1:123456789012:stateMachine:M");
        assert_eq!(plain.role_arn, shared.role_arn);
        assert_ne!(plain.execution_arn, shared.execution_arn);
    });
}

#[test]
fn a_start_can_turn_history_recording_on_or_off_for_itself() {
    let pass = machine(r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#);
    let recording = engine(16);
    let quiet = Engine::new(EngineConfig::default(), Resources::default());
    let run = |engine: &Engine, record: Option<bool>| {
        let opts = StartOptions { record_history: record, ..StartOptions::new("M") };
        let outcome = paused_runtime().block_on(engine.start_sync(&pass.program, Value::Null, opts)).expect("admitted");
        outcome.history.iter().map(|e| e.kind.to_string()).collect::<Vec<_>>()
    };
    let all = ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"];
    assert_eq!(run(&recording, None), all);
    assert_eq!(run(&quiet, Some(true)), all);
    assert!(run(&recording, Some(false)).is_empty());
    assert!(run(&quiet, None).is_empty());
}
