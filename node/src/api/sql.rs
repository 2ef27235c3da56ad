//! `executeSqlQuery`: one `SELECT` over one entity type, read with `sqlparser` (the filter
//! clause's parser). WHERE is a filter clause (same semantics, same pushdown); projection,
//! ORDER BY, LIMIT, `maxRows`, `timeout` and `?` parameters bound by position are applied on
//! the node. Joins, subqueries, grouping and writes are refused, saying so.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{Map, Value, json};
use sqlparser::ast::{
    Expr, GroupByExpr, LimitClause, OrderByKind, OrderBySort, Query, SelectItem, SetExpr,
    Statement, TableFactor,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer, Word};

use super::conditions::Conditions;
use super::entities::Sort;
use super::extract::body_object;
use super::list::{self, PageToken};
use super::metadata::find_entity;
use super::payload;
use super::{admit, paging};
use crate::access::{Caller, Permission};
use crate::catalog::{ENTITIES, Entity, Operation};
use crate::error::{ApiError, ApiResult};
use crate::filter;
use crate::state::AppState;

/// Most rows one query answers; more matching rows without LIMIT (or with ORDER BY, which
/// needs them all) is an error rather than a silently cut result.
pub const MAX_ROWS: usize = 1000;
/// Most list rounds one query scans (as the with-conditions calls).
const MAX_SCAN_ROUNDS: usize = 20;

const FIELD: &str = "query.query";

/// The words of a SELECT beyond the filter clause's grammar (which WHERE shares): they keep their
/// SQL meaning; any other keyword that is also a field name is read as that field.
const SQL_KEYWORDS: &[Keyword] = &[
    Keyword::SELECT,
    Keyword::FROM,
    Keyword::WHERE,
    Keyword::ORDER,
    Keyword::BY,
    Keyword::LIMIT,
    Keyword::OFFSET,
    Keyword::ASC,
    Keyword::DESC,
    Keyword::AS,
    Keyword::DISTINCT,
    Keyword::GROUP,
    Keyword::HAVING,
    Keyword::JOIN,
    Keyword::ON,
    Keyword::UNION,
    Keyword::WITH,
    Keyword::ALL,
];

/// A checked query: what to read and how to shape the rows.
#[derive(Debug)]
pub struct Plan {
    pub entity: &'static Entity,
    /// (field, the column name it is answered under); empty means every field.
    pub columns: Vec<(&'static str, String)>,
    pub conditions: Conditions,
    pub order: Option<Sort>,
    pub limit: Option<usize>,
}

fn unsupported(what: &str) -> ApiError {
    ApiError::invalid(
        FIELD,
        format!(
            "{what} is not supported: one SELECT over one entity type, with WHERE, ORDER BY and LIMIT"
        ),
    )
}

/// Google's character data types: a parameter of one is a string.
const CHARACTER_TYPES: &[&str] = &[
    "VARCHAR",
    "CHAR",
    "STRING",
    "NVARCHAR",
    "NCHAR",
    "LONGVARCHAR",
    "LONGNVARCHAR",
];

/// A query parameter as a SQL literal token of its declared type.
fn literal(index: usize, parameter: &Value) -> ApiResult<Token> {
    let field = format!("query.queryParameters[{index}]");
    let value = &parameter["value"];
    let data_type = parameter["dataType"]
        .as_str()
        .unwrap_or("DATA_TYPE_UNSPECIFIED");
    let wrong = || ApiError::invalid(&field, format!("value {value} is not a {data_type}"));
    let number = |v: &Value| match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if s.trim().parse::<f64>().is_ok_and(f64::is_finite) => {
            Some(s.trim().to_string())
        }
        _ => None,
    };
    let word = |w: &str| Token::make_keyword(w);
    Ok(match (data_type, value) {
        (_, Value::Null) | ("NULL", _) => word("NULL"),
        (t, Value::String(s)) if CHARACTER_TYPES.contains(&t) => {
            Token::SingleQuotedString(s.clone())
        }
        (
            "CLOB"
            | "NCLOB"
            | "DATE"
            | "TIME"
            | "TIMESTAMP"
            | "DATETIME"
            | "TIMESTAMP_WITH_TIMEZONE"
            | "TIME_WITH_TIMEZONE"
            | "UUID",
            Value::String(s),
        ) => Token::SingleQuotedString(s.clone()),
        ("TIMESTAMP" | "DATETIME" | "TIMESTAMP_WITH_TIMEZONE", v) => {
            Token::Number(number(v).ok_or_else(wrong)?, false)
        }
        (
            "INT" | "INTEGER" | "SMALLINT" | "TINYINT" | "BIGINT" | "LONG" | "DOUBLE" | "FLOAT"
            | "REAL" | "DECIMAL" | "NUMERIC",
            v,
        ) => Token::Number(number(v).ok_or_else(wrong)?, false),
        ("BOOLEAN" | "BIT", Value::Bool(b)) => word(if *b { "TRUE" } else { "FALSE" }),
        ("BOOLEAN" | "BIT", Value::String(s)) if s == "true" || s == "false" => {
            word(&s.to_ascii_uppercase())
        }
        ("DATA_TYPE_UNSPECIFIED", Value::String(s)) => Token::SingleQuotedString(s.clone()),
        ("DATA_TYPE_UNSPECIFIED", Value::Number(n)) => Token::Number(n.to_string(), false),
        ("DATA_TYPE_UNSPECIFIED", Value::Bool(b)) => word(if *b { "TRUE" } else { "FALSE" }),
        (t, _) if CHARACTER_TYPES.contains(&t) => return Err(wrong()),
        ("BOOLEAN" | "BIT" | "DATA_TYPE_UNSPECIFIED", _) => return Err(wrong()),
        (other, _) => {
            return Err(ApiError::invalid(
                format!("{field}.dataType"),
                format!("{other} parameters are not supported"),
            ));
        }
    })
}

