//! EventBridge on the server's port: the API (AWS JSON 1.1, `X-Amz-Target: AWSEvents.<Op>`)
//! over [`EventsApi`], NDJSON ingestion (`POST /events?bus=NAME`), per-rule counters
//! (`GET /events/stats`), and the target sink that starts this server's state machines.
//!
//! Invariants:
//! - A state machine target (`arn:aws:states:…:stateMachine:NAME`, or a version or alias ARN)
//!   starts an asynchronous execution exactly as StartExecution does: it is recorded in the
//!   ring, so ListExecutions and DescribeExecution show it. A full engine throttles the
//!   PutEvents entry (`ThrottlingException`); a target whose machine does not exist counts as
//!   a failed delivery of its rule (AWS would send it to the target's dead-letter queue).
//! - `POST /events` answers every non-empty line: accepted, or failed with its line number and
//!   error code. While the engine is full it waits for room (up to [`THROTTLE_WAIT`] per
//!   request) rather than failing lines, so a sidecar's batch is not thinned out by a burst.

use std::sync::Weak;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Value as Json};

use crate::events::bus::{bus_name, MAX_TARGETS_PER_RULE};
use crate::events::ingest::entry_from_line;
use crate::events::{Delivery, DeliveryError, EntryResult, EventEntry, TargetSink};

use super::{foreign_error_response, json_response, ServerState, CONTENT_TYPE_JSON_1_1};

/// The largest `POST /events` body by default (thousands of ~1 KB events per request).
pub const MAX_INGEST_BYTES: usize = 32 * 1024 * 1024;
/// How long one `POST /events` request waits, in total, for a full engine to make room.
const THROTTLE_WAIT: Duration = Duration::from_secs(10);
/// How long the ingestion loop sleeps while the engine is full.
const PAUSE: Duration = Duration::from_millis(1);
/// Lines put on the bus in one PutEvents call of the ingestion loop.
const BATCH: usize = 256;

/// Starts executions of the server's state machines for EventBridge targets. Holds the state
/// weakly: the state owns the buses, which own this sink.
pub struct StateMachineTargets(pub Weak<ServerState>);

impl TargetSink for StateMachineTargets {
    fn deliver(&self, d: Delivery) -> Result<(), DeliveryError> {
        let Some(state) = self.0.upgrade() else {
            return Err(DeliveryError::Failed("the server is shutting down".into()));
        };
        super::ops::start_for_event(&state, &d.target_arn, d.input)
    }
}

/// `POST /events` (NDJSON ingestion) and `GET /events/stats` (per-rule counters).
pub async fn serve_http(state: &ServerState, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let query = req.uri().query().map(str::to_string);
    match (req.method(), req.uri().path()) {
        (&Method::POST, "/events") => match super::read_body(req, state.max_ingest_bytes).await {
            Ok(body) => ingest(state, query.as_deref(), &body).await,
            Err(e) => foreign_error_response(e.code.name(), e.http_status(), &e.message, CONTENT_TYPE_JSON),
        },
        (&Method::GET, "/events/stats") => stats(state, query.as_deref()),
        (method, path) => {
            foreign_error_response("MethodNotAllowed", 405, &format!("{method} {path} is not served"), CONTENT_TYPE_JSON)
        }
    }
}

/// One `AWSEvents.<op>` request.
pub fn route(state: &ServerState, op: &str, body: &[u8]) -> Response<Full<Bytes>> {
    let parsed: Json = if body.iter().all(u8::is_ascii_whitespace) {
        Json::Null
    } else {
        match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => return foreign_error_response("SerializationException", 400, &format!("{e}"), CONTENT_TYPE_JSON_1_1),
        }
    };
    match state.events.call(op, &parsed) {
        Ok(v) => json_response(StatusCode::OK, super::protocol::to_body(&v), CONTENT_TYPE_JSON_1_1),
        Err(e) => foreign_error_response(e.aws_type(), e.http_status(), e.message(), CONTENT_TYPE_JSON_1_1),
    }
}

const CONTENT_TYPE_JSON: &str = "application/json";

