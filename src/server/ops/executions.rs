//! DescribeExecution, ListExecutions, StopExecution, GetExecutionHistory and
//! DescribeStateMachineForExecution — for Express executions too, from the ring of recent
//! executions (AWS answers these only for STANDARD ones).

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Map, Value as Json};

use crate::clock::Clock;
use crate::vm::HistoryEvent;

use super::super::arns::{parse_execution_arn, parse_machine_arn, Qualifier};
use super::super::executions::ExecutionRecord;
use super::super::history::{to_api_event, ExecutionContext, Mapper};
use super::super::protocol::{check_length, parse_request, timestamp, ApiError, ErrorCode};
use super::super::ServerState;
use super::machines::describe_revision;
use super::{ok, required_str, Page};

const STATUSES: &[&str] = &["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"];

/// How long StopExecution waits for the stopped execution to record its end, so a Describe
/// right after it sees ABORTED. Stopping takes effect at the execution's next await point.
const STOP_SETTLE: Duration = Duration::from_secs(2);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecutionRequest {
    execution_arn: Option<String>,
    // StopExecution
    error: Option<String>,
    cause: Option<String>,
    // GetExecutionHistory
    max_results: Option<i64>,
    next_token: Option<String>,
    reverse_order: Option<bool>,
    include_execution_data: Option<bool>,
}

/// Finds an execution by ARN: InvalidArn for a malformed one, ExecutionDoesNotExist for one we
/// do not hold (never started, or already out of the ring).
fn find(state: &ServerState, arn: &str) -> Result<Arc<ExecutionRecord>, ApiError> {
    parse_execution_arn(arn, &state.registry.scope)?;
    state.executions.get(arn).ok_or_else(|| ApiError::execution_does_not_exist(arn))
}

fn redrive_members(out: &mut Map<String, Json>, status: &str) {
    // RedriveExecution is not served, so no execution is redrivable.
    out.insert("redriveCount".into(), Json::from(0));
    out.insert("redriveStatus".into(), Json::from("NOT_REDRIVABLE"));
    out.insert("redriveStatusReason".into(), Json::from(format!("Execution is {status} and cannot be redriven")));
}

