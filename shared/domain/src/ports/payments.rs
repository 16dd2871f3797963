//! The payment log (one item per payment key, conditional state changes) and the payment
//! history that duplicate suspicion reads.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::model::decision::Decision;
use crate::model::ids::{FileId, PaymentKey};
use crate::model::money::Money;
use crate::model::payment::{Market, Payment};
use crate::ports::StoreError;

/// Where a payment is in its life. Only `Received` may change.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentState {
    /// Recorded, not yet decided (or a crash happened before the decision landed).
    Received,
    Applied,
    Queued,
    Rejected,
}

impl PaymentState {
    pub fn as_str(&self) -> &'static str {
        match self {
            PaymentState::Received => "received",
            PaymentState::Applied => "applied",
            PaymentState::Queued => "queued",
            PaymentState::Rejected => "rejected",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "received" => PaymentState::Received,
            "applied" => PaymentState::Applied,
            "queued" => PaymentState::Queued,
            "rejected" => PaymentState::Rejected,
            _ => return None,
        })
    }
}

/// What recording a payment found.
#[derive(Clone, Debug)]
pub enum Receipt {
    /// First time this payment key is seen.
    New,
    /// Seen before: its state and the file it first came in.
    Seen { state: PaymentState, first_file: FileId },
}

/// The payment log: one item per payment key.
pub trait PaymentLog {
    /// Conditional put of a payment in state `Received`. Also indexes it by its duplicate
    /// fingerprint and value date (`PaymentHistory`), when it has one, and under each of its
    /// payer identities (`PayerPayments`).
    fn receive_payment(&self, payment: &Payment, at: DateTime<Utc>) -> Result<Receipt, StoreError>;
    /// Records a rejection: conditional on the payment still being `Received`.
    fn reject_payment(
        &self,
        key: &PaymentKey,
        decision: &Decision,
        at: DateTime<Utc>,
    ) -> Result<Transition, StoreError>;
    /// Key lookup of a payment's state.
    fn payment_state(&self, key: &PaymentKey) -> Result<Option<PaymentState>, StoreError>;
}

/// Whether a conditional state change happened.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Transition {
    Done,
    /// Someone else already moved the payment on: not an error, a duplicate.
    AlreadyDone,
}

/// One payment under one of its payer identities, as the payer history shows it (issue 16).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PayerPayment {
    /// The identity key it was found under (`crate::matching::payer::PayerIdentity::key`).
    pub identity: String,
    pub payment_key: PaymentKey,
    pub market: Market,
    pub received_at: DateTime<Utc>,
    #[serde(flatten)]
    pub amount: Money,
    #[serde(serialize_with = "crate::text::masking::serialize_masked")]
    pub bank_ref: String,
    pub file_id: FileId,
}

/// Where a page of a payer's history ends: the receipt time and payment key of its last entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayerCursor {
    pub received_at: DateTime<Utc>,
    pub payment_key: PaymentKey,
}

/// The payments of each payer identity, newest first: an index both stores keep, written by
/// `PaymentLog::receive_payment` for every identity `crate::matching::payer::identities` gives
/// (SQLite table `payer_payments`, DynamoDB table `payer-payments`, partition `identity`, sort
/// key received time and payment key).
pub trait PayerPayments {
    /// Query on the identity's partition, newest first, after `before` (`None`: the newest), at
    /// most `limit` (capped at `MAX_INDEX_RESULTS`).
    fn payments_by_payer(
        &self,
        identity: &str,
        before: Option<&PayerCursor>,
        limit: usize,
    ) -> Result<Vec<PayerPayment>, StoreError>;
}

/// A payment from the log as duplicate suspicion sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimilarPayment {
    pub payment_key: PaymentKey,
    pub bank_ref: String,
    pub value_date: NaiveDate,
}

/// Recent payments by payer, amount and currency (`crate::matching::payer::duplicate_fingerprint`),
/// for duplicate suspicion. A declared index in every store: (fingerprint, value_date).
pub trait PaymentHistory {
    /// Range query: payments received with this fingerprint and a value date in `from..=to`,
    /// at most `MAX_INDEX_RESULTS`.
    fn similar_payments(
        &self,
        fingerprint: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<SimilarPayment>, StoreError>;
}
