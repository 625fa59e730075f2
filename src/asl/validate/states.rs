//! The schema of the machine, of state containers (top level, Parallel branches, Map item
//! processors) and of each state type.
//!
//! Invariants: every field a state type supports in either query language is listed in
//! `fields_of`; anything else is `Field 'X' is not supported` at the state (measured, floci
//! #2735). Fields of the other query language are reported separately with AWS's QueryLanguage
//! wording, also at the state (floci #2968).

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::paths::{self, PathRule};
use super::{express, is_jsonata_expression, rules, transitions, Ctx, Lang};

const STATE_TYPES: &[&str] = &["Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"];

/// Fields only a JSONPath state may carry.
const JSONPATH_ONLY: &[&str] = &[
    "InputPath", "OutputPath", "ResultPath", "ResultSelector", "Parameters", "Result", "ItemsPath",
    "MaxConcurrencyPath", "ErrorPath", "CausePath", "TimeoutSecondsPath", "HeartbeatSecondsPath",
    "SecondsPath", "TimestampPath", "ToleratedFailurePercentagePath", "ToleratedFailureCountPath",
];
/// Fields only a JSONata state may carry (`Assign` belongs to both).
const JSONATA_ONLY: &[&str] = &["Output", "Arguments", "Items"];

/// Every field each state type supports, in either language.
fn fields_of(state_type: &str) -> &'static [&'static str] {
    match state_type {
        "Pass" => &["Type", "Comment", "QueryLanguage", "Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "Result", "Assign", "Output"],
        "Task" => &[
            "Type", "Comment", "QueryLanguage", "Next", "End", "Resource", "InputPath", "OutputPath", "ResultPath",
            "Parameters", "ResultSelector", "Arguments", "Output", "Assign", "Retry", "Catch", "TimeoutSeconds",
            "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath", "Credentials",
        ],
        "Choice" => &["Type", "Comment", "QueryLanguage", "Choices", "Default", "InputPath", "OutputPath", "Assign", "Output"],
        "Wait" => &["Type", "Comment", "QueryLanguage", "Next", "End", "Seconds", "SecondsPath", "Timestamp", "TimestampPath", "InputPath", "OutputPath", "Assign", "Output"],
        "Succeed" => &["Type", "Comment", "QueryLanguage", "InputPath", "OutputPath", "Output"],
        "Fail" => &["Type", "Comment", "QueryLanguage", "Error", "ErrorPath", "Cause", "CausePath"],
        "Parallel" => &[
            "Type", "Comment", "QueryLanguage", "Next", "End", "Branches", "InputPath", "OutputPath", "ResultPath",
            "Parameters", "ResultSelector", "Arguments", "Output", "Assign", "Retry", "Catch",
        ],
        "Map" => &[
            "Type", "Comment", "QueryLanguage", "Next", "End", "ItemProcessor", "Iterator", "ItemsPath", "Items",
            "ItemSelector", "Parameters", "ItemReader", "ItemBatcher", "ResultWriter", "MaxConcurrency",
            "MaxConcurrencyPath", "ToleratedFailurePercentage", "ToleratedFailurePercentagePath",
            "ToleratedFailureCount", "ToleratedFailureCountPath", "Label", "InputPath", "OutputPath", "ResultPath",
            "ResultSelector", "Output", "Assign", "Retry", "Catch",
        ],
        _ => &[],
    }
}

pub(super) fn check_machine(ctx: &mut Ctx, root: &Map<String, Value>) {
    let mut missing = Vec::new();
    if !root.contains_key("States") {
        missing.push("States");
    }
    if !root.contains_key("StartAt") {
        missing.push("StartAt");
    }
    ctx.required_fields("", &missing);
    ctx.only_fields(root, "", &["Comment", "StartAt", "States", "Version", "TimeoutSeconds", "QueryLanguage"]);
    ctx.machine_lang = query_language(ctx, root, "/QueryLanguage", Lang::JsonPath);
    string_field(ctx, root, "Comment", "");
    string_field(ctx, root, "Version", "");
    // AWS's bounds for the machine TimeoutSeconds are not recorded; only the type is checked.
    if let Some(timeout) = root.get("TimeoutSeconds") {
        if !is_integer(timeout) {
            ctx.expected_type("/TimeoutSeconds", "INTEGER");
        }
    }
    check_container_body(ctx, root, "", true);
}

/// `StartAt` + `States` of a machine, branch or item processor, then its graph.
fn check_container_body(ctx: &mut Ctx, container: &Map<String, Value>, prefix: &str, top_level: bool) {
    string_field(ctx, container, "StartAt", prefix);
    let Some(states_value) = container.get("States") else { return };
    let Value::Object(states) = states_value else {
        ctx.expected_type(&format!("{prefix}/States"), "OBJECT");
        return;
    };
    for (name, state) in states {
        let location = format!("{prefix}/States/{name}");
        transitions::check_state_name(ctx, name, &location);
        check_state(ctx, state, &location);
    }
    transitions::check_graph(ctx, container, states, prefix, top_level);
}

/// A Parallel branch or Map item processor: `{StartAt, States, Comment}` (+ `extra`).
fn check_nested_container(ctx: &mut Ctx, value: &Value, location: &str, extra: &[&str]) {
    let Value::Object(container) = value else {
        ctx.expected_type(location, "OBJECT");
        return;
    };
    let mut missing = Vec::new();
    if !container.contains_key("States") {
        missing.push("States");
    }
    if !container.contains_key("StartAt") {
        missing.push("StartAt");
    }
    ctx.required_fields(location, &missing);
    let mut allowed = vec!["StartAt", "States", "Comment"];
    allowed.extend_from_slice(extra);
    // `QueryLanguage` here is "Field 'QueryLanguage' is not supported" (measured, floci #2968).
    ctx.only_fields(container, location, &allowed);
    string_field(ctx, container, "Comment", location);
    check_container_body(ctx, container, location, false);
}

/// Resolves a `QueryLanguage` field (measured: exactly `"JSONPath"` is JSONPath, any other
/// present value is JSONata) and reports bad values at the field.
fn query_language(ctx: &mut Ctx, object: &Map<String, Value>, location: &str, inherited: Lang) -> Lang {
    match object.get("QueryLanguage") {
        None => inherited,
        Some(Value::String(text)) => {
            if text != "JSONPath" && text != "JSONata" {
                ctx.schema(location, "Value should be one of the following: [JSONPath, JSONata]");
            }
            if text == "JSONPath" {
                Lang::JsonPath
            } else {
                Lang::Jsonata
            }
        }
        Some(_) => {
            ctx.expected_type(location, "STRING");
            Lang::Jsonata
        }
    }
}

fn check_state(ctx: &mut Ctx, value: &Value, location: &str) {
    let Value::Object(state) = value else {
        ctx.expected_type(location, "OBJECT");
        return;
    };
    let state_type = match state.get("Type") {
        None => {
            ctx.required_fields(location, &["Type"]);
            return;
        }
        Some(Value::String(t)) if STATE_TYPES.contains(&t.as_str()) => t.as_str(),
        Some(Value::String(_)) => {
            ctx.schema(
                &format!("{location}/Type"),
                format!("Value should be one of the following: [{}]", STATE_TYPES.join(", ")),
            );
            return;
        }
        Some(_) => {
            ctx.expected_type(&format!("{location}/Type"), "STRING");
            return;
        }
    };
    let machine_lang = ctx.machine_lang;
    let lang = query_language(ctx, state, &format!("{location}/QueryLanguage"), machine_lang);
    let downgraded = machine_lang == Lang::Jsonata && state.get("QueryLanguage").and_then(Value::as_str) == Some("JSONPath");
    if downgraded {
        // Measured: this replaces the other-language field report for the state.
        ctx.schema(location, "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine");
    }

    let supported = fields_of(state_type);
    ctx.only_fields(state, location, supported);
    if !downgraded {
        let (other, other_lang) = match lang {
            Lang::JsonPath => (JSONATA_ONLY, Lang::Jsonata),
            Lang::Jsonata => (JSONPATH_ONLY, Lang::JsonPath),
        };
        for key in state.keys() {
            if supported.contains(&key.as_str()) && other.contains(&key.as_str()) {
                ctx.schema(
                    location,
                    format!(
                        "The QueryLanguage is set to '{}', but field '{key}' is only supported for the '{}' QueryLanguage",
                        lang.name(),
                        other_lang.name()
                    ),
                );
            }
        }
    }

    string_field(ctx, state, "Comment", location);
    if supported.contains(&"Next") {
        check_next_end(ctx, state, location);
    }
    if lang == Lang::JsonPath {
        check_io_paths(ctx, state, location);
    }
    if let Some(assign) = state.get("Assign") {
        rules::check_assign(ctx, assign, &format!("{location}/Assign"), lang);
    }

    match state_type {
        "Pass" => {
            if let (Lang::JsonPath, Some(parameters)) = (lang, state.get("Parameters")) {
                rules::check_payload_template(ctx, parameters, &format!("{location}/Parameters"));
            }
        }
        "Task" => check_task(ctx, state, location, lang),
        "Choice" => rules::check_choice_state(ctx, state, location, lang),
        "Wait" => check_wait(ctx, state, location, lang),
        "Fail" => check_fail(ctx, state, location, lang),
        "Parallel" => {
            check_templates(ctx, state, location, lang);
            rules::check_retry_catch(ctx, state, location, lang);
            match state.get("Branches") {
                None => ctx.required_fields(location, &["Branches"]),
                Some(Value::Array(branches)) if branches.is_empty() => {
                    // Recorded: `Value cannot be empty at /States/StateName/Branches`.
                    ctx.schema(&format!("{location}/Branches"), "Value cannot be empty");
                }
                Some(Value::Array(branches)) => {
                    for (index, branch) in branches.iter().enumerate() {
                        check_nested_container(ctx, branch, &format!("{location}/Branches[{index}]"), &[]);
                    }
                }
                Some(_) => ctx.expected_type(&format!("{location}/Branches"), "ARRAY"),
            }
        }
        "Map" => check_map(ctx, state, location, lang),
        _ => {}
    }
}

fn check_next_end(ctx: &mut Ctx, state: &Map<String, Value>, location: &str) {
    if let Some(next) = state.get("Next") {
        if !next.is_string() {
            ctx.expected_type(&format!("{location}/Next"), "STRING");
        }
    }
    let end = match state.get("End") {
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            ctx.expected_type(&format!("{location}/End"), "BOOLEAN");
            true
        }
        None => false,
    };
    let has_next = state.contains_key("Next");
    if has_next && end {
        // Wording from a third-party lint that quotes AWS; not recorded by us.
        ctx.schema(location, "There should only be one of the following fields: [Next, End]");
    } else if !has_next && !end {
        // Guessed wording: AWS rejects a non-terminal state without a transition.
        ctx.schema(location, "There should be one of the following fields: [Next, End]");
    }
}

