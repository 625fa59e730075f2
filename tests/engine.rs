//! Engine behaviour through the library API: Task handlers, Retry/Catch, Parallel and Map
//! fan-out, timeouts and the 5-minute cap, all under a paused (virtual) clock.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use expressway::asl::StateMachineType;
use expressway::error::AslError;
use expressway::machine::StateMachine;
use expressway::runtime::{run_execution, Engine, EngineConfig, ExecutionOutcome, ExecutionStatus, StartOptions};
use expressway::tasks::{handler_fn, Resources};
use expressway::value::{parse_str, Value};

fn run_with(def: &str, input: &str, resources: Resources, config: EngineConfig) -> ExecutionOutcome {
    let machine = StateMachine::new("Test", def, StateMachineType::Express).unwrap_or_else(|e| panic!("invalid: {e}"));
    let engine = Engine::new(config, resources);
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
    rt.block_on(run_execution(&engine, Arc::clone(&machine.program), parse_str(input).unwrap(), &StartOptions::new("Test")))
}

fn run(def: &str, input: &str, resources: Resources) -> ExecutionOutcome {
    run_with(def, input, resources, EngineConfig { record_history: true, ..EngineConfig::default() })
}

fn json(v: &Option<Value>) -> String {
    v.as_ref().map(Value::to_json).unwrap_or_default()
}

const ECHO: &str = "arn:aws:lambda:us-east-1:123456789012:function:echo";

fn echo_resources() -> Resources {
    let mut r = Resources::default();
    r.register(ECHO, handler_fn(|req| async move { Ok(req.input) }));
    r
}

#[test]
fn task_result_flows_through_selector_and_result_path() {
    let def = r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:echo",
        "Parameters":{"x.$":"$.a"},"ResultSelector":{"got.$":"$.x"},"ResultPath":"$.r","End":true}}}"#;
    let o = run(def, r#"{"a":7}"#, echo_resources());
    assert_eq!(o.status, ExecutionStatus::Succeeded);
    assert_eq!(json(&o.output), r#"{"a":7,"r":{"got":7}}"#);
    let kinds: Vec<&str> = o.history.iter().map(|e| e.kind.as_ref()).collect();
    assert_eq!(
        kinds,
        ["ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionSucceeded", "TaskStateExited", "ExecutionSucceeded"]
    );
}

#[test]
fn retries_with_backoff_in_virtual_time_then_succeeds() {
    let calls = Arc::new(AtomicU32::new(0));
    let c = Arc::clone(&calls);
    let mut r = Resources::default();
    r.register(
        "arn:aws:lambda:us-east-1:123456789012:function:flaky",
        handler_fn(move |req| {
            let n = c.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 2 {
                    Err(AslError::new("Flaky.Error", format!("attempt {n}")))
                } else {
                    Ok(Value::object([("attempt", Value::from(req.attempt as i64))]))
                }
            }
        }),
    );
    let def = r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:flaky",
        "Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":10,"MaxAttempts":3,"BackoffRate":3}],"End":true}}}"#;
    let real = std::time::Instant::now();
    let o = run(def, "{}", r);
    assert_eq!(o.status, ExecutionStatus::Succeeded, "{:?}", o.cause);
    assert_eq!(json(&o.output), r#"{"attempt":2}"#);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    // 10 s + 30 s of back-off passed on the virtual clock, not on the real one.
    assert!(o.stop_ms - o.identity.start_ms >= 40_000, "virtual elapsed {}", o.stop_ms - o.identity.start_ms);
    assert!(real.elapsed().as_secs() < 30);
}

#[test]
fn retries_exhausted_then_caught_with_result_path() {
    let mut r = Resources::default();
    r.register("arn:aws:lambda:us-east-1:123456789012:function:boom", handler_fn(|_| async { Err(AslError::new("Custom.Boom", "it broke")) }));
    let def = r#"{"StartAt":"T","States":{
        "T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:boom","Retry":[{"ErrorEquals":["Custom.Boom"],"MaxAttempts":2,"IntervalSeconds":1}],
             "Catch":[{"ErrorEquals":["States.TaskFailed"],"ResultPath":"$.err","Next":"Handled"}],"End":true},
        "Handled":{"Type":"Pass","End":true}}}"#;
    let o = run(def, r#"{"keep":1}"#, r);
    assert_eq!(o.status, ExecutionStatus::Succeeded);
    assert_eq!(json(&o.output), r#"{"keep":1,"err":{"Error":"Custom.Boom","Cause":"it broke"}}"#);
    let failures = o.history.iter().filter(|e| e.kind == "LambdaFunctionFailed").count();
    assert_eq!(failures, 3, "one attempt and two retries");
}

#[test]
fn task_timeout_raises_states_timeout() {
    let mut r = Resources::default();
    r.register(
        "arn:aws:lambda:us-east-1:123456789012:function:slow",
        handler_fn(|_| async {
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            Ok(Value::Null)
        }),
    );
    let def = r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:slow","TimeoutSeconds":5,
        "Catch":[{"ErrorEquals":["States.Timeout"],"Next":"Late"}],"End":true},"Late":{"Type":"Pass","End":true}}}"#;
    let o = run(def, "{}", r);
    assert_eq!(o.status, ExecutionStatus::Succeeded);
    // AWS's Task timeout has an empty cause (recorded: test_invoke_timeout in the task-lambda cases).
    assert_eq!(json(&o.output), r#"{"Error":"States.Timeout","Cause":""}"#);
}

