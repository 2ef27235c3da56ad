//! Entity operations: list, get, create, patch, delete, and the with-conditions variants, with
//! Entity `{name, fields}` bodies and answers.

use std::cmp::Ordering;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{Map, Value, json};

use super::conditions::Conditions;
use super::entity_ids::{self, Create, EntityId};
use super::extract::{JsonBody, QueryParams, Scope, Target, body_object};
use super::list::{self, PageToken};
use super::metadata::find_entity;
use super::payload::{self, Write};
use super::{admit, idempotency_key, paging, write_key};
use crate::access::Caller;
use crate::audit::{self, Origin};
use crate::catalog::{Entity, Operation};
use crate::error::{ApiError, ApiResult, Code};
use crate::state::AppState;
use crate::stripe::StripeRequest;

/// Most objects one with-conditions call changes; past it the call is refused before any change.
pub const MAX_BULK: usize = 200;
/// Most list rounds (each up to `list::MAX_STRIPE_PAGES` Stripe pages) a with-conditions call
/// scans for matches, so a clause Stripe cannot narrow does not read a whole large account.
pub const MAX_BULK_SCAN_ROUNDS: usize = 20;

/// The entity named in the path, when it supports the operation; otherwise 405 (the entity type
/// does not allow it) with what to use instead.
pub fn entity_supporting(name: &str, operation: Operation) -> ApiResult<&'static Entity> {
    let entity = find_entity(name)?;
    if !operation.supported(entity) {
        let mut message = format!("{} does not support {}", entity.name, operation.verb());
        if let Some(instead) = entity.instead {
            message.push_str(": ");
            message.push_str(instead);
        }
        return Err(ApiError::method_not_allowed(message));
    }
    Ok(entity)
}

/// The entity type and id a method on one entity names in its path (it takes no query
/// parameters), checked before Stripe is called.
fn one_entity<'t>(
    target: &'t Target,
    query: &QueryParams,
    operation: Operation,
) -> ApiResult<(&'static Entity, &'t str)> {
    query.allow(&[])?;
    let entity = entity_supporting(target.param("type"), operation)?;
    let id = target.param("id");
    EntityId::parse(entity, id)?;
    Ok((entity, id))
}

/// Names Stripe's `param` in the API's terms (`address[city]` becomes `AddressCity`).
fn in_api_terms(entity: &Entity, error: ApiError) -> ApiError {
    match error
        .field()
        .and_then(|p| payload::field_for_param(entity, p))
    {
        Some(name) => error.about_field(name),
        None => error,
    }
}

/// The Entity of a Stripe object: its resource name and its fields.
pub fn entity_json(scope: &Scope, entity: &Entity, id: &str, fields: Map<String, Value>) -> Value {
    json!({
        "name": format!("{}/entityTypes/{}/entities/{id}", scope.name(), entity.name),
        "fields": fields,
    })
}

/// The `fields` of an Entity request body `{"name"?, "fields": {...}, "metadata"?}`.
pub fn body_fields(body: &Value) -> ApiResult<&Value> {
    let object = body_object(
        body,
        &["name", "fields", "metadata"],
        "must be an Entity: {\"fields\": {...}}",
        "is not a key of an Entity; the body is {\"fields\": {...}} with the entity's fields inside",
    )?;
    match object.get("fields") {
        Some(fields @ Value::Object(_)) => Ok(fields),
        Some(_) => Err(ApiError::invalid(
            "fields",
            "must be a JSON object of entity fields",
        )),
        None => Err(ApiError::invalid(
            "fields",
            "is required: the Entity's fields to write",
        )),
    }
}

/// What a list asks for, from the query or from a tool's parameters.
#[derive(Debug, Default)]
pub struct ListQuery<'a> {
    pub conditions: Option<&'a str>,
    pub page_size: Option<&'a str>,
    pub page_token: Option<&'a str>,
    pub sort_by: Vec<&'a str>,
    pub sort_order: Vec<&'a str>,
    /// `true`: Stripe's list endpoints only, never its lagging Search API.
    pub consistent_read: Option<&'a str>,
}

pub async fn list(
    State(state): State<AppState>,
    target: Target,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    query.allow(&[
        "conditions",
        "pageSize",
        "pageToken",
        "sortBy",
        "sortOrder",
        "consistentRead",
    ])?;
    let entity = entity_supporting(target.param("type"), Operation::List)?;
    let request = ListQuery {
        conditions: query.one("conditions")?,
        page_size: query.one("pageSize")?,
        page_token: query.one("pageToken")?,
        sort_by: query.all("sortBy"),
        sort_order: query.all("sortOrder"),
        consistent_read: query.one("consistentRead")?,
    };
    list_entities(&state, &target.scope, entity, &request)
        .await
        .map(Json)
}

