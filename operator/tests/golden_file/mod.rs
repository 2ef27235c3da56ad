//! Golden-file checks: generated text is compared with a committed file, and a difference fails
//! with a unified diff (the `similar` crate, insta's diff engine) instead of two walls of text.
//! Insta's own snapshots are not used because these files are artifacts in their own format
//! (the CRD under crds/ is applied and shipped as it is).

use std::path::Path;

/// Fails with a diff when `actual` differs from the file at `path`; with the environment
/// variable `update_var` set, writes `actual` to the file first (review it in git).
pub fn assert_matches_file(path: &Path, actual: &str, update_var: &str) {
    if std::env::var_os(update_var).is_some() {
        std::fs::write(path, actual).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    let expected = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with {update_var}=1)", path.display()));
    if expected != actual {
        let committed = path.display().to_string();
        let diff = similar::TextDiff::from_lines(expected.as_str(), actual)
            .unified_diff()
            .context_radius(3)
            .header(&committed, "generated")
            .to_string();
        panic!(
            "{committed} differs from what the code generates; review the diff, then run again \
             with {update_var}=1:\n{diff}"
        );
    }
}
