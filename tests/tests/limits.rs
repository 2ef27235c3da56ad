//! Input limits on the wire, against a real node process: each limit answers a 4xx in the API's
//! JSON error shape that names the limit, and a caller without the token costs nothing.

use std::time::Duration;

use e2e::{Node, StripeFake, api_node_options, assert_error};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text:?}"));
    (status, body)
}

fn message(error: &Value) -> String {
    error["message"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn missing_or_wrong_token_makes_no_stripe_call_and_costs_no_budget() {
    let fake = StripeFake::start();
    let mut options = api_node_options(fake.url());
    options.client_token = Some("tok-right-0123456789".into());
    // One request per second and no waiting: had the refused callers used the budget, the
    // authorized call at the end would get 429.
    options.tps_per_node = 1;
    let node = Node::start(&options);
    let http = reqwest::Client::new();
    let url = format!("{}/v2/entityTypes/Customer/entities", node.url());
    let before = fake.request_count().await;

    for token in [
        None,
        Some("tok-wrong"),
        Some(""),
        Some("tok-right-012345678"),
    ] {
        for _ in 0..5 {
            let mut list = http.get(&url);
            let mut create = http.post(&url).json(&json!({"Email": "a@example.com"}));
            if let Some(t) = token {
                list = list.bearer_auth(t);
                create = create.bearer_auth(t);
            }
            for request in [list, create] {
                let (status, body) = answer(request.send().await.unwrap()).await;
                assert_error(status, &body, 401, "UNAUTHENTICATED");
            }
        }
    }
    assert_eq!(
        fake.request_count().await,
        before,
        "a refused caller reached Stripe"
    );

    let (status, body) = answer(
        http.get(&url)
            .bearer_auth("tok-right-0123456789")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "refused callers used the budget: {body}");
    assert_eq!(fake.request_count().await, before + 1);
}

#[tokio::test]
async fn a_request_over_capacity_gets_429_with_retry_after_and_never_reaches_stripe() {
    let fake = StripeFake::start();
    let mut options = api_node_options(fake.url());
    options.tps_per_node = 1;
    let node = Node::start(&options);
    let http = reqwest::Client::new();
    let url = format!("{}/v2/entityTypes/Customer/entities", node.url());
    let create = || http.post(&url).json(&json!({"Email": "a@example.com"}));

    let (status, body) = answer(create().send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    for _ in 0..5 {
        let response = create().send().await.unwrap();
        let retry_after: u64 = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .expect("Retry-After in whole seconds");
        // The next slot is under a second away at 1 TPS: rounded up to whole seconds.
        assert_eq!(retry_after, 1);
        let (status, body) = answer(response).await;
        assert_error(status, &body, 429, "RESOURCE_EXHAUSTED");
    }
    assert_eq!(
        fake.requests("POST", "/v1/customers").await,
        1,
        "a throttled create reached Stripe"
    );
}

#[tokio::test]
async fn oversized_bodies_get_a_json_413_naming_the_limit() {
    let fake = StripeFake::start();
    let node = Node::start(&api_node_options(fake.url()));
    let url = format!("{}/v2/entityTypes/Customer/entities", node.url());
    let big = json!({"Description": "x".repeat(1024 * 1024 + 1)});
    let response = reqwest::Client::new()
        .post(&url)
        .json(&big)
        .send()
        .await
        .unwrap();
    let (status, body) = answer(response).await;
    let error = assert_error(status, &body, 413, "INVALID_ARGUMENT");
    assert!(message(&error).contains("1048576 bytes"), "{body}");

    // A chunked body declares no length: the limit applies while it streams.
    let (status, body) = raw_request(
        node.port,
        "POST /v2/entityTypes/Customer/entities HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        &chunked(&vec![b' '; 1024 * 1024 + 10]),
    )
    .await;
    let error = assert_error(status, &body, 413, "INVALID_ARGUMENT");
    assert!(message(&error).contains("1048576 bytes"), "{body}");
    assert_eq!(fake.request_count().await, 0, "nothing reached Stripe");
}

#[tokio::test]
async fn bad_json_and_wrong_content_type_get_a_json_400_naming_the_problem() {
    let fake = StripeFake::start();
    let node = Node::start(&api_node_options(fake.url()));
    let http = reqwest::Client::new();
    let url = format!("{}/v2/entityTypes/Customer/entities", node.url());

    let (status, body) = answer(
        http.post(&url)
            .header("content-type", "application/json")
            .body("{\"Email\": ")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let error = assert_error(status, &body, 400, "INVALID_ARGUMENT");
    assert!(message(&error).contains("not JSON"), "{body}");
    assert_eq!(error["details"][0]["fieldViolations"][0]["field"], "body");

    let (status, body) = answer(
        http.post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("email=a%40example.com")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let error = assert_error(status, &body, 400, "INVALID_ARGUMENT");
    assert!(message(&error).contains("application/json"), "{body}");
    assert_eq!(
        error["details"][0]["fieldViolations"][0]["field"],
        "Content-Type"
    );
    assert_eq!(fake.request_count().await, 0, "nothing reached Stripe");
}

#[tokio::test]
async fn oversized_headers_get_a_json_431_naming_the_limit() {
    let fake = StripeFake::start();
    let node = Node::start(&api_node_options(fake.url()));
    let response = reqwest::Client::new()
        .get(format!("{}/v2/entityTypes/Customer/entities", node.url()))
        .header("x-padding", "p".repeat(17 * 1024))
        .send()
        .await
        .unwrap();
    let (status, body) = answer(response).await;
    let error = assert_error(status, &body, 431, "INVALID_ARGUMENT");
    assert!(message(&error).contains("16384 bytes"), "{body}");
    assert_eq!(fake.request_count().await, 0, "nothing reached Stripe");
}

#[tokio::test]
async fn a_slow_request_gets_a_json_504_naming_the_timeout() {
    let fake = StripeFake::start();
    let mut options = api_node_options(fake.url());
    options
        .extra_args
        .extend(["--request-timeout-secs".into(), "1".into()]);
    let node = Node::start(&options);
    fake.inject(json!({"path_prefix": "/v1/customers", "status": 0, "count": 1, "delay_ms": 3000}))
        .await;
    let (status, body) = answer(
        reqwest::get(format!("{}/v2/entityTypes/Customer/entities", node.url()))
            .await
            .unwrap(),
    )
    .await;
    let error = assert_error(status, &body, 504, "DEADLINE_EXCEEDED");
    assert!(message(&error).contains("1s"), "{body}");
    assert!(message(&error).contains("--request-timeout-secs"), "{body}");
    // The node serves again at once.
    let (status, _) = answer(
        reqwest::get(format!("{}/v2/entityTypes/Customer/entities", node.url()))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn page_size_and_filter_limits_name_the_limit() {
    let fake = StripeFake::start();
    let node = Node::start(&api_node_options(fake.url()));
    let http = reqwest::Client::new();
    let url = format!("{}/v2/entityTypes/Customer/entities", node.url());
    // (query, the field named, the limit named)
    let cases: [(Query, &str, &str); 3] = [
        (vec![("pageSize", "201".into())], "pageSize", "200"),
        (
            vec![("conditions", format!("Email = '{}'", "a".repeat(4100)))],
            "conditions",
            "4096 bytes",
        ),
        (
            vec![(
                "conditions",
                format!("{}Email = 'a'{}", "(".repeat(40), ")".repeat(40)),
            )],
            "conditions",
            "32",
        ),
    ];
    for (query, field, limit) in cases {
        let (status, body) = answer(http.get(&url).query(&query).send().await.unwrap()).await;
        let error = assert_error(status, &body, 400, "INVALID_ARGUMENT");
        assert!(message(&error).contains(limit), "{query:?}: {body}");
        assert_eq!(
            error["details"][0]["fieldViolations"][0]["field"], field,
            "{body}"
        );
    }
    assert_eq!(fake.request_count().await, 0, "nothing reached Stripe");
}

type Query = Vec<(&'static str, String)>;

/// One HTTP/1.1 exchange over a raw socket (for framing reqwest does not send), status and JSON.
async fn raw_request(port: u16, head: &str, body: &[u8]) -> (u16, Value) {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    stream.write_all(head.as_bytes()).await.expect("write head");
    // The node may answer and close before the whole body is sent.
    let _ = stream.write_all(body).await;
    let mut reply = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut reply)).await;
    let text = String::from_utf8_lossy(&reply).to_string();
    let status: u16 = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {text:?}"));
    let start = text
        .find('{')
        .unwrap_or_else(|| panic!("no JSON: {text:?}"));
    let end = text.rfind('}').expect("JSON end");
    (
        status,
        serde_json::from_str(&text[start..=end]).expect("JSON body"),
    )
}

fn chunked(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in body.chunks(64 * 1024) {
        out.extend(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend(chunk);
        out.extend(b"\r\n");
    }
    out.extend(b"0\r\n\r\n");
    out
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_get_json_errors() {
    let fake = StripeFake::start();
    let node = Node::start(&api_node_options(fake.url()));
    let http = reqwest::Client::new();

    let (status, body) = answer(
        http.get(format!("{}/v2/nowhere", node.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["status"], "NOT_FOUND");
    assert!(message(&body["error"]).contains("/v2/nowhere"), "{body}");

    let (status, body) = answer(
        http.put(format!("{}/v2/entityTypes", node.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 501);
    assert_eq!(body["error"]["status"], "UNIMPLEMENTED");
    assert!(message(&body["error"]).contains("PUT"), "{body}");
}
