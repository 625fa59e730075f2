//! A small server speaking the Lambda Invoke API on 127.0.0.1:0, implementing the behaviours
//! the corpus names in `needs[].behaviour` the way the recorded Python 3.12 functions behave:
//! results serialised as Python's `json.dumps` does (`", "` and `": "` separators, which the
//! recorded `Content-Length` headers show), function errors as the Python runtime reports them,
//! and AWS Lambda's response headers. Each test registers its functions under a path prefix of
//! its own, so one server serves cases that reuse a function name with different behaviours.
//!
//! It runs on [`TestServer`]: its own runtime, real time, stopped when dropped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use serde_json::Value as Json;

use super::server::TestServer;

/// What one function does.
#[derive(Clone, Debug)]
pub enum Behaviour {
    Identity,
    Constant(Json),
    /// Returns these bytes as they are.
    ConstantRaw(String),
    /// Raises `errorType(errorMessage)`.
    Raise { error_type: String, message: String },
    /// Returns a JSON string of this many `a`s.
    LargeOutput(usize),
    /// Returns `prefix + str(event)` (Python's `str`).
    PythonStrPrefix(String),
    SleepThenIdentity(u64),
}

impl Behaviour {
    /// From a case's `needs[].behaviour`.
    pub fn from_need(b: &Json) -> Option<Behaviour> {
        let s = |k: &str| b[k].as_str().unwrap_or_default().to_string();
        Some(match b["kind"].as_str()? {
            "identity" => Behaviour::Identity,
            "constant" => Behaviour::Constant(b["value"].clone()),
            "constant_raw" => Behaviour::ConstantRaw(s("raw_payload")),
            "raise" => Behaviour::Raise { error_type: s("errorType"), message: s("errorMessage") },
            "large_output" => Behaviour::LargeOutput(b["bytes"].as_u64()? as usize),
            "python_str_prefix" => Behaviour::PythonStrPrefix(s("prefix")),
            "sleep_then_identity" => Behaviour::SleepThenIdentity(b["seconds"].as_u64()?),
            _ => return None,
        })
    }
}

type Tables = Arc<Mutex<HashMap<String, HashMap<String, Behaviour>>>>;

/// The running server.
pub struct LambdaServer {
    server: TestServer,
    tables: Tables,
}

impl LambdaServer {
    pub fn start() -> LambdaServer {
        let tables: Tables = Arc::default();
        let shared = Arc::clone(&tables);
        let server = TestServer::start(move |req| handle(Arc::clone(&shared), req));
        LambdaServer { server, tables }
    }

    /// Registers `functions` under `prefix` and returns the endpoint URL that reaches them.
    pub fn endpoint(&self, prefix: &str, functions: HashMap<String, Behaviour>) -> String {
        self.tables.lock().expect("tables lock").insert(prefix.to_string(), functions);
        self.server.url(&format!("/{prefix}"))
    }
}

const ACCOUNT: &str = "123456789012";

async fn handle(tables: Tables, req: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let qualifier = req.uri().query().and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("Qualifier="))).map(str::to_string);
    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (prefix, name) = match parts.as_slice() {
        [prefix, "2015-03-31", "functions", name, "invocations"] => (*prefix, *name),
        _ => return error(400, "InvalidRequestContentException", &format!("unexpected path {path}")),
    };
    let version = qualifier.unwrap_or_else(|| "$LATEST".to_string());
    let behaviour = tables.lock().expect("tables lock").get(prefix).and_then(|t| t.get(name)).cloned();
    let Some(behaviour) = behaviour else {
        let arn = format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}:{version}");
        return error(404, "ResourceNotFoundException", &format!("Function not found: {arn}"));
    };
    // Lambda hands an empty payload to the function as {}.
    let event: Json = if body.is_empty() { serde_json::json!({}) } else { serde_json::from_slice(&body).unwrap_or(Json::Null) };
    let request_id = expressway::ids::uuid_v4();
    let (payload, function_error) = match behaviour {
        Behaviour::Identity => (py_json(&event), false),
        Behaviour::SleepThenIdentity(seconds) => {
            tokio::time::sleep(Duration::from_secs(seconds)).await;
            (py_json(&event), false)
        }
        Behaviour::Constant(v) => (py_json(&v), false),
        Behaviour::ConstantRaw(raw) => (raw, false),
        Behaviour::LargeOutput(n) => (py_json(&Json::from("a".repeat(n))), false),
        Behaviour::PythonStrPrefix(prefix) => (py_json(&Json::from(format!("{prefix}{}", py_str(&event)))), false),
        Behaviour::Raise { error_type, message } => {
            // The recorded handlers: `raise Exception("…")` on line 2 of handler.py, and a
            // message-less custom exception class raised on line 9.
            let (line, statement) = if message.is_empty() {
                (9, format!("raise {error_type}()"))
            } else {
                (2, format!("raise {error_type}({})", Json::from(message.clone())))
            };
            let trace = format!("  File \"/var/task/handler.py\", line {line}, in handler\n    {statement}\n");
            let payload = serde_json::json!({"errorMessage": message, "errorType": error_type, "requestId": request_id, "stackTrace": [trace]});
            (py_json(&payload), true)
        }
    };
    let mut response = Response::builder()
        .status(200)
        .header("Content-Type", "application/json")
        .header("X-Amz-Executed-Version", version)
        .header("x-amzn-Remapped-Content-Length", "0")
        .header("Connection", "keep-alive")
        .header("x-amzn-RequestId", request_id)
        .header("X-Amzn-Trace-Id", format!("root=1-{}", &expressway::ids::uuid_v4()[..8]));
    if function_error {
        response = response.header("X-Amz-Function-Error", "Unhandled");
    }
    response.body(Full::new(Bytes::from(payload))).expect("valid response")
}

fn error(status: u16, code: &str, message: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("Content-Type", "application/json")
        .header("x-amzn-ErrorType", code)
        .header("x-amzn-RequestId", expressway::ids::uuid_v4())
        .body(Full::new(Bytes::from(serde_json::json!({"Type": "User", "Message": message}).to_string())))
        .expect("valid response")
}

/// Python's `json.dumps` with its default separators and `ensure_ascii`.
pub fn py_json(v: &Json) -> String {
    match v {
        Json::Array(items) => format!("[{}]", items.iter().map(py_json).collect::<Vec<_>>().join(", ")),
        Json::Object(map) => {
            let fields: Vec<String> = map.iter().map(|(k, v)| format!("{}: {}", py_json(&Json::from(k.as_str())), py_json(v))).collect();
            format!("{{{}}}", fields.join(", "))
        }
        Json::String(s) => {
            let mut out = String::new();
            for c in serde_json::to_string(s).expect("string serialises").chars() {
                if c.is_ascii() {
                    out.push(c);
                } else {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        out.push_str(&format!("\\u{unit:04x}"));
                    }
                }
            }
            out
        }
        other => other.to_string(),
    }
}

/// Python's `str()` of a decoded JSON value.
fn py_str(v: &Json) -> String {
    match v {
        Json::Null => "None".into(),
        Json::Bool(true) => "True".into(),
        Json::Bool(false) => "False".into(),
        Json::Number(n) => n.to_string(),
        Json::String(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        Json::Array(items) => format!("[{}]", items.iter().map(py_str).collect::<Vec<_>>().join(", ")),
        Json::Object(map) => {
            format!("{{{}}}", map.iter().map(|(k, v)| format!("{}: {}", py_str(&Json::from(k.as_str())), py_str(v))).collect::<Vec<_>>().join(", "))
        }
    }
}
