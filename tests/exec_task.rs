//! `exec:NAME` resources with small shell commands (`cat`, `sh -c`): input on stdin, JSON
//! result on stdout, exit codes and stderr errors, bad output, timeouts, unknown names.
#![cfg(unix)]

use serde_json::{json, Value as Json};

use expressway::runtime::ExecutionOutcome;
use expressway::tasks::{ExecConfig, Integrations};

mod common;

const CONFIG: &str = r#"{"commands": {
  "echo":    {"argv": ["cat"]},
  "double":  {"argv": ["sh", "-c", "read line; n=$(echo \"$line\" | tr -dc 0-9); echo \"{\\\"n\\\": $((n * 2))}\""]},
  "env":     {"argv": ["sh", "-c", "cat >/dev/null; printf '\"%s\"' \"$GREETING\""], "env": {"GREETING": "hi"}},
  "exit3":   {"argv": ["sh", "-c", "cat >/dev/null; echo oops >&2; exit 3"]},
  "typed":   {"argv": ["sh", "-c", "echo noise >&2; echo '{\"error\": \"Order.Invalid\", \"cause\": \"no items\"}' >&2; exit 1"]},
  "notjson": {"argv": ["sh", "-c", "echo 'hello there'"]},
  "silent":  {"argv": ["true"]},
  "slow":    {"argv": ["sleep", "30"], "timeoutSeconds": 0.5},
  "sleeper": {"argv": ["sleep", "30"]},
  "missing": {"argv": ["/nonexistent/program"]}
}}"#;

/// Runs `resource` as the only Task, on a virtual clock as `expressway run --virtual-time`
/// does: commands still get real time.
fn run(resource: &str, input: &str, extra: Json) -> ExecutionOutcome {
    let exec = ExecConfig::parse(CONFIG).expect("valid exec config");
    let integrations = Integrations { exec: Some(exec), virtual_time: true, ..Default::default() };
    common::run_task_state(json!({"Type": "Task", "Resource": resource}), extra, input, integrations)
}

fn ok(o: &ExecutionOutcome) -> Json {
    assert_eq!(o.status.as_str(), "SUCCEEDED", "{:?}: {:?}", o.error, o.cause);
    o.output.as_ref().expect("output").to_serde()
}

#[test]
fn the_input_goes_to_stdin_and_stdout_is_the_result() {
    assert_eq!(ok(&run("exec:echo", r#"{"a": [1, "x"]}"#, json!({}))), json!({"a": [1, "x"]}));
    assert_eq!(ok(&run("exec:double", r#"{"value": 21}"#, json!({}))), json!({"n": 42}));
    assert_eq!(ok(&run("exec:env", "{}", json!({}))), json!("hi"));
    assert_eq!(ok(&run("exec:silent", "{}", json!({}))), Json::Null);
}

#[test]
fn a_nonzero_exit_is_an_exit_code_error_with_stderr_as_cause() {
    let o = run("exec:exit3", "{}", json!({}));
    assert_eq!(o.error.as_deref(), Some("Exec.ExitCode.3"));
    assert_eq!(o.cause.as_deref(), Some("oops"));
}

#[test]
fn a_json_error_line_on_stderr_names_the_error() {
    let o = run("exec:typed", "{}", json!({}));
    assert_eq!((o.error.as_deref(), o.cause.as_deref()), (Some("Order.Invalid"), Some("no items")));
    // and Retry/Catch see that name
    let caught = ok(&run(
        "exec:typed",
        "{}",
        json!({"Catch": [{"ErrorEquals": ["Order.Invalid"], "Next": "Handled", "ResultPath": "$.err"}],
               "Retry": [{"ErrorEquals": ["Order.Invalid"], "MaxAttempts": 2}]}),
    ));
    assert_eq!(caught, json!({"err": {"Error": "Order.Invalid", "Cause": "no items"}}));
}

#[test]
fn output_that_is_not_json_is_a_clear_error() {
    let o = run("exec:notjson", "{}", json!({}));
    assert_eq!(o.error.as_deref(), Some("Exec.InvalidOutput"));
    assert!(o.cause.as_deref().is_some_and(|c| c.contains("hello there")), "{:?}", o.cause);
}

#[test]
fn the_command_timeout_and_the_task_timeout_both_kill_it() {
    let o = run("exec:slow", "{}", json!({}));
    assert_eq!(o.error.as_deref(), Some("States.Timeout"));
    let o = run("exec:sleeper", "{}", json!({"TimeoutSeconds": 1}));
    assert_eq!(o.error.as_deref(), Some("States.Timeout"));
}

#[test]
fn unknown_names_and_missing_programs_fail_clearly() {
    let o = run("exec:nope", "{}", json!({}));
    assert_eq!(o.error.as_deref(), Some("States.Runtime"));
    assert!(o.cause.as_deref().is_some_and(|c| c.contains("'exec:nope'") && c.contains("echo")), "{:?}", o.cause);
    let o = run("exec:missing", "{}", json!({}));
    assert_eq!(o.error.as_deref(), Some("Exec.SpawnFailed"));
}