/// Tokens of the query with `?` parameters replaced by their values and field names that are
/// also SQL keywords read as names.
fn tokens(text: &str, parameters: &[Value]) -> ApiResult<Vec<Token>> {
    let dialect = GenericDialect {};
    let raw = Tokenizer::new(&dialect, text)
        .with_unescape(true)
        .tokenize()
        .map_err(|e| ApiError::invalid(FIELD, format!("syntax error: {e}")))?;
    let names: HashSet<String> = ENTITIES
        .iter()
        .flat_map(|e| e.fields.iter().map(|f| f.name.to_ascii_lowercase()))
        .chain(ENTITIES.iter().map(|e| e.name.to_ascii_lowercase()))
        .collect();
    let mut bound = 0;
    let mut out = Vec::with_capacity(raw.len());
    for token in raw {
        out.push(match token {
            Token::Placeholder(p) if p == "?" => {
                let parameter = parameters.get(bound).ok_or_else(|| {
                    ApiError::invalid(
                        "query.queryParameters",
                        format!(
                            "the query has more ? than the {} parameters given",
                            parameters.len()
                        ),
                    )
                })?;
                bound += 1;
                literal(bound - 1, parameter)?
            }
            Token::Placeholder(p) => {
                return Err(ApiError::invalid(
                    FIELD,
                    format!("placeholder {p} is not supported; bind parameters by position with ?"),
                ));
            }
            Token::Word(w) if filter::names_a_field(&w, SQL_KEYWORDS, &names) => {
                Token::Word(Word {
                    keyword: Keyword::NoKeyword,
                    ..w
                })
            }
            other => other,
        });
    }
    if bound != parameters.len() {
        return Err(ApiError::invalid(
            "query.queryParameters",
            format!(
                "{} parameters given for {bound} ? in the query",
                parameters.len()
            ),
        ));
    }
    Ok(out)
}

fn column_name(entity: &Entity, expr: &Expr) -> ApiResult<&'static str> {
    let name = match expr {
        Expr::Identifier(ident) => ident.value.clone(),
        Expr::CompoundIdentifier(parts) if parts.len() == 2 => {
            if !parts[0].value.eq_ignore_ascii_case(entity.name) {
                return Err(ApiError::invalid(
                    FIELD,
                    format!("{} names no table of this query", parts[0].value),
                ));
            }
            parts[1].value.clone()
        }
        other => return Err(unsupported(&format!("the expression {other}"))),
    };
    entity.field(&name).map(|f| f.name).ok_or_else(|| {
        ApiError::invalid(FIELD, format!("{name} is not a field of {}", entity.name))
    })
}

fn whole_number(expr: &Expr, what: &str) -> ApiResult<usize> {
    expr.to_string()
        .parse()
        .map_err(|_| ApiError::invalid(FIELD, format!("{what} must be a whole number, got {expr}")))
}

