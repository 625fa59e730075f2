//! `expressway serve`: the AWS Step Functions API over HTTP, so the aws CLI, boto3 and the SDKs
//! work unchanged against `--endpoint-url http://127.0.0.1:8083`.
//!
//! Layout: this file owns the HTTP side (hyper 1, HTTP/1.1 keep-alive), routing by
//! `X-Amz-Target`, and shutdown; [`protocol`] the AWS JSON 1.0 envelope and errors; [`arns`]
//! ARN formats and names; [`registry`] state machines, versions, aliases and tags;
//! [`executions`] running executions and the ring of recent ones; [`compact`] the encoded form
//! the ring keeps histories in; [`history`] AWS's history event shapes; [`logging`] execution
//! log records; [`ops`] the operations; [`eventbridge`] the EventBridge API, `POST /events` and
//! `GET /events/stats` on the same port.
//!
//! Invariants:
//! - Any Host header is accepted (SDKs prefix `sync-` for StartSyncExecution) and signatures
//!   are not checked.
//! - Every request gets an answer in AWS's envelope; nothing a client sends can panic a task.
//! - Request bodies are bounded before they are read (`Content-Length`) and while they are
//!   read; executions are bounded by the engine's admission limit (ThrottlingException).
//! - Shutdown stops accepting, lets requests in progress finish, then waits (up to the grace
//!   period) for every admitted execution, so an accepted StartExecution is not lost.

pub mod arns;
pub mod compact;
pub mod eventbridge;
pub mod executions;
pub mod history;
pub mod logging;
mod ops;
pub mod protocol;
pub mod registry;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rustc_hash::FxHashMap;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};

use crate::asl::StateMachineType;
use crate::events::rules_file::RulesFile;
use crate::events::sinks::{HttpSink, NdjsonSink, Router};
use crate::events::{Buses, EventsApi};
use crate::runtime::{Engine, EngineConfig};
use crate::tasks::client::HttpClient;
use crate::tasks::{MockConfig, MockTestCase, Resources};

pub use executions::RingLimits;

use arns::ArnScope;
use executions::ExecutionStore;
use logging::LogSink;
use protocol::{ApiError, ErrorCode, CONTENT_TYPE_JSON_1_0};
use registry::{Registry, Settings};

/// AWS's limit on an API request (the largest member, a definition, is 1 MiB of characters).
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024 + 64 * 1024;

/// How the server is set up.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub bind: SocketAddr,
    pub region: String,
    pub account: String,
    /// Executions admitted and unfinished at most; more starts answer ThrottlingException.
    pub max_in_flight: usize,
    pub ring: RingLimits,
    pub max_request_bytes: usize,
    /// How long shutdown waits for executions in flight before stopping them.
    pub grace_period: Duration,
    /// A folder of `*.asl.json` definitions created (as EXPRESS machines) at start.
    pub preload: Option<PathBuf>,
    /// The largest `POST /events` body.
    pub max_ingest_bytes: usize,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 8083)),
            region: "us-east-1".into(),
            account: "123456789012".into(),
            max_in_flight: 10_000,
            ring: RingLimits { max_count: 10_000, max_bytes: 256 * 1024 * 1024 },
            max_request_bytes: MAX_REQUEST_BYTES,
            // Express executions run at most 5 minutes, so by default every accepted execution
            // finishes before the process exits.
            grace_period: Duration::from_secs(305),
            preload: None,
            max_ingest_bytes: eventbridge::MAX_INGEST_BYTES,
        }
    }
}

/// Everything operations share.
pub struct ServerState {
    pub registry: Registry,
    pub executions: ExecutionStore,
    pub engine: Engine,
    pub logs: LogSink,
    pub region: String,
    /// EventBridge: buses, rules and targets; state machine targets start executions here.
    pub events: EventsApi,
    /// Where event deliveries go; the state machine route is added once the state is shared.
    event_targets: Arc<Router>,
    max_ingest_bytes: usize,
    mocks: Option<MockConfig>,
    /// The test case for executions whose ARN has no `#TestCase` suffix (`--test-case`).
    default_test_case: Option<String>,
    mock_cases: Mutex<FxHashMap<(String, String), Arc<MockTestCase>>>,
}

