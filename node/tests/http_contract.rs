//! The HTTP contract of the API, in process: `server::app` driven with `oneshot` (and over a
//! loopback socket where connection reuse matters), with Stripe behind the `StripeApi` seam.
//! Stripe's own behaviour is covered by the wire tests in tests/ against real Stripe peers.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use clap::Parser;
use serde_json::{Value, json};
use stripe_node::config::Config;
use stripe_node::error::ApiError;
use stripe_node::metrics::Metrics;
use stripe_node::stripe::{StripeApi, StripeRequest};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

const LONG: &str = "/v2/projects/p1/locations/us-central1/connections/e2e";

/// Stripe in memory: customers in a list, one card-declined intent, an optional delay; every
/// request is recorded.
#[derive(Default)]
struct MemoryStripe {
    calls: Mutex<Vec<StripeRequest>>,
    delay: Option<Duration>,
}

#[async_trait]
impl StripeApi for MemoryStripe {
    async fn call(&self, request: StripeRequest) -> Result<Value, ApiError> {
        self.calls.lock().unwrap().push(request.clone());
        if let Some(d) = self.delay {
            tokio::time::sleep(d).await;
        }
        let path = request.path.split('?').next().unwrap_or_default();
        match (request.method.as_str(), path) {
            ("GET", "/v1/customers") => Ok(json!({"object": "list", "has_more": false, "data": [
                {"id": "cus_2", "email": "b@example.com", "name": "Bea", "created": 1700000200, "balance": 0},
                {"id": "cus_1", "email": "a@example.com", "name": "Al", "created": 1700000100, "balance": 5},
            ]})),
            ("GET", p) if p.starts_with("/v1/customers/") => {
                Ok(json!({"id": p.trim_start_matches("/v1/customers/"), "email": "a@example.com"}))
            }
            ("POST", "/v1/customers") => Ok(json!({"id": "cus_new", "object": "customer"})),
            ("POST", "/v1/payment_intents/pi_declined/confirm") => Err(ApiError::from_stripe(
                402,
                &json!({"error": {"type": "card_error", "code": "card_declined",
                    "decline_code": "generic_decline", "message": "Your card was declined."}}),
                Some("req_memory".into()),
            )),
            _ => Err(ApiError::from_stripe(
                404,
                &json!({"error": {"type": "invalid_request_error", "code": "resource_missing", "message": "No such object"}}),
                None,
            )),
        }
    }
}

impl MemoryStripe {
    fn calls(&self) -> usize {
        self.calls.lock().unwrap().len()
    }
}

struct Harness {
    app: Router,
    stripe: Arc<MemoryStripe>,
    metrics: Arc<Metrics>,
    _dir: tempfile::TempDir,
}

fn harness_with(stripe: MemoryStripe, args: &[&str], token: Option<&str>) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key");
    std::fs::write(&key, "sk_test_contract").unwrap();
    let mut argv = vec![
        "stripe-node".to_string(),
        "--stripe-api-key-file".into(),
        key.display().to_string(),
        "--connection-name".into(),
        "e2e".into(),
    ];
    if !args.contains(&"--tps-per-node") {
        argv.extend(["--tps-per-node".into(), "1000".into()]);
    }
    if let Some(token) = token {
        let file = dir.path().join("token");
        std::fs::write(&file, token).unwrap();
        argv.extend(["--client-token-file".into(), file.display().to_string()]);
    }
    argv.extend(args.iter().map(|a| a.to_string()));
    let config = Config::try_parse_from(argv).unwrap();
    let stripe = Arc::new(stripe);
    let api_key = stripe_node::stripe::ApiKeyFile::open(&key).unwrap();
    let state = stripe_node::server::build_state_with(config, &api_key, stripe.clone()).unwrap();
    Harness {
        metrics: state.metrics.clone(),
        app: stripe_node::server::app(state),
        stripe,
        _dir: dir,
    }
}

