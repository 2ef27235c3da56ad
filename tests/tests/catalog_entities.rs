//! The catalog's top-level entities on the wire: the ones a caller writes (create, get, update,
//! list with their filters, delete where Stripe has it) and the ones Stripe writes (read them).
//! Against localstripe where it is faithful (Plan; its tax ids refuse Stripe's `limit`), the
//! Stripe fake otherwise.

use e2e::checked_calls::{
    assert_unimplemented, delete, entity_path, get_fields, list_refused, run_action, single_row,
    update,
};
use e2e::stripe_side::{assert_last_query_has, card_charge, id_of};
use e2e::{StripeFake, assert_error, assert_mentions, fake_and_node, localstripe_and_node};
use serde_json::json;

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
    id_of(&response.json().await.expect("json"))
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
    let got = get_fields(&api, "SubscriptionSchedule", &schedule).await;
    assert_eq!(got["Status"], "active");
    let sub = got["Subscription"]
        .as_str()
        .expect("a subscription")
        .to_string();
    assert_eq!(
        get_fields(&api, "Subscription", &sub).await["Customer"],
        customer.as_str()
    );
    update(
        &api,
        "SubscriptionSchedule",
        &schedule,
        json!({"EndBehavior": "cancel"}),
    )
    .await;
    let recent = format!("Customer = '{customer}' AND Created > 1000");
    let listed = single_row(&api, "SubscriptionSchedule", &recent).await;
    assert_eq!(listed["EndBehavior"], "cancel");
    let answer = api
        .delete(&entity_path("SubscriptionSchedule", &schedule))
        .await;
    assert_unimplemented(answer, "CancelSubscriptionSchedule");

    // ShippingRate: archived by Active = false.
    let rate = api
        .create(
            "ShippingRate",
            json!({"DisplayName": "Ground", "Type": "fixed_amount",
            "FixedAmount": {"amount": 500, "currency": "usd"}}),
        )
        .await;
    assert_eq!(
        get_fields(&api, "ShippingRate", &rate).await["FixedAmountAmount"],
        500
    );
    single_row(
        &api,
        "ShippingRate",
        "FixedAmountCurrency = 'usd' AND Active = TRUE",
    )
    .await;
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
        get_fields(&api, "PaymentLink", &link).await["Url"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    update(&api, "PaymentLink", &link, json!({"Active": false})).await;
    single_row(&api, "PaymentLink", "Active = FALSE").await;

    let portal = api
        .create(
            "BillingPortalConfiguration",
            json!({"BusinessProfile": {"headline": "Manage billing"},
            "Features": {"invoice_history": {"enabled": true}}}),
        )
        .await;
    let got = get_fields(&api, "BillingPortalConfiguration", &portal).await;
    assert_eq!(got["BusinessProfileHeadline"], "Manage billing");
    single_row(&api, "BillingPortalConfiguration", "IsDefault = FALSE").await;

    let clock = api
        .create(
            "TestClock",
            json!({"FrozenTime": 1_700_000_000, "Name": "renewals"}),
        )
        .await;
    assert_eq!(
        get_fields(&api, "TestClock", &clock).await["FrozenTime"],
        1_700_000_000
    );
    delete(&api, "TestClock", &clock).await;

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
    single_row(&api, "WebhookEndpoint", "Description = 'billing'").await;
    delete(&api, "WebhookEndpoint", &hook).await;
    assert!(api.rows("WebhookEndpoint", "", &[]).await.is_empty());

    // Tax codes are Stripe's own; the balance is one row.
    let codes = api.rows("TaxCode", "Name LIKE 'General%'", &[]).await;
    assert!(codes.len() >= 2, "{codes:?}");
    assert_eq!(
        get_fields(&api, "TaxCode", "txcd_00000000").await["Name"],
        "Nontaxable"
    );
    card_charge(&fake, "4000", &[]).await;
    let balance = single_row(&api, "Balance", "").await;
    assert_eq!(balance["Available"][0]["amount"], 4000, "{balance:?}");
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
    let got = get_fields(&api, "Account", &account).await;
    assert_eq!(
        (&got["BusinessProfileName"], &got["Type"]),
        (&json!("Seller & Co"), &json!("express"))
    );
    single_row(&api, "Account", "Email = 'seller@example.com'").await;

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
    let grouped = format!("Destination = '{account}' AND TransferGroup = 'order_9'");
    let listed = single_row(&api, "Transfer", &grouped).await;
    assert_eq!(listed["Description"], "payout share");

    let topup = api
        .create(
            "TopUp",
            json!({"Amount": 10000, "Currency": "usd", "Description": "float"}),
        )
        .await;
    single_row(&api, "TopUp", "Status = 'pending' AND Amount >= 10000").await;
    assert_last_query_has(&fake, &[json!(["amount[gte]", "10000"])]).await;
    assert_eq!(
        get_fields(&api, "TopUp", &topup).await["Description"],
        "float"
    );

    // Files are uploaded as multipart (to the fake here); the node reads them and links them.
    let file = upload(&fake, "dispute_evidence", "receipt.pdf", "%PDF-1.4 receipt").await;
    let uploaded = single_row(&api, "File", "Purpose = 'dispute_evidence'").await;
    assert_eq!(uploaded["Filename"], "receipt.pdf");
    let link = api
        .create(
            "FileLink",
            json!({"File": file, "ExpiresAt": 4_102_444_800i64}),
        )
        .await;
    single_row(
        &api,
        "FileLink",
        &format!("File = '{file}' AND Expired = FALSE"),
    )
    .await;
    update(
        &api,
        "FileLink",
        &link,
        json!({"Metadata": {"case": "dp_1"}}),
    )
    .await;
    assert_eq!(
        get_fields(&api, "FileLink", &link).await["Metadata"]["case"],
        "dp_1"
    );

    delete(&api, "Account", &account).await;
}

