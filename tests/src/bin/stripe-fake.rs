//! A Stripe-shaped fake for what localstripe lacks, following Stripe's documentation: quotes,
//! invoice transitions and line items, the Search API (its query language and `page` tokens,
//! with an indexing delay), events for every change, subscription schedules, Connect objects
//! (accounts and their persons, external accounts and capabilities; transfers and reversals;
//! application fees and their refunds), top-ups, payment links, test clocks, idempotent replay,
//! and faults injected per test. It speaks Stripe's wire format (form bodies with bracket
//! notation, list and search objects, error JSON) on 127.0.0.1.
//!
//! Control endpoints (no auth): `POST /_fake/faults` `{"path_prefix", "method"?, "status",
//! "count", "should_retry"?: bool, "retry_after"?: secs, "delay_ms"?, "after"?: bool,
//! "message"?}` (`after`: do the work, then answer with the fault, as when a response is lost;
//! `message`: an `invalid_request_error` with that text), `DELETE /_fake/faults`,
//! `GET /_fake/objects?type=customer` (ids with the idempotency key that created them),
//! `GET /_fake/requests?path_prefix=/v1/customers&method=POST` (`{"count": n}`),
//! `GET /_fake/last_request` (method, path, query pairs and Stripe headers of the last API
//! request, with the API key it carried: test keys only), `POST /_fake/search_delay`
//! `{"ms": n}` (how long a write takes to reach the search index; 0 by default),
//! `POST /_fake/payouts/{id}/paid` (the bank settled a payout: what Stripe's API cannot cause).

#[path = "stripe-fake/lifecycle.rs"]
mod lifecycle;
#[path = "stripe-fake/search.rs"]
mod search;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use clap::Parser;
use serde::Deserialize;
use serde_json::{Map, Value, json};

#[derive(Parser)]
struct Args {
    /// Port on 127.0.0.1.
    #[arg(long, default_value_t = 12111)]
    port: u16,
}

#[derive(Debug, Clone, Deserialize)]
struct Fault {
    path_prefix: String,
    method: Option<String>,
    #[serde(default)]
    status: u16,
    #[serde(default = "one")]
    count: u32,
    should_retry: Option<bool>,
    retry_after: Option<u64>,
    #[serde(default)]
    delay_ms: u64,
    #[serde(default)]
    after: bool,
    /// Answer with an `invalid_request_error` of this message (what Stripe says for a request
    /// it refuses, e.g. search being unavailable in the account's region).
    message: Option<String>,
}

fn one() -> u32 {
    1
}

#[derive(Default)]
pub struct Store {
    /// Objects by id, and ids per list in creation order: a collection (`customers`) or a
    /// parent's child list (`customers/cus_1/tax_ids`).
    objects: HashMap<String, Value>,
    order: HashMap<String, Vec<String>>,
    /// What Stripe filters an object's list by but does not return on it (the payout that paid
    /// out a balance transaction), by object id.
    hidden: HashMap<String, Map<String, Value>>,
    /// The versions of each object the search index has seen, and from when.
    indexed: HashMap<String, Vec<(Instant, Value)>>,
    search_delay: Duration,
    created_by_key: HashMap<String, String>,
    /// Idempotency key -> (request fingerprint, status, body).
    replies: HashMap<String, (String, u16, Value)>,
    faults: Vec<Fault>,
    requests: Vec<(String, String)>,
    /// Stripe headers of the last API request.
    last_headers: Value,
    next_id: u64,
}

type Shared = Arc<Mutex<Store>>;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let state: Shared = Arc::default();
    let app = Router::new().fallback(handle).with_state(state);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub fn ok(body: Value) -> Self {
        Self {
            status: 200,
            body,
            headers: Vec::new(),
        }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut response = (
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            axum::Json(self.body),
        )
            .into_response();
        response
            .headers_mut()
            .insert("request-id", "req_fake".parse().expect("static header"));
        for (k, v) in self.headers {
            if let Ok(v) = v.parse() {
                response.headers_mut().insert(k, v);
            }
        }
        response
    }
}

