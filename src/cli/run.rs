//! `expressway run DEF`: one execution (input from `--input`, `--input-file` or stdin), or with
//! `--ndjson` one execution per stdin line, run concurrently, results written in input order.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use futures_util::stream::{FuturesOrdered, StreamExt};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

use expressway::asl::StateMachineType;
use expressway::machine::StateMachine;
use expressway::runtime::{run_execution, Engine, EngineConfig, ExecutionOutcome, StartOptions};
use expressway::tasks::MockConfig;
use expressway::timestamp::{format_iso, write_iso};
use expressway::value::{write_string, Str, Value};

use super::input::{parse_execution_input, read_file, read_stdin};
use super::task_args::IntegrationArgs;
use super::MachineType;

#[derive(Args)]
pub struct RunArgs {
    /// The state machine definition (ASL JSON file).
    #[arg(required_unless_present = "bus")]
    definition: Option<PathBuf>,
    /// Feed NDJSON events on stdin into the event buses and rules of RULES_FILE instead: each
    /// matching rule's targets get the event, state machine targets start executions, and one
    /// result line per execution is written (see docs/EVENTS.md).
    #[arg(long, value_name = "RULES_FILE", conflicts_with_all = ["definition", "input", "input_file", "ndjson", "mock_config", "name"])]
    bus: Option<PathBuf>,
    /// Execution input as JSON text.
    #[arg(long, conflicts_with_all = ["input_file", "ndjson"])]
    input: Option<String>,
    /// Read the execution input from a file.
    #[arg(long, conflicts_with = "ndjson")]
    input_file: Option<PathBuf>,
    /// Read one event per stdin line; run an execution for each; write one result line per event, in input order.
    #[arg(long)]
    ndjson: bool,
    /// Executions in flight at once with --ndjson (the reader waits when this many are running).
    #[arg(long, default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1..))]
    max_in_flight: u32,
    /// Make Wait states, retry back-off and timeouts take no real time; timestamps still move as if they did.
    #[arg(long)]
    virtual_time: bool,
    /// Step Functions Local mock file (also read from SFN_MOCK_CONFIG).
    #[arg(long, env = "SFN_MOCK_CONFIG")]
    mock_config: Option<PathBuf>,
    /// The mock file's test case to use.
    #[arg(long, requires = "mock_config")]
    test_case: Option<String>,
    /// Execution name (default: a UUID).
    #[arg(long)]
    name: Option<String>,
    /// State machine name for ARNs and mock lookups (default: the file name without extensions).
    #[arg(long)]
    state_machine_name: Option<String>,
    /// STANDARD or EXPRESS; both run with Express's 5-minute limit.
    #[arg(long = "type", value_enum, default_value = "express", ignore_case = true)]
    machine_type: MachineType,
    /// Start as StartExecution (asynchronous) does rather than StartSyncExecution: only
    /// identity details differ (e.g. `$$.Execution.RedriveCount` is present).
    #[arg(long)]
    async_start: bool,
    /// Include the execution's history events in the output.
    #[arg(long)]
    history: bool,
    /// Pretty-print the result.
    #[arg(long)]
    pretty: bool,
    #[command(flatten)]
    integrations: IntegrationArgs,
}

/// A request refused (bad definition or input; `test-state` also uses it): a REJECTED result
/// on stdout, the reason on stderr, exit code 2.
pub(super) fn reject(error: &str, cause: &str) -> i32 {
    let v = Value::object([("status", Value::from("REJECTED")), ("error", Value::from(error)), ("cause", Value::from(cause))]);
    println!("{v}");
    eprintln!("{error}: {cause}");
    2
}

