//! The one clock every part of the engine reads.
//!
//! Wall-clock timestamps (context object, results, history) are `start_wall_ms` plus the time
//! elapsed on tokio's clock since the clock was made. Under a paused tokio runtime
//! (`--virtual-time`, tests) tokio's clock jumps forward whenever every task is waiting on a
//! timer, so Wait states, retry back-off and timeouts take no real time while timestamps still
//! move as if it had passed. Outside a runtime it is the system clock.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Clone, Copy, Debug)]
pub struct Clock {
    start_wall_ms: i64,
    start: tokio::time::Instant,
}

impl Clock {
    /// A clock reading the current wall time now.
    pub fn new() -> Clock {
        let wall = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        Clock { start_wall_ms: wall.as_millis() as i64, start: tokio::time::Instant::now() }
    }

    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        self.start_wall_ms + self.start.elapsed().as_millis() as i64
    }

    /// The tokio instant corresponding to a wall time in epoch milliseconds.
    pub fn instant_at(&self, epoch_ms: i64) -> tokio::time::Instant {
        let offset = epoch_ms.saturating_sub(self.start_wall_ms).max(0) as u64;
        self.start + Duration::from_millis(offset)
    }

    /// Sleeps until the given wall time (returns at once if it has passed).
    pub async fn sleep_until_ms(&self, epoch_ms: i64) {
        tokio::time::sleep_until(self.instant_at(epoch_ms)).await
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::new()
    }
}
