//! The node's Stripe client on the wire, against the Stripe fake: idempotency keys on every POST,
//! bounded retries that honour Stripe-Should-Retry, and Stripe errors mapped to canonical codes.

use e2e::checked_calls::assert_message_starts_with;
use e2e::{
    Api, CUSTOMERS, Node, api_node_options, assert_error, assert_mentions, error_info,
    fake_and_node, fake_and_node_with, stripe_detail,
};
use serde_json::json;

#[tokio::test]
async fn a_create_whose_response_is_lost_is_retried_without_creating_two_objects() {
    let (fake, _node, api) = fake_and_node();
    // Stripe creates the customer, then the response is lost twice (a 500 after the work).
    fake.inject(json!({"path_prefix": "/v1/customers", "method": "POST", "status": 500, "count": 2, "after": true}))
        .await;
    let id = api
        .create("Customer", json!({"Email": "once@example.com"}))
        .await;
    assert_eq!(fake.requests("POST", "/v1/customers").await, 3);
    let objects = fake.objects("customer").await;
    assert_eq!(objects.len(), 1, "{objects:?}");
    assert_eq!(objects[0]["id"], id.as_str());
    let key = objects[0]["idempotency_key"]
        .as_str()
        .expect("a generated key");
    assert_eq!(key.len(), 36, "a UUID v4: {key}");
}

#[tokio::test]
async fn the_caller_s_idempotency_key_is_passed_on_and_replays() {
    let (fake, _node, api) = fake_and_node();
    let body = json!({"Email": "replay@example.com"});
    let (s1, first) = api.post_with_key(CUSTOMERS, &body, "order-6735").await;
    let (s2, second) = api.post_with_key(CUSTOMERS, &body, "order-6735").await;
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(first, second, "the replay returns the same object");
    let objects = fake.objects("customer").await;
    assert_eq!(objects.len(), 1);
    assert_eq!(objects[0]["idempotency_key"], "order-6735");

    // The same key with other parameters is Stripe's idempotency error, a 400.
    let (status, err) = api
        .post_with_key(
            CUSTOMERS,
            &json!({"Email": "other@example.com"}),
            "order-6735",
        )
        .await;
    let err = assert_error(status, &err, 400, "INVALID_ARGUMENT");
    assert_eq!(
        stripe_detail(&err, "stripeType"),
        "idempotency_error",
        "{err}"
    );
    assert_eq!(fake.objects("customer").await.len(), 1);
}

#[tokio::test]
async fn rate_limits_and_outages_are_retried_with_backoff() {
    let (fake, _node, api) = fake_and_node();
    fake.inject(
        json!({"path_prefix": "/v1/customers", "method": "POST", "status": 429, "count": 1}),
    )
    .await;
    fake.inject(
        json!({"path_prefix": "/v1/customers", "method": "POST", "status": 503, "count": 1}),
    )
    .await;
    fake.inject(json!({"path_prefix": "/v1/customers", "method": "POST", "status": 409, "count": 1, "retry_after": 0})).await;
    api.create("Customer", json!({"Name": "Patient"})).await;
    assert_eq!(fake.requests("POST", "/v1/customers").await, 4);
    assert_eq!(fake.objects("customer").await.len(), 1);
}

#[tokio::test]
async fn stripe_should_retry_false_is_never_retried() {
    let (fake, _node, api) = fake_and_node();
    fake.inject(json!({"path_prefix": "/v1/customers", "method": "POST", "status": 500, "count": 1, "should_retry": false})).await;
    let (status, body) = api.post(CUSTOMERS, &json!({"Name": "Once"})).await;
    let err = assert_error(status, &body, 503, "UNAVAILABLE");
    assert_eq!(stripe_detail(&err, "stripeHttpStatus"), "500");
    assert_eq!(fake.requests("POST", "/v1/customers").await, 1);
    assert!(fake.objects("customer").await.is_empty());
}

#[tokio::test]
async fn stripe_should_retry_true_is_retried_even_on_a_400() {
    let (fake, _node, api) = fake_and_node();
    fake.inject(json!({"path_prefix": "/v1/customers", "method": "POST", "status": 400, "count": 1, "should_retry": true})).await;
    api.create("Customer", json!({"Name": "Again"})).await;
    assert_eq!(fake.requests("POST", "/v1/customers").await, 2);
}

#[tokio::test]
async fn retries_are_bounded_and_then_the_error_is_mapped() {
    let (fake, _node, api) = fake_and_node();
    fake.inject(json!({"path_prefix": "/v1/customers", "status": 429, "count": 100}))
        .await;
    let (status, body) = api.get(CUSTOMERS).await;
    let err = assert_error(status, &body, 429, "RESOURCE_EXHAUSTED");
    assert_eq!(stripe_detail(&err, "stripeCode"), "rate_limit");
    // The first try and three retries.
    assert_eq!(fake.requests("GET", "/v1/customers").await, 4);
}

