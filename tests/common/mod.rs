//! Shared by the corpus-driven tests: where the AWS-recorded cases are, how a case's definition
//! is read, and compare.py's matching rules for judging a result against the recording.

#![allow(dead_code)] // each test crate uses its own subset

pub mod lambda_server;
pub mod server;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use expressway::asl::StateMachineType;
use expressway::machine::StateMachine;
use expressway::runtime::{run_execution, Engine, EngineConfig, ExecutionOutcome, StartOptions};
use expressway::tasks::Resources;
use regex::Regex;
use serde_json::Value as Json;

pub fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("EXPRESSWAY_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/cases"));
    dir.is_dir().then_some(dir)
}

pub fn known_failures(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once(char::is_whitespace) {
            Some((id, why)) => (id.to_string(), why.trim().to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect()
}

/// Every case file of the corpus, parsed, in file-name order (`None` without the corpus).
pub fn all_cases() -> Option<Vec<Json>> {
    let dir = corpus_dir()?;
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus folder is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    Some(paths.iter().map(|p| serde_json::from_str(&std::fs::read_to_string(p).expect("case readable")).expect("case is JSON")).collect())
}

/// Checks every selected case with `check` (`None` = passed, else the first difference) against
/// the known-failures list: an unlisted failure, a listed case that passes and a listed case
/// not in the selection all fail the test. Returns (passed, selected); (0, 0) without a corpus.
pub fn score(
    label: &str,
    selected: impl Fn(&Json) -> bool,
    known: &BTreeMap<String, String>,
    check: impl Fn(&Json) -> Option<String>,
) -> (usize, usize) {
    let Some(cases) = all_cases() else {
        eprintln!("conformance corpus not found (set EXPRESSWAY_CONFORMANCE_DIR); nothing to check");
        return (0, 0);
    };
    let results: BTreeMap<String, Option<String>> =
        cases.iter().filter(|c| selected(c)).map(|case| (case["id"].as_str().unwrap_or_default().to_string(), check(case))).collect();
    let passed = check_known(label, &results, known);
    assert!(results.len() > 50, "the corpus selection is unexpectedly small ({})", results.len());
    (passed, results.len())
}

/// Holds per-case results (`None` = passed, else the first difference) against the
/// known-failures list: an unlisted failure, a listed case that passes and a listed case not in
/// the results all fail the test. Returns how many passed.
pub fn check_known(label: &str, results: &BTreeMap<String, Option<String>>, known: &BTreeMap<String, String>) -> usize {
    let failed: BTreeMap<&String, &String> = results.iter().filter_map(|(id, why)| why.as_ref().map(|w| (id, w))).collect();
    let passed = results.len() - failed.len();
    eprintln!("{label}: {passed} passed, {} failed, of {} selected cases", failed.len(), results.len());
    let unexpected: Vec<String> =
        failed.iter().filter(|(id, _)| !known.contains_key(**id)).map(|(id, why)| format!("  {id}: {why}")).collect();
    let now_passing: Vec<&String> = known.keys().filter(|id| results.get(*id).is_some_and(Option::is_none)).collect();
    let stale: Vec<&String> = known.keys().filter(|id| !results.contains_key(*id)).collect();
    assert!(
        unexpected.is_empty() && now_passing.is_empty() && stale.is_empty(),
        "unexpected failures:\n{}\nlisted as failing but now passing (remove them from the list): {now_passing:?}\nlisted but not in the corpus selection: {stale:?}",
        unexpected.join("\n")
    );
    passed
}

pub fn machine_type(case: &Json) -> StateMachineType {
    match case["execution_type"].as_str() {
        Some("EXPRESS") => StateMachineType::Express,
        _ => StateMachineType::Standard,
    }
}

pub fn definition_text(case: &Json) -> String {
    match (&case["definition"], case["definition_raw"].as_str()) {
        (Json::Null, Some(raw)) => raw.to_string(),
        (d, _) => d.to_string(),
    }
}

/// Starts the case's execution in-process on a paused (virtual) clock, as StartExecution or
/// StartSyncExecution would; `Err` holds the REJECTED result when AWS would refuse to start it.
/// `resources` is called inside the runtime.
pub fn execute(case: &Json, config: EngineConfig, resources: impl FnOnce() -> Resources) -> Result<ExecutionOutcome, Json> {
    let kind = machine_type(case);
    let machine = StateMachine::new("ConformanceCase", &definition_text(case), kind)
        .map_err(|e| serde_json::json!({"status": "REJECTED", "error": "InvalidDefinition", "cause": e.message}))?;
    let input = expressway::value::parse_str(case["input"].as_str().unwrap_or("{}"))
        .map_err(|e| serde_json::json!({"status": "REJECTED", "error": "InvalidExecutionInput", "cause": e.to_string()}))?;
    let mut opts = StartOptions::new("ConformanceCase");
    opts.express = kind == StateMachineType::Express;
    opts.sync = opts.express && case["start_api"].as_str() != Some("StartExecution");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().expect("runtime");
    Ok(runtime.block_on(async {
        let engine = Engine::new(config, resources());
        run_execution(&engine, Arc::clone(&machine.program), input, &opts).await
    }))
}

/// Runs a machine whose start state `Task` is `task` merged with `extra` (more state fields);
/// when `extra` has a `Catch`, its catchers may go to `Handled`, a Pass state. Runs on a paused
/// clock when `integrations.virtual_time` is set, as `expressway run --virtual-time` does.
pub fn run_task_state(task: Json, extra: Json, input: &str, integrations: expressway::tasks::Integrations) -> ExecutionOutcome {
    let mut state = task;
    if let (Some(s), Some(e)) = (state.as_object_mut(), extra.as_object()) {
        s.extend(e.clone());
        s.entry("End").or_insert(Json::Bool(true));
    }
    let mut states = serde_json::json!({"Task": state});
    if extra.get("Catch").is_some() {
        states["Handled"] = serde_json::json!({"Type": "Pass", "End": true});
    }
    let definition = serde_json::json!({"StartAt": "Task", "States": states}).to_string();
    let machine = StateMachine::new("task", &definition, StateMachineType::Express).expect("valid definition");
    let virtual_time = integrations.virtual_time;
    let mut builder = tokio::runtime::Builder::new_current_thread();
    builder.enable_all().start_paused(virtual_time);
    let runtime = builder.build().expect("runtime");
    runtime.block_on(async {
        let engine = Engine::new(EngineConfig { virtual_time, ..Default::default() }, integrations.resources().expect("integrations"));
        let input = expressway::value::parse_str(input).expect("JSON input");
        run_execution(&engine, Arc::clone(&machine.program), input, &StartOptions::new("task")).await
    })
}

/// What the CLI would print for an outcome, as serde JSON.
pub fn outcome_result(outcome: &ExecutionOutcome) -> Json {
    let mut out = serde_json::Map::new();
    out.insert("status".into(), Json::from(outcome.status.as_str()));
    if let Some(o) = &outcome.output {
        out.insert("output".into(), o.to_serde());
    }
    if let Some(e) = &outcome.error {
        out.insert("error".into(), Json::from(e.to_string()));
    }
    if let Some(c) = &outcome.cause {
        out.insert("cause".into(), Json::from(c.to_string()));
    }
    Json::Object(out)
}

/// `None` when the result matches the recording, else the first difference.
pub fn judge(case: &Json, result: &Json) -> Option<String> {
    judge_with(case, result, Matcher::new(case_words(case)))
}

/// The case's wildcard words.
pub fn case_words(case: &Json) -> BTreeSet<String> {
    case["wildcard_words"].as_array().map(|w| w.iter().filter_map(|x| x.as_str().map(String::from)).collect()).unwrap_or_default()
}

/// [`judge`] with a given matcher. A cause recorded as JSON (`cause_is_json`) is compared as JSON.
pub fn judge_with(case: &Json, result: &Json, m: Matcher) -> Option<String> {
    let exp = &case["expected"];
    if result["status"] != exp["status"] {
        return Some(format!("status {} ({}: {}), expected {}", result["status"], result["error"], result["cause"], exp["status"]));
    }
    if matches!(exp["status"].as_str(), Some("ACCEPTED" | "REJECTED")) {
        return None;
    }
    if let Some(e) = exp.get("output") {
        let actual = match &result["output"] {
            Json::String(s) => serde_json::from_str(s).unwrap_or(Json::String(s.clone())),
            other => other.clone(),
        };
        if let Some(d) = m.deep(e, &actual, "$") {
            return Some(format!("output {d}"));
        }
    }
    for field in ["error", "cause"] {
        if let Some(e) = exp.get(field) {
            let actual = match (&result[field], field == "cause" && exp["cause_is_json"] == true) {
                (Json::String(s), true) => serde_json::from_str(s).unwrap_or(Json::String(s.clone())),
                (other, _) => other.clone(),
            };
            if let Some(d) = m.deep(e, &actual, "$") {
                return Some(format!("{field} {d}"));
            }
        }
    }
    None
}

/// compare.py's matching rules.
pub struct Matcher {
    words: BTreeSet<String>,
    placeholder: Regex,
    /// LocalStack's snapshots redact some values by replacing them with their own key
    /// (`"x-amzn-RequestId": "x-amzn-RequestId"`); when set, such a value matches anything.
    key_redaction: bool,
}

impl Matcher {
    pub fn new(words: BTreeSet<String>) -> Matcher {
        Matcher { words, placeholder: Regex::new(r"<[^<>\s]{1,120}>").expect("valid regex"), key_redaction: false }
    }

    /// A matcher that also honours key-name redactions (for cases that call real services).
    pub fn with_key_redaction(words: BTreeSet<String>) -> Matcher {
        Matcher { key_redaction: true, ..Matcher::new(words) }
    }

    fn token_rx(tok: &str) -> String {
        let t = tok.to_lowercase();
        if t.starts_with("<uuid") {
            "(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})".into()
        } else if t == "<region>" {
            r"(?:[a-z]{2}(?:-[a-z]+)+-\d+)".into()
        } else if t == "<partition>" {
            r"(?:aws[a-z-]*)".into()
        } else {
            r"(?:.+?)".into()
        }
    }

    fn lit(s: &str) -> String {
        s.split("111111111111").map(regex::escape).collect::<Vec<_>>().join(r"\d{12}")
    }

    pub fn str_match(&self, expected: &str, actual: &Json) -> bool {
        if self.words.contains(expected) {
            return true;
        }
        let has_ph = self.placeholder.is_match(expected) || expected.contains("111111111111");
        if !has_ph {
            return actual.as_str() == Some(expected);
        }
        let whole = self.placeholder.find(expected).is_some_and(|m| m.start() == 0 && m.end() == expected.len());
        if whole && !actual.is_string() {
            return !actual.is_null() && !actual.is_object() && !actual.is_array();
        }
        let Some(actual) = actual.as_str() else { return false };
        let mut rx = String::from("(?s)^");
        let mut pos = 0;
        for m in self.placeholder.find_iter(expected) {
            rx.push_str(&Self::lit(&expected[pos..m.start()]));
            rx.push_str(&Self::token_rx(m.as_str()));
            pos = m.end();
        }
        rx.push_str(&Self::lit(&expected[pos..]));
        rx.push('$');
        Regex::new(&rx).is_ok_and(|r| r.is_match(actual))
    }

    pub fn deep(&self, e: &Json, a: &Json, path: &str) -> Option<String> {
        let short = |v: &Json| v.to_string().chars().take(200).collect::<String>();
        match e {
            Json::String(s) => (!self.str_match(s, a)).then(|| format!("{path}: expected {} got {}", short(e), short(a))),
            Json::Bool(_) => (e != a).then(|| format!("{path}: expected {e} got {}", short(a))),
            Json::Number(n) => match a.as_f64() {
                Some(x) if n.as_f64() == Some(x) => None,
                _ => Some(format!("{path}: expected {n} got {}", short(a))),
            },
            Json::Null => (!a.is_null()).then(|| format!("{path}: expected null got {}", short(a))),
            Json::Object(eo) => {
                let Some(ao) = a.as_object() else { return Some(format!("{path}: expected object got {}", short(a))) };
                let ek: BTreeSet<&String> = eo.keys().collect();
                let ak: BTreeSet<&String> = ao.keys().collect();
                if ek != ak {
                    return Some(format!("{path}: keys differ, missing {:?} extra {:?}", ek.difference(&ak).collect::<Vec<_>>(), ak.difference(&ek).collect::<Vec<_>>()));
                }
                eo.iter()
                    .filter(|(k, v)| !(self.key_redaction && v.as_str() == Some(k.as_str())))
                    .find_map(|(k, v)| self.deep(v, &ao[k], &format!("{path}.{k}")))
            }
            Json::Array(ea) => {
                let Some(aa) = a.as_array() else { return Some(format!("{path}: expected array got {}", short(a))) };
                if ea.len() != aa.len() {
                    return Some(format!("{path}: array length {} != expected {}", aa.len(), ea.len()));
                }
                ea.iter().zip(aa).enumerate().find_map(|(i, (x, y))| self.deep(x, y, &format!("{path}[{i}]")))
            }
        }
    }
}

