//! What the benchmark binaries share: their child processes, and the release binaries built
//! beside them.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Kills the child when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A workspace binary next to the running benchmark.
pub fn sibling(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let path = exe.parent().expect("bin dir").join(name);
    assert!(
        path.exists(),
        "{} is missing: cargo build --release --workspace --bins",
        path.display()
    );
    path
}

/// The Stripe fake built beside the benchmark, on a free port: its process and URL.
pub fn start_stripe_fake() -> (Proc, String) {
    let port = crate::free_port();
    let child = Command::new(sibling("stripe-fake"))
        .args(["--port", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("stripe-fake starts");
    wait_for(port);
    (Proc(child), crate::loopback_url(port))
}

/// Waits until something listens on the loopback port.
pub fn wait_for(port: u16) {
    assert!(
        crate::services::wait_for_port(port, Duration::from_secs(20)),
        "nothing listens on {port}"
    );
}
