//! Step Functions operations, one file per group: `machines` (Create/Describe/Update/Delete/
//! List/ValidateStateMachineDefinition), `versions` (versions and aliases), `tags`, `start`
//! (StartExecution, StartSyncExecution), `executions` (Describe/List/Stop/history) and
//! `test_state` (TestState).
//!
//! Each operation takes the request body and answers the response body or an [`ApiError`];
//! [`dispatch`] maps `X-Amz-Target` operation names to them.

mod executions;
mod machines;
mod start;
mod tags;
mod test_state;
mod versions;

use std::sync::Arc;

pub use start::start_for_event;

use base64::Engine as _;
use serde_json::Value as Json;

use super::protocol::{ApiError, ErrorCode};
use super::ServerState;

/// Request context beyond the body.
#[derive(Default)]
pub struct CallContext<'a> {
    /// The `X-Amzn-Trace-Id` header (wins over a body's `traceHeader`).
    pub trace_header: Option<&'a str>,
}

/// Runs one operation; an unknown name is `UnknownOperationException`.
pub async fn dispatch(state: &Arc<ServerState>, op: &str, body: &[u8], ctx: &CallContext<'_>) -> Result<Vec<u8>, ApiError> {
    match op {
        // The hot path first.
        "StartSyncExecution" => start::start_sync_execution(state, body, ctx).await,
        "StartExecution" => start::start_execution(state, body, ctx),
        "CreateStateMachine" => machines::create(state, body),
        "DescribeStateMachine" => machines::describe(state, body),
        "UpdateStateMachine" => machines::update(state, body),
        "DeleteStateMachine" => machines::delete(state, body),
        "ListStateMachines" => machines::list(state, body),
        "ValidateStateMachineDefinition" => machines::validate(body),
        "TestState" => test_state::run(state, body).await,
        "DescribeExecution" => executions::describe(state, body),
        "ListExecutions" => executions::list(state, body),
        "StopExecution" => executions::stop(state, body).await,
        "GetExecutionHistory" => executions::history(state, body),
        "DescribeStateMachineForExecution" => executions::describe_state_machine(state, body),
        "TagResource" => tags::tag(state, body),
        "UntagResource" => tags::untag(state, body),
        "ListTagsForResource" => tags::list(state, body),
        "PublishStateMachineVersion" => versions::publish(state, body),
        "ListStateMachineVersions" => versions::list_versions(state, body),
        "DeleteStateMachineVersion" => versions::delete_version(state, body),
        "CreateStateMachineAlias" => versions::create_alias(state, body),
        "DescribeStateMachineAlias" => versions::describe_alias(state, body),
        "UpdateStateMachineAlias" => versions::update_alias(state, body),
        "DeleteStateMachineAlias" => versions::delete_alias(state, body),
        "ListStateMachineAliases" => versions::list_aliases(state, body),
        other => Err(ApiError::unknown_operation(&format!("AWSStepFunctions.{other}"))),
    }
}

/// `maxResults` and `nextToken` of a list operation, checked.
pub struct Page {
    pub max: usize,
    /// The sort key of the last item of the previous page.
    pub after: Option<String>,
    kind: &'static str,
}

/// The default and the largest page (`maxResults` 0 or absent means the default).
const DEFAULT_PAGE: usize = 100;
const MAX_PAGE: i64 = 1000;
const MAX_TOKEN_LEN: usize = 1024;

impl Page {
    /// `kind` ties tokens to the list they came from: a token from another list is invalid.
    pub fn new(max_results: Option<i64>, next_token: Option<&str>, kind: &'static str) -> Result<Page, ApiError> {
        let max = match max_results {
            None | Some(0) => DEFAULT_PAGE,
            Some(n) if n < 0 => {
                return Err(ApiError::validation(format!(
                    "Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 0"
                )))
            }
            Some(n) if n > MAX_PAGE => {
                return Err(ApiError::validation(format!(
                    "Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to {MAX_PAGE}"
                )))
            }
            Some(n) => n as usize,
        };
        let after = match next_token {
            None => None,
            Some(t) if t.len() > MAX_TOKEN_LEN => return Err(ApiError::too_long("nextToken", MAX_TOKEN_LEN)),
            Some(t) => Some(decode_token(t, kind).ok_or_else(|| ApiError::invalid_token(t))?),
        };
        Ok(Page { max, after, kind })
    }

