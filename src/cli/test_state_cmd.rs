//! `expressway test-state DEF`: the TestState API on the command line. The definition is a
//! file; the other request fields come as the API's JSON (`--params`) and/or as flags; the
//! state's input from `--input`, `--input-file` or stdin. Prints TestState's response as one
//! JSON line; a refused request prints `{"status":"REJECTED","error":…,"cause":…}`.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use expressway::runtime::Engine;
use expressway::test_state::{test_state, TestExecutionStatus, TestStateError, TestStateRequest};

use super::input::{read_file, read_stdin};
use super::run::reject;

#[derive(Args)]
#[command(after_help = "Exit codes: 0 the state ran (SUCCEEDED, CAUGHT_ERROR or RETRIABLE), 1 it FAILED, 2 the request was refused or a file could not be read.\n\n\
Example:\n  expressway test-state task.json --input '{\"a\":1}' --params '{\"inspectionLevel\":\"DEBUG\",\"mock\":{\"result\":\"{\\\"ok\\\":true}\"}}'")]
pub struct TestStateArgs {
    /// The state's definition (a single state), or a whole state machine with --state-name.
    definition: PathBuf,
    /// Other TestState request fields as the API's JSON: inspectionLevel, stateName, mock
    /// {result | errorOutput, fieldValidationMode}, context, variables, stateConfiguration,
    /// roleArn, revealSecrets, input. Flags given as well take precedence.
    #[arg(long)]
    params: Option<String>,
    /// The state's input as JSON text (default: stdin when it is not a terminal, else {}).
    #[arg(long, conflicts_with = "input_file")]
    input: Option<String>,
    /// Read the state's input from a file.
    #[arg(long)]
    input_file: Option<PathBuf>,
    /// The state to test inside a whole state machine definition.
    #[arg(long)]
    state_name: Option<String>,
    /// INFO (output, status, next state), DEBUG (adds each data-flow stage) or TRACE.
    #[arg(long, ignore_case = true, value_parser = ["INFO", "DEBUG", "TRACE"])]
    inspection_level: Option<String>,
    /// Pretty-print the response.
    #[arg(long)]
    pretty: bool,
}

pub fn test_state_cmd(args: TestStateArgs) -> i32 {
    match build_request(&args) {
        Ok(req) => execute(req, args.pretty),
        Err(Refusal::Usage(message)) => {
            eprintln!("error: {message}");
            2
        }
        Err(Refusal::Api(e)) => reject(e.aws_type(), e.message()),
    }
}

enum Refusal {
    Usage(String),
    Api(TestStateError),
}

fn build_request(args: &TestStateArgs) -> Result<TestStateRequest, Refusal> {
    let definition = read_file(&args.definition, "definition").map_err(Refusal::Usage)?;
    let mut req = match &args.params {
        Some(text) => TestStateRequest::from_json(&with_definition(text, &definition)?).map_err(Refusal::Api)?,
        None => TestStateRequest { definition, ..TestStateRequest::default() },
    };
    if let Some(name) = &args.state_name {
        req.state_name = Some(name.clone());
    }
    if let Some(level) = &args.inspection_level {
        req.inspection_level = Some(level.to_ascii_uppercase());
    }
    let input = match (&args.input, &args.input_file) {
        (Some(text), _) => Some(text.clone()),
        (None, Some(path)) => Some(read_file(path, "input").map_err(Refusal::Usage)?),
        (None, None) if std::io::stdin().is_terminal() => None,
        (None, None) => Some(read_stdin().map_err(Refusal::Usage)?).filter(|t| !t.trim().is_empty()),
    };
    if input.is_some() {
        req.input = input;
    }
    Ok(req)
}

/// The `--params` object with the definition file's text added as `definition`.
fn with_definition(params: &str, definition: &str) -> Result<String, Refusal> {
    let mut value: serde_json::Value =
        serde_json::from_str(params).map_err(|e| Refusal::Usage(format!("--params is not valid JSON: {e}")))?;
    let Some(obj) = value.as_object_mut() else {
        return Err(Refusal::Usage("--params must be a JSON object".into()));
    };
    obj.insert("definition".into(), serde_json::Value::String(definition.to_string()));
    Ok(value.to_string())
}

fn execute(req: TestStateRequest, pretty: bool) -> i32 {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return 2;
        }
    };
    let engine = Engine::default();
    match runtime.block_on(test_state(&engine, req)) {
        Ok(response) => {
            let printed = if pretty { serde_json::to_string_pretty(&response) } else { serde_json::to_string(&response) };
            match printed {
                Ok(text) => println!("{text}"),
                Err(e) => {
                    eprintln!("error: cannot print the response: {e}");
                    return 2;
                }
            }
            if response.status == TestExecutionStatus::Failed {
                1
            } else {
                0
            }
        }
        Err(e) => reject(e.aws_type(), e.message()),
    }
}
