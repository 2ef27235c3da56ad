//! Child collections on the wire: listed with their parent's id as a condition, which the node
//! moves into Stripe's path (`/v1/invoices/{invoice}/lines`); against the Stripe fake, since
//! localstripe has few of them (and its tax id list refuses Stripe's `limit`).

use e2e::{assert_error, fake_and_node};
use serde_json::{Value, json};

fn id(object: &Value) -> String {
    object["id"].as_str().expect("id").to_string()
}

#[tokio::test]
async fn billing_documents_list_their_lines() {
    let (fake, _node, api) = fake_and_node();
    let customer = api.create("Customer", json!({"Name": "Lines"})).await;
    let price = fake
        .stripe(
            "POST",
            "/v1/prices",
            &[
                ("currency", "usd"),
                ("unit_amount", "700"),
                ("product", "prod_x"),
            ],
        )
        .await;
    let price = id(&price);

    // Invoice lines: the invoice items on a draft invoice.
    let invoice = api.create("Invoice", json!({"Customer": customer})).await;
    for (amount, description) in [("1200", "Setup"), ("300", "Extra")] {
        fake.stripe(
            "POST",
            "/v1/invoiceitems",
            &[
                ("customer", &customer),
                ("invoice", &invoice),
                ("amount", amount),
                ("description", description),
            ],
        )
        .await;
    }
    let lines = api
        .rows("InvoiceLineItem", &format!("Invoice = '{invoice}'"), &[])
        .await;
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines
            .iter()
            .all(|l| l["Invoice"] == invoice.as_str() && l["Type"] == "invoiceitem"),
        "{lines:?}"
    );
    let amounts: Vec<i64> = lines
        .iter()
        .map(|l| l["Amount"].as_i64().unwrap())
        .collect();
    assert_eq!(amounts.iter().sum::<i64>(), 1500);
    assert_eq!(
        fake.last_request().await["path"],
        format!("/v1/invoices/{invoice}/lines")
    );
    // One of them by id, and two invoices' lines in one List (one Stripe list each).
    let first = lines[0]["Id"].as_str().unwrap();
    let one = api
        .rows(
            "InvoiceLineItem",
            &format!("Invoice = '{invoice}' AND Id = '{first}'"),
            &[],
        )
        .await;
    assert_eq!(one.len(), 1);
    let other = api.create("Invoice", json!({"Customer": customer})).await;
    fake.stripe(
        "POST",
        "/v1/invoiceitems",
        &[
            ("customer", &customer),
            ("invoice", &other),
            ("amount", "50"),
        ],
    )
    .await;
    let before = fake.requests("GET", "/v1/invoices/").await;
    let both = api
        .rows(
            "InvoiceLineItem",
            &format!("Invoice IN ('{invoice}', '{other}')"),
            &[],
        )
        .await;
    assert_eq!(both.len(), 3);
    assert_eq!(fake.requests("GET", "/v1/invoices/").await - before, 2);

    // Quote lines.
    let quote = api
        .create(
            "Quote",
            json!({"Customer": customer, "LineItems": [{"price": price, "quantity": 3}]}),
        )
        .await;
    let lines = api
        .rows("QuoteLineItem", &format!("Quote = '{quote}'"), &[])
        .await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(
        (
            &lines[0]["Quantity"],
            &lines[0]["AmountTotal"],
            &lines[0]["Price"]
        ),
        (&json!(3), &json!(2100), &json!(price))
    );

    // Checkout Session lines.
    let session = api
        .create(
            "CheckoutSession",
            json!({"Mode": "payment", "SuccessUrl": "https://example.com/ok",
            "LineItems": [{"price": price, "quantity": 1}]}),
        )
        .await;
    let lines = api
        .rows(
            "CheckoutSessionLineItem",
            &format!("CheckoutSession = '{session}'"),
            &[],
        )
        .await;
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["CheckoutSession"], session.as_str());

    // Payment link lines.
    let link = api
        .create(
            "PaymentLink",
            json!({"LineItems": [{"price": price, "quantity": 2}]}),
        )
        .await;
    let lines = api
        .rows(
            "PaymentLinkLineItem",
            &format!("PaymentLink = '{link}'"),
            &[],
        )
        .await;
    assert_eq!(
        (lines.len(), &lines[0]["AmountSubtotal"]),
        (1, &json!(1400))
    );

    // Credit note lines: of a finalized invoice.
    let (status, body) = api
        .execute("FinalizeInvoice", json!({"InvoiceId": invoice}))
        .await;
    assert_eq!(status, 200, "{body}");
    let note = api
        .create(
            "CreditNote",
            json!({"Invoice": invoice, "Memo": "goodwill"}),
        )
        .await;
    let lines = api
        .rows("CreditNoteLineItem", &format!("CreditNote = '{note}'"), &[])
        .await;
    assert_eq!(
        (lines.len(), &lines[0]["Amount"]),
        (1, &json!(1500)),
        "{lines:?}"
    );

    // Usage of a metered subscription item.
    let sub = api
        .create(
            "Subscription",
            json!({"Customer": customer, "Items": [{"price": price}]}),
        )
        .await;
    let items = api
        .rows("SubscriptionItem", &format!("Subscription = '{sub}'"), &[])
        .await;
    let item = items[0]["Id"].as_str().unwrap().to_string();
    for quantity in ["4", "6"] {
        fake.stripe(
            "POST",
            &format!("/v1/subscription_items/{item}/usage_records"),
            &[("quantity", quantity)],
        )
        .await;
    }
    let usage = api
        .rows(
            "UsageRecordSummary",
            &format!("SubscriptionItem = '{item}'"),
            &[],
        )
        .await;
    assert_eq!(usage[0]["TotalUsage"], 10, "{usage:?}");
}

