//! Test support: starts real services (redis-server, localstripe, connector nodes) on free
//! loopback ports and stops them when dropped, also when a test fails or its process dies.

pub mod bench;
pub mod checked_calls;
pub mod client;
pub mod offered_load;
pub mod services;
pub mod squid;
pub mod stripe_side;
pub mod tls_front;

pub use client::{
    Api, CUSTOMERS, api_node_options, assert_error, assert_error_mentions, assert_mentions,
    assert_ok, error_info, fake_and_node, fake_and_node_with, localstripe_and_node, stripe_detail,
};
pub use services::{Localstripe, Node, NodeOptions, Redis, Service, StripeFake};

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

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

/// A temporary folder of small files (keys, tokens, passwords) that a node is given by path.
pub struct TempFiles(TempDir);

impl TempFiles {
    pub fn new() -> Self {
        Self(tempfile::tempdir().expect("temp dir"))
    }

    /// Writes `content` to the file `name` in the folder and returns its path.
    pub fn write(&self, name: &str, content: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, content).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        path
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
}

impl Default for TempFiles {
    fn default() -> Self {
        Self::new()
    }
}

/// Replaces a file's content as Kubernetes updates a mounted Secret: a new file is written
/// beside it, then renamed over it.
pub fn replace_file(path: &Path, content: impl AsRef<[u8]>) {
    let staged = path.with_extension("new");
    std::fs::write(&staged, content).unwrap_or_else(|e| panic!("{}: {e}", staged.display()));
    std::fs::rename(&staged, path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// `http://127.0.0.1:{port}`.
pub fn loopback_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// The JSON answer of a GET that must answer.
pub async fn get_json(url: &str) -> serde_json::Value {
    reqwest::get(url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: not JSON: {e}"))
}

/// A port that is free right now on 127.0.0.1. The kernel picks it, so parallel runs differ.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}
