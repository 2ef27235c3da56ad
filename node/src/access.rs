//! Who may call what. Every caller is a named client: a token (a mounted Secret, re-read when it
//! is rotated) and the permissions its `allow` grants. Each method of the API needs one
//! [`Permission`] (the table is `api::permissions`); a call outside the caller's grants is 403
//! PERMISSION_DENIED naming the client and the permission it lacks.
//!
//! Without `--clients`, the one client is `default`, holding `--client-token-file`'s token and
//! every permission; without any token the API is open (local runs only) and its caller is
//! `anonymous`, with every permission too.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::catalog::{self, Action, Entity, Operation};
use crate::error::{ApiError, ApiResult};
use crate::secret::SecretFile;

/// Grants every entity type, operation, action or HTTP method of its list.
pub const WILDCARD: &str = "*";
/// The client of `--client-token-file`, allowed everything.
pub const DEFAULT_CLIENT: &str = "default";
/// The caller of an API without tokens.
pub const ANONYMOUS: &str = "anonymous";
/// Most clients one connection declares (each costs a file check per request).
pub const MAX_CLIENTS: usize = 20;
/// Longest client name (it is part of the client's Secret and volume names).
pub const MAX_CLIENT_NAME: usize = 32;

/// The HTTP methods of a raw Stripe request (executeHttpRequest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HttpMethod {
    Get,
    Post,
    Delete,
}

impl HttpMethod {
    pub const ALL: [HttpMethod; 3] = [HttpMethod::Get, HttpMethod::Post, HttpMethod::Delete];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Delete => "DELETE",
        }
    }

    pub fn of(method: &http::Method) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == method.as_str())
    }
}

/// What a call does, in the terms a grant names.
#[derive(Debug, Clone, Copy)]
pub enum Permission {
    /// Reading the catalog (entity types, actions, tools, the OpenAPI document) and the
    /// connection's status. Every client holds it: it shows no Stripe data.
    Metadata,
    /// An operation on an entity type.
    Entity(&'static Entity, Operation),
    /// Running an action.
    Action(&'static Action),
    /// A raw Stripe request with this HTTP method. No entity or action grant implies it: a raw
    /// request reaches every object of the account.
    HttpRequest(HttpMethod),
}

impl fmt::Display for Permission {
    /// As a grant names it: `Customer: LIST`, `actions: FinalizeInvoice`, `httpRequests: POST`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Metadata => f.write_str("metadata"),
            Self::Entity(entity, op) => write!(f, "{}: {}", entity.name, op.enum_name()),
            Self::Action(action) => write!(f, "actions: {}", action.name),
            Self::HttpRequest(method) => write!(f, "httpRequests: {}", method.as_str()),
        }
    }
}

/// A client's `allow`, as the StripeConnection spells it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Allow {
    /// Operations (`LIST`, `GET`, `CREATE`, `UPDATE`, `DELETE`, or `*`) by entity type (or `*`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub entities: BTreeMap<String, Vec<String>>,
    /// Action names, or `*`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<String>,
    /// HTTP methods of raw Stripe requests (`GET`, `POST`, `DELETE`, or `*`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub http_requests: Vec<String>,
}

/// What is wrong with an `allow`: the field (below the client's `allow`) and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowProblem {
    pub field: String,
    pub reason: String,
}

/// The checked form of an [`Allow`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grants {
    /// Granted operations by entity name, [`WILDCARD`] for every entity type.
    entities: BTreeMap<String, Vec<Operation>>,
    /// Granted action names; [`WILDCARD`] for all.
    actions: Vec<String>,
    http_requests: Vec<HttpMethod>,
}

impl Grants {
    /// Every permission.
    pub fn everything() -> Self {
        Self {
            entities: BTreeMap::from([(WILDCARD.to_string(), Operation::ALL.to_vec())]),
            actions: vec![WILDCARD.to_string()],
            http_requests: HttpMethod::ALL.to_vec(),
        }
    }

