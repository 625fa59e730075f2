//! The EventBridge API (AWS JSON 1.1, `X-Amz-Target: AWSEvents.<Operation>`) without a
//! transport: the server routes `AWSEvents.*` requests to [`EventsApi::call`] with the parsed
//! body and sends back the returned body, or the error's `__type`, message and HTTP status.
//!
//! Operations: PutEvents, CreateEventBus, DeleteEventBus, ListEventBuses, PutRule,
//! DescribeRule, ListRules, DeleteRule, EnableRule, DisableRule, PutTargets, RemoveTargets,
//! ListTargetsByRule, TestEventPattern. Request and response shapes are botocore's
//! (`events/2015-10-07/service-2.json`); errors carry AWS's `__type` names.
//!
//! ListEventBuses, ListRules and ListTargetsByRule page with `Limit` (1 to 100, the default
//! 100) and opaque `NextToken`s.
//!
//! Scheduled rules (`ScheduleExpression`, default bus only, as on AWS) are bus rules whose
//! pattern matches only their own "Scheduled Event" (`source` `aws.events`, `resources` the
//! rule's ARN), so targets, input transformers, enabling and counters work as for any rule;
//! [`EventsApi::fire_due`] puts those events on the bus when they are due. DescribeRule and
//! ListRules show the expression, not the internal pattern.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use serde_json::{json, Map, Value as Json};

use indexmap::IndexMap;

use super::bus::{
    bus_name, now_ms, Buses, EntryResult, EventEntry, RuleInfo, RuleSpec, RuleState, TargetSpec, DEFAULT_BUS, MAX_ENTRIES,
};
use super::pattern::Pattern;
use super::schedule::Schedule;

/// An API error: AWS's `__type`, the message, and the HTTP status to send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{aws_type}: {message}")]
pub struct EventsApiError {
    aws_type: &'static str,
    message: String,
}

impl EventsApiError {
    pub fn new(aws_type: &'static str, message: impl Into<String>) -> EventsApiError {
        EventsApiError { aws_type, message: message.into() }
    }

    fn validation(message: impl Into<String>) -> EventsApiError {
        EventsApiError::new("ValidationException", message)
    }

    pub fn aws_type(&self) -> &'static str {
        self.aws_type
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// 500 for AWS's server-side errors, 400 for everything the caller sent.
    pub fn http_status(&self) -> u16 {
        match self.aws_type {
            "InternalException" => 500,
            _ => 400,
        }
    }
}

impl From<super::bus::BusError> for EventsApiError {
    fn from(e: super::bus::BusError) -> EventsApiError {
        EventsApiError::new(e.aws_type, e.message)
    }
}

type Body = Map<String, Json>;

/// The EventBridge API over a set of buses.
pub struct EventsApi {
    buses: Arc<Buses>,
    /// Scheduled rules of the default bus, by rule name.
    schedules: Mutex<IndexMap<String, ScheduledRule>>,
}

struct ScheduledRule {
    expression: String,
    schedule: Schedule,
    arn: String,
    /// When it fires next; `None` once a cron's years have run out.
    next_ms: Option<i64>,
}

/// Whether a request's `EventBusName` (a name, an ARN or nothing) is the default bus.
fn is_default_bus(bus: Option<&str>) -> bool {
    bus_name(bus) == DEFAULT_BUS
}

/// The pattern of a scheduled rule: its own Scheduled Events only.
fn scheduled_pattern(rule_arn: &str) -> String {
    json!({"source": ["aws.events"], "detail-type": ["Scheduled Event"], "resources": [rule_arn]}).to_string()
}

fn str_field<'a>(body: &'a Body, key: &str) -> Result<Option<&'a str>, EventsApiError> {
    match body.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s)),
        Some(_) => Err(EventsApiError::new("SerializationException", format!("{key} must be a string"))),
    }
}

fn required<'a>(body: &'a Body, key: &str) -> Result<&'a str, EventsApiError> {
    str_field(body, key)?.ok_or_else(|| {
        EventsApiError::validation(format!(
            "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
            lower_first(key)
        ))
    })
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_lowercase().chain(c).collect()).unwrap_or_default()
}

fn array<'a>(body: &'a Body, key: &str) -> Result<&'a [Json], EventsApiError> {
    match body.get(key) {
        Some(Json::Array(a)) => Ok(a),
        None | Some(Json::Null) => Err(EventsApiError::validation(format!(
            "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
            lower_first(key)
        ))),
        Some(_) => Err(EventsApiError::new("SerializationException", format!("{key} must be a list"))),
    }
}

