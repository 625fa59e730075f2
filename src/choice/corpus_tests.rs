//! Data-driven check of Choice rules against the cases recorded from real AWS.
//!
//! For every `choice` case that is `pure`, not JSONata, and uses the one-rule template (a
//! Choice whose single rule goes to `ConditionTrue` with `Default: ConditionFalse`, two Pass
//! states returning `{"TestResult.$": …}`), the rule is compiled and evaluated on the case's
//! input, and the outcome is compared with what AWS recorded: `true` ⇒ `ConditionTrue`,
//! `false` ⇒ `ConditionFalse`, an error ⇒ the FAILED error name and the cause after AWS's
//! "…(entered at the event id #N). " prefix.
//!
//! The corpus lives outside the repository: `$EXPRESSWAY_CONFORMANCE_DIR`, else
//! `$CARGO_MANIFEST_DIR/../shared/conformance/cases`. When neither exists the test prints a
//! notice and passes, so builds without the corpus are not blocked.

use super::tests::TestRoots;
use super::Rule;
use crate::value::parse_str;
use serde_json::Value as Json;
use std::path::PathBuf;

fn corpus_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("EXPRESSWAY_CONFORMANCE_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/cases"),
    };
    dir.is_dir().then_some(dir)
}

/// The single rule of a template-shaped case, or `None` for any other definition.
fn template_rule(definition: &Json) -> Option<&Json> {
    let states = definition.get("States")?.as_object()?;
    let start = definition.get("StartAt")?.as_str()?;
    let choice = states.get(start)?;
    if choice.get("Type")?.as_str()? != "Choice" || choice.get("Default")?.as_str()? != "ConditionFalse" {
        return None;
    }
    let choices = choice.get("Choices")?.as_array()?;
    let [rule] = choices.as_slice() else { return None };
    if rule.get("Next")?.as_str()? != "ConditionTrue" {
        return None;
    }
    for name in ["ConditionTrue", "ConditionFalse"] {
        let pass = states.get(name)?;
        if pass.get("Type")?.as_str()? != "Pass" || pass.get("Result")?.get("TestResult.$")?.as_str()? != name {
            return None;
        }
    }
    Some(rule)
}

/// What AWS recorded, in the form our evaluation produces.
#[derive(Debug, PartialEq)]
enum Outcome {
    Branch(String),
    Failed { error: Option<String>, cause: Option<String> },
}

fn expected_outcome(expected: &Json) -> Option<Outcome> {
    match expected.get("status")?.as_str()? {
        "SUCCEEDED" => Some(Outcome::Branch(expected.get("output")?.get("TestResult.$")?.as_str()?.to_string())),
        "FAILED" => {
            let cause = expected.get("cause").and_then(Json::as_str).map(|c| {
                // Drop "An error occurred while executing the state 'X' (entered at the event id #N). "
                const MARK: &str = "(entered at the event id #";
                c.find(MARK)
                    .and_then(|at| c[at..].find("). ").map(|end| c[at + end + 3..].to_string()))
                    .unwrap_or_else(|| c.to_string())
            });
            Some(Outcome::Failed { error: expected.get("error").and_then(Json::as_str).map(str::to_string), cause })
        }
        _ => None,
    }
}

#[test]
fn choice_rules_match_recorded_aws_outcomes() {
    let Some(dir) = corpus_dir() else {
        eprintln!("conformance corpus not found (set EXPRESSWAY_CONFORMANCE_DIR); skipping");
        return;
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus dir is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    entries.sort();

    let (mut passed, mut failures, mut skipped) = (0usize, Vec::new(), 0usize);
    for path in entries {
        let text = std::fs::read_to_string(&path).expect("case is readable");
        let case: Json = serde_json::from_str(&text).expect("case is JSON");
        if case.get("category").and_then(Json::as_str) != Some("choice") {
            continue;
        }
        let jsonata = case
            .get("tags")
            .and_then(Json::as_array)
            .is_some_and(|t| t.iter().any(|x| x.as_str() == Some("QueryLanguage:JSONata")));
        let pure = case.get("pure").and_then(Json::as_bool) == Some(true);
        let rule = case.get("definition").and_then(template_rule);
        let expected = case.get("expected").and_then(expected_outcome);
        let (Some(rule), Some(expected), true, false) = (rule, expected, pure, jsonata) else {
            skipped += 1;
            continue;
        };
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let input = case.get("input").and_then(Json::as_str).unwrap_or("{}");
        let input = match parse_str(input) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{name}: input does not parse: {e}"));
                continue;
            }
        };
        let actual = match Rule::compile(rule) {
            Err(e) => Outcome::Failed { error: Some("<compile error>".into()), cause: Some(e) },
            Ok(rule) => match rule.eval(&TestRoots::new(input)) {
                Ok(true) => Outcome::Branch("ConditionTrue".into()),
                Ok(false) => Outcome::Branch("ConditionFalse".into()),
                Err(e) => Outcome::Failed {
                    error: e.error.as_deref().map(str::to_string),
                    cause: e.cause.as_deref().map(str::to_string),
                },
            },
        };
        if actual == expected {
            passed += 1;
        } else {
            failures.push(format!("{name}: rule {rule}\n    expected {expected:?}\n    actual   {actual:?}"));
        }
    }
    eprintln!("choice corpus: {passed} passed, {} failed, {skipped} skipped (not the template)", failures.len());
    assert!(failures.is_empty(), "{} choice cases differ from AWS:\n{}", failures.len(), failures.join("\n"));
    assert!(passed > 0, "no template-shaped choice cases found in {}", dir.display());
}
