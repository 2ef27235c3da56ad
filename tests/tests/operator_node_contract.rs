//! The contract between the operator and the node: every environment variable the operator gives
//! a node's container is a flag of the node's clap definition, every value the operator writes
//! parses as the node's, and the CRD's proxy enums and the node's are the same set of names.

use std::collections::BTreeMap;

use clap::{CommandFactory, Parser, ValueEnum};
use serde_json::{Value, json};
use stripe_node::config::{self as node, Config};
use stripe_operator::children::{Settings, node_env};
use stripe_operator::render;
use stripe_operator::validate::ValidConnection;

/// The node's flags by the environment variable each reads.
fn node_flags() -> BTreeMap<String, String> {
    Config::command()
        .get_arguments()
        .filter_map(|arg| {
            let env = arg.get_env()?.to_str()?.to_string();
            Some((env, format!("--{}", arg.get_long()?)))
        })
        .collect()
}

/// The node's configuration from `env`, each variable given as the flag that reads it.
fn parse_as_the_node(env: &BTreeMap<String, String>) -> Result<Config, String> {
    let flags = node_flags();
    let mut argv = vec!["stripe-node".to_string()];
    for (var, value) in env {
        let flag = flags
            .get(var)
            .ok_or_else(|| format!("{var} is not a flag of the node"))?;
        argv.extend([flag.clone(), value.clone()]);
    }
    Config::try_parse_from(argv).map_err(|e| e.to_string())
}

fn settings(shared_limiter: bool) -> Settings {
    Settings {
        node_image: "node:contract".into(),
        redis_url: shared_limiter.then(|| "redis://redis:6379".into()),
        redis_password: shared_limiter.then(|| "contract-redis-password".into()),
    }
}

fn manifest(name: &str) -> Value {
    let path = e2e::repo_root().join("operator/tests/fixtures").join(name);
    serde_yaml::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("YAML")
}

fn connection(manifest: Value) -> ValidConnection {
    render::parse(&serde_yaml::to_string(&manifest).unwrap()).expect("a valid StripeConnection")
}

/// The container environment of the node Deployment the operator renders: its ConfigMap's data
/// (`envFrom`) and the variables set on the container itself (the pod name as `NODE_ID`).
fn rendered_env(conn: &ValidConnection, settings: &Settings) -> BTreeMap<String, String> {
    let objects = render::objects(conn, settings, "contract-token");
    let find = |kind: &str| {
        objects
            .iter()
            .find(|o| o["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind}"))
    };
    let mut env: BTreeMap<String, String> =
        serde_json::from_value(find("ConfigMap")["data"].clone()).expect("string data");
    let container = &find("Deployment")["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        container["envFrom"][0]["configMapRef"]["name"],
        find("ConfigMap")["metadata"]["name"]
    );
    for var in container["env"].as_array().expect("env") {
        let value = var["value"].as_str().unwrap_or("from-the-downward-api");
        env.insert(var["name"].as_str().expect("name").into(), value.into());
    }
    env
}

#[test]
fn every_variable_the_operator_sets_is_a_node_flag_and_its_value_parses() {
    let flags = node_flags();
    for fixture in [
        "minimal.yaml",
        "full.yaml",
        "proxy-without-auth.yaml",
        "clients-and-tls.yaml",
    ] {
        for shared_limiter in [false, true] {
            let conn = render::parse(&serde_yaml::to_string(&manifest(fixture)).unwrap())
                .expect("valid fixture");
            let env = rendered_env(&conn, &settings(shared_limiter));
            for var in env.keys() {
                assert!(
                    flags.contains_key(var),
                    "{fixture}: the operator sets {var}, which the node does not read"
                );
            }
            let config = parse_as_the_node(&env).unwrap_or_else(|e| panic!("{fixture}: {e}"));
            assert_eq!(config.connection_name, env["CONNECTION_NAME"]);
            assert_eq!(config.limiter.tps_per_node.to_string(), env["TPS_PER_NODE"]);
            assert_eq!(config.limiter.redis_url.is_some(), shared_limiter);
            assert_eq!(config.limiter.redis_password_file.is_some(), shared_limiter);
        }
    }
}

/// The enum values the CRD's schema allows at `path` below `spec`.
fn schema_enum(path: &[&str]) -> Vec<String> {
    let crd: Value =
        serde_yaml::from_str(&stripe_operator::crd_yaml().expect("CRD")).expect("YAML");
    let mut schema = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
    for field in path {
        schema = &schema["properties"][field];
    }
    serde_json::from_value(schema["enum"].clone())
        .unwrap_or_else(|e| panic!("{path:?} has no enum: {e}"))
}

fn node_names<E: ValueEnum>() -> Vec<String> {
    E::value_variants()
        .iter()
        .filter_map(|v| Some(v.to_possible_value()?.get_name().to_string()))
        .collect()
}

fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names
}

#[test]
fn the_crd_proxy_enums_and_the_node_s_are_the_same_names() {
    assert_eq!(
        sorted(schema_enum(&["proxy", "authScheme"])),
        sorted(node_names::<node::ProxyAuthScheme>())
    );
    assert_eq!(
        sorted(schema_enum(&["proxy", "sslType"])),
        sorted(node_names::<node::ProxySslType>())
    );
}

/// The node's configuration for `full.yaml` with `set` applied to its spec, through the
/// operator's environment.
fn node_config_with(set: impl FnOnce(&mut Value)) -> Config {
    let mut manifest = manifest("full.yaml");
    set(&mut manifest["spec"]);
    node_config(&connection(manifest))
}

fn node_config(conn: &ValidConnection) -> Config {
    let env = node_env(conn, &settings(false));
    parse_as_the_node(&env).unwrap_or_else(|e| panic!("{env:?}: {e}"))
}

#[test]
fn every_value_the_crd_allows_parses_as_the_node_s_own() {
    for name in schema_enum(&["proxy", "authScheme"]) {
        let config = node_config_with(|spec| spec["proxy"]["authScheme"] = json!(name));
        let parsed = config.proxy.auth_scheme.to_possible_value().unwrap();
        assert_eq!(parsed.get_name(), name);
    }
    // Validation refuses NEVER towards Stripe's https URL; the node must still parse every name
    // the schema allows, so the type is set on a valid connection.
    let full = connection(manifest("full.yaml"));
    for name in schema_enum(&["proxy", "sslType"]) {
        let mut conn = full.clone();
        conn.proxy.as_mut().expect("full.yaml has a proxy").ssl_type =
            serde_json::from_value(json!(name)).expect("a CRD sslType");
        let config = node_config(&conn);
        let parsed = config.proxy.ssl_type.to_possible_value().unwrap();
        assert_eq!(parsed.get_name(), name);
    }
    for name in schema_enum(&["logging", "level"]) {
        let config = node_config_with(|spec| spec["logging"]["level"] = json!(name));
        assert_eq!(config.logging.level, name);
    }
    for level in 1..=5u8 {
        let config = node_config_with(|spec| spec["verbosity"] = json!(level));
        assert_eq!(config.logging.verbosity, node::Verbosity::new(level));
    }
    let config = node_config_with(|spec| spec["logging"]["enabled"] = json!(false));
    assert!(!config.logging.enabled);
}