/// `InputPath`/`OutputPath` (Path or null) and `ResultPath` (Reference Path without `$$`, or null).
fn check_io_paths(ctx: &mut Ctx, state: &Map<String, Value>, location: &str) {
    for field in ["InputPath", "OutputPath"] {
        if let Some(value) = state.get(field) {
            path_field(ctx, value, &format!("{location}/{field}"), field, PathRule::Path, true);
        }
    }
    if let Some(value) = state.get("ResultPath") {
        path_field(ctx, value, &format!("{location}/ResultPath"), "ResultPath", PathRule::Reference { allow_context: false }, true);
    }
}

/// Checks a field holding a path; `nullable` fields may be `null`.
pub(super) fn path_field(ctx: &mut Ctx, value: &Value, location: &str, field: &str, rule: PathRule, nullable: bool) {
    match value {
        Value::Null if nullable => {}
        Value::String(text) => {
            if !paths::path_syntax_ok(text, rule) {
                match rule {
                    PathRule::Reference { .. } => ctx.schema(location, "Value is not a Reference Path"),
                    PathRule::Path => ctx.schema(location, format!("The value for the field '{field}' must be a valid JSONPath")),
                }
            }
        }
        _ => ctx.expected_type(location, "STRING"),
    }
}

fn check_templates(ctx: &mut Ctx, state: &Map<String, Value>, location: &str, lang: Lang) {
    if lang == Lang::JsonPath {
        for field in ["Parameters", "ResultSelector"] {
            if let Some(template) = state.get(field) {
                rules::check_payload_template(ctx, template, &format!("{location}/{field}"));
            }
        }
    }
}

