//! The ingest pipeline, written against the store ports: validate the whole file first, then
//! decide and record each payment exactly once. A bad file is quarantined before anything posts.

use std::collections::BTreeMap;
use std::error::Error as StdError;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::decision::{Decision, Outcome, Reason, ReasonCode};
use crate::identifiers::AccountNumber;
use crate::ids::{FileId, PaymentKey};
use crate::matcher::{decide, MatchPolicy};
use crate::payment::{Direction, Market, Payment, PerMarket};
use crate::ports::{
    Alias, AliasMemory, FileRecord, FileRegistration, FileStatus, ItemStatus, LedgerEntry, PaymentState,
    Posting, Receipt, ResearchItem, Reversal, Store, StoreError, Transition,
};
use crate::sla::SlaPolicy;

/// Configuration of one pipeline run: matching thresholds and limits, research SLAs. Read from
/// `config/remit.toml` (every key optional; defaults are the values shipped there).
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
    pub sla: SlaPolicy,
    pub matching: MatchPolicy,
    /// Research queue operations (claim duration).
    pub queue: crate::queue::QueuePolicy,
    /// Our own identities per market, never payer evidence; PAD files we originate.
    pub own: crate::own::OwnPolicy,
    /// What a file may carry at all (`[limits]`): beyond it the file is refused whole.
    pub limits: IngestLimits,
}

/// Bounds on a file's content, per market (`[limits]` in `config/remit.toml`). A file past one
/// is broken or hostile, not a batch of payments to research: it is quarantined before
/// anything posts.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestLimits {
    /// The largest single amount a payment may carry, in the payment's currency: far above any
    /// real payment, far below what a decimal can hold (sums of a file stay exact).
    pub max_payment: PerMarket<Decimal>,
    /// The largest file (as stored, compressed or not) a market takes, in bytes: at most
    /// `MAX_FILE_BYTES`, which every runner stops hashing at whatever the market.
    pub max_file_bytes: PerMarket<u64>,
}

/// The largest file any runner reads (4 GiB): hashing stops there, so an endless source (a
/// device, a pipe that keeps writing) ends with an error. `[limits] max_file_bytes` may only
/// lower it per market.
pub const MAX_FILE_BYTES: u64 = 4 << 30;

/// The highest `max_payment` a configuration may set: 10^18, so that the totals of even a
/// billion payments stay far below `Decimal::MAX` (about 7.9 * 10^28).
const MAX_PAYMENT_BOUND: Decimal = Decimal::from_parts(2_808_348_672, 232_830_643, 0, false, 0);

impl Default for IngestLimits {
    fn default() -> Self {
        let ten_billion = Decimal::new(10_000_000_000, 0);
        Self {
            max_payment: PerMarket { ca: ten_billion, india: ten_billion, eu: ten_billion },
            max_file_bytes: PerMarket { ca: MAX_FILE_BYTES, india: MAX_FILE_BYTES, eu: MAX_FILE_BYTES },
        }
    }
}

impl IngestLimits {
    /// Refuses a ceiling that is not positive, that sums could overflow past, or that a payment
    /// sent to research for its size (`matching.amount_ceilings`) would already pass.
    fn validate(&self, matching: &MatchPolicy) -> Result<(), String> {
        for market in Market::ALL {
            let max = self.max_payment.get(market);
            if max <= Decimal::ZERO || max > MAX_PAYMENT_BOUND {
                return Err(format!("limits.max_payment.{market}: {max} is not in (0, {MAX_PAYMENT_BOUND}]"));
            }
            let bytes = *self.max_file_bytes.get_ref(market);
            if bytes == 0 || bytes > MAX_FILE_BYTES {
                return Err(format!(
                    "limits.max_file_bytes.{market}: {bytes} is not in (0, {MAX_FILE_BYTES}]"
                ));
            }
            let research = matching.amount_ceilings.get(market);
            if max <= research {
                return Err(format!(
                    "limits.max_payment.{market}: {max} must be above matching.amount_ceilings.{market} ({research})"
                ));
            }
        }
        Ok(())
    }

    /// The payment's amount when it is above its market's `max_payment`, or its file when it is
    /// larger than the market's `max_file_bytes` (known once a payment names the market).
    #[cfg(test)]
    fn check(&self, payment: &Payment, file_size: u64) -> Result<(), LimitError> {
        self.check_file_size(payment.market, &payment.source.file, file_size)?;
        self.check_amount(payment)
    }

    /// A file larger than its market's `max_file_bytes`.
    pub(crate) fn check_file_size(&self, market: Market, file: &str, size: u64) -> Result<(), LimitError> {
        let max_bytes = *self.max_file_bytes.get_ref(market);
        if size > max_bytes {
            return Err(LimitError::FileTooLarge {
                file: crate::shown::shown(file),
                size,
                market,
                max: max_bytes,
            });
        }
        Ok(())
    }

