//! EventBridge on `expressway serve`, over raw HTTP against a server on 127.0.0.1:0: the
//! `AWSEvents.*` API (AWS JSON 1.1), rules starting the server's state machines (recorded like
//! StartExecution's executions), throttling, `POST /events` NDJSON ingestion, the
//! `GET /events/stats` counters and rules files loaded at start (`serve --rules`).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use expressway::server::logging::LogSink;
use expressway::server::{Server, ServerConfig, ServerState};
use expressway::tasks::Resources;

const ROLE: &str = "arn:aws:iam::123456789012:role/test";
const GREET: &str = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"hello.$":"$.who"},"End":true}}}"#;
const WAIT_LONG: &str = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":120,"End":true}}}"#;

struct Harness {
    addr: std::net::SocketAddr,
    state: Arc<ServerState>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

struct Reply {
    status: u16,
    content_type: String,
    body: Value,
}

impl Reply {
    fn ok(&self) -> &Value {
        assert_eq!(self.status, 200, "{}", self.body);
        &self.body
    }

    fn error(&self, status: u16, name: &str) -> &str {
        assert_eq!((self.status, self.body["__type"].as_str()), (status, Some(name)), "{}", self.body);
        self.body["message"].as_str().unwrap_or_default()
    }
}

fn config() -> ServerConfig {
    ServerConfig { bind: "127.0.0.1:0".parse().unwrap(), grace_period: Duration::ZERO, ..ServerConfig::default() }
}

impl Harness {
    async fn start(config: ServerConfig) -> Harness {
        let state = ServerState::new(&config, Resources::default(), None, LogSink::new(Box::new(std::io::sink())));
        let server = Server::bind(config, state).await.expect("bind");
        let addr = server.local_addr().unwrap();
        let state = Arc::clone(server.state());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(server.run(async move {
            let _ = rx.await;
        }));
        Harness { addr, state, shutdown: Some(tx) }
    }

    async fn http(&self, method: &str, path: &str, headers: &str, body: &[u8]) -> Reply {
        let mut conn = TcpStream::connect(self.addr).await.unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        conn.write_all(head.as_bytes()).await.unwrap();
        conn.write_all(body).await.unwrap();
        let mut response = Vec::new();
        conn.read_to_end(&mut response).await.unwrap();
        let text = String::from_utf8(response).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").expect("a response");
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        let content_type = head
            .lines()
            .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-type:").map(|v| v.trim().to_string()))
            .unwrap_or_default();
        let body = if body.is_empty() { Value::Null } else { serde_json::from_str(body).unwrap() };
        Reply { status, content_type, body }
    }

    async fn events(&self, op: &str, body: Value) -> Reply {
        let headers = format!("X-Amz-Target: AWSEvents.{op}\r\nContent-Type: application/x-amz-json-1.1\r\n");
        self.http("POST", "/", &headers, body.to_string().as_bytes()).await
    }

    async fn sfn(&self, op: &str, body: Value) -> Value {
        let headers = format!("X-Amz-Target: AWSStepFunctions.{op}\r\nContent-Type: application/x-amz-json-1.0\r\n");
        self.http("POST", "/", &headers, body.to_string().as_bytes()).await.ok().clone()
    }

    async fn create(&self, name: &str, definition: &str) -> String {
        let r =
            self.sfn("CreateStateMachine", json!({"name": name, "definition": definition, "roleArn": ROLE, "type": "EXPRESS"}));
        r.await["stateMachineArn"].as_str().unwrap().to_string()
    }

