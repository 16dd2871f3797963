//! The research queue ports: the research item, its status and claim, the queues by market and
//! due time, and the operations that change an item (conditional, with their audit entry).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::model::card::CardRef;
use crate::model::decision::{Candidate, Reason, ReasonCode};
use crate::model::ids::{FileId, PaymentKey};
use crate::model::money::Money;
use crate::model::payment::Market;
use crate::ports::{AuditAction, AuditEntry, ItemChange, StoreError, Transition};

/// Where a research item is in its life (`crate::research::queue` holds the rules that move it).
/// Whether it is claimed is not a status: a claim expires by the clock (`ResearchItem::claim`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ItemStatus {
    Open,
    /// Applied to a card account by an analyst (posted exactly once).
    Resolved,
    /// Sent back to the remitter: nothing posted to a card.
    Returned,
    /// Handed to a senior analyst or another team; still needs work.
    Escalated,
    /// Write-off to suspense requested; waits for a second person's approval.
    WriteOffPending,
    /// Written off to the market's suspense account (approved by a second person).
    WrittenOff,
    /// An analyst resolved it to an account for an amount above the market's four-eyes limit
    /// (`QueuePolicy::second_person_above`): nothing is posted until a second person approves.
    ResolvePending,
}

impl ItemStatus {
    pub const ALL: [ItemStatus; 7] = [
        ItemStatus::Open,
        ItemStatus::Resolved,
        ItemStatus::Returned,
        ItemStatus::Escalated,
        ItemStatus::WriteOffPending,
        ItemStatus::WrittenOff,
        ItemStatus::ResolvePending,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            ItemStatus::Open => "open",
            ItemStatus::Resolved => "resolved",
            ItemStatus::Returned => "returned",
            ItemStatus::Escalated => "escalated",
            ItemStatus::WriteOffPending => "write-off-pending",
            ItemStatus::WrittenOff => "written-off",
            ItemStatus::ResolvePending => "resolve-pending",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// True while the item still needs a person (it stays in the market's queue index).
    pub fn is_active(&self) -> bool {
        matches!(
            self,
            ItemStatus::Open
                | ItemStatus::Escalated
                | ItemStatus::WriteOffPending
                | ItemStatus::ResolvePending
        )
    }
}

impl std::str::FromStr for ItemStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let l = s.trim().to_ascii_lowercase().replace('_', "-");
        Self::parse(&l).ok_or_else(|| {
            let all: Vec<&str> = Self::ALL.iter().map(|x| x.as_str()).collect();
            format!("unknown item status {s:?} (expected one of {})", all.join(", "))
        })
    }
}

/// An analyst's hold on an item: only they may act on it until `expires_at`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Claim {
    pub analyst: String,
    pub expires_at: DateTime<Utc>,
}

/// How an item left (or is leaving) the queue: who decided, and what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Disposition {
    /// Who decided (for a write-off: who requested it).
    pub by: String,
    pub at: DateTime<Utc>,
    /// The account applied to (`Resolved`).
    pub account: Option<CardRef>,
    /// Why (return, escalation, write-off), card numbers masked.
    pub reason: Option<String>,
    /// The second person who approved a write-off.
    pub approved_by: Option<String>,
}

/// A payment waiting for a person, in its market's queue.
#[derive(Clone, Debug, Serialize)]
pub struct ResearchItem {
    /// Deterministic from the payment key, so a retried enqueue finds the same item.
    pub id: String,
    pub payment_key: PaymentKey,
    pub market: Market,
    pub file_id: FileId,
    #[serde(serialize_with = "crate::text::masking::serialize_masked")]
    pub bank_ref: String,
    #[serde(flatten)]
    pub amount: Money,
    #[serde(serialize_with = "crate::text::masking::serialize_masked_opt")]
    pub payer_name: Option<String>,
    /// The payer's identity keys (`crate::matching::payer::PayerIdentity::key`), so that resolving
    /// the item can teach alias memory (`crate::matching::alias::teach_alias`).
    #[serde(skip)]
    pub payer_identities: Vec<String>,
    /// The reason that stopped automatic application.
    pub reason_code: ReasonCode,
    pub reasons: Vec<Reason>,
    /// Best candidate account, if any.
    pub candidate: Option<CardRef>,
    /// Every account the matcher considered, best first (at most `MAX_CANDIDATES`), with its
    /// evidence and why it was not applied (issue 16: the analyst's ranked candidates).
    pub candidates: Vec<Candidate>,
    pub confidence: f64,
    pub created_at: DateTime<Utc>,
    /// When the SLA sweeper warns: the policy's warning fraction of the SLA's business time.
    pub warn_at: DateTime<Utc>,
    /// When the SLA is breached (`crate::research::sla::SlaPolicy::deadlines`).
    pub due_at: DateTime<Utc>,
    pub status: ItemStatus,
    /// The analyst holding the item, if any (it may have expired: `active_claim`).
    pub claim: Option<Claim>,
    /// Bumped by every change; changes are conditional on it (optimistic concurrency).
    pub version: u64,
    /// The outcome once an analyst decided (resolved, returned, escalated, write-off).
    pub disposition: Option<Disposition>,
    /// The payment's linking references (`Payment::linking_refs`, at most 20), so that an
    /// analyst's posting is found by a later reversal like an automatic one.
    #[serde(skip)]
    pub linking_refs: Vec<String>,
}

