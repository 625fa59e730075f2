//! Recording results without contention, and folding them into per-second and whole-run figures.
//!
//! Workers record into one of a few [`Shard`]s (a mutex that only its workers and the once-a-
//! second collector take, so it is almost never contended). The collector drains every shard
//! each second into a [`Tick`] and adds the drained histogram into the run's total, so nothing
//! is counted twice and no recording is lost. Latencies are nanoseconds in an hdrhistogram with
//! three significant digits, up to one hour (longer ones are clamped to the maximum).
//!
//! Two times are kept per request: the *latency* (in open loop from the intended send time,
//! corrected for coordinated omission) and the *service time* (from the moment the request was
//! handed over). They differ by how far the sender fell behind its schedule; the service time
//! is kept for the whole run only.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hdrhistogram::Histogram;

/// Longest latency a histogram holds; anything longer is recorded as this.
const MAX_LATENCY_NS: u64 = 3_600_000_000_000;

pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).expect("constant histogram bounds are valid")
}

/// How one request ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Every event of the request was accepted (and, for synchronous targets, succeeded).
    Ok,
    /// The request failed as a whole; the string is its kind (`ThrottlingException`,
    /// `execution FAILED: States.TaskFailed`, `http 500`, `connect: …`).
    Failed(String),
    /// The request was answered but `failed` of its events were refused, for `kind`.
    Partial { failed: u32, kind: String },
}

/// What a shard gathers between two collections.
struct Window {
    latency: Histogram<u64>,
    service: Histogram<u64>,
    ok: u64,
    failed: u64,
    events_ok: u64,
    events_failed: u64,
    errors: BTreeMap<String, u64>,
}

impl Window {
    fn new() -> Window {
        Window { latency: new_histogram(), service: new_histogram(), ok: 0, failed: 0, events_ok: 0, events_failed: 0, errors: BTreeMap::new() }
    }
}

pub struct Shard(Mutex<Window>);

impl Shard {
    fn lock(&self) -> MutexGuard<'_, Window> {
        // A worker that panicked mid-record leaves consistent counters; keep using them.
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records one request of `events` events with its latency and service time. Failed
    /// requests are timed too: a slow error is as much a part of the user's experience as a
    /// slow success.
    pub fn record(&self, latency: Duration, service: Duration, events: u32, outcome: Outcome) {
        let ns = |d: Duration| (d.as_nanos().min(MAX_LATENCY_NS as u128) as u64).max(1);
        let mut w = self.lock();
        w.latency.saturating_record(ns(latency));
        w.service.saturating_record(ns(service));
        match outcome {
            Outcome::Ok => {
                w.ok += 1;
                w.events_ok += events as u64;
            }
            Outcome::Failed(kind) => {
                w.failed += 1;
                w.events_failed += events as u64;
                *w.errors.entry(kind).or_default() += 1;
            }
            Outcome::Partial { failed, kind } => {
                let failed = failed.min(events);
                w.ok += 1;
                w.events_ok += (events - failed) as u64;
                w.events_failed += failed as u64;
                *w.errors.entry(kind).or_default() += failed as u64;
            }
        }
    }
}

/// The shards of one run.
#[derive(Clone)]
pub struct Recorders(Arc<Vec<Shard>>);

impl Recorders {
    pub fn new(shards: usize) -> Recorders {
        Recorders(Arc::new((0..shards.max(1)).map(|_| Shard(Mutex::new(Window::new()))).collect()))
    }

    /// The shard for worker or request number `n`.
    pub fn shard(&self, n: u64) -> &Shard {
        let len = self.0.len() as u64;
        &self.0[(n % len) as usize] // `len` >= 1, so the index is in range
    }

