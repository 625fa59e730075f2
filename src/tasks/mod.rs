//! Task resources: what a Task state's `Resource` reaches.
//!
//! Resolution order for one invocation: a mocked response (Step Functions Local mock file,
//! when a test case is selected and it names the state), then a handler registered for the
//! exact resource string, then a handler registered for a resource prefix (e.g. every
//! `arn:aws:lambda:…`). With none, the execution fails with `States.Runtime` naming the
//! integration and how to provide it: a silent pass-through would hide a missing integration.
//!
//! [`Integrations`] builds the handlers that reach outside the process (Lambda endpoints, the
//! HTTP Task, local commands); the CLI and the API server both build their `Resources` with it.

pub mod client;
pub mod exec;
pub mod http;
pub mod lambda;
pub mod mock;

use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use rustc_hash::FxHashMap;

use crate::error::{AslError, STATES_TIMEOUT};
use crate::value::{Str, Value};
use crate::vm::{ExecShared, TaskCall};

pub use exec::{ExecConfig, ExecConfigError};
pub use http::HostAllowList;
pub use mock::{MockConfig, MockError, MockTestCase};

/// Where Task resources reach outside the process. `Integrations::default()` reaches nothing
/// but the HTTP Task on loopback hosts.
#[derive(Clone, Debug, Default)]
pub struct Integrations {
    /// Base URL of a server speaking the Lambda Invoke API (`--lambda-endpoint`, `LAMBDA_ENDPOINT`).
    pub lambda_endpoint: Option<String>,
    /// Hosts the HTTP Task may call besides loopback (`--http-allow`).
    pub http_allow: HostAllowList,
    /// Commands for `exec:NAME` resources (`--exec-config`).
    pub exec: Option<ExecConfig>,
    /// Executions run on a paused current-thread runtime (`--virtual-time`, as
    /// `EngineConfig::virtual_time`): outside calls resume its clock while they are in flight.
    /// Must not be set for a runtime whose clock is not paused.
    pub virtual_time: bool,
}

/// A setting [`Integrations::resources`] cannot use.
#[derive(Debug, thiserror::Error)]
pub enum IntegrationError {
    #[error("the Lambda endpoint '{0}' must be an http:// URL such as http://127.0.0.1:3001 (TLS is not built in)")]
    LambdaEndpoint(String),
}

impl Integrations {
    /// The handlers for every configured integration, sharing one pooled HTTP client.
    pub fn resources(&self) -> Result<Resources, IntegrationError> {
        let client = client::HttpClient::new(self.virtual_time);
        let mut resources = Resources::default();
        if let Some(endpoint) = &self.lambda_endpoint {
            let valid = endpoint.parse::<hyper::Uri>().is_ok_and(|u| u.scheme_str() == Some("http") && u.host().is_some());
            if !valid {
                return Err(IntegrationError::LambdaEndpoint(endpoint.clone()));
            }
            let lambda: Arc<dyn TaskHandler> = Arc::new(lambda::LambdaHandler::new(client.clone(), endpoint));
            for resource in lambda::INVOKE_RESOURCES {
                resources.register(resource, Arc::clone(&lambda));
            }
            for prefix in lambda::FUNCTION_ARN_PREFIXES {
                resources.register_prefix(prefix, Arc::clone(&lambda));
            }
        }
        let http: Arc<dyn TaskHandler> = Arc::new(http::HttpTaskHandler::new(client, self.http_allow.clone()));
        for resource in http::RESOURCES {
            resources.register(resource, Arc::clone(&http));
        }
        if let Some(exec) = &self.exec {
            resources.register_prefix(exec::PREFIX, Arc::new(exec::ExecHandler::new(exec.clone(), self.virtual_time)));
        }
        Ok(resources)
    }
}

/// What a handler receives.
#[derive(Clone, Debug)]
pub struct TaskRequest {
    pub resource: Str,
    pub input: Value,
    pub state_name: Str,
    pub execution_arn: Str,
    pub attempt: u32,
    pub credentials: Option<Value>,
}

/// An in-process implementation of a Task resource.
pub trait TaskHandler: Send + Sync {
    fn invoke(&self, request: TaskRequest) -> BoxFuture<'static, Result<Value, AslError>>;
}

