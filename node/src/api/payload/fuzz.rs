//! Property-based fuzzing of the payload mapper (stable Rust, proptest): random JSON bodies for
//! random entities never panic, and either map to form parameters of the fields sent or give a
//! 400 INVALID_ARGUMENT naming a field.
//!
//! Runs 1000 cases per property by default so it fits in CI. For a longer run:
//! `PROPTEST_CASES=100000 cargo nextest run -p stripe-node payload::fuzz`.

use proptest::prelude::*;
use serde_json::{Map, Value};

use super::{Write, form_key, to_form};
use crate::catalog::ENTITIES;
use crate::error::Code;
use crate::fuzz_config::fuzz_config;

/// Any JSON value, nested a few levels, with awkward numbers and strings.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        Just(Value::from(1500.0)),
        Just(Value::from(u64::MAX)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An entity index and a body mixing its own field names (some in other case), unknown names
/// and random values.
fn entity_and_body() -> impl Strategy<Value = (usize, Value)> {
    (0..ENTITIES.len()).prop_flat_map(|i| {
        let names: Vec<String> = ENTITIES[i]
            .fields
            .iter()
            .map(|f| f.name.to_string())
            .collect();
        let name = prop_oneof![
            4 => prop::sample::select(names.clone()),
            1 => prop::sample::select(names).prop_map(|n| n.to_lowercase()),
            1 => "[A-Za-z.\\[\\]]{0,12}",
        ];
        let body = prop_oneof![
            8 => prop::collection::vec((name, json_value()), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
            1 => json_value(),
        ];
        (Just(i), body)
    })
}

proptest! {
    #![proptest_config(fuzz_config(1000))]

    #[test]
    fn mapper_maps_or_names_a_field((i, body) in entity_and_body(), update in any::<bool>()) {
        let entity = &ENTITIES[i];
        let write = if update { Write::Update } else { Write::Create };
        match to_form(entity, &body, write) {
            Ok(params) => {
                // Every parameter comes from a writable field the body named.
                let sent = body.as_object().expect("only objects map");
                let keys: Vec<String> = sent
                    .keys()
                    .filter_map(|k| entity.field(k))
                    .map(form_key)
                    .collect();
                for (key, _) in &params {
                    prop_assert!(
                        keys.iter().any(|k| key == k || key.starts_with(&format!("{k}["))),
                        "{key} not from a sent field of {}: {body}", entity.name
                    );
                }
            }
            Err(e) => {
                prop_assert_eq!(e.code(), Code::InvalidArgument);
                prop_assert_eq!(e.http_status().as_u16(), 400);
                let field = e.field().unwrap_or_default().to_string();
                let named = field == "body"
                    || body.as_object().is_some_and(|m| m.contains_key(&field))
                    || entity.fields.iter().any(|f| f.name == field);
                prop_assert!(named, "error names no field of the body: {e:?} for {body}");
                prop_assert!(e.message().contains(&field), "{}", e.message());
            }
        }
    }
}
