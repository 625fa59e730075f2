//! History events as AWS names and numbers them (`PassStateEntered`, …). Recording is optional:
//! the id counter always runs (causes quote ids); the event list is kept only when asked for.

use crate::value::{Str, Value};

#[derive(Clone, Debug)]
pub struct HistoryEvent {
    pub id: u64,
    pub kind: String,
    pub timestamp_ms: i64,
    pub state: Option<Str>,
    pub details: Option<Value>,
}
