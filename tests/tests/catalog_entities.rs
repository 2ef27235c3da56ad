//! The catalog's top-level entities on the wire: the ones a caller writes (create, get, update,
//! list with their filters, delete where Stripe has it) and the ones Stripe writes (read them).
//! Against localstripe where it is faithful (Plan; its tax ids refuse Stripe's `limit`), the
//! Stripe fake otherwise.

use e2e::{
    Api, Localstripe, Node, StripeFake, api_node_options, assert_error, assert_error_mentions,
    fake_and_node,
};
use serde_json::{Value, json};

async fn get(api: &Api, entity: &str, id: &str) -> Value {
    let (status, body) = api
        .get(&format!("/v2/entityTypes/{entity}/entities/{id}"))
        .await;
    assert_eq!(status, 200, "{entity} {id}: {body}");
    body["fields"].clone()
}

async fn update(api: &Api, entity: &str, id: &str, fields: Value) {
    let (status, body) = api
        .patch(&format!("/v2/entityTypes/{entity}/entities/{id}"), &fields)
        .await;
    assert_eq!(status, 200, "{entity} {id} {fields}: {body}");
}

async fn delete(api: &Api, entity: &str, id: &str) -> (u16, Value) {
    api.delete(&format!("/v2/entityTypes/{entity}/entities/{id}"))
        .await
}

/// Uploads a file to the fake as Stripe takes it: multipart/form-data.
async fn upload(fake: &StripeFake, purpose: &str, filename: &str, content: &str) -> String {
    let boundary = "fakeboundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n{purpose}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n{content}\r\n--{boundary}--\r\n"
    );
    let response = reqwest::Client::new()
        .post(format!("{}/v1/files", fake.url()))
        .bearer_auth("sk_test_upload")
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("fake answers");
    let file: Value = response.json().await.expect("json");
    file["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{file}"))
        .to_string()
}

