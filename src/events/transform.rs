//! What a rule's target receives: the whole event, a constant (`Input`), a part of the event
//! (`InputPath`), or a template filled from the event (`InputTransformer`).
//!
//! `InputTransformer` follows EventBridge's documented rules:
//! - `InputPathsMap` names JSON paths into the event (at most 100; names `[A-Za-z0-9_-]+`, not
//!   starting with `AWS.`); a path that selects nothing creates no variable.
//! - `<name>` in `InputTemplate` is replaced by the variable's value. Inside a JSON string of the
//!   template the value goes in as raw text, not escaped (a string's characters, a number's
//!   digits; an object or array loses its inner quotes: `"Detail is <detail>"` gives
//!   `"Detail is {key1: value1}"`). Outside strings it goes in as JSON (`{"id": <id>}` gives
//!   `{"id": "i-123"}`). A `<...>` naming no variable is left as written.
//! - Predefined variables: `aws.events.rule-arn`, `aws.events.rule-name`,
//!   `aws.events.event.ingestion-time`, `aws.events.event` (the event without `detail`) and
//!   `aws.events.event.json` (the whole event).
//! - A template that is not JSON (does not start with `{`, `[` or `"`) is plain text, and every
//!   placeholder in it goes in as text.
//! - The result is text; targets that need JSON (state machines) parse it and fail the delivery
//!   when it is not JSON, as AWS fails such invocations.
//!
//! Where AWS's documentation is silent we chose: a placeholder whose path selected nothing
//! becomes `null` outside strings and nothing inside them (AWS says only that the variable is
//! not created), and an `InputPath` that selects nothing gives `null`.

use crate::jsonpath::Path;
use crate::value::{parse_str, Value};

/// Most variables an `InputPathsMap` may define.
pub const MAX_INPUT_PATHS: usize = 100;
/// Longest `Input` or `InputTemplate`, in characters.
pub const MAX_TEMPLATE_LEN: usize = 8192;

/// A target input that cannot be used, with a message like EventBridge's ValidationException.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TransformError(pub String);

/// How a target's input is made from the event.
#[derive(Debug, Clone)]
pub enum TargetInput {
    /// The whole event.
    Event,
    /// `Input`: constant JSON, whatever the event.
    Constant(Value),
    /// `InputPath`: the part of the event a JSON path selects.
    Path(Path),
    Transformer(InputTransformer),
}

/// `InputTransformer`: variables from the event and a template they fill.
#[derive(Debug, Clone)]
pub struct InputTransformer {
    paths: Vec<(String, Path)>,
    template: String,
}

/// A target's input: JSON, or the text an input transformer made (which need not be JSON).
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    Json(Value),
    Text(String),
}

impl Payload {
    /// The input as JSON, for targets that need JSON.
    pub fn into_json(self) -> Result<Value, String> {
        match self {
            Payload::Json(v) => Ok(v),
            Payload::Text(t) => parse_str(&t).map_err(|e| e.message),
        }
    }

    /// The input as text.
    pub fn text(&self) -> String {
        match self {
            Payload::Json(v) => v.to_json(),
            Payload::Text(t) => t.clone(),
        }
    }
}

/// What the predefined variables refer to.
pub struct DeliveryContext<'a> {
    pub rule_arn: &'a str,
    pub rule_name: &'a str,
    pub ingestion_time: &'a str,
}

impl TargetInput {
    /// `Input`: must be valid JSON.
    pub fn constant(text: &str) -> Result<TargetInput, TransformError> {
        if text.chars().count() > MAX_TEMPLATE_LEN {
            return Err(TransformError(format!("Input must be at most {MAX_TEMPLATE_LEN} characters")));
        }
        parse_str(text).map(TargetInput::Constant).map_err(|e| TransformError(format!("Input is not valid JSON: {e}")))
    }

    /// `InputPath`.
    pub fn path(text: &str) -> Result<TargetInput, TransformError> {
        parse_event_path(text).map(TargetInput::Path)
    }

    /// The input for one delivery. JSON stays a value (no serialising for state machines);
    /// a transformer's result is text.
    pub fn render(&self, event: &Value, ctx: &DeliveryContext<'_>) -> Payload {
        match self {
            TargetInput::Event => Payload::Json(event.clone()),
            TargetInput::Constant(v) => Payload::Json(v.clone()),
            TargetInput::Path(p) => Payload::Json(p.select(event).unwrap_or_default()),
            TargetInput::Transformer(t) => Payload::Text(t.render(event, ctx)),
        }
    }
}

