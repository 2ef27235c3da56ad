//! Translation between the API's PascalCase fields and Stripe's objects and form parameters.

use serde_json::{Map, Value};

use crate::catalog::{DataType, Entity, Field};
use crate::error::{ApiError, ApiResult};

/// Whether a write creates or changes an object (null clears a field only on update).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    Create,
    Update,
}

/// The Stripe form name of a field: dotted paths in bracket notation, and an expandable
/// reference (`coupon.id`) written as its parent (`coupon`).
pub fn form_key(field: &Field) -> String {
    let path = field.path.strip_suffix(".id").unwrap_or(field.path);
    let mut parts = path.split('.');
    let mut key = parts.next().unwrap_or_default().to_string();
    for p in parts {
        key.push('[');
        key.push_str(p);
        key.push(']');
    }
    key
}

/// A JSON body of PascalCase fields as Stripe form parameters. Unknown and read-only fields and
/// values of the wrong type are errors naming the field.
pub fn to_form(entity: &Entity, body: &Value, write: Write) -> ApiResult<Vec<(String, String)>> {
    let Some(fields) = body.as_object() else {
        return Err(ApiError::invalid(
            "body",
            "must be a JSON object of entity fields",
        ));
    };
    let mut params = Vec::new();
    for (name, value) in fields {
        let field = entity.field(name).ok_or_else(|| {
            let writable: Vec<&str> = entity
                .fields
                .iter()
                .filter(|f| !f.read_only)
                .map(|f| f.name)
                .collect();
            ApiError::invalid(
                name,
                format!(
                    "unknown field of {}; writable fields: {}",
                    entity.name,
                    writable.join(", ")
                ),
            )
        })?;
        if field.read_only {
            return Err(ApiError::invalid(
                name,
                format!("is read-only on {}", entity.name),
            ));
        }
        if field.create_only && write == Write::Update {
            return Err(ApiError::invalid(
                name,
                format!(
                    "is set on create of {} only; Stripe's update does not take it",
                    entity.name
                ),
            ));
        }
        let key = form_key(field);
        if value.is_null() {
            if write == Write::Update {
                // Stripe clears a field sent as an empty string.
                params.push((key, String::new()));
            }
            continue;
        }
        check_type(field.name, field.path, field.data_type, value)?;
        encode(&key, value, &mut params);
    }
    Ok(params)
}

/// The one typing rule for every value written to Stripe, entity fields and action parameters
/// alike: the value has the declared JSON type, or is a string holding a value of that type
/// (integration clients often send `"true"` or `"42"`); integers may be written as whole floats
/// (`1500.0`). `Metadata` (Stripe path `metadata`) holds strings only.
pub fn check_type(name: &str, path: &str, data_type: DataType, value: &Value) -> ApiResult<()> {
    let text = value.as_str().map(str::trim);
    let ok = match data_type {
        DataType::String => value.is_string(),
        DataType::Integer | DataType::Timestamp => {
            as_integer(value).is_some() || text.is_some_and(|t| t.parse::<i64>().is_ok())
        }
        DataType::Decimal => {
            value.is_number() || text.is_some_and(|t| t.parse::<f64>().is_ok_and(f64::is_finite))
        }
        DataType::Boolean => value.is_boolean() || matches!(text, Some("true" | "false")),
        DataType::Object => value.as_object().is_some_and(|m| {
            // Metadata holds strings; nested objects may nest further.
            path != "metadata" || m.values().all(|v| !v.is_object() && !v.is_array())
        }),
        DataType::Array => value.is_array(),
    };
    if ok {
        return Ok(());
    }
    let expected = match data_type {
        DataType::String => "a string",
        DataType::Integer => "an integer",
        DataType::Timestamp => "an integer (Unix seconds)",
        DataType::Decimal => "a number",
        DataType::Boolean => "true or false",
        DataType::Object if path == "metadata" => {
            "an object of string values, e.g. {\"order\": \"6735\"}"
        }
        DataType::Object => "a JSON object",
        DataType::Array => "a JSON array",
    };
    Err(ApiError::invalid(
        name,
        format!("expected {expected}, got {value}"),
    ))
}

