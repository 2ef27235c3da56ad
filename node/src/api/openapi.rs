//! The node's own OpenAPI 3.1 document, generated from the catalog: every method of Google's
//! v2 runtime API at its resource name, with one schema per entity type and its fields typed,
//! and per-action parameter and result schemas. Served at `GET /v2/openapi.json` and committed
//! as `docs/openapi.json` (a test fails when the two differ).

use axum::Json;
use serde_json::{Map, Value, json};

use super::CONNECTION;
use super::metadata::{
    action_input_schema, action_result_schema, entity_schema, id_description, with_create_parent,
};
use super::tools;
use crate::catalog::{ACTIONS, ENTITIES, Entity};

pub async fn serve() -> Json<Value> {
    Json(document())
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn json_content(schema: Value) -> Value {
    json!({"application/json": {"schema": schema}})
}

fn path_param(name: &str, description: &str, choices: Option<Vec<&str>>) -> Value {
    let mut schema = json!({"type": "string", "pattern": "^[^/]+$"});
    if let Some(choices) = choices {
        schema = json!({"type": "string", "enum": choices});
    }
    json!({"name": name, "in": "path", "required": true, "description": description, "schema": schema})
}

fn query_param(name: &str, schema: Value, description: &str) -> Value {
    let mut p = json!({"name": name, "in": "query", "description": description, "schema": schema});
    if p["schema"]["type"] == "array" {
        p["style"] = "form".into();
        p["explode"] = true.into();
    }
    p
}

fn connection_params() -> Vec<Value> {
    vec![
        path_param(
            "project",
            "Any project name; echoed in resource names.",
            None,
        ),
        path_param(
            "location",
            "Any location name; echoed in resource names.",
            None,
        ),
        path_param(
            "connection",
            "The node's own connection; any other is 404.",
            None,
        ),
    ]
}

/// One operation: its id, summary, parameters, optional request body schema and 200 schema.
fn operation(
    id: &str,
    summary: &str,
    extra_params: Vec<Value>,
    body: Option<Value>,
    ok: Value,
) -> Value {
    let mut params = connection_params();
    params.extend(extra_params);
    let mut op = json!({
        "operationId": id,
        "summary": summary,
        "parameters": params,
        "responses": {
            "200": {"description": "The answer.", "content": json_content(ok)},
            "default": {"description": "A google.rpc.Status error.", "content": json_content(reference("Status"))},
        },
    });
    if let Some(schema) = body {
        op["requestBody"] = json!({"required": true, "content": json_content(schema)});
    }
    op
}

fn unimplemented_operation(id: &str, summary: &str, body: bool) -> Value {
    let mut op = operation(
        id,
        summary,
        vec![],
        body.then(|| json!({"type": "object"})),
        json!({"type": "object"}),
    );
    op["responses"] = json!({
        "501": {"description": "Not served by an API-key connection.", "content": json_content(reference("Status"))},
        "default": {"description": "A google.rpc.Status error.", "content": json_content(reference("Status"))},
    });
    op
}

fn object(properties: Value) -> Value {
    json!({"type": "object", "properties": properties})
}

fn string() -> Value {
    json!({"type": "string"})
}

fn page_params() -> Vec<Value> {
    vec![
        query_param(
            "pageSize",
            json!({"type": "integer", "minimum": 0, "maximum": 200}),
            "0: the default of 25.",
        ),
        query_param(
            "pageToken",
            string(),
            "The nextPageToken of the previous page.",
        ),
    ]
}

/// The `view` parameter of a catalog method: `{view_enum}_UNSPECIFIED` and the two views it takes.
fn view_param(view_enum: &str, views: [&str; 2], description: &str) -> Value {
    let names: Vec<String> = std::iter::once("UNSPECIFIED")
        .chain(views)
        .map(|view| format!("{view_enum}_{view}"))
        .collect();
    query_param(
        "view",
        json!({"type": "string", "enum": names}),
        description,
    )
}

/// `GET .../entityTypes` or `GET .../actions`: one page of the catalog list, under the first of
/// `keys`, with the names it cannot describe under the second. `kind` names the view enum
/// (`ENTITY_TYPE` for ENTITY_TYPE_VIEW).
fn catalog_list(id: &str, summary: &str, kind: &str, keys: [&str; 2]) -> Value {
    let mut params = page_params();
    params.push(view_param(
        &format!("{kind}_VIEW"),
        ["BASIC", "FULL"],
        "BASIC: names only.",
    ));
    let [items, unsupported] = keys;
    let page = object(json!({
        items: {"type": "array", "items": {"type": "object"}},
        "nextPageToken": string(),
        unsupported: {"type": "array", "items": string()},
    }));
    operation(id, summary, params, None, page)
}

/// `GET .../entityTypes/{type}` or `GET .../actions/{action}`: one item of the catalog, named by
/// `item`; `kind` names the view enum (`ENTITY_TYPE` for ENTITY_TYPE_SCHEMA_VIEW).
fn catalog_get(id: &str, summary: &str, kind: &str, item: Value, extra: Option<Value>) -> Value {
    let view = format!("{kind}_SCHEMA_VIEW");
    let mut params = vec![
        item,
        view_param(&view, ["BASIC", "ENRICHED"], "ENRICHED adds JSON Schemas."),
    ];
    params.extend(extra);
    operation(id, summary, params, None, json!({"type": "object"}))
}

/// The fields of one entity type as a JSON Schema of OpenAPI 3.1.
fn fields_schema(entity: &Entity, writable_only: bool) -> Value {
    let mut schema = entity_schema(entity);
    if let Some(props) = schema["properties"].as_object_mut() {
        if writable_only {
            props.retain(|name, _| entity.field(name).is_some_and(|f| !f.read_only));
        }
        for (_, p) in props.iter_mut() {
            if let Some(map) = p.as_object_mut() {
                map.remove("readOnly");
            }
        }
    }
    schema["type"] = "object".into();
    if let Some(map) = schema.as_object_mut() {
        map.remove("additionalDetails");
    }
    if writable_only {
        schema["additionalProperties"] = false.into();
    }
    schema
}

fn entity_paths(entity: &Entity, paths: &mut Map<String, Value>, schemas: &mut Map<String, Value>) {
    let e = entity.name;
    schemas.insert(format!("{e}Fields"), fields_schema(entity, false));
    schemas.insert(format!("{e}WritableFields"), fields_schema(entity, true));
    schemas.insert(
        format!("{e}Entity"),
        object(json!({"name": string(), "fields": reference(&format!("{e}Fields")), "metadata": {"type": "object"}})),
    );
    let write_body = object(json!({"fields": reference(&format!("{e}WritableFields"))}));
    // A child's create also names its parent, which fills Stripe's path.
    let create_body = if entity.is_child() {
        let fields = with_create_parent(entity, fields_schema(entity, true));
        schemas.insert(format!("{e}CreateFields"), fields);
        object(json!({"fields": reference(&format!("{e}CreateFields"))}))
    } else {
        write_body.clone()
    };
    let entity_ref = reference(&format!("{e}Entity"));
    let o = entity.operations;
    let base = format!("{CONNECTION}/entityTypes/{e}/entities");
    let mut collection = Map::new();
    if o.list {
        let mut params = page_params();
        params.extend([
            query_param(
                "conditions",
                string(),
                "A filter clause (docs/filter-clause.md).",
            ),
            query_param(
                "sortBy",
                json!({"type": "array", "items": string()}),
                "Fields to sort the page by.",
            ),
            query_param(
                "sortOrder",
                json!({"type": "array", "items": {"type": "string", "enum": ["ASC", "DESC"]}}),
                "ASC or DESC per sortBy column.",
            ),
            query_param(
                "consistentRead",
                json!({"type": "boolean"}),
                "true: Stripe's list endpoints only, never its Search API, whose index lags writes (docs/filter-clause.md).",
            ),
        ]);
        collection.insert(
            "get".into(),
            operation(
                &format!("list{e}"),
                &format!("List {e} entities."),
                params,
                None,
                object(json!({"entities": {"type": "array", "items": entity_ref}, "nextPageToken": string(), "metadata": {"type": "object"}})),
            ),
        );
    }
    if o.create {
        collection.insert(
            "post".into(),
            operation(
                &format!("create{e}"),
                &format!("Create a {e}."),
                vec![],
                Some(create_body),
                entity_ref.clone(),
            ),
        );
    }
    if !collection.is_empty() {
        paths.insert(base.clone(), Value::Object(collection));
    }
    let id_text = id_description(entity);
    let id = || vec![path_param("id", &id_text, None)];
    let mut one = Map::new();
    if o.get {
        one.insert(
            "get".into(),
            operation(
                &format!("get{e}"),
                &format!("Get a {e}."),
                id(),
                None,
                entity_ref.clone(),
            ),
        );
    }
    if o.update {
        one.insert(
            "patch".into(),
            operation(
                &format!("patch{e}"),
                &format!("Update a {e}."),
                id(),
                Some(write_body.clone()),
                entity_ref.clone(),
            ),
        );
    }
    if o.delete {
        one.insert(
            "delete".into(),
            operation(
                &format!("delete{e}"),
                &format!("Delete a {e}."),
                id(),
                None,
                json!({"type": "object"}),
            ),
        );
    }
    if !one.is_empty() {
        paths.insert(format!("{base}/{{id}}"), Value::Object(one));
    }
    let conditions =
        || vec![json!({"name": "conditions", "in": "query", "required": true, "schema": string()})];
    if o.update {
        paths.insert(
            format!("{base}:updateEntitiesWithConditions"),
            json!({"post": operation(
                &format!("updateEntitiesWithConditions{e}"),
                &format!("Update every {e} matching the conditions."),
                conditions(),
                Some(write_body),
                object(json!({"response": {"type": "object"}, "metadata": {"type": "object"}})),
            )}),
        );
    }
    if o.delete {
        paths.insert(
            format!("{base}:deleteEntitiesWithConditions"),
            json!({"post": operation(
                &format!("deleteEntitiesWithConditions{e}"),
                &format!("Delete every {e} matching the conditions."),
                conditions(),
                None,
                json!({"type": "object"}),
            )}),
        );
    }
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    schemas.insert("Status".into(), object(json!({
        "error": object(json!({
            "code": {"type": "integer"},
            "status": string(),
            "message": string(),
            "details": {"type": "array", "items": {"type": "object", "properties": {"@type": string()}, "required": ["@type"]}},
        })),
    })));
    let any_object = json!({"type": "object"});
    let entity_names: Vec<&str> = ENTITIES.iter().map(|e| e.name).collect();
    let action_names: Vec<&str> = ACTIONS.iter().map(|a| a.name).collect();
    let tool_names: Vec<&str> = tools::all().iter().map(|t| t.name.as_str()).collect();
    let c = CONNECTION;

    let list_types = catalog_list(
        "listEntityTypes",
        "List the entity types.",
        "ENTITY_TYPE",
        ["types", "unsupportedTypeNames"],
    );
    paths.insert(format!("{c}/entityTypes"), json!({"get": list_types}));
    let entity_type = path_param("type", "The entity type.", Some(entity_names));
    let context = query_param("contextMetadata", string(), "Accepted and ignored.");
    let get_type = catalog_get(
        "getEntityType",
        "Get an entity type.",
        "ENTITY_TYPE",
        entity_type,
        Some(context),
    );
    paths.insert(
        format!("{c}/entityTypes/{{type}}"),
        json!({"get": get_type}),
    );
    for entity in ENTITIES {
        entity_paths(entity, &mut paths, &mut schemas);
    }

    let list_actions = catalog_list(
        "listActions",
        "List the actions.",
        "ACTION",
        ["actions", "unsupportedActionNames"],
    );
    paths.insert(format!("{c}/actions"), json!({"get": list_actions}));
    let action = path_param("action", "The action.", Some(action_names));
    let get_action = catalog_get("getAction", "Get an action.", "ACTION", action, None);
    paths.insert(
        format!("{c}/actions/{{action}}"),
        json!({"get": get_action}),
    );
    for action in ACTIONS {
        let mut input = action_input_schema(action);
        input["type"] = "object".into();
        input["additionalProperties"] = false.into();
        let mut result = action_result_schema(action);
        result["type"] = "object".into();
        paths.insert(format!("{c}/actions/{}:execute", action.name), json!({"post": operation(
            &format!("execute{}", action.name), action.description, vec![],
            Some(object(json!({"parameters": input, "executionConfig": object(json!({"headers": string()}))}))),
            object(json!({"results": {"type": "array", "items": result}, "metadata": {"type": "object"}})),
        )}));
    }

    let tools_list =
        object(json!({"tools": {"type": "array", "items": any_object}, "nextPageToken": string()}));
    let mut list_tools = page_params();
    list_tools.push(query_param(
        "toolNames",
        json!({"type": "array", "items": {"type": "string", "enum": tool_names.clone()}}),
        "Only these tools.",
    ));
    paths.insert(format!("{c}/tools"), json!({
        "get": operation("listTools", "List the tools.", list_tools, None, tools_list.clone()),
        "post": operation("listToolsPost", "List the tools (ListToolsPostRequest).", vec![], Some(object(json!({
            "pageSize": {"type": "integer", "minimum": 0, "maximum": 200}, "pageToken": string(),
            "toolNames": {"type": "array", "items": {"type": "string", "enum": tool_names.clone()}},
        }))), tools_list),
    }));
    paths.insert(format!("{c}/tools/{{tool}}:execute"), json!({"post": operation("executeTool", "Run a tool.",
        vec![path_param("tool", "The tool.", Some(tool_names))],
        Some(object(json!({"parameters": any_object, "executionConfig": object(json!({"headers": string()}))}))),
        object(json!({"result": any_object})))}));

    paths.insert(format!("{c}:checkStatus"), json!({"get": operation("checkStatus", "Whether the connection reaches Stripe with its key.", vec![], None,
        object(json!({"state": {"type": "string", "enum": ["STATE_UNSPECIFIED", "ACTIVE", "ERROR", "AUTH_ERROR"]}, "description": string(), "metadata": any_object})))}));
    paths.insert(format!("{c}:checkReadiness"), json!({"get": operation("checkReadiness", "Whether the node serves.", vec![], None, object(json!({"status": string()})))}));
    paths.insert(format!("{c}:executeSqlQuery"), json!({"post": operation("executeSqlQuery", "One SELECT over one entity type.", vec![],
        Some(object(json!({"query": object(json!({"query": string(), "maxRows": string(), "timeout": string(),
            "queryParameters": {"type": "array", "items": object(json!({"dataType": string(), "value": {}}))}}))}))),
        object(json!({"results": {"type": "array", "items": any_object}})))}));
    paths.insert(format!("{c}:executeHttpRequest"), json!({"post": operation("executeHttpRequest", "One raw request to Stripe's API through the node.", vec![],
        Some(object(json!({"httpMethod": {"type": "string", "enum": ["HTTP_METHOD_GET", "HTTP_METHOD_POST", "HTTP_METHOD_DELETE"]}, "url": string(), "rawBody": string(),
            "headers": {"type": "array", "items": object(json!({"key": string(), "value": string()}))}}))),
        object(json!({"statusCode": {"type": "integer"}, "reason": string(), "body": string(),
            "headers": {"type": "array", "items": object(json!({"key": string(), "value": string()}))}})))}));
    paths.insert(format!("{c}:listCustomToolNames"), json!({"get": operation("listCustomToolNames", "The tool names with their entity and operation.", vec![], None,
        object(json!({"toolNames": {"type": "array", "items": any_object}})))}));
    paths.insert(format!("{c}:generateConnectionToolspecOverride"), json!({"post": operation("generateConnectionToolspecOverride", "The tool definitions of the named tools.", vec![],
        Some(object(json!({"toolNames": {"type": "array", "items": object(json!({"name": string()}))}}))),
        object(json!({"toolSpec": object(json!({"toolSpecVersion": string(), "toolDefinitions": {"type": "array", "items": any_object}}))})))}));
    paths.insert(format!("{c}:exchangeAuthCode"), json!({"post": unimplemented_operation("exchangeAuthCode", "Not served: no OAuth flow.", true)}));
    paths.insert(format!("{c}:refreshAccessToken"), json!({"post": unimplemented_operation("refreshAccessToken", "Not served: no OAuth flow.", true)}));
    paths.insert(format!("{c}/resources"), json!({"get": unimplemented_operation("listResources", "Not served: no resources.", false)}));
    let mut resource = unimplemented_operation("getResource", "Not served: no resources.", false);
    resource["parameters"]
        .as_array_mut()
        .into_iter()
        .for_each(|p| p.push(path_param("resource", "A resource.", None)));
    let mut resource_post =
        unimplemented_operation("getResourcePost", "Not served: no resources.", true);
    resource_post["parameters"]
        .as_array_mut()
        .into_iter()
        .for_each(|p| p.push(path_param("resource", "A resource.", None)));
    paths.insert(
        format!("{c}/resources/{{resource}}"),
        json!({"get": resource, "post": resource_post}),
    );

    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Stripe connector node",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Google's Integration Connectors v2 runtime API (connectors.v2.json) served by a Stripe connector node. Every path also answers without the /projects/{project}/locations/{location}/connections/{connection} prefix (/v2/entityTypes/..., /v2:checkStatus). Google's system parameters (alt, prettyPrint, fields, $.xgafv, key, quotaUser) are accepted on every method.",
        },
        "security": [{"clientToken": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"clientToken": {"type": "http", "scheme": "bearer", "description": "The connection's client token."}},
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `UPDATE_OPENAPI=1 cargo test -p stripe-node openapi` rewrites the committed document.
    #[test]
    fn the_committed_document_is_the_generated_one() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json");
        let generated = serde_json::to_string_pretty(&document()).unwrap() + "\n";
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/openapi.json differs from the catalog's document; regenerate it with \
             UPDATE_OPENAPI=1 cargo test -p stripe-node openapi"
        );
    }

    #[test]
    fn every_entity_type_has_its_typed_schemas() {
        let doc = document();
        for e in ENTITIES {
            let fields = &doc["components"]["schemas"][format!("{}Fields", e.name)];
            assert_eq!(
                fields["properties"].as_object().unwrap().len(),
                e.fields.len(),
                "{}",
                e.name
            );
        }
        let customer = &doc["components"]["schemas"]["CustomerFields"]["properties"];
        assert_eq!(customer["Email"]["type"], json!(["string", "null"]));
        assert_eq!(customer["Balance"]["type"], json!(["integer", "null"]));
    }
}
