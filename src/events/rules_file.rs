//! The rules file: buses, state machines, rules and targets declared in one JSON file, loaded
//! at start so a sidecar needs no setup calls. Each entry is what the equivalent API call takes
//! (CreateEventBus, PutRule, PutTargets), with the same field names; `docs/EVENTS.md` documents
//! the format.
//!
//! A rule has an `EventPattern` or a `ScheduleExpression` (default bus only), as PutRule takes.
//!
//! Invariants: unknown keys are errors (a misspelt `EventPatern` must not silently match
//! everything); every problem names the rule or target it is in; applying a file either sets
//! up everything it declares or reports the first problem.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value as Json};

use super::api::EventsApi;
use super::bus::{RuleSpec, RuleState, TargetSpec, DEFAULT_BUS};

/// A rules file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RulesFileError(pub String);

fn err<T>(message: impl Into<String>) -> Result<T, RulesFileError> {
    Err(RulesFileError(message.into()))
}

/// A state machine the file declares: targets name it by ARN.
#[derive(Debug, Clone, PartialEq)]
pub struct FileStateMachine {
    pub name: String,
    pub definition_file: PathBuf,
}

/// What makes a rule fire.
#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    /// Events on its bus that match this pattern (JSON text).
    EventPattern(String),
    /// A `rate(...)` or `cron(...)` expression: a Scheduled Event on the default bus.
    Schedule(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct FileRule {
    pub bus: String,
    pub name: String,
    pub state: RuleState,
    pub description: Option<String>,
    pub trigger: Trigger,
    pub targets: Vec<TargetSpec>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct RulesFile {
    pub buses: Vec<String>,
    pub state_machines: Vec<FileStateMachine>,
    pub rules: Vec<FileRule>,
}

fn check_keys(obj: &Map<String, Json>, allowed: &[&str], what: &str) -> Result<(), RulesFileError> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => err(format!("{what}: unknown key {k:?} (expected one of {})", allowed.join(", "))),
        None => Ok(()),
    }
}

fn string(obj: &Map<String, Json>, key: &str, what: &str) -> Result<Option<String>, RulesFileError> {
    match obj.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s.clone())),
        Some(_) => err(format!("{what}: {key} must be a string")),
    }
}

fn required(obj: &Map<String, Json>, key: &str, what: &str) -> Result<String, RulesFileError> {
    string(obj, key, what)?.ok_or_else(|| RulesFileError(format!("{what}: {key} is required")))
}

fn objects<'a>(obj: &'a Map<String, Json>, key: &str, what: &str) -> Result<Vec<&'a Map<String, Json>>, RulesFileError> {
    match obj.get(key) {
        None => Ok(Vec::new()),
        Some(Json::Array(items)) => items
            .iter()
            .map(|i| i.as_object().ok_or_else(|| RulesFileError(format!("{what}: every entry of {key} must be an object"))))
            .collect(),
        Some(_) => err(format!("{what}: {key} must be an array")),
    }
}

/// A JSON text field that may also be written as JSON (`EventPattern`, `Input`).
fn json_text(obj: &Map<String, Json>, key: &str, what: &str) -> Result<Option<String>, RulesFileError> {
    match obj.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s.clone())),
        Some(v @ (Json::Object(_) | Json::Array(_))) => Ok(Some(v.to_string())),
        Some(_) => err(format!("{what}: {key} must be JSON text or a JSON object")),
    }
}

