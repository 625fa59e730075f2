//! The HTTP driver against a small fake server speaking the same protocols (StartSyncExecution,
//! StartExecution, PutEvents, NDJSON): requests arrive as the protocols say, every request sent
//! is answered and counted once, and failures are grouped by kind. Counts only, never timing.

use std::convert::Infallible;
use std::future::pending;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use expressway_loadtest::runner::{run, Progress};
use expressway_loadtest::scenario::{Overrides, Scenario, TargetKind};
use expressway_loadtest::traffic::Traffic;

#[derive(Default)]
struct Seen {
    connections: AtomicU64,
    sync: AtomicU64,
    start: AtomicU64,
    put_requests: AtomicU64,
    put_entries: AtomicU64,
    ndjson_requests: AtomicU64,
    ndjson_lines: AtomicU64,
    malformed: AtomicU64,
}

fn json(status: u16, body: serde_json::Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
    r
}

async fn answer(req: Request<Incoming>, seen: Arc<Seen>) -> Result<Response<Full<Bytes>>, Infallible> {
    let target = req.headers().get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let content_type = req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let path = req.uri().path().to_string();
    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let parsed: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
    let bad = |seen: &Seen| {
        seen.malformed.fetch_add(1, Ordering::SeqCst);
        json(400, serde_json::json!({"__type": "SerializationException"}))
    };
    Ok(match (path.as_str(), target.as_str()) {
        ("/", "AWSStepFunctions.StartSyncExecution") | ("/", "AWSStepFunctions.StartExecution") => {
            let Some(body) = parsed.filter(|_| content_type == "application/x-amz-json-1.0") else { return Ok(bad(&seen)) };
            let input = body["input"].as_str().and_then(|i| serde_json::from_str::<serde_json::Value>(i).ok());
            let (Some(input), Some(_arn)) = (input, body["stateMachineArn"].as_str()) else { return Ok(bad(&seen)) };
            if target.ends_with("StartExecution") {
                seen.start.fetch_add(1, Ordering::SeqCst);
                return Ok(json(200, serde_json::json!({"executionArn": "arn:x", "startDate": 1.0})));
            }
            seen.sync.fetch_add(1, Ordering::SeqCst);
            if input["fail"] == true {
                json(200, serde_json::json!({"status": "FAILED", "error": "Boom", "cause": "asked to"}))
            } else if input["throttle"] == true {
                json(400, serde_json::json!({"__type": "com.amazonaws.swf.service.v2.model#ThrottlingException"}))
            } else {
                json(200, serde_json::json!({"status": "SUCCEEDED", "output": input.to_string()}))
            }
        }
        ("/", "AWSEvents.PutEvents") => {
            let Some(entries) = parsed.as_ref().and_then(|b| b["Entries"].as_array()).filter(|_| content_type == "application/x-amz-json-1.1")
            else {
                return Ok(bad(&seen));
            };
            seen.put_requests.fetch_add(1, Ordering::SeqCst);
            seen.put_entries.fetch_add(entries.len() as u64, Ordering::SeqCst);
            let mut failed = 0;
            let results: Vec<serde_json::Value> = entries
                .iter()
                .map(|e| {
                    let detail: serde_json::Value = serde_json::from_str(e["Detail"].as_str().unwrap_or("null")).unwrap_or_default();
                    if detail["reject"] == true {
                        failed += 1;
                        serde_json::json!({"ErrorCode": "InternalFailure", "ErrorMessage": "no"})
                    } else {
                        serde_json::json!({"EventId": "e"})
                    }
                })
                .collect();
            json(200, serde_json::json!({"FailedEntryCount": failed, "Entries": results}))
        }
        ("/events", "") => {
            let text = String::from_utf8_lossy(&body);
            if content_type != "application/x-ndjson" || text.lines().any(|l| serde_json::from_str::<serde_json::Value>(l).is_err()) {
                return Ok(bad(&seen));
            }
            seen.ndjson_requests.fetch_add(1, Ordering::SeqCst);
            seen.ndjson_lines.fetch_add(text.lines().count() as u64, Ordering::SeqCst);
            json(202, serde_json::json!({"accepted": text.lines().count()}))
        }
        _ => json(400, serde_json::json!({"__type": "UnknownOperationException"})),
    })
}

/// Serves until the test's runtime ends; returns the base URL and the counters.
async fn fake_server() -> (String, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let seen = Arc::new(Seen::default());
    let counters = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            seen.connections.fetch_add(1, Ordering::SeqCst);
            let seen = Arc::clone(&seen);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| answer(req, Arc::clone(&seen)));
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    (url, counters)
}

fn scenario(event: &str, traffic: &str, target: &str) -> Scenario {
    toml::from_str(&format!("[event]\ninline = '{event}'\n[traffic]\n{traffic}\n[target]\n{target}\n")).unwrap()
}

