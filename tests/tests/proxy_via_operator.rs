//! The proxy settings of a StripeConnection reach the node: the operator's ConfigMap environment
//! (`node_env`) and mounted files, given to a real node process, take it through a real squid.

use std::process::{Command, Stdio};
use std::time::Duration;

use e2e::services::wait_for_port;
use e2e::squid::{ProxyAuth, Squid};
use e2e::{Service, StripeFake, free_port, workspace_bin};
use stripe_operator::children::{Settings, node_env};
use stripe_operator::crd::StripeConnection;

const MOUNT_ROOT: &str = "/var/run/stripe-connector";

#[tokio::test]
async fn a_digest_tunnel_proxy_from_the_connection_spec_is_used_by_the_node() {
    let squid = Squid::start(ProxyAuth::Digest);
    let fake = StripeFake::start();
    let connection: StripeConnection = serde_yaml::from_str(&format!(
        r#"
apiVersion: connectors.integration.dev/v1
kind: StripeConnection
metadata: {{name: via-proxy, namespace: e2e, uid: 0d7c3a54-1b2e-4f60-8c9d-a1b2c3d4e5f6}}
spec:
  auth: {{apiKeySecretRef: {{name: stripe, key: secret-key}}}}
  verbosity: 4
  logging: {{enabled: true, level: info}}
  proxy:
    enabled: true
    authScheme: DIGEST
    user: {user}
    passwordSecretRef: {{name: egress-proxy, key: password}}
    sslType: TUNNEL
    host: 127.0.0.1
    port: {port}
"#,
        user = squid.user,
        port = squid.port
    ))
    .expect("connection");
    let settings = Settings {
        node_image: "node:test".into(),
        redis_url: None,
        redis_password: None,
    };
    let env = node_env(&connection, &settings);
    assert_eq!(env["PROXY_AUTH_SCHEME"], "DIGEST");
    assert_eq!(env["PROXY_SSL_TYPE"], "TUNNEL");

    // The files the pod would mount, under a temp folder instead of /var/run/stripe-connector.
    let root = tempfile::tempdir().unwrap();
    let mount = |path: &str| path.replace(MOUNT_ROOT, &root.path().display().to_string());
    let files = [
        ("STRIPE_API_KEY_FILE", "sk_test_via_operator".to_string()),
        ("PROXY_PASSWORD_FILE", squid.password.clone()),
        ("CLIENT_TOKEN_FILE", "token-via-operator".to_string()),
    ];
    for (var, content) in &files {
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
        .env("STRIPE_BASE_URL", fake.url())
        .stderr(Stdio::from(std::fs::File::create(&log).unwrap()));
    let mut node = Service::spawn("stripe-node", &mut command);
    node.wait_until_listening(admin_port, Duration::from_secs(20));
    assert!(wait_for_port(port, Duration::from_secs(5)));

    let response = reqwest::Client::new()
        .get(format!(
            "http://127.0.0.1:{port}/v2/entityTypes/Customer/entities"
        ))
        .bearer_auth("token-via-operator")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    node.kill();

    // TUNNEL: CONNECT even to the http fake; digest: one challenge, then the tunnel.
    let connect = format!("CONNECT 127.0.0.1:{}", fake.port);
    assert_eq!(
        squid.wait_for_lines(&connect, 2),
        2,
        "{}",
        squid.access_log()
    );
    assert_eq!(
        squid.log_lines("TCP_TUNNEL/200"),
        1,
        "{}",
        squid.access_log()
    );
    // LOG_LEVEL info and VERBOSITY 4 from the spec: the route is in the node's JSON log.
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.contains("stripe connection opened") && log.contains("CONNECT tunnel"),
        "{log}"
    );
    assert!(!log.contains(&squid.password), "{log}");
}
