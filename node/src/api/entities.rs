//! Entity operations: List, Get, Create, Update, Delete, and the with-conditions variants.

use std::cmp::Ordering;
use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde_json::{Map, Value, json};

use super::conditions::Conditions;
use super::list::{self, PageToken};
use super::metadata::find_entity;
use super::payload::{self, Write};
use super::{idempotency_key, json_body};
use crate::catalog::{Entity, Operations};
use crate::error::{ApiError, ApiResult, Code};
use crate::state::AppState;
use crate::stripe::StripeRequest;

pub const DEFAULT_PAGE_SIZE: usize = 25;
pub const MAX_PAGE_SIZE: usize = 200;
/// Most objects one with-conditions call changes; past it the call is refused before any change.
pub const MAX_BULK: usize = 200;
/// Most list rounds (each up to `list::MAX_STRIPE_PAGES` Stripe pages) a with-conditions call
/// scans for matches, so a clause Stripe cannot narrow does not read a whole large account.
pub const MAX_BULK_SCAN_ROUNDS: usize = 20;

type Params = Query<HashMap<String, String>>;

fn reject_unknown(params: &HashMap<String, String>, known: &[&str]) -> ApiResult<()> {
    match params.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(ApiError::invalid(
            k.clone(),
            format!("unknown query parameter; known: {}", known.join(", ")),
        )),
        None => Ok(()),
    }
}

/// The entity named in the path, when it supports the operation; otherwise the error says what
/// to use instead.
fn entity_supporting(
    name: &str,
    operation: &str,
    supported: impl Fn(&Operations) -> bool,
) -> ApiResult<&'static Entity> {
    let entity = find_entity(name)?;
    if !supported(&entity.operations) {
        return Err(unsupported(entity, operation));
    }
    Ok(entity)
}

fn unsupported(entity: &Entity, operation: &str) -> ApiError {
    let mut message = format!("{} does not support {operation}", entity.name);
    if let Some(instead) = entity.instead {
        message.push_str(": ");
        message.push_str(instead);
    }
    ApiError::new(Code::Unimplemented, message)
}

/// Names Stripe's `param` in the API's terms (`address[city]` becomes `AddressCity`).
fn in_api_terms(entity: &Entity, mut error: ApiError) -> ApiError {
    if let Some(name) = error
        .field
        .as_deref()
        .and_then(|p| payload::field_for_param(entity, p))
    {
        error.field = Some(name.to_string());
    }
    error
}

fn object_path(entity: &Entity, id: &str) -> ApiResult<String> {
    if id.is_empty() || id.contains(['/', '?', '#']) {
        return Err(ApiError::invalid("id", "is not a valid Stripe object id"));
    }
    Ok(format!("{}/{id}", entity.path))
}

pub async fn list(
    State(state): State<AppState>,
    Path(entity): Path<String>,
    Query(params): Params,
) -> ApiResult<Json<Value>> {
    let entity = entity_supporting(&entity, "List", |o| o.list)?;
    reject_unknown(
        &params,
        &[
            "conditions",
            "pageSize",
            "pageToken",
            "sortBy",
            "sortOrder",
            "consistentRead",
        ],
    )?;
    let page_size = match params.get("pageSize") {
        None => DEFAULT_PAGE_SIZE,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
            _ => {
                return Err(ApiError::invalid(
                    "pageSize",
                    format!("must be a whole number from 1 to {MAX_PAGE_SIZE}, got {text:?}"),
                ));
            }
        },
    };
    let sort = Sort::parse(
        entity,
        params.get("sortBy").map(String::as_str),
        params.get("sortOrder").map(String::as_str),
    )?;
    // `consistentRead=true`: Stripe's list endpoints only, never its lagging Search API.
    let consistent = match params.get("consistentRead").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                "consistentRead",
                format!("must be true or false, got {other:?}"),
            ));
        }
    };
    let conditions = Conditions::parse(entity, params.get("conditions").map(String::as_str))?
        .with_consistent_read(consistent);
    let hash = list::query_hash(entity, &conditions);
    let start = match params.get("pageToken").filter(|t| !t.is_empty()) {
        Some(text) => PageToken::decode(text, &hash)?,
        None => PageToken {
            hash,
            ..PageToken::default()
        },
    };
    let page = list::fetch_page(state.stripe.as_ref(), entity, &conditions, start, page_size)
        .await
        .map_err(|e| in_api_terms(entity, e))?;
    let mut rows: Vec<Map<String, Value>> = page
        .objects
        .iter()
        .map(|o| payload::to_fields(entity, o))
        .collect();
    sort.apply(&mut rows);
    let mut body = json!({
        "entities": rows.into_iter().map(|fields| json!({"fields": fields})).collect::<Vec<_>>(),
    });
    if let Some(next) = page.next {
        body["nextPageToken"] = json!(next.encode());
    }
    Ok(Json(body))
}

