//! PublishStateMachineVersion, ListStateMachineVersions, DeleteStateMachineVersion and the
//! alias operations (Create/Describe/Update/Delete/ListStateMachineAliases).

use serde::Deserialize;
use serde_json::{json, Value as Json};

use crate::clock::Clock;
use crate::value::Str;

use super::super::arns::{parse_machine_arn, valid_alias_name, MachineArn, Qualifier};
use super::super::protocol::{check_length, parse_request, timestamp, ApiError, ErrorCode};
use super::super::registry::{Alias, Machine, Route};
use super::super::ServerState;
use super::{internal, ok, required_str, Page};

/// Aliases per state machine (AWS's quota).
const MAX_ALIASES: usize = 100;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PublishRequest {
    state_machine_arn: Option<String>,
    revision_id: Option<String>,
    description: Option<String>,
}

pub fn publish(state: &ServerState, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let req: PublishRequest = parse_request(body)?;
    let arn = required_str(&req.state_machine_arn, "stateMachineArn")?;
    if let Some(d) = &req.description {
        check_length(d, "description", 0, 256)?;
    }
    let name = state.registry.machine_name(arn)?;
    let mut machines = state.registry.write();
    let machine = machines.get_mut(&name).ok_or_else(|| ApiError::state_machine_does_not_exist(arn))?;
    if let Some(rid) = &req.revision_id {
        if **rid != *machine.current.revision_id {
            return Err(ApiError::conflict(format!(
                "Failed to publish the State Machine version for revision {rid}. The current State Machine revision is {}.",
                machine.current.revision_id
            )));
        }
    }
    let version = machine.publish(req.description, Clock::new().now_ms())?;
    ok(json!({"creationDate": timestamp(version.creation_ms), "stateMachineVersionArn": &*version.arn}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListRequest {
    state_machine_arn: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

pub fn list_versions(state: &ServerState, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let req: ListRequest = parse_request(body)?;
    let arn = required_str(&req.state_machine_arn, "stateMachineArn")?;
    let page = Page::new(req.max_results, req.next_token.as_deref(), "ListStateMachineVersions")?;
    let name = state.registry.machine_name(arn)?;
    let machines = state.registry.read();
    let machine = machines.get(&name).ok_or_else(|| ApiError::state_machine_does_not_exist(arn))?;
    // Newest first, as AWS lists them; the key sorts descending version numbers ascending.
    let items = machine.versions.values().rev().map(|v| {
        let key = format!("{:010}", u32::MAX - v.number);
        (key, json!({"stateMachineVersionArn": &*v.arn, "creationDate": timestamp(v.creation_ms)}))
    });
    let (items, next) = page.take(items);
    let mut out = json!({"stateMachineVersions": items});
    if let Some(t) = next {
        out["nextToken"] = Json::from(t);
    }
    ok(out)
}

/// Parses an ARN that must be a version or alias ARN (by `want`).
fn qualified(state: &ServerState, arn: &str, want_alias: bool) -> Result<Option<MachineArn>, ApiError> {
    match parse_machine_arn(arn, &state.registry.scope)? {
        Some(p) if p.test_case.is_some() => Err(ApiError::invalid_arn(arn)),
        Some(p) if want_alias && matches!(p.qualifier, Qualifier::Alias(_)) => Ok(Some(p)),
        Some(p) if !want_alias && matches!(p.qualifier, Qualifier::Version(_)) => Ok(Some(p)),
        Some(_) => Err(ApiError::invalid_arn(arn)),
        None => Ok(None),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeleteVersionRequest {
    state_machine_version_arn: Option<String>,
}

pub fn delete_version(state: &ServerState, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let req: DeleteVersionRequest = parse_request(body)?;
    let arn = required_str(&req.state_machine_version_arn, "stateMachineVersionArn")?;
    let Some(MachineArn { name, qualifier: Qualifier::Version(number), .. }) = qualified(state, arn, false)? else {
        return ok(json!({}));
    };
    let mut machines = state.registry.write();
    if let Some(machine) = machines.get_mut(&name) {
        let referencing: Vec<&str> = machine
            .aliases
            .values()
            .filter(|a| a.routing.iter().any(|r| r.version_arn == arn))
            .map(|a| a.name.as_str())
            .collect();
        if !referencing.is_empty() {
            return Err(ApiError::conflict(format!(
                "Version to be deleted must not be referenced by an alias. Current list of aliases referencing this version: [{}]",
                referencing.join(", ")
            )));
        }
        machine.versions.remove(&number);
    }
    // Deleting a version that does not exist succeeds, as on AWS.
    ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AliasRequest {
    name: Option<String>,
    description: Option<String>,
    routing_configuration: Option<Vec<Json>>,
    state_machine_alias_arn: Option<String>,
}

/// Checks a routing configuration as AWS does: one or two distinct versions of one state
/// machine, weights 0–100 summing to 100. Answers the machine's name and the routes.
fn parse_routing(state: &ServerState, routes: &[Json]) -> Result<(String, Vec<Route>), ApiError> {
    if routes.is_empty() || routes.len() > 2 {
        return Err(ApiError::validation(format!(
            "Value at 'routingConfiguration' failed to satisfy constraint: Member must have length {} 2",
            if routes.is_empty() { "greater than or equal to 1 and less than or equal to" } else { "less than or equal to" }
        )));
    }
    let mut parsed = Vec::with_capacity(routes.len());
    for (i, r) in routes.iter().enumerate() {
        let arn = r
            .get("stateMachineVersionArn")
            .and_then(Json::as_str)
            .ok_or_else(|| ApiError::missing(&format!("routingConfiguration.{}.member.stateMachineVersionArn", i + 1)))?;
        let weight = r
            .get("weight")
            .and_then(Json::as_i64)
            .ok_or_else(|| ApiError::missing(&format!("routingConfiguration.{}.member.weight", i + 1)))?;
        if !(0..=100).contains(&weight) {
            return Err(ApiError::validation(format!(
                "Value '{weight}' at 'routingConfiguration.{}.member.weight' failed to satisfy constraint: Member must have value between 0 and 100",
                i + 1
            )));
        }
        parsed.push(Route { version_arn: arn.to_string(), weight: weight as u32 });
    }
    let arns: Vec<&str> = parsed.iter().map(|r| r.version_arn.as_str()).collect();
    if parsed.len() == 2 && arns[0] == arns[1] {
        return Err(ApiError::new(
            ErrorCode::ValidationException,
            format!("Routing configuration must contain distinct state machine version ARNs. Received: [{}]", arns.join(", ")),
        ));
    }
    let sum: u32 = parsed.iter().map(|r| r.weight).sum();
    if sum != 100 {
        let weights: Vec<String> = parsed.iter().map(|r| r.weight.to_string()).collect();
        return Err(ApiError::new(
            ErrorCode::ValidationException,
            format!("Sum of routing configuration weights must equal 100. Received: [{}]", weights.join(", ")),
        ));
    }
    let mut machine_name: Option<String> = None;
    for arn in &arns {
        let not_version = || {
            ApiError::new(
                ErrorCode::ValidationException,
                format!("Routing configuration must contain state machine version ARNs. Received: [{}]", arns.join(", ")),
            )
        };
        let p = match parse_machine_arn(arn, &state.registry.scope)? {
            Some(p) if matches!(p.qualifier, Qualifier::Version(_)) && p.test_case.is_none() => p,
            Some(_) => return Err(not_version()),
            None => return Err(ApiError::resource_not_found(arn)),
        };
        match &machine_name {
            Some(n) if *n != p.name => {
                return Err(ApiError::new(
                    ErrorCode::ValidationException,
                    "Routing configuration must contain versions of the same state machine",
                ))
            }
            _ => machine_name = Some(p.name),
        }
    }
    let name = machine_name.ok_or_else(|| internal("empty routing"))?;
    Ok((name, parsed))
}

fn versions_exist(machine: &Machine, routes: &[Route]) -> Result<(), ApiError> {
    for r in routes {
        if !machine.versions.values().any(|v| *v.arn == *r.version_arn) {
            return Err(ApiError::resource_not_found(&r.version_arn));
        }
    }
    Ok(())
}

pub fn create_alias(state: &ServerState, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let req: AliasRequest = parse_request(body)?;
    let name = required_str(&req.name, "name")?;
    let routes = req.routing_configuration.as_deref().ok_or_else(|| ApiError::missing("routingConfiguration"))?;
    if !valid_alias_name(name) {
        return Err(ApiError::validation(format!(
            "Value '{name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(?=.*[a-zA-Z_\\-\\.])[a-zA-Z0-9_\\-\\.]+$"
        )));
    }
    if let Some(d) = &req.description {
        check_length(d, "description", 0, 256)?;
    }
    let (machine_name, routing) = parse_routing(state, routes)?;
    let now = Clock::new().now_ms();
    let mut machines = state.registry.write();
    let first = routing.first().map(|r| r.version_arn.clone()).unwrap_or_default();
    let machine = machines.get_mut(&machine_name).ok_or_else(|| ApiError::resource_not_found(&first))?;
    versions_exist(machine, &routing)?;
    if let Some(existing) = machine.aliases.get(name) {
        if existing.routing == routing && existing.description == req.description {
            return ok(json!({"stateMachineAliasArn": &*existing.arn, "creationDate": timestamp(existing.creation_ms)}));
        }
        return Err(ApiError::conflict(
            "Failed to create alias because an alias with the same name and a different routing configuration already exists.",
        ));
    }
    if machine.aliases.len() >= MAX_ALIASES {
        return Err(ApiError::new(
            ErrorCode::ServiceQuotaExceededException,
            format!("The maximum number of aliases ({MAX_ALIASES}) for this state machine has been reached."),
        ));
    }
    let arn = Str::from(format!("{}:{name}", machine.current.machine_arn));
    let alias = Alias {
        arn: arn.clone(),
        name: name.to_string(),
        description: req.description,
        routing,
        creation_ms: now,
        update_ms: now,
    };
    machine.aliases.insert(name.to_string(), alias);
    ok(json!({"stateMachineAliasArn": &*arn, "creationDate": timestamp(now)}))
}

/// Finds an alias by ARN: `(machine name, alias name)`, or ResourceNotFound.
fn alias_key(state: &ServerState, arn: &str) -> Result<(String, String), ApiError> {
    match qualified(state, arn, true)? {
        Some(MachineArn { name, qualifier: Qualifier::Alias(alias), .. }) => Ok((name, alias)),
        _ => Err(ApiError::resource_not_found(arn)),
    }
}

pub fn describe_alias(state: &ServerState, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let req: AliasRequest = parse_request(body)?;
    let arn = required_str(&req.state_machine_alias_arn, "stateMachineAliasArn")?;
    let (machine, alias) = alias_key(state, arn)?;
    let machines = state.registry.read();
    let a = machines.get(&machine).and_then(|m| m.aliases.get(&alias)).ok_or_else(|| ApiError::resource_not_found(arn))?;
    let routing: Vec<Json> =
        a.routing.iter().map(|r| json!({"stateMachineVersionArn": r.version_arn, "weight": r.weight})).collect();
    let mut out = json!({
        "stateMachineAliasArn": &*a.arn,
        "name": a.name,
        "routingConfiguration": routing,
        "creationDate": timestamp(a.creation_ms),
        "updateDate": timestamp(a.update_ms),
    });
    if let Some(d) = &a.description {
        out["description"] = Json::from(d.as_str());
    }
    ok(out)
}

pub fn update_alias(state: &ServerState, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let req: AliasRequest = parse_request(body)?;
    let arn = required_str(&req.state_machine_alias_arn, "stateMachineAliasArn")?;
    if req.description.is_none() && req.routing_configuration.is_none() {
        return Err(ApiError::new(
            ErrorCode::MissingRequiredParameter,
            "Either the description or the RoutingConfiguration must be specified",
        ));
    }
    if let Some(d) = &req.description {
        check_length(d, "description", 0, 256)?;
    }
    let (machine_name, alias_name) = alias_key(state, arn)?;
    let routing = match &req.routing_configuration {
        Some(routes) => {
            let (owner, routing) = parse_routing(state, routes)?;
            if owner != machine_name {
                return Err(ApiError::new(
                    ErrorCode::ValidationException,
                    "Routing configuration must contain versions of the alias's state machine",
                ));
            }
            Some(routing)
        }
        None => None,
    };
    let now = Clock::new().now_ms();
    let mut machines = state.registry.write();
    let machine = machines.get_mut(&machine_name).ok_or_else(|| ApiError::resource_not_found(arn))?;
    if let Some(r) = &routing {
        versions_exist(machine, r)?;
    }
    let alias = machine.aliases.get_mut(&alias_name).ok_or_else(|| ApiError::resource_not_found(arn))?;
    if let Some(r) = routing {
        alias.routing = r;
    }
    if req.description.is_some() {
        alias.description = req.description;
    }
    alias.update_ms = now;
    ok(json!({"updateDate": timestamp(now)}))
}

pub fn delete_alias(state: &ServerState, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let req: AliasRequest = parse_request(body)?;
    let arn = required_str(&req.state_machine_alias_arn, "stateMachineAliasArn")?;
    // Deleting an alias that does not exist succeeds, as on AWS.
    if let Some(MachineArn { name, qualifier: Qualifier::Alias(alias), .. }) = qualified(state, arn, true)? {
        if let Some(m) = state.registry.write().get_mut(&name) {
            m.aliases.remove(&alias);
        }
    }
    ok(json!({}))
}

pub fn list_aliases(state: &ServerState, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let req: ListRequest = parse_request(body)?;
    let arn = required_str(&req.state_machine_arn, "stateMachineArn")?;
    let page = Page::new(req.max_results, req.next_token.as_deref(), "ListStateMachineAliases")?;
    let name = state.registry.machine_name(arn)?;
    let machines = state.registry.read();
    let machine = machines.get(&name).ok_or_else(|| ApiError::state_machine_does_not_exist(arn))?;
    let items = machine
        .aliases
        .values()
        .map(|a| (a.name.clone(), json!({"stateMachineAliasArn": &*a.arn, "creationDate": timestamp(a.creation_ms)})));
    let (items, next) = page.take(items);
    let mut out = json!({"stateMachineAliases": items});
    if let Some(t) = next {
        out["nextToken"] = Json::from(t);
    }
    ok(out)
}
