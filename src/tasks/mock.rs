//! Mocked responses in the Step Functions Local mock-file format:
//! `{"StateMachines": {SM: {"TestCases": {CASE: {STATE: RESPONSE_NAME}}}},
//!   "MockedResponses": {RESPONSE_NAME: {"0": {"Return": …}, "1-2": {"Throw": {"Error", "Cause"}}}}}`.
//!
//! Invocation indexes count every invocation of a state within one execution, retries
//! included, from 0. An index no key covers is an error naming the response: we chose that over
//! repeating the last response so a test never passes on a response it did not define.

use std::path::Path as FsPath;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde_json::Value as Json;

use crate::error::AslError;
use crate::value::{Str, Value};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MockError {
    #[error("cannot read the mock file {path}: {message}")]
    Read { path: String, message: String },
    #[error("the mock file is not valid: {0}")]
    Invalid(String),
    #[error("the mock file has no test case '{test_case}'{hint}")]
    NoTestCase { test_case: String, hint: String },
    #[error("the mocked response '{response}' has no entry for invocation #{index} (indexes start at 0)")]
    NoResponseForInvocation { response: String, index: u32 },
}

/// One mocked outcome.
#[derive(Debug, Clone)]
pub enum MockOutcome {
    Return(Value),
    Throw(AslError),
}

/// The outcomes of one named mocked response, by invocation index range.
#[derive(Debug, Clone)]
pub struct MockedResponse {
    name: Str,
    ranges: Vec<(u32, u32, MockOutcome)>,
}

impl MockedResponse {
    /// The outcome for the `index`-th invocation.
    pub fn at(&self, index: u32) -> Result<Result<Value, AslError>, MockError> {
        match self.ranges.iter().find(|(lo, hi, _)| (*lo..=*hi).contains(&index)) {
            Some((_, _, MockOutcome::Return(v))) => Ok(Ok(v.clone())),
            Some((_, _, MockOutcome::Throw(e))) => Ok(Err(e.clone())),
            None => Err(MockError::NoResponseForInvocation { response: self.name.to_string(), index }),
        }
    }
}

/// A whole mock file.
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// state machine → test case → state → response name
    machines: FxHashMap<String, FxHashMap<String, FxHashMap<String, String>>>,
    responses: FxHashMap<String, Arc<MockedResponse>>,
}

/// The mocks of one test case: state name → response.
#[derive(Debug, Clone, Default)]
pub struct MockTestCase {
    pub name: String,
    states: FxHashMap<String, Arc<MockedResponse>>,
}

impl MockTestCase {
    pub fn response_for(&self, state: &str) -> Option<&Arc<MockedResponse>> {
        self.states.get(state)
    }
    /// The names of the states this test case mocks.
    pub fn mocked_states(&self) -> impl Iterator<Item = &str> {
        self.states.keys().map(String::as_str)
    }
}

impl MockConfig {
    pub fn load(path: &FsPath) -> Result<MockConfig, MockError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| MockError::Read { path: path.display().to_string(), message: e.to_string() })?;
        MockConfig::parse(&text)
    }

    pub fn parse(text: &str) -> Result<MockConfig, MockError> {
        let json: Json = serde_json::from_str(text).map_err(|e| MockError::Invalid(e.to_string()))?;
        let obj = json.as_object().ok_or_else(|| MockError::Invalid("the top level must be an object".into()))?;
        let mut responses = FxHashMap::default();
        if let Some(all) = obj.get("MockedResponses") {
            let all = all.as_object().ok_or_else(|| MockError::Invalid("MockedResponses must be an object".into()))?;
            for (name, entries) in all {
                responses.insert(name.clone(), Arc::new(parse_response(name, entries)?));
            }
        }
        let mut machines = FxHashMap::default();
        if let Some(sms) = obj.get("StateMachines") {
            let sms = sms.as_object().ok_or_else(|| MockError::Invalid("StateMachines must be an object".into()))?;
            for (sm, def) in sms {
                let cases = def
                    .get("TestCases")
                    .and_then(Json::as_object)
                    .ok_or_else(|| MockError::Invalid(format!("StateMachines.{sm}.TestCases must be an object")))?;
                let mut by_case = FxHashMap::default();
                for (case, states) in cases {
                    let states = states
                        .as_object()
                        .ok_or_else(|| MockError::Invalid(format!("test case {sm}.{case} must be an object")))?;
                    let mut map = FxHashMap::default();
                    for (state, response) in states {
                        let response = response.as_str().ok_or_else(|| {
                            MockError::Invalid(format!("test case {sm}.{case}: the state '{state}' must name a mocked response"))
                        })?;
                        if !responses.contains_key(response) {
                            return Err(MockError::Invalid(format!(
                                "test case {sm}.{case}: the state '{state}' names the mocked response '{response}', which MockedResponses does not define"
                            )));
                        }
                        map.insert(state.clone(), response.to_string());
                    }
                    by_case.insert(case.clone(), map);
                }
                machines.insert(sm.clone(), by_case);
            }
        }
        Ok(MockConfig { machines, responses })
    }

    /// The test case `test_case` of `state_machine`; when that machine is not in the file, the
    /// test case of that name if exactly one machine has it.
    pub fn test_case(&self, state_machine: &str, test_case: &str) -> Result<MockTestCase, MockError> {
        let cases = match self.machines.get(state_machine).and_then(|m| m.get(test_case)) {
            Some(c) => c,
            None => {
                let mut found = self.machines.iter().filter_map(|(sm, m)| m.get(test_case).map(|c| (sm, c)));
                match (found.next(), found.next()) {
                    (Some((_, c)), None) => c,
                    _ => {
                        let known: Vec<String> = self
                            .machines
                            .iter()
                            .flat_map(|(sm, m)| m.keys().map(move |c| format!("{sm}/{c}")))
                            .collect();
                        return Err(MockError::NoTestCase {
                            test_case: test_case.to_string(),
                            hint: format!(" for the state machine '{state_machine}' (the file has: {})", known.join(", ")),
                        });
                    }
                }
            }
        };
        let states = cases
            .iter()
            .filter_map(|(state, response)| self.responses.get(response).map(|r| (state.clone(), Arc::clone(r))))
            .collect();
        Ok(MockTestCase { name: test_case.to_string(), states })
    }

    /// Every (state machine, test case) pair in the file.
    pub fn test_cases(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> =
            self.machines.iter().flat_map(|(sm, m)| m.keys().map(move |c| (sm.clone(), c.clone()))).collect();
        out.sort();
        out
    }
}

