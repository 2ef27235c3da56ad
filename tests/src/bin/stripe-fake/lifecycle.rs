//! What Stripe does with objects, as its API reference describes it: the object a create starts
//! from, what a create or update also writes (line items, balance transactions, charges and
//! what Radar opens for them, subscriptions of schedules), the actions that move an object
//! through its life cycle, child lists under a parent, and the few derived endpoints (balance,
//! upcoming invoice, test helpers).

use axum::http::Method;
use serde_json::{Map, Value, json};

use super::{
    Kind, Reply, Store, delete, error, filtered, insert, invalid, listed, listed_where, live,
    merge, missing, new_id, no_such, now, page, require_status, save, scalar_text, transition,
    unexpected_state, unrecognized,
};

/// A price's unit amount; prices the fake does not know cost 1000.
fn unit_amount(s: &Store, price: &str) -> i64 {
    live(s, "price", price)
        .and_then(|p| p["unit_amount"].as_i64())
        .unwrap_or(1000)
}

/// The price object for a line, or a stub of the id for a price the fake does not know.
fn price_object(s: &Store, price: &str) -> Value {
    live(s, "price", price).unwrap_or_else(|| json!({"id": price, "object": "price"}))
}

/// Stripe's `item` lines (quotes, Checkout Sessions, payment links) from `[{price, quantity}]`.
fn items(s: &mut Store, list: &str, lines: &Value) -> i64 {
    let mut total: i64 = 0;
    for line in lines.as_array().into_iter().flatten() {
        let price = scalar_text(&line["price"]);
        let quantity = line["quantity"].as_i64().unwrap_or(1);
        let amount = unit_amount(s, &price).saturating_mul(quantity);
        total = total.saturating_add(amount);
        let id = new_id(s, "li");
        let item = json!({
            "id": id, "object": "item", "amount_discount": 0, "amount_subtotal": amount,
            "amount_tax": 0, "amount_total": amount, "currency": "usd",
            "description": line["description"].as_str().unwrap_or("Line"),
            "price": price_object(s, &price), "quantity": quantity
        });
        insert(s, list, item, None);
    }
    total
}

/// Refuses a create Stripe would refuse: a missing required parameter, a reference to nothing,
/// or a collection Stripe writes itself.
pub fn check_create(s: &Store, kind: &Kind, params: &Value) -> Result<(), Reply> {
    let (col, kind) = (kind.col, kind.object);
    let required: &[&str] = match kind {
        "payment_intent" | "charge" | "payout" | "topup" => &["amount", "currency"],
        "invoice" | "invoiceitem" | "subscription" => &["customer"],
        "product" => &["name"],
        "price" => &["currency"],
        "plan" => &["currency", "interval"],
        "checkout.session" => &["success_url"],
        "transfer" => &["amount", "currency", "destination"],
        "account" => &["type"],
        "shipping_rate" => &["display_name"],
        "file" => &["file", "purpose"],
        "file_link" => &["file"],
        "payment_link" => &["line_items"],
        "test_helpers.test_clock" => &["frozen_time"],
        "webhook_endpoint" => &["url", "enabled_events"],
        "billing_portal.configuration" => &["business_profile", "features"],
        "credit_note" => &["invoice"],
        "event"
        | "balance_transaction"
        | "application_fee"
        | "review"
        | "radar.early_fraud_warning"
        | "setup_attempt"
        | "mandate"
        | "tax_code" => {
            return Err(unrecognized("POST", &format!("/v1/{col}")));
        }
        _ => &[],
    };
    if let Some(p) = required.iter().find(|p| params.get(**p).is_none()) {
        return Err(missing(p));
    }
    if kind == "subscription_schedule" && params.get("customer").is_none() {
        return Err(missing("customer"));
    }
    for (param, object) in [
        ("customer", "customer"),
        ("file", "file"),
        ("destination", "account"),
        ("invoice", "invoice"),
    ] {
        if let Some(id) = params.get(param).and_then(Value::as_str)
            && (kind != "payout" || param != "destination")
            && live(s, object, id).is_none()
        {
            return Err(error(
                400,
                "invalid_request_error",
                Some("resource_missing"),
                Some(param),
                &format!("No such {object}: '{id}'"),
            ));
        }
    }
    Ok(())
}

/// What a create also does at Stripe, before the object is stored.
pub fn after_create(s: &mut Store, o: &mut Value, params: &Value) -> Result<(), Reply> {
    let id = o["id"].as_str().unwrap_or_default().to_string();
    match o["object"].as_str().unwrap_or_default() {
        "payment_intent" => {
            o["client_secret"] = json!(format!("{id}_secret_fake"));
            if o["payment_method"].is_string() {
                o["status"] = json!("requires_confirmation");
            }
        }
        "payment_method" => {
            if let Some(number) = params["card"]["number"].as_str() {
                o["card"] = json!({"brand": "visa", "exp_month": params["card"]["exp_month"],
                    "exp_year": params["card"]["exp_year"], "last4": number.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect::<String>()});
            }
        }
        "quote" => {
            let total = items(s, &format!("quotes/{id}/line_items"), &params["line_items"]);
            o["amount_total"] = json!(total);
            o["amount_subtotal"] = json!(total);
            o.as_object_mut().map(|m| m.remove("line_items"));
            if let Some(customer) = params["customer"].as_str() {
                o["test_clock"] =
                    live(s, "customer", customer).map_or(Value::Null, |c| c["test_clock"].clone());
            }
        }
        "checkout.session" => {
            let total = items(
                s,
                &format!("checkout/sessions/{id}/line_items"),
                &params["line_items"],
            );
            o["amount_total"] = json!(total);
            o["url"] = json!(format!("https://checkout.stripe.com/c/pay/{id}"));
            o.as_object_mut().map(|m| m.remove("line_items"));
        }
        "payment_link" => {
            items(
                s,
                &format!("payment_links/{id}/line_items"),
                &params["line_items"],
            );
            o["url"] = json!(format!("https://buy.stripe.com/test_{id}"));
            o.as_object_mut().map(|m| m.remove("line_items"));
        }
        "invoiceitem" => {
            let price = params["price"].as_str().map(str::to_string);
            let quantity = o["quantity"].as_i64().unwrap_or(1);
            if let Some(price) = &price {
                o["price"] = price_object(s, price);
                o["unit_amount"] = json!(unit_amount(s, price));
            }
            if o["amount"].is_null() {
                o["amount"] = json!(
                    o["unit_amount"]
                        .as_i64()
                        .unwrap_or(0)
                        .saturating_mul(quantity)
                );
            }
            if let Some(invoice) = params["invoice"].as_str() {
                let amount = o["amount"].as_i64().unwrap_or(0);
                let mut inv =
                    live(s, "invoice", invoice).ok_or_else(|| no_such("invoice", invoice))?;
                require_status(&inv, &["draft"])?;
                for key in ["amount_due", "amount_remaining", "subtotal", "total"] {
                    inv[key] = json!(inv[key].as_i64().unwrap_or(0).saturating_add(amount));
                }
                save(s, inv);
            }
        }
        "subscription" => {
            if let Some(customer) = params["customer"].as_str() {
                o["test_clock"] =
                    live(s, "customer", customer).map_or(Value::Null, |c| c["test_clock"].clone());
            }
            let mut data = Vec::new();
            for line in params["items"].as_array().into_iter().flatten() {
                let price = scalar_text(&line["price"]);
                let item_id = new_id(s, "si");
                let item = json!({
                    "id": item_id, "object": "subscription_item", "created": now(), "metadata": {},
                    "price": price_object(s, &price), "quantity": line["quantity"].as_i64().unwrap_or(1),
                    "subscription": id
                });
                data.push(insert(s, "subscription_items", item, None));
            }
            o["items"] = json!({"object": "list", "data": data, "has_more": false,
                "url": format!("/v1/subscription_items?subscription={id}")});
        }
        "subscription_schedule" => start_schedule(s, o, params),
        "charge" => {
            o["amount_captured"] = o["amount"].clone();
            let pm = params["source"]
                .as_str()
                .or(params["payment_method"].as_str())
                .unwrap_or_default()
                .to_string();
            o["payment_method"] = json!(pm);
            o.as_object_mut().map(|m| m.remove("source"));
            charged(s, o, &pm, params);
        }
        "refund" => refunded(s, o, params)?,
        "payout" => {
            o["arrival_date"] = o["created"].clone();
            let amount = o["amount"].as_i64().unwrap_or(0);
            let txn = balance_transaction(s, "payout", &id, -amount);
            o["balance_transaction"] = json!(txn);
            // A payout sweeps what the balance held: those transactions are listed by it.
            let swept: Vec<String> = listed(s, "balance_transactions", "balance_transaction")
                .iter()
                .filter_map(|t| t["id"].as_str().map(str::to_string))
                .filter(|t| !s.hidden.get(t).is_some_and(|h| h.contains_key("payout")))
                .collect();
            for t in swept {
                set_hidden(s, &t, "payout", json!(id));
            }
        }
        "transfer" => o["reversals"]["url"] = json!(format!("/v1/transfers/{id}/reversals")),
        "account" => {
            if let Some(caps) = params["capabilities"].as_object() {
                let active: Map<String, Value> = caps
                    .iter()
                    .filter(|(_, c)| c["requested"] == true)
                    .map(|(name, _)| (name.clone(), json!("active")))
                    .collect();
                o["capabilities"] = Value::Object(active);
            }
        }
        "file" => {
            let filename = scalar_text(&params["file"]["filename"]);
            o["filename"] = json!(filename);
            o["size"] = params["file"]["size"]
                .as_str()
                .and_then(|n| n.parse::<i64>().ok())
                .map_or(json!(0), |n| json!(n));
            o["type"] = json!(filename.rsplit('.').next().unwrap_or("pdf"));
            o["url"] = json!(format!("https://files.stripe.com/v1/files/{id}/contents"));
            o.as_object_mut().map(|m| m.remove("file"));
        }
        "file_link" => o["url"] = json!(format!("https://files.stripe.com/links/{id}")),
        "test_helpers.test_clock" => {
            o["deletes_after"] = json!(
                o["frozen_time"]
                    .as_i64()
                    .unwrap_or_else(now)
                    .saturating_add(30 * 86400)
            );
        }
        "webhook_endpoint" => o["secret"] = json!(format!("whsec_{id}")),
        "price" if o["recurring"].is_object() => {
            o["type"] = json!("recurring");
            for (k, v) in [
                ("interval_count", json!(1)),
                ("usage_type", json!("licensed")),
                ("aggregate_usage", Value::Null),
            ] {
                if o["recurring"][k].is_null() {
                    o["recurring"][k] = v;
                }
            }
        }
        "credit_note" => {
            let invoice_id = scalar_text(&params["invoice"]);
            let invoice =
                live(s, "invoice", &invoice_id).ok_or_else(|| no_such("invoice", &invoice_id))?;
            require_status(&invoice, &["open", "paid"])?;
            let lines = match params["lines"].as_array() {
                Some(lines) => lines.clone(),
                None => vec![
                    json!({"amount": invoice["amount_due"], "description": "Credit", "type": "custom_line_item"}),
                ],
            };
            let mut total: i64 = 0;
            for line in lines {
                let amount = line["amount"].as_i64().unwrap_or(0);
                total = total.saturating_add(amount);
                let line_id = new_id(s, "cnli");
                let item = json!({
                    "id": line_id, "object": "credit_note_line_item", "amount": amount,
                    "amount_excluding_tax": amount, "description": line["description"], "discount_amount": 0,
                    "discount_amounts": [], "invoice_line_item": line["invoice_line_item"], "livemode": false,
                    "quantity": line["quantity"].as_i64().unwrap_or(1), "tax_amounts": [], "tax_rates": [],
                    "type": line["type"].as_str().unwrap_or("custom_line_item"), "unit_amount": amount,
                    "unit_amount_decimal": amount.to_string(), "unit_amount_excluding_tax": amount.to_string()
                });
                insert(s, &format!("credit_notes/{id}/lines"), item, None);
            }
            o["amount"] = json!(total);
            o["total"] = json!(total);
            o["subtotal"] = json!(total);
            o["customer"] = invoice["customer"].clone();
            o["number"] = json!(format!("CN-{id}"));
            o["lines"] = json!({"object": "list", "data": [], "has_more": false, "url": format!("/v1/credit_notes/{id}/lines")});
        }
        _ => {}
    }
    Ok(())
}

