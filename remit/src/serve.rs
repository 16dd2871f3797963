//! `remit serve`: the ops API (`remit_ops_api::OpsApi`: the router with idempotent retries) on a
//! local TCP listener, over the data directory's store, with bearer tokens from a file. The same
//! API runs behind Lambda.
//!
//! The listener guards itself (issue 15): a connection must send a request's headers within the
//! header-read timeout (a client that trickles them, slowloris, is closed), and at most
//! `max_connections` are served at once; more wait in the socket's backlog until one closes.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use remit_domain::ingest::IngestConfig;
use remit_ops_api::{AppState, OpsApi, Tokens};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::commands::open_store;

/// How long a connection may take to send a request's headers, by default.
pub const DEFAULT_HEADER_TIMEOUT_MS: u64 = 10_000;

/// Connections served at once, by default: far above a team's consoles, far below the file
/// descriptors a process has.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 64;

/// How the listener guards itself.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// A connection that has not sent a whole request head by then is closed (an idle
    /// keep-alive connection too).
    pub header_timeout: Duration,
    /// Connections served at once; more wait to be accepted.
    pub max_connections: usize,
}

/// Serves the ops API on `addr` until Ctrl-C.
pub fn serve(
    data_dir: &Path,
    config: &IngestConfig,
    addr: SocketAddr,
    tokens: &Path,
    limits: Limits,
    out: &mut impl Write,
) -> Result<ExitCode> {
    let tokens = Tokens::load(tokens).map_err(|e| anyhow!("--tokens {e}"))?;
    if tokens.is_empty() {
        return Err(anyhow!("the token file names no token: every request would be refused"));
    }
    let public = tokens.example_analysts();
    if !public.is_empty() {
        eprintln!(
            "remit: warning: {} hold(s) a token of config/tokens.example.toml: it is public, anyone can use it; \
             make your own tokens before serving real data",
            public.join(", ")
        );
    }
    let store = Arc::new(open_store(data_dir)?);
    let state = AppState::new(store, tokens).with_policy(config.queue.clone()).with_sla(config.sla.clone());
    // Through the idempotency layer, as the Lambda serves it: a retried request carrying
    // `Idempotency-Key` gets the first answer (it holds its key for a minute at most).
    let api = OpsApi::new(state);
    let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
        let api = api.clone();
        async move { api.handle(request, chrono::Utc::now() + chrono::Duration::minutes(1)).await }
    });
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let listener = TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
        let local = listener.local_addr()?;
        writeln!(
            out,
            "ops API on http://{local}/api (OpenAPI: http://{local}/api/openapi.json); Ctrl-C stops"
        )?;
        out.flush()?;
        run(listener, app, limits, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Accepts connections until `stop` resolves, each served over HTTP/1 under `limits`; then
/// lets the open ones finish their requests.
async fn run(listener: TcpListener, app: axum::Router, limits: Limits, stop: impl std::future::Future) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    let mut stop = std::pin::pin!(stop);
    loop {
        // A free slot first, then the next connection: past the cap, clients wait in the backlog.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            _ = &mut stop => break,
        };
        let Ok(slot) = slot else { break };
        let stream = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut stop => break,
        };
        let stream = match stream {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: wait a moment rather than spin.
                tracing::warn!(error = %e, "accepting a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let service = TowerToHyperService::new(app.clone());
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A connection ends by itself, by the header timeout, or by a client gone: none is
            // worth more than a debug line.
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "ops API connection");
            }
            drop(slot);
        });
    }
    graceful.shutdown().await;
}
