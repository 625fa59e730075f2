//! bytes = definition text, NUL, input JSON → validate, compile, run on a paused current-thread
//! runtime (poll-capped, see `common/run.rs`). Seed with `corpus/execution/` from the bench and
//! conformance definitions (see README).
#![no_main]
#[path = "../common/run.rs"]
mod run;

use std::sync::{Arc, OnceLock};

use expressway::asl::StateMachineType;
use expressway::machine::StateMachine;
use expressway::runtime::{Engine, ExecutionStatus};
use expressway::value::{self, Value};
use libfuzzer_sys::fuzz_target;

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(run::engine)
}

fuzz_target!(|data: &[u8]| {
    let (def, input) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"{}"[..]),
    };
    let Ok(def) = std::str::from_utf8(def) else { return };
    let Ok(sm) = StateMachine::new("fuzz", def, StateMachineType::Express) else { return };
    let input = value::parse(input).unwrap_or(Value::Null);
    if let Some(out) = run::run(engine(), Arc::clone(&sm.program), input) {
        if out.status == ExecutionStatus::Succeeded {
            assert!(out.output.is_some());
        }
        if out.status == ExecutionStatus::Failed && !def.contains("\"Fail\"") {
            assert!(out.error.as_deref().is_some_and(|e| !e.is_empty()), "FAILED without an error");
        }
    }
});
