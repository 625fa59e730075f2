//! HTTP targets: a server speaking the AWS wire protocols, over keep-alive HTTP/1.1 connections.
//!
//! | kind | request |
//! |---|---|
//! | `start-sync` | `POST /`, `X-Amz-Target: AWSStepFunctions.StartSyncExecution`, AWS JSON 1.0, `{"stateMachineArn","input"}` |
//! | `start` | the same with `AWSStepFunctions.StartExecution` |
//! | `put-events` | `POST /`, `X-Amz-Target: AWSEvents.PutEvents`, AWS JSON 1.1, up to 10 `Entries` (`Detail` = the event) |
//! | `ndjson` | `POST /events` (or the URL's path), `application/x-ndjson`, one event per line |
//!
//! Each connection carries one request at a time and is reused; a connection that fails or
//! times out is dropped and the next request opens a new one. How answers count: any non-2xx
//! is a failed request, named by the body's `__type` (the part after `#`) or `http CODE`; a
//! StartSyncExecution whose `status` is not `SUCCEEDED` is failed with that status and error;
//! PutEvents entries with an `ErrorCode` (and NDJSON answers carrying a positive `failed` or
//! `FailedEntryCount`) count as failed events of an otherwise answered request.

use std::borrow::Cow;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::Request;
use hyper_util::rt::TokioIo;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;

use super::inproc::execution_error_kind;
use crate::stats::Outcome;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HttpKind {
    StartSync,
    Start,
    PutEvents,
    Ndjson,
}

impl HttpKind {
    /// The most events one request may carry (PutEvents' own limit is 10).
    pub fn max_batch(self) -> usize {
        match self {
            HttpKind::StartSync | HttpKind::Start => 1,
            HttpKind::PutEvents => 10,
            HttpKind::Ndjson => 10_000,
        }
    }

    fn amz_target(self) -> Option<&'static str> {
        match self {
            HttpKind::StartSync => Some("AWSStepFunctions.StartSyncExecution"),
            HttpKind::Start => Some("AWSStepFunctions.StartExecution"),
            HttpKind::PutEvents => Some("AWSEvents.PutEvents"),
            HttpKind::Ndjson => None,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            HttpKind::StartSync | HttpKind::Start => "application/x-amz-json-1.0",
            HttpKind::PutEvents => "application/x-amz-json-1.1",
            HttpKind::Ndjson => "application/x-ndjson",
        }
    }
}

/// Everything a connection needs to know about the server and the requests.
#[derive(Clone, Debug)]
pub struct HttpTarget {
    pub kind: HttpKind,
    /// `host:port` to connect to.
    pub authority: String,
    pub path: String,
    pub state_machine_arn: String,
    pub event_bus: String,
    pub source: String,
    pub detail_type: String,
    pub timeout: Duration,
}