    /// The machine's executions once `count` of them have finished.
    async fn finished_executions(&self, machine: &str, count: usize) -> Vec<Value> {
        for _ in 0..2000 {
            let list = self.sfn("ListExecutions", json!({"stateMachineArn": machine, "maxResults": 1000})).await;
            let executions = list["executions"].as_array().cloned().unwrap_or_default();
            if executions.len() >= count && executions.iter().all(|e| e["status"] != "RUNNING") {
                return executions;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("{machine}: {count} executions did not finish");
    }

    async fn stats(&self, query: &str) -> Value {
        self.http("GET", &format!("/events/stats{query}"), "", b"").await.ok().clone()
    }
}

fn rule_stats(stats: &Value, bus: &str, rule: &str) -> (u64, u64, u64) {
    let bus = stats["EventBuses"].as_array().unwrap().iter().find(|b| b["Name"] == bus).expect("the bus");
    let r = bus["Rules"].as_array().unwrap().iter().find(|r| r["Name"] == rule).expect("the rule");
    (r["Matched"].as_u64().unwrap(), r["Started"].as_u64().unwrap(), r["Failed"].as_u64().unwrap())
}

#[tokio::test]
async fn rules_start_the_servers_state_machines() {
    let h = Harness::start(config()).await;
    let machine = h.create("greet", GREET).await;
    let version = h.sfn("PublishStateMachineVersion", json!({"stateMachineArn": machine})).await;
    let version_arn = version["stateMachineVersionArn"].as_str().unwrap().to_string();

    let r = h.events("PutRule", json!({"Name": "greetings", "EventPattern": "{\"source\": [\"app\"]}"})).await;
    assert_eq!(r.content_type, "application/x-amz-json-1.1");
    assert_eq!(r.ok()["RuleArn"], "arn:aws:events:us-east-1:123456789012:rule/greetings");
    let targets = json!({"Rule": "greetings", "Targets": [
        {"Id": "latest", "Arn": machine, "InputTransformer": {"InputPathsMap": {"w": "$.detail.name"}, "InputTemplate": "{\"who\": <w>}"}},
        {"Id": "v1", "Arn": version_arn, "InputPath": "$.detail"},
        {"Id": "gone", "Arn": "arn:aws:states:us-east-1:123456789012:stateMachine:nope"}
    ]});
    assert_eq!(h.events("PutTargets", targets).await.ok()["FailedEntryCount"], 0);

    let put = h
        .events(
            "PutEvents",
            json!({"Entries": [
                {"Source": "app", "DetailType": "hello", "Detail": "{\"name\": \"world\", \"who\": \"v1\"}"},
                {"Source": "other", "DetailType": "hello", "Detail": "{}"}
            ]}),
        )
        .await;
    assert_eq!(put.ok()["FailedEntryCount"], 0, "{}", put.body);
    assert!(put.body["Entries"][0]["EventId"].is_string());

    // Both the machine and its version started (one execution each, listed under the machine).
    let executions = h.finished_executions(&machine, 2).await;
    assert_eq!(executions.len(), 2, "{executions:?}");
    let mut outputs = Vec::new();
    for e in &executions {
        let d = h.sfn("DescribeExecution", json!({"executionArn": e["executionArn"]})).await;
        assert_eq!(d["status"], "SUCCEEDED", "{d}");
        assert!(d["executionArn"].as_str().unwrap().starts_with("arn:aws:states:us-east-1:123456789012:express:greet:"));
        outputs.push((
            d["input"].as_str().unwrap().to_string(),
            d["output"].as_str().unwrap().to_string(),
            d.get("stateMachineVersionArn").map(|v| v.to_string()),
        ));
    }
    outputs.sort();
    assert_eq!(
        outputs[0],
        (r#"{"name":"world","who":"v1"}"#.into(), r#"{"hello":"v1"}"#.into(), Some(json!(version_arn).to_string()))
    );
    assert_eq!(outputs[1], (r#"{"who":"world"}"#.into(), r#"{"hello":"world"}"#.into(), None));

    // The missing machine is a failed delivery of the rule, not a failed entry.
    assert_eq!(rule_stats(&h.stats("").await, "default", "greetings"), (1, 2, 1));

    let missing = h.events("DescribeRule", json!({"Name": "nope"})).await;
    assert_eq!(missing.error(400, "ResourceNotFoundException"), "Rule nope does not exist on EventBus default.");
    h.events("PutEvents", json!({})).await.error(400, "ValidationException");
    h.events("Frobnicate", json!({})).await.error(400, "UnknownOperationException");
    let bad = h.http("POST", "/", "X-Amz-Target: AWSEvents.ListRules\r\n", b"{not json").await;
    bad.error(400, "SerializationException");
}

#[tokio::test]
async fn a_full_engine_throttles_put_events_entries() {
    let h = Harness::start(ServerConfig { max_in_flight: 1, ..config() }).await;
    let machine = h.create("slow", WAIT_LONG).await;
    h.events("PutRule", json!({"Name": "r", "EventPattern": "{\"source\": [\"app\"]}"})).await.ok();
    h.events("PutTargets", json!({"Rule": "r", "Targets": [{"Id": "t", "Arn": machine}]})).await.ok();
    let entry = json!({"Source": "app", "DetailType": "t", "Detail": "{}"});
    let put = h.events("PutEvents", json!({"Entries": [entry, entry]})).await;
    let put = put.ok();
    assert_eq!(put["FailedEntryCount"], 1, "{put}");
    assert!(put["Entries"][0]["EventId"].is_string());
    assert_eq!(put["Entries"][1]["ErrorCode"], "ThrottlingException");
    assert_eq!(h.state.engine.in_flight(), 1);
}

#[tokio::test]
async fn scheduled_rules_start_executions_with_the_scheduled_event() {
    let h = Harness::start(config()).await;
    let machine = h.create("tick", r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#).await;
    let rule = h.events("PutRule", json!({"Name": "every-5", "ScheduleExpression": "rate(5 minutes)"})).await;
    let rule_arn = rule.ok()["RuleArn"].as_str().unwrap().to_string();
    h.events("PutTargets", json!({"Rule": "every-5", "Targets": [{"Id": "t", "Arn": machine}]})).await.ok();
    let described = h.events("DescribeRule", json!({"Name": "every-5"})).await;
    assert_eq!(described.ok()["ScheduleExpression"], "rate(5 minutes)");
    // The server's ticker fires on real time; the test moves time itself instead of waiting.
    let later = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64 + 6 * 60_000;
    assert_eq!(h.state.events.fire_due(later), 1);
    let executions = h.finished_executions(&machine, 1).await;
    let d = h.sfn("DescribeExecution", json!({"executionArn": executions[0]["executionArn"]})).await;
    let input: Value = serde_json::from_str(d["input"].as_str().unwrap()).unwrap();
    assert_eq!((input["source"].as_str(), input["detail-type"].as_str()), (Some("aws.events"), Some("Scheduled Event")));
    assert_eq!((input["resources"].clone(), input["detail"].clone()), (json!([rule_arn]), json!({})));
    let bus = h.events("PutRule", json!({"Name": "x", "EventBusName": "nope", "ScheduleExpression": "rate(1 minute)"})).await;
    bus.error(400, "ValidationException");
}

fn ndjson(lines: &[String]) -> Vec<u8> {
    lines.join("\n").into_bytes()
}

#[tokio::test]
async fn post_events_ingests_ndjson_and_reports_bad_lines() {
    // Two executions at a time: the request waits for room instead of failing lines.
    let h = Harness::start(ServerConfig { max_in_flight: 2, max_ingest_bytes: 1 << 20, ..config() }).await;
    let machine = h.create("greet", GREET).await;
    h.events("CreateEventBus", json!({"Name": "orders"})).await.ok();
    let pattern = "{\"detail\": {\"who\": [{\"prefix\": \"u\"}]}}";
    h.events("PutRule", json!({"Name": "users", "EventBusName": "orders", "EventPattern": pattern})).await.ok();
    let targets =
        json!({"Rule": "users", "EventBusName": "orders", "Targets": [{"Id": "t", "Arn": machine, "InputPath": "$.detail"}]});
    h.events("PutTargets", targets).await.ok();

    let mut lines: Vec<String> = (0..300)
        .map(|i| json!({"source": "shop", "detail-type": "user", "detail": {"who": format!("u{i}")}}).to_string())
        .collect();
    lines[10] = "{not json".into();
    lines[20] = json!({"Source": "shop", "Detail": "{}"}).to_string();
    lines[30] = String::new();
    lines[40] = json!({"Source": "shop", "DetailType": "x", "Detail": "{}", "EventBusName": "missing"}).to_string();
    lines[50] = json!({"source": "shop", "detail-type": "other", "detail": {"who": "nobody"}}).to_string();
    let reply = h.http("POST", "/events?bus=orders", "Content-Type: application/x-ndjson\r\n", &ndjson(&lines)).await;
    assert_eq!(reply.content_type, "application/json");
    let body = reply.ok();
    assert_eq!(body["Accepted"], 296, "{body}");
    assert_eq!(body["FailedEntryCount"], 3);
    let failed: Vec<(u64, &str)> = body["FailedEntries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["Line"].as_u64().unwrap(), f["ErrorCode"].as_str().unwrap()))
        .collect();
    assert_eq!(failed, vec![(11, "MalformedEvent"), (21, "InvalidArgument"), (41, "NotFoundException")]);

    let executions = h.finished_executions(&machine, 295).await;
    assert_eq!(executions.len(), 295);
    assert_eq!(rule_stats(&h.stats("?bus=orders").await, "orders", "users"), (295, 295, 0));

    // Bare details, with the source and detail-type in the query (the spelling is kept: 1.50).
    let details = b"{\"who\": \"ux\", \"n\": 1.50}\n[1]\n";
    let reply = h.http("POST", "/events?bus=orders&source=shop&detail-type=user", "", details).await;
    let body = reply.ok();
    assert_eq!((body["Accepted"].as_u64(), body["FailedEntries"][0]["ErrorCode"].as_str()), (Some(1), Some("MalformedDetail")));
    assert_eq!(h.finished_executions(&machine, 296).await.len(), 296);
    assert_eq!(rule_stats(&h.stats("").await, "orders", "users"), (296, 296, 0));
    h.http("POST", "/events?source=shop", "", b"{}").await.error(400, "ValidationException");
    h.http("POST", "/events?bus=nope", "", b"{}").await.error(400, "ResourceNotFoundException");
    h.http("POST", "/events?bsu=orders", "", b"{}").await.error(400, "ValidationException");
    h.http("GET", "/events", "", b"").await.error(405, "MethodNotAllowed");
    h.http("GET", "/events/stats?bus=nope", "", b"").await.error(400, "ResourceNotFoundException");
    let big = vec![b' '; (1 << 20) + 1];
    h.http("POST", "/events", "", &big).await.error(413, "RequestEntityTooLargeException");
}

#[tokio::test]
async fn a_rules_file_is_loaded_at_start() {
    let dir = std::env::temp_dir().join(format!("expressway-server-events-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("greet.asl.json"), GREET).unwrap();
    let log = dir.join("log.ndjson");
    let rules = json!({
        "EventBuses": [{"Name": "orders"}],
        "StateMachines": [{"Name": "greet", "DefinitionFile": "greet.asl.json"}],
        "Rules": [{"Name": "placed", "EventBusName": "orders", "EventPattern": {"source": ["shop"]},
                   "Targets": [{"Id": "t", "Arn": "arn:aws:states:us-east-1:123456789012:stateMachine:greet", "Input": "{\"who\": \"file\"}"},
                               {"Id": "log", "Arn": format!("ndjson:{}", log.display()), "InputPath": "$.detail"}]}]
    });
    std::fs::write(dir.join("rules.json"), rules.to_string()).unwrap();
    let h = Harness::start(config()).await;
    assert_eq!(h.state.load_rules(&dir.join("rules.json")), Ok(1));
    let listed = h.events("ListTargetsByRule", json!({"Rule": "placed", "EventBusName": "orders"})).await;
    assert_eq!(listed.ok()["Targets"][1]["Input"], "{\"who\": \"file\"}", "targets are listed by id");
    let line = json!({"source": "shop", "detail-type": "placed", "detail": {"n": 1}}).to_string();
    assert_eq!(h.http("POST", "/events?bus=orders", "", line.as_bytes()).await.ok()["Accepted"], 1);
    let machine = "arn:aws:states:us-east-1:123456789012:stateMachine:greet";
    let executions = h.finished_executions(machine, 1).await;
    let d = h.sfn("DescribeExecution", json!({"executionArn": executions[0]["executionArn"]})).await;
    assert_eq!(d["output"], r#"{"hello":"file"}"#);

    // The file's ndjson: target writes each line as it is delivered.
    let logged: Value = serde_json::from_str(std::fs::read_to_string(&log).unwrap().trim()).unwrap();
    assert_eq!((logged["rule"].as_str(), logged["input"].clone()), (Some("placed"), json!({"n": 1})));
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"Rules": [{"Name": "r", "EventPattern": {"a": "x"}}]}"#).unwrap();
    assert!(h.state.load_rules(&bad).unwrap_err().contains("Event pattern is not valid"));
    let _ = std::fs::remove_dir_all(&dir);
}
