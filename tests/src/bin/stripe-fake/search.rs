//! Stripe's Search API as its documentation describes it (docs.stripe.com/search): the query
//! language (`field:"value"` exact, `field~"value"` substring of at least three characters,
//! `field>n` and the other comparators on numeric fields, `-` negation, `metadata["key"]`,
//! clauses joined by whitespace or `AND`, or by `OR`, never both, at most ten), each resource's
//! query fields, and paging with the opaque `page` token of `next_page`.

use serde_json::Value;

/// A query field's type: tokens match exactly, strings also by substring, numbers compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Token,
    String,
    Numeric,
}

/// The query fields of each searchable resource (docs.stripe.com/search#query-fields).
pub fn fields(collection: &str) -> Option<&'static [(&'static str, FieldType)]> {
    use FieldType::{Numeric, String, Token};
    Some(match collection {
        "charges" => &[
            ("amount", Numeric),
            ("billing_details.address.postal_code", Token),
            ("created", Numeric),
            ("currency", Token),
            ("customer", Token),
            ("disputed", Token),
            ("metadata", Token),
            ("payment_method_details.card.last4", Token),
            ("payment_method_details.card.exp_month", Token),
            ("payment_method_details.card.exp_year", Token),
            ("payment_method_details.card.brand", Token),
            ("payment_method_details.card.fingerprint", Token),
            ("refunded", Token),
            ("status", Token),
        ],
        "customers" => &[
            ("created", Numeric),
            ("email", String),
            ("metadata", Token),
            ("name", String),
            ("phone", String),
        ],
        "invoices" => &[
            ("created", Numeric),
            ("currency", Token),
            ("customer", Token),
            ("last_finalization_error_code", Token),
            ("last_finalization_error_type", Token),
            ("metadata", Token),
            ("number", String),
            ("receipt_number", String),
            ("status", String),
            ("subscription", String),
            ("total", Numeric),
        ],
        "payment_intents" => &[
            ("amount", Numeric),
            ("created", Numeric),
            ("currency", Token),
            ("customer", Token),
            ("metadata", Token),
            ("status", Token),
        ],
        "prices" => &[
            ("active", Token),
            ("currency", Token),
            ("lookup_key", String),
            ("metadata", Token),
            ("product", String),
            ("type", Token),
        ],
        "products" => &[
            ("active", Token),
            ("description", String),
            ("metadata", Token),
            ("name", String),
            ("shippable", Token),
            ("url", String),
        ],
        "subscriptions" => &[
            ("canceled_at", Numeric),
            ("created", Numeric),
            ("metadata", Token),
            ("status", Token),
        ],
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Exact,
    Substring,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Text(String),
    Number(f64),
}

#[derive(Debug, Clone)]
struct Clause {
    negated: bool,
    /// The object path, e.g. `email` or `metadata.plan` (split at the first dot for metadata).
    path: Vec<String>,
    kind: FieldType,
    op: Op,
    value: Literal,
}

/// A parsed query: its clauses and whether any (OR) or all (AND) must hold.
#[derive(Debug, Clone)]
pub struct Query {
    clauses: Vec<Clause>,
    any: bool,
}

const MAX_CLAUSES: usize = 10;

/// Parses a query for a resource; the error is Stripe's message for a malformed query.
pub fn parse(query: &str, collection: &str) -> Result<Query, String> {
    let fields = fields(collection).ok_or("search is not supported on this resource")?;
    let mut chars = query.chars().peekable();
    let mut clauses = Vec::new();
    let mut joins: Vec<bool> = Vec::new();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        // A connective between clauses.
        if !clauses.is_empty() {
            let rest: String = chars
                .clone()
                .take(4)
                .collect::<String>()
                .to_ascii_uppercase();
            if rest.starts_with("AND ") || rest.starts_with("AND\t") {
                chars.nth(2);
                joins.push(false);
                continue;
            }
            if rest.starts_with("OR ") || rest.starts_with("OR\t") {
                chars.nth(1);
                joins.push(true);
                continue;
            }
            if joins.len() < clauses.len() {
                joins.push(false);
            }
        }
        clauses.push(clause(&mut chars, fields, collection)?);
    }
    if clauses.is_empty() {
        return Err("The query is empty.".into());
    }
    if clauses.len() > MAX_CLAUSES {
        return Err(format!(
            "The query has {} clauses; at most {MAX_CLAUSES} are allowed.",
            clauses.len()
        ));
    }
    let any = joins.iter().any(|or| *or);
    if any && joins.iter().any(|or| !or) {
        return Err("A query cannot combine AND and OR.".into());
    }
    Ok(Query { clauses, any })
}

fn clause(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    fields: &[(&'static str, FieldType)],
    collection: &str,
) -> Result<Clause, String> {
    let negated = chars.next_if_eq(&'-').is_some();
    let mut name = String::new();
    while let Some(c) = chars.next_if(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.') {
        name.push(c);
    }
    let mut path: Vec<String> = name.split('.').map(str::to_string).collect();
    if name == "metadata" {
        if chars.next_if_eq(&'[').is_none() {
            return Err("metadata must name a key: metadata[\"key\"]".into());
        }
        let key = quoted(chars)?;
        if chars.next_if_eq(&']').is_none() {
            return Err("metadata[\"key\"] lacks its closing bracket".into());
        }
        path.push(key);
    }
    let kind = fields
        .iter()
        .find(|(f, _)| *f == name)
        .map(|(_, k)| *k)
        .ok_or_else(|| {
            format!(
                "Field `{name}` is an unsupported search field for resource `{collection}`. See http://stripe.com/docs/search#query-fields-for-{} for a list of supported fields.",
                collection.replace('_', "-")
            )
        })?;
    let op = match (chars.next(), chars.peek()) {
        (Some(':'), _) => Op::Exact,
        (Some('~'), _) => Op::Substring,
        (Some('>'), Some('=')) => {
            chars.next();
            Op::Ge
        }
        (Some('<'), Some('=')) => {
            chars.next();
            Op::Le
        }
        (Some('>'), _) => Op::Gt,
        (Some('<'), _) => Op::Lt,
        _ => return Err(format!("`{name}` must be followed by :, ~, >, <, >= or <=")),
    };
    let value = match chars.peek() {
        Some('"' | '\'') => Literal::Text(quoted(chars)?),
        _ => {
            let mut word = String::new();
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                word.push(c);
            }
            match word.parse::<f64>() {
                Ok(n) => Literal::Number(n),
                Err(_) => return Err(format!("The value of `{name}` must be quoted or a number")),
            }
        }
    };
    match (op, kind, &value) {
        (Op::Substring, FieldType::String, Literal::Text(t)) if t.chars().count() >= 3 => {}
        (Op::Substring, FieldType::String, _) => {
            return Err("Substring search needs at least 3 characters.".into());
        }
        (Op::Substring, ..) => return Err(format!("`{name}` does not support substring search")),
        (Op::Gt | Op::Ge | Op::Lt | Op::Le, FieldType::Numeric, Literal::Number(_)) => {}
        (Op::Gt | Op::Ge | Op::Lt | Op::Le, ..) => {
            return Err(format!("`{name}` does not support numeric comparison"));
        }
        _ => {}
    }
    Ok(Clause {
        negated,
        path,
        kind,
        op,
        value,
    })
}

/// A single- or double-quoted string with backslash escapes.
fn quoted(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<String, String> {
    let quote = chars.next().filter(|c| *c == '"' || *c == '\'');
    let Some(quote) = quote else {
        return Err("expected a quoted string".into());
    };
    let mut out = String::new();
    loop {
        match chars.next() {
            None => return Err("unterminated string in the query".into()),
            Some('\\') => out.extend(chars.next()),
            Some(c) if c == quote => return Ok(out),
            Some(c) => out.push(c),
        }
    }
}

impl Query {
    pub fn matches(&self, object: &Value) -> bool {
        let mut held = self.clauses.iter().map(|c| c.holds(object));
        if self.any {
            held.any(|h| h)
        } else {
            held.all(|h| h)
        }
    }
}

impl Clause {
    fn holds(&self, object: &Value) -> bool {
        let value = self
            .path
            .iter()
            .try_fold(object, |v, key| v.get(key))
            .filter(|v| !v.is_null());
        let text = value.and_then(|v| match v {
            Value::String(s) => Some(s.to_lowercase()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            // An expanded reference matches by its id.
            Value::Object(o) => o.get("id").and_then(Value::as_str).map(str::to_lowercase),
            _ => None,
        });
        let hit = match (&self.value, self.op, self.kind) {
            (Literal::Number(n), op, FieldType::Numeric) => {
                value.and_then(Value::as_f64).is_some_and(|v| match op {
                    Op::Exact => v == *n,
                    Op::Gt => v > *n,
                    Op::Ge => v >= *n,
                    Op::Lt => v < *n,
                    Op::Le => v <= *n,
                    Op::Substring => false,
                })
            }
            (Literal::Text(t), Op::Substring, _) => {
                text.is_some_and(|v| v.contains(&t.to_lowercase()))
            }
            (Literal::Text(t), _, _) => text.is_some_and(|v| v == t.to_lowercase()),
            (Literal::Number(n), ..) => text.is_some_and(|v| v == n.to_string()),
        };
        hit != self.negated
    }
}

/// `next_page` of a search result: opaque to callers, the offset here.
pub fn page_token(offset: usize) -> String {
    format!("page_{offset:x}")
}

pub fn page_offset(token: &str) -> Option<usize> {
    usize::from_str_radix(token.strip_prefix("page_")?, 16).ok()
}
