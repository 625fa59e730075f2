//! Local commands as Task resources: `"Resource": "exec:NAME"` runs the command configured
//! for NAME (`--exec-config FILE`, format in `docs/TASKS.md`), writes the Task input as JSON
//! on its stdin, and takes the JSON it prints on stdout as the result.
//!
//! Outcomes:
//! - exit 0: stdout parsed as JSON (only whitespace: `null`); not JSON → `Exec.InvalidOutput`.
//! - non-zero exit: if the last non-empty stderr line is a JSON object with a string `error`
//!   (and optionally `cause`), that error; else `Exec.ExitCode.N` with stderr (last 4 KiB) as
//!   cause. Killed by a signal: `Exec.Signal.N`.
//! - `timeoutSeconds` passed, or the Task's own `TimeoutSeconds`: `States.Timeout`; the child is
//!   killed either way (it is killed whenever its future is dropped).
//! - stdout over 256 KiB: `States.DataLimitExceeded`; the command cannot start:
//!   `Exec.SpawnFailed`.
//!
//! Everything runs on tokio's process support: no thread is blocked per command.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::client::RealTime;
use super::{TaskHandler, TaskRequest};
use crate::error::{AslError, STATES_DATA_LIMIT_EXCEEDED, STATES_TIMEOUT};
use crate::value::{parse, Value};
use crate::vm::io::PAYLOAD_LIMIT_BYTES;

/// The resource prefix.
pub const PREFIX: &str = "exec:";

/// Stderr kept for a failure's cause.
const STDERR_TAIL: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum ExecConfigError {
    #[error("cannot read the exec config {path}: {message}")]
    Read { path: String, message: String },
    #[error("the exec config {path} is not valid: {message}")]
    Invalid { path: String, message: String },
}

/// One configured command.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CommandSpec {
    /// Program and arguments; the program is looked up on PATH unless it contains a `/`.
    pub argv: Vec<String>,
    /// Kill the command and fail with `States.Timeout` after this long.
    #[serde(default)]
    pub timeout_seconds: Option<f64>,
    /// Variables added to (or replacing) the inherited environment.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Working directory; relative paths are relative to the config file.
    #[serde(default)]
    pub cwd: Option<PathBuf>,
}

/// The whole config file: `{"commands": {NAME: CommandSpec}}`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExecConfig {
    pub commands: BTreeMap<String, CommandSpec>,
}

impl ExecConfig {
    pub fn load(path: &Path) -> Result<ExecConfig, ExecConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ExecConfigError::Read { path: path.display().to_string(), message: e.to_string() })?;
        let mut config = ExecConfig::parse(&text)
            .map_err(|message| ExecConfigError::Invalid { path: path.display().to_string(), message })?;
        let base = path.parent().unwrap_or(Path::new("."));
        for spec in config.commands.values_mut() {
            if let Some(cwd) = &spec.cwd {
                spec.cwd = Some(base.join(cwd));
            }
        }
        Ok(config)
    }

    pub fn parse(text: &str) -> Result<ExecConfig, String> {
        let config: ExecConfig = serde_json::from_str(text).map_err(|e| e.to_string())?;
        for (name, spec) in &config.commands {
            if spec.argv.first().is_none_or(String::is_empty) {
                return Err(format!("commands.{name}.argv must name a program"));
            }
            if spec.timeout_seconds.is_some_and(|t| !(t > 0.0 && t.is_finite())) {
                return Err(format!("commands.{name}.timeoutSeconds must be a positive number"));
            }
        }
        Ok(config)
    }
}

/// Runs `exec:NAME` resources.
pub struct ExecHandler {
    config: Arc<ExecConfig>,
    virtual_time: bool,
}

impl ExecHandler {
    /// `virtual_time`: commands are awaited from a paused current-thread runtime.
    pub fn new(config: ExecConfig, virtual_time: bool) -> ExecHandler {
        ExecHandler { config: Arc::new(config), virtual_time }
    }
}

impl TaskHandler for ExecHandler {
    fn invoke(&self, request: TaskRequest) -> BoxFuture<'static, Result<Value, AslError>> {
        let config = Arc::clone(&self.config);
        let virtual_time = self.virtual_time;
        Box::pin(async move {
            let name = request.resource.strip_prefix(PREFIX).unwrap_or(&request.resource);
            let Some(spec) = config.commands.get(name) else {
                let known: Vec<&str> = config.commands.keys().map(String::as_str).collect();
                return Err(AslError::runtime(format!(
                    "The resource '{}' names no command of the exec config (it has: {}).",
                    request.resource,
                    if known.is_empty() { "none".to_string() } else { known.join(", ") }
                )));
            };
            let _real_time = RealTime::enter(virtual_time);
            let run = run_command(name, spec, request.input.to_json().into_bytes());
            match spec.timeout_seconds {
                Some(s) => tokio::time::timeout(Duration::from_secs_f64(s), run).await.unwrap_or_else(|_| {
                    Err(AslError::new(STATES_TIMEOUT, format!("The command '{name}' did not finish within {s} seconds.")))
                }),
                None => run.await,
            }
        })
    }
}

