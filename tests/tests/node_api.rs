//! The node's API surface: metadata from the catalog, and clear errors for bad requests (which
//! change nothing at Stripe).

use e2e::{Api, Node, StripeFake, api_node_options, assert_error};
use serde_json::json;

fn start() -> (StripeFake, Node, Api) {
    let fake = StripeFake::start();
    let node = Node::start(&api_node_options(fake.url()));
    let api = Api::new(node.url());
    (fake, node, api)
}

#[tokio::test]
async fn entity_types_describe_fields_and_operations() {
    let (_fake, _node, api) = start();
    let (status, body) = api.get("/v2/entityTypes").await;
    assert_eq!(status, 200);
    let names: Vec<&str> = body["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for want in [
        "Customer",
        "PaymentIntent",
        "Quote",
        "BalanceTransaction",
        "Event",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }

    let (status, customer) = api.get("/v2/entityTypes/Customer").await;
    assert_eq!(status, 200);
    assert_eq!(
        customer["operations"],
        json!(["LIST", "GET", "CREATE", "UPDATE", "DELETE"])
    );
    let fields = customer["fields"].as_array().unwrap();
    let field = |name: &str| fields.iter().find(|f| f["field"] == name).unwrap().clone();
    let id = field("Id");
    assert_eq!(id["key"], true);
    assert_eq!(id["readonly"], true);
    assert_eq!(id["dataType"], "STRING");
    assert_eq!(field("Email")["pushedDownOperators"], json!(["=", "IN"]));
    assert_eq!(field("Created")["dataType"], "TIMESTAMP");
    assert_eq!(
        field("Created")["pushedDownOperators"],
        json!(["=", "<", "<=", ">", ">=", "BETWEEN"])
    );
    assert_eq!(field("Metadata")["dataType"], "OBJECT");
    assert_eq!(field("AddressCity")["stripePath"], "address.city");

    let (_, quote) = api.get("/v2/entityTypes/Quote").await;
    assert_eq!(
        quote["operations"],
        json!(["LIST", "GET", "CREATE", "UPDATE"])
    );
    assert!(quote["note"].as_str().unwrap().contains("CancelQuote"));

    let (status, body) = api.get("/v2/entityTypes/Customers").await;
    assert_error(status, &body, 404, "NOT_FOUND");
}

#[tokio::test]
async fn actions_describe_their_input_parameters() {
    let (_fake, _node, api) = start();
    let (status, body) = api.get("/v2/actions").await;
    assert_eq!(status, 200);
    assert!(body["actions"].as_array().unwrap().len() >= 16);
    let (status, confirm) = api.get("/v2/actions/ConfirmPaymentIntent").await;
    assert_eq!(status, 200, "{confirm}");
    assert_eq!(
        confirm["inputParameters"][0],
        json!({"parameter": "PaymentIntentId", "dataType": "STRING", "nullable": false,
               "required": true, "description": "The PaymentIntent id."})
    );
    assert_eq!(confirm["inputParameters"][1]["parameter"], "ReturnUrl");
    let (status, body) = api.get("/v2/actions/Nope").await;
    assert_error(status, &body, 404, "NOT_FOUND");
}

