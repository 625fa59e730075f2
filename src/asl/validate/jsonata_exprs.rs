//! JSONata expressions in a definition: each `{% … %}` string of a JSONata state must parse
//! (`INVALID_JSONATA_EXPRESSION`), may not call functions AWS does not offer, such as `$eval`,
//! may only name the `$states` fields its field has, and may not read the context item at the
//! top level (all three `UNSUPPORTED_JSONATA_EXPRESSION`).
//!
//! Which strings are expressions: every string of every field of a JSONata state, at any depth,
//! except in the ASL fields AWS leaves as text ([`NOT_EXPRESSIONS`]: `Comment`, `Next`, `Resource`,
//! `ErrorEquals`, …). Inside a payload (`Output`, `Assign`, `Arguments`, `ItemSelector`,
//! `BatchInput`) every string is one, whatever its key.
//!
//! Top-level references: AWS evaluates an expression with no context item, so a bare field name,
//! `$` or `$$` read outside every path step and predicate is refused, one diagnostic per distinct
//! name in writing order: `Reference to 'phone' at the top level is not supported.`,
//! `Reference to '$' at the top level is not supported.`, `Reference to '$$' is not supported.`
//! (AWS's words, measured by floci #2670/#2699; which constructs count is documented on
//! [`crate::jsonata::TopLevelReference`]'s walk).
//!
//! `$states.result` exists only in the top-level `Output` and `Assign` of Task, Map and Parallel
//! states; `$states.errorOutput` only in a catcher's `Output` and `Assign`. Elsewhere AWS rejects
//! the definition with `Field '$states.errorOutput' does not exist.` at the field holding the
//! expression (measured on AWS, floci #2745/#2786; SST #6110 quotes the same words), and we give
//! `$states.result` the same sentence. A field counts as named when a path steps into it right
//! after `$states` (`$states.result.Payload`, also inside lambdas and function arguments);
//! `{% $states %}` or `$lookup($states, 'result')` name nothing, since AWS can only see static
//! paths, and evaluate to the object without that field at run time. Fields other than
//! `result`/`errorOutput` are left alone: whether AWS rejects `$states.foo` is not recorded.
//!
//! The codes are AWS's (observed, see `../shared/reference/ASL-AND-PEERS.md` §3.4); the other
//! messages are our wording, as no recording shows AWS's.

use serde_json::{Map, Value};

use super::{is_jsonata_expression, Ctx, Lang};
use crate::jsonata::{Expression, TopLevelReference, FORBIDDEN_FUNCTIONS};

pub const INVALID_JSONATA_EXPRESSION: &str = "INVALID_JSONATA_EXPRESSION";
pub const UNSUPPORTED_JSONATA_EXPRESSION: &str = "UNSUPPORTED_JSONATA_EXPRESSION";

/// ASL fields whose `{% … %}` strings AWS does not read as expressions (measured with
/// ValidateStateMachineDefinition, floci PR #2699): they keep the text, hold error names, or (for
/// `Credentials`) fail an ARN check first. `ItemProcessor`, `Iterator` and `Branches` hold states,
/// which are walked as states of their own.
const NOT_EXPRESSIONS: &[&str] = &[
    "Comment", "Next", "Default", "Resource", "ErrorEquals", "Retry", "Credentials", "CSVHeaders", "ItemProcessor", "Iterator",
    "Branches",
];

/// Fields whose value is a user payload: every string in it, under any key and at any depth, is
/// read as an expression (`Assign: {"Next": "{% … %}"}` is one).
const PAYLOAD_FIELDS: &[&str] = &["Output", "Assign", "Arguments", "ItemSelector", "BatchInput"];

/// Checks every JSONata state of the machine rooted at `root`.
pub(crate) fn check(ctx: &mut Ctx, root: &Map<String, Value>) {
    let machine = match root.get("QueryLanguage").and_then(Value::as_str) {
        Some("JSONata") => Lang::Jsonata,
        _ => Lang::JsonPath,
    };
    states(ctx, root, "", machine);
}

