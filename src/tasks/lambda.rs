//! AWS Lambda through any server speaking the Lambda Invoke API (SAM's `start-lambda`,
//! LocalStack, a test double): `POST {endpoint}/2015-03-31/functions/NAME/invocations`.
//!
//! Two resource forms, shaped as AWS shapes them (recorded in the `task-lambda` cases):
//! - `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`: the Task input is the payload;
//!   the result is the function's JSON response; a function error becomes error = its
//!   `errorType` (else `Lambda.Unknown`), cause = the payload text exactly as the function sent it.
//! - `arn:aws:states:::lambda:invoke` with `FunctionName` (name, name:qualifier, full or partial
//!   ARN), `Payload`, `Qualifier`, `InvocationType`, `ClientContext`, `LogType`: the result is
//!   Invoke's envelope (`ExecutedVersion`, `Payload`, `SdkHttpMetadata`, `SdkResponseMetadata`,
//!   `StatusCode`); a function error's cause is the payload re-serialised compactly, as AWS does.
//!
//! Service failures are `Lambda.<ErrorCode>` (the `x-amzn-ErrorType` header, else derived from
//! the status: 404 `ResourceNotFoundException`, 429 `TooManyRequestsException`, 5xx
//! `ServiceException`) with the Java SDK's cause wording; a request that gets no response is
//! `Lambda.SdkClientException` (what AWS's Java SDK raises for transport failures). A response
//! over 256 KiB is `States.DataLimitExceeded`.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use hyper::{HeaderMap, Method};

use super::client::{HttpClient, TransportError};
use super::{TaskHandler, TaskRequest};
use crate::error::{AslError, STATES_DATA_LIMIT_EXCEEDED};
use crate::value::{parse, Str, Value};
use crate::vm::io::PAYLOAD_LIMIT_BYTES;

/// Every partition's `lambda:invoke` resource (the `.waitForTaskToken` form is refused for
/// Express machines by validation).
pub const INVOKE_RESOURCES: [&str; 3] =
    ["arn:aws:states:::lambda:invoke", "arn:aws-cn:states:::lambda:invoke", "arn:aws-us-gov:states:::lambda:invoke"];
/// Prefixes of function ARNs used directly as resources.
pub const FUNCTION_ARN_PREFIXES: [&str; 3] = ["arn:aws:lambda:", "arn:aws-cn:lambda:", "arn:aws-us-gov:lambda:"];

/// Invokes functions on one Lambda-compatible endpoint.
pub struct LambdaHandler {
    client: HttpClient,
    endpoint: Arc<str>,
}

impl LambdaHandler {
    /// `endpoint` is the server's base URL, e.g. `http://127.0.0.1:3001`.
    pub fn new(client: HttpClient, endpoint: &str) -> LambdaHandler {
        LambdaHandler { client, endpoint: Arc::from(endpoint.trim_end_matches('/')) }
    }
}

impl TaskHandler for LambdaHandler {
    fn invoke(&self, request: TaskRequest) -> BoxFuture<'static, Result<Value, AslError>> {
        let client = self.client.clone();
        let endpoint = Arc::clone(&self.endpoint);
        Box::pin(async move {
            if INVOKE_RESOURCES.contains(&&*request.resource) {
                invoke_integration(&client, &endpoint, &request.input).await
            } else {
                invoke_resource(&client, &endpoint, &request.resource, &request.input).await
            }
        })
    }
}

/// A function and the version or alias to run.
#[derive(Debug, PartialEq)]
struct Target {
    name: String,
    qualifier: Option<String>,
}