impl HttpTarget {
    /// Splits `http://host:port/path` (https is not supported: the harness measures loopback
    /// servers, and TLS would measure the TLS library).
    pub fn parse_url(url: &str) -> Result<(String, String), String> {
        let rest = url.strip_prefix("http://").ok_or_else(|| format!("url `{url}` must start with http://"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.is_empty() {
            return Err(format!("url `{url}` has no host"));
        }
        let authority = if authority.contains(':') { authority.to_string() } else { format!("{authority}:80") };
        Ok((authority, path.to_string()))
    }

    fn body(&self, events: &[String]) -> Vec<u8> {
        let mut body = Vec::with_capacity(events.iter().map(|e| e.len() + 96).sum());
        let push_json_string = |s: &str, body: &mut Vec<u8>| {
            // Writing a &str as JSON into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut *body, s);
        };
        match self.kind {
            HttpKind::StartSync | HttpKind::Start => {
                body.extend_from_slice(b"{\"stateMachineArn\":");
                push_json_string(&self.state_machine_arn, &mut body);
                body.extend_from_slice(b",\"input\":");
                push_json_string(events.first().map(String::as_str).unwrap_or("{}"), &mut body);
                body.push(b'}');
            }
            HttpKind::PutEvents => {
                body.extend_from_slice(b"{\"Entries\":[");
                for (i, event) in events.iter().enumerate() {
                    if i > 0 {
                        body.push(b',');
                    }
                    body.extend_from_slice(b"{\"Source\":");
                    push_json_string(&self.source, &mut body);
                    body.extend_from_slice(b",\"DetailType\":");
                    push_json_string(&self.detail_type, &mut body);
                    body.extend_from_slice(b",\"EventBusName\":");
                    push_json_string(&self.event_bus, &mut body);
                    body.extend_from_slice(b",\"Detail\":");
                    push_json_string(event, &mut body);
                    body.push(b'}');
                }
                body.extend_from_slice(b"]}");
            }
            HttpKind::Ndjson => {
                for event in events {
                    body.extend_from_slice(event.as_bytes());
                    body.push(b'\n');
                }
            }
        }
        body
    }

    /// Judges an answer (status code and body) as the module documentation says.
    pub fn judge(&self, status: u16, body: &[u8], events: u32) -> Outcome {
        // Only the members judged are read, borrowed; the large ones (`input`, `output`) are
        // skipped, not built: on the same cores as the server, the client's cost per request
        // is part of what is measured.
        let answer = serde_json::from_slice::<Answer<'_>>(body).unwrap_or_else(|_| Answer::lenient(body));
        if !(200..300).contains(&status) {
            let kind = answer.aws_type.as_deref().map(|t| t.rsplit('#').next().unwrap_or(t).to_string());
            return Outcome::Failed(kind.unwrap_or_else(|| format!("http {status}")));
        }
        match self.kind {
            HttpKind::StartSync => match answer.status.as_deref() {
                Some("SUCCEEDED") => Outcome::Ok,
                Some(other) => Outcome::Failed(execution_error_kind(other, answer.error.as_deref())),
                None => Outcome::Failed("bad response: no status".into()),
            },
            HttpKind::Start => match answer.execution_arn {
                Some(_) => Outcome::Ok,
                None => Outcome::Failed("bad response: no executionArn".into()),
            },
            HttpKind::PutEvents => {
                let failed = answer.failed_entry_count.unwrap_or(0);
                if failed == 0 {
                    return Outcome::Ok;
                }
                let code = answer.entries.iter().find_map(|e| e.error_code.as_deref()).unwrap_or("entry failed");
                Outcome::Partial { failed: failed.min(events as u64) as u32, kind: format!("PutEvents {code}") }
            }
            HttpKind::Ndjson => {
                let failed = answer.failed.or(answer.failed_entry_count).unwrap_or(0);
                if failed == 0 {
                    Outcome::Ok
                } else {
                    Outcome::Partial { failed: failed.min(events as u64) as u32, kind: "ndjson event refused".into() }
                }
            }
        }
    }
}

/// The members of an answer the judge reads (any protocol); others are skipped.
#[derive(Deserialize)]
struct Answer<'a> {
    #[serde(rename = "__type", borrow, default)]
    aws_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    status: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    error: Option<Cow<'a, str>>,
    #[serde(rename = "executionArn", default)]
    execution_arn: Option<IgnoredAny>,
    #[serde(rename = "FailedEntryCount", default)]
    failed_entry_count: Option<u64>,
    #[serde(default)]
    failed: Option<u64>,
    #[serde(rename = "Entries", borrow, default)]
    entries: Vec<EntryAnswer<'a>>,
}

impl Answer<'static> {
    /// A body whose members have unexpected types (or that is not JSON): each member is read
    /// on its own, as far as it has the expected type.
    fn lenient(body: &[u8]) -> Answer<'static> {
        let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let text = |name: &str| json.get(name).and_then(|v| v.as_str()).map(|s| Cow::Owned(s.to_string()));
        let count = |name: &str| json.get(name).and_then(|v| v.as_u64());
        let entries = json.get("Entries").and_then(|e| e.as_array()).map_or_else(Vec::new, |entries| {
            entries
                .iter()
                .map(|e| EntryAnswer {
                    error_code: e.get("ErrorCode").and_then(|c| c.as_str()).map(|c| Cow::Owned(c.to_string())),
                })
                .collect()
        });
        Answer {
            aws_type: text("__type"),
            status: text("status"),
            error: text("error"),
            execution_arn: json.get("executionArn").map(|_| IgnoredAny),
            failed_entry_count: count("FailedEntryCount"),
            failed: count("failed"),
            entries,
        }
    }
}

#[derive(Deserialize)]
struct EntryAnswer<'a> {
    #[serde(rename = "ErrorCode", borrow, default)]
    error_code: Option<Cow<'a, str>>,
}

