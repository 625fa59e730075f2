//! Traffic shapes: when each request of an open-loop run is *meant* to be sent, or how many
//! clients a closed-loop run keeps busy.
//!
//! Open-loop schedules are exact, not paced by sleeping: request `i` is due at the time where
//! the integral of the rate reaches `i` ([`Traffic::due_at`]). Latency is measured from that
//! intended time, so a stalled system is charged for every request it delayed (no coordinated
//! omission), and a run's request count does not depend on timer precision.

use serde::{Deserialize, Serialize};
use thiserror::Error;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Traffic {
    /// Open loop at `rate` requests per second.
    Constant { rate: f64 },
    /// Open loop at `rate`, multiplied by `factor` for `burst_secs` at the end of every
    /// `every_secs` (so with 10 s/2 s the first burst runs from 8 s to 10 s).
    Burst { rate: f64, factor: f64, burst_secs: f64, every_secs: f64 },
    /// Open loop rising (or falling) linearly from `from` to `to` requests per second over the run.
    Ramp { from: f64, to: f64 },
    /// Closed loop: `clients` clients, each sending its next request when the last one answers.
    Closed { clients: usize },
}

#[derive(Debug, Error, PartialEq)]
#[error("traffic: {0}")]
pub struct TrafficError(String);

impl Traffic {
    pub fn validate(&self) -> Result<(), TrafficError> {
        let positive = |name: &str, x: f64| {
            if x.is_finite() && x > 0.0 {
                Ok(())
            } else {
                Err(TrafficError(format!("{name} must be a positive number (got {x})")))
            }
        };
        match *self {
            Traffic::Constant { rate } => positive("rate", rate),
            Traffic::Burst { rate, factor, burst_secs, every_secs } => {
                positive("rate", rate)?;
                positive("factor", factor)?;
                positive("burst_secs", burst_secs)?;
                positive("every_secs", every_secs)?;
                if burst_secs > every_secs {
                    return Err(TrafficError("burst_secs must not exceed every_secs".into()));
                }
                Ok(())
            }
            Traffic::Ramp { from, to } => {
                if !(from.is_finite() && to.is_finite() && from >= 0.0 && to >= 0.0 && from + to > 0.0) {
                    return Err(TrafficError("ramp needs from, to >= 0, not both 0".into()));
                }
                Ok(())
            }
            Traffic::Closed { clients: 0 } => Err(TrafficError("clients must be at least 1".into())),
            Traffic::Closed { .. } => Ok(()),
        }
    }

    pub fn is_open_loop(&self) -> bool {
        !matches!(self, Traffic::Closed { .. })
    }

    /// The same shape with every rate multiplied by `k` (to turn events/s into requests/s).
    pub fn scaled(&self, k: f64) -> Traffic {
        match *self {
            Traffic::Constant { rate } => Traffic::Constant { rate: rate * k },
            Traffic::Burst { rate, factor, burst_secs, every_secs } => Traffic::Burst { rate: rate * k, factor, burst_secs, every_secs },
            Traffic::Ramp { from, to } => Traffic::Ramp { from: from * k, to: to * k },
            Traffic::Closed { clients } => Traffic::Closed { clients },
        }
    }

    /// Replaces the base rate (the `--rate` override); a ramp keeps its shape, ending at `rate`.
    pub fn with_rate(&self, rate: f64) -> Traffic {
        match *self {
            Traffic::Constant { .. } => Traffic::Constant { rate },
            Traffic::Burst { factor, burst_secs, every_secs, .. } => Traffic::Burst { rate, factor, burst_secs, every_secs },
            Traffic::Ramp { from, to } if to > 0.0 => Traffic::Ramp { from: from * rate / to, to: rate },
            Traffic::Ramp { .. } => Traffic::Ramp { from: rate, to: 0.0 },
            Traffic::Closed { clients } => Traffic::Closed { clients },
        }
    }

    /// The intended rate at `t` seconds into a run of `duration` seconds (0 for closed loop).
    pub fn rate_at(&self, t: f64, duration: f64) -> f64 {
        match *self {
            Traffic::Constant { rate } => rate,
            Traffic::Burst { rate, factor, burst_secs, every_secs } => {
                if t.rem_euclid(every_secs) >= every_secs - burst_secs {
                    rate * factor
                } else {
                    rate
                }
            }
            Traffic::Ramp { from, to } => from + (to - from) * (t / duration.max(f64::MIN_POSITIVE)).clamp(0.0, 1.0),
            Traffic::Closed { .. } => 0.0,
        }
    }

