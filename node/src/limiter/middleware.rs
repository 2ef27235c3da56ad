use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{Decision, Reason};
use crate::error::ApiError;
use crate::state::AppState;

/// Admission for every route that reaches Stripe: one transaction per request, checked before
/// any Stripe call. Over capacity it answers 429 RESOURCE_EXHAUSTED with Retry-After.
pub async fn admission(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match state.limiter.acquire_explained().await {
        (Decision::Admitted, _) => next.run(request).await,
        (Decision::Throttled { retry_after }, reason) => {
            let message = match reason {
                Some(Reason::Account) => format!(
                    "the Stripe account of connection {} is over its transactions per second, \
                     shared by every connection using it; retry later",
                    state.config.connection_name
                ),
                _ => format!(
                    "connection {} is over its capacity of transactions per second; retry later",
                    state.config.connection_name
                ),
            };
            ApiError::throttled(message, retry_after).into_response()
        }
    }
}