fn bad_request(name: &str, message: &str) -> Response<Full<Bytes>> {
    foreign_error_response(name, 400, message, CONTENT_TYPE_JSON)
}

fn no_such_bus(name: &str) -> Response<Full<Bytes>> {
    foreign_error_response("ResourceNotFoundException", 400, &format!("Event bus {name} does not exist."), CONTENT_TYPE_JSON)
}

/// The query's parameters, percent-decoded. Only those in `known` are accepted: a misspelt one
/// must not send events elsewhere.
fn query_params(query: Option<&str>, known: &[&str]) -> Result<Vec<(String, String)>, String> {
    let mut params = Vec::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if !known.contains(&key) {
            return Err(format!("unknown query parameter {key:?} (expected {})", known.join(", ")));
        }
        let value = percent_decode(value).ok_or_else(|| format!("the {key} parameter is not valid: {value}"))?;
        params.push((key.to_string(), value));
    }
    Ok(params)
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// `GET /events/stats[?bus=NAME]`: every rule's counters, bus by bus.
fn stats(state: &ServerState, query: Option<&str>) -> Response<Full<Bytes>> {
    let only = match query_params(query, &["bus"]) {
        Ok(p) => param(&p, "bus").map(str::to_string),
        Err(e) => return bad_request("ValidationException", &e),
    };
    let buses = state.events.buses();
    let mut out = Vec::new();
    for (name, _) in buses.list_buses(None) {
        if only.as_ref().is_some_and(|b| *b != name) {
            continue;
        }
        let Ok(rules) = buses.list_rules(Some(&name), None) else { continue };
        let rules: Vec<Json> = rules
            .iter()
            .filter_map(|r| {
                // A rule deleted since the listing has no counters any more.
                let s = buses.rule_stats(Some(&name), &r.name).ok()?;
                Some(json!({"Name": r.name, "Arn": r.arn, "State": r.state.as_str(),
                    "Matched": s.matched, "Started": s.started, "Failed": s.failed}))
            })
            .collect();
        out.push(json!({"Name": name, "Rules": rules}));
    }
    if let (Some(b), true) = (&only, out.is_empty()) {
        return no_such_bus(b);
    }
    json_response(StatusCode::OK, super::protocol::to_body(&json!({ "EventBuses": out })), CONTENT_TYPE_JSON)
}

/// One failed line of `POST /events`.
struct FailedLine {
    line: usize,
    code: &'static str,
    message: String,
}

