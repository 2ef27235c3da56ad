//! The node's outbound proxy and TLS, over real parts: squid with basic and digest credentials,
//! the Stripe fake behind it over http, and the fake behind a TLS front with a throw-away CA over
//! https (CONNECT tunnels).

use e2e::squid::{ProxyAuth, Squid};
use e2e::tls_front::{TestPki, TlsFront};
use e2e::{Api, Node, NodeOptions, StripeFake, assert_error};

const CUSTOMERS: &str = "/v2/entityTypes/Customer/entities";

/// Proxy flags for a node going through `squid` (its http_port), with this password.
fn proxy_args(
    squid: &Squid,
    scheme: &str,
    ssl: &str,
    password_file: &std::path::Path,
) -> Vec<String> {
    let mut args: Vec<String> = [
        "--proxy-host",
        "127.0.0.1",
        "--proxy-port",
        &squid.port.to_string(),
        "--proxy-auth-scheme",
        scheme,
        "--proxy-user",
        &squid.user,
        "--proxy-ssl-type",
        ssl,
    ]
    .map(String::from)
    .to_vec();
    args.push("--proxy-password-file".into());
    args.push(password_file.display().to_string());
    // Keep failures fast: one retry, short backoff.
    args.extend(["--stripe-max-retries", "1", "--stripe-retry-base-ms", "20"].map(String::from));
    args
}

fn write_password(dir: &tempfile::TempDir, password: &str) -> std::path::PathBuf {
    let file = dir.path().join("proxy-password");
    std::fs::write(&file, format!("{password}\n")).unwrap();
    file
}

fn node(base_url: &str, args: Vec<String>) -> Node {
    let mut options = NodeOptions::new(base_url);
    options.extra_args = args;
    Node::start(&options)
}

