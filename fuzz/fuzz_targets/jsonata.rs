//! bytes = expression text, NUL, JSON input → `jsonata::Expression::parse`, then evaluate it with
//! the input as `$` and as `$states.input`, under small limits (depth 500, 200 ms) so runaway
//! expressions end as `U1001` errors instead of timing the fuzzer out.
#![no_main]
use expressway::jsonata::{Expression, Limits};
use expressway::value::{self, Value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (expr, input) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &br#"{"a":[1,2,{"b":"x"}],"c":"text","n":-2.5}"#[..]),
    };
    let Ok(expr) = std::str::from_utf8(expr) else { return };
    let Ok(expression) = Expression::parse(expr) else { return };
    let input = value::parse(input).unwrap_or(Value::Null);
    let states = Value::object([("input", input.clone())]);
    let bindings = |name: &str| (name == "states").then(|| states.clone());
    let _ = expression.evaluate_with_limits(Some(&input), &bindings, Limits { max_depth: 500, timeout_ms: 200 });
});