fn harness() -> Harness {
    harness_with(MemoryStripe::default(), &[], None)
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    /// The error object, asserting the google.rpc.Status shape and a code matching the status.
    fn error(&self, status: u16, code: &str) -> &Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        assert_eq!(self.body["error"]["code"], status, "{}", self.body);
        assert_eq!(self.body["error"]["status"], code, "{}", self.body);
        &self.body["error"]
    }

    fn violation(&self) -> &Value {
        &self.body["error"]["details"][0]["fieldViolations"][0]["field"]
    }

    /// The field a 400 INVALID_ARGUMENT names, asserting the status.
    fn invalid_field(&self) -> &Value {
        self.error(400, "INVALID_ARGUMENT");
        self.violation()
    }
}

async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    Answer {
        status,
        headers,
        body,
    }
}

fn request(method: Method, uri: &str, body: Option<Value>) -> Request<Body> {
    let builder = Request::builder().method(method).uri(uri);
    match body {
        Some(b) => builder
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_string()))
            .unwrap(),
        None => builder.body(Body::empty()).unwrap(),
    }
}

async fn get(app: &Router, uri: &str) -> Answer {
    send(app, request(Method::GET, uri, None)).await
}

async fn post(app: &Router, uri: &str, body: Value) -> Answer {
    send(app, request(Method::POST, uri, Some(body))).await
}

/// A POST of a body as it is, of the given content type.
async fn post_body(app: &Router, uri: &str, content_type: &str, body: Body) -> Answer {
    let request = Request::post(uri).header(header::CONTENT_TYPE, content_type);
    send(app, request.body(body).unwrap()).await
}

#[tokio::test]
async fn every_method_answers_at_its_resource_name_and_at_its_short_alias() {
    let h = harness();
    for prefix in [LONG, "/v2"] {
        let a = get(&h.app, &format!("{prefix}/entityTypes/Customer/entities")).await;
        assert_eq!(a.status, 200, "{prefix}: {}", a.body);
        let first = &a.body["entities"][0];
        assert_eq!(first["fields"]["Id"], "cus_2");
        let scope = if prefix == LONG {
            "projects/p1/locations/us-central1/connections/e2e"
        } else {
            "projects/-/locations/-/connections/e2e"
        };
        assert_eq!(
            first["name"],
            format!("{scope}/entityTypes/Customer/entities/cus_2")
        );
        let status = get(&h.app, &format!("{prefix}:checkStatus")).await;
        assert_eq!(status.body, json!({"state": "ACTIVE", "description": ""}));
        let ready = get(&h.app, &format!("{prefix}:checkReadiness")).await;
        assert_eq!(ready.body, json!({"status": "READY"}));
    }
    // Another connection is not served here.
    let other = get(
        &h.app,
        "/v2/projects/p1/locations/l/connections/other/entityTypes",
    )
    .await;
    let e = other.error(404, "NOT_FOUND");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("serves connection e2e")
    );
}

