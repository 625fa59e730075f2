//! The other EventBridge texts users control: an NDJSON ingestion line (`events::ingest`),
//! a schedule expression, and an input transformer (template, path, event), split by NULs.
#![no_main]
use expressway::events::ingest::entry_from_line;
use expressway::events::schedule::Schedule;
use expressway::events::transform::{DeliveryContext, InputTransformer, TargetInput};
use expressway::value;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut parts = text.split('\0');
    let first = parts.next().unwrap_or("");
    let _ = entry_from_line(first);
    if let Ok(schedule) = Schedule::parse(first, 1_700_000_000_000) {
        let mut t = 1_700_000_000_000;
        for _ in 0..3 {
            match schedule.next_after(t) {
                Some(next) => {
                    assert!(next > t, "{first:?}: next {next} is not after {t}");
                    t = next;
                }
                None => break,
            }
        }
    }
    let path = parts.next().unwrap_or("$.detail");
    let event = value::parse(parts.next().unwrap_or("{}").as_bytes()).unwrap_or(value::Value::Null);
    let ctx = DeliveryContext { rule_arn: "arn:aws:events:us-east-1:123456789012:rule/r", rule_name: "r", ingestion_time: "2026-01-01T00:00:00Z" };
    if let Ok(transformer) = InputTransformer::new([("v", path)], first) {
        let _ = transformer.render(&event, &ctx);
    }
    for input in [TargetInput::constant(first), TargetInput::path(path)].into_iter().flatten() {
        let _ = input.render(&event, &ctx).into_json();
    }
});
