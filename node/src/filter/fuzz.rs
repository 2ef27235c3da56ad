//! Property-based fuzzing of the filter clause (stable Rust, proptest).
//!
//! Runs 2000 cases per property by default so it fits in CI. For a longer run:
//! `PROPTEST_CASES=200000 cargo nextest run -p stripe-node filter::fuzz`
//! (or `cargo test -p stripe-node --release filter::fuzz`).

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::lower::parse_timestamp;
use super::tests::FIELDS;
use super::{Clause, FilterError, MAX_CLAUSE_BYTES, Op, SearchValue, parse};
use crate::fuzz_config::fuzz_config;

/// The words, operators and literals a clause is made of, to build near-miss input.
const TOKENS: &[&str] = &[
    "Email",
    "email",
    "Amount",
    "Created",
    "Livemode",
    "Metadata.plan",
    "Address.City",
    "Status",
    "Interval",
    "Nope",
    "\"Email\"",
    "AND",
    "OR",
    "NOT",
    "IN",
    "LIKE",
    "ILIKE",
    "IS",
    "NULL",
    "BETWEEN",
    "ESCAPE",
    "TRUE",
    "FALSE",
    "=",
    "!=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "(",
    ")",
    ",",
    "'a@b.c'",
    "'%x_'",
    "'2024-01-31'",
    "'abc",
    "''",
    "1",
    "-2",
    "3.5",
    "1700000000",
    "1e400",
    "99999999999999999999",
    "+",
    "*",
    "lower(",
    "SELECT",
    ";",
    "--",
    "/*",
    "\n",
    "'",
    "\"",
    "\\",
    "%",
    "é",
    "\u{0}",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..40).prop_map(|t| t.join(" "))
}

/// A predicate that types correctly against the test catalog.
fn predicate() -> impl Strategy<Value = String> {
    let string_field = prop::sample::select(vec![
        "Email",
        "Name",
        "Customer",
        "Status",
        "Metadata.plan",
        "Address.City",
        "Type",
    ]);
    let string_lit = prop::sample::select(vec![
        "'ada@example.com'",
        "'a@b.c'",
        "'active'",
        "'pro'",
        "'London'",
        "'O''Brien'",
        "''",
        "'cus_1'",
        "'é'",
    ]);
    let pattern = prop::sample::select(vec!["'%'", "'a%'", "'%@example.com'", "'_ro'", "'%o%n'"]);
    let number_field = prop::sample::select(vec!["Amount", "UnitAmountDecimal"]);
    let number_lit = prop::sample::select(vec!["0", "2000", "-1", "12.5", "'12.50'", "1e3"]);
    let ts_lit = prop::sample::select(vec![
        "1706659200",
        "'2024-01-31'",
        "'2024-01-31T00:00:00Z'",
        "'2023-12-31T23:00:00-01:00'",
        "0",
    ]);
    let cmp = prop::sample::select(vec!["=", "!=", "<>", "<", "<=", ">", ">="]);
    let eq = prop::sample::select(vec!["=", "!=", "<>"]);
    let bool_lit = prop::sample::select(vec!["TRUE", "FALSE", "true"]);
    let any_field = prop::sample::select(FIELDS.iter().map(|f| f.name).collect::<Vec<_>>());
    prop_oneof![
        (string_field.clone(), cmp.clone(), string_lit.clone())
            .prop_map(|(f, o, v)| format!("{f} {o} {v}")),
        (
            string_field.clone(),
            any::<bool>(),
            prop::collection::vec(string_lit, 1..4)
        )
            .prop_map(|(f, n, v)| format!(
                "{f} {}IN ({})",
                if n { "NOT " } else { "" },
                v.join(", ")
            )),
        (string_field, any::<bool>(), any::<bool>(), pattern).prop_map(|(f, n, i, p)| format!(
            "{f} {}{} {p}",
            if n { "NOT " } else { "" },
            if i { "ILIKE" } else { "LIKE" }
        )),
        (number_field, cmp.clone(), number_lit.clone())
            .prop_map(|(f, o, v)| format!("{f} {o} {v}")),
        (cmp, ts_lit.clone()).prop_map(|(o, v)| format!("Created {o} {v}")),
        (ts_lit.clone(), ts_lit).prop_map(|(a, b)| format!("Created BETWEEN {a} AND {b}")),
        (
            prop::sample::select(vec!["Livemode", "Active"]),
            eq,
            bool_lit
        )
            .prop_map(|(f, o, v)| format!("{f} {o} {v}")),
        (any_field, any::<bool>())
            .prop_map(|(f, n)| format!("{f} IS {}NULL", if n { "NOT " } else { "" })),
        number_lit.prop_map(|v| format!("{v} < Amount")),
    ]
}

