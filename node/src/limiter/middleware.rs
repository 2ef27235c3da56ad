use super::{Decision, Reason};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Admission of a request that reaches Stripe: one transaction per request, checked after the
/// request was validated and before any Stripe call. Over capacity it is 429
/// RESOURCE_EXHAUSTED with Retry-After.
pub async fn admit(state: &AppState) -> ApiResult<()> {
    match state.limiter.acquire_explained().await {
        (Decision::Admitted, _) => Ok(()),
        (Decision::Throttled { retry_after }, reason) => {
            let connection = &state.config.connection_name;
            Err(match reason {
                Some(Reason::Account) => ApiError::throttled(
                    format!(
                        "the Stripe account of connection {connection} is over its transactions per second, \
                         shared by every connection using it; retry later"
                    ),
                    retry_after,
                    "account",
                ),
                _ => ApiError::throttled(
                    format!(
                        "connection {connection} is over its capacity of transactions per second; retry later"
                    ),
                    retry_after,
                    "connection",
                ),
            })
        }
    }
}