/// Integers, also when written as a whole float (`1500.0`, as the connector's documentation does).
fn as_integer(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
            .map(|f| f as i64)
    })
}

/// Longest object id the node sends to Stripe.
pub const MAX_ID_LEN: usize = 255;

/// A Stripe object id as one path segment. Stripe's ids (`cus_NffrFeUfNV2Hib`) and the ids a
/// caller may choose (coupons, products) are letters, digits, `_` and `-`: only those pass, so
/// no id can change the path (`..`, `/`, `%2F`) or carry a control character. `field` names it
/// in errors, which never quote the id.
pub fn id_segment(field: &str, id: &str) -> ApiResult<String> {
    let id = id.trim();
    let ok = !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !ok {
        return Err(ApiError::invalid(
            field,
            format!(
                "is not a Stripe object id: ids are 1 to {MAX_ID_LEN} letters, digits, '_' or '-'"
            ),
        ));
    }
    Ok(id.to_string())
}

/// A scalar as a form value: strings as written (trimmed), whole floats as integers.
pub fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.trim().to_string(),
        Value::Number(_) => as_integer(value).map_or_else(|| value.to_string(), |i| i.to_string()),
        other => other.to_string(),
    }
}

/// Stripe's bracket notation: `metadata[k]=v`, `items[0][price]=p`.
pub fn encode(key: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                encode(&format!("{key}[{k}]"), v, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                encode(&format!("{key}[{i}]"), v, out);
            }
        }
        Value::Null => out.push((key.to_string(), String::new())),
        Value::String(s) => out.push((key.to_string(), s.clone())),
        Value::Number(_) | Value::Bool(_) => out.push((key.to_string(), scalar_text(value))),
    }
}

/// The value at a dotted path of a Stripe object (null when absent).
pub fn at_path<'a>(object: &'a Value, path: &str) -> &'a Value {
    path.split('.')
        .fold(object, |v, p| v.get(p).unwrap_or(&Value::Null))
}

/// A Stripe object as the entity's PascalCase fields, typed as the catalog declares them.
pub fn to_fields(entity: &Entity, object: &Value) -> Map<String, Value> {
    entity
        .fields
        .iter()
        .map(|f| (f.name.to_string(), typed(f, at_path(object, f.path))))
        .collect()
}

/// Scalars in the declared type, also when a Stripe peer sent them as strings.
fn typed(field: &Field, value: &Value) -> Value {
    let Some(text) = value.as_str() else {
        return value.clone();
    };
    let converted = match field.data_type {
        DataType::Boolean => text.parse::<bool>().ok().map(Value::from),
        DataType::Integer | DataType::Timestamp => text.parse::<i64>().ok().map(Value::from),
        DataType::Decimal => text.parse::<f64>().ok().map(Value::from),
        _ => None,
    };
    converted.unwrap_or_else(|| value.clone())
}

/// The field whose Stripe form name is `param`, to name Stripe's errors in the API's terms.
pub fn field_for_param(entity: &Entity, param: &str) -> Option<&'static str> {
    let top = param.split('[').next().unwrap_or(param);
    entity
        .fields
        .iter()
        .find(|f| form_key(f) == param)
        .or_else(|| entity.fields.iter().find(|f| form_key(f) == top))
        .map(|f| f.name)
}

/// A Stripe object flattened the way Integration Connectors' Stripe connector returns action
/// results: dotted keys for nested objects, scalars as strings, nulls as null. Empty objects and
/// empty arrays are null (its `"lines.data": null`, `"discounts": null`); other arrays are kept
/// as compact JSON text so no data is lost.
pub fn flatten(object: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    flatten_into(None, object, &mut out);
    out
}

