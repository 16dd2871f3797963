//! Store ports: the contract between the domain and every store. Shaped for DynamoDB, the weaker
//! one: single-item conditional writes, small transactions, key lookups and range queries on a
//! declared index. No joins, no scans on hot paths. An adapter must not offer more.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::account::Account;
use crate::decision::{Decision, Reason, ReasonCode, SplitLine};
use crate::identifiers::{AccountNumber, CreditorReference};
use crate::ids::{FileId, PaymentKey};
use crate::money::Money;
use crate::payment::{Market, Payment};
use crate::pipeline::FileSummary;

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

/// The card account directory. Virtual accounts and RF references are sparse indexes, so
/// lookups by them may return several accounts (the matcher calls that ambiguous).
pub trait AccountDirectory {
    /// Creates or replaces an account (directory loads).
    fn put_account(&self, account: &Account) -> Result<(), StoreError>;
    /// Key lookup by account number.
    fn account(&self, number: &AccountNumber) -> Result<Option<Account>, StoreError>;
    /// Index lookup by India virtual account number.
    fn accounts_by_virtual_account(&self, va: &str) -> Result<Vec<Account>, StoreError>;
    /// Index lookup by EU RF creditor reference.
    fn accounts_by_creditor_reference(&self, rf: &CreditorReference) -> Result<Vec<Account>, StoreError>;
    /// Index lookup by market and the last five digits of the account number (a payer who
    /// wrote only "ending 10005"). At most `MAX_INDEX_RESULTS` accounts.
    fn accounts_by_last_digits(&self, market: Market, last5: &str) -> Result<Vec<Account>, StoreError>;
    /// `accounts_by_last_digits`, keeping the accounts whose holder name `keep` accepts. `keep`
    /// sees the holder's name and its initials (`crate::names::initials`) and must depend on
    /// nothing else: an index that knows its names may ask once per distinct name and filter
    /// before building any account.
    fn accounts_by_last_digits_where(
        &self,
        market: Market,
        last5: &str,
        keep: &mut dyn FnMut(&str, u32) -> bool,
    ) -> Result<Vec<Account>, StoreError> {
        let mut found = self.accounts_by_last_digits(market, last5)?;
        found.retain(|a| keep(&a.holder_name, crate::names::initials(&a.holder_name)));
        Ok(found)
    }
    /// Index lookup by market and holder-name key (`crate::names::holder_name_keys` writes an
    /// account's keys, `NormalName::lookup_key` makes a payer's): accounts of every status whose
    /// holder name has that key, at most `limit` (and `MAX_INDEX_RESULTS`). The matcher only
    /// needs to know whether the name is unique, so it asks for a handful, never a whole surname.
    fn accounts_by_holder_name(
        &self,
        market: Market,
        name_key: &str,
        limit: usize,
    ) -> Result<Vec<Account>, StoreError>;
    /// Index lookup: the cards that roll up to a corporate control account.
    fn accounts_by_control_account(&self, control: &AccountNumber) -> Result<Vec<Account>, StoreError>;
    /// Key lookups of several accounts at once (DynamoDB BatchGetItem); missing ones are left out.
    fn accounts(&self, numbers: &[AccountNumber]) -> Result<Vec<Account>, StoreError> {
        let mut out = Vec::with_capacity(numbers.len());
        for n in numbers {
            out.extend(self.account(n)?);
        }
        Ok(out)
    }
}

/// Index lookups return at most this many items (one DynamoDB query page, kept small).
pub const MAX_INDEX_RESULTS: usize = 100;

/// What an analyst taught: payments from this payer identity are for this account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Alias {
    /// A payer identity key (`crate::payer::PayerIdentity::key`): `iban:...`, `acct:...`, `name:...`.
    pub identity: String,
    pub account: AccountNumber,
    pub learned_at: DateTime<Utc>,
    /// Who resolved the item (analyst id).
    pub learned_by: String,
    /// The research item (or other resolution) it was learned from.
    pub resolution: String,
}

/// Alias memory: payer identities learned from resolutions. Keyed by identity, then account
/// (a DynamoDB item per pair), so learning the same pair again replaces it.
pub trait AliasMemory {
    /// Puts the alias (identity, account), replacing an earlier one for the same pair.
    fn learn_alias(&self, alias: &Alias) -> Result<(), StoreError>;
    /// Query on the identity: every account learned for it, at most `MAX_INDEX_RESULTS`.
    fn aliases_for(&self, identity: &str) -> Result<Vec<Alias>, StoreError>;
    /// Deletes the alias (identity, account) when it was learned from `resolution` (a
    /// conditional delete): a reversed resolution unlearns what it taught, and an alias a later
    /// resolution taught again stays. Deleting what is not there is not an error.
    fn forget_alias(
        &self,
        identity: &str,
        account: &AccountNumber,
        resolution: &str,
    ) -> Result<(), StoreError>;
}

