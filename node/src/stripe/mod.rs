//! The Stripe client, behind a small trait so the API logic can be tested without the network.

mod client;

pub use client::HttpStripeClient;

use async_trait::async_trait;
use http::Method;
use serde_json::Value;

use crate::error::ApiError;

/// One call to Stripe's v1 API.
#[derive(Debug, Clone, PartialEq)]
pub struct StripeRequest {
    pub method: Method,
    /// Path below the base URL, e.g. `/v1/customers/cus_123`.
    pub path: String,
    /// Query parameters (GET) or form fields (POST), already in Stripe's bracket notation.
    pub params: Vec<(String, String)>,
    /// Sent as `Idempotency-Key` on POST; the same key is reused on every retry.
    pub idempotency_key: Option<String>,
}

impl StripeRequest {
    pub fn get(path: impl Into<String>) -> Self {
        Self {
            method: Method::GET,
            path: path.into(),
            params: Vec::new(),
            idempotency_key: None,
        }
    }
}

#[async_trait]
pub trait StripeApi: Send + Sync {
    async fn call(&self, request: StripeRequest) -> Result<Value, ApiError>;
}
