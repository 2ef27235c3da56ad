//! The Stripe exchange log: what each HTTP exchange with Stripe logs at verbosity 1..5. Every value
//! passes through the redaction module; see docs/proxy-and-logging.md for the table.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method};
use serde_json::{Map, Value, json};

use super::StripeRequest;
use super::transport::{Received, TransportError};
use crate::config::Verbosity;
use crate::redact;

/// Bodies are cut to this many characters below verbosity 5.
const BODY_LIMIT: usize = 2048;

pub struct Exchange<'a> {
    pub verbosity: Verbosity,
    pub request: &'a StripeRequest,
    pub url: &'a str,
    pub headers: &'a HeaderMap,
    pub attempt: usize,
    pub latency: Duration,
}

impl Exchange<'_> {
    /// Logs one exchange: an answer from Stripe, or why there was none.
    pub fn log(&self, outcome: Result<&Received, &TransportError>) {
        // Nothing to build when the level filter drops the event (the operator's default `error`).
        if !tracing::enabled!(target: "stripe", tracing::Level::INFO) {
            return;
        }
        let operation = operation(&self.request.path);
        let method = self.request.method.as_str();
        let latency_ms = self.latency.as_secs_f64() * 1000.0;
        let status = match outcome {
            Ok(r) => r.status.to_string(),
            Err(e) => serde_json::to_value(e.to_api_error().code())
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
        };
        let error = outcome.err().map(|e| redact::redact_text(&e.to_string()));
        if !self.verbosity.logs_headers() {
            tracing::info!(target: "stripe", operation, method, status, latency_ms,
                attempt = self.attempt, error, "stripe call");
            return;
        }
        let request = redact::redact_text(&self.request_detail().to_string());
        let response = redact::redact_text(&self.response_detail(outcome).to_string());
        tracing::info!(target: "stripe", operation, method, status, latency_ms,
            attempt = self.attempt, error, request, response, "stripe call");
    }

    fn request_detail(&self) -> Value {
        let mut detail = Map::new();
        detail.insert(
            "line".into(),
            json!(format!("{} {} HTTP/1.1", self.request.method, self.url)),
        );
        detail.insert("headers".into(), headers(self.headers));
        if self.verbosity.logs_bodies() && self.request.method == Method::POST {
            let form: Map<String, Value> = redact::form_params(&self.request.params)
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            detail.insert("body".into(), Value::Object(form));
        }
        Value::Object(detail)
    }

    fn response_detail(&self, outcome: Result<&Received, &TransportError>) -> Value {
        let Ok(received) = outcome else {
            return Value::Null;
        };
        let mut detail = Map::new();
        detail.insert("headers".into(), headers(&received.headers));
        if self.verbosity.logs_bodies() {
            detail.insert("body".into(), self.body(&received.body));
        }
        if self.verbosity.logs_transport()
            && let Some(c) = &received.connection
        {
            detail.insert(
                "connection".into(),
                json!({"id": c.id, "reused": c.reused > 0, "earlier_requests": c.reused}),
            );
        }
        Value::Object(detail)
    }

    fn body(&self, body: &Bytes) -> Value {
        let value = match serde_json::from_slice::<Value>(body) {
            Ok(v) => redact::json_body(&v),
            Err(_) => Value::String(redact::redact_text(&String::from_utf8_lossy(body))),
        };
        if self.verbosity.logs_whole_bodies() {
            return value;
        }
        let text = value.to_string();
        if text.len() <= BODY_LIMIT {
            return value;
        }
        let cut = (0..=BODY_LIMIT)
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        Value::String(format!(
            "{}... ({} more bytes; verbosity 5 logs whole bodies)",
            &text[..cut],
            text.len() - cut
        ))
    }
}

fn headers(headers: &HeaderMap) -> Value {
    let map: Map<String, Value> = headers
        .iter()
        .map(|(name, value)| {
            let value =
                redact::header_value(name.as_str(), &String::from_utf8_lossy(value.as_bytes()));
            (name.as_str().to_string(), Value::String(value))
        })
        .collect();
    Value::Object(map)
}

