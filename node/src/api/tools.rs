//! Tools: every action and every entity operation of the catalog as a Tool with an input and
//! an output JSON Schema (`tools.list`, `tools.execute`, `listCustomToolNames`,
//! `generateConnectionToolspecOverride`).

use std::sync::OnceLock;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{Map, Value, json};

use super::actions::{self, build_request, check_execution_config, request_parameters};
use super::entities::{self, ListQuery, update_params};
use super::entity_ids;
use super::extract::{JsonBody, QueryParams, Scope, Target, body_object};
use super::metadata::{
    action_input_schema, action_result_schema, entity_schema, id_description, with_create_parent,
};
use super::{admit, idempotency_key, paging};
use crate::access::{Caller, Permission};
use crate::audit::Origin;
use crate::catalog::{ACTIONS, Action, ENTITIES, Entity, Operation};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// What a tool runs.
#[derive(Debug, Clone, Copy)]
pub enum ToolKind {
    Action(&'static Action),
    Entity(&'static Entity, Operation),
}

#[derive(Debug, Clone)]
pub struct Tool {
    /// `ConfirmPaymentIntent` for an action, `ListCustomer`, `GetCustomer`, ... for entities.
    pub name: String,
    pub kind: ToolKind,
}

/// Every tool: the actions first, then each entity's supported operations.
pub fn all() -> &'static [Tool] {
    static TOOLS: OnceLock<Vec<Tool>> = OnceLock::new();
    TOOLS.get_or_init(|| {
        let actions = ACTIONS.iter().map(|a| Tool {
            name: a.name.to_string(),
            kind: ToolKind::Action(a),
        });
        let entities = ENTITIES.iter().flat_map(|e| {
            Operation::ALL
                .into_iter()
                .filter(|op| op.supported(e))
                .map(move |op| Tool {
                    name: format!("{}{}", op.verb(), e.name),
                    kind: ToolKind::Entity(e, op),
                })
        });
        actions.chain(entities).collect()
    })
}

fn find(name: &str) -> ApiResult<&'static Tool> {
    all().iter().find(|t| t.name == name).ok_or_else(|| {
        ApiError::not_found(format!(
            "tool {name} does not exist; GET .../tools lists them"
        ))
    })
}

/// What running the tool `name` needs: its entity operation or its action.
pub fn permission(name: &str) -> ApiResult<Permission> {
    Ok(match find(name)?.kind {
        ToolKind::Action(action) => Permission::Action(action),
        ToolKind::Entity(entity, op) => Permission::Entity(entity, op),
    })
}

fn string_schema(description: &str) -> Value {
    json!({"type": ["string"], "description": description})
}

fn id_schema(entity: &Entity) -> Value {
    string_schema(&id_description(entity))
}

/// The fields of an entity a caller may write.
fn writable_schema(entity: &Entity) -> Value {
    let mut schema = entity_schema(entity);
    if let Some(props) = schema["properties"].as_object_mut() {
        props.retain(|name, _| entity.field(name).is_some_and(|f| !f.read_only));
    }
    schema
}

/// A create's fields: the writable ones, and a child's parent, which fills Stripe's path.
fn create_schema(entity: &Entity) -> Value {
    with_create_parent(entity, writable_schema(entity))
}

/// The JSON Schema of an Entity `{name, fields}` of this entity type.
pub fn entity_resource_schema(entity: &Entity) -> Value {
    json!({
        "type": ["object"],
        "properties": {
            "name": string_schema("The entity's resource name."),
            "fields": entity_schema(entity),
        },
    })
}

