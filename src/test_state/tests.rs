//! TestState behaviour the recorded corpus does not cover (the corpus itself runs in
//! `tests/test_state.rs`).

use std::time::Duration;

use super::*;
use crate::runtime::Engine;
use crate::tasks::{handler_fn, Resources};

fn request(definition: &str, params: serde_json::Value) -> TestStateRequest {
    let mut params = params;
    if let Some(obj) = params.as_object_mut() {
        obj.insert("definition".into(), serde_json::Value::String(definition.into()));
    }
    TestStateRequest::from_json(&params.to_string()).expect("a well-formed request")
}

fn run_with(engine: &Engine, definition: &str, params: serde_json::Value) -> Result<TestStateResponse, TestStateError> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().expect("runtime");
    runtime.block_on(test_state(engine, request(definition, params)))
}

fn run(definition: &str, params: serde_json::Value) -> Result<TestStateResponse, TestStateError> {
    run_with(&Engine::default(), definition, params)
}

fn json(text: &Option<String>) -> serde_json::Value {
    text.as_deref().and_then(|t| serde_json::from_str(t).ok()).unwrap_or(serde_json::Value::Null)
}

#[test]
fn variables_are_visible_and_assignments_are_shown() {
    let def = r#"{"Type":"Pass","Parameters":{"seen.$":"$limit"},"Assign":{"doubled.$":"States.MathAdd($limit, $limit)"},"Next":"Done"}"#;
    let r = run(def, serde_json::json!({"inspectionLevel": "DEBUG", "variables": "{\"limit\": 3}"})).expect("runs");
    assert_eq!(r.status, TestExecutionStatus::Succeeded);
    assert_eq!(json(&r.output), serde_json::json!({"seen": 3}));
    assert_eq!(r.next_state.as_deref(), Some("Done"));
    let data = r.inspection_data.expect("DEBUG shows inspection data");
    assert_eq!(json(&data.variables), serde_json::json!({"limit": 3, "doubled": 6}));
}

#[test]
fn info_level_shows_no_inspection_data() {
    let r = run(r#"{"Type":"Pass","End":true}"#, serde_json::json!({})).expect("runs");
    assert!(r.inspection_data.is_none());
    assert_eq!(json(&r.output), serde_json::json!({}));
}

#[test]
fn a_wait_state_reports_its_output_without_waiting() {
    let def = r#"{"Type":"Wait","Seconds":86400,"OutputPath":"$.keep","Next":"After"}"#;
    let r = run(def, serde_json::json!({"input": "{\"keep\": 1, \"drop\": 2}"})).expect("runs");
    assert_eq!((json(&r.output), r.next_state.as_deref()), (serde_json::json!(1), Some("After")));
}

#[test]
fn an_unmocked_task_calls_the_engines_handler() {
    let mut resources = Resources::default();
    resources.register("arn:aws:lambda:us-east-1:123456789012:function:double", handler_fn(|req| async move {
        Ok(crate::value::Value::from(req.input.as_i64().unwrap_or(0) * 2))
    }));
    let engine = Engine::new(Default::default(), resources);
    let def = r#"{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:double","InputPath":"$.n","ResultPath":"$.twice","End":true}"#;
    let r = run_with(&engine, def, serde_json::json!({"input": "{\"n\": 21}", "inspectionLevel": "TRACE"})).expect("runs");
    assert_eq!(json(&r.output), serde_json::json!({"n": 21, "twice": 42}));
    let data = r.inspection_data.expect("TRACE shows inspection data");
    assert_eq!((json(&data.after_input_path), json(&data.result)), (serde_json::json!(21), serde_json::json!(42)));
}

#[test]
fn a_scheduled_retry_is_retriable_with_its_back_off() {
    let def = r#"{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Retry":[{"ErrorEquals":["Other"]},{"ErrorEquals":["Boom"],"IntervalSeconds":3,"BackoffRate":1.5,"MaxAttempts":4}],"End":true}"#;
    let params = serde_json::json!({"inspectionLevel": "DEBUG", "stateConfiguration": {"retrierRetryCount": 2},
        "mock": {"errorOutput": {"error": "Boom", "cause": "bad"}}});
    let r = run(def, params).expect("runs");
    assert_eq!((r.status, r.error.as_deref(), r.cause.as_deref()), (TestExecutionStatus::Retriable, Some("Boom"), Some("bad")));
    let details = r.inspection_data.and_then(|d| d.error_details).expect("error details");
    // 3 × 1.5² = 6.75 seconds, reported in whole seconds.
    assert_eq!((details.retry_index, details.retry_backoff_interval_seconds), (Some(1), Some(7)));
}

#[test]
fn an_exhausted_retrier_then_a_catcher_shows_both() {
    let def = r#"{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Retry":[{"ErrorEquals":["Boom"],"MaxAttempts":1}],
        "Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.error","Next":"Handle"}],"End":true}"#;
    let params = serde_json::json!({"inspectionLevel": "DEBUG", "input": "{\"a\": 1}", "stateConfiguration": {"retrierRetryCount": 1},
        "mock": {"errorOutput": {"error": "Boom", "cause": "bad"}}});
    let r = run(def, params).expect("runs");
    assert_eq!((r.status, r.next_state.as_deref()), (TestExecutionStatus::CaughtError, Some("Handle")));
    assert_eq!(json(&r.output), serde_json::json!({"a": 1, "error": {"Error": "Boom", "Cause": "bad"}}));
    let details = r.inspection_data.and_then(|d| d.error_details).expect("error details");
    assert_eq!((details.retry_index, details.catch_index, details.retry_backoff_interval_seconds), (Some(0), Some(0), None));
}

