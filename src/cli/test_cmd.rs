//! `expressway test DEF --mock-config FILE [--test-case NAME]… [--expected FILE]`: runs test
//! cases of a Step Functions Local mock file, compares each result with the expected-output
//! file (format in docs/TASKS.md), prints PASS/FAIL with the differences, then which states
//! and transitions the cases covered. Exit 0 when every case passes, 1 when one fails, 2 when
//! a file cannot be used.
//!
//! Cases run one after another on a virtual clock (Waits and back-off take no time) with
//! history recorded; coverage is read from that history (`expressway::coverage`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use serde::Deserialize;
use serde_json::Value as Json;

use expressway::asl::StateMachineType;
use expressway::coverage::Coverage;
use expressway::machine::StateMachine;
use expressway::runtime::{run_execution, Engine, EngineConfig, ExecutionOutcome, StartOptions};
use expressway::tasks::MockConfig;

use super::input::{parse_execution_input, read_file};
use super::task_args::IntegrationArgs;
use super::MachineType;

#[derive(Args)]
pub struct TestArgs {
    /// The state machine definition (ASL JSON file).
    definition: PathBuf,
    /// Step Functions Local mock file whose test cases to run (also read from SFN_MOCK_CONFIG).
    #[arg(long, env = "SFN_MOCK_CONFIG")]
    mock_config: PathBuf,
    /// Run only this test case (repeatable); default: every test case of the state machine.
    #[arg(long = "test-case", value_name = "NAME")]
    test_cases: Vec<String>,
    /// Inputs and expected results per test case (see docs/TASKS.md); without it every case
    /// runs on `{}` and must succeed.
    #[arg(long, value_name = "FILE")]
    expected: Option<PathBuf>,
    /// State machine name for mock lookups (default: the file name without extensions).
    #[arg(long)]
    state_machine_name: Option<String>,
    /// STANDARD or EXPRESS.
    #[arg(long = "type", value_enum, default_value = "express", ignore_case = true)]
    machine_type: MachineType,
    #[command(flatten)]
    integrations: IntegrationArgs,
}

/// The expected-output file: `{"TestCases": {NAME: {"input" | "inputFile", "expect"}}}`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ExpectedFile {
    #[serde(rename = "TestCases")]
    test_cases: BTreeMap<String, ExpectedCase>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ExpectedCase {
    /// The execution input (default `{}`).
    #[serde(default)]
    input: Option<Json>,
    /// A file holding the input, relative to the expected file.
    #[serde(default, rename = "inputFile")]
    input_file: Option<PathBuf>,
    #[serde(default)]
    expect: Option<Expectation>,
}

/// What the result must be; absent fields are not compared.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Expectation {
    status: Option<String>,
    output: Option<Json>,
    error: Option<String>,
    cause: Option<String>,
}

fn usage_error(message: impl std::fmt::Display) -> i32 {
    eprintln!("error: {message}");
    2
}

