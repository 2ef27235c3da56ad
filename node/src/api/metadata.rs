//! Entity type and action metadata, straight from the catalog.

use axum::Json;
use axum::extract::Path;
use serde_json::{Value, json};

use crate::catalog::{self, ACTIONS, Action, ENTITIES, Entity, Field, Pushdown};
use crate::error::{ApiError, ApiResult};

/// The filter operators Stripe applies server-side for a field; the rest run on the node.
fn pushed_down_operators(field: &Field) -> Vec<&'static str> {
    match field.pushdown {
        Pushdown::None => vec![],
        // See docs/filter-clause.md for what stays on the node.
        Pushdown::Equals(_) | Pushdown::AnyOf(..) => vec!["=", "IN"],
        Pushdown::Range(_) => vec!["=", "<", "<=", ">", ">=", "BETWEEN"],
    }
}

fn field_json(field: &Field) -> Value {
    json!({
        "field": field.name,
        "dataType": field.data_type,
        "key": field.key,
        "nullable": field.nullable,
        "readonly": field.read_only,
        "description": field.description,
        "stripePath": field.path,
        "pushedDownOperators": pushed_down_operators(field),
        // Stripe's Search API can match it (docs/filter-clause.md, "Stripe's Search API").
        "searchable": field.searchable(),
    })
}

fn entity_json(entity: &Entity) -> Value {
    let o = entity.operations;
    let operations: Vec<&str> = [
        (o.list, "LIST"),
        (o.get, "GET"),
        (o.create, "CREATE"),
        (o.update, "UPDATE"),
        (o.delete, "DELETE"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    json!({
        "name": entity.name,
        // Integration Connectors' RuntimeEntitySchema calls it `entity`.
        "entity": entity.name,
        "description": entity.description,
        "operations": operations,
        "note": entity.instead,
        "listRequires": entity.list_requires,
        "fields": entity.fields.iter().map(field_json).collect::<Vec<_>>(),
    })
}

fn action_json(action: &Action) -> Value {
    json!({
        "name": action.name,
        // Integration Connectors' RuntimeActionSchema calls it `action`.
        "action": action.name,
        "description": action.description,
        "inputParameters": action.params.iter().map(|p| json!({
            "parameter": p.name,
            "dataType": p.data_type,
            "nullable": !p.required,
            "required": p.required,
            "description": p.description,
        })).collect::<Vec<_>>(),
        "output": action.output,
    })
}

pub async fn entity_types() -> Json<Value> {
    Json(json!({"types": ENTITIES.iter().map(entity_json).collect::<Vec<_>>()}))
}

pub async fn entity_type(Path(name): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(entity_json(find_entity(&name)?)))
}

pub async fn actions() -> Json<Value> {
    Json(json!({"actions": ACTIONS.iter().map(action_json).collect::<Vec<_>>()}))
}

pub async fn action(Path(name): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(action_json(find_action(&name)?)))
}

pub fn find_entity(name: &str) -> ApiResult<&'static Entity> {
    catalog::entity(name).ok_or_else(|| {
        ApiError::not_found(format!(
            "entity type {name} does not exist; GET /v2/entityTypes lists them"
        ))
    })
}

pub fn find_action(name: &str) -> ApiResult<&'static Action> {
    catalog::action(name).ok_or_else(|| {
        ApiError::not_found(format!(
            "action {name} does not exist; GET /v2/actions lists them"
        ))
    })
}
