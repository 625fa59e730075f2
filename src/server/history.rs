//! Turns the engine's recorded [`HistoryEvent`]s into AWS's history event shapes: the
//! `HistoryEvent` of GetExecutionHistory (`timestamp`, `type`, `id`, `previousEventId`,
//! `<kind>EventDetails`) and the `details` of CloudWatch-format log records.
//!
//! Invariants:
//! - Ids and types are the engine's, which numbers and names events as AWS does; nothing here
//!   renumbers or reorders.
//! - Input and output members are JSON text (AWS returns them as strings) with an
//!   `inputDetails`/`outputDetails` `{"truncated": false}` beside them: payloads are bounded
//!   by the 256 KiB limit, below the point where AWS truncates.
//! - `previousEventId` is the id of the event recorded just before. AWS links events of
//!   Parallel branches and Map iterations to their causal predecessor instead; the recorded
//!   cases do not show those links, so we do not guess them.

use rustc_hash::FxHashMap;
use serde_json::{json, Map, Value as Json};

use crate::value::{Str, Value};
use crate::vm::HistoryEvent;

use super::protocol::timestamp;

/// What the execution-level events carry besides the engine's details.
pub struct ExecutionContext<'a> {
    pub role_arn: &'a str,
    pub region: &'a str,
    pub version_arn: Option<&'a str>,
    pub alias_arn: Option<&'a str>,
}

/// Maps a whole history, in order, to `(event, details key, details)` triples.
pub struct Mapper<'a> {
    ctx: ExecutionContext<'a>,
    include_data: bool,
    /// The resource of the last TaskScheduled per state, for TaskStarted/Succeeded/Failed.
    scheduled: FxHashMap<Str, String>,
}

/// One mapped event: the details member's name and content, when the event has details.
pub struct Mapped<'e> {
    pub event: &'e HistoryEvent,
    pub details: Option<(String, Json)>,
}

