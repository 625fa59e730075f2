//! Running a [`Plan`]: the load (open or closed loop), with the once-a-second collector and
//! progress in [`collector`].
//!
//! Open loop: one dispatcher walks the schedule and, for each request at its due time, takes a
//! permit (in-process: `max_in_flight`; HTTP: one per connection) and spawns the request. When
//! no permit is free the dispatcher falls behind, and because every latency is measured from
//! the request's *intended* time, the delay is charged to the system (coordinated omission is
//! corrected, not hidden). Closed loop: `clients` tasks, each sending its next request when the
//! previous one is answered; latency is measured from the actual send.
//!
//! Invariants: every dispatched request is either recorded or, if still running when the drain
//! period ends, counted as `unfinished at end`; the collector is the only reader of the
//! recorders, so each result is counted exactly once.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::procfs;
use crate::report::{self, Report};
use crate::scenario::Plan;
use crate::stats::{Outcome, Recorders};
use crate::target::{Client, Target};
use crate::template::{EventSource, RenderContext, Rng};
use crate::traffic::Traffic;

mod collector;
use collector::Collector;

/// How progress is shown on stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// One line rewritten in place on a terminal, plain lines otherwise.
    Auto,
    /// Plain lines, one per second.
    Lines,
    Off,
}

/// How long requests still running at the end of the schedule may take to finish.
const DRAIN: Duration = Duration::from_secs(30);
/// Shards of the result recorders: enough that workers on a few cores rarely meet.
const SHARDS: usize = 8;
/// A request dispatched this much after its due time counts as late in the report.
const LATE: Duration = Duration::from_millis(10);

/// Raised once, by the end of the run or by an interrupt; waiters wake at once.
#[derive(Default)]
struct StopSignal {
    stopped: AtomicBool,
    notify: Notify,
}

