//! The HTTP Task, `arn:aws:states:::http:invoke`: one request built from the Task's
//! parameters (`ApiEndpoint`, `Method`, `Headers`, `QueryParameters`, `RequestBody`,
//! `Transform`), answered with `{Headers, ResponseBody, StatusCode, StatusText}`.
//!
//! Invariants:
//! - A host not on the allow-list is never contacted: the state fails with `States.Runtime`
//!   (a setup problem, so neither retried nor caught) naming the host and the flag to allow it.
//!   The default list is loopback only.
//! - `Authentication` / `ConnectionArn` are accepted and not used: credentials live in
//!   EventBridge connections on AWS, which do not exist here.
//! - A non-2xx answer is `States.Http.StatusCode.NNN` whose cause is the response object as JSON
//!   text (our reading of AWS's documentation; no recorded case shows it); a request that gets
//!   no answer is `States.Http.Socket`.
//!
//! Body rules (where AWS's documentation is silent, the choice is ours and written here): an
//! object, array, number, boolean or null `RequestBody` is sent as JSON; a string as its text.
//! With `Transform.RequestBodyEncoding: URL_ENCODED` the body object is form-encoded: nested
//! objects as `key[inner]`, arrays by `RequestEncodingOptions.ArrayFormat` (`INDICES`, the
//! default: `a[0]=x&a[1]=y`; `BRACKETS`: `a[]=x&a[]=y`; `REPEAT`: `a=x&a=y`; `COMMAS`: `a=x,y`).
//! `QueryParameters` are encoded the same way with `REPEAT` arrays. Brackets stay literal;
//! every other reserved character is percent-encoded. A JSON response body (by parse, whatever
//! its content type) is returned parsed, anything else as a string.

use std::net::IpAddr;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use hyper::Method;

use super::client::{HttpClient, TransportError};
use super::{TaskHandler, TaskRequest};
use crate::error::{AslError, STATES_DATA_LIMIT_EXCEEDED};
use crate::value::{parse, Value};
use crate::vm::io::PAYLOAD_LIMIT_BYTES;

/// Every partition's HTTP Task resource.
pub const RESOURCES: [&str; 3] = ["arn:aws:states:::http:invoke", "arn:aws-cn:states:::http:invoke", "arn:aws-us-gov:states:::http:invoke"];

/// Hosts the HTTP Task may call.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HostAllowList {
    /// Any host at all (`*`).
    any: bool,
    /// Lowercase host names or addresses; `*.example.com` allows every subdomain.
    hosts: Vec<String>,
}

impl HostAllowList {
    /// Parses `HOST[,HOST…]`; `*` allows every host. Loopback is always allowed.
    pub fn parse(list: &str) -> HostAllowList {
        let mut allow = HostAllowList::default();
        for host in list.split(',').map(str::trim).filter(|h| !h.is_empty()) {
            if host == "*" {
                allow.any = true;
            } else {
                allow.hosts.push(host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase());
            }
        }
        allow
    }

    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        if self.any || host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()) {
            return true;
        }
        self.hosts.iter().any(|h| match h.strip_prefix("*.") {
            Some(domain) => host.len() > domain.len() && host.ends_with(domain) && host[..host.len() - domain.len()].ends_with('.'),
            None => *h == host,
        })
    }
}

/// Calls HTTP APIs for `http:invoke` Tasks.
pub struct HttpTaskHandler {
    client: HttpClient,
    allow: HostAllowList,
}

impl HttpTaskHandler {
    pub fn new(client: HttpClient, allow: HostAllowList) -> HttpTaskHandler {
        HttpTaskHandler { client, allow }
    }
}

impl TaskHandler for HttpTaskHandler {
    fn invoke(&self, request: TaskRequest) -> BoxFuture<'static, Result<Value, AslError>> {
        let client = self.client.clone();
        let prepared = prepare(&request.input, &self.allow);
        Box::pin(async move {
            let req = prepared?;
            let has_body = !req.body.is_empty();
            let mut headers = req.headers;
            if has_body && !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
                headers.push(("Content-Type".into(), req.content_type.into()));
            }
            let response = match client.send(req.method, &req.url, headers, req.body, PAYLOAD_LIMIT_BYTES).await {
                Ok(r) => r,
                Err(TransportError::BodyTooLarge(_)) => {
                    return Err(AslError::new(
                        STATES_DATA_LIMIT_EXCEEDED,
                        "The state/task 'http' returned a result with a size exceeding the maximum number of bytes service limit.",
                    ))
                }
                Err(e @ (TransportError::InvalidRequest(_) | TransportError::UnsupportedUrl(_))) => {
                    return Err(AslError::runtime(e.to_string()))
                }
                Err(e) => return Err(AslError::new("States.Http.Socket", e.to_string())),
            };
            let mut names: Vec<&str> = response.headers.keys().map(|k| k.as_str()).collect();
            names.sort_unstable();
            let headers = names.into_iter().map(|name| {
                let values = response.headers.get_all(name).iter().map(|v| Value::from(String::from_utf8_lossy(v.as_bytes()).into_owned()));
                (name, Value::array(values.collect()))
            });
            let body = parse(&response.body).unwrap_or_else(|_| Value::from(String::from_utf8_lossy(&response.body).into_owned()));
            let status = response.status;
            let result = Value::object([
                ("Headers", Value::object(headers)),
                ("ResponseBody", body),
                ("StatusCode", Value::from(status.as_u16() as i64)),
                ("StatusText", Value::from(status.canonical_reason().unwrap_or(""))),
            ]);
            if status.is_success() {
                Ok(result)
            } else {
                Err(AslError::new(format!("States.Http.StatusCode.{}", status.as_u16()), result.to_json()))
            }
        })
    }
}