impl RulesFile {
    pub fn load(path: &Path) -> Result<RulesFile, RulesFileError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| RulesFileError(format!("cannot read the rules file {}: {e}", path.display())))?;
        RulesFile::parse(&text, path.parent().unwrap_or(Path::new(".")))
    }

    /// Parses a rules file; relative paths in it are relative to `base`.
    pub fn parse(text: &str, base: &Path) -> Result<RulesFile, RulesFileError> {
        let root: Json =
            serde_json::from_str(text).map_err(|e| RulesFileError(format!("the rules file is not valid JSON: {e}")))?;
        let Some(root) = root.as_object() else {
            return err("the rules file must be a JSON object");
        };
        check_keys(root, &["EventBuses", "StateMachines", "Rules"], "rules file")?;
        let mut file = RulesFile::default();
        for bus in objects(root, "EventBuses", "EventBuses")? {
            check_keys(bus, &["Name"], "event bus")?;
            file.buses.push(required(bus, "Name", "event bus")?);
        }
        for sm in objects(root, "StateMachines", "StateMachines")? {
            check_keys(sm, &["Name", "DefinitionFile"], "state machine")?;
            let name = required(sm, "Name", "state machine")?;
            let what = format!("state machine {name}");
            let definition_file = base.join(required(sm, "DefinitionFile", &what)?);
            file.state_machines.push(FileStateMachine { name, definition_file });
        }
        for rule in objects(root, "Rules", "Rules")? {
            check_keys(
                rule,
                &["Name", "EventBusName", "EventPattern", "ScheduleExpression", "State", "Description", "Targets"],
                "rule",
            )?;
            let name = required(rule, "Name", "rule")?;
            let what = format!("rule {name}");
            let bus = string(rule, "EventBusName", &what)?.unwrap_or_else(|| DEFAULT_BUS.to_string());
            let trigger = match (json_text(rule, "EventPattern", &what)?, string(rule, "ScheduleExpression", &what)?) {
                (Some(pattern), None) => Trigger::EventPattern(pattern),
                (None, Some(_)) if bus != DEFAULT_BUS => {
                    return err(format!("{what}: ScheduleExpression is supported only on the default event bus"))
                }
                (None, Some(expression)) => Trigger::Schedule(expression),
                (None, None) => return err(format!("{what}: EventPattern or ScheduleExpression is required")),
                (Some(_), Some(_)) => return err(format!("{what}: give either EventPattern or ScheduleExpression, not both")),
            };
            let state = match string(rule, "State", &what)? {
                Some(s) => RuleState::parse(&s).map_err(|e| RulesFileError(format!("{what}: {e}")))?,
                None => RuleState::Enabled,
            };
            let description = string(rule, "Description", &what)?;
            let mut targets = Vec::new();
            for t in objects(rule, "Targets", &what)? {
                targets.push(target(t, &what)?);
            }
            file.rules.push(FileRule { bus, name, state, description, trigger, targets });
        }
        Ok(file)
    }

    /// Whether some rule runs on a schedule (its owner must tick [`EventsApi::fire_due`]).
    pub fn has_schedules(&self) -> bool {
        self.rules.iter().any(|r| matches!(r.trigger, Trigger::Schedule(_)))
    }

    /// Creates the buses, rules and targets through `api`, as the API calls would.
    pub fn apply(&self, api: &EventsApi) -> Result<(), RulesFileError> {
        let buses = api.buses();
        for name in &self.buses {
            if name != DEFAULT_BUS {
                buses.create_bus(name).map_err(|e| RulesFileError(format!("event bus {name}: {e}")))?;
            }
        }
        for rule in &self.rules {
            let what = format!("rule {}", rule.name);
            let (name, state, description) = (rule.name.clone(), rule.state, rule.description.clone());
            match &rule.trigger {
                Trigger::EventPattern(pattern) => {
                    let spec = RuleSpec { name, event_pattern: pattern.clone(), state, description };
                    buses.put_rule(Some(&rule.bus), spec).map_err(|e| RulesFileError(format!("{what}: {e}")))?;
                }
                Trigger::Schedule(expression) => {
                    api.put_scheduled_rule(name, expression, state, description)
                        .map_err(|e| RulesFileError(format!("{what}: {e}")))?;
                }
            }
            for chunk in rule.targets.chunks(super::bus::MAX_ENTRIES) {
                let failed = buses
                    .put_targets(Some(&rule.bus), &rule.name, chunk.to_vec())
                    .map_err(|e| RulesFileError(format!("{what}: {e}")))?;
                if let Some((id, e)) = failed.first() {
                    return err(format!("{what}, target {id}: {e}"));
                }
            }
        }
        Ok(())
    }
}