/// Reads and checks the query.
pub fn plan(text: &str, parameters: &[Value]) -> ApiResult<Plan> {
    if text.trim().is_empty() {
        return Err(ApiError::invalid(FIELD, "is required: a SELECT statement"));
    }
    let dialect = GenericDialect {};
    let mut statements = Parser::new(&dialect)
        .with_tokens(tokens(text, parameters)?)
        .parse_statements()
        .map_err(|e| ApiError::invalid(FIELD, format!("syntax error: {e}")))?;
    let statement = match (statements.pop(), statements.is_empty()) {
        (Some(s), true) => s,
        (None, _) => return Err(ApiError::invalid(FIELD, "is required: a SELECT statement")),
        (Some(_), false) => return Err(unsupported("more than one statement")),
    };
    let Statement::Query(query) = statement else {
        return Err(ApiError::invalid(
            FIELD,
            "only SELECT is supported; write with the entity operations and actions",
        ));
    };
    let Query {
        with,
        body,
        order_by,
        limit_clause,
        fetch,
        ..
    } = *query.clone();
    if with.is_some() {
        return Err(unsupported("WITH"));
    }
    if fetch.is_some() {
        return Err(unsupported("FETCH"));
    }
    let select = match *body {
        SetExpr::Select(select) => select,
        SetExpr::SetOperation { op, .. } => return Err(unsupported(&op.to_string())),
        SetExpr::Query(_) => return Err(unsupported("a subquery")),
        _ => return Err(unsupported("this statement")),
    };
    if select.distinct.is_some() {
        return Err(unsupported("DISTINCT"));
    }
    if !matches!(&select.group_by, GroupByExpr::Expressions(e, m) if e.is_empty() && m.is_empty()) {
        return Err(unsupported("GROUP BY"));
    }
    if select.having.is_some() {
        return Err(unsupported("HAVING"));
    }
    let [from] = select.from.as_slice() else {
        return Err(unsupported(if select.from.is_empty() {
            "a SELECT without FROM"
        } else {
            "more than one table"
        }));
    };
    if !from.joins.is_empty() {
        return Err(unsupported("JOIN"));
    }
    let TableFactor::Table { name, .. } = &from.relation else {
        return Err(unsupported("a subquery in FROM"));
    };
    let entity = find_entity(&name.to_string()).map_err(|e| e.about_field(FIELD))?;

    let mut columns = Vec::new();
    for item in &select.projection {
        match item {
            SelectItem::Wildcard(_) if select.projection.len() == 1 => {}
            SelectItem::UnnamedExpr(expr) => {
                let field = column_name(entity, expr)?;
                columns.push((field, field.to_string()));
            }
            SelectItem::ExprWithAlias { expr, alias } => {
                columns.push((column_name(entity, expr)?, alias.value.clone()));
            }
            other => return Err(unsupported(&format!("the select item {other}"))),
        }
    }

    let clause = select.selection.as_ref().map(|e| e.to_string());
    let conditions = Conditions::parse_as(entity, clause.as_deref(), FIELD)?;

    let order = match order_by.map(|o| o.kind) {
        None => None,
        Some(OrderByKind::All(_)) => return Err(unsupported("ORDER BY ALL")),
        Some(OrderByKind::Expressions(items)) => {
            let mut by = Vec::new();
            let mut orders = Vec::new();
            for item in &items {
                by.push(column_name(entity, &item.expr)?);
                orders.push(match &item.options.sort {
                    None | Some(OrderBySort::Asc) => "ASC",
                    Some(OrderBySort::Desc) => "DESC",
                    Some(OrderBySort::Using(_)) => return Err(unsupported("ORDER BY ... USING")),
                });
                if item.options.nulls_first.is_some() {
                    return Err(unsupported("NULLS FIRST/LAST"));
                }
            }
            let order = if orders.iter().all(|o| *o == orders[0]) {
                vec![orders[0]]
            } else {
                orders
            };
            Some(Sort::parse(entity, &by, &order).map_err(|e| e.about_field(FIELD))?)
        }
    };

    let limit = match limit_clause {
        None => None,
        Some(LimitClause::LimitOffset {
            limit,
            offset: None,
            limit_by,
        }) if limit_by.is_empty() => limit.map(|l| whole_number(&l, "LIMIT")).transpose()?,
        Some(_) => return Err(unsupported("OFFSET")),
    };
    Ok(Plan {
        entity,
        columns,
        conditions,
        order,
        limit,
    })
}

