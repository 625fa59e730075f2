//! The in-process target: the engine as a library, one synchronous execution per event.
//!
//! Each call crosses the same JSON boundary a server would: the event text is parsed into the
//! engine's value, the execution runs to its end, and a successful output is serialised. Task
//! resources can be "local functions" that answer with their input plus fixed fields, like the
//! `annotate` function of the standard `task` workflow.
//!
//! With `json_boundary = false` (replayed events only), the events are parsed before the run and
//! outputs are not serialised: the engine alone is measured, as an SDK caller holding values
//! would use it, and as in-process peers (which take and return objects) are measured.
//!
//! Each worker thread keeps its own copies of the start options and the parsed events, as a
//! caller on several cores would, so the cores share no reference counts (one shared event
//! value made two threads slower than one: every execution bumped and dropped the same
//! reference counts from both cores).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use expressway::program::Program;
use expressway::runtime::{Engine, EngineConfig, ExecutionStatus, StartOptions};
use expressway::tasks::{handler_fn, Resources};
use expressway::value::{parse_str, Value};

use crate::stats::Outcome;

pub struct InProcess {
    name: String,
    /// Tells this target's thread-local copies from another's.
    id: u64,
    engine: Engine,
    program: Arc<Program>,
    /// Replayed events parsed before the run (`json_boundary = false`); request `n` takes
    /// `n % len`, the line the replay source renders for it.
    preparsed: Option<Arc<Vec<Value>>>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// This thread's copies for one `InProcess` (by id): start options, parsed events.
struct Local {
    owner: u64,
    opts: StartOptions,
    events: Vec<Value>,
}

thread_local! {
    static LOCAL: RefCell<Option<Local>> = const { RefCell::new(None) };
}

impl InProcess {
    /// `local_functions` maps a Task resource ARN to the fields its handler adds to its input.
    pub fn new(name: &str, program: Arc<Program>, local_functions: &BTreeMap<String, serde_json::Map<String, serde_json::Value>>) -> InProcess {
        let mut resources = Resources::default();
        for (resource, fields) in local_functions {
            let fields: Arc<Vec<(String, Value)>> = Arc::new(fields.iter().map(|(k, v)| (k.clone(), Value::from_serde(v))).collect());
            resources.register(
                resource,
                handler_fn(move |req| {
                    let fields = Arc::clone(&fields);
                    async move {
                        let mut v = req.input;
                        if let Some(m) = v.as_object_mut() {
                            for (k, x) in fields.iter() {
                                m.insert(k.as_str().into(), x.clone());
                            }
                        }
                        Ok(v)
                    }
                }),
            );
        }
        let engine = Engine::new(EngineConfig::default(), resources);
        InProcess { name: name.to_string(), id: NEXT_ID.fetch_add(1, Ordering::Relaxed), engine, program, preparsed: None }
    }

    /// Skips the JSON boundary: `lines` (the replayed events) are parsed now, once.
    pub fn without_json_boundary(mut self, lines: &[String]) -> Result<InProcess, String> {
        let values = lines.iter().enumerate().map(|(i, l)| parse_str(l).map_err(|e| format!("replayed event {}: {e}", i + 1)));
        self.preparsed = Some(Arc::new(values.collect::<Result<_, _>>()?));
        Ok(self)
    }

    /// This thread's start options and, without the JSON boundary, its copy of request `n`'s
    /// parsed event (`None` when the replayed events are empty).
    fn local(&self, n: u64) -> Option<(Option<Value>, StartOptions)> {
        let owner = self.id;
        LOCAL.with(|cell| {
            let mut cell = cell.borrow_mut();
            let local = match &mut *cell {
                Some(local) if local.owner == owner => local,
                other => {
                    // A deep copy: serialised and parsed again, so no value is shared. The
                    // events parsed once already; should one not, the request fails visibly.
                    let copies = self.preparsed.iter().flat_map(|v| v.iter()).map(|v| parse_str(&v.to_json()));
                    let events = copies.collect::<Result<_, _>>().ok()?;
                    let opts = StartOptions::for_machine(&self.engine, &self.name);
                    other.insert(Local { owner, opts, events })
                }
            };
            let event = match &self.preparsed {
                Some(_) => Some(local.events.get((n % local.events.len().max(1) as u64) as usize)?.clone()),
                None => None,
            };
            Some((event, local.opts.clone()))
        })
    }

