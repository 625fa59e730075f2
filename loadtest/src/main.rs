//! The `expressway-loadtest` command: run a scenario, show progress, write the reports.
//!
//! Exit status: 0 when the run completed (errors in the load are results, reported, unless
//! `--fail-on-errors`), 1 with `--fail-on-errors` when any request failed, 2 when the scenario
//! or the command line is wrong, or a report cannot be written.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use expressway_loadtest::runner::{self, Progress};
use expressway_loadtest::scenario::{parse_duration_secs, Overrides, Scenario, TargetKind};
use expressway_loadtest::template::{RenderContext, Rng};

// The allocator `expressway` ships with: in-process runs measure the engine as users run it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "expressway-loadtest", version, about = "Load generator and harness for Expressway", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario file (TOML; see loadtest/scenarios/) and write JSON and HTML reports.
    Run(Box<RunArgs>),
    /// Print events a scenario would send, one per line, to check its template.
    Sample {
        scenario: PathBuf,
        /// How many events to print.
        #[arg(short = 'n', long, default_value_t = 5)]
        count: u64,
    },
}

#[derive(Args)]
#[command(after_help = "Examples:
  expressway-loadtest run loadtest/scenarios/chain-constant.toml --rate 20000 --duration 1m
  expressway-loadtest run loadtest/scenarios/chain-burst.toml --threads 2 --plain
  expressway-loadtest run loadtest/scenarios/chain-http-sync.toml --url http://127.0.0.1:8083/ --server-pid 4242

Exit status: 0 when the run completed, 1 with --fail-on-errors when any request failed,
2 for a bad scenario or argument. Scenario format, event templates and targets: loadtest/README.md")]
struct RunArgs {
    /// The scenario file.
    scenario: PathBuf,
    #[command(flatten)]
    overrides: OverrideArgs,
    /// Folder for the reports (`NAME.json`, `NAME.html`).
    #[arg(long, default_value = "loadtest-reports")]
    out: PathBuf,
    /// Write the JSON report here instead (`-` for stdout).
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the HTML report here instead.
    #[arg(long)]
    html: Option<PathBuf>,
    /// No progress line.
    #[arg(long, short)]
    quiet: bool,
    /// Progress as plain lines even on a terminal.
    #[arg(long, conflicts_with = "quiet")]
    plain: bool,
    /// Exit with status 1 when any request failed.
    #[arg(long)]
    fail_on_errors: bool,
}

#[derive(Args)]
struct OverrideArgs {
    /// Run length: `30`, `30s`, `500ms`, `2m`.
    #[arg(long, value_parser = duration_arg)]
    duration: Option<f64>,
    /// Warm-up before the measured run, at the base rate, not counted: `2s`, `0` for none.
    #[arg(long, value_parser = warmup_arg)]
    warmup: Option<f64>,
    /// Open-loop base rate in events/s (a ramp keeps its shape and ends at this rate).
    #[arg(long)]
    rate: Option<f64>,
    /// Switch to closed loop with this many concurrent clients.
    #[arg(long)]
    clients: Option<usize>,
    /// Tokio worker threads (in-process: the engine's threads; HTTP: the client's).
    #[arg(long)]
    threads: Option<usize>,
    /// HTTP connections (open loop: requests in flight at most).
    #[arg(long)]
    connections: Option<usize>,
    /// In-process open loop: executions in flight at most.
    #[arg(long)]
    max_in_flight: Option<usize>,
    /// Target: in-process, start-sync, start, put-events, ndjson.
    #[arg(long, value_parser = target_arg)]
    target: Option<TargetKind>,
    /// Server URL for HTTP targets, e.g. http://127.0.0.1:8083/.
    #[arg(long)]
    url: Option<String>,
    /// State machine ARN for start-sync and start.
    #[arg(long)]
    state_machine_arn: Option<String>,
    /// Events per request (put-events: up to 10; ndjson: lines per POST).
    #[arg(long)]
    batch: Option<usize>,
    /// Pid of the server, to sample its memory and CPU in HTTP runs.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Seed for the template's random fields (repeatable runs).
    #[arg(long)]
    seed: Option<u64>,
}

fn duration_arg(s: &str) -> Result<f64, String> {
    parse_duration_secs(s).ok_or_else(|| format!("`{s}` is not a duration (e.g. 30s, 500ms, 2m)"))
}

fn warmup_arg(s: &str) -> Result<f64, String> {
    if s.trim() == "0" {
        return Ok(0.0);
    }
    duration_arg(s)
}

fn target_arg(s: &str) -> Result<TargetKind, String> {
    TargetKind::parse(s).ok_or_else(|| format!("`{s}` is not a target (in-process, start-sync, start, put-events, ndjson)"))
}

impl From<OverrideArgs> for Overrides {
    fn from(a: OverrideArgs) -> Overrides {
        Overrides {
            duration_secs: a.duration,
            warmup_secs: a.warmup,
            rate: a.rate,
            clients: a.clients,
            threads: a.threads,
            connections: a.connections,
            max_in_flight: a.max_in_flight,
            target: a.target,
            url: a.url,
            state_machine_arn: a.state_machine_arn,
            batch: a.batch,
            server_pid: a.server_pid,
            seed: a.seed,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(*args),
        Command::Sample { scenario, count } => sample(&scenario, count).map(|()| ExitCode::SUCCESS),
    };
    result.unwrap_or_else(|e| {
        eprintln!("expressway-loadtest: {e:#}");
        ExitCode::from(2)
    })
}

fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let (scenario, dir) = Scenario::load(&args.scenario)?;
    let plan = scenario.plan(&dir, &args.overrides.into())?;
    let threads = plan.threads.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build().context("starting the runtime")?;
    let progress = if args.quiet {
        Progress::Off
    } else if args.plain {
        Progress::Lines
    } else {
        Progress::Auto
    };
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let report = runtime.block_on(runner::run(&plan, progress, interrupt));

    let json_path = args.json.unwrap_or_else(|| args.out.join(format!("{}.json", plan.name)));
    let html_path = args.html.unwrap_or_else(|| args.out.join(format!("{}.html", plan.name)));
    let json = report.to_json();
    if json_path.as_os_str() == "-" {
        println!("{json}");
    } else {
        write_file(&json_path, &json)?;
    }
    write_file(&html_path, &expressway_loadtest::report::render_html(&report))?;
    eprint!("{}", report.summary());
    if json_path.as_os_str() != "-" {
        eprintln!("reports: {} {}", json_path.display(), html_path.display());
    }
    Ok(if args.fail_on_errors && !report.errors.is_empty() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn write_file(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn sample(path: &std::path::Path, count: u64) -> anyhow::Result<()> {
    let (scenario, dir) = Scenario::load(path)?;
    let plan = scenario.plan(&dir, &Overrides::default())?;
    let mut rng = Rng::new(plan.seed);
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    for seq in 0..count {
        let mut out = String::new();
        plan.source.render(&mut rng, RenderContext { seq, now_ms }, &mut out);
        println!("{out}");
    }
    Ok(())
}