#[tokio::test]
async fn stripe_errors_map_to_canonical_codes_with_stripe_s_fields() {
    let (_fake, _node, api) = fake_and_node();
    // Missing object: 404 NOT_FOUND with Stripe's code and param.
    let (status, body) = api.get(&format!("{CUSTOMERS}/cus_missing")).await;
    let err = assert_error(status, &body, 404, "NOT_FOUND");
    assert_eq!(
        stripe_detail(&err, "stripeCode"),
        "resource_missing",
        "{err}"
    );
    assert_mentions(&err, "cus_missing");

    // Card error: 400 FAILED_PRECONDITION with code and decline_code.
    let pi = api
        .create(
            "PaymentIntent",
            json!({"Amount": 500, "Currency": "usd", "PaymentMethod": "pm_card_chargeDeclined"}),
        )
        .await;
    let (status, body) = api
        .execute("ConfirmPaymentIntent", json!({"PaymentIntentId": pi}))
        .await;
    let err = assert_error(status, &body, 400, "FAILED_PRECONDITION");
    assert_eq!(stripe_detail(&err, "stripeType"), "card_error", "{err}");
    assert_eq!(stripe_detail(&err, "stripeCode"), "card_declined");
    assert_eq!(stripe_detail(&err, "declineCode"), "generic_decline");
    assert_eq!(error_info(&err)["reason"], "CARD_DECLINED");
    assert_eq!(stripe_detail(&err, "requestId"), "req_fake");
    assert_eq!(err["message"], "Your card was declined.");

    // Invalid request with a param: 400 INVALID_ARGUMENT naming the API's field.
    let (status, body) = api
        .post(
            "/v2/entityTypes/PaymentIntent/entities",
            &json!({"Currency": "usd"}),
        )
        .await;
    let err = assert_error(status, &body, 400, "INVALID_ARGUMENT");
    assert_eq!(
        err["details"][0]["fieldViolations"][0]["field"], "Amount",
        "{err}"
    );
    assert_eq!(stripe_detail(&err, "param"), "amount");

    // A state error from Stripe (capturing an uncaptureable intent) stays Stripe's message.
    let (status, body) = api
        .execute("CapturePaymentIntent", json!({"PaymentIntentId": pi}))
        .await;
    let err = assert_error(status, &body, 400, "INVALID_ARGUMENT");
    assert_eq!(
        stripe_detail(&err, "stripeCode"),
        "payment_intent_unexpected_state"
    );
}

#[tokio::test]
async fn a_rejected_key_is_unauthenticated_and_never_echoed() {
    let (_fake, node, api) = fake_and_node_with(|options| options.api_key = "sk_test_good".into());
    // Rotate the mounted key to one the fake rejects: the node re-reads it on change.
    std::fs::write(node.key_file(), "pk_test_rotated_secret").unwrap();
    let (status, body) = api.get(CUSTOMERS).await;
    assert_error(status, &body, 401, "UNAUTHENTICATED");
    assert!(!body.to_string().contains("pk_test_rotated_secret"));
}

#[tokio::test]
async fn stripe_version_and_account_headers_are_sent() {
    let (fake, _node, api) = fake_and_node_with(|options| {
        options.extra_args.extend([
            "--stripe-account-id".to_string(),
            "acct_connected".to_string(),
            "--stripe-api-version".to_string(),
            "2024-06-20".to_string(),
        ])
    });
    api.create("Customer", json!({"Name": "Headers"})).await;
    let last = fake.last_request().await;
    assert_eq!(last["method"], "POST");
    assert_eq!(last["stripe_account"], "acct_connected");
    assert_eq!(last["stripe_version"], "2024-06-20");
    assert!(last["idempotency_key"].is_string(), "{last}");

    // GETs carry no idempotency key; the default version is the pinned 2023-08-16.
    let node = Node::start(&api_node_options(fake.url()));
    Api::new(node.url()).get(CUSTOMERS).await;
    let last = fake.last_request().await;
    assert_eq!(last["method"], "GET");
    assert_eq!(last["stripe_version"], "2023-08-16");
    assert_eq!(last["stripe_account"], serde_json::Value::Null);
    assert_eq!(last["idempotency_key"], serde_json::Value::Null);
}

#[tokio::test]
async fn an_unreachable_stripe_is_unavailable_after_bounded_retries() {
    // Nothing listens on this port.
    let node = Node::start(&api_node_options(format!(
        "http://127.0.0.1:{}",
        e2e::free_port()
    )));
    let api = Api::new(node.url());
    let (status, body) = api.get(CUSTOMERS).await;
    let err = assert_error(status, &body, 503, "UNAVAILABLE");
    assert_message_starts_with(&err, "Stripe is unreachable at 127.0.0.1:");
    let (status, body) = api.get("/v2:checkStatus").await;
    assert_eq!(status, 200);
    assert_eq!(body["state"], "ERROR", "{body}");
}