fn states(ctx: &mut Ctx, container: &Map<String, Value>, location: &str, machine: Lang) {
    let Some(Value::Object(members)) = container.get("States") else { return };
    for (name, state) in members {
        let Value::Object(state) = state else { continue };
        let loc = format!("{location}/States/{name}");
        let lang = match state.get("QueryLanguage").and_then(Value::as_str) {
            Some("JSONata") => Lang::Jsonata,
            Some(_) => Lang::JsonPath,
            None => machine,
        };
        if lang == Lang::Jsonata {
            let has_result = matches!(state.get("Type").and_then(Value::as_str), Some("Task" | "Map" | "Parallel"));
            asl_object(ctx, state, &loc, Holder::State { has_result });
        }
        for nested in ["ItemProcessor", "Iterator"] {
            if let Some(Value::Object(p)) = state.get(nested) {
                states(ctx, p, &format!("{loc}/{nested}"), machine);
            }
        }
        if let Some(Value::Array(branches)) = state.get("Branches") {
            for (i, b) in branches.iter().enumerate() {
                if let Value::Object(b) = b {
                    states(ctx, b, &format!("{loc}/Branches[{i}]"), machine);
                }
            }
        }
    }
}

/// The ASL object whose fields are being walked; it decides which `$states` fields the
/// payloads `Output` and `Assign` directly inside it may name.
#[derive(Clone, Copy)]
enum Holder {
    State { has_result: bool },
    Catcher,
    /// A Choice rule, or an object such as `ItemReader` or `ItemBatcher`.
    Other,
}

/// Walks the fields of an ASL object (not a payload) of a JSONata state, skipping those AWS
/// does not read as expressions.
fn asl_object(ctx: &mut Ctx, object: &Map<String, Value>, location: &str, holder: Holder) {
    for (field, value) in object.iter().filter(|(f, _)| !NOT_EXPRESSIONS.contains(&f.as_str())) {
        let loc = format!("{location}/{field}");
        if PAYLOAD_FIELDS.contains(&field.as_str()) {
            let states = match (holder, field.as_str()) {
                (Holder::State { has_result }, "Output" | "Assign") => StatesFields { result: has_result, error_output: false },
                (Holder::Catcher, "Output" | "Assign") => StatesFields { result: false, error_output: true },
                _ => StatesFields::PLAIN,
            };
            expressions(ctx, value, &loc, states);
            continue;
        }
        let item_holder = match field.as_str() {
            "Catch" => Holder::Catcher,
            _ => Holder::Other,
        };
        match value {
            Value::Object(inner) => asl_object(ctx, inner, &loc, Holder::Other),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let loc = format!("{loc}[{i}]");
                    match item {
                        Value::Object(inner) => asl_object(ctx, inner, &loc, item_holder),
                        other => expressions(ctx, other, &loc, StatesFields::PLAIN),
                    }
                }
            }
            other => expressions(ctx, other, &loc, StatesFields::PLAIN),
        }
    }
}

/// Which of `$states`' optional fields a field's expressions may name (`input` and `context`
/// are always there).
#[derive(Clone, Copy)]
struct StatesFields {
    result: bool,
    error_output: bool,
}

impl StatesFields {
    const PLAIN: StatesFields = StatesFields { result: false, error_output: false };

    fn has(self, field: &str) -> bool {
        match field {
            "result" => self.result,
            "errorOutput" => self.error_output,
            _ => true,
        }
    }
}

