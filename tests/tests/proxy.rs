//! The node's outbound proxy and TLS, over real parts: squid with basic and digest credentials,
//! the Stripe fake behind it over http, and the fake behind a TLS front with a throw-away CA over
//! https (CONNECT tunnels).

use e2e::squid::{ProxyAuth, Squid};
use e2e::tls_front::FakeOverTls;
use e2e::{
    Api, CUSTOMERS, Node, NodeOptions, StripeFake, TempFiles, assert_error, assert_error_mentions,
};

/// Keeps failures fast: one retry, short backoff.
const FAST_FAILURES: [&str; 4] = ["--stripe-max-retries", "1", "--stripe-retry-base-ms", "20"];

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
    args.extend(FAST_FAILURES.map(String::from));
    args
}

fn write_password(files: &TempFiles, password: &str) -> std::path::PathBuf {
    files.write("proxy-password", &format!("{password}\n"))
}

/// What squid logs for a CONNECT tunnel to the port.
fn connect_line(port: u16) -> String {
    format!("CONNECT 127.0.0.1:{port}")
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
    let FakeOverTls { fake, pki, front } = FakeOverTls::start();
    let files = TempFiles::new();
    let pw = write_password(&files, &squid.password);

    // http target, AUTO: forwarded in absolute form.
    let plain = node(&fake.url(), proxy_args(&squid, "BASIC", "AUTO", &pw));
    list_ok(&plain).await;
    // squid writes a line when the transaction ends, just after answering: wait for it.
    squid.assert_lines(
        &format!("GET http://127.0.0.1:{}/v1/customers", fake.port),
        1,
    );

    // https target, AUTO: a CONNECT tunnel, TLS end to end with the test CA.
    let mut args = proxy_args(&squid, "BASIC", "AUTO", &pw);
    args.extend(pki.extra_ca_args());
    let tls = node(&front.url(), args);
    list_ok(&tls).await;
    list_ok(&tls).await;
    drop(tls);
    // The second call reused the pooled tunnel (squid logs a tunnel when it closes).
    squid.assert_lines(&connect_line(front.port), 1);
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
    let FakeOverTls { fake, pki, front } = FakeOverTls::start();
    let files = TempFiles::new();
    let pw = write_password(&files, &squid.password);

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
    args.extend(pki.extra_ca_args());
    let tls = node(&front.url(), args);
    list_ok(&tls).await;
    drop(tls);
    squid.assert_lines("TCP_TUNNEL/200 ", 1);
    // The challenge, then the tunnel.
    squid.assert_lines(&connect_line(front.port), 2);
}

#[tokio::test]
async fn a_wrong_proxy_password_is_unauthenticated_naming_the_proxy_without_retries() {
    let FakeOverTls { fake, pki, front } = FakeOverTls::start();
    let files = TempFiles::new();
    let pw = write_password(&files, "not-the-proxy-password");
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
        squid.assert_lines("TCP_DENIED/407", per_call);

        // CONNECT to an https target: the same, and no retry storm.
        let mut args = proxy_args(&squid, scheme, "AUTO", &pw);
        args.extend(pki.extra_ca_args());
        let tls = node(&front.url(), args);
        let (status, body) = Api::new(tls.url()).get(CUSTOMERS).await;
        assert_error_mentions(status, &body, 401, "UNAUTHENTICATED", &address);
        drop(tls);
        squid.assert_lines("TCP_DENIED/407", 2 * per_call);
        assert_eq!(front.handshakes(), 0);
    }
    assert_eq!(fake.requests("GET", "/v1/customers").await, 0);
}

#[tokio::test]
async fn a_proxy_that_is_down_is_unavailable_naming_the_proxy() {
    let fake = StripeFake::start();
    let down = e2e::free_port();
    let mut args = [
        "--proxy-host",
        "127.0.0.1",
        "--proxy-port",
        &down.to_string(),
    ]
    .map(String::from)
    .to_vec();
    args.extend(FAST_FAILURES.map(String::from));
    let node = node(&fake.url(), args);
    let (status, body) = Api::new(node.url()).get(CUSTOMERS).await;
    let proxy = format!("proxy 127.0.0.1:{down}");
    assert_error_mentions(status, &body, 503, "UNAVAILABLE", &proxy);
    assert_eq!(fake.requests("GET", "/v1/customers").await, 0);
}

#[tokio::test]
async fn tls_with_an_extra_ca_works_directly_and_through_the_tunnel_and_fails_clearly_without() {
    let FakeOverTls {
        fake: _fake,
        pki,
        front,
    } = FakeOverTls::start();
    let ca = pki.extra_ca_args();
    let fast = FAST_FAILURES.map(String::from);

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
    let files = TempFiles::new();
    let pw = write_password(&files, "unused");
    let tunnelled = node(
        &front.url(),
        [proxy_args(&squid, "NONE", "AUTO", &pw), ca.to_vec()].concat(),
    );
    list_ok(&tunnelled).await;
    drop(tunnelled);
    let untrusting = node(&front.url(), proxy_args(&squid, "NONE", "AUTO", &pw));
    let (status, body) = Api::new(untrusting.url()).get(CUSTOMERS).await;
    assert_error_mentions(status, &body, 503, "UNAVAILABLE", "certificate");
    // The certificate error is not retried: one tunnel per failing call.
    squid.assert_lines(&connect_line(front.port), 2);
}

#[tokio::test]
async fn ssl_types_always_tunnel_and_never() {
    let FakeOverTls { fake, pki, front } = FakeOverTls::start();
    let squid = Squid::start_with(ProxyAuth::Basic, Some(&pki), "");
    let files = TempFiles::new();
    let pw = write_password(&files, &squid.password);
    let ca = pki.extra_ca_args();

    // ALWAYS: TLS to squid's https_port; http forwarded inside it, https tunnelled inside it.
    let mut always = proxy_args(&squid, "BASIC", "ALWAYS", &pw);
    let i = always.iter().position(|a| a == "--proxy-port").unwrap();
    always[i + 1] = squid.tls_port.unwrap().to_string();
    always.extend(ca.clone());
    list_ok(&node(&fake.url(), always.clone())).await;
    list_ok(&node(&front.url(), always)).await;
    let forwarded = format!("GET http://127.0.0.1:{}/", fake.port);
    squid.assert_lines(&forwarded, 1);
    squid.assert_lines(&connect_line(front.port), 1);

    // TUNNEL: CONNECT also for the http target, never forwarding.
    list_ok(&node(
        &fake.url(),
        proxy_args(&squid, "BASIC", "TUNNEL", &pw),
    ))
    .await;
    squid.assert_lines(&connect_line(fake.port), 1);
    assert_eq!(squid.log_lines(&forwarded), 1);

    // NEVER: plain forwarding for http; an https base URL is refused at start-up.
    list_ok(&node(
        &fake.url(),
        proxy_args(&squid, "BASIC", "NEVER", &pw),
    ))
    .await;
    squid.assert_lines(&forwarded, 2);
    let key = files.write("key", "sk_test_never");
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
    let files = TempFiles::new();
    let key = files.write("key", "sk_test_startup");
    let empty = files.write("empty", "");
    let not_pem = files.write("not-pem", "hello");
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