fn rule_json(r: &RuleInfo) -> Json {
    let mut v = json!({
        "Name": r.name,
        "Arn": r.arn,
        "EventPattern": r.event_pattern,
        "State": r.state.as_str(),
        "EventBusName": r.event_bus_name,
    });
    if let (Some(d), Some(obj)) = (&r.description, v.as_object_mut()) {
        obj.insert("Description".into(), Json::from(d.as_str()));
    }
    v
}

fn target_json(t: &TargetSpec) -> Json {
    let mut v = Map::new();
    v.insert("Id".into(), Json::from(t.id.as_str()));
    v.insert("Arn".into(), Json::from(t.arn.as_str()));
    if let Some(r) = &t.role_arn {
        v.insert("RoleArn".into(), Json::from(r.as_str()));
    }
    if let Some(i) = &t.input {
        v.insert("Input".into(), Json::from(i.as_str()));
    }
    if let Some(p) = &t.input_path {
        v.insert("InputPath".into(), Json::from(p.as_str()));
    }
    if let Some((paths, template)) = &t.input_transformer {
        let map: Map<String, Json> = paths.iter().map(|(k, p)| (k.clone(), Json::from(p.as_str()))).collect();
        v.insert("InputTransformer".into(), json!({"InputPathsMap": map, "InputTemplate": template}));
    }
    Json::Object(v)
}

fn target_spec(t: &Json) -> Result<TargetSpec, EventsApiError> {
    let t = t.as_object().ok_or_else(|| EventsApiError::new("SerializationException", "a target must be an object"))?;
    let input_transformer = match t.get("InputTransformer") {
        None | Some(Json::Null) => None,
        Some(Json::Object(x)) => {
            let template = required(x, "InputTemplate")?.to_string();
            let mut paths = Vec::new();
            if let Some(Json::Object(m)) = x.get("InputPathsMap") {
                for (k, v) in m {
                    let v = v
                        .as_str()
                        .ok_or_else(|| EventsApiError::new("SerializationException", "InputPathsMap values must be strings"))?;
                    paths.push((k.clone(), v.to_string()));
                }
            }
            Some((paths, template))
        }
        Some(_) => return Err(EventsApiError::new("SerializationException", "InputTransformer must be an object")),
    };
    Ok(TargetSpec {
        id: required(t, "Id")?.to_string(),
        arn: required(t, "Arn")?.to_string(),
        role_arn: str_field(t, "RoleArn")?.map(str::to_string),
        input: str_field(t, "Input")?.map(str::to_string),
        input_path: str_field(t, "InputPath")?.map(str::to_string),
        input_transformer,
    })
}

/// Epoch milliseconds from PutEvents' `Time`: epoch seconds (what SDKs send) or ISO 8601.
fn time_ms(v: Option<&Json>) -> Result<Option<i64>, EventsApiError> {
    match v {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Number(n)) => Ok(n.as_f64().map(|s| (s * 1000.0) as i64)),
        Some(Json::String(s)) => crate::timestamp::Timestamp::parse(s)
            .map(|t| Some(t.epoch_millis()))
            .ok_or_else(|| EventsApiError::new("SerializationException", format!("Time is not a timestamp: {s}"))),
        Some(_) => Err(EventsApiError::new("SerializationException", "Time must be a timestamp")),
    }
}

/// The largest (and default) page of a list operation, as on AWS.
const MAX_LIMIT: i64 = 100;

/// `Limit` and `NextToken` of a list operation. A token is opaque to clients: base64 of the
/// list's kind and the key of the last item served, so a token from another list is refused
/// and items added or removed between pages neither repeat nor hide others. Items are served
/// in key order (names; target ids): AWS lists rules by name; for buses and targets its order
/// is undocumented and key order is our choice.
struct Page {
    limit: usize,
    after: Option<String>,
    kind: &'static str,
}

impl Page {
    fn of(body: &Body, kind: &'static str) -> Result<Page, EventsApiError> {
        let limit = match body.get("Limit") {
            None | Some(Json::Null) => MAX_LIMIT as usize,
            Some(v) => match v.as_i64() {
                Some(n) if (1..=MAX_LIMIT).contains(&n) => n as usize,
                Some(n) => {
                    let bound = if n < 1 { "greater than or equal to 1" } else { "less than or equal to 100" };
                    return Err(EventsApiError::validation(format!(
                        "1 validation error detected: Value '{n}' at 'limit' failed to satisfy constraint: Member must have value {bound}"
                    )));
                }
                None => return Err(EventsApiError::new("SerializationException", "Limit must be an integer")),
            },
        };
        // AWS's message for a token it did not issue is not documented; ValidationException is
        // the error EventBridge's list operations share.
        let after = match str_field(body, "NextToken")? {
            None => None,
            Some(token) => Some(decode_token(token, kind).ok_or_else(|| EventsApiError::validation("Invalid NextToken"))?),
        };
        Ok(Page { limit, after, kind })
    }

