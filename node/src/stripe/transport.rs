//! The HTTP transport to Stripe: pooled HTTP/1.1 connections (hyper-util), TLS with rustls, and
//! the outbound proxy (forwarding or CONNECT tunnel, basic or digest credentials, TLS to the proxy).
//!
//! The node dials connections itself instead of using reqwest because reqwest has no digest proxy
//! credentials (they need the proxy's 407 challenge first) and never tunnels http targets (TUNNEL).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{PROXY_AUTHENTICATE, PROXY_AUTHORIZATION};
use http::{HeaderMap, HeaderValue, Method, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::proxy::Proxy;
use super::tls;
use crate::config::Verbosity;
use crate::error::{ApiError, Code};

/// Why a request did not get an HTTP answer from Stripe. Messages name the proxy or the peer,
/// never a credential.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TransportError {
    #[error("cannot reach the proxy {proxy}: {reason}")]
    ProxyUnreachable { proxy: String, reason: String },
    #[error(
        "the proxy {proxy} rejected the proxy credentials (HTTP 407, scheme {scheme}); check the proxy user and password"
    )]
    ProxyAuth { proxy: String, scheme: String },
    #[error("the proxy {proxy} refused the way to {target} with HTTP {status}")]
    ProxyRefused {
        proxy: String,
        target: String,
        status: u16,
    },
    #[error("TLS with {peer} failed: {reason}")]
    Tls {
        peer: String,
        reason: String,
        certificate: bool,
    },
    #[error("Stripe is unreachable at {target}: {reason}")]
    Unreachable { target: String, reason: String },
    #[error("{what} did not finish within {limit:?}")]
    Timeout { what: String, limit: Duration },
    /// The request cannot be sent at all (a URL or header the caller's input made invalid):
    /// another attempt would fail the same way.
    #[error("the Stripe request cannot be built: {0}")]
    InvalidRequest(String),
}

impl TransportError {
    /// Whether another attempt may help (a wrong password or an untrusted certificate will not).
    pub fn retryable(&self) -> bool {
        match self {
            Self::ProxyAuth { .. } => false,
            Self::ProxyRefused { status, .. } => *status >= 500,
            Self::Tls { certificate, .. } => !certificate,
            Self::ProxyUnreachable { .. } | Self::Unreachable { .. } | Self::Timeout { .. } => true,
            Self::InvalidRequest(_) => false,
        }
    }

    pub fn to_api_error(&self) -> ApiError {
        let code = match self {
            Self::ProxyAuth { .. } => Code::Unauthenticated,
            Self::Timeout { .. } => Code::DeadlineExceeded,
            Self::InvalidRequest(_) => Code::InvalidArgument,
            _ => Code::Unavailable,
        };
        ApiError::new(code, self.to_string())
    }
}

/// A Stripe answer with its body read.
#[derive(Debug)]
pub struct Received {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub connection: Option<ConnInfo>,
}

/// Which pooled connection carried a request, for the exchange log.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    pub id: u64,
    /// How many requests this connection carried before (0: a new connection).
    pub reused: u64,
    uses: Arc<AtomicU64>,
}

pub struct Transport {
    client: Client<Connector, Full<Bytes>>,
    proxy: Option<Arc<Proxy>>,
    request_timeout: Duration,
}

impl Transport {
    pub fn new(
        tls: Arc<ClientConfig>,
        proxy: Option<Arc<Proxy>>,
        connect_timeout: Duration,
        request_timeout: Duration,
        verbosity: Verbosity,
    ) -> Self {
        let connector = Connector {
            inner: Arc::new(ConnectorInner {
                tls,
                proxy: proxy.clone(),
                connect_timeout,
                verbosity,
                next_id: AtomicU64::new(1),
            }),
        };
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(connector);
        Self {
            client,
            proxy,
            request_timeout,
        }
    }

    /// The proxy a call goes through, if any, and whether it is forwarded (not tunnelled).
    fn forwarding_proxy(&self, uri: &Uri) -> Option<&Proxy> {
        let https = uri.scheme_str() == Some("https");
        self.proxy.as_deref().filter(|p| !p.tunnels(https))
    }

