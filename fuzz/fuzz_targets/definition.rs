//! bytes → `StateMachine::new` (validate + compile), both types.
#![no_main]
use expressway::asl::StateMachineType;
use expressway::machine::StateMachine;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = StateMachine::new("fuzz", text, StateMachineType::Express);
    let _ = StateMachine::new("fuzz", text, StateMachineType::Standard);
    let _ = expressway::compile::compile_str(text);
});
