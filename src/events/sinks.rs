//! Target sinks: state machines started on an [`Engine`], NDJSON lines written to a file or
//! stdout, HTTP endpoints (the input POSTed as the body), and a [`Router`] that sends each
//! delivery to the sink its target ARN or URL names.
//!
//! Invariants:
//! - A sink never blocks the bus: a state machine sink that cannot start another execution
//!   (the engine's in-flight limit) answers [`DeliveryError::Full`], and the bus reports the
//!   entry as throttled.
//! - A state machine target is started as EventBridge starts it (StartExecution of an Express
//!   machine); its input must be JSON. Every started execution's outcome is handed to the
//!   sink's observer exactly once.

use std::io::Write;
use std::sync::{Arc, Mutex, RwLock};

use rustc_hash::FxHashMap;

use super::bus::{Delivery, DeliveryError, TargetSink};
use super::transform::Payload;
use crate::program::Program;
use crate::runtime::{Engine, ExecutionOutcome, StartError, StartOptions};
use crate::tasks::client::HttpClient;
use crate::value::{parse_str, Value};

/// Who an execution ran for.
#[derive(Debug, Clone)]
pub struct DeliveryInfo {
    pub bus: Arc<str>,
    pub rule: Arc<str>,
    pub target_id: Arc<str>,
    pub event_id: Arc<str>,
}

type Observer = Arc<dyn Fn(DeliveryInfo, ExecutionOutcome) + Send + Sync>;

/// A registered state machine: its program and name.
type Machine = (Arc<Program>, Arc<str>);

/// Starts executions of registered state machines. Must be used inside a tokio runtime.
pub struct StateMachineSink {
    engine: Engine,
    machines: RwLock<FxHashMap<String, Machine>>,
    observer: Observer,
}

impl StateMachineSink {
    pub fn new(engine: Engine, observer: impl Fn(DeliveryInfo, ExecutionOutcome) + Send + Sync + 'static) -> StateMachineSink {
        StateMachineSink { engine, machines: RwLock::default(), observer: Arc::new(observer) }
    }

