//! Parallel branches and Map iterations: run as joined futures of the parent execution, results
//! in branch/item order, the first failure cancelling the rest (unless a Map tolerates it).
//! Distributed Map iterations are child executions with their own identity and history.

use std::sync::Arc;

use futures_util::stream::{self, StreamExt};

use crate::error::{AslError, STATES_EXCEED_TOLERATED_FAILURE_THRESHOLD};
use crate::program::{BlockId, MapMode, Program, StateId};
use crate::value::{Str, Value};
use crate::vm::{ExecShared, ExecutionIdentity, Frame, MapRun};

use super::execution::run_block;
use super::Engine;

pub(super) async fn run_parallel(
    program: &Arc<Program>,
    branches: &[BlockId],
    input: Value,
    vars: &Arc<Frame>,
    exec: &Arc<ExecShared>,
    engine: &Engine,
) -> Result<Vec<Value>, AslError> {
    let futures = branches.iter().map(|&b| run_block(program, b, input.clone(), Frame::child(vars), exec, engine));
    futures_util::future::try_join_all(futures).await
}

pub(super) async fn run_map(
    program: &Arc<Program>,
    state: StateId,
    mut run: MapRun,
    exec: &Arc<ExecShared>,
    engine: &Engine,
) -> Result<Vec<Value>, AslError> {
    let state_name = program.state(state).name.clone();
    let total = run.inputs.len();
    let limit = match run.max_concurrency {
        0 if engine.config.default_map_concurrency > 0 => engine.config.default_map_concurrency,
        0 => total.max(1),
        n => n,
    };
    let distributed = run.mode == MapMode::Distributed;
    if distributed {
        exec.event("MapRunStarted", Some(&state_name), || None);
    }
    let inputs = std::mem::take(&mut run.inputs);
    let iterations = stream::iter(inputs.into_iter().enumerate())
        .map(|(index, input)| {
            let state_name = state_name.clone();
            let processor = run.processor;
            let vars = Frame::child(&run.vars);
            async move {
                if distributed {
                    run_child_execution(program, processor, input, exec, engine, index).await
                } else {
                    exec.event("MapIterationStarted", Some(&state_name), || Some(Value::object([("index", Value::from(index as i64))])));
                    let r = run_block(program, processor, input, vars, exec, engine).await;
                    let kind = if r.is_ok() { "MapIterationSucceeded" } else { "MapIterationFailed" };
                    exec.event(kind, Some(&state_name), || Some(Value::object([("index", Value::from(index as i64))])));
                    r
                }
            }
        })
        .buffered(limit);
    futures_util::pin_mut!(iterations);

    let tolerant = distributed || run.tolerates_failures();
    let mut results = Vec::with_capacity(total);
    let mut failed = 0usize;
    while let Some(r) = iterations.next().await {
        match r {
            Ok(v) => results.push(v),
            Err(e) if !tolerant => return Err(e),
            Err(e) => {
                failed += 1;
                if run.exceeds_tolerance(failed, total) {
                    if distributed {
                        exec.event("MapRunFailed", Some(&state_name), || None);
                    }
                    return Err(AslError::new(
                        STATES_EXCEED_TOLERATED_FAILURE_THRESHOLD,
                        "The specified tolerated failure threshold was exceeded",
                    ));
                }
                results.push(e.to_error_output());
            }
        }
    }
    if distributed {
        exec.event("MapRunSucceeded", Some(&state_name), || None);
    }
    Ok(results)
}

/// A Distributed Map iteration: a child execution of the processor with its own identity,
/// event numbering and context object, as AWS runs them.
async fn run_child_execution(
    program: &Arc<Program>,
    processor: BlockId,
    input: Value,
    parent: &Arc<ExecShared>,
    engine: &Engine,
    index: usize,
) -> Result<Value, AslError> {
    let p = &parent.identity;
    let name = Str::from(format!("{}-{index}", crate::ids::uuid_v4()));
    let identity = ExecutionIdentity {
        execution_arn: Str::from(format!("{}/{}:{name}", p.execution_arn, "map-run")),
        name,
        state_machine_arn: p.state_machine_arn.clone(),
        state_machine_name: p.state_machine_name.clone(),
        role_arn: p.role_arn.clone(),
        start_ms: parent.clock.now_ms(),
        redrive_count: Some(0),
    };
    let child = ExecShared::new(identity, input.clone(), parent.clock, parent.records_history());
    child.event("ExecutionStarted", None, || None);
    // Distributed iterations cannot read the parent's variables (AWS).
    run_block(program, processor, input, Frame::root(), &child, engine).await
}
