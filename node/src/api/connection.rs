//! The methods on the connection itself, `{connection}:{verb}`: checkStatus, checkReadiness,
//! executeSqlQuery, executeHttpRequest, the tool spec methods, and 501 for what an API-key
//! connection has no use for.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::extract::{JsonBody, QueryParams, Target};
use super::{admit, http_request, sql, tools};
use crate::access::Caller;
use crate::error::{ApiError, ApiResult, Code};
use crate::state::AppState;
use crate::stripe::StripeRequest;

/// Why the OAuth methods are not served.
const NO_OAUTH: &str = "the Stripe connection authenticates with an API key (a mounted Secret): there is no OAuth flow, so no auth code to exchange and no access token to refresh";

/// `GET {connection}:{verb}`.
pub async fn get_verb(
    State(state): State<AppState>,
    target: Target,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    match target.connection_verb.as_deref() {
        Some("checkStatus") => check_status(&state, &query).await,
        Some("checkReadiness") => {
            query.allow(&[])?;
            Ok(json!({"status": "READY"}))
        }
        Some("listCustomToolNames") => {
            query.allow(&[])?;
            Ok(tools::custom_tool_names())
        }
        verb => Err(unknown(verb, "GET")),
    }
    .map(Json)
}

/// `POST {connection}:{verb}`.
pub async fn post_verb(
    State(state): State<AppState>,
    caller: Caller,
    target: Target,
    query: QueryParams,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    query.allow(&[])?;
    match target.connection_verb.as_deref() {
        Some("executeSqlQuery") => sql::execute(&state, &caller, &body).await,
        Some("executeHttpRequest") => http_request::execute(&state, &caller, &body).await,
        Some("generateConnectionToolspecOverride") => tools::generate_toolspec(&body),
        Some("exchangeAuthCode" | "refreshAccessToken") => Err(ApiError::unimplemented(NO_OAUTH)),
        verb => Err(unknown(verb, "POST")),
    }
    .map(Json)
}

fn unknown(verb: Option<&str>, method: &str) -> ApiError {
    match verb {
        Some(v) => ApiError::not_found(format!("{method} {{connection}}:{v} is not a method")),
        None => ApiError::not_found(
            "the connection itself is not a resource; see .../entityTypes, .../actions and .../tools",
        ),
    }
}

/// CheckStatusResponse: ACTIVE, AUTH_ERROR or ERROR, from a cheap Stripe call.
async fn check_status(state: &AppState, query: &QueryParams) -> ApiResult<Value> {
    query.allow(&[])?;
    admit(state).await?;
    let mut probe = StripeRequest::get("/v1/customers");
    probe.params.push(("limit".into(), "1".into()));
    let (status, description) = match state.stripe.call(probe).await {
        Ok(_) => ("ACTIVE", String::new()),
        Err(e) if e.code() == Code::Unauthenticated => ("AUTH_ERROR", e.message().to_string()),
        Err(e) => ("ERROR", e.message().to_string()),
    };
    Ok(json!({"state": status, "description": description}))
}

/// `resources.*`: the connector exposes entities, actions and tools, no MCP resources.
pub async fn resources() -> ApiError {
    ApiError::unimplemented(
        "the Stripe connection exposes no resources; its data is served as entity types (.../entityTypes), actions (.../actions) and tools (.../tools)",
    )
}
