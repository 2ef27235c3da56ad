//! The v2 API (shaped after Integration Connectors' runtime API): entity types, entities and
//! actions. Metadata routes answer from the catalog; the rest call Stripe and pass the limiter.

mod actions;
mod conditions;
mod entities;
mod list;
mod metadata;
pub mod payload;

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::{get, post};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Routes that reach Stripe (the server puts them behind the limiter).
pub fn stripe_bound_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v2/entityTypes/{type}/entities",
            get(entities::list).post(entities::create),
        )
        .route(
            "/v2/entityTypes/{type}/entities/{id}",
            get(entities::get)
                .patch(entities::update)
                .delete(entities::delete),
        )
        .route(
            "/v2/entityTypes/{type}/entities:updateEntitiesWithConditions",
            post(entities::update_with_conditions),
        )
        .route(
            "/v2/entityTypes/{type}/entities:deleteEntitiesWithConditions",
            post(entities::delete_with_conditions),
        )
        // `{action}:execute` is one path segment; matchit has no suffix patterns, so the handler
        // splits the verb off.
        .route("/v2/actions/{action_and_verb}", post(actions::execute))
}

/// Routes answered from the catalog alone (no Stripe call, no limiter).
pub fn metadata_routes() -> Router<AppState> {
    Router::new()
        .route("/v2/entityTypes", get(metadata::entity_types))
        .route("/v2/entityTypes/{type}", get(metadata::entity_type))
        .route("/v2/actions", get(metadata::actions))
        .route("/v2/actions/{action_and_verb}", get(metadata::action))
}

/// The caller's own `Idempotency-Key`, passed on to Stripe.
fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .ok_or_else(|| {
            ApiError::invalid(
                "Idempotency-Key",
                "must be 1 to 255 visible ASCII characters",
            )
        })?;
    Ok(Some(key.to_string()))
}

/// A JSON request body, with a 400 naming the body when it is not JSON.
fn json_body(bytes: &[u8]) -> ApiResult<serde_json::Value> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Value::Object(Default::default()));
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::invalid("body", format!("not JSON: {e}")))
}
