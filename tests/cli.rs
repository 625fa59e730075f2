//! The `expressway` binary as users run it: exit codes, input sources, NDJSON mode, validate's
//! two output formats, and clear errors for bad files and bad input.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_expressway"))
}

fn with_stdin(mut cmd: Command, stdin: &str) -> Output {
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    child.wait_with_output().expect("wait")
}

fn write_temp(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("expressway-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write temp");
    p
}

const ADD: &str = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"sum.$":"States.MathAdd($.a, $.b)"},"Next":"C"},
  "C":{"Type":"Choice","Choices":[{"Variable":"$.sum","NumericGreaterThan":10,"Next":"Big"}],"Default":"Small"},
  "Big":{"Type":"Fail","Error":"TooBig","Cause":"sum over 10"},"Small":{"Type":"Succeed"}}}"#;

fn stdout_json(o: &Output) -> serde_json::Value {
    let text = String::from_utf8_lossy(&o.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}): {text}"))
}

#[test]
fn run_succeeds_with_exit_0_and_prints_identity() {
    let def = write_temp("add.asl.json", ADD);
    let o = bin().arg("run").arg(&def).args(["--input", r#"{"a":1,"b":2}"#]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v = stdout_json(&o);
    assert_eq!(v["status"], "SUCCEEDED");
    assert_eq!(v["output"], serde_json::json!({"sum": 3}));
    assert!(v["executionArn"].as_str().unwrap().starts_with("arn:aws:states:us-east-1:123456789012:express:add:"));
    assert!(v["startDate"].is_string() && v["stopDate"].is_string() && v["name"].is_string());
}

#[test]
fn run_fails_with_exit_1_and_error_cause() {
    let def = write_temp("add2.asl.json", ADD);
    let o = with_stdin({ let mut c = bin(); c.arg("run").arg(&def); c }, r#"{"a":10,"b":5}"#);
    assert_eq!(o.status.code(), Some(1));
    let v = stdout_json(&o);
    assert_eq!((v["status"].as_str(), v["error"].as_str(), v["cause"].as_str()), (Some("FAILED"), Some("TooBig"), Some("sum over 10")));
    assert!(v.get("output").is_none());
}

#[test]
fn invalid_input_and_definitions_exit_2_with_aws_names() {
    let def = write_temp("add3.asl.json", ADD);
    let o = bin().arg("run").arg(&def).args(["--input", "{not json"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout_json(&o)["error"], "InvalidExecutionInput");

    let bad = write_temp("bad.asl.json", r#"{"StartAt":"Nope","States":{"A":{"Type":"Pass","End":true}}}"#);
    let o = bin().arg("run").arg(&bad).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let v = stdout_json(&o);
    assert_eq!(v["error"], "InvalidDefinition");
    assert!(v["cause"].as_str().unwrap().starts_with("Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET"), "{v}");

    let o = bin().args(["run", "/definitely/not/here.json"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read the definition file"));
}

#[test]
fn ndjson_mode_keeps_input_order_and_reports_bad_lines() {
    let def = write_temp("add4.asl.json", ADD);
    let mut input = String::new();
    for i in 0..200 {
        input.push_str(&format!("{{\"a\":{i},\"b\":0}}\n"));
    }
    input.push_str("this is not json\n\n{\"a\":1,\"b\":1}\n");
    let o = with_stdin({ let mut c = bin(); c.args(["run", "--ndjson", "--max-in-flight", "7"]).arg(&def); c }, &input);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&o.stdout).lines().map(|l| serde_json::from_str(l).expect("each line is JSON")).collect();
    assert_eq!(lines.len(), 202, "one result per non-empty line");
    for (i, l) in lines.iter().take(200).enumerate() {
        if i <= 10 {
            assert_eq!(l["output"]["sum"], i as i64, "line {i}: {l}");
        } else {
            assert_eq!(l["error"], "TooBig", "line {i}: {l}");
        }
    }
    assert_eq!(lines[200]["status"], "REJECTED");
    assert_eq!(lines[200]["error"], "InvalidExecutionInput");
    assert_eq!(lines[200]["line"], 201);
    assert_eq!(lines[201]["output"]["sum"], 2);
}

#[test]
fn validate_prints_text_or_aws_json_and_sets_the_exit_code() {
    let good = write_temp("good.asl.json", ADD);
    let bad = write_temp("bad2.asl.json", r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Gone"}}}"#);
    let o = bin().arg("validate").arg(&good).output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains(": OK"));

    let o = bin().args(["validate", "--json"]).arg(&bad).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let v = stdout_json(&o);
    assert_eq!(v["result"], "FAIL");
    assert_eq!(v["diagnostics"][0]["code"], "MISSING_TRANSITION_TARGET");
    assert_eq!(v["diagnostics"][0]["severity"], "ERROR");
    assert!(v["diagnostics"][0]["location"].as_str().unwrap().starts_with("/States/A"));

    let express = write_temp("sync.asl.json", r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync","End":true}}}"#);
    assert_eq!(bin().arg("validate").arg(&express).output().unwrap().status.code(), Some(0));
    assert_eq!(bin().args(["validate", "--type", "EXPRESS"]).arg(&express).output().unwrap().status.code(), Some(1));
}

#[test]
fn validate_reports_variable_shadowing_and_unavailable_states_fields() {
    let def = write_temp(
        "scope.asl.json",
        r#"{"QueryLanguage":"JSONata","StartAt":"Seed","States":{
          "Seed":{"Type":"Pass","Assign":{"total":0},"Output":"{% $states.result %}","Next":"P"},
          "P":{"Type":"Parallel","Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","Assign":{"total":1},"End":true}}}],
               "Catch":[{"ErrorEquals":["States.ALL"],"Assign":{"total":"{% $states.errorOutput %}"},"Next":"Done"}],
               "Output":"{% $states.result %}","Next":"Done"},
          "Done":{"Type":"Succeed"}}}"#,
    );
    let o = bin().args(["validate", "--json"]).arg(&def).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let v = stdout_json(&o);
    assert_eq!(v["result"], "FAIL");
    let found: Vec<(&str, &str)> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["code"].as_str().unwrap(), d["location"].as_str().unwrap()))
        .collect();
    assert_eq!(
        found,
        [
            ("UNSUPPORTED_JSONATA_EXPRESSION", "/States/Seed/Output"),
            ("SCHEMA_VALIDATION_FAILED", "/States/P/Branches[0]/States/B/Assign/total"),
        ]
    );
    assert_eq!(v["diagnostics"][0]["message"], "Field '$states.result' does not exist.");

    let o = bin().arg("validate").arg(&def).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    assert!(text.contains("Field '$states.result' does not exist."), "{text}");
    assert!(text.contains("/States/P/Branches[0]/States/B/Assign/total"), "{text}");
}

