//! A real squid proxy on a free loopback port, with basic or digest authentication.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use crate::free_port;
use crate::services::{Service, wait_for_port};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyAuth {
    None,
    Basic,
    Digest,
}

pub struct Squid {
    pub port: u16,
    /// The https_port (TLS to the proxy itself), when started with a certificate.
    pub tls_port: Option<u16>,
    pub user: String,
    pub password: String,
    dir: TempDir,
    _service: Service,
}

impl Squid {
    pub fn start(auth: ProxyAuth) -> Self {
        Self::start_with(auth, None, "")
    }

    /// Also listens on an https_port with the certificate of `pki` (Debian's squid is built with
    /// GnuTLS, which serves https_port: TLS to the proxy, then forwarding or CONNECT inside), and
    /// with extra squid.conf lines (e.g. `auth_param digest nonce_max_count 2`).
    pub fn start_with(
        auth: ProxyAuth,
        pki: Option<&crate::tls_front::TestPki>,
        extra_config: &str,
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path();
        // squid drops to the `proxy` user: its files and folder must be readable and writable to it.
        chmod(path, 0o777);
        let (user, password) = ("alice".to_string(), "proxy-s3cret-pw".to_string());
        let port = free_port();
        let auth_lines = match auth {
            ProxyAuth::None => "http_access allow all\n".to_string(),
            ProxyAuth::Basic => {
                let file = path.join("passwd");
                let status = Command::new("htpasswd")
                    .args(["-b", "-c", "-m"])
                    .arg(&file)
                    .args([&user, &password])
                    .stderr(Stdio::null())
                    .status()
                    .expect("htpasswd (apache2-utils) is installed");
                assert!(status.success(), "htpasswd failed");
                required_credentials("basic", "basic_ncsa_auth", &file)
            }
            ProxyAuth::Digest => {
                let file = path.join("digest_passwd");
                std::fs::write(&file, format!("{user}:{password}\n")).unwrap();
                required_credentials("digest", "digest_file_auth", &file)
            }
        };
        let d = path.display();
        let tls_port = pki.map(|_| free_port());
        let https_line = match (pki, tls_port) {
            (Some(pki), Some(tls_port)) => {
                for file in [pki.cert_file(), pki.key_file()] {
                    chmod(&file, 0o644);
                    chmod(file.parent().unwrap(), 0o755);
                }
                format!(
                    "https_port 127.0.0.1:{tls_port} tls-cert={} tls-key={}\n",
                    pki.cert_file().display(),
                    pki.key_file().display()
                )
            }
            _ => String::new(),
        };
        let config = format!(
            "http_port 127.0.0.1:{port}\n{https_line}\
             pid_filename {d}/squid.pid\ncache_log {d}/cache.log\naccess_log stdio:{d}/access.log\n\
             coredump_dir {d}\ncache deny all\ncache_mem 8 MB\npinger_enable off\n\
             shutdown_lifetime 0 seconds\n{auth_lines}{extra_config}\n"
        );
        let conf = path.join("squid.conf");
        std::fs::write(&conf, config).unwrap();
        let squid = if Path::new("/usr/sbin/squid").exists() {
            "/usr/sbin/squid"
        } else {
            "squid"
        };
        let service = Service::spawn(
            "squid",
            Command::new(squid)
                .arg("-N")
                .arg("-f")
                .arg(&conf)
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        assert!(
            wait_for_port(port, Duration::from_secs(20)),
            "squid did not listen on {port}; see {d}/cache.log"
        );
        if let Some(tls_port) = tls_port {
            assert!(
                wait_for_port(tls_port, Duration::from_secs(10)),
                "squid did not listen on its https_port {tls_port}; see {d}/cache.log"
            );
        }
        Self {
            port,
            tls_port,
            user,
            password,
            dir,
            _service: service,
        }
    }

    pub fn url(&self) -> String {
        crate::loopback_url(self.port)
    }

    /// Lines of the access log that mention `needle` (e.g. a path, or `TCP_DENIED/407`).
    pub fn log_lines(&self, needle: &str) -> usize {
        self.access_log()
            .lines()
            .filter(|l| l.contains(needle))
            .count()
    }

    /// Waits (at most 5 s) until at least `want` access-log lines mention `needle`, and returns
    /// how many do. squid logs a CONNECT tunnel only when it closes: stop the client first.
    pub fn wait_for_lines(&self, needle: &str, want: usize) -> usize {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let n = self.log_lines(needle);
            if n >= want || std::time::Instant::now() >= deadline {
                return n;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Asserts that exactly `want` access-log lines mention `needle`, once squid has written them
    /// ([`Squid::wait_for_lines`]); the log is shown on failure.
    pub fn assert_lines(&self, needle: &str, want: usize) {
        let found = self.wait_for_lines(needle, want);
        assert_eq!(found, want, "{needle:?}: {}", self.access_log());
    }

    /// squid's access log: one line per proxied request.
    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default()
    }
}

/// squid.conf lines that let only clients with `scheme` credentials through, checked by squid's
/// `helper` program against the password `file`.
fn required_credentials(scheme: &str, helper: &str, file: &Path) -> String {
    chmod(file, 0o644);
    format!(
        "auth_param {scheme} program /usr/lib/squid/{helper} {}\n\
         auth_param {scheme} realm stripe-connector-test\n\
         acl authed proxy_auth REQUIRED\nhttp_access allow authed\nhttp_access deny all\n",
        file.display()
    )
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {mode:o} {}: {e}", path.display()));
}
