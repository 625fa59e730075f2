//! Execution logging as AWS does it for Express workflows (CloudWatch Logs), written as NDJSON
//! to stdout or `--log-file`: one record per history event the state machine's
//! `loggingConfiguration.level` selects.
//!
//! Record shape (recorded on AWS): `{"id": "3", "type": "PassStateExited", "details": {…},
//! "previous_event_id": "2", "event_timestamp": "1700000000123", "execution_arn": "…",
//! "redrive_count": "0"}` — ids, timestamps (epoch milliseconds) and counts as strings. With
//! `includeExecutionData: false` the inputs and outputs are left out of `details`.
//!
//! Invariant: records of one execution are written together, in event order, after it ends
//! (lines of concurrent executions never interleave mid-line).

use std::io::Write;
use std::sync::Mutex;

use serde_json::{json, Map, Value as Json};

use crate::vm::HistoryEvent;

use super::history::{ExecutionContext, Mapper};
use super::protocol::{ApiError, ErrorCode};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LogLevel {
    All,
    Error,
    Fatal,
    #[default]
    Off,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::All => "ALL",
            LogLevel::Error => "ERROR",
            LogLevel::Fatal => "FATAL",
            LogLevel::Off => "OFF",
        }
    }

    /// Whether an event of this type is logged at this level (AWS's lists per level).
    pub fn logs(self, kind: &str) -> bool {
        let fatal = matches!(kind, "ExecutionAborted" | "ExecutionFailed" | "ExecutionTimedOut");
        match self {
            LogLevel::Off => false,
            LogLevel::All => true,
            LogLevel::Fatal => fatal,
            LogLevel::Error => {
                fatal
                    || matches!(
                        kind,
                        "FailStateEntered"
                            | "LambdaFunctionFailed"
                            | "LambdaFunctionScheduleFailed"
                            | "LambdaFunctionStartFailed"
                            | "LambdaFunctionTimedOut"
                            | "MapIterationAborted"
                            | "MapIterationFailed"
                            | "MapStateAborted"
                            | "MapStateFailed"
                            | "MapRunAborted"
                            | "MapRunFailed"
                            | "ParallelStateAborted"
                            | "ParallelStateFailed"
                            | "TaskFailed"
                            | "TaskStartFailed"
                            | "TaskStateAborted"
                            | "TaskSubmitFailed"
                            | "TaskTimedOut"
                            | "WaitStateAborted"
                    )
            }
        }
    }
}

/// A state machine's `loggingConfiguration`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct LoggingConfig {
    pub level: LogLevel,
    pub include_execution_data: bool,
    /// `destinations` as given (CloudWatch log group ARNs): reported back, not written to.
    pub destinations: Vec<Json>,
}

impl LoggingConfig {
    /// Reads a request's `loggingConfiguration`, with AWS's rules: at most one destination,
    /// and exactly one unless the level is OFF.
    pub fn from_request(v: &Json) -> Result<LoggingConfig, ApiError> {
        let invalid =
            |m: &str| ApiError::new(ErrorCode::InvalidLoggingConfiguration, format!("Invalid Logging Configuration: {m}"));
        let level = match v.get("level").map(|l| l.as_str()) {
            None | Some(Some("OFF")) => LogLevel::Off,
            Some(Some("ALL")) => LogLevel::All,
            Some(Some("ERROR")) => LogLevel::Error,
            Some(Some("FATAL")) => LogLevel::Fatal,
            Some(other) => {
                return Err(ApiError::bad_enum(
                    "loggingConfiguration.level",
                    other.unwrap_or("null"),
                    &["ALL", "ERROR", "FATAL", "OFF"],
                ))
            }
        };
        let include_execution_data = match v.get("includeExecutionData") {
            None => false,
            Some(Json::Bool(b)) => *b,
            Some(_) => return Err(ApiError::new(ErrorCode::SerializationException, "includeExecutionData must be a boolean")),
        };
        let destinations = match v.get("destinations") {
            None | Some(Json::Null) => Vec::new(),
            Some(Json::Array(a)) => a.clone(),
            Some(_) => return Err(ApiError::new(ErrorCode::SerializationException, "destinations must be a list")),
        };
        if destinations.len() > 1 || (level != LogLevel::Off && destinations.is_empty()) {
            return Err(invalid("Must specify exactly one Log Destination."));
        }
        Ok(LoggingConfig { level, include_execution_data, destinations })
    }