#[tokio::test]
async fn a_child_list_needs_its_parent_and_a_real_id() {
    let (fake, _node, api) = fake_and_node();
    let (status, body) = api.list("InvoiceLineItem", "Amount > 5", &[]).await;
    let err = assert_error(status, &body, 400, "INVALID_ARGUMENT");
    assert!(
        err["message"].as_str().unwrap().contains("Invoice = '...'"),
        "{err}"
    );
    let (status, body) = api
        .list("InvoiceLineItem", "Invoice = 'in_1' OR Amount > 5", &[])
        .await;
    let err = assert_error(status, &body, 400, "INVALID_ARGUMENT");
    assert!(
        err["message"].as_str().unwrap().contains("Invoice"),
        "{err}"
    );
    let (status, body) = api
        .list("TaxId", "Customer = 'cus_1/../../v1/charges'", &[])
        .await;
    assert_error(status, &body, 400, "INVALID_ARGUMENT");
    assert_eq!(
        fake.requests("GET", "/v1").await,
        0,
        "nothing reached Stripe"
    );
    // A parent that does not exist is Stripe's 404.
    let (status, body) = api
        .list("InvoiceLineItem", "Invoice = 'in_missing'", &[])
        .await;
    assert_error(status, &body, 404, "NOT_FOUND");
    // Stripe's Get of a child needs the parent's id too: List is what the node serves.
    let (status, body) = api.get("/v2/entityTypes/TaxId/entities/txi_1").await;
    let err = assert_error(status, &body, 405, "UNIMPLEMENTED");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("List it with the parent"),
        "{err}"
    );
}

