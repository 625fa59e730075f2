//! Intrinsic tests: each function with its errors, the grammar, no-panic fuzzing of
//! `Intrinsic::parse`, and a data-driven check against recorded AWS cases (single Pass state
//! whose `Parameters` hold `.$` paths or intrinsics).

use super::*;
use crate::error::{STATES_INTRINSIC_FAILURE, STATES_RUNTIME};
use crate::value::parse_str;

struct TestRoots {
    input: Value,
    context: Value,
}

impl Roots for TestRoots {
    fn input(&self) -> &Value {
        &self.input
    }
    fn context(&self) -> Value {
        self.context.clone()
    }
    fn variable(&self, name: &str) -> Option<Value> {
        (name == "var").then(|| parse_str(r#"{"s":"from var","n":4}"#).unwrap())
    }
}

fn roots(input: &str) -> TestRoots {
    TestRoots {
        input: parse_str(input).unwrap(),
        context: parse_str(r#"{"Execution":{"Name":"exec"},"StateMachine":{"Id":"arn:sm","Name":"sm"}}"#).unwrap(),
    }
}

fn run(expr: &str, input: &str) -> Result<Value, AslError> {
    let call = Intrinsic::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
    call.eval(&roots(input), "f.$")
}

fn ok(expr: &str, input: &str) -> String {
    run(expr, input).unwrap_or_else(|e| panic!("{expr}: {e}")).to_json()
}

fn fails(expr: &str, input: &str) -> AslError {
    match run(expr, input) {
        Ok(v) => panic!("{expr} unexpectedly gave {v}"),
        Err(e) => e,
    }
}

fn intrinsic_failure(expr: &str, input: &str) -> String {
    let e = fails(expr, input);
    assert_eq!(e.error_name(), STATES_INTRINSIC_FAILURE, "{expr}: {e}");
    assert!(e.needs_state_prefix);
    e.cause.as_deref().unwrap_or("").to_string()
}

#[test]
fn detects_intrinsics() {
    assert!(is_intrinsic("States.Array()"));
    assert!(is_intrinsic("  States.UUID()"));
    assert!(!is_intrinsic("$.a"));
}

#[test]
fn grammar() {
    assert_eq!(ok("States.Array()", "{}"), "[]");
    assert_eq!(ok("States.Array( 'a' ,1, -2.5 ,null,true,false )", "{}"), r#"["a",1,-2.5,null,true,false]"#);
    assert_eq!(ok(r"States.Array('it\'s', 'a\\b', '\{\}')", "{}"), r#"["it's","a\\b","{}"]"#);
    assert_eq!(ok("States.Array($.a, $$.Execution.Name, $var.n, $)", r#"{"a":1}"#), r#"[1,"exec",4,{"a":1}]"#);
    assert_eq!(ok("States.Array($['a b'], $.l[1], $.l[*])", r#"{"a b":1,"l":[5,6]}"#), "[1,6,[5,6]]");
    assert_eq!(ok("States.Array(States.Array(1), States.ArrayLength($.l))", r#"{"l":[1,2]}"#), "[[1],2]");
    for bad in [
        "States.Nope()",
        "States.Array(",
        "States.Array('x)",
        "States.Array(1,)",
        "States.Array(1) x",
        r"States.Array('\n')",
        "States.Array(abc)",
        "States.Array($.a[)",
        "states.array()",
        "States.Array(--1)",
    ] {
        assert!(Intrinsic::parse(bad).is_err(), "{bad} should not parse");
    }
    let nested10 = format!("{}1{}", "States.Array(".repeat(10), ")".repeat(10));
    assert!(Intrinsic::parse(&nested10).is_ok());
    let nested11 = format!("{}1{}", "States.Array(".repeat(11), ")".repeat(11));
    assert!(Intrinsic::parse(&nested11).is_err());
    assert_eq!(Intrinsic::parse("States.UUID()").unwrap().function(), Function::Uuid);
}

#[test]
fn missing_path_argument_is_states_runtime() {
    let e = fails("States.Format('{}', $.nope)", r#"{"a":1}"#);
    assert_eq!(e.error_name(), STATES_RUNTIME);
    assert!(e.needs_state_prefix);
    assert_eq!(
        e.cause.as_deref(),
        Some(r#"The JSONPath '$.nope' specified for the field 'f.$' could not be found in the input '{"a":1}'"#)
    );
    assert_eq!(fails("States.Array($missing)", "{}").error_name(), STATES_RUNTIME);
}

#[test]
fn format() {
    assert_eq!(ok("States.Format('Hello {}, welcome to {}!', $.n, $.p)", r#"{"n":"John","p":"X"}"#), r#""Hello John, welcome to X!""#);
    assert_eq!(ok("States.Format('{} {} {} {}', $.a, $.b, $.c, $.d)", r#"{"a":1,"b":1.1,"c":null,"d":true}"#), r#""1 1.1 null true""#);
    assert_eq!(ok("States.Format('{}', $.o)", r#"{"o":{"Arg1":1,"Arg2":[]}}"#), r#""{Arg1=1, Arg2=[]}""#);
    assert_eq!(ok("States.Format('{}', $.o)", r#"{"o":[1,"a",{"k":null}]}"#), r#""[1, a, {k=null}]""#);
    assert_eq!(ok("States.Format('{}', $$.StateMachine)", "{}"), r#""{Id=arn:sm, Name=sm}""#);
    assert_eq!(ok(r"States.Format('\{\} {} \\ it\'s', 'x')", "{}"), r#""{} x \\ it's""#);
    assert_eq!(ok("States.Format('no placeholders')", "{}"), r#""no placeholders""#);
    assert_eq!(ok("States.Format('{}', 1.0E10)", "{}"), r#""1.0E10""#);
    assert_eq!(ok("States.Format($.t, 1)", r#"{"t":"v={}"}"#), r#""v=1""#);
    assert!(intrinsic_failure("States.Format('{} {}', 1)", "{}").contains("placeholders"));
    assert!(intrinsic_failure("States.Format('{}', 1, 2)", "{}").contains("placeholder"));
    assert!(intrinsic_failure("States.Format(1)", "{}").contains("string"));
    assert!(intrinsic_failure("States.Format()", "{}").contains("argument"));
}

#[test]
fn string_to_json_and_back() {
    for (input, out) in [
        ("", "null"),
        (" ", "null"),
        ("null", "null"),
        ("-0", "0"),
        ("1", "1"),
        ("1.1", "1.1"),
        ("true", "true"),
        ("\"HelloWorld\"", "\"HelloWorld\""),
        ("[1, 2, \"HelloWorld\"]", "[1,2,\"HelloWorld\"]"),
        ("{\"Arg1\": 1, \"Arg2\": []}", "{\"Arg1\":1,\"Arg2\":[]}"),
    ] {
        let doc = Value::object([("s", Value::from(input))]).to_json();
        assert_eq!(ok("States.StringToJson($.s)", &doc), out, "{input:?}");
    }
    assert_eq!(ok(r#"States.StringToJson('{"a": [1]}')"#, "{}"), r#"{"a":[1]}"#);
    assert!(intrinsic_failure("States.StringToJson('{bad')", "{}").contains("could not parse"));
    assert!(intrinsic_failure("States.StringToJson(1)", "{}").contains("string"));
    assert_eq!(ok("States.JsonToString($.v)", r#"{"v":{"Arg1":1,"Arg2":[]}}"#), r#""{\"Arg1\":1,\"Arg2\":[]}""#);
    assert_eq!(ok("States.JsonToString($.v)", r#"{"v":"HelloWorld"}"#), r#""\"HelloWorld\"""#);
    assert_eq!(ok("States.JsonToString($.v)", r#"{"v":1.1}"#), r#""1.1""#);
    assert_eq!(ok("States.JsonToString($.v)", r#"{"v":null}"#), r#""null""#);
    assert!(intrinsic_failure("States.JsonToString()", "{}").contains("expects 1"));
}

#[test]
fn arrays() {
    assert_eq!(ok("States.ArrayPartition($.a, 2)", r#"{"a":[0,1,2,3,4]}"#), "[[0,1],[2,3],[4]]");
    assert_eq!(ok("States.ArrayPartition($.a, 5)", r#"{"a":[0,1]}"#), "[[0,1]]");
    assert_eq!(ok("States.ArrayPartition($.a, 1)", r#"{"a":[]}"#), "[]");
    assert!(intrinsic_failure("States.ArrayPartition($.a, 0)", r#"{"a":[1]}"#).contains("greater than 0"));
    assert!(intrinsic_failure("States.ArrayPartition($.a, -1)", r#"{"a":[1]}"#).contains("greater than 0"));
    assert!(intrinsic_failure("States.ArrayPartition($.a, 1.5)", r#"{"a":[1]}"#).contains("integer"));
    assert!(intrinsic_failure("States.ArrayPartition('x', 1)", "{}").contains("array"));

    assert_eq!(ok("States.ArrayContains($.a, 5)", r#"{"a":[1,5]}"#), "true");
    assert_eq!(ok("States.ArrayContains($.a, $.o)", r#"{"a":[{"x":[1]}],"o":{"x":[1]}}"#), "true");
    assert_eq!(ok("States.ArrayContains($.a, 'x')", r#"{"a":[1]}"#), "false");
    assert_eq!(ok("States.ArrayContains($.a, 1.0)", r#"{"a":[1]}"#), "false");

    assert_eq!(ok("States.ArrayRange(1, 9, 2)", "{}"), "[1,3,5,7,9]");
    assert_eq!(ok("States.ArrayRange(1, 10, 2)", "{}"), "[1,3,5,7,9]");
    assert_eq!(ok("States.ArrayRange(5, 1, -2)", "{}"), "[5,3,1]");
    assert_eq!(ok("States.ArrayRange(3, 3, 1)", "{}"), "[3]");
    assert_eq!(ok("States.ArrayRange(5, 1, 1)", "{}"), "[]");
    assert_eq!(ok("States.ArrayRange(0, 999, 1)", "{}").matches(',').count(), 999);
    assert!(intrinsic_failure("States.ArrayRange(0, 1000, 1)", "{}").contains("1000"));
    assert!(intrinsic_failure("States.ArrayRange(0, 10, 0)", "{}").contains("step"));
    assert!(intrinsic_failure("States.ArrayRange(0, 10)", "{}").contains("expects 3"));

    assert_eq!(ok("States.ArrayGetItem($.a, 5)", r#"{"a":[1,2,3,4,5,6,7,8,9]}"#), "6");
    assert!(intrinsic_failure("States.ArrayGetItem($.a, 3)", r#"{"a":[1]}"#).contains("out of bounds"));
    assert!(intrinsic_failure("States.ArrayGetItem($.a, -1)", r#"{"a":[1]}"#).contains("out of bounds"));

    assert_eq!(ok("States.ArrayLength($.a)", r#"{"a":[1,2,3]}"#), "3");
    assert!(intrinsic_failure("States.ArrayLength($.a)", r#"{"a":{}}"#).contains("array"));

    assert_eq!(ok("States.ArrayUnique($.a)", r#"{"a":[1,2,2,3,3,4,1]}"#), "[1,2,3,4]");
    assert_eq!(ok("States.ArrayUnique($.a)", r#"{"a":[{"a":1,"b":2},{"b":2,"a":1},"x",1,1.0]}"#), r#"[{"a":1,"b":2},"x",1,1.0]"#);
}

#[test]
fn encoding_and_hashing() {
    assert_eq!(ok("States.Base64Encode('Data to encode')", "{}"), r#""RGF0YSB0byBlbmNvZGU=""#);
    assert_eq!(ok("States.Base64Encode('')", "{}"), r#""""#);
    assert_eq!(ok("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')", "{}"), r#""Data to encode""#);
    assert_eq!(ok("States.Base64Decode('')", "{}"), r#""""#);
    assert!(intrinsic_failure("States.Base64Decode('***')", "{}").contains("Base64"));
    let long = Value::object([("s", Value::from("a".repeat(10_001)))]).to_json();
    assert!(intrinsic_failure("States.Base64Encode($.s)", &long).contains("10000"));
    assert!(intrinsic_failure("States.Base64Encode(1)", "{}").contains("string"));

    for (alg, digest) in [
        ("MD5", "812f45842bc6d66ee14572ce20db8e86"),
        ("SHA-1", "aaff4a450a104cd177d28d18d74485e8cae074b7"),
        ("SHA-256", "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"),
        ("SHA-384", "d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b87525bdc835ebb27e1fb9e9374a15562"),
        (
            "SHA-512",
            "6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce2deba23bf2954f0f1d593fc50283731a533d30d425402d4f91316d871303aac4",
        ),
    ] {
        assert_eq!(ok(&format!("States.Hash('input data', '{alg}')"), "{}"), format!("\"{digest}\""));
    }
    assert!(intrinsic_failure("States.Hash('x', 'SHA-999')", "{}").contains("unsupported"));
    assert!(intrinsic_failure("States.Hash(null, 'MD5')", "{}").contains("null"));
}

#[test]
fn json_merge() {
    // Key order follows Java's HashMap, as recorded on AWS.
    assert_eq!(
        ok(
            r#"States.JsonMerge(States.StringToJson('{"constant_in_literal": "false"}'), $.i, false)"#,
            r#"{"i":{"constant_input_field":"constant_value"}}"#
        ),
        r#"{"constant_input_field":"constant_value","constant_in_literal":"false"}"#
    );
    assert_eq!(ok("States.JsonMerge($.a, $.b, false)", r#"{"a":{"a":1,"b":2},"b":{"c":3,"d":4}}"#), r#"{"a":1,"b":2,"c":3,"d":4}"#);
    assert_eq!(ok("States.JsonMerge($.a, $.b, false)", r#"{"a":{"a":1,"b":{"x":1}},"b":{"b":{"y":2}}}"#), r#"{"a":1,"b":{"y":2}}"#);
    assert!(intrinsic_failure("States.JsonMerge($.a, $.a, true)", r#"{"a":{}}"#).contains("deep"));
    assert!(intrinsic_failure("States.JsonMerge($.a, 1, false)", r#"{"a":{}}"#).contains("JSON object"));
    assert!(intrinsic_failure("States.JsonMerge($.a, $.a, 'false')", r#"{"a":{}}"#).contains("boolean"));
}

#[test]
fn math() {
    assert_eq!(ok("States.MathAdd($.a, $.b)", r#"{"a":5,"b":3}"#), "8");
    assert_eq!(ok("States.MathAdd($.a, -1)", r#"{"a":5}"#), "4");
    assert_eq!(ok("States.MathAdd(States.MathAdd(1, 2), 3)", "{}"), "6");
    assert_eq!(ok("States.MathAdd(2.0, 3)", "{}"), "5");
    assert_eq!(ok("States.MathAdd(1.5, 1)", "{}"), "3");
    assert_eq!(ok("States.MathAdd($.a, 4.3)", r#"{"a":1}"#), "5");
    assert_eq!(ok("States.MathAdd(-1.5, 0)", "{}"), "-1");
    assert!(intrinsic_failure("States.MathAdd('1', 1)", "{}").contains("integer"));
    assert!(intrinsic_failure(&format!("States.MathAdd({}, 1)", i64::MAX), "{}").contains("overflow"));

    let seeded = ok("States.MathRandom(0, 999, 3)", "{}");
    assert_eq!(seeded, ok("States.MathRandom(0, 999, 3)", "{}"), "same seed, same number");
    // java.util.Random(42).nextInt(10) == 0 and Random(3).nextInt(1000) == 734 in Java.
    assert_eq!(functions::java_random_first_int(42, 10), 0);
    assert_eq!(functions::java_random_first_int(3, 1000), 734);
    for _ in 0..100 {
        let n: i64 = ok("States.MathRandom(5, 8)", "{}").parse().unwrap();
        assert!((5..8).contains(&n));
    }
    assert!(intrinsic_failure("States.MathRandom(5, 5)", "{}").contains("greater"));
    assert!(intrinsic_failure("States.MathRandom(5)", "{}").contains("2 or 3"));
}

#[test]
fn string_split() {
    let split = |s: &str, d: &str| {
        let doc = Value::object([("s", Value::from(s)), ("d", Value::from(d))]).to_json();
        ok("States.StringSplit($.s, $.d)", &doc)
    };
    assert_eq!(split(" ", ","), r#"[" "]"#);
    assert_eq!(split(" , ", ","), r#"[" "," "]"#);
    assert_eq!(split(", , ,", ","), r#"[" "," "]"#);
    assert_eq!(split(",,,,", ","), "[]");
    assert_eq!(split("1,2,3,4,5", ","), r#"["1","2","3","4","5"]"#);
    assert_eq!(split("This.is+a,test=string", ".+,="), r#"["This","is","a","test","string"]"#);
    assert_eq!(split("split on T and \nnew line", "T\n"), r#"["split on "," and ","new line"]"#);
    assert!(intrinsic_failure("States.StringSplit(1, ',')", "{}").contains("string"));
}

#[test]
fn uuid() {
    let a = ok("States.UUID()", "{}");
    let b = ok("States.UUID()", "{}");
    assert_ne!(a, b);
    let text = a.trim_matches('"');
    assert_eq!(text.len(), 36);
    assert_eq!(text.as_bytes()[14], b'4');
    assert!(matches!(text.as_bytes()[19], b'8' | b'9' | b'a' | b'b'));
    assert!(intrinsic_failure("States.UUID(1)", "{}").contains("expects 0"));
}

#[test]
fn fuzz_parse_never_panics() {
    const PIECES: &[&str] = &[
        "States.", "Format", "Array", "MathAdd", "StringSplit", "(", ")", ",", " ", "'", "\\", "{", "}", "$", "$$", ".a",
        "[0]", "1", "-", ".", "null", "true", "x", "é", "States.Array(", "'a'", "$.b[?(@.c)]",
    ];
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let r = roots(r#"{"a":[1,"x"],"b":[{"c":1}]}"#);
    for _ in 0..20_000 {
        let mut text = String::new();
        for _ in 0..(next() % 14) {
            text.push_str(PIECES[(next() % PIECES.len() as u64) as usize]);
        }
        if let Ok(call) = Intrinsic::parse(&text) {
            let _ = call.eval(&r, "f.$");
        }
    }
}

/// Recorded AWS cases: a single Pass state whose `Parameters` map keys ending in `.$` to
/// paths or intrinsics, with no other data-flow fields. Each expression is evaluated here and
/// compared with AWS's output (values with placeholders are skipped).
#[test]
fn recorded_aws_pass_parameters() {
    let dir = std::env::var("EXPRESSWAY_CONFORMANCE_DIR")
        .unwrap_or_else(|_| format!("{}/../shared/conformance/cases", env!("CARGO_MANIFEST_DIR")));
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("NOTICE: conformance cases not found at {dir}; set EXPRESSWAY_CONFORMANCE_DIR to run this test");
        return;
    };
    let (mut checked, mut failures) = (0usize, Vec::new());
    for entry in entries.flatten() {
        let Ok(text) = std::fs::read_to_string(entry.path()) else { continue };
        let Ok(case) = serde_json::from_str::<serde_json::Value>(&text) else { continue };
        let states = &case["definition"]["States"];
        let Some(states) = states.as_object() else { continue };
        if states.len() != 1 || case["mode"] != "run" {
            continue;
        }
        let Some(state) = states.values().next() else { continue };
        let data_flow = ["InputPath", "OutputPath", "ResultPath", "ResultSelector", "Assign", "QueryLanguage"];
        if state["Type"] != "Pass" || data_flow.iter().any(|k| state.get(*k).is_some()) || case["definition"].get("QueryLanguage").is_some() {
            continue;
        }
        let Some(params) = state["Parameters"].as_object() else { continue };
        let input = parse_str(case["input"].as_str().unwrap_or("{}")).unwrap_or_default();
        let context = Value::object([("Execution", Value::object([("Input", input.clone())]))]);
        let case_roots = TestRoots { input, context };
        let expected = &case["expected"];
        for (key, expr) in params {
            let (Some(out_key), Some(expr)) = (key.strip_suffix(".$"), expr.as_str()) else { continue };
            let got: Result<Value, String> = if is_intrinsic(expr) {
                Intrinsic::parse(expr).map_err(|e| e.to_string()).and_then(|c| c.eval(&case_roots, key).map_err(|e| e.to_string()))
            } else {
                crate::jsonpath::Path::parse(expr)
                    .map_err(|e| e.to_string())
                    .and_then(|p| p.resolve(&case_roots).map_err(|m| m.message))
            };
            let name = entry.file_name().to_string_lossy().to_string();
            if expected["status"] == "SUCCEEDED" {
                let want = &expected["output"][out_key];
                if want.is_null() && expected["output"].get(out_key).is_none() {
                    continue;
                }
                if want.to_string().contains('<') || want.as_str() == Some("RandomNumberGenerated") {
                    continue; // placeholder for a random or account-specific value
                }
                let want = Value::from_serde(want);
                checked += 1;
                match got {
                    Ok(v) if v == want => {}
                    other => failures.push(format!("{name}: {expr} gave {other:?}, AWS gave {want}")),
                }
            } else if expected["error"] == STATES_RUNTIME {
                checked += 1;
                if got.is_ok() {
                    failures.push(format!("{name}: {expr} should fail"));
                }
            }
        }
    }
    println!("checked {checked} recorded expressions");
    assert!(checked >= 80, "too few recorded expressions found ({checked})");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
