//! The list filters Stripe has, pushed down on the wire (against the Stripe fake): arrays sent
//! as one parameter, an IN split into one list per value, a boolean `!=` as the other value,
//! filters Stripe does not return on the objects, and the change feed on Event.

use std::collections::HashSet;

use e2e::checked_calls::{counted_rows, delete, list_refused, run_action, single_row, update};
use e2e::stripe_side::{assert_last_query_has, card_charge, id_of, price};
use e2e::{Api, fake_and_node};
use serde_json::{Value, json};

fn set<'a>(rows: impl IntoIterator<Item = &'a Value>) -> HashSet<String> {
    rows.into_iter()
        .map(|r| r["Id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn arrays_booleans_and_splits_are_pushed_down() {
    let (fake, _node, api) = fake_and_node();
    let a = api.create("Product", json!({"Name": "A"})).await;
    let b = api.create("Product", json!({"Name": "B"})).await;
    let c = api
        .create("Product", json!({"Name": "C", "Active": false}))
        .await;

    // Product ids[]: one call, and pages resume without starting_after (Stripe refuses it).
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let mut extra = vec![("pageSize", "1")];
        if !token.is_empty() {
            extra.push(("pageToken", &token));
        }
        let (status, page) = api
            .list("Product", &format!("Id IN ('{a}', '{c}')"), &extra)
            .await;
        assert_eq!(status, 200, "{page}");
        seen.extend(Api::ids(&page));
        let ids = [json!(["ids[0]", a]), json!(["ids[1]", c])];
        let query = assert_last_query_has(&fake, &ids).await;
        assert!(!query.iter().any(|p| p[0] == "starting_after"), "{query:?}");
        match page["nextPageToken"].as_str() {
            Some(t) => token = t.to_string(),
            None => break,
        }
    }
    assert_eq!(
        seen.into_iter().collect::<HashSet<_>>(),
        HashSet::from([a.clone(), c.clone()])
    );

    // A boolean != is the other value.
    let archived = api.rows("Product", "Active != TRUE", &[]).await;
    assert_eq!(set(&archived), HashSet::from([c.clone()]));
    assert_last_query_has(&fake, &[json!(["active", "false"])]).await;

    // Status IN: one Stripe list per value.
    let customer = api.create("Customer", json!({"Name": "Split"})).await;
    let draft = api.create("Invoice", json!({"Customer": customer})).await;
    let paid = api.create("Invoice", json!({"Customer": customer})).await;
    run_action(&api, "FinalizeInvoice", json!({"InvoiceId": paid})).await;
    let before = fake.requests("GET", "/v1/invoices").await;
    let both = api
        .rows("Invoice", "Status IN ('draft', 'paid', 'void')", &[])
        .await;
    assert_eq!(set(&both), HashSet::from([draft, paid]));
    assert_eq!(fake.requests("GET", "/v1/invoices").await - before, 3);
    assert_eq!(b.len(), a.len());
}

#[tokio::test]
async fn price_subscription_quote_and_invoice_item_filters() {
    let (fake, _node, api) = fake_and_node();
    let month = [
        ("lookup_key", "pro_monthly"),
        ("recurring[interval]", "month"),
    ];
    let monthly = price(&fake, "prod_x", "usd", "900", &month).await;
    let year = [
        ("lookup_key", "pro_yearly"),
        ("recurring[interval]", "year"),
    ];
    let yearly = price(&fake, "prod_x", "usd", "9000", &year).await;

    let by_key = api
        .rows(
            "Price",
            "LookupKey IN ('pro_monthly', 'pro_yearly', 'none')",
            &[],
        )
        .await;
    assert_eq!(
        set(&by_key),
        HashSet::from([monthly.clone(), yearly.clone()])
    );
    assert_last_query_has(&fake, &[json!(["lookup_keys[2]", "none"])]).await;
    let months = api.rows("Price", "RecurringInterval = 'month'", &[]).await;
    assert_eq!(set(&months), HashSet::from([monthly.clone()]));
    assert_last_query_has(&fake, &[json!(["recurring[interval]", "month"])]).await;

    // Subscriptions by price and by test clock; the price filter is echoed on the rows.
    let clock = api
        .create(
            "TestClock",
            json!({"FrozenTime": 1_700_000_000, "Name": "billing run"}),
        )
        .await;
    let clocked = id_of(
        &fake
            .stripe("POST", "/v1/customers", &[("test_clock", &clock)])
            .await,
    );
    let plain = api.create("Customer", json!({"Name": "Plain"})).await;
    let on_monthly = api
        .create(
            "Subscription",
            json!({"Customer": clocked, "Items": [{"price": monthly}]}),
        )
        .await;
    let on_yearly = api
        .create(
            "Subscription",
            json!({"Customer": plain, "Items": [{"price": yearly}]}),
        )
        .await;
    let subs = api
        .rows("Subscription", &format!("Price = '{yearly}'"), &[])
        .await;
    assert_eq!(set(&subs), HashSet::from([on_yearly.clone()]));
    assert_eq!(subs[0]["Price"], yearly.as_str());
    let subs = api
        .rows("Subscription", &format!("TestClock = '{clock}'"), &[])
        .await;
    assert_eq!(set(&subs), HashSet::from([on_monthly]));
    assert_last_query_has(&fake, &[json!(["test_clock", clock])]).await;
    let either = format!("Price = '{yearly}' OR Status = 'active'");
    let err = list_refused(&api, "Subscription", &either, &[]).await;
    assert_eq!(
        err["details"][0]["fieldViolations"][0]["field"], "conditions.Price",
        "{err}"
    );

    let quote = api
        .create(
            "Quote",
            json!({"Customer": clocked, "LineItems": [{"price": monthly}]}),
        )
        .await;
    api.create("Quote", json!({"Customer": plain})).await;
    let quotes = api
        .rows("Quote", &format!("TestClock = '{clock}'"), &[])
        .await;
    assert_eq!(set(&quotes), HashSet::from([quote]));

    // Pending invoice items: not yet on an invoice.
    let invoice = api.create("Invoice", json!({"Customer": plain})).await;
    let pending = api
        .create(
            "InvoiceItem",
            json!({"Customer": plain, "Amount": 100, "Currency": "usd"}),
        )
        .await;
    fake.stripe(
        "POST",
        "/v1/invoiceitems",
        &[
            ("customer", &plain),
            ("amount", "200"),
            ("invoice", &invoice),
        ],
    )
    .await;
    let items = api.rows("InvoiceItem", "Pending = TRUE", &[]).await;
    assert_eq!(set(&items), HashSet::from([pending]));
    assert_eq!(items[0]["Pending"], true);
    assert_last_query_has(&fake, &[json!(["pending", "true"])]).await;
}

#[tokio::test]
async fn balance_transactions_of_a_payout() {
    let (fake, _node, api) = fake_and_node();
    for amount in ["1000", "2500"] {
        card_charge(&fake, amount, &[]).await;
    }
    let payout = api
        .create("Payout", json!({"Amount": 3500, "Currency": "usd"}))
        .await;
    card_charge(&fake, "700", &[]).await;
    let paid_out = api
        .rows(
            "BalanceTransaction",
            &format!("Payout = '{payout}' AND Type = 'charge'"),
            &[],
        )
        .await;
    let amounts: HashSet<i64> = paid_out
        .iter()
        .map(|t| t["Amount"].as_i64().unwrap())
        .collect();
    assert_eq!(amounts, HashSet::from([1000, 2500]));
    assert!(paid_out.iter().all(|t| t["Payout"] == payout.as_str()));
    let filters = [json!(["payout", payout]), json!(["type", "charge"])];
    assert_last_query_has(&fake, &filters).await;
    counted_rows(&api, "BalanceTransaction", "Type = 'charge'", 3).await;
}

#[tokio::test]
async fn events_are_a_change_feed_with_the_changed_object() {
    let (fake, _node, api) = fake_and_node();
    let since = e2e_now() - 1;
    let customer = api
        .create(
            "Customer",
            json!({"Name": "Before", "Email": "feed@example.com"}),
        )
        .await;
    update(&api, "Customer", &customer, json!({"Name": "After"})).await;
    delete(&api, "Customer", &customer).await;
    api.create("Product", json!({"Name": "Noise"})).await;

    let feed = api.rows("Event",
        &format!("Type IN ('customer.created', 'customer.updated', 'customer.deleted') AND Created >= {since}"),
        &[],
    )
    .await;
    let types: Vec<&str> = feed.iter().map(|e| e["Type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["customer.deleted", "customer.updated", "customer.created"],
        "newest first"
    );
    assert!(
        feed.iter()
            .all(|e| e["ObjectId"] == customer.as_str() && e["ObjectType"] == "customer")
    );
    assert_eq!(feed[2]["Object"]["email"], "feed@example.com");
    assert_eq!(feed[1]["PreviousAttributes"]["name"], "Before");
    let filters = [
        json!(["types[0]", "customer.created"]),
        json!(["types[2]", "customer.deleted"]),
        json!(["created[gte]", since.to_string()]),
    ];
    assert_last_query_has(&fake, &filters).await;
    // What changed since then, for any entity: the feed, deletions included.
    let products_since = format!("Created >= {since} AND ObjectType = 'product'");
    single_row(&api, "Event", &products_since).await;
}

fn e2e_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