    /// Seconds after the start at which request `i` (0-based) is due, or `None` when the
    /// schedule never reaches it (closed loop, or a ramp down to 0 that ends first).
    pub fn due_at(&self, i: u64, duration: f64) -> Option<f64> {
        let n = i as f64;
        match *self {
            Traffic::Constant { rate } => Some(n / rate),
            Traffic::Burst { rate, factor, burst_secs, every_secs } => {
                let calm = every_secs - burst_secs;
                let per_period = rate * calm + rate * factor * burst_secs;
                let period = (n / per_period).floor();
                let j = n - period * per_period;
                let within = if j < rate * calm { j / rate } else { calm + (j - rate * calm) / (rate * factor) };
                Some(period * every_secs + within)
            }
            Traffic::Ramp { from, to } => {
                // Cumulative count N(t) = from·t + slope·t²/2; solve N(t) = i for t.
                let slope = (to - from) / duration.max(f64::MIN_POSITIVE);
                if slope.abs() < 1e-12 {
                    return Some(n / from);
                }
                let disc = from * from + 2.0 * slope * n;
                if disc < 0.0 {
                    return None;
                }
                Some((-from + disc.sqrt()) / slope)
            }
            Traffic::Closed { .. } => None,
        }
    }

    /// How many requests an open-loop schedule sends in `duration` seconds.
    pub fn planned_requests(&self, duration: f64) -> u64 {
        match *self {
            Traffic::Constant { rate } => (rate * duration).ceil() as u64,
            Traffic::Closed { .. } => 0,
            _ => {
                // Count by bisection on the monotone due_at.
                let (mut lo, mut hi) = (0u64, 1u64);
                while self.due_at(hi, duration).is_some_and(|t| t < duration) {
                    lo = hi;
                    hi = hi.saturating_mul(2);
                    if hi == u64::MAX {
                        break;
                    }
                }
                if self.due_at(lo, duration).is_none_or(|t| t >= duration) {
                    return 0;
                }
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2;
                    if self.due_at(mid, duration).is_some_and(|t| t < duration) {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                lo + 1
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_rate_is_evenly_spaced() {
        let t = Traffic::Constant { rate: 4.0 };
        assert_eq!(t.due_at(0, 10.0), Some(0.0));
        assert_eq!(t.due_at(3, 10.0), Some(0.75));
        assert_eq!(t.planned_requests(2.0), 8);
    }

    #[test]
    fn bursts_multiply_the_rate_at_the_end_of_each_period() {
        let t = Traffic::Burst { rate: 10.0, factor: 10.0, burst_secs: 2.0, every_secs: 10.0 };
        // 80 calm requests over 8 s, then 200 in the 2 s burst: 280 per period.
        assert_eq!(t.due_at(79, 20.0), Some(7.9));
        assert_eq!(t.due_at(80, 20.0), Some(8.0));
        assert!((t.due_at(180, 20.0).unwrap() - 9.0).abs() < 1e-9);
        assert_eq!(t.due_at(280, 20.0), Some(10.0));
        assert_eq!(t.planned_requests(20.0), 560);
        assert_eq!(t.rate_at(8.5, 20.0), 100.0);
        assert_eq!(t.rate_at(10.5, 20.0), 10.0);
    }

    #[test]
    fn a_ramp_sends_the_area_under_its_line() {
        let up = Traffic::Ramp { from: 0.0, to: 100.0 };
        assert_eq!(up.planned_requests(10.0), 500);
        assert_eq!(up.due_at(0, 10.0), Some(0.0));
        let down = Traffic::Ramp { from: 100.0, to: 0.0 };
        assert_eq!(down.planned_requests(10.0), 500);
        assert_eq!(down.due_at(10_000, 10.0), None);
        assert_eq!(up.with_rate(50.0), Traffic::Ramp { from: 0.0, to: 50.0 });
    }

    #[test]
    fn nonsense_shapes_are_refused() {
        assert!(Traffic::Constant { rate: 0.0 }.validate().is_err());
        assert!(Traffic::Constant { rate: f64::NAN }.validate().is_err());
        assert!(Traffic::Burst { rate: 1.0, factor: 2.0, burst_secs: 5.0, every_secs: 2.0 }.validate().is_err());
        assert!(Traffic::Ramp { from: 0.0, to: 0.0 }.validate().is_err());
        assert!(Traffic::Closed { clients: 0 }.validate().is_err());
        assert!(Traffic::Closed { clients: 3 }.validate().is_ok());
    }

    #[test]
    fn scaling_turns_events_into_requests() {
        assert_eq!(Traffic::Constant { rate: 100.0 }.scaled(0.1), Traffic::Constant { rate: 10.0 });
    }
}
