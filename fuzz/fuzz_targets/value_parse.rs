//! bytes → `value::parse`; anything that parses must round-trip through `to_json` (structurally;
//! floats may move by an ULP, see `floats_parse_exactly` in tests/no_panic.rs).
#![no_main]
use expressway::value::{self, Value};
use libfuzzer_sys::fuzz_target;

fn shape(v: &Value) -> String {
    match v {
        Value::Number(_) => "n".into(),
        Value::Array(a) => format!("[{}]", a.iter().map(shape).collect::<Vec<_>>().join(",")),
        Value::Object(o) => format!("{{{}}}", o.iter().map(|(k, v)| format!("{k:?}:{}", shape(v))).collect::<Vec<_>>().join(",")),
        other => other.to_json(),
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = value::parse(data) {
        let text = v.to_json();
        let again = value::parse_str(&text).expect("to_json output must parse");
        assert_eq!(shape(&again), shape(&v));
        let _ = v.to_json_pretty();
        let _ = v.to_serde();
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = expressway::timestamp::Timestamp::parse(text).map(|t| t.format_iso());
        let _ = expressway::tasks::MockConfig::parse(text);
    }
});
