//! HTTPS on the API port with a throw-away CA, through curl: the certificate is verified, plain
//! HTTP is not served on it, the admin port stays plain HTTP for the probes, and a renewed
//! certificate (another CA's) serves the next connection without a restart.

use std::path::Path;
use std::process::Command;

use e2e::tls_front::TestPki;
use e2e::{Node, StripeFake, api_node_options, replace_file};

const TOKEN: &str = "https-client-token-4e1f";

/// curl's exit code and output for `url`, trusting `ca` (none: the system roots only).
fn curl(url: &str, ca: Option<&Path>) -> (i32, String) {
    let mut command = Command::new("curl");
    command
        .args(["--silent", "--show-error", "--max-time", "10"])
        .args(["-H", &format!("Authorization: Bearer {TOKEN}")]);
    if let Some(ca) = ca {
        command.arg("--cacert").arg(ca);
    }
    let out = command.arg(url).output().expect("curl runs");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// Replaces `to` with a copy of `from`, as Kubernetes updates a mounted Secret.
fn rotate(from: &Path, to: &Path) {
    replace_file(to, std::fs::read(from).unwrap());
}

#[tokio::test]
async fn the_api_serves_https_and_follows_a_renewed_certificate() {
    let fake = StripeFake::start();
    let first = TestPki::new();
    let mounted = tempfile::tempdir().unwrap();
    let (cert, key) = (
        mounted.path().join("tls.crt"),
        mounted.path().join("tls.key"),
    );
    rotate(&first.cert_file(), &cert);
    rotate(&first.key_file(), &key);
    let mut options = api_node_options(fake.url());
    options.client_token = Some(TOKEN.into());
    options.extra_args.extend([
        "--tls-cert-file".into(),
        cert.display().to_string(),
        "--tls-key-file".into(),
        key.display().to_string(),
    ]);
    let node = Node::start(&options);
    let https = format!("https://127.0.0.1:{}/v2/entityTypes/Customer", node.port);

    let (code, out) = curl(&https, Some(&first.ca_file()));
    assert_eq!(code, 0, "{out}");
    let body: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(body["name"], "Customer");
    // Without the CA the certificate is refused; plain HTTP gets no API answer.
    let (code, out) = curl(&https, None);
    assert_eq!(code, 60, "curl trusted an unknown CA: {out}");
    let plain = format!("http://127.0.0.1:{}/v2/entityTypes", node.port);
    let (code, out) = curl(&plain, None);
    assert!(code != 0 && !out.contains("Customer"), "{code}: {out}");
    // The probes stay on the plain admin port.
    let (code, out) = curl(&format!("{}/readyz", node.admin_url()), None);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ready"), "{out}");

    // A renewed certificate from another CA: the next connection gets it, same process.
    let pid = node.service.pid();
    let second = TestPki::new();
    rotate(&second.cert_file(), &cert);
    rotate(&second.key_file(), &key);
    let (code, out) = curl(&https, Some(&second.ca_file()));
    assert_eq!(code, 0, "the renewed certificate is not served: {out}");
    let (code, out) = curl(&https, Some(&first.ca_file()));
    // (Both throw-away CAs have the same name, so OpenSSL fails on the signature: exit 35.)
    assert!(code != 0, "the old certificate is still served: {out}");
    assert_eq!(node.service.pid(), pid);

    // A half-written rotation (a key of another pair) keeps the last good certificate.
    rotate(&first.key_file(), &key);
    let (code, out) = curl(&https, Some(&second.ca_file()));
    assert_eq!(code, 0, "a mismatched key broke the API: {out}");
}

#[test]
fn a_certificate_without_its_key_is_a_start_up_error() {
    let pki = TestPki::new();
    let other = TestPki::new();
    let key_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(key_file.path(), "sk_test_x").unwrap();
    let cert = pki.cert_file().display().to_string();
    let stderr = Node::start_up_error(key_file.path(), ["--tls-cert-file", &cert]);
    assert!(stderr.contains("--tls-key-file"), "{stderr}");
    let wrong_key = other.key_file().display().to_string();
    let stderr = Node::start_up_error(
        key_file.path(),
        ["--tls-cert-file", &cert, "--tls-key-file", &wrong_key],
    );
    assert!(stderr.contains("does not fit the certificate"), "{stderr}");
}