/// `sortBy`/`sortOrder`: Stripe lists newest first and cannot sort otherwise, so the node sorts
/// the entities of the returned page (not the whole result set).
struct Sort {
    fields: Vec<&'static str>,
    descending: bool,
}

impl Sort {
    fn parse(entity: &Entity, by: Option<&str>, order: Option<&str>) -> ApiResult<Self> {
        let mut fields = Vec::new();
        for name in by
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            let field = entity.field(name).ok_or_else(|| {
                ApiError::invalid(
                    "sortBy",
                    format!("{name} is not a field of {}", entity.name),
                )
            })?;
            fields.push(field.name);
        }
        let descending = match order.map(str::to_ascii_uppercase).as_deref() {
            None | Some("") | Some("ASC") => false,
            Some("DESC") => true,
            Some(other) => {
                return Err(ApiError::invalid(
                    "sortOrder",
                    format!("must be ASC or DESC, got {other}"),
                ));
            }
        };
        if descending && fields.is_empty() {
            return Err(ApiError::invalid("sortOrder", "needs sortBy"));
        }
        Ok(Self { fields, descending })
    }

    fn apply(&self, rows: &mut [Map<String, Value>]) {
        if self.fields.is_empty() {
            return;
        }
        rows.sort_by(|a, b| {
            let ord = self
                .fields
                .iter()
                .map(|f| compare(&a[*f], &b[*f]))
                .find(|o| *o != Ordering::Equal)
                .unwrap_or(Ordering::Equal);
            if self.descending { ord.reverse() } else { ord }
        });
    }
}

/// Nulls first, then booleans, numbers and strings in their natural order.
fn compare(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::String(_) => 3,
            _ => 4,
        }
    }
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}