pub fn error(
    status: u16,
    kind: &str,
    code: Option<&str>,
    param: Option<&str>,
    message: &str,
) -> Reply {
    let mut e = json!({"type": kind, "message": message});
    if let Some(c) = code {
        e["code"] = json!(c);
        e["doc_url"] = json!(format!(
            "https://stripe.com/docs/error-codes/{}",
            c.replace('_', "-")
        ));
    }
    if let Some(p) = param {
        e["param"] = json!(p);
    }
    Reply {
        status,
        body: json!({"error": e}),
        headers: Vec::new(),
    }
}

pub fn invalid(message: &str) -> Reply {
    error(400, "invalid_request_error", None, None, message)
}

pub fn missing(param: &str) -> Reply {
    error(
        400,
        "invalid_request_error",
        Some("parameter_missing"),
        Some(param),
        &format!("Missing required param: {param}."),
    )
}

/// Stripe's answer to a path or method it has no endpoint for.
pub fn unrecognized(method: &str, path: &str) -> Reply {
    error(
        404,
        "invalid_request_error",
        None,
        None,
        &format!("Unrecognized request URL ({method}: {path})."),
    )
}

pub fn no_such(kind: &str, id: &str) -> Reply {
    error(
        404,
        "invalid_request_error",
        Some("resource_missing"),
        Some("id"),
        &format!("No such {kind}: '{id}'"),
    )
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Runs each request to its end in its own task: like Stripe, the fake finishes the work of a
/// request whose client gave up (timed out and closed the connection) mid-way.
async fn handle(
    State(store): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    tokio::spawn(serve(store, method, uri, headers, body))
        .await
        .unwrap_or_else(|e| error(500, "api_error", None, None, &format!("fake failed: {e}")))
}

async fn serve(store: Shared, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Reply {
    let path = uri.path().to_string();
    let query = uri.query().unwrap_or_default().to_string();
    if let Some(control) = path.strip_prefix("/_fake/") {
        return control_endpoint(&store, &method, control, &query, &body);
    }
    let fault = {
        let mut s = store.lock().expect("store");
        s.requests.push((method.to_string(), path.clone()));
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        s.last_headers = json!({
            "method": method.as_str(), "path": path,
            "query": form_urlencoded::parse(query.as_bytes()).into_owned().collect::<Vec<(String, String)>>(),
            "stripe_version": header("stripe-version"), "stripe_account": header("stripe-account"),
            "idempotency_key": header("idempotency-key"),
            // Test keys only: tests check which key the node sent after a key file change.
            "api_key": header("authorization").and_then(|v| v.strip_prefix("Bearer ").map(str::to_string)),
        });
        take_fault(&mut s, &method, &path)
    };
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|k| k.starts_with("sk_") || k.starts_with("rk_"));
    if !authorized {
        return error(
            401,
            "authentication_error",
            None,
            None,
            "Invalid API Key provided.",
        );
    }
    if let Some(f) = &fault {
        tokio::time::sleep(Duration::from_millis(f.delay_ms)).await;
        if !f.after && f.status != 0 {
            return fault_reply(f);
        }
    }
    let form_text = if method == Method::POST {
        String::from_utf8_lossy(&body).to_string()
    } else {
        query.clone()
    };
    let multipart = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("multipart/form-data; boundary="))
        .map(|b| b.trim_matches('"').to_string());
    let pairs: Vec<(String, String)> = match multipart {
        Some(boundary) if method == Method::POST => multipart_fields(&body, &boundary),
        _ => form_urlencoded::parse(form_text.as_bytes())
            .into_owned()
            .collect(),
    };
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .filter(|_| method == Method::POST);
    let reply = {
        let mut s = store.lock().expect("store");
        let mut sorted = pairs.clone();
        sorted.sort();
        let fingerprint = format!("{method} {path} {sorted:?}");
        match key.as_ref().and_then(|k| s.replies.get(k).cloned()) {
            Some((stored, status, body)) if stored == fingerprint => Reply {
                status,
                body,
                headers: vec![("idempotent-replayed", "true".into())],
            },
            Some(_) => error(
                400,
                "idempotency_error",
                Some("idempotency_key_in_use"),
                None,
                &format!(
                    "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{}' if you meant to execute a different request.",
                    key.clone().unwrap_or_default()
                ),
            ),
            None => {
                let reply = route(&mut s, &method, &path, &pairs, key.as_deref());
                if let Some(k) = &key
                    && reply.status < 500
                {
                    s.replies
                        .insert(k.clone(), (fingerprint, reply.status, reply.body.clone()));
                }
                reply
            }
        }
    };
    match fault {
        Some(f) if f.after && f.status != 0 => fault_reply(&f),
        _ => reply,
    }
}