#[test]
fn execution_is_cut_at_five_minutes() {
    let def = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":900,"End":true}}}"#;
    let o = run(def, "{}", Resources::default());
    assert_eq!(o.status, ExecutionStatus::TimedOut);
    assert_eq!(o.error.as_deref(), Some("States.Timeout"));
    assert_eq!(o.stop_ms - o.identity.start_ms, 300_000);
}

#[test]
fn a_cpu_loop_is_cut_too() {
    let def = r#"{"StartAt":"A","TimeoutSeconds":1,"States":{"A":{"Type":"Pass","Next":"B"},
        "B":{"Type":"Choice","Choices":[{"Variable":"$.stop","IsPresent":true,"Next":"Done"}],"Default":"A"},"Done":{"Type":"Succeed"}}}"#;
    // Virtual time does not advance during CPU work, so cut with a real (small) deadline.
    let machine = StateMachine::new("Loop", def, StateMachineType::Express).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let o = rt.block_on(run_execution(&Engine::default(), Arc::clone(&machine.program), Value::empty_object(), &StartOptions::new("Loop")));
    assert_eq!(o.status, ExecutionStatus::TimedOut);
}

#[test]
fn unhandled_resource_fails_with_a_clear_cause() {
    let def = r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage","End":true}}}"#;
    let o = run(def, "{}", Resources::default());
    assert_eq!(o.status, ExecutionStatus::Failed);
    assert_eq!(o.error.as_deref(), Some("States.Runtime"));
    let cause = o.cause.unwrap_or_default();
    assert!(cause.contains("arn:aws:states:::sqs:sendMessage") && cause.contains("(entered at the event id #2)"), "{cause}");
}

#[test]
fn parallel_branch_failure_fails_the_state_with_the_branch_error() {
    let def = r#"{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[
        {"StartAt":"Ok","States":{"Ok":{"Type":"Wait","Seconds":100,"End":true}}},
        {"StartAt":"Bad","States":{"Bad":{"Type":"Fail","Error":"BranchBroke","Cause":"b2"}}}],
        "Catch":[{"ErrorEquals":["BranchBroke"],"Next":"C"}],"End":true},"C":{"Type":"Pass","End":true}}}"#;
    let o = run(def, "{}", Resources::default());
    assert_eq!(o.status, ExecutionStatus::Succeeded);
    assert_eq!(json(&o.output), r#"{"Error":"BranchBroke","Cause":"b2"}"#);
    // The failing branch cancels the waiting one: no 100 s wait happens.
    assert!(o.stop_ms - o.identity.start_ms < 100_000);
}

#[test]
fn map_keeps_item_order_under_concurrency_and_reads_the_item_context() {
    let def = r#"{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.xs","MaxConcurrency":2,
        "ItemSelector":{"i.$":"$$.Map.Item.Index","v.$":"$$.Map.Item.Value","k.$":"$.k"},
        "ItemProcessor":{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.v","Next":"E"},"E":{"Type":"Pass","End":true}}},
        "End":true}}}"#;
    let o = run(def, r#"{"k":"c","xs":[3,1,2]}"#, Resources::default());
    assert_eq!(o.status, ExecutionStatus::Succeeded, "{:?}", o.cause);
    assert_eq!(json(&o.output), r#"[{"i":0,"v":3,"k":"c"},{"i":1,"v":1,"k":"c"},{"i":2,"v":2,"k":"c"}]"#);
}

#[test]
fn map_tolerates_failures_up_to_the_threshold() {
    let def = r#"{"StartAt":"M","States":{"M":{"Type":"Map","ToleratedFailureCount":1,
        "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"C","States":{
          "C":{"Type":"Choice","Choices":[{"Variable":"$","NumericEquals":0,"Next":"F"}],"Default":"S"},
          "F":{"Type":"Fail","Error":"Zero"},"S":{"Type":"Succeed"}}},"End":true}}}"#;
    let o = run(def, "[1,0,2]", Resources::default());
    assert_eq!(o.status, ExecutionStatus::Succeeded, "{:?}", o.cause);
    let o = run(def, "[0,0,2]", Resources::default());
    assert_eq!(o.status, ExecutionStatus::Failed);
    assert_eq!(o.error.as_deref(), Some("States.ExceedToleratedFailureThreshold"));
}