    /// A payment above its market's `max_payment`.
    pub(crate) fn check_amount(&self, payment: &Payment) -> Result<(), LimitError> {
        let max = self.max_payment.get(payment.market);
        if payment.amount.amount().abs() <= max {
            return Ok(());
        }
        Err(LimitError::AmountAboveMaximum {
            file: crate::shown::shown(&payment.source.file),
            record: payment.source.record,
            amount: payment.amount.to_string(),
            market: payment.market,
            max,
        })
    }
}

/// A file's content past one of the `IngestLimits`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// One payment larger than any real one: the file is broken or hostile.
    #[error(
        "{file}: record {record}: field amount: {amount} is above the largest single payment \
         accepted for {market} ({max}, limits.max_payment)"
    )]
    AmountAboveMaximum { file: String, record: u64, amount: String, market: Market, max: Decimal },
    /// A file larger than its market accepts.
    #[error("{file}: {size} bytes is above the largest file accepted for {market} ({max} bytes, limits.max_file_bytes)")]
    FileTooLarge { file: String, size: u64, market: Market, max: u64 },
}

/// Why the validation pass refused a file: the reader's error, or a limit of the content.
#[derive(Debug)]
pub enum ValidationError<E> {
    /// The reader refused the file (or could not read it).
    Read(E),
    /// Every record read, but one is past an `IngestLimits` bound.
    Limit(LimitError),
}

impl<E: std::fmt::Display> std::fmt::Display for ValidationError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ValidationError::Read(e) => e.fmt(f),
            ValidationError::Limit(e) => e.fmt(f),
        }
    }
}

impl<E: StdError + 'static> StdError for ValidationError<E> {
    // The reader's error stands for itself (its own source chain is its causes).
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            ValidationError::Read(e) => Some(e),
            ValidationError::Limit(_) => None,
        }
    }
}

impl IngestConfig {
    /// Refuses values no run should start with, naming the key.
    pub fn validate(&self) -> Result<(), String> {
        self.queue.validate()?;
        self.own.validate()?;
        let m = &self.matching;
        for market in Market::ALL {
            let t = m.thresholds.get(market);
            if t.is_nan() || t <= 0.0 || t > 1.0 {
                return Err(format!("matching.thresholds.{market}: {t} is not in (0, 1]"));
            }
            let c = m.amount_ceilings.get(market);
            if c <= Decimal::ZERO {
                return Err(format!("matching.amount_ceilings.{market}: {c} must be positive"));
            }
        }
        if m.duplicate_window_days < 0 {
            return Err(format!(
                "matching.duplicate_window_days: {} must not be negative",
                m.duplicate_window_days
            ));
        }
        if m.ambiguity_margin < 0 {
            return Err(format!("matching.ambiguity_margin: {} must not be negative", m.ambiguity_margin));
        }
        self.limits.validate(m)?;
        self.sla.validate()
    }
}

/// Why ingesting a file failed as a whole. Bad content is not an error here: it quarantines the
/// file and is reported in the `FileReport`.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The second read of the file disagreed with the first: the source changed under us.
    #[error("file {file} changed between validation and processing: {detail}")]
    Unstable { file: String, detail: String },
    /// The bytes could not be read for a reason that may pass (a network read broke off, a
    /// timeout): nothing was posted and the file is not quarantined, so a retry reads it again.
    #[error("file {file} could not be read, retry: {detail}")]
    Unreadable { file: String, detail: String },
    /// The file is not there (moved away by an earlier run of the same event).
    #[error("file {file} is not there")]
    Gone { file: String },
    /// Not something a runner reads (a FIFO, a device, a directory).
    #[error("file {file} cannot be read: {detail}")]
    Refused { file: String, detail: String },
    /// More bytes than any runner reads (`MAX_FILE_BYTES`): no identity, so not registered.
    #[error("file {file} cannot be read: {detail}")]
    TooLarge { file: String, detail: String },
}

impl IngestError {
    /// Whether running the same ingest again may succeed (Lambda and SQS retry these).
    pub fn is_retryable(&self) -> bool {
        match self {
            IngestError::Store(e) => e.is_retryable(),
            IngestError::Unstable { .. } | IngestError::Unreadable { .. } => true,
            IngestError::Gone { .. } | IngestError::Refused { .. } | IngestError::TooLarge { .. } => false,
        }
    }
}

/// Sums per currency, so that control totals can be checked against the file's own trailer.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct CurrencyTotals {
    pub credits: Decimal,
    pub credit_count: u64,
    pub debits: Decimal,
    pub debit_count: u64,
    pub applied: Decimal,
    pub queued: Decimal,
    pub duplicate: Decimal,
    pub rejected: Decimal,
    #[serde(default)]
    pub reversed: Decimal,
}