/// The fields of a multipart/form-data body (file uploads); a file part becomes its name,
/// `{name}[filename]` and `{name}[size]`. Hand-written: the fake reads one body already in
/// memory, where a multipart crate would want a stream.
fn multipart_fields(body: &[u8], boundary: &str) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    let mut fields = Vec::new();
    for part in text.split(&format!("--{boundary}")) {
        let Some((head, content)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let content = content.strip_suffix("\r\n").unwrap_or(content);
        let attr = |key: &str| {
            let start = head.find(&format!("{key}=\""))? + key.len() + 2;
            head[start..].split('"').next().map(str::to_string)
        };
        let Some(name) = attr("name") else { continue };
        match attr("filename") {
            Some(filename) => {
                fields.push((format!("{name}[filename]"), filename));
                fields.push((format!("{name}[size]"), content.len().to_string()));
            }
            None => fields.push((name, content.to_string())),
        }
    }
    fields
}

fn take_fault(s: &mut Store, method: &Method, path: &str) -> Option<Fault> {
    let i = s.faults.iter().position(|f| {
        f.count > 0
            && path.starts_with(&f.path_prefix)
            && f.method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()))
    })?;
    s.faults[i].count -= 1;
    Some(s.faults[i].clone())
}

fn fault_reply(f: &Fault) -> Reply {
    let mut reply = match f.status {
        status if f.message.is_some() => error(
            status,
            "invalid_request_error",
            None,
            None,
            f.message.as_deref().unwrap_or_default(),
        ),
        429 => error(
            429,
            "invalid_request_error",
            Some("rate_limit"),
            None,
            "Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits.",
        ),
        409 => error(
            409,
            "invalid_request_error",
            Some("lock_timeout"),
            None,
            "This object cannot be accessed right now because another API request or Stripe process is currently accessing it.",
        ),
        status => error(
            status,
            "api_error",
            None,
            None,
            "An unknown error occurred (injected by the fake).",
        ),
    };
    if let Some(b) = f.should_retry {
        reply.headers.push(("stripe-should-retry", b.to_string()));
    }
    if let Some(s) = f.retry_after {
        reply.headers.push(("retry-after", s.to_string()));
    }
    reply
}

fn control_endpoint(
    store: &Shared,
    method: &Method,
    what: &str,
    query: &str,
    body: &[u8],
) -> Reply {
    let q: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let mut s = store.lock().expect("store");
    match (method.as_str(), what) {
        ("POST", "faults") => match serde_json::from_slice::<Fault>(body) {
            Ok(f) => {
                s.faults.push(f);
                Reply::ok(json!({"ok": true}))
            }
            Err(e) => invalid(&format!("bad fault: {e}")),
        },
        ("DELETE", "faults") => {
            s.faults.clear();
            Reply::ok(json!({"ok": true}))
        }
        ("GET", "objects") => {
            let kind = q.get("type").cloned().unwrap_or_default();
            let data: Vec<Value> = s
                .order
                .values()
                .flatten()
                .filter_map(|id| s.objects.get(id))
                .filter(|o| o["object"] == kind.as_str() && o["deleted"] != true)
                .map(|o| {
                    let id = o["id"].as_str().unwrap_or_default();
                    json!({"id": id, "idempotency_key": s.created_by_key.get(id)})
                })
                .collect();
            Reply::ok(json!({"data": data}))
        }
        ("GET", "last_request") => Reply::ok(s.last_headers.clone()),
        ("POST", "search_delay") => {
            let ms = serde_json::from_slice::<Value>(body)
                .ok()
                .and_then(|v| v["ms"].as_u64());
            match ms {
                Some(ms) => {
                    s.search_delay = Duration::from_millis(ms);
                    Reply::ok(json!({"ok": true}))
                }
                None => invalid("expected {\"ms\": n}"),
            }
        }
        ("POST", path)
            if let Some(id) = path
                .strip_prefix("payouts/")
                .and_then(|p| p.strip_suffix("/paid")) =>
        {
            lifecycle::settle_payout(&mut s, id)
        }
        ("GET", "requests") => {
            let prefix = q.get("path_prefix").cloned().unwrap_or_default();
            let count = s
                .requests
                .iter()
                .filter(|(m, p)| {
                    p.starts_with(&prefix)
                        && q.get("method")
                            .is_none_or(|want| want.eq_ignore_ascii_case(m))
                })
                .count();
            Reply::ok(json!({"count": count}))
        }
        _ => error(
            404,
            "invalid_request_error",
            None,
            None,
            "unknown control endpoint",
        ),
    }
}