/// The entity or action a path addresses, without object ids:
/// `/v1/payment_intents/pi_123/confirm` -> `payment_intents.confirm`.
pub fn operation(path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    path.trim_start_matches("/v1/")
        .split('/')
        .filter(|s| !s.is_empty() && !looks_like_id(s))
        .collect::<Vec<_>>()
        .join(".")
}

fn looks_like_id(segment: &str) -> bool {
    segment.split_once('_').is_some_and(|(prefix, rest)| {
        prefix.len() <= 8
            && !rest.is_empty()
            && rest
                .chars()
                .any(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// The exchange log of one call at `verbosity`, as JSON lines.
    fn logged(verbosity: u8, response_body: &str) -> Value {
        #[derive(Clone, Default)]
        struct Buffer(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buffer {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_writer(move || writer.clone())
            .finish();
        let request = StripeRequest::post(
            "/v1/payment_intents",
            vec![
                ("amount".into(), "2000".into()),
                ("client_secret".into(), "x".into()),
            ],
        );
        let mut headers = HeaderMap::new();
        headers.insert("authorization", "Bearer sk_test_unit".parse().unwrap());
        headers.insert("stripe-version", "2023-08-16".parse().unwrap());
        let received = Received {
            status: 200,
            headers: HeaderMap::new(),
            body: Bytes::from(response_body.to_string()),
            connection: None,
        };
        tracing::subscriber::with_default(subscriber, || {
            Exchange {
                verbosity: Verbosity::new(verbosity),
                request: &request,
                url: "https://api.stripe.com/v1/payment_intents",
                headers: &headers,
                attempt: 1,
                latency: Duration::from_millis(3),
            }
            .log(Ok(&received));
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        serde_json::from_str::<Value>(text.trim()).unwrap()["fields"].clone()
    }

    #[test]
    fn each_verbosity_adds_its_content_and_never_secrets() {
        let body = r#"{"id":"pi_1","amount":2000,"client_secret":"pi_1_secret_abc"}"#;
        let one = logged(1, body);
        assert_eq!(one["operation"], "payment_intents");
        assert_eq!(one["status"], "200");
        assert!(
            one["latency_ms"].is_number() && one.get("request").is_none(),
            "{one}"
        );

        let two: Value =
            serde_json::from_str(logged(2, body)["request"].as_str().unwrap()).unwrap();
        assert_eq!(
            two["line"],
            "POST https://api.stripe.com/v1/payment_intents HTTP/1.1"
        );
        assert_eq!(two["headers"]["authorization"], redact::REDACTED);
        assert_eq!(two["headers"]["stripe-version"], "2023-08-16");
        assert!(two.get("body").is_none(), "{two}");

        let three = logged(3, body);
        let request: Value = serde_json::from_str(three["request"].as_str().unwrap()).unwrap();
        let response: Value = serde_json::from_str(three["response"].as_str().unwrap()).unwrap();
        assert_eq!(request["body"]["amount"], "2000");
        assert_eq!(request["body"]["client_secret"], redact::REDACTED);
        assert_eq!(response["body"]["amount"], 2000);
        assert_eq!(response["body"]["client_secret"], redact::REDACTED);

        // Long bodies are cut below verbosity 5 and whole at 5.
        let long = format!(r#"{{"description":"{}"}}"#, "d".repeat(5000));
        let cut = logged(4, &long)["response"].as_str().unwrap().to_string();
        assert!(
            cut.contains("more bytes; verbosity 5 logs whole bodies"),
            "{cut}"
        );
        let whole = logged(5, &long)["response"].as_str().unwrap().to_string();
        assert!(whole.contains(&"d".repeat(5000)) && !whole.contains("more bytes"));
    }

    #[test]
    fn operations_name_the_entity_or_action() {
        assert_eq!(operation("/v1/customers"), "customers");
        assert_eq!(operation("/v1/customers/cus_N1x"), "customers");
        assert_eq!(
            operation("/v1/payment_intents/pi_3Nabc/confirm"),
            "payment_intents.confirm"
        );
        assert_eq!(operation("/v1/quotes/qt_1/finalize"), "quotes.finalize");
        assert_eq!(operation("/v1/checkout/sessions"), "checkout.sessions");
    }
}