impl CurrencyTotals {
    fn add(&mut self, other: &CurrencyTotals) {
        self.credits += other.credits;
        self.credit_count += other.credit_count;
        self.debits += other.debits;
        self.debit_count += other.debit_count;
        self.applied += other.applied;
        self.queued += other.queued;
        self.duplicate += other.duplicate;
        self.rejected += other.rejected;
        self.reversed += other.reversed;
    }
}

/// What happened to a file's payments: every payment is applied, queued, duplicate or rejected.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileSummary {
    pub payments: u64,
    pub applied: u64,
    pub queued: u64,
    pub duplicates: u64,
    pub rejected: u64,
    #[serde(default)]
    pub reversed: u64,
    pub totals: BTreeMap<String, CurrencyTotals>,
    /// The market of the file's payments (the first payment's; files are per market). None in
    /// summaries stored before it was recorded, and for a file without payments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub market: Option<Market>,
    /// Payments kept with a warning of their record (a date read from a fallback, a detail
    /// that did not add up): the file was not refused for them, and each went to a person.
    #[serde(default)]
    pub warned: u64,
    /// Lines of zero amount the file carried (some banks book them): they move no money, are
    /// no payments (not in `payments`), and are counted here so the file's lines are all told.
    #[serde(default)]
    pub zero_amount: u64,
    /// The first `WARNING_EXAMPLES` distinct warnings, masked and shown short: why they were kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// How many distinct warnings a file summary keeps as examples.
pub const WARNING_EXAMPLES: usize = 3;

impl FileSummary {
    fn count(&mut self, payment: &Payment, outcome: Outcome) {
        self.payments += 1;
        self.market.get_or_insert(payment.market);
        if !payment.warnings.is_empty() {
            self.warned += 1;
            for w in &payment.warnings {
                self.note_warning(w);
            }
        }
        let t = self.totals.entry(payment.amount.currency().code().to_string()).or_default();
        let amount = payment.amount.amount();
        match payment.direction {
            Direction::Credit => {
                t.credits += amount;
                t.credit_count += 1;
            }
            Direction::Debit => {
                t.debits += amount;
                t.debit_count += 1;
            }
        }
        match outcome {
            Outcome::Applied => {
                self.applied += 1;
                t.applied += amount;
            }
            Outcome::Research => {
                self.queued += 1;
                t.queued += amount;
            }
            Outcome::Duplicate => {
                self.duplicates += 1;
                t.duplicate += amount;
            }
            Outcome::Rejected => {
                self.rejected += 1;
                t.rejected += amount;
            }
            Outcome::Reversed => {
                self.reversed += 1;
                t.reversed += amount;
            }
        }
    }

    /// Adds another part of the same file (a chunk's summary): counts and sums add up; the
    /// market stays the first part's.
    pub fn add(&mut self, other: &FileSummary) {
        self.payments += other.payments;
        self.applied += other.applied;
        self.queued += other.queued;
        self.duplicates += other.duplicates;
        self.rejected += other.rejected;
        self.reversed += other.reversed;
        for (currency, t) in &other.totals {
            self.totals.entry(currency.clone()).or_default().add(t);
        }
        if self.market.is_none() {
            self.market = other.market;
        }
        self.warned += other.warned;
        self.zero_amount += other.zero_amount;
        for w in &other.warnings {
            self.note_warning(w);
        }
    }

    fn note_warning(&mut self, warning: &str) {
        if self.warnings.len() >= WARNING_EXAMPLES {
            return;
        }
        let w = crate::shown::shown(&crate::masking::mask_card_numbers(warning));
        if !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
    }

    /// True when every payment is accounted for by exactly one outcome, in count and in sum.
    pub fn balances(&self) -> bool {
        let count_ok =
            self.applied + self.queued + self.duplicates + self.rejected + self.reversed == self.payments;
        count_ok
            && self
                .totals
                .values()
                .all(|t| t.applied + t.queued + t.duplicate + t.rejected + t.reversed == t.credits + t.debits)
    }
}

/// The outcome for one payment, as the CLI and the Lambda report it.
#[derive(Clone, Debug)]
pub struct PaymentResult {
    pub payment_key: PaymentKey,
    pub bank_ref: String,
    pub market: Market,
    pub amount: crate::money::Money,
    pub direction: Direction,
    pub decision: Decision,
    pub queue_item: Option<String>,
    pub warn_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
}