fn check_task(ctx: &mut Ctx, state: &Map<String, Value>, location: &str, lang: Lang) {
    match state.get("Resource") {
        None => ctx.required_fields(location, &["Resource"]),
        Some(Value::String(resource)) => {
            let resource_location = format!("{location}/Resource");
            // `exec:NAME` is Expressway's local-command resource (docs/TASKS.md); AWS refuses it.
            let local_command = resource.strip_prefix("exec:").is_some_and(|name| !name.is_empty());
            if !local_command && (!resource.starts_with("arn:") || resource.split(':').count() < 6) {
                // Guessed wording; the code is AWS's documented one for bad Task resources.
                ctx.report(super::codes::INVALID_RESOURCE, format!("Invalid resource: {resource}"), &resource_location);
            }
            express::check_task_resource(ctx, resource, &resource_location);
        }
        Some(_) => ctx.expected_type(&format!("{location}/Resource"), "STRING"),
    }
    check_templates(ctx, state, location, lang);
    rules::check_retry_catch(ctx, state, location, lang);
    ctx.at_most_one_of(state, location, &["TimeoutSeconds", "TimeoutSecondsPath"]);
    ctx.at_most_one_of(state, location, &["HeartbeatSeconds", "HeartbeatSecondsPath"]);
    for field in ["TimeoutSeconds", "HeartbeatSeconds"] {
        number_field(ctx, state, field, location, lang, Bounds::integer(1, 99_999_999));
    }
    for field in ["TimeoutSecondsPath", "HeartbeatSecondsPath"] {
        if let Some(value) = state.get(field) {
            path_field(ctx, value, &format!("{location}/{field}"), field, PathRule::Reference { allow_context: true }, false);
        }
    }
    if let Some(credentials) = state.get("Credentials") {
        if !credentials.is_object() {
            ctx.expected_type(&format!("{location}/Credentials"), "OBJECT");
        }
    }
}

