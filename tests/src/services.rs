//! Real service processes for the tests.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::{free_port, get_json, loopback_url, venv_bin, workspace_bin};

/// A child process that is killed when dropped, and also when the test process dies.
pub struct Service {
    name: String,
    child: Option<Child>,
}

impl Service {
    pub fn spawn(name: &str, command: &mut Command) -> Self {
        command.stdin(Stdio::null());
        kill_with_parent(command);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Self {
            name: name.to_string(),
            child: Some(child),
        }
    }

    /// Starts a server that takes `--port` (redis-server, localstripe, the Stripe fake) on
    /// `port`, and waits until it listens there.
    pub fn spawn_on_port(name: &str, command: &mut Command, port: u16, timeout: Duration) -> Self {
        let mut service = Self::spawn(name, command.args(["--port", &port.to_string()]));
        service.wait_until_listening(port, timeout);
        service
    }

    /// [`Service::spawn_on_port`] on a free port, which it returns.
    pub fn spawn_on_free_port(name: &str, command: &mut Command, timeout: Duration) -> (u16, Self) {
        let port = free_port();
        (port, Self::spawn_on_port(name, command, port, timeout))
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// Sends a signal (SIGTERM for a graceful stop, SIGKILL for a crash).
    pub fn signal(&self, signal: i32) {
        if let Some(child) = &self.child {
            // SAFETY-free: libc::kill only sends a signal to our own child.
            #[allow(unsafe_code)]
            unsafe {
                libc::kill(child.id() as i32, signal);
            }
        }
    }

    /// Waits for the process to exit and returns whether it exited successfully.
    pub fn wait(&mut self, timeout: Duration) -> Option<bool> {
        let child = self.child.as_mut()?;
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Some(status.success());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Waits for the port to accept connections; panics early if the process exits instead.
    pub fn wait_until_listening(&mut self, port: u16, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("{} exited ({status}) before listening on {port}", self.name);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("{} did not listen on {port} within {timeout:?}", self.name);
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Asks the kernel to SIGKILL the child when the test process exits, however it exits.
fn kill_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    #[allow(unsafe_code)]
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

/// Waits until something accepts TCP connections on the port.
pub fn wait_for_port(port: u16, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    false
}

/// A real redis-server on a free loopback port, without persistence.
pub struct Redis {
    pub port: u16,
    service: Service,
    dir: TempDir,
}

impl Redis {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let service = Self::spawn(port, dir.path());
        Self { port, service, dir }
    }

    fn spawn(port: u16, dir: &Path) -> Service {
        Service::spawn_on_port(
            "redis-server",
            Command::new("redis-server")
                .args(["--bind", "127.0.0.1"])
                .args([
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--protected-mode",
                    "yes",
                ])
                .arg("--dir")
                .arg(dir)
                .stdout(Stdio::null()),
            port,
            Duration::from_secs(10),
        )
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills Redis (as a crash would).
    pub fn kill(&mut self) {
        self.service.kill();
    }

    /// Starts Redis again on the same port, empty (scripts must be loaded again).
    pub fn restart(&mut self) {
        self.service.kill();
        self.service = Self::spawn(self.port, self.dir.path());
    }
}

/// localstripe (PyPI) from the repo's venv, bound to 127.0.0.1.
pub struct Localstripe {
    pub port: u16,
    _service: Service,
}

impl Localstripe {
    pub fn start() -> Self {
        let (port, service) = Service::spawn_on_free_port(
            "localstripe",
            // --from-scratch: otherwise localstripe loads /tmp/localstripe.pickle, which every
            // instance on the machine rewrites on each change; a start that reads it half
            // written crashes, and state would leak between tests.
            Command::new(venv_bin("localstripe"))
                .arg("--from-scratch")
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
            Duration::from_secs(30),
        );
        Self {
            port,
            _service: service,
        }
    }

    pub fn url(&self) -> String {
        loopback_url(self.port)
    }
}

/// How to start a connector node.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    pub stripe_base_url: String,
    pub api_key: String,
    pub connection_name: String,
    pub redis_url: Option<String>,
    pub tps_per_node: u32,
    /// The client token callers must present (`--client-token-file`); `None` leaves the API open.
    pub client_token: Option<String>,
    /// Extra `--flag value` arguments.
    pub extra_args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// Where the node's stderr (its log) goes; inherited when `None`.
    pub stderr_file: Option<PathBuf>,
}

impl NodeOptions {
    pub fn new(stripe_base_url: impl Into<String>) -> Self {
        Self {
            stripe_base_url: stripe_base_url.into(),
            api_key: "sk_test_e2e".to_string(),
            connection_name: "e2e".to_string(),
            redis_url: None,
            tps_per_node: 1000,
            client_token: None,
            extra_args: Vec::new(),
            env: Vec::new(),
            stderr_file: None,
        }
    }
}

/// A `stripe-node` process with its API and admin ports.
pub struct Node {
    pub port: u16,
    pub admin_port: u16,
    pub dir: TempDir,
    pub service: Service,
}

impl Node {
    pub fn start(options: &NodeOptions) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let key_file = dir.path().join("api-key");
        std::fs::write(&key_file, &options.api_key).expect("write key file");
        let port = free_port();
        let admin_port = free_port();
        let mut command = Command::new(workspace_bin("stripe-node"));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--admin-listen", &format!("127.0.0.1:{admin_port}")])
            .args(["--connection-name", &options.connection_name])
            .arg("--stripe-api-key-file")
            .arg(&key_file)
            .args(["--stripe-base-url", &options.stripe_base_url])
            .args(["--tps-per-node", &options.tps_per_node.to_string()])
            .args(&options.extra_args)
            .envs(options.env.iter().cloned());
        if let Some(token) = &options.client_token {
            let token_file = dir.path().join("client-token");
            std::fs::write(&token_file, token).expect("write token file");
            command.arg("--client-token-file").arg(token_file);
        }
        if let Some(url) = &options.redis_url {
            command.args(["--redis-url", url]);
        }
        if let Some(file) = &options.stderr_file {
            command.stderr(std::fs::File::create(file).expect("node log file"));
        }
        let mut service = Service::spawn("stripe-node", &mut command);
        service.wait_until_listening(admin_port, Duration::from_secs(20));
        service.wait_until_listening(port, Duration::from_secs(5));
        Self {
            port,
            admin_port,
            dir,
            service,
        }
    }

    /// Runs `stripe-node` with the API key file `key_file` and `args`, expecting it to refuse to
    /// start; returns what it printed on stderr.
    pub fn start_up_error<S: AsRef<std::ffi::OsStr>>(
        key_file: &Path,
        args: impl IntoIterator<Item = S>,
    ) -> String {
        let out = Command::new(workspace_bin("stripe-node"))
            .env_clear()
            .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
            .arg("--stripe-api-key-file")
            .arg(key_file)
            .args(args)
            .output()
            .expect("stripe-node runs");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "stripe-node started: {stderr}");
        stderr
    }

    pub fn url(&self) -> String {
        loopback_url(self.port)
    }

    pub fn admin_url(&self) -> String {
        loopback_url(self.admin_port)
    }

    /// The admin server's `/readyz` answer (the limiter's state, among others).
    pub async fn readiness(&self) -> serde_json::Value {
        get_json(&format!("{}/readyz", self.admin_url())).await
    }

    /// The admin server's Prometheus exposition.
    pub async fn metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.admin_url()))
            .await
            .expect("node admin answers")
            .text()
            .await
            .expect("metrics text")
    }

    pub fn token_file(&self) -> PathBuf {
        self.dir.path().join("client-token")
    }

    pub fn key_file(&self) -> PathBuf {
        self.dir.path().join("api-key")
    }
}

