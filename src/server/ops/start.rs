//! StartExecution and StartSyncExecution: checking the request, resolving the machine (or its
//! version or alias, with a `#TestCase`), starting through the engine's start API, recording
//! the execution and writing its log records.
//!
//! StartSyncExecution is the hot path: the request is read with borrowed strings, the execution
//! runs inline in the request's task, and the response is serialised from borrowed fields.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::events::transform::Payload;
use crate::events::DeliveryError;
use crate::runtime::{ExecutionOutcome, StartError, StartOptions};
use crate::value::{self, Str, Value};
use crate::vm::HistoryEvent;

use super::super::arns::valid_name;
use super::super::compact::CompactHistory;
use super::super::executions::{ExecutionRecord, Finished, Locked};
use super::super::history::ExecutionContext;
use super::super::logging::LogLevel;
use super::super::protocol::{parse_request, timestamp, ApiError, ErrorCode};
use super::super::registry::Target;
use super::super::ServerState;
use super::{ok, CallContext};

/// AWS's limit on an execution's input, in characters.
const MAX_INPUT_CHARS: usize = 262_144;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartRequest<'a> {
    #[serde(borrow)]
    state_machine_arn: Option<Cow<'a, str>>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    input: Option<Cow<'a, str>>,
    #[serde(borrow)]
    trace_header: Option<Cow<'a, str>>,
    #[serde(borrow)]
    included_data: Option<Cow<'a, str>>,
}

/// A start request checked and resolved, ready for the engine.
struct Prepared {
    target: Target,
    opts: StartOptions,
    input: Value,
    input_text: Str,
    trace_header: Option<Str>,
}

fn prepare(state: &ServerState, req: &StartRequest<'_>, ctx: &CallContext<'_>, sync: bool) -> Result<Prepared, ApiError> {
    let arn = req.state_machine_arn.as_deref().ok_or_else(|| ApiError::missing("stateMachineArn"))?;
    if let Some(name) = req.name.as_deref() {
        if !valid_name(name) {
            return Err(ApiError::invalid_name(name));
        }
    }
    let input_text = req.input.as_deref().unwrap_or("{}");
    check_input_length(input_text)?;
    let trace_header = ctx.trace_header.or(req.trace_header.as_deref());
    if trace_header.is_some_and(|t| t.len() > 256) {
        return Err(ApiError::too_long("traceHeader", 256));
    }
    let target = state.registry.resolve(arn)?;
    let mut opts = options(state, &target, sync)?;
    opts.name = req.name.as_deref().map(Str::from);
    let input = value::parse_str(input_text)
        .map_err(|e| ApiError::new(ErrorCode::InvalidExecutionInput, format!("Invalid State Machine Execution Input: '{e}'")))?;
    Ok(Prepared { target, opts, input, input_text: Str::from(input_text), trace_header: trace_header.map(Str::from) })
}

fn check_input_length(input_text: &str) -> Result<(), ApiError> {
    if input_text.len() > MAX_INPUT_CHARS && input_text.chars().count() > MAX_INPUT_CHARS {
        return Err(ApiError::too_long("input", MAX_INPUT_CHARS));
    }
    Ok(())
}

/// The start options of an execution of `target` (its name generated unless set).
fn options(state: &ServerState, target: &Target, sync: bool) -> Result<StartOptions, ApiError> {
    let revision = &target.revision;
    if sync && !revision.is_express() {
        return Err(ApiError::new(
            ErrorCode::StateMachineTypeNotSupported,
            "This operation is not supported by this type of state machine",
        ));
    }
    let mut opts = StartOptions::new(&revision.name);
    opts.express = revision.is_express();
    opts.sync = sync;
    opts.role_arn = Some(revision.role_arn.clone());
    // The revision's ARN is the one the engine would build from the name: shared, not rebuilt.
    opts.state_machine_arn = Some(revision.machine_arn.clone());
    opts.mock = state.mocks_for(&revision.name, target.test_case.as_deref())?;
    // History feeds only the ring and execution logging: without both, nothing reads it.
    opts.record_history = Some(state.executions.keeps_finished() || revision.logging.level != LogLevel::Off);
    Ok(opts)
}

fn throttled(e: StartError) -> ApiError {
    match e {
        StartError::Throttled { limit } => ApiError::throttled(limit),
    }
}

