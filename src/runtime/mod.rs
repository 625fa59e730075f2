//! Drives executions: runs the VM until it suspends, then does what it waits for (Task I/O,
//! timers, Parallel branches, Map iterations) on tokio, and resumes it.
//!
//! Invariants:
//! - A thread that never suspends runs start to finish inside one poll: no spawn, no timer, no
//!   allocation beyond the values it builds. That is the fast path for pure workflows.
//! - Every execution is cut at its deadline: 5 minutes (Express), or the definition's smaller
//!   top-level `TimeoutSeconds`. The cut is a `tokio::time::timeout` around the whole drive;
//!   the VM's transition budget guarantees CPU loops reach an await point to be cut at.
//! - Branches and iterations of one execution run as futures inside the execution's task
//!   (joined, not spawned), so a failing branch cancels its siblings by dropping them.
//! - Time comes only from [`Clock`]; under a paused tokio runtime everything is virtual.

mod execution;
mod fanout;
mod local;
mod start;

use std::sync::Arc;
use std::time::Duration;

use crate::tasks::Resources;

pub use execution::{run_execution, ExecutionOutcome, ExecutionStatus, StartOptions};
pub use start::{StartError, Started, StopHandle, StopReason};

/// The Express limit on an execution's duration.
pub const EXPRESS_MAX_DURATION: Duration = Duration::from_secs(300);

/// Default bound on executions in flight per engine.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 1_000_000;

/// Settings shared by all executions an engine runs.
#[derive(Clone)]
pub struct EngineConfig {
    /// Upper bound on every execution's duration (Express: 5 minutes).
    pub max_duration: Duration,
    /// Keep every history event (for GetExecutionHistory and `--history`); ids are always kept.
    pub record_history: bool,
    /// Region and account used in ARNs.
    pub region: String,
    pub account: String,
    /// Default inline Map concurrency when `MaxConcurrency` is 0 or absent (0 = unbounded).
    pub default_map_concurrency: usize,
    /// Set when executions run on a paused tokio clock (`--virtual-time`). CPU work takes no
    /// virtual time there, so a loop of Pass/Choice states would never reach the 5-minute cut:
    /// each exhausted transition budget (1,024 transitions) then costs one virtual second,
    /// about what those transitions take on AWS.
    pub virtual_time: bool,
    /// Executions admitted and not yet finished, at most; starting more fails with
    /// [`StartError::Throttled`]. Sized so a million parked (Waiting) executions fit.
    pub max_in_flight: usize,
}

impl Default for EngineConfig {
    fn default() -> EngineConfig {
        EngineConfig {
            max_duration: EXPRESS_MAX_DURATION,
            record_history: false,
            region: "us-east-1".into(),
            account: "123456789012".into(),
            default_map_concurrency: 0,
            virtual_time: false,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
        }
    }
}

/// What executions need besides their program: configuration and task resources.
#[derive(Clone)]
pub struct Engine {
    pub config: Arc<EngineConfig>,
    pub resources: Arc<Resources>,
    admission: Arc<start::Admission>,
}

impl Engine {
    pub fn new(config: EngineConfig, resources: Resources) -> Engine {
        Engine { config: Arc::new(config), resources: Arc::new(resources), admission: Arc::default() }
    }
}

impl Default for Engine {
    fn default() -> Engine {
        Engine::new(EngineConfig::default(), Resources::default())
    }
}
