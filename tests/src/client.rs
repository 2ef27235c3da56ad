//! A small client of the node's v2 API for tests: every call returns the status and JSON body.
//! Entity writes take an Entity body (`{"fields": {...}}`): the helpers wrap a bare map of
//! fields sent to an entity path, so tests write the fields only.

use serde_json::Value;

/// The Customer entities' collection, the path most tests call.
pub const CUSTOMERS: &str = "/v2/entityTypes/Customer/entities";

pub struct Api {
    base: String,
    http: reqwest::Client,
    token: Option<String>,
}

impl Api {
    pub fn new(base: impl Into<String>) -> Self {
        Self {
            base: base.into(),
            http: reqwest::Client::new(),
            token: None,
        }
    }

    /// The same API called as the client holding `token`.
    pub fn with_token(&self, token: &str) -> Self {
        Self {
            base: self.base.clone(),
            http: self.http.clone(),
            token: Some(token.to_string()),
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let request = match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let response = request.send().await.expect("node answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.write(reqwest::Method::POST, path, body, None).await
    }

    pub async fn post_with_key(&self, path: &str, body: &Value, key: &str) -> (u16, Value) {
        self.write(reqwest::Method::POST, path, body, Some(key))
            .await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> (u16, Value) {
        self.write(reqwest::Method::PATCH, path, body, None).await
    }

    /// A call with a JSON body (an Entity body on entity paths), with the caller's
    /// `Idempotency-Key` when given.
    async fn write(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
        idempotency_key: Option<&str>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .json(&entity_body(path, body));
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        self.send(request).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(self.http.delete(format!("{}{path}", self.base)))
            .await
    }

    /// `GET /v2/entityTypes/{entity}/entities?conditions=...` plus `extra` query pairs.
    pub async fn list(
        &self,
        entity: &str,
        conditions: &str,
        extra: &[(&str, &str)],
    ) -> (u16, Value) {
        let url = format!("{}/v2/entityTypes/{entity}/entities", self.base);
        let mut query = vec![("conditions", conditions)];
        query.extend_from_slice(extra);
        self.send(self.http.get(url).query(&query)).await
    }

    /// The entities' fields of a List that must succeed.
    pub async fn rows(&self, entity: &str, conditions: &str, extra: &[(&str, &str)]) -> Vec<Value> {
        let (status, page) = self.list(entity, conditions, extra).await;
        assert_eq!(status, 200, "{entity} {conditions}: {page}");
        page["entities"]
            .as_array()
            .unwrap_or_else(|| panic!("no entities: {page}"))
            .iter()
            .map(|e| e["fields"].clone())
            .collect()
    }

    /// The `Id`s of a list answer's entities.
    pub fn ids(page: &Value) -> Vec<String> {
        page["entities"]
            .as_array()
            .unwrap_or_else(|| panic!("no entities: {page}"))
            .iter()
            .map(|e| e["fields"]["Id"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// `POST /v2/actions/{action}:execute` with `{"parameters": ...}`.
    pub async fn execute(&self, action: &str, parameters: Value) -> (u16, Value) {
        self.post(
            &format!("/v2/actions/{action}:execute"),
            &serde_json::json!({ "parameters": parameters }),
        )
        .await
    }

    /// Creates an entity and returns its id, asserting success.
    pub async fn create(&self, entity: &str, fields: Value) -> String {
        let body = self.create_entity(entity, fields).await;
        body["fields"]["Id"].as_str().expect("Id").to_string()
    }

    /// Creates an entity, asserting success; returns the Entity answered (`name`, `fields`).
    pub async fn create_entity(&self, entity: &str, fields: Value) -> Value {
        let (status, body) = self
            .post(&format!("/v2/entityTypes/{entity}/entities"), &fields)
            .await;
        assert_eq!(status, 200, "create {entity} {fields}: {body}");
        body
    }
}

/// The Entity body of a write to an entity path: a bare map of fields is wrapped in `fields`.
fn entity_body(path: &str, body: &Value) -> Value {
    let entity_write = path.contains("/entities") && !path.contains("deleteEntitiesWithConditions");
    match body.as_object() {
        Some(map) if entity_write && !map.contains_key("fields") => {
            serde_json::json!({ "fields": body })
        }
        _ => body.clone(),
    }
}

/// The google.rpc.ErrorInfo detail of an error object (`body["error"]`).
pub fn error_info(error: &Value) -> Value {
    error["details"]
        .as_array()
        .and_then(|d| {
            d.iter()
                .find(|x| x["@type"] == "type.googleapis.com/google.rpc.ErrorInfo")
        })
        .cloned()
        .unwrap_or_else(|| panic!("no ErrorInfo in {error}"))
}

/// One of Stripe's fields in the ErrorInfo metadata of an error from Stripe.
pub fn stripe_detail(error: &Value, key: &str) -> Value {
    let info = error_info(error);
    assert_eq!(info["domain"], "stripe.com", "{error}");
    info["metadata"][key].clone()
}

/// The body of an answer (`(status, body)`) that must be a 200.
pub fn assert_ok((status, body): (u16, Value)) -> Value {
    assert_eq!(status, 200, "{body}");
    body
}

/// Asserts the API's error shape and returns the error object.
pub fn assert_error(status: u16, body: &Value, want_status: u16, want_code: &str) -> Value {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"]["status"], want_code, "{body}");
    assert_eq!(body["error"]["code"], want_status, "{body}");
    body["error"].clone()
}

/// [`assert_error`], and the message mentions `needle`.
pub fn assert_error_mentions(
    status: u16,
    body: &Value,
    want_status: u16,
    want_code: &str,
    needle: &str,
) -> Value {
    let error = assert_error(status, body, want_status, want_code);
    assert_mentions(&error, needle);
    error
}

/// Asserts that an error's message mentions `needle`.
pub fn assert_mentions(error: &Value, needle: &str) {
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.contains(needle), "{needle:?} not in {error}");
}

/// A Stripe fake and a node in front of it, with a client of the node's API.
pub fn fake_and_node() -> (crate::StripeFake, crate::Node, Api) {
    fake_and_node_with(|_| {})
}

/// localstripe and a node in front of it, with a client of the node's API.
pub fn localstripe_and_node() -> (crate::Localstripe, crate::Node, Api) {
    let stripe = crate::Localstripe::start();
    let node = crate::Node::start(&api_node_options(stripe.url()));
    let api = Api::new(node.url());
    (stripe, node, api)
}

/// [`fake_and_node`] with the node's [`api_node_options`] changed by `configure` first.
pub fn fake_and_node_with(
    configure: impl FnOnce(&mut crate::NodeOptions),
) -> (crate::StripeFake, crate::Node, Api) {
    let fake = crate::StripeFake::start();
    let mut options = api_node_options(fake.url());
    configure(&mut options);
    let node = crate::Node::start(&options);
    let api = Api::new(node.url());
    (fake, node, api)
}

/// Node options for API tests: the limiter out of the way (its own tests cover it) and short
/// retry delays so fault-injection tests stay fast.
pub fn api_node_options(stripe_base_url: impl Into<String>) -> crate::NodeOptions {
    let mut options = crate::NodeOptions::new(stripe_base_url);
    options.tps_per_node = 1_000_000;
    options.extra_args = vec!["--stripe-retry-base-ms".into(), "10".into()];
    options
}
