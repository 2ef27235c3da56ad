//! The proptest settings the fuzz modules share.

use proptest::prelude::ProptestConfig;

/// `PROPTEST_CASES` cases per property when it is set, else the module's `default_cases`, and no
/// failure-persistence files (proptest prints a failing case).
pub fn fuzz_config(default_cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_cases);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}