/// One keep-alive connection, opened on first use and reopened after a failure.
pub struct HttpConn {
    target: std::sync::Arc<HttpTarget>,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl HttpConn {
    pub fn new(target: std::sync::Arc<HttpTarget>) -> HttpConn {
        HttpConn { target, sender: None }
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, String> {
        let stream = TcpStream::connect(&self.target.authority).await.map_err(|e| format!("connect: {}", io_kind(&e)))?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = http1::handshake(TokioIo::new(stream)).await.map_err(|e| format!("handshake: {e}"))?;
        tokio::spawn(async move {
            // The connection ends when the sender is dropped or the peer closes; either is fine.
            let _ = conn.await;
        });
        Ok(sender)
    }

    /// Sends one request carrying `events` and judges the answer.
    pub async fn call(&mut self, events: &[String]) -> Outcome {
        let timeout = self.target.timeout;
        match tokio::time::timeout(timeout, self.exchange(events)).await {
            Ok(Ok((status, body))) => self.target.judge(status, &body, events.len() as u32),
            Ok(Err(kind)) => {
                self.sender = None;
                Outcome::Failed(kind)
            }
            Err(_) => {
                self.sender = None;
                Outcome::Failed("timeout".into())
            }
        }
    }

    async fn exchange(&mut self, events: &[String]) -> Result<(u16, Bytes), String> {
        let mut sender = match self.sender.take() {
            Some(s) if !s.is_closed() => s,
            _ => self.connect().await?,
        };
        sender.ready().await.map_err(|e| format!("connection: {e}"))?;
        let t = &self.target;
        let mut request = Request::post(t.path.as_str()).header("host", t.authority.as_str()).header("content-type", t.kind.content_type());
        if let Some(amz) = t.kind.amz_target() {
            request = request.header("x-amz-target", amz);
        }
        let request = request.body(Full::new(Bytes::from(t.body(events)))).map_err(|e| format!("request: {e}"))?;
        let response = sender.send_request(request).await.map_err(|e| format!("send: {}", hyper_kind(&e)))?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.map_err(|e| format!("receive: {}", hyper_kind(&e)))?.to_bytes();
        self.sender = Some(sender);
        Ok((status, body))
    }
}

/// Error kinds stay few and stable (no addresses or counters in them), so they group.
fn io_kind(e: &std::io::Error) -> String {
    format!("{:?}", e.kind())
}

fn hyper_kind(e: &hyper::Error) -> &'static str {
    if e.is_closed() || e.is_incomplete_message() {
        "connection closed"
    } else if e.is_parse() {
        "malformed response"
    } else if e.is_timeout() {
        "timeout"
    } else {
        "transport error"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(kind: HttpKind) -> HttpTarget {
        HttpTarget {
            kind,
            authority: "127.0.0.1:1".into(),
            path: "/".into(),
            state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:chain".into(),
            event_bus: "default".into(),
            source: "loadtest".into(),
            detail_type: "reading".into(),
            timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn urls_split_into_authority_and_path() {
        assert_eq!(HttpTarget::parse_url("http://127.0.0.1:8083").unwrap(), ("127.0.0.1:8083".into(), "/".into()));
        assert_eq!(HttpTarget::parse_url("http://localhost/events").unwrap(), ("localhost:80".into(), "/events".into()));
        assert!(HttpTarget::parse_url("https://x").is_err());
        assert!(HttpTarget::parse_url("http:///x").is_err());
    }

    #[test]
    fn bodies_follow_each_protocol() {
        let events = vec![r#"{"a":"x"}"#.to_string(), "{}".to_string()];
        let sync: serde_json::Value = serde_json::from_slice(&target(HttpKind::StartSync).body(&events[..1])).unwrap();
        assert_eq!(sync["input"], r#"{"a":"x"}"#);
        assert!(sync["stateMachineArn"].as_str().unwrap().ends_with(":chain"));
        let put: serde_json::Value = serde_json::from_slice(&target(HttpKind::PutEvents).body(&events)).unwrap();
        assert_eq!(put["Entries"].as_array().unwrap().len(), 2);
        assert_eq!(put["Entries"][0]["Detail"], r#"{"a":"x"}"#);
        assert_eq!(put["Entries"][1]["EventBusName"], "default");
        assert_eq!(target(HttpKind::Ndjson).body(&events), b"{\"a\":\"x\"}\n{}\n");
    }

    #[test]
    fn answers_are_judged_by_status_and_body() {
        let sync = target(HttpKind::StartSync);
        assert_eq!(sync.judge(200, br#"{"status":"SUCCEEDED"}"#, 1), Outcome::Ok);
        assert_eq!(sync.judge(200, br#"{"status":"FAILED","error":"E"}"#, 1), Outcome::Failed("execution FAILED: E".into()));
        assert_eq!(
            sync.judge(400, br#"{"__type":"com.amazonaws.swf.service.v2.model#ThrottlingException"}"#, 1),
            Outcome::Failed("ThrottlingException".into())
        );
        assert_eq!(sync.judge(502, b"", 1), Outcome::Failed("http 502".into()));
        // Members of unexpected types are read one by one, as far as they have the right type.
        assert_eq!(sync.judge(200, br#"{"status":"SUCCEEDED","error":5}"#, 1), Outcome::Ok);
        assert_eq!(sync.judge(400, br#"{"__type":"x#Boom","message":[]}"#, 1), Outcome::Failed("Boom".into()));
        assert_eq!(target(HttpKind::Start).judge(200, br#"{"executionArn":"a","startDate":1}"#, 1), Outcome::Ok);
        let put = target(HttpKind::PutEvents);
        assert_eq!(
            put.judge(200, br#"{"FailedEntryCount":1,"Entries":[{"EventId":"1"},{"ErrorCode":"InternalFailure"}]}"#, 2),
            Outcome::Partial { failed: 1, kind: "PutEvents InternalFailure".into() }
        );
        assert_eq!(target(HttpKind::Ndjson).judge(202, b"", 5), Outcome::Ok);
        assert_eq!(target(HttpKind::Ndjson).judge(200, br#"{"failed":2}"#, 5), Outcome::Partial { failed: 2, kind: "ndjson event refused".into() });
    }
}