impl StopSignal {
    fn trigger(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    fn is_set(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    async fn wait(&self) {
        let notified = self.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if !self.is_set() {
            notified.await;
        }
    }
}

/// What the load side shares with the collector.
struct Shared {
    recorders: Recorders,
    stop: StopSignal,
    dispatched: AtomicU64,
    late: AtomicU64,
    max_lag_ns: AtomicU64,
    unfinished: AtomicU64,
}

impl Shared {
    fn new() -> Arc<Shared> {
        Arc::new(Shared {
            recorders: Recorders::new(SHARDS),
            stop: StopSignal::default(),
            dispatched: AtomicU64::new(0),
            late: AtomicU64::new(0),
            max_lag_ns: AtomicU64::new(0),
            unfinished: AtomicU64::new(0),
        })
    }
}

/// Runs `plan` to its end (or until `interrupt` completes) and returns the report.
pub async fn run(plan: &Plan, progress: Progress, interrupt: impl Future<Output = ()>) -> Report {
    let shared = Shared::new();
    tokio::pin!(interrupt);
    let mut interrupted = false;
    if !plan.warmup.is_zero() {
        // Same target (so the same engine and threads warm up), its own recorders, thrown away.
        if progress != Progress::Off {
            eprintln!("warming up for {:.1}s at the base rate (not counted)", plan.warmup.as_secs_f64());
        }
        let warm = Shared::new();
        let warm_load = tokio::spawn(load(LoadSpec::warmup(plan), Arc::clone(&warm), Instant::now()));
        tokio::pin!(warm_load);
        tokio::select! {
            _ = &mut warm_load => {}
            _ = &mut interrupt => {
                interrupted = true;
                warm.stop.trigger();
                shared.stop.trigger();
                let _ = warm_load.await;
            }
        }
    }
    let started_at_ms = wall_ms();
    let proc_start = plan.sample_pid.and_then(procfs::sample);
    let start = Instant::now();
    let load = tokio::spawn(load(LoadSpec::from(plan), Arc::clone(&shared), start));
    tokio::pin!(load);

    let collector = Collector::start(collector::View::of(plan), Arc::clone(&shared), start.into_std(), proc_start, progress);
    tokio::select! {
        _ = &mut load => {}
        _ = &mut interrupt, if !interrupted => {
            interrupted = true;
            shared.stop.trigger();
            let _ = (&mut load).await;
        }
    }
    let (mut totals, ticks) = collector.finish().await;
    let unfinished = shared.unfinished.load(Ordering::Relaxed);
    if unfinished > 0 {
        totals.errors.insert("unfinished at end".into(), unfinished);
    }
    report::build(report::Inputs {
        plan,
        totals: &totals,
        ticks,
        started_at_ms,
        elapsed: start.elapsed(),
        interrupted,
        dispatched: shared.dispatched.load(Ordering::Relaxed),
        late: shared.late.load(Ordering::Relaxed),
        max_lag: Duration::from_nanos(shared.max_lag_ns.load(Ordering::Relaxed)),
        proc_start,
    })
}

fn wall_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// What the load tasks need from the plan (owned, so they can be spawned).
struct LoadSpec {
    target: Target,
    source: EventSource,
    traffic: Traffic,
    duration: Duration,
    batch: usize,
    seed: u64,
    /// Requests allowed in flight at once in open loop.
    permits: usize,
    /// Open loop paced by this many tasks calling the engine inline (`inline_dispatch`).
    inline_pacers: Option<usize>,
}

impl LoadSpec {
    fn from(plan: &Plan) -> LoadSpec {
        let permits = match plan.target {
            Target::InProcess(_) => plan.max_in_flight,
            Target::Http(_) => plan.connections,
        };
        LoadSpec {
            target: plan.target.clone(),
            source: plan.source.clone(),
            traffic: plan.request_traffic(),
            duration: plan.duration,
            batch: plan.batch,
            seed: plan.seed,
            permits,
            inline_pacers: plan.inline_dispatch.then(|| {
                plan.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            }),
        }
    }

    /// The warm-up's load: the plan's target and events for `plan.warmup`, at the base rate
    /// (closed loop: the same clients).
    fn warmup(plan: &Plan) -> LoadSpec {
        let mut spec = LoadSpec::from(plan);
        let duration = plan.duration.as_secs_f64();
        if spec.traffic.is_open_loop() {
            spec.traffic = Traffic::Constant { rate: spec.traffic.rate_at(0.0, duration) };
        }
        spec.duration = plan.warmup;
        spec
    }
}

/// Reusable per-client buffers for rendering the events of one request.
struct Renderer {
    source: EventSource,
    batch: usize,
    events: Vec<String>,
}

impl Renderer {
    fn new(source: EventSource, batch: usize) -> Renderer {
        Renderer { source, batch, events: (0..batch).map(|_| String::new()).collect() }
    }

    /// Renders the events of request `n` (events `n*batch ..`).
    fn render(&mut self, rng: &mut Rng, n: u64) -> &[String] {
        let now_ms = wall_ms();
        for (k, out) in self.events.iter_mut().enumerate() {
            out.clear();
            self.source.render(rng, RenderContext { seq: n * self.batch as u64 + k as u64, now_ms }, out);
        }
        &self.events
    }
}

/// A seed for request `n` of a run, so random fields do not depend on which task sends it.
fn request_seed(seed: u64, n: u64) -> u64 {
    seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

async fn load(spec: LoadSpec, shared: Arc<Shared>, start: Instant) {
    let deadline = start + spec.duration;
    match spec.traffic {
        Traffic::Closed { clients } => closed_loop(spec, clients, shared, deadline).await,
        _ => match spec.inline_pacers {
            Some(pacers) => inline_loop(spec, pacers, shared, start).await,
            None => open_loop(spec, shared, start).await,
        },
    }
}

async fn closed_loop(spec: LoadSpec, clients: usize, shared: Arc<Shared>, deadline: Instant) {
    let mut tasks = Vec::with_capacity(clients);
    for c in 0..clients {
        let shared = Arc::clone(&shared);
        let mut client = spec.target.client();
        let mut renderer = Renderer::new(spec.source.clone(), spec.batch);
        let mut rng = Rng::new(request_seed(spec.seed, c as u64));
        let batch = spec.batch as u32;
        tasks.push(tokio::spawn(async move {
            while !shared.stop.is_set() && Instant::now() < deadline {
                let n = shared.dispatched.fetch_add(1, Ordering::Relaxed);
                let events = renderer.render(&mut rng, n);
                let sent = Instant::now();
                let outcome = client.call(n, events).await;
                let took = sent.elapsed();
                shared.recorders.shard(c as u64).record(took, took, batch, outcome);
            }
        }));
    }
    join_clients(tasks, deadline, &shared).await;
}

/// Waits for the client tasks until `deadline` plus the drain time; a task still running then
/// counts as unfinished.
async fn join_clients(tasks: Vec<tokio::task::JoinHandle<()>>, deadline: Instant, shared: &Shared) {
    let drain_end = deadline + DRAIN;
    for task in tasks {
        if tokio::time::timeout_at(drain_end, task).await.is_err() {
            shared.unfinished.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Open loop with inline dispatch (in-process): `pacers` tasks, one per worker thread, each take
/// the next request number, render its event, wait for its due time and call the engine on
/// their own thread. No request crosses threads, so the latency is the call's plus any lateness
/// when the pacers fall behind (measured from the due time: coordinated omission corrected).
/// Waiting spins (yielding) for the last stretch, so the worker threads stay busy.
async fn inline_loop(spec: LoadSpec, pacers: usize, shared: Arc<Shared>, start: Instant) {
    let spec = Arc::new(spec);
    let duration = spec.duration.as_secs_f64();
    let mut tasks = Vec::with_capacity(pacers);
    for _ in 0..pacers {
        let (spec, shared) = (Arc::clone(&spec), Arc::clone(&shared));
        tasks.push(tokio::spawn(async move {
            let mut client = spec.target.client();
            let mut renderer = Renderer::new(spec.source.clone(), spec.batch);
            while !shared.stop.is_set() {
                let n = shared.dispatched.fetch_add(1, Ordering::Relaxed);
                let Some(due) = spec.traffic.due_at(n, duration).filter(|d| *d < duration) else {
                    shared.dispatched.fetch_sub(1, Ordering::Relaxed);
                    break;
                };
                let intended = start + Duration::from_secs_f64(due);
                let mut rng = Rng::new(request_seed(spec.seed, n));
                let events = renderer.render(&mut rng, n);
                loop {
                    let now = Instant::now();
                    if now >= intended {
                        break;
                    }
                    // tokio's timers tick in milliseconds: sleep only the long part.
                    if intended - now > SPIN {
                        tokio::time::sleep_until(intended - SPIN).await;
                    } else {
                        tokio::task::yield_now().await;
                    }
                }
                let sent = Instant::now();
                let outcome = client.call(n, events).await;
                let (latency, service) = (intended.elapsed(), sent.elapsed());
                shared.recorders.shard(n).record(latency, service, spec.batch as u32, outcome);
            }
        }));
    }
    join_clients(tasks, start + spec.duration, &shared).await;
}

/// How close to its due time an inline pacer stops sleeping and starts spinning.
const SPIN: Duration = Duration::from_millis(2);

/// One open-loop request on its way to a task.
struct Job {
    n: u64,
    /// When the schedule wanted it sent.
    intended: std::time::Instant,
    /// When the dispatcher handed it over (at most [`LOOKAHEAD`] before `intended`).
    handed: std::time::Instant,
    permit: OwnedSemaphorePermit,
}

/// Everything the tasks of open-loop requests share.
struct OpenLoop {
    spec: LoadSpec,
    shared: Arc<Shared>,
    /// HTTP connections are kept and reused; in-process clients are free to make.
    pool: Mutex<Vec<Client>>,
}

async fn open_loop(spec: LoadSpec, shared: Arc<Shared>, start: Instant) {
    let permits = Arc::new(Semaphore::new(spec.permits));
    let all = u32::try_from(spec.permits).unwrap_or(u32::MAX);
    let ctx = Arc::new(OpenLoop { spec, shared, pool: Mutex::new(Vec::new()) });
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let handle = tokio::runtime::Handle::current();
    let (ctx2, permits2) = (Arc::clone(&ctx), Arc::clone(&permits));
    let spawned = std::thread::Builder::new().name("loadtest-dispatch".into()).spawn(move || {
        dispatch(&ctx2, &permits2, start.into_std(), &handle);
        let _ = done_tx.send(());
    });
    if spawned.is_ok() {
        let _ = done_rx.await;
    }
    // Drain: every permit back means every request has been recorded.
    let drained = tokio::time::timeout(DRAIN, permits.acquire_many(all)).await;
    if !matches!(drained, Ok(Ok(_))) {
        let running = ctx.spec.permits.saturating_sub(permits.available_permits());
        ctx.shared.unfinished.fetch_add(running as u64, Ordering::Relaxed);
    }
}

/// The dispatcher, on its own OS thread: tokio's timers tick in milliseconds, a thread sleep
/// (with the timer slack lowered) in microseconds, and pacing must not be coarser than the
/// latencies it measures. Requests due within [`LOOKAHEAD`] are handed over together, as one
/// task per batch that spawns each request on its worker's local queue.
fn dispatch(ctx: &Arc<OpenLoop>, permits: &Arc<Semaphore>, start: std::time::Instant, handle: &tokio::runtime::Handle) {
    lower_timer_slack();
    let shared = &ctx.shared;
    let duration = ctx.spec.duration.as_secs_f64();
    let mut batch: Vec<Job> = Vec::new();
    let flush = |batch: &mut Vec<Job>| {
        if batch.is_empty() {
            return;
        }
        let jobs = std::mem::take(batch);
        let ctx = Arc::clone(ctx);
        handle.spawn(async move {
            for job in jobs {
                tokio::spawn(run_job(Arc::clone(&ctx), job));
            }
        });
    };
    let mut n = 0u64;
    while !shared.stop.is_set() {
        let Some(due) = ctx.spec.traffic.due_at(n, duration).filter(|d| *d < duration) else { break };
        let intended = start + Duration::from_secs_f64(due);
        let now = std::time::Instant::now();
        if intended > now + LOOKAHEAD {
            flush(&mut batch);
            // Wake a little early; long gaps are slept in slices so a stop is noticed.
            std::thread::sleep((intended - now - LOOKAHEAD / 2).min(Duration::from_millis(20)));
            continue;
        }
        let permit = match Arc::clone(permits).try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                flush(&mut batch);
                let waited = handle.block_on(async {
                    tokio::select! {
                        p = Arc::clone(permits).acquire_owned() => p.ok(),
                        _ = shared.stop.wait() => None,
                    }
                });
                match waited {
                    Some(p) => p,
                    None => break,
                }
            }
        };
        let handed = std::time::Instant::now();
        let lag = handed.saturating_duration_since(intended);
        if lag >= LATE {
            shared.late.fetch_add(1, Ordering::Relaxed);
        }
        shared.max_lag_ns.fetch_max(lag.as_nanos() as u64, Ordering::Relaxed);
        shared.dispatched.fetch_add(1, Ordering::Relaxed);
        batch.push(Job { n, intended, handed, permit });
        n += 1;
        if batch.len() >= MAX_HANDOFF {
            flush(&mut batch);
        }
    }
    flush(&mut batch);
}

/// Requests due this soon are handed over now rather than slept for.
const LOOKAHEAD: Duration = Duration::from_micros(50);
/// The most requests handed over in one batch task.
const MAX_HANDOFF: usize = 256;

fn lower_timer_slack() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_TIMERSLACK only changes this thread's timer slack (1 ns instead of 50 µs).
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0);
    }
}

async fn run_job(ctx: Arc<OpenLoop>, job: Job) {
    let mut client = ctx.pool.lock().ok().and_then(|mut p| p.pop()).unwrap_or_else(|| ctx.spec.target.client());
    let mut renderer = Renderer::new(ctx.spec.source.clone(), ctx.spec.batch);
    let mut rng = Rng::new(request_seed(ctx.spec.seed, job.n));
    let outcome: Outcome = client.call(job.n, renderer.render(&mut rng, job.n)).await;
    let latency = latency_origin(job.intended, job.handed).elapsed();
    let service = job.handed.elapsed();
    ctx.shared.recorders.shard(job.n).record(latency, service, ctx.spec.batch as u32, outcome);
    if let (Client::Http(_), Ok(mut pool)) = (&client, ctx.pool.lock()) {
        pool.push(client);
    }
    drop(job.permit);
}

/// Where an open-loop request's latency starts: the intended time when it left late (the
/// delay is the system's: coordinated omission corrected), the hand-over when it left early
/// (it cannot have waited before it existed). That is the earlier of the two.
fn latency_origin(intended: std::time::Instant, handed: std::time::Instant) -> std::time::Instant {
    intended.min(handed)
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_counts_from_the_intended_time_unless_the_request_left_early() {
        let t0 = std::time::Instant::now();
        let t1 = t0 + Duration::from_micros(40);
        assert_eq!(latency_origin(t0, t1), t0, "late: the 40 µs of lag are charged");
        assert_eq!(latency_origin(t1, t0), t0, "early: timed from the hand-over");
    }

    #[test]
    fn request_seeds_differ_per_request_and_repeat_per_run() {
        assert_ne!(request_seed(1, 0), request_seed(1, 1));
        assert_eq!(request_seed(7, 42), request_seed(7, 42));
    }
}
