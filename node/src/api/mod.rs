//! Google's Integration Connectors v2 runtime API (`connectors.v2.json`) over Stripe. Every
//! method is served at its resource name, `/v2/projects/{project}/locations/{location}/
//! connections/{connection}/...`, and at the short alias without the connection prefix
//! (`/v2/entityTypes/...`, `/v2:checkStatus`). Methods that call Stripe pass the limiter first.

mod actions;
mod conditions;
mod connection;
mod entities;
mod entity_ids;
pub mod extract;
mod http_request;
mod list;
mod metadata;
pub mod openapi;
mod paging;
pub mod payload;
pub mod permissions;
mod sql;
pub mod system_params;
mod tools;

use axum::RequestPartsExt;
use axum::Router;
use axum::extract::{RawPathParams, Request, State};
use axum::http::HeaderMap;
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, patch, post};

use crate::access::Caller;
use crate::error::{ApiError, ApiResult};
use crate::metrics::CallLabels;
use crate::state::AppState;
use permissions::{guarded, guarded_by_verb};

pub use crate::limiter::admit;

/// The prefix of every method's resource name.
pub const CONNECTION: &str = "/v2/projects/{project}/locations/{location}/connections/{connection}";

/// The `{connection}:verb` methods, for the short aliases `/v2:verb`.
const GET_VERBS: &[&str] = &["checkStatus", "checkReadiness", "listCustomToolNames"];
const POST_VERBS: &[&str] = &[
    "executeSqlQuery",
    "executeHttpRequest",
    "exchangeAuthCode",
    "refreshAccessToken",
    "generateConnectionToolspecOverride",
];

/// Every method, at its resource name and at its short alias, each with its permission
/// (`permissions::METHODS`).
pub fn routes(state: &AppState) -> Router<AppState> {
    let counted =
        |m: MethodRouter<AppState>| m.route_layer(from_fn_with_state(state.clone(), count_calls));
    let below_connection: Vec<(&str, MethodRouter<AppState>)> = vec![
        (
            "/entityTypes",
            guarded("entityTypes.list", get(metadata::entity_types)),
        ),
        (
            "/entityTypes/{type}",
            guarded("entityTypes.get", get(metadata::entity_type)),
        ),
        (
            "/entityTypes/{type}/entities",
            counted(
                guarded("entityTypes.entities.list", get(entities::list)).merge(guarded(
                    "entityTypes.entities.create",
                    post(entities::create),
                )),
            ),
        ),
        (
            "/entityTypes/{type}/entities/{id}",
            counted(
                guarded("entityTypes.entities.get", get(entities::get))
                    .merge(guarded(
                        "entityTypes.entities.patch",
                        patch(entities::patch),
                    ))
                    .merge(guarded(
                        "entityTypes.entities.delete",
                        delete(entities::delete),
                    )),
            ),
        ),
        (
            "/entityTypes/{type}/entities:updateEntitiesWithConditions",
            counted(guarded(
                "entityTypes.entities.updateEntitiesWithConditions",
                post(entities::update_with_conditions),
            )),
        ),
        (
            "/entityTypes/{type}/entities:deleteEntitiesWithConditions",
            counted(guarded(
                "entityTypes.entities.deleteEntitiesWithConditions",
                post(entities::delete_with_conditions),
            )),
        ),
        ("/actions", guarded("actions.list", get(metadata::actions))),
        // `{action}:execute` is one path segment; matchit has no suffix patterns, so the handler
        // splits the verb off.
        (
            "/actions/{action}",
            guarded("actions.get", get(metadata::action))
                .merge(counted(guarded("actions.execute", post(actions::execute)))),
        ),
        (
            "/tools",
            guarded("tools.list", get(tools::list)).merge(guarded("tools", post(tools::list_post))),
        ),
        (
            "/tools/{tool}",
            counted(guarded("tools.execute", post(tools::execute))),
        ),
        (
            "/resources",
            guarded("resources.list", get(connection::resources)),
        ),
        (
            "/resources/{*resource}",
            guarded("resources.get", get(connection::resources)).merge(guarded(
                "resources.getResourcePost",
                post(connection::resources),
            )),
        ),
    ];
    let mut router = Router::new();
    for (suffix, method) in below_connection {
        router = router
            .route(&format!("{CONNECTION}{suffix}"), method.clone())
            .route(&format!("/v2{suffix}"), method);
    }
    let verbs = counted(guarded_by_verb(
        get(connection::get_verb).post(connection::post_verb),
    ));
    router = router.route(CONNECTION, verbs);
    for verb in GET_VERBS {
        router = router.route(
            &format!("/v2:{verb}"),
            counted(guarded(verb, get(connection::get_verb))),
        );
    }
    for verb in POST_VERBS {
        router = router.route(
            &format!("/v2:{verb}"),
            counted(guarded(verb, post(connection::post_verb))),
        );
    }
    router
        .route("/v2/openapi.json", guarded("openapi", get(openapi::serve)))
        .route_layer(from_fn_with_state(state.clone(), served_connection))
}

