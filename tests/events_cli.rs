//! `expressway run --bus RULES_FILE` as a sidecar runs it: the example in `examples/events`,
//! rejected lines, and unusable rules files.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn run_bus(rules: &str, stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_expressway"))
        .args(["run", "--bus", rules])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write");
    child.wait_with_output().expect("wait")
}

fn lines(o: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&o.stdout).lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect()
}

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/events/rules.json");

#[test]
fn the_example_starts_executions_and_writes_the_audit_line() {
    let events = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/events/events.ndjson")).unwrap();
    let out = run_bus(EXAMPLE, &events);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let lines = lines(&out);
    let mut executions: Vec<&serde_json::Value> = lines.iter().filter(|l| l.get("executionArn").is_some()).collect();
    executions.sort_by_key(|l| l["output"]["orderId"].as_str().unwrap_or_default().to_string());
    assert_eq!(executions.len(), 2, "{lines:?}");
    assert_eq!(executions[0]["output"], serde_json::json!({"orderId": "o-1", "total": 6, "size": "small"}));
    assert_eq!(executions[1]["output"]["size"], "big");
    assert_eq!(executions[0]["rule"], "placed-orders");
    assert_eq!(executions[0]["status"], "SUCCEEDED");
    let audit: Vec<&serde_json::Value> = lines.iter().filter(|l| l.get("input").is_some()).collect();
    assert_eq!(audit.len(), 1);
    assert_eq!(
        audit[0]["input"],
        serde_json::json!({"audit": "order o-1 cancelled: customer request", "rule": "audit-cancellations"})
    );
}

#[test]
fn envelopes_rejected_lines_and_many_events() {
    let mut stdin = String::from("not json\n{\"Source\": \"shop.orders\", \"DetailType\": \"Order Placed\", \"Detail\": \"[1]\", \"EventBusName\": \"orders\"}\n");
    for i in 0..500 {
        stdin.push_str(&format!(
            "{{\"Source\": \"shop.orders\", \"DetailType\": \"Order Placed\", \"EventBusName\": \"orders\", \"Detail\": {{\"orderId\": \"o-{i}\", \"region\": \"eu-west-1\", \"quantity\": 1}}}}\n"
        ));
    }
    // An envelope goes to the default bus, where no rule listens.
    stdin.push_str("{\"source\": \"shop.orders\", \"detail-type\": \"Order Placed\", \"detail\": {\"region\": \"eu-west-1\", \"quantity\": 1}}\n");
    let out = run_bus(EXAMPLE, &stdin);
    assert_eq!(out.status.code(), Some(1), "rejected lines make the exit status 1");
    let lines = lines(&out);
    let rejected: Vec<&serde_json::Value> = lines.iter().filter(|l| l["status"] == "REJECTED").collect();
    assert_eq!(rejected.len(), 2);
    assert_eq!(rejected[0]["line"], 1);
    assert_eq!(rejected[1]["error"], "MalformedDetail");
    assert_eq!(lines.iter().filter(|l| l["status"] == "SUCCEEDED").count(), 500, "every event ran, none dropped");
}

#[test]
fn unusable_rules_files_exit_2() {
    let dir = std::env::temp_dir().join(format!("expressway-bus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"Rules": [{"Name": "r", "EventPattern": {"source": "x"}}]}"#).unwrap();
    let out = run_bus(bad.to_str().unwrap(), "");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Event pattern is not valid"));
    let out = run_bus("/nonexistent/rules.json", "");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_line_that_is_not_utf8_is_rejected_and_the_rest_still_runs() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_expressway"))
        .args(["run", "--bus", EXAMPLE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = b"{\"Source\": \"x\", \"Detail\": \"\xff\"}\n".to_vec();
    stdin.extend_from_slice(br#"{"Source": "shop.orders", "DetailType": "Order Placed", "EventBusName": "orders", "Detail": {"orderId": "o-9", "region": "eu-west-1", "quantity": 2}}"#);
    child.stdin.take().expect("stdin").write_all(&stdin).expect("write");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(1));
    let lines = lines(&out);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines.iter().any(|l| l["status"] == "REJECTED" && l["line"] == 1));
    assert!(lines.iter().any(|l| l["output"]["orderId"] == "o-9"), "the last line has no newline and still runs");
}

#[test]
fn scheduled_rules_in_the_rules_file() {
    let dir = std::env::temp_dir().join(format!("expressway-bus-sched-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rules = dir.join("rules.json");
    std::fs::write(
        &rules,
        r#"{"Rules": [
          {"Name": "tick", "ScheduleExpression": "rate(1 minute)", "Targets": [{"Id": "log", "Arn": "ndjson:-"}]},
          {"Name": "all", "EventPattern": {"source": ["app"]}, "Targets": [{"Id": "log", "Arn": "ndjson:-"}]}]}"#,
    )
    .unwrap();
    let rules = rules.to_str().unwrap();
    // Events still flow past a scheduled rule (its first period has not passed: no Scheduled Event).
    let out = run_bus(rules, "{\"Source\": \"app\", \"DetailType\": \"x\", \"Detail\": \"{\\\"n\\\": 1}\"}\n");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let lines = lines(&out);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!((&lines[0]["rule"], &lines[0]["input"]["detail"]), (&"all".into(), &serde_json::json!({"n": 1})));

    let out = Command::new(env!("CARGO_BIN_EXE_expressway"))
        .args(["run", "--virtual-time", "--bus", rules])
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used with --virtual-time"));

    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"Rules": [{"Name": "tick", "ScheduleExpression": "every minute"}]}"#).unwrap();
    let out = run_bus(bad.to_str().unwrap(), "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("rule tick: ValidationException: Parameter ScheduleExpression is not valid."),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
