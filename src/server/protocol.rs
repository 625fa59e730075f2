//! The AWS JSON 1.0 envelope Step Functions speaks: request fields, response bodies, timestamps
//! and errors.
//!
//! Invariants:
//! - Every error leaves as `{"__type": "<namespace>#<Name>", "message": "…"}` with AWS's HTTP
//!   status; SDKs keep only what follows `#`, so the name is what they match on.
//! - Service errors use Step Functions' namespace; the model-level errors (validation,
//!   throttling, unknown operation, serialization) use the Coral framework's namespaces AWS's
//!   front end answers with.
//! - Timestamps are epoch seconds as JSON numbers with millisecond precision (botocore and the
//!   SDKs parse `unixtimestamp` members this way).

use serde::Deserialize;
use serde_json::Value as Json;

/// Namespace of Step Functions' own exceptions.
pub const SFN_NAMESPACE: &str = "com.amazonaws.swf.service.v2.model";

/// The content type of Step Functions requests and responses.
pub const CONTENT_TYPE_JSON_1_0: &str = "application/x-amz-json-1.0";

/// The error names we answer with. Each maps to AWS's `__type` namespace and HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    ConflictException,
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    InvalidArn,
    InvalidDefinition,
    InvalidExecutionInput,
    InvalidLoggingConfiguration,
    InvalidName,
    InvalidToken,
    MissingRequiredParameter,
    ResourceNotFound,
    ServiceQuotaExceededException,
    StateMachineAlreadyExists,
    StateMachineDoesNotExist,
    StateMachineLimitExceeded,
    StateMachineTypeNotSupported,
    TooManyTags,
    ValidationException,
    ThrottlingException,
    UnknownOperationException,
    SerializationException,
    RequestEntityTooLargeException,
    InternalFailure,
}

impl ErrorCode {
    /// The error's name as SDKs see it (the part of `__type` after `#`).
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::ConflictException => "ConflictException",
            ErrorCode::ExecutionAlreadyExists => "ExecutionAlreadyExists",
            ErrorCode::ExecutionDoesNotExist => "ExecutionDoesNotExist",
            ErrorCode::InvalidArn => "InvalidArn",
            ErrorCode::InvalidDefinition => "InvalidDefinition",
            ErrorCode::InvalidExecutionInput => "InvalidExecutionInput",
            ErrorCode::InvalidLoggingConfiguration => "InvalidLoggingConfiguration",
            ErrorCode::InvalidName => "InvalidName",
            ErrorCode::InvalidToken => "InvalidToken",
            ErrorCode::MissingRequiredParameter => "MissingRequiredParameter",
            ErrorCode::ResourceNotFound => "ResourceNotFound",
            ErrorCode::ServiceQuotaExceededException => "ServiceQuotaExceededException",
            ErrorCode::StateMachineAlreadyExists => "StateMachineAlreadyExists",
            ErrorCode::StateMachineDoesNotExist => "StateMachineDoesNotExist",
            ErrorCode::StateMachineLimitExceeded => "StateMachineLimitExceeded",
            ErrorCode::StateMachineTypeNotSupported => "StateMachineTypeNotSupported",
            ErrorCode::TooManyTags => "TooManyTags",
            ErrorCode::ValidationException => "ValidationException",
            ErrorCode::ThrottlingException => "ThrottlingException",
            ErrorCode::UnknownOperationException => "UnknownOperationException",
            ErrorCode::SerializationException => "SerializationException",
            ErrorCode::RequestEntityTooLargeException => "RequestEntityTooLargeException",
            ErrorCode::InternalFailure => "InternalFailure",
        }
    }

    /// The namespace AWS puts before `#` in `__type`.
    pub fn namespace(self) -> &'static str {
        match self {
            ErrorCode::ValidationException => "com.amazon.coral.validate",
            ErrorCode::ThrottlingException => "com.amazon.coral.availability",
            ErrorCode::UnknownOperationException
            | ErrorCode::SerializationException
            | ErrorCode::RequestEntityTooLargeException
            | ErrorCode::InternalFailure => "com.amazon.coral.service",
            _ => SFN_NAMESPACE,
        }
    }

    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::InternalFailure => 500,
            ErrorCode::ServiceQuotaExceededException => 402,
            // AWS's front end refuses bodies over its limit before the service sees them; we
            // answer 413 with a JSON body so SDKs still surface a named error.
            ErrorCode::RequestEntityTooLargeException => 413,
            _ => 400,
        }
    }
}