/// One Stripe collection: its path below `/v1/`, object type, id prefix and whether Stripe has
/// a DELETE for its objects.
pub struct Kind {
    pub col: &'static str,
    pub object: &'static str,
    pub prefix: &'static str,
    pub deletable: bool,
}

#[rustfmt::skip]
const KINDS: &[Kind] = &[
    kind("customers", "customer", "cus", true),
    kind("payment_intents", "payment_intent", "pi", false),
    kind("payment_methods", "payment_method", "pm", false),
    kind("setup_intents", "setup_intent", "seti", false),
    kind("setup_attempts", "setup_attempt", "setatt", false),
    kind("mandates", "mandate", "mandate", false),
    kind("invoices", "invoice", "in", true),
    kind("invoiceitems", "invoiceitem", "ii", true),
    kind("quotes", "quote", "qt", false),
    kind("charges", "charge", "ch", false),
    kind("refunds", "refund", "re", false),
    kind("products", "product", "prod", true),
    kind("prices", "price", "price", false),
    kind("plans", "plan", "plan", true),
    kind("subscriptions", "subscription", "sub", false),
    kind("subscription_items", "subscription_item", "si", true),
    kind("subscription_schedules", "subscription_schedule", "sub_sched", false),
    kind("coupons", "coupon", "co", true),
    kind("promotion_codes", "promotion_code", "promo", false),
    kind("tax_rates", "tax_rate", "txr", false),
    kind("tax_codes", "tax_code", "txcd", false),
    kind("credit_notes", "credit_note", "cn", false),
    kind("checkout/sessions", "checkout.session", "cs", false),
    kind("payment_links", "payment_link", "plink", false),
    kind("shipping_rates", "shipping_rate", "shr", false),
    kind("billing_portal/configurations", "billing_portal.configuration", "bpc", false),
    kind("payouts", "payout", "po", false),
    kind("topups", "topup", "tu", false),
    kind("transfers", "transfer", "tr", false),
    kind("accounts", "account", "acct", true),
    kind("application_fees", "application_fee", "fee", false),
    kind("balance_transactions", "balance_transaction", "txn", false),
    kind("events", "event", "evt", false),
    kind("files", "file", "file", false),
    kind("file_links", "file_link", "link", false),
    kind("reviews", "review", "prv", false),
    kind("radar/early_fraud_warnings", "radar.early_fraud_warning", "issfr", false),
    kind("test_helpers/test_clocks", "test_helpers.test_clock", "clock", true),
    kind("webhook_endpoints", "webhook_endpoint", "we", true),
];

const fn kind(
    col: &'static str,
    object: &'static str,
    prefix: &'static str,
    deletable: bool,
) -> Kind {
    Kind {
        col,
        object,
        prefix,
        deletable,
    }
}

/// The collection a path below `/v1/` is in, and the rest of the path.
fn collection(path: &str) -> Option<(&'static Kind, &str)> {
    KINDS.iter().find_map(|k| {
        let rest = path.strip_prefix(k.col)?;
        (rest.is_empty() || rest.starts_with('/')).then(|| (k, rest.trim_start_matches('/')))
    })
}

