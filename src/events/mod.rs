//! EventBridge-style event routing: event patterns, the compiled matcher that evaluates all rules
//! of a bus in one pass over an event, and (in later modules) buses, rules and targets.
//!
//! Pattern semantics follow aws/event-ruler, the library behind EventBridge rules, case for case
//! (`../shared/eventbridge/cases`). Patterns and events are read from JSON *text*, because the
//! text carries number spellings and repeated keys that a parsed value loses.
//!
//! ```
//! use expressway::events::{Matcher, Pattern};
//! let pattern = Pattern::parse(r#"{"source": ["aws.ec2"], "detail": {"n": [{"numeric": [">", 5]}]}}"#).unwrap();
//! let mut matcher = Matcher::new();
//! matcher.add_rule(7, &pattern);
//! assert_eq!(&matcher.matches(r#"{"source": "aws.ec2", "detail": {"n": 6.5}}"#).unwrap()[..], &[7]);
//! assert!(pattern.matches(r#"{"source": "aws.ec2", "detail": {"n": 5}}"#).unwrap() == false);
//! ```

pub mod api;
pub mod bus;
mod classify;
mod exact;
mod flatten;
mod index;
pub mod ingest;
mod ip;
mod json;
mod keylog;
mod matcher;
mod number;
mod pattern;
pub mod rules_file;
pub mod schedule;
mod scan;
pub mod sinks;
mod strings;
pub mod transform;

pub use api::{EventsApi, EventsApiError};
pub use bus::{Buses, Delivery, DeliveryError, EntryResult, EventEntry, RuleSpec, RuleState, RuleStats, TargetSink, TargetSpec};
pub use flatten::EventError;
pub use json::JsonError;
pub use matcher::{Matcher, RuleId};
pub use pattern::{AnythingBut, Branch, Condition, Field, Literal, NumericRange, Pattern, PatternError, MAX_BRANCHES};
