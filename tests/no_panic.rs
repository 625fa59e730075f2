//! No input may panic the engine: parsers (JSON values, JSONPath, intrinsics, JSONata,
//! timestamps, mock files, exec and rules files, definitions) and the interpreter (validate + compile + run on a paused runtime).
//!
//! The generators and the mutator live in `fuzz/common/` and are shared with the cargo-fuzz
//! targets (see `fuzz/README.md`), so a fuzz finding can be replayed here and vice versa.
//!
//! Data-driven parts read `/work/shared/bench/*.asl.json` (or `$EXPRESSWAY_BENCH_DIR`) and the
//! conformance corpus (`$EXPRESSWAY_CONFORMANCE_DIR`, else `../shared/conformance/cases` next to
//! the crate); when a folder is absent they print a notice and pass.

#[path = "../fuzz/common/gen.rs"]
mod gen;
#[path = "../fuzz/common/mutate.rs"]
mod mutate;
#[path = "../fuzz/common/run.rs"]
mod run;

use std::path::PathBuf;
use std::sync::Arc;

use expressway::asl::{validate, StateMachineType};
use expressway::compile::compile_str;
use expressway::events::rules_file::RulesFile;
use expressway::intrinsics::Intrinsic;
use expressway::jsonata::{Expression, Limits};
use expressway::jsonpath::{Path, Roots};
use expressway::machine::StateMachine;
use expressway::runtime::{ExecutionOutcome, ExecutionStatus};
use expressway::tasks::exec::ExecConfig;
use expressway::tasks::MockConfig;
use expressway::timestamp::Timestamp;
use expressway::value::{self, Value};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::Value as Json;

use gen::Bytes;

fn config(cases: u32) -> Config {
    Config { cases, failure_persistence: None, ..Config::default() }
}

/// Arbitrary JSON (serde) values.
fn arb_json() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(Json::from),
        any::<u64>().prop_map(Json::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Json::from),
        ".{0,12}".prop_map(Json::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Json::Array),
            prop::collection::vec((".{0,6}", inner), 0..6).prop_map(|kv| Json::Object(kv.into_iter().collect())),
        ]
    })
}

/// Strings that look like the inputs of each parser, mixed with noise.
fn pathish() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        "\\$[$a-z]{0,2}([.][a-z*]{0,3}|\\[[-0-9:,*'\"a-z ]{0,6}\\]|\\.\\.|\\[\\?\\(@[.a-z]{0,4} ?(==|<|>=|!=|&&|\\|\\|)? ?[0-9'a-z@.]{0,4}\\)\\]){0,5}",
        prop::sample::select(gen::READ_PATHS).prop_map(str::to_string),
    ]
}

fn intrinsicish() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        "States\\.[A-Za-z.]{0,16}\\(([0-9$.a-z'{}\\\\ ,-]|States\\.[A-Za-z]{0,10}\\(){0,30}\\)?\\)?",
        prop::sample::select(gen::INTRINSICS).prop_map(str::to_string),
    ]
}

