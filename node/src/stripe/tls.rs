//! TLS towards Stripe and towards a TLS proxy: rustls with the system roots plus an optional extra
//! CA bundle (PEM).

use std::path::Path;
use std::sync::Arc;

use rustls::ClientConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// The client TLS settings: system roots, plus the extra CA bundle when given.
pub fn client_config(extra_ca_file: Option<&Path>) -> anyhow::Result<Arc<ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    // A broken system certificate can't be allowed to stop the node: skip it, as reqwest does.
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    if let Some(path) = extra_ca_file {
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| anyhow::anyhow!("--extra-ca-file {}: {e}", path.display()))?;
        if certs.is_empty() {
            anyhow::bail!(
                "--extra-ca-file {}: no PEM certificate in the file",
                path.display()
            );
        }
        for cert in certs {
            roots.add(cert).map_err(|e| {
                anyhow::anyhow!("--extra-ca-file {}: unusable CA: {e}", path.display())
            })?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    // HTTP/1.1 only: the node's transport speaks HTTP/1.1 (pooled keep-alive connections).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Opens TLS over `io` to `host`, checking the certificate for `host`.
pub async fn connect<S>(
    config: &Arc<ClientConfig>,
    host: &str,
    io: S,
) -> std::io::Result<TlsStream<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    TlsConnector::from(config.clone()).connect(name, io).await
}

/// Protocol version and cipher suite of an open TLS connection, for the exchange log.
pub fn describe<S>(stream: &TlsStream<S>) -> String {
    let (_, session) = stream.get_ref();
    let version = session
        .protocol_version()
        .map(|v| format!("{v:?}"))
        .unwrap_or_else(|| "unknown".into());
    let cipher = session
        .negotiated_cipher_suite()
        .map(|c| format!("{:?}", c.suite()))
        .unwrap_or_else(|| "unknown".into());
    format!("{version} {cipher}")
}
