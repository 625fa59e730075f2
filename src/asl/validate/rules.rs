//! Sub-structures of states: Retry/Catch, Choice rules, payload templates, `Assign`, and the
//! Distributed Map objects (ItemReader, ItemBatcher, ResultWriter).
//!
//! Invariants: same location conventions as the state checks (object rules at the object,
//! value rules at the field); list entries are addressed as `Field[i]`, the form AWS uses for
//! `Choices[0]/Next` and `Catch[0]/Next` (measured, floci #2786).

use serde_json::{Map, Value};

use super::paths::{self, PathRule};
use super::states::{enum_field, number_field, path_field, string_field, Bounds};
use super::{is_jsonata_expression, Ctx, Lang};

/// Data-test comparison operators and the JSON type their literal takes.
const COMPARATORS: &[(&str, Operand)] = &[
    ("StringEquals", Operand::String), ("StringEqualsPath", Operand::Path),
    ("StringLessThan", Operand::String), ("StringLessThanPath", Operand::Path),
    ("StringGreaterThan", Operand::String), ("StringGreaterThanPath", Operand::Path),
    ("StringLessThanEquals", Operand::String), ("StringLessThanEqualsPath", Operand::Path),
    ("StringGreaterThanEquals", Operand::String), ("StringGreaterThanEqualsPath", Operand::Path),
    ("StringMatches", Operand::String),
    ("NumericEquals", Operand::Number), ("NumericEqualsPath", Operand::Path),
    ("NumericLessThan", Operand::Number), ("NumericLessThanPath", Operand::Path),
    ("NumericGreaterThan", Operand::Number), ("NumericGreaterThanPath", Operand::Path),
    ("NumericLessThanEquals", Operand::Number), ("NumericLessThanEqualsPath", Operand::Path),
    ("NumericGreaterThanEquals", Operand::Number), ("NumericGreaterThanEqualsPath", Operand::Path),
    ("BooleanEquals", Operand::Boolean), ("BooleanEqualsPath", Operand::Path),
    ("TimestampEquals", Operand::Timestamp), ("TimestampEqualsPath", Operand::Path),
    ("TimestampLessThan", Operand::Timestamp), ("TimestampLessThanPath", Operand::Path),
    ("TimestampGreaterThan", Operand::Timestamp), ("TimestampGreaterThanPath", Operand::Path),
    ("TimestampLessThanEquals", Operand::Timestamp), ("TimestampLessThanEqualsPath", Operand::Path),
    ("TimestampGreaterThanEquals", Operand::Timestamp), ("TimestampGreaterThanEqualsPath", Operand::Path),
    ("IsNull", Operand::Boolean), ("IsPresent", Operand::Boolean), ("IsNumeric", Operand::Boolean),
    ("IsString", Operand::Boolean), ("IsBoolean", Operand::Boolean), ("IsTimestamp", Operand::Boolean),
];

#[derive(Clone, Copy)]
enum Operand {
    String,
    Number,
    Boolean,
    Timestamp,
    Path,
}

fn comparator(name: &str) -> Option<Operand> {
    COMPARATORS.iter().find(|(n, _)| *n == name).map(|(_, operand)| *operand)
}

pub(super) fn check_choice_state(ctx: &mut Ctx, state: &Map<String, Value>, location: &str, lang: Lang) {
    string_field(ctx, state, "Default", location);
    match state.get("Choices") {
        None => ctx.required_fields(location, &["Choices"]),
        Some(Value::Array(rules)) if rules.is_empty() => ctx.schema(&format!("{location}/Choices"), "Value cannot be empty"),
        Some(Value::Array(rules)) => {
            for (index, rule) in rules.iter().enumerate() {
                let at = format!("{location}/Choices[{index}]");
                match lang {
                    Lang::JsonPath => check_jsonpath_rule(ctx, rule, &at, true),
                    Lang::Jsonata => check_jsonata_rule(ctx, rule, &at),
                }
            }
        }
        Some(_) => ctx.expected_type(&format!("{location}/Choices"), "ARRAY"),
    }
}