    /// Checks every name against the catalog; the first unknown one is the problem.
    pub fn from_allow(allow: &Allow) -> Result<Self, AllowProblem> {
        let problem = |field: String, reason: String| AllowProblem { field, reason };
        let mut entities = BTreeMap::new();
        for (name, operations) in &allow.entities {
            let field = format!("entities.{name}");
            if name != WILDCARD && catalog::entity(name).is_none() {
                return Err(problem(
                    field,
                    format!(
                        "is not an entity type; entity types: {}, or {WILDCARD}",
                        entity_names().join(", ")
                    ),
                ));
            }
            let mut granted = Vec::new();
            for operation in operations {
                if operation == WILDCARD {
                    granted.extend(Operation::ALL);
                } else if let Some(op) = catalog::operation(operation) {
                    granted.push(op);
                } else {
                    return Err(problem(
                        field,
                        format!(
                            "{operation:?} is not an operation; operations: {}, or {WILDCARD}",
                            operation_names().join(", ")
                        ),
                    ));
                }
            }
            entities.insert(name.clone(), granted);
        }
        for action in &allow.actions {
            if action != WILDCARD && catalog::action(action).is_none() {
                return Err(problem(
                    "actions".into(),
                    format!(
                        "{action:?} is not an action; actions: {}, or {WILDCARD}",
                        action_names().join(", ")
                    ),
                ));
            }
        }
        let mut http_requests = Vec::new();
        for method in &allow.http_requests {
            match HttpMethod::ALL.into_iter().find(|m| m.as_str() == method) {
                Some(m) => http_requests.push(m),
                None if method == WILDCARD => http_requests.extend(HttpMethod::ALL),
                None => {
                    return Err(problem(
                        "httpRequests".into(),
                        format!("{method:?} is not GET, POST, DELETE or {WILDCARD}"),
                    ));
                }
            }
        }
        Ok(Self {
            entities,
            actions: allow.actions.clone(),
            http_requests,
        })
    }

    pub fn allows(&self, permission: &Permission) -> bool {
        match permission {
            Permission::Metadata => true,
            Permission::Entity(entity, op) => [entity.name, WILDCARD]
                .iter()
                .filter_map(|name| self.entities.get(*name))
                .any(|ops| ops.contains(op)),
            Permission::Action(action) => self
                .actions
                .iter()
                .any(|a| a == WILDCARD || a == action.name),
            Permission::HttpRequest(method) => self.http_requests.contains(method),
        }
    }
}

/// Entity type names of the catalog, in catalog order.
pub fn entity_names() -> Vec<&'static str> {
    catalog::ENTITIES.iter().map(|e| e.name).collect()
}

/// Action names of the catalog, in catalog order.
pub fn action_names() -> Vec<&'static str> {
    catalog::ACTIONS.iter().map(|a| a.name).collect()
}

/// Operation names as grants spell them.
pub fn operation_names() -> Vec<&'static str> {
    Operation::ALL.iter().map(|o| o.enum_name()).collect()
}

/// Whether `name` may name a client: lowercase letters, digits and hyphens, starting with a
/// letter and ending with a letter or digit, at most [`MAX_CLIENT_NAME`] characters (it is
/// written into logs, metric labels and Kubernetes object names).
pub fn valid_client_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_CLIENT_NAME
        && bytes[0].is_ascii_lowercase()
        && bytes[bytes.len() - 1] != b'-'
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

/// One client of `--clients`: `{"name", "tokenFile", "allow"}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientConfig {
    pub name: String,
    pub token_file: PathBuf,
    #[serde(default)]
    pub allow: Allow,
}

/// A client the node knows: its name, its token file and its grants.
pub struct Client {
    name: Arc<str>,
    /// `None` only for the anonymous caller of an API without tokens.
    token: Option<SecretFile>,
    grants: Grants,
}

impl Client {
    fn open(name: &str, token_file: &Path, grants: Grants) -> anyhow::Result<Self> {
        Ok(Self {
            name: name.into(),
            token: Some(SecretFile::open("--clients tokenFile", token_file)?),
            grants,
        })
    }

    /// The SHA-256 of the current token, or `None` without a token.
    fn digest(&self) -> Option<[u8; 32]> {
        let token = self.token.as_ref()?.current();
        Some(Sha256::digest(token.expose().as_bytes()).into())
    }
}

/// The caller of a request, as the auth layer identified it (a request extension).
#[derive(Clone)]
pub struct Caller(Arc<Client>);

impl Caller {
    /// The caller of an API without tokens: every permission.
    pub fn anonymous() -> Self {
        Self(Arc::new(Client {
            name: ANONYMOUS.into(),
            token: None,
            grants: Grants::everything(),
        }))
    }

    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// Ok when the caller holds `permission`; else 403 PERMISSION_DENIED naming both.
    pub fn require(&self, permission: Permission) -> ApiResult<()> {
        if self.0.grants.allows(&permission) {
            return Ok(());
        }
        Err(ApiError::permission_denied(
            self.name(),
            &permission.to_string(),
        ))
    }
}

/// Every client of the node.
pub struct Clients {
    clients: Vec<Arc<Client>>,
}

