//! Translates the part of a clause that Stripe's Search API can express into a search query
//! (<https://docs.stripe.com/search#search-query-language>): `field:"value"` exact matches,
//! `field~"text"` substrings, `field>n` numeric comparisons and `-` negations, joined by AND, or
//! by OR for one `IN` list when nothing else is searched (the language mixes neither AND with OR
//! nor has parentheses). Like the list parameters, the query only narrows what Stripe returns to
//! a superset of the matches; the node re-checks every object.

use std::fmt;

use super::ast::{CmpOp, Literal, Node, Predicate, Test};
use super::pushdown::conjuncts;
use crate::catalog::SearchKind;

/// Stripe accepts at most this many clauses in one query.
pub const MAX_CLAUSES: usize = 10;
/// Stripe's substring match needs at least this many characters.
const MIN_SUBSTRING: usize = 3;

/// A search query and which top-level conjuncts it covers.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPlan {
    pub clauses: Vec<Clause>,
    /// Clauses joined by OR (one IN list) instead of AND.
    pub any: bool,
    /// Conjuncts the query narrows (a LIKE becomes a looser substring match).
    pub used: Vec<bool>,
    /// Conjuncts the query applies exactly (up to Stripe's case folding).
    pub exact: Vec<bool>,
}

impl SearchPlan {
    pub fn used_count(&self) -> usize {
        self.used.iter().filter(|u| **u).count()
    }

    /// Every conjunct is applied by the query.
    pub fn complete(&self) -> bool {
        self.exact.iter().all(|e| *e)
    }

    /// The query text for Stripe's `query` parameter.
    pub fn query(&self) -> String {
        let join = if self.any { " OR " } else { " AND " };
        self.clauses
            .iter()
            .map(Clause::to_string)
            .collect::<Vec<_>>()
            .join(join)
    }
}

/// One clause of Stripe's query language.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    pub key: String,
    pub op: Op,
    pub value: Value,
    pub negated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Exact,
    Substring,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Number(i64),
}

impl fmt::Display for Clause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            Op::Exact => ":",
            Op::Substring => "~",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
        };
        let negation = if self.negated { "-" } else { "" };
        match &self.value {
            Value::Text(t) => write!(f, "{negation}{}{op}{}", self.key, quoted(t)),
            Value::Number(n) => write!(f, "{negation}{}{op}{n}", self.key),
        }
    }
}

/// A string in the query language: double quotes, with `\` escaping quotes and itself.
pub fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// What one top-level conjunct becomes.
enum Part {
    /// Clauses that must all hold, and whether they say all the conjunct says.
    All(Vec<Clause>, bool),
    /// Clauses of which one must hold (exact).
    Any(Vec<Clause>),
}

/// The search query of a clause, when some conjunct can be searched.
pub fn plan(root: &Node) -> Option<SearchPlan> {
    let conjuncts = conjuncts(root);
    let parts: Vec<Option<Part>> = conjuncts.iter().map(|c| part(c)).collect();
    let mut plan = SearchPlan {
        clauses: Vec::new(),
        any: false,
        used: vec![false; conjuncts.len()],
        exact: vec![false; conjuncts.len()],
    };
    for (i, part) in parts.iter().enumerate() {
        if let Some(Part::All(clauses, exact)) = part
            && plan.clauses.len() + clauses.len() <= MAX_CLAUSES
        {
            plan.clauses.extend(clauses.iter().cloned());
            plan.used[i] = true;
            plan.exact[i] = *exact;
        }
    }
    if plan.clauses.is_empty() {
        // An OR query serves one IN list (or one OR of single clauses) alone.
        let (i, clauses) = parts.iter().enumerate().find_map(|(i, p)| match p {
            Some(Part::Any(clauses)) if clauses.len() <= MAX_CLAUSES => Some((i, clauses)),
            _ => None,
        })?;
        plan.clauses = clauses.clone();
        plan.any = true;
        plan.used[i] = true;
        plan.exact[i] = true;
    }
    Some(plan)
}

fn part(node: &Node) -> Option<Part> {
    match node {
        Node::Pred(p) => pred_part(p),
        // `A = 1 OR B = 2`: each disjunct one positive exact clause.
        Node::Or(items) => {
            let clauses = items
                .iter()
                .map(|item| match item {
                    Node::Pred(p) => match pred_part(p)? {
                        Part::All(mut c, true) if c.len() == 1 && !c[0].negated => c.pop(),
                        _ => None,
                    },
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()?;
            Some(Part::Any(clauses))
        }
        // NOT is left to the node: Stripe's negation of a clause and SQL's differ on nulls.
        _ => None,
    }
}

fn pred_part(p: &Predicate) -> Option<Part> {
    let (kind, key) = p.field.search.as_ref()?;
    let clause = |op: Op, lit: &Literal, negated: bool| {
        Some(Clause {
            key: key.clone(),
            op,
            value: value(*kind, op, lit)?,
            negated,
        })
    };
    match &p.test {
        Test::Cmp(CmpOp::Eq, lit) => Some(Part::All(vec![clause(Op::Exact, lit, false)?], true)),
        Test::Cmp(CmpOp::Ne, lit) => Some(Part::All(vec![clause(Op::Exact, lit, true)?], true)),
        Test::Cmp(op, lit) if *kind == SearchKind::Numeric => {
            let op = match op {
                CmpOp::Gt => Op::Gt,
                CmpOp::Ge => Op::Ge,
                CmpOp::Lt => Op::Lt,
                _ => Op::Le,
            };
            Some(Part::All(vec![clause(op, lit, false)?], true))
        }
        Test::In { negated, values } => {
            let clauses = values
                .iter()
                .map(|lit| clause(Op::Exact, lit, *negated))
                .collect::<Option<Vec<_>>>()?;
            match (negated, clauses.len()) {
                (_, 0) => None,
                (false, 1) | (true, _) => Some(Part::All(clauses, true)),
                (false, _) => Some(Part::Any(clauses)),
            }
        }
        // A LIKE narrows to a substring of its longest literal run (Stripe's `~`); ILIKE is
        // left out, as Stripe does not say whether substrings fold case.
        Test::Like {
            negated: false,
            pattern,
        } if *kind == SearchKind::Text => {
            let run = pattern.longest_literal_run()?;
            (run.chars().count() >= MIN_SUBSTRING).then(|| {
                let clause = Clause {
                    key: key.clone(),
                    op: Op::Substring,
                    value: Value::Text(run),
                    negated: false,
                };
                Part::All(vec![clause], false)
            })
        }
        _ => None,
    }
}

/// A literal as a search value: numbers for numeric fields, quoted text otherwise.
fn value(kind: SearchKind, op: Op, lit: &Literal) -> Option<Value> {
    match (kind, lit) {
        (SearchKind::Numeric, &Literal::Int(n)) => Some(Value::Number(n)),
        (SearchKind::Numeric, _) => None,
        (_, _) if op != Op::Exact => None,
        (_, Literal::Str(s)) if !s.is_empty() => Some(Value::Text(s.clone())),
        (_, Literal::Bool(b)) => Some(Value::Text(b.to_string())),
        (_, Literal::Int(n)) => Some(Value::Text(n.to_string())),
        _ => None,
    }
}
