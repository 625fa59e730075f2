//! The context object (`$$`, `$states.context`) of a tested state: the one TestState makes up,
//! or the caller's `context`, checked as AWS checks it.
//!
//! The made-up one has the shape AWS's recordings show: `Execution` {Id (an `express:` ARN),
//! Input, Name, RoleArn, StartTime}, `StateMachine` {Id, Name}, `State` {Name, EnteredTime,
//! RetryCount}, and `Task.Token` for `.waitForTaskToken` resources. A caller's context replaces
//! the parts it gives, field by field; AWS does not say whether it fills in the rest, and
//! filling it in keeps `$$.Execution.Id` and friends resolvable, so we do.

use crate::value::{Map, Str, Value};
use crate::vm::ExecutionIdentity;

use super::TestStateError;

/// Fields a caller's context may hold, per top-level part (`Map` is refused separately).
const ALLOWED: [(&str, &[&str]); 4] = [
    ("Execution", &["Id", "Input", "Name", "RoleArn", "StartTime", "RedriveCount", "RedriveTime"]),
    ("State", &["EnteredTime", "Name", "RetryCount"]),
    ("StateMachine", &["Id", "Name"]),
    ("Task", &["Token"]),
];

/// Fields that must be strings when given.
const STRING_FIELDS: [(&str, &str); 8] = [
    ("Execution", "Id"),
    ("Execution", "Name"),
    ("Execution", "RoleArn"),
    ("Execution", "StartTime"),
    ("State", "Name"),
    ("State", "EnteredTime"),
    ("StateMachine", "Id"),
    ("Task", "Token"),
];

/// The context object TestState uses when the caller gives none.
pub fn default_context(identity: &ExecutionIdentity, input: &Value, state_name: &str, retry_count: u32, task_token: Option<Str>) -> Value {
    let time = Value::from(crate::timestamp::format_iso(identity.start_ms));
    let mut parts = vec![
        (
            "Execution",
            Value::object([
                ("Id", Value::String(identity.execution_arn.clone())),
                ("Input", input.clone()),
                ("Name", Value::String(identity.name.clone())),
                ("RoleArn", Value::String(identity.role_arn.clone())),
                ("StartTime", time.clone()),
            ]),
        ),
        (
            "StateMachine",
            Value::object([
                ("Id", Value::String(identity.state_machine_arn.clone())),
                ("Name", Value::String(identity.state_machine_name.clone())),
            ]),
        ),
        (
            "State",
            Value::object([("Name", Value::from(state_name)), ("EnteredTime", time), ("RetryCount", Value::from(retry_count as i64))]),
        ),
    ];
    if let Some(token) = task_token {
        parts.push(("Task", Value::object([("Token", Value::String(token))])));
    }
    Value::object(parts)
}

/// Checks the caller's context text and lays it over `default`.
pub fn caller_context(text: &str, default: Value) -> Result<Value, TestStateError> {
    let invalid = |why: String| TestStateError::validation(format!("Invalid Context object provided: {why}"));
    let given = crate::value::parse_str(text).map_err(|e| invalid(format!("the context is not valid JSON: {}", e.message)))?;
    let Some(given) = given.as_object() else {
        return Err(invalid("the context must be a JSON object".into()));
    };
    let mut merged: Map = default.as_object().cloned().unwrap_or_default();
    for (part, value) in given.iter() {
        if &**part == "Map" {
            return Err(invalid("'Map' field is not supported when mocking a Context object".into()));
        }
        let Some((_, fields)) = ALLOWED.iter().find(|(p, _)| *p == &**part) else {
            return Err(invalid(format!("Field '{part}' is not allowed")));
        };
        let Some(obj) = value.as_object() else {
            return Err(invalid(format!("{part} must be an object")));
        };
        let mut target = merged.get(part).and_then(Value::as_object).cloned().unwrap_or_default();
        for (field, v) in obj.iter() {
            if !fields.contains(&&**field) {
                return Err(invalid(format!("Field '{field}' is not allowed")));
            }
            if STRING_FIELDS.contains(&(&**part, &**field)) && !matches!(v, Value::String(_)) {
                return Err(invalid(format!("{part}.{field} must be a string")));
            }
            target.insert(field.clone(), v.clone());
        }
        merged.insert(part.clone(), Value::from(target));
    }
    Ok(Value::from(merged))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> ExecutionIdentity {
        ExecutionIdentity {
            execution_arn: "arn:aws:states:us-east-1:123456789012:express:SM:exec".into(),
            name: "exec".into(),
            state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:SM".into(),
            state_machine_name: "SM".into(),
            role_arn: "arn:aws:iam::123456789012:role/R".into(),
            start_ms: 0,
            redrive_count: None,
        }
    }

    fn default() -> Value {
        default_context(&identity(), &Value::empty_object(), "S", 0, None)
    }

    #[test]
    fn a_caller_context_replaces_the_fields_it_gives() {
        let ctx = caller_context(r#"{"Task":{"Token":"t"},"Execution":{"Name":"mine"}}"#, default()).expect("valid");
        assert_eq!(ctx.get("Task").and_then(|t| t.get("Token")), Some(&Value::from("t")));
        assert_eq!(ctx.get("Execution").and_then(|e| e.get("Name")), Some(&Value::from("mine")));
        assert_eq!(ctx.get("StateMachine").and_then(|e| e.get("Name")), Some(&Value::from("SM")));
    }

    #[test]
    fn refusals_use_aws_words() {
        let cases = [
            (r#"{"Execution":{"pokemon":"squirtle"}}"#, "Invalid Context object provided: Field 'pokemon' is not allowed"),
            (r#"{"Execution":{"Id":1}}"#, "Invalid Context object provided: Execution.Id must be a string"),
            (r#"{"Pokedex":{}}"#, "Invalid Context object provided: Field 'Pokedex' is not allowed"),
            (r#"{"Map":{}}"#, "Invalid Context object provided: 'Map' field is not supported when mocking a Context object"),
        ];
        for (text, message) in cases {
            let e = caller_context(text, default()).expect_err("refused");
            assert_eq!((e.aws_type(), e.message()), ("ValidationException", message));
        }
    }
}
