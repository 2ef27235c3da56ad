//! Start-up of a real node process. The API's HTTP contract (metadata, errors, limits, auth)
//! is tested in process over `server::app`: node/tests/http_contract.rs.

use e2e::{Node, TempFiles};

#[test]
fn a_missing_or_malformed_key_stops_start_up_with_a_clear_error() {
    let files = TempFiles::new();
    let bad = files.write("bad-key", "pk_live_publishable_secretish");
    let missing = files.path("missing-key");
    for (file, want) in [(&bad, "not a Stripe secret key"), (&missing, "cannot read")] {
        let stderr = Node::start_up_error(file, std::iter::empty::<&str>());
        assert!(stderr.contains(want), "{stderr}");
        assert!(stderr.contains(&file.display().to_string()), "{stderr}");
        assert!(!stderr.contains("secretish"), "the key leaked: {stderr}");
    }
}