    /// Takes one page from items sorted by their keys (ascending); answers the page and the
    /// next token when more items follow.
    pub fn take<T>(&self, sorted: impl IntoIterator<Item = (String, T)>) -> (Vec<T>, Option<String>) {
        let mut out = Vec::new();
        let mut last_key = None;
        let mut more = false;
        for (key, item) in sorted {
            if self.after.as_ref().is_some_and(|a| key.as_str() <= a.as_str()) {
                continue;
            }
            if out.len() == self.max {
                more = true;
                break;
            }
            last_key = Some(key);
            out.push(item);
        }
        let token = if more { last_key.map(|k| encode_token(self.kind, &k)) } else { None };
        (out, token)
    }
}

fn encode_token(kind: &str, key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{kind}\u{0}{key}"))
}

fn decode_token(token: &str, kind: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (k, key) = text.split_once('\u{0}')?;
    (k == kind).then(|| key.to_string())
}

/// Reads a required string member.
fn required_str<'a>(v: &'a Option<String>, field: &str) -> Result<&'a str, ApiError> {
    v.as_deref().ok_or_else(|| ApiError::missing(field))
}

/// Serialises a response object.
fn ok(v: Json) -> Result<Vec<u8>, ApiError> {
    Ok(super::protocol::to_body(&v))
}

/// The `tags` member of requests: `[{"key": …, "value": …}]`, with AWS's limits.
fn parse_tags(v: Option<&Vec<Json>>) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = Vec::new();
    for t in v.into_iter().flatten() {
        let key = t.get("key").and_then(Json::as_str).ok_or_else(|| ApiError::missing("tags.member.key"))?;
        let value = t.get("value").and_then(Json::as_str).unwrap_or("");
        super::protocol::check_length(key, "tags.member.key", 1, 128)?;
        super::protocol::check_length(value, "tags.member.value", 0, 256)?;
        out.push((key.to_string(), value.to_string()));
    }
    Ok(out)
}

fn tags_json(tags: &[(String, String)]) -> Json {
    Json::Array(tags.iter().map(|(k, v)| serde_json::json!({"key": k, "value": v})).collect())
}

/// An internal inconsistency answered as AWS's 500.
fn internal(message: &str) -> ApiError {
    ApiError::new(ErrorCode::InternalFailure, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_tokens_and_reject_foreign_ones() {
        let items = || (0..5).map(|i| (format!("k{i}"), i));
        let p = Page::new(Some(2), None, "x").unwrap();
        let (first, token) = p.take(items());
        assert_eq!(first, vec![0, 1]);
        let token = token.unwrap();
        let (second, token2) = Page::new(Some(2), Some(&token), "x").unwrap().take(items());
        assert_eq!(second, vec![2, 3]);
        let (third, none) = Page::new(Some(2), token2.as_deref(), "x").unwrap().take(items());
        assert_eq!((third, none), (vec![4], None));
        assert_eq!(Page::new(None, Some(&token), "y").err().unwrap().aws_type(), "InvalidToken");
        assert_eq!(Page::new(None, Some("garbage!"), "x").err().unwrap().aws_type(), "InvalidToken");
        assert_eq!(Page::new(Some(1001), None, "x").err().unwrap().aws_type(), "ValidationException");
        assert_eq!(Page::new(Some(0), None, "x").unwrap().max, 100);
    }

    #[test]
    fn an_exact_last_page_has_no_token() {
        let (page, token) = Page::new(Some(2), None, "x").unwrap().take((0..2).map(|i| (format!("k{i}"), i)));
        assert_eq!(page.len(), 2);
        assert!(token.is_none());
    }
}
