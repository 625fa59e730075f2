//! Unit tests for definition validation: recorded AWS messages, rules with guessed wording
//! (asserted by code and location only), and a no-panic property test.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::{codes, invalid_definition_message, validate, Diagnostic, StateMachineType};

fn check(definition: Value) -> Vec<Diagnostic> {
    validate(&definition.to_string(), StateMachineType::Standard)
}

fn check_express(definition: Value) -> Vec<Diagnostic> {
    validate(&definition.to_string(), StateMachineType::Express)
}

fn has(diagnostics: &[Diagnostic], code: &str, location: &str) -> bool {
    diagnostics.iter().any(|d| d.code == code && d.location.as_deref() == Some(location))
}

fn machine(states: Value) -> Value {
    json!({"StartAt": "A", "States": states})
}

#[test]
fn minimal_machine_is_valid() {
    assert!(check(machine(json!({"A": {"Type": "Pass", "End": true}}))).is_empty());
}

#[test]
fn not_json_uses_jacksons_message() {
    let d = validate("not a definition", StateMachineType::Standard);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].code, codes::INVALID_JSON_DESCRIPTION);
    assert_eq!(
        d[0].message,
        "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')\n at [Source: (String)\"not a definition\"; line: 1, column: 4]"
    );
    assert_eq!(d[0].location.as_deref(), Some("[Source: (String)\"not a definition\"; line: 1, column: 4]"));
}

#[test]
fn broken_json_variants_are_invalid_json() {
    for text in ["{", "{\"a\" 1}", "{\"a\":1,}", "[1 2]", "{\"a\":tru}", "{'a':1}", "{\"a\":01}"] {
        let d = validate(text, StateMachineType::Standard);
        assert_eq!(d.len(), 1, "{text}");
        assert_eq!(d[0].code, codes::INVALID_JSON_DESCRIPTION, "{text}: {d:?}");
        assert!(d[0].message.contains("\n at [Source: (String)"), "{text}: {}", d[0].message);
    }
}

#[test]
fn blank_and_non_object_definitions() {
    for text in [" ", "", "[]", "42", "\"x\"", "null"] {
        let d = validate(text, StateMachineType::Standard);
        assert_eq!(d[0].message, "Definition must be a valid JSON object", "{text}");
        assert_eq!(d[0].location, None);
    }
}

#[test]
fn trailing_content_is_ignored_like_jackson() {
    let text = format!("{} trailing", machine(json!({"A": {"Type": "Pass", "End": true}})));
    assert!(validate(&text, StateMachineType::Standard).is_empty());
}

#[test]
fn required_top_level_fields() {
    let d = check(json!({}));
    assert_eq!(d[0].message, "These fields are required: [States, StartAt]");
    assert_eq!(d[0].location.as_deref(), Some("/"));
    let d = check(json!({"Comment": "x", "StartAt": "S"}));
    assert_eq!(
        invalid_definition_message(&d).as_deref(),
        Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are required: [States] at /'")
    );
}

#[test]
fn missing_target_and_unreachable_render_like_aws() {
    let d = check(json!({"StartAt": "pass1", "States": {
        "pass1": {"Type": "Pass", "Next": "pass3"},
        "pass2": {"Type": "Pass", "End": true}
    }}));
    assert_eq!(
        invalid_definition_message(&d).as_deref(),
        Some("Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: pass3 at /States/pass1/Next, MISSING_TRANSITION_TARGET: State \"pass2\" is not reachable. at /States/pass2'")
    );
}

#[test]
fn loop_without_terminal_is_missing_end_state() {
    let d = check(machine(json!({"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}, "U": {"Type": "Pass", "Next": "A"}})));
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].code, codes::MISSING_END_STATE);
    assert_eq!(
        invalid_definition_message(&d).as_deref(),
        Some("Invalid State Machine Definition: 'MISSING_END_STATE: Workflow has no terminal state at null'")
    );
}

#[test]
fn nested_targets_and_reachability() {
    let d = check(machine(json!({"A": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "W", "States": {"W": {"Type": "Pass", "End": true}, "Ghost": {"Type": "Pass", "End": true}}}
    ]}})));
    assert!(has(&d, codes::MISSING_TRANSITION_TARGET, "/States/A/Branches[0]/States/Ghost"), "{d:?}");
    let d = check(machine(json!({
        "A": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": true, "Next": "Ghost"}], "Default": "Z"},
        "Z": {"Type": "Succeed"}
    })));
    assert!(has(&d, codes::MISSING_TRANSITION_TARGET, "/States/A/Choices[0]/Next"), "{d:?}");
}

