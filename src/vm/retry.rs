//! Retry and Catch: what a failing state does with its error.
//!
//! Order, as AWS: retriers first (the first whose `ErrorEquals` matches decides; its attempt
//! counter is per state visit), then catchers (first match wins; the Error Output is placed in
//! the raw state input by the catcher's ResultPath). `States.Runtime` is never retried or
//! caught, even when named (recorded AWS behaviour); `States.ALL` matches
//! `States.DataLimitExceeded` (recorded: a Lambda result over the limit is caught by a
//! `States.ALL` catcher, although AWS's docs call the error terminal); `States.TaskFailed`
//! matches everything but `States.Timeout` and `States.DataLimitExceeded`.

use crate::error::{AslError, STATES_ALL, STATES_DATA_LIMIT_EXCEEDED, STATES_RUNTIME, STATES_TASK_FAILED, STATES_TIMEOUT};
use crate::program::{State, StateKind};
use crate::value::{Str, Value};

use super::io::apply_result_path;
use super::jsonata;
use crate::program::{Catcher, QueryLanguage};
use super::{AssignOn, ExecShared, Flow, Phase, Suspend, Thread};

/// Whether `names` (a retrier's or catcher's ErrorEquals) matches the error name.
pub(crate) fn error_matches(names: &[Str], error: &str) -> bool {
    if error == STATES_RUNTIME {
        return false;
    }
    names.iter().any(|n| {
        &**n == error
            || &**n == STATES_ALL
            || (&**n == STATES_TASK_FAILED && error != STATES_TIMEOUT && error != STATES_DATA_LIMIT_EXCEEDED)
    })
}

impl Thread {
    pub(super) fn handle_error(&mut self, state: &State, exec: &ExecShared, e: AslError) -> Flow {
        let e = self.located(state, e);
        let handles_errors = matches!(state.kind, StateKind::Task(_) | StateKind::Parallel { .. } | StateKind::Map(_));
        if !handles_errors {
            return Flow::Fail(e);
        }
        let name = e.error_name().to_string();
        self.record(|i| i.error = Some(e.clone()));
        if let Some(i) = state.retry.iter().position(|r| error_matches(&r.error_equals, &name)) {
            let r = &state.retry[i];
            let prior = self.inspection.as_ref().map_or(0, |ins| ins.prior_retries);
            let attempts = self.retry_counts[i].saturating_add(prior);
            self.record(|ins| ins.retry_index = Some(i));
            if attempts < r.max_attempts {
                self.retry_counts[i] += 1;
                self.retries += 1;
                let mut delay = r.interval_seconds * r.backoff_rate.powi(attempts as i32);
                if let Some(max) = r.max_delay_seconds {
                    delay = delay.min(max);
                }
                if r.jitter_full {
                    delay *= crate::ids::next_fraction();
                }
                self.record(|ins| ins.retry_backoff_seconds = Some(delay));
                let until_ms = exec.clock.now_ms() + (delay * 1000.0).round() as i64;
                self.failed_event = None;
                self.phase = Phase::AwaitRetry;
                return Flow::Suspend(Suspend::Wait { until_ms });
            }
        }
        if let Some(kind) = self.failed_event.take() {
            exec.event(kind, Some(&state.name), || Some(e.to_error_output()));
        }
        if let Some(index) = state.catch.iter().position(|c| error_matches(&c.error_equals, &name)) {
            let c = &state.catch[index];
            self.record(|ins| ins.catch_index = Some(index));
            let error_output = e.to_error_output();
            let output = match self.catcher_output(c, state, exec, &error_output) {
                Ok(v) => v,
                Err(output_error) => return Flow::Fail(self.located(state, output_error)),
            };
            let on = AssignOn { dollar: &error_output, result: None, error_output: Some(&error_output) };
            if let Err(assign_error) = self.assign(&c.assign, state, exec, on) {
                return Flow::Fail(self.located(state, assign_error));
            }
            self.exited(state, exec, &output);
            return Flow::Next(c.next, output);
        }
        Flow::Fail(e)
    }
}

impl Thread {
    /// The state output when catcher `c` handles an error: the Error Output placed by
    /// ResultPath (JSONPath), or the catcher's `Output` (JSONata; default the Error Output).
    fn catcher_output(&self, c: &Catcher, state: &State, exec: &ExecShared, error_output: &Value) -> Result<Value, AslError> {
        if state.query_language == QueryLanguage::Jsonata {
            return match &c.output {
                Some(t) => {
                    let roots = self.roots(state, exec, &self.input);
                    jsonata::eval(t, &jsonata::JEnv::new(&roots, None, Some(error_output)))
                }
                None => Ok(error_output.clone()),
            };
        }
        apply_result_path(&c.result_path, self.input.clone(), error_output.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<Str> {
        list.iter().map(|s| Str::from(*s)).collect()
    }

    #[test]
    fn wildcards_follow_aws_rules() {
        assert!(error_matches(&names(&["States.ALL"]), "Custom"));
        assert!(!error_matches(&names(&["States.ALL"]), "States.Runtime"));
        assert!(!error_matches(&names(&["States.Runtime"]), "States.Runtime"));
        assert!(error_matches(&names(&["States.ALL"]), "States.DataLimitExceeded"));
        assert!(error_matches(&names(&["States.DataLimitExceeded"]), "States.DataLimitExceeded"));
        assert!(error_matches(&names(&["States.TaskFailed"]), "Lambda.Unknown"));
        assert!(!error_matches(&names(&["States.TaskFailed"]), "States.Timeout"));
        assert!(!error_matches(&names(&["State.ALL"]), "Anything"));
    }

    #[test]
    fn error_output_omits_missing_parts() {
        let e = AslError { error: None, cause: None, needs_state_prefix: false };
        assert_eq!(e.to_error_output(), Value::empty_object());
    }
}
