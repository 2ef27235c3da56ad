//! Every example of Google Cloud Integration Connectors' Stripe connector page, replayed against
//! a real node in front of the Stripe fake: the page's inputs, and outputs of its shape (the same keys,
//! `"Success": "true"`, scalars as strings, nulls as null).

use e2e::checked_calls::{
    delete, entity_path, get_fields, run_action_with_no_output, test_card, update,
};
use e2e::{Api, fake_and_node};
use serde_json::{Value, json};

/// Checks an action result against the page's example output: a list of one object with every
/// key of the example's, and each value of the example's kind (string or null). Non-empty arrays
/// are kept as JSON text where the page shows null (docs/node.md).
fn assert_example_shape(body: &Value, example: Value) {
    let results = body["results"].as_array().expect("results is a list");
    assert_eq!(results.len(), 1, "{body}");
    let got = results[0].as_object().expect("one object");
    assert_eq!(got["Success"], "true", "{body}");
    for (key, want) in example.as_object().expect("example object") {
        let value = got
            .get(key)
            .unwrap_or_else(|| panic!("{key} missing in {body}"));
        match want {
            Value::Null => assert!(
                value.is_null() || (key == "payment_method_types" && value.is_string()),
                "{key} should be null: {value}"
            ),
            Value::String(_) => assert!(value.is_string(), "{key} should be a string: {value}"),
            other => panic!("examples have only strings and nulls, not {other}"),
        }
    }
    for (key, value) in got {
        assert!(
            value.is_null() || value.is_string(),
            "{key} is neither a string nor null: {value}"
        );
    }
}

/// Runs an action with the page's example input; it must succeed with an answer of the shape of
/// the page's example output. Returns the answer.
async fn replay_example(api: &Api, action: &str, parameters: Value, example: Value) -> Value {
    let (status, body) = api.execute(action, parameters).await;
    assert_eq!(status, 200, "{body}");
    assert_example_shape(&body, example);
    body
}

/// A PaymentIntent of 33000 usd paid by `pm_card_visa`, as in the page's examples, with `fields`.
async fn example_payment_intent(api: &Api, fields: Value) -> String {
    let mut all = json!({"PaymentMethod": "pm_card_visa", "Currency": "usd", "Amount": 33000});
    let all_fields = all.as_object_mut().expect("an object");
    all_fields.extend(fields.as_object().expect("fields").clone());
    let pi = api.create("PaymentIntent", all).await;
    assert!(pi.starts_with("pi_"), "{pi}");
    pi
}

#[tokio::test]
async fn confirm_payment_intent_with_return_url() {
    let (_fake, _node, api) = fake_and_node();
    let pi = example_payment_intent(&api, json!({"CaptureMethod": "automatic"})).await;
    let body = replay_example(
        &api,
        "ConfirmPaymentIntent",
        json!({"ReturnUrl": "http://google.com/", "PaymentIntentId": pi}),
        json!({
            "Success": "true", "id": "pi_3OggwFANHgX3SHp71AVrNtT3", "object": "payment_intent",
            "amount": "33000", "amount_capturable": "0", "amount_received": "33000",
            "canceled_at": null, "cancellation_reason": null, "capture_method": "automatic",
            "client_secret": "pi_3OggwFANHgX3SHp71AVrNtT3_secret_YEfjrYL5uHQZrGCx66cJbedlA",
            "confirmation_method": "automatic", "created": "1707196279", "currency": "usd",
            "invoice": null, "last_payment_error": null,
            "latest_charge": "ch_3OggwFANHgX3SHp71uYScRAw", "level3": null, "livemode": "false",
            "next_action": null, "on_behalf_of": null, "payment_method": "pm_1Oggu6ANHgX3SHp7zaRNKNVL",
            "payment_method_configuration_details": null,
            "payment_method_options.card.installments": null, "review": null,
            "setup_future_usage": null, "statement_descriptor_suffix": null, "status": "succeeded",
            "transfer_data": null, "transfer_group": null
        }),
    )
    .await;
    let r = &body["results"][0];
    assert_eq!(r["id"], pi.as_str());
    assert_eq!(r["status"], "succeeded");
    assert_eq!(r["amount_received"], "33000");
}

/// A customer's manual-capture PaymentIntent of 33000, as in the page's example, and the confirm answer.
async fn confirmed_manual_capture_intent(api: &Api) -> (String, (u16, Value)) {
    let customer = api.create("Customer", json!({"Name": "Example"})).await;
    let manual = json!({"CaptureMethod": "manual", "Customer": customer});
    let pi = example_payment_intent(api, manual).await;
    let confirmed = api
        .execute("ConfirmPaymentIntent", json!({"PaymentIntentId": pi}))
        .await;
    (pi, confirmed)
}

