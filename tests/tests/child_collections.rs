//! Child collections on the wire: listed with their parent's id as a condition, which the node
//! moves into Stripe's path (`/v1/invoices/{invoice}/lines`), and read and written one by one by
//! their `<parent id>,<child id>` entity ids; against the Stripe fake, since localstripe has few
//! of them (and its tax id list refuses Stripe's `limit`).

use e2e::checked_calls::{
    assert_message_starts_with, assert_unimplemented, counted_rows, delete, delete_with_conditions,
    entity_path, get_fields, list_refused, run_action, single_row, update, update_with_conditions,
};
use e2e::stripe_side::{assert_last_query_has, card_charge, fund_cash_balance, price};
use e2e::{Api, StripeFake, assert_error, assert_error_mentions, assert_mentions, fake_and_node};
use serde_json::{Value, json};

/// The rows of a child collection: its List with the parent's id as the condition.
async fn children(api: &Api, entity: &str, parent_field: &str, parent: &str) -> Vec<Value> {
    api.rows(entity, &format!("{parent_field} = '{parent}'"), &[])
        .await
}

/// A 5000 charge for the connected account, with an application fee of 300; returns the fee's id.
async fn application_fee(fake: &StripeFake, account: &str) -> String {
    let destination = [
        ("application_fee_amount", "300"),
        ("transfer_data[destination]", account),
    ];
    let charge = card_charge(fake, "5000", &destination).await;
    charge["application_fee"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn billing_documents_list_their_lines() {
    let (fake, _node, api) = fake_and_node();
    let customer = api.create("Customer", json!({"Name": "Lines"})).await;
    let price = price(&fake, "prod_x", "usd", "700", &[]).await;

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
    let lines = children(&api, "InvoiceLineItem", "Invoice", &invoice).await;
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
    let by_id = format!("Invoice = '{invoice}' AND Id = '{first}'");
    single_row(&api, "InvoiceLineItem", &by_id).await;
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
    let either = format!("Invoice IN ('{invoice}', '{other}')");
    counted_rows(&api, "InvoiceLineItem", &either, 3).await;
    assert_eq!(fake.requests("GET", "/v1/invoices/").await - before, 2);

    // Quote lines.
    let quote = api
        .create(
            "Quote",
            json!({"Customer": customer, "LineItems": [{"price": price, "quantity": 3}]}),
        )
        .await;
    let line = single_row(&api, "QuoteLineItem", &format!("Quote = '{quote}'")).await;
    assert_eq!(
        (&line["Quantity"], &line["AmountTotal"], &line["Price"]),
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
    let of_session = format!("CheckoutSession = '{session}'");
    let line = single_row(&api, "CheckoutSessionLineItem", &of_session).await;
    assert_eq!(line["CheckoutSession"], session.as_str());

    // Payment link lines.
    let link = api
        .create(
            "PaymentLink",
            json!({"LineItems": [{"price": price, "quantity": 2}]}),
        )
        .await;
    let of_link = format!("PaymentLink = '{link}'");
    let line = single_row(&api, "PaymentLinkLineItem", &of_link).await;
    assert_eq!(line["AmountSubtotal"], 1400);

    // Credit note lines: of a finalized invoice.
    run_action(&api, "FinalizeInvoice", json!({"InvoiceId": invoice})).await;
    let note = api
        .create(
            "CreditNote",
            json!({"Invoice": invoice, "Memo": "goodwill"}),
        )
        .await;
    let line = single_row(
        &api,
        "CreditNoteLineItem",
        &format!("CreditNote = '{note}'"),
    )
    .await;
    assert_eq!(line["Amount"], 1500, "{line}");

    // Usage of a metered subscription item.
    let sub = api
        .create(
            "Subscription",
            json!({"Customer": customer, "Items": [{"price": price}]}),
        )
        .await;
    let items = children(&api, "SubscriptionItem", "Subscription", &sub).await;
    let item = items[0]["Id"].as_str().unwrap().to_string();
    for quantity in ["4", "6"] {
        fake.stripe(
            "POST",
            &format!("/v1/subscription_items/{item}/usage_records"),
            &[("quantity", quantity)],
        )
        .await;
    }
    let usage = children(&api, "UsageRecordSummary", "SubscriptionItem", &item).await;
    assert_eq!(usage[0]["TotalUsage"], 10, "{usage:?}");
}

#[tokio::test]
async fn a_child_list_needs_its_parent_and_a_real_id() {
    let (fake, _node, api) = fake_and_node();
    let err = list_refused(&api, "InvoiceLineItem", "Amount > 5", &[]).await;
    assert_mentions(&err, "Invoice = '...'");
    let either = "Invoice = 'in_1' OR Amount > 5";
    let err = list_refused(&api, "InvoiceLineItem", either, &[]).await;
    assert_mentions(&err, "Invoice");
    list_refused(&api, "TaxId", "Customer = 'cus_1/../../v1/charges'", &[]).await;
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
    // Stripe has no endpoint for one invoice line: List is what the node serves.
    let answer = api.get(&entity_path("InvoiceLineItem", "in_1,il_1")).await;
    assert_unimplemented(answer, "List it with the parent");
}

#[tokio::test]
async fn customers_list_their_balance_and_cash_balance_transactions_and_tax_ids() {
    let (fake, _node, api) = fake_and_node();
    let customer = api.create("Customer", json!({"Name": "Credit"})).await;
    // A balance change is a customer balance transaction at Stripe.
    update(&api, "Customer", &customer, json!({"Balance": -500})).await;
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
    let txns = children(&api, "CustomerBalanceTransaction", "Customer", &customer).await;
    let amounts: Vec<&Value> = txns.iter().map(|t| &t["Amount"]).collect();
    assert_eq!(
        amounts,
        [&json!(200), &json!(-500)],
        "newest first: {txns:?}"
    );
    assert_eq!(txns[0]["EndingBalance"], -300);

    fund_cash_balance(&fake, &customer, "5000").await;
    let cash = children(
        &api,
        "CustomerCashBalanceTransaction",
        "Customer",
        &customer,
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
    let vat = format!("Customer = '{customer}' AND Type = 'eu_vat'");
    assert_eq!(
        single_row(&api, "TaxId", &vat).await["Value"],
        "DE123456789"
    );
}

#[tokio::test]
async fn connect_objects_list_their_children() {
    let (fake, _node, api) = fake_and_node();
    let account = api
        .create("Account", json!({"Type": "custom", "Email": "shop@example.com",
            "Capabilities": {"card_payments": {"requested": true}, "transfers": {"requested": true}}}))
        .await;
    let caps = children(&api, "Capability", "Account", &account).await;
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
    let owner = format!("Account = '{account}' AND RelationshipOwner = TRUE");
    assert_eq!(single_row(&api, "Person", &owner).await["FirstName"], "Ada");
    assert_last_query_has(&fake, &[json!(["relationship[owner]", "true"])]).await;

    let transfer = api
        .create(
            "Transfer",
            json!({"Amount": 1000, "Currency": "usd", "Destination": account}),
        )
        .await;
    let fee = application_fee(&fake, &account).await;
    // One child each, made at its parent's path at Stripe, and listed by its parent.
    for (stripe_path, form, entity, parent_field, parent, want) in [
        (
            format!("/v1/accounts/{account}/external_accounts"),
            [("external_account", "btok_us_verified")],
            "ExternalAccount",
            "Account",
            &account,
            [("Object", json!("bank_account")), ("Last4", json!("6789"))],
        ),
        (
            format!("/v1/transfers/{transfer}/reversals"),
            [("amount", "400")],
            "TransferReversal",
            "Transfer",
            &transfer,
            [("Amount", json!(400)), ("Transfer", json!(transfer))],
        ),
        (
            format!("/v1/application_fees/{fee}/refunds"),
            [("amount", "100")],
            "ApplicationFeeRefund",
            "Fee",
            &fee,
            [("Amount", json!(100)), ("Fee", json!(fee))],
        ),
    ] {
        fake.stripe("POST", &stripe_path, &form).await;
        let rows = children(&api, entity, parent_field, parent).await;
        for (field, value) in want {
            assert_eq!(rows[0][field], value, "{entity}: {rows:?}");
        }
    }
}

/// The entity id at the end of an Entity's resource name.
fn entity_id(entity: &Value) -> String {
    let name = entity["name"].as_str().expect("name");
    name.rsplit_once("/entities/")
        .expect("an entity name")
        .1
        .to_string()
}

/// The entity ids a List with these conditions answers, in its order.
async fn listed_ids(api: &Api, entity: &str, conditions: &str) -> Vec<String> {
    let (status, listed) = api.list(entity, conditions, &[]).await;
    assert_eq!(status, 200, "list {entity} {conditions}: {listed}");
    listed["entities"]
        .as_array()
        .expect("entities")
        .iter()
        .map(entity_id)
        .collect()
}

#[tokio::test]
async fn tax_ids_are_created_read_and_deleted_by_parent_and_child_id() {
    let (fake, _node, api) = fake_and_node();
    let customer = api.create("Customer", json!({"Name": "Taxed"})).await;
    let fields = json!({"Customer": customer, "Type": "eu_vat", "Value": "DE123456789"});
    let path = "/v2/entityTypes/TaxId/entities";
    let (status, created) = api.post_with_key(path, &fields, "tax-id-once").await;
    assert_eq!(status, 200, "{created}");
    let tax_id = created["fields"]["Id"].as_str().unwrap().to_string();
    let composite = format!("{customer},{tax_id}");
    assert_eq!(entity_id(&created), composite, "{created}");
    assert_eq!(created["fields"]["Customer"], customer.as_str());
    let last = fake.last_request().await;
    assert_eq!(last["path"], format!("/v1/customers/{customer}/tax_ids"));
    // A retried create with the same key creates nothing more.
    let (status, again) = api.post_with_key(path, &fields, "tax-id-once").await;
    assert_eq!((status, entity_id(&again)), (200, composite.clone()));

    assert_eq!(
        listed_ids(&api, "TaxId", &format!("Customer = '{customer}'")).await,
        [composite.as_str()]
    );

    let (status, got) = api.get(&entity_path("TaxId", &composite)).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(
        (
            &got["fields"]["Value"],
            &got["fields"]["Customer"],
            entity_id(&got)
        ),
        (&json!("DE123456789"), &json!(customer), composite.clone())
    );
    assert_eq!(
        fake.last_request().await["path"],
        format!("/v1/customers/{customer}/tax_ids/{tax_id}")
    );
    // Under another customer Stripe has no such tax id.
    let other = api.create("Customer", json!({"Name": "Other"})).await;
    let (status, body) = api
        .get(&entity_path("TaxId", &format!("{other},{tax_id}")))
        .await;
    assert_error(status, &body, 404, "NOT_FOUND");

    // Stripe cannot change a tax id.
    let answer = api
        .patch(&entity_path("TaxId", &composite), &json!({"Value": "DE1"}))
        .await;
    assert_unimplemented(answer, "delete it and create another");

    delete(&api, "TaxId", &composite).await;
    assert_eq!(
        fake.last_request().await["path"],
        format!("/v1/customers/{customer}/tax_ids/{tax_id}")
    );
    let (status, body) = api.get(&entity_path("TaxId", &composite)).await;
    assert_error(status, &body, 404, "NOT_FOUND");

    // A create without the parent names the field and reaches no Stripe.
    let before = fake.request_count().await;
    let (status, body) = api
        .post(path, &json!({"Type": "eu_vat", "Value": "DE123456789"}))
        .await;
    let err = assert_error(status, &body, 400, "INVALID_ARGUMENT");
    assert_message_starts_with(&err, "Customer: is required");
    assert_eq!(fake.request_count().await, before);
}

#[tokio::test]
async fn bad_child_entity_ids_are_refused_before_stripe() {
    let (fake, _node, api) = fake_and_node();
    let before = fake.request_count().await;
    let (status, body) = api.get(&entity_path("TaxId", "txi_1")).await;
    let err = assert_error(status, &body, 400, "INVALID_ARGUMENT");
    assert_message_starts_with(&err, "entityId: TaxId ids are '<Customer id>,<TaxId id>'");
    for bad in [
        "txi_1",
        ",txi_1",
        "cus_1,",
        "cus_1,txi_1,txi_2",
        "cus_1%2F..%2F..%2Fv1%2Fcharges,txi_1",
        "cus_1,txi_1%3Fexpand%5B%5D%3Dcustomer",
        "cus_1,txi%0A1",
        "cus%201,txi_1",
    ] {
        let path = entity_path("TaxId", bad);
        for (status, body) in [
            api.get(&path).await,
            api.delete(&path).await,
            api.patch(&entity_path("Person", bad), &json!({"FirstName": "X"}))
                .await,
        ] {
            let err = assert_error(status, &body, 400, "INVALID_ARGUMENT");
            assert!(
                err["message"].as_str().unwrap().starts_with("entityId"),
                "{bad}: {err}"
            );
        }
    }
    assert_eq!(fake.request_count().await, before, "nothing reached Stripe");
}

#[tokio::test]
async fn customer_balance_transactions_are_created_read_and_updated() {
    let (fake, _node, api) = fake_and_node();
    let customer = api.create("Customer", json!({"Name": "Credit"})).await;
    let created = api.create_entity(
        "CustomerBalanceTransaction",
        json!({"Customer": customer, "Amount": -700, "Currency": "usd", "Description": "goodwill"}),
    )
    .await;
    let composite = entity_id(&created);
    let txn = created["fields"]["Id"].as_str().unwrap().to_string();
    assert_eq!(composite, format!("{customer},{txn}"));
    let got = get_fields(&api, "CustomerBalanceTransaction", &composite).await;
    assert_eq!(
        (&got["Amount"], &got["EndingBalance"]),
        (&json!(-700), &json!(-700))
    );
    let body = update(
        &api,
        "CustomerBalanceTransaction",
        &composite,
        json!({"Description": "goodwill, approved", "Metadata": {"ticket": "42"}}),
    )
    .await;
    assert_eq!(entity_id(&body), composite, "{body}");
    let got = get_fields(&api, "CustomerBalanceTransaction", &composite).await;
    assert_eq!(
        (&got["Description"], &got["Metadata"]),
        (&json!("goodwill, approved"), &json!({"ticket": "42"}))
    );
    // Stripe's update takes no amount: refused by name before any Stripe call.
    let before = fake.request_count().await;
    let (status, body) = api
        .patch(
            &entity_path("CustomerBalanceTransaction", &composite),
            &json!({"Amount": -900}),
        )
        .await;
    let err = assert_error(status, &body, 400, "INVALID_ARGUMENT");
    assert_eq!(
        err["details"][0]["fieldViolations"][0]["field"], "Amount",
        "{err}"
    );
    assert_eq!(fake.request_count().await, before);
    // Stripe keeps every balance transaction.
    let answer = api
        .delete(&entity_path("CustomerBalanceTransaction", &composite))
        .await;
    assert_unimplemented(answer, "create an opposite one");

    // With conditions: the parent conjunct as List needs it, each match at its nested path.
    api.create_entity(
        "CustomerBalanceTransaction",
        json!({"Customer": customer, "Amount": 200, "Currency": "usd"}),
    )
    .await;
    let (status, body) = update_with_conditions(
        &api,
        "CustomerBalanceTransaction",
        "Amount < 0",
        json!({"Description": "x"}),
    )
    .await;
    assert_error_mentions(status, &body, 400, "INVALID_ARGUMENT", "Customer = '...'");
    let updates = fake
        .requests(
            "POST",
            &format!("/v1/customers/{customer}/balance_transactions/"),
        )
        .await;
    let (status, body) = update_with_conditions(
        &api,
        "CustomerBalanceTransaction",
        &format!("Customer = '{customer}' AND Amount < 0"),
        json!({"Metadata": {"reviewed": "yes"}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["response"]["ids"], json!([composite]), "{body}");
    assert_eq!(
        fake.requests(
            "POST",
            &format!("/v1/customers/{customer}/balance_transactions/")
        )
        .await
            - updates,
        1
    );
    assert_eq!(
        fake.last_request().await["path"],
        format!("/v1/customers/{customer}/balance_transactions/{txn}")
    );
}

#[tokio::test]
async fn people_and_external_accounts_of_a_connected_account_are_written() {
    let (fake, _node, api) = fake_and_node();
    let account = api
        .create(
            "Account",
            json!({"Type": "custom", "Email": "shop@example.com"}),
        )
        .await;

    let ada = api
        .create_entity(
            "Person",
            json!({"Account": account, "FirstName": "Ada", "RelationshipOwner": true}),
        )
        .await;
    let ada_id = entity_id(&ada);
    assert!(ada_id.starts_with(&format!("{account},person_")), "{ada}");
    update(&api, "Person", &ada_id, json!({"LastName": "Lovelace"})).await;
    let got = get_fields(&api, "Person", &ada_id).await;
    assert_eq!(
        (
            &got["FirstName"],
            &got["LastName"],
            &got["RelationshipOwner"]
        ),
        (&json!("Ada"), &json!("Lovelace"), &json!(true)),
        "{got}"
    );
    for name in ["Temp", "Temp"] {
        api.create_entity("Person", json!({"Account": account, "FirstName": name}))
            .await;
    }
    let temps = format!("Account = '{account}' AND FirstName = 'Temp'");
    let (status, body) = delete_with_conditions(&api, "Person", &temps).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        listed_ids(&api, "Person", &format!("Account = '{account}'")).await,
        [ada_id.as_str()]
    );
    delete(&api, "Person", &ada_id).await;
    assert!(
        children(&api, "Person", "Account", &account)
            .await
            .is_empty()
    );

    // Two bank accounts: the first is the default for usd, which Stripe will not delete.
    let first = api
        .create_entity(
            "ExternalAccount",
            json!({"Account": account, "ExternalAccount": "btok_us_verified"}),
        )
        .await;
    let second = api.create_entity(
        "ExternalAccount",
        json!({"Account": account, "ExternalAccount": "btok_us_verified", "Metadata": {"n": "2"}}),
    )
    .await;
    let (first, second) = (entity_id(&first), entity_id(&second));
    update(
        &api,
        "ExternalAccount",
        &second,
        json!({"AccountHolderName": "Shop Ltd"}),
    )
    .await;
    let got = get_fields(&api, "ExternalAccount", &second).await;
    assert_eq!(
        (
            &got["AccountHolderName"],
            &got["DefaultForCurrency"],
            &got["Metadata"]
        ),
        (&json!("Shop Ltd"), &json!(false), &json!({"n": "2"})),
        "{got}"
    );
    let (status, body) = api.delete(&entity_path("ExternalAccount", &first)).await;
    assert_error(status, &body, 400, "INVALID_ARGUMENT");
    delete(&api, "ExternalAccount", &second).await;
    assert_eq!(
        listed_ids(&api, "ExternalAccount", &format!("Account = '{account}'")).await,
        [first]
    );
    assert_eq!(
        fake.requests(
            "DELETE",
            &format!("/v1/accounts/{account}/external_accounts/")
        )
        .await,
        2
    );
}

#[tokio::test]
async fn capabilities_are_read_and_requested_or_given_up() {
    let (fake, _node, api) = fake_and_node();
    let account = api
        .create("Account", json!({"Type": "custom",
            "Capabilities": {"card_payments": {"requested": true}, "transfers": {"requested": true}}}))
        .await;
    let composite = format!("{account},card_payments");
    let got = get_fields(&api, "Capability", &composite).await;
    assert_eq!(
        (&got["Status"], &got["Requested"], &got["Account"]),
        (&json!("active"), &json!(true), &json!(account))
    );
    let body = update(&api, "Capability", &composite, json!({"Requested": false})).await;
    assert_eq!(entity_id(&body), composite, "{body}");
    assert_eq!(
        fake.last_request().await["path"],
        format!("/v1/accounts/{account}/capabilities/card_payments")
    );
    let rows = api
        .rows(
            "Capability",
            &format!("Account = '{account}' AND Id = 'card_payments'"),
            &[],
        )
        .await;
    assert_eq!(
        (&rows[0]["Status"], &rows[0]["Requested"]),
        (&json!("inactive"), &json!(false))
    );
    // Stripe makes capabilities; an account cannot create or delete one.
    let answer = api
        .post(
            "/v2/entityTypes/Capability/entities",
            &json!({"Account": account}),
        )
        .await;
    assert_unimplemented(answer, "Update Requested");
}

#[tokio::test]
async fn transfer_reversals_and_fee_refunds_are_created_and_updated() {
    let (fake, _node, api) = fake_and_node();
    let account = api.create("Account", json!({"Type": "custom"})).await;
    let transfer = api
        .create(
            "Transfer",
            json!({"Amount": 1000, "Currency": "usd", "Destination": account}),
        )
        .await;
    let reversal = api
        .create_entity(
            "TransferReversal",
            json!({"Transfer": transfer, "Amount": 400}),
        )
        .await;
    let reversal = entity_id(&reversal);
    assert!(
        reversal.starts_with(&format!("{transfer},trr_")),
        "{reversal}"
    );
    update(
        &api,
        "TransferReversal",
        &reversal,
        json!({"Metadata": {"reason": "duplicate"}}),
    )
    .await;
    let got = get_fields(&api, "TransferReversal", &reversal).await;
    assert_eq!(
        (&got["Amount"], &got["Metadata"]),
        (&json!(400), &json!({"reason": "duplicate"}))
    );
    let (status, body) = api
        .delete(&entity_path("TransferReversal", &reversal))
        .await;
    assert_error(status, &body, 405, "UNIMPLEMENTED");

    let fee = application_fee(&fake, &account).await;
    let refund = api
        .create_entity("ApplicationFeeRefund", json!({"Fee": fee, "Amount": 100}))
        .await;
    let refund = entity_id(&refund);
    update(
        &api,
        "ApplicationFeeRefund",
        &refund,
        json!({"Metadata": {"ticket": "7"}}),
    )
    .await;
    let (fee_id, refund_id) = refund.split_once(',').unwrap();
    assert_eq!(
        fake.last_request().await["path"],
        format!("/v1/application_fees/{fee_id}/refunds/{refund_id}")
    );
    let rows = children(&api, "ApplicationFeeRefund", "Fee", &fee).await;
    assert_eq!(
        (&rows[0]["Amount"], &rows[0]["Metadata"]),
        (&json!(100), &json!({"ticket": "7"}))
    );
}
