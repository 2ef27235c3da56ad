//! The filter clause (`conditions`): an SQL-like boolean expression over an entity's fields.
//!
//! [`parse`] reads the clause with `sqlparser`, types it against the entity's [`Field`]s and
//! returns a [`Filter`] that knows which conjuncts Stripe's list parameters can filter
//! ([`Filter::list_plan`]), which ones a query of Stripe's Search API can
//! ([`Filter::search_plan`]), and evaluates the whole clause on one Stripe object
//! ([`Filter::matches`]). The grammar, typing rules and pushdown tables are in
//! `docs/filter-clause.md`.

mod ast;
mod eval;
mod like;
mod lower;
mod pushdown;
mod search;
mod syntax;

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;

pub use pushdown::ListPlan;
pub use search::{Clause, Op, SearchPlan, Value as SearchValue};
pub use syntax::names_a_field;

use crate::catalog::Field;

/// Longest clause accepted, in bytes (checked before parsing).
pub const MAX_CLAUSE_BYTES: usize = 4096;
/// Deepest nesting accepted: each pair of parentheses and each NOT is one level.
pub const MAX_DEPTH: usize = 32;

/// A parsed, typed filter clause.
#[derive(Debug, Clone)]
pub struct Filter {
    root: ast::Node,
    list: ListPlan,
    search: Option<SearchPlan>,
    request_only: bool,
}

/// Why a clause was refused: names the field or the position where that helps.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FilterError {
    pub message: String,
    /// Canonical name of the field the error is about (as written when it is unknown).
    pub field: Option<String>,
    /// 1-based character position in the clause (the column for a one-line clause).
    pub position: Option<usize>,
}

impl FilterError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            field: None,
            position: None,
        }
    }
}

/// Parses and types `conditions` against `fields`.
pub fn parse(conditions: &str, fields: &[Field]) -> Result<Filter, FilterError> {
    if conditions.len() > MAX_CLAUSE_BYTES {
        return Err(FilterError::new(format!(
            "conditions is {} bytes long; the limit is {MAX_CLAUSE_BYTES} bytes",
            conditions.len()
        )));
    }
    if conditions.trim().is_empty() {
        return Err(FilterError::new("conditions is empty"));
    }
    let expr = syntax::parse_expr(conditions, fields)?;
    let root = lower::lower(&expr, fields, conditions)?;
    let list = pushdown::plan(&root);
    if let Some(name) = pushdown::unsent_request_only(&root, &list) {
        return Err(FilterError {
            message: format!(
                "{name} is a Stripe list filter, not a field of the objects: use it as a \
                 top-level condition {name} = '...' or {name} IN (...), not under OR or NOT"
            ),
            field: Some(name.to_string()),
            position: None,
        });
    }
    let request_only = pushdown::conjuncts(&root)
        .iter()
        .any(|c| matches!(c, ast::Node::Pred(p) if p.field.request_only));
    let search = search::plan(&root);
    Ok(Filter {
        root,
        list,
        search,
        request_only,
    })
}

impl Filter {
    /// What Stripe's list endpoint can filter: only conjuncts of the top-level AND whose field
    /// has a list pushdown; never from under OR or NOT.
    pub fn list_plan(&self) -> &ListPlan {
        &self.list
    }

    /// The query of Stripe's Search API for the conjuncts it can express, if any.
    pub fn search_plan(&self) -> Option<&SearchPlan> {
        self.search.as_ref()
    }

    /// The list parameters sent on every call (without a split IN).
    #[cfg(test)]
    pub fn pushdown(&self) -> Vec<(String, String)> {
        self.list.params.clone()
    }

    /// True when every conjunct was pushed down as list parameters, so Stripe's pages need no
    /// extra filtering.
    #[cfg(test)]
    pub fn fully_pushed_down(&self) -> bool {
        self.list.complete()
    }

    /// The clause uses a field only Stripe's list filter knows (so only the list path serves it).
    pub fn uses_request_only(&self) -> bool {
        self.request_only
    }

    /// Evaluates the whole clause (pushed-down conjuncts included) on one Stripe object.
    pub fn matches(&self, object: &serde_json::Value) -> bool {
        eval::matches(&self.root, object)
    }
}