#[tokio::test]
async fn customers_list_their_balance_and_cash_balance_transactions_and_tax_ids() {
    let (fake, _node, api) = fake_and_node();
    let customer = api.create("Customer", json!({"Name": "Credit"})).await;
    // A balance change is a customer balance transaction at Stripe.
    let (status, body) = api
        .patch(
            &format!("/v2/entityTypes/Customer/entities/{customer}"),
            &json!({"Balance": -500}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    fake.stripe(
        "POST",
        &format!("/v1/customers/{customer}/balance_transactions"),
        &[
            ("amount", "200"),
            ("currency", "usd"),
            ("description", "refund credit"),
        ],
    )
    .await;
    let txns = api
        .rows(
            "CustomerBalanceTransaction",
            &format!("Customer = '{customer}'"),
            &[],
        )
        .await;
    let amounts: Vec<&Value> = txns.iter().map(|t| &t["Amount"]).collect();
    assert_eq!(
        amounts,
        [&json!(200), &json!(-500)],
        "newest first: {txns:?}"
    );
    assert_eq!(txns[0]["EndingBalance"], -300);

    fake.stripe(
        "POST",
        &format!("/v1/test_helpers/customers/{customer}/fund_cash_balance"),
        &[("amount", "5000"), ("currency", "usd")],
    )
    .await;
    let cash = api
        .rows(
            "CustomerCashBalanceTransaction",
            &format!("Customer = '{customer}'"),
            &[],
        )
        .await;
    assert_eq!(
        (&cash[0]["Type"], &cash[0]["NetAmount"]),
        (&json!("funded"), &json!(5000))
    );

    fake.stripe(
        "POST",
        &format!("/v1/customers/{customer}/tax_ids"),
        &[("type", "eu_vat"), ("value", "DE123456789")],
    )
    .await;
    let tax_ids = api
        .rows(
            "TaxId",
            &format!("Customer = '{customer}' AND Type = 'eu_vat'"),
            &[],
        )
        .await;
    assert_eq!(
        (tax_ids.len(), &tax_ids[0]["Value"]),
        (1, &json!("DE123456789"))
    );
}

#[tokio::test]
async fn connect_objects_list_their_children() {
    let (fake, _node, api) = fake_and_node();
    let account = api
        .create("Account", json!({"Type": "custom", "Email": "shop@example.com",
            "Capabilities": {"card_payments": {"requested": true}, "transfers": {"requested": true}}}))
        .await;
    let caps = api
        .rows("Capability", &format!("Account = '{account}'"), &[])
        .await;
    let mut names: Vec<&str> = caps.iter().map(|c| c["Id"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["card_payments", "transfers"]);

    for (first, owner) in [("Ada", "true"), ("Bob", "false")] {
        fake.stripe(
            "POST",
            &format!("/v1/accounts/{account}/persons"),
            &[("first_name", first), ("relationship[owner]", owner)],
        )
        .await;
    }
    let owners = api
        .rows(
            "Person",
            &format!("Account = '{account}' AND RelationshipOwner = TRUE"),
            &[],
        )
        .await;
    assert_eq!(owners.len(), 1);
    assert_eq!(owners[0]["FirstName"], "Ada");
    let last = fake.last_request().await;
    assert!(
        last["query"]
            .as_array()
            .unwrap()
            .contains(&json!(["relationship[owner]", "true"])),
        "{last}"
    );

    fake.stripe(
        "POST",
        &format!("/v1/accounts/{account}/external_accounts"),
        &[("external_account", "btok_us_verified")],
    )
    .await;
    let banks = api
        .rows("ExternalAccount", &format!("Account = '{account}'"), &[])
        .await;
    assert_eq!(
        (&banks[0]["Object"], &banks[0]["Last4"]),
        (&json!("bank_account"), &json!("6789"))
    );

    let transfer = api
        .create(
            "Transfer",
            json!({"Amount": 1000, "Currency": "usd", "Destination": account}),
        )
        .await;
    fake.stripe(
        "POST",
        &format!("/v1/transfers/{transfer}/reversals"),
        &[("amount", "400")],
    )
    .await;
    let reversals = api
        .rows("TransferReversal", &format!("Transfer = '{transfer}'"), &[])
        .await;
    assert_eq!(
        (&reversals[0]["Amount"], &reversals[0]["Transfer"]),
        (&json!(400), &json!(transfer))
    );

    let charge = fake
        .stripe(
            "POST",
            "/v1/charges",
            &[
                ("amount", "5000"),
                ("currency", "usd"),
                ("source", "tok_visa"),
                ("application_fee_amount", "300"),
                ("transfer_data[destination]", &account),
            ],
        )
        .await;
    let fee = charge["application_fee"].as_str().unwrap().to_string();
    fake.stripe(
        "POST",
        &format!("/v1/application_fees/{fee}/refunds"),
        &[("amount", "100")],
    )
    .await;
    let refunds = api
        .rows("ApplicationFeeRefund", &format!("Fee = '{fee}'"), &[])
        .await;
    assert_eq!(
        (&refunds[0]["Amount"], &refunds[0]["Fee"]),
        (&json!(100), &json!(fee))
    );
}