#[test]
fn validate_refuses_top_level_jsonata_references_and_accepts_anchored_ones() {
    let def = write_temp(
        "top-level.asl.json",
        r#"{"QueryLanguage":"JSONata","StartAt":"E","States":{
          "E":{"Type":"Pass","Output":{"v":"{% phone %}","ok":"{% $states.input.phone[number > 1] %}"},"Next":"C"},
          "C":{"Type":"Choice","Choices":[{"Condition":"{% $ = 1 or $$.x %}","Next":"Done"}],"Default":"Done"},
          "Done":{"Type":"Succeed"}}}"#,
    );
    let o = bin().args(["validate", "--json"]).arg(&def).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let v = stdout_json(&o);
    assert_eq!(v["result"], "FAIL");
    let found: Vec<(&str, &str, &str)> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["code"].as_str().unwrap(), d["message"].as_str().unwrap(), d["location"].as_str().unwrap()))
        .collect();
    assert_eq!(
        found,
        [
            ("UNSUPPORTED_JSONATA_EXPRESSION", "Reference to 'phone' at the top level is not supported.", "/States/E/Output/v"),
            ("UNSUPPORTED_JSONATA_EXPRESSION", "Reference to '$' at the top level is not supported.", "/States/C/Choices[0]/Condition"),
            ("UNSUPPORTED_JSONATA_EXPRESSION", "Reference to '$$' is not supported.", "/States/C/Choices[0]/Condition"),
        ]
    );

    let o = bin().arg("validate").arg(&def).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    assert!(text.contains("Reference to 'phone' at the top level is not supported."), "{text}");

    let fixed = write_temp(
        "top-level-fixed.asl.json",
        r#"{"QueryLanguage":"JSONata","StartAt":"E","States":{
          "E":{"Type":"Pass","Output":{"v":"{% $states.input.phone %}"},"End":true}}}"#,
    );
    assert_eq!(bin().arg("validate").arg(&fixed).output().unwrap().status.code(), Some(0));
}