fn route(
    s: &mut Store,
    method: &Method,
    path: &str,
    pairs: &[(String, String)],
    key: Option<&str>,
) -> Reply {
    let Some(rest) = path.strip_prefix("/v1/") else {
        return unrecognized(method.as_str(), path);
    };
    let params = nest(pairs);
    match (method.as_str(), rest) {
        ("GET", "balance") => return lifecycle::balance(s),
        ("GET", "invoices/upcoming") => return lifecycle::upcoming_invoice(s, &params),
        _ => {}
    }
    if let Some(customer) = rest
        .strip_prefix("test_helpers/customers/")
        .and_then(|r| r.strip_suffix("/fund_cash_balance"))
        && method == Method::POST
    {
        return lifecycle::fund_cash_balance(s, customer, &params);
    }
    let Some((kind, rest)) = collection(rest) else {
        return unrecognized(method.as_str(), path);
    };
    let mut segments = rest.split('/').filter(|x| !x.is_empty());
    let id = segments.next();
    let sub = segments.next();
    let sub_id = segments.next();
    match (method.as_str(), id, sub) {
        ("GET", Some("search"), None) => search(s, kind, &params),
        ("GET", None, None) => lifecycle::list_collection(s, kind, &params),
        ("POST", None, None) => create(s, kind, params, key),
        ("GET", Some(id), None) if kind.object == "tax_code" => lifecycle::tax_code(id),
        // The object, or once deleted its tombstone, as Stripe answers for a deleted customer.
        ("GET", Some(id), None) => match s.objects.get(id).filter(|o| o["object"] == kind.object) {
            Some(o) => Reply::ok(o.clone()),
            None => no_such(kind.object, id),
        },
        ("POST", Some(id), None) => {
            let Some(mut o) = live(s, kind.object, id) else {
                return no_such(kind.object, id);
            };
            if let Err(reply) = lifecycle::before_update(s, &mut o, &params) {
                return reply;
            }
            merge(&mut o, &params);
            Reply::ok(save(s, o))
        }
        ("DELETE", Some(id), None) if kind.object == "subscription" => {
            lifecycle::cancel_subscription(s, id)
        }
        ("DELETE", Some(id), None) if kind.deletable => {
            let Some(o) = live(s, kind.object, id) else {
                return no_such(kind.object, id);
            };
            if kind.object == "invoice" && o["status"] != "draft" {
                return invalid("You can only delete draft invoices.");
            }
            delete(s, &o, &format!("{}.deleted", kind.object))
        }
        (_, Some(id), Some(sub)) if lifecycle::is_child(kind.object, sub) => {
            lifecycle::child(s, method, kind, id, sub, sub_id, &params, key)
        }
        ("POST", Some(id), Some(verb)) if sub_id.is_none() => {
            lifecycle::action(s, kind, id, verb, &params)
        }
        _ => unrecognized(method.as_str(), path),
    }
}

/// The live (not deleted) object of that type and id.
pub fn live(s: &Store, object: &str, id: &str) -> Option<Value> {
    s.objects
        .get(id)
        .filter(|o| o["object"] == object && o["deleted"] != true)
        .cloned()
}

/// A list page of Stripe's shape from objects newest first: `limit`, `starting_after`.
pub fn page(all: Vec<Value>, params: &Value, url: &str) -> Reply {
    let limit = match list_limit(params) {
        Ok(limit) => limit,
        Err(reply) => return reply,
    };
    let mut all = all;
    if let Some(after) = params.get("starting_after").map(scalar_text) {
        match all.iter().position(|o| o["id"] == after.as_str()) {
            Some(i) => all.drain(..=i).for_each(drop),
            None => {
                let kind = all
                    .first()
                    .and_then(|o| o["object"].as_str())
                    .unwrap_or("object")
                    .to_string();
                return no_such(&kind, &after);
            }
        }
    }
    let has_more = all.len() > limit;
    all.truncate(limit);
    Reply::ok(json!({"object": "list", "data": all, "has_more": has_more, "url": url}))
}

/// The `limit` of a list or a search: 10 when absent, else 1 to 100.
fn list_limit(params: &Value) -> Result<usize, Reply> {
    let Some(text) = params.get("limit").map(scalar_text) else {
        return Ok(10);
    };
    text.parse::<usize>()
        .ok()
        .filter(|n| (1..=100).contains(n))
        .ok_or_else(|| {
            error(
                400,
                "invalid_request_error",
                Some("parameter_invalid_integer"),
                Some("limit"),
                "This value must be greater than or equal to 1 and less than or equal to 100.",
            )
        })
}

/// The objects of a list (a collection or a parent's child list) of that object type, newest
/// first.
pub fn listed(s: &Store, list: &str, object: &str) -> Vec<Value> {
    listed_where(s, list, |o| o["object"] == object)
}

