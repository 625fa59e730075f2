//! `expressway run --bus RULES_FILE`: a sidecar's event bus. NDJSON events on stdin go into the
//! buses and rules the rules file declares; state machine targets start executions (one result
//! line each on stdout, as `run --ndjson` writes them, plus `rule`, `target` and `eventId`);
//! `ndjson:` targets write their inputs; `http://` targets get them POSTed.
//!
//! A stdin line is a PutEvents entry (`{"Source", "DetailType", "Detail", "Resources", "Time",
//! "EventBusName"}`, `Detail` as JSON text or as an object) or an event envelope (`{"source",
//! "detail-type", "detail", ...}`, put on the default bus). A line that is neither, or that
//! PutEvents refuses, gets a `REJECTED` line with its line number and makes the exit status 1.
//!
//! Scheduled rules in the file fire on the wall clock while stdin is open (checked each second,
//! as the server does); they need real time, so `--virtual-time` refuses them.
//!
//! Backpressure, not loss: before each event the reader waits until the engine has room for
//! every delivery the event could make, and an entry still throttled is retried.
//! Exit codes: 0 every line was taken; 1 some line was rejected; 2 the rules file or a
//! definition is unusable.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use expressway::asl::StateMachineType;
use expressway::events::ingest::entry_from_line;
use expressway::events::rules_file::RulesFile;
use expressway::events::sinks::{HttpSink, NdjsonSink, Router, StateMachineSink};
use expressway::events::{Buses, EntryResult, EventsApi};
use expressway::machine::StateMachine;
use expressway::runtime::{Engine, EngineConfig};
use expressway::tasks::client::HttpClient;
use expressway::tasks::Resources;
use expressway::value::Value;

use super::input::read_file;
use super::run::write_outcome_json;

pub fn run(rules_path: &Path, resources: Resources, virtual_time: bool, max_in_flight: usize, history: bool) -> i32 {
    let file = match RulesFile::load(rules_path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let mut machines = Vec::new();
    for sm in &file.state_machines {
        let text = match read_file(&sm.definition_file, "definition") {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: state machine {}: {e}", sm.name);
                return 2;
            }
        };
        match StateMachine::new(&sm.name, &text, StateMachineType::Express) {
            Ok(m) => machines.push(m),
            Err(e) => {
                eprintln!("error: state machine {}: {}: {}", sm.name, e.aws_type(), e.message);
                return 2;
            }
        }
    }
    if virtual_time && file.has_schedules() {
        // Under virtual time the runtime's clock jumps ahead whenever it idles, so a schedule
        // would fire as fast as the loop can go instead of once a period.
        eprintln!("error: scheduled rules run on the wall clock; they cannot be used with --virtual-time");
        return 2;
    }
    let Some(runtime) = super::execution_runtime(virtual_time) else { return 2 };
    let config = EngineConfig { record_history: history, virtual_time, max_in_flight, ..EngineConfig::default() };
    // The bus loop runs on a worker thread, so the executions it starts go to that worker's
    // local queue instead of waking another thread for each one.
    let engine = Engine::new(config, resources);
    runtime.block_on(async move { tokio::spawn(serve(file, machines, engine, history)).await.unwrap_or(2) })
}

