//! The committed CRD matches the Rust types, and the CRD's CEL rules agree with `validate()` on
//! every example manifest (good ones pass both, bad ones are rejected).

mod golden_file;

use std::path::{Path, PathBuf};

use kube::CustomResourceExt;
use stripe_operator::crd::StripeConnection;
use stripe_operator::validate::validate;

use golden_file::assert_matches_file;

fn fixtures(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files
}

fn yaml_value(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("fixture readable");
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn schema() -> serde_json::Value {
    let crd = serde_json::to_value(StripeConnection::crd()).expect("CRD serializes");
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone()
}

/// Regenerate both copies (crds/ and the chart's) with UPDATE_CRD=1.
#[test]
fn committed_crds_match_the_rust_types() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let generated = stripe_operator::crd_yaml().expect("CRD renders");
    for copy in ["crds", "charts/stripe-connector/crds"] {
        let path = root
            .join(copy)
            .join("stripeconnections.connectors.integration.dev.yaml");
        assert_matches_file(&path, &generated, "UPDATE_CRD");
    }
}

#[test]
fn good_examples_pass_cel_and_validate() {
    let schema = schema();
    for path in fixtures("") {
        let value = yaml_value(&path);
        if let Err(errors) = kube_cel::validate(&schema, &value, None) {
            panic!(
                "{}: CEL rejected a good example: {errors:?}",
                path.display()
            );
        }
        let conn: StripeConnection =
            serde_json::from_value(value).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if let Err(problems) = validate(&conn) {
            panic!("{}: {problems:?}", path.display());
        }
    }
}

/// Each `cel-*` example breaks a CEL rule: the CEL evaluator and `validate()` both reject it,
/// naming the same field.
#[test]
fn cel_rules_and_validate_reject_the_same_examples() {
    let schema = schema();
    let cel_cases: Vec<PathBuf> = fixtures("invalid")
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("cel-"))
        })
        .collect();
    assert!(cel_cases.len() >= 10);
    for path in cel_cases {
        let value = yaml_value(&path);
        let errors = kube_cel::validate(&schema, &value, None)
            .err()
            .unwrap_or_else(|| panic!("{}: CEL accepted a bad example", path.display()));
        let conn: StripeConnection =
            serde_json::from_value(value).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let problems = validate(&conn).err().unwrap_or_else(|| {
            panic!(
                "{}: validate() accepted what CEL rejected ({errors:?})",
                path.display()
            )
        });
        let cel_message = errors[0].message.clone();
        let field = &problems[0].field;
        let field_leaf = field
            .trim_start_matches("spec.")
            .split(['[', '.'])
            .next()
            .unwrap_or_default();
        assert!(
            cel_message.contains(field_leaf)
                || (field == "metadata.name" && cel_message.contains("connection name")),
            "{}: CEL says {cel_message:?}, validate() says {field}",
            path.display()
        );
    }
}

/// Each `schema-*` example breaks an OpenAPI rule: it does not even deserialize, or `validate()`
/// rejects it (the Python tests check the schema itself rejects it).
#[test]
fn validate_rejects_schema_violations_too() {
    for path in fixtures("invalid").into_iter().filter(|p| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("schema-"))
    }) {
        match serde_json::from_value::<StripeConnection>(yaml_value(&path)) {
            Err(_) => {}
            Ok(conn) => assert!(
                validate(&conn).is_err(),
                "{}: validate() accepted it",
                path.display()
            ),
        }
    }
}

#[test]
fn crd_has_the_documented_shape() {
    let crd = serde_json::to_value(StripeConnection::crd()).expect("CRD serializes");
    let spec = &crd["spec"];
    assert_eq!(spec["group"], "connectors.integration.dev");
    assert_eq!(spec["scope"], "Namespaced");
    assert_eq!(
        spec["names"]["shortNames"],
        serde_json::json!(["stripeconn"])
    );
    let version = &spec["versions"][0];
    assert_eq!(version["subresources"]["status"], serde_json::json!({}));
    let columns: Vec<&str> = version["additionalPrinterColumns"]
        .as_array()
        .expect("printer columns")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(columns, ["Ready", "Nodes", "Capacity", "Age", "Endpoint"]);
    let props = &version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"];
    assert_eq!(
        props["nodes"]["default"],
        serde_json::json!({"min": 2, "max": 50, "scaleDownStabilizationSeconds": 300})
    );
    assert_eq!(
        props["rateLimit"]["properties"]["transactionsPerSecondPerNode"]["default"],
        6
    );
    assert_eq!(props["logging"]["properties"]["level"]["default"], "error");
    assert_eq!(props["verbosity"]["default"], 1);
    assert_eq!(props["connectorVersion"]["enum"], serde_json::json!(["1"]));
    assert_eq!(
        props["proxy"]["properties"]["authScheme"]["enum"],
        serde_json::json!(["BASIC", "DIGEST", "NONE"])
    );
    assert_eq!(
        props["proxy"]["properties"]["sslType"]["enum"],
        serde_json::json!(["AUTO", "ALWAYS", "NEVER", "TUNNEL"])
    );
    let ca = &props["tls"]["properties"]["caBundleRef"];
    assert_eq!(ca["required"], serde_json::json!(["key", "name"]));
    assert_eq!(ca["properties"]["kind"]["default"], "ConfigMap");
    assert_eq!(
        ca["properties"]["kind"]["enum"],
        serde_json::json!(["ConfigMap", "Secret"])
    );
    assert!(
        ca["description"]
            .as_str()
            .is_some_and(|d| d.contains("PEM") && d.contains("rolls the nodes")),
        "{ca}"
    );
}

/// Every CEL rule compiles, and kube-cel's static cost analysis finds no rule over the API
/// server's budget (its scope check is not used: it takes comprehension variables such as `k`
/// in `self.all(k, ...)` for free variables).
#[test]
fn cel_rules_compile_and_fit_the_cost_budget() {
    fn walk(schema: &serde_json::Value, found: &mut Vec<(String, serde_json::Value)>) {
        if let Some(rules) = schema["x-kubernetes-validations"].as_array() {
            for rule in rules {
                let text = rule["rule"].as_str().unwrap_or_default().to_string();
                found.push((text, schema.clone()));
            }
        }
        if let Some(props) = schema["properties"].as_object() {
            props.values().for_each(|p| walk(p, found));
        }
        for nested in ["items", "additionalProperties"] {
            if schema[nested].is_object() {
                walk(&schema[nested], found);
            }
        }
    }
    let mut rules = Vec::new();
    walk(&schema(), &mut rules);
    assert_eq!(
        rules.len(),
        15,
        "{:?}",
        rules.iter().map(|r| &r.0).collect::<Vec<_>>()
    );
    for (rule, subschema) in rules {
        let compiled = kube_cel::compile_schema(&subschema);
        assert!(
            !compiled.has_errors(),
            "{rule}: {:?}",
            compiled.compilation_errors()
        );
        let warnings = kube_cel::estimate_rule_cost(&rule, &compiled);
        assert!(warnings.is_empty(), "{rule}: {warnings:?}");
    }
}