#[tokio::test]
async fn metadata_has_google_s_shapes_with_paging_and_views() {
    let h = harness();
    let a = get(&h.app, &format!("{LONG}/entityTypes/Customer")).await;
    assert_eq!(a.status, 200);
    assert_eq!(
        a.body["operations"],
        json!(["LIST", "GET", "CREATE", "UPDATE", "DELETE"])
    );
    let fields = a.body["fields"].as_array().unwrap();
    let field = |name: &str| fields.iter().find(|f| f["name"] == name).unwrap().clone();
    assert_eq!(field("Id")["key"], true);
    assert_eq!(field("Id")["dataType"], "VARCHAR");
    assert_eq!(field("Id")["additionalDetails"]["readOnly"], true);
    assert_eq!(field("Created")["dataType"], "TIMESTAMP");
    assert_eq!(field("Metadata")["dataType"], "STRUCT");
    assert_eq!(
        field("Email")["additionalDetails"]["pushedDownOperators"],
        json!(["=", "IN"])
    );
    assert_eq!(
        field("AddressCity")["additionalDetails"]["stripePath"],
        "address.city"
    );
    assert!(a.body.get("jsonSchema").is_none(), "BASIC view");
    let enriched = get(
        &h.app,
        &format!("{LONG}/entityTypes/Customer?view=ENTITY_TYPE_SCHEMA_VIEW_ENRICHED"),
    )
    .await;
    assert_eq!(
        enriched.body["jsonSchema"]["properties"]["Email"]["type"],
        json!(["string", "null"])
    );

    // Paging covers every entity type once.
    let mut names = Vec::new();
    let mut token = String::new();
    loop {
        let a = get(
            &h.app,
            &format!("{LONG}/entityTypes?pageSize=4&view=ENTITY_TYPE_VIEW_BASIC&pageToken={token}"),
        )
        .await;
        assert_eq!(a.status, 200, "{}", a.body);
        assert_eq!(a.body["unsupportedTypeNames"], json!([]));
        for t in a.body["types"].as_array().unwrap() {
            assert_eq!(t.as_object().unwrap().len(), 1, "BASIC is names only: {t}");
            names.push(t["name"].as_str().unwrap().to_string());
        }
        match a.body["nextPageToken"].as_str() {
            Some(next) => token = next.to_string(),
            None => break,
        }
    }
    assert_eq!(names.len(), stripe_node::catalog::ENTITIES.len());

    let confirm = get(&h.app, &format!("{LONG}/actions/ConfirmPaymentIntent")).await;
    assert_eq!(
        confirm.body["inputParameters"][0],
        json!({"name": "PaymentIntentId", "dataType": "VARCHAR", "nullable": false,
               "description": "The PaymentIntent id.",
               "additionalDetails": {"required": true, "stripeParam": "the object id in the path"}})
    );
    assert_eq!(confirm.body["displayName"], "Confirm Payment Intent");
    let actions = get(&h.app, &format!("{LONG}/actions?pageSize=0")).await;
    assert_eq!(
        actions.body["actions"].as_array().unwrap().len(),
        25.min(stripe_node::catalog::ACTIONS.len())
    );
    assert!(
        actions.body["actions"][0]["inputJsonSchema"].is_object(),
        "FULL by default"
    );
    get(&h.app, &format!("{LONG}/actions/Nope"))
        .await
        .error(404, "NOT_FOUND");
    get(&h.app, &format!("{LONG}/entityTypes/Customers"))
        .await
        .error(404, "NOT_FOUND");
    assert_eq!(h.stripe.calls(), 0, "metadata reaches no Stripe");
}

