//! `POST .../actions/{action}:execute`: ExecuteActionRequest `{"parameters": {...},
//! "executionConfig"?}` -> ExecuteActionResponse `{"results": [...]}`.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use http::Method;
use serde_json::{Map, Value, json};

use super::extract::{JsonBody, Target, check_execution_headers};
use super::metadata::find_action;
use super::payload::{self, check_type, flatten};
use super::{admit, idempotency_key};
use crate::access::Caller;
use crate::audit::{self, Origin};
use crate::catalog::{Action, Output, ParamTarget};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::stripe::StripeRequest;

/// `.../actions/{action}:execute`; other verbs are not routes of the document.
pub async fn execute(
    State(state): State<AppState>,
    caller: Caller,
    target: Target,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    let action = find_action(target.executed("action", "actions")?)?;
    let parameters = request_parameters(&body)?;
    let request = build_request(action, &parameters)?;
    let key = idempotency_key(&headers)?;
    admit(&state).await?;
    let origin = Origin::new(&caller, "actions.execute");
    run(&state, origin, action, &parameters, request, key)
        .await
        .map(Json)
}

/// The `parameters` of an ExecuteActionRequest (or ExecuteToolRequest) body.
pub fn request_parameters(body: &Value) -> ApiResult<Map<String, Value>> {
    let Some(object) = body.as_object() else {
        return Err(ApiError::invalid("body", "must be {\"parameters\": {...}}"));
    };
    for (key, value) in object {
        match key.as_str() {
            "parameters" => {}
            "executionConfig" => check_execution_config(value)?,
            _ => {
                return Err(ApiError::invalid(
                    key.clone(),
                    "unknown top-level key; the body is {\"parameters\": {...}}",
                ));
            }
        }
    }
    match object.get("parameters") {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(p)) => Ok(p.clone()),
        Some(_) => Err(ApiError::invalid(
            "parameters",
            "must be a JSON object of the action's input parameters",
        )),
    }
}

/// ExecutionConfig `{"headers": "<JSON object as a string>"}`.
pub fn check_execution_config(value: &Value) -> ApiResult<()> {
    match value {
        Value::Null => Ok(()),
        Value::Object(config) => {
            for (key, v) in config {
                match (key.as_str(), v) {
                    ("headers", Value::String(text)) => {
                        check_execution_headers("executionConfig.headers", text)?
                    }
                    ("headers", Value::Null) => {}
                    ("headers", _) => {
                        return Err(ApiError::invalid(
                            "executionConfig.headers",
                            "must be a string holding a JSON object",
                        ));
                    }
                    _ => {
                        return Err(ApiError::invalid(
                            format!("executionConfig.{key}"),
                            "unknown key; ExecutionConfig has headers",
                        ));
                    }
                }
            }
            Ok(())
        }
        _ => Err(ApiError::invalid(
            "executionConfig",
            "must be an ExecutionConfig object",
        )),
    }
}

/// Runs the action's Stripe call, with its audit line: ExecuteActionResponse.
pub async fn run(
    state: &AppState,
    origin: Origin<'_>,
    action: &Action,
    parameters: &Map<String, Value>,
    mut request: StripeRequest,
    key: Option<String>,
) -> ApiResult<Value> {
    if request.method == Method::POST {
        request.idempotency_key = Some(super::write_key(key));
    }
    let answer = state.stripe.call(request.clone()).await;
    let id = object_id(action, parameters);
    audit::Write {
        action: Some(action.name),
        object_id: id.as_deref(),
        idempotency_key: request.idempotency_key.as_deref(),
        ..audit::Write::default()
    }
    .record(origin, answer.as_ref().map(|_| ()));
    Ok(json!({"results": [result(action, &answer?)]}))
}

/// The id of the object an action works on (its path parameter).
fn object_id(action: &Action, parameters: &Map<String, Value>) -> Option<String> {
    let param = action
        .params
        .iter()
        .find(|p| matches!(p.target, ParamTarget::Path))?;
    parameters.get(param.name).map(payload::scalar_text)
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
        check_type(param.name, "", param.data_type, value)?;
        let text = payload::scalar_text(value);
        match param.target {
            ParamTarget::Path => id = Some(payload::id_segment(param.name, &text)?),
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

/// The result object of an action, as Integration Connectors' Stripe connector returns it.
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
    fn confirm_takes_the_documented_parameters() {
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
        assert_eq!(e.field(), Some("CustomerId"));
        let e = build_request(
            a,
            &params(json!({"PaymentMethodId": "pm_1", "CustomerId": "c", "X": 1})),
        )
        .unwrap_err();
        assert_eq!(e.field(), Some("X"));
        let e = build_request(a, &params(json!({"PaymentMethodId": 5, "CustomerId": "c"})))
            .unwrap_err();
        assert_eq!(e.field(), Some("PaymentMethodId"));
    }

    #[test]
    fn results_have_the_documented_shapes() {
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
