//! Stripe's Search API on the wire, against the Stripe fake (localstripe has none): a clause its
//! query language can express is one search call per page, paged with Stripe's `page` token;
//! the index lags writes, and `consistentRead=true` takes the list endpoints instead.

use std::collections::HashSet;
use std::time::Duration;

use e2e::checked_calls::{
    all_pages, counted_rows, ids_of_pages, list_refused, update_with_conditions,
};
use e2e::stripe_side::{assert_last_query_has, id_of, price};
use e2e::{Api, assert_error_mentions, assert_mentions, fake_and_node};
use serde_json::json;

/// Creates customers with these emails and `metadata[tier]`; returns the ids of the gold ones.
async fn customers_by_tier(
    fake: &e2e::StripeFake,
    customers: impl Iterator<Item = (String, &'static str)>,
) -> HashSet<String> {
    let mut gold = HashSet::new();
    for (email, tier) in customers {
        let customer = fake
            .stripe(
                "POST",
                "/v1/customers",
                &[("email", &email), ("metadata[tier]", tier)],
            )
            .await;
        if tier == "gold" {
            gold.insert(id_of(&customer));
        }
    }
    gold
}

#[tokio::test]
async fn a_metadata_lookup_is_one_search_call_per_page() {
    let (fake, _node, api) = fake_and_node();
    let tiered = (0..60).map(|i| {
        let tier = if i % 3 == 0 { "gold" } else { "basic" };
        (format!("c{i}@{tier}.example.com"), tier)
    });
    let gold = customers_by_tier(&fake, tiered).await;
    let searches = fake.requests("GET", "/v1/customers/search").await;
    let lists = fake.requests("GET", "/v1/customers").await - searches;

    let pages = all_pages(
        &api,
        "Customer",
        "Metadata.tier = 'gold'",
        &[("pageSize", "7")],
    )
    .await;
    let ids = ids_of_pages(&pages);
    assert_eq!(ids.len(), 20, "{pages:?}");
    assert_eq!(ids.iter().cloned().collect::<HashSet<_>>(), gold);
    assert_eq!(pages.len(), 3, "20 matches in pages of 7");
    let searched = fake.requests("GET", "/v1/customers/search").await - searches;
    assert_eq!(searched, 3, "one Stripe call per page");
    let listed = fake.requests("GET", "/v1/customers").await - searched - searches;
    assert_eq!(listed, lists, "no list calls");
    let gold_query = json!(["query", r#"metadata["tier"]:"gold""#]);
    let query = assert_last_query_has(&fake, &[gold_query]).await;
    assert!(
        query.iter().any(|p| p[0] == "page"),
        "the third page resumes at a page token: {query:?}"
    );

    // A LIKE becomes a substring search; the node checks the exact pattern.
    let pages = all_pages(&api, "Customer", "Email LIKE 'c1%@gold.example.com'", &[]).await;
    let mut want: Vec<String> = (0..60)
        .filter(|i| i % 3 == 0 && i.to_string().starts_with('1'))
        .map(|i| format!("c{i}@gold.example.com"))
        .collect();
    want.sort();
    let mut got: Vec<String> = pages
        .iter()
        .flat_map(|p| p["entities"].as_array().unwrap().clone())
        .map(|e| e["fields"]["Email"].as_str().unwrap().to_string())
        .collect();
    got.sort();
    assert_eq!(got, want);
    assert_last_query_has(&fake, &[json!(["query", r#"email~"@gold.example.com""#])]).await;
}

#[tokio::test]
async fn the_index_lags_writes_and_a_consistent_read_lists_instead() {
    let (fake, _node, api) = fake_and_node();
    fake.set_search_delay(Duration::from_secs(600)).await;
    let id = api
        .create(
            "Customer",
            json!({"Email": "new@example.com", "Metadata": {"user_id": "u_42"}}),
        )
        .await;

    let user = "Metadata.user_id = 'u_42'";
    let (status, page) = api.list("Customer", user, &[]).await;
    assert_eq!(status, 200, "{page}");
    assert!(Api::ids(&page).is_empty(), "not yet indexed: {page}");

    let (status, page) = api
        .list("Customer", user, &[("consistentRead", "true")])
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(Api::ids(&page), [id]);
    assert_eq!(fake.last_request().await["path"], "/v1/customers");

    let err = list_refused(&api, "Customer", user, &[("consistentRead", "yes")]).await;
    assert_mentions(&err, "consistentRead");

    // Changes with conditions never trust the lagging index.
    let found = json!({"Description": "found"});
    let (status, body) = update_with_conditions(&api, "Customer", user, found).await;
    assert_eq!(
        (status, &body["response"]["updatedCount"]),
        (200, &json!(1)),
        "{body}"
    );
}

#[tokio::test]
async fn every_searchable_entity_answers_through_stripe_search() {
    let (fake, _node, api) = fake_and_node();
    let customer = api.create("Customer", json!({"Name": "Searched"})).await;
    let gold_line = [("name", "Gold plan"), ("metadata[line]", "gold")];
    let product = id_of(&fake.stripe("POST", "/v1/products", &gold_line).await);
    fake.stripe("POST", "/v1/products", &[("name", "Other")])
        .await;
    let month = [
        ("lookup_key", "gold_monthly"),
        ("recurring[interval]", "month"),
    ];
    let gold_price = price(&fake, &product, "usd", "1500", &month).await;
    price(&fake, &product, "eur", "900", &[]).await;
    // A charge and a PaymentIntent that the searches below match, and one each they do not.
    let matched_or_not: [(&str, &[(&str, &str)]); 4] = [
        (
            "/v1/charges",
            &[
                ("amount", "2500"),
                ("currency", "usd"),
                ("customer", &customer),
                ("metadata[order]", "7"),
            ],
        ),
        ("/v1/charges", &[("amount", "100"), ("currency", "usd")]),
        (
            "/v1/payment_intents",
            &[
                ("amount", "4200"),
                ("currency", "usd"),
                ("customer", &customer),
            ],
        ),
        (
            "/v1/payment_intents",
            &[("amount", "10"), ("currency", "usd")],
        ),
    ];
    for (path, form) in matched_or_not {
        fake.stripe("POST", path, form).await;
    }
    let invoice = fake
        .stripe(
            "POST",
            "/v1/invoices",
            &[("customer", &customer), ("metadata[batch]", "b1")],
        )
        .await;
    fake.stripe("POST", "/v1/invoices", &[("customer", &customer)])
        .await;
    let sub = fake
        .stripe(
            "POST",
            "/v1/subscriptions",
            &[
                ("customer", &customer),
                ("items[0][price]", &gold_price),
                ("metadata[plan]", "gold"),
            ],
        )
        .await;

    for (entity, conditions, query, want) in [
        (
            "Charge",
            "Metadata.order = '7' AND Amount > 1000",
            r#"metadata["order"]:"7" AND amount>1000"#,
            1,
        ),
        (
            "PaymentIntent",
            "Customer = 'CUSTOMER' AND Amount >= 4200",
            r#"customer:"CUSTOMER" AND amount>=4200"#,
            1,
        ),
        (
            "Invoice",
            "Metadata.batch = 'b1'",
            r#"metadata["batch"]:"b1""#,
            1,
        ),
        ("Product", "Name LIKE 'Gold%'", r#"name~"Gold""#, 1),
        (
            "Price",
            "Metadata.unused = 'x' OR LookupKey = 'gold_monthly'",
            r#"metadata["unused"]:"x" OR lookup_key:"gold_monthly""#,
            1,
        ),
        (
            "Subscription",
            "Metadata.plan = 'gold' AND Status = 'active'",
            r#"metadata["plan"]:"gold" AND status:"active""#,
            1,
        ),
        (
            "Customer",
            "Name = 'Searched' AND Created > 1000000000",
            r#"name:"Searched" AND created>1000000000"#,
            1,
        ),
    ] {
        let conditions = conditions.replace("CUSTOMER", &customer);
        let query = query.replace("CUSTOMER", &customer);
        counted_rows(&api, entity, &conditions, want).await;
        let last = fake.last_request().await;
        assert!(
            last["path"].as_str().unwrap().ends_with("/search"),
            "{entity}: {last}"
        );
        assert_last_query_has(&fake, &[json!(["query", query])]).await;
    }
    assert_eq!(invoice["object"], "invoice");
    assert_eq!(sub["object"], "subscription");

    // The entity metadata says which fields the Search API can match.
    let (status, customer_type) = api.get("/v2/entityTypes/Customer").await;
    assert_eq!(status, 200, "{customer_type}");
    let searchable = |name: &str| {
        customer_type["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .map(|f| f["additionalDetails"]["searchable"].clone())
    };
    assert_eq!(searchable("Email"), Some(json!(true)));
    assert_eq!(searchable("Metadata"), Some(json!(true)));
    assert_eq!(searchable("Description"), Some(json!(false)));
}

#[tokio::test]
async fn search_unavailable_to_the_account_falls_back_to_the_list_endpoint_and_no_other_error_does()
{
    let (fake, _node, api) = fake_and_node();
    let tiered = ["gold", "basic", "gold"]
        .into_iter()
        .enumerate()
        .map(|(i, tier)| (format!("r{i}@example.com"), tier));
    let gold = customers_by_tier(&fake, tiered).await;
    let calls = |searches: u64, all: u64| (searches, all - searches);
    let before = calls(
        fake.requests("GET", "/v1/customers/search").await,
        fake.requests("GET", "/v1/customers").await,
    );
    // What Stripe answers where search is not offered (e.g. accounts in India).
    fake.inject(
        json!({"path_prefix": "/v1/customers/search", "method": "GET", "status": 400,
        "count": 1, "message": "The search feature is temporarily unavailable in your region."}),
    )
    .await;
    let (status, page) = api.list("Customer", "Metadata.tier = 'gold'", &[]).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(Api::ids(&page).into_iter().collect::<HashSet<_>>(), gold);
    let after = calls(
        fake.requests("GET", "/v1/customers/search").await,
        fake.requests("GET", "/v1/customers").await,
    );
    assert_eq!(after.0 - before.0, 1, "one refused search");
    assert_eq!(after.1 - before.1, 1, "then one list call");

    // Any other refusal of the search is answered as it is, without a scan.
    fake.inject(
        json!({"path_prefix": "/v1/customers/search", "method": "GET", "status": 400,
        "count": 1, "message": "Invalid search query: the field colour is unknown."}),
    )
    .await;
    let (status, body) = api.list("Customer", "Metadata.tier = 'gold'", &[]).await;
    assert_error_mentions(
        status,
        &body,
        400,
        "INVALID_ARGUMENT",
        "Invalid search query",
    );
    let last = calls(
        fake.requests("GET", "/v1/customers/search").await,
        fake.requests("GET", "/v1/customers").await,
    );
    assert_eq!((last.0 - after.0, last.1 - after.1), (1, 0), "no list call");
}