fn check_jsonata_rule(ctx: &mut Ctx, rule: &Value, location: &str) {
    let Value::Object(rule) = rule else {
        ctx.expected_type(location, "OBJECT");
        return;
    };
    let mut missing = Vec::new();
    if !rule.contains_key("Condition") {
        missing.push("Condition");
    }
    if !rule.contains_key("Next") {
        missing.push("Next");
    }
    ctx.required_fields(location, &missing);
    ctx.only_fields(rule, location, &["Condition", "Next", "Comment", "Assign", "Output"]);
    string_field(ctx, rule, "Next", location);
    match rule.get("Condition") {
        None | Some(Value::Bool(_)) => {}
        Some(Value::String(text)) if is_jsonata_expression(text) => {}
        // Guessed wording: Condition must be a boolean or a JSONata expression.
        Some(_) => ctx.schema(&format!("{location}/Condition"), "Value must be a boolean or a JSONata expression"),
    }
    if let Some(assign) = rule.get("Assign") {
        check_assign(ctx, assign, &format!("{location}/Assign"), Lang::Jsonata);
    }
}

/// A JSONPath rule; `top_level` rules carry `Next` (and may `Assign`), nested ones must not.
fn check_jsonpath_rule(ctx: &mut Ctx, rule: &Value, location: &str, top_level: bool) {
    let Value::Object(rule) = rule else {
        ctx.expected_type(location, "OBJECT");
        return;
    };
    let mut operators = Vec::new();
    for key in rule.keys() {
        let known = matches!(key.as_str(), "And" | "Or" | "Not") || comparator(key).is_some();
        let allowed_extra = matches!(key.as_str(), "Variable" | "Comment") || (top_level && matches!(key.as_str(), "Next" | "Assign"));
        if known {
            operators.push(key.as_str());
        } else if !allowed_extra {
            ctx.unsupported_field(location, key);
        }
    }
    if top_level && !rule.contains_key("Next") {
        // Recorded wording (CloudFormation error quoted in cfn-lint #4077).
        ctx.required_fields(location, &["Next"]);
    }
    string_field(ctx, rule, "Next", location);
    if let Some(assign) = rule.get("Assign") {
        check_assign(ctx, assign, &format!("{location}/Assign"), Lang::JsonPath);
    }
    if operators.len() > 1 {
        ctx.schema(location, format!("There should only be one of the following fields: [{}]", operators.join(", ")));
        return;
    }
    let Some(operator) = operators.first().copied() else {
        // Guessed wording: a rule needs a comparison or a boolean combinator.
        ctx.schema(location, "There should be one of the following fields: [And, Or, Not, Variable]");
        return;
    };
    let operator_location = format!("{location}/{operator}");
    match operator {
        "And" | "Or" => match rule.get(operator) {
            Some(Value::Array(nested)) if nested.is_empty() => ctx.schema(&operator_location, "Value cannot be empty"),
            Some(Value::Array(nested)) => {
                for (index, nested_rule) in nested.iter().enumerate() {
                    check_jsonpath_rule(ctx, nested_rule, &format!("{operator_location}[{index}]"), false);
                }
            }
            _ => ctx.expected_type(&operator_location, "ARRAY"),
        },
        "Not" => match rule.get("Not") {
            Some(nested @ Value::Object(_)) => check_jsonpath_rule(ctx, nested, &operator_location, false),
            _ => ctx.expected_type(&operator_location, "OBJECT"),
        },
        _ => {
            match rule.get("Variable") {
                None => ctx.required_fields(location, &["Variable"]),
                Some(variable) => path_field(ctx, variable, &format!("{location}/Variable"), "Variable", PathRule::Path, false),
            }
            let Some(value) = rule.get(operator) else { return };
            match comparator(operator) {
                Some(Operand::String) if !value.is_string() => ctx.expected_type(&operator_location, "STRING"),
                Some(Operand::Number) if !value.is_number() => ctx.expected_type(&operator_location, "NUMBER"),
                Some(Operand::Boolean) if !value.is_boolean() => ctx.expected_type(&operator_location, "BOOLEAN"),
                Some(Operand::Timestamp) => match value {
                    Value::String(text) if paths::is_rfc3339_timestamp(text) => {}
                    // Guessed wording.
                    Value::String(_) => ctx.schema(&operator_location, "Value is not a valid timestamp"),
                    _ => ctx.expected_type(&operator_location, "STRING"),
                },
                Some(Operand::Path) => path_field(ctx, value, &operator_location, operator, PathRule::Path, false),
                _ => {}
            }
        }
    }
}

