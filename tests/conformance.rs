//! The AWS-recorded conformance corpus (`../shared/conformance/cases`, or
//! `$EXPRESSWAY_CONFORMANCE_DIR`) as a table-driven test, in-process.
//!
//! Selection is the core issue's: `pure` cases of mode `run` and `validate`, without the
//! JSONata and variables tags (those have their own table once JSONata lands). Matching follows
//! `compare.py`: placeholders like `<uuid:1>` and the case's wildcard words match what AWS
//! randomises, object key order is ignored, numbers compare numerically, causes are compared.
//!
//! Every case we do not pass is listed, with its reason, in `tests/conformance-known-failures.txt`.
//! The test fails when an unlisted case fails *and* when a listed case starts passing, so the
//! list stays true.

use std::collections::{BTreeMap, BTreeSet};

use expressway::machine::StateMachine;
use expressway::runtime::EngineConfig;
use expressway::tasks::Resources;
use serde_json::Value as Json;

mod common;
use common::{corpus_dir, definition_text, judge, known_failures, machine_type, Matcher};

const EXCLUDED_TAGS: [&str; 4] = ["QueryLanguage:JSONata", "JSONataExpression", "Field:Assign", "Variables"];

#[test]
fn conformance_corpus_jsonpath_mode() {
    run_selection("JSONPath mode", selected, &known_failures(include_str!("conformance-known-failures.txt")));
}

/// The JSONata and variables selection (the JSONata issue's check): pure run/validate cases
/// carrying any of the excluded tags.
#[test]
fn conformance_corpus_jsonata_and_variables() {
    let jsonata = |case: &Json| {
        let mode = case["mode"].as_str().unwrap_or("");
        let tags: Vec<&str> = case["tags"].as_array().map(|t| t.iter().filter_map(Json::as_str).collect()).unwrap_or_default();
        case["pure"].as_bool() == Some(true)
            && (mode == "run" || mode == "validate")
            && tags.iter().any(|t| EXCLUDED_TAGS.contains(t))
    };
    run_selection("JSONata and variables", jsonata, &known_failures(include_str!("conformance-known-failures-jsonata.txt")));
}

fn run_selection(label: &str, selected: impl Fn(&Json) -> bool, known: &BTreeMap<String, String>) {
    common::score(label, selected, known, |case| judge(case, &run_case(case)));
}

fn selected(case: &Json) -> bool {
    let mode = case["mode"].as_str().unwrap_or("");
    let tags: Vec<&str> = case["tags"].as_array().map(|t| t.iter().filter_map(Json::as_str).collect()).unwrap_or_default();
    case["pure"].as_bool() == Some(true)
        && (mode == "run" || mode == "validate")
        && !tags.iter().any(|t| EXCLUDED_TAGS.contains(t))
}


/// Starts the case's execution in-process on a paused (virtual) clock (see [`common::execute`]).
fn execute(case: &Json, record_history: bool) -> Result<expressway::runtime::ExecutionOutcome, Json> {
    common::execute(case, EngineConfig { record_history, ..Default::default() }, Resources::default)
}

/// Runs a case in-process and returns what the CLI would print (as serde JSON).
fn run_case(case: &Json) -> Json {
    let kind = machine_type(case);
    let text = definition_text(case);
    if case["mode"] == "validate" {
        let diags = expressway::asl::validate(&text, kind);
        return match diags.iter().find(|d| d.severity == expressway::asl::Severity::Error) {
            None => serde_json::json!({"status": "ACCEPTED"}),
            Some(d) => serde_json::json!({"status": "REJECTED", "error": d.code, "cause": d.message}),
        };
    }
    let outcome = match execute(case, false) {
        Ok(o) => o,
        Err(rejected) => return rejected,
    };
    common::outcome_result(&outcome)
}

