//! Entity types and actions in the document's shapes (EntityType, Field, Action,
//! InputParameter, ResultMetadata, JsonSchema), rendered from the catalog's plain fields.

use axum::Json;
use serde_json::{Map, Value, json};

use super::extract::{QueryParams, Target};
use super::paging;
use crate::catalog::{
    self, ACTIONS, Action, DataType, ENTITIES, Entity, Field, Operation, Output, Param,
};
use crate::catalog::{ParamTarget, Pushdown};
use crate::error::{ApiError, ApiResult};

/// Google's Field/InputParameter `dataType` for a catalog type. STRING, INT and LONG are
/// deprecated in the document: VARCHAR and BIGINT replace them (Stripe integers are 64-bit).
pub fn google_data_type(data_type: DataType) -> &'static str {
    match data_type {
        DataType::String => "VARCHAR",
        DataType::Integer => "BIGINT",
        DataType::Decimal => "DECIMAL",
        DataType::Boolean => "BOOLEAN",
        DataType::Timestamp => "TIMESTAMP",
        DataType::Object => "STRUCT",
        DataType::Array => "ARRAY",
    }
}

/// The JSON Schema of a value of the type (`null` added when it may be null).
pub fn json_schema(data_type: DataType, nullable: bool) -> Value {
    let (kind, extra) = match data_type {
        DataType::String => ("string", json!({})),
        DataType::Integer => ("integer", json!({"format": "int64"})),
        // Stripe's decimal strings (`unit_amount_decimal`) are numbers in the API.
        DataType::Decimal => ("number", json!({})),
        DataType::Boolean => ("boolean", json!({})),
        DataType::Timestamp => (
            "integer",
            json!({"format": "int64", "description": "Unix seconds."}),
        ),
        DataType::Object => ("object", json!({})),
        DataType::Array => ("array", json!({})),
    };
    let mut schema = extra;
    schema["type"] = if nullable {
        json!([kind, "null"])
    } else {
        json!([kind])
    };
    schema
}

/// The filter operators Stripe applies server-side for a field; the rest run on the node.
fn pushed_down_operators(field: &Field) -> Vec<&'static str> {
    match field.pushdown {
        Pushdown::None => vec![],
        // See docs/filter-clause.md for what stays on the node.
        Pushdown::Equals(_) | Pushdown::AnyOf(..) => vec!["=", "IN"],
        Pushdown::Range(_) => vec!["=", "<", "<=", ">", ">=", "BETWEEN"],
    }
}

/// What the node knows about a field beyond Google's Field: one line per catalog attribute.
fn field_details(field: &Field) -> Map<String, Value> {
    let mut details = Map::new();
    details.insert("readOnly".into(), field.read_only.into());
    // Stripe's create takes it, its update does not.
    details.insert("createOnly".into(), field.create_only.into());
    details.insert("stripePath".into(), field.path.into());
    details.insert(
        "pushedDownOperators".into(),
        pushed_down_operators(field).into(),
    );
    // Stripe's Search API can match it (docs/filter-clause.md, "Stripe's Search API").
    details.insert("searchable".into(), field.searchable().into());
    details
}

/// The entity type a field points to: a field named after another entity type (`Customer` on
/// PaymentIntent) holds that entity's id.
fn reference(entity: &Entity, field: &Field) -> Option<Value> {
    let target = catalog::entity(field.name).filter(|t| t.name != entity.name)?;
    (field.data_type == DataType::String)
        .then(|| json!({"name": target.key().name, "type": target.name}))
}

/// A field's JSON Schema: its type, description and read-only flag.
pub fn field_schema(field: &Field) -> Value {
    let mut schema = json_schema(field.data_type, field.nullable);
    schema["description"] = field.description.into();
    if field.read_only {
        schema["readOnly"] = true.into();
    }
    schema
}

