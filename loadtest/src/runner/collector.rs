//! The once-a-second collector: drains the recorders into a [`Tick`], prints progress, and
//! keeps the run's totals.
//!
//! It runs on its own OS thread. On the runtime it starved exactly when it mattered: at
//! saturation every worker is busy, tokio's timers are only looked at between tasks, and a
//! 10-minute soak at 80% of the peak got 197 ticks in 551 s instead of one a second. A thread
//! that sleeps until the next second costs nothing and is woken by the OS scheduler instead.
//!
//! Invariants: the collector is the only reader of the recorders; the last collection happens
//! after the load has finished (when [`Collector::finish`] is called), so every recorded result
//! is in exactly one tick and in the totals once.

use std::io::{IsTerminal, Write};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Progress, Shared};
use crate::procfs::{self, ProcSample};
use crate::report::{self, Tick};
use crate::scenario::Plan;
use crate::stats::{quantile_us, Totals};
use crate::traffic::Traffic;

/// What the collector needs from the plan (owned: it lives on another thread).
#[derive(Clone)]
pub(super) struct View {
    name: String,
    duration: Duration,
    traffic: Traffic,
    sample_pid: Option<u32>,
}

/// State carried from one collection to the next.
pub(super) struct Collection {
    view: View,
    shared: Arc<Shared>,
    start: Instant,
    totals: Totals,
    ticks: Vec<Tick>,
    last: (Instant, Option<ProcSample>),
    printer: Printer,
}

impl View {
    pub(super) fn of(plan: &Plan) -> View {
        View { name: plan.name.clone(), duration: plan.duration, traffic: plan.traffic.clone(), sample_pid: plan.sample_pid }
    }
}

impl Collection {
    fn collect(&mut self) -> Tick {
        let interval = self.shared.recorders.collect(&mut self.totals);
        let now = Instant::now();
        let dt = now.duration_since(self.last.0).as_secs_f64();
        let t = now.duration_since(self.start).as_secs_f64();
        let sample = self.view.sample_pid.and_then(procfs::sample);
        let cpu_percent = match (self.last.1, sample) {
            (Some(a), Some(b)) if dt > 0.0 => Some((b.cpu_secs - a.cpu_secs) / dt * 100.0),
            _ => None,
        };
        self.last = (now, sample);
        let per_sec = |n: u64| if dt > 0.0 { n as f64 / dt } else { 0.0 };
        Tick {
            t,
            dt,
            requests_ok: interval.ok,
            requests_failed: interval.failed,
            events_per_sec: per_sec(interval.events_ok + interval.events_failed),
            errors_per_sec: per_sec(interval.events_failed),
            intended_events_per_sec: self.view.traffic.rate_at((t - dt / 2.0).max(0.0), self.view.duration.as_secs_f64()),
            p50_us: quantile_us(&interval.latency, 0.5),
            p90_us: quantile_us(&interval.latency, 0.9),
            p99_us: quantile_us(&interval.latency, 0.99),
            max_us: quantile_us(&interval.latency, 1.0),
            in_flight: self.shared.dispatched.load(Ordering::Relaxed).saturating_sub(self.totals.completed()),
            rss_bytes: sample.map(|s| s.rss_bytes),
            cpu_percent,
        }
    }

    fn record(&mut self, tick: Tick) {
        self.printer.line(&tick, &self.view);
        self.ticks.push(tick);
    }

    /// Collects once a second until told to stop, then once more; returns totals and ticks.
    fn run(mut self, stop: &mpsc::Receiver<()>) -> (Totals, Vec<Tick>) {
        let mut due = self.start + Duration::from_secs(1);
        // Anything but a timeout (the stop message, or the sender gone) ends the run.
        while let Err(RecvTimeoutError::Timeout) = stop.recv_timeout(due.saturating_duration_since(Instant::now())) {
            let tick = self.collect();
            self.record(tick);
            // A late wake-up (a stopped process, a loaded machine) delays the next tick rather
            // than collecting several in a row, as tokio's `MissedTickBehavior::Delay` did.
            due += Duration::from_secs(1);
            let now = Instant::now();
            if due <= now {
                due = now + Duration::from_secs(1);
            }
        }
        let tick = self.collect();
        if tick.requests_ok + tick.requests_failed > 0 || tick.dt >= 0.1 {
            self.record(tick);
        }
        self.printer.finish();
        (self.totals, self.ticks)
    }
}

/// A running collector; [`Collector::finish`] takes the last collection and returns the results.
pub(super) enum Collector {
    Thread { stop: mpsc::Sender<()>, thread: std::thread::JoinHandle<(Totals, Vec<Tick>)> },
    /// The thread could not be started: only the final collection, so no per-second timeline.
    AtEnd(Box<Collection>),
}