pub(super) fn check_retry_catch(ctx: &mut Ctx, state: &Map<String, Value>, location: &str, lang: Lang) {
    if let Some(retry) = state.get("Retry") {
        let at = format!("{location}/Retry");
        match retry {
            Value::Array(retriers) => {
                let count = retriers.len();
                for (index, retrier) in retriers.iter().enumerate() {
                    check_retrier(ctx, retrier, &format!("{at}[{index}]"), index + 1 == count);
                }
            }
            _ => ctx.expected_type(&at, "ARRAY"),
        }
    }
    if let Some(catch) = state.get("Catch") {
        let at = format!("{location}/Catch");
        match catch {
            Value::Array(catchers) => {
                let count = catchers.len();
                for (index, catcher) in catchers.iter().enumerate() {
                    check_catcher(ctx, catcher, &format!("{at}[{index}]"), index + 1 == count, lang);
                }
            }
            _ => ctx.expected_type(&at, "ARRAY"),
        }
    }
}

/// `ErrorEquals`: a non-empty array of strings; `States.ALL` alone and in the last entry.
fn check_error_equals(ctx: &mut Ctx, object: &Map<String, Value>, location: &str, is_last: bool) {
    let at = format!("{location}/ErrorEquals");
    match object.get("ErrorEquals") {
        None => {}
        Some(Value::Array(names)) if names.is_empty() => ctx.schema(&at, "Value cannot be empty"),
        Some(Value::Array(names)) => {
            if names.iter().any(|n| !n.is_string()) {
                ctx.expected_type(&at, "STRING");
            }
            if names.iter().any(|n| n.as_str() == Some("States.ALL")) {
                // Guessed wordings; the rule itself is the spec's.
                if names.len() > 1 {
                    ctx.schema(&at, "States.ALL must appear alone in ErrorEquals");
                } else if !is_last {
                    ctx.schema(&at, "States.ALL must appear in the last element");
                }
            }
        }
        Some(_) => ctx.expected_type(&at, "ARRAY"),
    }
}

fn check_retrier(ctx: &mut Ctx, retrier: &Value, location: &str, is_last: bool) {
    let Value::Object(retrier) = retrier else {
        ctx.expected_type(location, "OBJECT");
        return;
    };
    if !retrier.contains_key("ErrorEquals") {
        ctx.required_fields(location, &["ErrorEquals"]);
    }
    ctx.only_fields(
        retrier,
        location,
        &["ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy", "Comment"],
    );
    check_error_equals(ctx, retrier, location, is_last);
    // Retry numbers are literals in both languages.
    let lang = Lang::JsonPath;
    number_field(ctx, retrier, "IntervalSeconds", location, lang, Bounds::integer(1, 99_999_999));
    number_field(ctx, retrier, "MaxAttempts", location, lang, Bounds::integer(0, 99_999_999));
    number_field(ctx, retrier, "MaxDelaySeconds", location, lang, Bounds::integer(1, 31_622_400));
    number_field(ctx, retrier, "BackoffRate", location, lang, Bounds { integer: false, min: Some((1.0, "1.0".into())), max: None });
    enum_field(ctx, retrier, "JitterStrategy", location, &["FULL", "NONE"]);
    string_field(ctx, retrier, "Comment", location);
}

fn check_catcher(ctx: &mut Ctx, catcher: &Value, location: &str, is_last: bool, lang: Lang) {
    let Value::Object(catcher) = catcher else {
        ctx.expected_type(location, "OBJECT");
        return;
    };
    let mut missing = Vec::new();
    if !catcher.contains_key("ErrorEquals") {
        missing.push("ErrorEquals");
    }
    if !catcher.contains_key("Next") {
        missing.push("Next");
    }
    ctx.required_fields(location, &missing);
    ctx.only_fields(catcher, location, &["ErrorEquals", "Next", "ResultPath", "Output", "Assign", "Comment"]);
    let (other_field, other_lang) = match lang {
        Lang::JsonPath => ("Output", Lang::Jsonata),
        Lang::Jsonata => ("ResultPath", Lang::JsonPath),
    };
    if catcher.contains_key(other_field) {
        ctx.schema(
            location,
            format!(
                "The QueryLanguage is set to '{}', but field '{other_field}' is only supported for the '{}' QueryLanguage",
                lang.name(),
                other_lang.name()
            ),
        );
    }
    check_error_equals(ctx, catcher, location, is_last);
    string_field(ctx, catcher, "Next", location);
    string_field(ctx, catcher, "Comment", location);
    if lang == Lang::JsonPath {
        if let Some(result_path) = catcher.get("ResultPath") {
            path_field(ctx, result_path, &format!("{location}/ResultPath"), "ResultPath", PathRule::Reference { allow_context: false }, true);
        }
    }
    if let Some(assign) = catcher.get("Assign") {
        check_assign(ctx, assign, &format!("{location}/Assign"), lang);
    }
}