/// `POST /events[?bus=NAME][&source=S&detail-type=T]`: NDJSON lines onto the bus: PutEvents
/// entries or envelopes (`events::ingest`), or, with `source` and `detail-type`, bare details.
/// Entries that name their own `EventBusName` keep it; the others go to `bus` (default
/// `default`).
async fn ingest(state: &ServerState, query: Option<&str>, body: &[u8]) -> Response<Full<Bytes>> {
    let params = match query_params(query, &["bus", "source", "detail-type"]) {
        Ok(p) => p,
        Err(e) => return bad_request("ValidationException", &e),
    };
    let bus_name = bus_name(param(&params, "bus"));
    // With `source` and `detail-type`, every line is an event's detail, kept as written.
    let details_of = match (param(&params, "source"), param(&params, "detail-type")) {
        (Some(source), Some(detail_type)) => Some((source, detail_type)),
        (None, None) => None,
        _ => return bad_request("ValidationException", "give both source and detail-type, or neither"),
    };
    if !state.events.buses().list_buses(Some(bus_name)).iter().any(|(n, _)| n == bus_name) {
        return no_such_bus(bus_name);
    }
    let mut failed = Vec::new();
    let mut accepted = 0usize;
    let give_up = Instant::now() + THROTTLE_WAIT;
    let mut numbers = Vec::with_capacity(BATCH);
    let mut entries: Vec<EventEntry> = Vec::with_capacity(BATCH);
    let lines = body.split(|b| *b == b'\n').enumerate();
    let mut lines = lines.peekable();
    while lines.peek().is_some() {
        numbers.clear();
        entries.clear();
        while entries.len() < BATCH {
            let Some((index, raw)) = lines.next() else { break };
            let number = index + 1;
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            let Ok(text) = std::str::from_utf8(raw) else {
                failed.push(FailedLine { line: number, code: "MalformedEvent", message: "the line is not UTF-8 text".into() });
                continue;
            };
            if text.trim().is_empty() {
                continue;
            }
            let entry = match details_of {
                Some((source, detail_type)) => Ok(EventEntry {
                    source: Some(source.to_string()),
                    detail_type: Some(detail_type.to_string()),
                    detail: Some(text.to_string()),
                    ..EventEntry::default()
                }),
                None => entry_from_line(text),
            };
            match entry {
                Ok(mut entry) => {
                    if entry.event_bus_name.is_none() {
                        entry.event_bus_name = Some(bus_name.to_string());
                    }
                    numbers.push(number);
                    entries.push(entry);
                }
                Err(message) => failed.push(FailedLine { line: number, code: "MalformedEvent", message }),
            }
        }
        let mut offset = 0;
        while offset < entries.len() {
            // As many entries as the engine has room for, if each matched a rule with the most
            // targets: then a batch is not throttled half-way.
            let room = wait_for_room(state, give_up).await;
            let end = (offset + (room / MAX_TARGETS_PER_RULE).max(1)).min(entries.len());
            let results = state.events.buses().put_events(&entries[offset..end]);
            for ((number, entry), result) in numbers[offset..end].iter().zip(&entries[offset..end]).zip(results) {
                match put_until_taken(state, entry, result, give_up).await {
                    EntryResult::Accepted { .. } => accepted += 1,
                    EntryResult::Failed { code, message } => failed.push(FailedLine { line: *number, code, message }),
                }
            }
            offset = end;
        }
        // Thousands of lines: let other requests and the executions just started run.
        tokio::task::yield_now().await;
    }
    failed.sort_by_key(|f| f.line);
    let failed: Vec<Json> =
        failed.into_iter().map(|f| json!({"Line": f.line, "ErrorCode": f.code, "ErrorMessage": f.message})).collect();
    let body = json!({"Accepted": accepted, "FailedEntryCount": failed.len(), "FailedEntries": failed});
    json_response(StatusCode::OK, super::protocol::to_body(&body), CONTENT_TYPE_JSON)
}

/// Waits (within the request's budget) until the engine could take every delivery of an event
/// matching one rule; answers the room the engine has.
async fn wait_for_room(state: &ServerState, give_up: Instant) -> usize {
    let limit = state.engine.config.max_in_flight;
    loop {
        let room = limit.saturating_sub(state.engine.in_flight());
        if room >= MAX_TARGETS_PER_RULE.min(limit) || Instant::now() >= give_up {
            return room;
        }
        tokio::time::sleep(PAUSE).await;
    }
}

/// Retries a throttled entry while the request's wait budget lasts. Deliveries already made
/// for it stand, so a retried event may reach some targets twice: at-least-once, as AWS.
async fn put_until_taken(state: &ServerState, entry: &EventEntry, mut result: EntryResult, give_up: Instant) -> EntryResult {
    while matches!(result, EntryResult::Failed { code: "ThrottlingException", .. }) && Instant::now() < give_up {
        tokio::time::sleep(PAUSE).await;
        wait_for_room(state, give_up).await;
        let Some(again) = state.events.buses().put_events(std::slice::from_ref(entry)).pop() else { break };
        result = again;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters() {
        let known = ["bus", "source"];
        assert_eq!(query_params(None, &known), Ok(vec![]));
        let p = query_params(Some("bus=orders&source=a%20b+c"), &known).unwrap();
        assert_eq!((param(&p, "bus"), param(&p, "source")), (Some("orders"), Some("a b c")));
        let p = query_params(Some("bus=arn%3Aaws%3Aevents%3Aus-east-1%3A1%3Aevent-bus%2Fo"), &known).unwrap();
        assert_eq!(param(&p, "bus"), Some("arn:aws:events:us-east-1:1:event-bus/o"));
        assert!(query_params(Some("bu=orders"), &known).unwrap_err().contains("unknown query parameter"));
        assert!(query_params(Some("bus=%zz"), &known).is_err());
    }
}