/// Well-formed clauses: predicates joined by AND / OR, negated and parenthesised.
fn clause() -> impl Strategy<Value = String> {
    predicate().prop_recursive(6, 48, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..5).prop_map(|c| c.join(" AND ")),
            prop::collection::vec(inner.clone(), 2..5).prop_map(|c| c.join(" OR ")),
            inner.clone().prop_map(|c| format!("NOT ({c})")),
            inner.prop_map(|c| format!("({c})")),
        ]
    })
}

/// A predicate the test catalog pushes down to Stripe.
fn pushable() -> impl Strategy<Value = String> {
    let range = prop::sample::select(vec!["=", "<", "<=", ">", ">="]);
    let created = prop::sample::select(vec![
        "1706659200",
        "'2024-01-31'",
        "'2024-01-30T23:59:59Z'",
        "1703000000",
        "0",
    ]);
    prop_oneof![
        prop::sample::select(vec!["'ada@example.com'", "'a@b.c'", "''"])
            .prop_map(|v| format!("Email = {v}")),
        prop::sample::select(vec!["'cus_1'", "'cus_2'"]).prop_map(|v| format!("Customer = {v}")),
        prop::sample::select(vec![
            "'active'",
            "'pro'",
            "'active', 'pro'",
            "'pro', 'canceled'"
        ])
        .prop_map(|v| format!("Status IN ({v})")),
        prop::sample::select(vec!["'pro'", "'card', 'pro'", "'London', 'é', 'x'"])
            .prop_map(|v| format!("Type IN ({v})")),
        any::<bool>().prop_map(|b| format!("Active = {b}")),
        any::<bool>().prop_map(|b| format!("Active != {b}")),
        prop::sample::select(vec!["'pro'", "'free'"]).prop_map(|v| format!("Metadata.plan = {v}")),
        prop::sample::select(vec!["'%pro%'", "'Ad%'", "'%Bri_n'"])
            .prop_map(|v| format!("Name LIKE {v}")),
        (
            prop::sample::select(vec![">", "<=", "!="]),
            prop::sample::select(vec!["12", "2000"])
        )
            .prop_map(|(o, v)| format!("Amount {o} {v}")),
        (range, created).prop_map(|(o, v)| format!("Created {o} {v}")),
    ]
}

/// Clauses whose top level is a conjunction, most of it pushed down.
fn conjunction() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(pushable(), 1..4),
        prop::option::of(clause()),
    )
        .prop_map(|(mut parts, rest)| {
            parts.extend(rest.map(|c| format!("({c})")));
            parts.join(" AND ")
        })
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop::sample::select(vec![0i64, 2000, -1, 12, 13, 1_706_659_200, 1_704_067_200])
            .prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        prop::sample::select(vec![
            "ada@example.com",
            "a@b.c",
            "active",
            "pro",
            "London",
            "O'Brien",
            "",
            "cus_1",
            "12.50",
            "2024-01-31",
            "month",
            "é",
        ])
        .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ]
}

