//! Start-up of a real node process. The API's HTTP contract (metadata, errors, limits, auth)
//! is tested in process over `server::app`: node/tests/http_contract.rs.

#[test]
fn a_missing_or_malformed_key_stops_start_up_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad-key");
    std::fs::write(&bad, "pk_live_publishable_secretish").unwrap();
    let missing = dir.path().join("missing-key");
    for (file, want) in [(&bad, "not a Stripe secret key"), (&missing, "cannot read")] {
        let out = std::process::Command::new(e2e::workspace_bin("stripe-node"))
            .env_clear()
            .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
            .arg("--stripe-api-key-file")
            .arg(file)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(want), "{stderr}");
        assert!(stderr.contains(&file.display().to_string()), "{stderr}");
        assert!(!stderr.contains("secretish"), "the key leaked: {stderr}");
    }
}