/// A schedule starting now (the default) is active and creates its subscription.
fn start_schedule(s: &mut Store, o: &mut Value, params: &Value) {
    let id = o["id"].as_str().unwrap_or_default().to_string();
    let start = params["start_date"].as_i64().unwrap_or_else(now);
    let phases: Vec<Value> = params["phases"].as_array().cloned().unwrap_or_default();
    let mut at = start;
    let mut normalized = Vec::new();
    for phase in &phases {
        let end = phase["end_date"].as_i64().unwrap_or(
            at.saturating_add(
                phase["iterations"]
                    .as_i64()
                    .unwrap_or(1)
                    .saturating_mul(30 * 86400),
            ),
        );
        let mut p = phase.clone();
        p["start_date"] = json!(at);
        p["end_date"] = json!(end);
        normalized.push(p);
        at = end;
    }
    o["phases"] = json!(normalized);
    if start > now() {
        return;
    }
    o["status"] = json!("active");
    if let Some(first) = normalized.first() {
        o["current_phase"] =
            json!({"start_date": first["start_date"], "end_date": first["end_date"]});
        let sub_id = new_id(s, "sub");
        let mut sub = template("subscription", &sub_id);
        sub["customer"] = params["customer"].clone();
        sub["schedule"] = json!(id);
        let sub_params = json!({"customer": params["customer"], "items": first["items"]});
        let _ = after_create(s, &mut sub, &sub_params);
        insert(s, "subscriptions", sub, None);
        o["subscription"] = json!(sub_id);
    }
}

/// A balance transaction of a charge, refund or payout; returns its id.
fn balance_transaction(s: &mut Store, kind: &str, source: &str, amount: i64) -> String {
    let id = new_id(s, "txn");
    let txn = json!({
        "id": id, "object": "balance_transaction", "amount": amount, "available_on": now(),
        "created": now(), "currency": "usd", "description": null, "fee": 0, "fee_details": [],
        "net": amount, "reporting_category": kind, "source": source, "status": "available", "type": kind
    });
    insert(s, "balance_transactions", txn, None);
    id
}

/// A successful charge: its balance transaction, its application fee, and what Radar and card
/// issuers open for Stripe's test cards (docs.stripe.com/radar/testing: `pm_card_riskLevelElevated`
/// opens a review; card 4000000000005423 gets an early fraud warning).
fn charged(s: &mut Store, o: &mut Value, pm: &str, params: &Value) {
    let id = o["id"].as_str().unwrap_or_default().to_string();
    let amount = o["amount"].as_i64().unwrap_or(0);
    o["balance_transaction"] = json!(balance_transaction(s, "charge", &id, amount));
    let card = live(s, "payment_method", pm)
        .map_or(json!({"brand": "visa", "last4": "4242"}), |p| {
            p["card"].clone()
        });
    o["payment_method_details"] = json!({"card": card, "type": "card"});
    if let Some(fee) = params["application_fee_amount"].as_i64() {
        let fee_id = new_id(s, "fee");
        let account = params["transfer_data"]["destination"]
            .as_str()
            .or(params["on_behalf_of"].as_str())
            .unwrap_or("acct_fake_connected");
        let object = json!({
            "id": fee_id, "object": "application_fee", "account": account, "amount": fee,
            "amount_refunded": 0, "application": "ca_fake", "balance_transaction": null, "charge": id,
            "created": now(), "currency": o["currency"], "livemode": false, "originating_transaction": null,
            "refunded": false, "refunds": {"object": "list", "data": [], "has_more": false,
            "url": format!("/v1/application_fees/{fee_id}/refunds")}
        });
        insert(s, "application_fees", object, None);
        o["application_fee"] = json!(fee_id);
    }
    let payment_intent = o["payment_intent"].clone();
    if pm == "pm_card_riskLevelElevated" {
        let review = new_id(s, "prv");
        let object = json!({
            "id": review, "object": "review", "billing_zip": null, "charge": id, "closed_reason": null,
            "created": now(), "ip_address": null, "ip_address_location": null, "livemode": false, "open": true,
            "opened_reason": "rule", "payment_intent": payment_intent, "reason": "rule", "session": null
        });
        insert(s, "reviews", object, None);
        o["review"] = json!(review);
    }
    if card["last4"] == "5423" {
        let efw = new_id(s, "issfr");
        let object = json!({
            "id": efw, "object": "radar.early_fraud_warning", "actionable": true, "charge": id,
            "created": now(), "fraud_type": "made_with_stolen_card", "livemode": false,
            "payment_intent": payment_intent
        });
        insert(s, "radar/early_fraud_warnings", object, None);
    }
}