impl ServerState {
    /// `resources` are the Task handlers executions may call (library users register theirs);
    /// `mocks` is the Step Functions Local mock file `#TestCase` ARNs select from.
    pub fn new(config: &ServerConfig, resources: Resources, mocks: Option<MockConfig>, logs: LogSink) -> ServerState {
        let engine_config = EngineConfig {
            // History feeds the ring (Describe/GetExecutionHistory) and execution logging.
            record_history: true,
            region: config.region.clone(),
            account: config.account.clone(),
            max_in_flight: config.max_in_flight,
            ..EngineConfig::default()
        };
        let event_targets = Arc::new(Router::default());
        // HTTP endpoint targets share the executions' admission limit as their concurrency.
        event_targets.route("http://", Arc::new(HttpSink::new(HttpClient::new(false), config.max_in_flight)));
        ServerState {
            registry: Registry::new(ArnScope { region: config.region.clone(), account: config.account.clone() }),
            executions: ExecutionStore::new(config.ring),
            engine: Engine::new(engine_config, resources),
            logs,
            region: config.region.clone(),
            events: EventsApi::new(Arc::new(Buses::new(&config.region, &config.account, event_targets.clone()))),
            event_targets,
            max_ingest_bytes: config.max_ingest_bytes,
            mocks,
            default_test_case: None,
            mock_cases: Mutex::new(FxHashMap::default()),
        }
    }

    /// Uses `case` for executions that name no test case, on the machines the mock file has it
    /// for; other machines run unmocked.
    pub fn with_default_test_case(mut self, case: Option<String>) -> ServerState {
        self.default_test_case = case;
        self
    }

    /// The mocks an execution of `machine` runs with: the `#TestCase` it names (which must
    /// exist), else the default test case when the mock file has it for this machine.
    pub fn mocks_for(&self, machine: &str, named: Option<&str>) -> Result<Option<Arc<MockTestCase>>, ApiError> {
        match (named, &self.default_test_case) {
            (Some(case), _) => self.test_case(machine, case).map(Some),
            (None, Some(case)) => Ok(self.test_case(machine, case).ok()),
            (None, None) => Ok(None),
        }
    }

    /// The mock test case a `#TestCase` ARN suffix selects (built once per pair, then shared).
    fn test_case(&self, machine: &str, case: &str) -> Result<Arc<MockTestCase>, ApiError> {
        let invalid = |why: String| {
            ApiError::new(
                ErrorCode::InvalidName,
                format!("Invalid mock test case name '{case}' for state machine '{machine}': {why}"),
            )
        };
        let Some(mocks) = &self.mocks else {
            return Err(invalid(
                "no mock configuration is loaded (start the server with --mock-config FILE or SFN_MOCK_CONFIG)".into(),
            ));
        };
        let key = (machine.to_string(), case.to_string());
        let mut cache = self.mock_cases.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tc) = cache.get(&key) {
            return Ok(Arc::clone(tc));
        }
        let tc = Arc::new(mocks.test_case(machine, case).map_err(|e| invalid(e.to_string()))?);
        cache.insert(key, Arc::clone(&tc));
        Ok(tc)
    }

    /// Creates an EXPRESS state machine at start (`--preload`, `--rules`).
    fn create_express(&self, name: &str, definition: &str) -> Result<(), String> {
        let now = crate::clock::Clock::new().now_ms();
        let role = format!("arn:aws:iam::{}:role/expressway-preload", self.registry.scope.account);
        let settings = Settings { role_arn: role, ..Settings::default() };
        let revision =
            self.registry.build_revision(name, definition, StateMachineType::Express, settings, now).map_err(|e| e.message)?;
        self.registry.create(revision, Vec::new(), None, now).map_err(|e| e.message)?;
        Ok(())
    }

    /// Creates one EXPRESS state machine per `*.asl.json` file in `dir` (name = file name up to
    /// `.asl.json`), in file name order. Any unreadable or invalid file is an error naming it.
    pub fn preload(&self, dir: &Path) -> Result<Vec<String>, String> {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read the preload folder {}: {e}", dir.display()))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(".asl.json")))
            .collect();
        files.sort();
        let mut names = Vec::new();
        for path in files {
            let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let name = file_name.trim_end_matches(".asl.json").to_string();
            let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            if !arns::valid_name(&name) {
                return Err(format!("{}: '{name}' is not a valid state machine name", path.display()));
            }
            self.create_express(&name, &text).map_err(|e| format!("{}: {e}", path.display()))?;
            names.push(name);
        }
        Ok(names)
    }

    /// Loads a rules file (the `run --bus` format): its state machines are created (EXPRESS,
    /// as `--preload` creates them; one that already exists is kept as it is), then its buses,
    /// rules and targets. Answers the number of rules.
    pub fn load_rules(&self, path: &Path) -> Result<usize, String> {
        let file = RulesFile::load(path).map_err(|e| e.to_string())?;
        for sm in &file.state_machines {
            let text = std::fs::read_to_string(&sm.definition_file)
                .map_err(|e| format!("state machine {}: cannot read {}: {e}", sm.name, sm.definition_file.display()))?;
            let arn = self.registry.scope.state_machine(&sm.name);
            if self.registry.resolve(&arn).is_ok() {
                continue;
            }
            self.create_express(&sm.name, &text).map_err(|e| format!("state machine {}: {e}", sm.name))?;
        }
        // The file's `ndjson:` targets write where it says (API-made ones are not routed: a
        // PutTargets call must not make the server write files).
        let mut opened = std::collections::HashSet::new();
        for rule in &file.rules {
            for t in rule.targets.iter().filter(|t| t.arn.starts_with("ndjson:")) {
                if !opened.insert(t.arn.as_str()) {
                    continue;
                }
                let sink = NdjsonSink::open(&t.arn, false)
                    .map_err(|e| format!("rule {}, target {}: cannot open {}: {e}", rule.name, t.id, t.arn))?;
                self.event_targets.route(&t.arn, Arc::new(sink));
            }
        }
        file.apply(&self.events).map_err(|e| e.to_string())?;
        Ok(file.rules.len())
    }
}

