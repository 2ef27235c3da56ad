use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use http::Method;
use serde_json::Value;

use super::{StripeApi, StripeRequest};
use crate::error::{ApiError, Code, StripeErrorDetail};

/// Stripe over HTTPS with reqwest (rustls, pooled connections).
pub struct HttpStripeClient {
    http: reqwest::Client,
    base_url: String,
    api_version: String,
    account_id: Option<String>,
    api_key_file: PathBuf,
}

impl HttpStripeClient {
    pub fn new(
        base_url: &str,
        api_version: &str,
        account_id: Option<String>,
        api_key_file: PathBuf,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(80))
            .pool_idle_timeout(Duration::from_secs(90))
            .build()?;
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            api_version: api_version.to_string(),
            account_id,
            api_key_file,
        })
    }

    fn api_key(&self) -> Result<String, ApiError> {
        std::fs::read_to_string(&self.api_key_file)
            .map(|k| k.trim().to_string())
            .map_err(|e| {
                ApiError::new(
                    Code::Internal,
                    format!(
                        "cannot read the API key file {}: {e}",
                        self.api_key_file.display()
                    ),
                )
            })
    }
}

#[async_trait]
impl StripeApi for HttpStripeClient {
    async fn call(&self, request: StripeRequest) -> Result<Value, ApiError> {
        let url = format!("{}{}", self.base_url, request.path);
        let mut builder = self
            .http
            .request(request.method.clone(), &url)
            .bearer_auth(self.api_key()?)
            .header("Stripe-Version", &self.api_version);
        if let Some(account) = &self.account_id {
            builder = builder.header("Stripe-Account", account);
        }
        if request.method == Method::GET || request.method == Method::DELETE {
            builder = builder.query(&request.params);
        } else {
            builder = builder.form(&request.params);
            if let Some(key) = &request.idempotency_key {
                builder = builder.header("Idempotency-Key", key);
            }
        }
        let response = builder
            .send()
            .await
            .map_err(|e| ApiError::new(Code::Unavailable, format!("Stripe is unreachable: {e}")))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(body);
        }
        Err(map_stripe_error(status.as_u16(), &body))
    }
}

/// Maps a Stripe error response to the API's canonical code, keeping Stripe's own fields.
pub fn map_stripe_error(status: u16, body: &Value) -> ApiError {
    let err = &body["error"];
    let text = |k: &str| err[k].as_str().map(str::to_string);
    let detail = StripeErrorDetail {
        kind: text("type"),
        code: text("code"),
        decline_code: text("decline_code"),
        param: text("param"),
        message: text("message"),
        http_status: status,
    };
    let code = match (status, detail.kind.as_deref()) {
        (401, _) | (_, Some("authentication_error")) => Code::Unauthenticated,
        (402, _) | (_, Some("card_error")) => Code::FailedPrecondition,
        (403, _) => Code::PermissionDenied,
        (404, _) => Code::NotFound,
        (409, _) => Code::Aborted,
        (429, _) | (_, Some("rate_limit_error")) => Code::ResourceExhausted,
        (500..=599, _) | (_, Some("api_error")) => Code::Unavailable,
        _ => Code::InvalidArgument,
    };
    let message = detail
        .message
        .clone()
        .unwrap_or_else(|| format!("Stripe answered HTTP {status}"));
    let mut e = ApiError::new(code, message);
    e.field = detail.param.clone();
    e.stripe = Some(Box::new(detail));
    e
}
