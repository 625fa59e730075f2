//! Event buses, rules and targets, and PutEvents: the in-memory EventBridge.
//!
//! Invariants:
//! - The `default` bus always exists. Each bus compiles its ENABLED rules into one [`Matcher`];
//!   a disabled rule keeps its pattern and targets but is not in the matcher.
//! - PutEvents builds each entry's envelope (`version`, `id`, `detail-type`, `source`,
//!   `account`, `time`, `region`, `resources`, `detail`) as text with the entry's `Detail`
//!   inserted verbatim, so patterns see the number spellings the producer wrote. An event that
//!   matches N rules is delivered once per target of each of them.
//! - Nothing accepted is lost: a delivery goes to a [`TargetSink`], which either takes it or
//!   says it is full. An entry whose deliveries cannot all be taken is reported failed
//!   (`ThrottlingException`), so the producer retries it; deliveries already taken for it stand
//!   (EventBridge's delivery is at-least-once too).
//! - Per-rule counters: events matched, deliveries started, deliveries failed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use indexmap::IndexMap;
use rustc_hash::FxHashMap;

use super::matcher::{Matcher, RuleId};
use super::pattern::Pattern;
use super::transform::{DeliveryContext, InputTransformer, Payload, TargetInput};
use crate::value::{parse_str, Value};

pub const DEFAULT_BUS: &str = "default";
/// EventBridge's limit of targets per rule.
pub const MAX_TARGETS_PER_RULE: usize = 5;
/// EventBridge's limit of entries per PutEvents / PutTargets request.
pub const MAX_ENTRIES: usize = 10;
/// EventBridge's limit on one PutEvents entry.
pub const MAX_ENTRY_BYTES: usize = 256 * 1024;

/// An error of a bus operation, with the AWS error name it maps to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BusError {
    pub aws_type: &'static str,
    pub message: String,
}

impl BusError {
    pub fn not_found(message: impl Into<String>) -> BusError {
        BusError { aws_type: "ResourceNotFoundException", message: message.into() }
    }
    pub fn validation(message: impl Into<String>) -> BusError {
        BusError { aws_type: "ValidationException", message: message.into() }
    }
    fn exists(message: impl Into<String>) -> BusError {
        BusError { aws_type: "ResourceAlreadyExistsException", message: message.into() }
    }
}

/// Why a delivery was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// The sink is at capacity; the event should be retried later.
    #[error("Rate exceeded")]
    Full,
    /// The target cannot take this input (unknown target, input not JSON, ...).
    #[error("{0}")]
    Failed(String),
}

/// One input for one target.
pub struct Delivery {
    pub bus: Arc<str>,
    pub rule: Arc<str>,
    pub rule_arn: Arc<str>,
    pub target_id: Arc<str>,
    pub target_arn: Arc<str>,
    pub event_id: Arc<str>,
    /// The target's input.
    pub input: Payload,
    /// The rule's counters, for sinks that learn of failures later.
    pub counters: Arc<RuleCounters>,
}

/// Where deliveries go: the server (state machines), an NDJSON file, an HTTP endpoint, ...
/// Implementations must not block: when they cannot take more, they return
/// [`DeliveryError::Full`].
pub trait TargetSink: Send + Sync {
    fn deliver(&self, delivery: Delivery) -> Result<(), DeliveryError>;
}

/// Per-rule counts since the rule was created.
#[derive(Debug, Default)]
pub struct RuleCounters {
    pub matched: AtomicU64,
    pub started: AtomicU64,
    pub failed: AtomicU64,
}

/// A snapshot of [`RuleCounters`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RuleStats {
    pub matched: u64,
    pub started: u64,
    pub failed: u64,
}