/// The live objects of a list that `keep` accepts, newest first.
pub fn listed_where(s: &Store, list: &str, keep: impl Fn(&Value) -> bool) -> Vec<Value> {
    s.order
        .get(list)
        .map(|ids| {
            ids.iter()
                .rev()
                .filter_map(|id| s.objects.get(id))
                .filter(|o| o["deleted"] != true && keep(o))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// List filters: every parameter but paging narrows to objects whose field equals it (ranges
/// for `{gt, gte, lt, lte}`, nested objects key by key, arrays for `ids`, `types` and
/// `lookup_keys`). What Stripe filters by without returning it is looked up in `hidden`.
pub fn filtered(s: &Store, mut all: Vec<Value>, params: &Value) -> Vec<Value> {
    let filters: Vec<(&String, &Value)> = params
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| {
                    !["limit", "starting_after", "ending_before", "expand"].contains(&k.as_str())
                })
                .collect()
        })
        .unwrap_or_default();
    all.retain(|o| {
        filters.iter().all(|(k, want)| {
            let hidden = o["id"]
                .as_str()
                .and_then(|id| s.hidden.get(id))
                .and_then(|h| h.get(k.as_str()));
            match (k.as_str(), want) {
                (_, Value::Array(options)) => {
                    let field = match k.as_str() {
                        "ids" => "id",
                        "types" => "type",
                        "lookup_keys" => "lookup_key",
                        other => other,
                    };
                    options.iter().any(|w| filter_matches(&o[field], w))
                }
                // An event type may end in `*`: `customer.*`.
                ("type", Value::String(t)) if o["object"] == "event" && t.ends_with('*') => {
                    o["type"]
                        .as_str()
                        .is_some_and(|have| have.starts_with(t.trim_end_matches('*')))
                }
                _ => filter_matches(hidden.unwrap_or(&o[k.as_str()]), want),
            }
        })
    });
    all
}

fn filter_matches(value: &Value, want: &Value) -> bool {
    match want {
        Value::Object(ops)
            if ops
                .keys()
                .all(|k| ["gt", "gte", "lt", "lte"].contains(&k.as_str())) =>
        {
            ops.iter().all(|(op, bound)| {
                let (Some(v), Ok(b)) = (value.as_i64(), scalar_text(bound).parse::<i64>()) else {
                    return false;
                };
                match op.as_str() {
                    "gt" => v > b,
                    "gte" => v >= b,
                    "lt" => v < b,
                    "lte" => v <= b,
                    _ => false,
                }
            })
        }
        Value::Object(fields) => fields
            .iter()
            .all(|(k, w)| filter_matches(&value[k.as_str()], w)),
        // An expanded reference matches by its id.
        _ if value.is_object() => scalar_text(&value["id"]) == scalar_text(want),
        _ => scalar_text(value) == scalar_text(want),
    }
}

pub fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `GET /v1/{collection}/search`: the objects whose indexed version matches the query.
fn search(s: &Store, kind: &Kind, params: &Value) -> Reply {
    let Some(query) = params.get("query").map(scalar_text) else {
        return missing("query");
    };
    let query = match search::parse(&query, kind.col) {
        Ok(q) => q,
        Err(message) => {
            return error(400, "invalid_request_error", None, Some("query"), &message);
        }
    };
    let limit = match list_limit(params) {
        Ok(limit) => limit,
        Err(reply) => return reply,
    };
    let start = match params.get("page").map(scalar_text) {
        None => 0,
        Some(token) => match search::page_offset(&token) {
            Some(offset) => offset,
            None => {
                return error(
                    400,
                    "invalid_request_error",
                    None,
                    Some("page"),
                    "Invalid page token.",
                );
            }
        },
    };
    let now = Instant::now();
    let matching: Vec<Value> = listed(s, kind.col, kind.object)
        .into_iter()
        .filter(|o| {
            let indexed = o["id"]
                .as_str()
                .and_then(|id| s.indexed.get(id))
                .and_then(|versions| versions.iter().rev().find(|(at, _)| *at <= now));
            indexed.is_some_and(|(_, version)| query.matches(version))
        })
        .collect();
    let data: Vec<&Value> = matching.iter().skip(start).take(limit).collect();
    let end = start + data.len();
    let has_more = end < matching.len();
    Reply::ok(json!({
        "object": "search_result",
        "data": data,
        "has_more": has_more,
        "next_page": if has_more { json!(search::page_token(end)) } else { Value::Null },
        "url": format!("/v1/{}/search", kind.col),
    }))
}

