//! Turning TestState's `definition` into a compiled program and the state to test.
//!
//! A single state is tested as the only state of a machine in which it is called `StateName`
//! (AWS names it so: its context object and validation locations say `StateName`, e.g.
//! `at /States/StateName/Branches`). Every state it can transition to (`Next`, `Default`, a
//! Choice rule's or catcher's `Next`) exists outside the definition, so each gets a stand-in
//! `Succeed` state: the run stops at the transition and only reports the target's name.
//! With `stateName`, the definition is a whole machine and the state may sit at any depth.

use std::collections::BTreeSet;

use crate::asl::StateMachineType;
use crate::machine::StateMachine;
use crate::program::StateId;

use super::TestStateError;

/// The name AWS gives a state tested on its own.
pub const SINGLE_STATE_NAME: &str = "StateName";

/// The machine to run and the state under test.
pub struct Subject {
    pub machine: StateMachine,
    pub state: StateId,
}

/// Validates and compiles the definition; finds the state under test.
pub fn load(definition: &str, state_name: Option<&str>) -> Result<Subject, TestStateError> {
    match state_name {
        Some(name) => {
            let machine = compile(definition)?;
            let state = machine.program.find_state_anywhere(name).ok_or_else(|| TestStateError::validation("State not found in definition"))?;
            Ok(Subject { machine, state })
        }
        None => {
            // Text that is not JSON gets the validator's own INVALID_JSON_DESCRIPTION message.
            let Ok(serde_json::Value::Object(state)) = serde_json::from_str::<serde_json::Value>(definition) else {
                return Err(compile(definition).err().unwrap_or_else(|| {
                    TestStateError::InvalidDefinition(
                        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The definition must be a JSON object describing one state'".into(),
                    )
                }));
            };
            let machine = compile(&wrap_single_state(definition, &state))?;
            let state = machine
                .program
                .find_state_anywhere(SINGLE_STATE_NAME)
                .ok_or_else(|| TestStateError::validation("State not found in definition"))?;
            Ok(Subject { machine, state })
        }
    }
}

fn compile(text: &str) -> Result<StateMachine, TestStateError> {
    // Validated as STANDARD: TestState accepts `.waitForTaskToken` and `.sync` resources, which
    // EXPRESS machines may not use (a recorded case tests one).
    StateMachine::new("TestState", text, StateMachineType::Standard).map_err(|e| TestStateError::InvalidDefinition(e.message))
}

/// `{"StartAt":"StateName","States":{"StateName":<the text as given>, <stand-ins>}}`. The
/// state's own text is embedded unchanged so the validator sees exactly what the user wrote.
fn wrap_single_state(text: &str, state: &serde_json::Map<String, serde_json::Value>) -> String {
    let mut out = format!(r#"{{"StartAt":"{SINGLE_STATE_NAME}","States":{{"{SINGLE_STATE_NAME}":{text}"#);
    for target in transition_targets(state) {
        if target != SINGLE_STATE_NAME {
            out.push(',');
            out.push_str(&serde_json::Value::String(target).to_string());
            out.push_str(r#":{"Type":"Succeed"}"#);
        }
    }
    out.push_str("}}");
    out
}

/// The names a state can transition to, in a stable order.
fn transition_targets(state: &serde_json::Map<String, serde_json::Value>) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut add = |v: Option<&serde_json::Value>| {
        if let Some(serde_json::Value::String(s)) = v {
            names.insert(s.clone());
        }
    };
    add(state.get("Next"));
    add(state.get("Default"));
    for list in ["Choices", "Catch"] {
        if let Some(serde_json::Value::Array(items)) = state.get(list) {
            for item in items {
                add(item.get("Next"));
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_state_gets_stand_ins_for_its_targets() {
        let def = r#"{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Catch":[{"ErrorEquals":["States.ALL"],"Next":"Handle"}],"Next":"After"}"#;
        let subject = load(def, None).expect("valid");
        let program = &subject.machine.program;
        assert_eq!(&*program.state(subject.state).name, SINGLE_STATE_NAME);
        assert!(program.find_state_anywhere("Handle").is_some());
        assert!(program.find_state_anywhere("After").is_some());
    }

    #[test]
    fn a_choice_can_loop_to_itself() {
        let def = r#"{"Type":"Choice","Choices":[{"Variable":"$.a","IsPresent":true,"Next":"StateName"}],"Default":"Out"}"#;
        assert!(load(def, None).is_ok());
    }

    #[test]
    fn a_missing_state_name_is_a_validation_error() {
        let def = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#;
        let e = load(def, Some("B")).err().expect("refused");
        assert_eq!((e.aws_type(), e.message()), ("ValidationException", "State not found in definition"));
    }

    #[test]
    fn nested_states_can_be_tested() {
        let def = r#"{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"Inner","States":{"Inner":{"Type":"Pass","End":true}}},"End":true}}}"#;
        assert!(load(def, Some("Inner")).is_ok());
    }

    #[test]
    fn bad_definitions_are_invalid_definition_errors() {
        for def in ["not json", "[1]", r#"{"Type":"Parallel","Branches":[],"End":true}"#] {
            let e = load(def, None).err().expect("refused");
            assert_eq!(e.aws_type(), "InvalidDefinition", "{def}: {}", e.message());
        }
    }
}
