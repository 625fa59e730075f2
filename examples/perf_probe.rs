//! `perf_probe`: the small measuring tool behind the instruction counts and parked-memory figures
//! in `docs/PERFORMANCE.md`. Criterion (`benches/`) and the load tester (`loadtest/`) give
//! wall-clock figures; this tool gives the two figures that stay steady on a shared machine.
//!
//! ```sh
//! cargo build --release --example perf_probe
//! # instructions per execution: run N executions back to back on one thread, under callgrind,
//! # and subtract a run with N = 0 (start-up and compilation)
//! valgrind --tool=callgrind target/release/examples/perf_probe count chain 10000
//! valgrind --tool=callgrind target/release/examples/perf_probe count chain 0
//! # memory of parked executions: start N executions that wait 60 s, then print the RSS
//! target/release/examples/perf_probe park 1000000
//! ```
//!
//! Workflows and events are read from `../shared/bench/` (`WORKFLOW.asl.json`; `branchy` takes
//! `event-branchy.json`, the others `event.json`), or from `$EXPRESSWAY_BENCH_DIR`.

use std::error::Error;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use expressway::asl::StateMachineType;
use expressway::machine::StateMachine;
use expressway::runtime::{Engine, StartOptions};
use expressway::value::{parse_str, Value};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "usage: perf_probe count WORKFLOW N   |   perf_probe park N";

/// A parked execution: it waits long enough to outlive the measurement.
const PARK_DEFINITION: &str =
    r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"Next":"P"},"P":{"Type":"Pass","End":true}}}"#;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["count", workflow, n] => n.parse().map_err(Into::into).and_then(|n| count(workflow, n)),
        ["park", n] => n.parse().map_err(Into::into).and_then(park),
        _ => Err(USAGE.into()),
    };
    if let Err(e) = result {
        eprintln!("perf_probe: {e}");
        std::process::exit(2);
    }
}

fn bench_dir() -> PathBuf {
    std::env::var_os("EXPRESSWAY_BENCH_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("../shared/bench"))
}

fn read(name: &str) -> Result<String, Box<dyn Error>> {
    let path = bench_dir().join(name);
    std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()).into())
}

fn event_for(workflow: &str) -> Result<Value, Box<dyn Error>> {
    let name = if workflow == "branchy" { "event-branchy.json" } else { "event.json" };
    Ok(parse_str(&read(name)?)?)
}

/// Runs `n` executions of `workflow` back to back on a current-thread runtime.
fn count(workflow: &str, n: u64) -> Result<(), Box<dyn Error>> {
    let machine = StateMachine::new(workflow, &read(&format!("{workflow}.asl.json"))?, StateMachineType::Express)?;
    let input = event_for(workflow)?;
    let engine = Engine::default();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let started = Instant::now();
    runtime.block_on(async {
        let options = StartOptions::for_machine(&engine, workflow);
        for _ in 0..n {
            let outcome = engine.start_sync(&machine.program, input.clone(), options.clone()).await?;
            std::hint::black_box(outcome);
        }
        Ok::<_, Box<dyn Error>>(())
    })?;
    println!("{workflow}: {n} executions in {:?}", started.elapsed());
    Ok(())
}

/// Parks `n` executions in a Wait state on two worker threads and prints the process's RSS.
fn park(n: usize) -> Result<(), Box<dyn Error>> {
    let machine = StateMachine::new("park", PARK_DEFINITION, StateMachineType::Express)?;
    let input = event_for("chain")?;
    let engine = Engine::default();
    println!("before: {}", resident_set()?);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let started = Instant::now();
    runtime.block_on(async {
        let options = StartOptions::for_machine(&engine, "park");
        for i in 0..n {
            engine.start(Arc::clone(&machine.program), input.clone(), options.clone(), |outcome| {
                std::hint::black_box(outcome);
            })?;
            // Let the workers take the new executions to their first Wait as they arrive.
            if i % 65_536 == 0 {
                tokio::task::yield_now().await;
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        Ok::<_, Box<dyn Error>>(())
    })?;
    println!("parked {n} in {:?}: in flight {}, {}", started.elapsed(), engine.in_flight(), resident_set()?);
    Ok(())
}

fn resident_set() -> Result<String, Box<dyn Error>> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status.lines().find(|l| l.starts_with("VmRSS")).ok_or("no VmRSS in /proc/self/status")?;
    Ok(line.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
}
