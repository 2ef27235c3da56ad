//! The `conditions` clause on the wire: pushed down to Stripe where it can filter, evaluated on
//! the node otherwise, with exact paging, and the with-conditions bulk operations.

use std::collections::HashSet;

use e2e::{Api, Localstripe, Node, StripeFake, api_node_options, assert_error};
use serde_json::{Value, json};

fn ids(page: &Value) -> Vec<String> {
    page["entities"]
        .as_array()
        .expect("entities")
        .iter()
        .map(|e| e["fields"]["Id"].as_str().unwrap().to_string())
        .collect()
}

fn list_path(entity: &str, conditions: &str, extra: &str) -> String {
    let mut url = reqwest::Url::parse("http://x/").unwrap();
    url.query_pairs_mut().append_pair("conditions", conditions);
    format!(
        "/v2/entityTypes/{entity}/entities?{}{extra}",
        url.query().unwrap()
    )
}

#[tokio::test]
async fn customers_filtered_by_email_and_on_the_node_page_exactly() {
    let stripe = Localstripe::start();
    let node = Node::start(&api_node_options(stripe.url()));
    let api = Api::new(node.url());
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
    let (status, page) = api
        .get(&list_path("Customer", "Email = 'c3@example.com'", ""))
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["entities"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(page["entities"][0]["fields"]["Email"], "c3@example.com");

    // On the node (Name is not a Stripe list filter), one per page, resuming exactly.
    let mut seen = Vec::new();
    let mut token = String::new();
    for _ in 0..10 {
        let extra = if token.is_empty() {
            "&pageSize=1".to_string()
        } else {
            format!("&pageSize=1&pageToken={token}")
        };
        let (status, page) = api
            .get(&list_path(
                "Customer",
                "Name = 'Bob' AND Email LIKE 'c%'",
                &extra,
            ))
            .await;
        assert_eq!(status, 200, "{page}");
        seen.extend(ids(&page));
        match page["nextPageToken"].as_str() {
            Some(t) => token = t.to_string(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(seen.into_iter().collect::<HashSet<_>>(), bobs);

    // A token is tied to its conditions.
    let (_, first) = api
        .get(&list_path("Customer", "Name = 'Bob'", "&pageSize=1"))
        .await;
    let t = first["nextPageToken"].as_str().unwrap();
    let (status, body) = api
        .get(&list_path(
            "Customer",
            "Name = 'Eve'",
            &format!("&pageToken={t}"),
        ))
        .await;
    assert_error(status, &body, 400, "INVALID_ARGUMENT");
}

#[tokio::test]
async fn bad_conditions_are_400s_naming_the_field_or_position() {
    let fake = StripeFake::start();
    let node = Node::start(&api_node_options(fake.url()));
    let api = Api::new(node.url());
    let (status, body) = api.get(&list_path("Customer", "Nope = 'x'", "")).await;
    let err = assert_error(status, &body, 400, "INVALID_ARGUMENT");
    assert!(err["message"].as_str().unwrap().contains("Nope"), "{err}");
    let (status, body) = api.get(&list_path("Customer", "Balance = 'ten'", "")).await;
    let err = assert_error(status, &body, 400, "INVALID_ARGUMENT");
    assert!(
        err["message"].as_str().unwrap().contains("Balance"),
        "{err}"
    );
    let (status, body) = api.get(&list_path("Customer", "Email = ", "")).await;
    assert_error(status, &body, 400, "INVALID_ARGUMENT");
    // Stripe lists SubscriptionItems only by subscription.
    let (status, body) = api
        .get(&list_path("SubscriptionItem", "Quantity > 1", ""))
        .await;
    let err = assert_error(status, &body, 400, "INVALID_ARGUMENT");
    assert!(
        err["message"].as_str().unwrap().contains("subscription"),
        "{err}"
    );
    assert_eq!(fake.requests("GET", "/v1").await, 0);
}

#[tokio::test]
async fn bulk_update_and_delete_touch_exactly_the_matches() {
    let fake = StripeFake::start();
    let node = Node::start(&api_node_options(fake.url()));
    let api = Api::new(node.url());
    let mut old = Vec::new();
    for i in 0..4 {
        let name = if i < 3 { "Old" } else { "Keep" };
        let id = api.create("Customer", json!({"Name": name})).await;
        if name == "Old" {
            old.push(id);
        }
    }
    let path = |verb: &str, conditions: &str| {
        let mut url = reqwest::Url::parse("http://x/").unwrap();
        url.query_pairs_mut().append_pair("conditions", conditions);
        format!(
            "/v2/entityTypes/Customer/entities:{verb}?{}",
            url.query().unwrap()
        )
    };
    let (status, body) = api
        .post_with_key(
            &path("updateEntitiesWithConditions", "Name = 'Old'"),
            &json!({"Description": "migrated"}),
            "bulk-1",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["response"]["updatedCount"], 3);
    let updated: HashSet<String> = body["response"]["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(updated, old.iter().cloned().collect());
    let (_, page) = api
        .get(&list_path("Customer", "Description = 'migrated'", ""))
        .await;
    assert_eq!(ids(&page).len(), 3);

    // Retrying the same bulk call with the same key changes nothing twice (replays).
    let before = fake.requests("POST", "/v1/customers/").await;
    let (status, again) = api
        .post_with_key(
            &path("updateEntitiesWithConditions", "Name = 'Old'"),
            &json!({"Description": "migrated"}),
            "bulk-1",
        )
        .await;
    assert_eq!(
        (status, &again["response"]["updatedCount"]),
        (200, &json!(3))
    );
    assert_eq!(fake.requests("POST", "/v1/customers/").await, before + 3);

    let (status, body) = api
        .post(
            &path("deleteEntitiesWithConditions", "Name = 'Old'"),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({}),
        "deleteEntitiesWithConditions answers Empty"
    );
    let (_, page) = api.get("/v2/entityTypes/Customer/entities").await;
    let left = ids(&page);
    assert_eq!(left.len(), 1, "{page}");
    assert_eq!(page["entities"][0]["fields"]["Name"], "Keep");
}

#[tokio::test]
async fn payment_intents_filtered_on_the_node() {
    // Amount and Currency are no Stripe list filters: the node evaluates them.
    let stripe = Localstripe::start();
    let node = Node::start(&api_node_options(stripe.url()));
    let api = Api::new(node.url());
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
    let (status, page) = api
        .get(&list_path(
            "PaymentIntent",
            "Amount >= 1000 AND (Currency = 'usd' OR Currency = 'eur')",
            "&pageSize=1",
        ))
        .await;
    assert_eq!(status, 200, "{page}");
    let mut seen: HashSet<String> = ids(&page).into_iter().collect();
    let token = page["nextPageToken"]
        .as_str()
        .expect("a second page")
        .to_string();
    let (_, page) = api
        .get(&list_path(
            "PaymentIntent",
            "Amount >= 1000 AND (Currency = 'usd' OR Currency = 'eur')",
            &format!("&pageSize=1&pageToken={token}"),
        ))
        .await;
    seen.extend(ids(&page));
    assert_eq!(seen, big);
}

#[tokio::test]
async fn created_ranges_are_pushed_down() {
    let fake = StripeFake::start();
    let node = Node::start(&api_node_options(fake.url()));
    let api = Api::new(node.url());
    api.create("Customer", json!({"Name": "Now"})).await;
    let (status, page) = api
        .get(&list_path(
            "Customer",
            "Created > 1000 AND Created < 4102444800",
            "",
        ))
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(ids(&page).len(), 1);
    let last = fake.last_request().await;
    assert_eq!(last["path"], "/v1/customers");
    let query = &last["query"];
    assert!(
        query
            .as_array()
            .unwrap()
            .contains(&json!(["created[gt]", "1000"])),
        "{query}"
    );
    assert!(
        query
            .as_array()
            .unwrap()
            .contains(&json!(["created[lt]", "4102444800"])),
        "{query}"
    );
    let (status, page) = api
        .get(&list_path("Customer", "Created >= '2100-01-01'", ""))
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(ids(&page).is_empty(), "{page}");
}
