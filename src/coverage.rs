//! Which states and transitions a set of executions exercised, read from their recorded
//! history (`EngineConfig::record_history`), for `expressway test`.
//!
//! A transition is a pair of states (from → to) inside one block, labelled with every way the
//! definition can take it: `Next`, a Choice rule (`rule 2`), `Default`, a catcher
//! (`Catch [States.ALL]`). Two rules of one Choice that lead to the same state are one
//! transition: the history says which state came next, not which rule matched. Entering the
//! first state of a Parallel branch or Map iteration is not a transition.
//!
//! History carries no parent links, so a `…StateEntered` is credited to the most recently
//! entered state of the same block that has a transition to it. Interleaved Map iterations of
//! one block can make that guess wrong in rare shapes; sequential flows are exact.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::program::{Program, StateId, StateKind, Transition};
use crate::vm::HistoryEvent;

/// One possible transition and how often it was taken.
#[derive(Clone, Debug, PartialEq)]
pub struct EdgeCoverage {
    pub from: String,
    pub to: String,
    /// How the definition takes it: `Next`, `rule N`, `Default`, `Catch [..]`.
    pub labels: Vec<String>,
    pub taken: u32,
}

/// Counts over every execution recorded so far.
pub struct Coverage {
    program: Arc<Program>,
    by_name: FxHashMap<String, StateId>,
    entered: Vec<u32>,
    /// (from, to) → index into `edges`.
    edge_index: FxHashMap<(StateId, StateId), usize>,
    edges: Vec<EdgeCoverage>,
}

impl Coverage {
    pub fn new(program: Arc<Program>) -> Coverage {
        let mut by_name = FxHashMap::default();
        let mut edge_index: FxHashMap<(StateId, StateId), usize> = FxHashMap::default();
        let mut edges: Vec<EdgeCoverage> = Vec::new();
        for (i, state) in program.states.iter().enumerate() {
            let from = StateId(i as u32);
            by_name.entry(state.name.to_string()).or_insert(from);
            let mut outgoing: Vec<(StateId, String)> = Vec::new();
            if let Transition::Next(to) = state.next {
                outgoing.push((to, "Next".into()));
            }
            if let StateKind::Choice { choices, default } = &state.kind {
                outgoing.extend(choices.iter().enumerate().map(|(n, b)| (b.next, format!("rule {}", n + 1))));
                outgoing.extend(default.map(|d| (d, "Default".to_string())));
            }
            outgoing.extend(state.catch.iter().map(|c| (c.next, format!("Catch [{}]", c.error_equals.join(", ")))));
            for (to, label) in outgoing {
                let index = *edge_index.entry((from, to)).or_insert_with(|| {
                    edges.push(EdgeCoverage {
                        from: state.name.to_string(),
                        to: program.state(to).name.to_string(),
                        labels: Vec::new(),
                        taken: 0,
                    });
                    edges.len() - 1
                });
                if let Some(edge) = edges.get_mut(index) {
                    edge.labels.push(label);
                }
            }
        }
        let entered = vec![0; program.states.len()];
        Coverage { program, by_name, entered, edge_index, edges }
    }

    /// Adds one execution's history.
    pub fn record(&mut self, history: &[HistoryEvent]) {
        let mut pending: Vec<StateId> = Vec::new();
        for event in history {
            if !event.kind.ends_with("StateEntered") {
                continue;
            }
            let Some(&to) = event.state.as_deref().and_then(|name| self.by_name.get(name)) else { continue };
            if let Some(count) = self.entered.get_mut(to.0 as usize) {
                *count += 1;
            }
            let block = self.program.state(to).block;
            let source = pending
                .iter()
                .rposition(|from| self.program.state(*from).block == block && self.edge_index.contains_key(&(*from, to)));
            if let Some(i) = source {
                let from = pending.remove(i);
                if let Some(edge) = self.edge_index.get(&(from, to)).and_then(|&e| self.edges.get_mut(e)) {
                    edge.taken += 1;
                }
            }
            pending.push(to);
        }
    }

    /// Every state (in definition order) with how often it was entered.
    pub fn states(&self) -> Vec<(String, u32)> {
        self.program.states.iter().zip(&self.entered).map(|(s, n)| (s.name.to_string(), *n)).collect()
    }

    /// Every transition (in definition order) with how often it was taken.
    pub fn edges(&self) -> &[EdgeCoverage] {
        &self.edges
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asl::StateMachineType;
    use crate::machine::StateMachine;

    fn entered(names: &[&str]) -> Vec<HistoryEvent> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| HistoryEvent {
                id: i as u64 + 2,
                kind: "TaskStateEntered".into(),
                timestamp_ms: 0,
                state: Some((*n).into()),
                details: None,
            })
            .collect()
    }

    #[test]
    fn credits_next_choice_and_catch_transitions() {
        let def = r#"{"StartAt": "A", "States": {
            "A": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f", "Next": "C",
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F"}]},
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "NumericEquals": 1, "Next": "S"},
                                                 {"Variable": "$.x", "NumericEquals": 2, "Next": "S"}], "Default": "F"},
            "S": {"Type": "Succeed"}, "F": {"Type": "Fail"}}}"#;
        let machine = StateMachine::new("m", def, StateMachineType::Express).unwrap();
        let mut cov = Coverage::new(Arc::clone(&machine.program));
        cov.record(&entered(&["A", "C", "S"]));
        cov.record(&entered(&["A", "F"]));
        let states: Vec<u32> = cov.states().into_iter().map(|(_, n)| n).collect();
        assert_eq!(states, vec![2, 1, 1, 1]);
        let edges: Vec<(String, String, Vec<String>, u32)> =
            cov.edges().iter().map(|e| (e.from.clone(), e.to.clone(), e.labels.clone(), e.taken)).collect();
        assert_eq!(
            edges,
            vec![
                ("A".into(), "C".into(), vec!["Next".into()], 1),
                ("A".into(), "F".into(), vec!["Catch [States.ALL]".into()], 1),
                ("C".into(), "S".into(), vec!["rule 1".into(), "rule 2".into()], 1),
                ("C".into(), "F".into(), vec!["Default".into()], 0),
            ]
        );
    }
}