/// The decision line: `bank_ref`, `market`, amount and currency, `direction`, `decision`,
/// `confidence`, `reasons` as sentences, `account` when applied or reversed (`candidate` when
/// queued with one), `splits` (account, amount, currency per line) when a split was applied or
/// reversed, and `queue_item`, `warn_at` and `due_at` when queued. Card numbers are masked.
impl Serialize for PaymentResult {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let d = &self.decision;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("bank_ref", &crate::masking::mask_card_numbers(&self.bank_ref))?;
        m.serialize_entry("market", &self.market)?;
        m.serialize_entry("amount", &self.amount.amount().to_string())?;
        m.serialize_entry("currency", self.amount.currency().code())?;
        m.serialize_entry("direction", &self.direction)?;
        m.serialize_entry("decision", &d.outcome)?;
        m.serialize_entry("confidence", &d.confidence)?;
        let reasons: Vec<&str> = d.reasons.iter().map(|r| r.text.as_str()).collect();
        m.serialize_entry("reasons", &reasons)?;
        if let Some(account) = &d.account {
            let key = match d.outcome {
                Outcome::Applied | Outcome::Reversed => "account",
                _ => "candidate",
            };
            m.serialize_entry(key, &account.masked())?;
        }
        // Only split payments (and their reversals) carry `splits`: older readers see no change.
        if !d.splits.is_empty() {
            m.serialize_entry("splits", &d.splits)?;
        }
        if let Some(q) = &self.queue_item {
            m.serialize_entry("queue_item", q)?;
        }
        if let Some(warn) = &self.warn_at {
            m.serialize_entry("warn_at", &warn.to_rfc3339())?;
        }
        if let Some(due) = &self.due_at {
            m.serialize_entry("due_at", &due.to_rfc3339())?;
        }
        m.end()
    }
}

/// The outcome for one file.
#[derive(Clone, Debug, Serialize)]
pub struct FileReport {
    pub file: String,
    pub file_id: FileId,
    pub status: FileStatus,
    /// True when these bytes had been received before.
    pub seen_before: bool,
    /// The reason a quarantined file was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub summary: FileSummary,
}

/// Identifies the file being ingested.
#[derive(Clone, Debug)]
pub struct FileMeta {
    pub id: FileId,
    pub name: String,
    pub size: u64,
}

impl FileMeta {
    /// A file's identity from one streaming read of its bytes: their SHA-256 and their count
    /// (the size as hashed, whatever a listing said), named `name`.
    pub fn read(name: impl Into<String>, bytes: impl std::io::Read) -> std::io::Result<Self> {
        Self::read_at_most(name, bytes, u64::MAX)
    }

    /// `read`, refused once more than `max_bytes` have been read: an endless source (a device,
    /// a pipe that keeps writing) ends with an error instead of being hashed forever. The error
    /// is of kind `FileTooLarge` and names the limit.
    pub fn read_at_most(
        name: impl Into<String>,
        bytes: impl std::io::Read,
        max_bytes: u64,
    ) -> std::io::Result<Self> {
        let limited = std::io::Read::take(bytes, max_bytes.saturating_add(1));
        let mut counted = Counting { inner: limited, bytes: 0 };
        let id = FileId::of_reader(&mut counted)?;
        if counted.bytes > max_bytes {
            return Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                format!("file size exceeds the limit of {max_bytes} bytes"),
            ));
        }
        Ok(Self { id, name: name.into(), size: counted.bytes })
    }
}

/// Counts the bytes read through it.
struct Counting<R> {
    inner: R,
    bytes: u64,
}

impl<R: std::io::Read> std::io::Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Records the file by content hash, in state processing when it is new. Returns what the store
/// knew of these bytes before (they may have come under another name), if anything.
pub fn register_file<S: Store + ?Sized>(
    store: &S,
    file: &FileMeta,
    now: DateTime<Utc>,
) -> Result<Option<FileRecord>, StoreError> {
    let record = FileRecord {
        id: file.id,
        name: file.name.clone(),
        size: file.size,
        received_at: now,
        status: FileStatus::Processing,
        reason: None,
        summary: None,
    };
    Ok(match store.register_file(&record)? {
        FileRegistration::New => None,
        FileRegistration::Seen(first) => Some(first),
    })
}

/// Quarantines a file that failed validation with `error` (its text masked: it may quote a
/// field; and on one line: it may quote a file name holding a newline) and reports it.
pub fn quarantine<S: Store + ?Sized>(
    store: &S,
    file: &FileMeta,
    error: &dyn StdError,
    seen_before: bool,
) -> Result<FileReport, StoreError> {
    let reason = crate::shown::one_line(&crate::masking::mask_card_numbers(&error.to_string()));
    tracing::warn!(file = %crate::shown::shown(&file.name), file_id = %file.id.short(), %reason, "file quarantined");
    store.quarantine_file(&file.id, &reason)?;
    Ok(FileReport {
        file: file.name.clone(),
        file_id: file.id,
        status: FileStatus::Quarantined,
        seen_before,
        reason: Some(reason),
        summary: FileSummary::default(),
    })
}

