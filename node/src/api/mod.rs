//! The v2 API (shaped after Integration Connectors' runtime API): entity types, entities and
//! actions. Metadata routes answer from the catalog; the rest call Stripe and pass the limiter.

mod actions;
mod conditions;
mod entities;
mod list;
mod metadata;
pub mod payload;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};

use crate::error::{ApiError, ApiResult};
use crate::metrics::CallLabels;
use crate::state::AppState;

/// Routes that reach Stripe (the server puts them behind the limiter).
pub fn stripe_bound_routes(state: &AppState) -> Router<AppState> {
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
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            count_calls,
        ))
}

/// Counts calls by entity type or action and HTTP status (`stripe_connector_calls_total`).
async fn count_calls(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (kind, name) = call_name(request.uri().path());
    let response = next.run(request).await;
    state
        .metrics
        .calls
        .get_or_create(&CallLabels {
            kind: kind.to_string(),
            name: name.to_string(),
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// The catalog name a path is about; unknown names collapse to `unknown` to bound label values.
fn call_name(path: &str) -> (&'static str, &'static str) {
    if let Some(rest) = path.strip_prefix("/v2/entityTypes/") {
        let name = rest.split('/').next().unwrap_or_default();
        return (
            "entity",
            crate::catalog::entity(name).map_or("unknown", |e| e.name),
        );
    }
    if let Some(rest) = path.strip_prefix("/v2/actions/") {
        let name = rest.split(':').next().unwrap_or_default();
        return (
            "action",
            crate::catalog::action(name).map_or("unknown", |a| a.name),
        );
    }
    ("other", "unknown")
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