pub fn test(args: TestArgs) -> i32 {
    let text = match read_file(&args.definition, "definition") {
        Ok(t) => t,
        Err(e) => return usage_error(e),
    };
    let sm_name = args.state_machine_name.clone().unwrap_or_else(|| super::compile_cmd::machine_name(&args.definition));
    let kind: StateMachineType = args.machine_type.into();
    let machine = match StateMachine::new(&sm_name, &text, kind) {
        Ok(m) => m,
        Err(e) => return usage_error(format!("{}: {}", e.aws_type(), e.message)),
    };
    let mocks = match MockConfig::load(&args.mock_config) {
        Ok(m) => m,
        Err(e) => return usage_error(e),
    };
    let expected = match &args.expected {
        Some(path) => match load_expected(path) {
            Ok(e) => e,
            Err(e) => return usage_error(e),
        },
        None => ExpectedFile::default(),
    };
    let names = match case_names(&mocks, &sm_name, &args.test_cases, &expected) {
        Ok(n) => n,
        Err(e) => return usage_error(e),
    };
    let mut inputs = Vec::with_capacity(names.len());
    for name in &names {
        match case_input(expected.test_cases.get(name), args.expected.as_deref()) {
            Ok(input) => inputs.push(input),
            Err(e) => return usage_error(format!("test case {name}: {e}")),
        }
    }
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build() {
        Ok(r) => r,
        Err(e) => return usage_error(format!("cannot start the runtime: {e}")),
    };
    println!("{} ({sm_name}): {} test case{}\n", args.definition.display(), names.len(), if names.len() == 1 { "" } else { "s" });
    let mut coverage = Coverage::new(Arc::clone(&machine.program));
    let mut failed = 0;
    for (name, input) in names.iter().zip(inputs) {
        let resources = args.integrations.resources(true).and_then(|mut r| {
            r.set_mock(mocks.test_case(&sm_name, name).map_err(|e| e.to_string())?);
            Ok(r)
        });
        let resources = match resources {
            Ok(r) => r,
            Err(e) => return usage_error(e),
        };
        let mut opts = StartOptions::new(&sm_name);
        opts.express = kind == StateMachineType::Express;
        let outcome = runtime.block_on(async {
            let engine = Engine::new(EngineConfig { record_history: true, virtual_time: true, ..Default::default() }, resources);
            run_execution(&engine, Arc::clone(&machine.program), input, &opts).await
        });
        coverage.record(&outcome.history);
        let expectation = expected.test_cases.get(name).and_then(|c| c.expect.as_ref());
        let differences = compare(expectation, &outcome);
        if differences.is_empty() {
            println!("PASS  {name}");
        } else {
            failed += 1;
            println!("FAIL  {name}");
            for d in differences {
                println!("      {d}");
            }
        }
    }
    print_coverage(&coverage);
    println!("\n{} passed, {failed} failed", names.len() - failed);
    i32::from(failed > 0)
}

fn load_expected(path: &Path) -> Result<ExpectedFile, String> {
    let text = read_file(path, "expected-output")?;
    serde_json::from_str(&text).map_err(|e| format!("the expected-output file {} is not valid: {e}", path.display()))
}

/// The test cases to run, in name order.
fn case_names(mocks: &MockConfig, sm_name: &str, chosen: &[String], expected: &ExpectedFile) -> Result<Vec<String>, String> {
    let all = mocks.test_cases();
    let machines: std::collections::BTreeSet<&str> = all.iter().map(|(sm, _)| sm.as_str()).collect();
    let machine = if machines.contains(sm_name) {
        sm_name
    } else if machines.len() == 1 {
        machines.iter().next().copied().unwrap_or(sm_name)
    } else {
        return Err(format!(
            "the mock file has no state machine '{sm_name}' (it has: {}); use --state-machine-name",
            machines.into_iter().collect::<Vec<_>>().join(", ")
        ));
    };
    let available: Vec<String> = all.iter().filter(|(sm, _)| sm == machine).map(|(_, c)| c.clone()).collect();
    let names: Vec<String> = if chosen.is_empty() { available.clone() } else { chosen.to_vec() };
    let unknown: Vec<&String> = names.iter().chain(expected.test_cases.keys()).filter(|n| !available.contains(n)).collect();
    if let Some(n) = unknown.first() {
        return Err(format!("the mock file has no test case '{n}' for '{machine}' (it has: {})", available.join(", ")));
    }
    if names.is_empty() {
        return Err(format!("the mock file has no test cases for '{machine}'"));
    }
    Ok(names)
}

fn case_input(case: Option<&ExpectedCase>, expected_path: Option<&Path>) -> Result<expressway::value::Value, String> {
    let text = match case {
        Some(ExpectedCase { input: Some(_), input_file: Some(_), .. }) => return Err("give input or inputFile, not both".into()),
        Some(ExpectedCase { input: Some(v), .. }) => v.to_string(),
        Some(ExpectedCase { input_file: Some(f), .. }) => {
            let base = expected_path.and_then(Path::parent).unwrap_or(Path::new("."));
            read_file(&base.join(f), "input")?
        }
        _ => "{}".to_string(),
    };
    parse_execution_input(&text).map_err(|(error, cause)| format!("{error}: {cause}"))
}