#[tokio::test]
async fn objects_stripe_writes_are_read() {
    let (fake, _node, api) = fake_and_node();
    // A charge with an application fee.
    let with_fee = [
        ("application_fee_amount", "250"),
        ("on_behalf_of", "acct_seller"),
    ];
    let charge_id = id_of(&card_charge(&fake, "5000", &with_fee).await);
    let fee = single_row(&api, "ApplicationFee", &format!("Charge = '{charge_id}'")).await;
    assert_eq!(
        (&fee["Amount"], &fee["Account"]),
        (&json!(250), &json!("acct_seller"))
    );

    // Radar reviews an elevated-risk payment; an issuer warns of fraud on another.
    let risky = api
        .create("PaymentIntent", json!({"Amount": 900, "Currency": "usd"}))
        .await;
    run_action(
        &api,
        "ConfirmPaymentIntent",
        json!({"PaymentIntentId": risky, "PaymentMethod": "pm_card_riskLevelElevated"}),
    )
    .await;
    let review = single_row(&api, "Review", "Open = TRUE").await;
    assert_eq!(review["PaymentIntent"], risky.as_str());
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
    let confirm = json!({"PaymentIntentId": warned, "PaymentMethod": pm["id"]});
    run_action(&api, "ConfirmPaymentIntent", confirm).await;
    let of_warned = format!("PaymentIntent = '{warned}'");
    let warning = single_row(&api, "EarlyFraudWarning", &of_warned).await;
    assert_eq!(warning["Actionable"], true);
    assert_last_query_has(&fake, &[json!(["payment_intent", warned])]).await;

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
    let intent_id = id_of(&intent);
    let confirmed = fake
        .stripe(
            "POST",
            &format!("/v1/setup_intents/{intent_id}/confirm"),
            &[("payment_method", sepa["id"].as_str().unwrap())],
        )
        .await;
    let of_intent = format!("SetupIntent = '{intent_id}'");
    let attempt = single_row(&api, "SetupAttempt", &of_intent).await;
    assert_eq!(attempt["Status"], "succeeded");
    let err = list_refused(&api, "SetupAttempt", "Status = 'succeeded'", &[]).await;
    assert_mentions(&err, "SetupIntent = '...'");
    let mandate = confirmed["mandate"].as_str().expect("a mandate");
    let got = get_fields(&api, "Mandate", mandate).await;
    assert_eq!(
        (&got["Status"], &got["CustomerAcceptanceType"]),
        (&json!("active"), &json!("online"))
    );
    let (status, body) = api.list("Mandate", "", &[]).await;
    assert_error(status, &body, 405, "UNIMPLEMENTED");
}

#[tokio::test]
async fn plans_against_localstripe() {
    let (_stripe, _node, api) = localstripe_and_node();
    let product = api.create("Product", json!({"Name": "Plans"})).await;
    let plan = api
        .create(
            "Plan",
            json!({"Amount": 2000, "Currency": "usd", "Interval": "month", "Product": product,
            "Nickname": "monthly"}),
        )
        .await;
    let got = get_fields(&api, "Plan", &plan).await;
    assert_eq!(
        (&got["Amount"], &got["Interval"], &got["Active"]),
        (&json!(2000), &json!("month"), &json!(true))
    );
    update(&api, "Plan", &plan, json!({"Nickname": "monthly (legacy)"})).await;
    let active = format!("Product = '{product}' AND Active = TRUE");
    let listed = single_row(&api, "Plan", &active).await;
    assert_eq!(listed["Nickname"], "monthly (legacy)");
    delete(&api, "Plan", &plan).await;
}