fn parse_event_path(text: &str) -> Result<Path, TransformError> {
    if text.is_empty() || text.len() > 256 {
        return Err(TransformError(format!("JSON path must be 1 to 256 characters: {text}")));
    }
    let path = Path::parse(text).map_err(|e| TransformError(format!("Invalid JSON path {text}: {e}")))?;
    if !matches!(path.root(), crate::jsonpath::Root::Input) {
        return Err(TransformError(format!("Invalid JSON path {text}: it must start with $")));
    }
    Ok(path)
}

const PREDEFINED: [&str; 5] = [
    "aws.events.rule-arn",
    "aws.events.rule-name",
    "aws.events.event.ingestion-time",
    "aws.events.event",
    "aws.events.event.json",
];

impl InputTransformer {
    /// Checks the map and template as PutTargets does.
    pub fn new<'p>(
        paths: impl IntoIterator<Item = (&'p str, &'p str)>,
        template: &str,
    ) -> Result<InputTransformer, TransformError> {
        let mut compiled = Vec::new();
        for (name, path) in paths {
            if name.is_empty() || name.len() > 256 || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
                return Err(TransformError(format!(
                    "InputPathsMap key {name:?} must match [A-Za-z0-9_-]+ (1 to 256 characters)"
                )));
            }
            if name.starts_with("AWS.") {
                return Err(TransformError(format!("InputPathsMap key {name:?} must not start with AWS.")));
            }
            compiled.push((name.to_string(), parse_event_path(path)?));
        }
        if compiled.len() > MAX_INPUT_PATHS {
            return Err(TransformError(format!("InputPathsMap has more than {MAX_INPUT_PATHS} entries")));
        }
        if template.is_empty() || template.chars().count() > MAX_TEMPLATE_LEN {
            return Err(TransformError(format!("InputTemplate must be 1 to {MAX_TEMPLATE_LEN} characters")));
        }
        Ok(InputTransformer { paths: compiled, template: template.to_string() })
    }

    /// Fills the template from the event.
    pub fn render(&self, event: &Value, ctx: &DeliveryContext<'_>) -> String {
        let values: Vec<(&str, Option<Value>)> =
            self.paths.iter().map(|(name, path)| (name.as_str(), path.select(event).ok())).collect();
        let mut out = String::with_capacity(self.template.len() + 64);
        // A template that is not JSON (`<instance> is in state <status>`) is plain text: every
        // placeholder goes in as text, as inside a JSON string.
        let plain = !self.template.trim_start().starts_with(['{', '[', '"']);
        let mut in_string = plain;
        let mut rest = self.template.as_str();
        while let Some(c) = rest.chars().next() {
            if c == '<' {
                if let Some(end) = rest.find('>') {
                    let name = &rest[1..end];
                    if let Some(text) = self.variable(name, &values, event, ctx, in_string) {
                        out.push_str(&text);
                        rest = &rest[end + 1..];
                        continue;
                    }
                }
            }
            match c {
                _ if plain => {}
                '\\' if in_string => {
                    // Keep an escape and the character it escapes together.
                    let mut it = rest.chars();
                    out.push(it.next().unwrap_or('\\'));
                    if let Some(next) = it.next() {
                        out.push(next);
                    }
                    rest = it.as_str();
                    continue;
                }
                '"' => in_string = !in_string,
                _ => {}
            }
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
        out
    }

    fn variable(
        &self,
        name: &str,
        values: &[(&str, Option<Value>)],
        event: &Value,
        ctx: &DeliveryContext<'_>,
        in_string: bool,
    ) -> Option<String> {
        let value = match name {
            "aws.events.rule-arn" => Value::from(ctx.rule_arn),
            "aws.events.rule-name" => Value::from(ctx.rule_name),
            "aws.events.event.ingestion-time" => Value::from(ctx.ingestion_time),
            "aws.events.event.json" => return Some(event.to_json()),
            "aws.events.event" => {
                let mut without = event.clone();
                if let Some(map) = without.as_object_mut() {
                    map.shift_remove("detail");
                }
                return Some(without.to_json());
            }
            _ => match values.iter().find(|(n, _)| *n == name) {
                Some((_, Some(v))) => v.clone(),
                Some((_, None)) => return Some(if in_string { String::new() } else { "null".into() }),
                None => return None,
            },
        };
        debug_assert!(!PREDEFINED.contains(&name) || matches!(value, Value::String(_)));
        Some(if in_string {
            match &value {
                Value::String(s) => s.to_string(),
                Value::Object(_) | Value::Array(_) => value.to_json().replace('"', ""),
                other => other.to_json(),
            }
        } else {
            value.to_json()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = r#"{"version":"0","id":"7bf73129-1428-4cd3-a780-95db273d1602","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"123456789012","time":"2015-11-11T21:29:54Z","region":"us-east-1","resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],"detail":{"instance-id":"i-0123456789","state":"RUNNING"}}"#;

    fn ctx() -> DeliveryContext<'static> {
        DeliveryContext {
            rule_arn: "arn:aws:events:us-east-1:123456789012:rule/r",
            rule_name: "r",
            ingestion_time: "2015-11-11T21:29:55Z",
        }
    }

    fn render(paths: &[(&str, &str)], template: &str) -> String {
        let t = InputTransformer::new(paths.iter().copied(), template).unwrap();
        t.render(&parse_str(EVENT).unwrap(), &ctx())
    }

    const PATHS: &[(&str, &str)] = &[
        ("instance", "$.detail.instance-id"),
        ("state", "$.detail.state"),
        ("resource", "$.resources[0]"),
        ("detail", "$.detail"),
    ];

    #[test]
    fn documented_examples() {
        // Variables in quotes go in as text; outside quotes as JSON.
        assert_eq!(render(PATHS, r#""instance <instance> is in <state>""#), r#""instance i-0123456789 is in RUNNING""#);
        assert_eq!(
            render(PATHS, r#"{"instance" : <instance>, "state": <state>}"#),
            r#"{"instance" : "i-0123456789", "state": "RUNNING"}"#
        );
        assert_eq!(
            render(PATHS, r#"{"instance" : "<instance>", "state": "<state>"}"#),
            r#"{"instance" : "i-0123456789", "state": "RUNNING"}"#
        );
        assert_eq!(
            render(PATHS, r#"{"myInstance": <instance>,"myStatus": "<instance> is in state \"<state>\""}"#),
            r#"{"myInstance": "i-0123456789","myStatus": "i-0123456789 is in state \"RUNNING\""}"#
        );
        assert_eq!(render(PATHS, "<instance> is in state <state>"), "i-0123456789 is in state RUNNING");
        assert_eq!(render(PATHS, r#""Detail is <detail>""#), r#""Detail is {instance-id:i-0123456789,state:RUNNING}""#);
        assert_eq!(render(PATHS, r#"{"detail": <detail>}"#), r#"{"detail": {"instance-id":"i-0123456789","state":"RUNNING"}}"#);
        assert_eq!(render(PATHS, r#"{"r": "<resource>"}"#), r#"{"r": "arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"}"#);
    }

    #[test]
    fn predefined_and_unknown_variables() {
        let out = render(
            &[],
            r#"{"rule": "<aws.events.rule-name>", "arn": <aws.events.rule-arn>, "at": "<aws.events.event.ingestion-time>", "html": "<b>"}"#,
        );
        assert_eq!(
            out,
            r#"{"rule": "r", "arn": "arn:aws:events:us-east-1:123456789012:rule/r", "at": "2015-11-11T21:29:55Z", "html": "<b>"}"#
        );
        let whole = render(&[], r#"{"e": <aws.events.event.json>}"#);
        assert!(parse_str(&whole).unwrap().get("e").and_then(|e| e.get("detail")).is_some());
        let without = render(&[], r#"{"e": <aws.events.event>}"#);
        let e = parse_str(&without).unwrap();
        assert!(e.get("e").and_then(|e| e.get("detail")).is_none());
        assert_eq!(e.get("e").and_then(|e| e.get("source")).and_then(Value::as_str), Some("aws.ec2"));
    }

    #[test]
    fn missing_paths_and_checks() {
        assert_eq!(render(&[("x", "$.detail.nope")], r#"{"a": <x>, "b": "<x>"}"#), r#"{"a": null, "b": ""}"#);
        assert!(InputTransformer::new([("AWS.x", "$.a")], "<x>").is_err());
        assert!(InputTransformer::new([("bad name", "$.a")], "<x>").is_err());
        assert!(InputTransformer::new([("x", "detail")], "<x>").is_err());
        assert!(InputTransformer::new([("x", "$.a")], "").is_err());
        assert!(TargetInput::constant("{not json").is_err());
        let event = parse_str(EVENT).unwrap();
        assert_eq!(TargetInput::path("$.detail.state").unwrap().render(&event, &ctx()).text(), r#""RUNNING""#);
        assert_eq!(TargetInput::path("$.nothing").unwrap().render(&event, &ctx()).text(), "null");
        assert_eq!(TargetInput::constant(r#"{"k": 1}"#).unwrap().render(&event, &ctx()).text(), r#"{"k":1}"#);
    }
}
