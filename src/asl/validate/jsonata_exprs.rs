//! JSONata expressions in a definition: each `{% … %}` string of a JSONata state must parse
//! (`INVALID_JSONATA_EXPRESSION`), and may not call functions AWS does not offer, such as
//! `$eval` (`UNSUPPORTED_JSONATA_EXPRESSION`).
//!
//! The codes are AWS's (observed, see `../shared/reference/ASL-AND-PEERS.md` §3.4); the message
//! wording is ours, as no recording shows AWS's.

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
            for field in EXPRESSION_FIELDS {
                if let Some(v) = state.get(*field) {
                    expressions(ctx, v, &format!("{loc}/{field}"));
                }
            }
            for list in ["Choices", "Catch"] {
                if let Some(Value::Array(items)) = state.get(list) {
                    for (i, item) in items.iter().enumerate() {
                        for field in ["Condition", "Output", "Assign"] {
                            if let Some(v) = item.get(field) {
                                expressions(ctx, v, &format!("{loc}/{list}[{i}]/{field}"));
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

fn expressions(ctx: &mut Ctx, v: &Value, location: &str) {
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
                }
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                expressions(ctx, x, &format!("{location}/{k}"));
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                expressions(ctx, x, &format!("{location}[{i}]"));
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

    #[test]
    fn leaves_jsonpath_states_and_valid_expressions_alone() {
        assert!(codes(r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"{% 1 + %}","End":true}}}"#).is_empty());
        assert!(codes(r#"{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":"{% $parse('[1]') %}","End":true}}}"#).is_empty());
    }
}
