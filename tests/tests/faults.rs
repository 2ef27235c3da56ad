//! Faults with real processes (node, Stripe fake, redis-server): Stripe timeouts, SIGTERM with
//! requests in flight, the API key file replaced. After each: no duplicate object at the fake (by
//! idempotency key), every acknowledged create exists there, and the node serves again without
//! a restart. Stripe 500/429/Stripe-Should-Retry are in stripe_client.rs, Redis killed and
//! restarted in limiter_nodes.rs.

use std::collections::HashSet;
use std::time::Duration;

use e2e::{
    Api, CUSTOMERS, Node, Redis, StripeFake, api_node_options, assert_error_mentions,
    fake_and_node_with, replace_file,
};
use serde_json::json;

/// No two customers at the fake were made with one idempotency key, and every acknowledged
/// create (its id) is there.
async fn assert_nothing_lost_or_doubled(fake: &StripeFake, acknowledged: &[String]) {
    let objects = fake.objects("customer").await;
    let mut keys = HashSet::new();
    for o in &objects {
        if let Some(key) = o["idempotency_key"].as_str() {
            assert!(
                keys.insert(key.to_string()),
                "two objects for key {key}: {objects:?}"
            );
        }
    }
    let ids: HashSet<&str> = objects.iter().filter_map(|o| o["id"].as_str()).collect();
    for id in acknowledged {
        assert!(
            ids.contains(id.as_str()),
            "acknowledged {id} is lost: {objects:?}"
        );
    }
}

/// The node answers a list and a create (acknowledged: returned for the final check).
async fn serves_again(api: &Api) -> String {
    let (status, body) = api.get(CUSTOMERS).await;
    assert_eq!(status, 200, "{body}");
    api.create("Customer", json!({"Email": "again@example.com"}))
        .await
}

/// The fake holds each of the next `count` customer creates for `delay_ms`, then does it.
async fn hold_creates(fake: &StripeFake, count: u32, delay_ms: u64) {
    fake.inject(
        json!({"path_prefix": "/v1/customers", "method": "POST", "status": 0,
        "count": count, "delay_ms": delay_ms}),
    )
    .await;
}

/// A node with a 1 s Stripe timeout and `retries`, before a fake that holds the first `held`
/// creates for 1.5 s, past that timeout.
async fn slow_creates(retries: &str, held: u32) -> (StripeFake, Node, Api) {
    let (fake, node, api) = fake_and_node_with(|options| {
        options.extra_args.extend([
            "--stripe-timeout-secs".into(),
            "1".into(),
            "--stripe-max-retries".into(),
            retries.into(),
        ])
    });
    hold_creates(&fake, held, 1500).await;
    (fake, node, api)
}

#[tokio::test]
async fn a_stripe_timeout_is_retried_with_the_same_key_and_creates_one_object() {
    // The first attempt outlasts the node's 1 s Stripe timeout, yet Stripe still does the work.
    let (fake, _node, api) = slow_creates("2", 1).await;
    let id = api
        .create("Customer", json!({"Email": "slow@example.com"}))
        .await;
    assert_eq!(fake.requests("POST", "/v1/customers").await, 2, "one retry");
    // Let the slow first attempt finish at the fake: it replays the retry's object.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let objects = fake.objects("customer").await;
    assert_eq!(objects.len(), 1, "{objects:?}");
    assert_nothing_lost_or_doubled(&fake, std::slice::from_ref(&id)).await;
    let again = serves_again(&api).await;
    assert_nothing_lost_or_doubled(&fake, &[id, again]).await;
}

#[tokio::test]
async fn stripe_timing_out_throughout_is_a_clear_error_and_the_caller_s_retry_makes_one_object() {
    let (fake, _node, api) = slow_creates("1", 2).await;
    let body = json!({"Email": "timeout@example.com"});
    let (status, error) = api.post_with_key(CUSTOMERS, &body, "order-6735").await;
    let timeout = "did not finish within 1s";
    assert_error_mentions(status, &error, 504, "DEADLINE_EXCEEDED", timeout);
    // Both slow attempts run to their end at the fake (the second replays the first); the
    // checks below hold whenever it ends, the wait only lets it end before them.
    for _ in 0..50 {
        if !fake.objects("customer").await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(1600)).await;
    // The caller retries with its key: Stripe replays the object it made.
    let (status, replay) = api.post_with_key(CUSTOMERS, &body, "order-6735").await;
    assert_eq!(status, 200, "{replay}");
    let id = replay["fields"]["Id"].as_str().expect("Id").to_string();
    let objects = fake.objects("customer").await;
    assert_eq!(objects.len(), 1, "{objects:?}");
    assert_eq!(objects[0]["id"], id.as_str());
    assert_eq!(objects[0]["idempotency_key"], "order-6735");
    let again = serves_again(&api).await;
    assert_nothing_lost_or_doubled(&fake, &[id, again]).await;
}

