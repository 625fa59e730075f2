//! Command-line interface. Exit codes: 0 success, 1 an execution FAILED/TIMED_OUT or a
//! definition is invalid (`validate`), 2 usage errors, unreadable files, invalid definitions or
//! input given to `run`.

mod bus_cmd;
mod compile_cmd;
mod input;
mod match_cmd;
mod run;
mod task_args;
mod test_cmd;
mod test_state_cmd;
mod serve;
mod validate_cmd;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use expressway::asl::StateMachineType;

#[derive(Parser)]
#[command(name = "expressway", version, about = "Run AWS Step Functions Express workflows (Amazon States Language) in memory", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum MachineType {
    Standard,
    Express,
}

impl From<MachineType> for StateMachineType {
    fn from(t: MachineType) -> StateMachineType {
        match t {
            MachineType::Standard => StateMachineType::Standard,
            MachineType::Express => StateMachineType::Express,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run a state machine on one input (or one per stdin line with --ndjson) and print the result as JSON.
    Run(run::RunArgs),
    /// Check definitions as AWS's ValidateStateMachineDefinition does.
    Validate {
        /// Definition files (ASL JSON).
        #[arg(required = true)]
        definitions: Vec<PathBuf>,
        /// State machine type to validate for.
        #[arg(long = "type", value_enum, default_value = "standard", ignore_case = true)]
        machine_type: MachineType,
        /// Print ValidateStateMachineDefinition's response shape instead of readable text.
        #[arg(long)]
        json: bool,
    },
    /// Run the test cases of a Step Functions Local mock file, check them against expected results, and report coverage.
    Test(test_cmd::TestArgs),
    /// Print the compiled program of a definition (for debugging and snapshot tests).
    Compile {
        definition: PathBuf,
    },
    /// Test one state as AWS's TestState API does: its output, error, next state and (DEBUG/TRACE) each data-flow stage.
    TestState(test_state_cmd::TestStateArgs),
    /// Serve the AWS Step Functions API (aws CLI, boto3, SDKs) on a local port.
    Serve(serve::ServeArgs),
    /// Filter NDJSON events on stdin through an EventBridge event pattern; matching lines go to stdout unchanged.
    Match(match_cmd::MatchArgs),
}

pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Test(args) => test_cmd::test(args),
        Command::Validate { definitions, machine_type, json } => validate_cmd::validate(&definitions, machine_type.into(), json),
        Command::Compile { definition } => compile_cmd::compile(&definition),
        Command::TestState(args) => test_state_cmd::test_state_cmd(args),
        Command::Serve(args) => serve::serve(args),
        Command::Match(args) => match_cmd::run(args),
    }
}

/// The runtime `run` and `run --bus` drive executions on: a paused single-threaded one under
/// `--virtual-time` (waits take no real time), else tokio's multi-threaded scheduler. `None`
/// (after saying why on stderr) if it cannot be started.
fn execution_runtime(virtual_time: bool) -> Option<tokio::runtime::Runtime> {
    let built = if virtual_time {
        tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build()
    } else {
        tokio::runtime::Builder::new_multi_thread().enable_all().build()
    };
    built.map_err(|e| eprintln!("error: cannot start the runtime: {e}")).ok()
}