    /// Runs request `n`, whose event text is `event`.
    pub async fn call(&self, n: u64, event: &str) -> Outcome {
        let Some((preparsed, opts)) = self.local(n) else { return Outcome::Failed("InvalidExecutionInput".into()) };
        let input = match preparsed {
            Some(v) => v,
            None => match parse_str(event) {
                Ok(v) => v,
                Err(_) => return Outcome::Failed("InvalidExecutionInput".into()),
            },
        };
        match self.engine.start_sync(&self.program, input, opts).await {
            Ok(outcome) if outcome.status == ExecutionStatus::Succeeded => {
                // The boundary a caller pays: the output leaves as JSON text.
                if let (Some(output), None) = (&outcome.output, &self.preparsed) {
                    std::hint::black_box(output.to_json());
                }
                Outcome::Ok
            }
            Ok(outcome) => Outcome::Failed(execution_error_kind(outcome.status.as_str(), outcome.error.as_deref())),
            // The engine's own admission limit (`EngineConfig::max_in_flight`) was reached.
            Err(e) => Outcome::Failed(e.aws_type().into()),
        }
    }
}

/// `execution FAILED: States.TaskFailed`, the kind under which a finished-but-unsuccessful
/// execution is counted (shared with the HTTP target, whose responses carry the same fields).
pub fn execution_error_kind(status: &str, error: Option<&str>) -> String {
    match error {
        Some(e) if !e.is_empty() => format!("execution {status}: {e}"),
        _ => format!("execution {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expressway::asl::StateMachineType;
    use expressway::machine::StateMachine;

    fn target(definition: &str) -> InProcess {
        let m = StateMachine::new("t", definition, StateMachineType::Express).unwrap();
        let mut functions = BTreeMap::new();
        let mut fields = serde_json::Map::new();
        fields.insert("processedBy".into(), "local-fn".into());
        functions.insert("arn:aws:lambda:us-east-1:1:function:f".to_string(), fields);
        InProcess::new("t", m.program, &functions)
    }

    #[tokio::test]
    async fn successes_failures_and_bad_input_are_told_apart() {
        let pass = target(r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#);
        assert_eq!(pass.call(0, r#"{"a":1}"#).await, Outcome::Ok);
        assert_eq!(pass.call(1, "{nope").await, Outcome::Failed("InvalidExecutionInput".into()));
        let fail = target(r#"{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Boom"}}}"#);
        assert_eq!(fail.call(0, "{}").await, Outcome::Failed("execution FAILED: Boom".into()));
    }

    #[tokio::test]
    async fn preparsed_events_follow_the_replay_order() {
        let echo = target(r#"{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.ok","BooleanEquals":true,"Next":"S"}],"Default":"F"},
            "S":{"Type":"Succeed"},"F":{"Type":"Fail","Error":"NotOk"}}}"#);
        let echo = echo.without_json_boundary(&[r#"{"ok":true}"#.into(), r#"{"ok":false}"#.into()]).unwrap();
        // The text passed is ignored: request n runs replayed line n % 2.
        assert_eq!(echo.call(0, "ignored").await, Outcome::Ok);
        assert_eq!(echo.call(3, "ignored").await, Outcome::Failed("execution FAILED: NotOk".into()));
        let pass = target(r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#);
        assert!(pass.without_json_boundary(&["{".into()]).is_err());
    }

    #[tokio::test]
    async fn local_functions_add_their_fields() {
        let t = target(
            r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","Next":"C"},
                "C":{"Type":"Choice","Choices":[{"Variable":"$.processedBy","StringEquals":"local-fn","Next":"S"}],"Default":"F"},
                "S":{"Type":"Succeed"},"F":{"Type":"Fail","Error":"NotAnnotated"}}}"#,
        );
        assert_eq!(t.call(0, "{}").await, Outcome::Ok);
    }
}