#[test]
fn duplicate_names_across_nesting() {
    let d = check(machine(json!({"A": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}}})));
    assert!(has(&d, codes::DUPLICATE_STATE_NAME, "/States/A/ItemProcessor/States/A"), "{d:?}");
}

#[test]
fn long_state_name_is_invalid() {
    let name = "x".repeat(81);
    let d = check(json!({"StartAt": name, "States": {name.clone(): {"Type": "Succeed"}}}));
    assert!(d.iter().any(|d| d.code == codes::INVALID_STATE_NAME));
}

#[test]
fn unsupported_fields_point_at_the_state() {
    let d = check(machine(json!({"A": {"Type": "Pass", "TimeoutSeconds": 5, "End": true}})));
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].message, "Field 'TimeoutSeconds' is not supported");
    assert_eq!(d[0].location.as_deref(), Some("/States/A"));
    let d = check(machine(json!({"A": {"Type": "Wait", "Seconds": 1, "End": true, "Retry": [{"ErrorEquals": ["States.ALL"]}]}})));
    assert_eq!(d[0].message, "Field 'Retry' is not supported");
    let d = check(machine(json!({"A": {"Type": "Succeed", "End": true}})));
    assert_eq!(d[0].message, "Field 'End' is not supported");
}

#[test]
fn query_language_rules() {
    let d = check(json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true, "QueryLanguage": "JSONPath"}}}));
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].message, "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine");
    assert_eq!(d[0].location.as_deref(), Some("/States/P"));
    let d = check(machine(json!({"A": {"Type": "Pass", "Output": {}, "End": true}})));
    assert_eq!(d[0].message, "The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the 'JSONata' QueryLanguage");
    let d = check(json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Pass", "InputPath": "$.a", "End": true}}}));
    assert_eq!(d[0].message, "The QueryLanguage is set to 'JSONata', but field 'InputPath' is only supported for the 'JSONPath' QueryLanguage");
    let d = check(json!({"QueryLanguage": "jsonata", "StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}));
    assert_eq!(d[0].message, "Value should be one of the following: [JSONPath, JSONata]");
    assert_eq!(d[0].location.as_deref(), Some("/QueryLanguage"));
    let d = check(machine(json!({"A": {"Type": "Map", "End": true, "ItemProcessor": {"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}})));
    assert_eq!(d[0].message, "Field 'QueryLanguage' is not supported");
    assert_eq!(d[0].location.as_deref(), Some("/States/A/ItemProcessor"));
}

#[test]
fn jsonata_states_accept_expressions_for_numbers() {
    let d = check(json!({"QueryLanguage": "JSONata", "StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": "{% $states.input.n %}", "Next": "T"},
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Arguments": {"FunctionName": "f"},
              "TimeoutSeconds": "{% 3 %}", "Output": "{% $states.result %}", "Assign": {"x": 1}, "Next": "C"},
        "C": {"Type": "Choice", "Choices": [{"Condition": "{% $x = 1 %}", "Next": "M"}], "Default": "M"},
        "M": {"Type": "Map", "Items": "{% [1,2] %}", "MaxConcurrency": "{% 2 %}", "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}
    }}));
    assert!(d.is_empty(), "{d:?}");
}

#[test]
fn empty_branches_recorded_message() {
    let d = check(machine(json!({"A": {"Type": "Parallel", "Branches": [], "End": true}})));
    assert_eq!(
        invalid_definition_message(&d).as_deref(),
        Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Value cannot be empty at /States/A/Branches'")
    );
}

#[test]
fn next_and_end_rules() {
    assert!(has(&check(machine(json!({"A": {"Type": "Pass"}}))), codes::SCHEMA_VALIDATION_FAILED, "/States/A"));
    let d = check(machine(json!({"A": {"Type": "Pass", "Next": "B", "End": true}, "B": {"Type": "Succeed"}})));
    assert!(d.iter().any(|d| d.message == "There should only be one of the following fields: [Next, End]"));
}

#[test]
fn retry_ranges_and_states_all() {
    let task = |retry: Value| machine(json!({"A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true, "Retry": retry}}));
    assert!(has(&check(task(json!([{"ErrorEquals": ["X"], "IntervalSeconds": 0}]))), codes::SCHEMA_VALIDATION_FAILED, "/States/A/Retry[0]/IntervalSeconds"));
    assert!(has(&check(task(json!([{"ErrorEquals": ["X"], "MaxAttempts": -1}]))), codes::SCHEMA_VALIDATION_FAILED, "/States/A/Retry[0]/MaxAttempts"));
    assert!(has(&check(task(json!([{"ErrorEquals": ["X"], "BackoffRate": 0.5}]))), codes::SCHEMA_VALIDATION_FAILED, "/States/A/Retry[0]/BackoffRate"));
    assert!(has(&check(task(json!([{"ErrorEquals": ["X"], "JitterStrategy": "SOME"}]))), codes::SCHEMA_VALIDATION_FAILED, "/States/A/Retry[0]/JitterStrategy"));
    assert!(has(&check(task(json!([{"ErrorEquals": ["States.ALL", "X"]}]))), codes::SCHEMA_VALIDATION_FAILED, "/States/A/Retry[0]/ErrorEquals"));
    assert!(has(&check(task(json!([{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}]))), codes::SCHEMA_VALIDATION_FAILED, "/States/A/Retry[0]/ErrorEquals"));
    assert!(check(task(json!([{"ErrorEquals": ["X"], "IntervalSeconds": 2, "MaxAttempts": 0, "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}, {"ErrorEquals": ["States.ALL"]}]))).is_empty());
}

#[test]
fn choice_rule_shapes() {
    let choice = |rule: Value| machine(json!({"A": {"Type": "Choice", "Choices": [rule], "Default": "B"}, "B": {"Type": "Succeed"}}));
    assert!(check(choice(json!({"And": [{"Variable": "$.a", "NumericEquals": 1}, {"Not": {"Variable": "$.b", "IsNull": true}}], "Next": "B"}))).is_empty());
    let d = check(choice(json!({"Variable": "$.a", "StringEquals": "x", "NumericEquals": 1, "Next": "B"})));
    assert!(has(&d, codes::SCHEMA_VALIDATION_FAILED, "/States/A/Choices[0]"), "{d:?}");
    let d = check(choice(json!({"Variable": "$.a", "StringEquals": "x"})));
    assert_eq!(d[0].message, "These fields are required: [Next]");
    let d = check(choice(json!({"Not": {"Variable": "$.a", "IsNull": true, "Next": "B"}, "Next": "B"})));
    assert!(d.iter().any(|d| d.message == "Field 'Next' is not supported"), "{d:?}");
    let d = check(choice(json!({"Variable": "$.t", "TimestampEquals": "2016-03-14t01:59:00z", "Next": "B"})));
    assert!(has(&d, codes::SCHEMA_VALIDATION_FAILED, "/States/A/Choices[0]/TimestampEquals"), "{d:?}");
}

#[test]
fn wait_rules() {
    let wait = |fields: Value| {
        let mut state = json!({"Type": "Wait", "End": true});
        if let (Some(s), Some(f)) = (state.as_object_mut(), fields.as_object()) {
            s.extend(f.clone());
        }
        machine(json!({"A": state}))
    };
    assert!(check(wait(json!({"Timestamp": "2016-03-14T01:59:00Z"}))).is_empty());
    assert!(check(wait(json!({"Timestamp": "2016-03-14T01:59:00.123+01:00"}))).is_empty());
    assert!(!check(wait(json!({"Timestamp": "2016-03-14t01:59:00Z"}))).is_empty());
    assert!(!check(wait(json!({}))).is_empty());
    assert!(!check(wait(json!({"Seconds": 1, "SecondsPath": "$.s"}))).is_empty());
    assert!(!check(wait(json!({"Seconds": -1}))).is_empty());
}

#[test]
fn paths_and_templates() {
    let pass = |fields: Value| {
        let mut state = json!({"Type": "Pass", "End": true});
        if let (Some(s), Some(f)) = (state.as_object_mut(), fields.as_object()) {
            s.extend(f.clone());
        }
        machine(json!({"A": state}))
    };
    assert!(check(pass(json!({"InputPath": "$.a", "OutputPath": null, "ResultPath": "$.b['c'][0]", "Parameters": {"x.$": "$.a", "y.$": "States.Format('{}', $.a)", "z": {"w.$": "$$.Execution.Id"}}}))).is_empty());
    assert!(has(&check(pass(json!({"ResultPath": "$$.a"}))), codes::SCHEMA_VALIDATION_FAILED, "/States/A/ResultPath"));
    assert!(has(&check(pass(json!({"ResultPath": "$.a[*]"}))), codes::SCHEMA_VALIDATION_FAILED, "/States/A/ResultPath"));
    assert!(has(&check(pass(json!({"InputPath": "a"}))), codes::SCHEMA_VALIDATION_FAILED, "/States/A/InputPath"));
    assert!(has(&check(pass(json!({"Parameters": {"x.$": "foo"}}))), codes::SCHEMA_VALIDATION_FAILED, "/States/A/Parameters/x.$"));
    assert!(has(&check(pass(json!({"Parameters": {"x.$": "States.Nope($.a)"}}))), codes::SCHEMA_VALIDATION_FAILED, "/States/A/Parameters/x.$"));
    assert!(has(&check(pass(json!({"Parameters": {"x": 1, "x.$": "$.a"}}))), codes::SCHEMA_VALIDATION_FAILED, "/States/A/Parameters/x.$"));
    // Result is literal: `.$` keys there are not templates.
    assert!(check(pass(json!({"Result": {"x.$": "not a path"}}))).is_empty());
}

#[test]
fn fail_and_task_pairs() {
    let d = check(machine(json!({"A": {"Type": "Fail", "Error": "E", "ErrorPath": "$.e"}})));
    assert_eq!(d[0].message, "There should only be one of the following fields: [Error, ErrorPath]");
    let d = check(machine(json!({"A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "TimeoutSeconds": 5, "TimeoutSecondsPath": "$.t", "End": true}})));
    assert_eq!(d[0].message, "There should only be one of the following fields: [TimeoutSeconds, TimeoutSecondsPath]");
    assert!(check(machine(json!({"A": {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "States.Format('x {}', $.c)"}}))).is_empty());
}

#[test]
fn map_fields() {
    let map = |fields: Value| {
        let mut state = json!({"Type": "Map", "End": true, "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}, "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}});
        if let (Some(s), Some(f)) = (state.as_object_mut(), fields.as_object()) {
            s.extend(f.clone());
        }
        machine(json!({"A": state}))
    };
    assert!(check(map(json!({"ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "MaxItems": 10}, "Parameters": {"Bucket": "b", "Key": "k"}},
        "ItemBatcher": {"MaxItemsPerBatch": 10}, "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b", "Prefix": "p"}},
        "ToleratedFailurePercentage": 5, "MaxConcurrency": 10, "Label": "L"}))).is_empty());
    let d = check(map(json!({"MaxConcurrency": -1})));
    assert_eq!(d[0].message, "Minimum value is 0");
    let d = check(map(json!({"ToleratedFailurePercentage": 101})));
    assert_eq!(d[0].message, "Maximum value is 100.0");
    let d = check(map(json!({"MaxConcurrencyPath": "$$.Execution.Input.n"})));
    assert_eq!(d[0].message, "Value is not a Reference Path");
    assert!(!check(map(json!({"ItemProcessor": {"ProcessorConfig": {"Mode": "FAST"}, "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}))).is_empty());
}

#[test]
fn express_restrictions_use_recorded_messages() {
    let task = |resource: &str| json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, "End": true}}});
    let message = |resource: &str| invalid_definition_message(&check_express(task(resource)));
    assert_eq!(message("arn:aws:states:::states:startExecution.sync").as_deref(),
        Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine does not support '.sync' service integration at /States/T/Resource'"));
    assert_eq!(message("arn:aws:states:::states:startExecution.sync:2").as_deref(),
        Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine does not support '.sync' service integration at /States/T/Resource'"));
    assert_eq!(message("arn:aws:states:::sns:publish.waitForTaskToken").as_deref(),
        Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine does not support '.waitForTaskToken' service integration  at /States/T/Resource'"));
    assert_eq!(message("arn:aws:states:us-east-1:111111111111:activity:a").as_deref(),
        Some("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine does not support Activity ARN at /States/T/Resource'"));
    assert!(check(task("arn:aws:states:::states:startExecution.sync")).is_empty());
    let nested = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "End": true}}}]}}});
    assert!(has(&check_express(nested), codes::SCHEMA_VALIDATION_FAILED, "/States/P/Branches[0]/States/T/Resource"));
}

#[test]
fn assign_variable_names() {
    let d = check(machine(json!({"A": {"Type": "Pass", "Assign": {"ok": 1, "also_ok.$": "$.a", "x.y": 2}, "End": true}})));
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].location.as_deref(), Some("/States/A/Assign/x.y"));
}

/// Arbitrary JSON values, biased towards ASL-looking keys so deep paths get exercised.
fn arbitrary_json() -> impl Strategy<Value = Value> {
    let keys = prop::sample::select(vec![
        "StartAt", "States", "Type", "Next", "End", "Choices", "Branches", "ItemProcessor", "Iterator", "Retry",
        "Catch", "ErrorEquals", "Variable", "And", "Not", "Parameters", "x.$", "Resource", "Seconds", "A", "B",
        "QueryLanguage", "Assign", "Default", "ResultPath", "ItemReader", "ReaderConfig", "ProcessorConfig",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)),
        prop::sample::select(vec!["Pass", "Task", "Choice", "Map", "Parallel", "Wait", "Fail", "Succeed", "A", "B", "$", "$$.x", "$.a[*]", "States.Format('{}', $.a)", "JSONata", "{% 1 %}", "arn:aws:states:::a.sync", ""]).prop_map(Value::from),
        ".*".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..5)
                .prop_map(|pairs| Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_arbitrary_json(value in arbitrary_json()) {
        let text = value.to_string();
        let _ = validate(&text, StateMachineType::Standard);
        let _ = validate(&text, StateMachineType::Express);
    }

    #[test]
    fn never_panics_on_arbitrary_text(text in ".{0,200}") {
        let _ = validate(&text, StateMachineType::Standard);
    }

    #[test]
    fn never_panics_on_truncated_definitions(cut in 0usize..400) {
        let text = json!({"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [{"Variable": "$.a", "StringEquals": "é", "Next": "B"}], "Default": "B"}, "B": {"Type": "Map", "ItemProcessor": {"StartAt": "C", "States": {"C": {"Type": "Succeed"}}}, "End": true}}}).to_string();
        let cut = text.char_indices().map(|(i, _)| i).rfind(|i| *i <= cut).unwrap_or(0);
        let _ = validate(text.get(..cut).unwrap_or_default(), StateMachineType::Standard);
    }
}

#[test]
fn path_and_intrinsic_edge_cases_are_accepted() {
    let pass = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true, "ResultPath": "$.list[-1]",
        "Parameters": {"a.$": "States.Format('{}', $.States.value)", "b.$": "States.Array(States.Format('x{}', $.a), $.b)",
                       "c.$": "$.destroy-status", "d.$": "$.a[?(@.x > 1)]", "e.$": "$myVariable.field"}}}});
    assert!(check(pass).is_empty());
}
