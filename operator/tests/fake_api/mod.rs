//! A small in-memory Kubernetes API behind kube-rs's mock service (tower-test), in the manner of
//! kube-rs/controller-rs: the reconciler talks to a real `kube::Client`, whose requests are
//! answered from a map of objects by path. Writes are merged into the stored object (objects
//! merge by key, lists and scalars replace), which is how server-side apply behaves for one
//! field manager; every request is recorded so tests can assert what was (not) written.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use http::{Method, Request, Response, StatusCode};
use kube::Client;
use kube::client::Body;
use serde_json::{Value, json};

/// One recorded request.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub body: Option<Value>,
}

impl Recorded {
    pub fn is_write(&self) -> bool {
        self.method != Method::GET
    }
}

#[derive(Default)]
struct State {
    objects: BTreeMap<String, Value>,
    requests: Vec<Recorded>,
    next_uid: u64,
}

#[derive(Clone, Default)]
pub struct FakeApi(Arc<Mutex<State>>);

impl FakeApi {
    /// A client whose every request this fake answers.
    pub fn client(&self) -> Client {
        let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
        let fake = self.clone();
        tokio::spawn(async move {
            while let Some((request, respond)) = handle.next_request().await {
                let response = fake.handle(request).await;
                respond.send_response(response);
            }
        });
        Client::new(service, "default")
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stores `object` at `path` as if it had been created.
    pub fn put(&self, path: &str, mut object: Value) {
        let mut state = self.state();
        stamp(&mut state, &mut object);
        state.objects.insert(path.to_string(), object);
    }

    pub fn get(&self, path: &str) -> Option<Value> {
        self.state().objects.get(path).cloned()
    }

    /// Changes a stored object in place (to play the Deployment controller or the HPA).
    pub fn edit(&self, path: &str, change: impl FnOnce(&mut Value)) {
        let mut state = self.state();
        let object = state.objects.get_mut(path).expect("object to edit exists");
        change(object);
    }

    pub fn remove(&self, path: &str) {
        self.state().objects.remove(path);
    }

    /// Requests since the last call.
    pub fn take_requests(&self) -> Vec<Recorded> {
        std::mem::take(&mut self.state().requests)
    }

    async fn handle(&self, request: Request<Body>) -> Response<Body> {
        let (parts, body) = request.into_parts();
        let bytes = body.collect_bytes().await.unwrap_or_default();
        let body: Option<Value> = serde_json::from_slice(&bytes).ok();
        let path = parts.uri.path().to_string();
        let mut state = self.state();
        state.requests.push(Recorded {
            method: parts.method.clone(),
            path: path.clone(),
            body: body.clone(),
        });
        match parts.method {
            Method::GET => match state.objects.get(&path) {
                Some(object) => respond(StatusCode::OK, object),
                None => not_found(&path),
            },
            Method::POST => {
                let mut object = body.unwrap_or_default();
                let name = object["metadata"]["name"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("generated-{}", state.next_uid));
                let key = format!("{path}/{name}");
                if state.objects.contains_key(&key) {
                    return respond(
                        StatusCode::CONFLICT,
                        &status_body(409, "AlreadyExists", &key),
                    );
                }
                stamp(&mut state, &mut object);
                state.objects.insert(key, object.clone());
                respond(StatusCode::CREATED, &object)
            }
            Method::PATCH => {
                let patch = body.unwrap_or_default();
                if let Some(parent) = path.strip_suffix("/status") {
                    let Some(object) = state.objects.get_mut(parent) else {
                        return not_found(parent);
                    };
                    merge(&mut object["status"], &patch["status"]);
                    let object = object.clone();
                    return respond(StatusCode::OK, &object);
                }
                if !state.objects.contains_key(&path) {
                    let mut object = patch.clone();
                    stamp(&mut state, &mut object);
                    state.objects.insert(path.clone(), object);
                } else if let Some(object) = state.objects.get_mut(&path) {
                    merge(object, &patch);
                    bump_generation(object);
                }
                let object = state.objects[&path].clone();
                respond(StatusCode::OK, &object)
            }
            _ => respond(
                StatusCode::METHOD_NOT_ALLOWED,
                &status_body(405, "MethodNotAllowed", &path),
            ),
        }
    }
}

/// Fields the API server sets on creation.
fn stamp(state: &mut State, object: &mut Value) {
    state.next_uid += 1;
    let meta = &mut object["metadata"];
    if meta.get("uid").is_none() {
        meta["uid"] = json!(format!("uid-{}", state.next_uid));
    }
    if meta.get("generation").is_none() {
        meta["generation"] = json!(1);
    }
    meta["resourceVersion"] = json!(state.next_uid.to_string());
    if meta.get("creationTimestamp").is_none() {
        meta["creationTimestamp"] = json!("2026-01-01T00:00:00Z");
    }
}

fn bump_generation(object: &mut Value) {
    if let Some(g) = object["metadata"]["generation"].as_i64() {
        object["metadata"]["generation"] = json!(g + 1);
    }
}

/// Objects merge by key; everything else (lists, scalars) replaces.
pub fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (key, value) in p {
                merge(t.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
        (t, p) => *t = p.clone(),
    }
}

fn respond(status: StatusCode, body: &Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(body).unwrap_or_default()))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

fn not_found(path: &str) -> Response<Body> {
    respond(StatusCode::NOT_FOUND, &status_body(404, "NotFound", path))
}

fn status_body(code: u16, reason: &str, path: &str) -> Value {
    json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "reason": reason, "code": code, "message": format!("{path}: {reason}"),
    })
}