impl<'a> Mapper<'a> {
    pub fn new(ctx: ExecutionContext<'a>, include_data: bool) -> Mapper<'a> {
        Mapper { ctx, include_data, scheduled: FxHashMap::default() }
    }

    /// Maps one event; call in history order (Task events use their TaskScheduled's resource).
    pub fn map<'e>(&mut self, event: &'e HistoryEvent) -> Mapped<'e> {
        let details = self.details(event);
        Mapped { event, details }
    }

    fn details(&mut self, e: &HistoryEvent) -> Option<(String, Json)> {
        let d = e.details.as_ref();
        let kind = e.kind.as_ref();
        let mut out = Map::new();
        let key = match kind {
            "ExecutionStarted" => {
                self.data(&mut out, "input", d.and_then(|d| d.get("input")).map(json_text));
                out.insert("roleArn".into(), Json::from(self.ctx.role_arn));
                if let Some(a) = self.ctx.alias_arn {
                    out.insert("stateMachineAliasArn".into(), Json::from(a));
                }
                if let Some(v) = self.ctx.version_arn {
                    out.insert("stateMachineVersionArn".into(), Json::from(v));
                }
                "executionStartedEventDetails".to_string()
            }
            "ExecutionSucceeded" => {
                self.data(&mut out, "output", d.and_then(|d| d.get("output")).map(json_text));
                "executionSucceededEventDetails".to_string()
            }
            "ExecutionFailed" | "ExecutionAborted" | "ExecutionTimedOut" => {
                error_cause(&mut out, d);
                format!("{}EventDetails", lower_first(kind))
            }
            k if k.ends_with("StateEntered") => {
                out.insert("name".into(), Json::from(e.state.as_deref().unwrap_or("")));
                self.data(&mut out, "input", d.and_then(|d| d.get("input")).map(json_text));
                "stateEnteredEventDetails".to_string()
            }
            k if k.ends_with("StateExited") => {
                out.insert("name".into(), Json::from(e.state.as_deref().unwrap_or("")));
                self.data(&mut out, "output", d.and_then(|d| d.get("output")).map(json_text));
                "stateExitedEventDetails".to_string()
            }
            "TaskScheduled" => {
                let resource = d.and_then(|d| d.get("resource")).and_then(Value::as_str).unwrap_or("").to_string();
                self.task_resource(&mut out, &resource);
                out.insert("region".into(), Json::from(self.ctx.region));
                self.data(&mut out, "parameters", d.and_then(|d| d.get("parameters")).map(string_or_json));
                // `parameters` has no Details member in AWS's shape.
                out.remove("parametersDetails");
                if let Some(state) = &e.state {
                    self.scheduled.insert(state.clone(), resource);
                }
                "taskScheduledEventDetails".to_string()
            }
            "TaskStarted" | "TaskSucceeded" | "TaskFailed" | "TaskTimedOut" | "TaskSubmitted" => {
                let resource = e.state.as_ref().and_then(|s| self.scheduled.get(s)).cloned().unwrap_or_default();
                self.task_resource(&mut out, &resource);
                match kind {
                    "TaskSucceeded" | "TaskSubmitted" => {
                        self.data(&mut out, "output", d.and_then(|d| d.get("output")).map(string_or_json))
                    }
                    "TaskFailed" | "TaskTimedOut" => error_cause(&mut out, d),
                    _ => {}
                }
                format!("{}EventDetails", lower_first(kind))
            }
            "LambdaFunctionScheduled" => {
                let resource = d.and_then(|d| d.get("resource")).and_then(Value::as_str).unwrap_or("");
                out.insert("resource".into(), Json::from(resource));
                self.data(&mut out, "input", d.and_then(|d| d.get("parameters")).map(string_or_json));
                "lambdaFunctionScheduledEventDetails".to_string()
            }
            "LambdaFunctionSucceeded" => {
                self.data(&mut out, "output", d.and_then(|d| d.get("output")).map(string_or_json));
                "lambdaFunctionSucceededEventDetails".to_string()
            }
            "LambdaFunctionFailed" | "LambdaFunctionTimedOut" | "LambdaFunctionStartFailed" | "LambdaFunctionScheduleFailed" => {
                error_cause(&mut out, d);
                format!("{}EventDetails", lower_first(kind))
            }
            "MapIterationStarted" | "MapIterationSucceeded" | "MapIterationFailed" | "MapIterationAborted" => {
                out.insert("name".into(), Json::from(e.state.as_deref().unwrap_or("")));
                if let Some(i) = d.and_then(|d| d.get("index")).and_then(Value::as_i64) {
                    out.insert("index".into(), Json::from(i));
                }
                format!("{}EventDetails", lower_first(kind))
            }
            "MapRunFailed" => {
                error_cause(&mut out, d);
                "mapRunFailedEventDetails".to_string()
            }
            // PassStateEntered-style events are handled above; the rest (ParallelStateStarted,
            // MapStateSucceeded, LambdaFunctionStarted, …) carry no details in AWS's shape.
            _ => return None,
        };
        Some((key, Json::Object(out)))
    }

    /// Adds `field` (JSON text) and `fieldDetails`, unless execution data is excluded.
    fn data(&self, out: &mut Map<String, Json>, field: &str, text: Option<String>) {
        if !self.include_data {
            return;
        }
        if let Some(text) = text {
            out.insert(field.into(), Json::from(text));
            out.insert(format!("{field}Details"), json!({"truncated": false}));
        }
    }

    fn task_resource(&self, out: &mut Map<String, Json>, resource: &str) {
        let (resource_type, name) = split_resource(resource);
        out.insert("resourceType".into(), Json::from(resource_type));
        out.insert("resource".into(), Json::from(name));
    }
}

/// A full GetExecutionHistory event.
pub fn to_api_event(m: &Mapped<'_>) -> Json {
    let e = m.event;
    let mut out = Map::new();
    out.insert("timestamp".into(), timestamp(e.timestamp_ms));
    out.insert("type".into(), Json::from(e.kind.as_ref()));
    out.insert("id".into(), Json::from(e.id));
    out.insert("previousEventId".into(), Json::from(e.id.saturating_sub(1)));
    if let Some((key, details)) = &m.details {
        out.insert(key.clone(), details.clone());
    }
    Json::Object(out)
}

/// `arn:aws:states:::lambda:invoke` → (`lambda`, `invoke`);
/// `arn:aws:states:::aws-sdk:s3:getObject` → (`aws-sdk:s3`, `getObject`); any other ARN
/// → (its service, the rest).
pub fn split_resource(resource: &str) -> (String, String) {
    if let Some(rest) = resource.strip_prefix("arn:aws:states:::") {
        if let Some(sdk) = rest.strip_prefix("aws-sdk:") {
            if let Some((service, action)) = sdk.split_once(':') {
                return (format!("aws-sdk:{service}"), action.to_string());
            }
        }
        if let Some((kind, action)) = rest.split_once(':') {
            return (kind.to_string(), action.to_string());
        }
        return (rest.to_string(), String::new());
    }
    let mut parts = resource.splitn(6, ':');
    match (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("arn"), Some(_), Some(service), _, _, Some(rest)) => (service.to_string(), rest.to_string()),
        _ => (String::new(), resource.to_string()),
    }
}

