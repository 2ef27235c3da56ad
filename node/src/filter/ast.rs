//! The small typed tree a clause is lowered into: only what the grammar allows.

use super::like::LikePattern;
use crate::catalog::{DataType, Pushdown, SearchKind};

#[derive(Debug, Clone)]
pub enum Node {
    /// Conjunction; nested ANDs are flattened into one list.
    And(Vec<Node>),
    /// Disjunction; nested ORs are flattened into one list.
    Or(Vec<Node>),
    Not(Box<Node>),
    Pred(Predicate),
}

/// One test of one field.
#[derive(Debug, Clone)]
pub struct Predicate {
    pub field: FieldRef,
    pub test: Test,
}

/// A field resolved against the catalog (or a key under an Object field, e.g. `Metadata.plan`).
#[derive(Debug, Clone)]
pub struct FieldRef {
    /// Canonical name, e.g. `Email` or `Metadata.plan`.
    pub name: String,
    /// The Stripe JSON path split at dots.
    pub path: Vec<PathKey>,
    pub data_type: DataType,
    pub pushdown: Pushdown,
    /// How Stripe's Search API can match it, and under which key (`email`, `metadata["k"]`).
    pub search: Option<(SearchKind, String)>,
    /// Only known as a list filter (see `Field::request_only`).
    pub request_only: bool,
}

/// One step of a JSON path.
#[derive(Debug, Clone)]
pub struct PathKey {
    pub key: String,
    /// For a key written by the user under an Object field (`Address.PostalCode`): its
    /// snake_case form, tried when the key as written is absent.
    pub snake: Option<String>,
}

impl PathKey {
    pub fn exact(key: &str) -> Self {
        Self {
            key: key.to_string(),
            snake: None,
        }
    }

    pub fn written(key: &str) -> Self {
        let snake = snake_case(key);
        Self {
            snake: (snake != key).then_some(snake),
            key: key.to_string(),
        }
    }
}

/// `PostalCode` -> `postal_code`, `OrderID` -> `order_id`.
fn snake_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    let mut prev_lower = false;
    for c in key.chars() {
        if c.is_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        out.extend(c.to_lowercase());
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    /// The operator seen from the other side: `5 < X` is `X > 5`.
    pub fn flipped(self) -> Self {
        match self {
            CmpOp::Eq | CmpOp::Ne => self,
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
        }
    }

    pub fn holds(self, ord: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::{Equal, Greater, Less};
        match self {
            CmpOp::Eq => ord == Equal,
            CmpOp::Ne => ord != Equal,
            CmpOp::Lt => ord == Less,
            CmpOp::Le => ord != Greater,
            CmpOp::Gt => ord == Greater,
            CmpOp::Ge => ord != Less,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Test {
    Cmp(CmpOp, Literal),
    In {
        negated: bool,
        values: Vec<Literal>,
    },
    /// LIKE / ILIKE.
    Like {
        negated: bool,
        pattern: LikePattern,
    },
    IsNull {
        negated: bool,
    },
}

/// A literal already coerced to its field's type (timestamps are unix seconds in `Int`).
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}
