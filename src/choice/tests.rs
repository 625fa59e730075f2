//! Unit tests for Choice rules: compile errors (never a panic), operator semantics, runtime
//! errors, and the combinators. The data-driven AWS corpus test is in `corpus_tests.rs`.

use super::Rule;
use crate::error::STATES_RUNTIME;
use crate::jsonpath::Roots;
use crate::value::{parse_str, Value};
use serde_json::json;

/// Minimal [`Roots`]: input, a context object, and named variables.
pub(super) struct TestRoots {
    pub input: Value,
    pub context: Value,
    pub vars: Vec<(String, Value)>,
}

impl TestRoots {
    pub fn new(input: Value) -> TestRoots {
        TestRoots {
            input,
            context: Value::object([("Execution", Value::object([("Name", Value::from("exec"))]))]),
            vars: Vec::new(),
        }
    }
}

impl Roots for TestRoots {
    fn input(&self) -> &Value {
        &self.input
    }
    fn context(&self) -> Value {
        self.context.clone()
    }
    fn variable(&self, name: &str) -> Option<Value> {
        self.vars.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    }
}

fn eval(rule: serde_json::Value, input: &str) -> Result<bool, crate::error::AslError> {
    let rule = Rule::compile(&rule).unwrap_or_else(|e| panic!("compile failed: {e}"));
    rule.eval(&TestRoots::new(parse_str(input).expect("test input is JSON")))
}

fn yes(rule: serde_json::Value, input: &str) -> bool {
    eval(rule, input).unwrap_or_else(|e| panic!("unexpected error: {e}"))
}

#[test]
fn compile_errors_never_panic() {
    let bad = [
        json!(null),
        json!("rule"),
        json!([]),
        json!({}),
        json!({"Next": "X"}),
        json!({"Variable": "$.a"}),
        json!({"Variable": 1, "IsNull": true}),
        json!({"Variable": "$.a", "IsNull": "yes"}),
        json!({"Variable": "$.a", "IsNull": true, "IsString": true}),
        json!({"Variable": "$.a", "StringEquals": 1}),
        json!({"Variable": "$.a", "NumericEquals": "1"}),
        json!({"Variable": "$.a", "BooleanEquals": "true"}),
        json!({"Variable": "$.a", "StringEqualsPath": 3}),
        json!({"Variable": "$.a", "TimestampEquals": 3}),
        json!({"Variable": "$.a", "StringMatches": null}),
        json!({"Variable": "$.a", "BooleanLessThan": true}),
        json!({"Variable": "$.a", "StringMatchesPath": "$.b"}),
        json!({"Variable": "$.a", "IsNullPath": "$.b"}),
        json!({"Variable": "$.a", "Equals": 1}),
        json!({"Variable": "$.a", "Bogus": 1}),
        json!({"And": []}),
        json!({"Or": {}}),
        json!({"Not": []}),
        json!({"Not": {"Variable": "$.a"}}),
        json!({"And": [{"Variable": "$.a", "IsNull": true}], "Or": [{"Variable": "$.a", "IsNull": true}]}),
        json!({"And": [{"Variable": "$.a", "IsNull": true}], "Variable": "$.a"}),
        json!({"Not": {"Variable": "$.a", "IsNull": true}, "IsNull": true}),
        json!({"And": [null]}),
        json!({"Condition": "{% true %}"}),
    ];
    for rule in bad {
        assert!(Rule::compile(&rule).is_err(), "{rule} should not compile");
    }
    // Deep nesting is refused, not a stack overflow.
    let mut deep = json!({"Variable": "$.a", "IsNull": true});
    for _ in 0..1000 {
        deep = json!({ "Not": deep });
    }
    assert!(Rule::compile(&deep).is_err());
    let mut ok = json!({"Variable": "$.a", "IsNull": true});
    for _ in 0..50 {
        ok = json!({ "Not": ok });
    }
    assert!(Rule::compile(&ok).is_ok());
}