/// ListEntitiesResponse for one page.
pub async fn list_entities(
    state: &AppState,
    scope: &Scope,
    entity: &Entity,
    request: &ListQuery<'_>,
) -> ApiResult<Value> {
    let page_size = paging::page_size(request.page_size)?;
    let sort = Sort::parse(entity, &request.sort_by, &request.sort_order)?;
    let consistent = match request.consistent_read {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                "consistentRead",
                format!("must be true or false, got {other:?}"),
            ));
        }
    };
    let conditions =
        Conditions::parse(entity, request.conditions)?.with_consistent_read(consistent);
    let hash = list::query_hash(entity, &conditions);
    let start = match request.page_token.filter(|t| !t.is_empty()) {
        Some(text) => PageToken::decode(text, &hash)?,
        None => PageToken {
            hash,
            ..PageToken::default()
        },
    };
    admit(state).await?;
    let page = list::fetch_page(state.stripe.as_ref(), entity, &conditions, start, page_size)
        .await
        .map_err(|e| in_api_terms(entity, e))?;
    let mut rows: Vec<(String, Map<String, Value>)> = page
        .objects
        .iter()
        .map(|o| {
            let id = entity_ids::of_object(entity, o);
            (id, payload::to_fields(entity, o))
        })
        .collect();
    sort.apply(&mut rows);
    let entities: Vec<Value> = rows
        .into_iter()
        .map(|(id, fields)| entity_json(scope, entity, &id, fields))
        .collect();
    let body = json!({ "entities": entities });
    Ok(paging::with_next_page_token(
        body,
        page.next.map(|next| next.encode()),
    ))
}

/// `sortBy`/`sortOrder` (both repeated, by position; one order applies to every column):
/// Stripe lists newest first and cannot sort otherwise, so the node sorts the entities of the
/// returned page (not the whole result set).
#[derive(Debug)]
pub struct Sort {
    columns: Vec<(&'static str, bool)>,
}

impl Sort {
    pub fn parse(entity: &Entity, by: &[&str], order: &[&str]) -> ApiResult<Self> {
        let mut names = Vec::new();
        for name in by.iter().flat_map(|b| b.split(',')).map(str::trim) {
            if name.is_empty() {
                continue;
            }
            let field = entity.field(name).ok_or_else(|| {
                ApiError::invalid(
                    "sortBy",
                    format!("{name} is not a field of {}", entity.name),
                )
            })?;
            names.push(field.name);
        }
        let orders = order
            .iter()
            .flat_map(|o| o.split(','))
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(|o| match o.to_ascii_uppercase().as_str() {
                "ASC" => Ok(false),
                "DESC" => Ok(true),
                _ => Err(ApiError::invalid(
                    "sortOrder",
                    format!("must be ASC or DESC, got {o}"),
                )),
            })
            .collect::<ApiResult<Vec<bool>>>()?;
        if orders.len() > names.len().max(1) || (!orders.is_empty() && names.is_empty()) {
            return Err(ApiError::invalid(
                "sortOrder",
                "needs a sortBy column for each order",
            ));
        }
        let columns = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let descending = match orders.as_slice() {
                    [one] => *one,
                    all => all.get(i).copied().unwrap_or(false),
                };
                (*name, descending)
            })
            .collect();
        Ok(Self { columns })
    }

    pub fn apply<T>(&self, rows: &mut [(T, Map<String, Value>)]) {
        if self.columns.is_empty() {
            return;
        }
        rows.sort_by(|(_, a), (_, b)| {
            self.columns
                .iter()
                .map(|(f, descending)| {
                    let ord = compare(&a[*f], &b[*f]);
                    if *descending { ord.reverse() } else { ord }
                })
                .find(|o| *o != Ordering::Equal)
                .unwrap_or(Ordering::Equal)
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
    target: Target,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let (entity, id) = one_entity(&target, &query, Operation::Get)?;
    admit(&state).await?;
    get_entity(&state, &target.scope, entity, id)
        .await
        .map(Json)
}

pub async fn get_entity(
    state: &AppState,
    scope: &Scope,
    entity: &Entity,
    id: &str,
) -> ApiResult<Value> {
    let parsed = EntityId::parse(entity, id)?;
    let object = state
        .stripe
        .call(StripeRequest::get(parsed.path(entity)))
        .await?;
    let object = parsed.complete(entity, object);
    // Stripe still answers 200 for a deleted customer (`{"id", "deleted": true}`).
    if object["deleted"] == true {
        return Err(ApiError::not_found(format!(
            "{} {id} was deleted",
            entity.name
        )));
    }
    Ok(entity_json(
        scope,
        entity,
        id,
        payload::to_fields(entity, &object),
    ))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    target: Target,
    query: QueryParams,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    query.allow(&[])?;
    let entity = entity_supporting(target.param("type"), Operation::Create)?;
    let fields = body_fields(&body)?;
    let key = idempotency_key(&headers)?;
    let create = entity_ids::create_request(entity, fields)?;
    admit(&state).await?;
    let origin = Origin::new(&caller, "entities.create");
    create_entity(&state, origin, &target.scope, entity, create, key)
        .await
        .map(Json)
}

/// Creates the object; the Entity answered carries its `Id` (and a child's parent), as
/// Integration Connectors does, and its entity id in `name`.
pub async fn create_entity(
    state: &AppState,
    origin: Origin<'_>,
    scope: &Scope,
    entity: &Entity,
    create: Create,
    key: Option<String>,
) -> ApiResult<Value> {
    let key = write_key(key);
    let answer = post_write(state, entity, create.path, create.params, &key)
        .await
        .map(|o| entity_ids::with_parent(entity, create.parent.as_deref(), o));
    let id = answer
        .as_ref()
        .ok()
        .map(|o| entity_ids::of_object(entity, o));
    audited(entity, id.as_deref(), Some(&key)).record(origin, answer.as_ref().map(|_| ()));
    Ok(id_entity(scope, entity, &answer?))
}

/// A create's or an update's POST to Stripe under its idempotency key; errors in the API's
/// terms.
async fn post_write(
    state: &AppState,
    entity: &Entity,
    path: String,
    params: Vec<(String, String)>,
    key: &str,
) -> ApiResult<Value> {
    let request = StripeRequest::post(path, params).with_idempotency_key(Some(key.to_string()));
    state
        .stripe
        .call(request)
        .await
        .map_err(|e| in_api_terms(entity, e))
}

/// The audit record of a write to an entity.
fn audited<'a>(entity: &'a Entity, id: Option<&'a str>, key: Option<&'a str>) -> audit::Write<'a> {
    audit::Write {
        entity: Some(entity.name),
        object_id: id,
        idempotency_key: key,
        ..audit::Write::default()
    }
}

