//! Checking a mocked Task result against the response shape of the service API it stands for
//! (TestState's `fieldValidationMode`): STRICT checks required fields, types, enum values and
//! bounds; PRESENT only the fields the mock has; NONE nothing.
//!
//! AWS validates against its full service models. We carry a small table of response shapes:
//! the integrations the recorded cases exercise and a few of their close relatives (Lambda
//! Invoke and GetFunction, S3 GetObject, DynamoDB item calls, EventBridge PutEvents, Step
//! Functions StartExecution, SQS SendMessage, SNS Publish). A resource not in the table is not
//! checked, as if validation were NONE. Fields are named as Step Functions presents them
//! (PascalCase), and fields a mock adds beyond the model are accepted, as AWS does (forward
//! compatibility). `.sync` and `.waitForTaskToken` results are not the API's response, so they
//! are not checked either.

use crate::value::Value;

use super::TestStateError;

/// A response shape, as much of it as validation needs.
enum Shape {
    /// Anything (document types, blobs Step Functions turns into JSON, opaque structures).
    Any,
    Str,
    Enum(&'static [&'static str]),
    Int { min: Option<i64>, max: Option<i64> },
    Float,
    Bool,
    List(&'static Shape),
    Map(&'static Shape),
    Struct(&'static [Member]),
}

struct Member {
    name: &'static str,
    required: bool,
    shape: Shape,
}

const fn opt(name: &'static str, shape: Shape) -> Member {
    Member { name, required: false, shape }
}

const fn req(name: &'static str, shape: Shape) -> Member {
    Member { name, required: true, shape }
}

const INT: Shape = Shape::Int { min: None, max: None };
const STRINGS: Shape = Shape::Str;
const ANY: Shape = Shape::Any;

const LAMBDA_INVOKE: Shape = Shape::Struct(&[
    opt("StatusCode", INT),
    opt("FunctionError", Shape::Str),
    opt("LogResult", Shape::Str),
    // The optimised integration returns the payload as JSON, not as a blob.
    opt("Payload", Shape::Any),
    opt("ExecutedVersion", Shape::Str),
]);

const LAMBDA_GET_FUNCTION: Shape = Shape::Struct(&[
    opt(
        "Configuration",
        Shape::Struct(&[
            opt("FunctionName", Shape::Str),
            opt("FunctionArn", Shape::Str),
            opt("Runtime", Shape::Str),
            opt("Role", Shape::Str),
            opt("Handler", Shape::Str),
            opt("CodeSize", INT),
            opt("Description", Shape::Str),
            opt("Timeout", Shape::Int { min: Some(1), max: None }),
            opt("MemorySize", Shape::Int { min: Some(128), max: Some(10240) }),
            opt("LastModified", Shape::Str),
            opt("CodeSha256", Shape::Str),
            opt("Version", Shape::Str),
            opt("State", Shape::Enum(&["Pending", "Active", "Inactive", "Failed"])),
            opt("PackageType", Shape::Enum(&["Zip", "Image"])),
            opt("Architectures", Shape::List(&Shape::Enum(&["x86_64", "arm64"]))),
        ]),
    ),
    opt("Code", Shape::Struct(&[opt("RepositoryType", Shape::Str), opt("Location", Shape::Str), opt("ImageUri", Shape::Str)])),
    opt("Tags", Shape::Map(&STRINGS)),
    opt("Concurrency", Shape::Struct(&[opt("ReservedConcurrentExecutions", Shape::Int { min: Some(0), max: None })])),
]);

const S3_GET_OBJECT: Shape = Shape::Struct(&[
    opt("Body", Shape::Any),
    opt("DeleteMarker", Shape::Bool),
    opt("AcceptRanges", Shape::Str),
    opt("Expiration", Shape::Str),
    opt("LastModified", Shape::Str),
    opt("ContentLength", INT),
    opt("ETag", Shape::Str),
    opt("MissingMeta", INT),
    opt("VersionId", Shape::Str),
    opt("CacheControl", Shape::Str),
    opt("ContentDisposition", Shape::Str),
    opt("ContentEncoding", Shape::Str),
    opt("ContentLanguage", Shape::Str),
    opt("ContentRange", Shape::Str),
    opt("ContentType", Shape::Str),
    opt("ServerSideEncryption", Shape::Enum(&["AES256", "aws:kms", "aws:kms:dsse"])),
    opt("Metadata", Shape::Map(&STRINGS)),
    opt(
        "StorageClass",
        Shape::Enum(&[
            "STANDARD",
            "REDUCED_REDUNDANCY",
            "STANDARD_IA",
            "ONEZONE_IA",
            "INTELLIGENT_TIERING",
            "GLACIER",
            "DEEP_ARCHIVE",
            "OUTPOSTS",
            "GLACIER_IR",
            "SNOW",
            "EXPRESS_ONEZONE",
            "FSX_OPENZFS",
        ]),
    ),
    opt("PartsCount", INT),
    opt("TagCount", INT),
]);

const DYNAMODB_CAPACITY: Shape = Shape::Struct(&[
    opt("TableName", Shape::Str),
    opt("CapacityUnits", Shape::Float),
    opt("ReadCapacityUnits", Shape::Float),
    opt("WriteCapacityUnits", Shape::Float),
    opt("Table", Shape::Struct(&[opt("CapacityUnits", Shape::Float), opt("ReadCapacityUnits", Shape::Float), opt("WriteCapacityUnits", Shape::Float)])),
    opt("LocalSecondaryIndexes", Shape::Map(&ANY)),
    opt("GlobalSecondaryIndexes", Shape::Map(&ANY)),
]);

const DYNAMODB_WRITE: Shape =
    Shape::Struct(&[opt("Attributes", Shape::Map(&ANY)), opt("ConsumedCapacity", DYNAMODB_CAPACITY), opt("ItemCollectionMetrics", Shape::Any)]);

const DYNAMODB_GET_ITEM: Shape = Shape::Struct(&[opt("Item", Shape::Map(&ANY)), opt("ConsumedCapacity", DYNAMODB_CAPACITY)]);

const EVENTS_PUT_EVENTS: Shape = Shape::Struct(&[
    opt("FailedEntryCount", INT),
    opt("Entries", Shape::List(&Shape::Struct(&[opt("EventId", Shape::Str), opt("ErrorCode", Shape::Str), opt("ErrorMessage", Shape::Str)]))),
]);

// Timestamps are strings in Step Functions' JSON.
const SFN_START_EXECUTION: Shape = Shape::Struct(&[req("ExecutionArn", Shape::Str), req("StartDate", Shape::Str)]);

const SQS_SEND_MESSAGE: Shape = Shape::Struct(&[
    opt("MD5OfMessageBody", Shape::Str),
    opt("MD5OfMessageAttributes", Shape::Str),
    opt("MD5OfMessageSystemAttributes", Shape::Str),
    opt("MessageId", Shape::Str),
    opt("SequenceNumber", Shape::Str),
]);

const SNS_PUBLISH: Shape = Shape::Struct(&[opt("MessageId", Shape::Str), opt("SequenceNumber", Shape::Str)]);

/// The response shape for `service:action` (optimised or `aws-sdk:` integration).
fn output_shape(service: &str, action: &str) -> Option<&'static Shape> {
    Some(match (service, action) {
        ("lambda", "invoke") => &LAMBDA_INVOKE,
        ("lambda", "getFunction") => &LAMBDA_GET_FUNCTION,
        ("s3", "getObject") => &S3_GET_OBJECT,
        ("dynamodb", "putItem" | "updateItem" | "deleteItem") => &DYNAMODB_WRITE,
        ("dynamodb", "getItem") => &DYNAMODB_GET_ITEM,
        ("events" | "eventbridge", "putEvents") => &EVENTS_PUT_EVENTS,
        ("states" | "sfn", "startExecution") => &SFN_START_EXECUTION,
        ("sqs", "sendMessage") => &SQS_SEND_MESSAGE,
        ("sns", "publish") => &SNS_PUBLISH,
        _ => return None,
    })
}

/// `(service, action)` of a request-response service integration resource
/// (`arn:aws:states:::sqs:sendMessage`, `arn:aws:states:::aws-sdk:s3:getObject`); `None` for
/// Lambda function ARNs, activities, and `.sync` / `.waitForTaskToken` patterns.
fn integration(resource: &str) -> Option<(&str, &str)> {
    let mut parts = resource.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some("states"), Some(""), Some(""), Some(rest)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let rest = rest.strip_prefix("aws-sdk:").unwrap_or(rest);
    let (service, action) = rest.split_once(':')?;
    (!action.contains('.')).then_some((service, action))
}

/// How strictly a mock is checked (`mock.fieldValidationMode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldValidation {
    Strict,
    Present,
    None,
}

