//! The billing actions added at the pinned API version, on the wire against the Stripe fake:
//! the upcoming invoice preview, subscription schedule cancel and release, refund cancel,
//! payout reverse, PaymentIntent increment authorization and apply customer balance, test clock
//! advance, top-up cancel and review approve.

use e2e::checked_calls::{counted_rows, get_fields, refused_action, run_action};
use e2e::stripe_side::{fund_cash_balance, id_of, price};
use e2e::{assert_error, assert_mentions, fake_and_node};
use serde_json::json;

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
    let monthly = [("recurring[interval]", "month")];
    let price = price(&fake, "prod_x", "usd", "900", &monthly).await;
    api.create(
        "Subscription",
        json!({"Customer": customer, "Items": [{"price": price, "quantity": 2}]}),
    )
    .await;
    let preview = run_action(
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
    let schedule = json!({"Customer": customer, "Phases": phases});
    let canceled = api.create("SubscriptionSchedule", schedule.clone()).await;
    let released = api.create("SubscriptionSchedule", schedule).await;

    // Canceling ends the subscription as well; releasing leaves it running on its own.
    for (action, parameters, status, subscription_key, subscription_status) in [
        (
            "CancelSubscriptionSchedule",
            json!({"SubscriptionScheduleId": canceled, "InvoiceNow": false}),
            "canceled",
            "subscription",
            "canceled",
        ),
        (
            "ReleaseSubscriptionSchedule",
            json!({"SubscriptionScheduleId": released}),
            "released",
            "released_subscription",
            "active",
        ),
    ] {
        let result = run_action(&api, action, parameters).await;
        assert_eq!(result["status"], status, "{action}");
        let sub = result[subscription_key].as_str().unwrap();
        let got = get_fields(&api, "Subscription", sub).await;
        assert_eq!(got["Status"], subscription_status, "{action}");
    }

    let release = json!({"SubscriptionScheduleId": released});
    refused_action(&api, "ReleaseSubscriptionSchedule", release).await;
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
    let apply = "ApplyCustomerBalanceToPaymentIntent";
    refused_action(&api, apply, json!({"PaymentIntentId": intent})).await;
    fund_cash_balance(&fake, &customer, "2000").await;
    let result = run_action(&api, apply, json!({"PaymentIntentId": intent})).await;
    assert_eq!(
        (&result["status"], &result["amount_received"]),
        (&json!("requires_action"), &json!("2000"))
    );
    fund_cash_balance(&fake, &customer, "1000").await;
    let result = run_action(
        &api,
        apply,
        json!({"PaymentIntentId": intent, "Amount": 1000, "Currency": "usd"}),
    )
    .await;
    assert_eq!(result["status"], "succeeded");
    let applied = format!("Customer = '{customer}' AND Type = 'applied_to_payment'");
    counted_rows(&api, "CustomerCashBalanceTransaction", &applied, 2).await;

    // Refunds of bank transfers wait for the customer's bank details: they can be canceled.
    let refund = api
        .create("Refund", json!({"PaymentIntent": intent, "Amount": 500}))
        .await;
    let result = run_action(&api, "CancelRefund", json!({"RefundId": refund})).await;
    assert_eq!(result["status"], "canceled");
    let err = refused_action(&api, "CancelRefund", json!({"RefundId": refund})).await;
    assert_mentions(&err, "requires_action");
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
    let intent = id_of(&intent);
    run_action(
        &api,
        "ConfirmPaymentIntent",
        json!({"PaymentIntentId": intent, "PaymentMethod": "pm_card_riskLevelElevated"}),
    )
    .await;
    let increment = "IncrementPaymentIntentAuthorization";
    let result = run_action(
        &api,
        increment,
        json!({"PaymentIntentId": intent, "Amount": 1500}),
    )
    .await;
    assert_eq!(
        (&result["amount"], &result["amount_capturable"]),
        (&json!("1500"), &json!("1500"))
    );
    let err = refused_action(&api, increment, json!({"PaymentIntentId": intent})).await;
    assert_mentions(&err, "Amount");
    let below = json!({"PaymentIntentId": intent, "Amount": 900});
    refused_action(&api, increment, below).await;

    let reviews = api
        .rows("Review", &format!("PaymentIntent = '{intent}'"), &[])
        .await;
    let review = reviews[0]["Id"].as_str().unwrap();
    let result = run_action(&api, "ApproveReview", json!({"ReviewId": review})).await;
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
    refused_action(&api, "ReversePayout", json!({"PayoutId": payout})).await;
    fake.settle_payout(&payout).await;
    let reversal = run_action(&api, "ReversePayout", json!({"PayoutId": payout})).await;
    assert_eq!(
        (&reversal["original_payout"], &reversal["amount"]),
        (&json!(payout), &json!("800"))
    );

    let topup = api
        .create("TopUp", json!({"Amount": 5000, "Currency": "usd"}))
        .await;
    let result = run_action(&api, "CancelTopUp", json!({"TopUpId": topup})).await;
    assert_eq!(result["status"], "canceled");
    assert!(
        api.rows("TopUp", "Status = 'pending'", &[])
            .await
            .is_empty()
    );

    let clock = api
        .create("TestClock", json!({"FrozenTime": 1_700_000_000}))
        .await;
    let result = run_action(
        &api,
        "AdvanceTestClock",
        json!({"TestClockId": clock, "FrozenTime": 1_702_592_000}),
    )
    .await;
    assert_eq!(result["frozen_time"], "1702592000");
    let got = get_fields(&api, "TestClock", &clock).await;
    assert_eq!(got["FrozenTime"], 1_702_592_000);
    let backwards = json!({"TestClockId": clock, "FrozenTime": 1_600_000_000});
    refused_action(&api, "AdvanceTestClock", backwards).await;
    let err = refused_action(&api, "AdvanceTestClock", json!({"TestClockId": clock})).await;
    assert_mentions(&err, "FrozenTime");
}
