//! The one table of who may call what: the permission each method of the API needs
//! ([`METHODS`]), checked by [`authorize`] on every route before its handler runs. Two methods
//! name what they touch in their body, not their path; their handlers check once it is parsed
//! ([`Need::SqlQuery`], [`Need::HttpRequest`]).

use axum::RequestPartsExt;
use axum::extract::{RawPathParams, Request, State};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;

use super::metadata::{find_action, find_entity};
use super::tools;
use crate::access::{Caller, Permission};
use crate::audit::{Origin, Write};
use crate::catalog::Operation;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// What a method needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// [`Permission::Metadata`], which every client holds.
    Metadata,
    /// These operations on the entity type of the path. With-conditions calls read the objects
    /// they change (and answer their ids), so they need LIST too.
    Entity(&'static [Operation]),
    /// The action of the path (`{action}:execute`).
    Action,
    /// The entity operation or action the tool of the path runs.
    Tool,
    /// LIST of the entity type the SQL query reads.
    SqlQuery,
    /// `httpRequests` of the raw request's HTTP method.
    HttpRequest,
}

/// Every method of connectors.v2.json the node serves (its id there, without
/// `projects.locations.connections.`), and the node's own OpenAPI document, with its need.
pub const METHODS: &[(&str, Need)] = &[
    ("checkReadiness", Need::Metadata),
    ("checkStatus", Need::Metadata),
    ("listCustomToolNames", Need::Metadata),
    ("generateConnectionToolspecOverride", Need::Metadata),
    // Answered 501: an API-key connection has no OAuth flow.
    ("exchangeAuthCode", Need::Metadata),
    ("refreshAccessToken", Need::Metadata),
    ("executeSqlQuery", Need::SqlQuery),
    ("executeHttpRequest", Need::HttpRequest),
    ("entityTypes.list", Need::Metadata),
    ("entityTypes.get", Need::Metadata),
    (
        "entityTypes.entities.list",
        Need::Entity(&[Operation::List]),
    ),
    ("entityTypes.entities.get", Need::Entity(&[Operation::Get])),
    (
        "entityTypes.entities.create",
        Need::Entity(&[Operation::Create]),
    ),
    (
        "entityTypes.entities.patch",
        Need::Entity(&[Operation::Update]),
    ),
    (
        "entityTypes.entities.delete",
        Need::Entity(&[Operation::Delete]),
    ),
    (
        "entityTypes.entities.updateEntitiesWithConditions",
        Need::Entity(&[Operation::List, Operation::Update]),
    ),
    (
        "entityTypes.entities.deleteEntitiesWithConditions",
        Need::Entity(&[Operation::List, Operation::Delete]),
    ),
    ("actions.list", Need::Metadata),
    ("actions.get", Need::Metadata),
    ("actions.execute", Need::Action),
    ("tools.list", Need::Metadata),
    // POST .../tools: ListToolsPost.
    ("tools", Need::Metadata),
    ("tools.execute", Need::Tool),
    ("resources.list", Need::Metadata),
    ("resources.get", Need::Metadata),
    ("resources.getResourcePost", Need::Metadata),
    ("openapi", Need::Metadata),
];

/// The need of a method of [`METHODS`].
pub fn need(method: &str) -> Option<Need> {
    METHODS
        .iter()
        .find(|(id, _)| *id == method)
        .map(|(_, need)| *need)
}

/// `router` serving `method`, checked against the caller's grants first. Panics for a method
/// missing from [`METHODS`], so a route cannot be added without its permission (any test that
/// builds the app fails).
pub fn guarded(method: &'static str, router: MethodRouter<AppState>) -> MethodRouter<AppState> {
    assert!(
        need(method).is_some(),
        "{method} is not in api::permissions::METHODS"
    );
    router.layer(from_fn_with_state(Some(method), authorize))
}

/// The `{connection}:{verb}` routes: the method is the verb.
pub fn guarded_by_verb(router: MethodRouter<AppState>) -> MethodRouter<AppState> {
    router.layer(from_fn_with_state(None, authorize))
}

