use serde_json::{Value, json};

use super::*;
use crate::catalog::entities::f;
use crate::catalog::{DataType, Field, SearchKind};

/// A catalog shaped like the node's: Customer-, PaymentIntent- and Price-like fields, searchable
/// where Stripe's Search API has them.
#[rustfmt::skip]
pub(super) const FIELDS: &[Field] = &[
    f("Id", "id", DataType::String, ""),
    f("Email", "email", DataType::String, "").eq("email").search(SearchKind::Text),
    f("Name", "name", DataType::String, "").search(SearchKind::Text),
    f("Customer", "customer", DataType::String, "").eq("customer").search(SearchKind::Exact),
    f("Status", "status", DataType::String, "").eq("status").search(SearchKind::Exact),
    f("Amount", "amount", DataType::Integer, "").search(SearchKind::Numeric),
    f("UnitAmountDecimal", "unit_amount_decimal", DataType::Decimal, ""),
    f("Livemode", "livemode", DataType::Boolean, ""),
    f("Active", "active", DataType::Boolean, "").eq("active").search(SearchKind::Exact),
    f("Created", "created", DataType::Timestamp, "").range("created").search(SearchKind::Numeric),
    f("Metadata", "metadata", DataType::Object, "").search(SearchKind::Exact),
    f("Address", "address", DataType::Object, ""),
    f("Address.City", "address.city", DataType::String, ""),
    f("Interval", "recurring.interval", DataType::String, ""),
    f("Type", "type", DataType::String, "").any_of("types", 3),
    f("Discounts", "discounts", DataType::Array, ""),
];

fn customer() -> Value {
    json!({
        "id": "cus_1",
        "object": "customer",
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "customer": "cus_1",
        "status": "active",
        "amount": 2000,
        "unit_amount_decimal": "12.50",
        "livemode": false,
        "active": true,
        "created": 1_706_659_200, // 2024-01-31T00:00:00Z
        "metadata": {"plan": "pro", "order-id": "7"},
        "address": {"city": "London", "country": "GB", "line2": null},
        "recurring": {"interval": "month"},
        "type": "card",
        "discounts": [],
        "description": null
    })
}

fn ok(clause: &str) -> Filter {
    parse(clause, FIELDS).unwrap_or_else(|e| panic!("{clause:?} should parse: {e:?}"))
}

fn err(clause: &str) -> FilterError {
    match parse(clause, FIELDS) {
        Ok(f) => panic!("{clause:?} should be refused, parsed as {f:?}"),
        Err(e) => e,
    }
}