/// JSONata text: arbitrary, or well-formed expressions built from the grammar (paths, every
/// operator, function calls with AWS's functions, lambdas, bindings, filters, sorts, chains,
/// transforms), so most get past the parser and the evaluator has real work.
fn jsonataish() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        "[a-c]{1,2}",
        prop::sample::select(vec!["$", "$$", "$x", "$states.input", "*", "**", "%", "-1", "0", "2.5", "1e3", "\"s\"", "''", "true", "null", "[]", "{}", "/[a-z]+/i"])
            .prop_map(str::to_string),
    ];
    let functions = prop::sample::select(vec![
        "$sum", "$count", "$string", "$number", "$keys", "$lookup", "$map", "$filter", "$reduce", "$sort", "$append", "$merge",
        "$substring", "$split", "$join", "$replace", "$match", "$contains", "$formatNumber", "$now", "$millis", "$toMillis",
        "$fromMillis", "$round", "$power", "$sqrt", "$exists", "$type", "$distinct", "$zip", "$each", "$spread", "$single",
        "$partition", "$range", "$hash", "$random", "$uuid", "$parse", "$eval", "$undefinedFunction",
    ]);
    let operators = prop::sample::select(vec![
        "+", "-", "*", "/", "%", "&", "=", "!=", "<", "<=", ">", ">=", "and", "or", "in", "..", "~>",
    ]);
    let expr = leaf.prop_recursive(4, 48, 3, move |inner| {
        prop_oneof![
            (inner.clone(), operators.clone(), inner.clone()).prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            (functions.clone(), prop::collection::vec(inner.clone(), 0..3)).prop_map(|(f, args)| format!("{f}({})", args.join(", "))),
            (inner.clone(), "[a-c]{1,2}").prop_map(|(a, k)| format!("{a}.{k}")),
            (inner.clone(), inner.clone()).prop_map(|(a, p)| format!("{a}[{p}]")),
            (inner.clone(), inner.clone()).prop_map(|(a, k)| format!("{a}^(>{k})")),
            prop::collection::vec(inner.clone(), 0..3).prop_map(|items| format!("[{}]", items.join(", "))),
            (inner.clone(), inner.clone()).prop_map(|(k, v)| format!("{{{k}: {v}}}")),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(c, a, b)| format!("({c} ? {a} : {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("($x := {a}; {b})")),
            (inner.clone(), inner.clone()).prop_map(|(body, arg)| format!("function($x){{ {body} }}({arg})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} ~> $map(function($v, $i){{ {b} }})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} ~> |$|{{'k': {b}}}|")),
            (inner.clone(), "[a-c]").prop_map(|(a, v)| format!("{a}@${v}#$i")),
            inner.prop_map(|a| format!("-{a}")),
        ]
    });
    prop_oneof![1 => ".{0,40}", 4 => expr]
}

struct TestRoots {
    input: Value,
}

impl Roots for TestRoots {
    fn input(&self) -> &Value {
        &self.input
    }
    fn context(&self) -> Value {
        Value::object([("Execution", Value::object([("Id", Value::from("arn:x"))]))])
    }
    fn variable(&self, name: &str) -> Option<Value> {
        (name == "v").then(|| self.input.clone())
    }
}

// ---------------------------------------------------------------------------------------------
// JSONata and the configuration files

proptest! {
    #![proptest_config(config(3000))]

    /// Parse and evaluate with small limits: errors are fine, panics are not.
    #[test]
    fn jsonata_parse_and_eval_never_panics(text in jsonataish(), input in arb_json()) {
        if let Ok(expr) = Expression::parse(&text) {
            let input = value::parse_str(&input.to_string()).unwrap();
            let states = Value::object([("input", input.clone())]);
            let bindings = |name: &str| (name == "states").then(|| states.clone());
            let _ = expr.evaluate_with_limits(Some(&input), &bindings, Limits { max_depth: 500, timeout_ms: 200 });
        }
    }

    #[test]
    fn rules_and_exec_files_never_panic(j in arb_json(), text in ".{0,40}") {
        let base = std::path::Path::new(".");
        for t in [text.clone(), j.to_string()] {
            let _ = RulesFile::parse(&t, base);
            let _ = ExecConfig::parse(&t);
        }
        let rules = serde_json::json!({"Rules": [{"Name": "r", "EventPattern": j, "Targets": [{"Id": "t", "Arn": j}]}]});
        let _ = RulesFile::parse(&rules.to_string(), base);
        let commands = serde_json::json!({"commands": {"c": j}});
        let _ = ExecConfig::parse(&commands.to_string());
    }
}

// ---------------------------------------------------------------------------------------------
// JSON values

