//! Store ports: the contract between the domain and every store. Shaped for DynamoDB, the weaker
//! one: single-item conditional writes, small transactions, key lookups and range queries on a
//! declared index. No joins, no scans on hot paths. An adapter must not offer more.
//!
//! One file per port family, as in the stores: `accounts` (AccountDirectory), `aliases`
//! (AliasMemory), `files` (FileRegistry, FileLog), `payments` (PaymentLog, PaymentHistory),
//! `ledger` (Ledger), `queue` (ResearchQueue, QueueOps), `audit` (the audit trail), `alerts`
//! (SlaAlerts), `idempotency` (Idempotency); the runners' `objects` (the landing bucket, the
//! chunk queue) and `metrics` (per-market counts); with the vocabulary they carry (`summary`:
//! file summaries). Everything is used as `crate::ports::NAME`. Depends only on `crate::model` and
//! `crate::text`.

mod accounts;
mod alerts;
mod aliases;
mod audit;
mod files;
mod idempotency;
mod ledger;
mod metrics;
mod objects;
mod payments;
mod queue;
mod summary;

pub use accounts::*;
pub use alerts::*;
pub use aliases::*;
pub use audit::*;
pub use files::*;
pub use idempotency::*;
pub use ledger::*;
pub use metrics::*;
pub use objects::*;
pub use payments::*;
pub use queue::*;
pub use summary::*;

/// A store failure. `Unavailable` is worth retrying; the others are not.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("stored data is not what the code expects: {0}")]
    Corrupt(String),
    #[error("precondition failed: {0}")]
    Conflict(String),
}

impl StoreError {
    /// True when the same call may succeed later (throttling, lost connection).
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

/// Everything the matcher reads: the directory, alias memory and recent payments.
pub trait MatchSource: AccountDirectory + AliasMemory + PaymentHistory {}

impl<T: AccountDirectory + AliasMemory + PaymentHistory + ?Sized> MatchSource for T {}

/// Everything the ingest pipeline needs from a store.
pub trait Store:
    AccountDirectory
    + DirectorySearch
    + PayerPayments
    + FileRegistry
    + PaymentLog
    + Ledger
    + ResearchQueue
    + QueueOps
    + AliasMemory
    + PaymentHistory
    + SlaAlerts
    + FileLog
    + Idempotency
{
}

impl<T> Store for T where
    T: AccountDirectory
        + DirectorySearch
        + PayerPayments
        + FileRegistry
        + PaymentLog
        + Ledger
        + ResearchQueue
        + QueueOps
        + AliasMemory
        + PaymentHistory
        + SlaAlerts
        + FileLog
        + Idempotency
{
}
