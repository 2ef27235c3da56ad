//! The billing actions added at the pinned API version, on the wire against the Stripe fake:
//! the upcoming invoice preview, subscription schedule cancel and release, refund cancel,
//! payout reverse, PaymentIntent increment authorization and apply customer balance, test clock
//! advance, top-up cancel and review approve.

use e2e::{Api, assert_error, fake_and_node};
use serde_json::{Value, json};

/// Runs an action that must succeed and returns its one result row.
async fn run(api: &Api, action: &str, parameters: Value) -> Value {
    let (status, body) = api.execute(action, parameters.clone()).await;
    assert_eq!(status, 200, "{action} {parameters}: {body}");
    assert_eq!(body["results"][0]["Success"], "true", "{body}");
    body["results"][0].clone()
}

#[tokio::test]
async fn the_upcoming_invoice_previews_pending_items_and_subscriptions() {
    let (fake, _node, api) = fake_and_node();
    let customer = api.create("Customer", json!({"Name": "Preview"})).await;
    let (status, body) = api
        .execute("PreviewUpcomingInvoice", json!({"CustomerId": customer}))
        .await;
    let err = assert_error(status, &body, 404, "NOT_FOUND");
    assert!(err.to_string().contains("invoice_upcoming_none"), "{err}");

    api.create(
        "InvoiceItem",
        json!({"Customer": customer, "Amount": 1500, "Currency": "usd"}),
    )
    .await;
    let price = fake
        .stripe(
            "POST",
            "/v1/prices",
            &[
                ("currency", "usd"),
                ("unit_amount", "900"),
                ("product", "prod_x"),
                ("recurring[interval]", "month"),
            ],
        )
        .await;
    api.create(
        "Subscription",
        json!({"Customer": customer, "Items": [{"price": price["id"], "quantity": 2}]}),
    )
    .await;
    let preview = run(
        &api,
        "PreviewUpcomingInvoice",
        json!({"CustomerId": customer}),
    )
    .await;
    assert_eq!(
        (&preview["amount_due"], &preview["customer"]),
        (&json!("3300"), &json!(customer)),
        "{preview}"
    );
    let last = fake.last_request().await;
    assert_eq!(
        (&last["method"], &last["path"]),
        (&json!("GET"), &json!("/v1/invoices/upcoming"))
    );
    // A preview writes nothing.
    assert!(
        api.rows("Invoice", &format!("Customer = '{customer}'"), &[])
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn subscription_schedules_are_canceled_or_released() {
    let (_fake, _node, api) = fake_and_node();
    let customer = api.create("Customer", json!({"Name": "Scheduled"})).await;
    let phases = json!([{"items": [{"price": "price_a"}], "iterations": 3}]);
    let canceled = api
        .create(
            "SubscriptionSchedule",
            json!({"Customer": customer, "Phases": phases}),
        )
        .await;
    let released = api
        .create(
            "SubscriptionSchedule",
            json!({"Customer": customer, "Phases": phases}),
        )
        .await;

    let result = run(
        &api,
        "CancelSubscriptionSchedule",
        json!({"SubscriptionScheduleId": canceled, "InvoiceNow": false}),
    )
    .await;
    assert_eq!(result["status"], "canceled");
    let sub = result["subscription"].as_str().unwrap();
    let (_, got) = api
        .get(&format!("/v2/entityTypes/Subscription/entities/{sub}"))
        .await;
    assert_eq!(got["fields"]["Status"], "canceled");

    let result = run(
        &api,
        "ReleaseSubscriptionSchedule",
        json!({"SubscriptionScheduleId": released}),
    )
    .await;
    assert_eq!(result["status"], "released");
    let kept = result["released_subscription"].as_str().unwrap();
    let (_, got) = api
        .get(&format!("/v2/entityTypes/Subscription/entities/{kept}"))
        .await;
    assert_eq!(got["fields"]["Status"], "active");

    let (status, body) = api
        .execute(
            "ReleaseSubscriptionSchedule",
            json!({"SubscriptionScheduleId": released}),
        )
        .await;
    assert_error(status, &body, 400, "INVALID_ARGUMENT");
}

#[tokio::test]
async fn a_bank_transfer_is_paid_from_the_cash_balance_and_its_refund_canceled() {
    let (fake, _node, api) = fake_and_node();
    let customer = api.create("Customer", json!({"Name": "Wire"})).await;
    let intent = api
        .create(
            "PaymentIntent",
            json!({"Amount": 3000, "Currency": "usd", "Customer": customer,
            "PaymentMethodTypes": ["customer_balance"]}),
        )
        .await;
    let (status, body) = api
        .execute(
            "ApplyCustomerBalanceToPaymentIntent",
            json!({"PaymentIntentId": intent}),
        )
        .await;
    assert_error(status, &body, 400, "INVALID_ARGUMENT");
    fake.stripe(
        "POST",
        &format!("/v1/test_helpers/customers/{customer}/fund_cash_balance"),
        &[("amount", "2000"), ("currency", "usd")],
    )
    .await;
    let result = run(
        &api,
        "ApplyCustomerBalanceToPaymentIntent",
        json!({"PaymentIntentId": intent}),
    )
    .await;
    assert_eq!(
        (&result["status"], &result["amount_received"]),
        (&json!("requires_action"), &json!("2000"))
    );
    fake.stripe(
        "POST",
        &format!("/v1/test_helpers/customers/{customer}/fund_cash_balance"),
        &[("amount", "1000"), ("currency", "usd")],
    )
    .await;
    let result = run(
        &api,
        "ApplyCustomerBalanceToPaymentIntent",
        json!({"PaymentIntentId": intent, "Amount": 1000, "Currency": "usd"}),
    )
    .await;
    assert_eq!(result["status"], "succeeded");
    let applied = api
        .rows(
            "CustomerCashBalanceTransaction",
            &format!("Customer = '{customer}' AND Type = 'applied_to_payment'"),
            &[],
        )
        .await;
    assert_eq!(applied.len(), 2);

    // Refunds of bank transfers wait for the customer's bank details: they can be canceled.
    let refund = api
        .create("Refund", json!({"PaymentIntent": intent, "Amount": 500}))
        .await;
    let result = run(&api, "CancelRefund", json!({"RefundId": refund})).await;
    assert_eq!(result["status"], "canceled");
    let (status, body) = api
        .execute("CancelRefund", json!({"RefundId": refund}))
        .await;
    let err = assert_error(status, &body, 400, "INVALID_ARGUMENT");
    assert!(
        err["message"].as_str().unwrap().contains("requires_action"),
        "{err}"
    );
}

#[tokio::test]
async fn card_authorizations_grow_and_reviews_are_approved() {
    let (fake, _node, api) = fake_and_node();
    let intent = fake
        .stripe(
            "POST",
            "/v1/payment_intents",
            &[
                ("amount", "1000"),
                ("currency", "usd"),
                ("capture_method", "manual"),
                (
                    "payment_method_options[card][request_incremental_authorization]",
                    "if_available",
                ),
            ],
        )
        .await;
    let intent = intent["id"].as_str().unwrap().to_string();
    run(
        &api,
        "ConfirmPaymentIntent",
        json!({"PaymentIntentId": intent, "PaymentMethod": "pm_card_riskLevelElevated"}),
    )
    .await;
    let result = run(
        &api,
        "IncrementPaymentIntentAuthorization",
        json!({"PaymentIntentId": intent, "Amount": 1500}),
    )
    .await;
    assert_eq!(
        (&result["amount"], &result["amount_capturable"]),
        (&json!("1500"), &json!("1500"))
    );
    let (status, body) = api
        .execute(
            "IncrementPaymentIntentAuthorization",
            json!({"PaymentIntentId": intent}),
        )
        .await;
    let err = assert_error(status, &body, 400, "INVALID_ARGUMENT");
    assert!(err["message"].as_str().unwrap().contains("Amount"), "{err}");
    let (status, body) = api
        .execute(
            "IncrementPaymentIntentAuthorization",
            json!({"PaymentIntentId": intent, "Amount": 900}),
        )
        .await;
    assert_error(status, &body, 400, "INVALID_ARGUMENT");

    let reviews = api
        .rows("Review", &format!("PaymentIntent = '{intent}'"), &[])
        .await;
    let review = reviews[0]["Id"].as_str().unwrap();
    let result = run(&api, "ApproveReview", json!({"ReviewId": review})).await;
    assert_eq!(
        (&result["open"], &result["closed_reason"]),
        (&json!("false"), &json!("approved"))
    );
    assert!(api.rows("Review", "Open = TRUE", &[]).await.is_empty());
}

#[tokio::test]
async fn payouts_reverse_top_ups_cancel_and_test_clocks_advance() {
    let (fake, _node, api) = fake_and_node();
    let payout = api
        .create("Payout", json!({"Amount": 800, "Currency": "usd"}))
        .await;
    let (status, body) = api
        .execute("ReversePayout", json!({"PayoutId": payout}))
        .await;
    assert_error(status, &body, 400, "INVALID_ARGUMENT");
    fake.settle_payout(&payout).await;
    let reversal = run(&api, "ReversePayout", json!({"PayoutId": payout})).await;
    assert_eq!(
        (&reversal["original_payout"], &reversal["amount"]),
        (&json!(payout), &json!("800"))
    );

    let topup = api
        .create("TopUp", json!({"Amount": 5000, "Currency": "usd"}))
        .await;
    let result = run(&api, "CancelTopUp", json!({"TopUpId": topup})).await;
    assert_eq!(result["status"], "canceled");
    assert!(
        api.rows("TopUp", "Status = 'pending'", &[])
            .await
            .is_empty()
    );

    let clock = api
        .create("TestClock", json!({"FrozenTime": 1_700_000_000}))
        .await;
    let result = run(
        &api,
        "AdvanceTestClock",
        json!({"TestClockId": clock, "FrozenTime": 1_702_592_000}),
    )
    .await;
    assert_eq!(result["frozen_time"], "1702592000");
    let (_, got) = api
        .get(&format!("/v2/entityTypes/TestClock/entities/{clock}"))
        .await;
    assert_eq!(got["fields"]["FrozenTime"], 1_702_592_000);
    let (status, body) = api
        .execute(
            "AdvanceTestClock",
            json!({"TestClockId": clock, "FrozenTime": 1_600_000_000}),
        )
        .await;
    assert_error(status, &body, 400, "INVALID_ARGUMENT");
    let (status, body) = api
        .execute("AdvanceTestClock", json!({"TestClockId": clock}))
        .await;
    let err = assert_error(status, &body, 400, "INVALID_ARGUMENT");
    assert!(
        err["message"].as_str().unwrap().contains("FrozenTime"),
        "{err}"
    );
}