/// An API call that failed before or instead of producing its response.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}: {message}", code.name())]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// An extra member some errors carry (`resourceName`, `reason`).
    pub extra: Option<(&'static str, String)>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError { code, message: message.into(), extra: None }
    }

    fn with(mut self, key: &'static str, value: impl Into<String>) -> ApiError {
        self.extra = Some((key, value.into()));
        self
    }

    /// The AWS error name (`__type` after `#`).
    pub fn aws_type(&self) -> &'static str {
        self.code.name()
    }

    pub fn http_status(&self) -> u16 {
        self.code.http_status()
    }

    /// The JSON error body.
    pub fn body(&self) -> Vec<u8> {
        let mut body = serde_json::Map::new();
        body.insert("__type".into(), Json::from(format!("{}#{}", self.code.namespace(), self.code.name())));
        body.insert("message".into(), Json::from(self.message.as_str()));
        if let Some((k, v)) = &self.extra {
            body.insert((*k).into(), Json::from(v.as_str()));
        }
        serde_json::to_vec(&Json::Object(body)).unwrap_or_default()
    }

    // Constructors for the errors raised in more than one place, worded as AWS words them.

    pub fn state_machine_does_not_exist(arn: &str) -> ApiError {
        ApiError::new(ErrorCode::StateMachineDoesNotExist, format!("State Machine Does Not Exist: '{arn}'"))
    }

    pub fn execution_does_not_exist(arn: &str) -> ApiError {
        ApiError::new(ErrorCode::ExecutionDoesNotExist, format!("Execution Does Not Exist: '{arn}'"))
    }

    pub fn invalid_arn(arn: &str) -> ApiError {
        ApiError::new(ErrorCode::InvalidArn, format!("Invalid Arn: '{arn}'"))
    }

    pub fn resource_type_not_valid(kind: &str) -> ApiError {
        ApiError::new(ErrorCode::InvalidArn, format!("Invalid Arn: 'Resource type not valid in this context: {kind}'"))
    }

    pub fn resource_not_found(arn: &str) -> ApiError {
        ApiError::new(ErrorCode::ResourceNotFound, format!("Resource not found: '{arn}'")).with("resourceName", arn)
    }

    pub fn invalid_token(token: &str) -> ApiError {
        ApiError::new(ErrorCode::InvalidToken, format!("Invalid Token: '{token}'"))
    }

    pub fn invalid_name(name: &str) -> ApiError {
        ApiError::new(ErrorCode::InvalidName, format!("Invalid Name: '{name}'"))
    }

    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::ConflictException, message)
    }

    pub fn too_many_tags(arn: &str, limit: usize) -> ApiError {
        ApiError::new(ErrorCode::TooManyTags, format!("Too many tags: a resource can have at most {limit} tags"))
            .with("resourceName", arn)
    }

    pub fn throttled(limit: usize) -> ApiError {
        ApiError::new(ErrorCode::ThrottlingException, format!("Rate exceeded: {limit} executions are already in flight"))
    }

    pub fn unknown_operation(target: &str) -> ApiError {
        ApiError::new(ErrorCode::UnknownOperationException, format!("Unknown operation: '{target}'"))
    }

    /// A model constraint failure, in Coral's words: `1 validation error detected: …`.
    pub fn validation(detail: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::ValidationException, format!("1 validation error detected: {}", detail.into()))
    }

    pub fn missing(field: &str) -> ApiError {
        ApiError::validation(format!("Value null at '{field}' failed to satisfy constraint: Member must not be null"))
    }

    pub fn too_long(field: &str, limit: usize) -> ApiError {
        ApiError::validation(format!(
            "Value at '{field}' failed to satisfy constraint: Member must have length less than or equal to {limit}"
        ))
    }

    pub fn bad_enum(field: &str, value: &str, allowed: &[&str]) -> ApiError {
        ApiError::validation(format!(
            "Value '{value}' at '{field}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
            allowed.join(", ")
        ))
    }
}