fn hit(clause: &str) -> bool {
    ok(clause).matches(&customer())
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn equality_and_inequality_on_strings() {
    assert!(hit("Email = 'ada@example.com'"));
    assert!(!hit("Email = 'ADA@example.com'"));
    assert!(hit("Email != 'bob@example.com'"));
    assert!(hit("Email <> 'bob@example.com'"));
    assert!(!hit("Email <> 'ada@example.com'"));
    assert!(hit("Name < 'B'") && hit("Name <= 'Ada Lovelace'") && !hit("Name > 'B'"));
    assert!(hit("Name >= 'Ada'"));
}

#[test]
fn numbers_compare_numerically() {
    assert!(hit("Amount = 2000"));
    assert!(hit("Amount > 999") && !hit("Amount > 2000") && hit("Amount >= 2000"));
    assert!(hit("Amount < 2000.5") && !hit("Amount < 2000") && hit("Amount <= 2000"));
    assert!(hit("Amount != 1999"));
    assert!(hit("Amount > -5"), "negative literals");
    assert!(hit("Amount = '2000'"), "a quoted number is still a number");
    // Decimal fields are strings at Stripe ("12.50") and compare as numbers.
    assert!(hit("UnitAmountDecimal = 12.5"));
    assert!(hit("UnitAmountDecimal > 12") && hit("UnitAmountDecimal < 13"));
    assert!(ok("UnitAmountDecimal = 12.5").matches(&json!({"unit_amount_decimal": 12.5})));
    assert!(!ok("Amount > 10").matches(&json!({"amount": "many"})));
}

#[test]
fn booleans_from_json_bools() {
    assert!(hit("Livemode = FALSE") && hit("livemode = false") && !hit("Livemode = TRUE"));
    assert!(hit("Active != FALSE") && hit("Active IN (TRUE)"));
}

#[test]
fn precedence_and_binds_tighter_than_or() {
    // Email matches; Amount fails; Name fails: TRUE OR (FALSE AND FALSE).
    assert!(hit(
        "Email = 'ada@example.com' OR Amount = 1 AND Name = 'x'"
    ));
    // (TRUE OR FALSE) AND FALSE.
    assert!(!hit(
        "(Email = 'ada@example.com' OR Amount = 1) AND Name = 'x'"
    ));
    assert!(hit("Amount = 1 AND Name = 'x' OR Type = 'card'"));
}

#[test]
fn not_inverts_and_binds_tighter_than_and() {
    assert!(hit("NOT Amount = 1"));
    assert!(!hit("NOT (Amount = 2000)"));
    assert!(hit("NOT Amount = 1 AND Type = 'card'"));
    assert!(!hit("NOT (Amount = 1 OR Type = 'card')"));
    assert!(hit("NOT NOT Type = 'card'"));
    // Two-valued logic: a comparison on a missing field is false, so its negation is true.
    assert!(!hit("Address.Line2 = 'x'"));
    assert!(hit("NOT Address.Line2 = 'x'"));
}

#[test]
fn in_and_not_in() {
    assert!(hit("Status IN ('canceled', 'active')"));
    assert!(!hit("Status IN ('canceled', 'past_due')"));
    assert!(hit("Status NOT IN ('canceled', 'past_due')"));
    assert!(!hit("Status NOT IN ('active')"));
    assert!(hit("Amount IN (1, 2000, 3)"));
    assert!(hit("Created IN ('2024-01-31', 5)"));
    assert!(
        !ok("Status NOT IN ('x')").matches(&json!({})),
        "missing field is false"
    );
}

#[test]
fn like_wildcards_and_case() {
    assert!(hit("Email LIKE 'ada@%'"));
    assert!(hit("Email LIKE '%@example.com'"));
    assert!(hit("Email LIKE '%example%'"));
    assert!(hit("Email LIKE 'ad_@example.com'"));
    assert!(
        !hit("Email LIKE 'a_@example.com'"),
        "_ is exactly one character"
    );
    assert!(!hit("Email LIKE 'ADA@%'"), "LIKE is case-sensitive");
    assert!(hit("Email ILIKE 'ADA@%'"), "ILIKE ignores case");
    assert!(hit("Email NOT LIKE 'bob%'") && !hit("Email NOT LIKE 'ada%'"));
    assert!(hit("Email NOT ILIKE 'BOB%'"));
    // Regex metacharacters are literal: '.' is not any character.
    assert!(!ok("Name LIKE 'Ada.Lovelace'").matches(&customer()));
    assert!(ok("Name LIKE 'a(b)[c]*+?'").matches(&json!({"name": "a(b)[c]*+?"})));
    // ESCAPE makes % and _ literal.
    let f = ok("Name LIKE '100!%' ESCAPE '!'");
    assert!(f.matches(&json!({"name": "100%"})) && !f.matches(&json!({"name": "1000"})));
    assert!(ok("Name LIKE '%'").matches(&json!({"name": "multi\nline"})));
    assert!(!ok("Name LIKE '%'").matches(&json!({"name": null})));
}

#[test]
fn is_null_and_is_not_null() {
    assert!(hit("Address.Line2 IS NULL"), "JSON null");
    assert!(hit("Metadata.missing IS NULL"), "missing key");
    assert!(!hit("Email IS NULL") && hit("Email IS NOT NULL"));
    assert!(hit("Metadata IS NOT NULL") && hit("Discounts IS NOT NULL"));
    assert!(ok("Metadata IS NULL").matches(&json!({"id": "x"})));
    assert!(!hit("NOT Email IS NOT NULL"));
}

#[test]
fn nested_fields_and_metadata_keys() {
    assert!(hit("Address.City = 'London'") && hit("address.city = 'London'"));
    assert!(
        hit("Address.Country = 'GB'"),
        "generic key under an Object field"
    );
    assert!(hit("Metadata.plan = 'pro'"));
    assert!(hit("Metadata.\"order-id\" = '7'"));
    // A key not found as written is tried in snake_case, as Stripe spells its keys.
    assert!(hit("Address.PostalCode IS NULL") && hit("Metadata.Plan = 'pro'"));
    let f = ok("Address.PostalCode = 'NW1'");
    assert!(f.matches(&json!({"address": {"postal_code": "NW1"}})));
    assert!(f.matches(&json!({"address": {"PostalCode": "NW1", "postal_code": "x"}})));
    let e = err("Email.domain = 'x'");
    assert_eq!(e.field.as_deref(), Some("Email"));
    assert!(
        e.message.contains("has no sub-field domain"),
        "{}",
        e.message
    );
}

#[test]
fn fields_named_like_sql_keywords() {
    assert!(hit("Interval = 'month'"));
    assert!(hit("Type = 'card' AND interval IN ('month', 'year')"));
}

#[test]
fn literal_may_stand_on_the_left() {
    assert!(hit("1706659199 < Created"));
    assert!(hit("'ada@example.com' = Email"));
    let f = ok("1706659199 < Created");
    assert_eq!(f.pushdown(), pairs(&[("created[gt]", "1706659199")]));
}

#[test]
fn expanded_objects_compare_by_id() {
    let f = ok("Customer = 'cus_9'");
    assert!(f.matches(&json!({"customer": {"id": "cus_9", "object": "customer"}})));
    assert!(f.matches(&json!({"customer": "cus_9"})));
}

#[test]
fn timestamp_literals() {
    for clause in [
        "Created = 1706659200",
        "Created = '1706659200'",
        "Created = '2024-01-31T00:00:00Z'",
        "Created = '2024-01-31T01:00:00+01:00'",
        "Created = '2024-01-31'",
        "Created = '2024-01-31T00:00:00'",
        "Created = '2024-01-31 00:00:00Z'",
    ] {
        assert!(hit(clause), "{clause}");
        assert_eq!(
            ok(clause).pushdown(),
            pairs(&[
                ("created[gte]", "1706659200"),
                ("created[lte]", "1706659200")
            ]),
            "{clause}"
        );
    }
    assert!(hit("Created > '2024-01-30' AND Created < '2024-02-01'"));
    for bad in [
        "Created = 'yesterday'",
        "Created = '2024-01-31T00:00:00.5Z'",
        "Created > 1.5",
        "Created = TRUE",
    ] {
        let e = err(bad);
        assert_eq!(e.field.as_deref(), Some("Created"), "{bad}");
        assert!(e.message.contains("Timestamp"), "{bad}: {}", e.message);
    }
}

#[test]
fn between_is_two_bounds() {
    assert!(hit("Amount BETWEEN 1000 AND 3000") && !hit("Amount NOT BETWEEN 1000 AND 3000"));
    assert!(hit("Amount NOT BETWEEN 1 AND 10"));
    let f = ok("Created BETWEEN '2024-01-01' AND '2024-02-01'");
    assert_eq!(
        f.pushdown(),
        pairs(&[
            ("created[gte]", "1704067200"),
            ("created[lte]", "1706745600")
        ])
    );
    assert!(f.fully_pushed_down());
}

#[test]
fn typing_errors_name_the_field() {
    let cases = [
        ("Livemode = 'true'", "Livemode", "Boolean"),
        ("Livemode > TRUE", "Livemode", "Boolean"),
        ("Amount = 'abc'", "Amount", "number"),
        ("Amount = TRUE", "Amount", "number"),
        ("UnitAmountDecimal < 'x'", "UnitAmountDecimal", "number"),
        (
            "Amount LIKE '1%'",
            "Amount",
            "LIKE applies to String fields",
        ),
        ("Created LIKE '2024%'", "Created", "LIKE"),
        ("Email = 5", "Email", "quote the value"),
        ("Email = TRUE", "Email", "String"),
        ("Email = NULL", "Email", "IS NULL"),
        ("Metadata = 'x'", "Metadata", "Object"),
        ("Discounts = 'x'", "Discounts", "Array"),
        ("Email = Name", "Email", "two fields"),
        ("Email LIKE Name", "Email", "quoted pattern"),
        ("livemode = 'x'", "Livemode", "Boolean"),
        ("Email", "Email", "alone is not a condition"),
        ("Name LIKE 'a' ESCAPE 'ab'", "Name", "ESCAPE"),
        ("Name LIKE 'a!' ESCAPE '!'", "Name", "escape character"),
    ];
    for (clause, field, says) in cases {
        let e = err(clause);
        assert_eq!(e.field.as_deref(), Some(field), "{clause}: {e:?}");
        assert!(e.message.contains(says), "{clause}: {}", e.message);
        assert!(e.message.contains(field), "{clause}: {}", e.message);
        assert!(e.position.is_some(), "{clause}: {e:?}");
    }
}

#[test]
fn unknown_field_is_named_with_its_position() {
    let e = err("Email = 'a' AND Colour = 'red'");
    assert_eq!(e.field.as_deref(), Some("Colour"));
    assert_eq!(e.position, Some(17));
    assert!(
        e.message.starts_with("unknown field Colour;"),
        "{}",
        e.message
    );
    assert!(
        e.message.contains("known fields: Id, Email"),
        "{}",
        e.message
    );
    assert!(e.message.contains("position 17"), "{}", e.message);
}

#[test]
fn constructs_outside_the_grammar_are_refused() {
    for clause in [
        "lower(Email) = 'a'",
        "Amount + 1 > 5",
        "Email IN (SELECT email FROM customers)",
        "EXISTS (SELECT 1)",
        "CASE WHEN Amount > 1 THEN TRUE END",
        "Amount = 1 + 1",
        "CAST(Amount AS TEXT) = '1'",
        "Email IS TRUE",
        "Email ~ 'a'",
        "'a' = 'a'",
        "Email LIKE ANY ('a%')",
    ] {
        let e = err(clause);
        assert!(!e.message.is_empty(), "{clause}");
        assert!(
            e.position.is_some() || e.message.contains("syntax error"),
            "{clause}: {e:?}"
        );
    }
    let e = err("lower(Email) = 'a'");
    assert!(
        e.message.starts_with("`lower(Email)` is not supported"),
        "{}",
        e.message
    );
    let e = err("Email = \"x\"");
    assert!(
        e.message.contains("string literals take single quotes"),
        "{}",
        e.message
    );
    let e = err("Email = 'a' AND AND");
    assert_eq!(e.message, "syntax error at position 17: unexpected AND");
    let e = err("Email = 'a'; DROP TABLE customers");
    assert_eq!(
        e.message,
        "syntax error at position 12: unexpected `;`; expected AND, OR or the end of the clause"
    );
    let e = err("Email IS TRUE");
    assert!(e.message.contains("not supported"), "{}", e.message);
}

#[test]
fn syntax_errors_name_the_position() {
    let e = err("Email = ");
    assert!(
        e.message.starts_with("syntax error at position 9"),
        "{}",
        e.message
    );
    assert_eq!(e.position, Some(9));

    let e = err("Email = 'abc");
    assert!(
        e.message.contains("syntax error at position"),
        "{}",
        e.message
    );
    assert!(e.message.contains("Unterminated string"), "{}", e.message);

    let e = err("Email = 'a' Name = 'b'");
    assert_eq!(e.position, Some(13));
    assert!(
        e.message.contains("expected AND, OR or the end"),
        "{}",
        e.message
    );

    let e = err("(Email = 'a'");
    assert!(e.message.starts_with("syntax error"), "{}", e.message);
    assert!(e.position == Some(13), "{e:?}");

    let e = err("Email = 'a' AND\n  Amount >");
    assert!(e.message.contains("line 2"), "{}", e.message);

    let e = err("Email = 'a' AND AND");
    assert!(e.position.is_some(), "{e:?}");
}

#[test]
fn quotes_are_escaped_by_doubling() {
    let f = ok("Name = 'O''Brien'");
    assert!(f.matches(&json!({"name": "O'Brien"})));
    assert_eq!(
        ok("Email = 'o''b@x.io'").pushdown(),
        pairs(&[("email", "o'b@x.io")])
    );
}

#[test]
fn pushdown_equals_and_ranges() {
    let f = ok("Email = 'a@b.c' AND Created > '2024-01-01'");
    assert_eq!(
        f.pushdown(),
        pairs(&[("email", "a@b.c"), ("created[gt]", "1704067200")])
    );
    assert!(f.fully_pushed_down());

    let f = ok("Customer = 'cus_1' AND Created >= 1 AND Created < 2 AND Created <= 3");
    assert_eq!(
        f.pushdown(),
        pairs(&[
            ("customer", "cus_1"),
            ("created[gte]", "1"),
            ("created[lt]", "2"),
            ("created[lte]", "3")
        ])
    );
    assert!(f.fully_pushed_down());

    let f = ok("Status IN ('open') AND Active = TRUE");
    assert_eq!(
        f.pushdown(),
        pairs(&[("status", "open"), ("active", "true")])
    );

    // Nested parentheses of a conjunction are still top-level conjuncts.
    let f = ok("(Email = 'a@b.c' AND (Created > 5))");
    assert_eq!(
        f.pushdown(),
        pairs(&[("email", "a@b.c"), ("created[gt]", "5")])
    );
}

#[test]
fn pushdown_keeps_the_rest_on_the_node() {
    let f = ok("Email = 'a@b.c' AND Name LIKE 'A%'");
    assert_eq!(f.pushdown(), pairs(&[("email", "a@b.c")]));
    assert!(!f.fully_pushed_down());

    for clause in [
        "Email = 'a@b.c' OR Created > 5",
        "NOT Email = 'a@b.c'",
        "NOT (Email = 'a@b.c' AND Created > 5)",
        "(Email = 'a@b.c' OR Name = 'x') AND Amount > 5",
        "Email != 'a@b.c'",
        "Email > 'a'",
        "Status NOT IN ('open')",
        "Email LIKE 'a%'",
        "Email IS NULL",
        "Created != 5",
        "Created >= -1",
        "Email = ''",
        "Name = 'x'",
    ] {
        let f = ok(clause);
        assert!(f.pushdown().is_empty(), "{clause}: {:?}", f.pushdown());
        assert!(!f.fully_pushed_down(), "{clause}");
    }

    // A parameter is sent once; a second conjunct on it stays on the node.
    let f = ok("Created > 5 AND Created > 10");
    assert_eq!(f.pushdown(), pairs(&[("created[gt]", "5")]));
    assert!(!f.fully_pushed_down());
    assert!(f.matches(&json!({"created": 11})) && !f.matches(&json!({"created": 7})));
    let f = ok("Email = 'a' AND Email = 'b'");
    assert_eq!(f.pushdown(), pairs(&[("email", "a")]));
    assert!(!f.fully_pushed_down());
}

#[test]
fn pushed_down_conjuncts_are_rechecked() {
    let f = ok("Email = 'a@b.c' AND Created > 100");
    assert!(f.matches(&json!({"email": "a@b.c", "created": 101})));
    assert!(!f.matches(&json!({"email": "A@b.c", "created": 101})));
    assert!(!f.matches(&json!({"email": "a@b.c", "created": 100})));
}

#[test]
fn empty_and_whitespace_clauses_are_errors() {
    for clause in ["", "   ", "\n\t "] {
        assert_eq!(err(clause).message, "conditions is empty");
    }
}

#[test]
fn length_limit_is_checked_before_parsing() {
    let term = "Amount = 1 OR ";
    // A complete clause padded with spaces to exactly the limit.
    let body = term.repeat((MAX_CLAUSE_BYTES - 20) / term.len()) + "Amount = 2000";
    let exact = format!("{body:<width$}", width = MAX_CLAUSE_BYTES);
    assert_eq!(exact.len(), MAX_CLAUSE_BYTES);
    let f = ok(&exact);
    assert!(
        f.matches(&customer()),
        "a long OR chain parses and evaluates"
    );

    let over = format!("{exact} ");
    let e = err(&over);
    assert_eq!(
        e.message,
        "conditions is 4097 bytes long; the limit is 4096 bytes"
    );
    // Far beyond the limit: refused without parsing.
    let e = err(&"(".repeat(1_000_000));
    assert!(e.message.contains("the limit is 4096 bytes"));
}

#[test]
fn nesting_limit_counts_parentheses_and_not() {
    let nested = |depth: usize| format!("{}Amount = 2000{}", "(".repeat(depth), ")".repeat(depth));
    assert!(hit(&nested(MAX_DEPTH)));
    let e = err(&nested(MAX_DEPTH + 1));
    assert!(e.message.contains("limit of 32 levels"), "{}", e.message);
    let e = err(&nested(200));
    assert!(e.message.contains("limit of 32 levels"), "{}", e.message);

    let nots = |depth: usize| format!("{}Amount = 1", "NOT ".repeat(depth));
    assert!(!hit(&nots(MAX_DEPTH)), "32 NOTs cancel out");
    assert!(
        err(&nots(MAX_DEPTH + 1))
            .message
            .contains("limit of 32 levels")
    );
    assert!(err(&nots(500)).message.contains("limit of 32 levels"));

    let mixed = |depth: usize| {
        format!(
            "{}Amount IN (1, 2000){}",
            "NOT (".repeat(depth / 2),
            ")".repeat(depth / 2)
        )
    };
    assert!(hit(&mixed(MAX_DEPTH)));
    assert!(
        err(&mixed(MAX_DEPTH + 2))
            .message
            .contains("limit of 32 levels")
    );

    // Width is not depth: a long flat chain is fine.
    let wide = vec!["Amount = 1"; 200].join(" AND ");
    assert!(!hit(&wide));
}

#[test]
fn filter_can_be_shared_across_tasks() {
    fn shareable<T: Send + Sync + 'static>(_: &T) {}
    let f = ok("Email LIKE 'a%' AND Created > '2024-01-01'");
    shareable(&f);
    let e = err(&format!("{}Amount = 1{}", "(".repeat(33), ")".repeat(33)));
    assert_eq!(
        e.message,
        "conditions nests deeper than the limit of 32 levels (parentheses and NOT) at position 33"
    );
    assert_eq!(e.position, Some(33));
}
#[test]
fn deep_unsupported_nesting_stops_at_the_parser_limit() {
    for clause in [
        format!("{}1{}", "f(".repeat(1300), ")".repeat(1300)),
        format!("Amount = {}1", "- ".repeat(1300)),
        format!("Amount IN (1, {}1{})", "f(".repeat(1300), ")".repeat(1300)),
        format!("Amount = {}1{}", "(".repeat(1000), ")".repeat(1000)),
    ] {
        let e = err(&clause);
        assert!(e.message.contains("limit of 32 levels"), "{}", e.message);
    }
}

#[test]
fn positions_count_characters_not_bytes() {
    let e = err("Name = 'é' AND Émail = 'x'");
    assert_eq!(e.position, Some(16));
    assert_eq!(e.field.as_deref(), Some("Émail"));
}

#[test]
fn an_in_list_on_a_single_valued_parameter_is_one_list_per_value() {
    let f = ok("Status IN ('open', 'paid', 'open') AND Email = 'a@b.c'");
    let plan = f.list_plan();
    assert_eq!(
        plan.split,
        Some((
            "status".to_string(),
            vec!["open".to_string(), "paid".to_string()]
        ))
    );
    assert_eq!(plan.params, pairs(&[("email", "a@b.c")]));
    assert!(plan.complete() && plan.sends("status"));
    // One split at most; the second IN stays on the node.
    let f = ok("Status IN ('a', 'b') AND Customer IN ('c', 'd')");
    assert_eq!(f.list_plan().split.as_ref().unwrap().0, "status");
    assert_eq!(f.list_plan().pushed, [true, false]);
    // Nor does a split share its parameter with an equality.
    let f = ok("Status = 'a' AND Status IN ('a', 'b')");
    assert_eq!(f.pushdown(), pairs(&[("status", "a")]));
    assert!(f.list_plan().split.is_none());
}

#[test]
fn an_array_parameter_takes_the_whole_in_list_in_one_call() {
    let f = ok("Type IN ('card', 'sepa_debit')");
    assert_eq!(
        f.pushdown(),
        pairs(&[("types[0]", "card"), ("types[1]", "sepa_debit")])
    );
    assert!(f.fully_pushed_down());
    assert_eq!(
        ok("Type = 'card'").pushdown(),
        pairs(&[("types[0]", "card")])
    );
    // Over its limit (3 here) it stays on the node.
    assert!(ok("Type IN ('a', 'b', 'c', 'd')").pushdown().is_empty());
    // Sent once: a second conjunct on it is checked on the node.
    let f = ok("Type = 'a' AND Type IN ('a', 'b')");
    assert_eq!(f.pushdown(), pairs(&[("types[0]", "a")]));
    assert!(!f.fully_pushed_down());
}

#[test]
fn a_boolean_not_equal_is_sent_as_the_other_value() {
    assert_eq!(
        ok("Active != TRUE").pushdown(),
        pairs(&[("active", "false")])
    );
    assert_eq!(
        ok("Active <> FALSE").pushdown(),
        pairs(&[("active", "true")])
    );
    let f = ok("Active != TRUE");
    assert!(f.matches(&json!({"active": false})));
    assert!(!f.matches(&json!({"active": null})));
}

#[rustfmt::skip]
const CHILD: &[Field] = &[
    f("Id", "id", DataType::String, ""),
    f("Invoice", "invoice", DataType::String, "").from_request().eq("invoice"),
    f("Amount", "amount", DataType::Integer, ""),
];

#[test]
fn a_request_only_field_must_be_pushed_down() {
    let f = parse("Invoice = 'in_1' AND Amount > 5", CHILD).unwrap();
    assert_eq!(f.pushdown(), pairs(&[("invoice", "in_1")]));
    assert!(f.uses_request_only());
    let f = parse("Invoice IN ('in_1', 'in_2')", CHILD).unwrap();
    assert!(f.list_plan().split.is_some());
    for clause in [
        "Invoice = 'in_1' OR Amount > 5",
        "NOT Invoice = 'in_1'",
        "Invoice != 'in_1'",
        "Invoice LIKE 'in%'",
        "Invoice = 'in_1' AND Invoice = 'in_2'",
    ] {
        let e = parse(clause, CHILD).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("Invoice"), "{clause}: {e:?}");
        assert!(e.message.contains("Invoice = '...'"), "{}", e.message);
    }
    assert!(!parse("Amount > 5", CHILD).unwrap().uses_request_only());
}