/// A request ready to send.
struct Prepared {
    method: Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Bytes,
    content_type: &'static str,
}

/// A parameter problem: the Task's parameters are wrong, so `States.Runtime` naming the field.
fn bad(message: String) -> AslError {
    AslError::runtime(format!("The HTTP Task parameters are invalid: {message}"))
}

fn prepare(params: &Value, allow: &HostAllowList) -> Result<Prepared, AslError> {
    if params.as_object().is_none() {
        return Err(bad(format!("expected an object with ApiEndpoint and Method, got {}", params.type_name())));
    }
    let endpoint = match params.get("ApiEndpoint") {
        Some(Value::String(s)) => s.to_string(),
        Some(other) => return Err(bad(format!("ApiEndpoint must be a string, not {}", other.type_name()))),
        None => return Err(bad("ApiEndpoint is required".into())),
    };
    let method = match params.get("Method").and_then(Value::as_str) {
        Some(m) => match m.to_ascii_uppercase().as_str() {
            "GET" => Method::GET,
            "POST" => Method::POST,
            "PUT" => Method::PUT,
            "DELETE" => Method::DELETE,
            "PATCH" => Method::PATCH,
            "HEAD" => Method::HEAD,
            "OPTIONS" => Method::OPTIONS,
            _ => return Err(bad(format!("Method '{m}' is not one of GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS"))),
        },
        None => return Err(bad("Method is required and must be a string".into())),
    };
    let uri: hyper::Uri = endpoint.parse().map_err(|_| bad(format!("ApiEndpoint '{endpoint}' is not a URL")))?;
    let host = uri.host().ok_or_else(|| bad(format!("ApiEndpoint '{endpoint}' has no host")))?;
    if !allow.allows(host) {
        return Err(AslError::runtime(format!(
            "The HTTP Task may not call '{host}': only loopback hosts are allowed unless listed with --http-allow HOST[,HOST…] (or --http-allow '*' for any host)."
        )));
    }
    let mut url = endpoint.clone();
    if let Some(query) = params.get("QueryParameters").filter(|q| !q.is_null()) {
        let Some(obj) = query.as_object() else { return Err(bad("QueryParameters must be an object".into())) };
        let mut pairs = Vec::new();
        for (k, v) in obj {
            form_pairs(k, v, ArrayFormat::Repeat, &mut pairs);
        }
        if !pairs.is_empty() {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&join_pairs(&pairs));
        }
    }
    let mut headers = Vec::new();
    if let Some(h) = params.get("Headers").filter(|h| !h.is_null()) {
        let Some(obj) = h.as_object() else { return Err(bad("Headers must be an object".into())) };
        for (k, v) in obj {
            headers.push((k.to_string(), scalar_text(v)));
        }
    }
    let encoding = params.get("Transform").and_then(|t| t.get("RequestBodyEncoding")).and_then(Value::as_str).unwrap_or("NONE");
    let (body, content_type) = match (params.get("RequestBody"), encoding) {
        (None, _) => (Bytes::new(), "application/json"),
        (Some(body), "URL_ENCODED") => {
            let format = params
                .get("Transform")
                .and_then(|t| t.get("RequestEncodingOptions"))
                .and_then(|o| o.get("ArrayFormat"))
                .and_then(Value::as_str)
                .unwrap_or("INDICES");
            let format = ArrayFormat::parse(format)
                .ok_or_else(|| bad(format!("ArrayFormat '{format}' is not one of BRACKETS, COMMAS, REPEAT, INDICES")))?;
            let Some(obj) = body.as_object() else {
                return Err(bad(format!("a URL_ENCODED RequestBody must be an object, not {}", body.type_name())));
            };
            let mut pairs = Vec::new();
            for (k, v) in obj {
                form_pairs(k, v, format, &mut pairs);
            }
            (Bytes::from(join_pairs(&pairs)), "application/x-www-form-urlencoded")
        }
        (Some(body), "NONE") => match body {
            Value::String(s) => (Bytes::from(s.to_string()), "text/plain; charset=utf-8"),
            other => (Bytes::from(other.to_json()), "application/json"),
        },
        (Some(_), other) => return Err(bad(format!("RequestBodyEncoding '{other}' is not one of NONE, URL_ENCODED"))),
    };
    Ok(Prepared { method, url, headers, body, content_type })
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum ArrayFormat {
    Indices,
    Brackets,
    Repeat,
    Commas,
}