    /// One page of `items` (in any order), as `response[key]`, with `NextToken` when more follow.
    fn answer<T: Into<Json>>(&self, key: &str, mut items: Vec<(String, T)>) -> Json {
        items.sort_by(|a, b| a.0.cmp(&b.0));
        let mut rest = items.into_iter().filter(|(k, _)| self.after.as_ref().is_none_or(|a| k > a)).peekable();
        let mut page = Vec::new();
        let mut last = None;
        while page.len() < self.limit {
            let Some((k, item)) = rest.next() else { break };
            page.push(item.into());
            last = Some(k);
        }
        let mut out = Map::new();
        out.insert(key.into(), Json::Array(page));
        if let (Some(last), Some(_)) = (last, rest.peek()) {
            let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{}\u{0}{last}", self.kind));
            out.insert("NextToken".into(), Json::from(token));
        }
        Json::Object(out)
    }
}

fn decode_token(token: &str, kind: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (k, key) = text.split_once('\u{0}')?;
    (k == kind).then(|| key.to_string())
}

/// The fields TestEventPattern requires of its event.
const ENVELOPE_FIELDS: [&str; 7] = ["id", "account", "source", "time", "region", "resources", "detail-type"];

impl EventsApi {
    pub fn new(buses: Arc<Buses>) -> EventsApi {
        EventsApi { buses, schedules: Mutex::default() }
    }

    fn schedules(&self) -> std::sync::MutexGuard<'_, IndexMap<String, ScheduledRule>> {
        self.schedules.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A rule as DescribeRule and ListRules show it: a scheduled rule with its expression.
    fn rule_view(&self, r: &RuleInfo) -> Json {
        let mut v = rule_json(r);
        if r.event_bus_name == DEFAULT_BUS {
            if let (Some(s), Some(obj)) = (self.schedules().get(&r.name), v.as_object_mut()) {
                obj.remove("EventPattern");
                obj.insert("ScheduleExpression".into(), Json::from(s.expression.as_str()));
            }
        }
        v
    }

    /// Puts the Scheduled Event of every scheduled rule due at `now_ms` on the default bus
    /// (once, however many firings were missed, as AWS does not catch up); answers how many
    /// fired. A throttled event stays due and is tried again on the next call.
    pub fn fire_due(&self, now_ms: i64) -> usize {
        let due: Vec<(String, String, i64)> = self
            .schedules()
            .iter_mut()
            .filter_map(|(name, s)| {
                let at = s.next_ms.filter(|t| *t <= now_ms)?;
                s.next_ms = s.schedule.next_after(now_ms);
                Some((name.clone(), s.arn.clone(), at))
            })
            .collect();
        let entries: Vec<EventEntry> = due
            .iter()
            .map(|(_, arn, at)| EventEntry {
                source: Some("aws.events".into()),
                detail_type: Some("Scheduled Event".into()),
                detail: Some("{}".into()),
                resources: vec![arn.clone()],
                time_ms: Some(*at),
                event_bus_name: None,
            })
            .collect();
        let results = self.buses.put_events(&entries);
        let mut fired = 0;
        let mut schedules = self.schedules();
        for ((name, _, at), result) in due.iter().zip(results) {
            match result {
                EntryResult::Failed { code: "ThrottlingException", .. } => {
                    if let Some(s) = schedules.get_mut(name) {
                        s.next_ms = Some(*at);
                    }
                }
                _ => fired += 1,
            }
        }
        fired
    }

    fn put_rule(&self, bus: Option<&str>, body: &Body) -> Result<Json, EventsApiError> {
        let name = required(body, "Name")?.to_string();
        let state = match str_field(body, "State")? {
            Some(s) => RuleState::parse(s)?,
            None => RuleState::Enabled,
        };
        let description = str_field(body, "Description")?.map(str::to_string);
        let expression = str_field(body, "ScheduleExpression")?;
        let pattern = str_field(body, "EventPattern")?;
        let Some(expression) = expression else {
            let Some(pattern) = pattern else {
                return Err(EventsApiError::validation("Parameter(s) EventPattern or ScheduleExpression must be specified."));
            };
            let spec = RuleSpec { name: name.clone(), event_pattern: pattern.to_string(), state, description };
            let arn = self.buses.put_rule(bus, spec)?;
            if is_default_bus(bus) {
                self.schedules().shift_remove(&name);
            }
            return Ok(json!({ "RuleArn": arn }));
        };
        if !is_default_bus(bus) {
            return Err(EventsApiError::validation("ScheduleExpression is supported only on the default event bus."));
        }
        // AWS's behaviour with both is not documented; a rule here is one or the other, so
        // neither is silently ignored.
        if pattern.is_some() {
            return Err(EventsApiError::validation("Give either EventPattern or ScheduleExpression, not both."));
        }
        let arn = self.put_scheduled_rule(name, expression, state, description)?;
        Ok(json!({ "RuleArn": arn }))
    }

