//! A Task resource implemented in Rust, in the same process as the engine.
//!
//! `cargo run --example native_handler` runs a two-state workflow: `Greet` is answered by a
//! closure registered for its Lambda ARN, `Charge` by a handler registered for every resource
//! under a prefix, which fails the first time with a custom error that the state's Retry
//! absorbs. Handlers return `Ok(value)` for the Task result or `Err(AslError)` for an error
//! that Retry and Catch see by name.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use expressway::asl::StateMachineType;
use expressway::error::AslError;
use expressway::machine::StateMachine;
use expressway::runtime::{run_execution, Engine, EngineConfig, StartOptions};
use expressway::tasks::{handler_fn, Resources};
use expressway::value::{parse_str, Value};

const DEFINITION: &str = r#"{
  "StartAt": "Greet",
  "States": {
    "Greet": {
      "Type": "Task",
      "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Greet",
      "ResultPath": "$.greeting",
      "Next": "Charge"
    },
    "Charge": {
      "Type": "Task",
      "Resource": "arn:aws:states:::payments:charge",
      "Parameters": {"amount.$": "$.amount"},
      "Retry": [{"ErrorEquals": ["Payments.Busy"], "IntervalSeconds": 1, "MaxAttempts": 2}],
      "ResultPath": "$.receipt",
      "End": true
    }
  }
}"#;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let machine = match StateMachine::new("native-handler", DEFINITION, StateMachineType::Express) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{}: {}", e.aws_type(), e.message);
            std::process::exit(2);
        }
    };

    let mut resources = Resources::default();
    // One exact resource: the request carries the Task input, state name, execution ARN and attempt.
    resources.register(
        "arn:aws:lambda:us-east-1:123456789012:function:Greet",
        handler_fn(|request| async move {
            let name = request.input.get("name").and_then(Value::as_str).unwrap_or("stranger").to_string();
            Ok(Value::from(format!("Hello, {name}!")))
        }),
    );
    // Every resource under a prefix; this one is busy on its first call.
    let calls = Arc::new(AtomicU32::new(0));
    resources.register_prefix(
        "arn:aws:states:::payments:",
        handler_fn(move |request| {
            let call = calls.fetch_add(1, Ordering::Relaxed);
            async move {
                if call == 0 {
                    return Err(AslError::new("Payments.Busy", "try again"));
                }
                let amount = request.input.get("amount").and_then(Value::as_f64).unwrap_or(0.0);
                Ok(Value::object([("charged", Value::from(amount)), ("attempt", Value::from(i64::from(request.attempt)))]))
            }
        }),
    );

    let engine = Engine::new(EngineConfig::default(), resources);
    let input = match parse_str(r#"{"name": "Ada", "amount": 12.5}"#) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("bad input: {e}");
            std::process::exit(2);
        }
    };
    let outcome = run_execution(&engine, Arc::clone(&machine.program), input, &StartOptions::new("native-handler")).await;
    println!("{}", outcome.status.as_str());
    match &outcome.output {
        Some(output) => println!("{}", output.to_json_pretty()),
        None => println!("{}: {}", outcome.error.as_deref().unwrap_or(""), outcome.cause.as_deref().unwrap_or("")),
    }
}
