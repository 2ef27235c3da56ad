#![allow(dead_code)] // each test binary uses a different part of the fake
//! A small in-memory Kubernetes API behind kube-rs's mock service (tower-test), in the manner of
//! kube-rs/controller-rs: the reconciler talks to a real `kube::Client`, whose requests are
//! answered from a map of objects by path. Writes are merged into the stored object (objects
//! merge by key, lists and scalars replace), which is how server-side apply behaves for one
//! field manager; every request is recorded so tests can assert what was (not) written.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use std::convert::Infallible;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use kube::Client;
use kube::client::Body;
use serde_json::{Value, json};
use tokio::sync::mpsc;

type ResponseBody = BoxBody<Bytes, Infallible>;

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
    /// Paths whose writes are refused with 422 (an admission policy, say).
    refused: Vec<String>,
    /// Open watches: the collection path they watch and where their events go.
    watches: Vec<(String, mpsc::UnboundedSender<Bytes>)>,
}

impl State {
    /// Sends a watch event for the object at `key` to every watch of its collection.
    fn notify(&mut self, key: &str, type_: &str, object: &Value) {
        let line = serde_json::to_vec(&json!({"type": type_, "object": object}))
            .map(|mut v| {
                v.push(b'\n');
                Bytes::from(v)
            })
            .unwrap_or_default();
        self.watches.retain(|(collection, tx)| {
            !collection_matches(collection, key) || tx.send(line.clone()).is_ok()
        });
    }

    fn store(&mut self, key: String, object: Value, created: bool) {
        self.notify(&key, if created { "ADDED" } else { "MODIFIED" }, &object);
        self.objects.insert(key, object);
    }
}

#[derive(Clone, Default)]
pub struct FakeApi(Arc<Mutex<State>>);

impl FakeApi {
    /// A client whose every request this fake answers.
    pub fn client(&self) -> Client {
        let (service, mut handle) =
            tower_test::mock::pair::<Request<Body>, Response<ResponseBody>>();
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
        let created = !state.objects.contains_key(path);
        stamp(&mut state, &mut object);
        state.store(path.to_string(), object, created);
    }

    pub fn get(&self, path: &str) -> Option<Value> {
        self.state().objects.get(path).cloned()
    }

    /// Changes a stored object in place (to play the Deployment controller or the HPA).
    pub fn edit(&self, path: &str, change: impl FnOnce(&mut Value)) {
        let mut state = self.state();
        let object = state.objects.get_mut(path).expect("object to edit exists");
        change(object);
        let object = object.clone();
        state.notify(path, "MODIFIED", &object);
    }

    pub fn remove(&self, path: &str) {
        let mut state = self.state();
        if let Some(object) = state.objects.remove(path) {
            state.notify(path, "DELETED", &object);
        }
    }

    /// Refuses every later write to `path` (or to objects created in it) with 422 Invalid.
    pub fn refuse_writes(&self, path: &str) {
        self.state().refused.push(path.to_string());
    }

    /// Requests so far (since the last [`take_requests`](Self::take_requests)).
    pub fn requests(&self) -> Vec<Recorded> {
        self.state().requests.clone()
    }

    /// Requests since the last call.
    pub fn take_requests(&self) -> Vec<Recorded> {
        std::mem::take(&mut self.state().requests)
    }

    async fn handle(&self, request: Request<Body>) -> Response<ResponseBody> {
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
        let query = parts.uri.query().unwrap_or_default();
        if parts.method == Method::GET && is_collection(&path) {
            if query
                .split('&')
                .any(|p| p == "watch=true" || p == "watch=1")
            {
                let (tx, rx) = mpsc::unbounded_channel();
                state.watches.push((path, tx));
                let frames = futures::stream::unfold(rx, |mut rx| async move {
                    rx.recv()
                        .await
                        .map(|line| (Ok::<_, Infallible>(Frame::data(line)), rx))
                });
                return Response::builder()
                    .header("content-type", "application/json")
                    .body(StreamBody::new(frames).boxed())
                    .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()).boxed()));
            }
            let items: Vec<Value> = state
                .objects
                .iter()
                .filter(|(key, _)| collection_matches(&path, key))
                .map(|(_, object)| object.clone())
                .collect();
            let version = state.next_uid.to_string();
            return respond(
                StatusCode::OK,
                &json!({"apiVersion": "v1", "kind": "List",
                        "metadata": {"resourceVersion": version}, "items": items}),
            );
        }
        if parts.method != Method::GET && state.refused.iter().any(|r| path.starts_with(r.as_str()))
        {
            return respond(
                StatusCode::UNPROCESSABLE_ENTITY,
                &status_body(422, "Invalid", &format!("{path} refused by policy")),
            );
        }
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
                state.store(key, object.clone(), true);
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
                    state.notify(parent, "MODIFIED", &object);
                    return respond(StatusCode::OK, &object);
                }
                let created = !state.objects.contains_key(&path);
                let mut object = state.objects.get(&path).cloned().unwrap_or_default();
                merge(&mut object, &patch);
                if created {
                    stamp(&mut state, &mut object);
                } else {
                    bump_generation(&mut object);
                }
                state.store(path, object.clone(), created);
                respond(StatusCode::OK, &object)
            }
            _ => respond(
                StatusCode::METHOD_NOT_ALLOWED,
                &status_body(405, "MethodNotAllowed", &path),
            ),
        }
    }
}

/// Fields the API server sets on creation (and the one default the operator relies on: a
/// Deployment without a replica count gets 1).
fn stamp(state: &mut State, object: &mut Value) {
    if object["kind"] == "Deployment" && object["spec"].get("replicas").is_none() {
        object["spec"]["replicas"] = json!(1);
    }
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

fn respond(status: StatusCode, body: &Value) -> Response<ResponseBody> {
    let bytes = Bytes::from(serde_json::to_vec(body).unwrap_or_default());
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(bytes).boxed())
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()).boxed()))
}

/// `/api/v1/secrets`, `/api/v1/namespaces/ns/secrets`, `/apis/g/v/deployments`, ...
fn is_collection(path: &str) -> bool {
    let segments = path.trim_matches('/').split('/').count();
    if path.starts_with("/api/") {
        segments == 3 || segments == 5
    } else {
        segments == 4 || segments == 6
    }
}

/// Whether the object stored at `key` belongs to `collection` (namespaced or all namespaces).
fn collection_matches(collection: &str, key: &str) -> bool {
    let Some((parent, _name)) = key.rsplit_once('/') else {
        return false;
    };
    if parent == collection {
        return true;
    }
    // Drop "namespaces/<ns>/" for the all-namespaces collection.
    let parts: Vec<&str> = parent.split('/').collect();
    match parts.iter().position(|p| *p == "namespaces") {
        Some(i) if i + 2 < parts.len() => {
            let mut all = parts[..i].to_vec();
            all.extend(&parts[i + 2..]);
            all.join("/") == collection
        }
        _ => false,
    }
}

fn not_found(path: &str) -> Response<ResponseBody> {
    respond(StatusCode::NOT_FOUND, &status_body(404, "NotFound", path))
}

fn status_body(code: u16, reason: &str, path: &str) -> Value {
    json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "reason": reason, "code": code, "message": format!("{path}: {reason}"),
    })
}
