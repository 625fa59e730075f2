//! Data-driven checks against recorded AWS behaviour: every definition AWS accepted in the
//! conformance corpus (and the bench workflows and seed documents) must validate without
//! errors; every recorded rejection must be rejected, with AWS's code/message/location where
//! the recording has them. The corpus lives outside the repository
//! (`$EXPRESSWAY_CONFORMANCE_DIR`, else `../shared/conformance/cases`); when absent the tests
//! print a notice and pass.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::{codes, invalid_definition_message, validate, Diagnostic, Severity, StateMachineType};

fn shared_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("shared")
}

fn cases_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("EXPRESSWAY_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| shared_dir().join("conformance").join("cases"));
    dir.is_dir().then_some(dir)
}

fn errors(diagnostics: &[Diagnostic]) -> Vec<&Diagnostic> {
    diagnostics.iter().filter(|d| d.severity == Severity::Error).collect()
}

fn json_files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.to_string_lossy().ends_with(suffix));
    files.sort();
    files
}

#[test]
fn conformance_corpus_definitions() {
    let Some(dir) = cases_dir() else {
        eprintln!("conformance corpus not found; set EXPRESSWAY_CONFORMANCE_DIR to run this test");
        return;
    };
    let (mut accepted, mut rejected, mut failures) = (0, 0, Vec::new());
    for file in json_files(&dir, ".json") {
        let Ok(text) = std::fs::read_to_string(&file) else { continue };
        let Ok(case) = serde_json::from_str::<Value>(&text) else { continue };
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let kind = if case["execution_type"] == "EXPRESS" { StateMachineType::Express } else { StateMachineType::Standard };
        let expected = &case["expected"];
        let mode = case["mode"].as_str().unwrap_or_default();
        let mut definition = case["definition"].clone();
        let single_state = mode == "test_state" && definition.get("StartAt").is_none();
        if single_state {
            // TestState takes one state; AWS names it `StateName` in its locations.
            definition = json!({"StartAt": "StateName", "States": {"StateName": definition}});
        }
        let definition_text = match case.get("definition_raw").and_then(Value::as_str) {
            Some(raw) => raw.to_string(),
            None => definition.to_string(),
        };
        let diagnostics = validate(&definition_text, kind);
        let mut found = errors(&diagnostics);
        if mode == "test_state" {
            // TestState allows `Next` to name states outside the tested one.
            found.retain(|d| d.code != codes::MISSING_TRANSITION_TARGET && d.code != codes::MISSING_END_STATE);
        }
        let recorded_rejection = expected["status"] == "REJECTED"
            && (mode == "validate" || expected["error"] == "InvalidDefinition");
        if !recorded_rejection {
            accepted += 1;
            if !found.is_empty() {
                failures.push(format!("{name}: AWS accepted, we rejected: {found:?}"));
            }
            continue;
        }
        rejected += 1;
        if found.is_empty() {
            failures.push(format!("{name}: AWS rejected, we accepted"));
            continue;
        }
        if let Some(Value::Array(recorded)) = expected.get("diagnostics") {
            let first = &recorded[0];
            let ours = found[0];
            if first["code"] != ours.code.as_str()
                || first["message"] != ours.message.as_str()
                || first.get("location").and_then(Value::as_str) != ours.location.as_deref()
            {
                failures.push(format!("{name}: expected {first}, got {ours:?}"));
            }
        }
        if let Some(cause) = expected["cause"].as_str().filter(|c| c.starts_with("Invalid State Machine Definition")) {
            let ours: Vec<Diagnostic> = found.into_iter().cloned().collect();
            if invalid_definition_message(&ours).as_deref() != Some(cause) {
                failures.push(format!("{name}: expected cause {cause:?}, got {:?}", invalid_definition_message(&ours)));
            }
        }
    }
    eprintln!("conformance corpus: {accepted} accepted definitions, {rejected} recorded rejections, {} mismatches", failures.len());
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn bench_workflows_are_valid() {
    let dir = shared_dir().join("bench");
    let files = json_files(&dir, ".asl.json");
    if files.is_empty() {
        eprintln!("bench workflows not found at {}", dir.display());
        return;
    }
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for kind in [StateMachineType::Standard, StateMachineType::Express] {
            let diagnostics = validate(&text, kind);
            assert!(errors(&diagnostics).is_empty(), "{}: {diagnostics:?}", file.display());
        }
    }
}

/// JSON objects embedded in prose that look like state machines (`StartAt` and `States`).
fn embedded_definitions(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (offset, _) in text.match_indices('{') {
        let Some(rest) = text.get(offset..) else { continue };
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
        if let Some(Ok(value)) = stream.next() {
            if value.get("StartAt").is_some() && value.get("States").is_some() {
                found.push(value.to_string());
            }
        }
    }
    found
}

#[test]
fn seed_workflows_are_valid() {
    let dir = shared_dir().join("seeds");
    let files = json_files(&dir, ".txt");
    let mut count = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for definition in embedded_definitions(&text) {
            count += 1;
            let diagnostics = validate(&definition, StateMachineType::Standard);
            assert!(errors(&diagnostics).is_empty(), "{}: {definition}: {diagnostics:?}", file.display());
        }
    }
    eprintln!("seed documents: {count} embedded definitions validated");
}