/// Pass 2 over the payments `range` (0-based positions in the file) of a stream opened at the
/// file's start: the payments before the range are read and skipped, each one in it is decided
/// and recorded exactly once, and their summary returned. The stream is left after the range.
/// A stream that fails or ends early is `Unstable`: the file validated whole before.
pub fn process_records<S, I, E>(
    store: &S,
    file: &FileMeta,
    stream: &mut I,
    range: std::ops::Range<u64>,
    now: DateTime<Utc>,
    config: &IngestConfig,
    mut on_result: impl FnMut(&PaymentResult),
) -> Result<FileSummary, IngestError>
where
    S: Store + ?Sized,
    I: Iterator<Item = Result<Payment, E>>,
    E: StdError,
{
    let mut summary = FileSummary::default();
    let mut at = 0u64;
    while at < range.end {
        let payment = match stream.next() {
            Some(p) => p.map_err(|e| unstable(file, e.to_string()))?,
            None => {
                return Err(unstable(
                    file,
                    format!("{} payments validated, the stream ended at {at}", range.end),
                ))
            }
        };
        if at >= range.start && payment.amount.amount().is_zero() {
            // A line of zero amount moves no money: counted, never decided or stored.
            summary.zero_amount += 1;
        } else if at >= range.start {
            let result = process_payment(store, &payment, now, config)?;
            summary.count(&payment, result.decision.outcome);
            on_result(&result);
        }
        at += 1;
    }
    Ok(summary)
}

/// Marks the file completed with its summary (a file completed before keeps its first one) and
/// reports it.
pub fn complete<S: Store + ?Sized>(
    store: &S,
    file: &FileMeta,
    summary: FileSummary,
    seen_before: bool,
) -> Result<FileReport, StoreError> {
    store.complete_file(&file.id, &summary)?;
    tracing::info!(
        file = %crate::shown::shown(&file.name), file_id = %file.id.short(), payments = summary.payments,
        applied = summary.applied, queued = summary.queued, duplicates = summary.duplicates,
        rejected = summary.rejected, "file ingested"
    );
    Ok(FileReport {
        file: file.name.clone(),
        file_id: file.id,
        status: FileStatus::Completed,
        seen_before,
        reason: None,
        summary,
    })
}

/// The second read of a file disagreed with the first.
pub(crate) fn unstable(file: &FileMeta, detail: String) -> IngestError {
    IngestError::Unstable { file: file.name.clone(), detail }
}

/// Decides and records one payment, exactly once whatever the delivery count.
pub fn process_payment<S: Store + ?Sized>(
    store: &S,
    payment: &Payment,
    now: DateTime<Utc>,
    config: &IngestConfig,
) -> Result<PaymentResult, StoreError> {
    // Our own name or account in a payer field is not the payer: out before anything reads it
    // (matcher, duplicate fingerprint, research item, alias memory).
    let normalized = config.own.normalize(payment);
    let payment = normalized.payment.as_ref();
    let key = payment.key();
    let mut result = PaymentResult {
        payment_key: key.clone(),
        bank_ref: payment.bank_ref.clone(),
        market: payment.market,
        amount: payment.amount,
        direction: payment.direction,
        decision: duplicate("payment"),
        queue_item: None,
        warn_at: None,
        due_at: None,
    };
    // Keyed differently before (an MT940 line before lines were keyed by the bank's reference):
    // decided under that key is decided.
    if let Some(earlier) = payment.earlier_key() {
        if let Some(state) = store.payment_state(&earlier)?.filter(|s| *s != PaymentState::Received) {
            result.decision =
                duplicate(&format!("payment already {} (under its earlier key)", state.as_str()));
            return Ok(result);
        }
    }
    if let Receipt::Seen { state, first_file } = store.receive_payment(payment, now)? {
        if state != PaymentState::Received {
            result.decision =
                duplicate(&format!("payment already {} from file {}", state.as_str(), first_file.short()));
            return Ok(result);
        }
        // Received but undecided: an earlier run stopped mid-way. Decide again; the
        // conditional writes below make sure only one decision lands.
    }

    let (decision, original) = if payment.reversal {
        decide_reversal(store, payment)?
    } else {
        let mut decision = decide(payment, store, &config.matching)?;
        decision.reasons.extend(normalized.notes);
        (decision, None)
    };
    let transition = match (decision.outcome, original) {
        (Outcome::Applied, _) => {
            let account = decision
                .account
                .clone()
                .ok_or_else(|| StoreError::Corrupt("applied decision without an account".into()))?;
            let mut references = payment.linking_refs();
            references.truncate(MAX_POSTING_REFERENCES);
            store.post(&Posting {
                payment_key: key.clone(),
                account,
                amount: payment.amount,
                lines: decision.splits.clone(),
                file_id: payment.source.file_id,
                posted_at: now,
                decision: decision.clone(),
                references,
            })?
        }
        (Outcome::Reversed, Some(original)) => {
            let follow_up = rejected_direct_debit(payment, &key, &original, now, config);
            let reversal = Reversal {
                payment_key: key.clone(),
                original: original.payment_key.clone(),
                account: original.account.clone(),
                amount: payment.amount,
                file_id: payment.source.file_id,
                reversed_at: now,
                decision: decision.clone(),
                follow_up,
            };
            let t = store.reverse(&reversal)?;
            if t == Transition::AlreadyDone && store.payment_state(&key)? == Some(PaymentState::Received) {
                // Another payment reversed that posting first: a person must look at this one.
                let decision = research_decision(
                    Some(original.account),
                    Reason::new(
                        ReasonCode::Reversal,
                        format!("the posting it reverses ({}) was already reversed", original.payment_key),
                    ),
                );
                return finish_research(store, payment, &key, decision, now, config, result);
            }
            // Idempotent, so a retry after a crash here finishes the job.
            unlearn_resolution(store, payment.market, &original)?;
            result.decision = if t == Transition::Done { decision } else { concurrent_duplicate() };
            return Ok(result);
        }
        (Outcome::Research, _) => {
            return finish_research(store, payment, &key, decision, now, config, result)
        }
        (Outcome::Rejected, _) => store.reject_payment(&key, &decision, now)?,
        (Outcome::Duplicate, _) | (Outcome::Reversed, None) => Transition::AlreadyDone,
    };
    result.decision = match transition {
        Transition::Done => decision,
        Transition::AlreadyDone => concurrent_duplicate(),
    };
    Ok(result)
}

