//! Least privilege over real processes: a node with named clients in front of the Stripe fake.
//! Scopes allowed and refused (refusals never reach Stripe: the fake counts its requests), one
//! client's token rotated while another's keeps working, the audit line of every kind of write,
//! and hostile ids, parameters and headers answered 4xx in the JSON shape.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;

use e2e::checked_calls::{bulk_path, delete_with_conditions, update_with_conditions};
use e2e::{
    Api, CUSTOMERS, Node, StripeFake, assert_error, assert_ok, error_info, fake_and_node_with,
    replace_file,
};
use serde_json::{Value, json};

const ADMIN: &str = "admin-token-5b1e0c9d7a";
const READER: &str = "reader-token-8c2f4e6a1b";
const PAYER: &str = "payer-token-3d9a7b5c2e";

/// A node with three clients: `admin` (everything), `reader` (Customer LIST and GET) and
/// `payer` (CancelPaymentIntent, and GET of PaymentIntents), logging at `error` only.
struct Scoped {
    fake: StripeFake,
    node: Node,
    log: PathBuf,
    tokens: tempfile::TempDir,
}

impl Scoped {
    fn start() -> Self {
        let tokens = tempfile::tempdir().unwrap();
        let clients: Vec<Value> = [
            (
                "admin",
                ADMIN,
                json!({"entities": {"*": ["*"]}, "actions": ["*"], "httpRequests": ["*"]}),
            ),
            (
                "reader",
                READER,
                json!({"entities": {"Customer": ["LIST", "GET"]}}),
            ),
            (
                "payer",
                PAYER,
                json!({"entities": {"PaymentIntent": ["GET"]}, "actions": ["CancelPaymentIntent"]}),
            ),
        ]
        .into_iter()
        .map(|(name, token, allow)| {
            let file = tokens.path().join(name);
            std::fs::write(&file, token).unwrap();
            json!({"name": name, "tokenFile": file, "allow": allow})
        })
        .collect();
        let log = tokens.path().join("node.log");
        let (fake, node, _) = fake_and_node_with(|options| {
            options.stderr_file = Some(log.clone());
            options.extra_args.extend([
                "--clients".into(),
                Value::Array(clients).to_string(),
                "--log-level".into(),
                "error".into(),
            ]);
        });
        Self {
            fake,
            node,
            log,
            tokens,
        }
    }

    fn api(&self, token: &str) -> Api {
        Api::new(self.node.url()).with_token(token)
    }