/// A payment from the log as duplicate suspicion sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimilarPayment {
    pub payment_key: PaymentKey,
    pub bank_ref: String,
    pub value_date: NaiveDate,
}

/// Recent payments by payer, amount and currency (`crate::payer::duplicate_fingerprint`), for
/// duplicate suspicion. A declared index in every store: (fingerprint, value_date).
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

/// Where a file is in its life.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    Processing,
    Completed,
    Quarantined,
}

impl FileStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            FileStatus::Processing => "processing",
            FileStatus::Completed => "completed",
            FileStatus::Quarantined => "quarantined",
        }
    }
}

/// A file the pipeline has seen, by content hash.
#[derive(Clone, Debug, Serialize)]
pub struct FileRecord {
    pub id: FileId,
    pub name: String,
    pub size: u64,
    pub received_at: DateTime<Utc>,
    pub status: FileStatus,
    /// Why the file was quarantined.
    pub reason: Option<String>,
    pub summary: Option<FileSummary>,
}

/// What registering a file found.
// One value per file registered: the size of the record it may carry costs nothing that boxing
// it would save.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum FileRegistration {
    /// First time these bytes arrive.
    New,
    /// These bytes arrived before (perhaps under another name).
    Seen(FileRecord),
}

/// Registry of files by content hash.
pub trait FileRegistry {
    /// Conditional put: records the file unless its id exists, and says which happened.
    fn register_file(&self, file: &FileRecord) -> Result<FileRegistration, StoreError>;
    /// Marks a file completed with its control summary. Conditional: a file already completed
    /// keeps its first summary (a re-delivery of the same bytes posts nothing, and the daily
    /// control report reconciles what the first processing did).
    fn complete_file(&self, id: &FileId, summary: &FileSummary) -> Result<(), StoreError>;
    /// Marks a file quarantined with the reason a bank can act on.
    fn quarantine_file(&self, id: &FileId, reason: &str) -> Result<(), StoreError>;
    /// Key lookup.
    fn file(&self, id: &FileId) -> Result<Option<FileRecord>, StoreError>;
}

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
    /// fingerprint and value date (`PaymentHistory`), when it has one.
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

/// A ledger posting: a payment applied to a card account, or split across several.
#[derive(Clone, Debug, Serialize)]
pub struct Posting {
    pub payment_key: PaymentKey,
    /// The account applied to; for a split, the corporate control account (its balance does
    /// not move: the lines' accounts do).
    pub account: AccountNumber,
    #[serde(flatten)]
    pub amount: Money,
    /// Empty: the whole amount to `account`. Otherwise one line per card, at most
    /// `MAX_POSTING_LINES`, in the posting's currency, adding up exactly to `amount`; the store
    /// refuses (`Conflict`) a split that breaks this, and posts all lines or none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<SplitLine>,
    pub file_id: FileId,
    pub posted_at: DateTime<Utc>,
    pub decision: Decision,
    /// The payment's linking references (`Payment::linking_refs`), indexed so that a later
    /// reversal finds this posting; at most 20, to keep the transaction small.
    pub references: Vec<String>,
}

/// A ledger entry as a reversal sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LedgerEntry {
    pub payment_key: PaymentKey,
    pub account: AccountNumber,
    #[serde(flatten)]
    pub amount: Money,
    /// The payment that reversed this entry, if any.
    pub reversed_by: Option<PaymentKey>,
    /// The lines of a split posting (`account` is then the control account); empty otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<SplitLine>,
}

/// At most this many lines per posting, so that a split posts in one DynamoDB TransactWriteItems
/// (at most 100 items): the payment's state, the ledger entry, up to 20 reference index entries
/// and, per line, its ledger line and its card's balance: 2 + 20 + 2 x 24 = 70.
pub const MAX_POSTING_LINES: usize = crate::control::MAX_SPLIT_LINES;

impl Posting {
    /// Checks a split's lines against the posting: count, currency, positive amounts, distinct
    /// accounts, and an exact sum. Stores call it before writing anything.
    pub fn check_lines(&self) -> Result<(), StoreError> {
        if self.lines.is_empty() {
            return Ok(());
        }
        let refuse =
            |why: String| Err(StoreError::Conflict(format!("split posting {}: {why}", self.payment_key)));
        if self.lines.len() > MAX_POSTING_LINES {
            return refuse(format!("{} lines, at most {MAX_POSTING_LINES}", self.lines.len()));
        }
        let mut sum = Decimal::ZERO;
        for (i, l) in self.lines.iter().enumerate() {
            if l.amount.currency() != self.amount.currency() || !l.amount.is_positive() {
                return refuse(format!("line {} is {}", i + 1, l.amount));
            }
            if self.lines[..i].iter().any(|o| o.account == l.account) {
                return refuse(format!("account {} twice", l.account.masked()));
            }
            sum += l.amount.amount();
        }
        if sum != self.amount.amount() {
            return refuse(format!("lines add up to {sum}, the posting is {}", self.amount));
        }
        Ok(())
    }
}

