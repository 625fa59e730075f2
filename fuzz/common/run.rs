//! Running a program on a paused current-thread tokio runtime, with a poll cap so that
//! definitions that loop (Choice/Next cycles) cannot hang the harness.
#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use expressway::error::AslError;
use expressway::program::Program;
use expressway::runtime::{run_execution, Engine, EngineConfig, ExecutionOutcome, StartOptions};
use expressway::tasks::{handler_fn, Resources};
use expressway::value::Value;

/// At most this many polls of the execution future (each poll runs up to the VM's transition
/// budget of 1024 transitions, or resumes after one timer/task completion).
pub const POLL_CAP: u32 = 2_000;

struct Capped<'a, T> {
    fut: Pin<Box<dyn Future<Output = T> + 'a>>,
    polls: u32,
}

impl<T> Future for Capped<'_, T> {
    type Output = Option<T>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.polls += 1;
        if self.polls > POLL_CAP {
            return Poll::Ready(None);
        }
        self.fut.as_mut().poll(cx).map(Some)
    }
}

/// An engine whose `arn:aws:lambda:` Tasks echo their input (`…:boom` fails, `…:slow` takes
/// 20 virtual seconds); other resources have no handler and fail with `States.Runtime`.
pub fn engine() -> Engine {
    let mut resources = Resources::default();
    resources.register_prefix(
        "arn:aws:lambda:",
        handler_fn(|req| async move {
            if req.resource.ends_with(":boom") {
                return Err(AslError::new("Custom", "boom"));
            }
            if req.resource.ends_with(":slow") {
                tokio::time::sleep(Duration::from_secs(20)).await;
            }
            Ok(req.input)
        }),
    );
    Engine::new(EngineConfig::default(), resources)
}

/// Runs to the end on a paused runtime; `None` when the poll cap was hit.
pub fn run(engine: &Engine, program: Arc<Program>, input: Value) -> Option<ExecutionOutcome> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
    let opts = StartOptions::new("fuzz");
    rt.block_on(async { Capped { fut: Box::pin(run_execution(engine, program, input, &opts)), polls: 0 }.await })
}
