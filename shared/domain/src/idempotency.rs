//! Idempotent handlers (issue 7): the protocol every Lambda handler runs its effects under, over
//! the `Idempotency` port. A retried invocation (Lambda retries, a duplicate S3 event, an SQS
//! redelivery) with the same key returns the saved result and repeats nothing; one that overlaps
//! a running invocation is refused as retryable; one whose predecessor crashed takes over once
//! the predecessor's deadline has passed.
//!
//! The effects themselves are idempotent too (payment keys, conditional ledger puts): this layer
//! saves the repeated work and gives the caller the first invocation's answer.

use std::fmt;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::model::ids::FileId;
use crate::ports::{Idempotency, InvocationStart, StoreError};

/// What makes one run of a handler the same run as another: one constructor per handler, so
/// the shapes cannot drift apart or collide (each starts with its handler's word).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// The ingest function, per object version: bucket, key and version (or, unversioned, the
    /// event's sequencer, which orders the writes of one key). Long keys are hashed to stay well
    /// inside DynamoDB's key size.
    pub fn object_version(bucket: &str, key: &str, version: Option<&str>) -> Self {
        let id = format!("{bucket}/{key}#{}", version.unwrap_or("-"));
        if id.len() <= 512 {
            Self(format!("ingest:{id}"))
        } else {
            Self(format!("ingest:sha256:{}", hex::encode(Sha256::digest(id.as_bytes()))))
        }
    }

    /// The chunk worker, per chunk of a split file.
    pub fn chunk(file: &FileId, index: u64) -> Self {
        Self(format!("chunk:{}:{index}", file.to_hex()))
    }

    /// The SLA sweeper's sweep for one scheduled event (its id, else its time).
    pub fn sweep(event: &str) -> Self {
        Self(format!("sweep:{event}"))
    }

    /// A sweep asked for by hand: once per minute.
    pub fn sweep_minute(at: DateTime<Utc>) -> Self {
        Self::sweep(&at.format("%Y-%m-%dT%H:%M").to_string())
    }

    /// The leadership digest: once per day.
    pub fn daily_digest(day: NaiveDate) -> Self {
        Self(format!("digest:{day}"))
    }

    /// An ops API request carrying `Idempotency-Key`: a digest of who asked what (the caller
    /// hashes the credentials, method, path, key and body, each length-prefixed).
    pub fn ops_request(digest: &[u8]) -> Self {
        Self(format!("ops:{}", hex::encode(digest)))
    }

    /// The key as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

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
    key: &IdempotencyKey,
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
    let key = key.as_str();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_version_keys_name_the_version_and_stay_short() {
        let key = |b, k, v| IdempotencyKey::object_version(b, k, v).as_str().to_string();
        assert_eq!(key("b", "k", Some("v1")), "ingest:b/k#v1");
        assert_eq!(key("b", "k", None), "ingest:b/k#-");
        let long = "k".repeat(1000);
        let hashed = key("b", &long, Some("v"));
        assert!(hashed.starts_with("ingest:sha256:") && hashed.len() < 100);
        assert_ne!(hashed, key("b", &long, Some("w")));
    }

    #[test]
    fn each_handler_has_its_own_shape() {
        let id = FileId::of_bytes(b"x");
        assert_eq!(IdempotencyKey::chunk(&id, 3).as_str(), format!("chunk:{}:3", id.to_hex()));
        let day = NaiveDate::from_ymd_opt(2026, 4, 19).unwrap();
        assert_eq!(IdempotencyKey::daily_digest(day).as_str(), "digest:2026-04-19");
        let at = day.and_hms_opt(9, 5, 59).unwrap().and_utc();
        assert_eq!(IdempotencyKey::sweep_minute(at).as_str(), "sweep:2026-04-19T09:05");
        assert_eq!(IdempotencyKey::ops_request(&[0xab, 0x01]).as_str(), "ops:ab01");
    }
}