pub fn new_id(s: &mut Store, prefix: &str) -> String {
    s.next_id += 1;
    format!("{prefix}_fake{:010}", s.next_id)
}

/// Stores a new object at the end of a list, with its event and its search index entry.
pub fn insert(s: &mut Store, list: &str, object: Value, key: Option<&str>) -> Value {
    let id = object["id"].as_str().unwrap_or_default().to_string();
    s.order
        .entry(list.to_string())
        .or_default()
        .push(id.clone());
    if let Some(k) = key {
        s.created_by_key.insert(id.clone(), k.to_string());
    }
    let kind = object["object"].as_str().unwrap_or_default().to_string();
    // Stripe has no events of its own for these.
    let silent = [
        "event",
        "item",
        "line_item",
        "credit_note_line_item",
        "usage_record",
        "balance_transaction",
    ];
    if !silent.contains(&kind.as_str()) {
        emit(s, &format!("{kind}.created"), &object, None);
    }
    index(s, &object);
    s.objects.insert(id, object.clone());
    object
}

/// Stores a changed object, with its `*.updated` event (and the attributes it changed).
pub fn save(s: &mut Store, object: Value) -> Value {
    let id = object["id"].as_str().unwrap_or_default().to_string();
    let previous = s.objects.get(&id).cloned().unwrap_or(Value::Null);
    let changed: Map<String, Value> = object
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, v)| previous.get(k.as_str()) != Some(*v))
                .map(|(k, _)| (k.clone(), previous[k.as_str()].clone()))
                .collect()
        })
        .unwrap_or_default();
    if !changed.is_empty() {
        let kind = object["object"].as_str().unwrap_or_default().to_string();
        emit(
            s,
            &format!("{kind}.updated"),
            &object,
            Some(Value::Object(changed)),
        );
    }
    index(s, &object);
    s.objects.insert(id, object.clone());
    object
}

/// The search index sees a write after the configured delay.
fn index(s: &mut Store, object: &Value) {
    let Some(id) = object["id"].as_str() else {
        return;
    };
    let at = Instant::now() + s.search_delay;
    s.indexed
        .entry(id.to_string())
        .or_default()
        .push((at, object.clone()));
}

/// Records an event of a change, as Stripe does for every object it writes.
pub fn emit(s: &mut Store, kind: &str, object: &Value, previous: Option<Value>) {
    let id = new_id(s, "evt");
    let mut data = json!({ "object": object });
    if let Some(p) = previous {
        data["previous_attributes"] = p;
    }
    let event = json!({
        "id": id, "object": "event", "api_version": "2023-08-16", "created": now(),
        "data": data, "livemode": false, "pending_webhooks": 0,
        "request": {"id": "req_fake", "idempotency_key": null}, "type": kind
    });
    s.order.entry("events".into()).or_default().push(id.clone());
    s.objects.insert(id, event);
}

fn create(s: &mut Store, kind: &Kind, params: Value, key: Option<&str>) -> Reply {
    if let Err(reply) = lifecycle::check_create(s, kind, &params) {
        return reply;
    }
    let custom_id = params.get("id").and_then(Value::as_str);
    let id = match (kind.object, custom_id) {
        ("coupon" | "product" | "plan", Some(id)) => id.to_string(),
        _ => new_id(s, kind.prefix),
    };
    let mut object = lifecycle::template(kind.object, &id);
    merge(&mut object, &params);
    match lifecycle::after_create(s, &mut object, &params) {
        Ok(()) => Reply::ok(insert(s, kind.col, object, key)),
        Err(reply) => reply,
    }
}

/// Deletes a stored object: its `event`, and in its place the tombstone answered.
pub fn delete(s: &mut Store, object: &Value, event: &str) -> Reply {
    let id = scalar_text(&object["id"]);
    let tombstone = json!({"id": id, "object": object["object"], "deleted": true});
    emit(s, event, object, None);
    s.objects.insert(id, tombstone.clone());
    Reply::ok(tombstone)
}

/// Applies a state change to a stored object and returns it.
pub fn transition(
    s: &mut Store,
    kind: &str,
    id: &str,
    change: impl FnOnce(&mut Value) -> Result<(), Reply>,
) -> Reply {
    let Some(mut o) = live(s, kind, id) else {
        return no_such(kind, id);
    };
    if let Err(reply) = change(&mut o) {
        return reply;
    }
    Reply::ok(save(s, o))
}

