//! The Stripe client, behind a small trait so the API logic can be tested without the network.

mod client;
mod exchange_log;
mod key;
pub mod proxy;
pub mod tls;
pub mod transport;

pub use client::{ClientOptions, HttpStripeClient};
pub use key::ApiKeyFile;

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
    /// Query parameters (GET, DELETE) or form fields (POST), already in Stripe's bracket notation.
    pub params: Vec<(String, String)>,
    /// Sent as `Idempotency-Key` on POST; the client makes one up when it is `None`, and reuses the
    /// same key on every retry.
    pub idempotency_key: Option<String>,
}

impl StripeRequest {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            params: Vec::new(),
            idempotency_key: None,
        }
    }

    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }

    pub fn post(path: impl Into<String>, params: Vec<(String, String)>) -> Self {
        Self {
            params,
            ..Self::new(Method::POST, path)
        }
    }

    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path)
    }

    pub fn with_idempotency_key(mut self, key: Option<String>) -> Self {
        self.idempotency_key = key;
        self
    }
}

#[async_trait]
pub trait StripeApi: Send + Sync {
    async fn call(&self, request: StripeRequest) -> Result<Value, ApiError>;
}