/// A reversal: a later payment that undoes an earlier posting.
#[derive(Clone, Debug, Serialize)]
pub struct Reversal {
    /// The reversing payment (state `Received` until this lands).
    pub payment_key: PaymentKey,
    /// The posting it undoes.
    pub original: PaymentKey,
    pub account: AccountNumber,
    #[serde(flatten)]
    pub amount: Money,
    pub file_id: FileId,
    pub reversed_at: DateTime<Utc>,
    pub decision: Decision,
    /// A research item opened in the same transaction (a rejected direct debit: the team
    /// contacts the cardmember); not a queued payment, the reversing payment is done.
    #[serde(skip)]
    pub follow_up: Option<ResearchItem>,
}

/// The card ledger.
pub trait Ledger {
    /// One transaction: the ledger entry put if absent, its reference index entries, the
    /// account balance reduced, and the payment moved from `Received` to `Applied`. An existing
    /// entry means already done. A split (`Posting::lines`) writes one ledger line per card and
    /// reduces each card's balance instead, all in the same transaction (all lines or none);
    /// the control account's balance does not move. `Posting::check_lines` first.
    fn post(&self, posting: &Posting) -> Result<Transition, StoreError>;
    /// Index lookup: ledger entries whose linking references include `reference`.
    fn entries_by_reference(&self, reference: &str) -> Result<Vec<LedgerEntry>, StoreError>;
    /// One transaction: the original entry marked reversed (only if it was not), the account
    /// balance restored (for a split, every line's card, from the lines the store holds), and
    /// the reversing payment moved from `Received` to `Applied`.
    /// `AlreadyDone` when the original was already reversed or the payment already decided.
    fn reverse(&self, reversal: &Reversal) -> Result<Transition, StoreError>;
    /// Sum of what was posted to an account, net of reversals, for reconciliation: split lines
    /// count for their cards, not for the control account.
    fn posted_total(&self, account: &AccountNumber) -> Result<Decimal, StoreError>;
}

/// Where a research item is in its life (`crate::queue` holds the rules that move it). Whether
/// it is claimed is not a status: a claim expires by the clock (`ResearchItem::claim`).
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
}

