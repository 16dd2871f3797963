//! What the binaries build once per cold start from their environment, in one place: the store,
//! the objects, the chunk queue, the alert sink, the metrics, the ops API's tokens.
//!
//! The store and the objects are SQLite and a local folder here (`REMIT_SQLITE_PATH`,
//! `REMIT_OBJECTS_DIR`), which runs every binary locally (`cargo lambda watch` and
//! `cargo lambda invoke`, see functions/README.md). The DynamoDB store (`remit-store-dynamodb`)
//! and the S3 objects and SNS sink (`remit-aws`) take their place in `AppStore`, `AppObjects`,
//! `store`, `objects` and `alerts` when those adapters land; nothing else changes. Deployed
//! without those variables, a binary stops at start naming what is missing.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{anyhow, Context, Result};
use remit_ops_api::{AppState, Tokens};
use remit_store_sqlite::SqliteStore;

use crate::chunks::{ChunkQueue, NoQueue};
use crate::ingest::IngestApp;
use crate::metrics::EmfStdout;
use crate::objects::LocalObjects;
use crate::ops_api::{tokens_from_text, OpsApi};
use crate::settings::{self, SplitPolicy};
use crate::sqs::SqsChunkQueue;
use crate::sweeper::{LogSink, SharedSink, SweeperApp};
use crate::wall_clock;

/// The store the binaries run on.
pub type AppStore = SqliteStore;
/// The objects the binaries read.
pub type AppObjects = LocalObjects;

/// The SQLite file of a local run.
pub const ENV_SQLITE_PATH: &str = "REMIT_SQLITE_PATH";
/// The folder standing for the landing bucket in a local run.
pub const ENV_OBJECTS_DIR: &str = "REMIT_OBJECTS_DIR";

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn required(name: &str, what: &str) -> Result<String> {
    var(name).ok_or_else(|| anyhow!("{name} is not set: {what}"))
}

/// The store.
pub fn store() -> Result<Arc<AppStore>> {
    let path = required(ENV_SQLITE_PATH, "this build runs on SQLite until the DynamoDB store is linked")?;
    Ok(Arc::new(SqliteStore::open(&PathBuf::from(&path)).with_context(|| format!("{path}: cannot open"))?))
}

/// The landing bucket's objects.
pub fn objects() -> Result<Arc<AppObjects>> {
    let dir = required(ENV_OBJECTS_DIR, "this build reads a local folder until the S3 objects are linked")?;
    Ok(Arc::new(LocalObjects::new(&dir).with_context(|| format!("{dir}: cannot use as the bucket"))?))
}

/// The SLA alert sink.
pub fn alerts() -> Arc<dyn SharedSink> {
    Arc::new(LogSink)
}

/// The chunk queue: SQS at `REMIT_CHUNK_QUEUE_URL`, or none (files past one chunk then fail).
pub async fn chunk_queue() -> Arc<dyn ChunkQueue> {
    match var(settings::ENV_CHUNK_QUEUE_URL) {
        Some(url) => {
            let aws = aws_config::load_from_env().await;
            Arc::new(SqsChunkQueue::new(
                aws_sdk_sqs::Client::new(&aws),
                url,
                tokio::runtime::Handle::current(),
            ))
        }
        None => Arc::new(NoQueue),
    }
}

/// What the ingest and chunk functions share.
pub async fn ingest_app() -> Result<IngestApp<AppStore, AppObjects>> {
    Ok(IngestApp {
        store: store()?,
        objects: objects()?,
        queue: chunk_queue().await,
        metrics: Arc::new(EmfStdout),
        router: Arc::new(settings::built_in_router()?),
        config: Arc::new(settings::built_in_config()?),
        split: SplitPolicy::from_vars(var)?,
        bucket: var(settings::ENV_LANDING_BUCKET),
        clock: wall_clock(),
    })
}

/// What the sweeper uses.
pub fn sweeper_app() -> Result<SweeperApp<AppStore>> {
    Ok(SweeperApp { store: store()?, alerts: alerts(), metrics: Arc::new(EmfStdout), clock: wall_clock() })
}

/// The ops API's tokens: `REMIT_OPS_TOKENS` (the token file's text) or the SSM SecureString
/// parameter named by `REMIT_OPS_TOKENS_PARAMETER`.
pub async fn ops_tokens() -> Result<Tokens> {
    if let Some(text) = var(settings::ENV_OPS_TOKENS) {
        return Ok(tokens_from_text(&text)?);
    }
    let name = required(
        settings::ENV_OPS_TOKENS_PARAMETER,
        &format!("the ops API needs its tokens ({} or this)", settings::ENV_OPS_TOKENS),
    )?;
    let aws = aws_config::load_from_env().await;
    let answer = aws_sdk_ssm::Client::new(&aws)
        .get_parameter()
        .name(&name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| anyhow!("SSM parameter {name}: {}", aws_sdk_ssm::error::DisplayErrorContext(e)))?;
    let text = answer.parameter().and_then(|p| p.value()).unwrap_or_default();
    Ok(tokens_from_text(text)?)
}

/// The ops API over the store, with the built-in queue policy and SLA calendars.
pub async fn ops_api() -> Result<OpsApi> {
    let config = settings::built_in_config()?;
    let state = AppState::new(store()?, ops_tokens().await?).with_policy(config.queue).with_sla(config.sla);
    Ok(OpsApi::new(state))
}