async fn run_command(name: &str, spec: &CommandSpec, input: Vec<u8>) -> Result<Value, AslError> {
    let mut command = tokio::process::Command::new(&spec.argv[0]);
    command
        .args(&spec.argv[1..])
        .envs(&spec.env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(cwd) = &spec.cwd {
        command.current_dir(cwd);
    }
    let mut child = command
        .spawn()
        .map_err(|e| AslError::new("Exec.SpawnFailed", format!("The command '{name}' ({}) could not start: {e}", spec.argv[0])))?;
    let (Some(mut stdin), Some(stdout), Some(mut stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take()) else {
        return Err(AslError::new("Exec.SpawnFailed", format!("The command '{name}' started without its pipes.")));
    };
    // Feed stdin while draining stdout and stderr, so a chatty command never blocks on a full pipe.
    let write = async move {
        // A command that exits without reading its input closes the pipe; that is its business.
        let _ = stdin.write_all(&input).await;
        drop(stdin);
    };
    let read_out = async move {
        let mut out = Vec::new();
        let mut limited = stdout.take(PAYLOAD_LIMIT_BYTES as u64 + 1);
        limited.read_to_end(&mut out).await.map(|_| out)
    };
    let read_err = async move {
        let mut err = Vec::new();
        stderr.read_to_end(&mut err).await.map(|_| err)
    };
    let ((), out, err) = tokio::join!(write, read_out, read_err);
    let io_error = |e: std::io::Error| AslError::new("Exec.SpawnFailed", format!("Reading the output of '{name}' failed: {e}"));
    let (out, err) = (out.map_err(io_error)?, err.map_err(io_error)?);
    if out.len() > PAYLOAD_LIMIT_BYTES {
        return Err(AslError::new(
            STATES_DATA_LIMIT_EXCEEDED,
            format!("The state/task 'exec:{name}' returned a result with a size exceeding the maximum number of bytes service limit."),
        ));
    }
    let status = child.wait().await.map_err(|e| AslError::new("Exec.SpawnFailed", format!("Waiting for '{name}' failed: {e}")))?;
    if !status.success() {
        return Err(failure(status, &err));
    }
    if out.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    parse(&out).map_err(|e| {
        let text = String::from_utf8_lossy(&out);
        let shown: String = text.chars().take(200).collect();
        AslError::new(
            "Exec.InvalidOutput",
            format!("The command '{name}' printed output that is not JSON ({e}): {shown}{}", if text.len() > shown.len() { "…" } else { "" }),
        )
    })
}

/// The error for a command that did not exit 0.
fn failure(status: std::process::ExitStatus, stderr: &[u8]) -> AslError {
    let text = String::from_utf8_lossy(stderr);
    if let Some(line) = text.lines().rev().find(|l| !l.trim().is_empty()) {
        if let Ok(json) = parse(line.trim().as_bytes()) {
            if let Some(error) = json.get("error").and_then(Value::as_str) {
                let cause = json.get("cause").map(|c| c.as_str().map(str::to_string).unwrap_or_else(|| c.to_json()));
                return AslError { error: Some(error.into()), cause: cause.map(Into::into), needs_state_prefix: false };
            }
        }
    }
    let error = match status.code() {
        Some(code) => format!("Exec.ExitCode.{code}"),
        None => signal_name(status),
    };
    let trimmed = text.trim_end();
    let start = trimmed.len().saturating_sub(STDERR_TAIL);
    let start = (start..trimmed.len()).find(|i| trimmed.is_char_boundary(*i)).unwrap_or(trimmed.len());
    AslError::new(error, &trimmed[start..])
}

#[cfg(unix)]
fn signal_name(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    format!("Exec.Signal.{}", status.signal().unwrap_or(0))
}

#[cfg(not(unix))]
fn signal_name(_: std::process::ExitStatus) -> String {
    "Exec.Signal.0".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_rejects_empty_argv_and_bad_timeouts() {
        assert!(ExecConfig::parse(r#"{"commands": {"a": {"argv": ["cat"], "timeoutSeconds": 2, "env": {"K": "V"}}}}"#).is_ok());
        assert!(ExecConfig::parse(r#"{"commands": {"a": {"argv": []}}}"#).is_err());
        assert!(ExecConfig::parse(r#"{"commands": {"a": {"argv": ["cat"], "timeoutSeconds": 0}}}"#).is_err());
        assert!(ExecConfig::parse(r#"{"commands": {"a": {"argv": ["cat"], "timeout": 1}}}"#).is_err());
        assert!(ExecConfig::parse(r#"{"cmds": {}}"#).is_err());
    }
}