fn id_entity(scope: &Scope, entity: &Entity, object: &Value) -> Value {
    let mut fields = Map::new();
    fields.insert(entity.key().name.to_string(), object["id"].clone());
    if let Some(parent) = entity.parent_field() {
        fields.insert(
            parent.name.to_string(),
            payload::at_path(object, parent.path).clone(),
        );
    }
    entity_json(
        scope,
        entity,
        &entity_ids::of_object(entity, object),
        fields,
    )
}

/// Form parameters of an update, which must change something.
pub fn update_params(entity: &Entity, fields: &Value) -> ApiResult<Vec<(String, String)>> {
    let params = payload::to_form(entity, fields, Write::Update)?;
    if params.is_empty() {
        return Err(ApiError::invalid("fields", "names no field to update"));
    }
    Ok(params)
}

pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    target: Target,
    query: QueryParams,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    let (entity, id) = one_entity(&target, &query, Operation::Update)?;
    let params = update_params(entity, body_fields(&body)?)?;
    let key = idempotency_key(&headers)?;
    admit(&state).await?;
    let origin = Origin::new(&caller, "entities.patch");
    update_entity(&state, origin, &target.scope, entity, id, params, key)
        .await
        .map(Json)
}

pub async fn update_entity(
    state: &AppState,
    origin: Origin<'_>,
    scope: &Scope,
    entity: &Entity,
    id: &str,
    params: Vec<(String, String)>,
    key: Option<String>,
) -> ApiResult<Value> {
    let parsed = EntityId::parse(entity, id)?;
    let key = write_key(key);
    let answer = post_write(state, entity, parsed.path(entity), params, &key)
        .await
        .map(|o| parsed.complete(entity, o));
    audited(entity, Some(id), Some(&key)).record(origin, answer.as_ref().map(|_| ()));
    Ok(id_entity(scope, entity, &answer?))
}