impl ArrayFormat {
    fn parse(text: &str) -> Option<ArrayFormat> {
        Some(match text {
            "INDICES" => ArrayFormat::Indices,
            "BRACKETS" => ArrayFormat::Brackets,
            "REPEAT" => ArrayFormat::Repeat,
            "COMMAS" => ArrayFormat::Commas,
            _ => return None,
        })
    }
}

/// A scalar as form text: strings raw, everything else as JSON.
fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        other => other.to_json(),
    }
}

/// Flattens `key = value` into percent-encoded (name, value) pairs.
fn form_pairs(key: &str, value: &Value, format: ArrayFormat, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter() {
                form_pairs(&format!("{key}[{k}]"), v, format, out);
            }
        }
        Value::Array(items) => match format {
            ArrayFormat::Commas => {
                let texts: Vec<String> = items.iter().map(|v| encode(&scalar_text(v))).collect();
                out.push((encode(key), texts.join(",")));
            }
            _ => {
                for (i, item) in items.iter().enumerate() {
                    let name = match format {
                        ArrayFormat::Indices => format!("{key}[{i}]"),
                        ArrayFormat::Brackets => format!("{key}[]"),
                        _ => key.to_string(),
                    };
                    form_pairs(&name, item, format, out);
                }
            }
        },
        scalar => out.push((encode(key), encode(&scalar_text(scalar)))),
    }
}

fn join_pairs(pairs: &[(String, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// Percent-encodes all but unreserved characters and brackets.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'[' | b']') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::parse_str;

    fn form(json: &str, format: ArrayFormat) -> String {
        let v = parse_str(json).unwrap();
        let mut pairs = Vec::new();
        for (k, v) in v.as_object().unwrap() {
            form_pairs(k, v, format, &mut pairs);
        }
        join_pairs(&pairs)
    }

    #[test]
    fn url_encodes_arrays_in_every_format() {
        let body = r#"{"a": ["x", "y z"], "n": 1}"#;
        assert_eq!(form(body, ArrayFormat::Indices), "a[0]=x&a[1]=y%20z&n=1");
        assert_eq!(form(body, ArrayFormat::Brackets), "a[]=x&a[]=y%20z&n=1");
        assert_eq!(form(body, ArrayFormat::Repeat), "a=x&a=y%20z&n=1");
        assert_eq!(form(body, ArrayFormat::Commas), "a=x,y%20z&n=1");
        assert_eq!(form(r#"{"o": {"k": "v&w"}, "b": true}"#, ArrayFormat::Indices), "o[k]=v%26w&b=true");
    }

    #[test]
    fn allow_list_defaults_to_loopback() {
        let none = HostAllowList::default();
        assert!(none.allows("127.0.0.1") && none.allows("localhost") && none.allows("[::1]") && none.allows("127.1.2.3"));
        assert!(!none.allows("example.com") && !none.allows("10.0.0.1"));
        let some = HostAllowList::parse("api.example.com, *.internal");
        assert!(some.allows("API.example.com") && some.allows("a.b.internal"));
        assert!(!some.allows("internal") && !some.allows("evilinternal") && !some.allows("example.com"));
        assert!(HostAllowList::parse("*").allows("anything.example"));
    }

    #[test]
    fn refused_hosts_and_bad_parameters_are_runtime_errors() {
        let allow = HostAllowList::default();
        let p = |s: &str| prepare(&parse_str(s).unwrap(), &allow);
        let e = p(r#"{"ApiEndpoint": "http://example.com/x", "Method": "GET"}"#).err().unwrap();
        assert_eq!(e.error.as_deref(), Some("States.Runtime"));
        assert!(e.cause.unwrap().contains("may not call 'example.com'"));
        assert!(p(r#"{"ApiEndpoint": "http://127.0.0.1/x"}"#).is_err());
        assert!(p(r#"{"ApiEndpoint": "http://127.0.0.1/x", "Method": "FETCH"}"#).is_err());
        let ok = p(r#"{"ApiEndpoint": "http://127.0.0.1/x?a=1", "Method": "post", "QueryParameters": {"b": [1, 2]},
                      "RequestBody": {"k": "v"}}"#)
            .ok()
            .unwrap();
        assert_eq!(ok.url, "http://127.0.0.1/x?a=1&b=1&b=2");
        assert_eq!(ok.method, Method::POST);
        assert_eq!(&ok.body[..], br#"{"k":"v"}"#);
    }
}
