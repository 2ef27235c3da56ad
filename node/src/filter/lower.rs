//! Lowers a `sqlparser` expression into the typed tree, checking every field and literal
//! against the entity's fields and refusing any SQL outside the grammar.

use sqlparser::ast::{
    BinaryOperator, Expr, Ident, InTarget, Spanned, UnaryOperator, Value, ValueWithSpan,
};
use sqlparser::tokenizer::Location;

use super::ast::{CmpOp, FieldRef, Literal, Node, PathKey, Predicate, Test};
use super::like::LikePattern;
use super::syntax::{depth_error, describe, is_grammar_keyword, position, syntax_error};
use super::{FilterError, MAX_DEPTH};
use crate::catalog::{DataType, Field, Pushdown, SearchKind};

pub fn lower(expr: &Expr, fields: &[Field], clause: &str) -> Result<Node, FilterError> {
    Lowerer { fields, clause }.node(expr, 0)
}

/// A literal as written, before it is typed against its field.
enum Raw {
    Str(String),
    Number(String),
    Bool(bool),
    Null,
}

struct Lowerer<'a> {
    fields: &'a [Field],
    clause: &'a str,
}

impl Lowerer<'_> {
    fn node(&self, expr: &Expr, depth: usize) -> Result<Node, FilterError> {
        match expr {
            Expr::BinaryOp {
                op: op @ (BinaryOperator::And | BinaryOperator::Or),
                ..
            } => {
                let is_and = *op == BinaryOperator::And;
                let mut items = Vec::new();
                for operand in chain(expr, op) {
                    match (self.node(operand, depth)?, is_and) {
                        (Node::And(inner), true) | (Node::Or(inner), false) => items.extend(inner),
                        (n, _) => items.push(n),
                    }
                }
                Ok(if is_and {
                    Node::And(items)
                } else {
                    Node::Or(items)
                })
            }
            Expr::Nested(inner) => self.node(inner, self.deeper(depth)?),
            Expr::UnaryOp {
                op: UnaryOperator::Not,
                expr: inner,
            } => Ok(Node::Not(Box::new(self.node(inner, self.deeper(depth)?)?))),
            Expr::BinaryOp { left, op, right } => match cmp_op(op) {
                Some(op) => self.compare(left, op, right),
                None => Err(self.unsupported(expr)),
            },
            Expr::In {
                expr: target,
                target: InTarget::List(list),
                negated,
                ..
            } => {
                let field = self.expect_field(target, "IN")?;
                let values = list
                    .iter()
                    .map(|v| self.literal_for(&field, v))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(pred(
                    field,
                    Test::In {
                        negated: *negated,
                        values,
                    },
                ))
            }
            Expr::Like {
                negated,
                any: false,
                expr: target,
                pattern,
                escape_char,
            } => self.like(target, pattern, escape_char.as_deref(), *negated, false),
            Expr::ILike {
                negated,
                any: false,
                expr: target,
                pattern,
                escape_char,
            } => self.like(target, pattern, escape_char.as_deref(), *negated, true),
            Expr::IsNull(target) | Expr::IsNotNull(target) => {
                let field = self.expect_field(target, "IS NULL")?;
                let negated = matches!(expr, Expr::IsNotNull(_));
                Ok(pred(field, Test::IsNull { negated }))
            }
            Expr::Between {
                expr: target,
                negated,
                low,
                high,
            } => {
                let field = self.expect_field(target, "BETWEEN")?;
                self.check_ordered(&field, self.start_of(target))?;
                let low = self.literal_for(&field, low)?;
                let high = self.literal_for(&field, high)?;
                Ok(if *negated {
                    Node::Or(vec![
                        pred(field.clone(), Test::Cmp(CmpOp::Lt, low)),
                        pred(field, Test::Cmp(CmpOp::Gt, high)),
                    ])
                } else {
                    Node::And(vec![
                        pred(field.clone(), Test::Cmp(CmpOp::Ge, low)),
                        pred(field, Test::Cmp(CmpOp::Le, high)),
                    ])
                })
            }
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {
                let field = self.expect_field(expr, "a condition")?;
                Err(self.field_error(
                    &field,
                    format!(
                        "{0} alone is not a condition; compare it, e.g. {0} = ... or {0} IS NOT NULL",
                        field.name
                    ),
                    expr,
                ))
            }
            _ => Err(self.unsupported(expr)),
        }
    }

    fn deeper(&self, depth: usize) -> Result<usize, FilterError> {
        if depth >= MAX_DEPTH {
            Err(depth_error())
        } else {
            Ok(depth + 1)
        }
    }

    fn compare(&self, left: &Expr, op: CmpOp, right: &Expr) -> Result<Node, FilterError> {
        let (field, op, value) = match (self.field(left)?, self.field(right)?) {
            (Some(f), None) => (f, op, right),
            (None, Some(f)) => (f, op.flipped(), left),
            (Some(a), Some(b)) => return Err(self.two_fields(&a, &b, left)),
            (None, None) => {
                return Err(
                    match [left, right].into_iter().find(|e| raw_literal(e).is_none()) {
                        Some(other) => self.unsupported(other),
                        None => self.error(
                            "a comparison needs a field name on one side".to_string(),
                            None,
                            self.start_of(left),
                        ),
                    },
                );
            }
        };
        if op != CmpOp::Eq && op != CmpOp::Ne {
            self.check_ordered(&field, self.start_of(value))?;
        }
        let literal = self.literal_for(&field, value)?;
        Ok(pred(field, Test::Cmp(op, literal)))
    }

    /// `<`, `>`, BETWEEN need an ordered type.
    fn check_ordered(&self, field: &FieldRef, at: Location) -> Result<(), FilterError> {
        if field.data_type == DataType::Boolean {
            return Err(self.error(
                format!(
                    "{} is a Boolean field; only =, !=, IN and IS NULL apply to it",
                    field.name
                ),
                Some(&field.name),
                at,
            ));
        }
        Ok(())
    }

    fn like(
        &self,
        target: &Expr,
        pattern: &Expr,
        escape: Option<&Expr>,
        negated: bool,
        case_insensitive: bool,
    ) -> Result<Node, FilterError> {
        let keyword = if case_insensitive { "ILIKE" } else { "LIKE" };
        let field = self.expect_field(target, keyword)?;
        if field.data_type != DataType::String {
            return Err(self.field_error(
                &field,
                format!(
                    "{keyword} applies to String fields; {} is {} field",
                    field.name,
                    article_type(field.data_type)
                ),
                target,
            ));
        }
        let Some((Raw::Str(pattern_text), at)) = raw_literal(pattern) else {
            return Err(self.field_error(
                &field,
                format!(
                    "{keyword} needs a quoted pattern, e.g. {} {keyword} 'ab%'",
                    field.name
                ),
                pattern,
            ));
        };
        let escape = match escape {
            None => None,
            Some(e) => match raw_literal(e) {
                Some((Raw::Str(s), _)) if s.chars().count() == 1 => s.chars().next(),
                _ => {
                    return Err(self.field_error(
                        &field,
                        format!(
                            "{} {keyword}: ESCAPE needs a single quoted character, e.g. ESCAPE '\\'",
                            field.name
                        ),
                        e,
                    ));
                }
            },
        };
        let pattern = LikePattern::new(&pattern_text, escape, case_insensitive).map_err(|why| {
            self.error(
                format!("{} {keyword}: {why}", field.name),
                Some(&field.name),
                at,
            )
        })?;
        Ok(pred(field, Test::Like { negated, pattern }))
    }

    fn expect_field(&self, expr: &Expr, context: &str) -> Result<FieldRef, FilterError> {
        self.field(expr)?.ok_or_else(|| {
            self.error(
                format!("{context} needs a field name on its left side"),
                None,
                self.start_of(expr),
            )
        })
    }

    /// Resolves an identifier to a field; `Ok(None)` when the expression is no identifier.
    fn field(&self, expr: &Expr) -> Result<Option<FieldRef>, FilterError> {
        let idents: &[Ident] = match expr {
            Expr::Identifier(i) => std::slice::from_ref(i),
            Expr::CompoundIdentifier(parts) => parts,
            _ => return Ok(None),
        };
        let written: Vec<&str> = idents.iter().map(|i| i.value.as_str()).collect();
        let full = written.join(".");
        let at = idents.first().map_or(Location::empty(), |i| i.span.start);
        let named = |name: &str| {
            self.fields
                .iter()
                .find(|f| f.name.eq_ignore_ascii_case(name))
        };
        if let Some(f) = named(&full) {
            return Ok(Some(FieldRef {
                name: f.name.to_string(),
                path: f.path.split('.').map(PathKey::exact).collect(),
                data_type: f.data_type,
                pushdown: f.pushdown,
                search: f.search.map(|kind| (kind, f.path.to_string())),
                request_only: f.request_only,
            }));
        }
        if let (Some(head), true) = (named(written[0]), written.len() > 1) {
            if head.data_type != DataType::Object {
                return Err(self.error(
                    format!(
                        "{} is {} and has no sub-field {}",
                        head.name,
                        article_type(head.data_type),
                        written[1..].join(".")
                    ),
                    Some(head.name),
                    at,
                ));
            }
            // Keys under an Object field (Metadata.plan) are read as strings, keys kept as written.
            let keys = &written[1..];
            let mut path: Vec<PathKey> = head.path.split('.').map(PathKey::exact).collect();
            path.extend(keys.iter().map(|k| PathKey::written(k)));
            return Ok(Some(FieldRef {
                name: format!("{}.{}", head.name, keys.join(".")),
                search: search_key_under(head, &path),
                path,
                data_type: DataType::String,
                pushdown: Pushdown::None,
                request_only: false,
            }));
        }
        if let [word] = idents {
            if word.quote_style.is_none() && is_grammar_keyword(&word.value) {
                return Err(syntax_error(
                    self.clause,
                    &format!("unexpected {}", word.value.to_ascii_uppercase()),
                    at,
                ));
            }
        }
        let hint = if idents.iter().any(|i| i.quote_style == Some('"')) {
            " (string literals take single quotes: 'text')"
        } else {
            ""
        };
        let known: Vec<&str> = self.fields.iter().map(|f| f.name).collect();
        Err(self.error(
            format!(
                "unknown field {full}{hint}; known fields: {}",
                known.join(", ")
            ),
            Some(&full),
            at,
        ))
    }

    /// Reads a literal and types it against `field`.
    fn literal_for(&self, field: &FieldRef, expr: &Expr) -> Result<Literal, FilterError> {
        let Some((raw, at)) = raw_literal(expr) else {
            if let Some(other) = self.field(expr)? {
                return Err(self.two_fields(field, &other, expr));
            }
            return Err(self.field_error(
                field,
                format!(
                    "{} can only be compared to a literal (a quoted string, a number, TRUE or FALSE), not to `{}`",
                    field.name,
                    shorten(&expr.to_string())
                ),
                expr,
            ));
        };
        coerce(field, raw).map_err(|why| self.error(why, Some(&field.name), at))
    }

    /// An error about `field`, pointing at where `at` starts in the clause.
    fn field_error(&self, field: &FieldRef, message: String, at: &Expr) -> FilterError {
        self.error(message, Some(&field.name), self.start_of(at))
    }

    /// A comparison of `first` with `second`, another field.
    fn two_fields(&self, first: &FieldRef, second: &FieldRef, at: &Expr) -> FilterError {
        self.field_error(
            first,
            format!(
                "comparing two fields ({} and {}) is not supported; compare a field to a literal",
                first.name, second.name
            ),
            at,
        )
    }

    fn unsupported(&self, expr: &Expr) -> FilterError {
        self.error(
            format!(
                "`{}` is not supported; a clause is built from comparisons (=, !=, <, <=, >, >=), \
                 IN, LIKE, IS [NOT] NULL, AND, OR, NOT and parentheses",
                shorten(&expr.to_string())
            ),
            None,
            self.start_of(expr),
        )
    }

    fn start_of(&self, expr: &Expr) -> Location {
        match expr {
            Expr::Identifier(i) => i.span.start,
            Expr::CompoundIdentifier(parts) => {
                parts.first().map_or(Location::empty(), |i| i.span.start)
            }
            Expr::Value(v) => v.span.start,
            other => other.span().start,
        }
    }

    fn error(&self, message: String, field: Option<&str>, at: Location) -> FilterError {
        let message = match position(self.clause, at) {
            Some(_) => format!("{message} ({})", describe(self.clause, at)),
            None => message,
        };
        FilterError {
            message,
            field: field.map(str::to_string),
            position: position(self.clause, at),
        }
    }
}