pub fn run(args: RunArgs) -> i32 {
    if let Some(rules) = &args.bus {
        return match args.integrations.resources(args.virtual_time) {
            Ok(resources) => super::bus_cmd::run(rules, resources, args.virtual_time, args.max_in_flight as usize, args.history),
            Err(e) => {
                eprintln!("error: {e}");
                2
            }
        };
    }
    let Some(definition) = args.definition.clone() else {
        eprintln!("error: a definition file is required");
        return 2;
    };
    let text = match read_file(&definition, "definition") {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let sm_name = args
        .state_machine_name
        .clone()
        .unwrap_or_else(|| super::compile_cmd::machine_name(&definition));
    let kind: StateMachineType = args.machine_type.into();
    let machine = match StateMachine::new(&sm_name, &text, kind) {
        Ok(m) => m,
        Err(e) => return reject(e.aws_type(), &e.message),
    };
    let mut resources = match args.integrations.resources(args.virtual_time) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    if let Some(path) = &args.mock_config {
        let config = match MockConfig::load(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        };
        match &args.test_case {
            Some(case) => match config.test_case(&sm_name, case) {
                Ok(tc) => resources.set_mock(tc),
                Err(e) => {
                    eprintln!("error: {e}");
                    return 2;
                }
            },
            None => {
                let cases: Vec<String> = config.test_cases().into_iter().map(|(sm, c)| format!("{sm}/{c}")).collect();
                eprintln!("error: a mock file needs --test-case NAME (the file has: {})", cases.join(", "));
                return 2;
            }
        }
    }
    let config = EngineConfig { record_history: args.history, virtual_time: args.virtual_time, ..EngineConfig::default() };
    let engine = Engine::new(config, resources);
    let mut opts = StartOptions::new(&sm_name);
    opts.express = kind == StateMachineType::Express;
    opts.sync = opts.express && !args.async_start;
    opts.name = args.name.as_deref().map(Str::from);

    let Some(runtime) = super::execution_runtime(args.virtual_time) else { return 2 };
    if args.ndjson {
        return runtime.block_on(run_ndjson(engine, machine, opts, &args));
    }

    let input_text = match (&args.input, &args.input_file) {
        (Some(t), _) => t.clone(),
        (None, Some(p)) => match read_file(p, "input") {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        },
        (None, None) if std::io::stdin().is_terminal() => "{}".to_string(),
        (None, None) => match read_stdin() {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        },
    };
    let input = match parse_execution_input(&input_text) {
        Ok(v) => v,
        Err((error, cause)) => return reject(&error, &cause),
    };
    let outcome = runtime.block_on(run_execution(&engine, Arc::clone(&machine.program), input, &opts));
    let json = outcome_json(&outcome, args.history);
    println!("{}", if args.pretty { json.to_json_pretty() } else { json.to_json() });
    match outcome.status {
        expressway::runtime::ExecutionStatus::Succeeded => 0,
        _ => 1,
    }
}

/// Events a batch holds at most: lines already read from standard input go to one task
/// together, so a burst costs one spawn per batch, not per event; a trickle is never held back
/// waiting for a batch to fill.
const NDJSON_BATCH: usize = 64;

async fn run_ndjson(engine: Engine, machine: StateMachine, opts: StartOptions, args: &RunArgs) -> i32 {
    let engine = Arc::new(engine);
    let opts = Arc::new(opts);
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut out = tokio::io::BufWriter::new(tokio::io::stdout());
    // Batches in input order, each with the number of events it holds.
    let mut pending = FuturesOrdered::new();
    let mut in_flight = 0usize;
    let limit = (args.max_in_flight as usize).max(1);
    let history = args.history;
    let mut line_no = 0u64;
    let mut input_done = false;
    loop {
        // Read while there is room; otherwise (or at end of input) write the next batch.
        if !input_done && in_flight < limit {
            let mut batch: Vec<(u64, String)> = Vec::new();
            loop {
                match lines.next_line().await {
                    Ok(Some(line)) => {
                        line_no += 1;
                        if !line.trim().is_empty() {
                            batch.push((line_no, line));
                        }
                    }
                    Ok(None) => input_done = true,
                    Err(e) => {
                        eprintln!("error: reading standard input: {e}");
                        input_done = true;
                    }
                }
                let more_buffered = lines.get_ref().buffer().contains(&b'\n');
                if input_done || !more_buffered || batch.len() >= NDJSON_BATCH || in_flight + batch.len() >= limit {
                    break;
                }
            }
            if !batch.is_empty() {
                in_flight += batch.len();
                let (engine, program, opts) = (Arc::clone(&engine), Arc::clone(&machine.program), Arc::clone(&opts));
                let size = batch.len();
                pending.push_back(async move {
                    let results = tokio::spawn(run_batch(engine, program, opts, batch, history)).await;
                    (size, results)
                });
                continue;
            }
        }
        match pending.next().await {
            Some((size, results)) => {
                in_flight -= size;
                let values = results.unwrap_or_else(|e| {
                    vec![Value::object([
                        ("status", Value::from("FAILED")),
                        ("error", Value::from("States.Runtime")),
                        ("cause", Value::from(format!("Internal engine error: {e}"))),
                    ])]
                });
                let mut text = String::new();
                for value in values {
                    text.push_str(&value.to_json());
                    text.push('\n');
                }
                if let Err(e) = out.write_all(text.as_bytes()).await {
                    eprintln!("error: writing standard output: {e}");
                    return 2;
                }
            }
            None if input_done => break,
            None => {}
        }
    }
    if let Err(e) = out.flush().await {
        eprintln!("error: writing standard output: {e}");
        return 2;
    }
    0
}

/// Runs one batch of NDJSON events inside one task: executions that never suspend finish on
/// their first poll; the others wait side by side. Results come back in input order.
async fn run_batch(engine: Arc<Engine>, program: Arc<expressway::program::Program>, opts: Arc<StartOptions>, batch: Vec<(u64, String)>, history: bool) -> Vec<Value> {
    let runs = batch.into_iter().map(|(line_no, line)| {
        let (engine, program, opts) = (&engine, &program, &opts);
        async move {
            let input = match parse_execution_input(&line) {
                Ok(input) => input,
                Err((error, cause)) => {
                    return Value::object([
                        ("status", Value::from("REJECTED")),
                        ("error", Value::from(error)),
                        ("cause", Value::from(cause)),
                        ("line", Value::from(line_no as i64)),
                    ])
                }
            };
            let mut opts = (**opts).clone();
            if let Some(name) = &opts.name {
                // One name per line: the given name plus the line number keeps them unique.
                opts.name = Some(Str::from(format!("{name}-{line_no}")));
            }
            match engine.start_sync(program, input, opts).await {
                Ok(outcome) => outcome_json(&outcome, history),
                Err(e) => Value::object([
                    ("status", Value::from("REJECTED")),
                    ("error", Value::from(e.aws_type())),
                    ("cause", Value::from(e.to_string())),
                    ("line", Value::from(line_no as i64)),
                ]),
            }
        }
    });
    runs.collect::<FuturesOrdered<_>>().collect().await
}

/// The result object `run` prints.
pub fn outcome_json(o: &ExecutionOutcome, with_history: bool) -> Value {
    let id = &o.identity;
    let mut fields: Vec<(&str, Value)> = vec![
        ("executionArn", Value::String(id.execution_arn.clone())),
        ("stateMachineArn", Value::String(id.state_machine_arn.clone())),
        ("name", Value::String(id.name.clone())),
        ("startDate", Value::from(format_iso(id.start_ms))),
        ("stopDate", Value::from(format_iso(o.stop_ms))),
        ("status", Value::from(o.status.as_str())),
    ];
    if let Some(out) = &o.output {
        fields.push(("output", out.clone()));
    }
    if let Some(e) = &o.error {
        fields.push(("error", Value::String(e.clone())));
    }
    if let Some(c) = &o.cause {
        fields.push(("cause", Value::String(c.clone())));
    }
    if with_history {
        let events = o
            .history
            .iter()
            .map(|e| {
                let mut f = vec![
                    ("id", Value::from(e.id as i64)),
                    ("type", Value::from(e.kind.as_ref())),
                    ("timestamp", Value::from(format_iso(e.timestamp_ms))),
                ];
                if let Some(d) = &e.details {
                    f.push(("details", d.clone()));
                }
                Value::object(f)
            })
            .collect();
        fields.push(("history", Value::array(events)));
    }
    Value::object(fields)
}

/// Appends `outcome_json(o, with_history).to_json()`, with the `extra` string fields added at the
/// end, to `out`, without building the object: a busy sidecar writes one such line per
/// execution, and the value tree, its serialisation and the two dates cost as much as a small
/// execution. Byte-identical to the value's text (a test pins that).
pub fn write_outcome_json(o: &ExecutionOutcome, with_history: bool, extra: &[(&str, &str)], out: &mut String) {
    let id = &o.identity;
    out.push_str("{\"executionArn\":");
    write_string(&id.execution_arn, out);
    out.push_str(",\"stateMachineArn\":");
    write_string(&id.state_machine_arn, out);
    out.push_str(",\"name\":");
    write_string(&id.name, out);
    out.push_str(",\"startDate\":\"");
    write_iso(id.start_ms, out);
    out.push_str("\",\"stopDate\":\"");
    write_iso(o.stop_ms, out);
    out.push_str("\",\"status\":\"");
    out.push_str(o.status.as_str());
    out.push('"');
    if let Some(output) = &o.output {
        out.push_str(",\"output\":");
        output.write_json(out);
    }
    if let Some(e) = &o.error {
        out.push_str(",\"error\":");
        write_string(e, out);
    }
    if let Some(c) = &o.cause {
        out.push_str(",\"cause\":");
        write_string(c, out);
    }
    if with_history {
        // Histories are for debugging: they take the general path.
        if let Some(history) = outcome_json(o, true).get("history") {
            out.push_str(",\"history\":");
            history.write_json(out);
        }
    }
    for (key, text) in extra {
        out.push(',');
        write_string(key, out);
        out.push(':');
        write_string(text, out);
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use expressway::runtime::ExecutionStatus;
    use expressway::vm::{ExecutionIdentity, HistoryEvent};

    fn outcome(status: ExecutionStatus, output: Option<Value>, error: Option<&str>, cause: Option<&str>) -> ExecutionOutcome {
        ExecutionOutcome {
            identity: ExecutionIdentity {
                execution_arn: Str::from("arn:aws:states:us-east-1:123456789012:express:m:\"quoted\":x"),
                name: Str::from("n\u{e9}\n"),
                state_machine_arn: Str::from("arn:aws:states:us-east-1:123456789012:stateMachine:m"),
                state_machine_name: Str::from("m"),
                role_arn: Str::from("r"),
                start_ms: 1_513_968_228_007,
                redrive_count: None,
            },
            input: Value::Null,
            status,
            output,
            error: error.map(Str::from),
            cause: cause.map(Str::from),
            stop_ms: 1_513_968_229_120,
            history: vec![HistoryEvent {
                id: 1,
                kind: "ExecutionStarted".into(),
                timestamp_ms: 1_513_968_228_007,
                state: None,
                details: Some(Value::object([("input", Value::from("{}"))])),
            }],
        }
    }

    #[test]
    fn the_written_line_is_the_values_text() {
        let output = expressway::value::parse_str(r#"{"t":21.7,"n":[1,-2,1.0E10,"\u0001"],"s":"\"/\\"}"#).unwrap();
        let cases = [
            outcome(ExecutionStatus::Succeeded, Some(output), None, None),
            outcome(ExecutionStatus::Failed, None, Some("States.TaskFailed"), Some("it \"failed\"\t")),
            outcome(ExecutionStatus::TimedOut, None, Some("States.Timeout"), None),
        ];
        let extra = [("rule", "r\"1"), ("target", "t"), ("eventId", "e")];
        for o in &cases {
            for history in [false, true] {
                let mut expected = outcome_json(o, history);
                if let Some(map) = expected.as_object_mut() {
                    for (k, v) in extra {
                        map.insert(k.into(), Value::from(v));
                    }
                }
                let mut out = String::from("previous line\n");
                write_outcome_json(o, history, &extra, &mut out);
                assert_eq!(out, format!("previous line\n{}", expected.to_json()));
            }
        }
    }
}