/// The research queues, one per market, ordered by due time.
pub trait ResearchQueue {
    /// One transaction: the item put if absent and the payment moved from `Received` to
    /// `Queued`. An existing item means already done.
    fn enqueue(&self, item: &ResearchItem) -> Result<Transition, StoreError>;
    /// Range query on the (market, due_at) index: open items, earliest due first.
    fn open_items(&self, market: Market, limit: usize) -> Result<Vec<ResearchItem>, StoreError>;
}

/// Queue operations (issue 6), shaped for DynamoDB: key lookups, a range query on the
/// (market, due_at) index with filters, and conditional writes that append the audit entry in the
/// same transaction. The audit trail is append-only: no port updates or deletes an entry.
pub trait QueueOps {
    /// Key lookup.
    fn item(&self, id: &str) -> Result<Option<ResearchItem>, StoreError>;
    /// Range query on the (market, due_at) index, earliest due first, filtered
    /// (`QueueFilter`); at most `limit` (capped at `MAX_INDEX_RESULTS`).
    fn list(
        &self,
        market: Market,
        filter: &QueueFilter,
        limit: usize,
    ) -> Result<Vec<ResearchItem>, StoreError>;
    /// Conditional update: the item (still active) is claimed by `analyst` until `expires_at`
    /// unless another analyst holds a claim that has not expired at `now` (then `Conflict`).
    /// Bumps the version and appends `audit` (its `seq` set to the new version) in the same
    /// transaction. Returns the item as claimed.
    fn claim(
        &self,
        id: &str,
        analyst: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<ResearchItem, StoreError>;
    /// One transaction, conditional on the stored version being `change.expected_version`
    /// (else `Conflict`): the item's status, claim and disposition replaced by `change.after`'s
    /// (version `expected_version + 1`), the audit entry appended, and, when `change.posting`
    /// is given, the posting made as `Ledger::post` makes it but from a `Queued` payment (the
    /// ledger entry put if absent: one already there is `Conflict`, nothing is written).
    /// DynamoDB: one TransactWriteItems of the item update, the audit put, and for a posting
    /// the ledger entry, the payment, the account and up to 20 reference entries (at most 25).
    fn transition(&self, change: &ItemChange) -> Result<ResearchItem, StoreError>;
    /// Query on the (file_id) index: the items a file sent to research, whatever their status
    /// now, at most `limit` (the daily report follows each queued payment to its outcome).
    fn items_of_file(&self, file: &FileId, limit: usize) -> Result<Vec<ResearchItem>, StoreError>;
    /// Query on the item's partition: the audit entries whose `seq` is above `after` (0 for the
    /// first), oldest first, at most `limit` (capped at `MAX_AUDIT_PAGE`).
    fn audit_page(&self, id: &str, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError>;
    /// Query on the sparse open index (market, due time): active items, earliest due first,
    /// after the item `after` (its due time and id; `None`: from the first), at most `limit`
    /// (capped at `MAX_INDEX_RESULTS`). The team view reads a market's whole queue page by page.
    fn open_page(
        &self,
        market: Market,
        after: Option<&QueueCursor>,
        limit: usize,
    ) -> Result<Vec<ResearchItem>, StoreError>;
    /// Query on the sparse closed index (market, disposition time): items resolved, returned or
    /// written off with `from <= disposition.at < to`, oldest first, at most `limit` (capped at
    /// `MAX_INDEX_RESULTS`) after `after`. The team view counts each analyst's day with it.
    fn closed_between(
        &self,
        market: Market,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        after: Option<&QueueCursor>,
        limit: usize,
    ) -> Result<Vec<ResearchItem>, StoreError>;
    /// The whole trail, oldest first, read page by page: no entry is ever cut off (issue 15: a
    /// cap of 1,000 let notes push a later resolve out of sight).
    fn audit_trail(&self, id: &str) -> Result<Vec<AuditEntry>, StoreError> {
        let mut trail: Vec<AuditEntry> = Vec::new();
        loop {
            let after = trail.last().map_or(0, |e| e.seq);
            let page = self.audit_page(id, after, MAX_AUDIT_PAGE)?;
            let full = page.len() == MAX_AUDIT_PAGE;
            // A page that does not move on (a store's bug) ends the read rather than looping.
            let moved = page.last().is_some_and(|e| e.seq > after);
            trail.extend(page);
            if !full || !moved {
                return Ok(trail);
            }
        }
    }
    /// The notes on an item, oldest first (audit entries of action `note`).
    fn notes(&self, id: &str) -> Result<Vec<AuditEntry>, StoreError> {
        let mut trail = self.audit_trail(id)?;
        trail.retain(|e| e.action == AuditAction::Note);
        Ok(trail)
    }
}

/// Where a page of items ends: the instant the index sorts by (due time, or disposition time for
/// `closed_between`) and the item's id (ties).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueCursor {
    pub at: DateTime<Utc>,
    pub id: String,
}

impl QueueCursor {
    /// The cursor after `item` in the open index.
    pub fn due(item: &ResearchItem) -> Self {
        Self { at: item.due_at, id: item.id.clone() }
    }