fn parse_response(name: &str, entries: &Json) -> Result<MockedResponse, MockError> {
    let entries = entries
        .as_object()
        .ok_or_else(|| MockError::Invalid(format!("MockedResponses.{name} must be an object")))?;
    let mut ranges = Vec::with_capacity(entries.len());
    for (key, outcome) in entries {
        let (lo, hi) = parse_range(key)
            .ok_or_else(|| MockError::Invalid(format!("MockedResponses.{name}: '{key}' is not an invocation index or range like \"0\" or \"1-2\"")))?;
        let outcome = match (outcome.get("Return"), outcome.get("Throw")) {
            (Some(v), None) => MockOutcome::Return(Value::from_serde(v)),
            (None, Some(t)) => {
                let field = |k: &str| t.get(k).and_then(Json::as_str).map(Str::from);
                MockOutcome::Throw(AslError { error: field("Error"), cause: field("Cause"), needs_state_prefix: false })
            }
            _ => {
                return Err(MockError::Invalid(format!(
                    "MockedResponses.{name}.{key} must have exactly one of Return and Throw"
                )))
            }
        };
        ranges.push((lo, hi, outcome));
    }
    Ok(MockedResponse { name: Str::from(name), ranges })
}

fn parse_range(key: &str) -> Option<(u32, u32)> {
    match key.split_once('-') {
        Some((a, b)) => {
            let (lo, hi) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
            (lo <= hi).then_some((lo, hi))
        }
        None => key.trim().parse().ok().map(|n| (n, n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"{
      "StateMachines": {"Sm": {"TestCases": {"Retry": {"Call": "Flaky"}}}},
      "MockedResponses": {"Flaky": {
        "0": {"Throw": {"Error": "Lambda.TimeoutException", "Cause": "slow"}},
        "1-2": {"Throw": {"Error": "Boom"}},
        "3": {"Return": {"ok": true}}}}
    }"#;

    #[test]
    fn picks_outcomes_by_invocation_index() {
        let cfg = MockConfig::parse(FILE).unwrap();
        let case = cfg.test_case("Sm", "Retry").unwrap();
        let r = case.response_for("Call").unwrap();
        assert_eq!(r.at(0).unwrap().unwrap_err().error.as_deref(), Some("Lambda.TimeoutException"));
        assert_eq!(r.at(2).unwrap().unwrap_err().error.as_deref(), Some("Boom"));
        assert_eq!(r.at(3).unwrap().unwrap().to_json(), r#"{"ok":true}"#);
        assert!(matches!(r.at(4), Err(MockError::NoResponseForInvocation { index: 4, .. })));
    }

    #[test]
    fn finds_a_unique_test_case_under_another_machine_name() {
        let cfg = MockConfig::parse(FILE).unwrap();
        assert!(cfg.test_case("other-name", "Retry").is_ok());
        assert!(matches!(cfg.test_case("Sm", "Nope"), Err(MockError::NoTestCase { .. })));
    }

    #[test]
    fn rejects_malformed_files() {
        assert!(MockConfig::parse("[]").is_err());
        assert!(MockConfig::parse(r#"{"MockedResponses": {"A": {"x": {"Return": 1}}}}"#).is_err());
        assert!(MockConfig::parse(r#"{"MockedResponses": {"A": {"0": {}}}}"#).is_err());
        assert!(MockConfig::parse(r#"{"StateMachines": {"S": {"TestCases": {"C": {"St": "Missing"}}}}}"#).is_err());
    }
}
