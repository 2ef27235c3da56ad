//! Calls of the node's API whose outcome the test expects: each asserts the status and returns
//! what the test reads next (an entity's fields, a List's one row, an action's result, an error).

use serde_json::Value;

use crate::{Api, assert_error, assert_error_mentions};

/// The path of one entity.
pub fn entity_path(entity: &str, id: &str) -> String {
    format!("/v2/entityTypes/{entity}/entities/{id}")
}

/// The path of `updateEntitiesWithConditions` or `deleteEntitiesWithConditions` (`verb`).
pub fn bulk_path(entity: &str, verb: &str, conditions: &str) -> String {
    let query: String = form_urlencoded::byte_serialize(conditions.as_bytes()).collect();
    format!("/v2/entityTypes/{entity}/entities:{verb}?conditions={query}")
}

/// The fields of an entity that must be there.
pub async fn get_fields(api: &Api, entity: &str, id: &str) -> Value {
    let (status, body) = api.get(&entity_path(entity, id)).await;
    assert_eq!(status, 200, "{entity} {id}: {body}");
    body["fields"].clone()
}

/// Updates an entity; the update must succeed. Returns the answer.
pub async fn update(api: &Api, entity: &str, id: &str, fields: Value) -> Value {
    let (status, body) = api.patch(&entity_path(entity, id), &fields).await;
    assert_eq!(status, 200, "{entity} {id} {fields}: {body}");
    body
}

/// Deletes an entity; the delete must succeed.
pub async fn delete(api: &Api, entity: &str, id: &str) {
    let (status, body) = api.delete(&entity_path(entity, id)).await;
    assert_eq!(status, 200, "{entity} {id}: {body}");
}

/// A card PaymentMethod (Stripe's 4242 test card) created through the node; returns its id.
pub async fn test_card(api: &Api) -> String {
    api.create(
        "PaymentMethod",
        serde_json::json!({"Type": "card",
            "Card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}}),
    )
    .await
}

/// `updateEntitiesWithConditions` with these fields, answering the status and body.
pub async fn update_with_conditions(
    api: &Api,
    entity: &str,
    conditions: &str,
    fields: Value,
) -> (u16, Value) {
    let path = bulk_path(entity, "updateEntitiesWithConditions", conditions);
    api.post(&path, &fields).await
}

/// `deleteEntitiesWithConditions`, answering the status and body.
pub async fn delete_with_conditions(api: &Api, entity: &str, conditions: &str) -> (u16, Value) {
    let path = bulk_path(entity, "deleteEntitiesWithConditions", conditions);
    api.post(&path, &serde_json::json!({})).await
}

/// The entities' fields of a List that must answer exactly `count` entities.
pub async fn counted_rows(api: &Api, entity: &str, conditions: &str, count: usize) -> Vec<Value> {
    let rows = api.rows(entity, conditions, &[]).await;
    assert_eq!(rows.len(), count, "{entity} {conditions}: {rows:?}");
    rows
}

/// The fields of the one entity a List must answer.
pub async fn single_row(api: &Api, entity: &str, conditions: &str) -> Value {
    counted_rows(api, entity, conditions, 1).await.remove(0)
}

/// Every page of a List, following `nextPageToken`.
pub async fn all_pages(
    api: &Api,
    entity: &str,
    conditions: &str,
    extra: &[(&str, &str)],
) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut token = String::new();
    for _ in 0..50 {
        let mut query = extra.to_vec();
        if !token.is_empty() {
            query.push(("pageToken", &token));
        }
        let (status, page) = api.list(entity, conditions, &query).await;
        assert_eq!(status, 200, "{conditions}: {page}");
        let next = page["nextPageToken"].as_str().map(str::to_string);
        pages.push(page);
        match next {
            Some(t) => token = t,
            None => return pages,
        }
    }
    panic!("paging did not end");
}

/// The `Id`s of these List pages' entities, in order.
pub fn ids_of_pages(pages: &[Value]) -> Vec<String> {
    pages.iter().flat_map(Api::ids).collect()
}

/// A List refused as bad input (400 INVALID_ARGUMENT); returns the error.
pub async fn list_refused(
    api: &Api,
    entity: &str,
    conditions: &str,
    extra: &[(&str, &str)],
) -> Value {
    let (status, body) = api.list(entity, conditions, extra).await;
    assert_error(status, &body, 400, "INVALID_ARGUMENT")
}

/// Runs an action that must succeed and returns its one result row.
pub async fn run_action(api: &Api, action: &str, parameters: Value) -> Value {
    let (status, body) = api.execute(action, parameters.clone()).await;
    assert_eq!(status, 200, "{action} {parameters}: {body}");
    assert_eq!(body["results"][0]["Success"], "true", "{body}");
    body["results"][0].clone()
}

/// Runs an action whose whole answer must be `[{"Success": "true"}]`: an action with no output.
pub async fn run_action_with_no_output(api: &Api, action: &str, parameters: Value) {
    let (status, body) = api.execute(action, parameters).await;
    assert_eq!(
        (status, body),
        (200, serde_json::json!({"results": [{"Success": "true"}]}))
    );
}

/// Runs an action that must be refused as bad input (400 INVALID_ARGUMENT); returns the error.
pub async fn refused_action(api: &Api, action: &str, parameters: Value) -> Value {
    let (status, body) = api.execute(action, parameters).await;
    assert_error(status, &body, 400, "INVALID_ARGUMENT")
}

/// Asserts the answer to an operation Stripe does not have for the entity: 405 UNIMPLEMENTED,
/// the message naming what to do instead.
pub fn assert_unimplemented((status, body): (u16, Value), instead: &str) {
    assert_error_mentions(status, &body, 405, "UNIMPLEMENTED", instead);
}

/// Asserts that an error's message starts with `prefix` (the field it names, and why).
pub fn assert_message_starts_with(error: &Value, prefix: &str) {
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(prefix),
        "{prefix:?} does not start {error}"
    );
}