fn error_cause(out: &mut Map<String, Json>, details: Option<&Value>) {
    if let Some(e) = details.and_then(|d| d.get("Error")).and_then(Value::as_str) {
        out.insert("error".into(), Json::from(e));
    }
    if let Some(c) = details.and_then(|d| d.get("Cause")).and_then(Value::as_str) {
        out.insert("cause".into(), Json::from(c));
    }
}

fn json_text(v: &Value) -> String {
    v.to_json()
}

/// Task parameters and results are recorded as JSON text already.
fn string_or_json(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        other => other.to_json(),
    }
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: u64, kind: &'static str, state: Option<&str>, details: Option<Value>) -> HistoryEvent {
        HistoryEvent { id, kind: kind.into(), timestamp_ms: 1_000, state: state.map(Str::from), details }
    }

    fn ctx() -> ExecutionContext<'static> {
        ExecutionContext { role_arn: "arn:role", region: "us-east-1", version_arn: None, alias_arn: None }
    }

    #[test]
    fn maps_execution_state_and_task_events_to_aws_shapes() {
        let input = crate::value::parse_str(r#"{"a":1}"#).unwrap();
        let events = [
            ev(1, "ExecutionStarted", None, Some(Value::object([("input", input.clone())]))),
            ev(2, "TaskStateEntered", Some("T"), Some(Value::object([("name", Value::from("T")), ("input", input.clone())]))),
            ev(
                3,
                "TaskScheduled",
                Some("T"),
                Some(Value::object([
                    ("resource", Value::from("arn:aws:states:::lambda:invoke")),
                    ("parameters", Value::from("{}")),
                ])),
            ),
            ev(4, "TaskStarted", Some("T"), None),
            ev(5, "TaskFailed", Some("T"), Some(Value::object([("Error", Value::from("E")), ("Cause", Value::from("C"))]))),
            ev(6, "ExecutionFailed", None, Some(Value::object([("Error", Value::from("E"))]))),
        ];
        let mut m = Mapper::new(ctx(), true);
        let out: Vec<Json> = events.iter().map(|e| to_api_event(&m.map(e))).collect();
        assert_eq!(out[0]["executionStartedEventDetails"]["input"], r#"{"a":1}"#);
        assert_eq!(out[0]["executionStartedEventDetails"]["inputDetails"]["truncated"], false);
        assert_eq!(out[0]["executionStartedEventDetails"]["roleArn"], "arn:role");
        assert_eq!(out[0]["previousEventId"], 0);
        assert_eq!(out[1]["stateEnteredEventDetails"]["name"], "T");
        assert_eq!(out[2]["taskScheduledEventDetails"]["resourceType"], "lambda");
        assert_eq!(out[2]["taskScheduledEventDetails"]["resource"], "invoke");
        assert_eq!(out[2]["taskScheduledEventDetails"]["parameters"], "{}");
        assert_eq!(out[3]["taskStartedEventDetails"]["resource"], "invoke");
        assert_eq!(out[4]["taskFailedEventDetails"]["cause"], "C");
        assert_eq!(out[5]["executionFailedEventDetails"], json!({"error": "E"}));
        assert_eq!(out[5]["previousEventId"], 5);
        assert_eq!(out[5]["timestamp"], 1.0);
    }

    #[test]
    fn execution_data_can_be_left_out() {
        let input = crate::value::parse_str(r#"{"a":1}"#).unwrap();
        let e = ev(2, "PassStateEntered", Some("P"), Some(Value::object([("input", input)])));
        let mut m = Mapper::new(ctx(), false);
        assert_eq!(to_api_event(&m.map(&e))["stateEnteredEventDetails"], json!({"name": "P"}));
    }

    #[test]
    fn splits_resources() {
        assert_eq!(split_resource("arn:aws:states:::aws-sdk:s3:getObject"), ("aws-sdk:s3".into(), "getObject".into()));
        assert_eq!(split_resource("arn:aws:states:::sqs:sendMessage.waitForTaskToken").1, "sendMessage.waitForTaskToken");
        assert_eq!(split_resource("arn:aws:lambda:us-east-1:1:function:f").0, "lambda");
    }
}
