//! CreateStateMachine, DescribeStateMachine, UpdateStateMachine, DeleteStateMachine,
//! ListStateMachines and ValidateStateMachineDefinition.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{json, Map, Value as Json};

use crate::asl::{validate as validate_definition, Severity, StateMachineType};
use crate::clock::Clock;

use super::super::arns::{parse_machine_arn, valid_name, Qualifier};
use super::super::logging::LoggingConfig;
use super::super::protocol::{check_length, parse_request, timestamp, ApiError, ErrorCode};
use super::super::registry::{Revision, Settings};
use super::super::ServerState;
use super::{ok, parse_tags, required_str, Page};

/// AWS's limit on a definition's length, in characters.
const MAX_DEFINITION_CHARS: usize = 1_048_576;

fn now() -> i64 {
    Clock::new().now_ms()
}

fn parse_type(v: Option<&str>) -> Result<StateMachineType, ApiError> {
    match v {
        None | Some("STANDARD") => Ok(StateMachineType::Standard),
        Some("EXPRESS") => Ok(StateMachineType::Express),
        Some(other) => Err(ApiError::bad_enum("type", other, &["STANDARD", "EXPRESS"])),
    }
}

pub fn type_name(kind: StateMachineType) -> &'static str {
    match kind {
        StateMachineType::Standard => "STANDARD",
        StateMachineType::Express => "EXPRESS",
    }
}

fn tracing_enabled(v: Option<&Json>) -> Result<Option<bool>, ApiError> {
    match v {
        None | Some(Json::Null) => Ok(None),
        Some(t) => match t.get("enabled") {
            None => Ok(Some(false)),
            Some(Json::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::new(ErrorCode::SerializationException, "tracingConfiguration.enabled must be a boolean")),
        },
    }
}

