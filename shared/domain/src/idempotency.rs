//! Idempotent handlers (issue 7): the protocol every Lambda handler runs its effects under, over
//! the `Idempotency` port. A retried invocation (Lambda retries, a duplicate S3 event, an SQS
//! redelivery) with the same key returns the saved result and repeats nothing; one that overlaps
//! a running invocation is refused as retryable; one whose predecessor crashed takes over once
//! the predecessor's deadline has passed.
//!
//! The effects themselves are idempotent too (payment keys, conditional ledger puts): this layer
//! saves the repeated work and gives the caller the first invocation's answer.

use chrono::{DateTime, Duration, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::ports::{Idempotency, InvocationStart, StoreError};

/// How long a completed record is kept (and a repeat answered from it): Lambda retries async
/// events for up to 6 hours, S3 may redeliver later; a day covers both.
pub const DEFAULT_RECORD_TTL: Duration = Duration::hours(24);

/// Why an idempotent run did not return the operation's result.
#[derive(Debug, thiserror::Error)]
pub enum IdempotencyError<E> {
    /// Another invocation holds the key until `until`: retry later (the caller fails the
    /// invocation so that Lambda or SQS redelivers).
    #[error("another invocation is processing {key} until {until}")]
    InProgress { key: String, until: DateTime<Utc> },
    #[error("idempotency store: {0}")]
    Store(#[from] StoreError),
    /// The saved result could not be read back (a changed result type).
    #[error("saved result of {key}: {detail}")]
    Saved { key: String, detail: String },
    /// The operation failed; its record was removed so that a retry runs it again.
    #[error(transparent)]
    Operation(E),
}

/// Runs `op` once per `key`: claims the key until `deadline` (the invocation's own deadline, so a
/// crashed run frees the key when it could no longer be running), saves the result for `ttl`,
/// and answers repeats with the saved result.
pub fn run_once<S, T, E>(
    store: &S,
    key: &str,
    now: DateTime<Utc>,
    deadline: DateTime<Utc>,
    ttl: Duration,
    op: impl FnOnce() -> Result<T, E>,
) -> Result<T, IdempotencyError<E>>
where
    S: Idempotency + ?Sized,
    T: Serialize + DeserializeOwned,
{
    let expires_at = now + ttl;
    match store.begin_invocation(key, now, deadline, expires_at)? {
        InvocationStart::Completed { result } => serde_json::from_str(&result)
            .map_err(|e| IdempotencyError::Saved { key: key.to_string(), detail: e.to_string() }),
        InvocationStart::InProgress { until } => {
            Err(IdempotencyError::InProgress { key: key.to_string(), until })
        }
        InvocationStart::Started => match op() {
            Ok(value) => {
                let saved = serde_json::to_string(&value)
                    .map_err(|e| IdempotencyError::Saved { key: key.to_string(), detail: e.to_string() })?;
                store.complete_invocation(key, &saved, expires_at)?;
                Ok(value)
            }
            Err(e) => {
                if let Err(s) = store.abandon_invocation(key) {
                    // The record stays in progress until the deadline: a retry then takes over.
                    tracing::warn!(key, error = %s, "could not remove the idempotency record of a failed run");
                }
                Err(IdempotencyError::Operation(e))
            }
        },
    }
}