#[test]
fn compiles_every_operator() {
    for (op, operand) in [
        ("StringEquals", json!("a")),
        ("StringEqualsPath", json!("$.b")),
        ("StringLessThan", json!("a")),
        ("StringGreaterThanPath", json!("$.b")),
        ("StringLessThanEquals", json!("a")),
        ("StringGreaterThanEqualsPath", json!("$.b")),
        ("StringMatches", json!("a*")),
        ("NumericEquals", json!(1)),
        ("NumericLessThanPath", json!("$.b")),
        ("NumericGreaterThanEquals", json!(1.5)),
        ("BooleanEquals", json!(true)),
        ("BooleanEqualsPath", json!("$.b")),
        ("TimestampEquals", json!("2012-10-09T19:00:55Z")),
        ("TimestampLessThanEqualsPath", json!("$.b")),
        ("IsNull", json!(true)),
        ("IsPresent", json!(false)),
        ("IsNumeric", json!(true)),
        ("IsString", json!(true)),
        ("IsBoolean", json!(true)),
        ("IsTimestamp", json!(true)),
    ] {
        let rule = json!({"Variable": "$.a", op: operand, "Next": "X", "Comment": "c"});
        assert!(Rule::compile(&rule).is_ok(), "{rule} should compile");
    }
}

