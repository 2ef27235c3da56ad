//! The API's connections: plain TCP, or TLS with tls-listener running the handshakes side by
//! side (each with a timeout, so a slow client holds up no other). Each connection is served by
//! hyper with limits set above the node's own (input_limits.rs), so an oversized request reaches
//! the node and is answered in the API's JSON error shape; what hyper still answers by itself is
//! rewritten into that shape (auto_answers.rs).
//! The admin port keeps axum::serve (admin.rs): plain HTTP for probes and Prometheus.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::auto_answers::{JsonAutoAnswers, Requests};
use crate::input_limits::{HYPER_MAX_BUF_BYTES, HYPER_MAX_HEADERS};

/// Longest a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` (over TLS with `tls`) until `stop` is cancelled, then lets
/// in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    tls: Option<Arc<ServerConfig>>,
    router: Router,
    stop: CancellationToken,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    match tls {
        None => loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((tcp, _)) => spawn(tcp, &router, &graceful),
                    Err(e) => accept_failed(&e).await,
                },
                _ = stop.cancelled() => {
                    // Refuse new connections at once, while the open ones drain.
                    drop(listener);
                    break;
                }
            }
        },
        Some(config) => {
            let mut tls = tls_listener::builder(tokio_rustls::TlsAcceptor::from(config))
                .handshake_timeout(HANDSHAKE_TIMEOUT)
                .listen(listener);
            loop {
                tokio::select! {
                    accepted = tls.accept() => match accepted {
                        Ok((stream, _)) => spawn(stream, &router, &graceful),
                        Err(tls_listener::Error::ListenerError(e)) => accept_failed(&e).await,
                        // A client that fails its handshake (an untrusting one, a port scan)
                        // ends only its own connection.
                        Err(e) => tracing::debug!(error = %e, "TLS handshake failed"),
                    },
                    _ = stop.cancelled() => break,
                }
            }
            drop(tls);
        }
    }
    graceful.shutdown().await;
    Ok(())
}

/// An accept error such as EMFILE: wait a moment rather than spin (as axum::serve does).
async fn accept_failed(e: &std::io::Error) {
    tracing::error!(error = %e, "cannot accept an API connection");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

fn spawn<I>(io: I, router: &Router, graceful: &GracefulShutdown)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let requests = Requests::default();
    let io = JsonAutoAnswers::new(io, requests.clone());
    let service = router
        .clone()
        .map_request(move |request: hyper::Request<Incoming>| {
            requests.count();
            request.map(Body::new)
        });
    let watcher = graceful.watcher();
    tokio::spawn(async move {
        let mut builder = Builder::new(TokioExecutor::new());
        builder
            .http1()
            .max_buf_size(HYPER_MAX_BUF_BYTES)
            .max_headers(HYPER_MAX_HEADERS);
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(service));
        if let Err(e) = watcher.watch(connection.into_owned()).await {
            tracing::debug!(error = %e, "API connection ended with an error");
        }
    });
}
