//! TestState's response, in AWS's shape (JSON documents as strings), and which inspection
//! fields a state shows.
//!
//! The VM records every stage it passes; AWS shows a subset that depends on the state type and
//! query language. The rules below are read off AWS's recordings:
//! - every state: `input`;
//! - JSONPath Pass, Task, Choice, Wait, Succeed, Fail: `afterInputPath` (a Pass with `Result`
//!   shows `result` instead of `afterInputPath`/`afterParameters`);
//! - JSONPath Pass without `Result` and Task: `afterParameters`; JSONata Task: `afterArguments`;
//! - Task: `result`; JSONPath Pass, Task, Parallel: `afterResultSelector`, `afterResultPath`;
//! - a mocked JSONPath Parallel echoes the mock's text, as a string, as `afterResultSelector`
//!   (and as `afterResultPath` when ResultPath keeps the whole result), while its output is
//!   the parsed mock; Parallel shows no input stages and Map no result stages;
//! - Map: `maxConcurrency` (0 when unset) and the tolerated failure count/percentage it sets;
//! - `errorDetails` when a retrier matched (`retryIndex`, and `retryBackoffIntervalSeconds` when
//!   it retries) or a catcher caught (`catchIndex`);
//! - `variables` when the request gave variables or the state assigns any.
//!
//! TRACE adds the HTTP request and response of HTTP Tasks; no HTTP Task integration runs here,
//! so TRACE shows what DEBUG shows.

use serde::Serialize;

use crate::program::{QueryLanguage, ResultPath, State, StateKind};
use crate::value::Value;
use crate::vm::Inspection;

/// `status` of a TestState response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TestExecutionStatus {
    Succeeded,
    Failed,
    Retriable,
    CaughtError,
}

impl TestExecutionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TestExecutionStatus::Succeeded => "SUCCEEDED",
            TestExecutionStatus::Failed => "FAILED",
            TestExecutionStatus::Retriable => "RETRIABLE",
            TestExecutionStatus::CaughtError => "CAUGHT_ERROR",
        }
    }
}

/// The TestState response. Serialises to AWS's JSON (`serde_json::to_string`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestStateResponse {
    /// The state's output, JSON text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inspection_data: Option<InspectionData>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_state: Option<String>,
    pub status: TestExecutionStatus,
}

/// `inspectionData` (DEBUG and TRACE): JSON documents as text.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InspectionData {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_arguments: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_input_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_parameters: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_result_selector: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_result_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variables: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_details: Option<InspectionErrorDetails>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tolerated_failure_count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tolerated_failure_percentage: Option<f64>,
}

/// `inspectionData.errorDetails`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InspectionErrorDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catch_index: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_index: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_backoff_interval_seconds: Option<u64>,
}

/// A Map state's settings as its run evaluated them.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct MapSettings {
    pub max_concurrency: u64,
    pub tolerated_failure_count: Option<u64>,
    pub tolerated_failure_percentage: Option<f64>,
}

/// What the run left behind that inspection data is made of.
pub(super) struct Observed<'a> {
    pub state: &'a State,
    pub input: &'a Value,
    pub inspection: &'a Inspection,
    pub map: Option<MapSettings>,
    /// The mocked result's text, for the Parallel echo.
    pub mock_text: Option<&'a str>,
    /// The variables after the state, when they are shown.
    pub variables: Option<Value>,
}

fn text(v: &Option<Value>) -> Option<String> {
    v.as_ref().map(Value::to_json)
}

pub(super) fn inspection_data(o: &Observed) -> InspectionData {
    let ins = o.inspection;
    let jsonpath = o.state.query_language == QueryLanguage::JsonPath;
    let mut d = InspectionData { input: Some(o.input.to_json()), ..InspectionData::default() };
    match &o.state.kind {
        StateKind::Pass { result } if jsonpath => {
            if result.is_some() {
                d.result = text(&ins.result);
            } else {
                d.after_input_path = text(&ins.after_input_path);
                d.after_parameters = text(&ins.after_parameters);
            }
            d.after_result_selector = text(&ins.after_result_selector);
            d.after_result_path = text(&ins.after_result_path);
        }
        StateKind::Task(_) if jsonpath => {
            d.after_input_path = text(&ins.after_input_path);
            d.after_parameters = text(&ins.after_parameters);
            d.result = text(&ins.result);
            d.after_result_selector = text(&ins.after_result_selector);
            d.after_result_path = text(&ins.after_result_path);
        }
        StateKind::Task(_) => {
            d.after_arguments = text(&ins.after_arguments);
            d.result = text(&ins.result);
        }
        StateKind::Choice { .. } | StateKind::Wait(_) | StateKind::Succeed | StateKind::Fail(_) if jsonpath => {
            d.after_input_path = text(&ins.after_input_path);
        }
        StateKind::Parallel { .. } if jsonpath => {
            let echo = |v: &Option<Value>| match o.mock_text {
                Some(t) => v.as_ref().map(|_| Value::from(t).to_json()),
                None => text(v),
            };
            d.after_result_selector = match o.state.io.result_selector {
                None => echo(&ins.after_result_selector),
                Some(_) => text(&ins.after_result_selector),
            };
            d.after_result_path = match (&o.state.io.result_path, &o.state.io.result_selector) {
                (ResultPath::Replace, None) => echo(&ins.after_result_path),
                _ => text(&ins.after_result_path),
            };
        }
        StateKind::Map(_) => {
            if let Some(m) = o.map {
                d.max_concurrency = Some(m.max_concurrency);
                d.tolerated_failure_count = m.tolerated_failure_count;
                d.tolerated_failure_percentage = m.tolerated_failure_percentage;
            }
        }
        _ => {}
    }
    if ins.retry_index.is_some() || ins.catch_index.is_some() {
        d.error_details = Some(InspectionErrorDetails {
            catch_index: ins.catch_index.map(|i| i as u64),
            retry_index: ins.retry_index.map(|i| i as u64),
            // AWS reports whole seconds; we round the back-off the VM computed.
            retry_backoff_interval_seconds: ins.retry_backoff_seconds.map(|s| s.max(0.0).round() as u64),
        });
    }
    d.variables = o.variables.as_ref().map(Value::to_json);
    d
}