/// Checks a mocked result for a Task on `resource`.
pub fn check_mock_result(resource: &str, result: &Value, mode: FieldValidation) -> Result<(), TestStateError> {
    if mode == FieldValidation::None || result.is_null() {
        return Ok(());
    }
    let Some(shape) = integration(resource).and_then(|(s, a)| output_shape(s, a)) else {
        return Ok(());
    };
    if !matches!(result, Value::Object(_)) {
        return Err(TestStateError::validation("Mocked result must be a JSON object."));
    }
    check(result, shape, "", mode)
}

fn schema_error(why: String) -> TestStateError {
    TestStateError::validation(format!("Mock result schema validation error: {why}"))
}

fn check(value: &Value, shape: &Shape, field: &str, mode: FieldValidation) -> Result<(), TestStateError> {
    let must_be = |what: &str| Err(schema_error(format!("Field '{field}' must be {what}")));
    match shape {
        Shape::Any => Ok(()),
        Shape::Struct(members) => {
            let Some(obj) = value.as_object() else { return must_be("an object") };
            if mode == FieldValidation::Strict {
                if let Some(m) = members.iter().find(|m| m.required && !obj.contains_key(m.name)) {
                    return Err(schema_error(format!("Required field '{}' is missing", m.name)));
                }
            }
            for (name, v) in obj.iter() {
                if let Some(m) = members.iter().find(|m| m.name == &**name) {
                    check(v, &m.shape, name, mode)?;
                }
            }
            Ok(())
        }
        Shape::List(item) => match value.as_array() {
            Some(items) => items.iter().try_for_each(|v| check(v, item, field, mode)),
            None => must_be("an array"),
        },
        Shape::Map(item) => match value.as_object() {
            Some(obj) => obj.values().try_for_each(|v| check(v, item, field, mode)),
            None => must_be("an object"),
        },
        Shape::Str => match value {
            Value::String(_) => Ok(()),
            _ => must_be("a string"),
        },
        Shape::Enum(allowed) => match value {
            Value::String(s) if allowed.contains(&&**s) => Ok(()),
            Value::String(_) => Err(schema_error(format!("Field '{field}' is not an expected value"))),
            _ => must_be("a string"),
        },
        Shape::Int { min, max } => {
            let Some(n) = value.as_i64() else {
                return must_be("a number");
            };
            if min.is_some_and(|m| n < m) {
                return Err(schema_error(format!("Field '{field}' is less than the minimum value")));
            }
            if max.is_some_and(|m| n > m) {
                return Err(schema_error(format!("Field '{field}' exceeds the maximum value")));
            }
            Ok(())
        }
        Shape::Float => match value {
            Value::Number(_) => Ok(()),
            _ => must_be("a number"),
        },
        Shape::Bool => match value {
            Value::Bool(_) => Ok(()),
            _ => must_be("a boolean"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::parse_str;

    fn verdict(resource: &str, mock: &str, mode: FieldValidation) -> Result<(), String> {
        check_mock_result(resource, &parse_str(mock).expect("json"), mode).map_err(|e| e.message().to_string())
    }

    #[test]
    fn resources_name_their_integration() {
        assert_eq!(integration("arn:aws:states:::aws-sdk:s3:getObject"), Some(("s3", "getObject")));
        assert_eq!(integration("arn:aws:states:::lambda:invoke"), Some(("lambda", "invoke")));
        assert_eq!(integration("arn:aws:states:::sqs:sendMessage.waitForTaskToken"), None);
        assert_eq!(integration("arn:aws:lambda:us-east-1:123456789012:function:f"), None);
    }

    #[test]
    fn strict_mode_checks_required_fields_types_enums_and_bounds() {
        let start = "arn:aws:states:::states:startExecution";
        assert_eq!(verdict(start, r#"{"executionArn":"a"}"#, FieldValidation::Strict).unwrap_err(), "Mock result schema validation error: Required field 'ExecutionArn' is missing");
        assert!(verdict(start, "{}", FieldValidation::Present).is_ok());
        assert!(verdict(start, "{}", FieldValidation::None).is_ok());
        let get_function = "arn:aws:states:::aws-sdk:lambda:getFunction";
        assert_eq!(
            verdict(get_function, r#"{"Configuration":{"MemorySize":127}}"#, FieldValidation::Present).unwrap_err(),
            "Mock result schema validation error: Field 'MemorySize' is less than the minimum value"
        );
        assert_eq!(
            verdict("arn:aws:states:::aws-sdk:s3:getObject", r#"{"StorageClass":"Papyrus"}"#, FieldValidation::Strict).unwrap_err(),
            "Mock result schema validation error: Field 'StorageClass' is not an expected value"
        );
        assert_eq!(
            verdict("arn:aws:states:::events:putEvents", r#"{"Entries":[{"EventId":"a"},{"EventId":[1]}]}"#, FieldValidation::Strict).unwrap_err(),
            "Mock result schema validation error: Field 'EventId' must be a string"
        );
        assert!(verdict("arn:aws:states:::events:putEvents", r#"{"random":"json"}"#, FieldValidation::Strict).is_ok());
        assert!(verdict("arn:aws:states:::dynamodb:putItem", r#"{"ConsumedCapacity":{"CapacityUnits":1}}"#, FieldValidation::Strict).is_ok());
        assert_eq!(
            verdict("arn:aws:states:::lambda:invoke", "[1]", FieldValidation::Strict).unwrap_err(),
            "Mocked result must be a JSON object."
        );
    }
}