impl Clients {
    /// The clients of `--client-token-file` (`default`, every permission) and `--clients` (a JSON
    /// list of [`ClientConfig`]); `None` when neither is given (an open API).
    pub fn from_args(
        token_file: Option<&Path>,
        clients: Option<&str>,
    ) -> anyhow::Result<Option<Self>> {
        let mut all = Vec::new();
        if let Some(path) = token_file {
            all.push(Client {
                name: DEFAULT_CLIENT.into(),
                token: Some(SecretFile::open("--client-token-file", path)?),
                grants: Grants::everything(),
            });
        }
        let configs: Vec<ClientConfig> = match clients.map(str::trim).filter(|c| !c.is_empty()) {
            Some(text) => serde_json::from_str(text).map_err(|e| {
                anyhow::anyhow!("--clients is not a JSON list of {{name, tokenFile, allow}}: {e}")
            })?,
            None => Vec::new(),
        };
        for config in &configs {
            let name = &config.name;
            if !valid_client_name(name) {
                anyhow::bail!(
                    "--clients: client name {name:?} must be lowercase letters, digits and hyphens, start with a letter, end with a letter or digit, at most {MAX_CLIENT_NAME} characters"
                );
            }
            if all.iter().any(|c: &Client| &*c.name == name) {
                anyhow::bail!("--clients: client {name} is named twice");
            }
            let grants = Grants::from_allow(&config.allow).map_err(|p| {
                anyhow::anyhow!("--clients: client {name}: allow.{}: {}", p.field, p.reason)
            })?;
            all.push(Client::open(name, &config.token_file, grants)?);
        }
        if all.is_empty() {
            return Ok(None);
        }
        if all.len() > MAX_CLIENTS {
            anyhow::bail!(
                "--clients: at most {MAX_CLIENTS} clients, got {}",
                all.len()
            );
        }
        let digests: Vec<_> = all.iter().map(Client::digest).collect();
        for (i, digest) in digests.iter().enumerate() {
            if let Some(j) = digests[..i].iter().position(|d| d == digest) {
                anyhow::bail!(
                    "clients {} and {} have the same token; each client needs its own",
                    all[j].name,
                    all[i].name
                );
            }
        }
        Ok(Some(Self {
            clients: all.into_iter().map(Arc::new).collect(),
        }))
    }

    /// The client whose current token is `presented`. Every client's token is compared, in
    /// constant time, so the answer's timing tells neither the token nor which client matched.
    /// SHA-256 digests have one size, which hides the tokens' lengths too.
    pub fn identify(&self, presented: &str) -> Option<Caller> {
        let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found = None;
        for client in &self.clients {
            let matches: bool = client
                .digest()
                .is_some_and(|d| bool::from(d.ct_eq(&presented)));
            if matches && found.is_none() {
                found = Some(Caller(client.clone()));
            }
        }
        found
    }

    pub fn names(&self) -> Vec<&str> {
        self.clients.iter().map(|c| &*c.name).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::MountedFile;

    fn allow(value: serde_json::Value) -> Allow {
        serde_json::from_value(value).unwrap()
    }

    fn entity(name: &str) -> &'static Entity {
        catalog::entity(name).unwrap()
    }

    #[test]
    fn grants_allow_what_they_name_and_nothing_else() {
        let grants = Grants::from_allow(&allow(serde_json::json!({
            "entities": {"Customer": ["LIST", "GET"], "*": ["GET"]},
            "actions": ["FinalizeInvoice"],
        })))
        .unwrap();
        let customer = entity("Customer");
        assert!(grants.allows(&Permission::Entity(customer, Operation::List)));
        assert!(grants.allows(&Permission::Entity(entity("Invoice"), Operation::Get)));
        assert!(!grants.allows(&Permission::Entity(customer, Operation::Create)));
        assert!(!grants.allows(&Permission::Entity(entity("Invoice"), Operation::List)));
        let finalize = catalog::action("FinalizeInvoice").unwrap();
        assert!(grants.allows(&Permission::Action(finalize)));
        let void = catalog::action("VoidInvoice").unwrap();
        assert!(!grants.allows(&Permission::Action(void)));
        // Entity and action grants never imply raw requests; metadata is everyone's.
        assert!(!grants.allows(&Permission::HttpRequest(HttpMethod::Get)));
        assert!(grants.allows(&Permission::Metadata));
    }

    #[test]
    fn wildcards_grant_every_name_of_their_list() {
        let grants = Grants::from_allow(&allow(serde_json::json!({
            "entities": {"*": ["*"]}, "actions": ["*"], "httpRequests": ["GET"],
        })))
        .unwrap();
        for e in catalog::ENTITIES {
            for op in Operation::ALL {
                assert!(grants.allows(&Permission::Entity(e, op)));
            }
        }
        for a in catalog::ACTIONS {
            assert!(grants.allows(&Permission::Action(a)));
        }
        assert!(grants.allows(&Permission::HttpRequest(HttpMethod::Get)));
        assert!(!grants.allows(&Permission::HttpRequest(HttpMethod::Post)));
        assert_eq!(
            Grants::from_allow(&allow(serde_json::json!({"httpRequests": ["*"]})))
                .unwrap()
                .http_requests,
            HttpMethod::ALL
        );
    }