fn input_schema(kind: ToolKind) -> Value {
    match kind {
        ToolKind::Action(a) => action_input_schema(a),
        ToolKind::Entity(e, Operation::List) => json!({
            "type": ["object"],
            "properties": {
                "conditions": string_schema("A filter clause over the entity's fields, e.g. Email = 'a@example.com'."),
                "pageSize": {"type": ["integer"], "description": "Entities per page, 1 to 200 (0: 25)."},
                "pageToken": string_schema("The nextPageToken of the previous page."),
                "sortBy": {"type": ["array"], "items": {"type": ["string"]}, "description": format!("Fields of {} to sort the page by.", e.name)},
                "sortOrder": {"type": ["array"], "items": {"type": ["string"], "enum": ["ASC", "DESC"]}},
            },
        }),
        ToolKind::Entity(e, Operation::Get | Operation::Delete) => json!({
            "type": ["object"],
            "properties": {"id": id_schema(e)},
            "required": ["id"],
        }),
        ToolKind::Entity(e, Operation::Create) => create_schema(e),
        ToolKind::Entity(e, Operation::Update) => {
            let mut schema = writable_schema(e);
            schema["properties"]["id"] = id_schema(e);
            schema["required"] = json!(["id"]);
            schema
        }
    }
}

fn output_schema(kind: ToolKind) -> Value {
    match kind {
        ToolKind::Action(a) => json!({
            "type": ["object"],
            "properties": {"results": {"type": ["array"], "items": action_result_schema(a)}},
        }),
        ToolKind::Entity(e, Operation::List) => json!({
            "type": ["object"],
            "properties": {
                "entities": {"type": ["array"], "items": entity_resource_schema(e)},
                "nextPageToken": string_schema("Present when there is a next page."),
            },
        }),
        ToolKind::Entity(_, Operation::Delete) => json!({"type": ["object"]}),
        ToolKind::Entity(e, _) => entity_resource_schema(e),
    }
}

fn description(kind: ToolKind) -> String {
    match kind {
        ToolKind::Action(a) => a.description.to_string(),
        ToolKind::Entity(e, op) => format!("{} {}: {}", op.verb(), e.name, e.description),
    }
}

/// The Tool in the document's shape.
pub fn tool_json(tool: &Tool) -> Value {
    let (read_only, destructive, idempotent) = match tool.kind {
        ToolKind::Action(a) => (false, a.method == "DELETE", false),
        ToolKind::Entity(_, Operation::List | Operation::Get) => (true, false, true),
        ToolKind::Entity(_, Operation::Create) => (false, false, false),
        ToolKind::Entity(_, Operation::Update) => (false, true, true),
        ToolKind::Entity(_, Operation::Delete) => (false, true, true),
    };
    json!({
        "name": tool.name,
        "description": description(tool.kind),
        "inputSchema": input_schema(tool.kind),
        "outputSchema": output_schema(tool.kind),
        "annotations": {
            "title": tool.name,
            "readOnlyHint": read_only,
            "destructiveHint": destructive,
            "idempotentHint": idempotent,
            "openWorldHint": true,
        },
    })
}

/// ListToolsResponse for the named tools (all when none are named).
fn list_tools(names: &[&str], size: Option<&str>, token: Option<&str>) -> ApiResult<Value> {
    for name in names {
        find(name).map_err(|e| e.about_field("toolNames"))?;
    }
    let chosen: Vec<&Tool> = all()
        .iter()
        .filter(|t| names.is_empty() || names.contains(&t.name.as_str()))
        .collect();
    let (page, next) = paging::page(&chosen, "tools", paging::page_size(size)?, token)?;
    let body = json!({"tools": page.iter().map(|t| tool_json(t)).collect::<Vec<_>>()});
    Ok(paging::with_next_page_token(body, next))
}

/// `GET .../tools`.
pub async fn list(query: QueryParams) -> ApiResult<Json<Value>> {
    query.allow(&["pageSize", "pageToken", "toolNames"])?;
    list_tools(
        &query.all("toolNames"),
        query.one("pageSize")?,
        query.one("pageToken")?,
    )
    .map(Json)
}