    /// Creates or replaces a scheduled rule on the default bus (PutRule with
    /// `ScheduleExpression`, and rules files); answers the rule's ARN. Its periods count from now.
    pub fn put_scheduled_rule(
        &self,
        name: String,
        expression: &str,
        state: RuleState,
        description: Option<String>,
    ) -> Result<String, EventsApiError> {
        let now = now_ms();
        let schedule = Schedule::parse(expression, now).map_err(|e| EventsApiError::validation(e.to_string()))?;
        let arn = self.buses.rule_arn(DEFAULT_BUS, &name);
        let spec = RuleSpec { name: name.clone(), event_pattern: scheduled_pattern(&arn), state, description };
        self.buses.put_rule(None, spec)?;
        let next_ms = schedule.next_after(now);
        self.schedules().insert(name, ScheduledRule { expression: expression.to_string(), schedule, arn: arn.clone(), next_ms });
        Ok(arn)
    }

    /// Fires the scheduled rules that are due, once a second, for as long as it is polled
    /// (schedules have minute granularity; AWS too delivers within the minute). Its owner
    /// stops it by dropping or aborting it.
    pub async fn fire_scheduled_rules(&self) {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let clock = crate::clock::Clock::new();
        loop {
            tick.tick().await;
            self.fire_due(clock.now_ms());
        }
    }

    pub fn buses(&self) -> &Arc<Buses> {
        &self.buses
    }

    /// Runs one operation (`operation` is the part after `AWSEvents.`).
    pub fn call(&self, operation: &str, body: &Json) -> Result<Json, EventsApiError> {
        let empty = Map::new();
        let body = match body {
            Json::Object(m) => m,
            Json::Null => &empty,
            _ => return Err(EventsApiError::new("SerializationException", "the request body must be a JSON object")),
        };
        let bus = str_field(body, "EventBusName")?;
        match operation {
            "PutEvents" => self.put_events(body),
            "CreateEventBus" => {
                if str_field(body, "EventSourceName")?.is_some() {
                    return Err(EventsApiError::validation("Partner event sources are not supported"));
                }
                let arn = self.buses.create_bus(required(body, "Name")?)?;
                Ok(json!({ "EventBusArn": arn }))
            }
            "DeleteEventBus" => {
                self.buses.delete_bus(required(body, "Name")?)?;
                Ok(json!({}))
            }
            "ListEventBuses" => {
                let page = Page::of(body, "buses")?;
                let buses = self.buses.list_buses(str_field(body, "NamePrefix")?);
                Ok(page.answer(
                    "EventBuses",
                    buses.into_iter().map(|(name, arn)| (name.clone(), json!({"Name": name, "Arn": arn}))).collect(),
                ))
            }
            "PutRule" => self.put_rule(bus, body),
            "DescribeRule" => {
                let mut v = self.rule_view(&self.buses.describe_rule(bus, required(body, "Name")?)?);
                if let Some(obj) = v.as_object_mut() {
                    obj.insert("CreatedBy".into(), Json::from(self.buses.account()));
                }
                Ok(v)
            }
            "ListRules" => {
                let page = Page::of(body, "rules")?;
                let rules = self.buses.list_rules(bus, str_field(body, "NamePrefix")?)?;
                Ok(page.answer("Rules", rules.iter().map(|r| (r.name.clone(), self.rule_view(r))).collect()))
            }
            "DeleteRule" => {
                let force = body.get("Force").and_then(Json::as_bool).unwrap_or(false);
                let name = required(body, "Name")?;
                self.buses.delete_rule(bus, name, force)?;
                if is_default_bus(bus) {
                    self.schedules().shift_remove(name);
                }
                Ok(json!({}))
            }
            "EnableRule" | "DisableRule" => {
                let state = if operation == "EnableRule" { RuleState::Enabled } else { RuleState::Disabled };
                self.buses.set_rule_state(bus, required(body, "Name")?, state)?;
                Ok(json!({}))
            }
            "PutTargets" => {
                let rule = required(body, "Rule")?;
                let specs = array(body, "Targets")?.iter().map(target_spec).collect::<Result<Vec<_>, _>>()?;
                let failed: Vec<Json> = self
                    .buses
                    .put_targets(bus, rule, specs)?
                    .into_iter()
                    .map(|(id, e)| json!({"TargetId": id, "ErrorCode": e.aws_type, "ErrorMessage": e.message}))
                    .collect();
                Ok(json!({ "FailedEntryCount": failed.len(), "FailedEntries": failed }))
            }
            "RemoveTargets" => {
                let rule = required(body, "Rule")?;
                let ids: Vec<String> = array(body, "Ids")?.iter().filter_map(|i| i.as_str().map(str::to_string)).collect();
                self.buses.remove_targets(bus, rule, &ids)?;
                Ok(json!({ "FailedEntryCount": 0, "FailedEntries": [] }))
            }
            "ListTargetsByRule" => {
                let rule = required(body, "Rule")?;
                let page = Page::of(body, "targets")?;
                let targets = self.buses.list_targets(bus, rule)?;
                Ok(page.answer("Targets", targets.iter().map(|t| (t.id.clone(), target_json(t))).collect()))
            }
            "TestEventPattern" => self.test_event_pattern(body),
            other => Err(EventsApiError::new("UnknownOperationException", format!("Unknown operation AWSEvents.{other}"))),
        }
    }

