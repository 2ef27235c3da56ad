//! A Stripe-shaped fake for what localstripe lacks: quotes, invoice finalize/void/pay/send/
//! mark_uncollectible, idempotent replay, and faults injected per test. It speaks Stripe's wire
//! format (form bodies with bracket notation, list objects, error JSON) on 127.0.0.1.
//!
//! Control endpoints (no auth): `POST /_fake/faults` `{"path_prefix", "method"?, "status",
//! "count", "should_retry"?: bool, "retry_after"?: secs, "delay_ms"?, "after"?: bool}` (`after`:
//! do the work, then answer with the fault, as when a response is lost), `DELETE /_fake/faults`,
//! `GET /_fake/objects?type=customer` (ids with the idempotency key that created them),
//! `GET /_fake/requests?path_prefix=/v1/customers&method=POST` (`{"count": n}`),
//! `GET /_fake/last_request` (method, path, query pairs and Stripe headers of the last API
//! request, with the API key it carried: test keys only).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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
}

fn one() -> u32 {
    1
}

#[derive(Default)]
struct Store {
    /// Objects by id, and ids per collection in creation order.
    objects: HashMap<String, Value>,
    order: HashMap<String, Vec<String>>,
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

struct Reply {
    status: u16,
    body: Value,
    headers: Vec<(&'static str, String)>,
}

impl Reply {
    fn ok(body: Value) -> Self {
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

fn error(status: u16, kind: &str, code: Option<&str>, param: Option<&str>, message: &str) -> Reply {
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

fn invalid(message: &str) -> Reply {
    error(400, "invalid_request_error", None, None, message)
}

fn missing(param: &str) -> Reply {
    error(
        400,
        "invalid_request_error",
        Some("parameter_missing"),
        Some(param),
        &format!("Missing required param: {param}."),
    )
}

fn no_such(kind: &str, id: &str) -> Reply {
    error(
        404,
        "invalid_request_error",
        Some("resource_missing"),
        Some("id"),
        &format!("No such {kind}: '{id}'"),
    )
}

fn now() -> i64 {
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
    let pairs: Vec<(String, String)> = form_urlencoded::parse(form_text.as_bytes())
        .into_owned()
        .collect();
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

/// Collection path -> (object type, id prefix, deletable).
fn collection(name: &str) -> Option<(&'static str, &'static str, bool)> {
    Some(match name {
        "customers" => ("customer", "cus", true),
        "payment_intents" => ("payment_intent", "pi", false),
        "payment_methods" => ("payment_method", "pm", false),
        "setup_intents" => ("setup_intent", "seti", false),
        "invoices" => ("invoice", "in", true),
        "invoiceitems" => ("invoiceitem", "ii", true),
        "quotes" => ("quote", "qt", false),
        "charges" => ("charge", "ch", false),
        "refunds" => ("refund", "re", false),
        "products" => ("product", "prod", true),
        "prices" => ("price", "price", false),
        "subscriptions" => ("subscription", "sub", false),
        "subscription_items" => ("subscription_item", "si", true),
        "coupons" => ("coupon", "co", true),
        "promotion_codes" => ("promotion_code", "promo", false),
        "tax_rates" => ("tax_rate", "txr", false),
        "checkout/sessions" => ("checkout.session", "cs", false),
        _ => return None,
    })
}

fn route(
    s: &mut Store,
    method: &Method,
    path: &str,
    pairs: &[(String, String)],
    key: Option<&str>,
) -> Reply {
    let unrecognized = || {
        error(
            404,
            "invalid_request_error",
            None,
            None,
            &format!("Unrecognized request URL ({method}: {path})."),
        )
    };
    let Some(rest) = path.strip_prefix("/v1/") else {
        return unrecognized();
    };
    let (col, rest) = match rest.strip_prefix("checkout/sessions") {
        Some(r) => ("checkout/sessions", r.trim_start_matches('/')),
        None => rest.split_once('/').unwrap_or((rest, "")),
    };
    let Some((kind, prefix, deletable)) = collection(col) else {
        return unrecognized();
    };
    let params = nest(pairs);
    let mut segments = rest.split('/').filter(|x| !x.is_empty());
    let id = segments.next();
    let verb = segments.next();
    match (method.as_str(), id, verb) {
        ("GET", None, None) => list(s, col, kind, &params),
        ("POST", None, None) => create(s, col, kind, prefix, params, key),
        ("GET", Some(id), None) => match s.objects.get(id).filter(|o| o["object"] == kind) {
            Some(o) => Reply::ok(o.clone()),
            None => no_such(kind, id),
        },
        ("POST", Some(id), None) => {
            let live = |o: &&Value| o["object"] == kind && o["deleted"] != true;
            let Some(mut o) = s.objects.get(id).filter(live).cloned() else {
                return no_such(kind, id);
            };
            merge(&mut o, &params);
            s.objects.insert(id.to_string(), o.clone());
            Reply::ok(o)
        }
        ("DELETE", Some(id), None) if kind == "subscription" => transition(s, kind, id, |o| {
            if o["status"] == "canceled" {
                return Err(invalid("This subscription is already canceled."));
            }
            o["status"] = json!("canceled");
            o["canceled_at"] = json!(now());
            Ok(())
        }),
        ("DELETE", Some(id), None) if deletable => {
            let Some(o) = s
                .objects
                .get(id)
                .filter(|o| o["object"] == kind && o["deleted"] != true)
                .cloned()
            else {
                return no_such(kind, id);
            };
            if kind == "invoice" && o["status"] != "draft" {
                return invalid("You can only delete draft invoices.");
            }
            let tombstone = json!({"id": id, "object": kind, "deleted": true});
            if kind == "customer" {
                // Stripe keeps answering GET for a deleted customer with the tombstone.
                s.objects.insert(id.to_string(), tombstone.clone());
            } else {
                s.objects.remove(id);
            }
            Reply::ok(tombstone)
        }
        ("POST", Some(id), Some(verb)) => action(s, kind, id, verb, &params),
        _ => unrecognized(),
    }
}

fn list(s: &Store, col: &str, kind: &str, params: &Value) -> Reply {
    let limit = match params.get("limit").map(scalar_text) {
        None => 10,
        Some(t) => match t.parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => {
                return error(
                    400,
                    "invalid_request_error",
                    Some("parameter_invalid_integer"),
                    Some("limit"),
                    "This value must be greater than or equal to 1 and less than or equal to 100.",
                );
            }
        },
    };
    // Stripe lists newest first.
    let mut all: Vec<&Value> = s
        .order
        .get(col)
        .map(|ids| {
            ids.iter()
                .rev()
                .filter_map(|id| s.objects.get(id))
                .collect()
        })
        .unwrap_or_default();
    all.retain(|o| o["object"] == kind && o["deleted"] != true);
    if let Some(after) = params.get("starting_after").map(scalar_text) {
        match all.iter().position(|o| o["id"] == after.as_str()) {
            Some(i) => all.drain(..=i).for_each(drop),
            None => return no_such(kind, &after),
        }
    }
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
    // Like Stripe, subscriptions leave out canceled ones unless a status (or `all`) is asked for.
    let status_given = filters.iter().any(|(k, _)| *k == "status");
    if kind == "subscription" && !status_given {
        all.retain(|o| o["status"] != "canceled");
    }
    all.retain(|o| {
        filters.iter().all(|(k, want)| {
            (*k == "status" && *want == "all") || filter_matches(&o[k.as_str()], want)
        })
    });
    let has_more = all.len() > limit;
    all.truncate(limit);
    Reply::ok(
        json!({"object": "list", "data": all, "has_more": has_more, "url": format!("/v1/{col}")}),
    )
}

fn filter_matches(value: &Value, want: &Value) -> bool {
    match want {
        Value::Object(ops) => ops.iter().all(|(op, bound)| {
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
        }),
        _ => scalar_text(value) == scalar_text(want),
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn new_id(s: &mut Store, prefix: &str) -> String {
    s.next_id += 1;
    format!("{prefix}_fake{:010}", s.next_id)
}

fn insert(s: &mut Store, col: &str, object: Value, key: Option<&str>) -> Value {
    let id = object["id"].as_str().unwrap_or_default().to_string();
    s.order.entry(col.to_string()).or_default().push(id.clone());
    if let Some(k) = key {
        s.created_by_key.insert(id.clone(), k.to_string());
    }
    s.objects.insert(id, object.clone());
    object
}

fn create(
    s: &mut Store,
    col: &str,
    kind: &str,
    prefix: &str,
    params: Value,
    key: Option<&str>,
) -> Reply {
    let required: &[&str] = match kind {
        "payment_intent" => &["amount", "currency"],
        "invoice" | "invoiceitem" | "subscription" => &["customer"],
        "product" => &["name"],
        "price" => &["currency"],
        "checkout.session" => &["success_url"],
        _ => &[],
    };
    if let Some(p) = required.iter().find(|p| params.get(**p).is_none()) {
        return missing(p);
    }
    for reference in ["customer"] {
        if let Some(id) = params.get(reference).and_then(Value::as_str)
            && !s.objects.contains_key(id)
        {
            return error(
                400,
                "invalid_request_error",
                Some("resource_missing"),
                Some(reference),
                &format!("No such {reference}: '{id}'"),
            );
        }
    }
    let id = match (kind, params.get("id").and_then(Value::as_str)) {
        ("coupon" | "product", Some(id)) => id.to_string(),
        _ => new_id(s, prefix),
    };
    let mut object = template(kind, &id);
    merge(&mut object, &params);
    if kind == "payment_intent" {
        object["client_secret"] = json!(format!("{id}_secret_fake"));
        if object["payment_method"].is_string() {
            object["status"] = json!("requires_confirmation");
        }
    }
    if kind == "invoice" {
        object["lines"]["url"] = json!(format!("/v1/invoices/{id}/lines"));
    }
    if kind == "quote" {
        let total: i64 = object["line_items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|i| i["quantity"].as_i64().unwrap_or(1) * 1000)
                    .sum()
            })
            .unwrap_or(0);
        object["amount_total"] = json!(total);
        object["amount_subtotal"] = json!(total);
        object.as_object_mut().map(|m| m.remove("line_items"));
    }
    Reply::ok(insert(s, col, object, key))
}

/// Applies a state change to a stored object and returns it.
fn transition(
    s: &mut Store,
    kind: &str,
    id: &str,
    change: impl FnOnce(&mut Value) -> Result<(), Reply>,
) -> Reply {
    let Some(mut o) = s.objects.get(id).filter(|o| o["object"] == kind).cloned() else {
        return no_such(kind, id);
    };
    if let Err(reply) = change(&mut o) {
        return reply;
    }
    s.objects.insert(id.to_string(), o.clone());
    Reply::ok(o)
}

fn action(s: &mut Store, kind: &str, id: &str, verb: &str, params: &Value) -> Reply {
    let p = params.clone();
    match (kind, verb) {
        ("payment_intent", "confirm") => {
            let declined = p["payment_method"] == "pm_card_chargeDeclined"
                || s.objects
                    .get(id)
                    .is_some_and(|o| o["payment_method"] == "pm_card_chargeDeclined");
            if declined {
                let mut e = error(
                    402,
                    "card_error",
                    Some("card_declined"),
                    None,
                    "Your card was declined.",
                );
                e.body["error"]["decline_code"] = json!("generic_decline");
                return e;
            }
            let charge = new_id(s, "ch");
            transition(s, kind, id, |o| {
                if let Some(pm) = p.get("payment_method") {
                    o["payment_method"] = pm.clone();
                }
                if o["payment_method"].is_null() {
                    return Err(error(
                        400,
                        "invalid_request_error",
                        Some("payment_intent_unexpected_state"),
                        Some("payment_method"),
                        "You cannot confirm this PaymentIntent because it's missing a payment method.",
                    ));
                }
                if !["requires_confirmation", "requires_payment_method"]
                    .contains(&o["status"].as_str().unwrap_or_default())
                {
                    return Err(unexpected_state(o));
                }
                let amount = o["amount"].clone();
                if o["capture_method"] == "manual" {
                    o["status"] = json!("requires_capture");
                    o["amount_capturable"] = amount;
                } else {
                    o["status"] = json!("succeeded");
                    o["amount_received"] = amount;
                }
                o["latest_charge"] = json!(charge);
                Ok(())
            })
        }
        ("payment_intent", "capture") => transition(s, kind, id, |o| {
            if o["status"] != "requires_capture" {
                return Err(unexpected_state(o));
            }
            o["amount_received"] = p
                .get("amount_to_capture")
                .cloned()
                .unwrap_or(o["amount"].clone());
            o["amount_capturable"] = json!(0);
            o["status"] = json!("succeeded");
            Ok(())
        }),
        ("payment_intent", "cancel") => transition(s, kind, id, |o| {
            if ["succeeded", "canceled"].contains(&o["status"].as_str().unwrap_or_default()) {
                return Err(unexpected_state(o));
            }
            o["status"] = json!("canceled");
            o["canceled_at"] = json!(now());
            o["amount_capturable"] = json!(0);
            o["cancellation_reason"] = p.get("cancellation_reason").cloned().unwrap_or(Value::Null);
            Ok(())
        }),
        ("payment_method", "attach") => {
            let Some(customer) = p.get("customer").and_then(Value::as_str) else {
                return missing("customer");
            };
            if !s.objects.contains_key(customer) {
                return no_such("customer", customer);
            }
            let customer = customer.to_string();
            transition(s, kind, id, |o| {
                o["customer"] = json!(customer);
                Ok(())
            })
        }
        ("payment_method", "detach") => transition(s, kind, id, |o| {
            if o["customer"].is_null() {
                return Err(invalid(
                    "The payment method you provided is not attached to a customer so detachment is impossible.",
                ));
            }
            o["customer"] = Value::Null;
            Ok(())
        }),
        ("invoice", "finalize") => {
            let number = format!("FAKE-{:04}", s.next_id);
            transition(s, kind, id, |o| {
                require_status(o, &["draft"])?;
                o["status"] = json!("open");
                o["number"] = json!(number);
                o["effective_at"] = json!(now());
                o["ending_balance"] = json!(0);
                if o["amount_due"] == 0 {
                    // Stripe marks a zero-amount invoice paid on finalization.
                    o["status"] = json!("paid");
                    o["paid"] = json!(true);
                }
                Ok(())
            })
        }
        ("invoice", "void") => transition(s, kind, id, |o| {
            require_status(o, &["open", "uncollectible"])?;
            o["status"] = json!("void");
            Ok(())
        }),
        ("invoice", "pay") => transition(s, kind, id, |o| {
            require_status(o, &["open", "uncollectible"])?;
            o["status"] = json!("paid");
            o["paid"] = json!(true);
            o["paid_out_of_band"] = json!(p["paid_out_of_band"] == true);
            o["amount_paid"] = o["amount_due"].clone();
            o["amount_remaining"] = json!(0);
            Ok(())
        }),
        ("invoice", "send") => transition(s, kind, id, |o| require_status(o, &["open"])),
        ("invoice", "mark_uncollectible") => transition(s, kind, id, |o| {
            require_status(o, &["open"])?;
            o["status"] = json!("uncollectible");
            Ok(())
        }),
        ("quote", "finalize") => transition(s, kind, id, |o| {
            require_status(o, &["draft"])?;
            o["status"] = json!("open");
            o["number"] = json!(format!("QT-{id}"));
            Ok(())
        }),
        ("quote", "accept") => {
            let Some(quote) = s.objects.get(id).filter(|o| o["object"] == kind).cloned() else {
                return no_such(kind, id);
            };
            if quote["status"] != "open" {
                return unexpected_state(&quote);
            }
            let invoice_id = new_id(s, "in");
            let mut invoice = template("invoice", &invoice_id);
            invoice["customer"] = quote["customer"].clone();
            invoice["quote"] = json!(id);
            invoice["amount_due"] = quote["amount_total"].clone();
            invoice["lines"]["url"] = json!(format!("/v1/invoices/{invoice_id}/lines"));
            insert(s, "invoices", invoice, None);
            transition(s, kind, id, |o| {
                o["status"] = json!("accepted");
                o["invoice"] = json!(invoice_id);
                Ok(())
            })
        }
        ("quote", "cancel") => transition(s, kind, id, |o| {
            require_status(o, &["draft", "open"])?;
            o["status"] = json!("canceled");
            Ok(())
        }),
        ("subscription", "resume") => transition(s, kind, id, |o| {
            require_status(o, &["paused"])?;
            o["status"] = json!("active");
            Ok(())
        }),
        ("checkout.session", "expire") => transition(s, kind, id, |o| {
            require_status(o, &["open"])?;
            o["status"] = json!("expired");
            Ok(())
        }),
        ("setup_intent", "cancel") => transition(s, kind, id, |o| {
            o["status"] = json!("canceled");
            Ok(())
        }),
        _ => error(
            404,
            "invalid_request_error",
            None,
            None,
            &format!("Unrecognized request URL (POST: /v1/.../{id}/{verb})."),
        ),
    }
}

fn unexpected_state(o: &Value) -> Reply {
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

fn require_status(o: &Value, allowed: &[&str]) -> Result<(), Reply> {
    if allowed.contains(&o["status"].as_str().unwrap_or_default()) {
        Ok(())
    } else {
        Err(unexpected_state(o))
    }
}

/// The object a create starts from, with Stripe's keys in Stripe's order.
fn template(kind: &str, id: &str) -> Value {
    let created = now();
    let mut o = match kind {
        "customer" => json!({
            "id": id, "object": "customer", "address": null, "balance": 0, "created": created,
            "currency": null, "default_source": null, "delinquent": false, "description": null,
            "discount": null, "email": null, "invoice_prefix": "FAKE0001",
            "invoice_settings": {"custom_fields": null, "default_payment_method": null, "footer": null},
            "livemode": false, "metadata": {}, "name": null, "phone": null,
            "preferred_locales": [], "shipping": null, "tax_exempt": "none", "test_clock": null
        }),
        "payment_intent" => json!({
            "id": id, "object": "payment_intent", "amount": 0, "amount_capturable": 0,
            "amount_received": 0, "canceled_at": null, "cancellation_reason": null,
            "capture_method": "automatic", "client_secret": null,
            "confirmation_method": "automatic", "created": created, "currency": "usd",
            "customer": null, "description": null, "invoice": null, "last_payment_error": null,
            "latest_charge": null, "level3": null, "livemode": false, "metadata": {}, "next_action": null,
            "on_behalf_of": null, "payment_method": null,
            "payment_method_configuration_details": null,
            "payment_method_options": {"card": {"installments": null, "mandate_options": null,
                "network": null, "request_three_d_secure": "automatic"}},
            "payment_method_types": ["card"], "processing": null, "receipt_email": null,
            "review": null, "setup_future_usage": null, "shipping": null,
            "statement_descriptor": null, "statement_descriptor_suffix": null,
            "status": "requires_payment_method", "transfer_data": null, "transfer_group": null
        }),
        "payment_method" => json!({
            "id": id, "object": "payment_method",
            "billing_details": {"address": null, "email": null, "name": null, "phone": null},
            "card": {"brand": "visa", "exp_month": 12, "exp_year": 2034, "last4": "4242"},
            "created": created, "customer": null, "livemode": false, "metadata": {}, "type": "card"
        }),
        "invoice" => json!({
            "id": id, "object": "invoice", "account_country": "US",
            "account_name": "Stripe fake account", "amount_due": 0, "amount_paid": 0,
            "amount_remaining": 0, "auto_advance": false, "billing_reason": "manual",
            "charge": null, "collection_method": "charge_automatically", "created": created,
            "currency": "usd", "customer": null, "description": null, "discounts": [],
            "due_date": null, "effective_at": null, "ending_balance": null, "footer": null,
            "hosted_invoice_url": null,
            "lines": {"object": "list", "data": [], "has_more": false, "total_count": 0, "url": null},
            "livemode": false, "metadata": {}, "next_payment_attempt": null, "number": null,
            "on_behalf_of": null, "paid": false, "paid_out_of_band": false,
            "payment_intent": null, "status": "draft", "subscription": null, "subtotal": 0,
            "total": 0
        }),
        "quote" => json!({
            "id": id, "object": "quote", "amount_subtotal": 0, "amount_total": 0,
            "collection_method": "charge_automatically", "created": created, "currency": "usd",
            "customer": null, "description": null, "expires_at": created + 30 * 86400,
            "footer": null, "header": null, "invoice": null, "livemode": false, "metadata": {},
            "number": null, "status": "draft"
        }),
        "subscription" => json!({
            "id": id, "object": "subscription", "cancel_at_period_end": false,
            "canceled_at": null, "collection_method": "charge_automatically", "created": created,
            "current_period_end": created + 30 * 86400, "current_period_start": created,
            "customer": null, "items": {"object": "list", "data": [], "has_more": false},
            "livemode": false, "metadata": {}, "status": "active"
        }),
        "checkout.session" => json!({
            "id": id, "object": "checkout.session", "cancel_url": null, "created": created,
            "customer": null, "livemode": false, "metadata": {}, "mode": "payment",
            "payment_intent": null, "status": "open", "success_url": null, "url": null
        }),
        other => {
            json!({"id": id, "object": other, "created": created, "livemode": false, "metadata": {}})
        }
    };
    if kind == "subscription" {
        o["items"]["url"] = json!(format!("/v1/subscription_items?subscription={id}"));
    }
    o
}

/// Merges form params into an object; metadata merges key by key and "" clears.
fn merge(object: &mut Value, params: &Value) {
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