fn expressions(ctx: &mut Ctx, v: &Value, location: &str, states: StatesFields) {
    match v {
        Value::String(text) if is_jsonata_expression(text) => {
            let inner = text[2..text.len() - 2].trim();
            match Expression::parse(inner) {
                Err(e) => ctx.report(INVALID_JSONATA_EXPRESSION, format!("The JSONata expression '{inner}' is not valid: {e}"), location),
                Ok(expr) => {
                    if let Some(f) = expr.called_functions().iter().find(|f| FORBIDDEN_FUNCTIONS.contains(&f.as_str())) {
                        ctx.report(
                            UNSUPPORTED_JSONATA_EXPRESSION,
                            format!("The JSONata expression '{inner}' calls ${f}, which AWS Step Functions does not support"),
                            location,
                        );
                    }
                    for field in expr.states_fields().iter().filter(|f| !states.has(f)) {
                        ctx.report(UNSUPPORTED_JSONATA_EXPRESSION, format!("Field '$states.{field}' does not exist."), location);
                    }
                    for reference in expr.top_level_references() {
                        let message = match reference {
                            TopLevelReference::Field(name) => format!("Reference to '{name}' at the top level is not supported."),
                            TopLevelReference::ContextItem => "Reference to '$' at the top level is not supported.".to_string(),
                            TopLevelReference::Root => "Reference to '$$' is not supported.".to_string(),
                        };
                        ctx.report(UNSUPPORTED_JSONATA_EXPRESSION, message, location);
                    }
                }
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                expressions(ctx, x, &format!("{location}/{k}"), states);
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                expressions(ctx, x, &format!("{location}[{i}]"), states);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::asl::{validate, StateMachineType};

    fn codes(def: &str) -> Vec<(String, Option<String>)> {
        validate(def, StateMachineType::Standard).into_iter().map(|d| (d.code, d.location)).collect()
    }

    #[test]
    fn rejects_unparsable_and_forbidden_expressions_with_locations() {
        let d = codes(r#"{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":{"a":"{% 1 + %}"},"End":true}}}"#);
        assert_eq!(d, vec![("INVALID_JSONATA_EXPRESSION".to_string(), Some("/States/P/Output/a".to_string()))]);
        let d = codes(r#"{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":"{% $eval('1') %}","End":true}}}"#);
        assert_eq!(d, vec![("UNSUPPORTED_JSONATA_EXPRESSION".to_string(), Some("/States/P/Output".to_string()))]);
        let d = codes(r#"{"QueryLanguage":"JSONata","StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Condition":"{% ) %}","Next":"E"}],"Default":"E"},"E":{"Type":"Succeed"}}}"#);
        assert_eq!(d[0].1.as_deref(), Some("/States/C/Choices[0]/Condition"));
    }

    /// A JSONata machine whose one state `S` is `state` (it may go `Next` to `Done`).
    fn machine(state: &str) -> String {
        format!(r#"{{"QueryLanguage":"JSONata","StartAt":"S","States":{{"S":{state},"Done":{{"Type":"Succeed"}}}}}}"#)
    }

    const TASK: &str = r#""Type":"Task","Resource":"arn:aws:states:::lambda:invoke""#;

    fn unsupported_fields(def: &str) -> Vec<(String, String)> {
        validate(def, StateMachineType::Standard)
            .into_iter()
            .map(|d| {
                assert_eq!(d.code, "UNSUPPORTED_JSONATA_EXPRESSION", "{d:?}");
                (d.message, d.location.unwrap_or_default())
            })
            .collect()
    }

    fn result_missing(location: &str) -> (String, String) {
        ("Field '$states.result' does not exist.".to_string(), location.to_string())
    }

    fn error_output_missing(location: &str) -> (String, String) {
        ("Field '$states.errorOutput' does not exist.".to_string(), location.to_string())
    }

    #[test]
    fn states_result_only_in_the_output_and_assign_of_task_map_and_parallel() {
        let task = machine(&format!(
            r#"{{{TASK},"Arguments":{{"p":"{{% $states.result %}}"}},"Output":{{"a":"{{% $states.result.Payload %}}"}},
                "Assign":{{"v":"{{% $count($states.result) %}}"}},"TimeoutSeconds":"{{% $states.result %}}","Next":"Done"}}"#
        ));
        assert_eq!(unsupported_fields(&task), [result_missing("/States/S/Arguments/p"), result_missing("/States/S/TimeoutSeconds")]);
        let map = machine(
            r#"{"Type":"Map","Items":"{% $states.result %}","ItemSelector":"{% $states.result %}",
                "ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}},
                "Output":"{% $states.result %}","Assign":{"n":"{% $states.result %}"},"Next":"Done"}"#,
        );
        assert_eq!(unsupported_fields(&map), [result_missing("/States/S/Items"), result_missing("/States/S/ItemSelector")]);
        let parallel = machine(
            r#"{"Type":"Parallel","Arguments":"{% $states.result %}","Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}],
                "Output":"{% $states.result %}","Next":"Done"}"#,
        );
        assert_eq!(unsupported_fields(&parallel), [result_missing("/States/S/Arguments")]);
    }

    #[test]
    fn states_result_is_missing_from_pass_choice_wait_fail_and_catchers() {
        let pass = machine(r#"{"Type":"Pass","Output":"{% $states.result %}","Assign":{"v":"{% $states.result %}"},"Next":"Done"}"#);
        assert_eq!(unsupported_fields(&pass), [result_missing("/States/S/Output"), result_missing("/States/S/Assign/v")]);
        let choice = machine(
            r#"{"Type":"Choice","Choices":[{"Condition":"{% $states.result %}","Next":"Done"}],"Default":"Done","Output":"{% $states.result %}"}"#,
        );
        // Fields are walked in document order.
        assert_eq!(unsupported_fields(&choice), [result_missing("/States/S/Choices[0]/Condition"), result_missing("/States/S/Output")]);
        let wait = machine(r#"{"Type":"Wait","Seconds":"{% $states.result %}","Next":"Done"}"#);
        assert_eq!(unsupported_fields(&wait), [result_missing("/States/S/Seconds")]);
        let fail = machine(r#"{"Type":"Fail","Error":"{% $states.result %}","Cause":"{% $states.errorOutput %}"}"#);
        let fail = fail.replace(r#","Done":{"Type":"Succeed"}"#, "");
        assert_eq!(unsupported_fields(&fail), [result_missing("/States/S/Error"), error_output_missing("/States/S/Cause")]);
        let caught = machine(&format!(
            r#"{{{TASK},"Catch":[{{"ErrorEquals":["States.ALL"],"Output":"{{% $states.result %}}","Next":"Done"}}],"Next":"Done"}}"#
        ));
        assert_eq!(unsupported_fields(&caught), [result_missing("/States/S/Catch[0]/Output")]);
    }

    #[test]
    fn states_error_output_only_in_a_catchers_output_and_assign() {
        let caught = machine(&format!(
            r#"{{{TASK},"Catch":[{{"ErrorEquals":["States.ALL"],"Output":"{{% $states.errorOutput %}}",
                "Assign":{{"e":"{{% $states.errorOutput.Cause %}}"}},"Next":"Done"}}],
                "Output":{{"x":"{{% $states.errorOutput %}}"}},"Next":"Done"}}"#
        ));
        assert_eq!(unsupported_fields(&caught), [error_output_missing("/States/S/Output/x")]);
        let pass = machine(r#"{"Type":"Pass","Output":"{% $states.errorOutput %}","Next":"Done"}"#);
        assert_eq!(unsupported_fields(&pass), [error_output_missing("/States/S/Output")]);
    }

    #[test]
    fn states_fields_count_in_sub_expressions_but_not_through_dynamic_access() {
        let nested = machine(r#"{"Type":"Pass","Output":"{% $map([1, 2], function($v) { $v + $states.result.n }) %}","Next":"Done"}"#);
        assert_eq!(unsupported_fields(&nested), [result_missing("/States/S/Output")]);
        let whole = machine(r#"{"Type":"Pass","Output":{"all":"{% $states %}","r":"{% $lookup($states, 'result') %}"},"Next":"Done"}"#);
        assert!(unsupported_fields(&whole).is_empty());
        // Other fields of `$states` are not judged here (AWS's answer is not recorded).
        let other = machine(r#"{"Type":"Pass","Output":"{% $states.input & $states.context.State.Name & $states.other %}","Next":"Done"}"#);
        assert!(unsupported_fields(&other).is_empty());
    }

    #[test]
    fn nested_states_follow_their_own_type() {
        let def = machine(
            r#"{"Type":"Parallel","Branches":[{"StartAt":"B","States":{
                "B":{"Type":"Pass","Output":"{% $states.result %}","End":true}}}],"Output":"{% $states.result %}","Next":"Done"}"#,
        );
        assert_eq!(unsupported_fields(&def), [result_missing("/States/S/Branches[0]/States/B/Output")]);
    }

    fn top_level(name: &str, location: &str) -> (String, String) {
        (format!("Reference to '{name}' at the top level is not supported."), location.to_string())
    }

    #[test]
    fn top_level_references_are_refused_with_awss_words_at_the_field() {
        // The example AWS answers with `… 'phone' at the top level … at /States/E/Output/v`.
        let pass = machine(r#"{"Type":"Pass","Output":{"v":"{% phone %}","w":["{% $ %}","{% $$.x %}"]},"Next":"Done"}"#);
        assert_eq!(
            unsupported_fields(&pass),
            [
                top_level("phone", "/States/S/Output/v"),
                top_level("$", "/States/S/Output/w[0]"),
                ("Reference to '$$' is not supported.".to_string(), "/States/S/Output/w[1]".to_string()),
            ]
        );
        // One diagnostic per distinct name of an expression, in writing order.
        let names = machine(r#"{"Type":"Pass","Assign":{"x":"{% a + b + a + $number(c) %}"},"Next":"Done"}"#);
        assert_eq!(
            unsupported_fields(&names),
            [top_level("a", "/States/S/Assign/x"), top_level("b", "/States/S/Assign/x"), top_level("c", "/States/S/Assign/x")]
        );
    }

    #[test]
    fn top_level_references_are_checked_in_every_expression_field() {
        let choice = machine(
            r#"{"Type":"Choice","Choices":[{"Condition":"{% flag %}","Assign":{"a":"{% $ %}"},"Output":"{% o %}","Next":"Done"}],
                "Default":"Done"}"#,
        );
        assert_eq!(
            unsupported_fields(&choice),
            [
                top_level("flag", "/States/S/Choices[0]/Condition"),
                top_level("$", "/States/S/Choices[0]/Assign/a"),
                top_level("o", "/States/S/Choices[0]/Output"),
            ]
        );
        let task = machine(&format!(
            r#"{{{TASK},"Arguments":{{"Payload":{{"Comment":"{{% p %}}"}}}},"TimeoutSeconds":"{{% t %}}","HeartbeatSeconds":"{{% h %}}",
                "Catch":[{{"ErrorEquals":["States.ALL"],"Output":"{{% e %}}","Assign":{{"x":"{{% [x] %}}"}},"Next":"Done"}}],"Next":"Done"}}"#
        ));
        assert_eq!(
            unsupported_fields(&task),
            [
                top_level("p", "/States/S/Arguments/Payload/Comment"),
                top_level("t", "/States/S/TimeoutSeconds"),
                top_level("h", "/States/S/HeartbeatSeconds"),
                top_level("e", "/States/S/Catch[0]/Output"),
                top_level("x", "/States/S/Catch[0]/Assign/x"),
            ]
        );
        let map = machine(
            r#"{"Type":"Map","Items":"{% items %}","ItemSelector":{"v":"{% v %}"},"MaxConcurrency":"{% m %}",
                "ItemReader":{"Resource":"arn:aws:states:::s3:getObject","Arguments":{"Bucket":"{% b %}","Key":"k"}},
                "ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":"I","States":{"I":{"Type":"Pass","Output":"{% i %}","End":true}}},
                "Next":"Done"}"#,
        );
        assert_eq!(
            unsupported_fields(&map),
            [
                top_level("items", "/States/S/Items"),
                top_level("v", "/States/S/ItemSelector/v"),
                top_level("m", "/States/S/MaxConcurrency"),
                top_level("b", "/States/S/ItemReader/Arguments/Bucket"),
                top_level("i", "/States/S/ItemProcessor/States/I/Output"),
            ]
        );
        let wait = machine(r#"{"Type":"Wait","Seconds":"{% s %}","Next":"Done"}"#);
        assert_eq!(unsupported_fields(&wait), [top_level("s", "/States/S/Seconds")]);
        let fail = machine(r#"{"Type":"Fail","Error":"{% e %}","Cause":"{% $string($) %}"}"#).replace(r#","Done":{"Type":"Succeed"}"#, "");
        assert_eq!(unsupported_fields(&fail), [top_level("e", "/States/S/Error"), top_level("$", "/States/S/Cause")]);
    }

    #[test]
    fn anchored_names_and_text_fields_are_accepted() {
        // Names after a path step, in predicates, sort terms and lambdas' own parameters; `$`
        // bound by a predicate; variables; and `{% %}` in fields AWS keeps as text.
        let pass = machine(
            r#"{"Type":"Pass","Comment":"{% phone %}","Assign":{"v":"{% $states.input.a[phone > 1].b^(c) %}"},
                "Output":{"a":"{% $map($states.input.xs, function($x){ $x.phone }) %}","b":"{% $states.input.xs[$ > 1] %}",
                "c":"{% $v.phone & $states.context.Execution.Id %}","d":"{% $count($states.input.a{'k': phone}) %}"},"Next":"Done"}"#,
        );
        assert!(unsupported_fields(&pass).is_empty());
        let task = machine(&format!(
            r#"{{{TASK},"Retry":[{{"ErrorEquals":["{{% e %}}"]}}],
                "Catch":[{{"ErrorEquals":["{{% e %}}"],"Comment":"{{% c %}}","Next":"Done"}}],"Next":"Done"}}"#
        ));
        assert!(unsupported_fields(&task).is_empty());
        // A JSONPath state's strings are not expressions.
        let jsonpath = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"a":"{% phone %}"},"End":true}}}"#;
        assert!(codes(jsonpath).is_empty());
    }

    #[test]
    fn leaves_jsonpath_states_and_valid_expressions_alone() {
        assert!(codes(r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"{% 1 + %}","End":true}}}"#).is_empty());
        assert!(codes(r#"{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":"{% $parse('[1]') %}","End":true}}}"#).is_empty());
    }
}