proptest! {
    #![proptest_config(config(5000))]

    #[test]
    fn value_parse_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(v) = value::parse(&bytes) {
            prop_assert_eq!(value::parse_str(&v.to_json()).ok(), Some(v));
        }
    }

    #[test]
    fn value_parse_str_never_panics(text in "[\\[\\]{}\",:0-9eE.+\\-a-z \\\\u]{0,60}") {
        if let Ok(v) = value::parse_str(&text) {
            prop_assert_eq!(value::parse_str(&v.to_json()).ok(), Some(v));
        }
    }
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn valid_json_round_trips(j in arb_json()) {
        let text = serde_json::to_string(&j).unwrap();
        let v = value::parse_str(&text).expect("serde_json output must parse");
        // Same shape as serde_json's reading (floats compared separately, see below).
        prop_assert_eq!(v.type_name(), Value::from_serde(&j).type_name());
        let again = value::parse_str(&v.to_json()).expect("to_json output must parse");
        // Exact for everything but floats, which may move by an ULP (see `floats_parse_exactly`).
        prop_assert!(same_up_to_ulps(&again, &v), "{:?} != {:?}", again, v);
        prop_assert!(!v.to_json_pretty().is_empty());
        prop_assert_eq!(v.json_len(), v.to_json().len());
    }
}

/// Deeply nested text for each parser; `depth` is the nesting level.
fn deep_inputs(depth: usize) -> Vec<(&'static str, String)> {
    vec![
        ("value_arrays", format!("{}{}", "[".repeat(depth), "]".repeat(depth))),
        ("value_objects", format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth))),
        ("path_dots", format!("${}", ".a".repeat(depth))),
        ("path_filters", format!("$.x{}", "[?(@.a == 1 && (@.b".repeat(depth))),
        ("path_nested_filters", format!("${}", "[?(@".repeat(depth))),
        // REPRODUCER (reported): a 1.8 KB definition field (300 levels) aborts the process.
        (
            "definition_nested_filters",
            serde_json::json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "InputPath": format!("${}{}", "[?(@".repeat(depth), ")]".repeat(depth)), "End": true}}})
                .to_string(),
        ),
        ("path_parens", format!("$.x[?({}@.a{})]", "(".repeat(depth), ")".repeat(depth))),
        ("intrinsic_calls", format!("{}1{}", "States.Array(".repeat(depth), ")".repeat(depth))),
        ("timestamp", "9".repeat(depth)),
    ]
}

fn exercise_deep(kind: &str, text: &str) {
    match kind {
        "value_arrays" | "value_objects" => {
            let _ = value::parse_str(text);
            let _ = validate(text, StateMachineType::Express);
            let _ = StateMachine::new("deep", text, StateMachineType::Express);
            let _ = MockConfig::parse(text);
        }
        "path_dots" | "path_filters" | "path_nested_filters" | "path_parens" => {
            let _ = Path::parse(text);
        }
        "definition_nested_filters" => {
            let _ = StateMachine::new("deep", text, StateMachineType::Express);
        }
        "intrinsic_calls" => {
            let _ = Intrinsic::parse(text);
        }
        _ => {
            let _ = Timestamp::parse(text);
        }
    }
}

/// Nesting a definition could plausibly contain (JSON depth 100, paths/calls of 100 levels) is
/// handled on a normal test thread's stack (2 MiB).
/// Regression test for an engine bug this file found (fixed).
/// `States.MathRandom(start, end)` computes `end - start` unchecked
/// (`src/intrinsics/functions.rs:325`, `math_random`): with `start = i64::MIN` (any input can
/// carry -9223372036854775808) it panics with "attempt to subtract with overflow" in debug
/// builds and silently wraps in release. Same through a whole execution.
#[test]
fn math_random_extreme_bounds_do_not_panic() {
    let input = value::parse_str(r#"{"n": -9223372036854775808}"#).unwrap();
    let call = Intrinsic::parse("States.MathRandom($.n, 100)").unwrap();
    let _ = call.eval(&TestRoots { input: input.clone() }, "x.$");
    let call = Intrinsic::parse("States.MathRandom(-9223372036854775808, 9223372036854775807)").unwrap();
    let _ = call.eval(&TestRoots { input: input.clone() }, "x.$");
    let def = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"r.$":"States.MathRandom($.n, 100)"},"End":true}}}"#;
    let sm = StateMachine::new("m", def, StateMachineType::Express).unwrap();
    let out = run::run(&run::engine(), sm.program, input).unwrap();
    assert_eq!(out.status, ExecutionStatus::Failed);
}