pub async fn delete_entity(
    state: &AppState,
    origin: Origin<'_>,
    entity: &Entity,
    id: &str,
) -> ApiResult<()> {
    let path = EntityId::parse(entity, id)?.path(entity);
    let answer = state
        .stripe
        .call(StripeRequest::delete(path))
        .await
        .map_err(|e| match (e.code(), entity.instead) {
            // e.g. a finalized invoice: say what to do instead.
            (Code::InvalidArgument, Some(instead)) => e.with_context(|m| format!("{m}; {instead}")),
            _ => e,
        });
    audited(entity, Some(id), None).record(origin, answer.as_ref().map(|_| ()));
    answer.map(|_| ())
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    target: Target,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let (entity, id) = one_entity(&target, &query, Operation::Delete)?;
    admit(&state).await?;
    let origin = Origin::new(&caller, "entities.delete");
    delete_entity(&state, origin, entity, id).await?;
    Ok(Json(json!({})))
}

/// The clause of a with-conditions call: required and not blank, so it never matches all.
fn bulk_conditions(entity: &Entity, query: &QueryParams) -> ApiResult<Conditions> {
    query.allow(&["conditions"])?;
    let text = query.one("conditions")?.map(str::trim).unwrap_or_default();
    if text.is_empty() {
        return Err(ApiError::invalid(
            "conditions",
            "is required: an empty clause would match every object",
        ));
    }
    // Changes must reach every match, so never through the Search API's lagging index.
    Conditions::parse(entity, Some(text)).map(|c| c.with_consistent_read(true))
}

/// The ids of every object matching the conditions (at most `MAX_BULK`).
async fn matching_ids(
    state: &AppState,
    entity: &Entity,
    conditions: &Conditions,
) -> ApiResult<Vec<String>> {
    let mut token = PageToken {
        hash: list::query_hash(entity, conditions),
        ..PageToken::default()
    };
    let mut ids = Vec::new();
    for _ in 0..MAX_BULK_SCAN_ROUNDS {
        let page = list::fetch_page(
            state.stripe.as_ref(),
            entity,
            conditions,
            token,
            paging::MAX_PAGE_SIZE,
        )
        .await
        .map_err(|e| in_api_terms(entity, e))?;
        ids.extend(
            page.objects
                .iter()
                .filter(|o| o["id"].is_string())
                .map(|o| entity_ids::of_object(entity, o)),
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
            MAX_BULK_SCAN_ROUNDS * list::MAX_STRIPE_PAGES * 100,
            entity.name
        ),
    ))
}

fn partial_failure(e: ApiError, verb: &str, done: &[String], total: usize) -> ApiError {
    e.with_context(|m| {
        format!(
            "{m} (after {verb} {} of {total} matching objects: {done:?})",
            done.len()
        )
    })
}

pub async fn update_with_conditions(
    State(state): State<AppState>,
    caller: Caller,
    target: Target,
    query: QueryParams,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    let entity = entity_supporting(target.param("type"), Operation::Update)?;
    let conditions = bulk_conditions(entity, &query)?;
    let form = update_params(entity, body_fields(&body)?)?;
    let key = write_key(idempotency_key(&headers)?);
    admit(&state).await?;
    let ids = matching_ids(&state, entity, &conditions).await?;
    let origin = Origin::new(&caller, "entities.updateEntitiesWithConditions");
    let mut done = Vec::new();
    for id in &ids {
        // One idempotency key per object, derived from the call's, so a retried bulk call with
        // the caller's key changes nothing twice.
        let object_key = format!("{key}:{id}");
        let path = EntityId::parse(entity, id)?.path(entity);
        let answer = post_write(&state, entity, path, form.clone(), &object_key).await;
        audited(entity, Some(id), Some(&object_key)).record(origin, answer.as_ref().map(|_| ()));
        if let Err(e) = answer {
            return Err(partial_failure(e, "updating", &done, ids.len()));
        }
        done.push(id.clone());
    }
    Ok(Json(json!({
        "response": {"updatedCount": done.len(), "ids": done},
    })))
}

pub async fn delete_with_conditions(
    State(state): State<AppState>,
    caller: Caller,
    target: Target,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let entity = entity_supporting(target.param("type"), Operation::Delete)?;
    let conditions = bulk_conditions(entity, &query)?;
    admit(&state).await?;
    let ids = matching_ids(&state, entity, &conditions).await?;
    let origin = Origin::new(&caller, "entities.deleteEntitiesWithConditions");
    let mut done = Vec::new();
    for id in &ids {
        if let Err(e) = delete_entity(&state, origin, entity, id).await {
            return Err(partial_failure(e, "deleting", &done, ids.len()));
        }
        done.push(id.clone());
    }
    Ok(Json(json!({})))
}
