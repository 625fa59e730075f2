//! The transition graph of each container of states, and state names.
//!
//! Invariants (measured on AWS, floci #2735/#2786 and LocalStack #11978):
//! - every `Next`, `Default`, `Choices[i].Next` and `Catch[i].Next` must name a state of the
//!   same container: `Missing 'Next' target: X` at that field (the word is always `Next`);
//! - `StartAt` naming no state is the same diagnostic at `…/StartAt`;
//! - the top level needs a terminal state (Succeed, Fail or `End: true`), else
//!   `MISSING_END_STATE: Workflow has no terminal state` with no location, which also suppresses
//!   the unreachable-state report for the top level; nested containers have no such rule;
//! - every state not reachable from `StartAt` is `State "X" is not reachable.` at the state.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{codes, Ctx};

/// AWS limits state names to 80 characters.
const MAX_STATE_NAME_CHARS: usize = 80;

pub(super) fn check_state_name(ctx: &mut Ctx, name: &str, location: &str) {
    if name.chars().count() > MAX_STATE_NAME_CHARS {
        // Guessed wording.
        ctx.report(codes::INVALID_STATE_NAME, format!("State name '{name}' exceeds the maximum length of 80 characters"), location);
    }
    if !ctx.seen_state_names.insert(name.to_string()) {
        // Guessed wording; names are unique across the whole machine, nested states included.
        ctx.report(codes::DUPLICATE_STATE_NAME, format!("Duplicate State name: {name}"), location);
    }
}

/// Targets of one state with the location of the field naming each.
fn targets(state: &Value, location: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut push = |value: Option<&Value>, at: String| {
        if let Some(Value::String(target)) = value {
            found.push((target.clone(), at));
        }
    };
    push(state.get("Next"), format!("{location}/Next"));
    push(state.get("Default"), format!("{location}/Default"));
    for list in ["Choices", "Catch"] {
        if let Some(Value::Array(entries)) = state.get(list) {
            for (index, entry) in entries.iter().enumerate() {
                push(entry.get("Next"), format!("{location}/{list}[{index}]/Next"));
            }
        }
    }
    found
}

pub(super) fn check_graph(ctx: &mut Ctx, container: &Map<String, Value>, states: &Map<String, Value>, prefix: &str, top_level: bool) {
    for (name, state) in states {
        for (target, at) in targets(state, &format!("{prefix}/States/{name}")) {
            if !states.contains_key(&target) {
                ctx.report(codes::MISSING_TRANSITION_TARGET, format!("Missing 'Next' target: {target}"), &at);
            }
        }
    }
    let start_at = container.get("StartAt").and_then(Value::as_str);
    if let Some(start) = start_at {
        if !states.contains_key(start) {
            ctx.report(codes::MISSING_TRANSITION_TARGET, format!("Missing 'Next' target: {start}"), &format!("{prefix}/StartAt"));
        }
    }
    if top_level && !states.is_empty() && !states.values().any(is_terminal) {
        ctx.diagnostics.push(super::Diagnostic::error(codes::MISSING_END_STATE, "Workflow has no terminal state", None));
        return;
    }
    // Without a usable StartAt (missing or not a string) the schema error already says so.
    let Some(start) = start_at else { return };
    let mut reachable: HashSet<&str> = HashSet::new();
    let mut pending: Vec<&str> = Vec::new();
    if let Some((name, _)) = states.get_key_value(start) {
        reachable.insert(name.as_str());
        pending.push(name.as_str());
    }
    while let Some(current) = pending.pop() {
        let Some(state) = states.get(current) else { continue };
        for (target, _) in targets(state, "") {
            if let Some((name, _)) = states.get_key_value(&target) {
                if reachable.insert(name.as_str()) {
                    pending.push(name.as_str());
                }
            }
        }
    }
    for name in states.keys() {
        if !reachable.contains(name.as_str()) {
            ctx.report(codes::MISSING_TRANSITION_TARGET, format!("State \"{name}\" is not reachable."), &format!("{prefix}/States/{name}"));
        }
    }
}

fn is_terminal(state: &Value) -> bool {
    matches!(state.get("Type").and_then(Value::as_str), Some("Succeed" | "Fail"))
        || state.get("End").and_then(Value::as_bool) == Some(true)
}
