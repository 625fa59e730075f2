//! Expressway: an in-memory engine for AWS Step Functions Express workflows.
//!
//! Data flows `asl` (definition text, validation) → `compile` (a flat [`program::Program`]) →
//! `vm` (synchronous, resumable execution of one program over [`value::Value`]s) → `runtime`
//! (tokio drivers: Task I/O, timers, fan-out, limits). See `docs/ARCHITECTURE.md`.

pub mod asl;
pub mod choice;
pub mod clock;
pub mod compile;
pub mod coverage;
pub mod error;
pub mod events;
pub mod ids;
pub mod intrinsics;
pub mod jsonata;
pub mod jsonpath;
pub mod machine;
pub mod program;
pub mod runtime;
pub mod server;
pub mod tasks;
pub mod test_state;
pub mod timestamp;
pub mod value;
pub mod vm;