#[tokio::test]
async fn capture_payment_intent() {
    let (_fake, _node, api) = fake_and_node();
    let (pi, (status, body)) = confirmed_manual_capture_intent(&api).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["status"], "requires_capture");
    replay_example(
        &api,
        "CapturePaymentIntent",
        json!({"PaymentIntentId": pi}),
        json!({
            "Success": "true", "id": "pi_3Ogh4sANHgX3SHp72YB0YotA", "object": "payment_intent",
            "amount": "33000", "amount_capturable": "0", "amount_received": "33000",
            "canceled_at": null, "cancellation_reason": null, "capture_method": "manual",
            "client_secret": "pi_3Ogh4sANHgX3SHp72YB0YotA_secret_jgqc0olEAOTcurQSDeQThJa3X",
            "confirmation_method": "automatic", "created": "1707196814", "currency": "usd",
            "customer": "cus_Okyi4e7t7BImUL", "description": null, "invoice": null,
            "last_payment_error": null, "latest_charge": "ch_3Ogh4sANHgX3SHp72uGBS7g4",
            "level3": null, "livemode": "false", "next_action": null, "on_behalf_of": null,
            "payment_method": "pm_1Ogh4FANHgX3SHp7GBJJvfGR",
            "payment_method_configuration_details": null,
            "payment_method_options.card.installments": null, "payment_method_types": null,
            "processing": null, "receipt_email": null, "review": null,
            "statement_descriptor_suffix": null, "status": "succeeded", "transfer_data": null,
            "transfer_group": null
        }),
    )
    .await;
}

#[tokio::test]
async fn cancel_payment_intent() {
    let (_fake, _node, api) = fake_and_node();
    let (pi, _) = confirmed_manual_capture_intent(&api).await;
    replay_example(
        &api,
        "CancelPaymentIntent",
        json!({"PaymentIntentId": pi}),
        json!({
            "Success": "true", "id": "pi_3Ogh7HANHgX3SHp738skMdSQ", "object": "payment_intent",
            "amount": "33000", "amount_capturable": "0", "amount_received": "0",
            "canceled_at": "1707197160", "cancellation_reason": null, "capture_method": "manual",
            "client_secret": "pi_3Ogh7HANHgX3SHp738skMdSQ_secret_NqQsBexbdyk19ETdMnpQXF19j",
            "confirmation_method": "automatic", "created": "1707196963", "currency": "usd",
            "customer": "cus_Okyi4e7t7BImUL", "description": null, "invoice": null,
            "last_payment_error": null, "latest_charge": "ch_3Ogh7HANHgX3SHp73LJMZiy5",
            "level3": null, "livemode": "false", "next_action": null, "on_behalf_of": null,
            "payment_method": "pm_1Ogh75ANHgX3SHp79MNT6IHs",
            "payment_method_configuration_details": null, "receipt_email": null, "review": null,
            "setup_future_usage": null, "shipping": null, "status": "canceled",
            "transfer_data": null, "transfer_group": null
        }),
    )
    .await;
}

#[tokio::test]
async fn attach_and_detach_payment_method() {
    let (_fake, _node, api) = fake_and_node();
    let customer = api
        .create("Customer", json!({"Email": "example@example.com"}))
        .await;
    let pm = test_card(&api).await;
    let attach = json!({"PaymentMethodId": pm, "CustomerId": customer});
    run_action_with_no_output(&api, "AttachPaymentMethodToCustomer", attach).await;
    let got = get_fields(&api, "PaymentMethod", &pm).await;
    assert_eq!(got["Customer"], customer.as_str());

    let detach = json!({"PaymentMethodId": pm});
    run_action_with_no_output(&api, "DetachPaymentMethodFromCustomer", detach).await;
    let got = get_fields(&api, "PaymentMethod", &pm).await;
    assert_eq!(got["Customer"], Value::Null);
}

