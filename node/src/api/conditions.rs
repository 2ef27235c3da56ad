//! The `conditions` filter clause of one request: what Stripe filters (pushdown) and what the
//! node still has to check on each object.

use serde_json::Value;

use crate::catalog::Entity;
use crate::error::ApiResult;
use crate::filter::{self, Filter};

pub struct Conditions {
    text: String,
    filter: Option<Filter>,
    consistent_read: bool,
}

impl Conditions {
    /// Parses the clause against the entity's fields; a blank clause matches everything.
    pub fn parse(entity: &Entity, text: Option<&str>) -> ApiResult<Self> {
        let text = text.map(str::trim).unwrap_or_default();
        let filter = if text.is_empty() {
            None
        } else {
            Some(filter::parse(text, entity.fields)?)
        };
        Ok(Self {
            text: text.to_string(),
            filter,
            consistent_read: false,
        })
    }

    /// Only Stripe's list endpoints, never its Search API (whose index lags writes).
    pub fn with_consistent_read(mut self, consistent: bool) -> Self {
        self.consistent_read = consistent;
        self
    }

    pub fn consistent_read(&self) -> bool {
        self.consistent_read
    }

    pub fn is_empty(&self) -> bool {
        self.filter.is_none()
    }

    /// The clause as written, to tie page tokens to it.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The parsed clause (`None` when blank).
    pub fn filter(&self) -> Option<&Filter> {
        self.filter.as_ref()
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.filter.as_ref().is_none_or(|f| f.matches(object))
    }
}
