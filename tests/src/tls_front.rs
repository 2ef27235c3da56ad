//! TLS for the tests: a throw-away CA with a server certificate for 127.0.0.1 (rcgen), and a
//! TLS-terminating forwarder (tokio-rustls) that puts https in front of a plain local service,
//! such as the Stripe fake.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tempfile::TempDir;
use tokio::sync::oneshot;

/// A CA and a server certificate for `127.0.0.1` signed by it, also written as PEM files.
pub struct TestPki {
    dir: TempDir,
    cert: CertificateDer<'static>,
    key: Vec<u8>,
}

impl TestPki {
    pub fn new() -> Self {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "stripe-connector e2e CA");
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca, ca_key);
        let key = KeyPair::generate().expect("server key");
        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
                .expect("server params");
        params
            .distinguished_name
            .push(DnType::CommonName, "127.0.0.1");
        let cert = params.signed_by(&key, &issuer).expect("server certificate");
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("ca.pem"), ca_cert.pem()).unwrap();
        std::fs::write(dir.path().join("server.pem"), cert.pem()).unwrap();
        std::fs::write(dir.path().join("server.key"), key.serialize_pem()).unwrap();
        Self {
            dir,
            cert: cert.der().clone(),
            key: key.serialize_der(),
        }
    }

    /// The CA certificate (PEM), for `--extra-ca-file`.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The node's flags that make it trust this CA.
    pub fn extra_ca_args(&self) -> [String; 2] {
        [
            "--extra-ca-file".to_string(),
            self.ca_file().display().to_string(),
        ]
    }

    pub fn cert_file(&self) -> PathBuf {
        self.dir.path().join("server.pem")
    }

    pub fn key_file(&self) -> PathBuf {
        self.dir.path().join("server.key")
    }

    fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(vec![self.cert.clone()], key)
            .expect("server certificate and key");
        Arc::new(config)
    }
}

impl Default for TestPki {
    fn default() -> Self {
        Self::new()
    }
}

/// The Stripe fake, also over https behind a [`TlsFront`] whose certificate `pki` signs.
pub struct FakeOverTls {
    pub fake: crate::StripeFake,
    pub pki: TestPki,
    pub front: TlsFront,
}

impl FakeOverTls {
    pub fn start() -> Self {
        let fake = crate::StripeFake::start();
        let pki = TestPki::new();
        let front = TlsFront::start(&pki, fake.port);
        Self { fake, pki, front }
    }
}

/// https on a free loopback port, forwarding the decrypted bytes to a plain local port. It runs
/// on its own thread and stops when dropped.
pub struct TlsFront {
    pub port: u16,
    handshakes: Arc<AtomicUsize>,
    stop: Option<oneshot::Sender<()>>,
}

impl TlsFront {
    pub fn start(pki: &TestPki, backend_port: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("address").port();
        let acceptor = tokio_rustls::TlsAcceptor::from(pki.server_config());
        let handshakes = Arc::new(AtomicUsize::new(0));
        let counter = handshakes.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let serve = async {
                    loop {
                        let Ok((tcp, _)) = listener.accept().await else {
                            break;
                        };
                        let acceptor = acceptor.clone();
                        let counter = counter.clone();
                        tokio::spawn(async move {
                            // A failed handshake (an untrusting client) just ends this connection.
                            let Ok(mut tls) = acceptor.accept(tcp).await else {
                                return;
                            };
                            counter.fetch_add(1, Ordering::Relaxed);
                            let Ok(mut backend) =
                                tokio::net::TcpStream::connect(("127.0.0.1", backend_port)).await
                            else {
                                return;
                            };
                            let _ = tokio::io::copy_bidirectional(&mut tls, &mut backend).await;
                        });
                    }
                };
                tokio::select! {
                    _ = serve => {}
                    _ = stopped => {}
                }
            });
        });
        Self {
            port,
            handshakes,
            stop: Some(stop),
        }
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// Completed TLS handshakes so far.
    pub fn handshakes(&self) -> usize {
        self.handshakes.load(Ordering::Relaxed)
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
