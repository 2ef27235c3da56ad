//! The `conditions` clause on the wire: pushed down to Stripe where it can filter, evaluated on
//! the node otherwise, with exact paging, and the with-conditions bulk operations.

use std::collections::HashSet;

use e2e::checked_calls::{
    all_pages, bulk_path, counted_rows, delete_with_conditions, ids_of_pages, list_refused,
    single_row,
};
use e2e::stripe_side::assert_last_query_has;
use e2e::{Api, assert_mentions, fake_and_node, localstripe_and_node};
use serde_json::json;

#[tokio::test]
async fn customers_filtered_by_email_and_on_the_node_page_exactly() {
    let (_stripe, _node, api) = localstripe_and_node();
    let mut bobs = HashSet::new();
    for i in 0..5 {
        let name = if i % 2 == 0 { "Bob" } else { "Eve" };
        let id = api
            .create(
                "Customer",
                json!({"Name": name, "Email": format!("c{i}@example.com")}),
            )
            .await;
        if name == "Bob" {
            bobs.insert(id);
        }
    }

    // Pushed down: Stripe's email filter.
    let row = single_row(&api, "Customer", "Email = 'c3@example.com'").await;
    assert_eq!(row["Email"], "c3@example.com");

    // On the node (Name is not a Stripe list filter), one per page, resuming exactly.
    let named_bob = "Name = 'Bob' AND Email LIKE 'c%'";
    let pages = all_pages(&api, "Customer", named_bob, &[("pageSize", "1")]).await;
    let seen = ids_of_pages(&pages);
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(seen.into_iter().collect::<HashSet<_>>(), bobs);

    // A token is tied to its conditions.
    let (_, first) = api
        .list("Customer", "Name = 'Bob'", &[("pageSize", "1")])
        .await;
    let t = first["nextPageToken"].as_str().unwrap();
    list_refused(&api, "Customer", "Name = 'Eve'", &[("pageToken", t)]).await;
}

#[tokio::test]
async fn bad_conditions_are_400s_naming_the_field_or_position() {
    let (fake, _node, api) = fake_and_node();
    for (entity, conditions, named) in [
        ("Customer", "Nope = 'x'", "Nope"),
        ("Customer", "Balance = 'ten'", "Balance"),
        // Stripe lists SubscriptionItems only by subscription.
        ("SubscriptionItem", "Quantity > 1", "subscription"),
    ] {
        assert_mentions(&list_refused(&api, entity, conditions, &[]).await, named);
    }
    list_refused(&api, "Customer", "Email = ", &[]).await;
    assert_eq!(fake.requests("GET", "/v1").await, 0);
}

#[tokio::test]
async fn bulk_update_and_delete_touch_exactly_the_matches() {
    let (fake, _node, api) = fake_and_node();
    let mut old = Vec::new();
    for i in 0..4 {
        let name = if i < 3 { "Old" } else { "Keep" };
        let id = api.create("Customer", json!({"Name": name})).await;
        if name == "Old" {
            old.push(id);
        }
    }
    let update_olds = bulk_path("Customer", "updateEntitiesWithConditions", "Name = 'Old'");
    let migrated = json!({"Description": "migrated"});
    let migrate_olds = || api.post_with_key(&update_olds, &migrated, "bulk-1");
    let (status, body) = migrate_olds().await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["response"]["updatedCount"], 3);
    let updated: HashSet<String> = body["response"]["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(updated, old.iter().cloned().collect());
    counted_rows(&api, "Customer", "Description = 'migrated'", 3).await;

    // Retrying the same bulk call with the same key changes nothing twice (replays).
    let before = fake.requests("POST", "/v1/customers/").await;
    let (status, again) = migrate_olds().await;
    assert_eq!(
        (status, &again["response"]["updatedCount"]),
        (200, &json!(3))
    );
    assert_eq!(fake.requests("POST", "/v1/customers/").await, before + 3);

    let (status, body) = delete_with_conditions(&api, "Customer", "Name = 'Old'").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({}),
        "deleteEntitiesWithConditions answers Empty"
    );
    let (_, page) = api.get("/v2/entityTypes/Customer/entities").await;
    let left = Api::ids(&page);
    assert_eq!(left.len(), 1, "{page}");
    assert_eq!(page["entities"][0]["fields"]["Name"], "Keep");
}

#[tokio::test]
async fn payment_intents_filtered_on_the_node() {
    // Amount and Currency are no Stripe list filters: the node evaluates them.
    let (_stripe, _node, api) = localstripe_and_node();
    let mut big = HashSet::new();
    for amount in [100, 5000, 250, 9000] {
        let pi = api
            .create(
                "PaymentIntent",
                json!({"Amount": amount, "Currency": "usd"}),
            )
            .await;
        if amount >= 1000 {
            big.insert(pi);
        }
    }
    let large = "Amount >= 1000 AND (Currency = 'usd' OR Currency = 'eur')";
    let (status, page) = api.list("PaymentIntent", large, &[("pageSize", "1")]).await;
    assert_eq!(status, 200, "{page}");
    let mut seen: HashSet<String> = Api::ids(&page).into_iter().collect();
    let token = page["nextPageToken"]
        .as_str()
        .expect("a second page")
        .to_string();
    let second = [("pageSize", "1"), ("pageToken", &token)];
    let (_, page) = api.list("PaymentIntent", large, &second).await;
    seen.extend(Api::ids(&page));
    assert_eq!(seen, big);
}

#[tokio::test]
async fn created_ranges_are_pushed_down() {
    let (fake, _node, api) = fake_and_node();
    api.create("Customer", json!({"Name": "Now"})).await;
    let between = "Created > 1000 AND Created < 4102444800";
    single_row(&api, "Customer", between).await;
    assert_eq!(fake.last_request().await["path"], "/v1/customers");
    let range = [
        json!(["created[gt]", "1000"]),
        json!(["created[lt]", "4102444800"]),
    ];
    assert_last_query_has(&fake, &range).await;
    let future = api.rows("Customer", "Created >= '2100-01-01'", &[]).await;
    assert!(future.is_empty(), "{future:?}");
}