    fn log_lines(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    fn audit_lines(&self) -> Vec<Value> {
        self.log_lines()
            .into_iter()
            .filter(|l| l["target"] == "audit")
            .map(|l| l["fields"].clone())
            .collect()
    }
}

/// The 403 of a call outside the caller's scope, naming the client and the permission.
fn assert_denied(status: u16, body: &Value, client: &str, permission: &str) {
    let error = assert_error(status, body, 403, "PERMISSION_DENIED");
    let info = error_info(&error);
    assert_eq!(info["reason"], "CLIENT_PERMISSION_DENIED", "{body}");
    assert_eq!(info["metadata"]["client"], client, "{body}");
    assert_eq!(info["metadata"]["permission"], permission, "{body}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains(client) && message.contains(permission),
        "{message}"
    );
}

#[tokio::test]
async fn each_client_may_do_what_its_scope_grants_and_nothing_else() {
    let s = Scoped::start();
    let (admin, reader, payer) = (s.api(ADMIN), s.api(READER), s.api(PAYER));
    let customer = admin
        .create("Customer", json!({"Email": "a@example.com"}))
        .await;
    let pi = admin
        .create(
            "PaymentIntent",
            json!({"Amount": 1200, "Currency": "usd", "Customer": customer}),
        )
        .await;
    let customer_path = format!("/v2/entityTypes/Customer/entities/{customer}");

    // What reader is granted works.
    assert_ok(reader.get(&customer_path).await);
    assert_ok(reader.get(CUSTOMERS).await);
    let sql = json!({"query": {"query": "SELECT Id FROM Customer"}});
    assert_ok(reader.post("/v2:executeSqlQuery", &sql).await);
    let get_customer = json!({"parameters": {"id": customer}});
    assert_ok(
        reader
            .post("/v2/tools/GetCustomer:execute", &get_customer)
            .await,
    );
    // Metadata is every client's.
    assert_ok(reader.get("/v2/entityTypes/Invoice").await);
    assert_ok(payer.get("/v2/actions").await);

    // Everything else is refused, before Stripe sees anything.
    let before = s.fake.request_count().await;
    let (status, body) = reader
        .post(CUSTOMERS, &json!({"Email": "b@example.com"}))
        .await;
    assert_denied(status, &body, "reader", "Customer: CREATE");
    let (status, body) = reader.patch(&customer_path, &json!({"Name": "x"})).await;
    assert_denied(status, &body, "reader", "Customer: UPDATE");
    let (status, body) = reader.delete(&customer_path).await;
    assert_denied(status, &body, "reader", "Customer: DELETE");
    let (status, body) = update_with_conditions(
        &reader,
        "Customer",
        "Email='a@example.com'",
        json!({"Name": "x"}),
    )
    .await;
    assert_denied(status, &body, "reader", "Customer: UPDATE");
    let (status, body) = reader
        .get(&format!("/v2/entityTypes/PaymentIntent/entities/{pi}"))
        .await;
    assert_denied(status, &body, "reader", "PaymentIntent: GET");
    let invoices = json!({"query": {"query": "SELECT * FROM Invoice"}});
    let (status, body) = reader.post("/v2:executeSqlQuery", &invoices).await;
    assert_denied(status, &body, "reader", "Invoice: LIST");
    let (status, body) = reader
        .post(
            "/v2/tools/CreateCustomer:execute",
            &json!({"parameters": {}}),
        )
        .await;
    assert_denied(status, &body, "reader", "Customer: CREATE");
    // A raw request is never implied by entity grants.
    let raw = json!({"httpMethod": "HTTP_METHOD_GET",
        "url": format!("{}/v1/customers/{customer}", s.fake.url())});
    let (status, body) = reader.post("/v2:executeHttpRequest", &raw).await;
    assert_denied(status, &body, "reader", "httpRequests: GET");
    let (status, body) = reader
        .execute("CancelPaymentIntent", json!({"PaymentIntentId": pi}))
        .await;
    assert_denied(status, &body, "reader", "actions: CancelPaymentIntent");
    // The same refusals at the resource names Google's clients use.
    let (status, body) = reader
        .delete(&format!(
            "/v2/projects/p/locations/l/connections/e2e/entityTypes/Customer/entities/{customer}"
        ))
        .await;
    assert_denied(status, &body, "reader", "Customer: DELETE");

    let (status, body) = payer
        .execute("ConfirmPaymentIntent", json!({"PaymentIntentId": pi}))
        .await;
    assert_denied(status, &body, "payer", "actions: ConfirmPaymentIntent");
    let (status, body) = payer.get(&customer_path).await;
    assert_denied(status, &body, "payer", "Customer: GET");
    assert_eq!(
        s.fake.request_count().await,
        before,
        "a refused call reached Stripe"
    );

    // payer's own action works.
    let body = assert_ok(
        payer
            .execute("CancelPaymentIntent", json!({"PaymentIntentId": pi}))
            .await,
    );
    assert_eq!(body["results"][0]["status"], "canceled");

    // Metrics name the client, logs too, and neither shows a token.
    let metrics = s.node.metrics().await;
    assert!(
        metrics.contains(r#"kind="entity",name="Customer",client="reader",status="403""#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"client="payer",status="200""#),
        "{metrics}"
    );
    let log = std::fs::read_to_string(&s.log).unwrap();
    assert!(log.contains("\"client\":\"reader\""), "{log}");
    for token in [ADMIN, READER, PAYER] {
        assert!(!log.contains(token) && !metrics.contains(token));
    }
}

#[tokio::test]
async fn one_client_s_token_is_rotated_while_another_s_keeps_working() {
    let s = Scoped::start();
    let path = CUSTOMERS;
    assert_ok(s.api(READER).get(path).await);

    replace_file(
        &s.tokens.path().join("reader"),
        "reader-token-rotated-9f8e7d",
    );

    let (status, body) = s.api(READER).get(path).await;
    assert_error(status, &body, 401, "UNAUTHENTICATED");
    assert_ok(s.api("reader-token-rotated-9f8e7d").get(path).await);
    let (status, body) = s.api(ADMIN).get(path).await;
    assert_eq!(
        status, 200,
        "the other client's token stopped working: {body}"
    );
}

fn field<'a>(line: &'a Value, name: &str) -> &'a Value {
    &line[name]
}

