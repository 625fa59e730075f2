//! Reading definitions and execution input, with AWS's error names in the messages.

use std::io::Read;
use std::path::Path;

use expressway::value::{self, Value};

/// AWS's limit on an execution's input.
pub const MAX_INPUT_BYTES: usize = 262_144;

pub fn read_file(path: &Path, what: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read the {what} file {}: {e}", path.display()))
}

/// Parses execution input as StartExecution does: valid JSON within 256 KiB, else
/// `InvalidExecutionInput`.
pub fn parse_execution_input(text: &str) -> Result<Value, (String, String)> {
    if text.len() > MAX_INPUT_BYTES {
        return Err((
            "InvalidExecutionInput".into(),
            format!("The input is {} bytes, over the limit of {MAX_INPUT_BYTES} bytes.", text.len()),
        ));
    }
    let trimmed = text.trim();
    let text = if trimmed.is_empty() { "{}" } else { trimmed };
    value::parse_str(text).map_err(|e| ("InvalidExecutionInput".into(), format!("Invalid execution input: {e}")))
}

/// Reads all of stdin.
pub fn read_stdin() -> Result<String, String> {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s).map_err(|e| format!("cannot read standard input: {e}"))?;
    Ok(s)
}
