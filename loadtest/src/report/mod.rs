//! The run report: a JSON document (for machines and comparisons) and an HTML page (for people).
//!
//! Every figure carries its unit in its name (`_us`, `_per_sec`, `_bytes`). Latencies are from
//! the intended send time in open loop (see `runner`). Memory and CPU are `null` when the
//! sampled process could not be read (no pid given for an HTTP server, or not Linux).

mod html;
mod verdicts;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::procfs::{self, ProcSample};
use crate::scenario::Plan;
use crate::stats::{quantile_us, Totals};
use crate::traffic::Traffic;

pub use html::render as render_html;
pub use verdicts::{LatencyCheck, MemoryTrend, Targets};

/// One second of a run (the last one may be shorter: see `dt`).
#[derive(Clone, Debug, Serialize)]
pub struct Tick {
    /// Seconds since the start, at the end of this interval.
    pub t: f64,
    pub dt: f64,
    pub requests_ok: u64,
    pub requests_failed: u64,
    /// Events answered (successfully or not) per second.
    pub events_per_sec: f64,
    pub errors_per_sec: f64,
    /// What the schedule asked for (0 in closed loop).
    pub intended_events_per_sec: f64,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
    /// Requests dispatched and not yet answered.
    pub in_flight: u64,
    pub rss_bytes: Option<u64>,
    /// CPU used by the sampled process, in % of one core.
    pub cpu_percent: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub scenario: String,
    pub description: String,
    pub target: String,
    pub traffic: Traffic,
    pub batch: usize,
    pub duration_secs: f64,
    /// Seconds of warm-up traffic run before the measured run and left out of every figure.
    pub warmup_secs: f64,
    pub seed: u64,
    pub machine: Machine,
    pub started_at: String,
    pub elapsed_secs: f64,
    /// True when the run was stopped early (Ctrl-C).
    pub interrupted: bool,
    pub requests: Counts,
    pub throughput: Throughput,
    pub latency_us: Latency,
    /// From hand-over to answer: the latency without the time the sender spent behind its
    /// schedule (equal to the latency in closed loop).
    pub service_time_us: Latency,
    /// Failed requests (or, for partial answers, failed events) by kind.
    pub errors: BTreeMap<String, u64>,
    pub resources: Resources,
    pub generator: Generator,
    /// What the scenario promised (`[targets]`), checked below and in `bursts`.
    pub targets: Targets,
    /// The p99 target against the run (`null` without one).
    pub latency_check: Option<LatencyCheck>,
    /// RSS over the run after a warm-up: slope and a flat/not-flat verdict (`null` without a
    /// memory target or memory samples).
    pub memory: Option<MemoryTrend>,
    /// Burst traffic: how each burst went and how fast latency came back (empty otherwise).
    pub bursts: Vec<Burst>,
    pub timeline: Vec<Tick>,
    /// Latency at increasing percentiles, for the distribution chart.
    pub distribution: Vec<Percentile>,
}

#[derive(Debug, Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub os: String,
    pub loadtest_version: String,
}

#[derive(Debug, Serialize)]
pub struct Counts {
    pub dispatched: u64,
    pub ok: u64,
    pub failed: u64,
    pub events_ok: u64,
    pub events_failed: u64,
}

#[derive(Debug, Serialize)]
pub struct Throughput {
    pub requests_per_sec: f64,
    pub events_per_sec: f64,
    /// The best whole second.
    pub peak_events_per_sec: f64,
}

#[derive(Debug, Serialize)]
pub struct Latency {
    pub count: u64,
    pub min: f64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p99_9: f64,
    pub max: f64,
}