/// A method under another connection's name is 404, whatever the method.
async fn served_connection(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    if let Ok(params) = parts.extract::<RawPathParams>().await
        && let Some((_, segment)) = params.iter().find(|(k, _)| *k == "connection")
    {
        let connection = segment.split(':').next().unwrap_or_default();
        if let Err(e) = extract::check_connection(connection, &state.config.connection_name) {
            return e.into_response();
        }
    }
    next.run(Request::from_parts(parts, body)).await
}

/// Counts calls by entity type, action, tool or connection method, client and HTTP status
/// (`stripe_connector_calls_total`). Throttled calls count too, with status 429: the metric
/// tells what callers were answered, and the limiter's own metrics do not say which entity or
/// action was refused.
async fn count_calls(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let (kind, name) = match parts.extract::<RawPathParams>().await {
        Ok(params) => call_name(&params, parts.uri.path()),
        Err(_) => ("other", "unknown"),
    };
    let client = parts
        .extensions
        .get::<Caller>()
        .map_or_else(String::new, |c| c.name().to_string());
    let response = next.run(Request::from_parts(parts, body)).await;
    state
        .metrics
        .calls
        .get_or_create(&CallLabels {
            kind: kind.to_string(),
            name: name.to_string(),
            client,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// The catalog name a call is about; unknown names collapse to `unknown` to bound label values.
fn call_name(params: &RawPathParams, path: &str) -> (&'static str, &'static str) {
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.split(':').collect::<Vec<_>>())
    };
    let known = |verb: Option<&str>| {
        GET_VERBS
            .iter()
            .chain(POST_VERBS)
            .find(|v| Some(**v) == verb)
            .copied()
            .unwrap_or("unknown")
    };
    if let Some(t) = param("type") {
        return (
            "entity",
            crate::catalog::entity(t[0]).map_or("unknown", |e| e.name),
        );
    }
    if let Some(a) = param("action") {
        return (
            "action",
            crate::catalog::action(a[0]).map_or("unknown", |a| a.name),
        );
    }
    if let Some(t) = param("tool") {
        let tool = tools::all().iter().find(|tool| tool.name == t[0]);
        return ("tool", tool.map_or("unknown", |t| t.name.as_str()));
    }
    match param("connection") {
        Some(c) => ("connection", known(c.get(1).copied())),
        None => ("connection", known(path.strip_prefix("/v2:"))),
    }
}

/// The caller's own `Idempotency-Key`, passed on to Stripe.
fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("\u{0}");
    checked_idempotency_key("Idempotency-Key", text).map(Some)
}

/// An idempotency key Stripe takes: 1 to 255 visible ASCII characters once trimmed.
fn checked_idempotency_key(field: &str, key: &str) -> ApiResult<String> {
    let key = key.trim();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
    {
        return Err(ApiError::invalid(
            field,
            "must be 1 to 255 visible ASCII characters",
        ));
    }
    Ok(key.to_string())
}

/// The idempotency key of a write: the caller's, or a new one, so the audit line names the key
/// Stripe got (the same on every retry).
fn write_key(key: Option<String>) -> String {
    key.unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}