/// Arbitrary JSON, up to a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A value for one Stripe key: mostly of the right type and from the literals' pools (so
/// clauses often match), sometimes any scalar of another type.
fn value_for(key: &'static str) -> BoxedStrategy<Value> {
    let strings = |pool: Vec<&'static str>| prop::sample::select(pool).prop_map(Value::from);
    let typed = match key {
        "email" => strings(vec!["ada@example.com", "a@b.c", "", "A@b.c"]).boxed(),
        "name" | "type" => strings(vec!["Ada", "O'Brien", "pro", "London", "é", "cus_1"]).boxed(),
        "customer" => prop_oneof![
            strings(vec!["cus_1", "cus_2", "a@b.c"]),
            strings(vec!["cus_1", "cus_2"]).prop_map(|id| json!({ "id": id })),
        ]
        .boxed(),
        "status" => strings(vec!["active", "pro", "canceled", "''"]).boxed(),
        "amount" => prop::sample::select(vec![0i64, 2000, -1, 12, 13, 1000])
            .prop_map(Value::from)
            .boxed(),
        "unit_amount_decimal" => prop_oneof![
            strings(vec!["12.50", "0", "2000", "-1.5"]),
            prop::sample::select(vec![12.5f64, 0.0, 1e3]).prop_map(|f| json!(f)),
        ]
        .boxed(),
        "livemode" | "active" => any::<bool>().prop_map(Value::Bool).boxed(),
        "created" => prop::sample::select(vec![
            0i64,
            1_706_659_199,
            1_706_659_200,
            1_706_659_201,
            1_704_067_200,
            1_703_000_000,
        ])
        .prop_map(Value::from)
        .boxed(),
        "metadata" => prop::option::of(strings(vec!["pro", "free", ""]))
            .prop_map(|plan| plan.map_or(json!({}), |p| json!({ "plan": p })))
            .boxed(),
        "address" => strings(vec!["London", "Paris"])
            .prop_map(|city| json!({ "city": city, "line2": null }))
            .boxed(),
        _ => scalar().boxed(),
    };
    prop_oneof![6 => typed, 1 => scalar(), 1 => Just(Value::Null)].boxed()
}

/// Objects shaped like Stripe's for the test catalog.
fn stripe_object() -> impl Strategy<Value = Value> {
    const KEYS: [&str; 13] = [
        "id",
        "email",
        "name",
        "customer",
        "status",
        "amount",
        "unit_amount_decimal",
        "livemode",
        "active",
        "created",
        "metadata",
        "address",
        "type",
    ];
    KEYS.iter()
        .map(|k| prop::option::weighted(0.85, value_for(k)).prop_map(move |v| (*k, v)))
        .collect::<Vec<_>>()
        .prop_map(|pairs| {
            let obj: Map<String, Value> = pairs
                .into_iter()
                .filter_map(|(k, v)| Some((k.to_string(), v?)))
                .collect();
            Value::Object(obj)
        })
}

fn check_error(clause: &str, e: &FilterError) -> Result<(), TestCaseError> {
    prop_assert!(!e.message.trim().is_empty(), "empty message for {clause:?}");
    if let Some(pos) = e.position {
        prop_assert!(
            pos >= 1 && pos <= clause.chars().count() + 1,
            "position {pos} outside {clause:?}"
        );
    }
    Ok(())
}

/// What the pushed-down parameters promise, checked on an object the whole clause matches.
fn satisfies(object: &Value, param: &str, value: &str) -> bool {
    let field = |key: &str| object.get(key).filter(|v| !v.is_null());
    if let Some(bound) = param.strip_prefix("created[") {
        let Ok(limit) = value.parse::<i64>() else {
            return false;
        };
        let created = field("created").and_then(|v| match v {
            Value::String(s) => parse_timestamp(s),
            other => other.as_i64(),
        });
        let Some(created) = created else {
            return false;
        };
        return match bound {
            "gt]" => created > limit,
            "gte]" => created >= limit,
            "lt]" => created < limit,
            "lte]" => created <= limit,
            _ => false,
        };
    }
    field(param).and_then(as_text).is_some_and(|v| v == value)
}

/// The text of a JSON scalar as Stripe's list filters and search compare it.
fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("id").and_then(Value::as_str).map(str::to_string),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// What one search clause promises, read strictly (exact, case-sensitive): a clause the node
/// sends must hold on every object the whole clause matches.
fn holds(object: &Value, clause: &Clause) -> bool {
    let value = match clause.key.strip_prefix("metadata[") {
        Some(key) => {
            let key: String = serde_json::from_str(key.trim_end_matches(']')).unwrap_or_default();
            object["metadata"].get(key)
        }
        None => object.get(&clause.key),
    }
    .filter(|v| !v.is_null());
    // Amounts as numbers or numeric strings; timestamps also as dates (as the node reads them).
    let number = |v: &Value| {
        v.as_f64().or_else(|| {
            let s = v.as_str()?.trim();
            s.parse()
                .ok()
                .or_else(|| parse_timestamp(s).map(|t| t as f64))
        })
    };
    let hit = match (value, clause.op, &clause.value) {
        (None, ..) => false,
        (Some(v), Op::Exact, SearchValue::Text(t)) => as_text(v).as_ref() == Some(t),
        (Some(v), Op::Substring, SearchValue::Text(t)) => as_text(v).is_some_and(|s| s.contains(t)),
        (Some(v), op, SearchValue::Number(n)) => number(v).is_some_and(|x| {
            let n = *n as f64;
            match op {
                Op::Exact => x == n,
                Op::Gt => x > n,
                Op::Ge => x >= n,
                Op::Lt => x < n,
                Op::Le => x <= n,
                Op::Substring => false,
            }
        }),
        _ => false,
    };
    hit != clause.negated
}

