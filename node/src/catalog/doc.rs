//! docs/catalog.md, written from the catalog: a test fails when the committed file differs.
//! `UPDATE_CATALOG_DOC=1 cargo test -p stripe-node catalog::doc` rewrites it.

use std::fmt::Write;

use super::{ACTIONS, ENTITIES, Entity, Operation, Output, ParamTarget, Pushdown};

fn operations(entity: &Entity) -> String {
    Operation::ALL
        .into_iter()
        .filter(|op| op.supported(entity))
        .map(Operation::verb)
        .collect::<Vec<_>>()
        .join(" ")
}

fn list_filters(entity: &Entity) -> String {
    let path: Vec<&str> = entity.path_params().collect();
    entity
        .fields
        .iter()
        .filter_map(|f| {
            let param = match f.pushdown {
                Pushdown::None => return None,
                Pushdown::Equals(p) if path.contains(&p) => {
                    return Some(format!("**{}** (path)", f.name));
                }
                Pushdown::Equals(p) => p.to_string(),
                Pushdown::AnyOf(p, max) => format!("{p}[] (up to {max})"),
                Pushdown::Range(p) => format!("{p}[gt/gte/lt/lte]"),
            };
            let required = entity.list_requires.contains(&param.as_str());
            Some(if required {
                format!("**{}** `{param}`", f.name)
            } else {
                format!("{} `{param}`", f.name)
            })
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn searchable(entity: &Entity) -> String {
    let names: Vec<&str> = entity
        .fields
        .iter()
        .filter(|f| f.searchable())
        .map(|f| f.name)
        .collect();
    names.join(", ")
}

pub fn render() -> String {
    let mut out = String::new();
    out.push_str(
        "# The catalog\n\n\
         The entity types and actions a node serves, at Stripe's API version 2023-08-16, written\n\
         from `node/src/catalog/` (`UPDATE_CATALOG_DOC=1 cargo test -p stripe-node catalog::doc`\n\
         rewrites this file; a test fails when it differs). `catalog::spec_check` checks every\n\
         row against Stripe's OpenAPI spec at that version. Filters and search:\n\
         [filter-clause.md](filter-clause.md).\n\n",
    );
    let _ = writeln!(out, "## Entities ({})\n", ENTITIES.len());
    out.push_str(
        "List filters are the fields Stripe's list endpoint filters (field and Stripe parameter;\n\
         **bold**: required, or the parent filling the path of a child collection). Searchable\n\
         fields are the ones Stripe's Search API matches.\n\n",
    );
    out.push_str("| entity | Stripe path | operations | instead of the missing ones | list filters | searchable |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    for e in ENTITIES {
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} | {} | {} |",
            e.name,
            e.path,
            operations(e),
            e.instead.unwrap_or_default(),
            list_filters(e),
            searchable(e),
        );
    }
    let _ = writeln!(out, "\n## Actions ({})\n", ACTIONS.len());
    out.push_str(
        "| action | parameters (required in bold) | Stripe call | result |\n|---|---|---|---|\n",
    );
    for a in ACTIONS {
        let params: Vec<String> = a
            .params
            .iter()
            .map(|p| {
                let stripe = match p.target {
                    ParamTarget::Path => "id".to_string(),
                    ParamTarget::Form(k) => format!("`{k}`"),
                };
                if p.required {
                    format!("**{}** ({stripe})", p.name)
                } else {
                    format!("{} ({stripe})", p.name)
                }
            })
            .collect();
        let result = match a.output {
            Output::Object => "the object",
            Output::SuccessOnly => "Success",
            Output::InvoiceId => "InvoiceId + Success",
        };
        let _ = writeln!(
            out,
            "| {} | {} | `{} {}` | {result} |",
            a.name,
            params.join(", "),
            a.method,
            a.path.replace("{}", "{id}"),
        );
    }
    out
}

#[test]
fn the_committed_catalog_doc_is_the_generated_one() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/catalog.md");
    let generated = render();
    if std::env::var_os("UPDATE_CATALOG_DOC").is_some() {
        std::fs::write(path, &generated).expect("write docs/catalog.md");
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/catalog.md differs from the catalog; regenerate it with \
         UPDATE_CATALOG_DOC=1 cargo test -p stripe-node catalog::doc"
    );
}
