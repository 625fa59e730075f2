//! TagResource, UntagResource and ListTagsForResource (on state machines; we hold no
//! activities).

use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::super::arns::{parse_machine_arn, MachineArn, Qualifier};
use super::super::protocol::{parse_request, ApiError};
use super::super::registry::{Machine, MAX_TAGS};
use super::super::ServerState;
use super::{ok, parse_tags, required_str, tags_json};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TagRequest {
    resource_arn: Option<String>,
    tags: Option<Vec<Json>>,
    tag_keys: Option<Vec<String>>,
}

/// Runs `f` on the tagged machine; any ARN that is not an existing state machine is
/// ResourceNotFound (AWS answers so for versions and aliases too).
fn with_machine<T>(state: &ServerState, arn: &str, f: impl FnOnce(&mut Machine) -> Result<T, ApiError>) -> Result<T, ApiError> {
    let name = match parse_machine_arn(arn, &state.registry.scope) {
        Ok(Some(MachineArn { name, qualifier: Qualifier::None, test_case: None })) => name,
        Ok(_) => return Err(ApiError::resource_not_found(arn)),
        // Any other resource (an execution, an activity) is not one we can tag.
        Err(_) if arn.starts_with("arn:") => return Err(ApiError::resource_not_found(arn)),
        Err(e) => return Err(e),
    };
    let mut machines = state.registry.write();
    let machine = machines.get_mut(&name).ok_or_else(|| ApiError::resource_not_found(arn))?;
    f(machine)
}

pub fn tag(state: &ServerState, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let req: TagRequest = parse_request(body)?;
    let arn = required_str(&req.resource_arn, "resourceArn")?;
    let tags = parse_tags(Some(req.tags.as_ref().ok_or_else(|| ApiError::missing("tags"))?))?;
    with_machine(state, arn, |m| {
        let mut merged = m.tags.clone();
        for (k, v) in tags {
            match merged.iter_mut().find(|(key, _)| *key == k) {
                Some(slot) => slot.1 = v,
                None => merged.push((k, v)),
            }
        }
        if merged.len() > MAX_TAGS {
            return Err(ApiError::too_many_tags(arn, MAX_TAGS));
        }
        m.tags = merged;
        Ok(())
    })?;
    ok(json!({}))
}

pub fn untag(state: &ServerState, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let req: TagRequest = parse_request(body)?;
    let arn = required_str(&req.resource_arn, "resourceArn")?;
    let keys = req.tag_keys.as_ref().ok_or_else(|| ApiError::missing("tagKeys"))?;
    with_machine(state, arn, |m| {
        m.tags.retain(|(k, _)| !keys.contains(k));
        Ok(())
    })?;
    ok(json!({}))
}

pub fn list(state: &ServerState, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let req: TagRequest = parse_request(body)?;
    let arn = required_str(&req.resource_arn, "resourceArn")?;
    let tags = with_machine(state, arn, |m| Ok(tags_json(&m.tags)))?;
    ok(json!({"tags": tags}))
}