#[test]
fn runtime_errors_are_not_caught_and_name_the_event_id() {
    let def = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},
        "B":{"Type":"Pass","InputPath":"$.missing","End":true}}}"#;
    let o = run(def, "{}", Resources::default());
    assert_eq!(o.status, ExecutionStatus::Failed);
    assert_eq!(
        o.cause.as_deref(),
        Some("An error occurred while executing the state 'B' (entered at the event id #4). Invalid path '$.missing' : No results for path: $['missing']")
    );
}

#[test]
fn context_object_timestamps_move_with_virtual_time() {
    let def = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"Next":"P"},
        "P":{"Type":"Pass","Parameters":{"start.$":"$$.Execution.StartTime","entered.$":"$$.State.EnteredTime"},"End":true}}}"#;
    let o = run(def, "{}", Resources::default());
    let out = o.output.unwrap();
    let start = expressway::timestamp::Timestamp::parse(out.get("start").and_then(Value::as_str).unwrap()).unwrap();
    let entered = expressway::timestamp::Timestamp::parse(out.get("entered").and_then(Value::as_str).unwrap()).unwrap();
    assert_eq!(entered.epoch_millis() - start.epoch_millis(), 60_000);
}

#[test]
fn a_cpu_loop_is_cut_in_virtual_time_too() {
    let def = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},
        "B":{"Type":"Choice","Choices":[{"Variable":"$.stop","IsPresent":true,"Next":"Done"}],"Default":"A"},"Done":{"Type":"Succeed"}}}"#;
    let o = run_with(def, "{}", Resources::default(), EngineConfig { virtual_time: true, ..EngineConfig::default() });
    assert_eq!(o.status, ExecutionStatus::TimedOut);
    assert_eq!(o.stop_ms - o.identity.start_ms, 300_000);
}

#[test]
fn variables_flow_between_states_and_into_branches_but_not_out() {
    let def = r#"{"StartAt":"Set","States":{
        "Set":{"Type":"Pass","Result":{"n":2},"Assign":{"n.$":"$.n","label":"outer"},"Next":"Swap"},
        "Swap":{"Type":"Pass","Assign":{"n.$":"States.MathAdd($n, 1)","old.$":"$n"},"Next":"P"},
        "P":{"Type":"Parallel","Branches":[{"StartAt":"In","States":{"In":{"Type":"Pass","Assign":{"inner":1},
             "Parameters":{"n.$":"$n","label.$":"$label"},"End":true}}}],"ResultPath":"$.branches","Next":"Out"},
        "Out":{"Type":"Pass","Parameters":{"n.$":"$n","old.$":"$old","branches.$":"$.branches"},"End":true}}}"#;
    let o = run(def, "{}", Resources::default());
    assert_eq!(o.status, ExecutionStatus::Succeeded, "{:?}", o.cause);
    assert_eq!(json(&o.output), r#"{"n":3,"old":2,"branches":[{"n":3,"label":"outer"}]}"#);
    // An inner variable is not visible outside its branch.
    let def2 = r#"{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"In","States":{"In":{"Type":"Pass","Assign":{"inner":1},"End":true}}}],"Next":"Out"},
        "Out":{"Type":"Pass","Parameters":{"v.$":"$inner"},"End":true}}}"#;
    let machine = StateMachine::new("Test", def2, StateMachineType::Express);
    if let Ok(m) = machine {
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
        let o = rt.block_on(run_execution(&Engine::default(), Arc::clone(&m.program), Value::empty_object(), &StartOptions::new("Test")));
        assert_eq!(o.status, ExecutionStatus::Failed);
    }
}

#[test]
fn catcher_assign_sees_the_error_output_and_state_assign_is_skipped() {
    let mut r = Resources::default();
    r.register("arn:aws:lambda:us-east-1:123456789012:function:boom", handler_fn(|_| async { Err(AslError::new("Boom", "bad")) }));
    let def = r#"{"StartAt":"T","States":{
        "T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:boom","Assign":{"ok":true},
             "Catch":[{"ErrorEquals":["Boom"],"Assign":{"err.$":"$.Error"},"Next":"After"}],"End":true},
        "After":{"Type":"Pass","Parameters":{"err.$":"$err"},"End":true}}}"#;
    let o = run(def, "{}", r);
    assert_eq!(json(&o.output), r#"{"err":"Boom"}"#);
}