/// The search key of one key under a searchable Object field (`metadata["plan"]`): only when the
/// key is looked up as written, since a search cannot try its snake_case form as well.
fn search_key_under(head: &Field, path: &[PathKey]) -> Option<(SearchKind, String)> {
    let kind = head.search?;
    match path.split_last() {
        Some((key, parent)) if parent.len() == 1 && key.snake.is_none() => Some((
            kind,
            format!("{}[{}]", head.path, super::search::quoted(&key.key)),
        )),
        _ => None,
    }
}

fn pred(field: FieldRef, test: Test) -> Node {
    Node::Pred(Predicate { field, test })
}

/// The operands of a left-deep chain of one operator (`a AND b AND c`), collected without
/// recursion so a long chain cannot exhaust the stack.
fn chain<'e>(expr: &'e Expr, op: &BinaryOperator) -> Vec<&'e Expr> {
    let mut operands = Vec::new();
    let mut cur = expr;
    loop {
        match cur {
            Expr::BinaryOp { left, op: o, right } if o == op => {
                operands.push(right.as_ref());
                cur = left;
            }
            _ => break,
        }
    }
    operands.push(cur);
    operands.reverse();
    operands
}

fn cmp_op(op: &BinaryOperator) -> Option<CmpOp> {
    Some(match op {
        BinaryOperator::Eq => CmpOp::Eq,
        BinaryOperator::NotEq => CmpOp::Ne,
        BinaryOperator::Lt => CmpOp::Lt,
        BinaryOperator::LtEq => CmpOp::Le,
        BinaryOperator::Gt => CmpOp::Gt,
        BinaryOperator::GtEq => CmpOp::Ge,
        _ => return None,
    })
}