/// A refund of a charge or PaymentIntent: bank-transfer (customer balance) refunds wait for the
/// customer's bank details, in `requires_action`.
fn refunded(s: &mut Store, o: &mut Value, params: &Value) -> Result<(), Reply> {
    let charge = match (params["charge"].as_str(), params["payment_intent"].as_str()) {
        (Some(c), _) => live(s, "charge", c).ok_or_else(|| no_such("charge", c))?,
        (None, Some(pi)) => {
            let intent =
                live(s, "payment_intent", pi).ok_or_else(|| no_such("payment_intent", pi))?;
            let c = scalar_text(&intent["latest_charge"]);
            live(s, "charge", &c)
                .ok_or_else(|| invalid("This PaymentIntent has no successful charge to refund."))?
        }
        (None, None) => return Err(missing("charge")),
    };
    let amount = o["amount"]
        .as_i64()
        .unwrap_or_else(|| charge["amount"].as_i64().unwrap_or(0));
    o["amount"] = json!(amount);
    o["charge"] = charge["id"].clone();
    o["payment_intent"] = charge["payment_intent"].clone();
    o["currency"] = charge["currency"].clone();
    let bank_transfer = live(s, "payment_intent", &scalar_text(&charge["payment_intent"]))
        .is_some_and(|pi| paid_by_bank_transfer(&pi));
    o["status"] = json!(if bank_transfer {
        "requires_action"
    } else {
        "succeeded"
    });
    let id = o["id"].as_str().unwrap_or_default().to_string();
    o["balance_transaction"] = json!(balance_transaction(s, "refund", &id, -amount));
    let mut charge = charge;
    let refunded = charge["amount_refunded"]
        .as_i64()
        .unwrap_or(0)
        .saturating_add(amount);
    charge["amount_refunded"] = json!(refunded);
    charge["refunded"] = json!(refunded >= charge["amount"].as_i64().unwrap_or(0));
    save(s, charge);
    Ok(())
}

/// What an update also does: a change of a customer's balance is a balance transaction.
pub fn before_update(s: &mut Store, o: &mut Value, params: &Value) -> Result<(), Reply> {
    if o["object"] == "customer"
        && let Some(balance) = params["balance"].as_i64()
    {
        let delta = balance.saturating_sub(o["balance"].as_i64().unwrap_or(0));
        if delta != 0 {
            let id = scalar_text(&o["id"]);
            let txn = customer_balance_transaction(s, &id, delta, balance, Value::Null);
            insert(
                s,
                &format!("customers/{id}/balance_transactions"),
                txn,
                None,
            );
        }
    }
    Ok(())
}

/// A manual change of a customer's credit balance (not yet stored).
fn customer_balance_transaction(
    s: &mut Store,
    customer: &str,
    amount: i64,
    ending: i64,
    description: Value,
) -> Value {
    json!({
        "id": new_id(s, "cbtxn"), "object": "customer_balance_transaction", "amount": amount,
        "created": now(), "credit_note": null, "currency": "usd", "customer": customer,
        "description": description, "ending_balance": ending, "invoice": null, "livemode": false,
        "metadata": {}, "type": "adjustment"
    })
}

/// A count Stripe keeps for an object without returning it in the object, 0 until set.
fn hidden_count(s: &Store, id: &str, key: &str) -> i64 {
    s.hidden
        .get(id)
        .and_then(|h| h.get(key))
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

/// Keeps a value for an object that Stripe filters or counts by without returning it.
fn set_hidden(s: &mut Store, id: &str, key: &str, value: Value) {
    s.hidden
        .entry(id.to_string())
        .or_default()
        .insert(key.into(), value);
}

fn cash_balance_transaction(s: &mut Store, customer: &str, net: i64, kind: &str) -> Value {
    let ending = hidden_count(s, customer, "cash_balance").saturating_add(net);
    set_hidden(s, customer, "cash_balance", json!(ending));
    let id = new_id(s, "ccsbtxn");
    let txn = json!({
        "id": id, "object": "customer_cash_balance_transaction", "created": now(), "currency": "usd",
        "customer": customer, "ending_balance": ending, "livemode": false, "net_amount": net, "type": kind
    });
    insert(
        s,
        &format!("customers/{customer}/cash_balance_transactions"),
        txn,
        None,
    )
}

/// `GET /v1/{collection}`, with the filters Stripe treats specially.
pub fn list_collection(s: &Store, kind: &Kind, params: &Value) -> Reply {
    let url = format!("/v1/{}", kind.col);
    let mut all = match kind.object {
        "tax_code" => tax_codes(),
        "setup_attempt" if params.get("setup_intent").is_none() => return missing("setup_intent"),
        "subscription_item" if params.get("subscription").is_none() => {
            return missing("subscription");
        }
        _ => listed(s, kind.col, kind.object),
    };
    let mut params = params.clone();
    let mut take = |name: &str| params.as_object_mut().and_then(|m| m.remove(name));
    match kind.object {
        "subscription" => {
            // Stripe leaves canceled subscriptions out unless a status (or `all`) is asked for.
            match take("status").map(|v| scalar_text(&v)) {
                None => all.retain(|o| o["status"] != "canceled"),
                Some(all_of_them) if all_of_them == "all" => {}
                Some(status) => all.retain(|o| o["status"] == status.as_str()),
            }
            if let Some(price) = take("price").map(|v| scalar_text(&v)) {
                all.retain(|o| {
                    o["items"]["data"].as_array().is_some_and(|items| {
                        items.iter().any(|i| i["price"]["id"] == price.as_str())
                    })
                });
            }
        }
        // A shipping rate's currency is its fixed amount's.
        "shipping_rate" => {
            if let Some(currency) = take("currency") {
                all.retain(|o| o["fixed_amount"]["currency"] == currency);
            }
        }
        "invoiceitem" => {
            if let Some(pending) = take("pending") {
                all.retain(|o| o["invoice"].is_null() == (pending == true || pending == "true"));
            }
        }
        // Every fake event counts as delivered (there are no webhooks).
        "event" => drop(take("delivery_success")),
        _ => {}
    }
    page(filtered(s, all, &params), &params, &url)
}

pub fn tax_code(id: &str) -> Reply {
    match tax_codes().into_iter().find(|c| c["id"] == id) {
        Some(code) => Reply::ok(code),
        None => no_such("tax_code", id),
    }
}

/// Stripe's own tax codes (a few of them).
fn tax_codes() -> Vec<Value> {
    [
        ("txcd_99999999", "General - Tangible Goods", "A physical good that can be moved or touched."),
        ("txcd_10000000", "General - Electronically Supplied Services", "A digital service provided mainly through the internet."),
        ("txcd_20030000", "General - Services", "A service without a more specific tax code."),
        ("txcd_00000000", "Nontaxable", "Any nontaxable good or service."),
    ]
    .into_iter()
    .map(|(id, name, description)| json!({"id": id, "object": "tax_code", "name": name, "description": description}))
    .collect()
}

/// Child lists of a parent object, by the parent's type.
pub fn is_child(parent: &str, sub: &str) -> bool {
    matches!(
        (parent, sub),
        (
            "customer",
            "tax_ids" | "balance_transactions" | "cash_balance_transactions"
        ) | ("transfer", "reversals")
            | ("application_fee", "refunds")
            | ("account", "persons" | "external_accounts" | "capabilities")
            | ("invoice", "lines")
            | ("quote" | "checkout.session" | "payment_link", "line_items")
            | ("credit_note", "lines")
            | (
                "subscription_item",
                "usage_records" | "usage_record_summaries"
            )
    )
}

/// `/v1/{collection}/{parent}/{child}[/{id}]`.
#[allow(clippy::too_many_arguments)]
pub fn child(
    s: &mut Store,
    method: &Method,
    kind: &Kind,
    parent_id: &str,
    sub: &str,
    child_id: Option<&str>,
    params: &Value,
    key: Option<&str>,
) -> Reply {
    let Some(parent) = live(s, kind.object, parent_id) else {
        return no_such(kind.object, parent_id);
    };
    let list = format!("{}/{parent_id}/{sub}", kind.col);
    let url = format!("/v1/{list}");
    let all = |s: &Store| -> Vec<Value> {
        match (kind.object, sub) {
            ("invoice", "lines") => invoice_lines(s, &parent),
            ("account", "capabilities") => capabilities(&parent),
            ("subscription_item", "usage_record_summaries") => usage_summaries(s, &parent),
            _ => listed_any(s, &list),
        }
    };
    let object = child_object(sub);
    let find = |s: &Store, id: &str| all(s).into_iter().find(|o| o["id"] == id);
    match (method.as_str(), child_id) {
        ("GET", None) => page(filtered(s, all(s), &paging_only(params)), params, &url),
        ("POST", None) => match create_child(s, kind, &parent, sub, params) {
            Ok(object) => Reply::ok(insert(s, &list, object, key)),
            Err(reply) => reply,
        },
        // Only the children Stripe has an endpoint for, and only under their own parent.
        ("GET", Some(id)) if CHILD_WRITES.iter().any(|(c, ..)| *c == sub) => match find(s, id) {
            Some(o) => Reply::ok(o),
            None => no_such(object, id),
        },
        ("POST", Some(id)) if let Some(allowed) = updatable(sub) => {
            let Some(o) = find(s, id) else {
                return no_such(object, id);
            };
            if let Some(unknown) = params
                .as_object()
                .and_then(|m| m.keys().find(|k| !allowed.contains(&k.as_str())))
            {
                return error(
                    400,
                    "invalid_request_error",
                    Some("parameter_unknown"),
                    Some(unknown),
                    &format!("Received unknown parameter: {unknown}"),
                );
            }
            update_child(s, &parent, sub, o, params)
        }
        ("DELETE", Some(id)) if deletable(sub) => {
            let Some(o) = find(s, id) else {
                return no_such(object, id);
            };
            if sub == "external_accounts" && o["default_for_currency"] == true {
                return invalid(
                    "You cannot delete the default external account for your default currency. Please make another external account the default using the `default_for_currency` param, and then delete this one.",
                );
            }
            let event = match sub {
                "tax_ids" => "customer.tax_id.deleted",
                "persons" => "person.deleted",
                _ => "account.external_account.deleted",
            };
            delete(s, &o, event)
        }
        _ => unrecognized(method.as_str(), &url),
    }
}

/// The children Stripe retrieves one by one at `{list}/{id}`, with what an update of one takes
/// (None: Stripe has no update) and whether Stripe deletes it (its API reference, 2023-08-16).
#[rustfmt::skip]
const CHILD_WRITES: &[(&str, Option<&[&str]>, bool)] = &[
    ("tax_ids", None, true),
    ("balance_transactions", Some(&["description", "expand", "metadata"]), false),
    ("cash_balance_transactions", None, false),
    ("reversals", Some(&["expand", "metadata"]), false),
    ("refunds", Some(&["expand", "metadata"]), false),
    ("persons", Some(&["address", "address_kana", "address_kanji", "dob", "documents", "email", "expand",
        "first_name", "first_name_kana", "first_name_kanji", "full_name_aliases", "gender", "id_number",
        "id_number_secondary", "last_name", "last_name_kana", "last_name_kanji", "maiden_name", "metadata",
        "nationality", "person_token", "phone", "political_exposure", "registered_address", "relationship",
        "ssn_last_4", "verification"]), true),
    ("external_accounts", Some(&["account_holder_name", "account_holder_type", "account_type", "address_city",
        "address_country", "address_line1", "address_line2", "address_state", "address_zip",
        "default_for_currency", "documents", "exp_month", "exp_year", "expand", "metadata", "name"]), true),
    ("capabilities", Some(&["expand", "requested"]), false),
];

fn updatable(sub: &str) -> Option<&'static [&'static str]> {
    CHILD_WRITES.iter().find(|(c, ..)| *c == sub)?.1
}

