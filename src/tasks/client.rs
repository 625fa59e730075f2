//! The one HTTP client every outside call shares (Lambda endpoints, the HTTP Task), and the
//! gate that lets real time pass while such a call is in flight.
//!
//! Invariants:
//! - One pooled hyper client per [`crate::tasks::Integrations`]: connections are reused across
//!   executions, and a request is a future on the caller's runtime (no thread per call).
//! - Plain `http://` only. TLS would add a C or large Rust crypto build for endpoints that are
//!   loopback or allow-listed hosts in practice; an `https://` URL is refused with a clear error.
//! - Under a paused tokio clock (`--virtual-time`) tokio jumps to the next timer as soon as every
//!   task waits, even on a socket, so a Task timeout or the execution deadline would fire before
//!   a real server could answer. While at least one outside call is in flight on a runtime,
//!   [`RealTime`] resumes its clock; when the last one ends it pauses it again. Virtual time
//!   therefore runs at real speed exactly while real work happens.

use std::cell::Cell;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{HeaderMap, Method, Request, StatusCode, Uri};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;

/// A response read to its end.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Why a request got no response.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("'{0}' is not an http:// URL this engine can call (TLS is not built in; use a plain-HTTP endpoint)")]
    UnsupportedUrl(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("{0}")]
    Io(String),
    #[error("the response body is larger than {0} bytes")]
    BodyTooLarge(usize),
}

/// A pooled plain-HTTP/1.1 client; cloning shares the pool.
#[derive(Clone)]
pub struct HttpClient {
    inner: Client<HttpConnector, Full<Bytes>>,
    virtual_time: bool,
}

impl HttpClient {
    /// `virtual_time`: requests are made from a paused current-thread runtime (see [`RealTime`]).
    pub fn new(virtual_time: bool) -> HttpClient {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(10)));
        let inner = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(64).build(connector);
        HttpClient { inner, virtual_time }
    }

    /// Sends one request and reads the whole response, refusing bodies over `max_body` bytes.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        headers: Vec<(String, String)>,
        body: Bytes,
        max_body: usize,
    ) -> Result<HttpResponse, TransportError> {
        let uri: Uri = url.parse().map_err(|e| TransportError::InvalidRequest(format!("'{url}' is not a valid URL: {e}")))?;
        if uri.scheme_str() != Some("http") || uri.host().is_none() {
            return Err(TransportError::UnsupportedUrl(url.to_string()));
        }
        let mut request = Request::builder().method(method).uri(uri);
        for (name, value) in &headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let request = request.body(Full::new(body)).map_err(|e| TransportError::InvalidRequest(e.to_string()))?;
        let _real_time = RealTime::enter(self.virtual_time);
        let response = self.inner.request(request).await.map_err(|e| TransportError::Io(error_chain(&e)))?;
        let (parts, mut incoming) = response.into_parts();
        let mut body = Vec::new();
        while let Some(frame) = incoming.frame().await {
            let frame = frame.map_err(|e| TransportError::Io(error_chain(&e)))?;
            if let Some(data) = frame.data_ref() {
                if body.len() + data.len() > max_body {
                    return Err(TransportError::BodyTooLarge(max_body));
                }
                body.extend_from_slice(data);
            }
        }
        Ok(HttpResponse { status: parts.status, headers: parts.headers, body: Bytes::from(body) })
    }
}

/// "connection refused" is three sources deep in hyper's errors; show them all.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

thread_local! {
    /// Outside calls in flight on this thread. A paused clock only exists on a current-thread
    /// runtime, whose tasks all run on the thread that drives it, so per-thread is per-runtime.
    static IN_FLIGHT: Cell<usize> = const { Cell::new(0) };
}

/// Held while an outside call (HTTP request, child process) is in flight: see the module docs.
pub struct RealTime {
    active: bool,
}

impl RealTime {
    /// With `virtual_time` (the caller runs on a paused current-thread runtime), resumes the
    /// clock until the last guard is dropped; otherwise does nothing.
    pub fn enter(virtual_time: bool) -> RealTime {
        if !virtual_time {
            return RealTime { active: false };
        }
        IN_FLIGHT.with(|n| {
            if n.get() == 0 {
                tokio::time::resume();
            }
            n.set(n.get() + 1);
        });
        RealTime { active: true }
    }
}

impl Drop for RealTime {
    fn drop(&mut self) {
        if !self.active {
            return;
        }
        IN_FLIGHT.with(|n| {
            n.set(n.get().saturating_sub(1));
            // A guard dropped while its runtime shuts down has no clock left to pause.
            if n.get() == 0 && tokio::runtime::Handle::try_current().is_ok() {
                tokio::time::pause();
            }
        });
    }
}
