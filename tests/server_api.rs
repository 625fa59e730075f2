//! The Step Functions API over raw HTTP against a server on 127.0.0.1:0: the AWS JSON 1.0
//! envelope, every operation and the errors AWS names.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use expressway::server::logging::LogSink;
use expressway::server::{RingLimits, Server, ServerConfig, ServerState, ShutdownReport};
use expressway::tasks::{MockConfig, Resources};

const SFN: &str = "com.amazonaws.swf.service.v2.model";
const ACCOUNT_PREFIX: &str = "arn:aws:states:us-east-1:123456789012";
const ROLE: &str = "arn:aws:iam::123456789012:role/test";
const PASS: &str = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"ok":true},"ResultPath":"$.r","End":true}}}"#;
const FAIL: &str = r#"{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Boom","Cause":"it broke"}}}"#;
const WAIT_LONG: &str = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":120,"End":true}}}"#;
const WAIT_SHORT: &str = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"End":true}}}"#;

struct Harness {
    addr: std::net::SocketAddr,
    state: Arc<ServerState>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<ShutdownReport>>,
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Asserts an AWS error by name (and its namespace for Step Functions' own errors).
    fn expect_error(&self, name: &str) -> &str {
        assert_eq!(self.status, 400, "{name}: {}", self.body);
        let t = self.body["__type"].as_str().unwrap_or_default();
        assert!(t.ends_with(&format!("#{name}")), "expected {name}, got {}", self.body);
        self.body["message"].as_str().unwrap_or_default()
    }

    fn ok(&self) -> &Value {
        assert_eq!(self.status, 200, "{}", self.body);
        &self.body
    }
}

fn config() -> ServerConfig {
    ServerConfig { bind: "127.0.0.1:0".parse().unwrap(), grace_period: Duration::from_secs(30), ..ServerConfig::default() }
}

impl Harness {
    async fn start() -> Harness {
        Harness::with(config(), None, LogSink::new(Box::new(std::io::sink()))).await
    }

    async fn with(config: ServerConfig, mocks: Option<MockConfig>, logs: LogSink) -> Harness {
        let state = ServerState::new(&config, Resources::default(), mocks, logs);
        let server = Server::bind(config, state).await.expect("bind");
        let addr = server.local_addr().unwrap();
        let state = Arc::clone(server.state());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async move {
            let _ = rx.await;
        }));
        Harness { addr, state, shutdown: Some(tx), task: Some(task) }
    }

    async fn stop(mut self) -> ShutdownReport {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task.take().unwrap().await.unwrap()
    }

    async fn raw(&self, request: &[u8]) -> Reply {
        let mut conn = TcpStream::connect(self.addr).await.unwrap();
        conn.write_all(request).await.unwrap();
        read_reply(&mut conn).await
    }

    async fn call(&self, op: &str, body: Value) -> Reply {
        let body = body.to_string();
        let req = format!(
            "POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: AWSStepFunctions.{op}\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        self.raw(req.as_bytes()).await
    }

    async fn create(&self, name: &str, definition: &str, kind: &str) -> String {
        let r =
            self.call("CreateStateMachine", json!({"name": name, "definition": definition, "roleArn": ROLE, "type": kind})).await;
        r.ok()["stateMachineArn"].as_str().unwrap().to_string()
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Reads one HTTP/1.1 response with a Content-Length body.
async fn read_reply(conn: &mut TcpStream) -> Reply {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let header_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = conn.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed before the response headers");
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_string();
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))).collect();
    let len: usize =
        headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-length")).map_or(0, |(_, v)| v.parse().unwrap());
    while buf.len() < header_end + len {
        let n = conn.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed before the response body");
        buf.extend_from_slice(&chunk[..n]);
    }
    let body_bytes = &buf[header_end..header_end + len];
    let body = if body_bytes.is_empty() { Value::Null } else { serde_json::from_slice(body_bytes).unwrap() };
    Reply { status, headers, body }
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("expressway-server-test-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn envelope_headers_and_error_shape() {
    let h = Harness::start().await;
    let r = h.call("ListStateMachines", json!({})).await;
    assert_eq!(r.ok()["stateMachines"], json!([]));
    assert_eq!(r.header("content-type"), Some("application/x-amz-json-1.0"));
    assert!(r.header("x-amzn-requestid").is_some_and(|v| v.len() == 36));
    let r = h.call("DescribeStateMachine", json!({"stateMachineArn": format!("{ACCOUNT_PREFIX}:stateMachine:nope")})).await;
    assert_eq!(r.body["__type"], format!("{SFN}#StateMachineDoesNotExist"));
    assert_eq!(r.body["message"], format!("State Machine Does Not Exist: '{ACCOUNT_PREFIX}:stateMachine:nope'"));
    let r = h.call("DescribeStateMachine", json!({})).await;
    assert_eq!(r.body["__type"], "com.amazon.coral.validate#ValidationException");
    assert_eq!(
        r.body["message"],
        "1 validation error detected: Value null at 'stateMachineArn' failed to satisfy constraint: Member must not be null"
    );
}

