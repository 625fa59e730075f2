//! bytes = call text, NUL, JSON input → `Intrinsic::parse`, then `eval` against the input.
#![no_main]
use expressway::intrinsics::Intrinsic;
use expressway::jsonpath::Roots;
use expressway::value::{self, Value};
use libfuzzer_sys::fuzz_target;

struct R(Value);
impl Roots for R {
    fn input(&self) -> &Value {
        &self.0
    }
    fn context(&self) -> Value {
        Value::object([("Execution", Value::object([("Id", Value::from("arn:x"))]))])
    }
    fn variable(&self, name: &str) -> Option<Value> {
        (name == "v").then(|| self.0.clone())
    }
}

fuzz_target!(|data: &[u8]| {
    let (call, doc) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"{\"a\":\"x,y\",\"n\":3,\"items\":[1,2,2],\"s\":\"aGk=\"}"[..]),
    };
    let Ok(call) = std::str::from_utf8(call) else { return };
    let Ok(i) = Intrinsic::parse(call) else { return };
    let input = value::parse(doc).unwrap_or(Value::Null);
    let _ = i.eval(&R(input), "x.$");
});