#[tokio::test]
async fn bad_requests_are_400s_naming_the_field_and_reach_no_stripe() {
    let h = harness();
    let list = format!("{LONG}/entityTypes/Customer/entities");
    for (query, field) in [
        ("pageSize=201", "pageSize"),
        ("pageSize=-1", "pageSize"),
        ("pageToken=garbage", "pageToken"),
        ("sortBy=Nope", "sortBy"),
        ("sortBy=Email&sortOrder=UP", "sortOrder"),
        ("pagesize=2", "pagesize"),
        ("alt=proto", "alt"),
        ("fields=entities(", "fields"),
        ("executionConfig.headers=nope", "executionConfig.headers"),
        ("conditions=Livemode%20%3D%20'yes'", "conditions.Livemode"),
    ] {
        let a = get(&h.app, &format!("{list}?{query}")).await;
        assert_eq!(a.invalid_field(), field, "{query}: {}", a.body);
    }
    // Limits name themselves: the page size, the clause's length and its nesting.
    let long = format!("Email%20%3D%20'{}'", "a".repeat(4100));
    let deep = format!("{}Email%20%3D%20'a'{}", "(".repeat(40), ")".repeat(40));
    for (query, limit) in [
        ("pageSize=201".to_string(), "200"),
        (format!("conditions={long}"), "4096 bytes"),
        (format!("conditions={deep}"), "32"),
    ] {
        let a = get(&h.app, &format!("{list}?{query}")).await;
        let e = a.error(400, "INVALID_ARGUMENT");
        assert!(e["message"].as_str().unwrap().contains(limit), "{}", a.body);
    }
    for (body, field) in [
        (json!({"fields": {"Emial": "x"}}), "Emial"),
        (json!({"fields": {"Id": "cus_1"}}), "Id"),
        (json!({"fields": {"Balance": "lots"}}), "Balance"),
        (json!({"fields": {"Metadata": "flat"}}), "Metadata"),
        (json!({"Email": "a@b.c"}), "Email"),
        (json!({}), "fields"),
    ] {
        let a = post(&h.app, &list, body.clone()).await;
        assert_eq!(a.invalid_field(), field, "{body}: {}", a.body);
    }
    let a = send(
        &h.app,
        request(
            Method::PATCH,
            &format!("{list}/cus_1"),
            Some(json!({"fields": {}})),
        ),
    )
    .await;
    a.error(400, "INVALID_ARGUMENT");
    let execute = |action: &str| format!("{LONG}/actions/{action}:execute");
    let a = post(&h.app, &execute("FinalizeQuote"), json!({"parameters": {}})).await;
    assert_eq!(a.violation(), "QuoteId");
    let a = post(
        &h.app,
        &execute("FinalizeQuote"),
        json!({"parameters": {"QuoteId": "qt_1"}, "extra": 1}),
    )
    .await;
    assert_eq!(a.violation(), "extra");
    post(
        &h.app,
        &format!("{LONG}/actions/FinalizeQuote:run"),
        json!({}),
    )
    .await
    .error(404, "NOT_FOUND");
    for verb in [
        "updateEntitiesWithConditions",
        "deleteEntitiesWithConditions",
    ] {
        for query in ["", "?conditions=", "?conditions=%20%20"] {
            let a = post(
                &h.app,
                &format!("{list}:{verb}{query}"),
                json!({"fields": {"Name": "All"}}),
            )
            .await;
            assert_eq!(a.invalid_field(), "conditions");
        }
    }
    // Operations Stripe lacks name what to use instead.
    let a = send(
        &h.app,
        request(
            Method::DELETE,
            &format!("{LONG}/entityTypes/Quote/entities/qt_1"),
            None,
        ),
    )
    .await;
    let e = a.error(405, "UNIMPLEMENTED");
    assert!(e["message"].as_str().unwrap().contains("CancelQuote"));
    assert_eq!(h.stripe.calls(), 0, "a refused request reached Stripe");
}

#[tokio::test]
async fn entities_are_written_with_entity_bodies_and_answer_entities() {
    let h = harness();
    let list = format!("{LONG}/entityTypes/Customer/entities");
    let created = post(&h.app, &list, json!({"fields": {"Email": "a@b.c"}})).await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(
        created.body,
        json!({"name": "projects/p1/locations/us-central1/connections/e2e/entityTypes/Customer/entities/cus_new",
               "fields": {"Id": "cus_new"}})
    );
    let got = get(&h.app, &format!("{list}/cus_9")).await;
    assert_eq!(got.body["fields"]["Id"], "cus_9");
    // sortBy and sortOrder are repeated parameters.
    let sorted = get(&h.app, &format!("{list}?sortBy=Balance&sortOrder=DESC")).await;
    assert_eq!(sorted.body["entities"][0]["fields"]["Id"], "cus_1");
    let sorted = get(
        &h.app,
        &format!("{list}?sortBy=Name&sortBy=Id&sortOrder=ASC&sortOrder=DESC"),
    )
    .await;
    assert_eq!(sorted.body["entities"][0]["fields"]["Name"], "Al");
    // System parameters: compact output and partial responses.
    let partial = get(
        &h.app,
        &format!(
            "{list}?alt=json&prettyPrint=false&fields=entities/fields/Email&quotaUser=q&key=k"
        ),
    )
    .await;
    assert_eq!(
        partial.body,
        json!({"entities": [{"fields": {"Email": "b@example.com"}}, {"fields": {"Email": "a@example.com"}}]})
    );
}

#[tokio::test]
async fn stripe_errors_carry_error_info_with_stripe_s_code() {
    let h = harness();
    let a = post(
        &h.app,
        &format!("{LONG}/actions/ConfirmPaymentIntent:execute"),
        json!({"parameters": {"PaymentIntentId": "pi_declined"}, "executionConfig": {"headers": "{}"}}),
    )
    .await;
    let e = a.error(400, "FAILED_PRECONDITION");
    let info = &e["details"][0];
    assert_eq!(info["@type"], "type.googleapis.com/google.rpc.ErrorInfo");
    assert_eq!(info["reason"], "CARD_DECLINED");
    assert_eq!(info["domain"], "stripe.com");
    assert_eq!(info["metadata"]["declineCode"], "generic_decline");
    assert_eq!(info["metadata"]["requestId"], "req_memory");
}