/// `Assign`: an object whose keys are variable names (JSONPath keys may end in `.$`, making the
/// value a path or intrinsic as in payload templates).
pub(super) fn check_assign(ctx: &mut Ctx, assign: &Value, location: &str, lang: Lang) {
    let Value::Object(variables) = assign else {
        // JSONata allows the whole Assign to be... only an object per the spec.
        ctx.expected_type(location, "OBJECT");
        return;
    };
    for key in variables.keys() {
        let name = match lang {
            Lang::JsonPath => key.strip_suffix(".$").unwrap_or(key),
            Lang::Jsonata => key.as_str(),
        };
        if !paths::is_variable_name(name) {
            // Guessed wording.
            ctx.schema(&format!("{location}/{key}"), format!("The variable name '{name}' is not valid"));
        }
    }
    if lang == Lang::JsonPath {
        check_payload_template(ctx, assign, location);
    }
}

/// A JSONPath payload template: `.$` keys hold a path or an intrinsic call; a key may not appear
/// both with and without `.$`.
pub(super) fn check_payload_template(ctx: &mut Ctx, template: &Value, location: &str) {
    match template {
        Value::Object(fields) => {
            let mut seen: Vec<&str> = Vec::new();
            for (key, value) in fields {
                let at = format!("{location}/{key}");
                let plain = key.strip_suffix(".$");
                let stripped = plain.unwrap_or(key);
                if seen.contains(&stripped) {
                    // Guessed wording; the rule is the spec's.
                    ctx.schema(&at, format!("The field '{stripped}' is specified more than once"));
                }
                seen.push(stripped);
                if plain.is_some() {
                    check_dynamic_value(ctx, value, &at, key);
                } else {
                    check_payload_template(ctx, value, &at);
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                check_payload_template(ctx, item, &format!("{location}[{index}]"));
            }
        }
        _ => {}
    }
}

fn check_dynamic_value(ctx: &mut Ctx, value: &Value, location: &str, key: &str) {
    match value {
        Value::String(text) if paths::looks_like_intrinsic(text) => {
            if !paths::intrinsic_syntax_ok(text) {
                ctx.schema(location, format!("The value for the field '{key}' must be a valid intrinsic function call"));
            }
        }
        // Recorded wording (AWS language service #26 quoting CreateStateMachine).
        Value::String(text) if !paths::path_syntax_ok(text, PathRule::Path) => {
            ctx.schema(location, format!("The value for the field '{key}' must be a valid JSONPath"))
        }
        Value::String(_) => {}
        _ => ctx.schema(location, format!("The value for the field '{key}' must be a valid JSONPath")),
    }
}

pub(super) fn check_item_reader(ctx: &mut Ctx, reader: &Value, location: &str, lang: Lang) {
    let Value::Object(reader) = reader else {
        ctx.expected_type(location, "OBJECT");
        return;
    };
    if !reader.contains_key("Resource") {
        ctx.required_fields(location, &["Resource"]);
    }
    ctx.only_fields(reader, location, &["Resource", "Parameters", "Arguments", "ReaderConfig"]);
    language_field_pair(ctx, reader, location, lang);
    string_field(ctx, reader, "Resource", location);
    if let (Lang::JsonPath, Some(parameters)) = (lang, reader.get("Parameters")) {
        check_payload_template(ctx, parameters, &format!("{location}/Parameters"));
    }
    let Some(config) = reader.get("ReaderConfig") else { return };
    let at = format!("{location}/ReaderConfig");
    let Value::Object(config) = config else {
        ctx.expected_type(&at, "OBJECT");
        return;
    };
    ctx.only_fields(
        config,
        &at,
        &["InputType", "Transformation", "ManifestType", "CSVDelimiter", "CSVHeaderLocation", "CSVHeaders", "ItemsPointer", "MaxItems", "MaxItemsPath"],
    );
    enum_field(ctx, config, "InputType", &at, &["CSV", "JSON", "JSONL", "MANIFEST", "PARQUET"]);
    enum_field(ctx, config, "CSVHeaderLocation", &at, &["FIRST_ROW", "GIVEN"]);
    ctx.at_most_one_of(config, &at, &["MaxItems", "MaxItemsPath"]);
    number_field(ctx, config, "MaxItems", &at, lang, Bounds::integer(0, 100_000_000));
    jsonpath_only_path(ctx, config, "MaxItemsPath", &at, lang);
}

pub(super) fn check_item_batcher(ctx: &mut Ctx, batcher: &Value, location: &str, lang: Lang) {
    let Value::Object(batcher) = batcher else {
        ctx.expected_type(location, "OBJECT");
        return;
    };
    let fields = ["MaxItemsPerBatch", "MaxItemsPerBatchPath", "MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath", "BatchInput"];
    ctx.only_fields(batcher, location, &fields);
    ctx.at_most_one_of(batcher, location, &["MaxItemsPerBatch", "MaxItemsPerBatchPath"]);
    ctx.at_most_one_of(batcher, location, &["MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath"]);
    number_field(ctx, batcher, "MaxItemsPerBatch", location, lang, Bounds { integer: true, min: Some((0.0, "0".into())), max: None });
    number_field(ctx, batcher, "MaxInputBytesPerBatch", location, lang, Bounds { integer: true, min: Some((0.0, "0".into())), max: Some((262_144.0, "262144".into())) });
    for field in ["MaxItemsPerBatchPath", "MaxInputBytesPerBatchPath"] {
        jsonpath_only_path(ctx, batcher, field, location, lang);
    }
    if let (Lang::JsonPath, Some(input)) = (lang, batcher.get("BatchInput")) {
        check_payload_template(ctx, input, &format!("{location}/BatchInput"));
    }
}

pub(super) fn check_result_writer(ctx: &mut Ctx, writer: &Value, location: &str, lang: Lang) {
    let Value::Object(writer) = writer else {
        ctx.expected_type(location, "OBJECT");
        return;
    };
    ctx.only_fields(writer, location, &["Resource", "Parameters", "Arguments", "WriterConfig"]);
    language_field_pair(ctx, writer, location, lang);
    string_field(ctx, writer, "Resource", location);
    if let (Lang::JsonPath, Some(parameters)) = (lang, writer.get("Parameters")) {
        check_payload_template(ctx, parameters, &format!("{location}/Parameters"));
    }
    if let Some(config) = writer.get("WriterConfig") {
        let at = format!("{location}/WriterConfig");
        match config {
            Value::Object(config) => {
                ctx.only_fields(config, &at, &["OutputType", "Transformation"]);
                enum_field(ctx, config, "OutputType", &at, &["JSON", "JSONL"]);
                enum_field(ctx, config, "Transformation", &at, &["NONE", "COMPACT", "FLATTEN"]);
            }
            _ => ctx.expected_type(&at, "OBJECT"),
        }
    }
}

/// ItemReader/ResultWriter take `Parameters` in JSONPath and `Arguments` in JSONata.
fn language_field_pair(ctx: &mut Ctx, object: &Map<String, Value>, location: &str, lang: Lang) {
    let (other, other_lang) = match lang {
        Lang::JsonPath => ("Arguments", Lang::Jsonata),
        Lang::Jsonata => ("Parameters", Lang::JsonPath),
    };
    if object.contains_key(other) {
        ctx.schema(
            location,
            format!(
                "The QueryLanguage is set to '{}', but field '{other}' is only supported for the '{}' QueryLanguage",
                lang.name(),
                other_lang.name()
            ),
        );
    }
}

/// A nested `…Path` field: a Reference Path without `$$` in JSONPath (measured, floci #3733),
/// refused in JSONata with the QueryLanguage wording.
fn jsonpath_only_path(ctx: &mut Ctx, object: &Map<String, Value>, field: &str, location: &str, lang: Lang) {
    let Some(value) = object.get(field) else { return };
    match lang {
        Lang::JsonPath => path_field(ctx, value, &format!("{location}/{field}"), field, PathRule::Reference { allow_context: false }, false),
        Lang::Jsonata => ctx.schema(
            location,
            format!("The QueryLanguage is set to 'JSONata', but field '{field}' is only supported for the 'JSONPath' QueryLanguage"),
        ),
    }
}