fn deletable(sub: &str) -> bool {
    CHILD_WRITES.iter().any(|(c, _, d)| *c == sub && *d)
}

/// The object type named in a child's 404 (`No such tax_id: '...'`).
fn child_object(sub: &str) -> &str {
    match sub {
        "capabilities" => "capability",
        "refunds" => "fee_refund",
        "reversals" => "transfer_reversal",
        "balance_transactions" => "customer_balance_transaction",
        "cash_balance_transactions" => "customer_cash_balance_transaction",
        other => other.strip_suffix('s').unwrap_or(other),
    }
}

/// The live objects of a parent's child list (of any object type), newest first.
fn listed_any(s: &Store, list: &str) -> Vec<Value> {
    listed_where(s, list, |_| true)
}

fn update_child(s: &mut Store, parent: &Value, sub: &str, mut o: Value, params: &Value) -> Reply {
    match sub {
        "capabilities" => {
            let name = scalar_text(&o["id"]);
            let mut account = parent.clone();
            if let Some(requested) = params.get("requested") {
                let on = requested == true || requested == "true";
                account["capabilities"][name.as_str()] =
                    json!(if on { "active" } else { "inactive" });
                save(s, account.clone());
            }
            match capabilities(&account)
                .into_iter()
                .find(|c| c["id"] == name.as_str())
            {
                Some(c) => Reply::ok(c),
                None => no_such("capability", &name),
            }
        }
        "persons" => {
            let mut relationship = o["relationship"].clone();
            merge(&mut relationship, &params["relationship"]);
            merge(&mut o, params);
            o["relationship"] = relationship;
            Reply::ok(save(s, o))
        }
        "external_accounts" => {
            if params["default_for_currency"] == true {
                let list = format!("accounts/{}/external_accounts", scalar_text(&parent["id"]));
                for mut other in listed_any(s, &list) {
                    if other["id"] != o["id"] && other["currency"] == o["currency"] {
                        other["default_for_currency"] = json!(false);
                        save(s, other);
                    }
                }
            }
            merge(&mut o, params);
            Reply::ok(save(s, o))
        }
        _ => {
            merge(&mut o, params);
            Reply::ok(save(s, o))
        }
    }
}

/// Child list filters are their own (Person `relationship[...]`); paging is handled by `page`.
fn paging_only(params: &Value) -> Value {
    let mut p = params.clone();
    if let Some(m) = p.as_object_mut() {
        m.retain(|k, _| k != "limit" && k != "starting_after");
    }
    p
}

fn create_child(
    s: &mut Store,
    parent_kind: &Kind,
    parent: &Value,
    sub: &str,
    params: &Value,
) -> Result<Value, Reply> {
    let pid = scalar_text(&parent["id"]);
    let need = |p: &str| {
        params
            .get(p)
            .filter(|v| !v.is_null())
            .cloned()
            .ok_or_else(|| missing(p))
    };
    Ok(match (parent_kind.object, sub) {
        ("customer", "tax_ids") => {
            let kind = scalar_text(&need("type")?);
            let value = need("value")?;
            let country = kind.split('_').next().unwrap_or("us").to_uppercase();
            json!({"id": new_id(s, "txi"), "object": "tax_id", "country": country, "created": now(),
                "customer": pid, "livemode": false, "type": kind, "value": value,
                "verification": {"status": "pending", "verified_address": null, "verified_name": null}})
        }
        ("customer", "balance_transactions") => {
            let amount = need("amount")?
                .as_i64()
                .ok_or_else(|| invalid("amount must be an integer"))?;
            need("currency")?;
            let ending = parent["balance"]
                .as_i64()
                .unwrap_or(0)
                .saturating_add(amount);
            let mut customer = parent.clone();
            customer["balance"] = json!(ending);
            save(s, customer);
            customer_balance_transaction(s, &pid, amount, ending, params["description"].clone())
        }
        ("transfer", "reversals") => {
            let over = "Refund amount exceeds the amount remaining on the transfer.";
            let amount = give_back(s, parent, params, "amount_reversed", "reversed", Some(over))?;
            json!({"id": new_id(s, "trr"), "object": "transfer_reversal", "amount": amount,
                "balance_transaction": null, "created": now(), "currency": parent["currency"],
                "destination_payment_refund": null, "metadata": params["metadata"].as_object().map_or(json!({}), |m| json!(m)),
                "source_refund": null, "transfer": pid})
        }
        ("application_fee", "refunds") => {
            let amount = give_back(s, parent, params, "amount_refunded", "refunded", None)?;
            json!({"id": new_id(s, "fr"), "object": "fee_refund", "amount": amount, "balance_transaction": null,
                "created": now(), "currency": parent["currency"], "fee": pid, "metadata": {}})
        }
        ("account", "persons") => {
            let mut relationship = json!({"director": false, "executive": false, "owner": false,
                "percent_ownership": null, "representative": false, "title": null});
            merge(&mut relationship, &params["relationship"]);
            let mut person = json!({"id": new_id(s, "person"), "object": "person", "account": pid,
                "created": now(), "email": null, "first_name": null, "last_name": null, "metadata": {},
                "phone": null});
            merge(&mut person, params);
            person["relationship"] = relationship;
            person
        }
        ("account", "external_accounts") => {
            let token = scalar_text(&need("external_account")?);
            let card = token.starts_with("tok_");
            let mut object = if card {
                json!({"id": new_id(s, "card"), "object": "card", "brand": "Visa", "country": "US",
                    "currency": "usd", "exp_month": 12, "exp_year": 2034, "last4": "5556", "status": null})
            } else {
                json!({"id": new_id(s, "ba"), "object": "bank_account", "account_holder_name": "Jane Austen",
                    "account_holder_type": "individual", "bank_name": "STRIPE TEST BANK", "country": "US",
                    "currency": "usd", "last4": "6789", "routing_number": "110000000", "status": "new"})
            };
            object["account"] = json!(pid);
            object["default_for_currency"] = json!(
                listed(
                    s,
                    &format!("accounts/{pid}/external_accounts"),
                    "bank_account"
                )
                .is_empty()
            );
            object["metadata"] = params["metadata"]
                .as_object()
                .map_or(json!({}), |m| json!(m));
            object
        }
        ("subscription_item", "usage_records") => {
            let quantity = need("quantity")?
                .as_i64()
                .ok_or_else(|| invalid("quantity must be an integer"))?;
            let total = match params["action"].as_str() {
                Some("set") => quantity,
                _ => hidden_count(s, &pid, "total_usage").saturating_add(quantity),
            };
            set_hidden(s, &pid, "total_usage", json!(total));
            json!({"id": new_id(s, "mbur"), "object": "usage_record", "livemode": false, "quantity": quantity,
                "subscription_item": pid, "timestamp": params["timestamp"].as_i64().unwrap_or_else(now)})
        }
        _ => {
            let url = format!("/v1/{}/{pid}/{sub}", parent_kind.col);
            return Err(unrecognized("POST", &url));
        }
    })
}

