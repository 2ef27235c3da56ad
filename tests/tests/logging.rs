//! The node's log: verbosity 1..5, redaction of every secret, the off switch and the formats,
//! read from a real node's stderr.

use e2e::squid::{ProxyAuth, Squid};
use e2e::{CUSTOMERS, Node, NodeOptions, StripeFake};
use serde_json::{Value, json};

const API_KEY: &str = "sk_test_LogCheckKey4242";
const CLIENT_TOKEN: &str = "ct-e2e-token-7f3a9c";

struct Logged {
    node: Node,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Logged {
    fn start(base_url: &str, args: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("node.log");
        let mut options = NodeOptions::new(base_url);
        options.api_key = API_KEY.to_string();
        options.client_token = Some(CLIENT_TOKEN.to_string());
        options.stderr_file = Some(log.clone());
        options.extra_args = args.iter().map(|s| s.to_string()).collect();
        Self {
            node: Node::start(&options),
            log,
            _dir: dir,
        }
    }

    /// Sends a call with the client token, as callers of a deployed node do.
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = reqwest::Client::new()
            .request(method, format!("{}{path}", self.node.url()))
            .bearer_auth(CLIENT_TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("node answers");
        assert!(response.status().is_success(), "{path}");
        response.json().await.expect("json")
    }

    /// The log so far, after stopping the node so every line is written.
    fn stop_and_read(mut self) -> String {
        self.node.service.signal(libc::SIGTERM);
        self.node.service.wait(std::time::Duration::from_secs(10));
        std::fs::read_to_string(&self.log).unwrap()
    }
}

#[tokio::test]
async fn verbosity_5_logs_everything_but_secrets() {
    let squid = Squid::start(ProxyAuth::Basic);
    let fake = StripeFake::start();
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, &squid.password).unwrap();
    let port = squid.port.to_string();
    let pw_arg = pw.display().to_string();
    let node = Logged::start(
        &fake.url(),
        &[
            "--verbosity",
            "5",
            "--log-level",
            "debug",
            "--proxy-host",
            "127.0.0.1",
            "--proxy-port",
            &port,
            "--proxy-auth-scheme",
            "BASIC",
            "--proxy-user",
            &squid.user,
            "--proxy-password-file",
            &pw_arg,
        ],
    );
    let created = node
        .call(
            reqwest::Method::POST,
            "/v2/entityTypes/PaymentIntent/entities",
            Some(json!({"fields": {"Amount": 2000, "Currency": "usd"}})),
        )
        .await;
    let id = created["fields"]["Id"].as_str().expect("Id").to_string();
    let fetched = node
        .call(
            reqwest::Method::GET,
            &format!("/v2/entityTypes/PaymentIntent/entities/{id}"),
            None,
        )
        .await;
    // The secret went through the node (callers get it), so the log had the chance to show it.
    let client_secret = format!("{id}_secret_fake");
    assert_eq!(
        fetched["fields"]["ClientSecret"],
        client_secret.as_str(),
        "{fetched}"
    );
    let log = node.stop_and_read();

    for secret in [
        API_KEY,
        CLIENT_TOKEN,
        squid.password.as_str(),
        client_secret.as_str(),
    ] {
        assert!(!log.contains(secret), "{secret} is in the log:\n{log}");
    }
    // The level's content: request line, headers, bodies, transport details.
    assert!(
        log.contains(&format!(
            "POST http://127.0.0.1:{}/v1/payment_intents",
            fake.port
        )),
        "{log}"
    );
    assert!(log.contains("stripe-version"), "{log}");
    assert!(log.contains(r#"\"amount\":2000"#), "{log}");
    assert!(
        log.contains("stripe connection opened") && log.contains("forwarding"),
        "{log}"
    );
    assert!(log.contains(r#"\"client_secret\":\"[REDACTED]\""#), "{log}");
    assert!(log.contains(r#"\"authorization\":\"[REDACTED]\""#), "{log}");
    // JSON lines by default.
    for line in log.lines().filter(|l| !l.is_empty()) {
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
}

#[tokio::test]
async fn verbosity_1_is_one_line_per_call_and_the_switch_and_formats_work() {
    let fake = StripeFake::start();
    let quiet = Logged::start(&fake.url(), &["--verbosity", "1"]);
    quiet.call(reqwest::Method::GET, CUSTOMERS, None).await;
    let log = quiet.stop_and_read();
    let calls: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["fields"]["message"] == "stripe call")
        .collect();
    assert_eq!(calls.len(), 1, "{log}");
    let fields = &calls[0]["fields"];
    assert_eq!(fields["operation"], "customers");
    assert_eq!(fields["method"], "GET");
    assert_eq!(fields["status"], "200");
    assert!(fields["latency_ms"].as_f64().is_some(), "{fields}");
    assert!(fields.get("request").is_none(), "{fields}");

    let off = Logged::start(
        &fake.url(),
        &["--logging-enabled", "false", "--verbosity", "5"],
    );
    off.call(reqwest::Method::GET, CUSTOMERS, None).await;
    assert_eq!(off.stop_and_read(), "");

    let text = Logged::start(&fake.url(), &["--log-format", "text", "--verbosity", "2"]);
    text.call(reqwest::Method::GET, CUSTOMERS, None).await;
    let log = text.stop_and_read();
    let line = log.lines().find(|l| l.contains("stripe call")).expect(&log);
    assert!(serde_json::from_str::<Value>(line).is_err(), "{line}");
    assert!(
        line.contains("operation=\"customers\"") || line.contains("operation=customers"),
        "{line}"
    );
    assert!(
        line.contains("Bearer") || line.contains("[REDACTED]"),
        "{line}"
    );
    assert!(!log.contains(API_KEY), "{log}");
}
