//! The API's HTTPS certificate, from mounted PEM files (a kubernetes.io/tls Secret's `tls.crt`
//! and `tls.key`). Every handshake takes the current pair: both files are looked at (secret.rs:
//! one `stat` each) and loaded again when they changed, so a renewed certificate serves the next
//! connection without a restart. A pair that does not load (a rotation caught half-way, a key
//! that does not match the certificate) leaves the last good pair in use, with a warning.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, RwLock};

use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::secret::{Secret, SecretFile};

/// The server config of the API's HTTPS: HTTP/1.1 and HTTP/2 by ALPN, the certificate from
/// [`ReloadingCert`].
pub fn server_config(cert_file: &Path, key_file: &Path) -> anyhow::Result<Arc<ServerConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs = ReloadingCert::open(cert_file, key_file, provider.clone())?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(certs));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The certificate and key files, and the pair last loaded from them.
pub struct ReloadingCert {
    cert: SecretFile,
    key: SecretFile,
    provider: Arc<CryptoProvider>,
    loaded: RwLock<Loaded>,
}

struct Loaded {
    /// The file contents the pair was made from (or last refused).
    cert: Secret,
    key: Secret,
    pair: Arc<CertifiedKey>,
}

impl fmt::Debug for ReloadingCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReloadingCert")
            .field("cert", &self.cert.path())
            .field("key", &self.key.path())
            .finish()
    }
}

impl ReloadingCert {
    /// Loads the pair now; files that are missing, empty or do not make a pair are an error.
    pub fn open(
        cert_file: &Path,
        key_file: &Path,
        provider: Arc<CryptoProvider>,
    ) -> anyhow::Result<Self> {
        let cert = SecretFile::open("--tls-cert-file", cert_file)?;
        let key = SecretFile::open("--tls-key-file", key_file)?;
        let (cert_text, key_text) = (cert.current(), key.current());
        let pair = certified_key(&cert_text, &key_text, &provider).map_err(|reason| {
            anyhow::anyhow!(
                "--tls-cert-file {} and --tls-key-file {}: {reason}",
                cert_file.display(),
                key_file.display()
            )
        })?;
        Ok(Self {
            cert,
            key,
            provider,
            loaded: RwLock::new(Loaded {
                cert: cert_text,
                key: key_text,
                pair,
            }),
        })
    }

    /// The pair for the next handshake, loaded again when a file changed.
    pub fn current(&self) -> Arc<CertifiedKey> {
        let (cert, key) = (self.cert.current(), self.key.current());
        {
            let loaded = self.loaded.read().unwrap_or_else(|p| p.into_inner());
            if loaded.cert.expose() == cert.expose() && loaded.key.expose() == key.expose() {
                return loaded.pair.clone();
            }
        }
        let mut loaded = self.loaded.write().unwrap_or_else(|p| p.into_inner());
        match certified_key(&cert, &key, &self.provider) {
            Ok(pair) => {
                loaded.pair = pair;
                tracing::info!(file = %self.cert.path().display(), "the API's TLS certificate changed; serving the new one");
            }
            Err(reason) => tracing::warn!(file = %self.cert.path().display(), %reason,
                "the API's TLS certificate or key changed but does not load; serving the last good one"),
        }
        // Either way these contents were looked at: not again until the files change.
        loaded.cert = cert;
        loaded.key = key;
        loaded.pair.clone()
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

/// The certificate chain and key of PEM texts, checked to belong together.
fn certified_key(
    cert: &Secret,
    key: &Secret,
    provider: &CryptoProvider,
) -> Result<Arc<CertifiedKey>, String> {
    let chain = CertificateDer::pem_slice_iter(cert.expose().as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("the certificate file is not PEM: {e}"))?;
    if chain.is_empty() {
        return Err("the certificate file holds no certificate".into());
    }
    let key = PrivateKeyDer::from_pem_slice(key.expose().as_bytes())
        .map_err(|e| format!("the key file holds no PEM private key: {e}"))?;
    CertifiedKey::from_der(chain, key, provider)
        .map(Arc::new)
        .map_err(|e| format!("the key does not fit the certificate: {e}"))
}
