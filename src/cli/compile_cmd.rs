//! `expressway compile DEF`: the compiled program, readably.

use std::path::Path;

use expressway::asl::StateMachineType;
use expressway::machine::StateMachine;

pub fn compile(path: &Path) -> i32 {
    let text = match super::input::read_file(path, "definition") {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    match StateMachine::new(&machine_name(path), &text, StateMachineType::Standard) {
        Ok(sm) => {
            print!("{}", sm.program);
            0
        }
        Err(e) => {
            eprintln!("InvalidDefinition: {e}");
            2
        }
    }
}

/// A state machine name from a file name: `examples/hello.asl.json` → `hello`.
pub fn machine_name(path: &Path) -> String {
    let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("StateMachine");
    let stem = file.split('.').next().unwrap_or(file);
    if stem.is_empty() { "StateMachine".into() } else { stem.to_string() }
}