impl RuleCounters {
    pub fn snapshot(&self) -> RuleStats {
        RuleStats {
            matched: self.matched.load(Ordering::Relaxed),
            started: self.started.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleState {
    Enabled,
    Disabled,
}

impl RuleState {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleState::Enabled => "ENABLED",
            RuleState::Disabled => "DISABLED",
        }
    }

    pub fn parse(text: &str) -> Result<RuleState, BusError> {
        match text {
            "ENABLED" => Ok(RuleState::Enabled),
            "DISABLED" => Ok(RuleState::Disabled),
            other => Err(BusError::validation(format!(
                "1 validation error detected: Value '{other}' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]"
            ))),
        }
    }
}

/// A target as PutTargets describes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TargetSpec {
    pub id: String,
    pub arn: String,
    pub role_arn: Option<String>,
    pub input: Option<String>,
    pub input_path: Option<String>,
    /// `InputTransformer`: paths map (in order) and template.
    pub input_transformer: Option<(Vec<(String, String)>, String)>,
}

struct Target {
    spec: TargetSpec,
    arn: Arc<str>,
    id: Arc<str>,
    input: TargetInput,
}

impl Target {
    fn new(spec: TargetSpec) -> Result<Target, BusError> {
        if spec.id.is_empty() || spec.id.len() > 64 || !spec.id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        {
            return Err(BusError::validation(format!(
                "Target Id '{}' must match [\\.\\-_A-Za-z0-9]+ (1 to 64 characters)",
                spec.id
            )));
        }
        if spec.arn.is_empty() {
            return Err(BusError::validation(format!("Target {} has no Arn", spec.id)));
        }
        let given =
            [spec.input.is_some(), spec.input_path.is_some(), spec.input_transformer.is_some()].iter().filter(|b| **b).count();
        if given > 1 {
            return Err(BusError::validation(format!(
                "Target {}: only one of Input, InputPath and InputTransformer may be given",
                spec.id
            )));
        }
        let input = if let Some(text) = &spec.input {
            TargetInput::constant(text)
        } else if let Some(path) = &spec.input_path {
            TargetInput::path(path)
        } else if let Some((paths, template)) = &spec.input_transformer {
            InputTransformer::new(paths.iter().map(|(k, v)| (k.as_str(), v.as_str())), template).map(TargetInput::Transformer)
        } else {
            Ok(TargetInput::Event)
        }
        .map_err(|e| BusError::validation(format!("Target {}: {e}", spec.id)))?;
        Ok(Target { arn: spec.arn.as_str().into(), id: spec.id.as_str().into(), input, spec })
    }
}

/// A rule as PutRule describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSpec {
    pub name: String,
    pub event_pattern: String,
    pub state: RuleState,
    pub description: Option<String>,
}

/// What DescribeRule / ListRules show of a rule.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleInfo {
    pub name: String,
    pub arn: String,
    pub event_bus_name: String,
    pub event_pattern: String,
    pub state: RuleState,
    pub description: Option<String>,
}

struct Rule {
    spec: RuleSpec,
    name: Arc<str>,
    arn: Arc<str>,
    id: RuleId,
    pattern: Pattern,
    targets: IndexMap<String, Target>,
    counters: Arc<RuleCounters>,
}

struct Bus {
    name: Arc<str>,
    arn: String,
    rules: IndexMap<String, Rule>,
    matcher: Matcher,
    by_id: FxHashMap<RuleId, String>,
    next_id: RuleId,
}

impl Bus {
    fn new(name: &str, arn: String) -> Bus {
        Bus { name: name.into(), arn, rules: IndexMap::new(), matcher: Matcher::new(), by_id: FxHashMap::default(), next_id: 0 }
    }
}

/// One PutEvents entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventEntry {
    pub source: Option<String>,
    pub detail_type: Option<String>,
    /// JSON object text.
    pub detail: Option<String>,
    pub resources: Vec<String>,
    /// Epoch milliseconds; now when absent.
    pub time_ms: Option<i64>,
    pub event_bus_name: Option<String>,
}

/// One PutEvents result: the event id, or AWS's error code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryResult {
    Accepted { event_id: String },
    Failed { code: &'static str, message: String },
}

/// All buses of one account and region, and where their deliveries go.
pub struct Buses {
    region: String,
    account: String,
    inner: RwLock<IndexMap<String, Bus>>,
    sink: Arc<dyn TargetSink>,
}