/// The project's Stripe-shaped fake (`stripe-fake`, tests/src/bin) for what localstripe lacks:
/// quotes, invoice transitions, idempotent replay and injected faults.
pub struct StripeFake {
    pub port: u16,
    service: Service,
}

impl StripeFake {
    pub fn start() -> Self {
        let (port, service) = Service::spawn_on_free_port(
            "stripe-fake",
            &mut Command::new(workspace_bin("stripe-fake")),
            Duration::from_secs(10),
        );
        Self { port, service }
    }

    pub fn url(&self) -> String {
        loopback_url(self.port)
    }

    pub fn pid(&self) -> u32 {
        self.service.pid()
    }

    /// A GET of the fake's control API (`/_fake/...`).
    async fn control_get(&self, path_and_query: &str) -> serde_json::Value {
        get_json(&format!("{}/_fake/{path_and_query}", self.url())).await
    }

    /// A POST to the fake's control API (`/_fake/...`), which must succeed.
    async fn control_post(&self, path: &str, body: Option<serde_json::Value>) {
        let request = reqwest::Client::new().post(format!("{}/_fake/{path}", self.url()));
        let request = match &body {
            Some(body) => request.json(body),
            None => request,
        };
        let response = request.send().await.expect("fake answers");
        let status = response.status();
        assert!(
            status.is_success(),
            "{path} {body:?} refused: {status} {:?}",
            response.text().await
        );
    }