fn check_wait(ctx: &mut Ctx, state: &Map<String, Value>, location: &str, lang: Lang) {
    let timing = ["SecondsPath", "Seconds", "TimestampPath", "Timestamp"];
    let present = timing.iter().filter(|f| state.contains_key(**f)).count();
    if present > 1 {
        ctx.at_most_one_of(state, location, &timing);
    } else if present == 0 {
        // Guessed wording.
        ctx.schema(location, format!("There should be one of the following fields: [{}]", timing.join(", ")));
    }
    number_field(ctx, state, "Seconds", location, lang, Bounds::integer(0, 99_999_999));
    if let Some(value) = state.get("Timestamp") {
        let at = format!("{location}/Timestamp");
        match value {
            Value::String(text) if lang == Lang::Jsonata && is_jsonata_expression(text) => {}
            Value::String(text) if paths::is_rfc3339_timestamp(text) => {}
            // Guessed wording; AWS requires RFC 3339 with uppercase T and Z.
            Value::String(_) => ctx.schema(&at, "Value is not a valid timestamp"),
            _ => ctx.expected_type(&at, "STRING"),
        }
    }
    for field in ["SecondsPath", "TimestampPath"] {
        if let Some(value) = state.get(field) {
            path_field(ctx, value, &format!("{location}/{field}"), field, PathRule::Reference { allow_context: true }, false);
        }
    }
}