/// `POST .../tools` (ListToolsPostRequest).
pub async fn list_post(JsonBody(body): JsonBody<Value>) -> ApiResult<Json<Value>> {
    let Some(object) = body.as_object() else {
        return Err(ApiError::invalid(
            "body",
            "must be a ListToolsPostRequest object",
        ));
    };
    let mut size = None;
    let mut token = None;
    let mut names = Vec::new();
    for (key, value) in object {
        match (key.as_str(), value) {
            (_, Value::Null) => {}
            ("executionConfig", v) => check_execution_config(v)?,
            ("pageSize", Value::Number(n)) => size = Some(n.to_string()),
            ("pageToken", Value::String(t)) => token = Some(t.as_str()),
            ("toolNames", Value::Array(items)) => {
                for item in items {
                    let name = item
                        .as_str()
                        .ok_or_else(|| ApiError::invalid("toolNames", "must be strings"))?;
                    names.push(name);
                }
            }
            ("toolSpec", spec)
                if spec["toolDefinitions"]
                    .as_array()
                    .is_none_or(|d| d.is_empty()) => {}
            ("toolSpec", _) => {
                return Err(ApiError::unimplemented(
                    "custom tool specifications are not supported: the tools come from the connector's catalog",
                ));
            }
            ("pageSize" | "pageToken" | "toolNames", _) => {
                return Err(ApiError::invalid(key.clone(), "has the wrong type"));
            }
            _ => {
                return Err(ApiError::invalid(
                    key.clone(),
                    "unknown key of a ListToolsPostRequest",
                ));
            }
        }
    }
    list_tools(&names, size.as_deref(), token).map(Json)
}

/// `GET {connection}:listCustomToolNames`: ListCustomToolNamesResponse.
pub fn custom_tool_names() -> Value {
    let names: Vec<Value> = all()
        .iter()
        .map(|t| match t.kind {
            ToolKind::Action(_) => json!({"name": t.name}),
            ToolKind::Entity(e, op) => {
                json!({"name": t.name, "entityName": e.name, "operation": op.enum_name()})
            }
        })
        .collect();
    json!({"toolNames": names})
}

/// `POST {connection}:generateConnectionToolspecOverride`: the tool definitions of the named
/// tools (all when none are named).
pub fn generate_toolspec(body: &Value) -> ApiResult<Value> {
    let object = body_object(
        body,
        &["toolNames"],
        "must be a GenerateCustomToolspecRequest",
        "unknown key of a GenerateCustomToolspecRequest",
    )?;
    let mut chosen = Vec::new();
    for item in object
        .get("toolNames")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = item["name"]
            .as_str()
            .ok_or_else(|| ApiError::invalid("toolNames.name", "is required"))?;
        chosen.push(find(name).map_err(|e| e.about_field("toolNames.name"))?);
    }
    if chosen.is_empty() {
        chosen = all().iter().collect();
    }
    Ok(json!({
        "toolSpec": {
            "toolSpecVersion": "stripe-connector/stripe/1/catalog",
            "toolDefinitions": chosen.iter().map(|t| tool_json(t)).collect::<Vec<_>>(),
        }
    }))
}

/// `POST .../tools/{tool}:execute`: ExecuteToolRequest -> ExecuteToolResponse `{"result"}`.
pub async fn execute(
    State(state): State<AppState>,
    caller: Caller,
    target: Target,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    let tool = find(target.executed("tool", "tools")?)?;
    let mut body = body;
    // The definition is the node's own (tools.list); a caller's copy changes nothing.
    if let Some(object) = body.as_object_mut() {
        object.remove("toolDefinition");
    }
    let parameters = request_parameters(&body)?;
    let key = idempotency_key(&headers)?;
    let origin = Origin::new(&caller, "tools.execute");
    let result = run(&state, origin, &target.scope, tool, &parameters, key).await?;
    Ok(Json(json!({ "result": result })))
}

fn id_param(parameters: &Map<String, Value>) -> ApiResult<String> {
    match parameters.get("id") {
        Some(Value::String(id)) if !id.trim().is_empty() => Ok(id.trim().to_string()),
        _ => Err(ApiError::invalid("id", "is required: the entity's id")),
    }
}

fn strings(parameters: &Map<String, Value>, name: &str) -> ApiResult<Vec<String>> {
    match parameters.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| ApiError::invalid(name, "must be strings"))
            })
            .collect(),
        Some(_) => Err(ApiError::invalid(
            name,
            "must be a string or a list of strings",
        )),
    }
}

