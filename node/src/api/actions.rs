//! `POST /v2/actions/{action}:execute` with `{"parameters": {...}}` -> `{"results": [...]}`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use http::Method;
use serde_json::{Map, Value, json};

use super::metadata::find_action;
use super::payload::{self, flatten};
use super::{idempotency_key, json_body};
use crate::catalog::{Action, DataType, Output, Param, ParamTarget};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::stripe::StripeRequest;

pub async fn execute(
    State(state): State<AppState>,
    Path(action_and_verb): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let Some(name) = action_and_verb.strip_suffix(":execute") else {
        return Err(ApiError::not_found(format!(
            "POST /v2/actions/{action_and_verb}: use POST /v2/actions/{{action}}:execute"
        )));
    };
    let action = find_action(name)?;
    let body = json_body(&body)?;
    let parameters = match body.get("parameters") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(p)) => p.clone(),
        Some(_) => {
            return Err(ApiError::invalid(
                "parameters",
                "must be a JSON object of the action's input parameters",
            ));
        }
    };
    if let Some(extra) = body
        .as_object()
        .and_then(|b| b.keys().find(|k| *k != "parameters"))
    {
        return Err(ApiError::invalid(
            extra.clone(),
            "unknown top-level key; the body is {\"parameters\": {...}}",
        ));
    }
    let request =
        build_request(action, &parameters)?.with_idempotency_key(idempotency_key(&headers)?);
    let object = state.stripe.call(request).await?;
    Ok(Json(json!({"results": [result(action, &object)]})))
}

/// The Stripe call for an action, checking every parameter against its declaration.
pub fn build_request(action: &Action, parameters: &Map<String, Value>) -> ApiResult<StripeRequest> {
    if let Some(unknown) = parameters.keys().find(|k| action.param(k).is_none()) {
        let known: Vec<&str> = action.params.iter().map(|p| p.name).collect();
        return Err(ApiError::invalid(
            unknown.clone(),
            format!(
                "unknown parameter of {}; parameters: {}",
                action.name,
                known.join(", ")
            ),
        ));
    }
    let mut id = None;
    let mut form = Vec::new();
    for param in action.params {
        let value = parameters.get(param.name).filter(|v| !v.is_null());
        let Some(value) = value else {
            if param.required {
                return Err(ApiError::invalid(
                    param.name,
                    format!("is required by {}", action.name),
                ));
            }
            continue;
        };
        let text = scalar(param, value)?;
        match param.target {
            ParamTarget::Path => {
                if text.is_empty() || text.contains(['/', '?', '#']) {
                    return Err(ApiError::invalid(
                        param.name,
                        "is not a valid Stripe object id",
                    ));
                }
                id = Some(text);
            }
            ParamTarget::Form(key) => payload::encode(key, &Value::String(text), &mut form),
        }
    }
    let path = action.path.replace("{}", &id.unwrap_or_default());
    let method = match action.method {
        "DELETE" => Method::DELETE,
        "GET" => Method::GET,
        _ => Method::POST,
    };
    let mut request = StripeRequest::new(method, path);
    request.params = form;
    Ok(request)
}

fn scalar(param: &Param, value: &Value) -> ApiResult<String> {
    let text = match (param.data_type, value) {
        (DataType::String, Value::String(s)) => Some(s.clone()),
        (DataType::Boolean, Value::Bool(b)) => Some(b.to_string()),
        // Integration clients often send booleans as strings.
        (DataType::Boolean, Value::String(s)) if s == "true" || s == "false" => Some(s.clone()),
        (DataType::Integer, v) => v
            .as_i64()
            .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .map(|i| i.to_string()),
        _ => None,
    };
    text.ok_or_else(|| {
        let expected = match param.data_type {
            DataType::Boolean => "true or false",
            DataType::Integer => "an integer",
            _ => "a string",
        };
        ApiError::invalid(param.name, format!("expected {expected}, got {value}"))
    })
}

/// The seed's result object for an action's Stripe response.
pub fn result(action: &Action, object: &Value) -> Value {
    match action.output {
        Output::SuccessOnly => json!({"Success": "true"}),
        Output::InvoiceId => json!({"InvoiceId": object["invoice"], "Success": "true"}),
        Output::Object => {
            let mut out = Map::new();
            out.insert("Success".into(), json!("true"));
            out.extend(flatten(object));
            Value::Object(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::action;

    fn params(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn confirm_takes_the_seed_s_parameters() {
        let a = action("ConfirmPaymentIntent").unwrap();
        let r = build_request(
            a,
            &params(json!({"ReturnUrl": "http://google.com/", "PaymentIntentId": "pi_3"})),
        )
        .unwrap();
        assert_eq!(r.method, Method::POST);
        assert_eq!(r.path, "/v1/payment_intents/pi_3/confirm");
        assert_eq!(
            r.params,
            [("return_url".to_string(), "http://google.com/".to_string())]
        );
    }

    #[test]
    fn missing_unknown_and_mistyped_parameters_are_named() {
        let a = action("AttachPaymentMethodToCustomer").unwrap();
        let e = build_request(a, &params(json!({"PaymentMethodId": "pm_1"}))).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("CustomerId"));
        let e = build_request(
            a,
            &params(json!({"PaymentMethodId": "pm_1", "CustomerId": "c", "X": 1})),
        )
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("X"));
        let e = build_request(a, &params(json!({"PaymentMethodId": 5, "CustomerId": "c"})))
            .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("PaymentMethodId"));
    }

    #[test]
    fn results_have_the_seed_s_shapes() {
        let quote = json!({"id": "qt_1", "invoice": "in_1", "status": "accepted"});
        assert_eq!(
            result(action("AcceptQuote").unwrap(), &quote),
            json!({"InvoiceId": "in_1", "Success": "true"})
        );
        assert_eq!(
            result(action("CancelQuote").unwrap(), &quote),
            json!({"Success": "true"})
        );
        let pi = json!({"id": "pi_1", "amount": 33000, "canceled_at": null});
        let r = result(action("CancelPaymentIntent").unwrap(), &pi);
        assert_eq!(
            r,
            json!({"Success": "true", "id": "pi_1", "amount": "33000", "canceled_at": null})
        );
        assert_eq!(r.as_object().unwrap().keys().next().unwrap(), "Success");
    }
}