fn target(t: &Map<String, Json>, rule: &str) -> Result<TargetSpec, RulesFileError> {
    check_keys(t, &["Id", "Arn", "RoleArn", "Input", "InputPath", "InputTransformer"], &format!("{rule}: target"))?;
    let id = required(t, "Id", &format!("{rule}: target"))?;
    let what = format!("{rule}, target {id}");
    let arn = required(t, "Arn", &what)?;
    if arn.starts_with("https://") {
        return err(format!("{what}: https:// endpoints are not supported (no TLS is built in); use an http:// URL"));
    }
    let input_transformer = match t.get("InputTransformer") {
        None | Some(Json::Null) => None,
        Some(Json::Object(x)) => {
            check_keys(x, &["InputPathsMap", "InputTemplate"], &what)?;
            let template = required(x, "InputTemplate", &what)?;
            let mut paths = Vec::new();
            match x.get("InputPathsMap") {
                None | Some(Json::Null) => {}
                Some(Json::Object(m)) => {
                    for (k, v) in m {
                        let Some(v) = v.as_str() else {
                            return err(format!("{what}: InputPathsMap values must be JSON path strings"));
                        };
                        paths.push((k.clone(), v.to_string()));
                    }
                }
                Some(_) => return err(format!("{what}: InputPathsMap must be an object")),
            }
            Some((paths, template))
        }
        Some(_) => return err(format!("{what}: InputTransformer must be an object")),
    };
    Ok(TargetSpec {
        id,
        arn,
        role_arn: string(t, "RoleArn", &what)?,
        input: json_text(t, "Input", &what)?,
        input_path: string(t, "InputPath", &what)?,
        input_transformer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"{
      "EventBuses": [{"Name": "orders"}],
      "StateMachines": [{"Name": "chain", "DefinitionFile": "chain.asl.json"}],
      "Rules": [
        {"Name": "big", "EventBusName": "orders", "EventPattern": {"detail": {"total": [{"numeric": [">", 100]}]}},
         "Targets": [
           {"Id": "run", "Arn": "arn:aws:states:us-east-1:123456789012:stateMachine:chain", "InputPath": "$.detail"},
           {"Id": "log", "Arn": "ndjson:-", "InputTransformer": {"InputPathsMap": {"t": "$.detail.total"}, "InputTemplate": "{\"total\": <t>}"}}
         ]},
        {"Name": "all", "EventPattern": "{\"source\": [{\"prefix\": \"\"}]}", "State": "DISABLED", "Description": "everything"}
      ]
    }"#;

    #[test]
    fn parses_and_applies() {
        let file = RulesFile::parse(FILE, Path::new("/base")).unwrap();
        assert_eq!(file.buses, vec!["orders"]);
        assert_eq!(file.state_machines[0].definition_file, PathBuf::from("/base/chain.asl.json"));
        assert_eq!(file.rules[0].bus, "orders");
        assert_eq!(file.rules[0].targets[0].input_path.as_deref(), Some("$.detail"));
        assert_eq!(file.rules[1].state, RuleState::Disabled);
        assert!(!file.has_schedules());
        let (api, _) = api();
        file.apply(&api).unwrap();
        let buses = api.buses();
        assert_eq!(buses.list_targets(Some("orders"), "big").unwrap().len(), 2);
        assert_eq!(buses.describe_rule(None, "all").unwrap().description.as_deref(), Some("everything"));
    }

    /// Records every delivery's input.
    #[derive(Default)]
    struct Recorder(std::sync::Mutex<Vec<String>>);
    impl super::super::bus::TargetSink for Recorder {
        fn deliver(&self, d: super::super::bus::Delivery) -> Result<(), super::super::bus::DeliveryError> {
            self.0.lock().unwrap().push(d.input.text());
            Ok(())
        }
    }

    fn api() -> (EventsApi, std::sync::Arc<Recorder>) {
        let sink = std::sync::Arc::new(Recorder::default());
        let buses = super::super::bus::Buses::new("us-east-1", "123456789012", sink.clone());
        (EventsApi::new(std::sync::Arc::new(buses)), sink)
    }

    #[test]
    fn scheduled_rules_fire_like_api_made_ones() {
        let text = r#"{"Rules": [{"Name": "tick", "ScheduleExpression": "rate(5 minutes)",
          "Targets": [{"Id": "t", "Arn": "ndjson:-", "InputTransformer":
            {"InputPathsMap": {"r": "$.resources[0]", "t": "$.detail-type"}, "InputTemplate": "<t> for <r>"}}]}]}"#;
        let file = RulesFile::parse(text, Path::new(".")).unwrap();
        assert!(file.has_schedules());
        let (api, sink) = api();
        file.apply(&api).unwrap();
        let described = api.call("DescribeRule", &serde_json::json!({"Name": "tick"})).unwrap();
        assert_eq!(described["ScheduleExpression"], "rate(5 minutes)");
        let start = super::super::bus::now_ms();
        assert_eq!(api.fire_due(start), 0, "not due yet");
        assert_eq!(api.fire_due(start + 6 * 60_000), 1);
        let arn = "arn:aws:events:us-east-1:123456789012:rule/tick";
        assert_eq!(*sink.0.lock().unwrap(), vec![format!("Scheduled Event for {arn}")]);

        let bad = r#"{"Rules": [{"Name": "r", "ScheduleExpression": "rate(1 minutes)"}]}"#;
        let e = RulesFile::parse(bad, Path::new(".")).unwrap().apply(&api).unwrap_err();
        assert_eq!(e.0, "rule r: ValidationException: Parameter ScheduleExpression is not valid.");
    }

    #[test]
    fn problems_name_their_place() {
        for (text, msg) in [
            (r#"{"Rulez": []}"#, "unknown key \"Rulez\""),
            (r#"{"Rules": [{"Name": "r"}]}"#, "rule r: EventPattern or ScheduleExpression is required"),
            (
                r#"{"Rules": [{"Name": "r", "EventPattern": {}, "ScheduleExpression": "rate(1 minute)"}]}"#,
                "rule r: give either EventPattern or ScheduleExpression, not both",
            ),
            (
                r#"{"EventBuses": [{"Name": "b"}], "Rules": [{"Name": "r", "EventBusName": "b", "ScheduleExpression": "rate(1 minute)"}]}"#,
                "rule r: ScheduleExpression is supported only on the default event bus",
            ),
            (r#"{"Rules": [{"Name": "r", "EventPatern": {}}]}"#, "unknown key \"EventPatern\""),
            (
                r#"{"Rules": [{"Name": "r", "EventPattern": {}, "Targets": [{"Id": "t", "Arn": "https://x"}]}]}"#,
                "rule r, target t: https:// endpoints",
            ),
            (r#"{"Rules": [{"Name": "r", "EventPattern": {}, "State": "ON"}]}"#, "rule r: 1 validation error"),
        ] {
            let e = RulesFile::parse(text, Path::new(".")).unwrap_err();
            assert!(e.0.contains(msg), "{text}: {e}");
        }
        let bad_pattern = RulesFile::parse(r#"{"Rules": [{"Name": "r", "EventPattern": {"a": "x"}}]}"#, Path::new(".")).unwrap();
        let e = bad_pattern.apply(&api().0).unwrap_err();
        assert!(e.0.starts_with("rule r: Event pattern is not valid. Reason: \"a\" must be an object or an array"), "{e}");
    }
}