fn raw_literal(expr: &Expr) -> Option<(Raw, Location)> {
    match expr {
        Expr::Value(ValueWithSpan { value, span }) => {
            let raw = match value {
                Value::SingleQuotedString(s) => Raw::Str(s.clone()),
                Value::Number(n, _) => Raw::Number(n.to_string()),
                Value::Boolean(b) => Raw::Bool(*b),
                Value::Null => Raw::Null,
                _ => return None,
            };
            Some((raw, span.start))
        }
        Expr::UnaryOp {
            op: op @ (UnaryOperator::Minus | UnaryOperator::Plus),
            expr: inner,
        } => match raw_literal(inner)? {
            (Raw::Number(n), _) if !n.starts_with(['-', '+']) => {
                let sign = if *op == UnaryOperator::Minus { "-" } else { "" };
                Some((Raw::Number(format!("{sign}{n}")), expr.span().start))
            }
            _ => None,
        },
        _ => None,
    }
}

/// Types a literal against its field; the error text names the field and says what fits.
fn coerce(field: &FieldRef, raw: Raw) -> Result<Literal, String> {
    let name = &field.name;
    if let Raw::Null = raw {
        return Err(format!(
            "compare {name} to NULL with IS NULL or IS NOT NULL, not with an operator"
        ));
    }
    match field.data_type {
        DataType::String => match raw {
            Raw::Str(s) => Ok(Literal::Str(s)),
            Raw::Number(n) => Err(format!("{name} is a String field; quote the value: '{n}'")),
            _ => Err(format!(
                "{name} is a String field; compare it to a quoted string"
            )),
        },
        DataType::Integer | DataType::Decimal => {
            let text = match raw {
                Raw::Number(n) => n,
                Raw::Str(s) => s.trim().to_string(),
                _ => String::new(),
            };
            parse_number(&text).ok_or_else(|| {
                format!(
                    "{name} is {} field; compare it to a number, not to {}",
                    article_type(field.data_type),
                    shorten_literal(&text)
                )
            })
        }
        DataType::Boolean => match raw {
            Raw::Bool(b) => Ok(Literal::Bool(b)),
            Raw::Str(_) => Err(format!(
                "{name} is a Boolean field; compare it to TRUE or FALSE, not to a string"
            )),
            _ => Err(format!(
                "{name} is a Boolean field; compare it to TRUE or FALSE"
            )),
        },
        DataType::Timestamp => {
            let parsed = match raw {
                Raw::Number(n) => n.parse::<i64>().ok(),
                Raw::Str(s) => parse_timestamp(&s),
                _ => None,
            };
            parsed.map(Literal::Int).ok_or_else(|| {
                format!(
                    "{name} is a Timestamp field; compare it to whole unix seconds or an RFC 3339 \
                     date such as '2024-01-31T00:00:00Z' or '2024-01-31'"
                )
            })
        }
        DataType::Object => Err(format!(
            "{name} is an Object field; only IS NULL and IS NOT NULL apply to it \
             (address a key as {name}.key)"
        )),
        DataType::Array => Err(format!(
            "{name} is an Array field; only IS NULL and IS NOT NULL apply to it"
        )),
    }
}