#[tokio::test]
async fn finalize_invoice() {
    let (_fake, _node, api) = fake_and_node();
    let customer = api.create("Customer", json!({"Name": "Example"})).await;
    let invoice = api.create("Invoice", json!({"Customer": customer})).await;
    let body = replay_example(
        &api,
        "FinalizeInvoice",
        json!({"InvoiceId": invoice}),
        json!({
            "Success": "true", "id": "in_1OhnXRANHgX3SHp73ufStlXy", "object": "invoice",
            "account_country": "US", "account_name": "ZBTA_US_SAPDPA_TestAccount",
            "billing_reason": "manual", "charge": null,
            "collection_method": "charge_automatically", "created": "1707459976",
            "currency": "usd", "discounts": null, "due_date": null, "effective_at": "1707460034",
            "ending_balance": "0", "footer": null, "lines.data": null, "lines.has_more": "false",
            "lines.total_count": "0", "livemode": "false", "next_payment_attempt": null,
            "number": "F3C0E263-0004", "on_behalf_of": null, "paid": "true",
            "paid_out_of_band": "false", "payment_intent": null
        }),
    )
    .await;
    assert_eq!(body["results"][0]["id"], invoice.as_str());
}

async fn draft_quote(api: &Api) -> String {
    let customer = api.create("Customer", json!({"Name": "Example"})).await;
    api.create(
        "Quote",
        json!({"Customer": customer, "LineItems": [{"price": "price_example", "quantity": 2}]}),
    )
    .await
}

#[tokio::test]
async fn finalize_accept_and_cancel_quotes() {
    let (_fake, _node, api) = fake_and_node();
    let quote = draft_quote(&api).await;
    run_action_with_no_output(&api, "FinalizeQuote", json!({"QuoteId": quote})).await;

    let (status, body) = api.execute("AcceptQuote", json!({"QuoteId": quote})).await;
    assert_eq!(status, 200, "{body}");
    let result = body["results"][0].as_object().expect("one result");
    assert_eq!(result.keys().collect::<Vec<_>>(), ["InvoiceId", "Success"]);
    assert_eq!(result["Success"], "true");
    let invoice = result["InvoiceId"].as_str().expect("InvoiceId is a string");
    assert!(invoice.starts_with("in_"), "{invoice}");
    get_fields(&api, "Invoice", invoice).await;
    let got = get_fields(&api, "Quote", &quote).await;
    assert_eq!(got["Status"], "accepted");
    assert_eq!(got["Invoice"], invoice);

    let other = draft_quote(&api).await;
    run_action_with_no_output(&api, "CancelQuote", json!({"QuoteId": other})).await;
    assert_eq!(
        get_fields(&api, "Quote", &other).await["Status"],
        "canceled"
    );
}

#[tokio::test]
async fn entity_examples_list_get_create_update_delete() {
    let (_fake, _node, api) = fake_and_node();
    // Create PaymentIntent with the page's payload (Amount as 1500.0) -> {"Id": ...}.
    let (status, body) = api
        .post(
            "/v2/entityTypes/PaymentIntent/entities",
            &json!({"PaymentMethod": "pm_1OXN5YANHgX3SHp7Q5Y0rb39", "Currency": "usd", "Amount": 1500.0}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // The Entity answered carries the connector's output payload {"Id": ...} as its fields.
    let obj = body["fields"].as_object().expect("fields");
    assert_eq!(obj.keys().collect::<Vec<_>>(), ["Id"]);
    let pi = body["fields"]["Id"].as_str().unwrap();
    assert!(
        body["name"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/entityTypes/PaymentIntent/entities/{pi}")),
        "{body}"
    );
    let got = get_fields(&api, "PaymentIntent", pi).await;
    assert_eq!(got["Amount"], 1500);
    assert_eq!(got["PaymentMethod"], "pm_1OXN5YANHgX3SHp7Q5Y0rb39");

    // List all customers.
    let customer = api.create("Customer", json!({"Name": "Jane"})).await;
    let (status, list) = api.get("/v2/entityTypes/Customer/entities").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["entities"][0]["fields"]["Id"], customer.as_str());

    // Get the customer record.
    assert_eq!(
        get_fields(&api, "Customer", &customer).await["Name"],
        "Jane"
    );

    // Update {"Name": "John"} -> {"Id": ...}.
    let body = update(&api, "Customer", &customer, json!({"Name": "John"})).await;
    assert_eq!(body["fields"], json!({"Id": customer}));
    assert_eq!(
        get_fields(&api, "Customer", &customer).await["Name"],
        "John"
    );

    // Delete.
    delete(&api, "Customer", &customer).await;
    // Stripe answers 200 with a tombstone for a deleted customer; the node says NOT_FOUND.
    let (status, body) = api.get(&entity_path("Customer", &customer)).await;
    e2e::assert_error_mentions(status, &body, 404, "NOT_FOUND", "was deleted");
}