fn check_definition(definition: &str) -> Result<(), ApiError> {
    check_length(definition, "definition", 1, MAX_DEFINITION_CHARS)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateRequest {
    name: Option<String>,
    definition: Option<String>,
    role_arn: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    logging_configuration: Option<Json>,
    tags: Option<Vec<Json>>,
    tracing_configuration: Option<Json>,
    publish: Option<bool>,
    version_description: Option<String>,
}

pub fn create(state: &ServerState, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let req: CreateRequest = parse_request(body)?;
    let name = required_str(&req.name, "name")?;
    let definition = required_str(&req.definition, "definition")?;
    let role_arn = required_str(&req.role_arn, "roleArn")?;
    if !valid_name(name) {
        return Err(ApiError::invalid_name(name));
    }
    check_definition(definition)?;
    check_length(role_arn, "roleArn", 1, 256)?;
    let kind = parse_type(req.kind.as_deref())?;
    let logging = match &req.logging_configuration {
        Some(l) => LoggingConfig::from_request(l)?,
        None => LoggingConfig::default(),
    };
    let tracing = tracing_enabled(req.tracing_configuration.as_ref())?.unwrap_or(false);
    let tags = parse_tags(req.tags.as_ref())?;
    if tags.len() > super::super::registry::MAX_TAGS {
        return Err(ApiError::too_many_tags(&state.registry.scope.state_machine(name), super::super::registry::MAX_TAGS));
    }
    let publish = req.publish.unwrap_or(false);
    if !publish && req.version_description.is_some() {
        return Err(ApiError::new(ErrorCode::ValidationException, "Version description can only be set when publish is true"));
    }
    let now = now();
    let settings = Settings { role_arn: role_arn.to_string(), logging, tracing_enabled: tracing };
    let revision = state.registry.build_revision(name, definition, kind, settings, now)?;
    let publish = publish.then_some(req.version_description);
    let (arn, created, version) = state.registry.create(revision, tags, publish, now)?;
    let mut out = json!({"stateMachineArn": &*arn, "creationDate": timestamp(created)});
    if let Some(v) = version {
        out["stateMachineVersionArn"] = Json::from(&*v);
    }
    ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArnRequest {
    state_machine_arn: Option<String>,
}

/// The Describe shape of a revision (DescribeStateMachine and DescribeStateMachineForExecution
/// share most members).
pub fn describe_revision(rev: &Revision) -> Map<String, Json> {
    let mut out = Map::new();
    out.insert("name".into(), Json::from(&*rev.name));
    out.insert("definition".into(), Json::from(&*rev.definition));
    out.insert("roleArn".into(), Json::from(&*rev.role_arn));
    out.insert("loggingConfiguration".into(), rev.logging.to_json());
    out.insert("tracingConfiguration".into(), json!({"enabled": rev.tracing_enabled}));
    out.insert("revisionId".into(), Json::from(&*rev.revision_id));
    out
}

pub fn describe(state: &ServerState, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let req: ArnRequest = parse_request(body)?;
    let arn = required_str(&req.state_machine_arn, "stateMachineArn")?;
    let parsed = parse_machine_arn(arn, &state.registry.scope)?.ok_or_else(|| ApiError::state_machine_does_not_exist(arn))?;
    if parsed.test_case.is_some() {
        return Err(ApiError::invalid_arn(arn));
    }
    let machines = state.registry.read();
    let machine = machines.get(&parsed.name).ok_or_else(|| ApiError::state_machine_does_not_exist(arn))?;
    let (rev, arn_out, created, description) = match &parsed.qualifier {
        Qualifier::None => (&machine.current, machine.current.machine_arn.clone(), machine.creation_ms, None),
        Qualifier::Version(n) => {
            let v = machine.versions.get(n).ok_or_else(|| ApiError::state_machine_does_not_exist(arn))?;
            (&v.revision, v.arn.clone(), v.creation_ms, v.description.clone())
        }
        // AWS describes versions through this operation; aliases have their own.
        Qualifier::Alias(_) => return Err(ApiError::invalid_arn(arn)),
    };
    let mut out = describe_revision(rev);
    out.insert("stateMachineArn".into(), Json::from(&*arn_out));
    out.insert("status".into(), Json::from("ACTIVE"));
    out.insert("type".into(), Json::from(type_name(rev.kind)));
    out.insert("creationDate".into(), timestamp(created));
    if let Some(d) = description {
        out.insert("description".into(), Json::from(d));
    }
    ok(Json::Object(out))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateRequest {
    state_machine_arn: Option<String>,
    definition: Option<String>,
    role_arn: Option<String>,
    logging_configuration: Option<Json>,
    tracing_configuration: Option<Json>,
    publish: Option<bool>,
    version_description: Option<String>,
}

pub fn update(state: &ServerState, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let req: UpdateRequest = parse_request(body)?;
    let arn = required_str(&req.state_machine_arn, "stateMachineArn")?;
    let name = state.registry.machine_name(arn)?;
    if req.definition.is_none()
        && req.role_arn.is_none()
        && req.logging_configuration.is_none()
        && req.tracing_configuration.is_none()
    {
        return Err(ApiError::new(
            ErrorCode::MissingRequiredParameter,
            "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified",
        ));
    }
    let publish = req.publish.unwrap_or(false);
    if !publish && req.version_description.is_some() {
        return Err(ApiError::new(ErrorCode::ValidationException, "Version description can only be set when publish is true"));
    }
    if let Some(d) = &req.definition {
        check_definition(d)?;
    }
    if let Some(r) = &req.role_arn {
        check_length(r, "roleArn", 1, 256)?;
    }
    let logging = req.logging_configuration.as_ref().map(LoggingConfig::from_request).transpose()?;
    let tracing = tracing_enabled(req.tracing_configuration.as_ref())?;
    let current = {
        let machines = state.registry.read();
        Arc::clone(&machines.get(&name).ok_or_else(|| ApiError::state_machine_does_not_exist(arn))?.current)
    };
    let now = now();
    let definition = req.definition.as_deref().unwrap_or(&current.definition);
    let changed = req.definition.as_deref().is_some_and(|d| d != &*current.definition)
        || req.role_arn.as_deref().is_some_and(|r| r != &*current.role_arn)
        || logging.as_ref().is_some_and(|l| *l != current.logging)
        || tracing.is_some_and(|t| t != current.tracing_enabled);
    let new_revision = if changed {
        let settings = Settings {
            role_arn: req.role_arn.clone().unwrap_or_else(|| current.role_arn.to_string()),
            logging: logging.unwrap_or_else(|| current.logging.clone()),
            tracing_enabled: tracing.unwrap_or(current.tracing_enabled),
        };
        Some(state.registry.build_revision(&name, definition, current.kind, settings, now)?)
    } else {
        None
    };
    let mut machines = state.registry.write();
    let machine = machines.get_mut(&name).ok_or_else(|| ApiError::state_machine_does_not_exist(arn))?;
    if let Some(rev) = new_revision {
        machine.current = Arc::new(rev);
    }
    let mut out = json!({"updateDate": timestamp(machine.current.update_ms), "revisionId": &*machine.current.revision_id});
    if publish {
        let version = machine.publish(req.version_description, now)?;
        out["stateMachineVersionArn"] = Json::from(&*version.arn);
    }
    ok(out)
}

pub fn delete(state: &ServerState, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let req: ArnRequest = parse_request(body)?;
    let arn = required_str(&req.state_machine_arn, "stateMachineArn")?;
    // Deleting a machine that does not exist succeeds, as on AWS (the call is idempotent).
    // Its versions and aliases go with it; running executions keep their revision and finish.
    match parse_machine_arn(arn, &state.registry.scope)? {
        Some(parsed) if parsed.qualifier == Qualifier::None && parsed.test_case.is_none() => {
            state.registry.write().remove(&parsed.name);
        }
        Some(_) => return Err(ApiError::invalid_arn(arn)),
        None => {}
    }
    ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListRequest {
    max_results: Option<i64>,
    next_token: Option<String>,
}

pub fn list(state: &ServerState, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let req: ListRequest = parse_request(body)?;
    let page = Page::new(req.max_results, req.next_token.as_deref(), "ListStateMachines")?;
    let machines = state.registry.read();
    // Listed by name (the registry's order), which keeps pages stable while machines come and go.
    let items = machines.iter().map(|(name, m)| {
        let item = json!({
            "stateMachineArn": &*m.current.machine_arn,
            "name": name,
            "type": type_name(m.current.kind),
            "creationDate": timestamp(m.creation_ms),
        });
        (name.clone(), item)
    });
    let (items, next) = page.take(items);
    let mut out = json!({"stateMachines": items});
    if let Some(t) = next {
        out["nextToken"] = Json::from(t);
    }
    ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ValidateRequest {
    definition: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    severity: Option<String>,
    max_results: Option<i64>,
}

pub fn validate(body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let req: ValidateRequest = parse_request(body)?;
    let definition = required_str(&req.definition, "definition")?;
    check_definition(definition)?;
    let kind = parse_type(req.kind.as_deref())?;
    let with_warnings = match req.severity.as_deref() {
        None | Some("ERROR") => false,
        Some("WARNING") => true,
        Some(other) => return Err(ApiError::bad_enum("severity", other, &["ERROR", "WARNING"])),
    };
    let max = match req.max_results {
        None | Some(0) => 100,
        Some(n @ 1..=100) => n as usize,
        Some(n) => {
            return Err(ApiError::validation(format!(
                "Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100"
            )))
        }
    };
    let diagnostics: Vec<_> =
        validate_definition(definition, kind).into_iter().filter(|d| with_warnings || d.severity == Severity::Error).collect();
    let failed = diagnostics.iter().any(|d| d.severity == Severity::Error);
    let truncated = diagnostics.len() > max;
    let shown: Vec<Json> = diagnostics.iter().take(max).map(|d| serde_json::to_value(d).unwrap_or(Json::Null)).collect();
    ok(json!({"result": if failed { "FAIL" } else { "OK" }, "diagnostics": shown, "truncated": truncated}))
}