#[tokio::test]
async fn bad_requests_are_400s_naming_the_problem_and_reach_no_stripe() {
    let (fake, _node, api) = start();
    let cases = [
        ("/v2/entityTypes/Customer/entities?pageSize=201", "pageSize"),
        ("/v2/entityTypes/Customer/entities?pageSize=0", "pageSize"),
        (
            "/v2/entityTypes/Customer/entities?pageToken=garbage",
            "pageToken",
        ),
        ("/v2/entityTypes/Customer/entities?sortBy=Nope", "sortBy"),
        (
            "/v2/entityTypes/Customer/entities?sortBy=Email&sortOrder=UP",
            "sortOrder",
        ),
        ("/v2/entityTypes/Customer/entities?pagesize=2", "pagesize"),
    ];
    for (path, field) in cases {
        let (status, body) = api.get(path).await;
        let err = assert_error(status, &body, 400, "INVALID_ARGUMENT");
        assert_eq!(
            err["details"][0]["fieldViolations"][0]["field"], field,
            "{path}: {err}"
        );
        assert!(err["message"].as_str().unwrap().contains(field), "{err}");
    }

    // Create/Update bodies: unknown, read-only, mistyped fields and an empty update.
    let writes = [
        (json!({"Emial": "x"}), "Emial"),
        (json!({"Id": "cus_1"}), "Id"),
        (json!({"Balance": "lots"}), "Balance"),
        (json!({"Metadata": "flat"}), "Metadata"),
    ];
    for (body, field) in writes {
        let (status, err) = api.post("/v2/entityTypes/Customer/entities", &body).await;
        let err = assert_error(status, &err, 400, "INVALID_ARGUMENT");
        assert_eq!(
            err["details"][0]["fieldViolations"][0]["field"], field,
            "{err}"
        );
    }
    let (status, body) = api
        .patch("/v2/entityTypes/Customer/entities/cus_1", &json!({}))
        .await;
    assert_error(status, &body, 400, "INVALID_ARGUMENT");

    // Actions: missing and unknown parameters, wrong verb.
    let (status, body) = api.execute("FinalizeQuote", json!({})).await;
    let err = assert_error(status, &body, 400, "INVALID_ARGUMENT");
    assert_eq!(err["details"][0]["fieldViolations"][0]["field"], "QuoteId");
    let (status, body) = api
        .execute("FinalizeQuote", json!({"SouQuoteIdrcePath": "qt_1"}))
        .await;
    let err = assert_error(status, &body, 400, "INVALID_ARGUMENT");
    assert_eq!(
        err["details"][0]["fieldViolations"][0]["field"],
        "SouQuoteIdrcePath"
    );
    let (status, body) = api
        .post("/v2/actions/FinalizeQuote:run", &json!({"parameters": {}}))
        .await;
    assert_error(status, &body, 404, "NOT_FOUND");
    let (status, body) = api.execute("NoSuchAction", json!({})).await;
    assert_error(status, &body, 404, "NOT_FOUND");

    // Operations Stripe lacks name what to use instead.
    let (status, body) = api.delete("/v2/entityTypes/Quote/entities/qt_1").await;
    let err = assert_error(status, &body, 501, "UNIMPLEMENTED");
    assert!(
        err["message"].as_str().unwrap().contains("CancelQuote"),
        "{err}"
    );
    let (status, body) = api
        .delete("/v2/entityTypes/Subscription/entities/sub_1")
        .await;
    let err = assert_error(status, &body, 501, "UNIMPLEMENTED");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("CancelSubscription")
    );
    let (status, body) = api
        .post("/v2/entityTypes/Event/entities", &json!({"Type": "x"}))
        .await;
    assert_error(status, &body, 501, "UNIMPLEMENTED");

    // Bulk operations never match everything.
    for verb in [
        "updateEntitiesWithConditions",
        "deleteEntitiesWithConditions",
    ] {
        for query in ["", "?conditions=", "?conditions=%20%20"] {
            let (status, body) = api
                .post(
                    &format!("/v2/entityTypes/Customer/entities:{verb}{query}"),
                    &json!({"Name": "All"}),
                )
                .await;
            let err = assert_error(status, &body, 400, "INVALID_ARGUMENT");
            assert_eq!(
                err["details"][0]["fieldViolations"][0]["field"],
                "conditions"
            );
        }
    }
    assert_eq!(fake.requests("GET", "/v1").await, 0);
    assert_eq!(fake.requests("POST", "/v1").await, 0);
    assert_eq!(fake.requests("DELETE", "/v1").await, 0);
}

#[test]
fn a_missing_or_malformed_key_stops_start_up_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad-key");
    std::fs::write(&bad, "pk_live_publishable_secretish").unwrap();
    let missing = dir.path().join("missing-key");
    for (file, want) in [(&bad, "not a Stripe secret key"), (&missing, "cannot read")] {
        let stderr = Node::start_up_error(file, std::iter::empty::<&str>());
        assert!(stderr.contains(want), "{stderr}");
        assert!(stderr.contains(&file.display().to_string()), "{stderr}");
        assert!(!stderr.contains("secretish"), "the key leaked: {stderr}");
    }
}

#[tokio::test]
async fn calls_are_counted_by_entity_or_action_and_status() {
    let (_fake, node, api) = start();
    api.create("Customer", json!({"Name": "Counted"})).await;
    api.execute("FinalizeQuote", json!({})).await;
    api.get("/v2/entityTypes/Nope/entities").await;
    let metrics = reqwest::get(format!("{}/metrics", node.admin_url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        r#"stripe_connector_calls_total{kind="entity",name="Customer",status="200"} 1"#,
        r#"stripe_connector_calls_total{kind="action",name="FinalizeQuote",status="400"} 1"#,
        r#"stripe_connector_calls_total{kind="entity",name="unknown",status="404"} 1"#,
    ] {
        assert!(metrics.contains(line), "{line} missing in:\n{metrics}");
    }
}
