//! Per-execution shared state ([`ExecShared`]) and the roots paths are evaluated against
//! ([`StateRoots`]): the state's input, the lazily built context object (`$$`), and variables.
//!
//! Invariant: history event ids are allocated from one counter per execution, in the order the
//! events happen, exactly as AWS numbers them (ExecutionStarted is #1); causes quote them.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::clock::Clock;
use crate::jsonpath::Roots;
use crate::value::{Str, Value};

use super::history::HistoryEvent;

/// Who an execution is: the values the context object's `Execution` and `StateMachine` hold.
#[derive(Clone, Debug)]
pub struct ExecutionIdentity {
    pub execution_arn: Str,
    pub name: Str,
    pub state_machine_arn: Str,
    pub state_machine_name: Str,
    pub role_arn: Str,
    pub start_ms: i64,
    /// `Some(0)` for executions AWS reports a RedriveCount for (Standard, async Express);
    /// `None` for synchronous Express executions, whose context has no RedriveCount.
    pub redrive_count: Option<u32>,
}

/// Shared by every thread (branch, iteration) of one execution.
pub struct ExecShared {
    pub identity: ExecutionIdentity,
    pub input: Value,
    pub clock: Clock,
    next_event_id: AtomicU64,
    history: Option<Mutex<Vec<HistoryEvent>>>,
    /// `{Execution: …, StateMachine: …}` parts of the context object, built on first use
    /// (most executions of pure workflows never read `$$`).
    execution_ctx: OnceLock<Value>,
    state_machine_ctx: OnceLock<Value>,
    /// Task invocations so far per state name (mocked responses are chosen by this index).
    invocations: Mutex<rustc_hash::FxHashMap<Str, u32>>,
    /// A whole context object given by the caller (TestState's `context`), used instead of the
    /// one built from the identity and the current state.
    context_override: Option<Value>,
}

impl ExecShared {
    pub fn new(identity: ExecutionIdentity, input: Value, clock: Clock, record_history: bool) -> Arc<ExecShared> {
        ExecShared::with_context(identity, input, clock, record_history, None)
    }

    /// Like `new`, with `context` (when given) as every state's context object (`$$`), plus
    /// `Map.Item` where one applies.
    pub fn with_context(
        identity: ExecutionIdentity,
        input: Value,
        clock: Clock,
        record_history: bool,
        context: Option<Value>,
    ) -> Arc<ExecShared> {
        Arc::new(ExecShared {
            identity,
            input,
            clock,
            next_event_id: AtomicU64::new(1),
            history: record_history.then(|| Mutex::new(Vec::new())),
            execution_ctx: OnceLock::new(),
            state_machine_ctx: OnceLock::new(),
            invocations: Mutex::new(Default::default()),
            context_override: context,
        })
    }

    /// Allocates the next history event id and records the event when history is kept.
    /// `details` is only built when history is recorded.
    pub fn event(&self, kind: &'static str, state: Option<&str>, details: impl FnOnce() -> Option<Value>) -> u64 {
        let id = self.next_event_id.fetch_add(1, Ordering::Relaxed);
        if let Some(h) = &self.history {
            let event = HistoryEvent {
                id,
                kind: Cow::Borrowed(kind),
                timestamp_ms: self.clock.now_ms(),
                state: state.map(Str::from),
                details: details(),
            };
            if let Ok(mut list) = h.lock() {
                list.push(event);
            }
        }
        id
    }

    /// Takes the recorded events out (empty when history is not kept), for the execution's
    /// outcome: it is the last reader.
    pub fn take_history(&self) -> Vec<HistoryEvent> {
        self.history.as_ref().and_then(|h| h.lock().ok().map(|mut l| std::mem::take(&mut *l))).unwrap_or_default()
    }

    pub fn records_history(&self) -> bool {
        self.history.is_some()
    }

    /// Returns how many times the state invoked its Task before, and counts this invocation.
    pub fn next_invocation(&self, state: &Str) -> u32 {
        let Ok(mut map) = self.invocations.lock() else { return 0 };
        let n = map.entry(state.clone()).or_insert(0);
        let index = *n;
        *n += 1;
        index
    }

    pub fn execution_context(&self) -> &Value {
        self.execution_ctx.get_or_init(|| {
            let id = &self.identity;
            let mut exec = vec![
                ("Id", Value::String(id.execution_arn.clone())),
                ("Input", self.input.clone()),
                ("StartTime", Value::from(crate::timestamp::format_iso(id.start_ms))),
                ("Name", Value::String(id.name.clone())),
                ("RoleArn", Value::String(id.role_arn.clone())),
            ];
            if let Some(n) = id.redrive_count {
                exec.push(("RedriveCount", Value::from(n as i64)));
            }
            Value::object(exec)
        })
    }

    fn state_machine_context(&self) -> &Value {
        self.state_machine_ctx.get_or_init(|| {
            Value::object([
                ("Id", Value::String(self.identity.state_machine_arn.clone())),
                ("Name", Value::String(self.identity.state_machine_name.clone())),
            ])
        })
    }
}

/// The item a Map state's ItemSelector is evaluated for (`$$.Map.Item`).
#[derive(Clone, Copy)]
pub struct MapItem<'a> {
    pub index: usize,
    pub value: &'a Value,
}

/// The roots of path evaluation inside one state.
pub struct StateRoots<'a> {
    pub input: &'a Value,
    pub exec: &'a ExecShared,
    pub state_name: &'a str,
    pub entered_ms: i64,
    pub retry_count: Option<u32>,
    pub map_item: Option<MapItem<'a>>,
    pub vars: Option<&'a super::vars::Frame>,
    /// Whether the state is a JSONata state (decides some error names).
    pub jsonata: bool,
}

impl StateRoots<'_> {
    /// The same roots with another input (e.g. a Task result for ResultSelector).
    pub fn with_input<'b>(&'b self, input: &'b Value) -> StateRoots<'b> {
        StateRoots {
            input,
            exec: self.exec,
            state_name: self.state_name,
            entered_ms: self.entered_ms,
            retry_count: self.retry_count,
            map_item: self.map_item,
            vars: self.vars,
            jsonata: self.jsonata,
        }
    }
}

impl Roots for StateRoots<'_> {
    fn input(&self) -> &Value {
        self.input
    }

    fn context(&self) -> Value {
        if let Some(given) = &self.exec.context_override {
            let mut ctx = given.clone();
            if let (Some(item), Some(map)) = (self.map_item, ctx.as_object_mut()) {
                map.insert("Map".into(), map_item_context(item));
            }
            return ctx;
        }
        let mut state = vec![
            ("EnteredTime", Value::from(crate::timestamp::format_iso(self.entered_ms))),
            ("Name", Value::from(self.state_name)),
        ];
        if let Some(n) = self.retry_count {
            state.push(("RetryCount", Value::from(n as i64)));
        }
        let mut top = vec![
            ("Execution", self.exec.execution_context().clone()),
            ("StateMachine", self.exec.state_machine_context().clone()),
            ("State", Value::object(state)),
        ];
        if let Some(item) = self.map_item {
            top.push(("Map", map_item_context(item)));
        }
        Value::object(top)
    }

    fn variable(&self, name: &str) -> Option<Value> {
        self.vars.and_then(|f| f.get(name))
    }
}

/// `$$.Map` while a Map state's ItemSelector runs: `{"Item": {"Index": …, "Value": …}}`.
fn map_item_context(item: MapItem) -> Value {
    Value::object([("Item", Value::object([("Index", Value::from(item.index as i64)), ("Value", item.value.clone())]))])
}