/// Structural equality, with floats allowed to differ by 2 ULP.
fn same_up_to_ulps(a: &Value, b: &Value) -> bool {
    use expressway::value::Number;
    match (a, b) {
        (Value::Number(Number::Float(x)), Value::Number(Number::Float(y))) => {
            x == y || (x.signum() == y.signum() && (x.to_bits() as i64 - y.to_bits() as i64).abs() <= 2)
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| same_up_to_ulps(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, p)| y.get(k).is_some_and(|q| same_up_to_ulps(p, q)))
        }
        _ => a == b,
    }
}

/// FOUND, not a panic (reported): `value::parse` reads some floats 1 ULP off, e.g.
/// `-1.8922124632131589e-156` parses as `-1.8922124632131586e-156`, so a float does not
/// survive `to_json` → `parse` when the text came from an exact printer (serde_json/ryu, Jackson),
/// and `parse(to_json(v)) == v` fails for some floats (`5.544438392227147E81` → `…465E81`).
/// Cause: serde_json's float parsing without its `float_roundtrip` feature is not correctly rounded;
/// Jackson (`Double.parseDouble`) is. A fidelity bug, not a crash. Fix: enable serde_json's
/// `float_roundtrip` feature (also affects `serde_json::from_str` used by validate/compile).
#[test]
fn floats_parse_exactly() {
    let text = "[-1.8922124632131589e-156]";
    let expected = -1.8922124632131589e-156f64;
    let got = value::parse_str(text).unwrap().index(0).and_then(Value::as_f64).unwrap();
    assert_eq!(got.to_bits(), expected.to_bits(), "parsed {got:e}, expected {expected:e}");
    let v = value::parse_str("5.544438392227147E81").unwrap();
    assert_eq!(value::parse_str(&v.to_json()).unwrap().as_f64().unwrap().to_bits(), v.as_f64().unwrap().to_bits());
    let mut runner = proptest::test_runner::TestRunner::new(config(2000));
    runner
        .run(&any::<f64>().prop_filter("finite", |f| f.is_finite()), |f| {
            let text = serde_json::to_string(&f).unwrap();
            let got = value::parse_str(&text).unwrap().as_f64().unwrap();
            prop_assert_eq!(got.to_bits(), f.to_bits(), "{} parsed as {:e}", text, got);
            Ok(())
        })
        .unwrap();
}

#[test]
fn moderately_nested_inputs_do_not_overflow() {
    for (kind, text) in deep_inputs(100) {
        exercise_deep(kind, &text);
    }
}

// ---------------------------------------------------------------------------------------------
// Small parsers