/// Parses `NAME`, `NAME:QUALIFIER`, `ACCOUNT:function:NAME[:QUALIFIER]` or a full function ARN.
fn parse_function(text: &str) -> Result<Target, String> {
    let parts: Vec<&str> = text.split(':').collect();
    let (name, qualifier) = match parts.as_slice() {
        ["arn", _, "lambda", _, _, "function", name] | [_, "function", name] | [name] => (*name, None),
        ["arn", _, "lambda", _, _, "function", name, q] | [_, "function", name, q] | [name, q] => (*name, Some(*q)),
        _ => return Err(format!("'{text}' is not a function name, a partial ARN or a function ARN")),
    };
    let valid = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '$');
    if !valid(name) || qualifier.is_some_and(|q| !valid(q)) {
        return Err(format!("'{text}' is not a valid function name"));
    }
    Ok(Target { name: name.to_string(), qualifier: qualifier.map(String::from) })
}

/// What Invoke returned, before it is shaped for one of the two resource forms.
struct Invoked {
    status: u16,
    headers: HeaderMap,
    body: Bytes,
}

impl Invoked {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

async fn call(
    client: &HttpClient,
    endpoint: &str,
    target: &Target,
    payload: Bytes,
    extra_headers: Vec<(String, String)>,
    size_name: &str,
) -> Result<Invoked, AslError> {
    let mut url = format!("{endpoint}/2015-03-31/functions/{}/invocations", target.name);
    if let Some(q) = &target.qualifier {
        url.push_str("?Qualifier=");
        url.push_str(q);
    }
    let mut headers = vec![("Content-Type".to_string(), "application/json".to_string())];
    headers.extend(extra_headers);
    match client.send(Method::POST, &url, headers, payload, PAYLOAD_LIMIT_BYTES).await {
        Ok(r) if r.status.is_success() => Ok(Invoked { status: r.status.as_u16(), headers: r.headers, body: r.body }),
        Ok(r) => Err(service_error(r.status.as_u16(), &r.headers, &r.body)),
        Err(TransportError::BodyTooLarge(_)) => Err(data_limit_exceeded(size_name)),
        Err(e) => Err(AslError::new("Lambda.SdkClientException", format!("Unable to execute HTTP request: {e}"))),
    }
}

fn data_limit_exceeded(name: &str) -> AslError {
    AslError::new(
        STATES_DATA_LIMIT_EXCEEDED,
        format!("The state/task '{name}' returned a result with a size exceeding the maximum number of bytes service limit."),
    )
}

/// A non-2xx answer from the Lambda service, worded as AWS's Java SDK words it.
fn service_error(status: u16, headers: &HeaderMap, body: &[u8]) -> AslError {
    let json = parse(body).ok();
    let field = |k: &str| json.as_ref().and_then(|j| j.get(k)).and_then(Value::as_str).map(str::to_string);
    let code = headers
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(':').next().unwrap_or(v).to_string())
        .or_else(|| field("__type").map(|t| t.rsplit('#').next().unwrap_or(&t).to_string()))
        .unwrap_or_else(|| {
            match status {
                404 => "ResourceNotFoundException",
                429 => "TooManyRequestsException",
                500..=599 => "ServiceException",
                _ => "AWSLambdaException",
            }
            .to_string()
        });
    let message = field("Message").or_else(|| field("message")).unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    let request_id = headers.get("x-amzn-requestid").and_then(|v| v.to_str().ok()).unwrap_or("");
    AslError::new(
        format!("Lambda.{code}"),
        format!(
            "{message} (Service: AWSLambda; Status Code: {status}; Error Code: {code}; Request ID: {request_id}; Proxy: null)"
        ),
    )
}

/// The function's error: error name from `errorType`, cause as given by `cause`.
fn function_error(body: &[u8], cause: impl FnOnce(Option<&Value>) -> String) -> AslError {
    let json = parse(body).ok();
    let error = json
        .as_ref()
        .and_then(|j| j.get("errorType"))
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .unwrap_or("Lambda.Unknown")
        .to_string();
    AslError::new(error, cause(json.as_ref()))
}