fn field_json(entity: &Entity, field: &Field, enriched: bool) -> Value {
    let mut out = json!({
        "name": field.name,
        "dataType": google_data_type(field.data_type),
        "key": field.key,
        "nullable": field.nullable,
        "description": field.description,
        "additionalDetails": field_details(field),
    });
    if let Some(r) = reference(entity, field) {
        out["reference"] = r;
    }
    if enriched || matches!(field.data_type, DataType::Object | DataType::Array) {
        out["jsonSchema"] = field_schema(field);
    }
    out
}

/// A child's create schema takes its parent field: required, and written, since it fills
/// Stripe's path (the field is read-only otherwise).
pub fn with_create_parent(entity: &Entity, mut fields: Value) -> Value {
    if let Some(parent) = entity.parent_field() {
        let mut field = field_schema(parent);
        if let Some(f) = field.as_object_mut() {
            f.remove("readOnly");
        }
        fields["properties"][parent.name] = field;
        fields["required"] = json!([parent.name]);
    }
    fields
}

/// What the `id` of one entity is, for the document and the tools (a child's names its form).
pub fn id_description(entity: &Entity) -> String {
    match entity.child_id_form() {
        Some(form) => format!("The {} entity id, '{form}'.", entity.name),
        None => format!("The {} id.", entity.name),
    }
}

/// The JSON Schema of an entity's `fields`.
pub fn entity_schema(entity: &Entity) -> Value {
    let properties: Map<String, Value> = entity
        .fields
        .iter()
        .map(|f| (f.name.to_string(), field_schema(f)))
        .collect();
    let mut details = Map::new();
    details.insert("stripePath".into(), entity.path.into());
    if !entity.list_requires.is_empty() {
        details.insert("listRequires".into(), json!(entity.list_requires));
    }
    if let Some(note) = entity.instead {
        details.insert("note".into(), note.into());
    }
    if let Some(form) = entity.child_id_form() {
        details.insert("entityId".into(), form.into());
    }
    json!({
        "type": ["object"],
        "description": entity.description,
        "properties": properties,
        "additionalDetails": details,
    })
}

/// The operations the entity supports, as the document's enum names them.
pub fn operations(entity: &Entity) -> Vec<&'static str> {
    Operation::ALL
        .into_iter()
        .filter(|op| op.supported(entity))
        .map(Operation::enum_name)
        .collect()
}

fn entity_type_json(entity: &Entity, enriched: bool) -> Value {
    let mut out = json!({
        "name": entity.name,
        "fields": entity.fields.iter().map(|f| field_json(entity, f, enriched)).collect::<Vec<_>>(),
        "operations": operations(entity),
    });
    if enriched {
        out["jsonSchema"] = entity_schema(entity);
    }
    out
}

