//! The `conditions` filter clause of one request: what Stripe filters (pushdown) and what the
//! node still has to check on each object.

use serde_json::Value;

use crate::catalog::Entity;
use crate::error::{ApiError, ApiResult, Code};

pub struct Conditions {
    text: String,
}

impl Conditions {
    /// Parses the clause against the entity's fields; a blank clause matches everything.
    pub fn parse(_entity: &Entity, text: Option<&str>) -> ApiResult<Self> {
        let text = text.map(str::trim).unwrap_or_default();
        if !text.is_empty() {
            return Err(ApiError::new(
                Code::Unimplemented,
                "conditions: the filter clause is not available in this build",
            ));
        }
        Ok(Self {
            text: text.to_string(),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The clause as written, to tie page tokens to it.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Stripe list parameters that apply the pushed-down part of the clause.
    pub fn pushdown(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Whether Stripe applies the whole clause (the node need not check objects).
    pub fn fully_pushed_down(&self) -> bool {
        true
    }

    pub fn matches(&self, _object: &Value) -> bool {
        true
    }
}