proptest! {
    #![proptest_config(config(4000))]

    #[test]
    fn path_parse_and_use_never_panics(text in pathish(), input in arb_json(), val in arb_json()) {
        if let Ok(p) = Path::parse(&text) {
            let root = Value::from_serde(&input);
            let _ = p.select(&root);
            let _ = p.resolve(&TestRoots { input: root.clone() });
            let _ = (p.is_definite(), p.is_reference_path(), p.jayway_normalized(), p.source());
            if p.is_reference_path() {
                let _ = p.assign(root, Value::from_serde(&val));
            }
        }
    }

    #[test]
    fn path_assign_on_any_parsed_path_never_panics(text in pathish(), input in arb_json()) {
        if let Ok(p) = Path::parse(&text) {
            // assign's contract covers definite paths without `$$`; nothing may panic anyway.
            let _ = p.assign(Value::from_serde(&input), Value::Null);
        }
    }

    #[test]
    fn intrinsic_parse_and_eval_never_panics(text in intrinsicish(), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(i) = Intrinsic::parse(&text) {
            let input = Value::from_serde(&gen::input(&mut Bytes::new(&bytes)));
            let _ = i.eval(&TestRoots { input }, "x.$");
        }
    }

    #[test]
    fn timestamp_parse_never_panics(text in prop_oneof![
        ".{0,40}",
        "[0-9+-]{1,6}-[0-9]{1,3}-[0-9]{1,3}T[0-9]{1,3}:[0-9]{1,3}:[0-9]{1,3}(\\.[0-9]{0,12})?(Z|[+-][0-9]{1,2}:?[0-9]{0,3})?",
    ]) {
        if let Some(t) = Timestamp::parse(&text) {
            let _ = (t.format_iso(), t.epoch_millis(), t.epoch_nanos(), t.subsec_nanos());
        }
    }

    #[test]
    fn mock_config_parse_never_panics(j in arb_json(), text in ".{0,30}") {
        let _ = MockConfig::parse(&text);
        let _ = MockConfig::parse(&serde_json::to_string(&j).unwrap());
        let wrapped = serde_json::json!({
            "StateMachines": {"sm": {"TestCases": {"t": {"S": "r"}}}},
            "MockedResponses": {"r": j},
        });
        if let Ok(m) = MockConfig::parse(&wrapped.to_string()) {
            if let Ok(tc) = m.test_case("sm", "t") {
                if let Some(r) = tc.response_for("S") {
                    for i in [0u32, 1, 2, 5, u32::MAX] {
                        let _ = r.at(i);
                    }
                }
            }
            let _ = m.test_cases();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Definitions and executions

/// Checks an outcome's invariants.
fn check_outcome(def: &Json, out: &ExecutionOutcome) -> Result<(), TestCaseError> {
    match out.status {
        ExecutionStatus::Succeeded => prop_assert!(out.output.is_some(), "SUCCEEDED without output"),
        ExecutionStatus::Failed => {
            let named = out.error.as_deref().is_some_and(|e| !e.is_empty());
            // A Fail state may leave Error out (or give an empty one), and then so does the execution.
            let text = def.to_string();
            prop_assert!(named || text.contains("\"Fail\""), "FAILED without an error: {out:?}");
        }
        ExecutionStatus::TimedOut => prop_assert_eq!(out.error.as_deref(), Some("States.Timeout")),
        ExecutionStatus::Aborted => return Err(TestCaseError::fail("nothing stops these executions")),
    }
    Ok(())
}

/// Validates, compiles and (when accepted) runs `def` on `input`. Returns whether it ran.
fn exercise(def_text: &str, input: &Value, engine: &expressway::runtime::Engine) -> Result<bool, TestCaseError> {
    let _ = validate(def_text, StateMachineType::Standard);
    let _ = compile_str(def_text);
    let Ok(sm) = StateMachine::new("m", def_text, StateMachineType::Express) else { return Ok(false) };
    if let Some(out) = run::run(engine, Arc::clone(&sm.program), input.clone()) {
        check_outcome(&serde_json::from_str(def_text).unwrap_or(Json::Null), &out)?;
    }
    Ok(true)
}

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn random_json_definition_never_panics(j in arb_json(), text in ".{0,60}") {
        let _ = StateMachine::new("m", &text, StateMachineType::Express);
        let _ = StateMachine::new("m", &serde_json::to_string(&j).unwrap(), StateMachineType::Standard);
        // Random JSON inside a plausible skeleton gets past the first checks.
        let def = serde_json::json!({"StartAt": "A", "States": {"A": j}});
        let _ = StateMachine::new("m", &def.to_string(), StateMachineType::Express);
    }
}

#[test]
fn generated_definitions_run_to_an_end() {
    use std::sync::atomic::{AtomicU32, Ordering};
    static ACCEPTED: AtomicU32 = AtomicU32::new(0);
    static TOTAL: AtomicU32 = AtomicU32::new(0);
    static STATUS: [AtomicU32; 3] = [AtomicU32::new(0), AtomicU32::new(0), AtomicU32::new(0)];
    let engine = run::engine();
    let mut runner = proptest::test_runner::TestRunner::new(config(3000));
    let result = runner.run(
        &(prop::collection::vec(any::<u8>(), 0..400), prop::collection::vec(any::<u8>(), 0..64)),
        |(def_bytes, input_bytes)| {
            let def = gen::definition(&mut Bytes::new(&def_bytes));
            let text = def.to_string();
            TOTAL.fetch_add(1, Ordering::Relaxed);
            let sm = match StateMachine::new("gen", &text, StateMachineType::Express) {
                Ok(sm) => sm,
                Err(e) => {
                    // Not a failure (the generator may produce something AWS refuses), but keep
                    // it visible: a low acceptance rate makes this test vacuous (checked below).
                    if std::env::var_os("NO_PANIC_VERBOSE").is_some() {
                        eprintln!("rejected: {}\n  {text}", e.message);
                    }
                    return Ok(());
                }
            };
            ACCEPTED.fetch_add(1, Ordering::Relaxed);
            for k in 0..3u8 {
                let mut ib = input_bytes.clone();
                ib.push(k);
                let input = Value::from_serde(&gen::input(&mut Bytes::new(&ib[(k as usize).min(ib.len())..])));
                let out = run::run(&engine, Arc::clone(&sm.program), input)
                    .ok_or_else(|| TestCaseError::fail(format!("acyclic definition hit the poll cap: {text}")))?;
                let slot = match out.status {
                    ExecutionStatus::Succeeded => 0,
                    ExecutionStatus::Failed => 1,
                    ExecutionStatus::TimedOut | ExecutionStatus::Aborted => 2,
                };
                STATUS[slot].fetch_add(1, Ordering::Relaxed);
                check_outcome(&def, &out)?;
            }
            Ok(())
        },
    );
    let (acc, total) = (ACCEPTED.load(Ordering::Relaxed), TOTAL.load(Ordering::Relaxed));
    eprintln!(
        "generated definitions: {acc}/{total} accepted; runs SUCCEEDED {} FAILED {} TIMED_OUT {}",
        STATUS[0].load(Ordering::Relaxed),
        STATUS[1].load(Ordering::Relaxed),
        STATUS[2].load(Ordering::Relaxed)
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(acc * 2 >= total, "too few generated definitions are accepted ({acc}/{total}): fix the generator");
}

fn bench_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("EXPRESSWAY_BENCH_DIR").map(PathBuf::from).unwrap_or_else(|| "/work/shared/bench".into());
    dir.is_dir().then_some(dir)
}

fn conformance_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("EXPRESSWAY_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/cases"));
    dir.is_dir().then_some(dir)
}