fn check_fail(ctx: &mut Ctx, state: &Map<String, Value>, location: &str, lang: Lang) {
    ctx.at_most_one_of(state, location, &["Error", "ErrorPath"]);
    ctx.at_most_one_of(state, location, &["Cause", "CausePath"]);
    for field in ["Error", "Cause"] {
        string_field(ctx, state, field, location);
    }
    if lang == Lang::JsonPath {
        for field in ["ErrorPath", "CausePath"] {
            let Some(value) = state.get(field) else { continue };
            let at = format!("{location}/{field}");
            match value {
                Value::String(text) if paths::looks_like_intrinsic(text) => {
                    if !paths::intrinsic_syntax_ok(text) {
                        ctx.schema(&at, format!("The value for the field '{field}' must be a valid intrinsic function call"));
                    }
                }
                _ => path_field(ctx, value, &at, field, PathRule::Reference { allow_context: true }, false),
            }
        }
    }
}

fn check_map(ctx: &mut Ctx, state: &Map<String, Value>, location: &str, lang: Lang) {
    check_templates(ctx, state, location, lang);
    if lang == Lang::JsonPath {
        if let Some(selector) = state.get("ItemSelector") {
            rules::check_payload_template(ctx, selector, &format!("{location}/ItemSelector"));
        }
        if let Some(items_path) = state.get("ItemsPath") {
            // Measured: only ItemsPath among Map paths accepts the context object (floci #3733).
            path_field(ctx, items_path, &format!("{location}/ItemsPath"), "ItemsPath", PathRule::Reference { allow_context: true }, false);
        }
    }
    ctx.at_most_one_of(state, location, &["ItemSelector", "Parameters"]);
    rules::check_retry_catch(ctx, state, location, lang);

    ctx.at_most_one_of(state, location, &["ItemProcessor", "Iterator"]);
    let mut processor_seen = false;
    for field in ["ItemProcessor", "Iterator"] {
        if let Some(processor) = state.get(field) {
            processor_seen = true;
            let at = format!("{location}/{field}");
            check_nested_container(ctx, processor, &at, &["ProcessorConfig"]);
            if let Some(config) = processor.get("ProcessorConfig") {
                check_processor_config(ctx, config, &format!("{at}/ProcessorConfig"));
            }
        }
    }
    if !processor_seen {
        ctx.required_fields(location, &["ItemProcessor"]);
    }

    ctx.at_most_one_of(state, location, &["MaxConcurrency", "MaxConcurrencyPath"]);
    ctx.at_most_one_of(state, location, &["ToleratedFailurePercentage", "ToleratedFailurePercentagePath"]);
    ctx.at_most_one_of(state, location, &["ToleratedFailureCount", "ToleratedFailureCountPath"]);
    // Measured minimum/maximum wordings (floci #3733).
    number_field(ctx, state, "MaxConcurrency", location, lang, Bounds { integer: true, min: Some((0.0, "0".into())), max: None });
    number_field(ctx, state, "ToleratedFailureCount", location, lang, Bounds { integer: true, min: Some((0.0, "0".into())), max: None });
    number_field(
        ctx, state, "ToleratedFailurePercentage", location, lang,
        Bounds { integer: false, min: Some((0.0, "0.0".into())), max: Some((100.0, "100.0".into())) },
    );
    for field in ["MaxConcurrencyPath", "ToleratedFailurePercentagePath", "ToleratedFailureCountPath"] {
        if let Some(value) = state.get(field) {
            path_field(ctx, value, &format!("{location}/{field}"), field, PathRule::Reference { allow_context: false }, false);
        }
    }
    string_field(ctx, state, "Label", location);
    if let Some(reader) = state.get("ItemReader") {
        rules::check_item_reader(ctx, reader, &format!("{location}/ItemReader"), lang);
    }
    if let Some(batcher) = state.get("ItemBatcher") {
        rules::check_item_batcher(ctx, batcher, &format!("{location}/ItemBatcher"), lang);
    }
    if let Some(writer) = state.get("ResultWriter") {
        rules::check_result_writer(ctx, writer, &format!("{location}/ResultWriter"), lang);
    }
}

