//! Chooses the Stripe list parameters a clause can safely send: only conjuncts of the top-level
//! AND, so whatever Stripe returns is a superset of the matches; the node re-checks every object.

use super::ast::{CmpOp, Literal, Node, Predicate, Test};
use crate::catalog::Pushdown;

/// The parameters to send, and whether they alone decide the result (every conjunct pushed).
pub fn plan(root: &Node) -> (Vec<(String, String)>, bool) {
    let conjuncts: Vec<&Node> = match root {
        Node::And(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut params: Vec<(String, String)> = Vec::new();
    let mut all_pushed = true;
    for conjunct in conjuncts {
        let pushed = match conjunct {
            Node::Pred(p) => params_for(p),
            _ => None,
        };
        match pushed {
            // A parameter sent twice would be ambiguous at Stripe: the first one wins and
            // later conjuncts on it are left to the node.
            Some(new)
                if new
                    .iter()
                    .all(|(k, _)| params.iter().all(|(have, _)| have != k)) =>
            {
                params.extend(new);
            }
            _ => all_pushed = false,
        }
    }
    (params, all_pushed)
}

fn params_for(p: &Predicate) -> Option<Vec<(String, String)>> {
    let single = |values: &[Literal]| match values {
        [one] => Some(one.clone()),
        _ => None,
    };
    let (op, lit) = match &p.test {
        Test::Cmp(op, lit) => (*op, lit.clone()),
        Test::In {
            negated: false,
            values,
        } => (CmpOp::Eq, single(values)?),
        _ => return None,
    };
    match p.field.pushdown {
        Pushdown::None => None,
        Pushdown::Equals(param) if op == CmpOp::Eq => Some(vec![(param.to_string(), value(&lit)?)]),
        Pushdown::Equals(_) => None,
        Pushdown::Range(param) => {
            // Stripe ranges take non-negative integers (timestamps as unix seconds).
            let Literal::Int(n @ 0..) = lit else {
                return None;
            };
            let bound = |suffix: &str| (format!("{param}[{suffix}]"), n.to_string());
            match op {
                CmpOp::Eq => Some(vec![bound("gte"), bound("lte")]),
                CmpOp::Gt => Some(vec![bound("gt")]),
                CmpOp::Ge => Some(vec![bound("gte")]),
                CmpOp::Lt => Some(vec![bound("lt")]),
                CmpOp::Le => Some(vec![bound("lte")]),
                CmpOp::Ne => None,
            }
        }
    }
}

/// The value as Stripe expects it in a form parameter; empty strings are not sent (Stripe
/// reads an empty parameter as "unset", not as "equals empty").
fn value(lit: &Literal) -> Option<String> {
    match lit {
        Literal::Str(s) if !s.is_empty() => Some(s.clone()),
        Literal::Int(n) => Some(n.to_string()),
        Literal::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
