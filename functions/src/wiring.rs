//! What the binaries build once per cold start from their environment, in one place: the store,
//! the objects, the chunk queue, the alert sink, the metrics, the ops API's tokens.
//!
//! The store is DynamoDB (`DynamoStore::from_env`: `REMIT_TABLE_PREFIX` or one variable per
//! table), the objects the S3 landing bucket (`REMIT_LANDING_BUCKET`), alerts an SNS topic
//! (`REMIT_ALERTS_TOPIC_ARN`), chunks an SQS queue (`REMIT_CHUNK_QUEUE_URL`), metrics CloudWatch
//! EMF lines. The SDK reads region, credentials and endpoints the usual way
//! (`AWS_ENDPOINT_URL` points every client at an emulator). A binary missing a variable stops at
//! start and names it.

use std::sync::Arc;

use anyhow::{anyhow, Context, Result};
use aws_config::SdkConfig;
use remit_aws::{S3Files, SnsAlerts};
use remit_ops_api::{AppState, Tokens};
use remit_store_dynamodb::DynamoStore;
use tokio::runtime::Handle;

use crate::chunks::NoChunkQueue;
use crate::ingest::IngestApp;
use crate::ops_api::{tokens_from_text, OpsApi};
use crate::settings::{self, SplitPolicy};
use crate::sweeper::SweeperApp;
use crate::wall_clock;
use remit_aws::metrics::EmfStdout;
use remit_aws::S3Objects;
use remit_aws::SqsChunkQueue;
use remit_domain::ports::ChunkQueue;
use remit_domain::CardKey;

/// The store the binaries run on.
pub type AppStore = DynamoStore;
/// The objects the binaries read.
pub type AppObjects = S3Objects;

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn required(name: &str, what: &str) -> Result<String> {
    var(name).ok_or_else(|| anyhow!("{name} is not set: {what}"))
}

/// The SDK configuration of the Lambda's environment. Call inside the binary's runtime: the
/// adapters block on its handle from the handlers' blocking threads.
pub async fn aws() -> SdkConfig {
    remit_aws::sdk_config(None).await
}

/// The store: DynamoDB, table names from the environment, the card key from the secret store.
pub async fn store() -> Result<Arc<AppStore>> {
    let key = card_key().await?;
    Ok(Arc::new(DynamoStore::from_env(key).await.context("the DynamoDB store")?))
}

/// An SSM SecureString parameter's value, decrypted (the function's role may read only its own).
async fn secure_parameter(aws: &SdkConfig, name: &str) -> Result<String> {
    let answer = aws_sdk_ssm::Client::new(aws)
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| anyhow!("SSM parameter {name}: {}", aws_sdk_ssm::error::DisplayErrorContext(e)))?;
    Ok(answer.parameter().and_then(|p| p.value()).unwrap_or_default().to_string())
}

/// The card key (issue 15), read once per cold start: the SSM SecureString parameter named by
/// `REMIT_CARD_KEY_PARAMETER` (KMS-encrypted; see infra/README.md). No environment variable
/// holds the secret itself.
pub async fn card_key() -> Result<CardKey> {
    let name = required(settings::ENV_CARD_KEY_PARAMETER, "the card key's SSM parameter")?;
    card_key_from_ssm(&aws().await, &name).await
}

/// The card key in the SSM SecureString parameter `name` (hex). The error never quotes it.
pub async fn card_key_from_ssm(aws: &SdkConfig, name: &str) -> Result<CardKey> {
    let text = secure_parameter(aws, name).await?;
    let secret =
        hex::decode(text.trim()).map_err(|_| anyhow!("SSM parameter {name}: the card key is not hex"))?;
    Ok(CardKey::from_secret(&secret)?)
}

/// The landing bucket's objects.
pub fn objects(aws: &SdkConfig) -> Result<Arc<AppObjects>> {
    let bucket = required(settings::ENV_LANDING_BUCKET, "the landing bucket's name")?;
    let files = S3Files::new(remit_aws::s3_client(aws), Handle::current());
    Ok(Arc::new(S3Objects::new(files, bucket)))
}

/// The SLA alert sink: the SNS topic.
pub fn alerts(aws: &SdkConfig) -> Result<Arc<SnsAlerts>> {
    let topic = required(settings::ENV_ALERTS_TOPIC_ARN, "the SLA alerts topic")?;
    Ok(Arc::new(SnsAlerts::new(remit_aws::sns_client(aws), topic, Handle::current())))
}

/// The chunk queue: SQS at `REMIT_CHUNK_QUEUE_URL`, or none (files past one chunk then fail).
pub fn chunk_queue(aws: &SdkConfig) -> Arc<dyn ChunkQueue> {
    match var(settings::ENV_CHUNK_QUEUE_URL) {
        Some(url) => Arc::new(SqsChunkQueue::new(aws_sdk_sqs::Client::new(aws), url, Handle::current())),
        None => Arc::new(NoChunkQueue),
    }
}

/// What the ingest and chunk functions share; `function` names them in metrics.
pub async fn ingest_app(function: &'static str) -> Result<IngestApp<AppStore, AppObjects>> {
    let aws = aws().await;
    Ok(IngestApp {
        store: store().await?,
        objects: objects(&aws)?,
        chunk_queue: chunk_queue(&aws),
        metrics: Arc::new(EmfStdout::new(function)),
        router: Arc::new(settings::built_in_router()?),
        config: Arc::new(settings::built_in_config()?),
        split: SplitPolicy::from_vars(var)?,
        bucket: var(settings::ENV_LANDING_BUCKET),
        clock: wall_clock(),
    })
}

/// What the sweeper uses.
pub async fn sweeper_app() -> Result<SweeperApp<AppStore>> {
    let aws = aws().await;
    Ok(SweeperApp {
        store: store().await?,
        alerts: alerts(&aws)?,
        metrics: Arc::new(EmfStdout::new("sla-sweeper")),
        clock: wall_clock(),
    })
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
    Ok(tokens_from_text(&secure_parameter(&aws().await, &name).await?)?)
}

/// The ops API over the store, with the built-in queue policy and SLA calendars.
pub async fn ops_api() -> Result<OpsApi> {
    let config = settings::built_in_config()?;
    let state =
        AppState::new(store().await?, ops_tokens().await?).with_policy(config.queue).with_sla(config.sla);
    Ok(OpsApi::new(state))
}