    /// Sends one request. A forwarded request answered 407 with a digest challenge is sent once
    /// more with the computed credentials; a second 407 is a [`TransportError::ProxyAuth`].
    pub async fn send(
        &self,
        method: &Method,
        url: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<Received, TransportError> {
        let uri: Uri = url
            .parse()
            .map_err(|e| TransportError::InvalidRequest(format!("not a valid URL: {e}")))?;
        let forwarding = self.forwarding_proxy(&uri);
        let mut answered_challenge = false;
        loop {
            let mut request = http::Request::new(Full::new(body.clone()));
            *request.method_mut() = method.clone();
            *request.uri_mut() = uri.clone();
            *request.headers_mut() = headers.clone();
            if let Some(proxy) = forwarding
                && let Some(value) = proxy.authorization(method.as_str(), url)
                && let Ok(value) = HeaderValue::from_str(&value)
            {
                request.headers_mut().insert(PROXY_AUTHORIZATION, value);
            }
            let received = self.round_trip(request, &uri).await?;
            if received.status == 407
                && let Some(proxy) = forwarding
            {
                let challenges = received
                    .headers
                    .get_all(PROXY_AUTHENTICATE)
                    .iter()
                    .filter_map(|v| v.to_str().ok());
                if !answered_challenge && proxy.learn_challenge(challenges) {
                    answered_challenge = true;
                    continue;
                }
                return Err(proxy_auth_error(proxy));
            }
            return Ok(received);
        }
    }

    async fn round_trip(
        &self,
        request: http::Request<Full<Bytes>>,
        uri: &Uri,
    ) -> Result<Received, TransportError> {
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| {
                transport_error(&e).unwrap_or_else(|| TransportError::Unreachable {
                    target: authority(uri),
                    reason: error_chain(&e),
                })
            })?;
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| TransportError::Unreachable {
                    target: authority(uri),
                    reason: format!("reading the answer: {}", error_chain(&e)),
                })?
                .to_bytes();
            let connection = parts.extensions.get::<ConnInfo>().map(|c| ConnInfo {
                reused: c.uses.fetch_add(1, Ordering::Relaxed),
                ..c.clone()
            });
            Ok(Received {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body,
                connection,
            })
        };
        tokio::time::timeout(self.request_timeout, exchange)
            .await
            .map_err(|_| TransportError::Timeout {
                what: format!("the call to {} (--stripe-timeout-secs)", authority(uri)),
                limit: self.request_timeout,
            })?
    }
}

fn proxy_auth_error(proxy: &Proxy) -> TransportError {
    TransportError::ProxyAuth {
        proxy: proxy.address(),
        scheme: format!("{:?}", proxy.scheme()).to_uppercase(),
    }
}

/// The connector's own error, if the failure came from dialing.
fn transport_error(e: &(dyn std::error::Error + 'static)) -> Option<TransportError> {
    let mut source = Some(e);
    while let Some(s) = source {
        if let Some(t) = s.downcast_ref::<TransportError>() {
            return Some(t.clone());
        }
        source = s.source();
    }
    None
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.join(": ")
}

fn authority(uri: &Uri) -> String {
    let https = uri.scheme_str() == Some("https");
    let host = uri.host().unwrap_or("?");
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    format!("{host}:{port}")
}

/// Dials connections for the pooled client.
#[derive(Clone)]
pub struct Connector {
    inner: Arc<ConnectorInner>,
}

struct ConnectorInner {
    tls: Arc<ClientConfig>,
    proxy: Option<Arc<Proxy>>,
    connect_timeout: Duration,
    verbosity: Verbosity,
    next_id: AtomicU64,
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A dialed connection: direct, through a tunnel, or to a forwarding proxy; maybe TLS.
pub struct Conn {
    io: TokioIo<Box<dyn Io>>,
    forwarded: bool,
    info: ConnInfo,
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        // `proxy(true)` makes hyper send absolute-form request targets, as forwarding needs.
        Connected::new()
            .proxy(self.forwarded)
            .extra(self.info.clone())
    }
}

impl hyper::rt::Read for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

impl tower::Service<Uri> for Connector {
    type Response = Conn;
    type Error = TransportError;
    type Future = Pin<Box<dyn Future<Output = Result<Conn, TransportError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let inner = self.inner.clone();
        Box::pin(async move {
            let what = format!("connecting to {}", authority(&uri));
            tokio::time::timeout(inner.connect_timeout, dial(&inner, &uri))
                .await
                .map_err(|_| TransportError::Timeout {
                    what,
                    limit: inner.connect_timeout,
                })?
        })
    }
}