#[tokio::test]
async fn every_kind_of_write_has_an_audit_line_with_its_fields() {
    let s = Scoped::start();
    let admin = s.api(ADMIN);
    let created = json!({"Email": "audit@example.com"});
    let body = assert_ok(
        admin
            .post_with_key(CUSTOMERS, &created, "audit-create-1")
            .await,
    );
    let customer = body["fields"]["Id"].as_str().unwrap().to_string();
    let path = format!("{CUSTOMERS}/{customer}");
    assert_ok(admin.patch(&path, &json!({"Name": "Audited"})).await);
    let bulk_update = bulk_path(
        "Customer",
        "updateEntitiesWithConditions",
        "Email='audit@example.com'",
    );
    let bulk = json!({"Description": "bulk"});
    assert_ok(
        admin
            .post_with_key(&bulk_update, &bulk, "audit-bulk-1")
            .await,
    );
    let pi = admin
        .create("PaymentIntent", json!({"Amount": 500, "Currency": "usd"}))
        .await;
    let cancel = json!({"PaymentIntentId": pi});
    assert_ok(admin.execute("CancelPaymentIntent", cancel).await);
    let tool = json!({"parameters": {"Email": "tool@example.com"}});
    assert_ok(admin.post("/v2/tools/CreateCustomer:execute", &tool).await);
    let raw = json!({"httpMethod": "HTTP_METHOD_POST",
        "url": format!("{}/v1/customers", s.fake.url()),
        "headers": [{"key": "Content-Type", "value": "application/x-www-form-urlencoded"},
                    {"key": "Idempotency-Key", "value": "audit-raw-1"}],
        "rawBody": "ZW1haWw9cmF3JTQwZXhhbXBsZS5jb20="});
    assert_ok(admin.post("/v2:executeHttpRequest", &raw).await);
    let (status, _) = s.api(READER).delete(&path).await;
    assert_eq!(status, 403);
    assert_ok(delete_with_conditions(&admin, "Customer", "Email='tool@example.com'").await);
    assert_ok(admin.delete(&path).await);
    // A write Stripe refuses is audited with its result too.
    let (status, _) = admin.delete(&format!("{CUSTOMERS}/cus_missing")).await;
    assert_eq!(status, 404);

    let lines = s.audit_lines();
    let find = |method: &str, pick: &dyn Fn(&Value) -> bool| -> Value {
        lines
            .iter()
            .find(|l| l["method"] == method && pick(l))
            .cloned()
            .unwrap_or_else(|| panic!("no audit line of {method} in {lines:#?}"))
    };
    let create = find("entities.create", &|l| {
        l["idempotency_key"] == "audit-create-1"
    });
    assert_eq!(field(&create, "client"), "admin");
    assert_eq!(field(&create, "entity"), "Customer");
    assert_eq!(field(&create, "object_id"), customer.as_str());
    assert_eq!(field(&create, "result"), "OK");
    let patch = find("entities.patch", &|_| true);
    assert_eq!(field(&patch, "object_id"), customer.as_str());
    assert!(
        patch["idempotency_key"]
            .as_str()
            .is_some_and(|k| !k.is_empty())
    );
    let bulk = find("entities.updateEntitiesWithConditions", &|_| true);
    assert_eq!(
        field(&bulk, "idempotency_key"),
        format!("audit-bulk-1:{customer}").as_str()
    );
    let action = find("actions.execute", &|_| true);
    assert_eq!(field(&action, "action"), "CancelPaymentIntent");
    assert_eq!(field(&action, "object_id"), pi.as_str());
    let tool = find("tools.execute", &|_| true);
    assert_eq!(field(&tool, "entity"), "Customer");
    assert!(
        tool["object_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("cus_"))
    );
    let raw = find("executeHttpRequest", &|_| true);
    assert_eq!(field(&raw, "http_method"), "POST");
    assert_eq!(field(&raw, "path"), "/v1/customers");
    assert_eq!(field(&raw, "idempotency_key"), "audit-raw-1");
    let refused = find("entities.delete", &|l| l["client"] == "reader");
    assert_eq!(field(&refused, "result"), "PERMISSION_DENIED");
    assert_eq!(field(&refused, "status"), 403);
    assert_eq!(field(&refused, "object_id"), customer.as_str());
    find("entities.deleteEntitiesWithConditions", &|l| {
        l["result"] == "OK"
    });
    let deleted = find("entities.delete", &|l| {
        l["client"] == "admin" && l["object_id"] == customer.as_str()
    });
    assert_eq!(field(&deleted, "result"), "OK");
    let missing = find("entities.delete", &|l| l["object_id"] == "cus_missing");
    assert_eq!(field(&missing, "result"), "NOT_FOUND");
    // Written at the `error` log level and verbosity 1; no token, no API key.
    let text = std::fs::read_to_string(&s.log).unwrap();
    for secret in [ADMIN, READER, "sk_test_e2e"] {
        assert!(!text.contains(secret));
    }
    // Reads have no audit line.
    assert!(lines.iter().all(|l| l["method"] != "entities.get"));
}

/// What the node answers on one connection to raw HTTP/1.1 bytes, until it closes.
fn raw_answer(port: u16, request: &[u8]) -> String {
    let mut socket = TcpStream::connect(("127.0.0.1", port)).unwrap();
    socket.write_all(request).unwrap();
    let mut answer = Vec::new();
    let _ = socket.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// One raw HTTP/1.1 exchange: the status and the JSON body of the answer.
fn raw_exchange(port: u16, request: &[u8]) -> (u16, Value) {
    let text = raw_answer(port, request);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// The API's error shape, without control characters in what it says.
fn assert_json_error(status: u16, body: &Value, want: u16, what: &str) {
    assert_eq!(status, want, "{what}: {body}");
    assert_eq!(body["error"]["code"], want, "{what}: {body}");
    assert!(body["error"]["status"].is_string(), "{what}: {body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        !message.is_empty() && !message.chars().any(char::is_control),
        "{what}: {message:?}"
    );
}

#[tokio::test]
async fn hostile_ids_parameters_and_headers_are_refused_in_the_json_shape_before_stripe() {
    let s = Scoped::start();
    let admin = s.api(ADMIN);
    let before = s.fake.request_count().await;
    let long_id = "c".repeat(300);
    for id in [
        "%20",
        "cus%0Aevil",
        "cus_1%2F..%2Fcharges",
        "cus_%00",
        "cus%3Bx",
        "cus_%C3%A9",
        "cus%0D%0ASet-Cookie:%20x",
        long_id.as_str(),
    ] {
        let path = format!("/v2/entityTypes/Customer/entities/{id}");
        let (status, body) = admin.get(&path).await;
        assert_json_error(status, &body, 400, id);
        assert_eq!(body["error"]["status"], "INVALID_ARGUMENT");
        let (status, body) = admin.delete(&path).await;
        assert_json_error(status, &body, 400, id);
    }
    for (action, params) in [
        (
            "CancelPaymentIntent",
            json!({"PaymentIntentId": "pi_1/../../customers"}),
        ),
        ("CancelPaymentIntent", json!({"PaymentIntentId": "pi_1\nx"})),
        ("FinalizeInvoice", json!({"InvoiceId": ""})),
    ] {
        let (status, body) = admin.execute(action, params.clone()).await;
        assert_json_error(status, &body, 400, &params.to_string());
    }
    let raw = |key: &str| {
        json!({"httpMethod": "HTTP_METHOD_POST", "url": format!("{}/v1/customers", s.fake.url()),
               "headers": [{"key": "Idempotency-Key", "value": key}]})
    };
    for key in ["a\nb", "\u{7f}", &"k".repeat(300)] {
        let (status, body) = admin.post("/v2:executeHttpRequest", &raw(key)).await;
        assert_json_error(status, &body, 400, key);
    }
    for query in [
        "?x%0A=1",
        "?pageSize=-1",
        "?pageToken=%00%01",
        "?conditions=Email%20%3D",
        "?sortBy=Nope%0A",
    ] {
        let (status, body) = admin
            .get(&format!("/v2/entityTypes/Customer/entities{query}"))
            .await;
        assert_json_error(status, &body, 400, query);
    }
    let (status, body) = admin.get("/v2/entityTypes/Cus%0Atomer/entities").await;
    assert_json_error(status, &body, 404, "entity type with a newline");

    // Headers, over a raw socket: what reqwest would refuse to send.
    let port = s.node.port;
    let auth = format!("Authorization: Bearer {ADMIN}\r\n");
    let post = |head: &str| {
        format!("POST {CUSTOMERS} HTTP/1.1\r\nHost: x\r\n{auth}{head}Connection: close\r\n\r\n")
    };
    let get = |target: &str| {
        format!("GET {target} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n")
    };
    let many: String = (0..150).map(|i| format!("X-Filler-{i}: v\r\n")).collect();
    let big_header = |bytes: usize| post(&format!("X-Big: {}\r\n", "b".repeat(bytes)));
    let long_uri = |path: &str, bytes: usize| get(&format!("{path}{}", "a".repeat(bytes)));
    let mut refused = vec![
        (
            post("Idempotency-Key: a\x01b\r\nContent-Length: 0\r\n"),
            400,
            "Idempotency-Key with a control character",
        ),
        (
            post("Content-Type: text/plain\r\nContent-Length: 2\r\n"),
            400,
            "a text body",
        ),
        (post(&many), 431, "150 headers"),
        (big_header(20 * 1024), 431, "a 20 KiB header"),
        (
            long_uri(&format!("{CUSTOMERS}?conditions="), 20 * 1024),
            414,
            "a 20 KiB URI",
        ),
        // Past hyper's own limits, hyper answers by itself; the node still writes it as JSON.
        (big_header(1100 * 1024), 431, "a head over hyper's buffer"),
        (
            long_uri("/v2/entityTypes?x=", 70 * 1024),
            414,
            "a URI over hyper's 65534 bytes",
        ),
    ];
    // Dot segments, which an HTTP client library would resolve before sending.
    for id in ["%2E%2E", "..", ".", "%2e"] {
        refused.push((get(&format!("{CUSTOMERS}/{id}")), 400, id));
    }
    for (request, want, what) in &refused {
        let (status, body) = raw_exchange(port, request.as_bytes());
        assert_json_error(status, &body, *want, what);
    }

    // Also after an answered request on the same connection.
    let two = format!(
        "GET /v2/entityTypes/Customer HTTP/1.1\r\nHost: x\r\n{auth}\r\nGET /v2/entityTypes HTTP/1.1\r\nHost: x\r\nX-Bad: \x01\r\n\r\n"
    );
    let text = raw_answer(port, two.as_bytes());
    let second = text
        .match_indices("HTTP/1.1 ")
        .nth(1)
        .map(|(i, _)| &text[i..])
        .unwrap_or_else(|| panic!("one answer only: {text}"));
    assert!(text.starts_with("HTTP/1.1 200 "), "{text}");
    let (head, body) = second.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 400 "), "{second}");
    let body: Value = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("{e}: {}", &text[text.len().saturating_sub(300)..]));
    assert_json_error(400, &body, 400, "a bad header after a good request");

    assert_eq!(
        s.fake.request_count().await,
        before,
        "a hostile request reached Stripe"
    );
}
