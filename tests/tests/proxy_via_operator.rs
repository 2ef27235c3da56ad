//! The proxy and TLS settings of a StripeConnection reach the node: the operator's ConfigMap
//! environment (`node_env`) and the files its Deployment mounts, given to a real node process,
//! take it through a real squid and, with a CA bundle, to a TLS front it must trust.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use e2e::services::wait_for_port;
use e2e::squid::{ProxyAuth, Squid};
use e2e::tls_front::FakeOverTls;
use e2e::{Service, StripeFake, free_port, workspace_bin};
use stripe_operator::children::{self, Settings, node_env};
use stripe_operator::crd::StripeConnection;
use stripe_operator::dereference::Dereferenced;
use stripe_operator::validate::{ValidConnection, validate};

const MOUNT_ROOT: &str = "/var/run/stripe-connector";

fn settings() -> Settings {
    Settings {
        node_image: "node:test".into(),
        redis_url: None,
        redis_password: None,
    }
}

/// A node started the way the operator's pod would start it: the ConfigMap's environment, with
/// the mounted files (`files`: env var naming the file, content) under a temp folder instead of
/// /var/run/stripe-connector.
struct OperatorNode {
    node: Service,
    port: u16,
    log: PathBuf,
    _root: tempfile::TempDir,
}

impl OperatorNode {
    fn start(connection: &ValidConnection, base_url: &str, files: &[(&str, String)]) -> Self {
        let env = node_env(connection, &settings());
        let root = tempfile::tempdir().unwrap();
        let mount = |path: &str| path.replace(MOUNT_ROOT, &root.path().display().to_string());
        for (var, content) in files {
            let path = mount(&env[*var]);
            std::fs::create_dir_all(std::path::Path::new(&path).parent().unwrap()).unwrap();
            std::fs::write(&path, content).unwrap();
        }
        let (port, admin_port) = (free_port(), free_port());
        let log = root.path().join("node.log");
        let mut command = Command::new(workspace_bin("stripe-node"));
        command
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.clone(), mount(v))))
            .env("NODE_LISTEN", format!("127.0.0.1:{port}"))
            .env("NODE_ADMIN_LISTEN", format!("127.0.0.1:{admin_port}"))
            .env("STRIPE_BASE_URL", base_url)
            .stderr(Stdio::from(std::fs::File::create(&log).unwrap()));
        let mut node = Service::spawn("stripe-node", &mut command);
        node.wait_until_listening(admin_port, Duration::from_secs(20));
        assert!(wait_for_port(port, Duration::from_secs(5)));
        Self {
            node,
            port,
            log,
            _root: root,
        }
    }

    async fn list_customers(&self) -> reqwest::Response {
        reqwest::Client::new()
            .get(format!(
                "http://127.0.0.1:{}/v2/entityTypes/Customer/entities",
                self.port
            ))
            .bearer_auth("token-via-operator")
            .send()
            .await
            .unwrap()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }
}

/// A valid connection `name` that goes through `squid` with this auth scheme and SSL type;
/// `more_spec` is more YAML under `spec:`.
fn proxied_connection(
    name: &str,
    squid: &Squid,
    auth_scheme: &str,
    ssl_type: &str,
    more_spec: &str,
) -> ValidConnection {
    let yaml = format!(
        r#"
apiVersion: connectors.integration.dev/v1
kind: StripeConnection
metadata: {{name: {name}, namespace: e2e, uid: 0d7c3a54-1b2e-4f60-8c9d-a1b2c3d4e5f6}}
spec:
  auth: {{apiKeySecretRef: {{name: stripe, key: secret-key}}}}
  proxy:
    enabled: true
    authScheme: {auth_scheme}
    user: {user}
    passwordSecretRef: {{name: egress-proxy, key: password}}
    sslType: {ssl_type}
    host: 127.0.0.1
    port: {port}
{more_spec}"#,
        user = squid.user,
        port = squid.port
    );
    let parsed: StripeConnection = serde_yaml::from_str(&yaml).expect("connection");
    validate(&parsed).expect("a valid connection")
}

/// The Secrets the pod mounts: the API key, squid's password and the client token.
fn mounted_secrets(squid: &Squid) -> Vec<(&'static str, String)> {
    vec![
        ("STRIPE_API_KEY_FILE", "sk_test_via_operator".to_string()),
        ("PROXY_PASSWORD_FILE", squid.password.clone()),
        ("CLIENT_TOKEN_FILE", "token-via-operator".to_string()),
    ]
}