/// Refuses the call when the caller lacks the permission of its method; a refused write gets its
/// audit line.
async fn authorize(
    State(method): State<Option<&'static str>>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let Some(caller) = parts.extensions.get::<Caller>().cloned() else {
        return ApiError::internal("the request reached a method without an identified caller")
            .into_response();
    };
    let params = parts.extract::<RawPathParams>().await.ok();
    let param = |name: &str| -> &str {
        params
            .as_ref()
            .and_then(|p| p.iter().find(|(k, _)| *k == name).map(|(_, v)| v))
            .unwrap_or_default()
    };
    let method = method.or_else(|| {
        let verb = match params.as_ref().map(|_| param("connection")) {
            Some(segment) if segment.contains(':') => segment.split_once(':').map(|(_, v)| v),
            _ => parts.uri.path().strip_prefix("/v2:"),
        }?;
        METHODS
            .iter()
            .find(|(id, _)| *id == verb)
            .map(|(id, _)| *id)
    });
    // An unknown verb is the handler's 404.
    let Some(method) = method else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    let permissions = match permissions(method, &param) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    for permission in permissions {
        if let Err(denied) = caller.require(permission) {
            if is_write(permission) {
                let key = parts
                    .headers
                    .get("idempotency-key")
                    .and_then(|v| v.to_str().ok());
                refused_write(permission, param("id"), key)
                    .record(Origin::new(&caller, audit_name(method)), Err(&denied));
            }
            return denied.into_response();
        }
    }
    next.run(Request::from_parts(parts, body)).await
}

/// The permissions `method` needs, from its path parameters; none when its body names them.
fn permissions<'p>(method: &str, param: &impl Fn(&str) -> &'p str) -> ApiResult<Vec<Permission>> {
    let name_of = |p: &str| param(p).split(':').next().unwrap_or_default().to_string();
    Ok(match need(method) {
        Some(Need::Metadata) => vec![Permission::Metadata],
        Some(Need::Entity(ops)) => {
            let entity = find_entity(param("type"))?;
            ops.iter()
                .map(|op| Permission::Entity(entity, *op))
                .collect()
        }
        Some(Need::Action) => vec![Permission::Action(find_action(&name_of("action"))?)],
        Some(Need::Tool) => vec![tools::permission(&name_of("tool"))?],
        Some(Need::SqlQuery | Need::HttpRequest) | None => Vec::new(),
    })
}

fn is_write(permission: Permission) -> bool {
    match permission {
        Permission::Entity(_, op) => matches!(
            op,
            Operation::Create | Operation::Update | Operation::Delete
        ),
        Permission::Action(_) => true,
        Permission::HttpRequest(m) => m != crate::access::HttpMethod::Get,
        Permission::Metadata => false,
    }
}

fn refused_write<'a>(permission: Permission, id: &'a str, key: Option<&'a str>) -> Write<'a> {
    let mut write = Write {
        idempotency_key: key,
        object_id: Some(id).filter(|id| !id.is_empty()),
        ..Write::default()
    };
    match permission {
        Permission::Entity(entity, _) => write.entity = Some(entity.name),
        Permission::Action(action) => write.action = Some(action.name),
        _ => {}
    }
    write
}

/// The method's name in audit lines (`entities.create`, `actions.execute`, ...).
pub fn audit_name(method: &'static str) -> &'static str {
    method.strip_prefix("entityTypes.").unwrap_or(method)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_is_in_the_table_once() {
        let mut ids: Vec<&str> = METHODS.iter().map(|(id, _)| *id).collect();
        let count = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), count, "a method is listed twice");
        // The verbs of the connection are the methods of the table of that name.
        for verb in super::super::GET_VERBS
            .iter()
            .chain(super::super::POST_VERBS)
        {
            assert!(need(verb).is_some(), "{verb}");
        }
    }

    #[test]
    fn writes_need_their_operation_and_reads_of_many_need_list() {
        assert_eq!(
            need("entityTypes.entities.create"),
            Some(Need::Entity(&[Operation::Create]))
        );
        assert_eq!(
            need("entityTypes.entities.deleteEntitiesWithConditions"),
            Some(Need::Entity(&[Operation::List, Operation::Delete]))
        );
        assert_eq!(need("executeHttpRequest"), Some(Need::HttpRequest));
        assert_eq!(need("executeSqlQuery"), Some(Need::SqlQuery));
        assert_eq!(need("entityTypes.get"), Some(Need::Metadata));
        assert_eq!(audit_name("entityTypes.entities.patch"), "entities.patch");
    }
}
