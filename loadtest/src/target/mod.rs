//! What a run sends its requests to: the engine in this process, or a server over HTTP.
//!
//! A [`Target`] is shared by the whole run; each worker (or, in-process, each request) gets a
//! [`Client`] from it: the HTTP client owns one keep-alive connection, the in-process one is a
//! shared handle on the engine.

pub mod http;
pub mod inproc;

use std::sync::Arc;

use crate::stats::Outcome;

pub use http::{HttpKind, HttpTarget};
pub use inproc::InProcess;

#[derive(Clone)]
pub enum Target {
    InProcess(Arc<InProcess>),
    Http(Arc<HttpTarget>),
}

pub enum Client {
    InProcess(Arc<InProcess>),
    Http(http::HttpConn),
}

impl Target {
    pub fn client(&self) -> Client {
        match self {
            Target::InProcess(t) => Client::InProcess(Arc::clone(t)),
            Target::Http(t) => Client::Http(http::HttpConn::new(Arc::clone(t))),
        }
    }
}

impl Client {
    /// Sends request number `n`, carrying `events` (exactly one for in-process and start targets).
    pub async fn call(&mut self, n: u64, events: &[String]) -> Outcome {
        match self {
            Client::InProcess(t) => match events.first() {
                Some(event) => t.call(n, event).await,
                None => Outcome::Failed("empty request".into()),
            },
            Client::Http(conn) => conn.call(events).await,
        }
    }
}