/// A response payload as a value: JSON when it parses, else the text.
fn payload_value(body: &[u8]) -> Value {
    parse(body).unwrap_or_else(|_| Value::from(String::from_utf8_lossy(body).into_owned()))
}

async fn invoke_resource(client: &HttpClient, endpoint: &str, resource: &str, input: &Value) -> Result<Value, AslError> {
    let target = parse_function(resource).map_err(|e| AslError::new("Lambda.InvalidParameterValueException", e))?;
    let invoked = call(client, endpoint, &target, Bytes::from(input.to_json()), Vec::new(), resource).await?;
    if invoked.header("x-amz-function-error").is_some() {
        return Err(function_error(&invoked.body, |_| String::from_utf8_lossy(&invoked.body).into_owned()));
    }
    Ok(payload_value(&invoked.body))
}

async fn invoke_integration(client: &HttpClient, endpoint: &str, params: &Value) -> Result<Value, AslError> {
    let invalid = |m: String| AslError::new("Lambda.InvalidParameterValueException", m);
    let string_param = |k: &str| match params.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.to_string())),
        Some(other) => Err(invalid(format!("The field '{k}' must be a string, not {}", other.type_name()))),
    };
    let function = string_param("FunctionName")?.ok_or_else(|| invalid("The field 'FunctionName' is required".into()))?;
    let mut target = parse_function(&function).map_err(invalid)?;
    if let Some(q) = string_param("Qualifier")? {
        target.qualifier = Some(q);
    }
    let invocation_type = string_param("InvocationType")?.unwrap_or_else(|| "RequestResponse".into());
    if !matches!(invocation_type.as_str(), "RequestResponse" | "Event" | "DryRun") {
        return Err(invalid(format!(
            "InvocationType '{invocation_type}' is not one of RequestResponse, Event, DryRun"
        )));
    }
    let mut headers = vec![("X-Amz-Invocation-Type".to_string(), invocation_type)];
    if let Some(c) = string_param("ClientContext")? {
        headers.push(("X-Amz-Client-Context".into(), c));
    }
    if let Some(l) = string_param("LogType")? {
        headers.push(("X-Amz-Log-Type".into(), l));
    }
    // A string Payload is sent as its text (the recorded cases send "0.0" and get 0.0 back);
    // anything else as JSON; none as an empty body, which Lambda hands the function as {}.
    let payload = match params.get("Payload") {
        None | Some(Value::Null) => Bytes::new(),
        Some(Value::String(s)) => Bytes::from(s.to_string()),
        Some(v) => Bytes::from(v.to_json()),
    };
    let invoked = call(client, endpoint, &target, payload, headers, "lambda").await?;
    if invoked.header("x-amz-function-error").is_some() {
        return Err(function_error(&invoked.body, |json| match json {
            Some(j) => j.to_json(),
            None => String::from_utf8_lossy(&invoked.body).into_owned(),
        }));
    }
    Ok(envelope(&invoked, target.qualifier.as_deref()))
}

/// Invoke's response as Step Functions returns it for `lambda:invoke`.
fn envelope(invoked: &Invoked, qualifier: Option<&str>) -> Value {
    let mut names: Vec<&str> = invoked.headers.keys().map(|k| k.as_str()).collect();
    names.sort_by_key(|n| n.to_ascii_lowercase());
    let mut all = Vec::with_capacity(names.len());
    let mut last = Vec::with_capacity(names.len());
    for name in names {
        let values: Vec<Value> =
            invoked.headers.get_all(name).iter().map(|v| Value::from(String::from_utf8_lossy(v.as_bytes()).into_owned())).collect();
        let canonical = canonical_header(name);
        if let Some(v) = values.last() {
            last.push((Str::from(canonical.as_str()), v.clone()));
        }
        all.push((Str::from(canonical), Value::array(values)));
    }
    let request_id = invoked.header("x-amzn-requestid").map(str::to_string).unwrap_or_else(crate::ids::uuid_v4);
    let version = invoked.header("x-amz-executed-version").or(qualifier).unwrap_or("$LATEST").to_string();
    let payload = if invoked.body.is_empty() { Value::from("") } else { payload_value(&invoked.body) };
    Value::object([
        ("ExecutedVersion", Value::from(version)),
        ("Payload", payload),
        (
            "SdkHttpMetadata",
            Value::object([
                ("AllHttpHeaders", Value::object(all)),
                ("HttpHeaders", Value::object(last)),
                ("HttpStatusCode", Value::from(invoked.status as i64)),
            ]),
        ),
        ("SdkResponseMetadata", Value::object([("RequestId", Value::from(request_id))])),
        ("StatusCode", Value::from(invoked.status as i64)),
    ])
}