/// At most this many linking references are indexed per posting (DynamoDB transactions hold 100
/// items; a posting writes three plus these).
const MAX_POSTING_REFERENCES: usize = 20;

fn concurrent_duplicate() -> Decision {
    duplicate("payment already decided by a concurrent run")
}

fn research_decision(account: Option<crate::AccountNumber>, reason: Reason) -> Decision {
    Decision {
        outcome: Outcome::Research,
        account,
        confidence: 0.0,
        reasons: vec![reason],
        splits: Vec::new(),
    }
}

/// Queues a payment for research, exactly once.
fn finish_research<S: Store + ?Sized>(
    store: &S,
    payment: &Payment,
    key: &PaymentKey,
    decision: Decision,
    now: DateTime<Utc>,
    config: &IngestConfig,
    mut result: PaymentResult,
) -> Result<PaymentResult, StoreError> {
    let item = research_item(payment, key, &decision, now, config);
    match store.enqueue(&item)? {
        Transition::Done => {
            result.queue_item = Some(item.id);
            result.warn_at = Some(item.warn_at);
            result.due_at = Some(item.due_at);
            result.decision = decision;
        }
        Transition::AlreadyDone => result.decision = concurrent_duplicate(),
    }
    Ok(result)
}

/// A reversal undoes the one posting whose linking references it shares and whose amount it
/// equals. None, several, or a mismatch: research, never a guess.
fn decide_reversal<S: Store + ?Sized>(
    store: &S,
    payment: &Payment,
) -> Result<(Decision, Option<LedgerEntry>), StoreError> {
    let mut found: Vec<LedgerEntry> = Vec::new();
    for reference in payment.linking_refs() {
        for entry in store.entries_by_reference(&reference)? {
            if !found.iter().any(|f| f.payment_key == entry.payment_key) {
                found.push(entry);
            }
        }
    }
    let linked = found.len();
    found.retain(|e| e.amount == payment.amount);
    let research = |text: String| (research_decision(None, Reason::new(ReasonCode::Reversal, text)), None);
    Ok(match found.as_slice() {
        [] if linked == 0 => {
            research(format!("a reversal of {} whose references match nothing we posted", payment.amount))
        }
        [] => research(format!(
            "a reversal of {} whose references match {linked} posting(s) of other amounts",
            payment.amount
        )),
        [one] if one.reversed_by.is_some() => {
            let d = research_decision(
                Some(one.account.clone()),
                Reason::new(
                    ReasonCode::Reversal,
                    format!("the posting it reverses ({}) was already reversed", one.payment_key),
                ),
            );
            (d, None)
        }
        [one] => {
            let text = if one.lines.is_empty() {
                format!(
                    "reverses the posting of {} to account {} (payment {})",
                    one.amount,
                    one.account.masked(),
                    one.payment_key
                )
            } else {
                let lines: Vec<String> =
                    one.lines.iter().map(|l| format!("{} {}", l.account.masked(), l.amount)).collect();
                format!(
                    "reverses the split posting of {} to control account {} (payment {}), every line: {}",
                    one.amount,
                    one.account.masked(),
                    one.payment_key,
                    lines.join(", ")
                )
            };
            let d = Decision {
                outcome: Outcome::Reversed,
                account: Some(one.account.clone()),
                confidence: 1.0,
                reasons: vec![Reason::new(ReasonCode::ReversalOfPosting, text)],
                splits: one.lines.clone(),
            };
            (d, Some(one.clone()))
        }
        many => {
            research(format!("a reversal whose references match {} postings of the same amount", many.len()))
        }
    })
}