async fn list_ok(node: &Node) {
    let (status, body) = Api::new(node.url()).get(CUSTOMERS).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn basic_proxy_forwards_http_and_tunnels_https() {
    let squid = Squid::start(ProxyAuth::Basic);
    let fake = StripeFake::start();
    let pki = TestPki::new();
    let front = TlsFront::start(&pki, fake.port);
    let dir = tempfile::tempdir().unwrap();
    let pw = write_password(&dir, &squid.password);

    // http target, AUTO: forwarded in absolute form.
    let plain = node(&fake.url(), proxy_args(&squid, "BASIC", "AUTO", &pw));
    list_ok(&plain).await;
    let forwarded = format!("GET http://127.0.0.1:{}/v1/customers", fake.port);
    // squid writes a line when the transaction ends, just after answering: wait for it.
    assert_eq!(
        squid.wait_for_lines(&forwarded, 1),
        1,
        "{}",
        squid.access_log()
    );

    // https target, AUTO: a CONNECT tunnel, TLS end to end with the test CA.
    let mut args = proxy_args(&squid, "BASIC", "AUTO", &pw);
    args.extend([
        "--extra-ca-file".into(),
        pki.ca_file().display().to_string(),
    ]);
    let tls = node(&front.url(), args);
    list_ok(&tls).await;
    list_ok(&tls).await;
    drop(tls);
    let connect = format!("CONNECT 127.0.0.1:{}", front.port);
    // The second call reused the pooled tunnel (squid logs a tunnel when it closes).
    assert_eq!(
        squid.wait_for_lines(&connect, 1),
        1,
        "{}",
        squid.access_log()
    );
    assert_eq!(front.handshakes(), 1);
    assert_eq!(squid.log_lines("TCP_DENIED"), 0, "{}", squid.access_log());
}

#[tokio::test]
async fn digest_proxy_answers_the_challenge_for_forwarding_and_tunnels_and_renews_nonces() {
    // Each nonce may be used twice, so a run of calls meets stale nonces.
    let squid = Squid::start_with(
        ProxyAuth::Digest,
        None,
        "auth_param digest nonce_max_count 2",
    );
    let fake = StripeFake::start();
    let pki = TestPki::new();
    let front = TlsFront::start(&pki, fake.port);
    let dir = tempfile::tempdir().unwrap();
    let pw = write_password(&dir, &squid.password);

    let plain = node(&fake.url(), proxy_args(&squid, "DIGEST", "AUTO", &pw));
    for _ in 0..5 {
        list_ok(&plain).await;
    }
    let forwarded = format!("GET http://127.0.0.1:{}/v1/customers", fake.port);
    squid.wait_for_lines("TCP_MISS/200", 5);
    let ok = squid
        .access_log()
        .lines()
        .filter(|l| l.contains(&forwarded) && l.contains("/200 "))
        .count();
    assert_eq!(ok, 5, "{}", squid.access_log());
    // First contact and each stale nonce cost one 407, never more than one per call.
    let denied = squid.log_lines("TCP_DENIED/407");
    assert!(
        (1..=5).contains(&denied),
        "{denied} 407s: {}",
        squid.access_log()
    );

    let mut args = proxy_args(&squid, "DIGEST", "TUNNEL", &pw);
    args.extend([
        "--extra-ca-file".into(),
        pki.ca_file().display().to_string(),
    ]);
    let tls = node(&front.url(), args);
    list_ok(&tls).await;
    drop(tls);
    let tunnel = "TCP_TUNNEL/200 ";
    assert_eq!(squid.wait_for_lines(tunnel, 1), 1, "{}", squid.access_log());
    let connect = format!("CONNECT 127.0.0.1:{}", front.port);
    // The challenge, then the tunnel.
    assert_eq!(
        squid.wait_for_lines(&connect, 2),
        2,
        "{}",
        squid.access_log()
    );
}

#[tokio::test]
async fn a_wrong_proxy_password_is_unauthenticated_naming_the_proxy_without_retries() {
    let fake = StripeFake::start();
    let pki = TestPki::new();
    let front = TlsFront::start(&pki, fake.port);
    let dir = tempfile::tempdir().unwrap();
    let pw = write_password(&dir, "not-the-proxy-password");
    for (auth, scheme, per_call) in [
        (ProxyAuth::Basic, "BASIC", 1),
        (ProxyAuth::Digest, "DIGEST", 2),
    ] {
        let squid = Squid::start(auth);
        let address = format!("127.0.0.1:{}", squid.port);
        // Forwarded http: one 407 per call (basic), or the challenge plus one answer (digest).
        let plain = node(&fake.url(), proxy_args(&squid, scheme, "AUTO", &pw));
        let (status, body) = Api::new(plain.url()).get(CUSTOMERS).await;
        let error = assert_error(status, &body, 401, "UNAUTHENTICATED");
        let message = error["message"].as_str().unwrap();
        assert!(
            message.contains(&address) && message.contains("proxy"),
            "{message}"
        );
        assert!(
            !message.contains("not-the-proxy-password") && !message.contains("sk_test"),
            "{message}"
        );
        assert_eq!(
            squid.wait_for_lines("TCP_DENIED/407", per_call),
            per_call,
            "{}",
            squid.access_log()
        );

        // CONNECT to an https target: the same, and no retry storm.
        let mut args = proxy_args(&squid, scheme, "AUTO", &pw);
        args.extend([
            "--extra-ca-file".into(),
            pki.ca_file().display().to_string(),
        ]);
        let tls = node(&front.url(), args);
        let (status, body) = Api::new(tls.url()).get(CUSTOMERS).await;
        let error = assert_error(status, &body, 401, "UNAUTHENTICATED");
        assert!(
            error["message"].as_str().unwrap().contains(&address),
            "{body}"
        );
        drop(tls);
        assert_eq!(
            squid.wait_for_lines("TCP_DENIED/407", 2 * per_call),
            2 * per_call,
            "{}",
            squid.access_log()
        );
        assert_eq!(front.handshakes(), 0);
    }
    assert_eq!(fake.requests("GET", "/v1/customers").await, 0);
}

#[tokio::test]
async fn a_proxy_that_is_down_is_unavailable_naming_the_proxy() {
    let fake = StripeFake::start();
    let down = e2e::free_port();
    let args = [
        "--proxy-host",
        "127.0.0.1",
        "--proxy-port",
        &down.to_string(),
        "--stripe-max-retries",
        "1",
        "--stripe-retry-base-ms",
        "20",
    ]
    .map(String::from)
    .to_vec();
    let node = node(&fake.url(), args);
    let (status, body) = Api::new(node.url()).get(CUSTOMERS).await;
    let error = assert_error(status, &body, 503, "UNAVAILABLE");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("proxy 127.0.0.1:{down}")),
        "{message}"
    );
    assert_eq!(fake.requests("GET", "/v1/customers").await, 0);
}

#[tokio::test]
async fn tls_with_an_extra_ca_works_directly_and_through_the_tunnel_and_fails_clearly_without() {
    let fake = StripeFake::start();
    let pki = TestPki::new();
    let front = TlsFront::start(&pki, fake.port);
    let ca = [
        "--extra-ca-file".to_string(),
        pki.ca_file().display().to_string(),
    ];
    let fast = ["--stripe-max-retries", "1", "--stripe-retry-base-ms", "20"].map(String::from);

    let direct = node(&front.url(), [ca.to_vec(), fast.to_vec()].concat());
    list_ok(&direct).await;

    let untrusting = node(&front.url(), fast.to_vec());
    let (status, body) = Api::new(untrusting.url()).get(CUSTOMERS).await;
    let error = assert_error(status, &body, 503, "UNAVAILABLE");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("certificate") && message.contains("--extra-ca-file"),
        "{message}"
    );

    let squid = Squid::start(ProxyAuth::None);
    let dir = tempfile::tempdir().unwrap();
    let pw = write_password(&dir, "unused");
    let tunnelled = node(
        &front.url(),
        [proxy_args(&squid, "NONE", "AUTO", &pw), ca.to_vec()].concat(),
    );
    list_ok(&tunnelled).await;
    drop(tunnelled);
    let untrusting = node(&front.url(), proxy_args(&squid, "NONE", "AUTO", &pw));
    let (status, body) = Api::new(untrusting.url()).get(CUSTOMERS).await;
    let error = assert_error(status, &body, 503, "UNAVAILABLE");
    assert!(
        error["message"].as_str().unwrap().contains("certificate"),
        "{body}"
    );
    // The certificate error is not retried: one tunnel per failing call.
    let connect = format!("CONNECT 127.0.0.1:{}", front.port);
    assert_eq!(
        squid.wait_for_lines(&connect, 2),
        2,
        "{}",
        squid.access_log()
    );
}