/// An invoice's lines: its invoice items, and its subscription's items.
fn invoice_lines(s: &Store, invoice: &Value) -> Vec<Value> {
    let id = scalar_text(&invoice["id"]);
    let mut lines: Vec<Value> = listed(s, "invoiceitems", "invoiceitem")
        .into_iter()
        .filter(|ii| ii["invoice"] == id.as_str())
        .map(|ii| line_of_item(&ii))
        .collect();
    if let Some(sub) = invoice["subscription"]
        .as_str()
        .and_then(|sub| live(s, "subscription", sub))
    {
        lines.extend(subscription_lines(s, &sub));
    }
    lines
}

fn line_of_item(ii: &Value) -> Value {
    json!({
        "id": format!("il_{}", scalar_text(&ii["id"])), "object": "line_item", "amount": ii["amount"],
        "amount_excluding_tax": ii["amount"], "currency": ii["currency"], "description": ii["description"],
        "discount_amounts": [], "discountable": true, "discounts": [], "invoice_item": ii["id"], "livemode": false,
        "metadata": ii["metadata"], "period": ii["period"], "price": ii["price"], "proration": false,
        "proration_details": {"credited_items": null}, "quantity": ii["quantity"], "subscription": null,
        "subscription_item": null, "tax_amounts": [], "tax_rates": [], "type": "invoiceitem",
        "unit_amount_excluding_tax": ii["unit_amount"].as_i64().map(|n| n.to_string())
    })
}

fn subscription_lines(s: &Store, sub: &Value) -> Vec<Value> {
    sub["items"]["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| {
            let price = scalar_text(&item["price"]["id"]);
            let quantity = item["quantity"].as_i64().unwrap_or(1);
            let amount = unit_amount(s, &price).saturating_mul(quantity);
            json!({
                "id": format!("il_{}", scalar_text(&item["id"])), "object": "line_item", "amount": amount,
                "amount_excluding_tax": amount, "currency": "usd", "description": format!("{quantity} × {price}"),
                "discount_amounts": [], "discountable": true, "discounts": [], "invoice_item": null, "livemode": false,
                "metadata": {}, "period": {"start": sub["current_period_start"], "end": sub["current_period_end"]},
                "price": item["price"], "proration": false, "proration_details": {"credited_items": null},
                "quantity": quantity, "subscription": sub["id"], "subscription_item": item["id"], "tax_amounts": [],
                "tax_rates": [], "type": "subscription", "unit_amount_excluding_tax": (amount / quantity.max(1)).to_string()
            })
        })
        .collect()
}

/// An account's capabilities; in the fake a requested one is active at once, and one given up
/// is inactive.
fn capabilities(account: &Value) -> Vec<Value> {
    account["capabilities"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, status)| {
            let requested = status != "inactive";
            json!({"id": name, "object": "capability", "account": account["id"],
            "requested": requested, "requested_at": if requested { account["created"].clone() } else { Value::Null },
            "status": status})
        })
        .collect()
}

fn usage_summaries(s: &Store, item: &Value) -> Vec<Value> {
    let id = scalar_text(&item["id"]);
    let total = hidden_count(s, &id, "total_usage");
    let sub = live(s, "subscription", &scalar_text(&item["subscription"])).unwrap_or_default();
    vec![
        json!({"id": format!("sis_{id}"), "object": "usage_record_summary", "invoice": null, "livemode": false,
        "period": {"start": sub["current_period_start"], "end": sub["current_period_end"]},
        "subscription_item": id, "total_usage": total}),
    ]
}

/// `GET /v1/balance`: what the balance transactions add up to.
pub fn balance(s: &Store) -> Reply {
    let available: i64 = listed(s, "balance_transactions", "balance_transaction")
        .iter()
        .filter_map(|t| t["net"].as_i64())
        .fold(0i64, i64::saturating_add);
    Reply::ok(json!({
        "object": "balance",
        "available": [{"amount": available, "currency": "usd", "source_types": {"card": available}}],
        "connect_reserved": [{"amount": 0, "currency": "usd"}],
        "instant_available": [{"amount": available, "currency": "usd", "source_types": {"card": available}}],
        "livemode": false,
        "pending": [{"amount": 0, "currency": "usd", "source_types": {"card": 0}}]
    }))
}

/// `GET /v1/invoices/upcoming`: the invoice Stripe would create next, without an id: pending
/// invoice items and the subscription's (or the customer's active subscriptions') items.
pub fn upcoming_invoice(s: &Store, params: &Value) -> Reply {
    let subscription = params["subscription"].as_str().map(str::to_string);
    let customer = match (params["customer"].as_str(), &subscription) {
        (Some(c), _) => c.to_string(),
        (None, Some(sub)) => match live(s, "subscription", sub) {
            Some(o) => scalar_text(&o["customer"]),
            None => return no_such("subscription", sub),
        },
        (None, None) => return missing("customer"),
    };
    if live(s, "customer", &customer).is_none() {
        return no_such("customer", &customer);
    }
    let mut lines: Vec<Value> = listed(s, "invoiceitems", "invoiceitem")
        .into_iter()
        .filter(|ii| ii["customer"] == customer.as_str() && ii["invoice"].is_null())
        .map(|ii| line_of_item(&ii))
        .collect();
    for sub in listed(s, "subscriptions", "subscription") {
        let chosen = match &subscription {
            Some(id) => sub["id"] == id.as_str(),
            None => sub["customer"] == customer.as_str() && sub["status"] == "active",
        };
        if chosen {
            lines.extend(subscription_lines(s, &sub));
        }
    }
    if lines.is_empty() {
        return error(
            404,
            "invalid_request_error",
            Some("invoice_upcoming_none"),
            None,
            &format!("No upcoming invoices for customer: {customer}"),
        );
    }
    let total = lines
        .iter()
        .filter_map(|l| l["amount"].as_i64())
        .fold(0i64, i64::saturating_add);
    let mut invoice = template("invoice", "");
    if let Some(m) = invoice.as_object_mut() {
        m.remove("id");
    }
    invoice["customer"] = json!(customer);
    invoice["subscription"] = subscription.map_or(Value::Null, Value::from);
    for key in ["amount_due", "amount_remaining", "subtotal", "total"] {
        invoice[key] = json!(total);
    }
    invoice["lines"] = json!({"object": "list", "data": lines, "has_more": false,
        "url": format!("/v1/invoices/upcoming/lines?customer={customer}")});
    Reply::ok(invoice)
}

/// `POST /v1/test_helpers/customers/{id}/fund_cash_balance`: a bank transfer arrived.
pub fn fund_cash_balance(s: &mut Store, customer: &str, params: &Value) -> Reply {
    if live(s, "customer", customer).is_none() {
        return no_such("customer", customer);
    }
    let Some(amount) = params["amount"].as_i64() else {
        return missing("amount");
    };
    if params.get("currency").is_none() {
        return missing("currency");
    }
    Reply::ok(cash_balance_transaction(s, customer, amount, "funded"))
}

/// A transition that only moves the status, from one of `from` to `to`.
fn move_status(s: &mut Store, kind: &str, id: &str, from: &[&str], to: &str) -> Reply {
    transition(s, kind, id, |o| {
        require_status(o, from)?;
        o["status"] = json!(to);
        Ok(())
    })
}

/// Gives back the request's `amount` (all that remains by default) of the parent's `amount`: the
/// parent's `returned` total grows and `all_returned` says whether nothing remains. An amount
/// over what remains is refused with `over`, when given.
fn give_back(
    s: &mut Store,
    parent: &Value,
    params: &Value,
    returned: &str,
    all_returned: &str,
    over: Option<&str>,
) -> Result<i64, Reply> {
    let already = parent[returned].as_i64().unwrap_or(0);
    let remaining = parent["amount"]
        .as_i64()
        .unwrap_or(0)
        .saturating_sub(already);
    let amount = params["amount"].as_i64().unwrap_or(remaining);
    if let Some(over) = over
        && amount > remaining
    {
        return Err(invalid(over));
    }
    let mut updated = parent.clone();
    updated[returned] = json!(already.saturating_add(amount));
    updated[all_returned] = json!(amount == remaining);
    save(s, updated);
    Ok(amount)
}

/// Sets `field` to the request's value, which must be above the object's current one.
fn raise(o: &mut Value, p: &Value, field: &str, too_low: &str) -> Result<i64, Reply> {
    let Some(value) = p[field].as_i64() else {
        return Err(missing(field));
    };
    if value <= o[field].as_i64().unwrap_or(0) {
        return Err(invalid(too_low));
    }
    o[field] = json!(value);
    Ok(value)
}