pub fn unexpected_state(o: &Value) -> Reply {
    error(
        400,
        "invalid_request_error",
        Some(if o["object"] == "payment_intent" {
            "payment_intent_unexpected_state"
        } else {
            "resource_unexpected_state"
        }),
        None,
        &format!(
            "This {} cannot be changed because it has a status of {}.",
            o["object"].as_str().unwrap_or("object"),
            o["status"].as_str().unwrap_or("unknown")
        ),
    )
}

pub fn require_status(o: &Value, allowed: &[&str]) -> Result<(), Reply> {
    if allowed.contains(&o["status"].as_str().unwrap_or_default()) {
        Ok(())
    } else {
        Err(unexpected_state(o))
    }
}

/// Merges form params into an object; metadata merges key by key and "" clears.
pub fn merge(object: &mut Value, params: &Value) {
    let Some(params) = params.as_object() else {
        return;
    };
    for (k, v) in params {
        if ["id", "expand"].contains(&k.as_str()) {
            continue;
        }
        match (k.as_str(), v) {
            ("metadata", Value::Object(m)) => {
                let meta = object["metadata"].as_object_mut();
                if let Some(meta) = meta {
                    for (mk, mv) in m {
                        if mv == "" {
                            meta.remove(mk);
                        } else {
                            meta.insert(mk.clone(), mv.clone());
                        }
                    }
                }
            }
            (_, Value::String(s)) if s.is_empty() => object[k.as_str()] = Value::Null,
            _ => object[k.as_str()] = v.clone(),
        }
    }
}

const INTEGER_KEYS: &[&str] = &[
    "amount",
    "amount_to_capture",
    "amount_off",
    "balance",
    "quantity",
    "unit_amount",
    "exp_month",
    "exp_year",
    "days_until_due",
    "duration_in_months",
    "max_redemptions",
    "expires_at",
    "due_date",
    "trial_end",
    "redeem_by",
    "frozen_time",
    "interval_count",
    "trial_period_days",
    "application_fee_amount",
    "timestamp",
    "start_date",
    "end_date",
    "iterations",
    "size",
];

/// Form pairs in bracket notation as nested JSON (`a[b][0]=x` -> `{"a": {"b": ["x"]}}`), with
/// numbers and booleans typed. Hand-written: the crates for this (serde_qs) target typed structs,
/// while the fake stores free-form objects.
fn nest(pairs: &[(String, String)]) -> Value {
    let mut root = Value::Object(Map::new());
    for (key, value) in pairs {
        let mut parts: Vec<&str> = Vec::new();
        let (head, rest) = key.split_once('[').unwrap_or((key, ""));
        parts.push(head);
        parts.extend(
            rest.split('[')
                .map(|p| p.trim_end_matches(']'))
                .filter(|p| !rest.is_empty() && !p.is_empty()),
        );
        let last = parts.last().copied().unwrap_or_default();
        let typed = if INTEGER_KEYS.contains(&last) {
            value
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or(json!(value))
        } else if last == "percent_off" || last == "percentage" {
            value
                .parse::<f64>()
                .map(Value::from)
                .unwrap_or(json!(value))
        } else if value == "true" || value == "false" {
            json!(value == "true")
        } else {
            json!(value)
        };
        let mut node = &mut root;
        for (i, part) in parts.iter().enumerate() {
            let leaf = i + 1 == parts.len();
            let next_is_index = parts.get(i + 1).is_some_and(|p| p.parse::<usize>().is_ok());
            if let Ok(index) = part.parse::<usize>()
                && node.is_array()
            {
                let items = node.as_array_mut().expect("array");
                while items.len() <= index {
                    items.push(Value::Null);
                }
                node = &mut items[index];
            } else {
                if !node.is_object() {
                    *node = Value::Object(Map::new());
                }
                node = node
                    .as_object_mut()
                    .expect("object")
                    .entry(part.to_string())
                    .or_insert(Value::Null);
            }
            if leaf {
                *node = typed.clone();
            } else if node.is_null() {
                *node = if next_is_index { json!([]) } else { json!({}) };
            }
        }
    }
    root
}