#[tokio::test]
async fn ssl_types_always_tunnel_and_never() {
    let pki = TestPki::new();
    let squid = Squid::start_with(ProxyAuth::Basic, Some(&pki), "");
    let fake = StripeFake::start();
    let front = TlsFront::start(&pki, fake.port);
    let dir = tempfile::tempdir().unwrap();
    let pw = write_password(&dir, &squid.password);
    let ca = [
        "--extra-ca-file".to_string(),
        pki.ca_file().display().to_string(),
    ];

    // ALWAYS: TLS to squid's https_port; http forwarded inside it, https tunnelled inside it.
    let mut always = proxy_args(&squid, "BASIC", "ALWAYS", &pw);
    let i = always.iter().position(|a| a == "--proxy-port").unwrap();
    always[i + 1] = squid.tls_port.unwrap().to_string();
    always.extend(ca.clone());
    list_ok(&node(&fake.url(), always.clone())).await;
    list_ok(&node(&front.url(), always)).await;
    let forwarded = format!("GET http://127.0.0.1:{}/", fake.port);
    assert_eq!(squid.wait_for_lines(&forwarded, 1), 1);
    let tunnel = format!("CONNECT 127.0.0.1:{}", front.port);
    assert_eq!(
        squid.wait_for_lines(&tunnel, 1),
        1,
        "{}",
        squid.access_log()
    );

    // TUNNEL: CONNECT also for the http target, never forwarding.
    list_ok(&node(
        &fake.url(),
        proxy_args(&squid, "BASIC", "TUNNEL", &pw),
    ))
    .await;
    let tunnel = format!("CONNECT 127.0.0.1:{}", fake.port);
    assert_eq!(
        squid.wait_for_lines(&tunnel, 1),
        1,
        "{}",
        squid.access_log()
    );
    assert_eq!(squid.log_lines(&forwarded), 1);

    // NEVER: plain forwarding for http; an https base URL is refused at start-up.
    list_ok(&node(
        &fake.url(),
        proxy_args(&squid, "BASIC", "NEVER", &pw),
    ))
    .await;
    assert_eq!(squid.wait_for_lines(&forwarded, 2), 2);
    let key = dir.path().join("key");
    std::fs::write(&key, "sk_test_never").unwrap();
    let mut args = vec!["--stripe-base-url".to_string(), front.url()];
    args.extend(proxy_args(&squid, "BASIC", "NEVER", &pw));
    let stderr = Node::start_up_error(&key, args);
    assert!(
        stderr.contains("--proxy-ssl-type NEVER") && stderr.contains("clear text"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(&squid.password) && !stderr.contains("sk_test_never"),
        "{stderr}"
    );
}

#[test]
fn bad_proxy_and_tls_settings_stop_start_up_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key");
    std::fs::write(&key, "sk_test_startup").unwrap();
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "").unwrap();
    let not_pem = dir.path().join("not-pem");
    std::fs::write(&not_pem, "hello").unwrap();
    let (empty, not_pem) = (empty.display().to_string(), not_pem.display().to_string());
    let cases: [(&[&str], &str); 6] = [
        (&["--proxy-host", "127.0.0.1"], "--proxy-port is required"),
        (
            &[
                "--proxy-host",
                "127.0.0.1",
                "--proxy-port",
                "1",
                "--proxy-auth-scheme",
                "BASIC",
            ],
            "--proxy-user is required",
        ),
        (
            &[
                "--proxy-host",
                "h",
                "--proxy-port",
                "1",
                "--proxy-auth-scheme",
                "DIGEST",
                "--proxy-user",
                "u",
            ],
            "--proxy-password-file is required",
        ),
        (
            &[
                "--proxy-host",
                "h",
                "--proxy-port",
                "1",
                "--proxy-auth-scheme",
                "BASIC",
                "--proxy-user",
                "u",
                "--proxy-password-file",
                &empty,
            ],
            "the file is empty",
        ),
        (&["--extra-ca-file", &not_pem], "no PEM certificate"),
        (&["--verbosity", "6"], "--verbosity"),
    ];
    for (args, want) in cases {
        let base_url = ["--stripe-base-url", "http://127.0.0.1:9"];
        let stderr = Node::start_up_error(&key, base_url.iter().chain(args));
        assert!(stderr.contains(want), "{args:?}: {stderr}");
    }
}