#[tokio::test]
async fn unknown_targets_methods_and_bad_bodies() {
    let h = Harness::start().await;
    h.call("Frobnicate", json!({})).await.expect_error("UnknownOperationException");
    let r = h.raw(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}").await;
    r.expect_error("UnknownOperationException");
    let r = h.raw(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
    r.expect_error("UnknownOperationException");
    // EventBridge answers on the same port in its own protocol (tests/server_events.rs).
    let r = h.raw(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AWSEvents.PutEvents\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}").await;
    assert_eq!((r.status, r.body["__type"].as_str()), (400, Some("ValidationException")), "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/x-amz-json-1.1"));
    let bad = b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AWSStepFunctions.ListStateMachines\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{nope";
    h.raw(bad).await.expect_error("SerializationException");
    h.call("ListStateMachines", json!({"maxResults": "ten"})).await.expect_error("SerializationException");
    h.call("ListStateMachines", json!({"maxResults": 5000})).await.expect_error("ValidationException");
}

#[tokio::test]
async fn oversized_bodies_are_refused_before_and_while_reading() {
    let h = Harness::start().await;
    let big = 2 * 1024 * 1024;
    let head = format!("POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AWSStepFunctions.ListStateMachines\r\nContent-Length: {big}\r\nConnection: close\r\n\r\n");
    let r = h.raw(head.as_bytes()).await;
    assert_eq!(r.status, 413);
    assert!(r.body["__type"].as_str().unwrap().ends_with("#RequestEntityTooLargeException"));
    // Chunked: no declared length, the limit applies while reading.
    let mut conn = TcpStream::connect(h.addr).await.unwrap();
    conn.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AWSStepFunctions.ListStateMachines\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n").await.unwrap();
    let chunk = vec![b' '; 64 * 1024];
    for _ in 0..20 {
        let head = format!("{:x}\r\n", chunk.len());
        if conn.write_all(head.as_bytes()).await.is_err()
            || conn.write_all(&chunk).await.is_err()
            || conn.write_all(b"\r\n").await.is_err()
        {
            break;
        }
    }
    let r = read_reply(&mut conn).await;
    assert_eq!(r.status, 413);
}

#[tokio::test]
async fn keep_alive_and_any_host_header() {
    let h = Harness::start().await;
    let arn = h.create("Ka", PASS, "EXPRESS").await;
    let mut conn = TcpStream::connect(h.addr).await.unwrap();
    for host in ["sync-localhost:8083", "anything.example"] {
        let body = json!({"stateMachineArn": arn}).to_string();
        let req = format!(
            "POST / HTTP/1.1\r\nHost: {host}\r\nX-Amz-Target: AWSStepFunctions.StartSyncExecution\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\nAuthorization: AWS4-HMAC-SHA256 Credential=x/20240101/us-east-1/states/aws4_request, SignedHeaders=host, Signature=00\r\n\r\n{body}",
            body.len()
        );
        conn.write_all(req.as_bytes()).await.unwrap();
        let r = read_reply(&mut conn).await;
        assert_eq!(r.ok()["status"], "SUCCEEDED");
    }
}

#[tokio::test]
async fn state_machine_lifecycle() {
    let h = Harness::start().await;
    let create = json!({"name": "Life", "definition": PASS, "roleArn": ROLE, "type": "EXPRESS",
        "tags": [{"key": "team", "value": "a"}], "tracingConfiguration": {"enabled": true}});
    let r = h.call("CreateStateMachine", create.clone()).await;
    let arn = r.ok()["stateMachineArn"].as_str().unwrap().to_string();
    assert_eq!(arn, format!("{ACCOUNT_PREFIX}:stateMachine:Life"));
    let created = r.body["creationDate"].as_f64().unwrap();
    // Idempotent for the same definition; a different one with the same name is refused.
    assert_eq!(h.call("CreateStateMachine", create).await.ok()["creationDate"].as_f64(), Some(created));
    let other = json!({"name": "Life", "definition": FAIL, "roleArn": ROLE, "type": "EXPRESS"});
    let msg = h.call("CreateStateMachine", other).await.expect_error("StateMachineAlreadyExists").to_string();
    assert_eq!(msg, format!("State Machine Already Exists: '{arn}'"));

    let d = h.call("DescribeStateMachine", json!({"stateMachineArn": arn})).await;
    let d = d.ok();
    assert_eq!(d["name"], "Life");
    assert_eq!(d["type"], "EXPRESS");
    assert_eq!(d["status"], "ACTIVE");
    assert_eq!(d["definition"], PASS);
    assert_eq!(d["roleArn"], ROLE);
    assert_eq!(d["loggingConfiguration"], json!({"level": "OFF", "includeExecutionData": false}));
    assert_eq!(d["tracingConfiguration"], json!({"enabled": true}));
    let revision = d["revisionId"].as_str().unwrap().to_string();

    let u = h.call("UpdateStateMachine", json!({"stateMachineArn": arn, "definition": FAIL})).await;
    assert_ne!(u.ok()["revisionId"].as_str().unwrap(), revision);
    assert!(u.body["updateDate"].is_number());
    let d = h.call("DescribeStateMachine", json!({"stateMachineArn": arn})).await;
    assert_eq!(d.ok()["definition"], FAIL);
    h.call("UpdateStateMachine", json!({"stateMachineArn": arn})).await.expect_error("MissingRequiredParameter");
    h.call("UpdateStateMachine", json!({"stateMachineArn": arn, "definition": "{}"})).await.expect_error("InvalidDefinition");

    h.call("DeleteStateMachine", json!({"stateMachineArn": arn})).await.ok();
    h.call("DescribeStateMachine", json!({"stateMachineArn": arn})).await.expect_error("StateMachineDoesNotExist");
    // Deleting again succeeds, as on AWS.
    h.call("DeleteStateMachine", json!({"stateMachineArn": arn})).await.ok();
}

#[tokio::test]
async fn create_refuses_bad_input_with_aws_errors() {
    let h = Harness::start().await;
    let msg = h
        .call("CreateStateMachine", json!({"name": "Bad", "definition": r#"{"StartAt":"A","States":{}}"#, "roleArn": ROLE}))
        .await
        .expect_error("InvalidDefinition")
        .to_string();
    assert!(msg.starts_with("Invalid State Machine Definition: '"), "{msg}");
    let msg = h
        .call("CreateStateMachine", json!({"name": "a b", "definition": PASS, "roleArn": ROLE}))
        .await
        .expect_error("InvalidName")
        .to_string();
    assert_eq!(msg, "Invalid Name: 'a b'");
    h.call("CreateStateMachine", json!({"name": "T", "definition": PASS, "roleArn": ROLE, "type": "FAST"}))
        .await
        .expect_error("ValidationException");
    h.call("CreateStateMachine", json!({"name": "T", "definition": PASS})).await.expect_error("ValidationException");
    h.call(
        "CreateStateMachine",
        json!({"name": "T", "definition": PASS, "roleArn": ROLE, "loggingConfiguration": {"level": "ALL"}}),
    )
    .await
    .expect_error("InvalidLoggingConfiguration");
    h.call("CreateStateMachine", json!({"name": "T", "definition": PASS, "roleArn": ROLE, "versionDescription": "v"}))
        .await
        .expect_error("ValidationException");
    let tags: Vec<Value> = (0..51).map(|i| json!({"key": format!("k{i}"), "value": "v"})).collect();
    h.call("CreateStateMachine", json!({"name": "T", "definition": PASS, "roleArn": ROLE, "tags": tags}))
        .await
        .expect_error("TooManyTags");
}

#[tokio::test]
async fn list_state_machines_paginates_with_opaque_tokens() {
    let h = Harness::start().await;
    for name in ["c", "a", "b"] {
        h.create(name, PASS, "STANDARD").await;
    }
    let p1 = h.call("ListStateMachines", json!({"maxResults": 2})).await;
    let names: Vec<&str> = p1.ok()["stateMachines"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(p1.body["stateMachines"][0]["type"], "STANDARD");
    let token = p1.body["nextToken"].as_str().unwrap();
    let p2 = h.call("ListStateMachines", json!({"maxResults": 2, "nextToken": token})).await;
    assert_eq!(p2.ok()["stateMachines"][0]["name"], "c");
    assert!(p2.body.get("nextToken").is_none());
    let msg = h.call("ListStateMachines", json!({"nextToken": "not-a-token"})).await.expect_error("InvalidToken").to_string();
    assert_eq!(msg, "Invalid Token: 'not-a-token'");
    // A token of another list is refused too.
    let arn = format!("{ACCOUNT_PREFIX}:stateMachine:a");
    h.call("ListStateMachineVersions", json!({"stateMachineArn": arn, "nextToken": token})).await.expect_error("InvalidToken");
}

#[tokio::test]
async fn start_sync_execution_answers_200_even_when_it_fails() {
    let h = Harness::start().await;
    let ok_arn = h.create("SyncOk", PASS, "EXPRESS").await;
    let fail_arn = h.create("SyncFail", FAIL, "EXPRESS").await;
    let r = h.call("StartSyncExecution", json!({"stateMachineArn": ok_arn, "name": "one", "input": "{\"a\": 1}"})).await;
    let b = r.ok();
    assert_eq!(b["status"], "SUCCEEDED");
    assert_eq!(b["name"], "one");
    assert_eq!(b["input"], "{\"a\": 1}");
    assert_eq!(b["output"], r#"{"a":1,"r":{"ok":true}}"#);
    assert_eq!(b["inputDetails"], json!({"included": true}));
    assert_eq!(b["outputDetails"], json!({"included": true}));
    assert_eq!(b["stateMachineArn"], ok_arn);
    assert!(b["executionArn"].as_str().unwrap().starts_with(&format!("{ACCOUNT_PREFIX}:express:SyncOk:one:")));
    assert!(b["stopDate"].as_f64().unwrap() >= b["startDate"].as_f64().unwrap());
    assert_eq!(b["billingDetails"]["billedMemoryUsedInMB"], 64);
    assert!(b["billingDetails"]["billedDurationInMilliseconds"].as_u64().unwrap() % 100 == 0);

    let r = h.call("StartSyncExecution", json!({"stateMachineArn": fail_arn})).await;
    let b = r.ok();
    assert_eq!(b["status"], "FAILED");
    assert_eq!(b["error"], "Boom");
    assert_eq!(b["cause"], "it broke");
    assert!(b.get("output").is_none());

    let r = h.call("StartSyncExecution", json!({"stateMachineArn": ok_arn, "includedData": "METADATA_ONLY"})).await;
    assert!(r.ok().get("input").is_none() && r.body.get("output").is_none());
    assert_eq!(r.body["inputDetails"], json!({"included": false}));
}

#[tokio::test]
async fn start_errors_carry_aws_names() {
    let h = Harness::start().await;
    let express = h.create("Ex", PASS, "EXPRESS").await;
    let standard = h.create("St", PASS, "STANDARD").await;
    let msg = h
        .call("StartExecution", json!({"stateMachineArn": express, "input": "{not json"}))
        .await
        .expect_error("InvalidExecutionInput")
        .to_string();
    assert!(msg.starts_with("Invalid State Machine Execution Input: '"), "{msg}");
    h.call("StartSyncExecution", json!({"stateMachineArn": standard})).await.expect_error("StateMachineTypeNotSupported");
    h.call("StartExecution", json!({"stateMachineArn": format!("{ACCOUNT_PREFIX}:stateMachine:Nope")}))
        .await
        .expect_error("StateMachineDoesNotExist");
    h.call("StartExecution", json!({"stateMachineArn": "arn:aws:lambda:x"})).await.expect_error("InvalidArn");
    h.call("StartExecution", json!({"stateMachineArn": express, "name": "bad/name"})).await.expect_error("InvalidName");
    let big = format!("\"{}\"", "x".repeat(262_144));
    h.call("StartExecution", json!({"stateMachineArn": express, "input": big})).await.expect_error("ValidationException");
    h.call("StartExecution", json!({})).await.expect_error("ValidationException");
}

#[tokio::test]
async fn standard_names_are_unique_and_express_names_may_repeat() {
    let h = Harness::start().await;
    let standard = h.create("Std", PASS, "STANDARD").await;
    let express = h.create("Exp", WAIT_LONG, "EXPRESS").await;
    let first = h.call("StartExecution", json!({"stateMachineArn": standard, "name": "n1"})).await;
    assert_eq!(first.ok()["executionArn"], format!("{ACCOUNT_PREFIX}:execution:Std:n1"));
    wait_until_done(&h, first.body["executionArn"].as_str().unwrap()).await;
    let msg = h
        .call("StartExecution", json!({"stateMachineArn": standard, "name": "n1"}))
        .await
        .expect_error("ExecutionAlreadyExists")
        .to_string();
    assert_eq!(msg, format!("Execution Already Exists: '{ACCOUNT_PREFIX}:execution:Std:n1'"));
    let a = h.call("StartExecution", json!({"stateMachineArn": express, "name": "same"})).await;
    let b = h.call("StartExecution", json!({"stateMachineArn": express, "name": "same"})).await;
    assert_ne!(a.ok()["executionArn"], b.ok()["executionArn"]);
}

async fn wait_until_done(h: &Harness, arn: &str) -> Value {
    for _ in 0..2000 {
        let d = h.call("DescribeExecution", json!({"executionArn": arn})).await;
        if d.ok()["status"] != "RUNNING" {
            return d.body;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("execution {arn} did not finish");
}

#[tokio::test]
async fn async_executions_are_described_listed_and_have_history() {
    let h = Harness::start().await;
    let arn = h.create("Hist", PASS, "EXPRESS").await;
    let mut arns = Vec::new();
    for i in 0..3 {
        let r = h
            .call(
                "StartExecution",
                json!({"stateMachineArn": arn, "name": format!("e{i}"), "input": "{\"payload\": \"hi mom\"}"}),
            )
            .await;
        assert!(r.ok()["startDate"].is_number());
        arns.push(r.body["executionArn"].as_str().unwrap().to_string());
    }
    for e in &arns {
        let d = wait_until_done(&h, e).await;
        assert_eq!(d["status"], "SUCCEEDED");
        assert_eq!(d["input"], "{\"payload\": \"hi mom\"}");
        assert_eq!(d["output"], r#"{"payload":"hi mom","r":{"ok":true}}"#);
        assert_eq!(d["redriveStatus"], "NOT_REDRIVABLE");
        assert_eq!(d["redriveStatusReason"], "Execution is SUCCEEDED and cannot be redriven");
        assert_eq!(d["redriveCount"], 0);
        assert_eq!(d["stateMachineArn"], arn);
    }
    let l = h.call("ListExecutions", json!({"stateMachineArn": arn, "maxResults": 2})).await;
    assert_eq!(l.ok()["executions"].as_array().unwrap().len(), 2);
    let token = l.body["nextToken"].as_str().unwrap().to_string();
    let l2 = h.call("ListExecutions", json!({"stateMachineArn": arn, "maxResults": 2, "nextToken": token})).await;
    assert_eq!(l2.ok()["executions"].as_array().unwrap().len(), 1);
    let l = h.call("ListExecutions", json!({"stateMachineArn": arn, "statusFilter": "FAILED"})).await;
    assert_eq!(l.ok()["executions"], json!([]));
    h.call("ListExecutions", json!({"stateMachineArn": arn, "statusFilter": "DONE"})).await.expect_error("ValidationException");
    h.call("ListExecutions", json!({"stateMachineArn": arn, "nextToken": "x"})).await.expect_error("InvalidToken");
    h.call("ListExecutions", json!({})).await.expect_error("ValidationException");

    let hist = h.call("GetExecutionHistory", json!({"executionArn": arns[0]})).await;
    let types: Vec<&str> = hist.ok()["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]);
    let events = &hist.body["events"];
    assert_eq!(events[0]["id"], 1);
    assert_eq!(events[0]["previousEventId"], 0);
    assert_eq!(events[1]["stateEnteredEventDetails"]["name"], "P");
    assert_eq!(events[3]["executionSucceededEventDetails"]["output"], r#"{"payload":"hi mom","r":{"ok":true}}"#);
    let rev = h
        .call(
            "GetExecutionHistory",
            json!({"executionArn": arns[0], "reverseOrder": true, "maxResults": 1, "includeExecutionData": false}),
        )
        .await;
    assert_eq!(rev.ok()["events"][0]["type"], "ExecutionSucceeded");
    assert_eq!(rev.body["events"][0]["executionSucceededEventDetails"], json!({}));
    let token = rev.body["nextToken"].as_str().unwrap();
    let rev2 = h
        .call("GetExecutionHistory", json!({"executionArn": arns[0], "reverseOrder": true, "maxResults": 1, "nextToken": token}))
        .await;
    assert_eq!(rev2.ok()["events"][0]["type"], "PassStateExited");

    let d = h.call("DescribeStateMachineForExecution", json!({"executionArn": arns[0]})).await;
    assert_eq!(d.ok()["definition"], PASS);
    assert_eq!(d.body["stateMachineArn"], arn);
    let missing = format!("{ACCOUNT_PREFIX}:execution:Hist:missing");
    let msg =
        h.call("DescribeExecution", json!({"executionArn": missing})).await.expect_error("ExecutionDoesNotExist").to_string();
    assert_eq!(msg, format!("Execution Does Not Exist: '{missing}'"));
    h.call("DescribeExecution", json!({"executionArn": "nope"})).await.expect_error("InvalidArn");
    h.call("GetExecutionHistory", json!({"executionArn": missing})).await.expect_error("ExecutionDoesNotExist");
}

#[tokio::test]
async fn sync_executions_are_kept_in_the_ring() {
    let h = Harness::start().await;
    let arn = h.create("Ring", PASS, "EXPRESS").await;
    let r = h.call("StartSyncExecution", json!({"stateMachineArn": arn})).await;
    let exec = r.ok()["executionArn"].as_str().unwrap().to_string();
    let d = h.call("DescribeExecution", json!({"executionArn": exec})).await;
    assert_eq!(d.ok()["status"], "SUCCEEDED");
    let hist = h.call("GetExecutionHistory", json!({"executionArn": exec})).await;
    assert_eq!(hist.ok()["events"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn the_ring_forgets_the_oldest_executions() {
    let config = ServerConfig { ring: RingLimits { max_count: 2, max_bytes: usize::MAX }, ..config() };
    let h = Harness::with(config, None, LogSink::new(Box::new(std::io::sink()))).await;
    let arn = h.create("Small", PASS, "EXPRESS").await;
    let mut execs = Vec::new();
    for _ in 0..3 {
        let r = h.call("StartSyncExecution", json!({"stateMachineArn": arn})).await;
        execs.push(r.ok()["executionArn"].as_str().unwrap().to_string());
    }
    h.call("DescribeExecution", json!({"executionArn": execs[0]})).await.expect_error("ExecutionDoesNotExist");
    h.call("DescribeExecution", json!({"executionArn": execs[2]})).await.ok();
    let l = h.call("ListExecutions", json!({"stateMachineArn": arn})).await;
    assert_eq!(l.ok()["executions"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn stop_execution_aborts_a_running_execution() {
    let h = Harness::start().await;
    let arn = h.create("Stop", WAIT_LONG, "STANDARD").await;
    let r = h.call("StartExecution", json!({"stateMachineArn": arn, "name": "s1"})).await;
    let exec = r.ok()["executionArn"].as_str().unwrap().to_string();
    let d = h.call("DescribeExecution", json!({"executionArn": exec})).await;
    assert_eq!(d.ok()["status"], "RUNNING");
    assert!(d.body.get("stopDate").is_none());
    let l = h.call("ListExecutions", json!({"stateMachineArn": arn, "statusFilter": "RUNNING"})).await;
    assert_eq!(l.ok()["executions"].as_array().unwrap().len(), 1);
    let s = h.call("StopExecution", json!({"executionArn": exec, "error": "Manual", "cause": "test"})).await;
    assert!(s.ok()["stopDate"].is_number());
    let d = h.call("DescribeExecution", json!({"executionArn": exec})).await;
    assert_eq!(d.ok()["status"], "ABORTED");
    assert_eq!(d.body["error"], "Manual");
    assert_eq!(d.body["cause"], "test");
    let hist = h.call("GetExecutionHistory", json!({"executionArn": exec, "reverseOrder": true})).await;
    let last = &hist.ok()["events"][0];
    assert_eq!(last["type"], "ExecutionAborted");
    assert_eq!(last["executionAbortedEventDetails"], json!({"error": "Manual", "cause": "test"}));
    // Stopping again answers the same stop date.
    let again = h.call("StopExecution", json!({"executionArn": exec})).await;
    assert_eq!(again.ok()["stopDate"], s.body["stopDate"]);
    h.call("StopExecution", json!({"executionArn": format!("{ACCOUNT_PREFIX}:execution:Stop:nope")}))
        .await
        .expect_error("ExecutionDoesNotExist");
}

#[tokio::test]
async fn versions_and_aliases_route_executions() {
    let h = Harness::start().await;
    let r = h.call("CreateStateMachine", json!({"name": "Ver", "definition": PASS, "roleArn": ROLE, "type": "EXPRESS", "publish": true, "versionDescription": "first"})).await;
    let arn = r.ok()["stateMachineArn"].as_str().unwrap().to_string();
    let v1 = r.body["stateMachineVersionArn"].as_str().unwrap().to_string();
    assert_eq!(v1, format!("{arn}:1"));
    // Publishing an unchanged revision answers the same version.
    let p = h.call("PublishStateMachineVersion", json!({"stateMachineArn": arn})).await;
    assert_eq!(p.ok()["stateMachineVersionArn"], v1);
    h.call("PublishStateMachineVersion", json!({"stateMachineArn": arn, "revisionId": "stale"}))
        .await
        .expect_error("ConflictException");
    let u = h.call("UpdateStateMachine", json!({"stateMachineArn": arn, "definition": FAIL, "publish": true})).await;
    let v2 = u.ok()["stateMachineVersionArn"].as_str().unwrap().to_string();
    assert_eq!(v2, format!("{arn}:2"));
    let l = h.call("ListStateMachineVersions", json!({"stateMachineArn": arn})).await;
    let listed: Vec<&str> = l.ok()["stateMachineVersions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["stateMachineVersionArn"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [v2.as_str(), v1.as_str()]);
    let d = h.call("DescribeStateMachine", json!({"stateMachineArn": v1})).await;
    assert_eq!(d.ok()["definition"], PASS);
    assert_eq!(d.body["description"], "first");
    assert_eq!(d.body["stateMachineArn"], v1);

    let r = h.call("StartSyncExecution", json!({"stateMachineArn": v1})).await;
    assert_eq!(r.ok()["status"], "SUCCEEDED");
    let d = h.call("DescribeExecution", json!({"executionArn": r.body["executionArn"]})).await;
    assert_eq!(d.ok()["stateMachineVersionArn"], v1);

    let a = h
        .call(
            "CreateStateMachineAlias",
            json!({"name": "live", "routingConfiguration": [{"stateMachineVersionArn": v2, "weight": 100}]}),
        )
        .await;
    let alias = a.ok()["stateMachineAliasArn"].as_str().unwrap().to_string();
    assert_eq!(alias, format!("{arn}:live"));
    let r = h.call("StartSyncExecution", json!({"stateMachineArn": alias})).await;
    assert_eq!(r.ok()["status"], "FAILED");
    let d = h.call("DescribeExecution", json!({"executionArn": r.body["executionArn"]})).await;
    assert_eq!(d.ok()["stateMachineAliasArn"], alias);
    assert_eq!(d.body["stateMachineVersionArn"], v2);
    let l = h.call("ListExecutions", json!({"stateMachineArn": alias})).await;
    assert_eq!(l.ok()["executions"].as_array().unwrap().len(), 1);

    let d = h.call("DescribeStateMachineAlias", json!({"stateMachineAliasArn": alias})).await;
    assert_eq!(d.ok()["routingConfiguration"], json!([{"stateMachineVersionArn": v2, "weight": 100}]));
    let routes = json!([{"stateMachineVersionArn": v1, "weight": 50}, {"stateMachineVersionArn": v2, "weight": 50}]);
    h.call("UpdateStateMachineAlias", json!({"stateMachineAliasArn": alias, "routingConfiguration": routes})).await.ok();
    h.call("UpdateStateMachineAlias", json!({"stateMachineAliasArn": alias})).await.expect_error("MissingRequiredParameter");
    let bad = json!([{"stateMachineVersionArn": v1, "weight": 60}, {"stateMachineVersionArn": v2, "weight": 50}]);
    h.call("CreateStateMachineAlias", json!({"name": "odd", "routingConfiguration": bad}))
        .await
        .expect_error("ValidationException");
    h.call(
        "CreateStateMachineAlias",
        json!({"name": "123", "routingConfiguration": [{"stateMachineVersionArn": v1, "weight": 100}]}),
    )
    .await
    .expect_error("ValidationException");
    h.call(
        "CreateStateMachineAlias",
        json!({"name": "live", "routingConfiguration": [{"stateMachineVersionArn": v1, "weight": 100}]}),
    )
    .await
    .expect_error("ConflictException");
    h.call(
        "CreateStateMachineAlias",
        json!({"name": "x", "routingConfiguration": [{"stateMachineVersionArn": format!("{arn}:9"), "weight": 100}]}),
    )
    .await
    .expect_error("ResourceNotFound");
    let l = h.call("ListStateMachineAliases", json!({"stateMachineArn": arn})).await;
    assert_eq!(l.ok()["stateMachineAliases"][0]["stateMachineAliasArn"], alias);

    let msg = h
        .call("DeleteStateMachineVersion", json!({"stateMachineVersionArn": v1}))
        .await
        .expect_error("ConflictException")
        .to_string();
    assert!(msg.contains("[live]"), "{msg}");
    h.call("DeleteStateMachineAlias", json!({"stateMachineAliasArn": alias})).await.ok();
    h.call("DescribeStateMachineAlias", json!({"stateMachineAliasArn": alias})).await.expect_error("ResourceNotFound");
    h.call("DeleteStateMachineVersion", json!({"stateMachineVersionArn": v1})).await.ok();
    h.call("StartExecution", json!({"stateMachineArn": v1})).await.expect_error("StateMachineDoesNotExist");
    // Version numbers are not reused.
    let u = h.call("UpdateStateMachine", json!({"stateMachineArn": arn, "definition": PASS, "publish": true})).await;
    assert_eq!(u.ok()["stateMachineVersionArn"], format!("{arn}:3"));
}

#[tokio::test]
async fn tags_are_added_listed_and_removed() {
    let h = Harness::start().await;
    let arn = h.create("Tagged", PASS, "EXPRESS").await;
    h.call("TagResource", json!({"resourceArn": arn, "tags": [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]}))
        .await
        .ok();
    h.call("TagResource", json!({"resourceArn": arn, "tags": [{"key": "a", "value": "3"}]})).await.ok();
    let l = h.call("ListTagsForResource", json!({"resourceArn": arn})).await;
    assert_eq!(l.ok()["tags"], json!([{"key": "a", "value": "3"}, {"key": "b", "value": "2"}]));
    h.call("UntagResource", json!({"resourceArn": arn, "tagKeys": ["a"]})).await.ok();
    let l = h.call("ListTagsForResource", json!({"resourceArn": arn})).await;
    assert_eq!(l.ok()["tags"], json!([{"key": "b", "value": "2"}]));
    let missing = format!("{ACCOUNT_PREFIX}:stateMachine:Nope");
    let r = h.call("ListTagsForResource", json!({"resourceArn": missing})).await;
    r.expect_error("ResourceNotFound");
    assert_eq!(r.body["resourceName"], missing);
    let many: Vec<Value> = (0..50).map(|i| json!({"key": format!("k{i}"), "value": "v"})).collect();
    h.call("TagResource", json!({"resourceArn": arn, "tags": many})).await.expect_error("TooManyTags");
}

#[tokio::test]
async fn validate_state_machine_definition_reports_diagnostics() {
    let h = Harness::start().await;
    let r = h.call("ValidateStateMachineDefinition", json!({"definition": PASS})).await;
    assert_eq!(r.ok()["result"], "OK");
    assert_eq!(r.body["diagnostics"], json!([]));
    assert_eq!(r.body["truncated"], false);
    let bad = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}"#;
    let r = h.call("ValidateStateMachineDefinition", json!({"definition": bad, "type": "EXPRESS"})).await;
    assert_eq!(r.ok()["result"], "FAIL");
    assert_eq!(r.body["diagnostics"][0]["code"], "MISSING_TRANSITION_TARGET");
    assert_eq!(r.body["diagnostics"][0]["severity"], "ERROR");
    assert_eq!(r.body["diagnostics"][0]["location"], "/States/A/Next");
    h.call("ValidateStateMachineDefinition", json!({"definition": PASS, "severity": "LOUD"}))
        .await
        .expect_error("ValidationException");
}

#[tokio::test]
async fn test_case_suffix_selects_mocked_responses() {
    let mocks = MockConfig::parse(
        r#"{"StateMachines": {"Mocked": {"TestCases": {"Happy": {"Call": "Ok"}}}},
            "MockedResponses": {"Ok": {"0": {"Return": {"mocked": true}}}}}"#,
    )
    .unwrap();
    let h = Harness::with(config(), Some(mocks), LogSink::new(Box::new(std::io::sink()))).await;
    let def = r#"{"StartAt":"Call","States":{"Call":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f","End":true}}}"#;
    let arn = h.create("Mocked", def, "EXPRESS").await;
    let r = h.call("StartSyncExecution", json!({"stateMachineArn": format!("{arn}#Happy")})).await;
    assert_eq!(r.ok()["status"], "SUCCEEDED");
    assert_eq!(r.body["output"], r#"{"mocked":true}"#);
    let hist = h.call("GetExecutionHistory", json!({"executionArn": r.body["executionArn"]})).await;
    let types: Vec<&str> = hist.ok()["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(types.contains(&"LambdaFunctionSucceeded"), "{types:?}");
    h.call("StartSyncExecution", json!({"stateMachineArn": format!("{arn}#Nope")})).await.expect_error("InvalidName");
    // Without a test case the Task has no handler: the execution fails, the call does not.
    let r = h.call("StartSyncExecution", json!({"stateMachineArn": arn})).await;
    assert_eq!(r.ok()["status"], "FAILED");
}

#[tokio::test]
async fn overload_answers_throttling_exception() {
    let config = ServerConfig { max_in_flight: 1, ..config() };
    let h = Harness::with(config, None, LogSink::new(Box::new(std::io::sink()))).await;
    let arn = h.create("Busy", WAIT_LONG, "EXPRESS").await;
    h.call("StartExecution", json!({"stateMachineArn": arn})).await.ok();
    let r = h.call("StartExecution", json!({"stateMachineArn": arn})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["__type"], "com.amazon.coral.availability#ThrottlingException");
    h.call("StartSyncExecution", json!({"stateMachineArn": arn})).await.expect_error("ThrottlingException");
}

#[tokio::test]
async fn logging_configuration_writes_aws_format_records() {
    let dir = temp_dir("logs");
    let path = dir.join("log.ndjson");
    let file = std::fs::File::create(&path).unwrap();
    let h = Harness::with(config(), None, LogSink::new(Box::new(file))).await;
    let logging = json!({"level": "ALL", "includeExecutionData": true,
        "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:g:*"}}]});
    let r = h
        .call(
            "CreateStateMachine",
            json!({"name": "Logged", "definition": PASS, "roleArn": ROLE, "type": "EXPRESS", "loggingConfiguration": logging}),
        )
        .await;
    let arn = r.ok()["stateMachineArn"].as_str().unwrap().to_string();
    let d = h.call("DescribeStateMachine", json!({"stateMachineArn": arn})).await;
    assert_eq!(d.ok()["loggingConfiguration"]["level"], "ALL");
    let r = h.call("StartSyncExecution", json!({"stateMachineArn": arn, "input": "{}"})).await;
    let exec = r.ok()["executionArn"].as_str().unwrap().to_string();
    let fail_logging = json!({"level": "FATAL", "destinations": logging["destinations"]});
    h.call("UpdateStateMachine", json!({"stateMachineArn": arn, "definition": FAIL, "loggingConfiguration": fail_logging}))
        .await
        .ok();
    h.call("StartSyncExecution", json!({"stateMachineArn": arn})).await.ok();
    let text = std::fs::read_to_string(&path).unwrap();
    let records: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(records.len(), 5, "{text}");
    assert_eq!(records[0]["type"], "ExecutionStarted");
    assert_eq!(records[0]["id"], "1");
    assert_eq!(records[0]["previous_event_id"], "0");
    assert_eq!(records[0]["execution_arn"], exec);
    assert_eq!(records[0]["details"]["input"], "{}");
    assert_eq!(records[3]["type"], "ExecutionSucceeded");
    assert_eq!(records[4]["type"], "ExecutionFailed");
    assert!(records[4]["details"].get("error").is_some());
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn preload_creates_machines_from_a_folder() {
    let dir = temp_dir("preload");
    std::fs::write(dir.join("first.asl.json"), PASS).unwrap();
    std::fs::write(dir.join("ignored.json"), PASS).unwrap();
    let h = Harness::start().await;
    assert_eq!(h.state.preload(&dir).unwrap(), ["first"]);
    let r = h.call("StartSyncExecution", json!({"stateMachineArn": format!("{ACCOUNT_PREFIX}:stateMachine:first")})).await;
    assert_eq!(r.ok()["status"], "SUCCEEDED");
    std::fs::write(dir.join("broken.asl.json"), "{").unwrap();
    assert!(h.state.preload(&dir).unwrap_err().contains("broken.asl.json"));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn shutdown_finishes_accepted_executions() {
    let h = Harness::start().await;
    let arn = h.create("Drain", WAIT_SHORT, "EXPRESS").await;
    let exec = h.call("StartExecution", json!({"stateMachineArn": arn})).await.ok()["executionArn"].as_str().unwrap().to_string();
    let state = Arc::clone(&h.state);
    let report = h.stop().await;
    assert!(report.aborted.is_empty());
    assert_eq!(state.executions.get(&exec).unwrap().status(), "SUCCEEDED");
}

#[tokio::test]
async fn shutdown_stops_what_outlives_the_grace_period() {
    let config = ServerConfig { grace_period: Duration::ZERO, ..config() };
    let h = Harness::with(config, None, LogSink::new(Box::new(std::io::sink()))).await;
    let arn = h.create("Slow", WAIT_LONG, "EXPRESS").await;
    let exec = h.call("StartExecution", json!({"stateMachineArn": arn})).await.ok()["executionArn"].as_str().unwrap().to_string();
    let state = Arc::clone(&h.state);
    let report = h.stop().await;
    assert_eq!(report.aborted, std::slice::from_ref(&exec));
    assert_eq!(state.executions.get(&exec).unwrap().status(), "ABORTED");
}

#[tokio::test]
async fn test_state_runs_one_state_and_refuses_with_aws_names() {
    let h = Harness::start().await;
    let task = r#"{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f","Retry":[{"ErrorEquals":["Boom"]}],"End":true}"#;
    let r = h
        .call(
            "TestState",
            json!({"definition": task, "input": "{\"a\":1}", "inspectionLevel": "DEBUG",
                   "mock": {"errorOutput": {"error": "Boom", "cause": "bad"}}}),
        )
        .await;
    assert_eq!(r.ok()["status"], "RETRIABLE", "{:?}", r.body);
    assert_eq!(r.body["error"], "Boom");
    assert_eq!(r.body["inspectionData"]["input"], "{\"a\":1}");
    let pass = r#"{"Type":"Pass","Parameters":{"b.$":"$.a"},"End":true}"#;
    let r = h.call("TestState", json!({"definition": pass, "input": "{\"a\":2}"})).await;
    assert_eq!(r.ok()["status"], "SUCCEEDED");
    assert_eq!(r.body["output"], "{\"b\":2}");
    h.call("TestState", json!({"definition": "{\"Type\":\"Nope\"}"})).await.expect_error("InvalidDefinition");
    h.call("TestState", json!({"definition": pass, "input": "not json"})).await.expect_error("InvalidExecutionInput");
}
