//! The binary's task-related surface: `expressway test` on the call-center example (pass,
//! a deliberately failing case, coverage, bad files) and `expressway run` with
//! `--lambda-endpoint`, `--exec-config` and `--http-allow`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value as Json;

mod common;
use common::lambda_server::{Behaviour, LambdaServer};

const BIN: &str = env!("CARGO_BIN_EXE_expressway");
const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/call-center");

fn expressway(args: &[&str]) -> Output {
    Command::new(BIN).args(args).env_remove("SFN_MOCK_CONFIG").env_remove("LAMBDA_ENDPOINT").output().expect("run expressway")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A fresh scratch folder for this test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("expressway-cli-tasks-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

fn test_call_center(extra: &[&str]) -> Output {
    let def = format!("{EXAMPLE}/call-center.asl.json");
    let mock = format!("{EXAMPLE}/mock.json");
    let mut args = vec!["test", def.as_str(), "--mock-config", mock.as_str()];
    args.extend_from_slice(extra);
    expressway(&args)
}

#[test]
fn test_passes_the_call_center_example_and_prints_full_coverage() {
    let expected = format!("{EXAMPLE}/test-cases.json");
    let o = test_call_center(&["--expected", &expected]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("PASS  Resolved") && out.contains("PASS  Unresolved"), "{out}");
    assert!(out.contains("States entered: 7 of 7 (100%)"), "{out}");
    assert!(out.contains("Transitions taken: 6 of 6 (100%)"), "{out}");
    assert!(out.contains("Is Case Resolved → Escalate Case  rule 2"), "{out}");
    assert!(out.trim_end().ends_with("2 passed, 0 failed"), "{out}");
}

#[test]
fn a_failing_case_makes_test_exit_1_with_a_diff() {
    let dir = scratch("failing");
    let expected = dir.join("expected.json");
    let input = format!("{EXAMPLE}/input/case-001.json");
    std::fs::write(
        &expected,
        serde_json::json!({"TestCases": {
            "Resolved": {"inputFile": input, "expect": {"status": "SUCCEEDED", "output": {"Case": "001", "Status": 2, "Message": "Case 001: opened...assigned...resolved...closed."}}},
            "Unresolved": {"inputFile": input, "expect": {"status": "FAILED", "cause": "Engage Tier 2 Support."}}
        }})
        .to_string(),
    )
    .expect("write expected file");
    let o = test_call_center(&["--expected", expected.to_str().expect("utf-8 path")]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("FAIL  Resolved") && out.contains("PASS  Unresolved"), "{out}");
    assert!(out.contains("$.Status: expected 2, got 1"), "{out}");
    assert!(out.trim_end().ends_with("1 passed, 1 failed"), "{out}");
}

#[test]
fn one_chosen_case_shows_what_it_never_reached() {
    let o = test_call_center(&["--test-case", "Resolved"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("States entered: 5 of 7 (71%)"), "{out}");
    assert!(out.contains("Transitions taken: 4 of 6 (66%)"), "{out}");
    assert!(out.lines().any(|l| l.contains("Escalate Case → Fail") && l.ends_with("never")), "{out}");
}

#[test]
fn bad_files_and_unknown_cases_exit_2() {
    assert_eq!(test_call_center(&["--test-case", "Nope"]).status.code(), Some(2));
    let def = format!("{EXAMPLE}/call-center.asl.json");
    assert_eq!(expressway(&["test", &def, "--mock-config", "/nonexistent/mock.json"]).status.code(), Some(2));
    let dir = scratch("bad");
    let bad = dir.join("expected.json");
    std::fs::write(&bad, r#"{"TestCases": {"Resolved": {"expected": {}}}}"#).expect("write");
    let o = test_call_center(&["--expected", bad.to_str().expect("utf-8 path")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("expected-output file"));
}

#[test]
fn run_reaches_a_lambda_endpoint() {
    let server = LambdaServer::start();
    let endpoint = server.endpoint("cli", HashMap::from([("OpenCase".to_string(), Behaviour::Identity)]));
    let dir = scratch("lambda");
    let def = dir.join("open.asl.json");
    std::fs::write(
        &def,
        r#"{"StartAt": "Open", "States": {
            "Open": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-2:123456789012:function:OpenCase", "Next": "Invoke"},
            "Invoke": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                       "Parameters": {"FunctionName": "OpenCase", "Payload.$": "$"}, "OutputPath": "$.Payload", "End": true}}}"#,
    )
    .expect("write definition");
    let o = expressway(&["run", def.to_str().expect("utf-8"), "--input", r#"{"case": 7}"#, "--lambda-endpoint", &endpoint, "--virtual-time"]);
    let result: Json = serde_json::from_slice(&o.stdout).expect("JSON result");
    assert_eq!(result["status"], "SUCCEEDED", "{result}");
    assert_eq!(result["output"], serde_json::json!({"case": 7}));
    // Without an endpoint the failure says how to provide one.
    let o = expressway(&["run", def.to_str().expect("utf-8"), "--input", "{}"]);
    let result: Json = serde_json::from_slice(&o.stdout).expect("JSON result");
    assert_eq!(result["error"], "States.Runtime");
    assert!(result["cause"].as_str().is_some_and(|c| c.contains("--lambda-endpoint")), "{result}");
    // A malformed endpoint is a usage error.
    assert_eq!(expressway(&["run", def.to_str().expect("utf-8"), "--lambda-endpoint", "https://x"]).status.code(), Some(2));
}

#[cfg(unix)]
#[test]
fn run_calls_exec_commands_from_a_config_file() {
    let dir = scratch("exec");
    let config = dir.join("exec.json");
    std::fs::write(&config, r#"{"commands": {"upper": {"argv": ["sh", "-c", "tr a-z A-Z"]}}}"#).expect("write config");
    let def = dir.join("upper.asl.json");
    std::fs::write(&def, r#"{"StartAt": "U", "States": {"U": {"Type": "Task", "Resource": "exec:upper", "End": true}}}"#).expect("write");
    let o = expressway(&["run", def.to_str().expect("utf-8"), "--input", r#"{"k": "shout"}"#, "--exec-config", config.to_str().expect("utf-8")]);
    let result: Json = serde_json::from_slice(&o.stdout).expect("JSON result");
    assert_eq!(result["output"], serde_json::json!({"K": "SHOUT"}), "{result}");
    assert_eq!(expressway(&["run", def.to_str().expect("utf-8"), "--exec-config", "/nonexistent.json"]).status.code(), Some(2));
}

#[test]
fn other_service_integrations_fail_naming_the_integration() {
    let dir = scratch("sqs");
    let def = dir.join("sqs.asl.json");
    std::fs::write(
        &def,
        r#"{"StartAt": "Send", "States": {"Send": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
            "Parameters": {"QueueUrl": "q", "MessageBody": "m"}, "End": true}}}"#,
    )
    .expect("write");
    let o = expressway(&["run", def.to_str().expect("utf-8"), "--input", "{}"]);
    let result: Json = serde_json::from_slice(&o.stdout).expect("JSON result");
    assert_eq!(result["error"], "States.Runtime");
    let cause = result["cause"].as_str().unwrap_or_default();
    assert!(cause.contains("service integration 'sqs:sendMessage'") && cause.contains("--mock-config"), "{cause}");
}