    /// Drains every shard into `totals` and returns this interval's figures.
    pub fn collect(&self, totals: &mut Totals) -> Interval {
        let mut interval = Interval { latency: new_histogram(), ok: 0, failed: 0, events_ok: 0, events_failed: 0 };
        for shard in self.0.iter() {
            let mut w = shard.lock();
            let _ = interval.latency.add(&w.latency);
            let _ = totals.service.add(&w.service);
            w.service.reset();
            interval.ok += w.ok;
            interval.failed += w.failed;
            interval.events_ok += w.events_ok;
            interval.events_failed += w.events_failed;
            for (kind, n) in std::mem::take(&mut w.errors) {
                *totals.errors.entry(kind).or_default() += n;
            }
            w.latency.reset();
            w.ok = 0;
            w.failed = 0;
            w.events_ok = 0;
            w.events_failed = 0;
        }
        let _ = totals.latency.add(&interval.latency);
        totals.ok += interval.ok;
        totals.failed += interval.failed;
        totals.events_ok += interval.events_ok;
        totals.events_failed += interval.events_failed;
        interval
    }
}

/// One collection's worth of results.
pub struct Interval {
    pub latency: Histogram<u64>,
    pub ok: u64,
    pub failed: u64,
    pub events_ok: u64,
    pub events_failed: u64,
}

/// Everything collected so far in a run.
pub struct Totals {
    pub latency: Histogram<u64>,
    pub service: Histogram<u64>,
    pub ok: u64,
    pub failed: u64,
    pub events_ok: u64,
    pub events_failed: u64,
    pub errors: BTreeMap<String, u64>,
}

impl Default for Totals {
    fn default() -> Totals {
        Totals { latency: new_histogram(), service: new_histogram(), ok: 0, failed: 0, events_ok: 0, events_failed: 0, errors: BTreeMap::new() }
    }
}

impl Totals {
    pub fn completed(&self) -> u64 {
        self.ok + self.failed
    }
}

/// Microseconds at quantile `q` of `h` (0 when it is empty).
pub fn quantile_us(h: &Histogram<u64>, q: f64) -> f64 {
    if h.is_empty() {
        0.0
    } else {
        h.value_at_quantile(q) as f64 / 1_000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collection_drains_every_shard_exactly_once() {
        let r = Recorders::new(3);
        for i in 0..30u64 {
            let outcome = if i % 10 == 0 { Outcome::Failed("boom".into()) } else { Outcome::Ok };
            r.shard(i).record(Duration::from_micros(10 + i), Duration::from_micros(5), 1, outcome);
        }
        r.shard(1).record(Duration::from_micros(5), Duration::from_micros(5), 10, Outcome::Partial { failed: 3, kind: "entry".into() });
        let mut totals = Totals::default();
        let first = r.collect(&mut totals);
        assert_eq!((first.ok, first.failed, first.events_ok, first.events_failed), (28, 3, 34, 6));
        assert_eq!(first.latency.len(), 31);
        let second = r.collect(&mut totals);
        assert_eq!((second.ok, second.failed, second.latency.len()), (0, 0, 0));
        assert_eq!(totals.completed(), 31);
        assert_eq!(totals.errors.get("boom"), Some(&3));
        assert_eq!(totals.errors.get("entry"), Some(&3));
        assert_eq!(totals.latency.max(), totals.latency.highest_equivalent(39_000));
        assert_eq!(totals.service.len(), 31);
        assert_eq!(totals.service.max(), totals.service.highest_equivalent(5_000));
    }

    #[test]
    fn absurd_latencies_are_clamped_not_lost() {
        let r = Recorders::new(1);
        r.shard(0).record(Duration::from_secs(10 * 3600), Duration::ZERO, 1, Outcome::Ok);
        r.shard(0).record(Duration::ZERO, Duration::ZERO, 1, Outcome::Ok);
        let mut totals = Totals::default();
        r.collect(&mut totals);
        assert_eq!(totals.latency.len(), 2);
        assert!(quantile_us(&totals.latency, 1.0) >= 3.6e9 * 0.999);
    }
}