/// (definition text, input text) pairs from the bench folder and a sample of the corpus.
fn real_definitions() -> Vec<(String, String)> {
    let mut out = Vec::new();
    match bench_dir() {
        None => eprintln!("notice: no bench folder (set EXPRESSWAY_BENCH_DIR); skipping bench definitions"),
        Some(dir) => {
            let event = std::fs::read_to_string(dir.join("event.json")).unwrap_or_else(|_| "{}".into());
            let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).collect();
            files.sort();
            for f in files {
                if f.to_string_lossy().ends_with(".asl.json") {
                    out.push((std::fs::read_to_string(&f).unwrap(), event.clone()));
                }
            }
        }
    }
    match conformance_dir() {
        None => eprintln!(
            "notice: no conformance corpus (set EXPRESSWAY_CONFORMANCE_DIR=/work/shared/conformance/cases); skipping it"
        ),
        Some(dir) => {
            let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).collect();
            files.sort();
            let step = (files.len() / 150).max(1); // a deterministic sample of ~150 cases
            for f in files.iter().step_by(step) {
                let Ok(text) = std::fs::read_to_string(f) else { continue };
                let Ok(case) = serde_json::from_str::<Json>(&text) else { continue };
                let def = match (case.get("definition"), case.get("definition_raw")) {
                    (Some(d), _) if !d.is_null() => d.to_string(),
                    (_, Some(Json::String(raw))) => raw.clone(),
                    _ => continue,
                };
                let input = case.get("input").and_then(Json::as_str).unwrap_or("{}").to_string();
                out.push((def, input));
            }
        }
    }
    out
}

#[test]
fn real_definitions_run_unmutated() {
    let engine = run::engine();
    let defs = real_definitions();
    let mut accepted = 0;
    for (def, input) in &defs {
        let input = value::parse_str(input).unwrap_or(Value::Null);
        if exercise(def, &input, &engine).unwrap_or_else(|e| panic!("{e}\ndefinition: {def}")) {
            accepted += 1;
        }
    }
    eprintln!("real definitions: {accepted}/{} accepted and run", defs.len());
}