fn flatten_into(prefix: Option<&str>, value: &Value, out: &mut Map<String, Value>) {
    let name = prefix.unwrap_or_default().to_string();
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let key = match prefix {
                    Some(p) => format!("{p}.{k}"),
                    None => k.clone(),
                };
                flatten_into(Some(&key), v, out);
            }
        }
        Value::Object(_) | Value::Null => {
            out.insert(name, Value::Null);
        }
        Value::Array(items) if items.is_empty() => {
            out.insert(name, Value::Null);
        }
        Value::Array(_) => {
            out.insert(name, Value::String(value.to_string()));
        }
        Value::String(s) => {
            out.insert(name, Value::String(s.clone()));
        }
        Value::Number(n) => {
            out.insert(name, Value::String(n.to_string()));
        }
        Value::Bool(b) => {
            out.insert(name, Value::String(b.to_string()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::entity;
    use serde_json::json;

    fn pairs(p: &[(String, String)]) -> Vec<(&str, &str)> {
        p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }

    #[test]
    fn a_create_only_field_is_refused_on_update_and_taken_on_create() {
        let price = entity("Price").unwrap();
        let body = json!({"UnitAmount": 1500, "Nickname": "launch"});
        let create = to_form(price, &body, Write::Create).unwrap();
        assert!(pairs(&create).contains(&("unit_amount", "1500")));
        let err = to_form(price, &body, Write::Update).unwrap_err();
        assert_eq!(err.field(), Some("UnitAmount"), "{err:?}");
        assert!(err.message().contains("on create of Price only"), "{err:?}");
        assert!(to_form(price, &json!({"Nickname": "renamed"}), Write::Update).is_ok());
    }

    #[test]
    fn ids_are_checked_against_stripe_s_alphabet() {
        for good in [
            "cus_NffrFeUfNV2Hib",
            "pi_3MtwBwLkdIwHu7ix28a3tqPa",
            "SUMMER-25",
            " cus_1 ",
        ] {
            assert_eq!(id_segment("id", good).unwrap(), good.trim(), "{good}");
        }
        let long = "c".repeat(MAX_ID_LEN + 1);
        for bad in [
            "",
            " ",
            ".",
            "..",
            "cus/1",
            "cus%2F1",
            "cus\nevil",
            "cus;x",
            "cus_é",
            "a b",
            &long,
        ] {
            let e = id_segment("CustomerId", bad).unwrap_err();
            assert_eq!(e.field(), Some("CustomerId"), "{bad:?}");
            assert!(
                !e.message().contains(bad) || bad.trim().is_empty(),
                "{bad:?} echoed"
            );
        }
    }

    #[test]
    fn the_documented_payment_intent_create_becomes_form_params() {
        let pi = entity("PaymentIntent").unwrap();
        let body = json!({"PaymentMethod": "pm_1", "Currency": "usd", "Amount": 1500.0});
        let params = to_form(pi, &body, Write::Create).unwrap();
        assert_eq!(
            pairs(&params),
            [
                ("payment_method", "pm_1"),
                ("currency", "usd"),
                ("amount", "1500")
            ]
        );
    }

    #[test]
    fn nested_fields_metadata_and_arrays_use_bracket_notation() {
        let customer = entity("Customer").unwrap();
        let body = json!({"AddressCity": "Berlin", "Metadata": {"order": "6735"}, "PreferredLocales": ["de", "en"]});
        let params = to_form(customer, &body, Write::Create).unwrap();
        assert_eq!(
            pairs(&params),
            [
                ("address[city]", "Berlin"),
                ("metadata[order]", "6735"),
                ("preferred_locales[0]", "de"),
                ("preferred_locales[1]", "en")
            ]
        );
        let sub = entity("Subscription").unwrap();
        let body = json!({"Customer": "cus_1", "Items": [{"price": "price_1", "quantity": 2}]});
        let params = to_form(sub, &body, Write::Create).unwrap();
        assert_eq!(
            pairs(&params),
            [
                ("customer", "cus_1"),
                ("items[0][price]", "price_1"),
                ("items[0][quantity]", "2")
            ]
        );
        let promo = entity("PromotionCode").unwrap();
        let params = to_form(promo, &json!({"Coupon": "SPRING"}), Write::Create).unwrap();
        assert_eq!(pairs(&params), [("coupon", "SPRING")]);
    }

    #[test]
    fn null_clears_on_update_only() {
        let customer = entity("Customer").unwrap();
        let body = json!({"Phone": null});
        assert!(to_form(customer, &body, Write::Create).unwrap().is_empty());
        assert_eq!(
            pairs(&to_form(customer, &body, Write::Update).unwrap()),
            [("phone", "")]
        );
    }

    #[test]
    fn bad_fields_are_errors_naming_the_field() {
        let customer = entity("Customer").unwrap();
        let unknown = to_form(customer, &json!({"Emial": "a@b.c"}), Write::Create).unwrap_err();
        assert_eq!(unknown.field(), Some("Emial"));
        assert!(
            unknown.message().contains("unknown field"),
            "{}",
            unknown.message()
        );
        let ro = to_form(customer, &json!({"Id": "cus_1"}), Write::Update).unwrap_err();
        assert_eq!(ro.field(), Some("Id"));
        assert!(ro.message().contains("read-only"));
        let ty = to_form(customer, &json!({"Balance": "ten"}), Write::Update).unwrap_err();
        assert_eq!(ty.field(), Some("Balance"));
        assert!(ty.message().contains("integer"));
        let fraction = to_form(customer, &json!({"Balance": 1.5}), Write::Update).unwrap_err();
        assert_eq!(fraction.field(), Some("Balance"));
        let meta = to_form(
            customer,
            &json!({"Metadata": {"a": {"b": 1}}}),
            Write::Update,
        )
        .unwrap_err();
        assert_eq!(meta.field(), Some("Metadata"));
        assert!(to_form(customer, &json!([1]), Write::Create).is_err());
    }

    #[test]
    fn stripe_objects_become_typed_fields() {
        let customer = entity("Customer").unwrap();
        let object = json!({"id": "cus_1", "email": "a@b.c", "balance": "5", "delinquent": "false", "address": {"city": "Berlin"}, "metadata": {"k": "v"}});
        let fields = to_fields(customer, &object);
        assert_eq!(fields["Id"], "cus_1");
        assert_eq!(fields["Balance"], 5);
        assert_eq!(fields["Delinquent"], false);
        assert_eq!(fields["AddressCity"], "Berlin");
        assert_eq!(fields["AddressLine1"], Value::Null);
        assert_eq!(fields["Metadata"], json!({"k": "v"}));
        assert_eq!(
            field_for_param(customer, "address[city]"),
            Some("AddressCity")
        );
        assert_eq!(field_for_param(customer, "metadata[x]"), Some("Metadata"));
    }

    #[test]
    fn flattening_follows_the_connector_s_action_results() {
        let object = json!({
            "id": "pi_1", "amount": 33000, "livemode": false, "canceled_at": null,
            "payment_method_options": {"card": {"installments": null}},
            "metadata": {}, "payment_method_types": ["card"], "discounts": [],
            "lines": {"data": [], "has_more": false, "total_count": 0}
        });
        let flat = flatten(&object);
        assert_eq!(flat["id"], "pi_1");
        assert_eq!(flat["amount"], "33000");
        assert_eq!(flat["livemode"], "false");
        assert_eq!(flat["canceled_at"], Value::Null);
        assert_eq!(
            flat["payment_method_options.card.installments"],
            Value::Null
        );
        assert_eq!(flat["metadata"], Value::Null);
        assert_eq!(flat["payment_method_types"], "[\"card\"]");
        assert_eq!(flat["discounts"], Value::Null);
        assert_eq!(flat["lines.data"], Value::Null);
        assert_eq!(flat["lines.has_more"], "false");
        assert_eq!(flat["lines.total_count"], "0");
        let keys: Vec<&String> = flat.keys().collect();
        assert_eq!(keys[0], "id", "Stripe's key order is kept");
    }
}

#[cfg(test)]
mod fuzz;