#[tokio::test]
async fn a_request_over_capacity_gets_429_with_retry_info_and_is_counted() {
    let h = harness_with(MemoryStripe::default(), &["--tps-per-node", "1"], None);
    let list = format!("{LONG}/entityTypes/Customer/entities");
    assert_eq!(get(&h.app, &list).await.status, 200);
    for _ in 0..3 {
        let a = get(&h.app, &list).await;
        let e = a.error(429, "RESOURCE_EXHAUSTED");
        assert_eq!(a.headers[header::RETRY_AFTER], "1");
        let retry = e["details"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["@type"] == "type.googleapis.com/google.rpc.RetryInfo")
            .expect("RetryInfo");
        assert!(retry["retryDelay"].as_str().unwrap().ends_with('s'));
    }
    assert_eq!(h.stripe.calls(), 1, "a throttled call reached Stripe");
    let metrics = h.metrics.encode();
    for line in [
        r#"stripe_connector_calls_total{kind="entity",name="Customer",client="anonymous",status="200"} 1"#,
        r#"stripe_connector_calls_total{kind="entity",name="Customer",client="anonymous",status="429"} 3"#,
    ] {
        assert!(metrics.contains(line), "{line} missing in:\n{metrics}");
    }
}

#[tokio::test]
async fn callers_without_the_token_get_a_parsable_challenge_and_cost_nothing() {
    let h = harness_with(
        MemoryStripe::default(),
        &["--tps-per-node", "1"],
        Some("tok-right-0123456789"),
    );
    let url = format!("{LONG}/entityTypes/Customer/entities");
    for token in [None, Some("tok-wrong"), Some("tok-right-012345678")] {
        for _ in 0..3 {
            let mut r = Request::get(&url);
            if let Some(t) = token {
                r = r.header(header::AUTHORIZATION, format!("Bearer {t}"));
            }
            let a = send(&h.app, r.body(Body::empty()).unwrap()).await;
            a.error(401, "UNAUTHENTICATED");
            let challenge = a.headers[header::WWW_AUTHENTICATE].to_str().unwrap();
            assert!(challenge.starts_with("Bearer realm=\""), "{challenge}");
            assert!(
                !a.body.to_string().contains("tok-right"),
                "the token leaked"
            );
        }
    }
    assert_eq!(h.stripe.calls(), 0);
    // OAuth-style, any case of the scheme: the budget of 1 TPS is still there.
    let a = send(
        &h.app,
        Request::get(&url)
            .header(header::AUTHORIZATION, "bearer tok-right-0123456789")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, 200, "refused callers used the budget: {}", a.body);
}

