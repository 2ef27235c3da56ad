//! Evaluates the typed tree on one Stripe object. Two-valued logic: a missing or null field
//! makes every test false except IS NULL; NOT inverts its operand's result.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;

use super::ast::{FieldRef, Literal, Node, PathKey, Test};
use super::lower::parse_timestamp;
use crate::catalog::DataType;

pub fn matches(node: &Node, object: &Value) -> bool {
    match node {
        Node::And(items) => items.iter().all(|n| matches(n, object)),
        Node::Or(items) => items.iter().any(|n| matches(n, object)),
        Node::Not(inner) => !matches(inner, object),
        Node::Pred(p) => {
            let value = lookup(object, &p.field.path).filter(|v| !v.is_null());
            match (&p.test, value) {
                (Test::IsNull { negated }, v) => v.is_some() == *negated,
                (_, None) => false,
                (Test::Cmp(op, lit), Some(v)) => {
                    compare(&p.field, v, lit).is_some_and(|o| op.holds(o))
                }
                (Test::In { negated, values }, Some(v)) => {
                    let mut comparable = values.iter().map(|lit| compare(&p.field, v, lit));
                    if *negated {
                        comparable.all(|o| o.is_some_and(|o| o != Ordering::Equal))
                    } else {
                        comparable.any(|o| o == Some(Ordering::Equal))
                    }
                }
                (Test::Like { negated, pattern }, Some(v)) => {
                    text(v).is_some_and(|s| pattern.matches(&s) != *negated)
                }
            }
        }
    }
}

fn lookup<'v>(object: &'v Value, path: &[PathKey]) -> Option<&'v Value> {
    path.iter().try_fold(object, |v, step| {
        let map = v.as_object()?;
        map.get(&step.key)
            .or_else(|| step.snake.as_ref().and_then(|s| map.get(s)))
    })
}

/// How the object's value orders against the literal; `None` when they are not comparable
/// (the object holds something of another type), which makes the test false.
fn compare(field: &FieldRef, value: &Value, lit: &Literal) -> Option<Ordering> {
    match (field.data_type, lit) {
        (DataType::String, Literal::Str(s)) => Some(text(value)?.as_ref().cmp(s.as_str())),
        (DataType::Boolean, Literal::Bool(b)) => {
            let v = match value {
                Value::Bool(v) => *v,
                Value::String(s) if s == "true" => true,
                Value::String(s) if s == "false" => false,
                _ => return None,
            };
            Some(v.cmp(b))
        }
        (DataType::Timestamp, Literal::Int(secs)) => {
            let v = match value {
                Value::Number(n) => n.as_i64()?,
                Value::String(s) => parse_timestamp(s)?,
                _ => return None,
            };
            Some(v.cmp(secs))
        }
        (DataType::Integer | DataType::Decimal, lit) => compare_numbers(number(value)?, lit),
        _ => None,
    }
}

enum Num {
    Int(i64),
    Float(f64),
}

/// Stripe amounts are JSON integers; decimal fields (`unit_amount_decimal`) are strings.
fn number(value: &Value) -> Option<Num> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .map(Num::Int)
            .or_else(|| n.as_f64().map(Num::Float)),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>()
                .ok()
                .map(Num::Int)
                .or_else(|| s.parse::<f64>().ok().map(Num::Float))
        }
        _ => None,
    }
}

fn compare_numbers(value: Num, lit: &Literal) -> Option<Ordering> {
    match (value, lit) {
        (Num::Int(a), Literal::Int(b)) => Some(a.cmp(b)),
        (Num::Int(a), Literal::Float(b)) => (a as f64).partial_cmp(b),
        (Num::Float(a), Literal::Int(b)) => a.partial_cmp(&(*b as f64)),
        (Num::Float(a), Literal::Float(b)) => a.partial_cmp(b),
        _ => None,
    }
}

/// The text of a string-typed value. Scalars of other JSON types compare by their JSON text;
/// an expanded object (`"customer": {"id": "cus_1", ...}`) compares by its id.
fn text(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        Value::Object(o) => o.get("id")?.as_str().map(Cow::Borrowed),
        _ => None,
    }
}