fn duplicate(text: &str) -> Decision {
    Decision {
        outcome: Outcome::Duplicate,
        account: None,
        confidence: 1.0,
        reasons: vec![Reason::new(ReasonCode::AlreadyProcessed, text)],
        splits: Vec::new(),
    }
}

/// Teaches alias memory what an analyst's resolution says: the payer of `item` pays `account`.
/// Every payer identity of the item (its account, then its name) is learned, so that the next
/// payment from the same payer carries "learned from resolution ..." evidence for `account`.
/// Idempotent: teaching the same resolution again replaces the same aliases.
pub fn teach_alias<S: AliasMemory + ?Sized>(
    store: &S,
    item: &ResearchItem,
    account: &AccountNumber,
    analyst: &str,
    at: DateTime<Utc>,
) -> Result<Vec<Alias>, StoreError> {
    let mut learned = Vec::new();
    for identity in &item.payer_identities {
        let alias = Alias {
            identity: identity.clone(),
            account: account.clone(),
            learned_at: at,
            learned_by: analyst.to_string(),
            resolution: item.id.clone(),
        };
        store.learn_alias(&alias)?;
        learned.push(alias);
    }
    tracing::info!(
        item = %item.id, account = %account, analyst, identities = learned.len(), "alias learned"
    );
    Ok(learned)
}

/// The research item a returned collection of ours opens beside its reversal (CPA-005 `J` in a
/// PAD file we originate, with `collect_debits` on): the team contacts the cardmember. It
/// carries the original card as candidate; nothing is posted from it (return or note it).
fn rejected_direct_debit(
    payment: &Payment,
    key: &PaymentKey,
    original: &LedgerEntry,
    now: DateTime<Utc>,
    config: &IngestConfig,
) -> Option<ResearchItem> {
    let own = config.own.get(payment.market);
    if own.collection_kind(payment) != Some(crate::own::Collection::Return) {
        return None;
    }
    let why = payment
        .references
        .other
        .iter()
        .find(|(k, _)| k == "return_reason")
        .map(|(_, v)| format!(" (invalid data element {})", v.expose()))
        .unwrap_or_default();
    let decision = research_decision(
        Some(original.account.clone()),
        Reason::new(
            ReasonCode::RejectedDirectDebit,
            format!(
                "pre-authorized debit of {} returned unpaid{why}: the collection posted to account {} \
                 (payment {}) is reversed; contact the cardmember",
                payment.amount,
                original.account.masked(),
                original.payment_key
            ),
        ),
    );
    Some(research_item(payment, key, &decision, now, config))
}

/// A posting an analyst made from a research item was reversed or returned: what that
/// resolution taught alias memory is forgotten (an alias a later resolution taught again stays).
pub fn unlearn_resolution<S: Store + ?Sized>(
    store: &S,
    market: Market,
    original: &LedgerEntry,
) -> Result<usize, StoreError> {
    let id = research_item_id(market, &original.payment_key);
    let Some(item) = store.item(&id)? else { return Ok(0) };
    let resolved_here = item.disposition.as_ref().and_then(|d| d.account.as_ref()) == Some(&original.account);
    if item.status != ItemStatus::Resolved || !resolved_here {
        return Ok(0);
    }
    for identity in &item.payer_identities {
        store.forget_alias(identity, &original.account, &item.id)?;
    }
    tracing::info!(item = %item.id, identities = item.payer_identities.len(), "alias unlearned: posting reversed");
    Ok(item.payer_identities.len())
}

/// Research item ids are derived from the payment key, so a retried enqueue is idempotent.
pub fn research_item_id(market: Market, key: &PaymentKey) -> String {
    let digest = Sha256::digest(key.as_str().as_bytes());
    format!("RQ-{}-{}", market.code(), &hex::encode(digest)[..12])
}

/// The research item a payment would be queued as (what the queue and `teach_alias` see).
pub fn research_item(
    payment: &Payment,
    key: &PaymentKey,
    decision: &Decision,
    now: DateTime<Utc>,
    config: &IngestConfig,
) -> ResearchItem {
    let reason_code = decision.blocker().map(|r| r.code).unwrap_or(ReasonCode::NoReference);
    let sla = config.sla.deadlines(payment.market, reason_code, now);
    ResearchItem {
        id: research_item_id(payment.market, key),
        payment_key: key.clone(),
        market: payment.market,
        file_id: payment.source.file_id,
        bank_ref: payment.bank_ref.clone(),
        amount: payment.amount,
        payer_name: payment.payer_name.clone(),
        payer_identities: crate::payer::identities(payment).iter().map(|i| i.key()).collect(),
        reason_code,
        reasons: decision.reasons.clone(),
        candidate: decision.account.clone(),
        confidence: decision.confidence,
        created_at: now,
        warn_at: sla.warn_at,
        due_at: sla.due_at,
        status: ItemStatus::Open,
        claim: None,
        version: 0,
        disposition: None,
        linking_refs: payment.linking_refs().into_iter().take(MAX_POSTING_REFERENCES).collect(),
    }
}