impl Latency {
    fn of(h: &hdrhistogram::Histogram<u64>) -> Latency {
        Latency {
            count: h.len(),
            min: if h.is_empty() { 0.0 } else { h.min() as f64 / 1000.0 },
            mean: if h.is_empty() { 0.0 } else { h.mean() / 1000.0 },
            p50: quantile_us(h, 0.5),
            p90: quantile_us(h, 0.9),
            p99: quantile_us(h, 0.99),
            p99_9: quantile_us(h, 0.999),
            max: quantile_us(h, 1.0),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Resources {
    pub pid: Option<u32>,
    pub rss_start_bytes: Option<u64>,
    pub rss_max_bytes: Option<u64>,
    pub rss_end_bytes: Option<u64>,
    /// Mean CPU of the sampled process over the run, in % of one core.
    pub cpu_mean_percent: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct Generator {
    /// Open loop: how far behind its schedule the generator fell at worst (a large value means
    /// the system, or the generator itself, could not keep up; latencies include the delay).
    pub max_dispatch_lag_ms: f64,
    /// Requests dispatched 10 ms or more after their due time.
    pub late_requests: u64,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Burst {
    pub start_secs: f64,
    pub end_secs: f64,
    /// Events answered per second during the burst.
    pub events_per_sec: f64,
    /// The worst per-second p99 during the burst.
    pub p99_us: f64,
    pub errors: u64,
    /// p99 of each of the first two seconds after the burst (fewer when the run ended).
    pub p99_after_us: Vec<f64>,
    /// The p99 the seconds after the burst had to come back to: the scenario's target, else
    /// the worst p99 of the calm seconds before the burst.
    pub recovery_p99_us: Option<f64>,
    /// Seconds from the burst's end to the end of the first whole second whose p99 was back
    /// at `recovery_p99_us` (1 means the very next second); `null` when none was before the
    /// next burst or the run's end.
    pub recovered_after_secs: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct Percentile {
    pub percentile: f64,
    pub latency_us: f64,
}

pub(crate) struct Inputs<'a> {
    pub plan: &'a Plan,
    pub totals: &'a Totals,
    pub ticks: Vec<Tick>,
    pub started_at_ms: i64,
    pub elapsed: Duration,
    pub interrupted: bool,
    pub dispatched: u64,
    pub late: u64,
    pub max_lag: Duration,
    pub proc_start: Option<ProcSample>,
}

pub(crate) fn build(i: Inputs<'_>) -> Report {
    let t = i.totals;
    let h = &t.latency;
    let elapsed = i.elapsed.as_secs_f64().max(f64::MIN_POSITIVE);
    let (cpus, cpu_model) = procfs::machine();
    let full_seconds = i.ticks.iter().filter(|k| k.dt >= 0.9);
    let peak = full_seconds.map(|k| k.events_per_sec).fold(0.0, f64::max);
    let rss: Vec<u64> = i.ticks.iter().filter_map(|k| k.rss_bytes).collect();
    let end_sample = i.plan.sample_pid.and_then(procfs::sample);
    let cpu_mean = match (i.proc_start, end_sample) {
        (Some(a), Some(b)) => Some((b.cpu_secs - a.cpu_secs) / elapsed * 100.0),
        _ => None,
    };
    // Percentiles 0, 90, 99, 99.9, … in tenths of a decade, up to 99.999 and the maximum.
    let mut distribution: Vec<Percentile> = (0..=50)
        .map(|k| 1.0 - 10f64.powf(-(k as f64) / 10.0))
        .map(|q| Percentile { percentile: q * 100.0, latency_us: quantile_us(h, q) })
        .collect();
    distribution.push(Percentile { percentile: 100.0, latency_us: quantile_us(h, 1.0) });
    Report {
        scenario: i.plan.name.clone(),
        description: i.plan.description.clone(),
        target: i.plan.target_label.clone(),
        traffic: i.plan.traffic.clone(),
        batch: i.plan.batch,
        duration_secs: i.plan.duration.as_secs_f64(),
        warmup_secs: i.plan.warmup.as_secs_f64(),
        seed: i.plan.seed,
        machine: Machine { cpus, cpu_model, os: std::env::consts::OS.into(), loadtest_version: env!("CARGO_PKG_VERSION").into() },
        started_at: expressway::timestamp::format_iso(i.started_at_ms),
        elapsed_secs: i.elapsed.as_secs_f64(),
        interrupted: i.interrupted,
        requests: Counts { dispatched: i.dispatched, ok: t.ok, failed: t.failed, events_ok: t.events_ok, events_failed: t.events_failed },
        throughput: Throughput {
            requests_per_sec: t.completed() as f64 / elapsed,
            events_per_sec: (t.events_ok + t.events_failed) as f64 / elapsed,
            peak_events_per_sec: peak,
        },
        latency_us: Latency::of(h),
        service_time_us: Latency::of(&t.service),
        errors: t.errors.clone(),
        resources: Resources {
            pid: i.plan.sample_pid,
            rss_start_bytes: i.proc_start.map(|s| s.rss_bytes),
            rss_max_bytes: rss.iter().copied().max(),
            rss_end_bytes: end_sample.map(|s| s.rss_bytes),
            cpu_mean_percent: cpu_mean,
        },
        generator: Generator { max_dispatch_lag_ms: i.max_lag.as_secs_f64() * 1000.0, late_requests: i.late },
        targets: i.plan.targets.clone(),
        latency_check: verdicts::latency_check(&i.plan.targets, quantile_us(h, 0.99), &i.ticks),
        memory: verdicts::memory_trend(&i.plan.targets, i.plan.duration.as_secs_f64(), &i.ticks),
        bursts: bursts(&i.plan.traffic, &i.plan.targets, &i.ticks),
        timeline: i.ticks,
        distribution,
    }
}

/// Summarises each complete burst from the per-second ticks (which start at whole seconds, as
/// bursts do when their lengths are whole seconds; a tick counts for a burst when it lies in it).
fn bursts(traffic: &Traffic, targets: &Targets, ticks: &[Tick]) -> Vec<Burst> {
    let Traffic::Burst { burst_secs, every_secs, .. } = *traffic else { return Vec::new() };
    const SLACK: f64 = 0.05;
    let last = ticks.last().map_or(0.0, |t| t.t);
    let mut out = Vec::new();
    let mut k = 0.0;
    loop {
        let (start, end) = (k * every_secs + every_secs - burst_secs, (k + 1.0) * every_secs);
        if end > last + SLACK {
            break;
        }
        let during: Vec<&Tick> = ticks.iter().filter(|t| t.t - t.dt >= start - SLACK && t.t <= end + SLACK).collect();
        let calm_before: Vec<&Tick> = ticks.iter().filter(|t| t.t - t.dt >= start - every_secs + burst_secs - SLACK && t.t <= start + SLACK).collect();
        let next_start = end + every_secs - burst_secs;
        let after: Vec<&Tick> = ticks.iter().filter(|t| t.t - t.dt >= end - SLACK && t.t <= next_start + SLACK).collect();
        let (recovery_p99_us, recovered_after_secs) = verdicts::recovery(targets, &calm_before, &after, end);
        let secs: f64 = during.iter().map(|t| t.dt).sum();
        let answered: f64 = during.iter().map(|t| t.events_per_sec * t.dt).sum();
        out.push(Burst {
            start_secs: start,
            end_secs: end,
            events_per_sec: if secs > 0.0 { answered / secs } else { 0.0 },
            p99_us: during.iter().map(|t| t.p99_us).fold(0.0, f64::max),
            errors: during.iter().map(|t| t.requests_failed).sum(),
            p99_after_us: after.iter().filter(|t| t.dt >= 0.5).take(2).map(|t| t.p99_us).collect(),
            recovery_p99_us,
            recovered_after_secs,
        });
        k += 1.0;
    }
    out
}

/// Microseconds for people: `850µs`, `12.3ms`, `1.20s`.
pub fn fmt_us(us: f64) -> String {
    if us < 1_000.0 {
        format!("{us:.1}µs")
    } else if us < 1_000_000.0 {
        format!("{:.2}ms", us / 1_000.0)
    } else {
        format!("{:.2}s", us / 1_000_000.0)
    }
}

impl Report {
    pub fn to_json(&self) -> String {
        // Every field is a plain number, string, map or list: serialisation cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The few lines printed at the end of a run.
    pub fn summary(&self) -> String {
        let l = &self.latency_us;
        let mut s = format!(
            "{} ({}): {} requests ({} ok, {} failed) in {:.1}s; {:.0} events/s (peak second {:.0})\n\
             latency p50 {}  p90 {}  p99 {}  p99.9 {}  max {}\n",
            self.scenario,
            self.target,
            self.requests.ok + self.requests.failed,
            self.requests.ok,
            self.requests.failed,
            self.elapsed_secs,
            self.throughput.events_per_sec,
            self.throughput.peak_events_per_sec,
            fmt_us(l.p50),
            fmt_us(l.p90),
            fmt_us(l.p99),
            fmt_us(l.p99_9),
            fmt_us(l.max),
        );
        if self.warmup_secs > 0.0 {
            s.push_str(&format!("(after a {:.1}s warm-up at the base rate, not counted)\n", self.warmup_secs));
        }
        if self.traffic.is_open_loop() {
            let v = &self.service_time_us;
            s.push_str(&format!("service time (from hand-over) p50 {}  p99 {}  max {}\n", fmt_us(v.p50), fmt_us(v.p99), fmt_us(v.max)));
        }
        for (kind, n) in &self.errors {
            s.push_str(&format!("error {kind}: {n}\n"));
        }
        if let (Some(max), Some(cpu)) = (self.resources.rss_max_bytes, self.resources.cpu_mean_percent) {
            s.push_str(&format!("memory max {:.1} MiB, cpu {cpu:.0}% of one core\n", max as f64 / 1048576.0));
        }
        for b in &self.bursts {
            let after: Vec<String> = b.p99_after_us.iter().map(|p| fmt_us(*p)).collect();
            let recovered = match (b.recovery_p99_us, b.recovered_after_secs) {
                (Some(level), Some(secs)) => format!("; p99 recovered to {} within {secs:.0} s after the burst", fmt_us(level)),
                (Some(level), None) => format!("; p99 did not get back to {} before the next burst or the end", fmt_us(level)),
                (None, _) => String::new(),
            };
            s.push_str(&format!(
                "burst {:.0}-{:.0}s: {:.0} events/s, p99 {}, {} errors; p99 in the seconds after: {}{recovered}\n",
                b.start_secs,
                b.end_secs,
                b.events_per_sec,
                fmt_us(b.p99_us),
                b.errors,
                after.join(", ")
            ));
        }
        if let Some(c) = &self.latency_check {
            s.push_str(&format!(
                "p99 target {}: {} (p99 {}; {} of {} seconds over it)\n",
                fmt_us(c.p99_target_us),
                if c.met { "met" } else { "NOT met" },
                fmt_us(c.p99_us),
                c.seconds_over_target,
                c.seconds
            ));
        }
        if let Some(m) = &self.memory {
            s.push_str(&format!(
                "memory {:.0}-{:.0}s: RSS {:.1} -> {:.1} MiB, slope {:.1} KiB/min: {}\n",
                m.window_start_secs,
                m.window_end_secs,
                m.rss_window_start_bytes as f64 / 1048576.0,
                m.rss_window_end_bytes as f64 / 1048576.0,
                m.slope_kib_per_min,
                if m.flat { "flat" } else { "NOT flat" }
            ));
        }
        if self.generator.late_requests > 0 {
            s.push_str(&format!(
                "note: {} requests left 10 ms or more after their due time (worst {:.1} ms); latencies include that delay\n",
                self.generator.late_requests, self.generator.max_dispatch_lag_ms
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tick(t: f64, p99_us: f64, failed: u64) -> Tick {
        Tick {
            t,
            dt: 1.0,
            requests_ok: 10,
            requests_failed: failed,
            events_per_sec: 10.0 + failed as f64,
            errors_per_sec: failed as f64,
            intended_events_per_sec: 10.0,
            p50_us: p99_us / 2.0,
            p90_us: p99_us,
            p99_us,
            max_us: p99_us,
            in_flight: 0,
            rss_bytes: None,
            cpu_percent: None,
        }
    }

    #[test]
    fn bursts_are_summarised_from_the_ticks_they_cover() {
        let traffic = Traffic::Burst { rate: 10.0, factor: 10.0, burst_secs: 2.0, every_secs: 5.0 };
        // Seconds 1..=11; bursts at 3-5 and 8-10; the third (13-15) is past the run.
        let ticks: Vec<Tick> = (1..=11).map(|t| tick(t as f64, if t == 4 || t == 5 { 90.0 } else { 10.0 }, u64::from(t == 9))).collect();
        let b = bursts(&traffic, &Targets::default(), &ticks);
        assert_eq!(b.len(), 2);
        assert_eq!((b[0].start_secs, b[0].end_secs, b[0].p99_us, b[0].errors), (3.0, 5.0, 90.0, 0));
        assert_eq!(b[0].p99_after_us, vec![10.0, 10.0]);
        assert_eq!((b[1].errors, b[1].events_per_sec), (1, 10.5));
        assert_eq!(b[1].p99_after_us, vec![10.0]);
        assert_eq!(b[0].recovered_after_secs, Some(1.0));
        assert!(bursts(&Traffic::Constant { rate: 1.0 }, &Targets::default(), &ticks).is_empty());
    }

    #[test]
    fn microseconds_read_naturally() {
        assert_eq!(fmt_us(12.34), "12.3µs");
        assert_eq!(fmt_us(12_345.0), "12.35ms");
        assert_eq!(fmt_us(2_500_000.0), "2.50s");
    }
}
