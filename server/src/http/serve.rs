//! The accept loop: hyper's HTTP/1 server with the connection limits a public collector needs.
//!
//! `axum::serve` (0.8) exposes no header read timeout and no connection cap, so connections are
//! served here with `hyper::server::conn::http1` directly:
//! - hyper's `header_read_timeout` closes a connection whose request head does not arrive in
//!   time. hyper starts that timer whenever it waits for a head, on a new connection and between
//!   keep-alive requests, so it is also the idle keep-alive timeout.
//! - a semaphore caps open connections: at the cap the loop stops accepting, so new connections
//!   wait in the kernel's listen backlog until one closes (they are not refused).
//! - hyper-util's `GracefulShutdown` lets in-flight requests finish, up to a deadline after which
//!   the remaining connections are dropped, so one stuck client cannot hold up the exit.
//!
//! Only HTTP/1.1 is served: hyper's header timeout exists for HTTP/1 only, and the prior-knowledge
//! HTTP/2 detection of hyper-util's auto builder reads its preface without any timeout.

use axum::Router;
use axum::extract::connect_info::IntoMakeServiceWithConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tower::Service;

/// Connection limits of the server.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Time allowed for a request head, also the idle keep-alive timeout.
    pub header_timeout: Duration,
    /// Most connections open at once; past it new ones wait in the listen backlog.
    pub max_connections: usize,
    /// How long shutdown waits for open connections before dropping them.
    pub shutdown_timeout: Duration,
}

/// Pause after a failed `accept` (e.g. out of file descriptors) so the loop does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// Serves `app` on `listener` until `shutdown` resolves, then stops accepting and waits up to
/// `limits.shutdown_timeout` for open connections. On return every connection task has ended,
/// so every clone of `app` (and the writer handles it holds) is dropped.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let mut make: IntoMakeServiceWithConnectInfo<Router, SocketAddr> =
        app.into_make_service_with_connect_info::<SocketAddr>();
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut tasks = JoinSet::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        // Finished connections are reaped here so the set stays as small as the open ones.
        while tasks.try_join_next().is_some() {}
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_closed) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = match make.call(peer).await {
            Ok(s) => s,
            Err(never) => match never {},
        };
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tasks.spawn(async move {
            // Timeouts and client resets end up here; they concern one client only.
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.shutdown_timeout) => {
            tracing::warn!(
                open = tasks.len(),
                "connections still open after the shutdown timeout; closing them"
            );
        }
    }
    tasks.shutdown().await;
}
