//! Idempotency records for handlers: the port `crate::idempotency::run_once` runs over.

use chrono::{DateTime, Utc};

use crate::ports::StoreError;

/// Where an invocation stands when it starts (`Idempotency::begin_invocation`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InvocationStart {
    /// This invocation holds the key: run, then `complete_invocation` (or `abandon_invocation`).
    Started,
    /// Another invocation holds it and may still be running until `until` (its deadline).
    InProgress { until: DateTime<Utc> },
    /// Done already: the saved result, to return again without repeating an effect.
    Completed { result: String },
}

/// Idempotency records for handlers (the Powertools protocol): a conditional put claims the
/// key as in progress until the invocation's deadline; completion saves the result; records
/// expire (DynamoDB TTL on `expires_at`, the only table with a TTL).
pub trait Idempotency {
    /// Conditional put: the record is written, in progress until `in_progress_until` and kept
    /// until `expires_at`, unless a record exists that is completed and unexpired at `now`, or
    /// in progress with `in_progress_until` still ahead of `now` (a crashed invocation's record
    /// is taken over once its deadline passed).
    fn begin_invocation(
        &self,
        key: &str,
        now: DateTime<Utc>,
        in_progress_until: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<InvocationStart, StoreError>;
    /// Saves the result and marks the record completed, kept until `expires_at`.
    fn complete_invocation(
        &self,
        key: &str,
        result: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Deletes an in-progress record after a failure, so that a retry runs again.
    fn abandon_invocation(&self, key: &str) -> Result<(), StoreError>;
}
