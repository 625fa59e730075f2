//! JSONata expressions in a definition: each `{% … %}` string of a JSONata state must parse
//! (`INVALID_JSONATA_EXPRESSION`), may not call functions AWS does not offer, such as `$eval`,
//! and may only name the `$states` fields its field has (`UNSUPPORTED_JSONATA_EXPRESSION`).
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
use crate::jsonata::{Expression, FORBIDDEN_FUNCTIONS};

pub const INVALID_JSONATA_EXPRESSION: &str = "INVALID_JSONATA_EXPRESSION";
pub const UNSUPPORTED_JSONATA_EXPRESSION: &str = "UNSUPPORTED_JSONATA_EXPRESSION";

/// Fields of a JSONata state whose values may hold expressions, at any depth.
const EXPRESSION_FIELDS: &[&str] = &[
    "Arguments", "Output", "Assign", "Items", "ItemSelector", "Seconds", "Timestamp", "TimeoutSeconds",
    "HeartbeatSeconds", "MaxConcurrency", "ToleratedFailureCount", "ToleratedFailurePercentage", "Error", "Cause",
];

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
            for field in EXPRESSION_FIELDS {
                if let Some(v) = state.get(*field) {
                    let states = StatesFields { result: has_result && matches!(*field, "Output" | "Assign"), error_output: false };
                    expressions(ctx, v, &format!("{loc}/{field}"), states);
                }
            }
            for (list, states) in [("Choices", StatesFields::PLAIN), ("Catch", StatesFields { result: false, error_output: true })] {
                if let Some(Value::Array(items)) = state.get(list) {
                    for (i, item) in items.iter().enumerate() {
                        for field in ["Condition", "Output", "Assign"] {
                            if let Some(v) = item.get(field) {
                                expressions(ctx, v, &format!("{loc}/{list}[{i}]/{field}"), states);
                            }
                        }
                    }
                }
            }
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
        assert_eq!(unsupported_fields(&choice), [result_missing("/States/S/Output"), result_missing("/States/S/Choices[0]/Condition")]);
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

    #[test]
    fn leaves_jsonpath_states_and_valid_expressions_alone() {
        assert!(codes(r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"{% 1 + %}","End":true}}}"#).is_empty());
        assert!(codes(r#"{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":"{% $parse('[1]') %}","End":true}}}"#).is_empty());
    }
}
