//! `expressway serve`: the Step Functions API on a local port (see `expressway::server`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use expressway::server::logging::LogSink;
use expressway::server::{RingLimits, Server, ServerConfig, ServerState};
use expressway::tasks::{MockConfig, Resources};

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on. Clients use it as their endpoint: `aws --endpoint-url http://127.0.0.1:8083 stepfunctions …`.
    #[arg(long, default_value = "127.0.0.1:8083")]
    bind: SocketAddr,
    /// Create an EXPRESS state machine from every `NAME.asl.json` file in this folder at start (named NAME).
    #[arg(long, value_name = "DIR")]
    preload: Option<PathBuf>,
    /// EventBridge rules file (the `run --bus` format) loaded at start: its state machines are created (EXPRESS), then its buses, rules and targets.
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// Largest `POST /events` (NDJSON ingestion) request body, in bytes.
    #[arg(long, default_value_t = expressway::server::eventbridge::MAX_INGEST_BYTES)]
    max_ingest_bytes: usize,
    /// Step Functions Local mock file; start executions with `stateMachineArn#TestCase` to use one of its test cases (also read from SFN_MOCK_CONFIG).
    #[arg(long, env = "SFN_MOCK_CONFIG", value_name = "FILE")]
    mock_config: Option<PathBuf>,
    /// Mock test case for executions whose ARN has no #TestCase suffix (on the state machines the mock file has it for).
    #[arg(long, requires = "mock_config", value_name = "NAME")]
    test_case: Option<String>,
    /// Executions running at once, at most; further starts answer ThrottlingException (HTTP 400).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    max_in_flight: u64,
    /// Finished executions (Express included) kept for DescribeExecution, ListExecutions and GetExecutionHistory; 0 keeps none.
    #[arg(long, default_value_t = 10_000)]
    history_ring: usize,
    /// Upper bound, in bytes (estimated), on what the ring of finished executions holds; the oldest go first.
    #[arg(long, default_value_t = 256 * 1024 * 1024)]
    history_ring_bytes: usize,
    /// Write execution log records (state machines with a loggingConfiguration level other than OFF) to this file, as NDJSON, instead of stdout.
    #[arg(long, value_name = "FILE")]
    log_file: Option<PathBuf>,
    /// On SIGTERM/SIGINT, seconds to wait for executions in flight before stopping them (the default outlasts the 5-minute Express limit, so none is lost).
    #[arg(long, default_value_t = 305)]
    grace_period: u64,
    /// Region in the ARNs the server makes.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// Account id in the ARNs the server makes (12 digits).
    #[arg(long, default_value = "123456789012", value_parser = parse_account)]
    account: String,
    /// Worker threads of the runtime (default: one per core).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    workers: Option<u64>,
}

fn parse_account(s: &str) -> Result<String, String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_string())
    } else {
        Err("an account id is 12 digits".into())
    }
}

pub fn serve(args: ServeArgs) -> i32 {
    let mocks = match &args.mock_config {
        Some(path) => match MockConfig::load(path) {
            Ok(m) => Some(m),
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        },
        None => None,
    };
    let logs = match &args.log_file {
        Some(path) => match std::fs::OpenOptions::new().create(true).append(true).open(path) {
            Ok(f) => LogSink::new(Box::new(f)),
            Err(e) => {
                eprintln!("error: cannot open the log file {}: {e}", path.display());
                return 2;
            }
        },
        None => LogSink::stdout(),
    };
    let config = ServerConfig {
        bind: args.bind,
        region: args.region.clone(),
        account: args.account.clone(),
        max_in_flight: args.max_in_flight as usize,
        ring: RingLimits { max_count: args.history_ring, max_bytes: args.history_ring_bytes },
        grace_period: Duration::from_secs(args.grace_period),
        preload: args.preload.clone(),
        max_ingest_bytes: args.max_ingest_bytes,
        ..ServerConfig::default()
    };
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if let Some(n) = args.workers {
        builder.worker_threads(n as usize);
    }
    let runtime = match builder.build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return 2;
        }
    };
    runtime.block_on(async move {
        let state = ServerState::new(&config, Resources::default(), mocks, logs).with_default_test_case(args.test_case.clone());
        let preload = config.preload.clone();
        let server = match Server::bind(config, state).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: cannot listen on {}: {e}", args.bind);
                return 2;
            }
        };
        // Definitions compile after the socket is bound: clients that connect meanwhile wait
        // in the backlog instead of being refused.
        if let Some(dir) = preload {
            match server.state().preload(&dir) {
                Ok(names) => eprintln!("expressway serve: preloaded {} state machine(s) from {}", names.len(), dir.display()),
                Err(e) => {
                    eprintln!("error: {e}");
                    return 2;
                }
            }
        }
        if let Some(path) = &args.rules {
            match server.state().load_rules(path) {
                Ok(n) => eprintln!("expressway serve: loaded {n} rule(s) from {}", path.display()),
                Err(e) => {
                    eprintln!("error: {}: {e}", path.display());
                    return 2;
                }
            }
        }
        let shutdown = shutdown_signal();
        match server.local_addr() {
            Ok(addr) => eprintln!("expressway serve: listening on http://{addr}"),
            Err(e) => eprintln!("expressway serve: listening (address unknown: {e})"),
        }
        let report = server.run(shutdown).await;
        for arn in &report.aborted {
            eprintln!("expressway serve: stopped at shutdown (grace period over): {arn}");
        }
        eprintln!("expressway serve: shut down");
        0
    })
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM. The handlers are installed when this is called, not
/// when the future is first polled: a SIGTERM sent right after "listening" must not kill the
/// process before the server runs.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = int.recv() => {}
                        _ = term.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
