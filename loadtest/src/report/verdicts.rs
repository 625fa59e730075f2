//! What a scenario promises (`[targets]` in its file) and the report's verdicts on it, all
//! computed from the per-second ticks and the run's histograms:
//! - a p99 latency target: met or not, overall and second by second;
//! - after each burst, how many seconds passed until a whole second's p99 was back under the
//!   target (or, without a target, back at the worst p99 of the calm seconds before the burst);
//! - memory: RSS sampled every second, its least-squares slope after a warm-up, and whether it
//!   is flat.
//!
//! "Flat" is a rule, stated in the report next to the verdict: the growth the fitted line
//! predicts over the measured window is at most `memory_growth_percent` (default 5 %) of the
//! RSS at the window's start, or 2 MiB, whichever is larger (allocators hold pages in steps of
//! a few MiB, so a small process needs the absolute allowance).

use serde::{Deserialize, Serialize};

use super::Tick;

/// A scenario's `[targets]` table.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    /// The p99 latency the run must stay under, in µs.
    pub p99_us: Option<f64>,
    /// Seconds at the start left out of the memory trend (default: 60, or a tenth of a run
    /// shorter than 10 minutes).
    pub memory_warmup_secs: Option<f64>,
    /// The largest growth over the measured window that still counts as flat, in % of the RSS
    /// at the window's start (default 5).
    pub memory_growth_percent: Option<f64>,
}

impl Targets {
    pub fn validate(&self) -> Result<(), String> {
        let positive = |v: Option<f64>| v.is_none_or(|x| x.is_finite() && x > 0.0);
        let non_negative = |v: Option<f64>| v.is_none_or(|x| x.is_finite() && x >= 0.0);
        if !positive(self.p99_us) || !non_negative(self.memory_warmup_secs) || !non_negative(self.memory_growth_percent) {
            return Err("targets: p99_us must be positive, memory_warmup_secs and memory_growth_percent not negative".into());
        }
        Ok(())
    }
}

/// The p99 target checked against the run.
#[derive(Debug, Serialize, PartialEq)]
pub struct LatencyCheck {
    pub p99_target_us: f64,
    /// The whole run's p99 (bursts included).
    pub p99_us: f64,
    pub met: bool,
    /// Whole seconds, and those whose own p99 was over the target.
    pub seconds: u64,
    pub seconds_over_target: u64,
}

pub(super) fn latency_check(targets: &Targets, p99_us: f64, ticks: &[Tick]) -> Option<LatencyCheck> {
    let target = targets.p99_us?;
    let whole: Vec<&Tick> = ticks.iter().filter(|t| t.dt >= 0.5).collect();
    Some(LatencyCheck {
        p99_target_us: target,
        p99_us,
        met: p99_us <= target,
        seconds: whole.len() as u64,
        seconds_over_target: whole.iter().filter(|t| t.p99_us > target).count() as u64,
    })
}

/// When a burst's aftermath was back to normal: the level it had to come back to, and the
/// seconds from the burst's end to the end of the first whole second at or under it. `None`
/// when no second before the next burst (or the run's end) got there.
pub(super) fn recovery(targets: &Targets, calm_before: &[&Tick], after: &[&Tick], burst_end: f64) -> (Option<f64>, Option<f64>) {
    let level = targets.p99_us.or_else(|| {
        // The first second of a run includes its warm-up.
        let calm: Vec<f64> = calm_before.iter().filter(|t| t.dt >= 0.5 && t.t > 1.5).map(|t| t.p99_us).collect();
        (!calm.is_empty()).then(|| calm.iter().copied().fold(0.0, f64::max))
    });
    let Some(level) = level else { return (None, None) };
    let recovered = after.iter().find(|t| t.dt >= 0.5 && t.p99_us <= level).map(|t| t.t - burst_end);
    (Some(level), recovered)
}

/// Memory over the run, from the per-second RSS samples.
#[derive(Debug, Serialize, PartialEq)]
pub struct MemoryTrend {
    /// Samples before this time were left out (warm-up).
    pub window_start_secs: f64,
    pub window_end_secs: f64,
    pub samples: u64,
    pub rss_window_start_bytes: u64,
    pub rss_window_end_bytes: u64,
    pub rss_window_max_bytes: u64,
    /// Least-squares slope of RSS over the window, in KiB per minute.
    pub slope_kib_per_min: f64,
    /// The growth the fitted line predicts over the window, in bytes.
    pub fitted_growth_bytes: f64,
    /// The most growth that still counts as flat, in bytes (see `rule`).
    pub allowed_growth_bytes: f64,
    pub flat: bool,
    pub rule: String,
}

/// Only for scenarios with a memory target (a short or bursty run's RSS says little about a
/// trend), and with at least three samples after the warm-up.
pub(super) fn memory_trend(targets: &Targets, duration_secs: f64, ticks: &[Tick]) -> Option<MemoryTrend> {
    if targets.memory_warmup_secs.is_none() && targets.memory_growth_percent.is_none() {
        return None;
    }
    let warmup = targets.memory_warmup_secs.unwrap_or(if duration_secs >= 600.0 { 60.0 } else { duration_secs / 10.0 });
    let percent = targets.memory_growth_percent.unwrap_or(5.0);
    let points: Vec<(f64, u64)> = ticks.iter().filter(|t| t.t >= warmup).filter_map(|t| Some((t.t, t.rss_bytes?))).collect();
    let (&(t0, first), &(t1, last)) = (points.first()?, points.last()?);
    if points.len() < 3 || t1 <= t0 {
        return None;
    }
    let slope_bytes_per_sec = least_squares_slope(&points);
    let fitted_growth = slope_bytes_per_sec * (t1 - t0);
    let allowed = (first as f64 * percent / 100.0).max(2.0 * 1024.0 * 1024.0);
    Some(MemoryTrend {
        window_start_secs: t0,
        window_end_secs: t1,
        samples: points.len() as u64,
        rss_window_start_bytes: first,
        rss_window_end_bytes: last,
        rss_window_max_bytes: points.iter().map(|p| p.1).max().unwrap_or(last),
        slope_kib_per_min: slope_bytes_per_sec * 60.0 / 1024.0,
        fitted_growth_bytes: fitted_growth,
        allowed_growth_bytes: allowed,
        flat: fitted_growth <= allowed,
        rule: format!("flat when the fitted growth over the window is at most {percent}% of the RSS at its start or 2 MiB, whichever is larger"),
    })
}