/// The bank settled a payout.
pub fn settle_payout(s: &mut Store, id: &str) -> Reply {
    move_status(s, "payout", id, &["pending", "in_transit"], "paid")
}

pub fn cancel_subscription(s: &mut Store, id: &str) -> Reply {
    transition(s, "subscription", id, |o| {
        if o["status"] == "canceled" {
            return Err(invalid("This subscription is already canceled."));
        }
        o["status"] = json!("canceled");
        o["canceled_at"] = json!(now());
        Ok(())
    })
}

pub fn action(s: &mut Store, kind: &Kind, id: &str, verb: &str, params: &Value) -> Reply {
    let (col, kind) = (kind.col, kind.object);
    let p = params.clone();
    match (kind, verb) {
        ("payment_intent", "confirm") => confirm_intent(s, id, &p),
        ("payment_intent", "capture") => transition(s, kind, id, |o| {
            if o["status"] != "requires_capture" {
                return Err(unexpected_state(o));
            }
            o["amount_received"] = p
                .get("amount_to_capture")
                .cloned()
                .unwrap_or(o["amount"].clone());
            o["amount_capturable"] = json!(0);
            o["status"] = json!("succeeded");
            Ok(())
        }),
        ("payment_intent", "cancel") => transition(s, kind, id, |o| {
            if ["succeeded", "canceled"].contains(&o["status"].as_str().unwrap_or_default()) {
                return Err(unexpected_state(o));
            }
            o["status"] = json!("canceled");
            o["canceled_at"] = json!(now());
            o["amount_capturable"] = json!(0);
            o["cancellation_reason"] = p.get("cancellation_reason").cloned().unwrap_or(Value::Null);
            Ok(())
        }),
        ("payment_intent", "increment_authorization") => transition(s, kind, id, |o| {
            require_status(o, &["requires_capture"])?;
            if o["payment_method_options"]["card"]["request_incremental_authorization"]
                != "if_available"
            {
                return Err(error(
                    400,
                    "invalid_request_error",
                    Some("incremental_authorization_not_supported"),
                    None,
                    "This PaymentIntent was not created with payment_method_options[card][request_incremental_authorization]=if_available.",
                ));
            }
            let amount = raise(
                o,
                &p,
                "amount",
                "The amount must be greater than the PaymentIntent's current amount.",
            )?;
            o["amount_capturable"] = json!(amount);
            if let Some(d) = p.get("description") {
                o["description"] = d.clone();
            }
            Ok(())
        }),
        ("payment_intent", "apply_customer_balance") => apply_customer_balance(s, id, &p),
        ("payment_method", "attach") => {
            let Some(customer) = p.get("customer").and_then(Value::as_str) else {
                return missing("customer");
            };
            if live(s, "customer", customer).is_none() {
                return no_such("customer", customer);
            }
            let customer = customer.to_string();
            transition(s, kind, id, |o| {
                o["customer"] = json!(customer);
                Ok(())
            })
        }
        ("payment_method", "detach") => transition(s, kind, id, |o| {
            if o["customer"].is_null() {
                return Err(invalid(
                    "The payment method you provided is not attached to a customer so detachment is impossible.",
                ));
            }
            o["customer"] = Value::Null;
            Ok(())
        }),
        ("invoice", "finalize") => {
            let number = format!("FAKE-{:04}", s.next_id);
            transition(s, kind, id, |o| {
                require_status(o, &["draft"])?;
                o["status"] = json!("open");
                o["number"] = json!(number);
                o["effective_at"] = json!(now());
                o["ending_balance"] = json!(0);
                if o["amount_due"] == 0 {
                    // Stripe marks a zero-amount invoice paid on finalization.
                    o["status"] = json!("paid");
                    o["paid"] = json!(true);
                }
                Ok(())
            })
        }
        ("invoice", "void") => move_status(s, kind, id, &["open", "uncollectible"], "void"),
        ("invoice", "pay") => transition(s, kind, id, |o| {
            require_status(o, &["open", "uncollectible"])?;
            o["status"] = json!("paid");
            o["paid"] = json!(true);
            o["paid_out_of_band"] = json!(p["paid_out_of_band"] == true);
            o["amount_paid"] = o["amount_due"].clone();
            o["amount_remaining"] = json!(0);
            Ok(())
        }),
        ("invoice", "send") => transition(s, kind, id, |o| require_status(o, &["open"])),
        ("invoice", "mark_uncollectible") => move_status(s, kind, id, &["open"], "uncollectible"),
        ("quote", "finalize") => transition(s, kind, id, |o| {
            require_status(o, &["draft"])?;
            o["status"] = json!("open");
            o["number"] = json!(format!("QT-{id}"));
            Ok(())
        }),
        ("quote", "accept") => {
            let Some(quote) = live(s, kind, id) else {
                return no_such(kind, id);
            };
            if quote["status"] != "open" {
                return unexpected_state(&quote);
            }
            let invoice_id = new_id(s, "in");
            let mut invoice = template("invoice", &invoice_id);
            invoice["customer"] = quote["customer"].clone();
            invoice["quote"] = json!(id);
            invoice["amount_due"] = quote["amount_total"].clone();
            insert(s, "invoices", invoice, None);
            transition(s, kind, id, |o| {
                o["status"] = json!("accepted");
                o["invoice"] = json!(invoice_id);
                Ok(())
            })
        }
        ("quote", "cancel") => move_status(s, kind, id, &["draft", "open"], "canceled"),
        ("subscription", "resume") => move_status(s, kind, id, &["paused"], "active"),
        ("subscription_schedule", "cancel") => {
            let Some(schedule) = live(s, kind, id) else {
                return no_such(kind, id);
            };
            if let Err(reply) = require_status(&schedule, &["not_started", "active"]) {
                return reply;
            }
            if let Some(sub) = schedule["subscription"].as_str() {
                let sub = sub.to_string();
                cancel_subscription(s, &sub);
            }
            transition(s, kind, id, |o| {
                o["status"] = json!("canceled");
                o["canceled_at"] = json!(now());
                Ok(())
            })
        }
        ("subscription_schedule", "release") => transition(s, kind, id, |o| {
            require_status(o, &["not_started", "active"])?;
            o["status"] = json!("released");
            o["released_at"] = json!(now());
            o["released_subscription"] = o["subscription"].clone();
            o["subscription"] = Value::Null;
            Ok(())
        }),
        ("checkout.session", "expire") => move_status(s, kind, id, &["open"], "expired"),
        ("setup_intent", "confirm") => confirm_setup(s, id, &p),
        ("setup_intent", "cancel") => transition(s, kind, id, |o| {
            o["status"] = json!("canceled");
            Ok(())
        }),
        ("refund", "cancel") => transition(s, kind, id, |o| {
            if o["status"] != "requires_action" {
                return Err(invalid(
                    "Only refunds with a status of requires_action can be canceled.",
                ));
            }
            o["status"] = json!("canceled");
            Ok(())
        }),
        ("payout", "cancel") => move_status(s, kind, id, &["pending"], "canceled"),
        ("payout", "reverse") => {
            let Some(payout) = live(s, kind, id) else {
                return no_such(kind, id);
            };
            if payout["status"] != "paid" || !payout["reversed_by"].is_null() {
                return invalid("Only paid payouts that were not reversed can be reversed.");
            }
            let reversal_id = new_id(s, "po");
            let mut reversal = template("payout", &reversal_id);
            reversal["amount"] = payout["amount"].clone();
            reversal["currency"] = payout["currency"].clone();
            reversal["original_payout"] = json!(id);
            let reversal = insert(s, "payouts", reversal, None);
            let mut payout = payout;
            payout["reversed_by"] = json!(reversal_id);
            save(s, payout);
            Reply::ok(reversal)
        }
        ("topup", "cancel") => move_status(s, kind, id, &["pending"], "canceled"),
        ("review", "approve") => transition(s, kind, id, |o| {
            if o["open"] != true {
                return Err(invalid("This review is already closed."));
            }
            o["open"] = json!(false);
            o["reason"] = json!("approved");
            o["closed_reason"] = json!("approved");
            Ok(())
        }),
        ("test_helpers.test_clock", "advance") => transition(s, kind, id, |o| {
            raise(
                o,
                &p,
                "frozen_time",
                "The test clock can only be advanced to a time after its current frozen time.",
            )?;
            o["status"] = json!("ready");
            Ok(())
        }),
        ("dispute", "close") => transition(s, kind, id, |o| {
            o["status"] = json!("lost");
            Ok(())
        }),
        ("credit_note", "void") => transition(s, kind, id, |o| {
            require_status(o, &["issued"])?;
            o["status"] = json!("void");
            o["voided_at"] = json!(now());
            Ok(())
        }),
        _ => unrecognized("POST", &format!("/v1/{col}/{id}/{verb}")),
    }
}

