//! Workflow-variable scopes: a Parallel branch or a Map processor is an inner scope, and it may
//! not assign a variable name that an enclosing scope assigns (no shadowing).
//!
//! The rules, from AWS's workflow-variables guide: one scope per `States` block; a variable
//! exists in a scope when any state of that block assigns it (its `Assign` or a Choice rule's),
//! wherever that state sits in the flow; an inner scope reads the enclosing scopes' variables
//! but cannot assign any of their names. A Parallel or Map state's own `Assign` belongs to the
//! block that holds the state, so it may assign outer names. Sibling branches (and a Map beside
//! a Parallel) do not see each other, so the same name in two of them is fine.
//!
//! Catchers take no part, on either side. AWS accepted a Parallel whose catcher assigns
//! `inputVar` while its branch's Task assigns `inputVar` too (recorded case
//! `test_parallel_catch_error[PARALLEL_CATCH_ERROR_VARIABLE_SAMPLING]`), although the guide puts
//! that catcher in the outer scope; which catchers AWS counts is not recorded, so none is.
//!
//! Choices where AWS is not recorded:
//! - The code and wording are ours: `SCHEMA_VALIDATION_FAILED` at the assignment,
//!   `/States/X/…/Assign/name`, AWS's usual pattern for a bad field value.
//! - A Distributed Map processor starts from no enclosing scope: its iterations cannot read
//!   outer variables at all (they are child executions), so an assignment there hides nothing,
//!   and we accept it rather than risk refusing a definition AWS takes.
//! - Reading an outer variable from a Distributed Map is not a definition error here: it reads
//!   nothing at run time (`vm::vars`), as undefined variables do elsewhere.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{paths, Ctx, Lang};

/// Checks every inner scope of the machine rooted at `root`.
pub(crate) fn check(ctx: &mut Ctx, root: &Map<String, Value>) {
    block(ctx, root, "", &HashSet::new());
}

/// Checks the `States` block of `container` (at `location`) against the names its enclosing
/// scopes assign (`outer`), then its own inner blocks.
fn block(ctx: &mut Ctx, container: &Map<String, Value>, location: &str, outer: &HashSet<String>) {
    let Some(Value::Object(states)) = container.get("States") else { return };
    let assignments = assignments(ctx.machine_lang, states, location);
    for (name, at) in &assignments {
        if outer.contains(name) {
            ctx.schema(
                at,
                format!("The variable '{name}' is assigned in an enclosing scope; a Parallel branch or Map iteration cannot assign it"),
            );
        }
    }
    let mut visible = outer.clone();
    visible.extend(assignments.into_iter().map(|(name, _)| name));
    let nothing = HashSet::new();
    for (name, state) in states {
        let Value::Object(state) = state else { continue };
        let loc = format!("{location}/States/{name}");
        if let Some(Value::Array(branches)) = state.get("Branches") {
            for (i, branch) in branches.iter().enumerate() {
                if let Value::Object(branch) = branch {
                    block(ctx, branch, &format!("{loc}/Branches[{i}]"), &visible);
                }
            }
        }
        for field in ["ItemProcessor", "Iterator"] {
            if let Some(Value::Object(processor)) = state.get(field) {
                let enclosing = if is_distributed(processor) { &nothing } else { &visible };
                block(ctx, processor, &format!("{loc}/{field}"), enclosing);
            }
        }
    }
}

fn is_distributed(processor: &Map<String, Value>) -> bool {
    processor.get("ProcessorConfig").and_then(|c| c.get("Mode")).and_then(Value::as_str) == Some("DISTRIBUTED")
}