/// Adapts an async closure into a [`TaskHandler`].
pub fn handler_fn<F, Fut>(f: F) -> Arc<dyn TaskHandler>
where
    F: Fn(TaskRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, AslError>> + Send + 'static,
{
    struct FnHandler<F>(F);
    impl<F, Fut> TaskHandler for FnHandler<F>
    where
        F: Fn(TaskRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, AslError>> + Send + 'static,
    {
        fn invoke(&self, request: TaskRequest) -> BoxFuture<'static, Result<Value, AslError>> {
            Box::pin((self.0)(request))
        }
    }
    Arc::new(FnHandler(f))
}

/// Every way Task resources are resolved for an engine.
#[derive(Default, Clone)]
pub struct Resources {
    exact: FxHashMap<Str, Arc<dyn TaskHandler>>,
    prefixes: Vec<(Str, Arc<dyn TaskHandler>)>,
    mock: Option<Arc<MockTestCase>>,
}

impl Resources {
    /// Registers a handler for one exact resource string.
    pub fn register(&mut self, resource: &str, handler: Arc<dyn TaskHandler>) {
        self.exact.insert(Str::from(resource), handler);
    }

    /// Registers a handler for every resource starting with `prefix` (longest prefix wins).
    pub fn register_prefix(&mut self, prefix: &str, handler: Arc<dyn TaskHandler>) {
        self.prefixes.push((Str::from(prefix), handler));
        self.prefixes.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    }

    /// Uses a mock file's test case for the states it names.
    pub fn set_mock(&mut self, test_case: MockTestCase) {
        self.mock = Some(Arc::new(test_case));
    }

    /// These resources with `test_case` in place of any engine-wide mock (one execution's
    /// `#TestCase`).
    pub fn with_mock(&self, test_case: Arc<MockTestCase>) -> Resources {
        Resources { mock: Some(test_case), ..self.clone() }
    }

    fn handler(&self, resource: &str) -> Option<&Arc<dyn TaskHandler>> {
        self.exact
            .get(resource)
            .or_else(|| self.prefixes.iter().find(|(p, _)| resource.starts_with(&**p)).map(|(_, h)| h))
    }

    /// Performs one Task invocation, honouring its timeout.
    pub async fn invoke(&self, call: &TaskCall, exec: &ExecShared) -> Result<Value, AslError> {
        if let Some(mock) = &self.mock {
            if let Some(response) = mock.response_for(&call.state_name) {
                let index = exec.next_invocation(&call.state_name);
                return response.at(index).map_err(|e| AslError::runtime(e.to_string())).and_then(|r| r);
            }
        }
        let Some(handler) = self.handler(&call.resource) else {
            return Err(AslError::runtime(missing_handler(&call.resource)));
        };
        let request = TaskRequest {
            resource: call.resource.clone(),
            input: call.input.clone(),
            state_name: call.state_name.clone(),
            execution_arn: exec.identity.execution_arn.clone(),
            attempt: call.attempt,
            credentials: call.credentials.clone(),
        };
        let fut = handler.invoke(request);
        match call.timeout_ms {
            Some(ms) => match tokio::time::timeout(std::time::Duration::from_millis(ms), fut).await {
                Ok(r) => r,
                // AWS's Task timeout carries an empty cause (recorded: a catcher sees "Cause": "").
                Err(_) => Err(AslError::new(STATES_TIMEOUT, "")),
            },
            None => fut.await,
        }
    }
}

/// Why nothing answers `resource`, and what would.
fn missing_handler(resource: &str) -> String {
    const MOCK: &str = "give the state a mocked response (--mock-config FILE --test-case NAME) or register a handler through the library (Resources::register)";
    let service = resource.split(':').nth(2).unwrap_or("");
    let integration = resource.strip_prefix("arn:").and_then(|r| r.split_once(":states:::")).map(|(_, rest)| rest);
    if service == "lambda" || integration.is_some_and(|i| i.starts_with("lambda:")) {
        return format!("No Lambda endpoint is configured for the resource '{resource}': run with --lambda-endpoint URL (or LAMBDA_ENDPOINT) pointing at a server that speaks the Lambda Invoke API, or {MOCK}.");
    }
    if resource.starts_with(exec::PREFIX) {
        return format!("The resource '{resource}' names a local command, but no exec config is loaded: run with --exec-config FILE (see docs/TASKS.md), or {MOCK}.");
    }
    if service == "states" && resource.split(':').nth(5) == Some("activity") {
        return format!("The activity '{resource}' has no worker here: Expressway does not run activities; {MOCK}.");
    }
    match integration {
        Some(i) => {
            let name = i.split('.').next().unwrap_or(i);
            let kind = if name.starts_with("aws-sdk:") { "AWS SDK integration" } else { "service integration" };
            format!("The {kind} '{name}' ({resource}) is not called by Expressway: {MOCK}.")
        }
        None => format!("No handler is configured for the resource '{resource}': {MOCK}."),
    }
}
