//! What the benchmark binaries share: the release binaries built beside them, and the Stripe
//! fake among them. Their processes are [`Service`]s, killed when dropped.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::Service;

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
pub fn start_stripe_fake() -> (Service, String) {
    let (port, fake) = Service::spawn_on_free_port(
        "stripe-fake",
        Command::new(sibling("stripe-fake")).stdout(Stdio::null()),
        Duration::from_secs(20),
    );
    (fake, crate::loopback_url(port))
}
