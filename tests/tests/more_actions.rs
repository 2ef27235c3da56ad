//! The actions beyond the Stripe connector's nine, against the Stripe fake: invoice life cycle,
//! subscriptions and Checkout Sessions.

use e2e::checked_calls::{delete, entity_path, refused_action, run_action, update};
use e2e::{Api, assert_error, assert_mentions, fake_and_node};
use serde_json::json;

async fn open_invoice(api: &Api, customer: &str) -> String {
    let invoice = api
        .create(
            "Invoice",
            json!({"Customer": customer, "CollectionMethod": "send_invoice", "DaysUntilDue": 30}),
        )
        .await;
    // A non-zero amount keeps it open after finalization.
    update(
        api,
        "Invoice",
        &invoice,
        json!({"Description": "Consulting"}),
    )
    .await;
    invoice
}

#[tokio::test]
async fn invoice_actions_walk_the_life_cycle() {
    let (_fake, _node, api) = fake_and_node();
    let customer = api.create("Customer", json!({"Name": "Billed"})).await;

    // Draft invoices can be deleted; finalized ones name VoidInvoice instead.
    let draft = open_invoice(&api, &customer).await;
    delete(&api, "Invoice", &draft).await;

    let invoice = open_invoice(&api, &customer).await;
    let finalize = json!({"InvoiceId": invoice, "AutoAdvance": false});
    run_action(&api, "FinalizeInvoice", finalize).await;
    let (status, body) = api.delete(&entity_path("Invoice", &invoice)).await;
    let err = assert_error(status, &body, 400, "INVALID_ARGUMENT");
    assert_mentions(&err, "VoidInvoice");

    // A zero-amount invoice is paid on finalization (as at Stripe): voiding it is Stripe's state
    // error, passed on as a 400 with Stripe's code.
    let err = refused_action(&api, "VoidInvoice", json!({"InvoiceId": invoice})).await;
    assert_eq!(
        e2e::stripe_detail(&err, "stripeCode"),
        "resource_unexpected_state"
    );
}

#[tokio::test]
async fn pay_and_mark_uncollectible() {
    let (fake, _node, api) = fake_and_node();
    let customer = api.create("Customer", json!({"Name": "Billed"})).await;
    // Invoices with an amount due stay open when finalized: make them through a quote.
    let mut invoices = Vec::new();
    for _ in 0..2 {
        let quote = api
            .create(
                "Quote",
                json!({"Customer": customer, "LineItems": [{"price": "price_1", "quantity": 3}]}),
            )
            .await;
        api.execute("FinalizeQuote", json!({"QuoteId": quote}))
            .await;
        let (_, accepted) = api.execute("AcceptQuote", json!({"QuoteId": quote})).await;
        let invoice = accepted["results"][0]["InvoiceId"]
            .as_str()
            .unwrap()
            .to_string();
        let result = run_action(&api, "FinalizeInvoice", json!({"InvoiceId": invoice})).await;
        assert_eq!(result["status"], "open");
        assert_eq!(result["amount_due"], "3000");
        invoices.push(invoice);
    }
    run_action(&api, "SendInvoice", json!({"InvoiceId": invoices[0]})).await;
    let pay = json!({"InvoiceId": invoices[0], "PaidOutOfBand": true});
    let r = &run_action(&api, "PayInvoice", pay).await;
    assert_eq!(
        (
            r["status"].as_str(),
            r["paid"].as_str(),
            r["amount_paid"].as_str()
        ),
        (Some("paid"), Some("true"), Some("3000"))
    );
    let last = fake.last_request().await;
    assert_eq!(last["path"], format!("/v1/invoices/{}/pay", invoices[0]));

    let uncollectible = json!({"InvoiceId": invoices[1]});
    let result = run_action(&api, "MarkInvoiceUncollectible", uncollectible).await;
    assert_eq!(result["status"], "uncollectible");
}

#[tokio::test]
async fn subscriptions_and_checkout_sessions() {
    let (_fake, _node, api) = fake_and_node();
    let customer = api.create("Customer", json!({"Name": "Subscriber"})).await;
    let sub = api
        .create(
            "Subscription",
            json!({"Customer": customer, "Items": [{"price": "price_1"}]}),
        )
        .await;
    // Resuming an active subscription is Stripe's state error, passed on as a 400.
    refused_action(&api, "ResumeSubscription", json!({"SubscriptionId": sub})).await;
    let cancel = json!({"SubscriptionId": sub, "InvoiceNow": "true"});
    let result = run_action(&api, "CancelSubscription", cancel).await;
    assert_eq!(result["status"], "canceled");
    assert!(result["canceled_at"].is_string());
    // Canceled subscriptions are still listed (the node sends Stripe's status=all).
    let (status, list) = api.get("/v2/entityTypes/Subscription/entities").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["entities"][0]["fields"]["Id"], sub.as_str());
    assert_eq!(list["entities"][0]["fields"]["Status"], "canceled");

    let session = api
        .create(
            "CheckoutSession",
            json!({"SuccessUrl": "https://example.com/ok", "Mode": "payment",
                   "LineItems": [{"price": "price_1", "quantity": 1}]}),
        )
        .await;
    let expire = json!({"SessionId": session});
    let result = run_action(&api, "ExpireCheckoutSession", expire.clone()).await;
    assert_eq!(result["status"], "expired");
    refused_action(&api, "ExpireCheckoutSession", expire).await;
}
