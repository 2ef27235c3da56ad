//! The filter clause (`conditions`): an SQL-like boolean expression over an entity's fields.
//!
//! [`parse`] reads the clause with `sqlparser`, types it against the entity's [`Field`]s and
//! returns a [`Filter`] that knows which conjuncts Stripe's list parameters can filter
//! ([`Filter::pushdown`]) and evaluates the whole clause on one Stripe object
//! ([`Filter::matches`]). The grammar, typing rules and pushdown table are in
//! `docs/filter-clause.md`.

mod ast;
mod eval;
mod like;
mod lower;
mod pushdown;
mod syntax;

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;

use crate::catalog::Field;

/// Longest clause accepted, in bytes (checked before parsing).
pub const MAX_CLAUSE_BYTES: usize = 4096;
/// Deepest nesting accepted: each pair of parentheses and each NOT is one level.
pub const MAX_DEPTH: usize = 32;

/// A parsed, typed filter clause.
#[derive(Debug, Clone)]
pub struct Filter {
    root: ast::Node,
    pushdown: Vec<(String, String)>,
    fully_pushed_down: bool,
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
    let (pushdown, fully_pushed_down) = pushdown::plan(&root);
    Ok(Filter {
        root,
        pushdown,
        fully_pushed_down,
    })
}

impl Filter {
    /// Stripe list parameters that are safe to send: only from conjuncts of the top-level AND
    /// whose field has `Pushdown::Equals` or `Pushdown::Range`; never from under OR or NOT.
    pub fn pushdown(&self) -> Vec<(String, String)> {
        self.pushdown.clone()
    }

    /// Evaluates the whole clause (pushed-down conjuncts included) on one Stripe object.
    pub fn matches(&self, object: &serde_json::Value) -> bool {
        eval::matches(&self.root, object)
    }

    /// True when every conjunct was pushed down, so Stripe's pages need no extra filtering.
    pub fn fully_pushed_down(&self) -> bool {
        self.fully_pushed_down
    }
}
