use super::*;
use crate::value::{parse_str, Number};

fn json(text: &str) -> Value {
    parse_str(text).unwrap()
}

fn no_bindings(_: &str) -> Option<Value> {
    None
}

/// Evaluates `expr` with `$states` = `{"input": <input>}`.
fn eval_states(expr: &str, input: &str) -> Result<Option<Value>, JsonataError> {
    let states = json(&format!(r#"{{"input": {input}}}"#));
    let lookup = move |name: &str| (name == "states").then(|| states.clone());
    Expression::parse(expr)?.evaluate(None, &lookup)
}

fn eval(expr: &str) -> Result<Option<Value>, JsonataError> {
    Expression::parse(expr)?.evaluate(None, &no_bindings)
}

fn text(expr: &str) -> String {
    match eval(expr) {
        Ok(Some(v)) => v.to_json(),
        Ok(None) => "undefined".into(),
        Err(e) => format!("error {e}"),
    }
}

fn code(expr: &str) -> String {
    match eval(expr) {
        Err(e) => e.code,
        Ok(v) => panic!("{expr}: expected an error, got {v:?}"),
    }
}

#[test]
fn expression_is_send_and_sync() {
    fn check<T: Send + Sync + 'static>() {}
    check::<Expression>();
    check::<JsonataError>();
}

// ---- numbers -------------------------------------------------------------------------------

#[test]
fn integral_results_come_back_as_integers() {
    let v = eval_states("$states.input.x * 1.5", r#"{"x": 2}"#).unwrap().unwrap();
    assert!(matches!(v.as_number(), Some(Number::Int(3))), "{v:?}");
    assert_eq!(v.to_json(), "3");
    let v = eval_states("$states.input.x * 1.5", r#"{"x": 3}"#).unwrap().unwrap();
    assert!(matches!(v.as_number(), Some(Number::Float(f)) if f == 4.5));
    assert_eq!(text("1 / 4"), "0.25");
    assert_eq!(text("2.0"), "2");
    assert_eq!(text("-0"), "0");
    // 2^53 is still exact; beyond it numbers stay doubles.
    assert_eq!(text("9007199254740992"), "9007199254740992");
    assert!(matches!(
        eval("9007199254740994").unwrap().unwrap().as_number(),
        Some(Number::Float(_))
    ));
    // Input integers round-trip.
    assert_eq!(eval_states("$states.input", "[1, 2.5, -7]").unwrap().unwrap().to_json(), "[1,2.5,-7]");
}

#[test]
fn objects_keep_order_and_drop_undefined_fields() {
    assert_eq!(text(r#"{"b": 1, "a": 2, "c": $nothing}"#), r#"{"b":1,"a":2}"#);
    assert_eq!(text("[1, $nothing, 3]"), "[1,3]");
}

#[test]
fn function_results_are_unsupported() {
    let e = eval("function($x){$x}").unwrap_err();
    assert_eq!(e.code, UNSUPPORTED_RESULT);
    let e = eval("$fn := function($x){$x}").unwrap_err();
    assert_eq!(e.code, UNSUPPORTED_RESULT);
}

// ---- input and bindings --------------------------------------------------------------------

#[test]
fn input_and_bindings() {
    assert_eq!(eval_states("$states.input.a + 1", r#"{"a": 41}"#).unwrap().unwrap().to_json(), "42");
    assert_eq!(eval_states("$states.input.missing", "{}").unwrap(), None);
    // `$` is the input when there is one, undefined when there is none.
    let e = Expression::parse("$.a").unwrap();
    assert_eq!(e.evaluate(Some(&json(r#"{"a": "x"}"#)), &no_bindings).unwrap().unwrap().to_json(), r#""x""#);
    assert_eq!(e.evaluate(None, &no_bindings).unwrap(), None);
    assert_eq!(text("1 + 1"), "2");
    // Workflow variables by name, without `$`; a missing one is undefined.
    let e = Expression::parse("$count & '-' & $name").unwrap();
    let lookup = |n: &str| match n {
        "count" => Some(Value::Number(Number::Int(3))),
        "name" => Some(Value::string("run")),
        _ => None,
    };
    assert_eq!(e.evaluate(None, &lookup).unwrap().unwrap().to_json(), r#""3-run""#);
    assert_eq!(eval("$undefinedVariable").unwrap(), None);
    // Only referenced names are asked for.
    let asked = std::cell::RefCell::new(Vec::new());
    let lookup = |n: &str| {
        asked.borrow_mut().push(n.to_string());
        None
    };
    Expression::parse("$a + $b").unwrap().evaluate(None, &lookup).unwrap();
    assert_eq!(*asked.borrow(), ["a", "b"]);
}

#[test]
fn local_bindings_do_not_leak_between_evaluations() {
    let e = Expression::parse("($x := $x ? $x + 1 : 1; $x)").unwrap();
    for _ in 0..3 {
        assert_eq!(e.evaluate(None, &no_bindings).unwrap().unwrap().to_json(), "1");
    }
}

// ---- names ---------------------------------------------------------------------------------

#[test]
fn free_variables_ignore_locals_builtins_strings_and_comments() {
    let e = Expression::parse(
        "/* $commented */ $states.input.a & '$quoted' & \"$dq\" & `$field` & $x \
         & ($y := 1; $y) & $map([1], function($v) { $v }) & $string(1) & $map([2], $string) \
         & $states.context",
    )
    .unwrap();
    assert_eq!(e.free_variables(), ["states", "x"]);
    assert_eq!(e.called_functions(), ["map", "string"]);
    let e = Expression::parse("items@$i#$n.[$i, $n, $$, $]").unwrap();
    assert!(e.free_variables().is_empty(), "{:?}", e.free_variables());
    let e = Expression::parse("($f := function($a){ $a }; $f(1) + $undefinedFn(2))").unwrap();
    assert!(e.free_variables().is_empty());
    assert_eq!(e.called_functions(), ["f", "undefinedFn"]);
    assert_eq!(Expression::parse("$eval('1')").unwrap().called_functions(), ["eval"]);
}

#[test]
fn states_fields_are_the_static_steps_after_states() {
    let fields = |text: &str| Expression::parse(text).unwrap().states_fields();
    assert_eq!(fields("$states.result.a & $states.input & $states.result"), ["result", "input"]);
    // Inside sub-expressions, function arguments, lambdas, predicates and object constructors.
    assert_eq!(fields("$map([1], function($v) { $v + $states.errorOutput.x })"), ["errorOutput"]);
    assert_eq!(fields("{'a': $count($states.input[$states.result > 1])}"), ["input", "result"]);
    assert_eq!(fields("$states.`result`"), ["result"]);
    // Dynamic access names no field; a `$states` bound inside the expression is another value.
    assert!(fields("$states").is_empty());
    assert!(fields("$lookup($states, 'result') & $states.*").is_empty());
    assert!(fields("($states := {'result': 1}; $states.result)").is_empty());
    assert!(fields("$x.result & states.result & 'x'.result").is_empty());
}

/// The cases floci measured on AWS with ValidateStateMachineDefinition (issue #2670, PR #2699):
/// each expression as the `Output` of a one-state Pass machine.
#[test]
fn top_level_references_follow_the_cases_measured_on_aws() {
    let refs = |text: &str| Expression::parse(text).unwrap().top_level_references();
    let phone = [TopLevelReference::Field("phone".into())];
    for refused in [
        "phone", "phone[0].number", "phone.number.street", "-phone", "phone ? 1 : 2", "$states.input.a ? phone : 2",
        "phone & 'x'", "phone in $states.input.b", "$sum(phone)", "phone(1)", "phone ~> $string()", "[1..phone]",
        "(phone)", "(phone).other", "[phone].other", "[phone, 1]", "{phone: 1}", "($x := phone; $x)",
        "$map($states.input.a, function($y){ phone })", "$count(phone[inner])", "phone.**.deeper",
    ] {
        assert_eq!(refs(refused), phone, "{refused}");
    }
    for accepted in [
        "$states.input.phone", "$states.input.a.phone", "$states.input.a[0].phone", "$states.input.a.phone[0]",
        "$states.input.items[phone > 3]", "$states.input.a^(phone)", "$states.input.a{'k': phone}", "$states.input.a.(phone)",
        "$states.input.a.$phone", "$phone", "$states.input.a ~> $string()", "$states.input ~> |phone|{'b': 1}|", "**.phone",
        "{'k': 1}.phone", "$states.input.a[0][phone]", "$states.input.a[$ > 1]", "function($x){ $x.phone }",
        "$map($states.input.a, function($x){ $x.phone })", "'phone'", "1 + 1", "$now()", "$states",
        "$states.input.a.$lowercase(phone)", "[1, 2][$ > 1]",
    ] {
        assert_eq!(refs(accepted), [], "{accepted}");
    }
    for context_item in ["$", "$.phone", "$[0]", "$string($)", "$map($states.input.a, function($x){ $ })"] {
        assert_eq!(refs(context_item), [TopLevelReference::ContextItem], "{context_item}");
    }
    for root in ["$$", "$$.phone"] {
        assert_eq!(refs(root), [TopLevelReference::Root], "{root}");
    }
}

#[test]
fn each_top_level_reference_is_listed_once_in_writing_order() {
    let refs = |text: &str| Expression::parse(text).unwrap().top_level_references();
    let field = |name: &str| TopLevelReference::Field(name.into());
    assert_eq!(refs("aaa + bbb"), [field("aaa"), field("bbb")]);
    assert_eq!(refs("[bbb, aaa]"), [field("bbb"), field("aaa")]);
    assert_eq!(refs("aaa + aaa"), [field("aaa")]);
    assert_eq!(refs("(aaa; bbb)"), [field("aaa"), field("bbb")]);
    assert_eq!(refs("$number(aaa) + $number(bbb)"), [field("aaa"), field("bbb")]);
    assert_eq!(refs("$ & $$ & a & $"), [TopLevelReference::ContextItem, TopLevelReference::Root, field("a")]);
}

// ---- errors --------------------------------------------------------------------------------

#[test]
fn error_codes_and_messages_follow_jsonata_js() {
    // AWS: "... threw an error during evaluation. T1006: Attempted to invoke a non-function"
    // (conformance case test_math_random_seeded).
    let e = eval_states("$randomSeeded($states.input.FunctionInput.fst)", r#"{"FunctionInput": "fst"}"#)
        .unwrap_err();
    assert_eq!(e.to_string(), "T1006: Attempted to invoke a non-function");
    assert_eq!(code("'a' + 1"), "T2001");
    assert_eq!(code("1 + 'a'"), "T2002");
    assert_eq!(code("$sum('a')"), "T0412");
    assert_eq!(code("$substring(1, 'a')"), "T0410");
    assert_eq!(code("$error('boom')"), "D3137");
    assert_eq!(code("$number('x')"), "D3030");
    assert_eq!(Expression::parse("1 +").unwrap_err().code, "S0207");
    assert_eq!(Expression::parse("'open").unwrap_err().code, "S0101");
    assert_eq!(Expression::parse("[1, 2").unwrap_err().code, "S0203");
    assert_eq!(Expression::parse("/* no end").unwrap_err().code, "S0106");
}

#[test]
fn operators_newer_than_2_0_6_do_not_parse() {
    let e = Expression::parse("$a ?? 1").unwrap_err();
    assert_eq!(e.to_string(), "S0211: The symbol ? cannot be used as a unary operator");
    assert_eq!(Expression::parse("$a ?: 1").unwrap_err().code, "S0211");
    assert!(Expression::parse("$a ? 1 : 2").is_ok());
}

#[test]
fn eval_is_refused() {
    let e = eval("$eval('1 + 1')").unwrap_err();
    assert_eq!(e.code, "T1006");
    assert!(e.message.contains("$eval is not supported"), "{e}");
}

#[test]
fn runaway_recursion_and_loops_are_errors() {
    let e = eval("($f := function($n){ $n + $f($n + 1) }; $f(0))").unwrap_err();
    assert_eq!(e.code, "U1001");
    // Tail recursion does not deepen the stack, so the time limit stops it.
    let expr = Expression::parse("($f := function($n){ $f($n + 1) }; $f(0))").unwrap();
    let limits = Limits { timeout_ms: 200, ..Limits::default() };
    let started = std::time::Instant::now();
    let e = expr.evaluate_with_limits(None, &no_bindings, limits).unwrap_err();
    assert_eq!(e.code, "U1001");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // Deeply nested text is a parse error, not a crash.
    let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
    let _ = Expression::parse(&deep);
    let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    let _ = Expression::parse(&deep);
}

// ---- AWS functions -------------------------------------------------------------------------

#[test]
fn partition() {
    assert_eq!(text("$partition([1,2,3,4,5], 2)"), "[[1,2],[3,4],[5]]");
    assert_eq!(text("$partition([1,2,3,4], 2)"), "[[1,2],[3,4]]");
    assert_eq!(text("$partition([1,2,3], 5)"), "[[1,2,3]]");
    assert_eq!(text("$partition([1,2,3,4,5], 2.9)"), "[[1,2],[3,4],[5]]");
    assert_eq!(text("$partition([1,2,3])"), "[[1,2,3]]");
    assert_eq!(text("$partition([], 2)"), "undefined");
    assert_eq!(code("$partition([1,2,3], -1)"), "D3137");
    assert_eq!(text("$partition($nothing, 2)"), "undefined");
    assert_eq!(
        eval_states("$partition($states.input.items, 2)", r#"{"items": ["a","b","c"]}"#).unwrap().unwrap().to_json(),
        r#"[["a","b"],["c"]]"#
    );
}

#[test]
fn range_includes_its_end() {
    assert_eq!(text("$range(0, 10, 2)"), "[0,2,4,6,8,10]");
    assert_eq!(text("$range(1, 4, 1)"), "[1,2,3,4]");
    assert_eq!(text("$range(10, 0, -3)"), "[10,7,4,1]");
    assert_eq!(text("$range(1.7, 3, 1)"), "[1,2,3]");
    assert_eq!(text("$range(3, 3, 1)"), "3");
    assert_eq!(text("$range(5, 1, 1)"), "undefined");
    assert_eq!(text("$range(1, 5, 0)"), "undefined");
    assert_eq!(code("$range('a', 5, 1)"), "T0410");
    assert_eq!(code("$range(0, 1e8, 1)"), "D2014");
    assert_eq!(text("$count($range(-9223372036854775808, 9223372036854775807, 9223372036854775807))"), "3");
}

#[test]
fn hash_algorithms() {
    assert_eq!(text("$hash('Hello', 'MD5')"), r#""8b1a9953c4611296a827abf8c47804d7""#);
    assert_eq!(text("$hash('Hello', 'SHA-1')"), r#""f7ff9e8b7bb2e09b70935a5d785e0cc5d9d0abf0""#);
    assert_eq!(
        text("$hash('Hello', 'SHA-256')"),
        r#""185f8db32271fe25f561a6fc938b2e264306ec304eda518007d1764826381969""#
    );
    assert_eq!(
        text("$hash('Hello', 'SHA-384')"),
        r#""3519fe5ad2c596efe3e276a6f351b8fc0b03db861782490d45f7598ebd0ab5fd5520ed102f38c4a5ec834e98668035fc""#
    );
    assert_eq!(
        text("$hash('Hello', 'SHA-512')"),
        r#""3615f80c9d293ed7402687f94b22d58e529b8cc7916f8fac7fddf7fbd5af4cf777d3d795a7a00a16bf7e7f3fb9561ee9baae480da9fe7a18769e71886b03f315""#
    );
    assert_eq!(text("$hash('ñ', 'MD5')"), r#""94e9342ecbb1458b6043ecd3bfcbc192""#);
    assert_eq!(code("$hash('Hello', 'SHA3-256')"), "D3137");
    assert_eq!(code("$hash(42, 'MD5')"), "T0410");
}

#[test]
fn random_with_and_without_seed() {
    // java.util.Random(seed).nextDouble()
    assert_eq!(text("$random(42)"), "0.7275636800328681");
    assert_eq!(text("$random(0)"), "0.730967787376657");
    assert_eq!(text("$random(0.9)"), text("$random(0)"));
    for _ in 0..20 {
        let v = eval("$random()").unwrap().unwrap().as_f64().unwrap();
        assert!((0.0..1.0).contains(&v));
    }
    assert_eq!(text("$random() = $random()"), "false");
}

#[test]
fn uuid_is_v4() {
    let v = eval("$uuid()").unwrap().unwrap();
    let s = v.as_str().unwrap();
    assert_eq!(s.len(), 36);
    assert_eq!(&s[14..15], "4");
    assert_eq!(text("$uuid() = $uuid()"), "false");
    assert_eq!(code("$uuid('x')"), "T0410");
}

#[test]
fn parse_json() {
    assert_eq!(text(r#"$parse('{"b":1,"a":[1,2.5]}')"#), r#"{"b":1,"a":[1,2.5]}"#);
    assert_eq!(text(r#"$parse('{"a":{"b":true}}').a.b"#), "true");
    assert_eq!(text("$parse('null')"), "null");
    assert_eq!(text("$parse($nothing)"), "undefined");
    assert_eq!(code("$parse('not json')"), "D3137");
    assert_eq!(code("$parse(1)"), "T0410");
}

// ---- robustness ----------------------------------------------------------------------------

mod no_panic {
    use super::*;
    use proptest::prelude::*;

    const ALPHABET: &[&str] = &[
        "$", "$$", "$x", "$states", ".", "[", "]", "(", ")", "{", "}", ",", ":", ";", "?", "*",
        "**", "%", "#", "@", "^", "~>", ":=", "..", "+", "-", "/", "=", "!=", "<", ">", "&",
        "and", "or", "in", "a", "b", "1", "2.5", "'s'", "\"t\"", "`q`", "true", "null",
        "function", "$map", "$string", "$sum", "$partition", "$range", "$hash", "$parse",
        "$random", "$uuid", "$reduce", "$sort", "$match", "/a+/", "|", " ", "\\", "λ", "<n:n>",
        "/*", "*/",
    ];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

        #[test]
        fn random_token_soup_never_panics(tokens in proptest::collection::vec(0..ALPHABET.len(), 0..24)) {
            let text: String = tokens.iter().map(|&i| ALPHABET[i]).collect::<Vec<_>>().join("");
            let input = json(r#"{"a": [1, 2, {"b": "c"}], "b": 3}"#);
            let lookup = |n: &str| (n == "x").then(|| Value::Number(Number::Int(5)));
            if let Ok(e) = Expression::parse(&text) {
                let limits = Limits { max_depth: 500, timeout_ms: 500 };
                let _ = e.evaluate_with_limits(Some(&input), &lookup, limits);
                let _ = e.free_variables();
                let _ = e.called_functions();
            }
        }

        #[test]
        fn random_bytes_never_panic(text in "\\PC{0,40}") {
            if let Ok(e) = Expression::parse(&text) {
                let limits = Limits { max_depth: 500, timeout_ms: 500 };
                let _ = e.evaluate_with_limits(None, &no_bindings, limits);
            }
        }
    }
}