async fn serve(file: RulesFile, machines: Vec<StateMachine>, engine: Engine, history: bool) -> i32 {
    let (region, account) = (engine.config.region.clone(), engine.config.account.clone());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let results = tx.clone();
    let sm_sink = Arc::new(StateMachineSink::new(engine.clone(), move |info, outcome| {
        let mut line = String::with_capacity(512);
        let extra = [("rule", &*info.rule), ("target", &*info.target_id), ("eventId", &*info.event_id)];
        write_outcome_json(&outcome, history, &extra, &mut line);
        let _ = results.send(line);
    }));
    for m in &machines {
        let arn = format!("arn:aws:states:{region}:{account}:stateMachine:{}", m.name);
        sm_sink.register(&arn, &m.name, Arc::clone(&m.program));
    }
    let router = Arc::new(Router::default());
    router.route("arn:aws:states:", sm_sink.clone());
    let http = Arc::new(HttpSink::new(HttpClient::new(engine.config.virtual_time), engine.config.max_in_flight));
    router.route("http://", http.clone());
    let mut ndjson_sinks = Vec::new();
    let mut most_deliveries = 0usize;
    for rule in &file.rules {
        most_deliveries += rule.targets.len();
        for t in rule.targets.iter().filter(|t| t.arn.starts_with("ndjson:")) {
            if ndjson_sinks.iter().any(|(arn, _): &(String, Arc<NdjsonSink>)| *arn == t.arn) {
                continue;
            }
            let sink = match NdjsonSink::open(&t.arn, true) {
                Ok(s) => Arc::new(s),
                Err(e) => {
                    eprintln!("error: rule {}, target {}: cannot open {}: {e}", rule.name, t.id, &t.arn["ndjson:".len()..]);
                    return 2;
                }
            };
            router.route(&t.arn, sink.clone());
            ndjson_sinks.push((t.arn.clone(), sink));
        }
    }
    let api = Arc::new(EventsApi::new(Arc::new(Buses::new(&region, &account, router))));
    if let Err(e) = file.apply(&api) {
        eprintln!("error: {e}");
        return 2;
    }
    let schedules = file.has_schedules().then(|| {
        let api = Arc::clone(&api);
        tokio::spawn(async move { api.fire_scheduled_rules().await })
    });
    let buses = api.buses().clone();

    // Results are written in batches: one write per batch of lines, not per line.
    let writer = tokio::spawn(async move {
        let mut out = std::io::stdout();
        let mut batch = Vec::with_capacity(1024);
        let mut text = Vec::with_capacity(1 << 16);
        while rx.recv_many(&mut batch, 1024).await > 0 {
            text.clear();
            for line in batch.drain(..) {
                text.extend_from_slice(line.as_bytes());
                text.push(b'\n');
            }
            let _ = out.write_all(&text).and_then(|_| out.flush());
        }
    });

    let limit = engine.config.max_in_flight;
    let room = most_deliveries.clamp(1, limit.max(1));
    // Stdin is read on its own thread, in batches of lines, so reading never waits on the
    // runtime and the runtime never waits on a read.
    let (lines_tx, mut lines_rx) = tokio::sync::mpsc::channel::<std::io::Result<Vec<Option<String>>>>(4);
    std::thread::spawn(move || read_lines(lines_tx));
    let mut pending = Vec::new().into_iter();
    let mut line_no = 0usize;
    let mut rejected = false;
    loop {
        let line = match pending.next() {
            Some(l) => l,
            None => match lines_rx.recv().await {
                Some(Ok(batch)) => {
                    pending = batch.into_iter();
                    continue;
                }
                Some(Err(e)) => {
                    eprintln!("error: reading stdin: {e}");
                    rejected = true;
                    break;
                }
                None => break,
            },
        };
        line_no += 1;
        let Some(line) = line else {
            let _ = tx.send(rejected_line(line_no, "MalformedEvent", "the line is not UTF-8 text"));
            rejected = true;
            continue;
        };
        if line.trim().is_empty() {
            continue;
        }
        let entry = match entry_from_line(&line) {
            Ok(e) => e,
            Err(cause) => {
                let _ = tx.send(rejected_line(line_no, "MalformedEvent", &cause));
                rejected = true;
                continue;
            }
        };
        loop {
            while engine.in_flight() + room > limit {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            match buses.put_events(std::slice::from_ref(&entry)).pop() {
                Some(EntryResult::Failed { code: "ThrottlingException", .. }) => {
                    tokio::time::sleep(Duration::from_millis(1)).await
                }
                Some(EntryResult::Failed { code, message }) => {
                    let _ = tx.send(rejected_line(line_no, code, &message));
                    rejected = true;
                    break;
                }
                _ => break,
            }
        }
    }
    if let Some(ticker) = schedules {
        ticker.abort();
        let _ = ticker.await;
    }
    while engine.in_flight() > 0 || http.in_flight() > 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    drop(tx);
    drop(buses);
    drop(api);
    drop(sm_sink);
    let _ = writer.await;
    for (_, sink) in &ndjson_sinks {
        let _ = sink.flush();
    }
    i32::from(rejected)
}

/// Sends stdin's lines in batches until end of input (or the receiver is gone).
/// A line that is not UTF-8 is sent as `None`.
fn read_lines(tx: tokio::sync::mpsc::Sender<std::io::Result<Vec<Option<String>>>>) {
    let mut stdin = std::io::BufReader::with_capacity(1 << 16, std::io::stdin().lock());
    loop {
        let mut batch = Vec::with_capacity(256);
        let mut failed = None;
        while batch.len() < 256 {
            let mut line = Vec::new();
            match std::io::BufRead::read_until(&mut stdin, b'\n', &mut line) {
                Ok(0) => break,
                Ok(_) => {
                    if line.ends_with(b"\n") {
                        line.pop();
                        if line.ends_with(b"\r") {
                            line.pop();
                        }
                    }
                    batch.push(String::from_utf8(line).ok());
                }
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        let done = batch.len() < 256;
        if !batch.is_empty() && tx.blocking_send(Ok(batch)).is_err() {
            return;
        }
        if let Some(e) = failed {
            let _ = tx.blocking_send(Err(e));
            return;
        }
        if done {
            return;
        }
    }
}

fn rejected_line(line: usize, error: &str, cause: &str) -> String {
    Value::object([
        ("status", Value::from("REJECTED")),
        ("error", Value::from(error)),
        ("cause", Value::from(cause)),
        ("line", Value::from(line as i64)),
    ])
    .to_json()
}