fn overrides(url: &str, kind: TargetKind, duration: f64) -> Overrides {
    Overrides { url: Some(url.into()), target: Some(kind), duration_secs: Some(duration), seed: Some(3), ..Overrides::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_sync_open_loop_sends_the_schedule_and_groups_failures() {
    let (url, seen) = fake_server().await;
    let s = scenario(r#"{"n": {{seq}}, "fail": {{bool}}}"#, "kind = \"constant\"\nrate = 200", "connections = 4");
    let plan = s.plan(Path::new("."), &overrides(&url, TargetKind::StartSync, 1.0)).unwrap();
    let report = run(&plan, Progress::Off, pending()).await;
    let planned = Traffic::Constant { rate: 200.0 }.planned_requests(1.0);
    assert_eq!(report.requests.dispatched, planned);
    assert_eq!(report.requests.ok + report.requests.failed, planned);
    assert_eq!(seen.sync.load(Ordering::SeqCst), planned);
    assert_eq!(seen.malformed.load(Ordering::SeqCst), 0);
    // Keep-alive: 200 requests over at most the 4 connections asked for.
    let connections = seen.connections.load(Ordering::SeqCst);
    assert!((1..=4).contains(&connections), "{connections} connections");
    // Random booleans: both outcomes occur among 200 requests, and failures carry their kind.
    assert!(report.requests.ok > 0 && report.requests.failed > 0, "{:?}", report.requests);
    assert_eq!(report.errors.get("execution FAILED: Boom"), Some(&report.requests.failed));
    assert_eq!(report.latency_us.count, planned);
    assert_eq!(report.service_time_us.count, planned);
    assert!(report.errors.len() == 1, "{:?}", report.errors);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_error_types_name_the_failure() {
    let (url, _) = fake_server().await;
    let s = scenario(r#"{"throttle": true}"#, "kind = \"closed\"\nclients = 2", "");
    let plan = s.plan(Path::new("."), &overrides(&url, TargetKind::StartSync, 0.3)).unwrap();
    let report = run(&plan, Progress::Off, pending()).await;
    assert!(report.requests.failed > 0);
    assert_eq!(report.requests.ok, 0);
    assert_eq!(report.errors.get("ThrottlingException"), Some(&report.requests.failed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_execution_closed_loop_counts_every_request_once() {
    let (url, seen) = fake_server().await;
    let s = scenario(r#"{"id": "{{uuid}}"}"#, "kind = \"closed\"\nclients = 3", "");
    let plan = s.plan(Path::new("."), &overrides(&url, TargetKind::Start, 0.5)).unwrap();
    let report = run(&plan, Progress::Off, pending()).await;
    assert!(report.requests.ok > 0);
    assert_eq!(report.requests.failed, 0);
    assert_eq!(report.requests.ok, report.requests.dispatched);
    assert_eq!(seen.start.load(Ordering::SeqCst), report.requests.ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_events_batches_entries_and_counts_refused_ones() {
    let (url, seen) = fake_server().await;
    let s = scenario(r#"{"seq": {{seq}}, "reject": {{choice true false false false}}}"#, "kind = \"constant\"\nrate = 500", "batch = 10\nconnections = 2");
    let plan = s.plan(Path::new("."), &overrides(&url, TargetKind::PutEvents, 1.0)).unwrap();
    let report = run(&plan, Progress::Off, pending()).await;
    let requests = Traffic::Constant { rate: 50.0 }.planned_requests(1.0);
    assert_eq!(report.batch, 10);
    assert_eq!(report.requests.dispatched, requests);
    assert_eq!(seen.put_requests.load(Ordering::SeqCst), requests);
    assert_eq!(seen.put_entries.load(Ordering::SeqCst), requests * 10);
    assert_eq!(report.requests.events_ok + report.requests.events_failed, requests * 10);
    assert!(report.requests.events_failed > 0);
    assert_eq!(report.errors.get("PutEvents InternalFailure"), Some(&report.requests.events_failed));
    assert_eq!(seen.malformed.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ndjson_posts_batches_of_lines_to_events() {
    let (url, seen) = fake_server().await;
    let s = scenario(r#"{"v": {{float 0 1 3}}, "when": "{{now}}"}"#, "kind = \"ramp\"\nfrom = 0\nto = 2000", "batch = 20");
    let plan = s.plan(Path::new("."), &overrides(&url, TargetKind::Ndjson, 1.0)).unwrap();
    let report = run(&plan, Progress::Off, pending()).await;
    let requests = Traffic::Ramp { from: 0.0, to: 100.0 }.planned_requests(1.0);
    assert_eq!(report.requests.ok, requests);
    assert_eq!(seen.ndjson_requests.load(Ordering::SeqCst), requests);
    assert_eq!(seen.ndjson_lines.load(Ordering::SeqCst), requests * 20);
    assert_eq!(report.requests.events_ok, requests * 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_an_error_kind_not_a_crash() {
    // Bind and drop a listener to get a port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
    let s = scenario("{}", "kind = \"constant\"\nrate = 50", "connections = 2");
    let plan = s.plan(Path::new("."), &overrides(&format!("http://127.0.0.1:{port}/"), TargetKind::StartSync, 0.5)).unwrap();
    let report = run(&plan, Progress::Off, pending()).await;
    assert_eq!(report.requests.ok, 0);
    assert_eq!(report.requests.failed, report.requests.dispatched);
    assert_eq!(report.errors.get("connect: ConnectionRefused"), Some(&report.requests.dispatched));
}