/// The JSONata twin of the `chain` benchmark gives exactly the JSONPath version's output.
#[test]
fn jsonata_twin_of_chain_matches_the_jsonpath_output() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/bench");
    let Ok(expected) = std::fs::read_to_string(dir.join("expected/chain.json")) else {
        eprintln!("../shared/bench not found; nothing to compare");
        return;
    };
    let event = std::fs::read_to_string(dir.join("event.json")).unwrap();
    let twin = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/benches/workflows/chain-jsonata.asl.json")).unwrap();
    let o = run(&twin, &event, Resources::default());
    assert_eq!(o.status, ExecutionStatus::Succeeded, "{:?}", o.cause);
    assert_eq!(o.output.unwrap(), parse_str(&expected).unwrap());
}

/// Pass states chain length bounds instead of measuring each output; the limit must still be
/// enforced exactly where the real output crosses it.
#[test]
fn pass_chains_enforce_the_payload_limit_where_it_is_crossed() {
    let double = |next: &str| format!(r#"{{"Type":"Pass","Parameters":{{"a.$":"$","b.$":"$"}},{next}}}"#);
    let def = format!(
        r#"{{"StartAt":"D1","States":{{"D1":{},"D2":{},"D3":{}}}}}"#,
        double(r#""Next":"D2""#),
        double(r#""Next":"D3""#),
        double(r#""End":true"#)
    );
    // 20,000 control characters print as 120,000 bytes: one copy fits, two do not.
    let input = format!(r#"{{"s":"{}"}}"#, "\\u0001".repeat(20_000));
    let o = run(&def, &input, Resources::default());
    assert_eq!(o.status, ExecutionStatus::Failed);
    assert_eq!(o.error.as_deref(), Some("States.DataLimitExceeded"));
    assert!(o.cause.as_deref().is_some_and(|c| c.contains("'D2'")), "{:?}", o.cause);

    // 60,000 plain bytes: three doublings stay under 256 KiB, although a bound that counted
    // every byte as an escape would not.
    let input = format!(r#"{{"s":"{}"}}"#, "x".repeat(30_000));
    let o = run(&def, &input, Resources::default());
    assert_eq!(o.status, ExecutionStatus::Succeeded, "{:?}", o.cause);
    assert_eq!(json(&o.output).len(), 8 * 30_008 + 7 * 11);
}

#[test]
fn a_pass_result_path_that_grows_the_input_past_the_limit_fails() {
    // `Start` measures its output, so `Grow` works from a known bound.
    let def = r#"{"StartAt":"Start","States":{"Start":{"Type":"Pass","Next":"Grow"},
        "Grow":{"Type":"Pass","Parameters":{"a.$":"$.s","b.$":"$.s","c.$":"$.s"},"ResultPath":"$.grown.here","End":true}}}"#;
    let o = run(def, &format!(r#"{{"s":"{}"}}"#, "y".repeat(70_000)), Resources::default());
    assert_eq!(o.error.as_deref(), Some("States.DataLimitExceeded"));
    assert!(o.cause.as_deref().is_some_and(|c| c.contains("'Grow'")), "{:?}", o.cause);

    let o = run(def, r#"{"s":"y"}"#, Resources::default());
    assert_eq!(json(&o.output), r#"{"s":"y","grown":{"here":{"a":"y","b":"y","c":"y"}}}"#);
}

#[test]
fn states_that_read_their_entry_time_get_it() {
    // Only states that read it (Wait, `$$`, `$states`) take the clock on entry; these do.
    let def = r#"{"StartAt":"P","States":{
        "P":{"Type":"Pass","Parameters":{"t.$":"$$.State.EnteredTime","n":1},"Next":"J"},
        "J":{"Type":"Pass","QueryLanguage":"JSONata","Output":"{% [$states.input.t, $states.context.State.EnteredTime] %}","End":true}}}"#;
    let outcome = run(def, "{}", Resources::default());
    assert_eq!(outcome.status, ExecutionStatus::Succeeded, "{:?}", outcome.cause);
    let times = json(&outcome.output);
    assert!(!times.contains("1970"), "entry times must be real: {times}");
    let year = |i: usize| parse_str(&times).ok().and_then(|v| v.as_array().and_then(|a| a.get(i).cloned())).map(|v| v.to_json());
    assert!(year(0).is_some_and(|t| t.starts_with("\"20")) && year(1).is_some_and(|t| t.starts_with("\"20")), "{times}");
}