#[tokio::test]
async fn a_digest_tunnel_proxy_from_the_connection_spec_is_used_by_the_node() {
    let squid = Squid::start(ProxyAuth::Digest);
    let fake = StripeFake::start();
    let connection = proxied_connection(
        "via-proxy",
        &squid,
        "DIGEST",
        "TUNNEL",
        "  verbosity: 4\n  logging: {enabled: true, level: info}\n",
    );
    let env = node_env(&connection, &settings());
    assert_eq!(env["PROXY_AUTH_SCHEME"], "DIGEST");
    assert_eq!(env["PROXY_SSL_TYPE"], "TUNNEL");

    let mut node = OperatorNode::start(&connection, &fake.url(), &mounted_secrets(&squid));
    assert_eq!(node.list_customers().await.status(), 200);
    node.node.kill();

    // TUNNEL: CONNECT even to the http fake; digest: one challenge, then the tunnel.
    squid.assert_lines(&format!("CONNECT 127.0.0.1:{}", fake.port), 2);
    assert_eq!(
        squid.log_lines("TCP_TUNNEL/200"),
        1,
        "{}",
        squid.access_log()
    );
    // LOG_LEVEL info and VERBOSITY 4 from the spec: the route is in the node's JSON log.
    let log = node.log();
    assert!(
        log.contains("stripe connection opened") && log.contains("CONNECT tunnel"),
        "{log}"
    );
    assert!(!log.contains(&squid.password), "{log}");
}

#[tokio::test]
async fn a_ca_bundle_from_the_connection_spec_makes_the_node_trust_the_tls_front() {
    let squid = Squid::start(ProxyAuth::Basic);
    let FakeOverTls {
        fake: _fake,
        pki,
        front,
    } = FakeOverTls::start();
    let connection = proxied_connection(
        "with-ca",
        &squid,
        "BASIC",
        "AUTO",
        "  tls:\n    caBundleRef: {name: corp-ca, key: ca.crt}\n",
    );

    // The ConfigMap points EXTRA_CA_FILE at the file the Deployment mounts from the ConfigMap.
    let env = node_env(&connection, &settings());
    let built = children::build(&connection, &settings(), &Dereferenced::default());
    let pod = built
        .deployment
        .spec
        .expect("spec")
        .template
        .spec
        .expect("pod");
    let volume = pod
        .volumes
        .iter()
        .flatten()
        .find(|v| v.name == "ca-bundle")
        .expect("ca-bundle volume");
    let source = volume.config_map.as_ref().expect("from a ConfigMap");
    assert_eq!(source.name, "corp-ca");
    let item = &source.items.as_ref().expect("items")[0];
    let mount = pod.containers[0]
        .volume_mounts
        .iter()
        .flatten()
        .find(|m| m.name == "ca-bundle")
        .expect("ca-bundle mount");
    assert_eq!(mount.read_only, Some(true));
    assert_eq!(
        env["EXTRA_CA_FILE"],
        format!("{}/{}", mount.mount_path, item.path)
    );
    assert_eq!(item.key, "ca.crt");

    let mut files = mounted_secrets(&squid);
    files.push((
        "EXTRA_CA_FILE",
        std::fs::read_to_string(pki.ca_file()).unwrap(),
    ));
    let mut node = OperatorNode::start(&connection, &front.url(), &files);
    let response = node.list_customers().await;
    assert_eq!(response.status(), 200, "{}", node.log());
    assert!(
        front.handshakes() >= 1,
        "the call did not reach the TLS front"
    );
    // AUTO with an https base URL: through a CONNECT tunnel to the front (squid logs a tunnel
    // when it closes).
    node.node.kill();
    let connect = format!("CONNECT 127.0.0.1:{}", front.port);
    assert!(
        squid.wait_for_lines(&connect, 1) >= 1,
        "{}",
        squid.access_log()
    );

    // The same spec without the bundle is refused by the front's unknown CA: the bundle is
    // what makes it work.
    let mut without = connection.clone();
    without.ca_bundle = None;
    let untrusting = OperatorNode::start(&without, &front.url(), &mounted_secrets(&squid));
    let response = untrusting.list_customers().await;
    assert_eq!(response.status(), 503, "{}", untrusting.log());
}