fn check_processor_config(ctx: &mut Ctx, config: &Value, location: &str) {
    let Value::Object(config) = config else {
        ctx.expected_type(location, "OBJECT");
        return;
    };
    ctx.only_fields(config, location, &["Mode", "ExecutionType"]);
    enum_field(ctx, config, "Mode", location, &["INLINE", "DISTRIBUTED"]);
    enum_field(ctx, config, "ExecutionType", location, &["STANDARD", "EXPRESS"]);
}

/// Numeric bounds with AWS's rendering of each limit (`0` for integers, `0.0` for decimals).
pub(super) struct Bounds {
    pub integer: bool,
    pub min: Option<(f64, Cow<'static, str>)>,
    pub max: Option<(f64, Cow<'static, str>)>,
}

impl Bounds {
    pub fn integer(min: i64, max: i64) -> Bounds {
        Bounds { integer: true, min: Some((min as f64, min.to_string().into())), max: Some((max as f64, max.to_string().into())) }
    }
}

/// A numeric field: a JSON number within bounds, or (JSONata states) a `{% %}` string.
pub(super) fn number_field(ctx: &mut Ctx, object: &Map<String, Value>, field: &str, location: &str, lang: Lang, bounds: Bounds) {
    let Some(value) = object.get(field) else { return };
    let at = format!("{location}/{field}");
    match value {
        Value::String(text) if lang == Lang::Jsonata && is_jsonata_expression(text) => {}
        Value::Number(number) => {
            if bounds.integer && !is_integer(value) {
                ctx.expected_type(&at, "INTEGER");
                return;
            }
            let n = number.as_f64().unwrap_or(0.0);
            if let Some((min, text)) = &bounds.min {
                if n < *min {
                    ctx.schema(&at, format!("Minimum value is {text}"));
                }
            }
            if let Some((max, text)) = &bounds.max {
                if n > *max {
                    ctx.schema(&at, format!("Maximum value is {text}"));
                }
            }
        }
        _ => ctx.expected_type(&at, if bounds.integer { "INTEGER" } else { "NUMBER" }),
    }
}

/// Integral JSON numbers; `3.0` is accepted too since AWS's handling of it is unknown.
pub(super) fn is_integer(value: &Value) -> bool {
    match value {
        Value::Number(n) => n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0),
        _ => false,
    }
}

pub(super) fn string_field(ctx: &mut Ctx, object: &Map<String, Value>, field: &str, location: &str) {
    if let Some(value) = object.get(field) {
        if !value.is_string() {
            ctx.expected_type(&format!("{location}/{field}"), "STRING");
        }
    }
}

pub(super) fn enum_field(ctx: &mut Ctx, object: &Map<String, Value>, field: &str, location: &str, allowed: &[&str]) {
    match object.get(field) {
        None => {}
        Some(Value::String(text)) if allowed.contains(&text.as_str()) => {}
        Some(Value::String(_)) => ctx.schema(
            &format!("{location}/{field}"),
            format!("Value should be one of the following: [{}]", allowed.join(", ")),
        ),
        Some(_) => ctx.expected_type(&format!("{location}/{field}"), "STRING"),
    }
}