    fn put_events(&self, body: &Body) -> Result<Json, EventsApiError> {
        let entries = array(body, "Entries")?;
        if entries.is_empty() || entries.len() > MAX_ENTRIES {
            return Err(EventsApiError::validation(format!(
                "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and {MAX_ENTRIES}"
            )));
        }
        let mut parsed = Vec::with_capacity(entries.len());
        for e in entries {
            let e = e.as_object().ok_or_else(|| EventsApiError::new("SerializationException", "an entry must be an object"))?;
            parsed.push(EventEntry {
                source: str_field(e, "Source")?.map(str::to_string),
                detail_type: str_field(e, "DetailType")?.map(str::to_string),
                detail: str_field(e, "Detail")?.map(str::to_string),
                resources: match e.get("Resources") {
                    Some(Json::Array(a)) => a.iter().filter_map(|r| r.as_str().map(str::to_string)).collect(),
                    _ => Vec::new(),
                },
                time_ms: time_ms(e.get("Time"))?,
                event_bus_name: str_field(e, "EventBusName")?.map(str::to_string),
            });
        }
        let results = self.buses.put_events(&parsed);
        let failed = results.iter().filter(|r| matches!(r, EntryResult::Failed { .. })).count();
        let entries: Vec<Json> = results
            .into_iter()
            .map(|r| match r {
                EntryResult::Accepted { event_id } => json!({ "EventId": event_id }),
                EntryResult::Failed { code, message } => json!({ "ErrorCode": code, "ErrorMessage": message }),
            })
            .collect();
        Ok(json!({ "FailedEntryCount": failed, "Entries": entries }))
    }