    /// The `loggingConfiguration` member of Describe* responses.
    pub fn to_json(&self) -> Json {
        let mut out = Map::new();
        out.insert("level".into(), Json::from(self.level.as_str()));
        out.insert("includeExecutionData".into(), Json::from(self.include_execution_data));
        if !self.destinations.is_empty() {
            out.insert("destinations".into(), Json::Array(self.destinations.clone()));
        }
        Json::Object(out)
    }
}

/// Where log records go.
pub struct LogSink {
    out: Mutex<Box<dyn Write + Send>>,
}

impl LogSink {
    pub fn new(out: Box<dyn Write + Send>) -> LogSink {
        LogSink { out: Mutex::new(out) }
    }

    pub fn stdout() -> LogSink {
        LogSink::new(Box::new(std::io::stdout()))
    }

    /// Writes the records `config` selects from one execution's history.
    pub fn write_execution(
        &self,
        config: &LoggingConfig,
        ctx: ExecutionContext<'_>,
        execution_arn: &str,
        redrive_count: u32,
        history: &[HistoryEvent],
    ) {
        if config.level == LogLevel::Off {
            return;
        }
        let mut mapper = Mapper::new(ctx, config.include_execution_data);
        let mut text = String::new();
        for event in history {
            let mapped = mapper.map(event);
            if !config.level.logs(&event.kind) {
                continue;
            }
            let details = mapped.details.map(|(_, d)| d).unwrap_or_else(|| json!({}));
            let record = json!({
                "id": event.id.to_string(),
                "type": event.kind,
                "details": details,
                "previous_event_id": event.id.saturating_sub(1).to_string(),
                "event_timestamp": event.timestamp_ms.to_string(),
                "execution_arn": execution_arn,
                "redrive_count": redrive_count.to_string(),
            });
            text.push_str(&record.to_string());
            text.push('\n');
        }
        if text.is_empty() {
            return;
        }
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        // A log that cannot be written must not fail executions; the error goes to stderr once
        // per execution instead.
        if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
            eprintln!("expressway serve: cannot write execution log records: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::value::Value;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl Write for Buffer {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn history() -> Vec<HistoryEvent> {
        let input = crate::value::parse_str(r#"{"x":1}"#).unwrap();
        vec![
            HistoryEvent {
                id: 1,
                kind: "ExecutionStarted".into(),
                timestamp_ms: 5,
                state: None,
                details: Some(Value::object([("input", input)])),
            },
            HistoryEvent {
                id: 2,
                kind: "ExecutionFailed".into(),
                timestamp_ms: 6,
                state: None,
                details: Some(Value::object([("Error", Value::from("E"))])),
            },
        ]
    }

    fn write(config: &LoggingConfig) -> Vec<Json> {
        let buf = Buffer::default();
        let sink = LogSink::new(Box::new(buf.clone()));
        let ctx = ExecutionContext { role_arn: "r", region: "us-east-1", version_arn: None, alias_arn: None };
        sink.write_execution(config, ctx, "arn:e", 0, &history());
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    #[test]
    fn levels_select_events_and_records_have_aws_shape() {
        let all = write(&LoggingConfig { level: LogLevel::All, include_execution_data: true, destinations: vec![] });
        assert_eq!(all.len(), 2);
        assert_eq!(all[0]["id"], "1");
        assert_eq!(all[0]["previous_event_id"], "0");
        assert_eq!(all[0]["event_timestamp"], "5");
        assert_eq!(all[0]["details"]["input"], r#"{"x":1}"#);
        assert_eq!(all[1]["details"]["error"], "E");
        let fatal = write(&LoggingConfig { level: LogLevel::Fatal, include_execution_data: false, destinations: vec![] });
        assert_eq!(fatal.len(), 1);
        assert_eq!(fatal[0]["type"], "ExecutionFailed");
        assert!(write(&LoggingConfig::default()).is_empty());
        let no_data = write(&LoggingConfig { level: LogLevel::All, include_execution_data: false, destinations: vec![] });
        assert!(no_data[0]["details"].get("input").is_none());
    }

    #[test]
    fn configuration_follows_aws_rules() {
        assert_eq!(LoggingConfig::from_request(&json!({})).unwrap(), LoggingConfig::default());
        let e = LoggingConfig::from_request(&json!({"level": "ALL"})).err().unwrap();
        assert_eq!(e.aws_type(), "InvalidLoggingConfiguration");
        let ok = LoggingConfig::from_request(
            &json!({"level": "ERROR", "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": "a"}}]}),
        );
        assert_eq!(ok.unwrap().level, LogLevel::Error);
        assert_eq!(LoggingConfig::from_request(&json!({"level": "LOUD"})).err().unwrap().aws_type(), "ValidationException");
    }
}
