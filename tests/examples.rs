//! Runs every shipped example (`examples/*/`) through the built `expressway` binary with
//! `--virtual-time` and its Step Functions Local mock file, and checks the result against the
//! example's `expected/<TestCase>.json`, the states the execution went through, and the
//! (virtual) time it took.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_expressway");

/// One test case of one example.
struct Case {
    /// Folder under `examples/`; the definition is `<example>/<example>.asl.json`.
    example: &'static str,
    /// File under `<example>/input/`.
    input: &'static str,
    /// Test case in `<example>/mock.json`; the expected result is `expected/<test_case>.json`.
    test_case: &'static str,
    /// The states entered, in order; the states of one group may be entered in any order
    /// (Parallel branches).
    path: &'static [&'static [&'static str]],
    /// Milliseconds from startDate to stopDate on the virtual clock.
    elapsed_ms: i64,
    /// Milliseconds the Wait state `timer` lasted, when the path has one that completes.
    wait_ms: Option<i64>,
}

const CASES: &[Case] = &[
    Case {
        example: "call-center-jsonata",
        input: "case-001.json",
        test_case: "Resolved",
        path: &[&["Open Case"], &["Assign Case"], &["Work on Case"], &["Is Case Resolved"], &["Close Case"]],
        elapsed_ms: 0,
        wait_ms: None,
    },
    Case {
        example: "call-center-jsonata",
        input: "case-001.json",
        test_case: "Unresolved",
        path: &[&["Open Case"], &["Assign Case"], &["Work on Case"], &["Is Case Resolved"], &["Escalate Case"], &["Fail"]],
        elapsed_ms: 0,
        wait_ms: None,
    },
    Case {
        example: "call-center",
        input: "case-001.json",
        test_case: "Resolved",
        path: &[&["Open Case"], &["Assign Case"], &["Work on Case"], &["Is Case Resolved"], &["Close Case"]],
        elapsed_ms: 0,
        wait_ms: None,
    },
    Case {
        example: "call-center",
        input: "case-001.json",
        test_case: "Unresolved",
        path: &[&["Open Case"], &["Assign Case"], &["Work on Case"], &["Is Case Resolved"], &["Escalate Case"], &["Fail"]],
        elapsed_ms: 0,
        wait_ms: None,
    },
    Case {
        example: "hello-world-reverse",
        input: "hi-mom.json",
        test_case: "HiMom",
        path: &[&["hello-world"], &["reverse"]],
        elapsed_ms: 0,
        wait_ms: None,
    },
    Case {
        example: "hello-world-reverse",
        input: "hi-mom.json",
        test_case: "ReverseThrottled",
        path: &[&["hello-world"], &["reverse"]],
        elapsed_ms: 0,
        wait_ms: None,
    },
    Case {
        example: "pet-reminder",
        input: "email.json",
        test_case: "EmailOnly",
        path: &[&["timer"], &["choice"], &["email"]],
        elapsed_ms: 240_000,
        wait_ms: Some(240_000),
    },
    Case {
        example: "pet-reminder",
        input: "sms.json",
        test_case: "SmsOnly",
        path: &[&["timer"], &["choice"], &["sms"]],
        elapsed_ms: 240_000,
        wait_ms: Some(240_000),
    },
    Case {
        example: "pet-reminder",
        input: "both.json",
        test_case: "Both",
        path: &[&["timer"], &["choice"], &["both"], &["email (both)", "sms (both)"]],
        elapsed_ms: 240_000,
        wait_ms: Some(240_000),
    },
    Case {
        example: "pet-reminder",
        input: "pigeon.json",
        test_case: "UnknownPreference",
        path: &[&["timer"], &["choice"], &["unknown preference"]],
        elapsed_ms: 30_000,
        wait_ms: Some(30_000),
    },
    Case {
        // A two-hour wait in an Express workflow: the 5-minute limit ends it first.
        example: "pet-reminder",
        input: "in-two-hours.json",
        test_case: "InTwoHours",
        path: &[&["timer"]],
        elapsed_ms: 300_000,
        wait_ms: None,
    },
];

/// The identity and date fields of a result, which change from run to run.
const VOLATILE: &[&str] = &["executionArn", "stateMachineArn", "name", "startDate", "stopDate", "history"];

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// Runs `expressway run` in `dir` (SFN_MOCK_CONFIG from the environment is not passed on).
fn expressway(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir)
        .arg("run")
        .args(args)
        .env_remove("SFN_MOCK_CONFIG")
        .output()
        .expect("cannot start the expressway binary")
}