    /// Makes `arn` a target that runs `program` (as state machine `name`).
    pub fn register(&self, arn: &str, name: &str, program: Arc<Program>) {
        self.machines.write().unwrap_or_else(|e| e.into_inner()).insert(arn.to_string(), (program, name.into()));
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

impl TargetSink for StateMachineSink {
    fn deliver(&self, d: Delivery) -> Result<(), DeliveryError> {
        let Some((program, name)) = self.machines.read().unwrap_or_else(|e| e.into_inner()).get(&*d.target_arn).cloned() else {
            return Err(DeliveryError::Failed(format!("State Machine Does Not Exist: {}", d.target_arn)));
        };
        let input =
            d.input.into_json().map_err(|e| DeliveryError::Failed(format!("Invalid State Machine Execution Input: {e}")))?;
        let mut opts = StartOptions::new(&name);
        opts.sync = false;
        let info = DeliveryInfo { bus: d.bus, rule: d.rule, target_id: d.target_id, event_id: d.event_id };
        let observer = Arc::clone(&self.observer);
        match self.engine.start(program, input, opts, move |outcome| observer(info, outcome)) {
            Ok(_) => Ok(()),
            Err(StartError::Throttled { .. }) => Err(DeliveryError::Full),
        }
    }
}

/// Writes each delivery as one JSON line: `{"eventId", "rule", "target", "input"}`; the input
/// is the JSON value when it is JSON, else the text as a JSON string.
pub struct NdjsonSink {
    out: Mutex<Box<dyn Write + Send>>,
}

impl NdjsonSink {
    pub fn new(out: Box<dyn Write + Send>) -> NdjsonSink {
        NdjsonSink { out: Mutex::new(out) }
    }

    /// The sink an `ndjson:PATH` target names: stdout for `ndjson:-`, else PATH opened for
    /// appending. `buffered` files are written in blocks (call [`NdjsonSink::flush`] at the
    /// end); unbuffered ones line by line, for long-running processes.
    pub fn open(arn: &str, buffered: bool) -> std::io::Result<NdjsonSink> {
        let path = arn.strip_prefix("ndjson:").unwrap_or(arn);
        let out: Box<dyn Write + Send> = if path == "-" {
            Box::new(std::io::stdout())
        } else {
            let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
            if buffered {
                Box::new(std::io::BufWriter::new(file))
            } else {
                Box::new(std::io::LineWriter::new(file))
            }
        };
        Ok(NdjsonSink::new(out))
    }

    pub fn flush(&self) -> std::io::Result<()> {
        self.out.lock().unwrap_or_else(|e| e.into_inner()).flush()
    }
}

impl TargetSink for NdjsonSink {
    fn deliver(&self, d: Delivery) -> Result<(), DeliveryError> {
        let input = match d.input {
            Payload::Json(v) => v,
            Payload::Text(t) => parse_str(&t).unwrap_or_else(|_| Value::from(t.as_str())),
        };
        let line = Value::object([
            ("eventId", Value::from(&*d.event_id)),
            ("eventBusName", Value::from(&*d.bus)),
            ("rule", Value::from(&*d.rule)),
            ("target", Value::from(&*d.target_id)),
            ("input", input),
        ]);
        let mut text = line.to_json();
        text.push('\n');
        // One write per line, so lines from other writers of the same stream never interleave.
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        out.write_all(text.as_bytes()).map_err(|e| DeliveryError::Failed(format!("cannot write the NDJSON target: {e}")))
    }
}

/// POSTs each delivery's input to its target, an `http://` URL, as JSON
/// (`Content-Type: application/json`). At most `max_in_flight` requests run at once; past
/// that the sink is full. A request that fails or gets a non-2xx answer counts as a failed
/// delivery of its rule (it was counted as started when handed over). Needs a tokio runtime.
pub struct HttpSink {
    client: HttpClient,
    permits: Arc<tokio::sync::Semaphore>,
    max_in_flight: usize,
}

/// Largest response body read from an HTTP target (the body is discarded).
const MAX_HTTP_RESPONSE: usize = 1 << 20;

impl HttpSink {
    pub fn new(client: HttpClient, max_in_flight: usize) -> HttpSink {
        let max_in_flight = max_in_flight.max(1);
        HttpSink { client, permits: Arc::new(tokio::sync::Semaphore::new(max_in_flight)), max_in_flight }
    }

    /// Requests not yet answered.
    pub fn in_flight(&self) -> usize {
        self.max_in_flight - self.permits.available_permits()
    }
}

impl TargetSink for HttpSink {
    fn deliver(&self, d: Delivery) -> Result<(), DeliveryError> {
        let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() else {
            return Err(DeliveryError::Full);
        };
        let client = self.client.clone();
        let body = bytes::Bytes::from(d.input.text());
        tokio::spawn(async move {
            let headers = vec![("content-type".to_string(), "application/json".to_string())];
            let ok = match client.send(hyper::Method::POST, &d.target_arn, headers, body, MAX_HTTP_RESPONSE).await {
                Ok(r) => r.status.is_success(),
                Err(_) => false,
            };
            if !ok {
                d.counters.failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            drop(permit);
        });
        Ok(())
    }
}

/// Sends each delivery to the sink registered for the longest matching ARN prefix.
#[derive(Default)]
pub struct Router {
    routes: RwLock<Vec<(String, Arc<dyn TargetSink>)>>,
}

impl Router {
    pub fn route(&self, arn_prefix: &str, sink: Arc<dyn TargetSink>) {
        let mut routes = self.routes.write().unwrap_or_else(|e| e.into_inner());
        routes.push((arn_prefix.to_string(), sink));
        routes.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    }
}

impl TargetSink for Router {
    fn deliver(&self, d: Delivery) -> Result<(), DeliveryError> {
        let sink = {
            let routes = self.routes.read().unwrap_or_else(|e| e.into_inner());
            routes.iter().find(|(p, _)| d.target_arn.starts_with(p.as_str())).map(|(_, s)| Arc::clone(s))
        };
        match sink {
            Some(s) => s.deliver(d),
            None => Err(DeliveryError::Failed(format!("No target handles {}", d.target_arn))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asl::StateMachineType;
    use crate::events::bus::{Buses, EntryResult, EventEntry, RuleSpec, RuleState, TargetSpec};
    use crate::machine::StateMachine;
    use crate::runtime::EngineConfig;
    use crate::tasks::Resources;

    #[derive(Clone, Default)]
    struct SharedBuf(Arc<Mutex<Vec<u8>>>);
    impl Write for SharedBuf {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn http_targets_receive_the_input_as_a_post() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            // Read the head, then the body its Content-Length announces.
            loop {
                let n = conn.read(&mut buf).await.unwrap();
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request).to_string();
                if let Some(head_end) = text.find("\r\n\r\n") {
                    let length: usize = text
                        .lines()
                        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
                        .unwrap_or(0);
                    if request.len() >= head_end + 4 + length {
                        conn.write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n").await.unwrap();
                        return text;
                    }
                }
            }
        });
        let router = Arc::new(Router::default());
        router.route("http://", Arc::new(HttpSink::new(HttpClient::new(false), 4)));
        let buses = Buses::new("us-east-1", "123456789012", router);
        let spec = RuleSpec {
            name: "r".into(),
            event_pattern: r#"{"source": ["app"]}"#.into(),
            state: RuleState::Enabled,
            description: None,
        };
        buses.put_rule(None, spec).unwrap();
        let mut hook = TargetSpec { id: "hook".into(), arn: url, ..TargetSpec::default() };
        hook.input_path = Some("$.detail".into());
        buses.put_targets(None, "r", vec![hook]).unwrap();
        let entry = EventEntry {
            source: Some("app".into()),
            detail_type: Some("T".into()),
            detail: Some(r#"{"k": "v"}"#.into()),
            ..EventEntry::default()
        };
        assert!(matches!(buses.put_events(&[entry])[0], EntryResult::Accepted { .. }));
        let request = server.await.unwrap();
        assert!(request.starts_with("POST /hook HTTP/1.1"), "{request}");
        assert!(request.to_ascii_lowercase().contains("content-type: application/json"));
        assert!(request.ends_with(r#"{"k":"v"}"#), "{request}");
        assert_eq!(buses.rule_stats(None, "r").unwrap().started, 1);
    }

    #[tokio::test]
    async fn events_start_state_machines_and_write_ndjson() {
        let arn = "arn:aws:states:us-east-1:123456789012:stateMachine:greet";
        let machine = StateMachine::new(
            "greet",
            r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"hello.$":"$.who"},"End":true}}}"#,
            StateMachineType::Express,
        )
        .unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let config = EngineConfig { max_in_flight: 1, ..EngineConfig::default() };
        let machines = Arc::new(StateMachineSink::new(Engine::new(config, Resources::default()), move |info, outcome| {
            let _ = tx.send((info, outcome));
        }));
        machines.register(arn, "greet", Arc::clone(&machine.program));
        let buf = SharedBuf::default();
        let ndjson = Arc::new(NdjsonSink::new(Box::new(buf.clone())));
        let router = Arc::new(Router::default());
        router.route("arn:aws:states:", machines.clone());
        router.route("ndjson:", ndjson.clone());
        let buses = Buses::new("us-east-1", "123456789012", router);
        let spec = RuleSpec {
            name: "r".into(),
            event_pattern: r#"{"source": ["app"]}"#.into(),
            state: RuleState::Enabled,
            description: None,
        };
        buses.put_rule(None, spec).unwrap();
        let mut sm = TargetSpec { id: "sm".into(), arn: arn.into(), ..TargetSpec::default() };
        sm.input_path = Some("$.detail".into());
        let file = TargetSpec { id: "log".into(), arn: "ndjson:-".into(), ..TargetSpec::default() };
        let unknown = TargetSpec { id: "x".into(), arn: "arn:aws:sqs:us-east-1:1:q".into(), ..TargetSpec::default() };
        buses.put_targets(None, "r", vec![sm, file, unknown]).unwrap();
        let entry = EventEntry {
            source: Some("app".into()),
            detail_type: Some("T".into()),
            detail: Some(r#"{"who": "world"}"#.into()),
            ..EventEntry::default()
        };

        let results = buses.put_events(&[entry.clone(), entry]);
        assert!(matches!(results[0], EntryResult::Accepted { .. }));
        // The engine takes one execution at a time: the second entry is throttled, not lost.
        assert!(matches!(&results[1], EntryResult::Failed { code: "ThrottlingException", .. }));
        let (info, outcome) = rx.recv().await.unwrap();
        assert_eq!(&*info.rule, "r");
        assert_eq!(outcome.status.as_str(), "SUCCEEDED");
        assert_eq!(outcome.output.map(|v| v.to_json()), Some(r#"{"hello":"world"}"#.to_string()));
        let lines = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert_eq!(lines.lines().count(), 2, "the NDJSON target got both events: {lines}");
        assert!(lines.contains(r#""input":{"version":"0""#));
        let stats = buses.rule_stats(None, "r").unwrap();
        assert_eq!((stats.matched, stats.started), (2, 3));
        assert_eq!(stats.failed, 3, "one unknown target per event, one throttled start");
    }
}