/// Header names as Lambda sends them on the wire (hyper hands them to us lowercased).
fn canonical_header(lower: &str) -> String {
    let known = [
        ("x-amzn-requestid", "x-amzn-RequestId"),
        ("x-amzn-remapped-content-length", "x-amzn-Remapped-Content-Length"),
        ("x-amzn-errortype", "x-amzn-ErrorType"),
        ("x-amzn-trace-id", "X-Amzn-Trace-Id"),
    ];
    if let Some((_, name)) = known.iter().find(|(l, _)| *l == lower) {
        return name.to_string();
    }
    lower
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_function_name_form() {
        let t = |name: &str, q: Option<&str>| Target { name: name.into(), qualifier: q.map(String::from) };
        assert_eq!(parse_function("my-fn"), Ok(t("my-fn", None)));
        assert_eq!(parse_function("my-fn:prod"), Ok(t("my-fn", Some("prod"))));
        assert_eq!(parse_function("123456789012:function:my-fn"), Ok(t("my-fn", None)));
        assert_eq!(parse_function("arn:aws:lambda:us-east-1:123456789012:function:my_fn:7"), Ok(t("my_fn", Some("7"))));
        assert_eq!(parse_function("arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST"), Ok(t("f", Some("$LATEST"))));
        assert!(parse_function("a/b").is_err());
        assert!(parse_function("").is_err());
        assert!(parse_function("arn:aws:lambda:us-east-1:1:layer:x").is_err());
    }

    #[test]
    fn service_errors_read_the_error_type_header_then_the_status() {
        let mut h = HeaderMap::new();
        h.insert("x-amzn-errortype", "ResourceNotFoundException:http://internal".parse().unwrap());
        h.insert("x-amzn-requestid", "r-1".parse().unwrap());
        let e = service_error(404, &h, br#"{"Type":"User","Message":"Function not found: arn:x"}"#);
        assert_eq!(e.error.as_deref(), Some("Lambda.ResourceNotFoundException"));
        assert_eq!(
            e.cause.as_deref(),
            Some("Function not found: arn:x (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: r-1; Proxy: null)")
        );
        let e = service_error(429, &HeaderMap::new(), b"slow down");
        assert_eq!(e.error.as_deref(), Some("Lambda.TooManyRequestsException"));
        assert_eq!(service_error(503, &HeaderMap::new(), b"").error.as_deref(), Some("Lambda.ServiceException"));
    }

    #[test]
    fn function_errors_take_the_error_type_or_lambda_unknown() {
        let e = function_error(br#"{"errorType": "Boom", "errorMessage": "x"}"#, |_| "c".into());
        assert_eq!(e.error.as_deref(), Some("Boom"));
        assert_eq!(function_error(b"not json", |_| String::new()).error.as_deref(), Some("Lambda.Unknown"));
    }

    #[test]
    fn header_names_follow_lambdas_spelling() {
        assert_eq!(canonical_header("x-amz-executed-version"), "X-Amz-Executed-Version");
        assert_eq!(canonical_header("x-amzn-requestid"), "x-amzn-RequestId");
        assert_eq!(canonical_header("content-length"), "Content-Length");
    }
}