fn text(parameters: &Map<String, Value>, name: &str) -> ApiResult<Option<String>> {
    match parameters.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(ApiError::invalid(name, "must be a string")),
    }
}

async fn run(
    state: &AppState,
    origin: Origin<'_>,
    scope: &Scope,
    tool: &Tool,
    parameters: &Map<String, Value>,
    key: Option<String>,
) -> ApiResult<Value> {
    let allow = |known: &[&str]| match parameters.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(ApiError::invalid(
            k.clone(),
            format!(
                "unknown parameter of {}; parameters: {}",
                tool.name,
                known.join(", ")
            ),
        )),
        None => Ok(()),
    };
    match tool.kind {
        ToolKind::Action(action) => {
            let request = build_request(action, parameters)?;
            admit(state).await?;
            actions::run(state, origin, action, parameters, request, key).await
        }
        // Only supported operations are tools (see `all`).
        ToolKind::Entity(entity, op) => match op {
            Operation::List => {
                allow(&["conditions", "pageSize", "pageToken", "sortBy", "sortOrder"])?;
                let (conditions, size, token) = (
                    text(parameters, "conditions")?,
                    text(parameters, "pageSize")?,
                    text(parameters, "pageToken")?,
                );
                let (by, order) = (
                    strings(parameters, "sortBy")?,
                    strings(parameters, "sortOrder")?,
                );
                let query = ListQuery {
                    conditions: conditions.as_deref(),
                    page_size: size.as_deref(),
                    page_token: token.as_deref(),
                    sort_by: by.iter().map(String::as_str).collect(),
                    sort_order: order.iter().map(String::as_str).collect(),
                    consistent_read: None,
                };
                entities::list_entities(state, scope, entity, &query).await
            }
            Operation::Get => {
                allow(&["id"])?;
                let id = id_param(parameters)?;
                admit(state).await?;
                entities::get_entity(state, scope, entity, &id).await
            }
            Operation::Create => {
                let create =
                    entity_ids::create_request(entity, &Value::Object(parameters.clone()))?;
                admit(state).await?;
                entities::create_entity(state, origin, scope, entity, create, key).await
            }
            Operation::Update => {
                let id = id_param(parameters)?;
                let mut fields = parameters.clone();
                fields.remove("id");
                let params = update_params(entity, &Value::Object(fields))?;
                admit(state).await?;
                entities::update_entity(state, origin, scope, entity, &id, params, key).await
            }
            Operation::Delete => {
                allow(&["id"])?;
                let id = id_param(parameters)?;
                admit(state).await?;
                entities::delete_entity(state, origin, entity, &id).await?;
                Ok(json!({}))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_names_are_unique_and_cover_actions_and_operations() {
        let tools = all();
        let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        names.sort();
        let count = names.len();
        names.dedup();
        assert_eq!(names.len(), count, "duplicate tool names");
        assert!(names.contains(&"ConfirmPaymentIntent"));
        assert!(names.contains(&"ListCustomer"));
        assert!(!names.contains(&"DeleteQuote"), "Quote has no Delete");
        let update = tool_json(find("UpdateCustomer").unwrap());
        assert_eq!(update["inputSchema"]["required"], json!(["id"]));
        assert!(update["inputSchema"]["properties"].get("Email").is_some());
        assert!(
            update["inputSchema"]["properties"].get("Created").is_none(),
            "read-only"
        );
        // A child's create takes its parent; its Get takes the entity id with the parent's.
        let create = tool_json(find("CreateTaxId").unwrap());
        assert_eq!(create["inputSchema"]["required"], json!(["Customer"]));
        assert!(create["inputSchema"]["properties"]["Value"].is_object());
        let get = tool_json(find("GetTaxId").unwrap());
        let id = get["inputSchema"]["properties"]["id"]["description"]
            .as_str()
            .unwrap();
        assert!(id.contains("'<Customer id>,<TaxId id>'"), "{id}");
    }
}