#[test]
fn runtime_errors_name_the_state_as_executions_do() {
    let r = run(r#"{"Type":"Pass","InputPath":"$.missing","End":true}"#, serde_json::json!({})).expect("runs");
    assert_eq!((r.status, r.error.as_deref()), (TestExecutionStatus::Failed, Some("States.Runtime")));
    let cause = r.cause.unwrap_or_default();
    assert!(cause.starts_with("An error occurred while executing the state 'StateName' (entered at the event id #2)."), "{cause}");
}

#[test]
fn a_task_that_never_answers_times_out_at_the_engines_limit() {
    let mut resources = Resources::default();
    resources.register("arn:aws:lambda:us-east-1:123456789012:function:hang", handler_fn(|_| std::future::pending()));
    let config = crate::runtime::EngineConfig { max_duration: Duration::from_secs(300), ..Default::default() };
    let engine = Engine::new(config, resources);
    let r = run_with(&engine, r#"{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:hang","End":true}"#, serde_json::json!({}))
        .expect("runs");
    assert_eq!((r.status, r.error.as_deref()), (TestExecutionStatus::Failed, Some("States.Timeout")));
}

#[test]
fn the_response_serialises_to_aws_shape() {
    let r = run(r#"{"Type":"Choice","Choices":[{"Variable":"$.a","NumericEquals":1,"Next":"One"}],"Default":"Other"}"#,
        serde_json::json!({"input": "{\"a\": 1}", "inspectionLevel": "DEBUG"})).expect("runs");
    let wire = serde_json::to_value(&r).expect("serialises");
    assert_eq!(wire, serde_json::json!({
        "output": "{\"a\":1}", "nextState": "One", "status": "SUCCEEDED",
        "inspectionData": {"input": "{\"a\":1}", "afterInputPath": "{\"a\":1}"}
    }));
}

#[test]
fn requests_that_do_not_fit_are_refused_with_aws_names() {
    let pass = r#"{"Type":"Pass","End":true}"#;
    let task = r#"{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}"#;
    let map = r#"{"Type":"Map","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}"#;
    let cases = [
        (pass, serde_json::json!({"inspectionLevel": "LOUD"}), "ValidationException"),
        (pass, serde_json::json!({"mock": {"result": "{}"}}), "ValidationException"),
        (map, serde_json::json!({}), "ValidationException"),
        (map, serde_json::json!({"mock": {"result": "{}"}}), "ValidationException"),
        (task, serde_json::json!({"context": "{}"}), "ValidationException"),
        (task, serde_json::json!({"mock": {"result": "{}", "fieldValidationMode": "LOOSE"}}), "ValidationException"),
        (task, serde_json::json!({"stateConfiguration": {"mapIterationFailureCount": 1}}), "ValidationException"),
        (task, serde_json::json!({"stateConfiguration": {"retrierRetryCount": -1}}), "ValidationException"),
        (task, serde_json::json!({"stateConfiguration": {"errorCausedByState": "P"}}), "ValidationException"),
        (pass, serde_json::json!({"variables": "[1]"}), "ValidationException"),
        (pass, serde_json::json!({"input": "{oops"}), "InvalidExecutionInput"),
        (pass, serde_json::json!({"roleArn": "not-an-arn"}), "InvalidArn"),
        (r#"{"Type":"Pass","Next":7}"#, serde_json::json!({}), "InvalidDefinition"),
    ];
    for (def, params, expected) in cases {
        let e = run(def, params.clone()).err().unwrap_or_else(|| panic!("{params} is refused"));
        assert_eq!(e.aws_type(), expected, "{params}: {}", e.message());
    }
    assert!(TestStateRequest::from_json("{\"input\": 1}").is_err());
}

#[test]
fn a_map_with_an_item_reader_reads_the_given_items() {
    let def = r#"{"Type":"Map","QueryLanguage":"JSONata","ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},
        "Arguments":{"Bucket":"b","Key":"k"}},"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},
        "ToleratedFailureCount":0,"Output":"{% $count($states.result) %}","End":true}"#;
    let params = serde_json::json!({"mock": {"result": "[1, 2]"}, "stateConfiguration": {"mapItemReaderData": "[1, 2]", "mapIterationFailureCount": 1}});
    let r = run(def, params).expect("runs");
    assert_eq!((r.status, r.error.as_deref()), (TestExecutionStatus::Failed, Some("States.ExceedToleratedFailureThreshold")));
}

mod no_panic {
    use proptest::prelude::*;

    use super::*;

    const STATES: [&str; 8] = [
        r#"{"Type":"Pass","End":true}"#,
        r#"{"Type":"Task","Resource":"arn:aws:states:::states:startExecution","Retry":[{"ErrorEquals":["States.ALL"],"MaxAttempts":2}],"Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}],"End":true}"#,
        r#"{"Type":"Map","ItemsPath":"$.items","ToleratedFailurePercentage":50,"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}"#,
        r#"{"Type":"Map","ItemReader":{"Resource":"arn:aws:states:::s3:getObject","Parameters":{"Bucket":"b","Key":"k"}},"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"b","Prefix":"p"}},"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}"#,
        r#"{"Type":"Parallel","Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}],"ResultSelector":{"x.$":"$[0]"},"Next":"N"}"#,
        r#"{"Type":"Choice","Choices":[{"Variable":"$.a","IsPresent":true,"Next":"Y"}],"Default":"N"}"#,
        r#"{"Type":"Wait","SecondsPath":"$.s","End":true}"#,
        r#"{"Type":"Fail","ErrorPath":"$.e","CausePath":"$.c"}"#,
    ];

    fn text() -> impl Strategy<Value = serde_json::Value> {
        prop_oneof![
            Just(serde_json::json!("{}")),
            Just(serde_json::json!("[1, 2, 3]")),
            Just(serde_json::json!("{\"items\": [1, 2], \"a\": 1, \"s\": -1, \"e\": 5}")),
            ".{0,16}".prop_map(serde_json::Value::String),
            any::<i64>().prop_map(serde_json::Value::from),
        ]
    }

    fn params() -> impl Strategy<Value = serde_json::Value> {
        let level = prop_oneof![Just("INFO"), Just("DEBUG"), Just("TRACE"), Just("LOUD")];
        let mode = prop_oneof![Just("STRICT"), Just("PRESENT"), Just("NONE"), Just("?")];
        (level, mode, text(), text(), text(), text(), any::<bool>(), -2i64..5, -2i64..5, prop::option::of(prop_oneof![Just("P"), Just("B"), Just("X")]))
            .prop_map(|(level, mode, input, result, context, vars, error, retries, failures, caused_by)| {
                let mock = if error {
                    serde_json::json!({"errorOutput": {"error": "E", "cause": "C"}, "fieldValidationMode": mode})
                } else {
                    serde_json::json!({"result": result, "fieldValidationMode": mode})
                };
                serde_json::json!({"inspectionLevel": level, "input": input, "mock": mock, "context": context, "variables": vars,
                    "stateConfiguration": {"retrierRetryCount": retries, "mapIterationFailureCount": failures,
                        "errorCausedByState": caused_by, "mapItemReaderData": "[1, 2]"}})
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn any_request_gets_a_response_or_a_refusal(state in 0..STATES.len(), params in params(), drop_keys in prop::collection::vec(0usize..6, 0..4)) {
            let mut params = params;
            let keys = ["input", "mock", "context", "variables", "stateConfiguration", "inspectionLevel"];
            if let Some(obj) = params.as_object_mut() {
                for k in drop_keys {
                    obj.remove(keys[k]);
                }
            }
            if let Some(obj) = params.as_object_mut() {
                obj.insert("definition".into(), serde_json::Value::String(STATES[state].into()));
            }
            let runtime = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().expect("runtime");
            let outcome = TestStateRequest::from_json(&params.to_string())
                .and_then(|req| runtime.block_on(test_state(&Engine::default(), req)));
            if let Err(e) = outcome {
                prop_assert!(!e.message().is_empty());
            }
        }
    }
}
