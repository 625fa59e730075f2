//! `exec:NAME` resources with small shell commands (`cat`, `sh -c`): input on stdin, JSON
//! result on stdout, exit codes and stderr errors, bad output, timeouts, unknown names.
#![cfg(unix)]

use std::sync::Arc;

use serde_json::{json, Value as Json};

use expressway::asl::StateMachineType;
use expressway::machine::StateMachine;
use expressway::runtime::{run_execution, Engine, EngineConfig, ExecutionOutcome, StartOptions};
use expressway::tasks::{ExecConfig, Integrations};

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

fn run(resource: &str, input: &str, extra: Json) -> ExecutionOutcome {
    let mut state = json!({"Type": "Task", "Resource": resource, "End": true});
    if let (Some(s), Some(e)) = (state.as_object_mut(), extra.as_object()) {
        s.extend(e.clone());
    }
    let mut states = json!({"Run": state});
    if extra.get("Catch").is_some() {
        states["Handled"] = json!({"Type": "Pass", "End": true});
    }
    let definition = json!({"StartAt": "Run", "States": states}).to_string();
    let machine = StateMachine::new("exec", &definition, StateMachineType::Express).expect("valid definition");
    let exec = ExecConfig::parse(CONFIG).expect("valid exec config");
    // Virtual time, as `expressway run --virtual-time` uses it: commands still get real time.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().expect("runtime");
    runtime.block_on(async {
        let resources = Integrations { exec: Some(exec), virtual_time: true, ..Default::default() }.resources().expect("integrations");
        let engine = Engine::new(EngineConfig { virtual_time: true, ..Default::default() }, resources);
        let input = expressway::value::parse_str(input).expect("json input");
        run_execution(&engine, Arc::clone(&machine.program), input, &StartOptions::new("exec")).await
    })
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
