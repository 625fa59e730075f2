//! Engine micro-benchmarks on the standard workloads in `../shared/bench` (or
//! `$EXPRESSWAY_BENCH_DIR`): compile time, one in-process execution of each workflow, and the
//! JSON boundary (parse, serialise) alone, so a regression shows where it comes from.
//!
//! Run: `cargo bench --bench engine`. Throughput on 1 and 2 worker threads is
//! `benches/throughput.rs`; latency under load is `expressway-loadtest` (`loadtest/`).

mod common;

use std::sync::Arc;

use common::{engine_with_annotate, read};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use expressway::asl::StateMachineType;
use expressway::machine::StateMachine;
use expressway::runtime::{run_execution, StartOptions};
use expressway::value::parse_str;

/// A 100-state chain of Pass states with Parameters and ResultPath, for compile time.
fn hundred_states() -> String {
    let mut states = Vec::new();
    for i in 0..100 {
        let next = if i == 99 { "\"End\": true".to_string() } else { format!("\"Next\": \"S{}\"", i + 1) };
        states.push(format!(
            "\"S{i}\": {{\"Type\": \"Pass\", \"Parameters\": {{\"v.$\": \"$.v\", \"n\": {i}, \"f.$\": \"States.Format('{{}}', $.v)\"}}, \"ResultPath\": \"$.r{i}\", {next}}}"
        ));
    }
    format!("{{\"StartAt\": \"S0\", \"States\": {{{}}}}}", states.join(","))
}

fn benches(c: &mut Criterion) {
    let chain = read("chain.asl.json");
    let big = hundred_states();
    c.bench_function("compile/chain", |b| b.iter(|| StateMachine::new("chain", black_box(&chain), StateMachineType::Express).unwrap()));
    c.bench_function("compile/100-states", |b| b.iter(|| StateMachine::new("big", black_box(&big), StateMachineType::Express).unwrap()));

    let event = read("event.json");
    let event_branchy = read("event-branchy.json");
    c.bench_function("json/parse-event", |b| b.iter(|| parse_str(black_box(&event)).unwrap()));
    c.bench_function("json/parse-event-branchy", |b| b.iter(|| parse_str(black_box(&event_branchy)).unwrap()));
    let parsed = parse_str(&event).unwrap();
    c.bench_function("json/serialise-event", |b| b.iter(|| black_box(&parsed).to_json()));

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let engine = engine_with_annotate();
    let twin = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/benches/workflows/chain-jsonata.asl.json")).unwrap();
    for (name, input) in [("chain", &event), ("chain-jsonata", &event), ("branchy", &event_branchy), ("task", &event)] {
        let text = if name == "chain-jsonata" { twin.clone() } else { read(&format!("{name}.asl.json")) };
        let machine = StateMachine::new(name, &text, StateMachineType::Express).unwrap();
        let input = parse_str(input).unwrap();
        let opts = StartOptions { name: Some("bench".into()), ..StartOptions::new(name) };
        c.bench_function(&format!("execute/{name}"), |b| {
            b.iter(|| rt.block_on(run_execution(&engine, Arc::clone(&machine.program), input.clone(), &opts)))
        });
        // The other half of the boundary: the execution's output leaving as JSON text.
        let output = rt.block_on(run_execution(&engine, Arc::clone(&machine.program), input.clone(), &opts)).output.unwrap();
        c.bench_function(&format!("json/serialise-output-{name}"), |b| b.iter(|| black_box(&output).to_json()));
    }
}

criterion_group!(engine, benches);
criterion_main!(engine);
