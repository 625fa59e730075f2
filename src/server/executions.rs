//! Executions the server knows: the running ones (with their stop handles) and a bounded ring
//! of recent finished ones, Express included, so DescribeExecution, ListExecutions and
//! GetExecutionHistory work for them (AWS keeps no history for Express executions).
//!
//! Invariants:
//! - Running executions are never evicted; their number is bounded by the engine's admission
//!   limit (`--max-in-flight`).
//! - Finished executions live in the ring until it holds more than `max_count` of them or more
//!   than `max_bytes` (an estimate: input and output text, error and cause, the encoded
//!   history, plus a fixed cost per record); then the oldest go first. With `max_count == 0`
//!   nothing finished is kept.
//! - Finished executions keep their history encoded ([`CompactHistory`]): one buffer instead
//!   of the engine's values, so holding and evicting them is cheap; GetExecutionHistory
//!   decodes it on demand.
//! - A STANDARD execution's ARN (`execution:MACHINE:NAME`) is unique among the executions
//!   held: StartExecution checks and inserts under one lock.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use rustc_hash::FxHashMap;

use crate::runtime::{ExecutionStatus, StopHandle};
use crate::value::Str;

use super::compact::CompactHistory;
use super::registry::Revision;

/// Rough bytes one record costs beyond its payloads and events.
const RECORD_BYTES: usize = 512;

/// The bounds of the ring of finished executions.
#[derive(Clone, Copy, Debug)]
pub struct RingLimits {
    pub max_count: usize,
    pub max_bytes: usize,
}

/// How an execution ended.
#[derive(Debug)]
pub struct Finished {
    pub status: ExecutionStatus,
    pub stop_ms: i64,
    /// Output as JSON text.
    pub output: Option<Str>,
    pub error: Option<Str>,
    pub cause: Option<Str>,
    pub history: CompactHistory,
}

/// One execution, running or finished.
pub struct ExecutionRecord {
    pub arn: Str,
    pub name: Str,
    pub revision: Arc<Revision>,
    pub version_arn: Option<Str>,
    pub alias_arn: Option<Str>,
    pub express: bool,
    pub start_ms: i64,
    /// Input as JSON text.
    pub input: Str,
    pub trace_header: Option<Str>,
    pub stop: Option<StopHandle>,
    pub finished: OnceLock<Finished>,
}

impl ExecutionRecord {
    pub fn status(&self) -> &'static str {
        self.finished.get().map_or("RUNNING", |f| f.status.as_str())
    }

    fn approx_bytes(&self) -> usize {
        let f = self.finished.get();
        let len = |s: &Option<Str>| s.as_ref().map_or(0, |s| s.len());
        RECORD_BYTES + self.input.len() + f.map_or(0, |f| len(&f.output) + len(&f.error) + len(&f.cause) + f.history.heap_bytes())
    }
}

struct Inner {
    by_arn: FxHashMap<Str, Arc<ExecutionRecord>>,
    /// Finished executions, oldest first, with their byte estimates.
    ring: VecDeque<(Str, usize)>,
    ring_bytes: usize,
}

pub struct ExecutionStore {
    limits: RingLimits,
    inner: Mutex<Inner>,
}

/// The store locked for a check-then-insert (StartExecution's name rule).
pub struct Locked<'a> {
    store: &'a ExecutionStore,
    inner: MutexGuard<'a, Inner>,
    /// Records pushed out of the ring. Fields drop in declaration order, so these are freed
    /// after the lock is released: freeing a whole history walks cold memory, which other
    /// requests need not wait for.
    evicted: Vec<Arc<ExecutionRecord>>,
}

impl Locked<'_> {
    pub fn get(&self, arn: &str) -> Option<Arc<ExecutionRecord>> {
        self.inner.by_arn.get(arn).cloned()
    }

    pub fn insert(&mut self, record: Arc<ExecutionRecord>) {
        let finished = record.finished.get().is_some();
        let arn = record.arn.clone();
        if finished {
            if self.store.limits.max_count == 0 {
                return;
            }
            let bytes = record.approx_bytes();
            self.inner.by_arn.insert(arn.clone(), record);
            self.push_ring(arn, bytes);
        } else {
            self.inner.by_arn.insert(arn, record);
        }
    }

    fn push_ring(&mut self, arn: Str, bytes: usize) {
        let limits = self.store.limits;
        self.inner.ring.push_back((arn, bytes));
        self.inner.ring_bytes += bytes;
        while self.inner.ring.len() > limits.max_count || (self.inner.ring_bytes > limits.max_bytes && self.inner.ring.len() > 1)
        {
            let Some((old, b)) = self.inner.ring.pop_front() else { break };
            self.inner.ring_bytes -= b;
            if let Some(record) = self.inner.by_arn.remove(&old) {
                self.evicted.push(record);
            }
        }
    }
}

impl ExecutionStore {
    /// Whether finished executions are kept (and so need their history recorded).
    pub fn keeps_finished(&self) -> bool {
        self.limits.max_count > 0
    }

    pub fn new(limits: RingLimits) -> ExecutionStore {
        ExecutionStore { limits, inner: Mutex::new(Inner { by_arn: FxHashMap::default(), ring: VecDeque::new(), ring_bytes: 0 }) }
    }