/// What shutdown did.
#[derive(Debug, Default)]
pub struct ShutdownReport {
    /// Executions still running when the grace period ended, stopped (ABORTED).
    pub aborted: Vec<String>,
}

/// A bound server, ready to run.
pub struct Server {
    state: Arc<ServerState>,
    listener: TcpListener,
    config: ServerConfig,
}

impl Server {
    /// Binds the listening socket (nothing else happens before this, so start-up is fast).
    pub async fn bind(config: ServerConfig, state: ServerState) -> std::io::Result<Server> {
        let listener = TcpListener::bind(config.bind).await?;
        let state = Arc::new(state);
        state.event_targets.route("arn:aws:states:", Arc::new(eventbridge::StateMachineTargets(Arc::downgrade(&state))));
        Ok(Server { state, listener, config })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn state(&self) -> &Arc<ServerState> {
        &self.state
    }

    /// Serves until `shutdown` resolves, then shuts down gracefully.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> ShutdownReport {
        let Server { state, listener, config } = self;
        let (stop_tx, stop_rx) = watch::channel(false);
        let connections = Arc::new(ConnectionCount::default());
        let schedules = tokio::spawn(fire_scheduled_rules(Arc::clone(&state), stop_rx.clone()));
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    let guard = ConnectionGuard::new(&connections);
                    let state = Arc::clone(&state);
                    let mut stop_rx = stop_rx.clone();
                    let max_body = config.max_request_bytes;
                    tokio::spawn(async move {
                        let _guard = guard;
                        let service = hyper::service::service_fn(move |req| handle(Arc::clone(&state), req, max_body));
                        let conn = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                        tokio::pin!(conn);
                        let stopping = async move {
                            let _ = stop_rx.wait_for(|stop| *stop).await;
                        };
                        tokio::select! {
                            _ = conn.as_mut() => return,
                            _ = stopping => {}
                        }
                        conn.as_mut().graceful_shutdown();
                        let _ = conn.await;
                    });
                }
            }
        }
        drop(listener);
        let _ = stop_tx.send(true);
        let _ = schedules.await;
        let deadline = tokio::time::Instant::now() + config.grace_period;
        // Requests in progress finish first (a StartSyncExecution holds its connection), then
        // asynchronous executions drain.
        let _ = tokio::time::timeout_at(deadline, connections.all_closed()).await;
        while state.engine.in_flight() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let mut report = ShutdownReport::default();
        for record in state.executions.running() {
            if let Some(stop) = &record.stop {
                stop.stop(Some("States.Runtime".into()), Some("The server shut down before the execution finished.".into()));
                report.aborted.push(record.arn.to_string());
            }
        }
        // Let the stopped executions record their ABORTED outcome (and log records).
        let settle = tokio::time::Instant::now() + Duration::from_secs(2);
        while state.engine.in_flight() > 0 && tokio::time::Instant::now() < settle {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        report
    }
}