fn stdout_json(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!("stdout is not one JSON object ({e}): {text}\nstderr: {}", String::from_utf8_lossy(&out.stderr))
    })
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// Milliseconds since the epoch of a `YYYY-MM-DDTHH:MM:SS.mmmZ` timestamp.
fn epoch_ms(ts: &str) -> i64 {
    let b = ts.as_bytes();
    assert!(ts.len() == 24 && b[4] == b'-' && b[10] == b'T' && b[19] == b'.' && b[23] == b'Z', "bad timestamp {ts:?}");
    let n = |r: std::ops::Range<usize>| -> i64 { ts[r].parse().unwrap_or_else(|_| panic!("bad timestamp {ts:?}")) };
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    ((days * 24 + n(11..13)) * 60 + n(14..16)) * 60_000 + n(17..19) * 1000 + n(20..23)
}

#[test]
fn epoch_ms_parses_iso_timestamps() {
    assert_eq!(epoch_ms("1970-01-01T00:00:00.000Z"), 0);
    assert_eq!(epoch_ms("2024-02-29T12:34:56.789Z"), 1_709_210_096_789);
}

fn history_events<'a>(result: &'a Value, kind: &str) -> Vec<&'a Value> {
    result["history"]
        .as_array()
        .expect("the result has no history")
        .iter()
        .filter(|e| e["type"].as_str() == Some(kind))
        .collect()
}

fn check_case(case: &Case) {
    let dir = examples_dir().join(case.example);
    let definition = format!("{}.asl.json", case.example);
    let input = format!("input/{}", case.input);
    let args = [
        definition.as_str(),
        "--input-file",
        input.as_str(),
        "--mock-config",
        "mock.json",
        "--test-case",
        case.test_case,
        "--virtual-time",
        "--history",
    ];
    let out = expressway(&dir, &args);
    let result = stdout_json(&out);
    let label = format!("{}/{}", case.example, case.test_case);

    // Status and the full result (output, or error and cause) against the checked-in file.
    let expected = read_json(&dir.join("expected").join(format!("{}.json", case.test_case)));
    let mut actual = result.clone();
    for key in VOLATILE {
        actual.as_object_mut().unwrap().remove(*key);
    }
    assert_eq!(actual, expected, "{label}: result differs from expected/{}.json", case.test_case);

    let status = result["status"].as_str().unwrap();
    let code = out.status.code();
    assert_eq!(code, Some(if status == "SUCCEEDED" { 0 } else { 1 }), "{label}: exit code for {status}");
    assert_eq!(result["stateMachineArn"], format!("arn:aws:states:us-east-1:123456789012:stateMachine:{}", case.example));

    // The path through the machine.
    let mut entered: Vec<String> = result["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"].as_str().is_some_and(|t| t.ends_with("StateEntered")))
        .map(|e| e["details"]["name"].as_str().unwrap().to_string())
        .collect();
    let mut at = 0;
    for group in case.path {
        let end = (at + group.len()).min(entered.len());
        entered[at..end].sort();
        at = end;
    }
    let mut want: Vec<String> = Vec::new();
    for group in case.path {
        let mut g: Vec<String> = group.iter().map(|s| s.to_string()).collect();
        g.sort();
        want.extend(g);
    }
    assert_eq!(entered, want, "{label}: states entered");

    // Virtual time: the run takes exactly as long as its waits (or the Express limit).
    let start = epoch_ms(result["startDate"].as_str().unwrap());
    let stop = epoch_ms(result["stopDate"].as_str().unwrap());
    assert_eq!(stop - start, case.elapsed_ms, "{label}: stopDate - startDate");
    if let Some(wait_ms) = case.wait_ms {
        let entered = history_events(&result, "WaitStateEntered");
        let exited = history_events(&result, "WaitStateExited");
        assert_eq!((entered.len(), exited.len()), (1, 1), "{label}: one Wait state");
        let t = |e: &Value| epoch_ms(e["timestamp"].as_str().unwrap());
        assert_eq!(t(exited[0]) - t(entered[0]), wait_ms, "{label}: time spent in the Wait state");
        assert_eq!(t(entered[0]), start, "{label}: the Wait state starts the execution");
    }
}

#[test]
fn call_center() {
    CASES.iter().filter(|c| c.example == "call-center").for_each(check_case);
}