pub fn describe(state: &ServerState, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let req: ExecutionRequest = parse_request(body)?;
    let arn = required_str(&req.execution_arn, "executionArn")?;
    let r = find(state, arn)?;
    let status = r.status();
    let mut out = Map::new();
    out.insert("executionArn".into(), Json::from(&*r.arn));
    out.insert("stateMachineArn".into(), Json::from(&*r.revision.machine_arn));
    out.insert("name".into(), Json::from(&*r.name));
    out.insert("status".into(), Json::from(status));
    out.insert("startDate".into(), timestamp(r.start_ms));
    out.insert("input".into(), Json::from(&*r.input));
    out.insert("inputDetails".into(), json!({"included": true}));
    if let Some(f) = r.finished.get() {
        out.insert("stopDate".into(), timestamp(f.stop_ms));
        if let Some(o) = &f.output {
            out.insert("output".into(), Json::from(&**o));
            out.insert("outputDetails".into(), json!({"included": true}));
        }
        if let Some(e) = &f.error {
            out.insert("error".into(), Json::from(&**e));
        }
        if let Some(c) = &f.cause {
            out.insert("cause".into(), Json::from(&**c));
        }
    }
    if let Some(t) = &r.trace_header {
        out.insert("traceHeader".into(), Json::from(&**t));
    }
    if let Some(v) = &r.version_arn {
        out.insert("stateMachineVersionArn".into(), Json::from(&**v));
    }
    if let Some(a) = &r.alias_arn {
        out.insert("stateMachineAliasArn".into(), Json::from(&**a));
    }
    redrive_members(&mut out, status);
    ok(Json::Object(out))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListRequest {
    state_machine_arn: Option<String>,
    status_filter: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
    map_run_arn: Option<String>,
    redrive_filter: Option<String>,
}

pub fn list(state: &ServerState, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let req: ListRequest = parse_request(body)?;
    let page = Page::new(req.max_results, req.next_token.as_deref(), "ListExecutions")?;
    if let Some(s) = req.status_filter.as_deref() {
        if !STATUSES.contains(&s) {
            return Err(ApiError::bad_enum("statusFilter", s, STATUSES));
        }
    }
    let redriven_only = match req.redrive_filter.as_deref() {
        None | Some("NOT_REDRIVEN") => false,
        Some("REDRIVEN") => true,
        Some(other) => return Err(ApiError::bad_enum("redriveFilter", other, &["REDRIVEN", "NOT_REDRIVEN"])),
    };
    let arn = match (&req.state_machine_arn, &req.map_run_arn) {
        (Some(arn), None) => arn.as_str(),
        (None, Some(map_run)) => {
            // Distributed Map children run in-process and are not listed as Map Runs.
            return Err(ApiError::resource_not_found(map_run));
        }
        _ => return Err(ApiError::new(ErrorCode::ValidationException, "Must provide a StateMachine ARN or MapRun ARN")),
    };
    let parsed = parse_machine_arn(arn, &state.registry.scope)?.ok_or_else(|| ApiError::state_machine_does_not_exist(arn))?;
    let machine_arn = {
        let machines = state.registry.read();
        let m = machines.get(&parsed.name).ok_or_else(|| ApiError::state_machine_does_not_exist(arn))?;
        m.current.machine_arn.clone()
    };
    let mut records: Vec<Arc<ExecutionRecord>> = state
        .executions
        .of_machine(&machine_arn)
        .into_iter()
        .filter(|r| match &parsed.qualifier {
            Qualifier::None => true,
            Qualifier::Version(_) => r.version_arn.as_deref() == Some(arn),
            Qualifier::Alias(_) => r.alias_arn.as_deref() == Some(arn),
        })
        .filter(|r| req.status_filter.as_deref().is_none_or(|s| r.status() == s))
        .filter(|_| !redriven_only)
        .collect();
    // Newest first, as AWS lists them.
    records.sort_by(|a, b| b.start_ms.cmp(&a.start_ms).then_with(|| a.arn.cmp(&b.arn)));
    let items = records.iter().map(|r| {
        let key = format!("{:020}{}", i64::MAX - r.start_ms, r.arn);
        let mut item = json!({
            "executionArn": &*r.arn,
            "stateMachineArn": &*r.revision.machine_arn,
            "name": &*r.name,
            "status": r.status(),
            "startDate": timestamp(r.start_ms),
            "redriveCount": 0,
        });
        if let Some(f) = r.finished.get() {
            item["stopDate"] = timestamp(f.stop_ms);
        }
        if let Some(v) = &r.version_arn {
            item["stateMachineVersionArn"] = Json::from(&**v);
        }
        if let Some(a) = &r.alias_arn {
            item["stateMachineAliasArn"] = Json::from(&**a);
        }
        (key, item)
    });
    let (items, next) = page.take(items);
    let mut out = json!({"executions": items});
    if let Some(t) = next {
        out["nextToken"] = Json::from(t);
    }
    ok(out)
}

pub async fn stop(state: &ServerState, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let req: ExecutionRequest = parse_request(body)?;
    let arn = required_str(&req.execution_arn, "executionArn")?;
    if let Some(e) = &req.error {
        check_length(e, "error", 0, 256)?;
    }
    if let Some(c) = &req.cause {
        check_length(c, "cause", 0, 32_768)?;
    }
    let r = find(state, arn)?;
    if r.finished.get().is_none() {
        if let Some(stop) = &r.stop {
            stop.stop(req.error.as_deref().map(Into::into), req.cause.as_deref().map(Into::into));
        }
        let deadline = tokio::time::Instant::now() + STOP_SETTLE;
        while r.finished.get().is_none() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    // Stopping an execution that already ended changes nothing and answers its stop date.
    let stop_ms = r.finished.get().map_or_else(|| Clock::new().now_ms(), |f| f.stop_ms);
    ok(json!({"stopDate": timestamp(stop_ms)}))
}

pub fn history(state: &ServerState, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let req: ExecutionRequest = parse_request(body)?;
    let arn = required_str(&req.execution_arn, "executionArn")?;
    let page = Page::new(req.max_results, req.next_token.as_deref(), "GetExecutionHistory")?;
    let r = find(state, arn)?;
    let reverse = req.reverse_order.unwrap_or(false);
    // A running execution's events are with the engine until it ends; until then its history
    // is its ExecutionStarted event.
    let events: Vec<HistoryEvent> = match r.finished.get() {
        Some(f) => f.history.decode().ok_or_else(|| {
            ApiError::new(ErrorCode::InternalFailure, format!("The recorded history of '{arn}' cannot be read"))
        })?,
        None => {
            let input = crate::value::parse_str(&r.input).ok();
            vec![HistoryEvent {
                id: 1,
                kind: "ExecutionStarted".into(),
                timestamp_ms: r.start_ms,
                state: None,
                details: input.map(|i| crate::value::Value::object([("input", i)])),
            }]
        }
    };
    let ctx = ExecutionContext {
        role_arn: &r.revision.role_arn,
        region: &state.region,
        version_arn: r.version_arn.as_deref(),
        alias_arn: r.alias_arn.as_deref(),
    };
    let mut mapper = Mapper::new(ctx, req.include_execution_data.unwrap_or(true));
    let mut mapped: Vec<(u64, Json)> = events.iter().map(|e| (e.id, to_api_event(&mapper.map(e)))).collect();
    if reverse {
        mapped.reverse();
    }
    let items = mapped.into_iter().map(|(id, e)| {
        let key = if reverse { format!("{:020}", u64::MAX - id) } else { format!("{id:020}") };
        (key, e)
    });
    let (items, next) = page.take(items);
    let mut out = json!({"events": items});
    if let Some(t) = next {
        out["nextToken"] = Json::from(t);
    }
    ok(out)
}

pub fn describe_state_machine(state: &ServerState, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let req: ExecutionRequest = parse_request(body)?;
    let arn = required_str(&req.execution_arn, "executionArn")?;
    let r = find(state, arn)?;
    let mut out = describe_revision(&r.revision);
    out.insert("stateMachineArn".into(), Json::from(&*r.revision.machine_arn));
    out.insert("updateDate".into(), timestamp(r.revision.update_ms));
    ok(Json::Object(out))
}
