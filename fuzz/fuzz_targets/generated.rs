//! Structured: bytes drive `common/gen.rs` (an acyclic definition + input) or, with the first
//! byte odd, `common/mutate.rs` over a generated definition. Reaches deep into the interpreter far
//! more often than raw bytes do.
#![no_main]
#[path = "../common/gen.rs"]
mod gen;
#[path = "../common/mutate.rs"]
mod mutate;
#[path = "../common/run.rs"]
mod run;

use std::sync::{Arc, OnceLock};

use expressway::asl::StateMachineType;
use expressway::machine::StateMachine;
use expressway::runtime::Engine;
use expressway::value::Value;
use libfuzzer_sys::fuzz_target;

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(run::engine)
}

fuzz_target!(|data: &[u8]| {
    let mut b = gen::Bytes::new(data);
    let mode = b.u8();
    let mut def = gen::definition(&mut b);
    if mode % 2 == 1 {
        mutate::mutate(&mut def, &mut b);
    }
    let input = Value::from_serde(&gen::input(&mut b));
    let text = def.to_string();
    let Ok(sm) = StateMachine::new("fuzz", &text, StateMachineType::Express) else { return };
    let out = run::run(engine(), Arc::clone(&sm.program), input);
    // Unmutated generated definitions are acyclic: they must finish under the poll cap.
    assert!(out.is_some() || mode % 2 == 1, "acyclic definition hit the poll cap: {text}");
});
