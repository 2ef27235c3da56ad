//! The API lets in only callers with the connection's client token; the admin port needs none.

use e2e::{Node, NodeOptions, free_port};
use serde_json::Value;

fn node_with_token(token: &str) -> Node {
    // Nothing listens at this Stripe address: a call that got through would report ERROR.
    let mut options = NodeOptions::new(format!("http://127.0.0.1:{}", free_port()));
    options.client_token = Some(token.to_string());
    Node::start(&options)
}

#[tokio::test]
async fn missing_or_wrong_token_is_unauthenticated() {
    let node = node_with_token("tok-right-0123456789");
    let http = reqwest::Client::new();
    let url = format!("{}/v2:checkStatus", node.url());

    let missing = http.get(&url).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["status"], "UNAUTHENTICATED");
    assert!(
        !body.to_string().contains("tok-right"),
        "the token leaked: {body}"
    );

    let wrong = http
        .get(&url)
        .bearer_auth("tok-wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    let right = http
        .get(&url)
        .bearer_auth("tok-right-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    let status: Value = right.json().await.unwrap();
    assert_eq!(
        status["state"], "ERROR",
        "the call went on to Stripe: {status}"
    );

    let health = http
        .get(format!("{}/healthz", node.admin_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200, "probes need no token");
}

#[tokio::test]
async fn rotated_token_takes_effect_without_restart() {
    let node = node_with_token("tok-old");
    let http = reqwest::Client::new();
    let url = format!("{}/v2:checkStatus", node.url());
    assert_eq!(
        http.get(&url)
            .bearer_auth("tok-old")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    std::fs::write(node.token_file(), "tok-new").unwrap();
    // The node reads the file again on the next request after it changed: poll, bounded.
    let mut accepted = false;
    for _ in 0..50 {
        if http
            .get(&url)
            .bearer_auth("tok-new")
            .send()
            .await
            .unwrap()
            .status()
            == 200
        {
            accepted = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(accepted, "the rotated token was not accepted within 5 s");
    assert_eq!(
        http.get(&url)
            .bearer_auth("tok-old")
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}
