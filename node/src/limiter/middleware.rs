use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Decision;
use crate::error::ApiError;
use crate::state::AppState;

/// Admission for every route that reaches Stripe: one transaction per request, checked before
/// any Stripe call. Over capacity it answers 429 RESOURCE_EXHAUSTED with Retry-After.
pub async fn admission(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match state.limiter.acquire().await {
        Decision::Admitted => next.run(request).await,
        Decision::Throttled { retry_after } => ApiError::throttled(
            format!(
                "connection {} is over its capacity of transactions per second; retry later",
                state.config.connection_name
            ),
            retry_after,
        )
        .into_response(),
    }
}