    /// The cursor after `item` in the closed index (`None`: the item is not closed).
    pub fn closed(item: &ResearchItem) -> Option<Self> {
        Some(Self { at: item.closed_at()?, id: item.id.clone() })
    }
}

impl ResearchItem {
    /// The candidates the workbench offers, best first: `candidates`, or for an item queued
    /// before they were kept, its one `candidate` with the item's own confidence and reasons.
    pub fn offered_candidates(&self) -> Vec<Candidate> {
        if !self.candidates.is_empty() {
            return self.candidates.clone();
        }
        let blocker = self.reasons.iter().find(|r| r.blocks()).cloned();
        self.candidate
            .map(|account| Candidate {
                account,
                confidence: self.confidence,
                evidence: self.reasons.iter().filter(|r| !r.blocks()).cloned().collect(),
                not_applied: blocker
                    .unwrap_or_else(|| Reason::new(ReasonCode::LowConfidence, "not applied automatically")),
            })
            .into_iter()
            .collect()
    }

    /// When the item was closed (resolved, returned or written off): its disposition's time.
    /// `None` while it is active (a pending resolve or write-off is not closed).
    pub fn closed_at(&self) -> Option<DateTime<Utc>> {
        if self.status.is_active() {
            return None;
        }
        self.disposition.as_ref().map(|d| d.at)
    }
}

/// At most this many audit entries per `QueueOps::audit_page` (one DynamoDB query page of them).
pub const MAX_AUDIT_PAGE: usize = 1000;

/// Research item ids are derived from the payment key, so a retried enqueue is idempotent.
pub fn research_item_id(market: Market, key: &PaymentKey) -> String {
    let digest = Sha256::digest(key.as_str().as_bytes());
    format!("RQ-{}-{}", market.code(), &hex::encode(digest)[..12])
}

/// The claim on `item` that still holds at `now`, if any.
pub fn active_claim(item: &ResearchItem, now: DateTime<Utc>) -> Option<&Claim> {
    item.claim.as_ref().filter(|c| c.expires_at > now)
}

/// Filters of a queue listing (all optional). Applied after the (market, due_at) range read,
/// as a DynamoDB filter expression would be.
#[derive(Clone, Debug, Default)]
pub struct QueueFilter {
    /// Statuses to show; empty means the active ones (open, escalated, write-off pending).
    pub statuses: Vec<ItemStatus>,
    pub reason: Option<ReasonCode>,
    /// Items whose unexpired claim is held by this analyst (needs `now`).
    pub claimed_by: Option<String>,
    pub due_before: Option<DateTime<Utc>>,
    /// The instant claims are judged at (for `claimed_by`); defaults to the time of the call.
    pub now: Option<DateTime<Utc>>,
}

impl QueueFilter {
    /// True when only active items are asked for (the sparse open index serves the query).
    pub fn active_only(&self) -> bool {
        self.statuses.iter().all(|s| s.is_active())
    }

    /// Whether `item` passes the filter.
    pub fn accepts(&self, item: &ResearchItem) -> bool {
        let status_ok = if self.statuses.is_empty() {
            item.status.is_active()
        } else {
            self.statuses.contains(&item.status)
        };
        let now = self.now.unwrap_or_else(Utc::now);
        status_ok
            && self.reason.is_none_or(|r| r == item.reason_code)
            && self.due_before.is_none_or(|d| item.due_at < d)
            && self
                .claimed_by
                .as_deref()
                .is_none_or(|a| active_claim(item, now).is_some_and(|c| c.analyst == a))
    }
}