#[test]
fn type_mismatches_are_false() {
    assert!(!yes(json!({"Variable": "$.v", "StringEquals": "1"}), r#"{"v": 1}"#));
    assert!(!yes(json!({"Variable": "$.v", "NumericEquals": 1}), r#"{"v": "1"}"#));
    assert!(!yes(json!({"Variable": "$.v", "BooleanEquals": false}), r#"{"v": 0}"#));
    assert!(!yes(json!({"Variable": "$.v", "NumericEqualsPath": "$.w"}), r#"{"v": 1, "w": "1"}"#));
    assert!(!yes(json!({"Variable": "$.v", "StringMatches": "*"}), r#"{"v": null}"#));
    assert!(!yes(
        json!({"Variable": "$.v", "TimestampEquals": "2012-10-09T19:00:55Z"}),
        r#"{"v": "2012-10-09T19:00:55"}"#
    ));
    // An invalid timestamp literal never matches (kept, not a compile error).
    assert!(!yes(json!({"Variable": "$.v", "TimestampEquals": "yesterday"}), r#"{"v": "yesterday"}"#));
}

#[test]
fn numbers_compare_across_int_and_float() {
    assert!(yes(json!({"Variable": "$.v", "NumericEquals": 1}), r#"{"v": 1.0}"#));
    assert!(yes(json!({"Variable": "$.v", "NumericLessThan": 1.5}), r#"{"v": 1}"#));
    assert!(yes(json!({"Variable": "$.v", "NumericGreaterThanEqualsPath": "$.w"}), r#"{"v": -2, "w": -2.0}"#));
    assert!(!yes(json!({"Variable": "$.v", "NumericGreaterThan": 18446744073709551615u64}), r#"{"v": 1e3}"#));
}

#[test]
fn strings_compare_by_code_point() {
    assert!(yes(json!({"Variable": "$.v", "StringLessThan": "b"}), r#"{"v": "a"}"#));
    assert!(yes(json!({"Variable": "$.v", "StringLessThan": "a"}), r#"{"v": "B"}"#));
    assert!(yes(json!({"Variable": "$.v", "StringLessThan": "ab"}), r#"{"v": "a"}"#));
    assert!(yes(json!({"Variable": "$.v", "StringGreaterThanEquals": "é"}), r#"{"v": "😀"}"#));
    assert!(yes(json!({"Variable": "$.v", "StringLessThanEqualsPath": "$.w"}), r#"{"v": "x", "w": "x"}"#));
    assert!(yes(json!({"Variable": "$.v", "StringMatches": "log-\\*-*.txt"}), r#"{"v": "log-*-1.txt"}"#));
    assert!(!yes(json!({"Variable": "$.v", "StringMatches": "log-\\*-*.txt"}), r#"{"v": "log-a-1.txt"}"#));
}

#[test]
fn timestamps_compare_as_instants() {
    let r = json!({"Variable": "$.v", "TimestampEquals": "2012-10-09T19:00:55Z"});
    assert!(yes(r, r#"{"v": "2012-10-09T20:00:55+01:00"}"#));
    assert!(yes(
        json!({"Variable": "$.v", "TimestampLessThanPath": "$.w"}),
        r#"{"v": "2012-10-09T19:00:55.999999999Z", "w": "2012-10-09T19:00:56Z"}"#
    ));
    assert!(!yes(
        json!({"Variable": "$.v", "TimestampLessThanPath": "$.w"}),
        r#"{"v": "2012-10-09T19:00:55Z", "w": "tomorrow"}"#
    ));
    assert!(yes(json!({"Variable": "$.v", "IsTimestamp": true}), r#"{"v": "2012-10-09T19:00:55+01:00"}"#));
    assert!(yes(json!({"Variable": "$.v", "IsTimestamp": false}), r#"{"v": "2012-10-09T19:00:55"}"#));
    assert!(yes(json!({"Variable": "$.v", "IsTimestamp": false}), r#"{"v": 5}"#));
}

#[test]
fn missing_variable_is_a_runtime_error_except_for_is_present() {
    assert!(yes(json!({"Variable": "$.missing", "IsPresent": false}), "{}"));
    assert!(!yes(json!({"Variable": "$.missing", "IsPresent": true}), "{}"));
    assert!(yes(json!({"Variable": "$.v", "IsPresent": true}), r#"{"v": null}"#));
    for rule in [
        json!({"Variable": "$.missing", "IsNull": true}),
        json!({"Variable": "$.missing", "StringEquals": "x"}),
        json!({"Variable": "$.missing", "BooleanEqualsPath": "$.alsoMissing"}),
    ] {
        let err = eval(rule, "{}").expect_err("missing variable");
        assert_eq!(err.error.as_deref(), Some(STATES_RUNTIME));
        assert!(err.needs_state_prefix);
        assert_eq!(
            err.cause.as_deref(),
            Some("Invalid path '$.missing': The choice state's condition path references an invalid value.")
        );
    }
    let err = eval(json!({"Variable": "$.v", "NumericEqualsPath": "$.w"}), r#"{"v": 1}"#).expect_err("missing operand");
    assert_eq!(
        err.cause.as_deref(),
        Some("Invalid path '$.w': The choice state's condition path references an invalid value.")
    );
}

#[test]
fn combinators_short_circuit() {
    let and = json!({"And": [
        {"Variable": "$.v", "NumericGreaterThan": 0},
        {"Variable": "$.missing", "IsNull": true}
    ]});
    assert!(!yes(and.clone(), r#"{"v": 0}"#));
    assert!(eval(and, r#"{"v": 1}"#).is_err());
    let or = json!({"Or": [
        {"Variable": "$.v", "NumericGreaterThan": 0},
        {"Variable": "$.missing", "IsNull": true}
    ]});
    assert!(yes(or.clone(), r#"{"v": 1}"#));
    assert!(eval(or, r#"{"v": 0}"#).is_err());
    let not = json!({"Not": {"Variable": "$.v", "StringEquals": "a"}});
    assert!(yes(not.clone(), r#"{"v": "b"}"#));
    assert!(!yes(not, r#"{"v": "a"}"#));
    let nested = json!({"And": [
        {"Not": {"Variable": "$.v", "IsNull": true}},
        {"Or": [{"Variable": "$.v", "IsString": true}, {"Variable": "$.v", "IsNumeric": true}]}
    ]});
    assert!(yes(nested.clone(), r#"{"v": 3}"#));
    assert!(!yes(nested, r#"{"v": [3]}"#));
}

#[test]
fn context_and_variable_roots() {
    let rule = Rule::compile(&json!({"Variable": "$$.Execution.Name", "StringEquals": "exec"})).expect("compiles");
    assert_eq!(rule.eval(&TestRoots::new(Value::empty_object())), Ok(true));
    let rule = Rule::compile(&json!({"Variable": "$count", "NumericGreaterThanPath": "$.limit"})).expect("compiles");
    let mut roots = TestRoots::new(parse_str(r#"{"limit": 3}"#).expect("json"));
    roots.vars.push(("count".into(), Value::from(5i64)));
    assert_eq!(rule.eval(&roots), Ok(true));
    let present = Rule::compile(&json!({"Variable": "$nope", "IsPresent": false})).expect("compiles");
    assert_eq!(present.eval(&roots), Ok(true));
    assert_eq!(rule.paths().iter().map(|p| p.source()).collect::<Vec<_>>(), ["$count", "$.limit"]);
}

/// Random rule shapes built from the real vocabulary: compile must never panic, and whatever
/// compiles must evaluate without panicking on assorted inputs.
#[test]
fn property_random_rules_never_panic() {
    struct XorShift(u64);
    impl XorShift {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }
    const KEYS: &[&str] = &[
        "Variable", "And", "Or", "Not", "Next", "StringEquals", "StringMatches", "NumericLessThan",
        "NumericEqualsPath", "BooleanEquals", "TimestampGreaterThan", "TimestampEqualsPath",
        "IsPresent", "IsTimestamp", "IsNull", "Bogus",
    ];
    fn scalar(rng: &mut XorShift) -> serde_json::Value {
        match rng.below(8) {
            0 => json!(null),
            1 => json!(rng.below(2) == 0),
            2 => json!(rng.below(5) as i64 - 2),
            3 => json!(1.5),
            4 => json!("$.v"),
            5 => json!("$.missing"),
            6 => json!("2012-10-09T19:00:55Z"),
            _ => json!("a*\\*b\\"),
        }
    }
    fn rule(rng: &mut XorShift, depth: usize) -> serde_json::Value {
        // Mostly near-valid shapes, so evaluation gets exercised too; sometimes chaos.
        match rng.below(4) {
            0 | 1 => {
                let op = KEYS[5 + rng.below(10)];
                let var = if rng.below(3) == 0 { "$.missing" } else { "$.v" };
                return json!({"Variable": var, op: scalar(rng)});
            }
            2 if depth < 4 => {
                let children: Vec<_> = (0..=rng.below(2)).map(|_| rule(rng, depth + 1)).collect();
                return match rng.below(3) {
                    0 => json!({"And": children}),
                    1 => json!({"Or": children}),
                    _ => json!({"Not": children[0]}),
                };
            }
            _ => {}
        }
        let mut obj = serde_json::Map::new();
        for _ in 0..=rng.below(3) {
            let key = KEYS[rng.below(KEYS.len())];
            let value = match key {
                "And" | "Or" if depth < 4 => {
                    json!((0..rng.below(3)).map(|_| rule(rng, depth + 1)).collect::<Vec<_>>())
                }
                "Not" if depth < 4 => rule(rng, depth + 1),
                _ => scalar(rng),
            };
            obj.insert(key.to_string(), value);
        }
        serde_json::Value::Object(obj)
    }
    let inputs = [
        r#"{"v": "2012-10-09T19:00:55Z"}"#,
        r#"{"v": 1}"#,
        r#"{"v": null}"#,
        r#"{"v": [1, {"a": true}]}"#,
        "{}",
        "[]",
        r#""text""#,
    ]
    .map(|t| TestRoots::new(parse_str(t).expect("json")));
    let mut rng = XorShift(0x1234_5678_9ABC_DEF1);
    let mut compiled = 0;
    for _ in 0..20_000 {
        if let Ok(r) = Rule::compile(&rule(&mut rng, 0)) {
            compiled += 1;
            for roots in &inputs {
                let _ = r.eval(roots);
            }
        }
    }
    assert!(compiled > 100, "the generator should produce some valid rules ({compiled})");
}
