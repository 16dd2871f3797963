//! `remit serve`: the ops API (`remit_ops_api::OpsApi`: the router with idempotent retries) on a
//! local TCP listener, over the data directory's store, with bearer tokens from a file. The same
//! API runs behind Lambda.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{anyhow, Context, Result};
use remit_domain::ingest::IngestConfig;
use remit_ops_api::{AppState, OpsApi, Tokens};

use crate::commands::open_store;

/// Serves the ops API on `addr` until Ctrl-C.
pub fn serve(
    data_dir: &Path,
    config: &IngestConfig,
    addr: SocketAddr,
    tokens: &Path,
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
        let listener =
            tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
        let local = listener.local_addr()?;
        writeln!(
            out,
            "ops API on http://{local}/api (OpenAPI: http://{local}/api/openapi.json); Ctrl-C stops"
        )?;
        out.flush()?;
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .context("serving the ops API")
    })?;
    Ok(ExitCode::SUCCESS)
}