/// Fires the scheduled EventBridge rules that are due until the server stops.
async fn fire_scheduled_rules(state: Arc<ServerState>, mut stop: watch::Receiver<bool>) {
    tokio::select! {
        _ = state.events.fire_scheduled_rules() => {}
        _ = stop.wait_for(|stop| *stop) => {}
    }
}

#[derive(Default)]
struct ConnectionCount {
    open: AtomicUsize,
    closed: Notify,
}

impl ConnectionCount {
    async fn all_closed(&self) {
        loop {
            let notified = self.closed.notified();
            if self.open.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }
}

struct ConnectionGuard(Arc<ConnectionCount>);

impl ConnectionGuard {
    fn new(count: &Arc<ConnectionCount>) -> ConnectionGuard {
        count.open.fetch_add(1, Ordering::AcqRel);
        ConnectionGuard(Arc::clone(count))
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        if self.0.open.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.closed.notify_waiters();
        }
    }
}

/// One HTTP request → one API call.
async fn handle(state: Arc<ServerState>, req: Request<Incoming>, max_body: usize) -> Result<Response<Full<Bytes>>, Infallible> {
    let target = req.headers().get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let trace = req.headers().get("x-amzn-trace-id").and_then(|v| v.to_str().ok()).map(str::to_string);
    let path = req.uri().path();
    if path == "/events" || path == "/events/stats" {
        return Ok(eventbridge::serve_http(&state, req).await);
    }
    if req.method() != Method::POST {
        let e = ApiError::unknown_operation(&format!("{} {}", req.method(), req.uri().path()));
        return Ok(error_response(&e, CONTENT_TYPE_JSON_1_0));
    }
    let (service, op) = target.split_once('.').unwrap_or((target.as_str(), ""));
    let body = match read_body(req, max_body).await {
        Ok(b) => b,
        Err(e) => return Ok(error_response(&e, CONTENT_TYPE_JSON_1_0)),
    };
    let response = match service {
        "AWSStepFunctions" => {
            let ctx = ops::CallContext { trace_header: trace.as_deref() };
            match ops::dispatch(&state, op, &body, &ctx).await {
                Ok(bytes) => json_response(StatusCode::OK, bytes, CONTENT_TYPE_JSON_1_0),
                Err(e) => error_response(&e, CONTENT_TYPE_JSON_1_0),
            }
        }
        "AWSEvents" => eventbridge::route(&state, op, &body),
        _ => error_response(&ApiError::unknown_operation(&target), CONTENT_TYPE_JSON_1_0),
    };
    Ok(response)
}

/// A request body, bounded by `limit` before (`Content-Length`) and while it is read.
async fn read_body(req: Request<Incoming>, limit: usize) -> Result<Bytes, ApiError> {
    let declared = req.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    match Limited::new(req.into_body(), limit).collect().await {
        Ok(b) => Ok(b.to_bytes()),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => Err(too_large(limit)),
        Err(e) => Err(ApiError::new(ErrorCode::SerializationException, format!("cannot read the request body: {e}"))),
    }
}

/// The content type of EventBridge requests and responses.
pub const CONTENT_TYPE_JSON_1_1: &str = "application/x-amz-json-1.1";

fn too_large(limit: usize) -> ApiError {
    ApiError::new(ErrorCode::RequestEntityTooLargeException, format!("Request body is larger than the limit of {limit} bytes"))
}

fn json_response(status: StatusCode, body: Vec<u8>, content_type: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(id) = HeaderValue::from_str(&crate::ids::uuid_v4()) {
        headers.insert("x-amzn-requestid", id);
    }
    response
}

fn error_response(e: &ApiError, content_type: &'static str) -> Response<Full<Bytes>> {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    json_response(status, e.body(), content_type)
}

/// An error of another API module (EventBridge) in the same envelope.
pub fn foreign_error_response(name: &str, http_status: u16, message: &str, content_type: &'static str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({"__type": name, "message": message});
    let status = StatusCode::from_u16(http_status).unwrap_or(StatusCode::BAD_REQUEST);
    json_response(status, protocol::to_body(&body), content_type)
}