#[tokio::test]
async fn sigterm_finishes_in_flight_requests_refuses_new_ones_and_leaves_the_limiter_at_once() {
    let fake = StripeFake::start();
    let redis = Redis::start();
    let mut options = api_node_options(fake.url());
    options.redis_url = Some(redis.url());
    options.connection_name = "drain".into();
    // The account budget (25/s for test keys) out of the way too: four creates at once.
    options.extra_args.extend([
        "--node-id".into(),
        "n1".into(),
        "--account-tps".into(),
        "1000000".into(),
    ]);
    let mut node = Node::start(&options);
    let nodes_key = "stripe-connector:connection:drain:nodes";
    let mut r = redis::Client::open(redis.url())
        .unwrap()
        .get_connection()
        .unwrap();
    let live = |r: &mut redis::Connection| -> Vec<String> {
        redis::cmd("ZRANGE")
            .arg(nodes_key)
            .arg(0)
            .arg(-1)
            .query(r)
            .unwrap()
    };
    for _ in 0..50 {
        if live(&mut r) == ["n1"] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(live(&mut r), ["n1"], "the node joined the limiter");

    // Four slow creates in flight.
    hold_creates(&fake, 4, 2000).await;
    let mut in_flight = tokio::task::JoinSet::new();
    for i in 0..4 {
        let api = Api::new(node.url());
        in_flight.spawn(async move {
            api.post(
                CUSTOMERS,
                &json!({"Email": format!("inflight{i}@example.com")}),
            )
            .await
        });
    }
    for _ in 0..100 {
        if fake.requests("POST", "/v1/customers").await == 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(fake.requests("POST", "/v1/customers").await, 4);

    node.service.signal(libc::SIGTERM);
    // While the four are still held at the fake: the node has left Redis and refuses new
    // connections.
    let mut left = false;
    let mut refused = false;
    for _ in 0..50 {
        left = left || live(&mut r).is_empty();
        refused = refused || std::net::TcpStream::connect(("127.0.0.1", node.port)).is_err();
        if left && refused {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        left,
        "the node is still in the limiter's live nodes: {:?}",
        live(&mut r)
    );
    assert!(refused, "the node still accepts new connections");
    assert!(
        !in_flight.is_empty() && fake.objects("customer").await.is_empty(),
        "checked while the requests were still in flight"
    );

    let mut acknowledged = Vec::new();
    while let Some(result) = in_flight.join_next().await {
        let (status, body) = result.unwrap();
        assert_eq!(status, 200, "an in-flight request failed: {body}");
        acknowledged.push(body["fields"]["Id"].as_str().expect("Id").to_string());
    }
    assert_eq!(
        node.service.wait(Duration::from_secs(10)),
        Some(true),
        "clean exit"
    );
    assert_eq!(acknowledged.len(), 4);
    assert_nothing_lost_or_doubled(&fake, &acknowledged).await;
    assert_eq!(fake.objects("customer").await.len(), 4);

    // A new node process takes over: the connection serves again.
    let node = Node::start(&options);
    let again = serves_again(&Api::new(node.url())).await;
    acknowledged.push(again);
    assert_nothing_lost_or_doubled(&fake, &acknowledged).await;
}

#[tokio::test]
async fn a_replaced_api_key_file_is_used_without_restart() {
    let (fake, node, api) =
        fake_and_node_with(|options| options.api_key = "sk_test_old_key".into());
    let first = api
        .create("Customer", json!({"Email": "old@example.com"}))
        .await;
    assert_eq!(fake.last_request().await["api_key"], "sk_test_old_key");

    replace_file(&node.key_file(), "sk_test_new_key");

    let mut acknowledged = vec![first];
    let mut switched = false;
    for i in 0..50 {
        acknowledged.push(
            api.create("Customer", json!({"Email": format!("k{i}@example.com")}))
                .await,
        );
        if fake.last_request().await["api_key"] == "sk_test_new_key" {
            switched = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(switched, "the node never sent the new key");
    let (status, body) = api.get(CUSTOMERS).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(fake.last_request().await["api_key"], "sk_test_new_key");
    assert!(
        !body.to_string().contains("sk_test"),
        "a key leaked: {body}"
    );
    acknowledged.push(serves_again(&api).await);
    assert_nothing_lost_or_doubled(&fake, &acknowledged).await;
}
