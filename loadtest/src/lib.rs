//! `expressway-loadtest`: a load generator and harness for Expressway.
//!
//! A run is a [`scenario::Plan`] (workflow, events, traffic shape, target) executed by
//! [`runner::run`], which returns a [`report::Report`] (JSON and self-contained HTML).
//!
//! - `template`: events from a template with random fields, or replayed from NDJSON.
//! - `traffic`: open-loop schedules (constant, burst, ramp) and closed-loop clients.
//! - `target`: the in-process engine, or an HTTP server speaking the AWS protocols.
//! - `stats`: contention-free recording into hdrhistograms, drained once a second.
//! - `procfs`: memory and CPU of the engine's process.

pub mod procfs;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod stats;
pub mod target;
pub mod template;
pub mod traffic;