impl ItemStatus {
    pub const ALL: [ItemStatus; 6] = [
        ItemStatus::Open,
        ItemStatus::Resolved,
        ItemStatus::Returned,
        ItemStatus::Escalated,
        ItemStatus::WriteOffPending,
        ItemStatus::WrittenOff,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            ItemStatus::Open => "open",
            ItemStatus::Resolved => "resolved",
            ItemStatus::Returned => "returned",
            ItemStatus::Escalated => "escalated",
            ItemStatus::WriteOffPending => "write-off-pending",
            ItemStatus::WrittenOff => "written-off",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// True while the item still needs a person (it stays in the market's queue index).
    pub fn is_active(&self) -> bool {
        matches!(self, ItemStatus::Open | ItemStatus::Escalated | ItemStatus::WriteOffPending)
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
    pub account: Option<AccountNumber>,
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
    #[serde(serialize_with = "crate::masking::serialize_masked")]
    pub bank_ref: String,
    #[serde(flatten)]
    pub amount: Money,
    #[serde(serialize_with = "crate::masking::serialize_masked_opt")]
    pub payer_name: Option<String>,
    /// The payer's identity keys (`crate::payer::PayerIdentity::key`), so that resolving the
    /// item can teach alias memory (`crate::pipeline::teach_alias`).
    #[serde(skip)]
    pub payer_identities: Vec<String>,
    /// The reason that stopped automatic application.
    pub reason_code: ReasonCode,
    pub reasons: Vec<Reason>,
    /// Best candidate account, if any.
    pub candidate: Option<AccountNumber>,
    pub confidence: f64,
    pub created_at: DateTime<Utc>,
    /// When the SLA sweeper warns: the policy's warning fraction of the SLA's business time.
    pub warn_at: DateTime<Utc>,
    /// When the SLA is breached (`crate::sla::SlaPolicy::deadlines`).
    pub due_at: DateTime<Utc>,
    pub status: ItemStatus,
    /// The analyst holding the item, if any (it may have expired: `crate::queue::active_claim`).
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
    /// (`crate::queue::QueueFilter`); at most `limit` (capped at `MAX_INDEX_RESULTS`).
    fn list(
        &self,
        market: Market,
        filter: &crate::queue::QueueFilter,
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
        audit: &crate::queue::AuditEntry,
    ) -> Result<ResearchItem, StoreError>;
    /// One transaction, conditional on the stored version being `change.expected_version`
    /// (else `Conflict`): the item's status, claim and disposition replaced by `change.after`'s
    /// (version `expected_version + 1`), the audit entry appended, and, when `change.posting`
    /// is given, the posting made as `Ledger::post` makes it but from a `Queued` payment (the
    /// ledger entry put if absent: one already there is `Conflict`, nothing is written).
    /// DynamoDB: one TransactWriteItems of the item update, the audit put, and for a posting
    /// the ledger entry, the payment, the account and up to 20 reference entries (at most 25).
    fn transition(&self, change: &crate::queue::ItemChange) -> Result<ResearchItem, StoreError>;
    /// Query on the (file_id) index: the items a file sent to research, whatever their status
    /// now, at most `limit` (the daily report follows each queued payment to its outcome).
    fn items_of_file(&self, file: &FileId, limit: usize) -> Result<Vec<ResearchItem>, StoreError>;
    /// Query on the item's partition: its audit entries in order (oldest first).
    fn audit_trail(&self, id: &str) -> Result<Vec<crate::queue::AuditEntry>, StoreError>;
    /// The notes on an item, oldest first (audit entries of action `note`).
    fn notes(&self, id: &str) -> Result<Vec<crate::queue::AuditEntry>, StoreError> {
        let mut trail = self.audit_trail(id)?;
        trail.retain(|e| e.action == crate::queue::AuditAction::Note);
        Ok(trail)
    }
}

/// Which SLA alert: the warning (the policy's fraction of the SLA elapsed) or the breach.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertKind {
    Warning,
    Breach,
}

impl AlertKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            AlertKind::Warning => "warning",
            AlertKind::Breach => "breach",
        }
    }

    /// The instant of `item` this alert is about (`warn_at` or `due_at`).
    pub fn deadline(&self, item: &ResearchItem) -> DateTime<Utc> {
        match self {
            AlertKind::Warning => item.warn_at,
            AlertKind::Breach => item.due_at,
        }
    }
}

/// What the SLA sweeper (`crate::sla::sweep`) needs: the active items past a deadline whose
/// alert has not been claimed, and the claim itself, a conditional single-item write.
///
/// DynamoDB shape: two sparse GSIs on the research item table, `sla_warn_pending`
/// (partition `warn_pending` = the market code, sort `warn_at`) and `sla_breach_pending`
/// (partition `breach_pending` = the market code, sort `due_at`). The attribute is set while the
/// item is active and its alert unclaimed, and removed by `mark_alerted` (and by any transition
/// that closes the item), so the query reads only what is still to alert:
/// `KeyConditionExpression: warn_pending = :m AND warn_at <= :now`.
pub trait SlaAlerts {
    /// Range query on the pending-alert index of `kind`: active items of `market` whose
    /// deadline (`warn_at` or `due_at`) is at or before `now` and whose `kind` alert is not yet
    /// marked, earliest deadline first, at most `limit` (capped at `MAX_INDEX_RESULTS`).
    fn pending_alerts(
        &self,
        market: Market,
        kind: AlertKind,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ResearchItem>, StoreError>;
    /// Conditional update: sets the item's `warn_notified_at` / `breach_notified_at` to `now`
    /// only if it is still unset and the item is still active. True when this call set it (the
    /// caller then publishes the alert); false when another sweep did first, or the item closed.
    /// Does not change the item's version: an alert is not an analyst's change.
    fn mark_alerted(&self, id: &str, kind: AlertKind, now: DateTime<Utc>) -> Result<bool, StoreError>;
}

/// The files the pipeline saw in a time window, for the daily control report.
///
/// DynamoDB shape: a GSI `files_by_day` (partition `received_day`, the UTC date `YYYY-MM-DD`;
/// sort `received_at`); a window spanning two UTC days is two queries.
pub trait FileLog {
    /// Range query: files received in `from..to`, oldest first, at most `limit`.
    fn files_received(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<FileRecord>, StoreError>;
}

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

/// Everything the matcher reads: the directory, alias memory and recent payments.
pub trait MatchSource: AccountDirectory + AliasMemory + PaymentHistory {}

impl<T: AccountDirectory + AliasMemory + PaymentHistory + ?Sized> MatchSource for T {}

/// Everything the ingest pipeline needs from a store.
pub trait Store:
    AccountDirectory
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