/// Readable differences between the expectation and the outcome (empty: the case passes).
fn compare(expect: Option<&Expectation>, outcome: &ExecutionOutcome) -> Vec<String> {
    let status = outcome.status.as_str();
    let Some(expect) = expect else {
        return if status == "SUCCEEDED" {
            Vec::new()
        } else {
            vec![format!("status: expected SUCCEEDED (no expectation given), got {status} ({})", error_text(outcome))]
        };
    };
    let mut out = Vec::new();
    if let Some(s) = &expect.status {
        if s != status {
            out.push(format!("status: expected {s}, got {status} ({})", error_text(outcome)));
        }
    }
    let text_field = |name: &str, want: &Option<String>, got: Option<&str>, out: &mut Vec<String>| {
        if let Some(w) = want {
            if Some(w.as_str()) != got {
                out.push(format!("{name}: expected {}, got {}", Json::from(w.as_str()), got.map_or("nothing".to_string(), |g| Json::from(g).to_string())));
            }
        }
    };
    text_field("error", &expect.error, outcome.error.as_deref(), &mut out);
    text_field("cause", &expect.cause, outcome.cause.as_deref(), &mut out);
    if let Some(want) = &expect.output {
        match &outcome.output {
            Some(got) => json_diff(want, &got.to_serde(), "$", &mut out),
            None => out.push(format!("output: expected {want}, got none")),
        }
    }
    out
}

fn error_text(o: &ExecutionOutcome) -> String {
    match (&o.error, &o.cause) {
        (None, None) => "no error".into(),
        (e, c) => format!("{}: {}", e.as_deref().unwrap_or("-"), c.as_deref().unwrap_or("-")),
    }
}

/// Where `got` differs from `want`, one line per differing path (at most 20).
fn json_diff(want: &Json, got: &Json, path: &str, out: &mut Vec<String>) {
    const MAX: usize = 20;
    if out.len() >= MAX {
        return;
    }
    match (want, got) {
        (Json::Object(w), Json::Object(g)) => {
            for (k, wv) in w {
                match g.get(k) {
                    Some(gv) => json_diff(wv, gv, &format!("{path}.{k}"), out),
                    None => out.push(format!("{path}.{k}: expected {wv}, missing")),
                }
            }
            for (k, gv) in g.iter().filter(|(k, _)| !w.contains_key(*k)) {
                out.push(format!("{path}.{k}: not expected, got {gv}"));
            }
        }
        (Json::Array(w), Json::Array(g)) if w.len() == g.len() => {
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                json_diff(wv, gv, &format!("{path}[{i}]"), out);
            }
        }
        (Json::Number(w), Json::Number(g)) if w.as_f64() == g.as_f64() => {}
        _ if want == got => {}
        _ => out.push(format!("{path}: expected {want}, got {got}")),
    }
    out.truncate(MAX);
}

fn percent(part: usize, whole: usize) -> String {
    (part * 100).checked_div(whole).map_or_else(|| "-".into(), |p| format!("{p}%"))
}

fn print_coverage(coverage: &Coverage) {
    let states = coverage.states();
    let entered = states.iter().filter(|(_, n)| *n > 0).count();
    println!("\nStates entered: {entered} of {} ({})", states.len(), percent(entered, states.len()));
    let width = states.iter().map(|(s, _)| s.chars().count()).max().unwrap_or(0);
    for (name, n) in &states {
        let mark = if *n == 0 { "  never" } else { "" };
        println!("  {name:<width$}  {n:>4}{mark}");
    }
    let edges = coverage.edges();
    let taken = edges.iter().filter(|e| e.taken > 0).count();
    println!("\nTransitions taken: {taken} of {} ({})", edges.len(), percent(taken, edges.len()));
    let rows: Vec<(String, String, u32)> = edges.iter().map(|e| (format!("{} → {}", e.from, e.to), e.labels.join(", "), e.taken)).collect();
    let w1 = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    let w2 = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(0);
    for (edge, labels, n) in rows {
        let mark = if n == 0 { "  never" } else { "" };
        println!("  {edge:<w1$}  {labels:<w2$}  {n:>4}{mark}");
    }
}