/// Every promise of the list parameters, the split and the search query holds on an object
/// the whole clause matches (pushdown never loses a match).
fn check_pushdown(
    clause: &str,
    filter: &super::Filter,
    object: &Value,
) -> Result<(), TestCaseError> {
    let plan = filter.list_plan();
    let mut arrays: Vec<(&str, Vec<&str>)> = Vec::new();
    for (param, value) in &plan.params {
        match param.split_once('[') {
            Some((base, rest)) if rest.starts_with(|c: char| c.is_ascii_digit()) => {
                match arrays.iter_mut().find(|(b, _)| *b == base) {
                    Some((_, values)) => values.push(value),
                    None => arrays.push((base, vec![value])),
                }
            }
            _ => prop_assert!(
                satisfies(object, param, value),
                "{clause:?} matches {object} but pushes down {param}={value}"
            ),
        }
    }
    for (base, values) in arrays {
        // The test catalog's only array parameter: `types` for the field at `type`.
        prop_assert_eq!(base, "types");
        prop_assert!(
            values.iter().any(|v| satisfies(object, "type", v)),
            "{clause:?} matches {object} but sends types {values:?}"
        );
    }
    if let Some((param, values)) = &plan.split {
        prop_assert!(
            values.iter().any(|v| satisfies(object, param, v)),
            "{clause:?} matches {object} but lists {param} in {values:?}"
        );
    }
    if let Some(search) = filter.search_plan() {
        let held = search.clauses.iter().map(|c| holds(object, c));
        let ok = if search.any {
            held.clone().any(|h| h)
        } else {
            held.clone().all(|h| h)
        };
        prop_assert!(
            ok,
            "{clause:?} matches {object} but searches {}",
            search.query()
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(fuzz_config(2000))]

    #[test]
    fn arbitrary_text_never_panics(clause in any::<String>()) {
        if let Err(e) = parse(&clause, FIELDS) {
            check_error(&clause, &e)?;
        }
    }

    #[test]
    fn near_miss_clauses_never_panic(clause in token_soup(), object in stripe_object()) {
        match parse(&clause, FIELDS) {
            Ok(filter) => {
                let _ = filter.matches(&object);
                let _ = filter.pushdown();
            }
            Err(e) => check_error(&clause, &e)?,
        }
    }

    #[test]
    fn well_formed_clauses_parse_and_pushdown_is_sound(
        clause in prop_oneof![clause(), conjunction()],
        objects in prop::collection::vec(stripe_object(), 1..4),
    ) {
        prop_assume!(clause.len() <= MAX_CLAUSE_BYTES);
        let filter = match parse(&clause, FIELDS) {
            Ok(f) => f,
            Err(e) => return Err(TestCaseError::fail(format!("{clause:?}: {e:?}"))),
        };
        let negated = parse(&format!("NOT ({clause})"), FIELDS)
            .map_err(|e| TestCaseError::fail(format!("NOT ({clause:?}): {e:?}")))?;
        for object in &objects {
            let hit = filter.matches(object);
            prop_assert_eq!(negated.matches(object), !hit, "NOT inverts {} on {}", clause, object);
            if hit {
                // Pushdown may only narrow what Stripe returns to a superset of the matches.
                check_pushdown(&clause, &filter, object)?;
            }
        }
    }

    #[test]
    fn matches_never_panics_on_arbitrary_json(clause in clause(), object in json_value()) {
        if let Ok(filter) = parse(&clause, FIELDS) {
            let _ = filter.matches(&object);
        }
    }
}
