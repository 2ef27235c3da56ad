//! Entity operations and actions through a real node against localstripe, where it is faithful.

use std::collections::HashSet;

use e2e::{Api, Localstripe, Node, api_node_options, assert_error, assert_error_mentions};
use serde_json::{Value, json};

fn start() -> (Localstripe, Node, Api) {
    let stripe = Localstripe::start();
    let node = Node::start(&api_node_options(stripe.url()));
    let api = Api::new(node.url());
    (stripe, node, api)
}

#[tokio::test]
async fn customer_crud_with_address_and_metadata() {
    let (_stripe, _node, api) = start();
    let id = api
        .create(
            "Customer",
            json!({"Name": "Ada", "Email": "ada@example.com", "AddressCity": "London",
                   "AddressCountry": "GB", "Metadata": {"tier": "gold"}}),
        )
        .await;
    let path = format!("/v2/entityTypes/Customer/entities/{id}");
    let (status, got) = api.get(&path).await;
    assert_eq!(status, 200, "{got}");
    let fields = &got["fields"];
    assert_eq!(fields["Id"], id.as_str());
    assert_eq!(fields["Email"], "ada@example.com");
    assert_eq!(fields["AddressCity"], "London");
    assert_eq!(fields["Metadata"], json!({"tier": "gold"}));
    assert!(fields["Created"].is_i64(), "{fields}");

    let (status, body) = api
        .patch(
            &path,
            &json!({"Name": "Ada L.", "Metadata": {"tier": "platinum"}}),
        )
        .await;
    assert_eq!((status, &body["fields"]), (200, &json!({"Id": id})));
    let (_, got) = api.get(&path).await;
    assert_eq!(got["fields"]["Name"], "Ada L.");
    assert_eq!(got["fields"]["Metadata"]["tier"], "platinum");

    let (status, body) = api.delete(&path).await;
    assert_eq!((status, body), (200, json!({})));
    let (status, body) = api.get(&path).await;
    assert_error(status, &body, 404, "NOT_FOUND");
}

#[tokio::test]
async fn customer_pages_resume_exactly() {
    let (_stripe, _node, api) = start();
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

async fn card(api: &Api) -> String {
    api.create(
        "PaymentMethod",
        json!({"Type": "card", "Card": {"number": "4242424242424242", "exp_month": 12,
               "exp_year": 2034, "cvc": "123"}}),
    )
    .await
}

#[tokio::test]
async fn payment_intent_confirm_capture_cancel_and_refund() {
    let (_stripe, _node, api) = start();
    let customer = api.create("Customer", json!({"Name": "Payer"})).await;
    let pm = card(&api).await;
    let (status, body) = api
        .execute(
            "AttachPaymentMethodToCustomer",
            json!({"PaymentMethodId": pm, "CustomerId": customer}),
        )
        .await;
    assert_eq!(
        (status, body),
        (200, json!({"results": [{"Success": "true"}]}))
    );

    // Manual capture: confirm, then capture.
    let pi = api
        .create(
            "PaymentIntent",
            json!({"Amount": 2000, "Currency": "usd", "Customer": customer,
                   "PaymentMethod": pm, "CaptureMethod": "manual"}),
        )
        .await;
    let (status, body) = api
        .execute("ConfirmPaymentIntent", json!({"PaymentIntentId": pi}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["Success"], "true");
    assert_eq!(body["results"][0]["status"], "requires_capture");
    assert_eq!(body["results"][0]["amount"], "2000");
    let (status, body) = api
        .execute("CapturePaymentIntent", json!({"PaymentIntentId": pi}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["status"], "succeeded");

    // Refund it.
    let refund = api
        .create("Refund", json!({"PaymentIntent": pi, "Amount": 500}))
        .await;
    let (_, got) = api
        .get(&format!("/v2/entityTypes/Refund/entities/{refund}"))
        .await;
    assert_eq!(got["fields"]["Amount"], 500);

    // Another one is canceled instead.
    let other = api
        .create(
            "PaymentIntent",
            json!({"Amount": 1000, "Currency": "usd", "PaymentMethod": pm, "Customer": customer}),
        )
        .await;
    let (status, body) = api
        .execute("CancelPaymentIntent", json!({"PaymentIntentId": other}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["status"], "canceled");
    assert!(
        body["results"][0]["canceled_at"].is_string()
            || body["results"][0]["canceled_at"].is_null()
    );

    // PaymentIntents have no Delete in Stripe: the error names the action to use.
    let (status, body) = api
        .delete(&format!("/v2/entityTypes/PaymentIntent/entities/{other}"))
        .await;
    assert_error_mentions(status, &body, 405, "UNIMPLEMENTED", "CancelPaymentIntent");

    let (status, body) = api
        .execute(
            "DetachPaymentMethodFromCustomer",
            json!({"PaymentMethodId": pm}),
        )
        .await;
    assert_eq!(
        (status, body),
        (200, json!({"results": [{"Success": "true"}]}))
    );
}

#[tokio::test]
async fn product_crud_and_read_only_fields() {
    let (_stripe, _node, api) = start();
    let id = api
        .create(
            "Product",
            json!({"Name": "Widget", "Description": "A widget"}),
        )
        .await;
    let path = format!("/v2/entityTypes/Product/entities/{id}");
    let (status, body) = api.patch(&path, &json!({"Active": false})).await;
    assert_eq!(status, 200, "{body}");
    let (_, got) = api.get(&path).await;
    assert_eq!(got["fields"]["Active"], Value::Bool(false));
    assert_eq!(got["fields"]["Name"], "Widget");

    // Bad input is refused before Stripe sees it, naming the field.
    let (status, body) = api.patch(&path, &json!({"Created": 1})).await;
    let err = assert_error(status, &body, 400, "INVALID_ARGUMENT");
    assert_eq!(err["details"][0]["fieldViolations"][0]["field"], "Created");
    let (status, body) = api.patch(&path, &json!({"Active": "no"})).await;
    let err = assert_error(status, &body, 400, "INVALID_ARGUMENT");
    assert_eq!(err["details"][0]["fieldViolations"][0]["field"], "Active");
    let (_, got) = api.get(&path).await;
    assert_eq!(got["fields"]["Active"], Value::Bool(false), "unchanged");

    let (status, _) = api.delete(&path).await;
    assert_eq!(status, 200);
}