fn confirm_intent(s: &mut Store, id: &str, p: &Value) -> Reply {
    let Some(intent) = live(s, "payment_intent", id) else {
        return no_such("payment_intent", id);
    };
    let pm = payment_method_to_confirm(p, &intent);
    if pm.as_deref() == Some("pm_card_chargeDeclined") {
        let mut e = error(
            402,
            "card_error",
            Some("card_declined"),
            None,
            "Your card was declined.",
        );
        e.body["error"]["decline_code"] = json!("generic_decline");
        return e;
    }
    let Some(pm) = pm else {
        return error(
            400,
            "invalid_request_error",
            Some("payment_intent_unexpected_state"),
            Some("payment_method"),
            "You cannot confirm this PaymentIntent because it's missing a payment method.",
        );
    };
    if !["requires_confirmation", "requires_payment_method"]
        .contains(&intent["status"].as_str().unwrap_or_default())
    {
        return unexpected_state(&intent);
    }
    let charge_id = new_id(s, "ch");
    let mut charge = template("charge", &charge_id);
    for key in [
        "amount",
        "currency",
        "customer",
        "description",
        "receipt_email",
        "transfer_group",
    ] {
        charge[key] = intent[key].clone();
    }
    charge["payment_intent"] = json!(id);
    charge["payment_method"] = json!(pm);
    let manual = intent["capture_method"] == "manual";
    charge["captured"] = json!(!manual);
    charged(s, &mut charge, &pm, &intent);
    insert(s, "charges", charge, None);
    transition(s, "payment_intent", id, |o| {
        o["payment_method"] = json!(pm);
        let amount = o["amount"].clone();
        if manual {
            o["status"] = json!("requires_capture");
            o["amount_capturable"] = amount;
        } else {
            o["status"] = json!("succeeded");
            o["amount_received"] = amount;
        }
        o["latest_charge"] = json!(charge_id);
        Ok(())
    })
}

/// The payment method a confirm uses: the request's, else the one already on the intent.
fn payment_method_to_confirm(params: &Value, intent: &Value) -> Option<String> {
    params["payment_method"]
        .as_str()
        .or(intent["payment_method"].as_str())
        .map(str::to_string)
}

/// Whether a PaymentIntent is paid by bank transfer, into the customer's cash balance.
fn paid_by_bank_transfer(intent: &Value) -> bool {
    intent["payment_method_types"]
        .as_array()
        .is_some_and(|t| t.iter().any(|t| t == "customer_balance"))
}

/// Pays a customer_balance PaymentIntent from the customer's cash balance, as far as it goes.
fn apply_customer_balance(s: &mut Store, id: &str, p: &Value) -> Reply {
    let Some(intent) = live(s, "payment_intent", id) else {
        return no_such("payment_intent", id);
    };
    let Some(customer) = intent["customer"]
        .as_str()
        .map(str::to_string)
        .filter(|_| paid_by_bank_transfer(&intent))
    else {
        return invalid(
            "apply_customer_balance needs a PaymentIntent of a customer with payment_method_types customer_balance.",
        );
    };
    let owed = intent["amount"]
        .as_i64()
        .unwrap_or(0)
        .saturating_sub(intent["amount_received"].as_i64().unwrap_or(0));
    let available = hidden_count(s, &customer, "cash_balance");
    let amount = p["amount"]
        .as_i64()
        .unwrap_or(owed)
        .min(owed)
        .min(available);
    if amount <= 0 {
        return invalid("The customer's cash balance has no funds to apply.");
    }
    cash_balance_transaction(s, &customer, -amount, "applied_to_payment");
    let received = intent["amount_received"]
        .as_i64()
        .unwrap_or(0)
        .saturating_add(amount);
    let paid = received >= intent["amount"].as_i64().unwrap_or(0);
    // Once paid in full, the payment is a charge of the cash balance.
    let charge = paid.then(|| {
        let charge_id = new_id(s, "py");
        let mut charge = template("charge", &charge_id);
        for key in ["amount", "currency", "customer"] {
            charge[key] = intent[key].clone();
        }
        charge["payment_intent"] = json!(id);
        let txn = balance_transaction(
            s,
            "charge",
            &charge_id,
            intent["amount"].as_i64().unwrap_or(0),
        );
        charge["balance_transaction"] = json!(txn);
        charge["payment_method_details"] =
            json!({"customer_balance": {}, "type": "customer_balance"});
        insert(s, "charges", charge, None);
        charge_id
    });
    transition(s, "payment_intent", id, |o| {
        o["amount_received"] = json!(received);
        o["status"] = json!(if paid { "succeeded" } else { "requires_action" });
        if let Some(charge) = charge {
            o["latest_charge"] = json!(charge);
        }
        Ok(())
    })
}

/// Confirming a SetupIntent makes an attempt, and a mandate for a payment method that debits a
/// bank account (SEPA Direct Debit, US bank account).
fn confirm_setup(s: &mut Store, id: &str, p: &Value) -> Reply {
    let Some(intent) = live(s, "setup_intent", id) else {
        return no_such("setup_intent", id);
    };
    let pm = payment_method_to_confirm(p, &intent);
    let Some(pm) = pm else {
        return missing("payment_method");
    };
    let pm_type =
        live(s, "payment_method", &pm).map_or("card".to_string(), |o| scalar_text(&o["type"]));
    let attempt_id = new_id(s, "setatt");
    let attempt = json!({
        "id": attempt_id, "object": "setup_attempt", "application": null, "attach_to_self": false,
        "created": now(), "customer": intent["customer"], "flow_directions": null, "livemode": false,
        "on_behalf_of": null, "payment_method": pm, "payment_method_details": {"type": pm_type},
        "setup_error": null, "setup_intent": id, "status": "succeeded",
        "usage": intent["usage"].as_str().unwrap_or("off_session")
    });
    insert(s, "setup_attempts", attempt, None);
    let mandate = if ["sepa_debit", "us_bank_account"].contains(&pm_type.as_str()) {
        let mandate_id = new_id(s, "mandate");
        let mandate = json!({
            "id": mandate_id, "object": "mandate",
            "customer_acceptance": {"accepted_at": now(), "online": {"ip_address": "127.0.0.1", "user_agent": "fake"}, "type": "online"},
            "livemode": false, "multi_use": {}, "on_behalf_of": null, "payment_method": pm,
            "payment_method_details": {"type": pm_type, pm_type.as_str(): {}}, "status": "active", "type": "multi_use"
        });
        insert(s, "mandates", mandate, None);
        json!(mandate_id)
    } else {
        Value::Null
    };
    transition(s, "setup_intent", id, |o| {
        o["payment_method"] = json!(pm);
        o["status"] = json!("succeeded");
        o["latest_attempt"] = json!(attempt_id);
        o["mandate"] = mandate;
        Ok(())
    })
}

