//! The Lambda handlers (issue 7): each binary in `src/bin` builds its clients once
//! (`wiring`) and hands them to a handler here, which tests call directly.
//!
//! | binary         | trigger                          | handler                          |
//! |----------------|----------------------------------|----------------------------------|
//! | `ingest`       | S3 `ObjectCreated` (async)       | `ingest::IngestApp::ingest_event` |
//! | `ingest_chunk` | SQS chunk queue (batch size 1)   | `ingest::IngestApp::chunk_event`  |
//! | `sla_sweeper`  | EventBridge schedules (async)    | `sweeper::SweeperApp::handle`     |
//! | `ops_api`      | API Gateway HTTP API             | `ops_api::OpsApi::handle`         |
//!
//! Handlers are generic over the domain's `Store` and `Objects` ports (their AWS adapters in
//! `remit-aws`), and
//! call both (synchronous) from `spawn_blocking`: the async workers stay free, and an adapter
//! that blocks on the runtime (the DynamoDB store) is allowed to there.

pub mod chunks;
pub mod error;
pub mod ingest;
pub mod metrics;
pub mod objects;
pub mod ops_api;
pub mod settings;
pub mod split;
pub mod sweeper;
pub mod wiring;

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::{DateTime, Duration, Utc};
use lambda_runtime::LambdaEvent;
use remit_domain::ports::Store;

pub use error::HandlerError;
pub use objects::{Destination, ObjectError, ObjectRef, Objects};
pub use remit_aws::S3Objects;

/// The clock handlers judge time by (tests set it).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The wall clock.
pub fn wall_clock() -> Clock {
    Arc::new(Utc::now)
}

/// Lambda's longest run: the deadline assumed when the context gives none.
pub const MAX_RUN: Duration = Duration::minutes(15);

/// The invocation's deadline from its context (milliseconds since the epoch).
pub fn deadline_of(context: &lambda_runtime::Context, now: DateTime<Utc>) -> DateTime<Utc> {
    i64::try_from(context.deadline)
        .ok()
        .filter(|ms| *ms > 0)
        .and_then(DateTime::from_timestamp_millis)
        .unwrap_or(now + MAX_RUN)
}

/// Runs a handler's synchronous work on the blocking pool.
pub async fn blocking<T, F>(work: F) -> Result<T, HandlerError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, HandlerError> + Send + 'static,
{
    tokio::task::spawn_blocking(work).await.map_err(|e| HandlerError::Task(e.to_string()))?
}

/// The `ingest` binary's handler: an S3 notification.
pub async fn handle_s3<S, O>(
    app: ingest::IngestApp<S, O>,
    event: LambdaEvent<ingest::S3Notification>,
) -> Result<ingest::IngestResponse, HandlerError>
where
    S: Store + Send + Sync + 'static,
    O: Objects + 'static,
{
    let deadline = deadline_of(&event.context, (app.clock)());
    match event.payload {
        ingest::S3Notification::Event(e) => blocking(move || app.ingest_event(&e, deadline)).await,
        ingest::S3Notification::Other(v) => {
            let event = v.get("Event").and_then(|e| e.as_str()).unwrap_or("unknown");
            tracing::info!(event = %remit_formats::shown(event), "not an object event");
            Ok(ingest::IngestResponse::default())
        }
    }
}

/// The `ingest_chunk` binary's handler: an SQS batch of chunk messages.
pub async fn handle_chunks<S, O>(
    app: ingest::IngestApp<S, O>,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, HandlerError>
where
    S: Store + Send + Sync + 'static,
    O: Objects + 'static,
{
    let deadline = deadline_of(&event.context, (app.clock)());
    let payload = event.payload;
    blocking(move || Ok(app.chunk_event(&payload, deadline))).await
}

/// The `sla_sweeper` binary's handler: a scheduled event.
pub async fn handle_schedule<S: Store + Send + Sync + 'static>(
    app: sweeper::SweeperApp<S>,
    event: LambdaEvent<sweeper::SweeperEvent>,
) -> Result<sweeper::SweeperOutcome, HandlerError> {
    let deadline = deadline_of(&event.context, (app.clock)());
    let payload = event.payload;
    blocking(move || app.handle(&payload, deadline)).await
}