impl Collector {
    /// Starts collecting for a run that started at `start`.
    pub(super) fn start(view: View, shared: Arc<Shared>, start: Instant, proc_start: Option<ProcSample>, progress: Progress) -> Collector {
        let collection = |view| {
            let (totals, last, printer) = (Totals::default(), (start, proc_start), Printer::new(progress));
            Collection { view, shared: Arc::clone(&shared), start, totals, ticks: Vec::new(), last, printer }
        };
        let (stop, stopped) = mpsc::channel();
        let first = collection(view.clone());
        match std::thread::Builder::new().name("loadtest-collector".into()).spawn(move || first.run(&stopped)) {
            Ok(thread) => Collector::Thread { stop, thread },
            Err(e) => {
                eprintln!("warning: no per-second timeline (cannot start the collector thread: {e})");
                Collector::AtEnd(Box::new(collection(view)))
            }
        }
    }

    /// Call when the load has finished: the last collection then sees every result.
    pub(super) async fn finish(self) -> (Totals, Vec<Tick>) {
        let (stop, thread) = match self {
            Collector::Thread { stop, thread } => (stop, thread),
            Collector::AtEnd(collection) => {
                let (stop, stopped) = mpsc::channel();
                drop(stop);
                return collection.run(&stopped);
            }
        };
        let _ = stop.send(());
        match tokio::task::spawn_blocking(move || thread.join()).await {
            Ok(Ok(results)) => results,
            // The collector only folds histograms; a panic there is a bug worth surfacing.
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(join) => std::panic::resume_unwind(join.into_panic()),
        }
    }
}

/// Progress on stderr.
struct Printer {
    mode: Progress,
    in_place: bool,
}

impl Printer {
    fn new(mode: Progress) -> Printer {
        Printer { mode, in_place: mode == Progress::Auto && std::io::stderr().is_terminal() }
    }

    fn line(&mut self, tick: &Tick, view: &View) {
        if self.mode == Progress::Off {
            return;
        }
        let rss = tick.rss_bytes.map(|b| format!("  rss {:.0} MiB", b as f64 / 1048576.0)).unwrap_or_default();
        let cpu = tick.cpu_percent.map(|c| format!("  cpu {c:.0}%")).unwrap_or_default();
        let text = format!(
            "[{:>6.1}s/{:.0}s] {} {:>9.0} ev/s  p50 {}  p99 {}  max {}  err/s {:.0}  in-flight {}{rss}{cpu}",
            tick.t,
            view.duration.as_secs_f64(),
            view.name,
            tick.events_per_sec,
            report::fmt_us(tick.p50_us),
            report::fmt_us(tick.p99_us),
            report::fmt_us(tick.max_us),
            tick.errors_per_sec,
            tick.in_flight,
        );
        let mut err = std::io::stderr().lock();
        let _ = if self.in_place { write!(err, "\r\x1b[2K{text}") } else { writeln!(err, "{text}") };
        let _ = err.flush();
    }

    fn finish(&mut self) {
        if self.in_place {
            let _ = writeln!(std::io::stderr());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Outcome;

    /// The soak's failure, reproduced: the only runtime thread never yields for three seconds
    /// while it records results. The collector still ticks (twice, on a thread of its own;
    /// the runtime's timer would not have fired at all), and every result lands exactly once.
    #[test]
    fn ticks_while_the_runtime_is_busy_and_counts_each_result_once() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (totals, ticks) = runtime.block_on(async {
            let shared = Shared::new();
            let view = View { name: "busy".into(), duration: Duration::from_secs(3), traffic: Traffic::Constant { rate: 1.0 }, sample_pid: None };
            let start = Instant::now();
            let collector = Collector::start(view, Arc::clone(&shared), start, None, Progress::Off);
            let mut recorded = 0u64;
            while start.elapsed() < Duration::from_millis(3_000) {
                shared.recorders.shard(recorded).record(Duration::from_micros(5), Duration::from_micros(5), 1, Outcome::Ok);
                recorded += 1;
                shared.dispatched.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_micros(200));
            }
            let results = collector.finish().await;
            assert_eq!(results.0.completed(), recorded);
            results
        });
        assert!(ticks.len() >= 3, "ticks at 1 s and 2 s and the final one, got {}", ticks.len());
        assert_eq!(ticks.iter().map(|t| t.requests_ok).sum::<u64>(), totals.completed());
        assert!(ticks.iter().take(2).all(|t| t.requests_ok > 0), "the per-second ticks saw results as they came");
    }
}