#[test]
fn call_center_jsonata() {
    CASES.iter().filter(|c| c.example == "call-center-jsonata").for_each(check_case);
}

#[test]
fn hello_world_reverse() {
    CASES.iter().filter(|c| c.example == "hello-world-reverse").for_each(check_case);
}

#[test]
fn pet_reminder() {
    CASES.iter().filter(|c| c.example == "pet-reminder").for_each(check_case);
}

/// Every example folder, every test case of its mock file and every expected file is covered
/// by `CASES`, so an example added or changed without a test fails here.
#[test]
fn every_example_and_test_case_is_tested() {
    let mut folders = BTreeSet::new();
    for entry in std::fs::read_dir(examples_dir()).unwrap() {
        let entry = entry.unwrap();
        // `events` is the EventBridge rules-file example, run by tests/events_cli.rs.
        if entry.file_type().unwrap().is_dir() && entry.file_name() != "events" {
            folders.insert(entry.file_name().to_string_lossy().into_owned());
        }
    }
    let tested: BTreeSet<String> = CASES.iter().map(|c| c.example.to_string()).collect();
    assert_eq!(folders, tested, "example folders vs. tested examples");

    for example in &folders {
        let dir = examples_dir().join(example);
        assert!(dir.join(format!("{example}.asl.json")).is_file(), "{example}: no {example}.asl.json");
        assert!(dir.join("README.md").is_file(), "{example}: no README.md");
        let want: BTreeSet<String> =
            CASES.iter().filter(|c| c.example == example).map(|c| c.test_case.to_string()).collect();

        let mock = read_json(&dir.join("mock.json"));
        let machines = mock["StateMachines"].as_object().unwrap();
        assert_eq!(machines.keys().collect::<Vec<_>>(), vec![example], "{example}: mock.json machine name");
        let in_mock: BTreeSet<String> = machines[example.as_str()]["TestCases"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(in_mock, want, "{example}: mock.json test cases vs. tested cases");

        let expected: BTreeSet<String> = std::fs::read_dir(dir.join("expected"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().trim_end_matches(".json").to_string())
            .collect();
        assert_eq!(expected, want, "{example}: expected/*.json vs. tested cases");
    }
}

/// A mock file whose test case names a response MockedResponses lacks is a usage error.
#[test]
fn mock_naming_a_missing_response_is_rejected() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("examples-missing-response");
    std::fs::create_dir_all(&dir).unwrap();
    let mock = dir.join("mock.json");
    std::fs::write(
        &mock,
        r#"{
          "StateMachines": {"call-center": {"TestCases": {"Resolved": {
            "Open Case": "OpenCase001", "Assign Case": "NoSuchResponse"}}}},
          "MockedResponses": {"OpenCase001": {"0": {"Return": {"Case": "001", "Message": "Case 001: opened..."}}}}
        }"#,
    )
    .unwrap();
    let out = expressway(
        &examples_dir().join("call-center"),
        &[
            "call-center.asl.json",
            "--input-file",
            "input/case-001.json",
            "--mock-config",
            mock.to_str().unwrap(),
            "--test-case",
            "Resolved",
            "--virtual-time",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "exit code");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("'Assign Case'") && stderr.contains("'NoSuchResponse'") && stderr.contains("MockedResponses does not define"),
        "stderr should name the state and the missing response: {stderr}"
    );
    assert!(out.stdout.is_empty(), "no execution result on stdout: {}", String::from_utf8_lossy(&out.stdout));
}

/// Without a mock file nothing handles the Lambda ARNs: the first Task fails the execution
/// with States.Runtime and a cause naming the resource.
#[test]
fn example_without_mock_fails_naming_the_resource() {
    let out = expressway(
        &examples_dir().join("call-center"),
        &["call-center.asl.json", "--input-file", "input/case-001.json", "--virtual-time", "--history"],
    );
    assert_eq!(out.status.code(), Some(1), "exit code");
    let result = stdout_json(&out);
    assert_eq!(result["status"], "FAILED");
    assert_eq!(result["error"], "States.Runtime");
    let cause = result["cause"].as_str().unwrap();
    assert!(
        cause.contains("'Open Case'") && cause.contains("arn:aws:lambda:us-east-2:123456789012:function:OpenCase"),
        "cause should name the state and the unhandled resource: {cause}"
    );
    assert!(result.get("output").is_none());
    assert!(history_events(&result, "TaskStateEntered").len() == 1, "only Open Case was entered");
}
