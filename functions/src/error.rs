//! Why a handler failed, and whether trying again can help.

use remit_domain::idempotency::IdempotencyError;
use remit_domain::ingest::IngestError;
use remit_domain::ports::StoreError;

use crate::objects::ObjectError;
use remit_domain::ports::ChunkQueueError;

/// A handler failure. Lambda retries a failed asynchronous invocation (then hands the event to
/// the dead-letter queue) and SQS redelivers a failed message (then moves it to its own): every
/// variant fails the invocation, and `is_retryable` only tells the log whether a retry can help.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Objects(#[from] ObjectError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Queue(#[from] ChunkQueueError),
    /// Another invocation holds the idempotency key: SQS redelivers later.
    #[error("another invocation is processing {key} until {until}")]
    InProgress { key: String, until: chrono::DateTime<chrono::Utc> },
    /// A chunk came before the one it follows finished (sequential order): redelivered later.
    #[error("not ready: {0}")]
    NotReady(String),
    /// An event or message this code cannot act on; retrying will not change it.
    #[error("bad event: {0}")]
    BadEvent(String),
    /// The saved result of an earlier run could not be read back.
    #[error("idempotency record: {0}")]
    Saved(String),
    /// A sweep whose alerts were claimed but not all delivered, or a digest not published.
    #[error("alerts: {0}")]
    Alerts(String),
    /// The blocking task running the handler's work died (a panic in a port adapter).
    #[error("handler task: {0}")]
    Task(String),
}

impl HandlerError {
    /// True when the same event may succeed later.
    pub fn is_retryable(&self) -> bool {
        match self {
            HandlerError::Store(e) => e.is_retryable(),
            HandlerError::Objects(e) => matches!(e, ObjectError::Unavailable(_)),
            HandlerError::Ingest(e) => e.is_retryable(),
            HandlerError::Queue(_) | HandlerError::InProgress { .. } | HandlerError::NotReady(_) => true,
            HandlerError::Alerts(_) | HandlerError::Task(_) => true,
            HandlerError::BadEvent(_) | HandlerError::Saved(_) => false,
        }
    }

    /// A short stable name for the Lambda error type.
    pub fn kind(&self) -> &'static str {
        match self {
            HandlerError::Store(_) => "Store",
            HandlerError::Objects(_) => "Objects",
            HandlerError::Ingest(_) => "Ingest",
            HandlerError::Queue(_) => "Queue",
            HandlerError::InProgress { .. } => "InProgress",
            HandlerError::NotReady(_) => "NotReady",
            HandlerError::BadEvent(_) => "BadEvent",
            HandlerError::Saved(_) => "Saved",
            HandlerError::Alerts(_) => "Alerts",
            HandlerError::Task(_) => "Task",
        }
    }

    /// The message as it may be logged or returned: card numbers masked (a parse error may
    /// quote a field).
    pub fn masked(&self) -> String {
        remit_domain::mask_card_numbers(&self.to_string())
    }
}

impl<E: Into<HandlerError>> From<IdempotencyError<E>> for HandlerError {
    fn from(e: IdempotencyError<E>) -> Self {
        match e {
            IdempotencyError::InProgress { key, until } => HandlerError::InProgress { key, until },
            IdempotencyError::Store(s) => HandlerError::Store(s),
            IdempotencyError::Saved { key, detail } => HandlerError::Saved(format!("{key}: {detail}")),
            IdempotencyError::Operation(e) => e.into(),
        }
    }
}

impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(e: HandlerError) -> Self {
        lambda_runtime::Diagnostic { error_type: e.kind().to_string(), error_message: e.masked() }
    }
}