    fn test_event_pattern(&self, body: &Body) -> Result<Json, EventsApiError> {
        let pattern_text = required(body, "EventPattern")?;
        let event = required(body, "Event")?;
        let pattern = Pattern::parse(pattern_text).map_err(|e| {
            EventsApiError::new("InvalidEventPatternException", format!("Event pattern is not valid. Reason: {e}"))
        })?;
        let parsed: Json =
            serde_json::from_str(event).map_err(|_| EventsApiError::validation("Parameter Event is not valid."))?;
        let Some(obj) = parsed.as_object() else {
            return Err(EventsApiError::validation("Parameter Event is not valid."));
        };
        if let Some(missing) = ENVELOPE_FIELDS.iter().find(|f| !obj.contains_key(**f)) {
            return Err(EventsApiError::validation(format!(
                "Parameter Event is not valid. Reason: Provided Event is missing mandatory field {missing}."
            )));
        }
        let result = pattern.matches(event).map_err(|_| EventsApiError::validation("Parameter Event is not valid."))?;
        Ok(json!({ "Result": result }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::bus::{Delivery, DeliveryError, TargetSink};
    use std::sync::Mutex;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<String>>);
    impl TargetSink for Recorder {
        fn deliver(&self, d: Delivery) -> Result<(), DeliveryError> {
            self.0.lock().unwrap_or_else(|e| e.into_inner()).push(d.input.text());
            Ok(())
        }
    }

    fn api() -> (EventsApi, Arc<Recorder>) {
        let sink = Arc::new(Recorder::default());
        (EventsApi::new(Arc::new(Buses::new("us-east-1", "123456789012", sink.clone()))), sink)
    }

    fn err(api: &EventsApi, op: &str, body: Json) -> (String, String) {
        let e = api.call(op, &body).unwrap_err();
        assert_eq!(e.http_status(), 400);
        (e.aws_type().to_string(), e.message().to_string())
    }

    #[test]
    fn rule_and_target_operations() {
        let (api, sink) = api();
        let r =
            api.call("PutRule", &json!({"Name": "r", "EventPattern": "{\"source\": [\"app\"]}", "Description": "d"})).unwrap();
        assert_eq!(r["RuleArn"], "arn:aws:events:us-east-1:123456789012:rule/r");
        let d = api.call("DescribeRule", &json!({"Name": "r"})).unwrap();
        assert_eq!(d["State"], "ENABLED");
        assert_eq!(d["EventBusName"], "default");
        assert_eq!(d["Description"], "d");
        let t = api
            .call(
                "PutTargets",
                &json!({"Rule": "r", "Targets": [
                    {"Id": "a", "Arn": "arn:aws:states:us-east-1:123456789012:stateMachine:m", "InputPath": "$.detail"},
                    {"Id": "b", "Arn": "arn:x", "Input": "{bad"},
                    {"Id": "c", "Arn": "arn:x", "InputTransformer": {"InputPathsMap": {"v": "$.detail.v"}, "InputTemplate": "{\"v\": <v>}"}}
                ]}),
            )
            .unwrap();
        assert_eq!(t["FailedEntryCount"], 1);
        assert_eq!(t["FailedEntries"][0]["TargetId"], "b");
        assert_eq!(t["FailedEntries"][0]["ErrorCode"], "ValidationException");
        let listed = api.call("ListTargetsByRule", &json!({"Rule": "r"})).unwrap();
        assert_eq!(listed["Targets"].as_array().map(Vec::len), Some(2));
        assert_eq!(listed["Targets"][1]["InputTransformer"]["InputTemplate"], "{\"v\": <v>}");
        let put =
            api.call("PutEvents", &json!({"Entries": [{"Source": "app", "DetailType": "t", "Detail": "{\"v\": 1}"}]})).unwrap();
        assert_eq!(put["FailedEntryCount"], 0);
        assert!(put["Entries"][0]["EventId"].is_string());
        assert_eq!(sink.0.lock().unwrap().clone(), vec![r#"{"v":1}"#.to_string(), r#"{"v": 1}"#.to_string()]);
        assert_eq!(err(&api, "DeleteRule", json!({"Name": "r"})).1, "Rule can't be deleted since it has targets.");
        api.call("RemoveTargets", &json!({"Rule": "r", "Ids": ["a", "c"]})).unwrap();
        api.call("DisableRule", &json!({"Name": "r"})).unwrap();
        assert_eq!(api.call("ListRules", &json!({"NamePrefix": "r"})).unwrap()["Rules"][0]["State"], "DISABLED");
        api.call("EnableRule", &json!({"Name": "r"})).unwrap();
        api.call("DeleteRule", &json!({"Name": "r"})).unwrap();
        assert_eq!(err(&api, "DescribeRule", json!({"Name": "r"})).0, "ResourceNotFoundException");
    }

    #[test]
    fn bus_operations_and_errors() {
        let (api, _) = api();
        assert_eq!(
            api.call("CreateEventBus", &json!({"Name": "b"})).unwrap()["EventBusArn"],
            "arn:aws:events:us-east-1:123456789012:event-bus/b"
        );
        assert_eq!(err(&api, "CreateEventBus", json!({"Name": "b"})).0, "ResourceAlreadyExistsException");
        assert_eq!(api.call("ListEventBuses", &json!({})).unwrap()["EventBuses"].as_array().map(Vec::len), Some(2));
        assert_eq!(api.call("ListEventBuses", &json!({"NamePrefix": "b"})).unwrap()["EventBuses"][0]["Name"], "b");
        api.call("PutRule", &json!({"Name": "r", "EventBusName": "b", "EventPattern": "{\"a\": [1]}"})).unwrap();
        assert_eq!(
            api.call("DescribeRule", &json!({"Name": "r", "EventBusName": "b"})).unwrap()["Arn"],
            "arn:aws:events:us-east-1:123456789012:rule/b/r"
        );
        api.call("DeleteEventBus", &json!({"Name": "b"})).unwrap();
        assert_eq!(
            err(&api, "PutRule", json!({"Name": "r", "EventBusName": "b", "EventPattern": "{\"a\": [1]}"})).0,
            "ResourceNotFoundException"
        );
        let (t, m) = err(&api, "PutRule", json!({"Name": "r", "EventPattern": "{\"a\": \"x\"}"}));
        assert_eq!(
            (t.as_str(), m.as_str()),
            ("InvalidEventPatternException", "Event pattern is not valid. Reason: \"a\" must be an object or an array")
        );
        assert_eq!(err(&api, "PutRule", json!({"Name": "r"})).0, "ValidationException");
        assert_eq!(err(&api, "PutRule", json!({"Name": "r", "ScheduleExpression": "rate(1 minutes)"})).0, "ValidationException");
        assert_eq!(err(&api, "PutRule", json!({"Name": "bad name", "EventPattern": "{\"a\": [1]}"})).0, "ValidationException");
        assert_eq!(err(&api, "PutRule", json!({"EventPattern": "{\"a\": [1]}"})).0, "ValidationException");
        assert_eq!(err(&api, "PutEvents", json!({"Entries": []})).0, "ValidationException");
        assert_eq!(err(&api, "PutEvents", json!({})).0, "ValidationException");
        assert_eq!(err(&api, "Frobnicate", json!({})).0, "UnknownOperationException");
        assert_eq!(err(&api, "PutRule", json!({"Name": 5})).0, "SerializationException");
        let put = api
            .call(
                "PutEvents",
                &json!({"Entries": [{"Source": "a", "DetailType": "t", "Detail": "nope"}, {"Source": "a", "Detail": "{}"}]}),
            )
            .unwrap();
        assert_eq!(put["FailedEntryCount"], 2);
        assert_eq!(put["Entries"][0]["ErrorCode"], "MalformedDetail");
        assert_eq!(put["Entries"][1]["ErrorCode"], "InvalidArgument");
    }

    #[test]
    fn list_operations_page_with_limit_and_next_token() {
        let (api, _) = api();
        for name in ["c", "a", "b"] {
            api.call("PutRule", &json!({"Name": name, "EventPattern": "{\"source\": [\"x\"]}"})).unwrap();
            api.call("CreateEventBus", &json!({"Name": format!("bus-{name}")})).unwrap();
        }
        let targets: Vec<Json> = (0..5).map(|i| json!({"Id": format!("t{i}"), "Arn": "arn:x"})).collect();
        api.call("PutTargets", &json!({"Rule": "a", "Targets": targets})).unwrap();
        for (op, extra, key, field, want) in [
            ("ListRules", json!({}), "Rules", "Name", vec!["a", "b", "c"]),
            ("ListEventBuses", json!({}), "EventBuses", "Name", vec!["bus-a", "bus-b", "bus-c", "default"]),
            ("ListTargetsByRule", json!({"Rule": "a"}), "Targets", "Id", vec!["t0", "t1", "t2", "t3", "t4"]),
        ] {
            let mut seen = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let mut body = extra.clone();
                body["Limit"] = json!(2);
                if let Some(t) = &token {
                    body["NextToken"] = json!(t);
                }
                let r = api.call(op, &body).unwrap();
                let items = r[key].as_array().unwrap();
                assert!(items.len() <= 2);
                seen.extend(items.iter().map(|i| i[field].as_str().unwrap().to_string()));
                match r.get("NextToken") {
                    Some(t) => token = Some(t.as_str().unwrap().to_string()),
                    None => break,
                }
            }
            assert_eq!(seen, want, "{op}");
            assert!(api.call(op, &extra).unwrap().get("NextToken").is_none(), "{op}: one page by default");
        }
        let first = api.call("ListRules", &json!({"Limit": 1})).unwrap();
        let rules_token = first["NextToken"].clone();
        assert_eq!(err(&api, "ListEventBuses", json!({"NextToken": rules_token})).0, "ValidationException");
        assert_eq!(
            err(&api, "ListRules", json!({"NextToken": "garbage!"})),
            ("ValidationException".into(), "Invalid NextToken".into())
        );
        assert!(err(&api, "ListRules", json!({"Limit": 0})).1.contains("greater than or equal to 1"));
        assert!(err(&api, "ListTargetsByRule", json!({"Rule": "a", "Limit": 101})).1.contains("less than or equal to 100"));
    }

    #[test]
    fn scheduled_rules_fire_scheduled_events() {
        let (api, sink) = api();
        let arn =
            api.call("PutRule", &json!({"Name": "tick", "ScheduleExpression": "rate(5 minutes)"})).unwrap()["RuleArn"].clone();
        let d = api.call("DescribeRule", &json!({"Name": "tick"})).unwrap();
        assert_eq!((d["ScheduleExpression"].as_str(), d.get("EventPattern")), (Some("rate(5 minutes)"), None));
        assert_eq!(api.call("ListRules", &json!({})).unwrap()["Rules"][0]["ScheduleExpression"], "rate(5 minutes)");
        let transform = json!({"InputPathsMap": {"t": "$.detail-type", "r": "$.resources[0]", "s": "$.source"},
                               "InputTemplate": "{\"t\": <t>, \"r\": <r>, \"s\": <s>}"});
        api.call("PutTargets", &json!({"Rule": "tick", "Targets": [{"Id": "t", "Arn": "arn:x", "InputTransformer": transform}]}))
            .unwrap();
        let start = now_ms();
        assert_eq!(api.fire_due(start), 0, "not due yet");
        assert_eq!(api.fire_due(start + 6 * 60_000), 1);
        assert_eq!(api.fire_due(start + 6 * 60_000), 0, "fired once per period");
        let delivered: Json = serde_json::from_str(&sink.0.lock().unwrap()[0]).unwrap();
        assert_eq!(delivered, json!({"t": "Scheduled Event", "r": arn, "s": "aws.events"}));
        // An ordinary event does not trigger it, and a disabled rule does not fire.
        api.call("PutEvents", &json!({"Entries": [{"Source": "aws.events", "DetailType": "Scheduled Event", "Detail": "{}"}]}))
            .unwrap();
        api.call("DisableRule", &json!({"Name": "tick"})).unwrap();
        api.fire_due(start + 11 * 60_000);
        assert_eq!(sink.0.lock().unwrap().len(), 1);
        // Back to a pattern: the schedule is gone.
        api.call("PutRule", &json!({"Name": "tick", "EventPattern": "{\"source\": [\"x\"]}"})).unwrap();
        assert!(api.call("DescribeRule", &json!({"Name": "tick"})).unwrap().get("ScheduleExpression").is_none());
        api.call("PutRule", &json!({"Name": "cron", "ScheduleExpression": "cron(0 12 * * ? *)"})).unwrap();
        api.call("DeleteRule", &json!({"Name": "cron"})).unwrap();
        assert_eq!(api.fire_due(start + 2 * 86_400_000), 0);
        api.call("CreateEventBus", &json!({"Name": "b"})).unwrap();
        for body in [
            json!({"Name": "x", "EventBusName": "b", "ScheduleExpression": "rate(1 minute)"}),
            json!({"Name": "x", "ScheduleExpression": "rate(1 minute)", "EventPattern": "{}"}),
            json!({"Name": "x", "ScheduleExpression": "cron(0 12 * * * *)"}),
        ] {
            assert_eq!(err(&api, "PutRule", body.clone()).0, "ValidationException", "{body}");
        }
        assert_eq!(
            err(&api, "PutRule", json!({"Name": "x", "ScheduleExpression": "at(2024)"})).1,
            "Parameter ScheduleExpression is not valid."
        );
    }

    #[test]
    fn test_event_pattern() {
        let (api, _) = api();
        let event = r#"{"id":"1","account":"1","source":"aws.ec2","time":"2020-01-01T00:00:00Z","region":"us-east-1","resources":[],"detail-type":"x","detail":{"n":5}}"#;
        let r = api
            .call(
                "TestEventPattern",
                &json!({"EventPattern": "{\"detail\": {\"n\": [{\"numeric\": [\">\", 4]}]}}", "Event": event}),
            )
            .unwrap();
        assert_eq!(r, json!({"Result": true}));
        let r = api.call("TestEventPattern", &json!({"EventPattern": "{\"source\": [\"aws.s3\"]}", "Event": event})).unwrap();
        assert_eq!(r, json!({"Result": false}));
        assert_eq!(
            err(&api, "TestEventPattern", json!({"EventPattern": "{\"source\": \"x\"}", "Event": event})).0,
            "InvalidEventPatternException"
        );
        let (t, m) =
            err(&api, "TestEventPattern", json!({"EventPattern": "{\"source\": [\"x\"]}", "Event": "{\"source\": \"x\"}"}));
        assert_eq!(t, "ValidationException");
        assert!(m.contains("mandatory field id"), "{m}");
    }

    /// TestEventPattern agrees with event-ruler on every shared case whose event is a full
    /// envelope (skipped without `../shared`).
    #[test]
    fn test_event_pattern_over_envelope_cases() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/eventbridge/cases");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            eprintln!("eventbridge cases not found at {}: skipping", dir.display());
            return;
        };
        let (api, _) = api();
        let mut checked = 0;
        for entry in entries.flatten() {
            let cases: Json = serde_json::from_str(&std::fs::read_to_string(entry.path()).unwrap()).unwrap();
            for c in cases.as_array().unwrap() {
                let event = c["event"].as_str().unwrap();
                let Ok(Json::Object(obj)) = serde_json::from_str::<Json>(event) else { continue };
                if !ENVELOPE_FIELDS.iter().all(|f| obj.contains_key(*f)) {
                    continue;
                }
                let got = api.call("TestEventPattern", &json!({"EventPattern": c["pattern"], "Event": event}));
                match (c["valid"].as_bool().unwrap(), got) {
                    (true, Ok(r)) => assert_eq!(r["Result"], c["matches"], "{}", c["name"]),
                    (false, Err(e)) => assert_eq!(e.aws_type(), "InvalidEventPatternException", "{}", c["name"]),
                    (valid, got) => panic!("{}: valid={valid}, got {got:?}", c["name"]),
                }
                checked += 1;
            }
        }
        assert!(checked > 500, "checked {checked} envelope cases");
    }
}
