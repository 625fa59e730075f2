//! History events as AWS names and numbers them (`PassStateEntered`, …). Recording is optional:
//! the id counter always runs (causes quote ids); the event list is kept only when asked for.

use std::borrow::Cow;

use crate::value::{Str, Value};

#[derive(Clone, Debug)]
pub struct HistoryEvent {
    pub id: u64,
    /// AWS's event type name; the engine's are static, decoded ones owned.
    pub kind: Cow<'static, str>,
    pub timestamp_ms: i64,
    pub state: Option<Str>,
    pub details: Option<Value>,
}
