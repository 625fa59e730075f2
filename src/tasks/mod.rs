//! Task resources: what a Task state's `Resource` reaches.
//!
//! Resolution order for one invocation: a mocked response (Step Functions Local mock file,
//! when a test case is selected and it names the state), then a handler registered for the
//! exact resource string, then a handler registered for a resource prefix (e.g. every
//! `arn:aws:lambda:…`). With none, the execution fails with `States.Runtime` naming the
//! resource: a silent pass-through would hide a missing integration.

pub mod mock;

use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use rustc_hash::FxHashMap;

use crate::error::{AslError, STATES_TIMEOUT};
use crate::value::{Str, Value};
use crate::vm::{ExecShared, TaskCall};

pub use mock::{MockConfig, MockError, MockTestCase};

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
            return Err(AslError::runtime(format!(
                "No handler is configured for the resource '{}'. Register one through the library (Resources::register), or run with --mock-config FILE --test-case NAME.",
                call.resource
            )));
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
                Err(_) => Err(AslError::named(STATES_TIMEOUT)),
            },
            None => fut.await,
        }
    }
}
