//! The work of a JSONata-mode state: `Arguments` in, `Output` and `Assign` out, with
//! `$states.input` the raw state input (there is no InputPath/Parameters/ResultPath/OutputPath).
//! Suspension, Retry/Catch and history are shared with JSONPath states.

use crate::error::AslError;
use crate::program::{State, StateKind};
use crate::value::Value;

use super::io::check_size;
use super::jsonata::{self, JEnv};
use super::{map, AssignOn, ExecShared, Flow, Suspend, Thread};

impl Thread {
    pub(super) fn work_jsonata(&mut self, state: &State, exec: &ExecShared) -> Result<Flow, AslError> {
        self.effective = self.input.clone();
        let input = self.input.clone();
        match &state.kind {
            StateKind::Pass { .. } | StateKind::Succeed => self.finish_jsonata(state, exec, None),
            StateKind::Fail(spec) => {
                let roots = self.roots(state, exec, &input);
                let error = super::fail_field(&spec.error, "Error", &roots)?;
                let cause = super::fail_field(&spec.cause, "Cause", &roots)?;
                Ok(Flow::Fail(AslError { error, cause, needs_state_prefix: false }))
            }
            StateKind::Choice { choices, default } => {
                let roots = self.roots(state, exec, &input);
                let mut chosen = None;
                for branch in choices {
                    if self.condition_holds(&branch.condition, &roots)? {
                        chosen = Some(branch);
                        break;
                    }
                }
                let (next, output_t, assign) = match (chosen, default) {
                    (Some(b), _) => (Some(b.next), b.output.as_ref().or(state.output.as_ref()), &b.assign),
                    (None, d) => (*d, state.output.as_ref(), &state.assign),
                };
                let Some(next) = next else {
                    return Err(AslError::new(
                        crate::error::STATES_NO_CHOICE_MATCHED,
                        format!("An error occurred while executing the state '{}' (entered at the event id #{}). No Matches!", state.name, self.entered_event),
                    ));
                };
                let output = match output_t {
                    Some(t) => jsonata::eval(t, &JEnv::new(&roots, None, None))?,
                    None => input.clone(),
                };
                self.assign(assign, state, exec, AssignOn::dollar(&input))?;
                self.exited(state, exec, &output);
                Ok(Flow::Next(next, output))
            }
            StateKind::Wait(spec) => {
                let until = {
                    let roots = self.roots(state, exec, &input);
                    super::wait::until_ms(spec, &roots, self.entered_ms)?
                };
                if until <= exec.clock.now_ms() {
                    return self.finish_jsonata(state, exec, None);
                }
                Ok(Flow::Suspend(Suspend::Wait { until_ms: until }))
            }
            StateKind::Task(spec) => {
                let (task_input, timeout_ms, heartbeat_ms) = {
                    let roots = self.roots(state, exec, &input);
                    let args = self.arguments(state, &roots)?;
                    let timeout = super::seconds_ms(spec.timeout.as_ref(), "TimeoutSeconds", &roots)?;
                    let heartbeat = super::seconds_ms(spec.heartbeat.as_ref(), "HeartbeatSeconds", &roots)?;
                    (args, timeout, heartbeat)
                };
                self.record(|i| i.after_arguments = Some(task_input.clone()));
                Ok(self.schedule_task(state, exec, spec, task_input, timeout_ms, heartbeat_ms))
            }
            StateKind::Parallel { branches } => {
                let branch_input = {
                    let roots = self.roots(state, exec, &input);
                    self.arguments(state, &roots)?
                };
                self.record(|i| i.after_arguments = Some(branch_input.clone()));
                exec.event("ParallelStateStarted", Some(&state.name), || None);
                Ok(Flow::Suspend(Suspend::Parallel {
                    branches: branches.clone(),
                    input: branch_input,
                    vars: std::sync::Arc::clone(&self.vars),
                }))
            }
            StateKind::Map(spec) => {
                let roots = self.roots(state, exec, &input);
                let items = self.items_override();
                Ok(Flow::Suspend(Suspend::Map(Box::new(map::prepare(spec, &roots, exec, &self.vars, items)?))))
            }
        }
    }

    /// `Arguments` evaluated on `$states.input`, or the input itself.
    fn arguments(&self, state: &State, roots: &super::StateRoots) -> Result<Value, AslError> {
        match &state.arguments {
            Some(t) => jsonata::eval(t, &JEnv::new(roots, None, None)),
            None => Ok(roots.input.clone()),
        }
    }

    /// `Output` (default: the result if the state has one, else its input), the size check,
    /// `Assign`, the Exited event and the transition.
    pub(super) fn finish_jsonata(&mut self, state: &State, exec: &ExecShared, result: Option<Value>) -> Result<Flow, AslError> {
        if let Some(r) = &result {
            self.record(|i| i.result = Some(r.clone()));
        }
        let output = {
            let roots = self.roots(state, exec, &self.input);
            match &state.output {
                Some(t) => jsonata::eval(t, &JEnv::new(&roots, result.as_ref(), None))?,
                None => result.clone().unwrap_or_else(|| self.input.clone()),
            }
        };
        check_size(&output, &state.name)?;
        let input = self.input.clone();
        self.assign(&state.assign, state, exec, AssignOn { dollar: &input, result: result.as_ref(), error_output: None })?;
        self.exited(state, exec, &output);
        Ok(self.transition(state, output))
    }
}