fn least_squares_slope(points: &[(f64, u64)]) -> f64 {
    let n = points.len() as f64;
    let mean_t = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1 as f64).sum::<f64>() / n;
    let covariance: f64 = points.iter().map(|p| (p.0 - mean_t) * (p.1 as f64 - mean_y)).sum();
    let variance: f64 = points.iter().map(|p| (p.0 - mean_t).powi(2)).sum();
    if variance > 0.0 {
        covariance / variance
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tick(t: f64, p99_us: f64, rss: Option<u64>) -> Tick {
        Tick {
            t,
            dt: 1.0,
            requests_ok: 1,
            requests_failed: 0,
            events_per_sec: 1.0,
            errors_per_sec: 0.0,
            intended_events_per_sec: 1.0,
            p50_us: p99_us,
            p90_us: p99_us,
            p99_us,
            max_us: p99_us,
            in_flight: 0,
            rss_bytes: rss,
            cpu_percent: None,
        }
    }

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn a_steady_rss_is_flat_and_a_leak_is_not() {
        let targets = Targets { memory_warmup_secs: Some(60.0), ..Targets::default() };
        // 20 MiB with ±64 KiB of noise for 10 minutes.
        let steady: Vec<Tick> = (1..=600).map(|s| tick(s as f64, 1.0, Some(20 * MIB + (s % 3) * 65_536))).collect();
        let m = memory_trend(&targets, 600.0, &steady).unwrap();
        assert!(m.flat, "{m:?}");
        assert_eq!((m.window_start_secs, m.window_end_secs, m.samples), (60.0, 600.0, 541));
        assert!(m.slope_kib_per_min.abs() < 1.0, "{m:?}");
        // 10 KiB a second: 600 KiB a minute, about 5.3 MiB over the window.
        let leak: Vec<Tick> = (1..=600).map(|s| tick(s as f64, 1.0, Some(20 * MIB + s * 10_240))).collect();
        let m = memory_trend(&targets, 600.0, &leak).unwrap();
        assert!(!m.flat, "{m:?}");
        assert!((m.slope_kib_per_min - 600.0).abs() < 0.01, "{m:?}");
        assert_eq!(m.rss_window_end_bytes - m.rss_window_start_bytes, 540 * 10_240);
    }

    #[test]
    fn no_memory_verdict_without_samples_or_a_memory_target() {
        let memory = Targets { memory_growth_percent: Some(5.0), ..Targets::default() };
        let ticks: Vec<Tick> = (1..=60).map(|s| tick(s as f64, 1.0, None)).collect();
        assert_eq!(memory_trend(&memory, 60.0, &ticks), None);
        // A 60 s run leaves out its first 6 s by default; without a memory target, no verdict.
        let ticks: Vec<Tick> = (1..=60).map(|s| tick(s as f64, 1.0, Some(MIB))).collect();
        assert_eq!(memory_trend(&memory, 60.0, &ticks).map(|m| m.window_start_secs), Some(6.0));
        assert_eq!(memory_trend(&Targets::default(), 60.0, &ticks), None);
    }

    #[test]
    fn recovery_counts_seconds_to_the_first_one_under_the_level() {
        let with_target = Targets { p99_us: Some(50.0), ..Targets::default() };
        let after = [tick(11.0, 400.0, None), tick(12.0, 40.0, None), tick(13.0, 30.0, None)];
        let after: Vec<&Tick> = after.iter().collect();
        assert_eq!(recovery(&with_target, &[], &after, 10.0), (Some(50.0), Some(2.0)));
        assert_eq!(recovery(&with_target, &[], &after[..1], 10.0), (Some(50.0), None));
        // Without a target: back at the worst calm second before the burst (the first second,
        // warm-up, left out).
        let calm = [tick(1.0, 900.0, None), tick(2.0, 35.0, None), tick(3.0, 45.0, None)];
        let calm: Vec<&Tick> = calm.iter().collect();
        assert_eq!(recovery(&Targets::default(), &calm, &after, 10.0), (Some(45.0), Some(2.0)));
        assert_eq!(recovery(&Targets::default(), &[], &after, 10.0), (None, None));
    }

    #[test]
    fn the_latency_check_counts_seconds_over_the_target() {
        let ticks = [tick(1.0, 40.0, None), tick(2.0, 60.0, None), tick(2.3, 90.0, None)];
        let ticks = [ticks[0].clone(), ticks[1].clone(), Tick { dt: 0.3, ..ticks[2].clone() }];
        let targets = Targets { p99_us: Some(50.0), ..Targets::default() };
        let c = latency_check(&targets, 48.0, &ticks).unwrap();
        assert_eq!((c.met, c.seconds, c.seconds_over_target), (true, 2, 1));
        assert_eq!(latency_check(&Targets::default(), 48.0, &ticks), None);
    }
}