/// An int64 of the document (a JSON string or number), `field` naming it in errors.
fn int64(value: &Value, field: &str) -> ApiResult<Option<u64>> {
    let bad = || {
        ApiError::invalid(
            field,
            format!("must be a non-negative whole number, got {value}"),
        )
    };
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => n.as_u64().map(Some).ok_or_else(bad),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => s.trim().parse().map(Some).map_err(|_| bad()),
        _ => Err(bad()),
    }
}

/// The body `{"query": {"query", "maxRows"?, "timeout"?, "queryParameters"?}}`.
struct Request {
    text: String,
    max_rows: Option<u64>,
    timeout: Option<u64>,
    parameters: Vec<Value>,
}

fn request(body: &Value) -> ApiResult<Request> {
    body_object(
        body,
        &["query"],
        "must be {\"query\": {\"query\": \"SELECT ...\"}}",
        "unknown key; the body is {\"query\": {...}}",
    )?;
    let query = body["query"]
        .as_object()
        .ok_or_else(|| ApiError::invalid("query", "is required: {\"query\": \"SELECT ...\"}"))?;
    if let Some(other) = query
        .keys()
        .find(|k| !["query", "maxRows", "timeout", "queryParameters"].contains(&k.as_str()))
    {
        return Err(ApiError::invalid(
            format!("query.{other}"),
            "unknown key of a Query",
        ));
    }
    let text = match &query.get("query") {
        Some(Value::String(t)) => t.clone(),
        _ => return Err(ApiError::invalid(FIELD, "is required: a SELECT statement")),
    };
    let parameters = match query.get("queryParameters") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(_) => {
            return Err(ApiError::invalid(
                "query.queryParameters",
                "must be a list of {\"dataType\", \"value\"}",
            ));
        }
    };
    Ok(Request {
        text,
        max_rows: int64(
            query.get("maxRows").unwrap_or(&Value::Null),
            "query.maxRows",
        )?,
        timeout: int64(
            query.get("timeout").unwrap_or(&Value::Null),
            "query.timeout",
        )?,
        parameters,
    })
}

/// `POST {connection}:executeSqlQuery`: ExecuteSqlQueryResponse `{"results": [row, ...]}`.
pub async fn execute(state: &AppState, caller: &Caller, body: &Value) -> ApiResult<Value> {
    let request = request(body)?;
    let plan = plan(&request.text, &request.parameters)?;
    caller.require(Permission::Entity(plan.entity, Operation::List))?;
    let limit = [plan.limit, request.max_rows.map(|n| n as usize)]
        .into_iter()
        .flatten()
        .min();
    if limit.is_some_and(|l| l > MAX_ROWS) {
        return Err(ApiError::invalid(
            "query.maxRows",
            format!("at most {MAX_ROWS} rows are answered per query"),
        ));
    }
    admit(state).await?;
    let rows = read_rows(state, &plan, limit);
    let mut rows = match request.timeout.filter(|t| *t > 0) {
        None => rows.await?,
        Some(secs) => tokio::time::timeout(Duration::from_secs(secs), rows)
            .await
            .map_err(|_| {
                ApiError::deadline_exceeded(format!(
                    "the query took longer than its timeout of {secs}s"
                ))
            })??,
    };
    if let Some(order) = &plan.order {
        order.apply(&mut rows);
    }
    if let Some(limit) = limit {
        rows.truncate(limit);
    }
    let results: Vec<Value> = rows
        .into_iter()
        .map(|((), fields)| project(&plan, fields))
        .collect();
    Ok(json!({ "results": results }))
}

/// The matching rows as entity fields: up to `limit` without ORDER BY; every match (at most
/// [`MAX_ROWS`]) otherwise.
async fn read_rows(
    state: &AppState,
    plan: &Plan,
    limit: Option<usize>,
) -> ApiResult<Vec<((), Map<String, Value>)>> {
    let wanted = match (&plan.order, limit) {
        (None, Some(limit)) => limit,
        _ => MAX_ROWS + 1,
    };
    let mut token = PageToken {
        hash: list::query_hash(plan.entity, &plan.conditions),
        ..PageToken::default()
    };
    let mut rows = Vec::new();
    let mut exhausted = false;
    for _ in 0..MAX_SCAN_ROUNDS {
        if rows.len() >= wanted {
            break;
        }
        let size = (wanted - rows.len()).min(paging::MAX_PAGE_SIZE);
        let page = list::fetch_page(
            state.stripe.as_ref(),
            plan.entity,
            &plan.conditions,
            token,
            size,
        )
        .await
        .map_err(|e| match e.field() {
            Some("conditions") => e.about_field(FIELD),
            _ => e,
        })?;
        rows.extend(
            page.objects
                .iter()
                .map(|o| ((), payload::to_fields(plan.entity, o))),
        );
        match page.next {
            Some(next) => token = next,
            None => {
                exhausted = true;
                break;
            }
        }
    }
    if rows.len() > MAX_ROWS {
        let why = if plan.order.is_some() {
            " and ORDER BY needs them all"
        } else {
            ""
        };
        return Err(ApiError::invalid(
            FIELD,
            format!("more than {MAX_ROWS} rows match{why}; narrow the WHERE clause or add LIMIT"),
        ));
    }
    if !exhausted && rows.len() < wanted {
        return Err(ApiError::invalid(
            FIELD,
            format!(
                "the WHERE clause needs more than {} {} objects scanned; narrow it with fields Stripe filters (see pushedDownOperators)",
                MAX_SCAN_ROUNDS * list::MAX_STRIPE_PAGES * 100,
                plan.entity.name
            ),
        ));
    }
    Ok(rows)
}