#[test]
fn matcher_follows_compare_py_rules() {
    let m = Matcher::new(["timestamp".to_string()].into_iter().collect());
    assert!(m.str_match("arn:<partition>:states:<region>:111111111111:execution:<ArnPart_0idx>:x", &Json::from("arn:aws:states:us-east-1:123456789012:execution:abc:x")));
    assert!(!m.str_match("<uuid:1>", &Json::from("not-a-uuid")));
    assert!(m.str_match("timestamp", &Json::from(12)));
    assert!(m.deep(&serde_json::json!({"a": 1, "b": [1.0]}), &serde_json::json!({"b": [1], "a": 1.0}), "$").is_none());
    assert!(m.deep(&serde_json::json!({"a": 1}), &serde_json::json!({"a": 1, "b": 2}), "$").is_some());
}

/// History event types per case, as our engine records them (for comparing with the recording).
fn history_types(case: &Json) -> Option<Vec<String>> {
    let outcome = execute(case, true).ok()?;
    Some(outcome.history.iter().map(|e| e.kind.to_string()).collect())
}

/// The recorded history event types, compared as multisets (AWS interleaves concurrent
/// branches nondeterministically) and, for cases without Parallel/Map, in order.
#[test]
fn history_event_types_match_the_recordings() {
    let Some(dir) = corpus_dir() else { return };
    let known = known_history_differences();
    let mut mismatches = Vec::new();
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("corpus readable").flatten() {
        let case: Json = serde_json::from_str(&std::fs::read_to_string(entry.path()).expect("readable")).expect("JSON");
        if !selected(&case) || case["mode"] != "run" {
            continue;
        }
        let Some(expected) = case["history_event_types"].as_array() else { continue };
        let expected: Vec<String> = expected.iter().filter_map(|v| v.as_str().map(String::from)).collect();
        let Some(actual) = history_types(&case) else { continue };
        checked += 1;
        let def = case["definition"].to_string();
        let concurrent = def.contains("\"Parallel\"") || def.contains("\"Map\"");
        let reversed: Vec<String> = expected.iter().rev().cloned().collect();
        let same = actual == reversed || if concurrent {
            let (mut a, mut e) = (actual.clone(), expected.clone());
            a.sort();
            e.sort();
            a == e
        } else {
            actual == expected
        };
        let id = case["id"].as_str().unwrap_or_default().to_string();
        if !same && !known.contains(&id) {
            mismatches.push(format!("{id}\n    expected {expected:?}\n    actual   {actual:?}"));
        }
    }
    eprintln!("history: {checked} cases checked, {} unexpected mismatches", mismatches.len());
    assert!(mismatches.is_empty(), "history differs:\n{}", mismatches.join("\n"));
}

/// Recordings we knowingly differ from, with the reason.
fn known_history_differences() -> BTreeSet<String> {
    [
        // Nested Parallel: the recording has two ParallelStateEntered but one ParallelStateExited,
        // while every other recording (including branch-final Pass states) records an Exited per
        // Entered; we record both exits.
        "scenarios_test_base_scenarios.TestBaseScenarios.test_parallel_state_nested__2f4d97b0",
    ]
    .into_iter()
    .map(String::from)
    .collect()
}

/// Every definition AWS accepted in the corpus (any mode, either query language) must validate
/// and compile: a user's working definition is never refused.
#[test]
fn every_accepted_definition_compiles() {
    let Some(dir) = corpus_dir() else { return };
    let mut refused = Vec::new();
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("corpus readable").flatten() {
        let case: Json = serde_json::from_str(&std::fs::read_to_string(entry.path()).expect("readable")).expect("JSON");
        let rejected = matches!(case["expected"]["status"].as_str(), Some("REJECTED"))
            || case["expected"]["error"].as_str().is_some_and(|e| e == "InvalidDefinition" || e.contains("VALIDATION"));
        if rejected || case["mode"] == "test_state" || case["definition"].is_null() {
            continue;
        }
        checked += 1;
        if let Err(e) = StateMachine::new("Accepted", &definition_text(&case), machine_type(&case)) {
            refused.push(format!("{}: {}", case["id"].as_str().unwrap_or_default(), e.message));
        }
    }
    eprintln!("accepted definitions: {checked} checked, {} refused", refused.len());
    assert!(refused.is_empty(), "definitions AWS accepted but we refuse:\n{}", refused.join("\n"));
}