/// The variable assignments of one block's states and Choice rules (not catchers, see the
/// module comment): (name, location of its `Assign` key), in document order. Keys that are not
/// valid names are skipped (reported by `rules::check_assign`).
fn assignments(machine_lang: Lang, states: &Map<String, Value>, location: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (name, state) in states {
        let Value::Object(state) = state else { continue };
        let lang = match state.get("QueryLanguage").and_then(Value::as_str) {
            Some("JSONata") => Lang::Jsonata,
            Some("JSONPath") => Lang::JsonPath,
            _ => machine_lang,
        };
        let loc = format!("{location}/States/{name}");
        assign_keys(state.get("Assign"), lang, &format!("{loc}/Assign"), &mut found);
        if let Some(Value::Array(rules)) = state.get("Choices") {
            for (i, rule) in rules.iter().enumerate() {
                assign_keys(rule.get("Assign"), lang, &format!("{loc}/Choices[{i}]/Assign"), &mut found);
            }
        }
    }
    found
}

fn assign_keys(assign: Option<&Value>, lang: Lang, location: &str, found: &mut Vec<(String, String)>) {
    let Some(Value::Object(variables)) = assign else { return };
    for key in variables.keys() {
        let name = match lang {
            Lang::JsonPath => key.strip_suffix(".$").unwrap_or(key),
            Lang::Jsonata => key.as_str(),
        };
        if paths::is_variable_name(name) {
            found.push((name.to_string(), format!("{location}/{key}")));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::asl::{validate, StateMachineType};

    /// (code, message, location) of every diagnostic.
    fn diagnostics(def: &str) -> Vec<(String, String, String)> {
        validate(def, StateMachineType::Standard)
            .into_iter()
            .map(|d| (d.code, d.message, d.location.unwrap_or_default()))
            .collect()
    }

    fn locations(def: &str) -> Vec<String> {
        diagnostics(def).into_iter().map(|(_, _, at)| at).collect()
    }

    /// A JSONata machine: `Seed` assigns `x`, then `P` (a Parallel with the given branches and
    /// extra fields) runs.
    fn parallel(branches: &str, extra: &str) -> String {
        format!(
            r#"{{"QueryLanguage":"JSONata","StartAt":"Seed","States":{{
                "Seed":{{"Type":"Pass","Assign":{{"x":1}},"Next":"P"}},
                "P":{{"Type":"Parallel","Branches":[{branches}]{extra},"Next":"Done"}},
                "Done":{{"Type":"Succeed"}}}}}}"#
        )
    }

    fn branch(state: &str) -> String {
        format!(r#"{{"StartAt":"B","States":{{"B":{state}}}}}"#)
    }

    #[test]
    fn a_branch_cannot_assign_an_outer_name() {
        let d = diagnostics(&parallel(&branch(r#"{"Type":"Pass","Assign":{"x":2},"End":true}"#), ""));
        assert_eq!(
            d,
            vec![(
                "SCHEMA_VALIDATION_FAILED".to_string(),
                "The variable 'x' is assigned in an enclosing scope; a Parallel branch or Map iteration cannot assign it"
                    .to_string(),
                "/States/P/Branches[0]/States/B/Assign/x".to_string(),
            )]
        );
    }

    #[test]
    fn a_branch_may_read_outer_names_and_assign_its_own() {
        let b = branch(r#"{"Type":"Pass","Assign":{"y":"{% $x + 1 %}"},"Output":"{% $x %}","End":true}"#);
        assert!(diagnostics(&parallel(&b, "")).is_empty());
    }

    #[test]
    fn sibling_branches_may_assign_the_same_name() {
        let b1 = r#"{"StartAt":"B1","States":{"B1":{"Type":"Pass","Assign":{"y":1},"End":true}}}"#;
        let b2 = r#"{"StartAt":"B2","States":{"B2":{"Type":"Pass","Assign":{"y":2},"End":true}}}"#;
        assert!(diagnostics(&parallel(&format!("{b1},{b2}"), "")).is_empty());
    }

    #[test]
    fn the_parallel_states_own_assign_and_catchers_may_assign_outer_names() {
        let b = branch(r#"{"Type":"Pass","End":true}"#);
        let extra = r#","Assign":{"x":"{% $states.result %}"},
            "Catch":[{"ErrorEquals":["States.ALL"],"Assign":{"x":"{% $states.errorOutput %}"},"Next":"Done"}]"#;
        assert!(diagnostics(&parallel(&b, extra)).is_empty());
    }

    #[test]
    fn catchers_take_no_part_on_either_side() {
        // As recorded on AWS: the Parallel's catcher assigns `e`, and so does its branch.
        let b = branch(r#"{"Type":"Pass","Assign":{"e":1},"End":true}"#);
        let extra = r#","Catch":[{"ErrorEquals":["States.ALL"],"Assign":{"e":2},"Next":"Done"}]"#;
        assert!(diagnostics(&parallel(&b, extra)).is_empty());
        let b = r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Arguments":{},
            "Catch":[{"ErrorEquals":["States.ALL"],"Assign":{"x":2},"Next":"E"}],"Next":"E"},"E":{"Type":"Succeed"}}}"#;
        assert!(diagnostics(&parallel(b, "")).is_empty());
    }

    #[test]
    fn choice_rules_assign_in_their_blocks_scope() {
        let b = r#"{"StartAt":"C","States":{
            "C":{"Type":"Choice","Choices":[{"Condition":"{% true %}","Assign":{"x":1},"Next":"E"}],"Default":"E"},
            "E":{"Type":"Succeed"}}}"#;
        assert_eq!(locations(&parallel(b, "")), ["/States/P/Branches[0]/States/C/Choices[0]/Assign/x"]);
        // An outer Choice rule's assignment makes the name outer.
        let def = r#"{"QueryLanguage":"JSONata","StartAt":"C","States":{
            "C":{"Type":"Choice","Choices":[{"Condition":"{% true %}","Assign":{"c":1},"Next":"P"}],"Default":"P"},
            "P":{"Type":"Parallel","Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","Assign":{"c":2},"End":true}}}],"End":true}}}"#;
        assert_eq!(locations(def), ["/States/P/Branches[0]/States/B/Assign/c"]);
    }

    #[test]
    fn a_map_nested_in_a_branch_sees_both_enclosing_scopes() {
        let b = r#"{"StartAt":"Mid","States":{
            "Mid":{"Type":"Pass","Assign":{"m":1},"Next":"M"},
            "M":{"Type":"Map","Items":[1],"ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":"I","States":{
                "I":{"Type":"Pass","Assign":{"x":1,"m":2,"fresh":3},"End":true}}},"End":true}}}"#;
        assert_eq!(
            locations(&parallel(b, "")),
            ["/States/P/Branches[0]/States/M/ItemProcessor/States/I/Assign/x", "/States/P/Branches[0]/States/M/ItemProcessor/States/I/Assign/m"]
        );
    }

    #[test]
    fn jsonpath_assign_keys_are_names_without_the_dollar_suffix() {
        let def = r#"{"StartAt":"Seed","States":{
            "Seed":{"Type":"Pass","Assign":{"x.$":"$.a"},"Next":"M"},
            "M":{"Type":"Map","Iterator":{"StartAt":"I","States":{"I":{"Type":"Pass","Assign":{"x":1,"y.$":"$"},"End":true}}},"End":true}}}"#;
        assert_eq!(locations(def), ["/States/M/Iterator/States/I/Assign/x"]);
        let def = def.replace(r#""x":1,"#, "");
        assert!(diagnostics(&def).is_empty());
    }

    #[test]
    fn a_distributed_map_starts_from_no_enclosing_scope() {
        let def = r#"{"QueryLanguage":"JSONata","StartAt":"Seed","States":{
            "Seed":{"Type":"Pass","Assign":{"x":1},"Next":"M"},
            "M":{"Type":"Map","Items":[1],"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},
                "StartAt":"I","States":{"I":{"Type":"Pass","Assign":{"x":2},"End":true}}},"End":true}}}"#;
        assert!(diagnostics(def).is_empty());
        assert_eq!(locations(&def.replace("DISTRIBUTED", "INLINE").replace(r#","ExecutionType":"EXPRESS""#, "")).len(), 1);
    }
}
