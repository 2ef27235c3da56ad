//! Test support: starts real services (redis-server, localstripe, connector nodes) on free
//! loopback ports and stops them when dropped, also when a test fails or its process dies.

pub mod bench;
pub mod checked_calls;
pub mod client;
pub mod services;
pub mod squid;
pub mod stripe_side;
pub mod tls_front;

pub use client::{
    Api, api_node_options, assert_error, assert_error_mentions, error_info, fake_and_node,
    stripe_detail,
};
pub use services::{Localstripe, Node, NodeOptions, Redis, Service, StripeFake};

use std::net::TcpListener;
use std::path::PathBuf;

/// The repository's top folder.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// A program of the repo's Python venv (`.venv`, made by scripts/install-test-deps.sh).
pub fn venv_bin(name: &str) -> PathBuf {
    let path = repo_root().join(".venv/bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/install-test-deps.sh (make test does)",
        path.display()
    );
    path
}

/// A workspace binary built next to this test (cargo builds all workspace bins for tests).
pub fn workspace_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/<test> -> target/<profile>/<name>
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build the workspace binaries first (cargo build --workspace)",
        path.display()
    );
    path
}

/// A port that is free right now on 127.0.0.1. The kernel picks it, so parallel runs differ.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}