fn query(clause: &str) -> Option<String> {
    ok(clause).search_plan().map(|p| p.query())
}

#[test]
fn searchable_conjuncts_become_one_search_query() {
    assert_eq!(
        query("Metadata.user_id = 'u_42'").as_deref(),
        Some(r#"metadata["user_id"]:"u_42""#)
    );
    assert_eq!(
        query("Email = 'a@b.c' AND Created >= '2024-01-31' AND Amount < 500 AND Active = TRUE")
            .as_deref(),
        Some(r#"email:"a@b.c" AND created>=1706659200 AND amount<500 AND active:"true""#)
    );
    assert_eq!(
        query("Status != 'void' AND Customer NOT IN ('cus_1', 'cus_2')").as_deref(),
        Some(r#"-status:"void" AND -customer:"cus_1" AND -customer:"cus_2""#)
    );
    assert_eq!(
        query("Created BETWEEN 10 AND 20").as_deref(),
        Some("created>=10 AND created<=20")
    );
    // Quotes and backslashes are escaped; a key that could also be read in snake_case is not
    // searched (Stripe looks up one key).
    assert_eq!(
        query(r#"Name = 'Say \ "hi" ''ok'''"#).as_deref(),
        Some(r#"name:"Say \\ \"hi\" 'ok'""#)
    );
    assert_eq!(query("Metadata.UserId = 'u'"), None);
}

#[test]
fn the_rest_of_a_clause_stays_on_the_node() {
    let f = ok("Metadata.plan = 'pro' AND Interval = 'month' AND NOT Status = 'x'");
    let plan = f.search_plan().unwrap();
    assert_eq!(plan.query(), r#"metadata["plan"]:"pro""#);
    assert_eq!(plan.used, [true, false, false]);
    assert!(!plan.complete());
    // Ordering a string, or a float on a numeric field, has no search form.
    assert_eq!(query("Email > 'a'"), None);
    assert_eq!(query("Amount > 1.5"), None);
    assert_eq!(query("Email = ''"), None);
    assert_eq!(query("Interval = 'month'"), None);
}

#[test]
fn a_like_narrows_to_a_substring_of_at_least_three_characters() {
    let f = ok("Email LIKE '%@example.com' AND Name = 'Ada'");
    let plan = f.search_plan().unwrap();
    assert_eq!(plan.query(), r#"email~"@example.com" AND name:"Ada""#);
    assert_eq!(plan.used, [true, true]);
    assert_eq!(plan.exact, [false, true]);
    assert_eq!(query("Name LIKE 'a_c%'"), None);
    assert_eq!(query("Name ILIKE '%ada%'"), None);
    assert_eq!(query("Name NOT LIKE '%ada%'"), None);
    assert_eq!(
        query("Status LIKE '%act%'"),
        None,
        "token fields have no substring search"
    );
}

#[test]
fn one_in_list_or_disjunction_alone_becomes_an_or_query() {
    assert_eq!(
        query("Status IN ('active', 'past_due')").as_deref(),
        Some(r#"status:"active" OR status:"past_due""#)
    );
    assert_eq!(
        query("Email = 'a@b.c' OR Name = 'Ada'").as_deref(),
        Some(r#"email:"a@b.c" OR name:"Ada""#)
    );
    // AND and OR do not mix in one query: the AND part wins, the IN stays on the node.
    let f = ok("Status IN ('active', 'past_due') AND Amount > 5");
    assert_eq!(f.search_plan().unwrap().query(), "amount>5");
    assert_eq!(query("Email = 'a@b.c' OR Interval = 'x'"), None);
}

#[test]
fn a_query_has_at_most_ten_clauses() {
    let clause = (0..12)
        .map(|i| format!("Amount != {i}"))
        .collect::<Vec<_>>()
        .join(" AND ");
    let f = ok(&clause);
    let plan = f.search_plan().unwrap();
    assert_eq!(plan.clauses.len(), 10);
    assert_eq!(plan.used.iter().filter(|u| **u).count(), 10);
    assert!(!plan.complete());
}