#[tokio::test]
async fn size_limits_answer_their_own_status_with_resource_exhausted() {
    let h = harness();
    let url = format!("{LONG}/entityTypes/Customer/entities");
    let big = json!({"fields": {"Description": "x".repeat(1024 * 1024 + 1)}});
    let a = post(&h.app, &url, big).await;
    let e = a.error(413, "RESOURCE_EXHAUSTED");
    assert!(e["message"].as_str().unwrap().contains("1048576 bytes"));
    // A streamed body declares no length: the limit applies while it is read.
    let chunked = Body::new(Chunked {
        left: 1024 * 1024 + 10,
    });
    let a = post_body(&h.app, &url, "application/json", chunked).await;
    a.error(413, "RESOURCE_EXHAUSTED");
    let a = send(
        &h.app,
        Request::get(&url)
            .header("x-padding", "p".repeat(17 * 1024))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let e = a.error(431, "RESOURCE_EXHAUSTED");
    assert!(e["message"].as_str().unwrap().contains("16384 bytes"));
    let form = Body::from("email=a%40b.c");
    let a = post_body(&h.app, &url, "application/x-www-form-urlencoded", form).await;
    assert_eq!(a.invalid_field(), "Content-Type");
    let cut_short = Body::from("{\"fields\": ");
    let a = post_body(&h.app, &url, "application/json", cut_short).await;
    let e = a.error(400, "INVALID_ARGUMENT");
    assert!(e["message"].as_str().unwrap().contains("not JSON"));
    assert_eq!(h.stripe.calls(), 0);
}

/// A body of `total` spaces in 64 KiB chunks that declares no length.
struct Chunked {
    left: usize,
}

impl hyper::body::Body for Chunked {
    type Data = bytes::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<bytes::Bytes>, std::io::Error>>> {
        let n = self.left.min(64 * 1024);
        self.left -= n;
        std::task::Poll::Ready(
            (n > 0).then(|| Ok(hyper::body::Frame::data(bytes::Bytes::from(vec![b' '; n])))),
        )
    }
}

#[tokio::test]
async fn a_slow_request_gets_a_504_naming_the_timeout() {
    let slow = MemoryStripe {
        delay: Some(Duration::from_secs(5)),
        ..MemoryStripe::default()
    };
    let h = harness_with(slow, &["--request-timeout-secs", "1"], None);
    let a = get(&h.app, &format!("{LONG}/entityTypes/Customer/entities")).await;
    let e = a.error(504, "DEADLINE_EXCEEDED");
    let message = e["message"].as_str().unwrap();
    assert!(
        message.contains("1s") && message.contains("--request-timeout-secs"),
        "{message}"
    );
}

#[tokio::test]
async fn unknown_routes_wrong_methods_and_oauth_methods_get_status_errors() {
    let h = harness();
    let e = get(&h.app, "/v2/nowhere").await;
    e.error(404, "NOT_FOUND");
    let a = send(
        &h.app,
        request(Method::PUT, &format!("{LONG}/entityTypes"), None),
    )
    .await;
    let e = a.error(405, "UNIMPLEMENTED");
    assert!(e["message"].as_str().unwrap().contains("PUT"));
    for verb in ["exchangeAuthCode", "refreshAccessToken"] {
        let a = post(&h.app, &format!("{LONG}:{verb}"), json!({})).await;
        let e = a.error(501, "UNIMPLEMENTED");
        assert!(e["message"].as_str().unwrap().contains("API key"));
    }
    for path in ["/resources", "/resources/a/b"] {
        get(&h.app, &format!("{LONG}{path}"))
            .await
            .error(501, "UNIMPLEMENTED");
    }
}

#[tokio::test]
async fn sql_queries_read_through_the_filter_and_shape_rows() {
    let h = harness();
    let url = format!("{LONG}:executeSqlQuery");
    let a = post(
        &h.app,
        &url,
        json!({"query": {"query": "SELECT Id, Email AS mail FROM Customer WHERE Balance >= ? ORDER BY Created", "queryParameters": [{"dataType": "BIGINT", "value": 0}], "maxRows": "10", "timeout": "30"}}),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        a.body,
        json!({"results": [{"Id": "cus_1", "mail": "a@example.com"}, {"Id": "cus_2", "mail": "b@example.com"}]})
    );
    let a = post(
        &h.app,
        &url,
        json!({"query": {"query": "UPDATE Customer SET Name = 'x'"}}),
    )
    .await;
    assert_eq!(a.invalid_field(), "query.query");
}

#[tokio::test]
async fn raw_requests_reach_only_stripe_through_the_client() {
    let h = harness();
    let url = format!("{LONG}:executeHttpRequest");
    let a = post(
        &h.app,
        &url,
        json!({"httpMethod": "HTTP_METHOD_GET", "url": "https://evil.example/v1/customers"}),
    )
    .await;
    a.error(400, "INVALID_ARGUMENT");
    assert_eq!(h.stripe.calls(), 0);
    let a = post(
        &h.app,
        &url,
        json!({"httpMethod": "HTTP_METHOD_GET", "url": "https://api.stripe.com/v1/customers/cus_7?expand[]=x"}),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["statusCode"], 200);
    use base64::Engine;
    let body = base64::engine::general_purpose::STANDARD
        .decode(a.body["body"].as_str().unwrap())
        .unwrap();
    let object: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(object["id"], "cus_7");
    assert_eq!(
        h.stripe.calls.lock().unwrap()[0].path,
        "/v1/customers/cus_7?expand[]=x"
    );
    // A Stripe error is an answer of the call, not a failure of it.
    let a = post(
        &h.app,
        &url,
        json!({"httpMethod": "HTTP_METHOD_POST", "url": "https://api.stripe.com/v1/payment_intents/pi_declined/confirm"}),
    )
    .await;
    assert_eq!(a.body["statusCode"], 402, "{}", a.body);
}

#[tokio::test]
async fn tools_run_actions_and_entity_operations() {
    let h = harness();
    let a = get(
        &h.app,
        &format!("{LONG}/tools?toolNames=ListCustomer&toolNames=ConfirmPaymentIntent"),
    )
    .await;
    let tools = a.body["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 2, "{}", a.body);
    assert!(
        tools
            .iter()
            .all(|t| t["inputSchema"].is_object() && t["outputSchema"].is_object())
    );
    let a = post(
        &h.app,
        &format!("{LONG}/tools/ListCustomer:execute"),
        json!({"parameters": {"conditions": "Email = 'a@example.com'"}}),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["result"]["entities"][0]["fields"]["Id"], "cus_1");
    let a = post(
        &h.app,
        &format!("{LONG}/tools/CreateCustomer:execute"),
        json!({"parameters": {"Email": "n@example.com"}}),
    )
    .await;
    assert_eq!(a.body["result"]["fields"]["Id"], "cus_new");
    let names = get(&h.app, &format!("{LONG}:listCustomToolNames")).await;
    assert!(names.body["toolNames"].as_array().unwrap().iter().any(
        |t| t == &json!({"name": "GetCustomer", "entityName": "Customer", "operation": "GET"})
    ));
}

/// One HTTP/1.1 exchange on an open socket: the status line and headers, and the body read by
/// its Content-Length.
async fn exchange(stream: &mut tokio::net::TcpStream, head: &str, body: &str) -> (u16, String) {
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.unwrap() == 0 {
            break;
        }
        buf.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let length: usize = text
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut rest = vec![0u8; length];
    stream.read_exact(&mut rest).await.unwrap();
    (status, text.to_ascii_lowercase())
}

#[tokio::test]
async fn an_answer_before_the_body_was_read_closes_the_connection_and_others_keep_it() {
    let h = harness_with(MemoryStripe::default(), &[], Some("tok"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, h.app).await });
    let body = r#"{"fields": {"Email": "a@b.c"}}"#;
    let head = |auth: &str| {
        format!(
            "POST /v2/entityTypes/Customer/entities HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{auth}\r\n",
            body.len()
        )
    };
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    // Authorized: the body is read, the connection stays open for the next request.
    let (status, headers) =
        exchange(&mut stream, &head("Authorization: Bearer tok\r\n"), body).await;
    assert_eq!(status, 200, "{headers}");
    assert!(!headers.contains("connection: close"), "{headers}");
    let (status, headers) = exchange(&mut stream, &head(""), body).await;
    assert_eq!(status, 401, "the same connection served a second request");
    assert!(headers.contains("connection: close"), "{headers}");
    assert!(
        headers.contains("www-authenticate: bearer realm="),
        "{headers}"
    );
}

#[tokio::test]
async fn a_rotated_token_takes_effect_without_restart() {
    let h = harness_with(MemoryStripe::default(), &[], Some("tok-old"));
    let status = |token: &'static str| {
        let app = h.app.clone();
        async move {
            let r = Request::get(format!("{LONG}:checkReadiness"))
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap();
            send(&app, r).await.status
        }
    };
    assert_eq!(status("tok-old").await, 200);
    let file = h._dir.path().join("token");
    std::fs::write(&file, "tok-new").unwrap();
    // The file's time moves on, as a Secret update does; the next request reads it again.
    let later = std::time::SystemTime::now() + Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(later)
        .unwrap();
    let mut accepted = false;
    for _ in 0..50 {
        if status("tok-new").await == 200 {
            accepted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(accepted, "the rotated token was not accepted within 5 s");
    assert_eq!(status("tok-old").await, 401);
}