/// Words of a PascalCase name: `ConfirmPaymentIntent` -> `Confirm Payment Intent`.
fn display_name(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if i > 0 && c.is_uppercase() {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

fn param_json(param: &Param) -> Value {
    let stripe = match param.target {
        ParamTarget::Path => "the object id in the path".to_string(),
        ParamTarget::Form(name) => name.to_string(),
    };
    json!({
        "name": param.name,
        "dataType": google_data_type(param.data_type),
        "nullable": !param.required,
        "description": param.description,
        "additionalDetails": {"required": param.required, "stripeParam": stripe},
    })
}

/// The JSON Schema of an action's `parameters`.
pub fn action_input_schema(action: &Action) -> Value {
    let properties: Map<String, Value> = action
        .params
        .iter()
        .map(|p| {
            let mut s = json_schema(p.data_type, !p.required);
            s["description"] = p.description.into();
            (p.name.to_string(), s)
        })
        .collect();
    let required: Vec<&str> = action
        .params
        .iter()
        .filter(|p| p.required)
        .map(|p| p.name)
        .collect();
    json!({"type": ["object"], "properties": properties, "required": required})
}

/// The result fields of an action: `Success`, and `InvoiceId` or the Stripe object's fields.
fn result_metadata(action: &Action) -> Vec<Value> {
    let field = |name: &str, description: &str| json!({"name": name, "dataType": "VARCHAR", "nullable": false, "description": description});
    let mut out = vec![field("Success", "\"true\" when the action succeeded.")];
    match action.output {
        Output::SuccessOnly => {}
        Output::InvoiceId => out.insert(
            0,
            field("InvoiceId", "The invoice Stripe created for the quote."),
        ),
        Output::Object => out.push(json!({
            "name": "*",
            "dataType": "VARCHAR",
            "nullable": true,
            "description": "Every field of the Stripe object, nested keys joined with dots, scalars as strings, null as null.",
        })),
    }
    out
}

/// The JSON Schema of one result object of an action.
pub fn action_result_schema(action: &Action) -> Value {
    let mut properties = Map::new();
    if action.output == Output::InvoiceId {
        properties.insert("InvoiceId".into(), json!({"type": ["string", "null"]}));
    }
    properties.insert(
        "Success".into(),
        json!({"type": ["string"], "enum": ["true"]}),
    );
    let mut schema = json!({"type": ["object"], "properties": properties, "required": ["Success"]});
    if action.output == Output::Object {
        schema["additionalProperties"] = json!({"type": ["string", "null"]});
    }
    schema
}

fn action_json(action: &Action, enriched: bool) -> Value {
    let mut out = json!({
        "name": action.name,
        "displayName": display_name(action.name),
        "description": action.description,
        "inputParameters": action.params.iter().map(param_json).collect::<Vec<_>>(),
        "resultMetadata": result_metadata(action),
    });
    if enriched {
        out["inputJsonSchema"] = action_input_schema(action);
        out["resultJsonSchema"] = action_result_schema(action);
    }
    out
}

/// `view` of a list: BASIC (names only) or FULL (the default).
fn list_view(query: &QueryParams, basic: &str, full: &str) -> ApiResult<bool> {
    match query.one("view")? {
        None => Ok(true),
        Some(v) if v == full || v.ends_with("_UNSPECIFIED") => Ok(true),
        Some(v) if v == basic => Ok(false),
        Some(v) => Err(ApiError::invalid(
            "view",
            format!("must be {basic} or {full}, got {v}"),
        )),
    }
}

/// `view` of a get: BASIC (the default) or ENRICHED, which adds the JSON Schemas.
fn get_view(query: &QueryParams, basic: &str, enriched: &str) -> ApiResult<bool> {
    match query.one("view")? {
        None => Ok(false),
        Some(v) if v == basic || v.ends_with("_UNSPECIFIED") => Ok(false),
        Some(v) if v == enriched => Ok(true),
        Some(v) => Err(ApiError::invalid(
            "view",
            format!("must be {basic} or {enriched}, got {v}"),
        )),
    }
}

/// One page of a catalog list: each item whole in the FULL view (the default), or only its
/// name in the BASIC view; and the next page's token.
fn catalog_page<T>(
    query: &QueryParams,
    items: &[T],
    list: &str,
    [basic, full]: [&str; 2],
    name: fn(&T) -> &str,
    whole: fn(&T) -> Value,
) -> ApiResult<(Vec<Value>, Option<String>)> {
    query.allow(&["pageSize", "pageToken", "view"])?;
    let full = list_view(query, basic, full)?;
    let size = paging::page_size(query.one("pageSize")?)?;
    let (page, next) = paging::page(items, list, size, query.one("pageToken")?)?;
    let rendered = page
        .iter()
        .map(|item| {
            if full {
                whole(item)
            } else {
                json!({"name": name(item)})
            }
        })
        .collect();
    Ok((rendered, next))
}

/// `GET .../entityTypes`: ListEntityTypesResponse.
pub async fn entity_types(query: QueryParams) -> ApiResult<Json<Value>> {
    let views = ["ENTITY_TYPE_VIEW_BASIC", "ENTITY_TYPE_VIEW_FULL"];
    let (types, next) = catalog_page(
        &query,
        ENTITIES,
        "entityTypes",
        views,
        |e| e.name,
        |e| entity_type_json(e, true),
    )?;
    let body = json!({"types": types, "unsupportedTypeNames": []});
    Ok(Json(paging::with_next_page_token(body, next)))
}

/// `GET .../entityTypes/{type}`: EntityType.
pub async fn entity_type(target: Target, query: QueryParams) -> ApiResult<Json<Value>> {
    query.allow(&["view", "contextMetadata"])?;
    let enriched = get_view(
        &query,
        "ENTITY_TYPE_SCHEMA_VIEW_BASIC",
        "ENTITY_TYPE_SCHEMA_VIEW_ENRICHED",
    )?;
    Ok(Json(entity_type_json(
        find_entity(target.param("type"))?,
        enriched,
    )))
}

/// `GET .../actions`: ListActionsResponse.
pub async fn actions(query: QueryParams) -> ApiResult<Json<Value>> {
    let views = ["ACTION_VIEW_BASIC", "ACTION_VIEW_FULL"];
    let (actions, next) = catalog_page(
        &query,
        ACTIONS,
        "actions",
        views,
        |a| a.name,
        |a| action_json(a, true),
    )?;
    let body = json!({"actions": actions, "unsupportedActionNames": []});
    Ok(Json(paging::with_next_page_token(body, next)))
}

/// `GET .../actions/{action}`: Action.
pub async fn action(target: Target, query: QueryParams) -> ApiResult<Json<Value>> {
    query.allow(&["view"])?;
    let enriched = get_view(
        &query,
        "ACTION_SCHEMA_VIEW_BASIC",
        "ACTION_SCHEMA_VIEW_ENRICHED",
    )?;
    Ok(Json(action_json(
        find_action(target.param("action"))?,
        enriched,
    )))
}

pub fn find_entity(name: &str) -> ApiResult<&'static Entity> {
    catalog::entity(name).ok_or_else(|| {
        ApiError::not_found(format!(
            "entity type {name} does not exist; GET .../entityTypes lists them"
        ))
    })
}

pub fn find_action(name: &str) -> ApiResult<&'static Action> {
    catalog::action(name).ok_or_else(|| {
        ApiError::not_found(format!(
            "action {name} does not exist; GET .../actions lists them"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalog_type_maps_to_a_current_google_data_type() {
        // Deprecated in the document: INT, DATETIME, STRING, LONG, UUID.
        for e in ENTITIES {
            for f in e.fields {
                let t = google_data_type(f.data_type);
                assert!(
                    !["INT", "DATETIME", "STRING", "LONG", "UUID"].contains(&t),
                    "{}.{}",
                    e.name,
                    f.name
                );
            }
        }
        assert_eq!(
            display_name("ConfirmPaymentIntent"),
            "Confirm Payment Intent"
        );
    }

    #[test]
    fn fields_carry_node_facts_in_additional_details_and_references() {
        let pi = find_entity("PaymentIntent").unwrap();
        let customer = pi.field("Customer").unwrap();
        let f = field_json(pi, customer, false);
        assert_eq!(f["reference"], json!({"name": "Id", "type": "Customer"}));
        assert_eq!(f["additionalDetails"]["stripePath"], "customer");
        let c = find_entity("Customer").unwrap();
        let email = field_json(c, c.field("Email").unwrap(), false);
        assert_eq!(
            email["additionalDetails"]["pushedDownOperators"],
            json!(["=", "IN"])
        );
        assert!(email.get("reference").is_none());
        assert!(email.get("jsonSchema").is_none());
        let metadata = field_json(c, c.field("Metadata").unwrap(), false);
        assert_eq!(metadata["dataType"], "STRUCT");
        assert_eq!(metadata["jsonSchema"]["type"], json!(["object", "null"]));
    }
}
