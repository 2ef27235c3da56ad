//! Entity operations and actions through a real node against localstripe, where it is faithful.

use std::collections::HashSet;

use e2e::checked_calls::{
    assert_unimplemented, delete, entity_path, get_fields, run_action, run_action_with_no_output,
    test_card, update,
};
use e2e::{assert_error, localstripe_and_node};

use serde_json::{Value, json};

#[tokio::test]
async fn customer_crud_with_address_and_metadata() {
    let (_stripe, _node, api) = localstripe_and_node();
    let id = api
        .create(
            "Customer",
            json!({"Name": "Ada", "Email": "ada@example.com", "AddressCity": "London",
                   "AddressCountry": "GB", "Metadata": {"tier": "gold"}}),
        )
        .await;
    let path = entity_path("Customer", &id);
    let fields = &get_fields(&api, "Customer", &id).await;
    assert_eq!(fields["Id"], id.as_str());
    assert_eq!(fields["Email"], "ada@example.com");
    assert_eq!(fields["AddressCity"], "London");
    assert_eq!(fields["Metadata"], json!({"tier": "gold"}));
    assert!(fields["Created"].is_i64(), "{fields}");

    let renamed = json!({"Name": "Ada L.", "Metadata": {"tier": "platinum"}});
    let body = update(&api, "Customer", &id, renamed).await;
    assert_eq!(body["fields"], json!({"Id": id}));
    let got = get_fields(&api, "Customer", &id).await;
    assert_eq!(got["Name"], "Ada L.");
    assert_eq!(got["Metadata"]["tier"], "platinum");

    let (status, body) = api.delete(&path).await;
    assert_eq!((status, body), (200, json!({})));
    let (status, body) = api.get(&path).await;
    assert_error(status, &body, 404, "NOT_FOUND");
}

#[tokio::test]
async fn customer_pages_resume_exactly() {
    let (_stripe, _node, api) = localstripe_and_node();
    let mut created = HashSet::new();
    for i in 0..5 {
        created.insert(
            api.create("Customer", json!({"Email": format!("page{i}@example.com")}))
                .await,
        );
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..5 {
        let mut path = "/v2/entityTypes/Customer/entities?pageSize=2".to_string();
        if let Some(t) = &token {
            path.push_str(&format!("&pageToken={t}"));
        }
        let (status, page) = api.get(&path).await;
        assert_eq!(status, 200, "{page}");
        let entities = page["entities"].as_array().unwrap();
        assert!(entities.len() <= 2);
        seen.extend(
            entities
                .iter()
                .map(|e| e["fields"]["Id"].as_str().unwrap().to_string()),
        );
        token = page["nextPageToken"].as_str().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert!(token.is_none(), "the last page has no token");
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), created);

    // Sorted within the page on request.
    let (status, page) = api
        .get("/v2/entityTypes/Customer/entities?pageSize=5&sortBy=Email&sortOrder=DESC")
        .await;
    assert_eq!(status, 200, "{page}");
    let emails: Vec<&str> = page["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["fields"]["Email"].as_str().unwrap())
        .collect();
    let mut sorted = emails.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(emails, sorted);
}

#[tokio::test]
async fn payment_intent_confirm_capture_cancel_and_refund() {
    let (_stripe, _node, api) = localstripe_and_node();
    let customer = api.create("Customer", json!({"Name": "Payer"})).await;
    let pm = test_card(&api).await;
    let attach = json!({"PaymentMethodId": pm, "CustomerId": customer});
    run_action_with_no_output(&api, "AttachPaymentMethodToCustomer", attach).await;

    // Manual capture: confirm, then capture.
    let pi = api
        .create(
            "PaymentIntent",
            json!({"Amount": 2000, "Currency": "usd", "Customer": customer,
                   "PaymentMethod": pm, "CaptureMethod": "manual"}),
        )
        .await;
    let result = run_action(&api, "ConfirmPaymentIntent", json!({"PaymentIntentId": pi})).await;
    assert_eq!(result["status"], "requires_capture");
    assert_eq!(result["amount"], "2000");
    let result = run_action(&api, "CapturePaymentIntent", json!({"PaymentIntentId": pi})).await;
    assert_eq!(result["status"], "succeeded");

    // Refund it.
    let refund = api
        .create("Refund", json!({"PaymentIntent": pi, "Amount": 500}))
        .await;
    assert_eq!(get_fields(&api, "Refund", &refund).await["Amount"], 500);

    // Another one is canceled instead.
    let other = api
        .create(
            "PaymentIntent",
            json!({"Amount": 1000, "Currency": "usd", "PaymentMethod": pm, "Customer": customer}),
        )
        .await;
    let result = run_action(
        &api,
        "CancelPaymentIntent",
        json!({"PaymentIntentId": other}),
    )
    .await;
    assert_eq!(result["status"], "canceled");
    assert!(result["canceled_at"].is_string() || result["canceled_at"].is_null());

    // PaymentIntents have no Delete in Stripe: the error names the action to use.
    let answer = api.delete(&entity_path("PaymentIntent", &other)).await;
    assert_unimplemented(answer, "CancelPaymentIntent");

    let detach = json!({"PaymentMethodId": pm});
    run_action_with_no_output(&api, "DetachPaymentMethodFromCustomer", detach).await;
}

#[tokio::test]
async fn product_crud_and_read_only_fields() {
    let (_stripe, _node, api) = localstripe_and_node();
    let id = api
        .create(
            "Product",
            json!({"Name": "Widget", "Description": "A widget"}),
        )
        .await;
    let path = entity_path("Product", &id);
    update(&api, "Product", &id, json!({"Active": false})).await;
    let got = get_fields(&api, "Product", &id).await;
    assert_eq!(got["Active"], Value::Bool(false));
    assert_eq!(got["Name"], "Widget");

    // Bad input is refused before Stripe sees it, naming the field.
    let (status, body) = api.patch(&path, &json!({"Created": 1})).await;
    let err = assert_error(status, &body, 400, "INVALID_ARGUMENT");
    assert_eq!(err["details"][0]["fieldViolations"][0]["field"], "Created");
    let (status, body) = api.patch(&path, &json!({"Active": "no"})).await;
    let err = assert_error(status, &body, 400, "INVALID_ARGUMENT");
    assert_eq!(err["details"][0]["fieldViolations"][0]["field"], "Active");
    let got = get_fields(&api, "Product", &id).await;
    assert_eq!(got["Active"], Value::Bool(false), "unchanged");

    delete(&api, "Product", &id).await;
}