async fn dial(inner: &ConnectorInner, uri: &Uri) -> Result<Conn, TransportError> {
    let https = uri.scheme_str() == Some("https");
    let target = authority(uri);
    let host = uri.host().unwrap_or_default().trim_matches(['[', ']']);
    let mut route = Vec::new();
    let (stream, forwarded): (Box<dyn Io>, bool) = match &inner.proxy {
        None => {
            let tcp = tcp(&target, |reason| TransportError::Unreachable {
                target: target.clone(),
                reason,
            })
            .await?;
            route.push("direct".to_string());
            (Box::new(tcp), false)
        }
        Some(proxy) if proxy.tunnels(https) => {
            let stream = open_tunnel(inner, proxy, &target, &mut route).await?;
            (stream, false)
        }
        Some(proxy) => {
            if https {
                // Refused at start-up (NEVER with an https base URL); kept as a guard.
                return Err(TransportError::ProxyRefused {
                    proxy: proxy.address(),
                    target,
                    status: 0,
                });
            }
            let stream = open_proxy(inner, proxy, &mut route).await?;
            route.push("forwarding".to_string());
            (stream, true)
        }
    };
    let stream: Box<dyn Io> = if https {
        let tls = tls::connect(&inner.tls, host, stream)
            .await
            .map_err(|e| tls_error(&target, &e))?;
        route.push(format!("TLS {} with {target}", tls::describe(&tls)));
        Box::new(tls)
    } else {
        stream
    };
    let id = inner.next_id.fetch_add(1, Ordering::Relaxed);
    if inner.verbosity.logs_transport() {
        tracing::info!(
            target: "stripe",
            connection = id,
            peer = %target,
            route = %route.join(", "),
            "stripe connection opened"
        );
    }
    Ok(Conn {
        io: TokioIo::new(stream),
        forwarded,
        info: ConnInfo {
            id,
            reused: 0,
            uses: Arc::new(AtomicU64::new(0)),
        },
    })
}

/// A TCP connection to `address` (no Nagle delay: requests are small and answered at once);
/// `unreachable` names the peer in the error.
async fn tcp(
    address: &str,
    unreachable: impl FnOnce(String) -> TransportError,
) -> Result<TcpStream, TransportError> {
    let tcp = TcpStream::connect(address)
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    let _ = tcp.set_nodelay(true);
    Ok(tcp)
}

/// A connection to the proxy itself (TLS when the SSL type is ALWAYS).
async fn open_proxy(
    inner: &ConnectorInner,
    proxy: &Proxy,
    route: &mut Vec<String>,
) -> Result<Box<dyn Io>, TransportError> {
    let address = proxy.address();
    let tcp = tcp(&address, |reason| TransportError::ProxyUnreachable {
        proxy: address.clone(),
        reason,
    })
    .await?;
    if !proxy.tls_to_proxy() {
        route.push(format!("proxy {address}"));
        return Ok(Box::new(tcp));
    }
    let tls = tls::connect(&inner.tls, &proxy.host, tcp)
        .await
        .map_err(|e| tls_error(&format!("the proxy {address}"), &e))?;
    route.push(format!("proxy {address} over TLS {}", tls::describe(&tls)));
    Ok(Box::new(tls))
}

/// A CONNECT tunnel to `target`: at most two CONNECTs, the second only to answer a fresh digest
/// challenge (first contact, or a stale nonce). Each on a new connection, as proxies may close
/// after a 407.
async fn open_tunnel(
    inner: &ConnectorInner,
    proxy: &Proxy,
    target: &str,
    route: &mut Vec<String>,
) -> Result<Box<dyn Io>, TransportError> {
    for round in 0..2 {
        let mut hops = Vec::new();
        let mut stream = open_proxy(inner, proxy, &mut hops).await?;
        let (status, challenges) = proxy.connect(&mut stream, target).await.map_err(|e| {
            TransportError::ProxyUnreachable {
                proxy: proxy.address(),
                reason: format!("CONNECT {target}: {e}"),
            }
        })?;
        match status {
            200..=299 => {
                route.extend(hops);
                route.push(format!(
                    "CONNECT tunnel to {target} (proxy auth {:?})",
                    proxy.scheme()
                ));
                return Ok(stream);
            }
            407 => {
                if round == 0 && proxy.learn_challenge(challenges.iter().map(String::as_str)) {
                    if inner.verbosity.logs_transport() {
                        tracing::info!(target: "stripe", proxy = %proxy.address(), tunnel = target,
                            "proxy sent a digest challenge; answering it once");
                    }
                    continue;
                }
                return Err(proxy_auth_error(proxy));
            }
            status => {
                return Err(TransportError::ProxyRefused {
                    proxy: proxy.address(),
                    target: target.to_string(),
                    status,
                });
            }
        }
    }
    Err(proxy_auth_error(proxy))
}

fn tls_error(peer: &str, e: &std::io::Error) -> TransportError {
    let rustls_error = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    let certificate = matches!(
        rustls_error,
        Some(rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented)
    );
    let mut reason = e.to_string();
    if certificate {
        reason.push_str(
            " (the server certificate is not trusted: add its CA with --extra-ca-file / EXTRA_CA_FILE)",
        );
    }
    TransportError::Tls {
        peer: peer.to_string(),
        reason,
        certificate,
    }
}