    #[test]
    fn unknown_names_are_refused_naming_the_field() {
        let refused = |value| Grants::from_allow(&allow(value)).unwrap_err();
        let p = refused(serde_json::json!({"entities": {"Customers": ["LIST"]}}));
        assert_eq!(p.field, "entities.Customers");
        assert!(p.reason.contains("Customer, PaymentIntent"), "{}", p.reason);
        let p = refused(serde_json::json!({"entities": {"Customer": ["READ"]}}));
        assert_eq!(p.field, "entities.Customer");
        assert!(
            p.reason.contains("\"READ\" is not an operation"),
            "{}",
            p.reason
        );
        assert_eq!(
            refused(serde_json::json!({"actions": ["RefundEverything"]})).field,
            "actions"
        );
        assert_eq!(
            refused(serde_json::json!({"httpRequests": ["PUT"]})).field,
            "httpRequests"
        );
        assert!(serde_json::from_value::<Allow>(serde_json::json!({"entity": {}})).is_err());
    }

    #[test]
    fn permissions_read_as_grants_name_them() {
        let customer = entity("Customer");
        assert_eq!(
            Permission::Entity(customer, Operation::Create).to_string(),
            "Customer: CREATE"
        );
        let a = catalog::action("ConfirmPaymentIntent").unwrap();
        assert_eq!(
            Permission::Action(a).to_string(),
            "actions: ConfirmPaymentIntent"
        );
        assert_eq!(
            Permission::HttpRequest(HttpMethod::Delete).to_string(),
            "httpRequests: DELETE"
        );
    }

    #[test]
    fn client_names_follow_the_kubernetes_name_rules() {
        for good in ["reader", "billing-2", "a"] {
            assert!(valid_client_name(good), "{good}");
        }
        for bad in [
            "",
            "Reader",
            "2fa",
            "trailing-",
            "under_score",
            &"x".repeat(33),
        ] {
            assert!(!valid_client_name(bad), "{bad}");
        }
    }

    #[test]
    fn each_client_is_identified_by_its_own_token_and_follows_its_rotation() {
        let reader = MountedFile::new("reader-token-1");
        let writer = MountedFile::new("writer-token-1");
        let clients = serde_json::json!([
            {"name": "reader", "tokenFile": reader.path, "allow": {"entities": {"Customer": ["GET"]}}},
            {"name": "writer", "tokenFile": writer.path, "allow": {"actions": ["*"]}},
        ])
        .to_string();
        let all = Clients::from_args(None, Some(&clients)).unwrap().unwrap();
        assert_eq!(all.names(), ["reader", "writer"]);
        assert_eq!(all.identify("reader-token-1").unwrap().name(), "reader");
        assert_eq!(all.identify("writer-token-1").unwrap().name(), "writer");
        assert!(all.identify("nobody").is_none());

        reader.rotate("reader-token-2");
        assert!(all.identify("reader-token-1").is_none());
        assert_eq!(all.identify("reader-token-2").unwrap().name(), "reader");
        assert_eq!(all.identify("writer-token-1").unwrap().name(), "writer");
    }

    #[test]
    fn bad_client_lists_are_start_up_errors() {
        let token = MountedFile::new("token-one");
        let other = MountedFile::new("token-two");
        let error = |clients: serde_json::Value, default: Option<&Path>| {
            Clients::from_args(default, Some(&clients.to_string()))
                .err()
                .unwrap()
                .to_string()
        };
        let e = error(
            serde_json::json!([{"name": "Reader", "tokenFile": token.path}]),
            None,
        );
        assert!(e.contains("client name \"Reader\""), "{e}");
        let e = error(
            serde_json::json!([{"name": "default", "tokenFile": other.path}]),
            Some(&token.path),
        );
        assert!(e.contains("named twice"), "{e}");
        let e = error(
            serde_json::json!([{"name": "a", "tokenFile": token.path},
                               {"name": "b", "tokenFile": token.path}]),
            None,
        );
        assert!(e.contains("clients a and b have the same token"), "{e}");
        let e = error(
            serde_json::json!([{"name": "a", "tokenFile": token.path,
                                "allow": {"actions": ["Nope"]}}]),
            None,
        );
        assert!(
            e.contains("client a: allow.actions: \"Nope\" is not an action"),
            "{e}"
        );
        assert!(!e.contains("token-one"));
        assert!(Clients::from_args(None, None).unwrap().is_none());
    }
}
