//! In-process throughput on tokio's multi-thread runtime with 1 and 2 worker threads: many
//! executions in flight at once, reported as executions per second (criterion
//! `Throughput::Elements`). Workloads are the standard ones in `../shared/bench` (or
//! `$EXPRESSWAY_BENCH_DIR`); inputs are parsed once, as an SDK caller hands the engine a value.
//!
//! Run: `cargo bench --bench throughput` (briefly: `-- --warm-up-time 1 --measurement-time 3`).
//! The JSON boundary is measured apart in `benches/engine.rs` (`json/*`), and the whole path
//! with parsing, serialising and latency percentiles by `expressway-loadtest`.

mod common;

use std::sync::Arc;

use common::{engine_with_annotate, read};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use expressway::asl::StateMachineType;
use expressway::machine::StateMachine;
use expressway::program::Program;
use expressway::runtime::{Engine, ExecutionStatus, StartOptions};
use expressway::value::{parse_str, Value};

/// Executions per measured iteration, spread over `TASKS_PER_THREAD` tasks per worker thread.
const EXECUTIONS: usize = 4_096;
const TASKS_PER_THREAD: usize = 8;

/// Runs `EXECUTIONS` executions through `Engine::start_sync` as `tasks` tasks, each draining its
/// share back to back (the way ingestion hands batches to workers); every execution must succeed.
async fn run_many(engine: Arc<Engine>, program: Arc<Program>, input: Value, opts: Arc<StartOptions>, tasks: usize) {
    let per_task = EXECUTIONS / tasks;
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (engine, program, input, opts) = (Arc::clone(&engine), Arc::clone(&program), input.clone(), Arc::clone(&opts));
            tokio::spawn(async move {
                for _ in 0..per_task {
                    let outcome = engine.start_sync(&program, input.clone(), (*opts).clone()).await;
                    assert_eq!(outcome.map(|o| o.status), Ok(ExecutionStatus::Succeeded));
                }
            })
        })
        .collect();
    for h in handles {
        h.await.expect("benchmark task");
    }
}

fn throughput(c: &mut Criterion) {
    let engine = Arc::new(engine_with_annotate());
    let mut group = c.benchmark_group("throughput");
    group.throughput(Throughput::Elements(EXECUTIONS as u64));
    // Each sample is thousands of executions: 20 samples are plenty and keep a run short.
    group.sample_size(20);
    for threads in [1, 2] {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build().unwrap();
        for (name, event) in [("chain", "event.json"), ("branchy", "event-branchy.json"), ("task", "event.json")] {
            let machine = StateMachine::new(name, &read(&format!("{name}.asl.json")), StateMachineType::Express).unwrap();
            let input = parse_str(&read(event)).unwrap();
            let opts = Arc::new(StartOptions::for_machine(&engine, name));
            group.bench_with_input(BenchmarkId::new(name, format!("{threads}-thread")), &threads, |b, &threads| {
                b.iter(|| {
                    rt.block_on(run_many(Arc::clone(&engine), Arc::clone(&machine.program), input.clone(), Arc::clone(&opts), threads * TASKS_PER_THREAD))
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, throughput);
criterion_main!(benches);
