//! The `conditions` filter clause of one request: what Stripe filters (pushdown) and what the
//! node still has to check on each object.

use serde_json::Value;

use crate::catalog::Entity;
use crate::error::ApiResult;
use crate::filter::{self, Filter};

pub struct Conditions {
    text: String,
    filter: Option<Filter>,
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
        })
    }

    pub fn is_empty(&self) -> bool {
        self.filter.is_none()
    }

    /// The clause as written, to tie page tokens to it.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Stripe list parameters that apply the pushed-down part of the clause.
    pub fn pushdown(&self) -> Vec<(String, String)> {
        self.filter
            .as_ref()
            .map(Filter::pushdown)
            .unwrap_or_default()
    }

    /// Whether Stripe applies the whole clause (the node need not check objects).
    pub fn fully_pushed_down(&self) -> bool {
        self.filter.as_ref().is_none_or(Filter::fully_pushed_down)
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.filter.as_ref().is_none_or(|f| f.matches(object))
    }
}