pub async fn get(
    State(state): State<AppState>,
    Path((entity, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let entity = entity_supporting(&entity, "Get", |o| o.get)?;
    let object = state
        .stripe
        .call(StripeRequest::get(object_path(entity, &id)?))
        .await?;
    // Stripe still answers 200 for a deleted customer (`{"id", "deleted": true}`).
    if object["deleted"] == true {
        return Err(ApiError::not_found(format!(
            "{} {id} was deleted",
            entity.name
        )));
    }
    Ok(Json(json!({"fields": payload::to_fields(entity, &object)})))
}

pub async fn create(
    State(state): State<AppState>,
    Path(entity): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let entity = entity_supporting(&entity, "Create", |o| o.create)?;
    let params = payload::to_form(entity, &json_body(&body)?, Write::Create)?;
    let request =
        StripeRequest::post(entity.path, params).with_idempotency_key(idempotency_key(&headers)?);
    let object = state
        .stripe
        .call(request)
        .await
        .map_err(|e| in_api_terms(entity, e))?;
    Ok(Json(json!({"Id": object["id"]})))
}

fn update_params(entity: &Entity, body: &[u8]) -> ApiResult<Vec<(String, String)>> {
    let params = payload::to_form(entity, &json_body(body)?, Write::Update)?;
    if params.is_empty() {
        return Err(ApiError::invalid("body", "names no field to update"));
    }
    Ok(params)
}

pub async fn update(
    State(state): State<AppState>,
    Path((entity, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let entity = entity_supporting(&entity, "Update", |o| o.update)?;
    let params = update_params(entity, &body)?;
    let request = StripeRequest::post(object_path(entity, &id)?, params)
        .with_idempotency_key(idempotency_key(&headers)?);
    let object = state
        .stripe
        .call(request)
        .await
        .map_err(|e| in_api_terms(entity, e))?;
    Ok(Json(json!({"Id": object["id"]})))
}

async fn delete_one(state: &AppState, entity: &Entity, id: &str) -> ApiResult<()> {
    state
        .stripe
        .call(StripeRequest::delete(object_path(entity, id)?))
        .await
        .map_err(|mut e| {
            // e.g. a finalized invoice: say what to do instead.
            if let (Code::InvalidArgument, Some(instead)) = (e.code, entity.instead) {
                e.message = format!("{}; {instead}", e.message);
            }
            e
        })?;
    Ok(())
}

pub async fn delete(
    State(state): State<AppState>,
    Path((entity, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let entity = entity_supporting(&entity, "Delete", |o| o.delete)?;
    delete_one(&state, entity, &id).await?;
    Ok(Json(json!({})))
}

/// The ids of every object matching non-empty conditions (at most `MAX_BULK`).
async fn matching_ids(
    state: &AppState,
    entity: &Entity,
    params: &HashMap<String, String>,
) -> ApiResult<Vec<String>> {
    reject_unknown(params, &["conditions"])?;
    let text = params
        .get("conditions")
        .map(|t| t.trim())
        .unwrap_or_default();
    if text.is_empty() {
        return Err(ApiError::invalid(
            "conditions",
            "is required: an empty clause would match every object",
        ));
    }
    // Changes must reach every match, so never through the Search API's lagging index.
    let conditions = Conditions::parse(entity, Some(text))?.with_consistent_read(true);
    if conditions.is_empty() {
        return Err(ApiError::invalid("conditions", "is required"));
    }
    let mut token = PageToken {
        hash: list::query_hash(entity, &conditions),
        ..PageToken::default()
    };
    let mut ids = Vec::new();
    for _ in 0..MAX_BULK_SCAN_ROUNDS {
        let page = list::fetch_page(
            state.stripe.as_ref(),
            entity,
            &conditions,
            token,
            MAX_PAGE_SIZE,
        )
        .await
        .map_err(|e| in_api_terms(entity, e))?;
        ids.extend(
            page.objects
                .iter()
                .filter_map(|o| o["id"].as_str().map(str::to_string)),
        );
        if ids.len() > MAX_BULK {
            return Err(ApiError::invalid(
                "conditions",
                format!("match more than {MAX_BULK} objects; narrow them (nothing was changed)"),
            ));
        }
        match page.next {
            Some(next) => token = next,
            None => return Ok(ids),
        }
    }
    Err(ApiError::invalid(
        "conditions",
        format!(
            "would scan more than {} {} objects; narrow them with fields Stripe filters (see pushedDownOperators); nothing was changed",
            MAX_BULK_SCAN_ROUNDS * super::list::MAX_STRIPE_PAGES * 100,
            entity.name
        ),
    ))
}

fn partial_failure(mut e: ApiError, verb: &str, done: &[String], total: usize) -> ApiError {
    e.message = format!(
        "{} (after {verb} {} of {total} matching objects: {:?})",
        e.message,
        done.len(),
        done
    );
    e
}

pub async fn update_with_conditions(
    State(state): State<AppState>,
    Path(entity): Path<String>,
    Query(params): Params,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let entity = entity_supporting(&entity, "Update", |o| o.update)?;
    let form = update_params(entity, &body)?;
    let key = idempotency_key(&headers)?;
    let ids = matching_ids(&state, entity, &params).await?;
    let mut done = Vec::new();
    for id in &ids {
        // One idempotency key per object, derived from the caller's, so a retried bulk call
        // changes nothing twice.
        let request = StripeRequest::post(object_path(entity, id)?, form.clone())
            .with_idempotency_key(key.as_ref().map(|k| format!("{k}:{id}")));
        if let Err(e) = state.stripe.call(request).await {
            return Err(partial_failure(
                in_api_terms(entity, e),
                "updating",
                &done,
                ids.len(),
            ));
        }
        done.push(id.clone());
    }
    Ok(Json(json!({"updatedCount": done.len(), "ids": done})))
}

pub async fn delete_with_conditions(
    State(state): State<AppState>,
    Path(entity): Path<String>,
    Query(params): Params,
) -> ApiResult<Json<Value>> {
    let entity = entity_supporting(&entity, "Delete", |o| o.delete)?;
    let ids = matching_ids(&state, entity, &params).await?;
    let mut done = Vec::new();
    for id in &ids {
        if let Err(e) = delete_one(&state, entity, id).await {
            return Err(partial_failure(e, "deleting", &done, ids.len()));
        }
        done.push(id.clone());
    }
    Ok(Json(json!({"deletedCount": done.len(), "ids": done})))
}
