//! The TestState API over every `mode: test_state` case of the AWS-recorded corpus
//! (`../shared/conformance/cases`, or `$EXPRESSWAY_CONFORMANCE_DIR`), in-process through
//! `expressway::test_state::test_state`. Without the corpus the test says so and checks nothing.
//!
//! Beyond compare.py (status, output, error, cause, nextState) this also compares
//! `inspectionData`: each of its JSON-text fields is parsed once, as the recordings hold them,
//! and an INFO-level response must carry none. Cases we do not pass are listed, with the
//! reason, in `tests/conformance-known-failures-test-state.txt`; at least 90% must pass.

mod common;

use std::collections::BTreeSet;

use common::{judge, known_failures, score, Matcher};
use expressway::runtime::Engine;
use expressway::tasks::{handler_fn, Resources};
use expressway::test_state::{test_state, TestStateRequest};
use serde_json::Value as Json;

#[test]
fn test_state_corpus() {
    let known = known_failures(include_str!("conformance-known-failures-test-state.txt"));
    let (passed, total) = score("TestState", |case| case["mode"] == "test_state", &known, check);
    if total == 0 {
        return;
    }
    assert!(passed * 10 >= total * 9, "only {passed} of {total} TestState cases pass (90% needed)");
}

/// `None` when our response matches the recording, else the first difference.
fn check(case: &Json) -> Option<String> {
    let result = run_case(case);
    if let Some(why) = judge(case, &result) {
        return Some(why);
    }
    let exp = &case["expected"];
    let words: BTreeSet<String> = case["wildcard_words"]
        .as_array()
        .map(|w| w.iter().filter_map(|x| x.as_str().map(String::from)).collect())
        .unwrap_or_default();
    if exp["status"] == "REJECTED" {
        // compare.py compares only the status of refusals; AWS's error name and message are
        // part of the API, so we compare them too.
        let m = Matcher::new(words);
        return ["error", "cause"].iter().find_map(|f| m.deep(&exp[*f], &result[*f], "$").map(|d| format!("{f} {d}")));
    }
    if exp.get("nextState") != result.get("nextState") {
        return Some(format!("nextState {}, expected {}", result["nextState"], exp["nextState"]));
    }
    match (exp.get("inspectionData"), result.get("inspectionData")) {
        (None, None) => None,
        (None, Some(actual)) => Some(format!("inspectionData {actual} where the recording has none")),
        (Some(_), None) => Some("no inspectionData".into()),
        (Some(expected), Some(actual)) => Matcher::new(words).deep(expected, &parsed_fields(actual), "$").map(|d| format!("inspectionData {d}")),
    }
}

/// The inspection data with every JSON-text field parsed once (text that is not JSON stays).
fn parsed_fields(data: &Json) -> Json {
    let mut out = data.clone();
    if let Some(obj) = out.as_object_mut() {
        for v in obj.values_mut() {
            if let Some(parsed) = v.as_str().and_then(|s| serde_json::from_str::<Json>(s).ok()) {
                *v = parsed;
            }
        }
    }
    out
}

/// Runs a case through the library on a paused clock and returns the response as the CLI
/// prints it (or the REJECTED object).
fn run_case(case: &Json) -> Json {
    let mut params = case["test_state_params"].clone();
    let Some(obj) = params.as_object_mut() else { return serde_json::json!({"status": "ERROR", "cause": "case has no params"}) };
    obj.insert("definition".into(), Json::String(common::definition_text(case)));
    obj.insert("input".into(), case["input"].clone());
    let req = match TestStateRequest::from_json(&params.to_string()) {
        Ok(r) => r,
        Err(e) => return serde_json::json!({"status": "REJECTED", "error": e.aws_type(), "cause": e.message()}),
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().expect("runtime");
    let engine = Engine::new(Default::default(), lambda_functions(case));
    match runtime.block_on(test_state(&engine, req)) {
        Ok(response) => serde_json::to_value(&response).expect("a response serialises"),
        Err(e) => serde_json::json!({"status": "REJECTED", "error": e.aws_type(), "cause": e.message()}),
    }
}

/// Handlers for the Lambda functions a case needs (by function ARN), for the behaviours that
/// are plain functions of the input: `identity` and `constant_raw`.
fn lambda_functions(case: &Json) -> Resources {
    let mut resources = Resources::default();
    for need in case["needs"].as_array().into_iter().flatten() {
        let (Some(arn), Some(kind)) = (need["arn"].as_str(), need["behaviour"]["kind"].as_str()) else { continue };
        match kind {
            "identity" => resources.register(arn, handler_fn(|req| async move { Ok(req.input) })),
            "constant_raw" => {
                let Some(payload) = need["behaviour"]["raw_payload"].as_str().and_then(|p| expressway::value::parse_str(p).ok()) else {
                    continue;
                };
                resources.register(arn, handler_fn(move |_| std::future::ready(Ok(payload.clone()))));
            }
            _ => {}
        }
    }
    resources
}
