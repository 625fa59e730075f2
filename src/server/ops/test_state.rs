//! TestState over the API: the request body goes to the transport-free
//! [`crate::test_state::test_state`] as is; its refusals map onto the API's error names.

use std::sync::Arc;

use crate::server::protocol::{ApiError, ErrorCode};
use crate::server::ServerState;
use crate::test_state::{test_state, TestStateError, TestStateRequest};

pub async fn run(state: &Arc<ServerState>, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let text = std::str::from_utf8(body).map_err(|_| ApiError::new(ErrorCode::SerializationException, "Request body is not UTF-8"))?;
    let request = TestStateRequest::from_json(text).map_err(refused)?;
    let response = test_state(&state.engine, request).await.map_err(refused)?;
    serde_json::to_vec(&response).map_err(|e| ApiError::new(ErrorCode::InternalFailure, e.to_string()))
}

fn refused(e: TestStateError) -> ApiError {
    let code = match e {
        TestStateError::Validation(_) => ErrorCode::ValidationException,
        TestStateError::InvalidDefinition(_) => ErrorCode::InvalidDefinition,
        TestStateError::InvalidExecutionInput(_) => ErrorCode::InvalidExecutionInput,
        TestStateError::InvalidArn(_) => ErrorCode::InvalidArn,
    };
    ApiError::new(code, e.message())
}