fn parse_number(text: &str) -> Option<Literal> {
    if let Ok(i) = text.parse::<i64>() {
        return Some(Literal::Int(i));
    }
    text.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .map(Literal::Float)
}

/// Unix seconds from `1700000000`, an RFC 3339 timestamp, a date-time without offset (UTC)
/// or a bare date (midnight UTC). Sub-second values are refused: Stripe stores whole seconds.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    use jiff::tz::TimeZone;
    let text = text.trim();
    if let Ok(secs) = text.parse::<i64>() {
        return Some(secs);
    }
    let ts = if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        ts
    } else if let Ok(dt) = text.parse::<jiff::civil::DateTime>() {
        dt.to_zoned(TimeZone::UTC).ok()?.timestamp()
    } else {
        text.parse::<jiff::civil::Date>()
            .ok()?
            .to_zoned(TimeZone::UTC)
            .ok()?
            .timestamp()
    };
    (ts.subsec_nanosecond() == 0).then(|| ts.as_second())
}

fn article_type(t: DataType) -> &'static str {
    match t {
        DataType::String => "a String",
        DataType::Integer => "an Integer",
        DataType::Decimal => "a Decimal",
        DataType::Boolean => "a Boolean",
        DataType::Timestamp => "a Timestamp",
        DataType::Object => "an Object",
        DataType::Array => "an Array",
    }
}

fn shorten_literal(text: &str) -> String {
    if text.is_empty() {
        "that value".to_string()
    } else {
        format!("'{}'", shorten(text))
    }
}

/// Keeps echoed input short in error messages.
fn shorten(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        let head: String = text.chars().take(MAX).collect();
        format!("{head}...")
    }
}
