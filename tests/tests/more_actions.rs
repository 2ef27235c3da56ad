//! The actions beyond the Stripe connector's nine, against the Stripe fake: invoice life cycle,
//! subscriptions and Checkout Sessions.

use e2e::{Api, Node, StripeFake, api_node_options, assert_error};
use serde_json::json;

fn start() -> (StripeFake, Node, Api) {
    let fake = StripeFake::start();
    let node = Node::start(&api_node_options(fake.url()));
    let api = Api::new(node.url());
    (fake, node, api)
}

async fn open_invoice(api: &Api, customer: &str) -> String {
    let invoice = api
        .create(
            "Invoice",
            json!({"Customer": customer, "CollectionMethod": "send_invoice", "DaysUntilDue": 30}),
        )
        .await;
    // A non-zero amount keeps it open after finalization.
    let (status, body) = api
        .patch(
            &format!("/v2/entityTypes/Invoice/entities/{invoice}"),
            &json!({"Description": "Consulting"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    invoice
}

#[tokio::test]
async fn invoice_actions_walk_the_life_cycle() {
    let (_fake, _node, api) = start();
    let customer = api.create("Customer", json!({"Name": "Billed"})).await;

    // Draft invoices can be deleted; finalized ones name VoidInvoice instead.
    let draft = open_invoice(&api, &customer).await;
    let (status, _) = api
        .delete(&format!("/v2/entityTypes/Invoice/entities/{draft}"))
        .await;
    assert_eq!(status, 200);

    let invoice = open_invoice(&api, &customer).await;
    let (status, body) = api
        .execute(
            "FinalizeInvoice",
            json!({"InvoiceId": invoice, "AutoAdvance": false}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = api
        .delete(&format!("/v2/entityTypes/Invoice/entities/{invoice}"))
        .await;
    let err = assert_error(status, &body, 400, "INVALID_ARGUMENT");
    assert!(
        err["message"].as_str().unwrap().contains("VoidInvoice"),
        "{err}"
    );

    // A zero-amount invoice is paid on finalization (as at Stripe): voiding it is Stripe's state
    // error, passed on as a 400 with Stripe's code.
    let (status, body) = api
        .execute("VoidInvoice", json!({"InvoiceId": invoice}))
        .await;
    let err = assert_error(status, &body, 400, "INVALID_ARGUMENT");
    assert_eq!(
        e2e::stripe_detail(&err, "stripeCode"),
        "resource_unexpected_state"
    );
}

#[tokio::test]
async fn pay_and_mark_uncollectible() {
    let (fake, _node, api) = start();
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
        let (status, body) = api
            .execute("FinalizeInvoice", json!({"InvoiceId": invoice}))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["results"][0]["status"], "open");
        assert_eq!(body["results"][0]["amount_due"], "3000");
        invoices.push(invoice);
    }
    let (status, body) = api
        .execute("SendInvoice", json!({"InvoiceId": invoices[0]}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = api
        .execute(
            "PayInvoice",
            json!({"InvoiceId": invoices[0], "PaidOutOfBand": true}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let r = &body["results"][0];
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

    let (status, body) = api
        .execute(
            "MarkInvoiceUncollectible",
            json!({"InvoiceId": invoices[1]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["status"], "uncollectible");
}

#[tokio::test]
async fn subscriptions_and_checkout_sessions() {
    let (_fake, _node, api) = start();
    let customer = api.create("Customer", json!({"Name": "Subscriber"})).await;
    let sub = api
        .create(
            "Subscription",
            json!({"Customer": customer, "Items": [{"price": "price_1"}]}),
        )
        .await;
    // Resuming an active subscription is Stripe's state error, passed on as a 400.
    let (status, body) = api
        .execute("ResumeSubscription", json!({"SubscriptionId": sub}))
        .await;
    assert_error(status, &body, 400, "INVALID_ARGUMENT");
    let (status, body) = api
        .execute(
            "CancelSubscription",
            json!({"SubscriptionId": sub, "InvoiceNow": "true"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["status"], "canceled");
    assert!(body["results"][0]["canceled_at"].is_string());
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
    let (status, body) = api
        .execute("ExpireCheckoutSession", json!({"SessionId": session}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["status"], "expired");
    let (status, body) = api
        .execute("ExpireCheckoutSession", json!({"SessionId": session}))
        .await;
    assert_error(status, &body, 400, "INVALID_ARGUMENT");
}
