//! The corpus's `task-lambda` cases (`../shared/conformance/cases`, or
//! `$EXPRESSWAY_CONFORMANCE_DIR`), run in-process against a Lambda-compatible server this test
//! starts on 127.0.0.1:0 (`common::lambda_server`), each function behaving as its case's
//! `needs[].behaviour` says. Executions use `Integrations` exactly as the CLI does, on a
//! virtual clock, so retry back-off takes no time while a function that sleeps past its Task's
//! `TimeoutSeconds` is cut in real time.
//!
//! Judged as `compare.py` judges, plus LocalStack's key-name redactions
//! (`"x-amzn-RequestId": "x-amzn-RequestId"`), and, for cases without Parallel or Map, the
//! recorded history event types in order (`LambdaFunctionScheduled`, `TaskTimedOut`, …). Every case we do not pass is listed with its
//! reason in `tests/lambda-conformance-known-failures.txt`; the test fails on an unlisted
//! failure, on a listed case that passes, and below the 90% bar.

use std::collections::{BTreeMap, HashMap};

use expressway::runtime::EngineConfig;
use expressway::tasks::Integrations;
use serde_json::Value as Json;

mod common;
use common::lambda_server::{Behaviour, LambdaServer};
use common::{case_words, judge_with, known_failures, outcome_result, Matcher};

/// Worker threads running cases at once (cases that wait for a sleeping function overlap).
const PARALLEL: usize = 6;

/// The result as the CLI prints it, and the recorded history event types.
fn run_case(case: &Json, server: &LambdaServer, index: usize) -> (Json, Vec<String>) {
    let functions: HashMap<String, Behaviour> = case["needs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|n| n["type"] == "lambda")
        .filter_map(|n| Some((n["function_name"].as_str()?.to_string(), Behaviour::from_need(&n["behaviour"])?)))
        .collect();
    let endpoint = server.endpoint(&format!("case{index}"), functions);
    let config = EngineConfig { virtual_time: true, record_history: true, ..Default::default() };
    let resources = || {
        Integrations { lambda_endpoint: Some(endpoint), virtual_time: true, ..Default::default() }
            .resources()
            .expect("valid integrations")
    };
    match common::execute(case, config, resources) {
        Ok(outcome) => (outcome_result(&outcome), outcome.history.iter().map(|e| e.kind.to_string()).collect()),
        Err(rejected) => (rejected, Vec::new()),
    }
}

/// Where our history event types differ from the recording, for cases without Parallel or Map
/// (whose branches AWS interleaves nondeterministically).
fn history_difference(case: &Json, actual: &[String]) -> Option<String> {
    let expected: Vec<&str> = case["history_event_types"].as_array()?.iter().filter_map(Json::as_str).collect();
    let def = case["definition"].to_string();
    if def.contains("\"Parallel\"") || def.contains("\"Map\"") || actual.is_empty() || expected == actual {
        return None;
    }
    Some(format!("history {actual:?}, recorded {expected:?}"))
}

#[test]
fn task_lambda_cases_against_a_local_lambda_server() {
    let Some(cases) = common::all_cases() else {
        eprintln!("conformance corpus not found (set EXPRESSWAY_CONFORMANCE_DIR); nothing to check");
        return;
    };
    let cases: Vec<Json> = cases.into_iter().filter(|c| c["category"] == "task-lambda" && c["mode"] == "run").collect();
    let server = LambdaServer::start();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: BTreeMap<String, Option<String>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..PARALLEL)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(case) = cases.get(i) else { break };
                        let (result, history) = run_case(case, &server, i);
                        let why = judge_with(case, &result, Matcher::with_key_redaction(case_words(case)))
                            .or_else(|| history_difference(case, &history));
                        mine.push((case["id"].as_str().unwrap_or_default().to_string(), why));
                    }
                    mine
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().expect("worker finished")).collect()
    });
    let known = known_failures(include_str!("lambda-conformance-known-failures.txt"));
    let passed = common::check_known("task-lambda", &results, &known);
    assert!(results.len() >= 60, "the task-lambda selection is unexpectedly small ({})", results.len());
    assert!(passed * 10 >= results.len() * 9, "fewer than 90% of the task-lambda cases pass ({passed} of {})", results.len());
}

/// The `task-other-service` cases need SQS, SNS, DynamoDB, S3, activities, callbacks… which
/// Expressway does not call. The ones whose outcome the engine alone decides (a path that
/// selects nothing before the call, items that do not come from S3) must pass with no service
/// configured; they are listed in `tests/other-service-passing.txt`, so a regression or a new
/// pass shows up here.
#[test]
fn task_other_service_cases_without_services() {
    let Some(cases) = common::all_cases() else { return };
    let cases: Vec<Json> = cases.into_iter().filter(|c| c["category"] == "task-other-service" && c["mode"] == "run").collect();
    let mut passing = Vec::new();
    for case in &cases {
        let resources = || Integrations { virtual_time: true, ..Default::default() }.resources().expect("valid integrations");
        let result = match common::execute(case, EngineConfig { virtual_time: true, ..Default::default() }, resources) {
            Ok(outcome) => outcome_result(&outcome),
            Err(rejected) => rejected,
        };
        let id = case["id"].as_str().unwrap_or_default().to_string();
        if judge_with(case, &result, Matcher::with_key_redaction(case_words(case))).is_none() {
            passing.push(id);
        }
    }
    eprintln!("task-other-service: {} of {} pass without services", passing.len(), cases.len());
    let listed: Vec<String> = known_failures(include_str!("other-service-passing.txt")).into_keys().collect();
    passing.sort();
    eprintln!("{}", passing.join("\n"));
    assert_eq!(passing, listed, "the passing task-other-service cases changed; update tests/other-service-passing.txt");
}