#[tokio::test]
async fn billing_entities_round_trip() {
    let (fake, _node, api) = fake_and_node();
    let customer = api.create("Customer", json!({"Name": "Billing"})).await;

    // SubscriptionSchedule: starting now it creates its subscription.
    let schedule = api
        .create(
            "SubscriptionSchedule",
            json!({"Customer": customer,
            "Phases": [{"items": [{"price": "price_gold"}], "iterations": 12}]}),
        )
        .await;
    let got = get(&api, "SubscriptionSchedule", &schedule).await;
    assert_eq!(got["Status"], "active");
    let sub = got["Subscription"]
        .as_str()
        .expect("a subscription")
        .to_string();
    assert_eq!(
        get(&api, "Subscription", &sub).await["Customer"],
        customer.as_str()
    );
    update(
        &api,
        "SubscriptionSchedule",
        &schedule,
        json!({"EndBehavior": "cancel"}),
    )
    .await;
    let listed = api
        .rows(
            "SubscriptionSchedule",
            &format!("Customer = '{customer}' AND Created > 1000"),
            &[],
        )
        .await;
    assert_eq!(
        (listed.len(), &listed[0]["EndBehavior"]),
        (1, &json!("cancel"))
    );
    let (status, body) = delete(&api, "SubscriptionSchedule", &schedule).await;
    assert_error_mentions(
        status,
        &body,
        405,
        "UNIMPLEMENTED",
        "CancelSubscriptionSchedule",
    );

    // ShippingRate: archived by Active = false.
    let rate = api
        .create(
            "ShippingRate",
            json!({"DisplayName": "Ground", "Type": "fixed_amount",
            "FixedAmount": {"amount": 500, "currency": "usd"}}),
        )
        .await;
    assert_eq!(
        get(&api, "ShippingRate", &rate).await["FixedAmountAmount"],
        500
    );
    let usd = api
        .rows(
            "ShippingRate",
            "FixedAmountCurrency = 'usd' AND Active = TRUE",
            &[],
        )
        .await;
    assert_eq!(usd.len(), 1);
    update(&api, "ShippingRate", &rate, json!({"Active": false})).await;
    assert!(
        api.rows("ShippingRate", "Active = TRUE", &[])
            .await
            .is_empty()
    );

    // PaymentLink, BillingPortalConfiguration, TestClock, WebhookEndpoint.
    let link = api
        .create(
            "PaymentLink",
            json!({"LineItems": [{"price": "price_gold", "quantity": 1}]}),
        )
        .await;
    assert!(
        get(&api, "PaymentLink", &link).await["Url"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    update(&api, "PaymentLink", &link, json!({"Active": false})).await;
    assert_eq!(
        api.rows("PaymentLink", "Active = FALSE", &[]).await.len(),
        1
    );

    let portal = api
        .create(
            "BillingPortalConfiguration",
            json!({"BusinessProfile": {"headline": "Manage billing"},
            "Features": {"invoice_history": {"enabled": true}}}),
        )
        .await;
    let got = get(&api, "BillingPortalConfiguration", &portal).await;
    assert_eq!(got["BusinessProfileHeadline"], "Manage billing");
    assert_eq!(
        api.rows("BillingPortalConfiguration", "IsDefault = FALSE", &[])
            .await
            .len(),
        1
    );

    let clock = api
        .create(
            "TestClock",
            json!({"FrozenTime": 1_700_000_000, "Name": "renewals"}),
        )
        .await;
    assert_eq!(
        get(&api, "TestClock", &clock).await["FrozenTime"],
        1_700_000_000
    );
    let (status, body) = delete(&api, "TestClock", &clock).await;
    assert_eq!(status, 200, "{body}");

    let hook = api
        .create(
            "WebhookEndpoint",
            json!({"Url": "https://example.com/hook", "EnabledEvents": ["invoice.paid"]}),
        )
        .await;
    update(
        &api,
        "WebhookEndpoint",
        &hook,
        json!({"Description": "billing"}),
    )
    .await;
    assert_eq!(
        api.rows("WebhookEndpoint", "Description = 'billing'", &[])
            .await
            .len(),
        1
    );
    let (status, body) = delete(&api, "WebhookEndpoint", &hook).await;
    assert_eq!(status, 200, "{body}");
    assert!(api.rows("WebhookEndpoint", "", &[]).await.is_empty());

    // Tax codes are Stripe's own; the balance is one row.
    let codes = api.rows("TaxCode", "Name LIKE 'General%'", &[]).await;
    assert!(codes.len() >= 2, "{codes:?}");
    assert_eq!(
        get(&api, "TaxCode", "txcd_00000000").await["Name"],
        "Nontaxable"
    );
    fake.stripe(
        "POST",
        "/v1/charges",
        &[
            ("amount", "4000"),
            ("currency", "usd"),
            ("source", "tok_visa"),
        ],
    )
    .await;
    let balance = api.rows("Balance", "", &[]).await;
    assert_eq!(balance.len(), 1);
    assert_eq!(balance[0]["Available"][0]["amount"], 4000, "{balance:?}");
}

#[tokio::test]
async fn money_movement_and_connect_entities_round_trip() {
    let (fake, _node, api) = fake_and_node();
    let account = api
        .create(
            "Account",
            json!({"Type": "express", "Country": "US", "Email": "seller@example.com"}),
        )
        .await;
    update(
        &api,
        "Account",
        &account,
        json!({"BusinessProfileName": "Seller & Co"}),
    )
    .await;
    let got = get(&api, "Account", &account).await;
    assert_eq!(
        (&got["BusinessProfileName"], &got["Type"]),
        (&json!("Seller & Co"), &json!("express"))
    );
    assert_eq!(
        api.rows("Account", "Email = 'seller@example.com'", &[])
            .await
            .len(),
        1
    );

    let transfer = api
        .create("Transfer", json!({"Amount": 2500, "Currency": "usd", "Destination": account, "TransferGroup": "order_9"}))
        .await;
    update(
        &api,
        "Transfer",
        &transfer,
        json!({"Description": "payout share"}),
    )
    .await;
    let transfers = api
        .rows(
            "Transfer",
            &format!("Destination = '{account}' AND TransferGroup = 'order_9'"),
            &[],
        )
        .await;
    assert_eq!(
        (transfers.len(), &transfers[0]["Description"]),
        (1, &json!("payout share"))
    );

    let topup = api
        .create(
            "TopUp",
            json!({"Amount": 10000, "Currency": "usd", "Description": "float"}),
        )
        .await;
    let pending = api
        .rows("TopUp", "Status = 'pending' AND Amount >= 10000", &[])
        .await;
    assert_eq!(pending.len(), 1);
    let last = fake.last_request().await;
    assert!(
        last["query"]
            .as_array()
            .unwrap()
            .contains(&json!(["amount[gte]", "10000"])),
        "{last}"
    );
    assert_eq!(get(&api, "TopUp", &topup).await["Description"], "float");

    // Files are uploaded as multipart (to the fake here); the node reads them and links them.
    let file = upload(&fake, "dispute_evidence", "receipt.pdf", "%PDF-1.4 receipt").await;
    let files = api.rows("File", "Purpose = 'dispute_evidence'", &[]).await;
    assert_eq!(
        (files.len(), &files[0]["Filename"]),
        (1, &json!("receipt.pdf"))
    );
    let link = api
        .create(
            "FileLink",
            json!({"File": file, "ExpiresAt": 4_102_444_800i64}),
        )
        .await;
    assert_eq!(
        api.rows(
            "FileLink",
            &format!("File = '{file}' AND Expired = FALSE"),
            &[]
        )
        .await
        .len(),
        1
    );
    update(
        &api,
        "FileLink",
        &link,
        json!({"Metadata": {"case": "dp_1"}}),
    )
    .await;
    assert_eq!(
        get(&api, "FileLink", &link).await["Metadata"]["case"],
        "dp_1"
    );

    let (status, body) = delete(&api, "Account", &account).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn objects_stripe_writes_are_read() {
    let (fake, _node, api) = fake_and_node();
    // A charge with an application fee.
    let charge = fake
        .stripe(
            "POST",
            "/v1/charges",
            &[
                ("amount", "5000"),
                ("currency", "usd"),
                ("source", "tok_visa"),
                ("application_fee_amount", "250"),
                ("on_behalf_of", "acct_seller"),
            ],
        )
        .await;
    let charge_id = charge["id"].as_str().unwrap();
    let fees = api
        .rows("ApplicationFee", &format!("Charge = '{charge_id}'"), &[])
        .await;
    assert_eq!(
        (fees.len(), &fees[0]["Amount"], &fees[0]["Account"]),
        (1, &json!(250), &json!("acct_seller"))
    );

    // Radar reviews an elevated-risk payment; an issuer warns of fraud on another.
    let risky = api
        .create("PaymentIntent", json!({"Amount": 900, "Currency": "usd"}))
        .await;
    let (status, body) = api
        .execute(
            "ConfirmPaymentIntent",
            json!({"PaymentIntentId": risky, "PaymentMethod": "pm_card_riskLevelElevated"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let reviews = api.rows("Review", "Open = TRUE", &[]).await;
    assert_eq!(
        (reviews.len(), &reviews[0]["PaymentIntent"]),
        (1, &json!(risky))
    );
    let pm = fake
        .stripe(
            "POST",
            "/v1/payment_methods",
            &[
                ("type", "card"),
                ("card[number]", "4000000000005423"),
                ("card[exp_month]", "12"),
                ("card[exp_year]", "2034"),
            ],
        )
        .await;
    let warned = api
        .create("PaymentIntent", json!({"Amount": 1200, "Currency": "usd"}))
        .await;
    let (status, body) = api
        .execute(
            "ConfirmPaymentIntent",
            json!({"PaymentIntentId": warned, "PaymentMethod": pm["id"]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let warnings = api
        .rows(
            "EarlyFraudWarning",
            &format!("PaymentIntent = '{warned}'"),
            &[],
        )
        .await;
    assert_eq!(
        (warnings.len(), &warnings[0]["Actionable"]),
        (1, &json!(true))
    );
    let last = fake.last_request().await;
    assert!(
        last["query"]
            .as_array()
            .unwrap()
            .contains(&json!(["payment_intent", warned])),
        "{last}"
    );

    // Confirming a SEPA Direct Debit SetupIntent: an attempt, and a mandate.
    let sepa = fake
        .stripe(
            "POST",
            "/v1/payment_methods",
            &[
                ("type", "sepa_debit"),
                ("sepa_debit[iban]", "DE89370400440532013000"),
            ],
        )
        .await;
    let customer = api.create("Customer", json!({"Name": "Debit"})).await;
    let intent = fake
        .stripe(
            "POST",
            "/v1/setup_intents",
            &[
                ("customer", &customer),
                ("payment_method_types[0]", "sepa_debit"),
            ],
        )
        .await;
    let intent_id = intent["id"].as_str().unwrap();
    let confirmed = fake
        .stripe(
            "POST",
            &format!("/v1/setup_intents/{intent_id}/confirm"),
            &[("payment_method", sepa["id"].as_str().unwrap())],
        )
        .await;
    let attempts = api
        .rows("SetupAttempt", &format!("SetupIntent = '{intent_id}'"), &[])
        .await;
    assert_eq!(
        (attempts.len(), &attempts[0]["Status"]),
        (1, &json!("succeeded"))
    );
    let (status, body) = api.list("SetupAttempt", "Status = 'succeeded'", &[]).await;
    assert_error_mentions(
        status,
        &body,
        400,
        "INVALID_ARGUMENT",
        "SetupIntent = '...'",
    );
    let mandate = confirmed["mandate"].as_str().expect("a mandate");
    let got = get(&api, "Mandate", mandate).await;
    assert_eq!(
        (&got["Status"], &got["CustomerAcceptanceType"]),
        (&json!("active"), &json!("online"))
    );
    let (status, body) = api.list("Mandate", "", &[]).await;
    assert_error(status, &body, 405, "UNIMPLEMENTED");
}

#[tokio::test]
async fn plans_against_localstripe() {
    let stripe = Localstripe::start();
    let node = Node::start(&api_node_options(stripe.url()));
    let api = Api::new(node.url());
    let product = api.create("Product", json!({"Name": "Plans"})).await;
    let plan = api
        .create(
            "Plan",
            json!({"Amount": 2000, "Currency": "usd", "Interval": "month", "Product": product,
            "Nickname": "monthly"}),
        )
        .await;
    let got = get(&api, "Plan", &plan).await;
    assert_eq!(
        (&got["Amount"], &got["Interval"], &got["Active"]),
        (&json!(2000), &json!("month"), &json!(true))
    );
    update(&api, "Plan", &plan, json!({"Nickname": "monthly (legacy)"})).await;
    let plans = api
        .rows(
            "Plan",
            &format!("Product = '{product}' AND Active = TRUE"),
            &[],
        )
        .await;
    assert_eq!(
        (plans.len(), &plans[0]["Nickname"]),
        (1, &json!("monthly (legacy)"))
    );
    let (status, body) = delete(&api, "Plan", &plan).await;
    assert_eq!(status, 200, "{body}");
}
