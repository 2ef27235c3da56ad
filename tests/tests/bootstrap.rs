//! Proves the test bootstrap: a real node process, a real localstripe and a real redis-server.

use e2e::{Localstripe, Node, NodeOptions, Redis, get_json};

#[tokio::test]
async fn node_answers_health_and_reaches_localstripe() {
    let stripe = Localstripe::start();
    let node = Node::start(&NodeOptions::new(stripe.url()));

    let health = reqwest::get(format!("{}/healthz", node.admin_url()))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    let status = get_json(&format!("{}/v2:checkStatus", node.url())).await;
    assert_eq!(status["state"], "ACTIVE", "{status}");
}

#[tokio::test]
async fn check_status_reports_auth_error_for_a_rejected_key() {
    let stripe = Localstripe::start();
    let mut options = NodeOptions::new(stripe.url());
    // localstripe rejects publishable keys with 401, as Stripe does for a bad key.
    options.api_key = "sk_test_x".into();
    let node = Node::start(&options);
    std::fs::write(node.key_file(), "pk_test_not_a_secret_key").unwrap();
    let status = get_json(&format!("{}/v2:checkStatus", node.url())).await;
    assert_eq!(status["state"], "AUTH_ERROR", "{status}");
}

#[test]
fn redis_server_starts_and_answers() {
    let redis = Redis::start();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", redis.port)).unwrap();
    use std::io::{Read, Write};
    stream.write_all(b"PING\r\n").unwrap();
    let mut buf = [0u8; 7];
    stream.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"+PONG\r\n");
}