/// The object a create starts from, with Stripe's keys in Stripe's order.
pub fn template(kind: &str, id: &str) -> Value {
    let created = now();
    let mut o = match kind {
        "customer" => json!({
            "id": id, "object": "customer", "address": null, "balance": 0, "created": created,
            "currency": null, "default_source": null, "delinquent": false, "description": null,
            "discount": null, "email": null, "invoice_prefix": "FAKE0001",
            "invoice_settings": {"custom_fields": null, "default_payment_method": null, "footer": null},
            "livemode": false, "metadata": {}, "name": null, "phone": null,
            "preferred_locales": [], "shipping": null, "tax_exempt": "none", "test_clock": null
        }),
        "payment_intent" => json!({
            "id": id, "object": "payment_intent", "amount": 0, "amount_capturable": 0,
            "amount_received": 0, "canceled_at": null, "cancellation_reason": null,
            "capture_method": "automatic", "client_secret": null,
            "confirmation_method": "automatic", "created": created, "currency": "usd",
            "customer": null, "description": null, "invoice": null, "last_payment_error": null,
            "latest_charge": null, "level3": null, "livemode": false, "metadata": {}, "next_action": null,
            "on_behalf_of": null, "payment_method": null,
            "payment_method_configuration_details": null,
            "payment_method_options": {"card": {"installments": null, "mandate_options": null,
                "network": null, "request_three_d_secure": "automatic"}},
            "payment_method_types": ["card"], "processing": null, "receipt_email": null,
            "review": null, "setup_future_usage": null, "shipping": null,
            "statement_descriptor": null, "statement_descriptor_suffix": null,
            "status": "requires_payment_method", "transfer_data": null, "transfer_group": null
        }),
        "payment_method" => json!({
            "id": id, "object": "payment_method",
            "billing_details": {"address": null, "email": null, "name": null, "phone": null},
            "card": {"brand": "visa", "exp_month": 12, "exp_year": 2034, "last4": "4242"},
            "created": created, "customer": null, "livemode": false, "metadata": {}, "type": "card"
        }),
        "invoice" => json!({
            "id": id, "object": "invoice", "account_country": "US",
            "account_name": "Stripe fake account", "amount_due": 0, "amount_paid": 0,
            "amount_remaining": 0, "auto_advance": false, "billing_reason": "manual",
            "charge": null, "collection_method": "charge_automatically", "created": created,
            "currency": "usd", "customer": null, "description": null, "discounts": [],
            "due_date": null, "effective_at": null, "ending_balance": null, "footer": null,
            "hosted_invoice_url": null,
            "lines": {"object": "list", "data": [], "has_more": false, "total_count": 0,
                "url": format!("/v1/invoices/{id}/lines")},
            "livemode": false, "metadata": {}, "next_payment_attempt": null, "number": null,
            "on_behalf_of": null, "paid": false, "paid_out_of_band": false,
            "payment_intent": null, "receipt_number": null, "status": "draft", "subscription": null,
            "subtotal": 0, "total": 0
        }),
        "quote" => json!({
            "id": id, "object": "quote", "amount_subtotal": 0, "amount_total": 0,
            "collection_method": "charge_automatically", "created": created, "currency": "usd",
            "customer": null, "description": null, "expires_at": created + 30 * 86400,
            "footer": null, "header": null, "invoice": null, "livemode": false, "metadata": {},
            "number": null, "status": "draft", "test_clock": null
        }),
        "subscription" => json!({
            "id": id, "object": "subscription", "cancel_at_period_end": false,
            "canceled_at": null, "collection_method": "charge_automatically", "created": created,
            "current_period_end": created + 30 * 86400, "current_period_start": created,
            "customer": null, "items": {"object": "list", "data": [], "has_more": false},
            "livemode": false, "metadata": {}, "schedule": null, "status": "active", "test_clock": null
        }),
        "checkout.session" => json!({
            "id": id, "object": "checkout.session", "amount_total": 0, "cancel_url": null,
            "created": created, "currency": "usd", "customer": null,
            "customer_details": null, "livemode": false, "metadata": {}, "mode": "payment",
            "payment_intent": null, "payment_link": null, "status": "open", "subscription": null,
            "success_url": null, "url": null
        }),
        "charge" => json!({
            "id": id, "object": "charge", "amount": 0, "amount_captured": 0, "amount_refunded": 0,
            "application_fee": null, "application_fee_amount": null, "balance_transaction": null,
            "billing_details": {"address": {"postal_code": null}, "email": null, "name": null, "phone": null},
            "captured": true, "created": created, "currency": "usd", "customer": null, "description": null,
            "disputed": false, "livemode": false, "metadata": {}, "paid": true, "payment_intent": null,
            "payment_method": null, "payment_method_details": null, "receipt_email": null, "refunded": false,
            "review": null, "status": "succeeded", "transfer_group": null
        }),
        "refund" => json!({
            "id": id, "object": "refund", "amount": null, "balance_transaction": null, "charge": null,
            "created": created, "currency": "usd", "metadata": {}, "payment_intent": null, "reason": null,
            "status": "succeeded"
        }),
        "product" => json!({
            "id": id, "object": "product", "active": true, "created": created, "default_price": null,
            "description": null, "images": [], "livemode": false, "metadata": {}, "name": null,
            "shippable": null, "statement_descriptor": null, "tax_code": null, "unit_label": null,
            "updated": created, "url": null
        }),
        "price" => json!({
            "id": id, "object": "price", "active": true, "billing_scheme": "per_unit", "created": created,
            "currency": "usd", "livemode": false, "lookup_key": null, "metadata": {}, "nickname": null,
            "product": null, "recurring": null, "tax_behavior": "unspecified", "type": "one_time",
            "unit_amount": null
        }),
        "plan" => json!({
            "id": id, "object": "plan", "active": true, "aggregate_usage": null, "amount": null,
            "billing_scheme": "per_unit", "created": created, "currency": "usd", "interval": "month",
            "interval_count": 1, "livemode": false, "metadata": {}, "nickname": null, "product": null,
            "trial_period_days": null, "usage_type": "licensed"
        }),
        "invoiceitem" => json!({
            "id": id, "object": "invoiceitem", "amount": null, "currency": "usd", "customer": null,
            "date": created, "description": null, "discountable": true, "invoice": null, "livemode": false,
            "metadata": {}, "period": {"end": created, "start": created}, "price": null, "proration": false,
            "quantity": 1, "subscription": null, "unit_amount": null
        }),
        "subscription_schedule" => json!({
            "id": id, "object": "subscription_schedule", "application": null, "canceled_at": null,
            "completed_at": null, "created": created, "current_phase": null, "customer": null,
            "default_settings": {}, "end_behavior": "release", "livemode": false, "metadata": {},
            "phases": [], "released_at": null, "released_subscription": null, "status": "not_started",
            "subscription": null, "test_clock": null
        }),
        "transfer" => json!({
            "id": id, "object": "transfer", "amount": 0, "amount_reversed": 0, "balance_transaction": null,
            "created": created, "currency": "usd", "description": null, "destination": null,
            "destination_payment": null, "livemode": false, "metadata": {},
            "reversals": {"object": "list", "data": [], "has_more": false, "url": null}, "reversed": false,
            "source_transaction": null, "source_type": "card", "transfer_group": null
        }),
        "account" => json!({
            "id": id, "object": "account", "business_profile": {"name": null, "url": null},
            "business_type": null, "capabilities": {}, "charges_enabled": false, "country": "US",
            "created": created, "default_currency": "usd", "details_submitted": false, "email": null,
            "metadata": {}, "payouts_enabled": false, "type": "custom"
        }),
        "topup" => json!({
            "id": id, "object": "topup", "amount": 0, "balance_transaction": null, "created": created,
            "currency": "usd", "description": null, "expected_availability_date": created + 86400,
            "failure_code": null, "failure_message": null, "livemode": false, "metadata": {},
            "source": null, "statement_descriptor": null, "status": "pending", "transfer_group": null
        }),
        "payout" => json!({
            "id": id, "object": "payout", "amount": 0, "arrival_date": created, "automatic": false,
            "balance_transaction": null, "created": created, "currency": "usd", "description": null,
            "destination": null, "livemode": false, "metadata": {}, "method": "standard",
            "original_payout": null, "reversed_by": null, "statement_descriptor": null,
            "status": "pending", "type": "bank_account"
        }),
        "shipping_rate" => json!({
            "id": id, "object": "shipping_rate", "active": true, "created": created,
            "delivery_estimate": null, "display_name": null, "fixed_amount": null, "livemode": false,
            "metadata": {}, "tax_behavior": "unspecified", "tax_code": null, "type": "fixed_amount"
        }),
        "file" => json!({
            "id": id, "object": "file", "created": created, "expires_at": null, "filename": null,
            "purpose": null, "size": 0, "title": null, "type": null, "url": null
        }),
        "file_link" => json!({
            "id": id, "object": "file_link", "created": created, "expired": false, "expires_at": null,
            "file": null, "livemode": false, "metadata": {}, "url": null
        }),
        "payment_link" => json!({
            "id": id, "object": "payment_link", "active": true,
            "after_completion": {"hosted_confirmation": {"custom_message": null}, "type": "hosted_confirmation"},
            "allow_promotion_codes": false, "billing_address_collection": "auto", "currency": "usd",
            "customer_creation": "if_required", "livemode": false, "metadata": {}, "submit_type": "auto",
            "url": null
        }),
        "test_helpers.test_clock" => json!({
            "id": id, "object": "test_helpers.test_clock", "created": created, "deletes_after": null,
            "frozen_time": created, "livemode": false, "name": null, "status": "ready"
        }),
        "webhook_endpoint" => json!({
            "id": id, "object": "webhook_endpoint", "api_version": null, "application": null,
            "created": created, "description": null, "enabled_events": [], "livemode": false,
            "metadata": {}, "secret": null, "status": "enabled", "url": null
        }),
        "billing_portal.configuration" => json!({
            "id": id, "object": "billing_portal.configuration", "active": true, "application": null,
            "business_profile": {"headline": null, "privacy_policy_url": null, "terms_of_service_url": null},
            "created": created, "default_return_url": null, "features": {}, "is_default": false,
            "livemode": false, "login_page": {"enabled": false, "url": null}, "metadata": {},
            "updated": created
        }),
        "credit_note" => json!({
            "id": id, "object": "credit_note", "amount": 0, "created": created, "currency": "usd",
            "customer": null, "invoice": null, "livemode": false, "memo": null, "metadata": {},
            "number": null, "reason": null, "status": "issued", "subtotal": 0, "total": 0,
            "type": "pre_payment", "voided_at": null
        }),
        other => {
            json!({"id": id, "object": other, "created": created, "livemode": false, "metadata": {}})
        }
    };
    if kind == "subscription" {
        o["items"]["url"] = json!(format!("/v1/subscription_items?subscription={id}"));
    }
    o
}