#[derive(Serialize)]
struct Included {
    included: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Billing {
    #[serde(rename = "billedMemoryUsedInMB")]
    billed_memory_used_in_mb: u64,
    billed_duration_in_milliseconds: u64,
}

/// `billingDetails`, estimated as AWS bills Express workflows: duration rounded up to the next
/// 100 ms (at least 100 ms), memory in 64 MB steps (at least one). The memory an execution
/// uses is estimated as its definition plus its input and output text, what it must hold at
/// least; on AWS nearly every workflow bills the first 64 MB step too.
fn billing(duration_ms: i64, memory_bytes: usize) -> Billing {
    const STEP_MS: u64 = 100;
    const STEP_MB: u64 = 64;
    let ms = duration_ms.max(1) as u64;
    let mb = (memory_bytes as u64).div_ceil(1024 * 1024).max(1);
    Billing {
        billed_memory_used_in_mb: mb.div_ceil(STEP_MB) * STEP_MB,
        billed_duration_in_milliseconds: ms.div_ceil(STEP_MS) * STEP_MS,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SyncResponse<'a> {
    execution_arn: &'a str,
    state_machine_arn: &'a str,
    name: &'a str,
    start_date: f64,
    stop_date: f64,
    status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cause: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    input: Option<&'a str>,
    input_details: Included,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_details: Option<Included>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_header: Option<&'a str>,
    billing_details: Billing,
}

fn seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

pub async fn start_sync_execution(state: &Arc<ServerState>, body: &[u8], ctx: &CallContext<'_>) -> Result<Vec<u8>, ApiError> {
    let req: StartRequest<'_> = parse_request(body)?;
    let all_data = match req.included_data.as_deref() {
        None | Some("ALL_DATA") => true,
        Some("METADATA_ONLY") => false,
        Some(other) => return Err(ApiError::bad_enum("includedData", other, &["ALL_DATA", "METADATA_ONLY"])),
    };
    let p = prepare(state, &req, ctx, true)?;
    let outcome = state.engine.start_sync(&p.target.revision.program, p.input, p.opts).await.map_err(throttled)?;
    let output = outcome.output.as_ref().map(|v| Str::from(v.to_json()));
    let id = &outcome.identity;
    let memory = p.target.revision.definition.len() + p.input_text.len() + output.as_ref().map_or(0, |o| o.len());
    let response = SyncResponse {
        execution_arn: &id.execution_arn,
        state_machine_arn: &p.target.revision.machine_arn,
        name: &id.name,
        start_date: seconds(id.start_ms),
        stop_date: seconds(outcome.stop_ms),
        status: outcome.status.as_str(),
        error: outcome.error.as_deref(),
        cause: outcome.cause.as_deref(),
        input: all_data.then_some(&*p.input_text),
        input_details: Included { included: all_data },
        output: output.as_deref().filter(|_| all_data),
        output_details: output.as_ref().map(|_| Included { included: all_data }),
        trace_header: p.trace_header.as_deref(),
        billing_details: billing(outcome.stop_ms - id.start_ms, memory),
    };
    let body = serde_json::to_vec(&response).map_err(|e| ApiError::new(ErrorCode::InternalFailure, e.to_string()))?;
    record_finished(state, p.target, p.input_text, p.trace_header, outcome, output);
    Ok(body)
}

pub fn start_execution(state: &Arc<ServerState>, body: &[u8], ctx: &CallContext<'_>) -> Result<Vec<u8>, ApiError> {
    let req: StartRequest<'_> = parse_request(body)?;
    let p = prepare(state, &req, ctx, false)?;
    let revision = &p.target.revision;
    // Hold the store across check, start and insert: two STANDARD starts with one name race
    // otherwise. Express names may repeat (each execution gets its own ARN), as on AWS.
    let mut store = state.executions.lock();
    if !revision.is_express() {
        if let Some(name) = &p.opts.name {
            let arn = format!(
                "arn:aws:states:{}:{}:execution:{}:{name}",
                state.registry.scope.region, state.registry.scope.account, revision.name
            );
            if let Some(existing) = store.get(&arn) {
                // Idempotent while running with the same input (AWS, STANDARD only).
                if existing.finished.get().is_none() && *existing.input == *p.input_text {
                    return ok(json!({"executionArn": arn, "startDate": timestamp(existing.start_ms)}));
                }
                return Err(ApiError::new(ErrorCode::ExecutionAlreadyExists, format!("Execution Already Exists: '{arn}'")));
            }
        }
    }
    let (arn, start_ms) = launch(state, p, &mut store).map_err(throttled)?;
    ok(json!({"executionArn": &*arn, "startDate": timestamp(start_ms)}))
}

/// Starts a prepared asynchronous execution and records it in `store` (held by the caller);
/// answers its ARN and start time.
fn launch(state: &Arc<ServerState>, p: Prepared, store: &mut Locked<'_>) -> Result<(Str, i64), StartError> {
    let on_done = {
        let state = Arc::clone(state);
        move |outcome: ExecutionOutcome| finish_async(&state, outcome)
    };
    let revision = Arc::clone(&p.target.revision);
    let started = state.engine.start(Arc::clone(&revision.program), p.input, p.opts, on_done)?;
    let id = started.identity;
    let record = ExecutionRecord {
        arn: id.execution_arn.clone(),
        name: id.name.clone(),
        express: revision.is_express(),
        revision,
        version_arn: p.target.version_arn,
        alias_arn: p.target.alias_arn,
        start_ms: id.start_ms,
        input: p.input_text,
        trace_header: p.trace_header,
        stop: Some(started.stop),
        finished: OnceLock::new(),
    };
    store.insert(Arc::new(record));
    Ok((id.execution_arn, id.start_ms))
}

/// Starts an execution for an EventBridge target (`arn`: a state machine, version or alias of
/// this server), as EventBridge calls StartExecution: a generated name, the rendered input.
/// A full engine is [`DeliveryError::Full`] (the PutEvents entry is throttled); anything else
/// that stops the start (no such machine, input not JSON or too long) fails the delivery.
pub fn start_for_event(state: &Arc<ServerState>, arn: &str, input: Payload) -> Result<(), DeliveryError> {
    let failed = |e: ApiError| DeliveryError::Failed(format!("{}: {}", e.code.name(), e.message));
    let target = state.registry.resolve(arn).map_err(failed)?;
    let input = input.into_json().map_err(|e| {
        failed(ApiError::new(ErrorCode::InvalidExecutionInput, format!("Invalid State Machine Execution Input: '{e}'")))
    })?;
    let opts = options(state, &target, false).map_err(failed)?;
    let input_text = input.to_json();
    check_input_length(&input_text).map_err(failed)?;
    let p = Prepared { target, opts, input, input_text: Str::from(input_text), trace_header: None };
    let mut store = state.executions.lock();
    launch(state, p, &mut store).map(|_| ()).map_err(|StartError::Throttled { .. }| DeliveryError::Full)
}

/// How an execution ended, as the store keeps it; its history is encoded only when the ring
/// keeps finished executions.
fn finished_of(state: &ServerState, outcome: ExecutionOutcome, output: Option<Str>) -> Finished {
    let keep = state.executions.limits().max_count > 0;
    Finished {
        status: outcome.status,
        stop_ms: outcome.stop_ms,
        output,
        error: outcome.error,
        cause: outcome.cause,
        history: if keep { CompactHistory::encode(&outcome.history) } else { CompactHistory::default() },
    }
}

/// The end of an asynchronous execution: its log records, then into the ring.
fn finish_async(state: &ServerState, outcome: ExecutionOutcome) {
    let arn = outcome.identity.execution_arn.clone();
    let output = outcome.output.as_ref().map(|v| Str::from(v.to_json()));
    let Some(record) = state.executions.get(&arn) else { return };
    write_logs(state, &record, &outcome.history);
    state.executions.finish(&arn, finished_of(state, outcome, output));
}

/// Records a StartSyncExecution execution (when the ring keeps any) and writes its log records.
fn record_finished(
    state: &ServerState,
    target: Target,
    input: Str,
    trace_header: Option<Str>,
    outcome: ExecutionOutcome,
    output: Option<Str>,
) {
    let logging = target.revision.logging.level != LogLevel::Off;
    let keep = state.executions.limits().max_count > 0;
    if !keep && !logging {
        return;
    }
    let id = outcome.identity.clone();
    let record = ExecutionRecord {
        arn: id.execution_arn,
        name: id.name,
        express: target.revision.is_express(),
        revision: target.revision,
        version_arn: target.version_arn,
        alias_arn: target.alias_arn,
        start_ms: id.start_ms,
        input,
        trace_header,
        stop: None,
        finished: OnceLock::new(),
    };
    write_logs(state, &record, &outcome.history);
    if keep {
        let _ = record.finished.set(finished_of(state, outcome, output));
        state.executions.insert(Arc::new(record));
    }
}

/// Writes an ended execution's log records (from the engine's events, before they are encoded
/// for the ring).
fn write_logs(state: &ServerState, record: &ExecutionRecord, history: &[HistoryEvent]) {
    let rev = &record.revision;
    if rev.logging.level == LogLevel::Off {
        return;
    }
    let ctx = ExecutionContext {
        role_arn: &rev.role_arn,
        region: &state.region,
        version_arn: record.version_arn.as_deref(),
        alias_arn: record.alias_arn.as_deref(),
    };
    state.logs.write_execution(&rev.logging, ctx, &record.arn, 0, history);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn billing_rounds_up_to_aws_steps() {
        let b = billing(0, 10);
        assert_eq!((b.billed_duration_in_milliseconds, b.billed_memory_used_in_mb), (100, 64));
        let b = billing(101, 65 * 1024 * 1024);
        assert_eq!((b.billed_duration_in_milliseconds, b.billed_memory_used_in_mb), (200, 128));
    }
}
