//! `expressway validate DEF…`: AWS's diagnostics, readable or as ValidateStateMachineDefinition's
//! response (`{"result": "OK"|"FAIL", "diagnostics": [...], "truncated": false}`).

use std::path::PathBuf;

use expressway::asl::{validate as validate_definition, Severity, StateMachineType};

pub fn validate(paths: &[PathBuf], kind: StateMachineType, json: bool) -> i32 {
    let mut any_error = false;
    for path in paths {
        let text = match super::input::read_file(path, "definition") {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        };
        let diagnostics = validate_definition(&text, kind);
        let failed = diagnostics.iter().any(|d| d.severity == Severity::Error);
        any_error |= failed;
        if json {
            let body = serde_json::json!({
                "result": if failed { "FAIL" } else { "OK" },
                "diagnostics": diagnostics,
                "truncated": false,
            });
            println!("{body}");
        } else if diagnostics.is_empty() {
            println!("{}: OK", path.display());
        } else {
            println!("{}: {}", path.display(), if failed { "FAIL" } else { "OK (with warnings)" });
            for d in &diagnostics {
                let sev = match d.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                };
                match &d.location {
                    Some(loc) => println!("  {sev}: {} at {loc}: {}", d.code, d.message),
                    None => println!("  {sev}: {}: {}", d.code, d.message),
                }
            }
        }
    }
    i32::from(any_error)
}
