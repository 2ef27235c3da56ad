//! The catalog checked against Stripe's OpenAPI spec at the pinned API version
//! (tests/data/stripe/openapi-spec3-2023-08-16.json): every operation and action has its
//! endpoint, every field path is in the resource's schema, every pushed-down parameter is a
//! parameter of the list endpoint, and every writable field is a parameter of a write. An
//! operation Stripe has (a child's at its nested path) is offered or listed in `LEFT_OUT` with
//! the reason.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use serde_json::Value;

use super::{ACTIONS, Action, ENTITIES, Entity, Field, Operations, ParamTarget, Pushdown};

/// The API version the node pins by default (`--stripe-api-version`).
const PINNED: &str = "2023-08-16";

static SPEC: LazyLock<Value> = LazyLock::new(|| {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/stripe/openapi-spec3-2023-08-16.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("the spec is JSON")
});

/// `/v1/invoices/{invoice}/lines` and `/v1/invoices/{x}/lines` are the same endpoint.
fn shape(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "{}" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// The operation of the spec at a path shaped like `path` (placeholders may be named apart).
fn operation(path: &str, method: &str) -> Option<&'static Value> {
    let want = shape(path);
    SPEC["paths"]
        .as_object()?
        .iter()
        .find(|(p, _)| shape(p) == want)
        .and_then(|(_, ops)| ops.get(method))
}