/// Parses a request body into an operation's request shape. An empty body is `{}`; a body
/// that is not a JSON object, or whose members have the wrong types, is a
/// `SerializationException` as on AWS.
pub fn parse_request<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, ApiError> {
    let body = match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => b"{}".as_slice(),
        Some(b'{') => body,
        // serde would read a JSON array positionally into a request struct.
        Some(_) => return Err(ApiError::new(ErrorCode::SerializationException, "The request body must be a JSON object")),
    };
    serde_json::from_slice(body).map_err(|e| ApiError::new(ErrorCode::SerializationException, e.to_string()))
}

/// A required request member.
pub fn required<'a, T>(value: &'a Option<T>, field: &str) -> Result<&'a T, ApiError> {
    value.as_ref().ok_or_else(|| ApiError::missing(field))
}

/// Checks a string member's length bounds (in characters, as the model counts them).
pub fn check_length(value: &str, field: &str, min: usize, max: usize) -> Result<(), ApiError> {
    let n = value.chars().count();
    if n < min {
        return Err(ApiError::validation(format!(
            "Value '{value}' at '{field}' failed to satisfy constraint: Member must have length greater than or equal to {min}"
        )));
    }
    if n > max {
        return Err(ApiError::too_long(field, max));
    }
    Ok(())
}

/// Epoch milliseconds as the epoch-seconds number AWS sends.
pub fn timestamp(ms: i64) -> Json {
    let secs = ms as f64 / 1000.0;
    serde_json::Number::from_f64(secs).map(Json::Number).unwrap_or(Json::Null)
}

/// Serialises a response body.
pub fn to_body(value: &Json) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_carry_the_namespaced_type_and_message() {
        let body: Json = serde_json::from_slice(&ApiError::state_machine_does_not_exist("arn:x").body()).unwrap();
        assert_eq!(body["__type"], "com.amazonaws.swf.service.v2.model#StateMachineDoesNotExist");
        assert_eq!(body["message"], "State Machine Does Not Exist: 'arn:x'");
        let body: Json = serde_json::from_slice(&ApiError::missing("name").body()).unwrap();
        assert_eq!(body["__type"], "com.amazon.coral.validate#ValidationException");
        let body: Json = serde_json::from_slice(&ApiError::resource_not_found("arn:y").body()).unwrap();
        assert_eq!(body["resourceName"], "arn:y");
    }

    #[test]
    fn statuses_follow_aws() {
        assert_eq!(ApiError::throttled(1).http_status(), 400);
        assert_eq!(ApiError::new(ErrorCode::InternalFailure, "x").http_status(), 500);
        assert_eq!(ApiError::new(ErrorCode::RequestEntityTooLargeException, "x").http_status(), 413);
    }

    #[test]
    fn bodies_parse_leniently_but_types_are_checked() {
        #[derive(serde::Deserialize)]
        struct R {
            #[serde(rename = "maxResults")]
            max_results: Option<u32>,
        }
        assert!(parse_request::<R>(b"").unwrap().max_results.is_none());
        assert_eq!(parse_request::<R>(br#"{"maxResults": 3, "other": 1}"#).unwrap().max_results, Some(3));
        let e = parse_request::<R>(br#"{"maxResults": "x"}"#).err().unwrap();
        assert_eq!(e.code, ErrorCode::SerializationException);
        assert!(parse_request::<R>(b"[1]").is_err());
    }

    #[test]
    fn timestamps_are_epoch_seconds() {
        assert_eq!(timestamp(1_700_000_000_123).as_f64(), Some(1_700_000_000.123));
    }

    #[test]
    fn lengths_count_characters() {
        assert!(check_length("ab", "name", 1, 2).is_ok());
        assert!(check_length("", "name", 1, 80).is_err());
        assert_eq!(check_length("abc", "name", 1, 2).err().unwrap().code, ErrorCode::ValidationException);
    }
}
