//! The `conditions` filter clause of one request: what Stripe filters (pushdown) and what the
//! node still has to check on each object.

use serde_json::Value;

use crate::catalog::Entity;
use crate::error::{ApiError, ApiResult};
use crate::filter::{self, Filter, FilterError};

#[derive(Debug)]
pub struct Conditions {
    text: String,
    filter: Option<Filter>,
    consistent_read: bool,
}

impl Conditions {
    /// Parses the clause against the entity's fields; a blank clause matches everything.
    pub fn parse(entity: &Entity, text: Option<&str>) -> ApiResult<Self> {
        Self::parse_as(entity, text, "conditions")
    }

    /// Parses a clause that came as the request field `field` (`conditions`, or the WHERE
    /// clause of a SQL query): errors name that field, and the clause's field after a dot.
    pub fn parse_as(entity: &Entity, text: Option<&str>, field: &str) -> ApiResult<Self> {
        let text = text.map(str::trim).unwrap_or_default();
        let filter = if text.is_empty() {
            None
        } else {
            Some(filter::parse(text, entity.fields).map_err(|e| filter_error(e, field))?)
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

    /// The clause as written, to tie page tokens to it.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Stripe list parameters sent on every call for the clause.
    #[cfg(test)]
    pub fn pushdown(&self) -> Vec<(String, String)> {
        self.filter
            .as_ref()
            .map(Filter::pushdown)
            .unwrap_or_default()
    }

    /// The parsed clause (`None` when blank).
    pub fn filter(&self) -> Option<&Filter> {
        self.filter.as_ref()
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.filter.as_ref().is_none_or(|f| f.matches(object))
    }
}

/// A refused clause as a 400 naming the request field, and the clause's field after a dot
/// (`conditions.Email`).
fn filter_error(e: FilterError, request_field: &str) -> ApiError {
    let field = match &e.field {
        Some(name) => format!("{request_field}.{name}"),
        None => request_field.to_string(),
    };
    let message = if e.message.starts_with("conditions") {
        e.message
    } else {
        format!("invalid {request_field}: {}", e.message)
    };
    ApiError::invalid_with_message(field, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Code;

    fn refused(clause: &str) -> ApiError {
        let customer = crate::catalog::entity("Customer").unwrap();
        match Conditions::parse(customer, Some(clause)) {
            Ok(_) => panic!("{clause} was accepted"),
            Err(e) => e,
        }
    }

    #[test]
    fn refused_clauses_name_the_field_or_the_clause() {
        let api = refused("Livemode = 'yes'");
        assert_eq!(api.code(), Code::InvalidArgument);
        assert_eq!(api.http_status().as_u16(), 400);
        assert_eq!(api.field(), Some("conditions.Livemode"));
        assert!(
            api.message()
                .starts_with("invalid conditions: Livemode is a Boolean field"),
            "{}",
            api.message()
        );
        let body = api.body();
        assert_eq!(body["error"]["status"], "INVALID_ARGUMENT");
        assert_eq!(
            body["error"]["details"][0]["fieldViolations"][0]["field"],
            "conditions.Livemode"
        );
        let api = refused("Email = ");
        assert_eq!(api.field(), Some("conditions"));
        assert!(api.message().contains("position 8"), "{}", api.message());
    }
}