    /// Injects a fault, e.g. `{"path_prefix": "/v1/customers", "status": 500, "count": 2}`.
    pub async fn inject(&self, fault: serde_json::Value) {
        self.control_post("faults", Some(fault)).await;
    }

    /// Objects of a type (`customer`, `quote`, ...) with the idempotency key that created them.
    pub async fn objects(&self, kind: &str) -> Vec<serde_json::Value> {
        let body = self.control_get(&format!("objects?type={kind}")).await;
        body["data"].as_array().cloned().unwrap_or_default()
    }

    /// Method, path and Stripe headers (`stripe_version`, `stripe_account`, `idempotency_key`) of
    /// the last API request.
    pub async fn last_request(&self) -> serde_json::Value {
        self.control_get("last_request").await
    }

    /// How many API requests (any method, any path) reached the fake.
    pub async fn request_count(&self) -> u64 {
        let body = self.control_get("requests?path_prefix=/").await;
        body["count"].as_u64().unwrap_or_default()
    }

    /// A call of Stripe's API on the fake, to arrange what the node then reads (objects Stripe
    /// creates itself, children the node only lists). Asserts success and returns the object.
    pub async fn stripe(
        &self,
        method: &str,
        path: &str,
        form: &[(&str, &str)],
    ) -> serde_json::Value {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let url = format!("{}{path}", self.url());
        let request = reqwest::Client::new()
            .request(method.clone(), url)
            .bearer_auth("sk_test_arrange");
        let request = if method == reqwest::Method::GET {
            request.query(form)
        } else {
            request.form(form)
        };
        let response = request.send().await.expect("fake answers");
        let status = response.status();
        let body: serde_json::Value = response.json().await.expect("json");
        assert!(
            status.is_success(),
            "{method} {path} {form:?}: {status} {body}"
        );
        body
    }

    /// How long the fake's search index lags behind writes.
    pub async fn set_search_delay(&self, delay: Duration) {
        let body = serde_json::json!({"ms": delay.as_millis() as u64});
        self.control_post("search_delay", Some(body)).await;
    }

    /// The bank settled a payout (what Stripe's API cannot cause).
    pub async fn settle_payout(&self, id: &str) {
        self.control_post(&format!("payouts/{id}/paid"), None).await;
    }

    /// How many requests with this method reached paths starting with the prefix.
    pub async fn requests(&self, method: &str, path_prefix: &str) -> u64 {
        let body = self
            .control_get(&format!(
                "requests?method={method}&path_prefix={path_prefix}"
            ))
            .await;
        body["count"].as_u64().unwrap_or_default()
    }
}