fn valid_name(name: &str, max: usize) -> bool {
    !name.is_empty() && name.len() <= max && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// An event bus named by name or ARN (`arn:aws:events:…:event-bus/NAME`).
pub fn bus_name(name_or_arn: Option<&str>) -> &str {
    match name_or_arn {
        None | Some("") => DEFAULT_BUS,
        Some(s) => s.rsplit_once(":event-bus/").map_or(s, |(_, n)| n),
    }
}

impl Buses {
    pub fn new(region: &str, account: &str, sink: Arc<dyn TargetSink>) -> Buses {
        let buses = Buses { region: region.into(), account: account.into(), inner: RwLock::new(IndexMap::new()), sink };
        let arn = buses.bus_arn(DEFAULT_BUS);
        buses.write().insert(DEFAULT_BUS.into(), Bus::new(DEFAULT_BUS, arn));
        buses
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, IndexMap<String, Bus>> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, IndexMap<String, Bus>> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    pub fn bus_arn(&self, name: &str) -> String {
        format!("arn:aws:events:{}:{}:event-bus/{name}", self.region, self.account)
    }

    pub fn rule_arn(&self, bus: &str, rule: &str) -> String {
        if bus == DEFAULT_BUS {
            format!("arn:aws:events:{}:{}:rule/{rule}", self.region, self.account)
        } else {
            format!("arn:aws:events:{}:{}:rule/{bus}/{rule}", self.region, self.account)
        }
    }

    pub fn create_bus(&self, name: &str) -> Result<String, BusError> {
        if !valid_name(name, 256) || name.contains('/') {
            return Err(BusError::validation(format!(
                "Event bus name {name:?} is not valid: it must match [\\.\\-_A-Za-z0-9]+ (1 to 256 characters)"
            )));
        }
        let mut buses = self.write();
        if buses.contains_key(name) {
            return Err(BusError::exists(format!("Event bus {name} already exists.")));
        }
        let arn = self.bus_arn(name);
        buses.insert(name.into(), Bus::new(name, arn.clone()));
        Ok(arn)
    }

    /// Deletes a bus and its rules (as EventBridge does); deleting `default` is refused.
    pub fn delete_bus(&self, name: &str) -> Result<(), BusError> {
        if name == DEFAULT_BUS {
            return Err(BusError::validation("Cannot delete event bus default."));
        }
        self.write().shift_remove(name);
        Ok(())
    }

    /// (name, arn) of the buses whose name starts with `prefix`.
    pub fn list_buses(&self, prefix: Option<&str>) -> Vec<(String, String)> {
        self.read()
            .values()
            .filter(|b| prefix.is_none_or(|p| b.name.starts_with(p)))
            .map(|b| (b.name.to_string(), b.arn.clone()))
            .collect()
    }

    fn with_bus<T>(&self, bus: Option<&str>, f: impl FnOnce(&mut Bus) -> Result<T, BusError>) -> Result<T, BusError> {
        let name = bus_name(bus);
        let mut buses = self.write();
        let bus = buses.get_mut(name).ok_or_else(|| BusError::not_found(format!("Event bus {name} does not exist.")))?;
        f(bus)
    }

    /// Creates or updates a rule; returns its ARN.
    pub fn put_rule(&self, bus: Option<&str>, spec: RuleSpec) -> Result<String, BusError> {
        if !valid_name(&spec.name, 64) {
            return Err(BusError::validation(format!(
                "Rule name {:?} is not valid: it must match [\\.\\-_A-Za-z0-9]+ (1 to 64 characters)",
                spec.name
            )));
        }
        if spec.description.as_ref().is_some_and(|d| d.chars().count() > 512) {
            return Err(BusError::validation("Description must be at most 512 characters"));
        }
        let pattern = Pattern::parse(&spec.event_pattern).map_err(|e| BusError {
            aws_type: "InvalidEventPatternException",
            message: format!("Event pattern is not valid. Reason: {e}"),
        })?;
        self.with_bus(bus, |b| {
            let arn = self.rule_arn(&b.name, &spec.name);
            let (id, targets, counters) = match b.rules.shift_remove(&spec.name) {
                Some(old) => {
                    b.matcher.remove_rule(old.id);
                    (old.id, old.targets, old.counters)
                }
                None => {
                    b.next_id += 1;
                    (b.next_id, IndexMap::new(), Arc::default())
                }
            };
            if spec.state == RuleState::Enabled {
                b.matcher.add_rule(id, &pattern);
            }
            b.by_id.insert(id, spec.name.clone());
            let rule = Rule { name: spec.name.as_str().into(), arn: arn.as_str().into(), id, pattern, targets, counters, spec };
            b.rules.insert(rule.spec.name.clone(), rule);
            Ok(arn)
        })
    }

    fn info(&self, bus: &Bus, rule: &Rule) -> RuleInfo {
        RuleInfo {
            name: rule.spec.name.clone(),
            arn: rule.arn.to_string(),
            event_bus_name: bus.name.to_string(),
            event_pattern: rule.spec.event_pattern.clone(),
            state: rule.spec.state,
            description: rule.spec.description.clone(),
        }
    }

    pub fn describe_rule(&self, bus: Option<&str>, name: &str) -> Result<RuleInfo, BusError> {
        self.with_bus(bus, |b| {
            let rule = b
                .rules
                .get(name)
                .ok_or_else(|| BusError::not_found(format!("Rule {name} does not exist on EventBus {}.", b.name)))?;
            Ok(self.info(b, rule))
        })
    }

    pub fn list_rules(&self, bus: Option<&str>, prefix: Option<&str>) -> Result<Vec<RuleInfo>, BusError> {
        self.with_bus(bus, |b| {
            Ok(b.rules.values().filter(|r| prefix.is_none_or(|p| r.spec.name.starts_with(p))).map(|r| self.info(b, r)).collect())
        })
    }

    /// Deletes a rule; refused while it has targets unless `force`.
    pub fn delete_rule(&self, bus: Option<&str>, name: &str, force: bool) -> Result<(), BusError> {
        self.with_bus(bus, |b| {
            let Some(rule) = b.rules.get(name) else { return Ok(()) };
            if !rule.targets.is_empty() && !force {
                return Err(BusError::validation("Rule can't be deleted since it has targets."));
            }
            if let Some(rule) = b.rules.shift_remove(name) {
                b.matcher.remove_rule(rule.id);
                b.by_id.remove(&rule.id);
            }
            Ok(())
        })
    }

    pub fn set_rule_state(&self, bus: Option<&str>, name: &str, state: RuleState) -> Result<(), BusError> {
        self.with_bus(bus, |b| {
            let rule = b
                .rules
                .get_mut(name)
                .ok_or_else(|| BusError::not_found(format!("Rule {name} does not exist on EventBus {}.", b.name)))?;
            if rule.spec.state != state {
                rule.spec.state = state;
                match state {
                    RuleState::Enabled => b.matcher.add_rule(rule.id, &rule.pattern),
                    RuleState::Disabled => {
                        b.matcher.remove_rule(rule.id);
                    }
                }
            }
            Ok(())
        })
    }

    /// Adds or replaces targets; returns the (id, error) of each entry that failed.
    pub fn put_targets(
        &self,
        bus: Option<&str>,
        rule: &str,
        specs: Vec<TargetSpec>,
    ) -> Result<Vec<(String, BusError)>, BusError> {
        if specs.is_empty() || specs.len() > MAX_ENTRIES {
            return Err(BusError::validation(format!("PutTargets takes 1 to {MAX_ENTRIES} targets")));
        }
        self.with_bus(bus, |b| {
            let bus_name = b.name.to_string();
            let r = b.rules.get_mut(rule).ok_or_else(|| BusError::not_found(format!("Rule {rule} does not exist on EventBus {bus_name}.")))?;
            let mut failed = Vec::new();
            for spec in specs {
                let id = spec.id.clone();
                if !r.targets.contains_key(&id) && r.targets.len() >= MAX_TARGETS_PER_RULE {
                    failed.push((id, BusError { aws_type: "LimitExceededException", message: format!("The requested resource exceeds the maximum number allowed ({MAX_TARGETS_PER_RULE} targets per rule).") }));
                    continue;
                }
                match Target::new(spec) {
                    Ok(t) => {
                        r.targets.insert(id, t);
                    }
                    Err(e) => failed.push((id, e)),
                }
            }
            Ok(failed)
        })
    }

    /// Removes targets by id; ids that are not there are ignored, as AWS does.
    pub fn remove_targets(&self, bus: Option<&str>, rule: &str, ids: &[String]) -> Result<(), BusError> {
        self.with_bus(bus, |b| {
            let bus_name = b.name.to_string();
            let r = b
                .rules
                .get_mut(rule)
                .ok_or_else(|| BusError::not_found(format!("Rule {rule} does not exist on EventBus {bus_name}.")))?;
            for id in ids {
                r.targets.shift_remove(id);
            }
            Ok(())
        })
    }

    pub fn list_targets(&self, bus: Option<&str>, rule: &str) -> Result<Vec<TargetSpec>, BusError> {
        self.with_bus(bus, |b| {
            let bus_name = b.name.to_string();
            let r = b
                .rules
                .get(rule)
                .ok_or_else(|| BusError::not_found(format!("Rule {rule} does not exist on EventBus {bus_name}.")))?;
            Ok(r.targets.values().map(|t| t.spec.clone()).collect())
        })
    }

    pub fn rule_stats(&self, bus: Option<&str>, rule: &str) -> Result<RuleStats, BusError> {
        self.with_bus(bus, |b| {
            let bus_name = b.name.to_string();
            b.rules
                .get(rule)
                .map(|r| r.counters.snapshot())
                .ok_or_else(|| BusError::not_found(format!("Rule {rule} does not exist on EventBus {bus_name}.")))
        })
    }

    /// PutEvents: one result per entry, in order.
    pub fn put_events(&self, entries: &[EventEntry]) -> Vec<EntryResult> {
        let buses = self.read();
        entries.iter().map(|e| self.put_event(&buses, e)).collect()
    }

    fn put_event(&self, buses: &IndexMap<String, Bus>, entry: &EventEntry) -> EntryResult {
        let fail = |code: &'static str, message: String| EntryResult::Failed { code, message };
        let (Some(source), Some(detail_type), Some(detail)) = (&entry.source, &entry.detail_type, &entry.detail) else {
            let missing = if entry.source.is_none() {
                "Source"
            } else if entry.detail_type.is_none() {
                "DetailType"
            } else {
                "Detail"
            };
            return fail(
                "InvalidArgument",
                format!("Parameter {missing} is not valid. Reason: {missing} is a required argument."),
            );
        };
        let name = bus_name(entry.event_bus_name.as_deref());
        let Some(bus) = buses.get(name) else {
            return fail("NotFoundException", format!("Event bus {name} does not exist."));
        };
        // Checked at scanner speed: the detail is parsed into a value only when a rule matches.
        if !super::scan::is_json_object(detail) {
            return fail("MalformedDetail", "Detail is malformed.".into());
        }
        let time_ms = entry.time_ms.unwrap_or_else(now_ms);
        let event_id = crate::ids::uuid_v4();
        let time = iso_seconds(time_ms);
        let envelope = Envelope { id: &event_id, source, detail_type, resources: &entry.resources, time: &time, bus: self };
        let text = envelope.text(detail);
        if text.len() > MAX_ENTRY_BYTES {
            return fail(
                "InvalidArgument",
                format!("Total size of the entries in the request is over the limit of {MAX_ENTRY_BYTES} bytes."),
            );
        }
        let matched = match bus.matcher.matches(&text) {
            Ok(m) => m,
            Err(e) => return fail("MalformedDetail", format!("Detail is malformed: {e}")),
        };
        if matched.is_empty() {
            return EntryResult::Accepted { event_id };
        }
        let Ok(detail) = parse_str(detail) else {
            return fail("MalformedDetail", "Detail is malformed.".into());
        };
        let event = envelope.value(detail);
        let ingestion_time = iso_seconds(now_ms());
        let event_id: Arc<str> = event_id.into();
        let mut full = false;
        for id in matched {
            let Some(rule) = bus.by_id.get(&id).and_then(|n| bus.rules.get(n)) else { continue };
            rule.counters.matched.fetch_add(1, Ordering::Relaxed);
            let ctx = DeliveryContext { rule_arn: &rule.arn, rule_name: &rule.name, ingestion_time: &ingestion_time };
            for target in rule.targets.values() {
                let delivery = Delivery {
                    bus: Arc::clone(&bus.name),
                    rule: Arc::clone(&rule.name),
                    rule_arn: Arc::clone(&rule.arn),
                    target_id: Arc::clone(&target.id),
                    target_arn: Arc::clone(&target.arn),
                    event_id: Arc::clone(&event_id),
                    input: target.input.render(&event, &ctx),
                    counters: Arc::clone(&rule.counters),
                };
                match self.sink.deliver(delivery) {
                    Ok(()) => {
                        rule.counters.started.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(DeliveryError::Full) => {
                        rule.counters.failed.fetch_add(1, Ordering::Relaxed);
                        full = true;
                    }
                    Err(DeliveryError::Failed(_)) => {
                        rule.counters.failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
        if full {
            return fail("ThrottlingException", "Rate exceeded".into());
        }
        EntryResult::Accepted { event_id: event_id.to_string() }
    }
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// EventBridge's `time`: ISO 8601, UTC, whole seconds.
pub fn iso_seconds(epoch_ms: i64) -> String {
    // Events put within one second share the text, so each thread keeps the last one it made:
    // formatting a date costs more than matching a small event.
    thread_local! {
        static LAST: std::cell::RefCell<(i64, String)> = const { std::cell::RefCell::new((i64::MIN, String::new())) };
    }
    let second = epoch_ms.div_euclid(1000);
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.0 != second {
            let full = crate::timestamp::format_iso(epoch_ms);
            let text = match full.split_once('.') {
                Some((secs, _)) => format!("{secs}Z"),
                None => full,
            };
            *last = (second, text);
        }
        last.1.clone()
    })
}

/// The fields of an event envelope besides `detail`.
struct Envelope<'a> {
    id: &'a str,
    source: &'a str,
    detail_type: &'a str,
    resources: &'a [String],
    /// `time`, as [`iso_seconds`] gives it.
    time: &'a str,
    bus: &'a Buses,
}

impl Envelope<'_> {
    /// The envelope as text, with `detail` exactly as given (matching reads its spellings).
    fn text(&self, detail: &str) -> String {
        let s = |v: &str| Value::from(v).to_json();
        let resources: Vec<String> = self.resources.iter().map(|r| s(r)).collect();
        format!(
            r#"{{"version":"0","id":{},"detail-type":{},"source":{},"account":{},"time":{},"region":{},"resources":[{}],"detail":{}}}"#,
            s(self.id),
            s(self.detail_type),
            s(self.source),
            s(&self.bus.account),
            s(self.time),
            s(&self.bus.region),
            resources.join(","),
            detail.trim()
        )
    }

    /// The envelope as the value [`Self::text`] parses to, built from its parts.
    fn value(&self, detail: Value) -> Value {
        Value::object([
            ("version", Value::from("0")),
            ("id", Value::from(self.id)),
            ("detail-type", Value::from(self.detail_type)),
            ("source", Value::from(self.source)),
            ("account", Value::from(self.bus.account.as_str())),
            ("time", Value::from(self.time)),
            ("region", Value::from(self.bus.region.as_str())),
            ("resources", Value::array(self.resources.iter().map(|r| Value::from(r.as_str())).collect())),
            ("detail", detail),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Records deliveries; full after `capacity`.
    struct Recorder {
        seen: Mutex<Vec<(String, String, String)>>,
        capacity: usize,
    }

    impl TargetSink for Recorder {
        fn deliver(&self, d: Delivery) -> Result<(), DeliveryError> {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            if seen.len() >= self.capacity {
                return Err(DeliveryError::Full);
            }
            seen.push((d.rule.to_string(), d.target_id.to_string(), d.input.text()));
            Ok(())
        }
    }

    fn setup(capacity: usize) -> (Buses, Arc<Recorder>) {
        let sink = Arc::new(Recorder { seen: Mutex::new(Vec::new()), capacity });
        (Buses::new("us-east-1", "123456789012", sink.clone()), sink)
    }

    fn rule(name: &str, pattern: &str) -> RuleSpec {
        RuleSpec { name: name.into(), event_pattern: pattern.into(), state: RuleState::Enabled, description: None }
    }

    fn target(id: &str) -> TargetSpec {
        TargetSpec {
            id: id.into(),
            arn: format!("arn:aws:states:us-east-1:123456789012:stateMachine:{id}"),
            ..TargetSpec::default()
        }
    }

    fn entry(detail: &str) -> EventEntry {
        EventEntry {
            source: Some("app".into()),
            detail_type: Some("T".into()),
            detail: Some(detail.into()),
            ..EventEntry::default()
        }
    }

    #[test]
    fn one_event_matching_n_rules_makes_n_deliveries() {
        let (buses, sink) = setup(100);
        buses.put_rule(None, rule("all", r#"{"source": ["app"]}"#)).unwrap();
        buses.put_rule(None, rule("big", r#"{"detail": {"n": [{"numeric": [">", 10]}]}}"#)).unwrap();
        buses.put_rule(None, rule("none", r#"{"source": ["other"]}"#)).unwrap();
        buses.put_targets(None, "all", vec![target("a1"), target("a2")]).unwrap();
        let mut t = target("b1");
        t.input_transformer =
            Some((vec![("n".into(), "$.detail.n".into())], r#"{"value": <n>, "rule": "<aws.events.rule-name>"}"#.into()));
        buses.put_targets(None, "big", vec![t]).unwrap();
        let results = buses.put_events(&[entry(r#"{"n": 12.50}"#), entry(r#"{"n": 1}"#)]);
        assert!(results.iter().all(|r| matches!(r, EntryResult::Accepted { .. })));
        let seen = sink.seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 5);
        assert!(seen.contains(&("big".into(), "b1".into(), r#"{"value": 12.5, "rule": "big"}"#.into())));
        assert_eq!(buses.rule_stats(None, "all").unwrap(), RuleStats { matched: 2, started: 4, failed: 0 });
        assert_eq!(buses.rule_stats(None, "big").unwrap(), RuleStats { matched: 1, started: 1, failed: 0 });
        assert_eq!(buses.rule_stats(None, "none").unwrap(), RuleStats::default());
    }

    #[test]
    fn entries_fail_with_aws_codes_and_nothing_is_lost_when_full() {
        let (buses, sink) = setup(1);
        buses.put_rule(None, rule("r", r#"{"source": ["app"]}"#)).unwrap();
        buses.put_targets(None, "r", vec![target("t")]).unwrap();
        let mut no_source = entry("{}");
        no_source.source = None;
        let mut other_bus = entry("{}");
        other_bus.event_bus_name = Some("nope".into());
        let results = buses.put_events(&[entry("{}"), entry("{}"), entry("[1]"), no_source, other_bus]);
        assert!(matches!(results[0], EntryResult::Accepted { .. }));
        assert_eq!(results[1], EntryResult::Failed { code: "ThrottlingException", message: "Rate exceeded".into() });
        assert!(matches!(&results[2], EntryResult::Failed { code: "MalformedDetail", .. }));
        assert!(matches!(&results[3], EntryResult::Failed { code: "InvalidArgument", .. }));
        assert!(matches!(&results[4], EntryResult::Failed { code: "NotFoundException", .. }));
        assert_eq!(sink.seen.lock().unwrap().len(), 1);
        assert_eq!(buses.rule_stats(None, "r").unwrap(), RuleStats { matched: 2, started: 1, failed: 1 });
    }

    #[test]
    fn rules_buses_and_targets_lifecycle() {
        let (buses, sink) = setup(100);
        assert_eq!(buses.create_bus("orders").unwrap(), "arn:aws:events:us-east-1:123456789012:event-bus/orders");
        assert_eq!(buses.create_bus("orders").unwrap_err().aws_type, "ResourceAlreadyExistsException");
        let arn = buses.put_rule(Some("orders"), rule("r", r#"{"source": ["app"]}"#)).unwrap();
        assert_eq!(arn, "arn:aws:events:us-east-1:123456789012:rule/orders/r");
        assert_eq!(
            buses.put_rule(None, rule("bad", r#"{"source": "app"}"#)).unwrap_err().aws_type,
            "InvalidEventPatternException"
        );
        buses.put_targets(Some("orders"), "r", vec![target("t")]).unwrap();
        assert_eq!(
            buses.delete_rule(Some("orders"), "r", false).unwrap_err().message,
            "Rule can't be deleted since it has targets."
        );
        buses.set_rule_state(Some("orders"), "r", RuleState::Disabled).unwrap();
        let mut e = entry("{}");
        e.event_bus_name = Some("arn:aws:events:us-east-1:123456789012:event-bus/orders".into());
        buses.put_events(std::slice::from_ref(&e));
        assert!(sink.seen.lock().unwrap().is_empty(), "a disabled rule delivers nothing");
        buses.set_rule_state(Some("orders"), "r", RuleState::Enabled).unwrap();
        buses.put_events(std::slice::from_ref(&e));
        assert_eq!(sink.seen.lock().unwrap().len(), 1);
        let many: Vec<TargetSpec> = (0..6).map(|i| target(&format!("x{i}"))).collect();
        let failed = buses.put_targets(Some("orders"), "r", many).unwrap();
        assert_eq!(failed.len(), 2);
        assert_eq!(failed[0].1.aws_type, "LimitExceededException");
        buses.remove_targets(Some("orders"), "r", &["t".into(), "x0".into()]).unwrap();
        assert_eq!(buses.list_targets(Some("orders"), "r").unwrap().len(), 3);
        assert_eq!(buses.list_rules(Some("orders"), Some("r")).unwrap().len(), 1);
        buses.delete_rule(Some("orders"), "r", true).unwrap();
        assert_eq!(buses.describe_rule(Some("orders"), "r").unwrap_err().aws_type, "ResourceNotFoundException");
        buses.delete_bus("orders").unwrap();
        assert_eq!(buses.list_buses(None), vec![("default".to_string(), buses.bus_arn("default"))]);
    }

    #[test]
    fn iso_seconds_per_second() {
        assert_eq!(iso_seconds(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_seconds(999), "1970-01-01T00:00:00Z");
        assert_eq!(iso_seconds(1_000), "1970-01-01T00:00:01Z");
        assert_eq!(iso_seconds(-1), "1969-12-31T23:59:59Z");
        assert_eq!(iso_seconds(1_513_968_228_123), "2017-12-22T18:43:48Z");
    }

    #[test]
    fn envelope_keeps_detail_spelling() {
        let (buses, _) = setup(1);
        let resources = ["r1".to_string(), "\"quoted\"".to_string()];
        let time = iso_seconds(0);
        let envelope =
            Envelope { id: "id-1", source: "app", detail_type: "T\u{e9}", resources: &resources, time: &time, bus: &buses };
        let detail = r#" {"n": 1.50, "s": ["\u00e9"]} "#;
        let text = envelope.text(detail);
        assert_eq!(
            text,
            r#"{"version":"0","id":"id-1","detail-type":"Té","source":"app","account":"123456789012","time":"1970-01-01T00:00:00Z","region":"us-east-1","resources":["r1","\"quoted\""],"detail":{"n": 1.50, "s": ["\u00e9"]}}"#
        );
        // The value built from the parts is the value of the text.
        let built = envelope.value(parse_str(detail).unwrap());
        assert_eq!(built, parse_str(&text).unwrap());
        assert_eq!(built.to_json(), parse_str(&text).unwrap().to_json());
    }
}