#[test]
fn mutated_real_definitions_never_panic() {
    let defs = real_definitions();
    if defs.is_empty() {
        return;
    }
    let engine = run::engine();
    let mut runner = proptest::test_runner::TestRunner::new(config(5000));
    let result = runner.run(
        &(0..defs.len(), prop::collection::vec(any::<u8>(), 0..48), prop::collection::vec(any::<u8>(), 0..32)),
        |(idx, mbytes, ibytes)| {
            let (def, input) = &defs[idx];
            let Ok(mut j) = serde_json::from_str::<Json>(def) else { return Ok(()) };
            mutate::mutate(&mut j, &mut Bytes::new(&mbytes));
            let text = j.to_string();
            let input = if ibytes.first().is_some_and(|b| b % 2 == 1) {
                Value::from_serde(&gen::input(&mut Bytes::new(&ibytes[1..])))
            } else {
                value::parse_str(input).unwrap_or(Value::Null)
            };
            exercise(&text, &input, &engine).map(|_| ()).map_err(|e| TestCaseError::fail(format!("{e}\ndefinition: {text}")))
        },
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Helper for [`deeply_nested_inputs_do_not_overflow`]: runs one deep input in this process
/// (a stack overflow aborts the whole process, so the parent runs each one as a child).
#[test]
#[ignore = "helper run as a child process by deeply_nested_inputs_do_not_overflow"]
fn deep_child() {
    let (Ok(kind), Ok(depth)) = (std::env::var("DEEP_KIND"), std::env::var("DEEP_DEPTH")) else { return };
    let depth: usize = depth.parse().unwrap();
    let (kind, text) = deep_inputs(depth).into_iter().find(|(k, _)| *k == kind).unwrap();
    exercise_deep(kind, &text);
}

/// Runs each of `kinds` at `depth` in a child process; returns the ones that crashed.
fn deep_crashes(kinds: &[&str], depth: usize) -> Vec<String> {
    let exe = std::env::current_exe().unwrap();
    let mut crashed = Vec::new();
    for kind in kinds {
        let out = std::process::Command::new(&exe)
            .args(["--exact", "deep_child", "--ignored", "--test-threads=1"])
            .env("DEEP_KIND", kind)
            .env("DEEP_DEPTH", depth.to_string())
            .output()
            .unwrap();
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            crashed.push(format!("{kind}: {} {}", out.status, stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("")));
        }
    }
    crashed
}

/// Each parser on 100 000 levels of nesting, each in a child process on a 2 MiB stack thread:
/// a parser must refuse (or handle) such input without overflowing its stack.
#[test]
fn deeply_nested_inputs_do_not_overflow() {
    let kinds = ["value_arrays", "value_objects", "path_dots", "path_parens", "intrinsic_calls", "timestamp"];
    let crashed = deep_crashes(&kinds, 100_000);
    assert!(crashed.is_empty(), "deeply nested input crashes:\n{}", crashed.join("\n"));
}

/// Regression test for an engine bug this file found (fixed).
/// JSONPath filters nested inside filter operands (`$[?(@[?(@[?(@…`) recurse
/// `filter::parse_operand` → `parse::parse_segments` → `parse::parse_bracket` →
/// `filter::parse_filter` → `parse_or(cur, 0)`: the filter depth limit (`MAX_DEPTH`, 64) restarts
/// at 0 for every nested filter, so nesting is unbounded. 200 levels (800 bytes) overflow a
/// 2 MiB stack in a debug build and abort the process (SIGABRT, not a catchable panic), also
/// from `StateMachine::new`/`validate` on a definition whose `InputPath` holds such a path.
#[test]
fn nested_jsonpath_filters_do_not_overflow() {
    let crashed = deep_crashes(&["path_filters", "path_nested_filters", "definition_nested_filters"], 300);
    assert!(crashed.is_empty(), "deeply nested input crashes:\n{}", crashed.join("\n"));
}
