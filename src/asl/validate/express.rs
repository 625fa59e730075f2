//! What an EXPRESS state machine may not use: `.sync` and `.waitForTaskToken` integrations and
//! activities. All three messages are recorded from AWS (including the stray space before
//! " at" in the `.waitForTaskToken` one, which is part of the message).

use super::{Ctx, StateMachineType};

pub(super) fn check_task_resource(ctx: &mut Ctx, resource: &str, location: &str) {
    if ctx.kind != StateMachineType::Express {
        return;
    }
    if is_activity_arn(resource) {
        ctx.schema(location, "Express state machine does not support Activity ARN");
        return;
    }
    // `arn:aws:states:::service:api.sync`, `….sync:2`, `….waitForTaskToken`.
    let Some(api) = resource.strip_prefix("arn:").and_then(|rest| rest.split(':').nth(5)) else { return };
    let integration = api.rsplit_once('.').map(|(_, suffix)| suffix).unwrap_or_default();
    let integration = integration.split(':').next().unwrap_or_default();
    match integration {
        "sync" => ctx.schema(location, "Express state machine does not support '.sync' service integration"),
        "waitForTaskToken" => {
            ctx.schema(location, "Express state machine does not support '.waitForTaskToken' service integration ")
        }
        _ => {}
    }
}

/// `arn:<partition>:states:<region>:<account>:activity:<name>`.
fn is_activity_arn(resource: &str) -> bool {
    let parts: Vec<&str> = resource.split(':').collect();
    parts.len() >= 7
        && parts.first() == Some(&"arn")
        && parts.get(2) == Some(&"states")
        && parts.get(5) == Some(&"activity")
}