fn resolve(schema: &'static Value) -> &'static Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap_or_default();
            resolve(&SPEC["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// The alternatives a schema stands for (`anyOf` of expandable fields and unions).
fn alternatives(schema: &'static Value) -> Vec<&'static Value> {
    let schema = resolve(schema);
    match schema["anyOf"].as_array().or(schema["oneOf"].as_array()) {
        Some(options) => options.iter().flat_map(alternatives).collect(),
        None => vec![schema],
    }
}

/// Whether a dotted path exists in a schema; an object without declared properties (Stripe's
/// free-form `data.object`, metadata) holds any key.
fn has_path(schema: &'static Value, path: &[&str]) -> bool {
    let Some((head, rest)) = path.split_first() else {
        return true;
    };
    alternatives(schema)
        .into_iter()
        .any(|s| match s["properties"].as_object() {
            Some(props) => props.get(*head).is_some_and(|p| has_path(p, rest)),
            None => s["type"] == "object",
        })
}

fn response_schema(op: &'static Value) -> &'static Value {
    resolve(&op["responses"]["200"]["content"]["application/json"]["schema"])
}

/// The schema of the objects an entity's rows come from.
fn resource_schema(entity: &Entity) -> &'static Value {
    if entity.operations.list {
        let list = operation(entity.path, "get").expect("checked by the caller");
        let body = response_schema(list);
        if entity.singleton {
            body
        } else {
            &body["properties"]["data"]["items"]
        }
    } else {
        response_schema(operation(&format!("{}/{{id}}", entity.path), "get").expect("checked"))
    }
}

fn query_params(op: &'static Value) -> Vec<&'static Value> {
    op["parameters"]
        .as_array()
        .map(|ps| ps.iter().filter(|p| p["in"] == "query").collect())
        .unwrap_or_default()
}

fn body_properties(op: &'static Value) -> BTreeSet<&'static str> {
    op["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]["properties"]
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

fn body_required(op: &'static Value) -> BTreeSet<&'static str> {
    op["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Whether `param` (`email`, `recurring[interval]`, `created` as a range, `ids` as an array)
/// is a query parameter of the list endpoint.
fn list_param_fits(list: &'static Value, param: &str, pushdown: &Pushdown) -> bool {
    let (name, sub) = match param.split_once('[') {
        Some((name, rest)) => (name, rest.strip_suffix(']')),
        None => (param, None),
    };
    let Some(schema) = query_params(list)
        .into_iter()
        .find(|p| p["name"] == name)
        .map(|p| &p["schema"])
    else {
        return false;
    };
    let options = alternatives(schema);
    match (pushdown, sub) {
        (Pushdown::Equals(_), Some(sub)) => options.iter().any(|s| !s["properties"][sub].is_null()),
        (Pushdown::Equals(_), None) => options.iter().any(|s| s["type"] != "object"),
        (Pushdown::Range(_), None) => options.iter().any(|s| {
            ["gt", "gte", "lt", "lte"]
                .iter()
                .all(|k| !s["properties"][k].is_null())
        }),
        (Pushdown::AnyOf(..), None) => options.iter().any(|s| s["type"] == "array"),
        _ => false,
    }
}

/// Stripe's form name of a field without its brackets: `address[city]` -> `address`.
fn top_form_key(field: &Field) -> &'static str {
    let path = field.path.strip_suffix(".id").unwrap_or(field.path);
    path.split('.').next().unwrap_or(path)
}

/// Operations Stripe has that the catalog does not offer, each with the reason.
const LEFT_OUT: &[(&str, &str, &str)] = &[
    (
        "Subscription",
        "Delete",
        "Stripe's DELETE cancels it, which the action CancelSubscription says plainly",
    ),
    (
        "File",
        "Create",
        "uploads go to files.stripe.com as multipart/form-data, which the node does not send",
    ),
];

fn left_out(entity: &str, operation: &str) -> Option<&'static str> {
    LEFT_OUT
        .iter()
        .find(|(e, o, _)| *e == entity && *o == operation)
        .map(|(_, _, reason)| *reason)
}

fn check_entity(entity: &Entity, problems: &mut Vec<String>) {
    let name = entity.name;
    let object = format!("{}/{{id}}", entity.path);
    let o = entity.operations;
    let ops = [
        (o.list, entity.path, "get", "List"),
        (o.get, object.as_str(), "get", "Get"),
        (o.create, entity.path, "post", "Create"),
        (o.update, object.as_str(), "post", "Update"),
        (o.delete, object.as_str(), "delete", "Delete"),
    ];
    for (declared, path, method, what) in ops {
        let exists = operation(path, method).is_some();
        if declared && !exists {
            problems.push(format!(
                "{name}: {what} has no endpoint {} {path}",
                method.to_uppercase()
            ));
        }
        if !declared && exists && left_out(name, what).is_none() {
            problems.push(format!(
                "{name}: Stripe has {} {path}, but the catalog leaves {what} out; offer it or add it to LEFT_OUT with a reason",
                method.to_uppercase()
            ));
        }
    }
    if ops
        .iter()
        .any(|(declared, path, method, _)| *declared && operation(path, method).is_none())
    {
        return;
    }
    let has_search = operation(&format!("{}/search", entity.path), "get").is_some();
    if entity.searchable != has_search {
        problems.push(format!(
            "{name}: searchable is {}, Stripe's /search exists: {has_search}",
            entity.searchable
        ));
    }
    let schema = resource_schema(entity);
    if schema.is_null() {
        problems.push(format!("{name}: no resource schema"));
        return;
    }
    let list = o.list.then(|| operation(entity.path, "get")).flatten();
    let path_params: Vec<&str> = entity.path_params().collect();
    let writes: BTreeSet<&str> = [(o.create, entity.path), (o.update, object.as_str())]
        .into_iter()
        .filter(|(declared, _)| *declared)
        .filter_map(|(_, path)| operation(path, "post"))
        .flat_map(body_properties)
        .collect();
    let update_takes: BTreeSet<&str> = o
        .update
        .then(|| operation(&object, "post"))
        .flatten()
        .map(body_properties)
        .unwrap_or_default();
    for field in entity.fields {
        let at = format!("{name}.{} ({})", field.name, field.path);
        let updated = o.update && !field.read_only && !field.create_only;
        if updated && !update_takes.contains(top_form_key(field)) {
            problems.push(format!(
                "{at}: writable on Update, but Stripe's update of {name} does not take {}; mark it on_create()",
                top_form_key(field)
            ));
        }
        let in_schema = has_path(schema, &field.path.split('.').collect::<Vec<_>>());
        let echoed = field.request_only || field.write_only;
        if echoed == in_schema {
            problems.push(if in_schema {
                format!("{at}: Stripe returns it, so it is neither request- nor write-only")
            } else {
                format!("{at}: not in the resource schema")
            });
        }
        if !field.read_only && !writes.contains(top_form_key(field)) {
            problems.push(format!(
                "{at}: writable, but no write of {name} takes {}",
                top_form_key(field)
            ));
        }
        let param = match field.pushdown {
            Pushdown::None => continue,
            Pushdown::Equals(p) | Pushdown::Range(p) | Pushdown::AnyOf(p, _) => p,
        };
        if path_params.contains(&param) {
            continue;
        }
        match list {
            Some(list) if list_param_fits(list, param, &field.pushdown) => {}
            _ => problems.push(format!(
                "{at}: {param} ({:?}) is no parameter of the list endpoint",
                field.pushdown
            )),
        }
    }
    if let Some(list) = list {
        let params: Vec<&str> = query_params(list)
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        for p in entity
            .list_requires
            .iter()
            .chain(entity.list_defaults.iter().map(|(k, _)| k))
        {
            if !params.contains(p) {
                problems.push(format!("{name}: list parameter {p} does not exist"));
            }
        }
        for p in query_params(list)
            .into_iter()
            .filter(|p| p["required"] == true)
        {
            let p = p["name"].as_str().unwrap_or_default();
            if !entity.list_requires.contains(&p) {
                problems.push(format!(
                    "{name}: Stripe requires the list parameter {p}; add it to list_requires"
                ));
            }
        }
    }
}

fn check_action(action: &Action, problems: &mut Vec<String>) {
    let name = action.name;
    let path = action.path.replace("{}", "{id}");
    let method = action.method.to_ascii_lowercase();
    let Some(op) = operation(&path, &method) else {
        problems.push(format!("{name}: no endpoint {} {path}", action.method));
        return;
    };
    let mut accepted = body_properties(op);
    accepted.extend(query_params(op).iter().filter_map(|p| p["name"].as_str()));
    let mut sent = BTreeSet::new();
    for param in action.params {
        if let ParamTarget::Form(key) = param.target {
            let top = key.split('[').next().unwrap_or(key);
            if !accepted.contains(top) {
                problems.push(format!(
                    "{name}.{}: {top} is no parameter of {} {path}",
                    param.name, action.method
                ));
            }
            if param.required {
                sent.insert(top);
            }
        }
    }
    let required = body_required(op).into_iter().chain(
        query_params(op)
            .into_iter()
            .filter(|p| p["required"] == true)
            .filter_map(|p| p["name"].as_str()),
    );
    for p in required {
        if !sent.contains(p) {
            problems.push(format!(
                "{name}: Stripe requires {p}; declare it as a required parameter"
            ));
        }
    }
}

/// What the check finds wrong with one entity.
fn problems_of(entity: &Entity) -> Vec<String> {
    let mut problems = Vec::new();
    check_entity(entity, &mut problems);
    problems
}

/// The entity with some of its operations changed.
fn with_operations(entity: &Entity, change: impl FnOnce(&mut Operations)) -> Entity {
    let mut changed = *entity;
    change(&mut changed.operations);
    changed
}

#[test]
fn the_spec_is_the_pinned_api_version() {
    assert_eq!(SPEC["info"]["version"], PINNED);
}

#[test]
fn every_entity_and_action_exists_at_the_pinned_api_version() {
    let mut problems = Vec::new();
    for entity in ENTITIES {
        check_entity(entity, &mut problems);
    }
    for action in ACTIONS {
        check_action(action, &mut problems);
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn the_check_catches_what_stripe_lacks() {
    const BAD: &[Field] = &[
        super::entities::f("Colour", "colour", super::DataType::String, "").ro(),
        super::entities::f("Email", "email", super::DataType::String, "")
            .ro()
            .eq("mail"),
        super::entities::f("Name", "name", super::DataType::String, "")
            .ro()
            .range("name"),
    ];
    let bad = Entity {
        name: "Customer",
        path: "/v1/customers",
        fields: BAD,
        operations: Operations {
            delete: true,
            ..ENTITIES[0].operations
        },
        ..ENTITIES[0]
    };
    let text = problems_of(&bad).join("\n");
    assert!(
        text.contains("Customer.Colour (colour): not in the resource schema"),
        "{text}"
    );
    assert!(text.contains("mail"), "{text}");
    assert!(text.contains("Customer.Name (name): name"), "{text}");
    let problems = problems_of(&Entity {
        name: "Nothing",
        path: "/v1/nothing",
        ..ENTITIES[0]
    });
    assert!(
        problems[0].contains("List has no endpoint GET /v1/nothing"),
        "{problems:?}"
    );
}

#[test]
fn the_check_catches_a_field_stripe_s_update_does_not_take() {
    const FIELDS: &[Field] = &[
        super::entities::f("Id", "id", super::DataType::String, "").ro(),
        super::entities::f("UnitAmount", "unit_amount", super::DataType::Integer, ""),
    ];
    let price = super::entity("Price").unwrap();
    let loose = Entity {
        fields: FIELDS,
        ..*price
    };
    let problems = problems_of(&loose);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("Price.UnitAmount (unit_amount): writable on Update")),
        "{problems:?}"
    );
}

#[test]
fn the_check_catches_child_operations_offered_or_left_out_wrongly() {
    let tax_id = super::entity("TaxId").unwrap();
    // Stripe cannot update a tax id: offering it is caught at the nested path.
    let problems = problems_of(&with_operations(tax_id, |o| o.update = true));
    assert!(
        problems.iter().any(
            |p| p == "TaxId: Update has no endpoint POST /v1/customers/{customer}/tax_ids/{id}"
        ),
        "{problems:?}"
    );
    // Stripe can delete a tax id: leaving it out without a reason is caught.
    let problems = problems_of(&with_operations(tax_id, |o| o.delete = false));
    assert!(
        problems.iter().any(|p| p.starts_with(
            "TaxId: Stripe has DELETE /v1/customers/{customer}/tax_ids/{id}, but the catalog leaves Delete out"
        )),
        "{problems:?}"
    );
    // A reason in LEFT_OUT answers for it.
    assert!(left_out("File", "Create").is_some());
}
