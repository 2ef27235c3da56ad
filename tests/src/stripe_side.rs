//! The Stripe peer's side of an API test: objects made straight at the Stripe fake (what Stripe or a dashboard writes, not the node), and the query of the
//! node's last call to the fake.

use serde_json::Value;

use crate::StripeFake;

/// The id of an object Stripe answered with.
pub fn id_of(object: &Value) -> String {
    object["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id: {object}"))
        .to_string()
}

/// A price of `product` at the fake, plus the `extra` parameters; returns its id.
pub async fn price(
    fake: &StripeFake,
    product: &str,
    currency: &str,
    unit_amount: &str,
    extra: &[(&str, &str)],
) -> String {
    let mut form = vec![
        ("currency", currency),
        ("unit_amount", unit_amount),
        ("product", product),
    ];
    form.extend_from_slice(extra);
    id_of(&fake.stripe("POST", "/v1/prices", &form).await)
}

/// A usd card charge (`tok_visa`) at the fake, plus the `extra` parameters; returns the charge.
pub async fn card_charge(fake: &StripeFake, amount: &str, extra: &[(&str, &str)]) -> Value {
    let mut form = vec![
        ("amount", amount),
        ("currency", "usd"),
        ("source", "tok_visa"),
    ];
    form.extend_from_slice(extra);
    fake.stripe("POST", "/v1/charges", &form).await
}

/// A usd bank transfer into a customer's cash balance (Stripe's test helper).
pub async fn fund_cash_balance(fake: &StripeFake, customer: &str, amount: &str) {
    fake.stripe(
        "POST",
        &format!("/v1/test_helpers/customers/{customer}/fund_cash_balance"),
        &[("amount", amount), ("currency", "usd")],
    )
    .await;
}

/// The query pairs (`["key", "value"]`) of the last API request that reached the fake.
async fn last_query(fake: &StripeFake) -> Vec<Value> {
    fake.last_request().await["query"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Asserts that the last API request that reached the fake carried each of these query pairs;
/// returns all its pairs.
pub async fn assert_last_query_has(fake: &StripeFake, pairs: &[Value]) -> Vec<Value> {
    let query = last_query(fake).await;
    for pair in pairs {
        assert!(query.contains(pair), "{pair} not in {query:?}");
    }
    query
}