#[test]
fn compile_prints_the_state_table() {
    let def = write_temp("add5.asl.json", ADD);
    let o = bin().arg("compile").arg(&def).output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("#0 A [Pass] -> #1"), "{text}");
    assert!(text.contains("#1 C [Choice] choices -> #2; default -> #3"), "{text}");
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    assert_eq!(bin().args(["run"]).output().unwrap().status.code(), Some(2));
    assert_eq!(bin().args(["frobnicate"]).output().unwrap().status.code(), Some(2));
    let o = bin().args(["run", "--help"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("--virtual-time"));
}

#[test]
fn test_state_prints_the_api_response_and_sets_the_exit_code() {
    let task = write_temp("task.json", r#"{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","ResultPath":"$.r","Next":"After"}"#);
    let params = r#"{"inspectionLevel":"DEBUG","mock":{"result":"{\"Payload\":7}"}}"#;
    let o = with_stdin({ let mut c = bin(); c.arg("test-state").arg(&task).args(["--params", params]); c }, r#"{"a":1}"#);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v = stdout_json(&o);
    assert_eq!((v["status"].as_str(), v["nextState"].as_str()), (Some("SUCCEEDED"), Some("After")));
    assert_eq!(serde_json::from_str::<serde_json::Value>(v["output"].as_str().unwrap()).unwrap(), serde_json::json!({"a": 1, "r": {"Payload": 7}}));
    assert_eq!(v["inspectionData"]["result"], r#"{"Payload":7}"#);

    let failing = r#"{"mock":{"errorOutput":{"error":"Boom","cause":"bad"}}}"#;
    let o = bin().arg("test-state").arg(&task).args(["--params", failing, "--input", "{}"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!((stdout_json(&o)["status"].as_str(), stdout_json(&o)["error"].as_str()), (Some("FAILED"), Some("Boom")));
}

#[test]
fn test_state_finds_a_state_by_name_and_refuses_with_aws_names() {
    let def = write_temp("machine-ts.asl.json", ADD);
    let o = bin().arg("test-state").arg(&def).args(["--state-name", "C", "--inspection-level", "trace", "--input", r#"{"sum":11}"#]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v = stdout_json(&o);
    assert_eq!((v["nextState"].as_str(), v["inspectionData"]["input"].as_str()), (Some("Big"), Some(r#"{"sum":11}"#)));

    let o = bin().arg("test-state").arg(&def).args(["--state-name", "Nope", "--input", "{}"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let v = stdout_json(&o);
    assert_eq!((v["status"].as_str(), v["error"].as_str(), v["cause"].as_str()), (Some("REJECTED"), Some("ValidationException"), Some("State not found in definition")));

    let o = bin().arg("test-state").arg(&def).args(["--params", "[1]"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let o = bin().args(["test-state", "--help"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("Exit codes"));
}

#[test]
fn ndjson_batches_keep_input_order_when_executions_wait_different_times() {
    let def = write_temp(
        "wait-var.asl.json",
        r#"{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.d","Next":"P"},"P":{"Type":"Pass","End":true}}}"#,
    );
    let input: String = (0..150).map(|i| format!("{{\"i\":{i},\"d\":{}}}\n", (150 - i) % 7)).collect();
    let o = with_stdin({ let mut c = bin(); c.args(["run", "--ndjson", "--virtual-time"]).arg(&def); c }, &input);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&o.stdout).lines().map(|l| serde_json::from_str(l).expect("each line is JSON")).collect();
    assert_eq!(lines.len(), 150);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["output"]["i"], i as i64, "line {i}: {l}");
    }
}