    pub fn limits(&self) -> RingLimits {
        self.limits
    }

    pub fn lock(&self) -> Locked<'_> {
        Locked { store: self, inner: self.inner.lock().unwrap_or_else(|p| p.into_inner()), evicted: Vec::new() }
    }

    pub fn get(&self, arn: &str) -> Option<Arc<ExecutionRecord>> {
        self.lock().get(arn)
    }

    /// Adds an execution (running, or finished for synchronous ones).
    pub fn insert(&self, record: Arc<ExecutionRecord>) {
        self.lock().insert(record)
    }

    /// Records the end of a running execution; it moves into the ring (or is forgotten when the
    /// ring keeps nothing).
    pub fn finish(&self, arn: &str, finished: Finished) -> Option<Arc<ExecutionRecord>> {
        let mut locked = self.lock();
        let record = locked.inner.by_arn.get(arn).cloned()?;
        // `finish` is called once per execution (the runtime's `on_done` contract).
        let _ = record.finished.set(finished);
        if self.limits.max_count == 0 {
            let forgotten = locked.inner.by_arn.remove(arn);
            drop(locked);
            drop(forgotten);
        } else {
            let bytes = record.approx_bytes();
            locked.push_ring(record.arn.clone(), bytes);
        }
        Some(record)
    }

    /// The executions of one state machine (all of its versions and aliases).
    pub fn of_machine(&self, machine_arn: &str) -> Vec<Arc<ExecutionRecord>> {
        let locked = self.lock();
        locked.inner.by_arn.values().filter(|r| &*r.revision.machine_arn == machine_arn).cloned().collect()
    }

    /// Stop handles of every running execution (for shutdown).
    pub fn running(&self) -> Vec<Arc<ExecutionRecord>> {
        let locked = self.lock();
        locked.inner.by_arn.values().filter(|r| r.finished.get().is_none()).cloned().collect()
    }

    /// (finished executions held, their estimated bytes)
    pub fn ring_usage(&self) -> (usize, usize) {
        let locked = self.lock();
        (locked.inner.ring.len(), locked.inner.ring_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asl::StateMachineType;
    use crate::server::arns::ArnScope;
    use crate::server::registry::{Registry, Settings};

    fn revision() -> Arc<Revision> {
        let r = Registry::new(ArnScope { region: "us-east-1".into(), account: "123456789012".into() });
        let def = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#;
        Arc::new(r.build_revision("Sm", def, StateMachineType::Express, Settings::default(), 0).unwrap())
    }

    fn record(rev: &Arc<Revision>, arn: &str, input: &str, done: bool) -> Arc<ExecutionRecord> {
        let r = ExecutionRecord {
            arn: Str::from(arn),
            name: Str::from("n"),
            revision: Arc::clone(rev),
            version_arn: None,
            alias_arn: None,
            express: true,
            start_ms: 0,
            input: Str::from(input),
            trace_header: None,
            stop: None,
            finished: OnceLock::new(),
        };
        if done {
            let _ = r.finished.set(Finished {
                status: ExecutionStatus::Succeeded,
                stop_ms: 1,
                output: Some(Str::from("{}")),
                error: None,
                cause: None,
                history: CompactHistory::default(),
            });
        }
        Arc::new(r)
    }

    #[test]
    fn the_ring_evicts_oldest_by_count() {
        let rev = revision();
        let store = ExecutionStore::new(RingLimits { max_count: 2, max_bytes: usize::MAX });
        for arn in ["a", "b", "c"] {
            store.insert(record(&rev, arn, "{}", true));
        }
        assert!(store.get("a").is_none());
        assert!(store.get("b").is_some() && store.get("c").is_some());
        assert_eq!(store.ring_usage().0, 2);
    }

    #[test]
    fn the_ring_evicts_by_bytes_but_never_running_executions() {
        let rev = revision();
        let store = ExecutionStore::new(RingLimits { max_count: 100, max_bytes: 3 * RECORD_BYTES });
        store.insert(record(&rev, "running", "{}", false));
        for arn in ["a", "b", "c", "d"] {
            store.insert(record(&rev, arn, &"x".repeat(100), true));
        }
        assert!(store.get("running").is_some());
        assert!(store.get("a").is_none());
        assert!(store.get("d").is_some());
        assert!(store.ring_usage().1 <= 3 * RECORD_BYTES);
        assert_eq!(store.running().len(), 1);
    }

    #[test]
    fn finishing_moves_into_the_ring_or_forgets_when_it_keeps_nothing() {
        let rev = revision();
        let store = ExecutionStore::new(RingLimits { max_count: 0, max_bytes: 0 });
        store.insert(record(&rev, "r", "{}", false));
        let fin = Finished {
            status: ExecutionStatus::Aborted,
            stop_ms: 2,
            output: None,
            error: None,
            cause: None,
            history: CompactHistory::default(),
        };
        assert_eq!(store.finish("r", fin).unwrap().status(), "ABORTED");
        assert!(store.get("r").is_none());
        store.insert(record(&rev, "s", "{}", true));
        assert!(store.get("s").is_none());
    }
}