#[cfg(test)]
mod limit_tests {

    use super::*;
    use crate::money::{Currency, Money};
    use crate::payment::References;

    fn paying(amounts: &[&str]) -> Vec<Payment> {
        amounts
            .iter()
            .enumerate()
            .map(|(n, a)| {
                let mut p = crate::payment::sample(
                    Market::EU,
                    Money::parse(a, Currency::EUR).unwrap(),
                    References::default(),
                );
                p.source.record = n as u64 + 1;
                p.source.file = "drop/eu\n\u{1b}[32mfile completed.xml".into();
                p
            })
            .collect()
    }

    /// The payments that pass `limits` in a file of 1000 bytes, or the first refusal.
    fn count(payments: Vec<Payment>, limits: &IngestLimits) -> Result<u64, LimitError> {
        payments.iter().try_fold(0, |n, p| limits.check(p, 1000).map(|()| n + 1))
    }

    /// Issue 17: an amount of 79 octillion EUR was accepted and queued for research.
    #[test]
    fn a_payment_above_the_markets_maximum_refuses_the_file() {
        let limits = IngestLimits::default();
        assert_eq!(count(paying(&["10.00", "10000000000.00"]), &limits).unwrap(), 2, "at the maximum");
        let err = count(paying(&["10.00", "10000000000.01", "5.00"]), &limits).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, LimitError::AmountAboveMaximum { record: 2, .. }));
        assert!(text.contains("record 2") && text.contains("10000000000.01 EUR"), "{text}");
        assert!(text.contains("EU") && text.contains("limits.max_payment"), "{text}");
        assert!(!text.contains('\n') && !text.contains('\u{1b}'), "the file name is shown escaped: {text}");
        let huge = paying(&["792281625142643375935439503.35"]);
        assert!(count(huge, &limits).is_err(), "near Decimal::MAX");
    }

    /// Issue 17: the file size is bounded per market (`[limits] max_file_bytes`), under the
    /// 4 GiB every runner stops hashing at.
    #[test]
    fn a_file_larger_than_its_market_takes_is_refused() {
        let config: IngestConfig =
            toml::from_str("[limits]\nmax_file_bytes = { CA = 4294967296, IN = 4294967296, EU = 1000 }\n")
                .unwrap();
        config.validate().unwrap();
        let p = &paying(&["10.00"])[0];
        assert_eq!(config.limits.check(p, 1000), Ok(()));
        let err = config.limits.check(p, 1001).unwrap_err();
        assert!(matches!(err, LimitError::FileTooLarge { size: 1001, max: 1000, .. }));
        assert!(err.to_string().contains("limits.max_file_bytes"), "{err}");
        for bad in ["0", "4294967297"] {
            let text = format!("[limits]\nmax_file_bytes = {{ CA = {bad}, IN = 1, EU = 1 }}\n");
            let e = toml::from_str::<IngestConfig>(&text).unwrap().validate().unwrap_err();
            assert!(e.contains("limits.max_file_bytes.CA"), "{e}");
        }
    }

    /// The ceiling is per market and read from `[limits]`.
    #[test]
    fn the_maximum_is_configured_per_market_and_checked() {
        let config: IngestConfig = toml::from_str(
            "[limits]\nmax_payment = { CA = \"1000000\", IN = \"1000000000\", EU = \"60000\" }\n",
        )
        .unwrap();
        config.validate().unwrap();
        assert!(count(paying(&["60000.01"]), &config.limits).is_err());
        assert!(count(paying(&["60000.00"]), &config.limits).is_ok());

        let refused = |toml: &str| toml::from_str::<IngestConfig>(toml).unwrap().validate().unwrap_err();
        let e = refused("[limits]\nmax_payment = { CA = \"0\", IN = \"1\", EU = \"1\" }\n");
        assert!(e.contains("limits.max_payment.CA"), "{e}");
        let e = refused("[limits]\nmax_payment = { CA = \"1e19\", IN = \"1e6\", EU = \"1e6\" }\n");
        assert!(e.contains("limits.max_payment.CA"), "{e}");
        let e = refused("[limits]\nmax_payment = { CA = \"1e6\", IN = \"1e6\", EU = \"1e6\" }\n");
        assert!(e.contains("limits.max_payment.IN") && e.contains("amount_ceilings.IN"), "{e}");
        assert_eq!(MAX_PAYMENT_BOUND, Decimal::from(10u64.pow(18)));
    }
}
