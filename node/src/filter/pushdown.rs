//! Chooses the Stripe list parameters a clause can safely send: only conjuncts of the top-level
//! AND, so whatever Stripe returns is a superset of the matches; the node re-checks every object.

use super::ast::{CmpOp, Literal, Node, Predicate, Test};
use crate::catalog::{DataType, Pushdown};

/// What Stripe's list endpoint is asked to filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListPlan {
    /// Parameters of every call.
    pub params: Vec<(String, String)>,
    /// `F IN ('a', 'b')` on a parameter Stripe takes once: one list per value, in this order.
    pub split: Option<(String, Vec<String>)>,
    /// Which top-level conjuncts Stripe applies.
    pub pushed: Vec<bool>,
}

impl ListPlan {
    /// How many top-level conjuncts Stripe applies.
    pub fn pushed_count(&self) -> usize {
        self.pushed.iter().filter(|p| **p).count()
    }

    /// Every conjunct is applied by Stripe, so its pages need no filtering on the node.
    pub fn complete(&self) -> bool {
        self.pushed.iter().all(|p| *p)
    }

    /// Whether the parameter is sent on every call or by the split.
    pub fn sends(&self, param: &str) -> bool {
        self.params.iter().any(|(k, _)| k == param)
            || self.split.as_ref().is_some_and(|(k, _)| k == param)
    }
}

/// The conjuncts of the top-level AND (the whole clause when it is no AND).
pub fn conjuncts(root: &Node) -> Vec<&Node> {
    match root {
        Node::And(items) => items.iter().collect(),
        other => vec![other],
    }
}

enum Push {
    Params(Vec<(String, String)>),
    Split(String, Vec<String>),
}

impl Push {
    /// Names Stripe reads as one parameter (`created[gt]`, `ids`), to send none twice.
    fn claims(&self) -> Vec<String> {
        match self {
            Push::Params(params) => params.iter().map(|(k, _)| claim(k)).collect(),
            Push::Split(param, _) => vec![param.clone()],
        }
    }
}

/// `ids[0]` and `ids[1]` are one parameter; `recurring[interval]` and `created[gt]` are not
/// shared with their siblings.
fn claim(key: &str) -> String {
    match key.split_once('[') {
        Some((base, rest)) if rest.starts_with(|c: char| c.is_ascii_digit()) => base.to_string(),
        _ => key.to_string(),
    }
}

pub fn plan(root: &Node) -> ListPlan {
    let mut plan = ListPlan::default();
    let mut claimed: Vec<String> = Vec::new();
    for conjunct in conjuncts(root) {
        let push = match conjunct {
            Node::Pred(p) => push_for(p),
            _ => None,
        };
        // A parameter sent twice would be ambiguous at Stripe: the first one wins and later
        // conjuncts on it are left to the node.
        let push = push.filter(|push| {
            let fresh = push.claims().iter().all(|c| !claimed.contains(c));
            // One split at most: a second multi-valued IN stays on the node.
            fresh && !(matches!(push, Push::Split(..)) && plan.split.is_some())
        });
        plan.pushed.push(push.is_some());
        if let Some(push) = push {
            claimed.extend(push.claims());
            match push {
                Push::Params(params) => plan.params.extend(params),
                Push::Split(param, values) => plan.split = Some((param, values)),
            }
        }
    }
    plan
}

/// The first field that is only known as a list filter but is used where the plan does not
/// send it (under OR or NOT, with an operator Stripe lacks, or sent twice).
pub fn unsent_request_only<'n>(root: &'n Node, plan: &ListPlan) -> Option<&'n str> {
    fn find(node: &Node) -> Option<&str> {
        match node {
            Node::And(items) | Node::Or(items) => items.iter().find_map(find),
            Node::Not(inner) => find(inner),
            Node::Pred(p) => p.field.request_only.then_some(p.field.name.as_str()),
        }
    }
    conjuncts(root)
        .into_iter()
        .zip(&plan.pushed)
        .filter(|(_, pushed)| !**pushed)
        .find_map(|(node, _)| find(node))
}

fn push_for(p: &Predicate) -> Option<Push> {
    let field = &p.field;
    match (field.pushdown, &p.test) {
        (Pushdown::None, _) => None,
        (Pushdown::Equals(param), Test::Cmp(CmpOp::Eq, lit)) => {
            Some(Push::Params(vec![(param.to_string(), value(lit)?)]))
        }
        // A boolean filter also answers `!=`: the other value (null never matches `!=`).
        (Pushdown::Equals(param), Test::Cmp(CmpOp::Ne, Literal::Bool(b)))
            if field.data_type == DataType::Boolean =>
        {
            Some(Push::Params(vec![(param.to_string(), (!b).to_string())]))
        }
        (
            Pushdown::Equals(param),
            Test::In {
                negated: false,
                values,
            },
        ) => {
            let mut texts = distinct(values)?;
            if texts.len() <= 1 {
                Some(Push::Params(vec![(param.to_string(), texts.remove(0))]))
            } else {
                Some(Push::Split(param.to_string(), texts))
            }
        }
        (Pushdown::AnyOf(param, _), Test::Cmp(CmpOp::Eq, lit)) => {
            Some(Push::Params(vec![(format!("{param}[0]"), value(lit)?)]))
        }
        (
            Pushdown::AnyOf(param, max),
            Test::In {
                negated: false,
                values,
            },
        ) => {
            let texts = distinct(values)?;
            (texts.len() <= max).then(|| {
                Push::Params(
                    texts
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| (format!("{param}[{i}]"), v))
                        .collect(),
                )
            })
        }
        (Pushdown::Range(param), Test::Cmp(op, lit)) => {
            // Stripe ranges take non-negative integers (timestamps as unix seconds).
            let Literal::Int(n @ 0..) = lit else {
                return None;
            };
            let bound = |suffix: &str| (format!("{param}[{suffix}]"), n.to_string());
            let params = match op {
                CmpOp::Eq => vec![bound("gte"), bound("lte")],
                CmpOp::Gt => vec![bound("gt")],
                CmpOp::Ge => vec![bound("gte")],
                CmpOp::Lt => vec![bound("lt")],
                CmpOp::Le => vec![bound("lte")],
                CmpOp::Ne => return None,
            };
            Some(Push::Params(params))
        }
        _ => None,
    }
}

/// The values of an IN list as parameters, each once; `None` when one cannot be sent.
fn distinct(values: &[Literal]) -> Option<Vec<String>> {
    if values.is_empty() {
        return None;
    }
    let mut texts: Vec<String> = Vec::new();
    for lit in values {
        let text = value(lit)?;
        if !texts.contains(&text) {
            texts.push(text);
        }
    }
    Some(texts)
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