fn project(plan: &Plan, mut fields: Map<String, Value>) -> Value {
    if plan.columns.is_empty() {
        return Value::Object(fields);
    }
    let row: Map<String, Value> = plan
        .columns
        .iter()
        .map(|(field, name)| (name.clone(), fields.remove(*field).unwrap_or(Value::Null)))
        .collect();
    Value::Object(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str, parameters: &[Value]) -> ApiError {
        match plan(text, parameters) {
            Ok(p) => panic!("{text} was accepted: {p:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn a_select_becomes_a_filter_with_projection_order_and_limit() {
        let p = plan(
            "SELECT Id, Email AS mail FROM Customer WHERE Email = ? AND Created > ? ORDER BY Name DESC LIMIT 5",
            &[
                json!({"dataType": "VARCHAR", "value": "a'b@x"}),
                json!({"dataType": "BIGINT", "value": "1700000000"}),
            ],
        )
        .unwrap();
        assert_eq!(p.entity.name, "Customer");
        assert_eq!(
            p.columns,
            [("Id", "Id".to_string()), ("Email", "mail".to_string())]
        );
        assert_eq!(p.limit, Some(5));
        assert!(p.order.is_some());
        let pushed = p.conditions.pushdown();
        assert!(
            pushed.contains(&("email".to_string(), "a'b@x".to_string())),
            "{pushed:?}"
        );
        assert!(pushed.contains(&("created[gt]".to_string(), "1700000000".to_string())));

        let all = plan("select * from PaymentIntent", &[]).unwrap();
        assert!(all.columns.is_empty() && all.conditions.text().is_empty());
    }

    #[test]
    fn what_is_not_one_select_over_one_entity_is_refused_by_name() {
        for (text, says) in [
            ("DELETE FROM Customer", "only SELECT"),
            (
                "SELECT * FROM Customer JOIN Invoice ON Customer.Id = Invoice.Customer",
                "JOIN",
            ),
            ("SELECT * FROM (SELECT * FROM Customer)", "subquery"),
            (
                "SELECT * FROM Customer UNION SELECT * FROM Customer",
                "UNION",
            ),
            ("SELECT DISTINCT Email FROM Customer", "DISTINCT"),
            ("SELECT Email FROM Customer GROUP BY Email", "GROUP BY"),
            ("SELECT * FROM Customer LIMIT 5 OFFSET 5", "OFFSET"),
            ("SELECT Nope FROM Customer", "not a field"),
            ("SELECT * FROM Nope", "does not exist"),
            ("SELECT * FROM Customer WHERE Email LIKE", "syntax error"),
            (
                "SELECT * FROM Customer; SELECT * FROM Invoice",
                "more than one",
            ),
        ] {
            let e = refused(text, &[]);
            assert_eq!(e.field(), Some(FIELD), "{text}: {e:?}");
            assert!(e.message().contains(says), "{text}: {}", e.message());
        }
        let e = refused("SELECT * FROM Customer WHERE Email = ?", &[]);
        assert_eq!(e.field(), Some("query.queryParameters"));
        let e = refused(
            "SELECT * FROM Customer WHERE Balance = ?",
            &[json!({"dataType": "BIGINT", "value": "ten"})],
        );
        assert_eq!(e.field(), Some("query.queryParameters[0]"));
        let e = refused("SELECT * FROM Customer WHERE Livemode = 'yes'", &[]);
        assert_eq!(e.field(), Some("query.query.Livemode"), "{e:?}");
    }
}
