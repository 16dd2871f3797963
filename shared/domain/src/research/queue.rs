//! Research queue operations (issue 6): the item lifecycle as a state machine, the rules of who
//! may do what, and the operations themselves written against the store ports.
//!
//! ```text
//!            claim (one analyst at a time, expires)        ┌──────────────► resolved (posted once)
//!   open ──────────────────────────────────────► claimed ─┼──────────────► returned
//!    ▲ ▲                                                   ├──► escalated ─(claim)─► ... as open
//!    │ └── reject write-off ── write-off-pending ◄─────────┘
//!    │                            │ approve (a second person: four eyes)
//!    └── release / expiry         ▼
//!                             written-off (to suspense)
//!
//!   claimed ── resolve above the market's limit ──► resolve-pending ── approve (a second person)
//!      ▲                                                │               ──► resolved (posted once)
//!      └──────────── reject (back to open) ◄────────────┘
//! ```
//!
//! Alias memory is taught when a resolution is final: at a resolve below the limit, or at the
//! approval of one above it (never at the request).
//!
//! "Claimed" is not a stored status: an item is claimed while its `claim` has not expired, so a
//! claim lapses by the clock without a write. Every change bumps the item's version and appends
//! an `AuditEntry` (who, when, what, before and after) in the same transaction.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::matching::alias::teach_alias;
use crate::model::account::AccountStatus;
use crate::model::card::CardRef;
use crate::model::decision::{Decision, Outcome, Reason, ReasonCode};
use crate::model::payment::{Market, PerMarket};
use crate::ports::{
    active_claim, AccountDirectory, AliasMemory, AuditAction, AuditEntry, Claim, Disposition, ItemChange,
    ItemSnapshot, ItemStatus, Posting, QueueOps, ResearchItem, StoreError,
};
use crate::text::masking::mask_card_numbers;

/// How long a claim holds unless renewed, by default.
pub const DEFAULT_CLAIM_MINUTES: i64 = 30;

/// Longest note or reason kept, in characters.
pub const MAX_TEXT: usize = 2000;

/// Notes one item takes at most, by default: far more than a real case needs, few enough that
/// reading an item's whole trail stays cheap.
pub const DEFAULT_MAX_NOTES_PER_ITEM: u32 = 200;

/// Notes one person writes on one item at most, by default: so that one reader (leadership
/// included) cannot fill an item's notes alone.
pub const DEFAULT_MAX_NOTES_PER_ANALYST: u32 = 50;

/// Resolves one analyst asks for per minute at most through the ops API, by default: a person
/// resolves a few an hour; a script guessing card numbers is stopped within a minute.
pub const DEFAULT_RESOLVES_PER_MINUTE: u32 = 30;

/// Searches per analyst per minute by default: an analyst types a few a minute at most; a script
/// walking the directory by last digits is stopped.
pub const DEFAULT_SEARCHES_PER_MINUTE: u32 = 60;

/// Queue settings (`[queue]` in `config/remit.toml`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueuePolicy {
    /// How long a claim lasts, in minutes.
    pub claim_minutes: i64,
    /// Notes one item takes at most (issue 15: unlimited notes pushed actions out of sight).
    pub max_notes_per_item: u32,
    /// Notes one analyst writes on one item at most.
    pub max_notes_per_analyst: u32,
    /// Resolves (card lookups) one analyst asks the ops API for per minute at most.
    pub resolves_per_minute: u32,
    /// Directory searches one analyst asks the ops API for per minute at most (issue 16: a
    /// search by last digits is a partial card lookup).
    pub searches_per_minute: u32,
    /// A resolve of more than this, in the market's currency, needs a second person's approval
    /// (four eyes, like a write-off); at or below it one analyst is enough.
    pub second_person_above: PerMarket<Decimal>,
}

/// The default four-eyes limits: about 10,000 CAD or EUR, and 750,000 INR (a large card payment
/// in each market; most resolutions are far below).
pub const DEFAULT_SECOND_PERSON_ABOVE: PerMarket<Decimal> = PerMarket {
    ca: Decimal::from_parts(10_000, 0, 0, false, 0),
    india: Decimal::from_parts(750_000, 0, 0, false, 0),
    eu: Decimal::from_parts(10_000, 0, 0, false, 0),
};

impl Default for QueuePolicy {
    fn default() -> Self {
        Self {
            claim_minutes: DEFAULT_CLAIM_MINUTES,
            max_notes_per_item: DEFAULT_MAX_NOTES_PER_ITEM,
            max_notes_per_analyst: DEFAULT_MAX_NOTES_PER_ANALYST,
            resolves_per_minute: DEFAULT_RESOLVES_PER_MINUTE,
            searches_per_minute: DEFAULT_SEARCHES_PER_MINUTE,
            second_person_above: DEFAULT_SECOND_PERSON_ABOVE,
        }
    }
}

impl QueuePolicy {
    /// Refuses values no queue should run with (a claim outside one minute to one day, a limit
    /// of zero or past its bound), naming the key.
    pub fn validate(&self) -> Result<(), String> {
        let m = self.claim_minutes;
        if !(1..=24 * 60).contains(&m) {
            return Err(format!("queue.claim_minutes: {m} is not between 1 and 1440"));
        }
        let per_item = self.max_notes_per_item;
        for (key, value, max) in [
            ("max_notes_per_item", per_item, 10_000),
            ("max_notes_per_analyst", self.max_notes_per_analyst, per_item),
            ("resolves_per_minute", self.resolves_per_minute, 10_000),
            ("searches_per_minute", self.searches_per_minute, 10_000),
        ] {
            if !(1..=max).contains(&value) {
                return Err(format!("queue.{key}: {value} is not between 1 and {max}"));
            }
        }
        for market in Market::ALL {
            let limit = self.second_person_above.get(market);
            if limit.is_sign_negative() {
                return Err(format!("queue.second_person_above.{market}: {limit} is below zero"));
            }
        }
        Ok(())
    }

    pub fn claim_expiry(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + Duration::minutes(self.claim_minutes.clamp(1, 24 * 60))
    }
}

/// What an analyst does to an item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Claim,
    /// Gives a claim up.
    Release,
    /// Apply the payment to this account (posts it).
    Resolve(CardRef),
    /// Apply the payment to this account once a second person approves (above the limit).
    RequestResolve(CardRef),
    ApproveResolve,
    RejectResolve(String),
    /// Send the payment back to the remitter.
    Return(String),
    Escalate(String),
    /// Ask for a write-off to suspense; a second person approves.
    RequestWriteOff(String),
    ApproveWriteOff,
    RejectWriteOff(String),
    Note(String),
}

impl Action {
    pub fn audit_action(&self) -> AuditAction {
        match self {
            Action::Claim => AuditAction::Claim,
            Action::Release => AuditAction::Release,
            Action::Resolve(_) => AuditAction::Resolve,
            Action::RequestResolve(_) => AuditAction::RequestResolve,
            Action::ApproveResolve => AuditAction::ApproveResolve,
            Action::RejectResolve(_) => AuditAction::RejectResolve,
            Action::Return(_) => AuditAction::Return,
            Action::Escalate(_) => AuditAction::Escalate,
            Action::RequestWriteOff(_) => AuditAction::RequestWriteOff,
            Action::ApproveWriteOff => AuditAction::ApproveWriteOff,
            Action::RejectWriteOff(_) => AuditAction::RejectWriteOff,
            Action::Note(_) => AuditAction::Note,
        }
    }

    /// The text the audit entry keeps as its note (masked).
    fn text(&self) -> Option<String> {
        match self {
            Action::Return(t)
            | Action::Escalate(t)
            | Action::RequestWriteOff(t)
            | Action::RejectWriteOff(t)
            | Action::RejectResolve(t)
            | Action::Note(t) => Some(mask_card_numbers(t.trim())),
            _ => None,
        }
    }
}

/// Why an operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("research item {0} not found")]
    NotFound(String),
    #[error("research item {id} is claimed by {analyst} until {until}")]
    ClaimedByOther { id: String, analyst: String, until: DateTime<Utc> },
    #[error("research item {id}: claim it first ({actor} holds no current claim)")]
    NotClaimant { id: String, actor: String },
    #[error("research item {id} is {status}: {action} is not possible")]
    WrongState { id: String, status: &'static str, action: &'static str },
    #[error("research item {id}: the {what} was requested by {requester}; a second person must approve it")]
    FourEyes { id: String, what: &'static str, requester: String },
    #[error("invalid input: {0}")]
    Invalid(String),
    /// The item holds as many notes as it takes, or the analyst wrote as many on it as one may.
    #[error("research item {id}: {why}; no more notes on it")]
    NoteLimit { id: String, why: String },
    #[error("research item {id}: cannot apply to account {account}: {why}")]
    Account { id: String, account: String, why: String },
    /// Someone else changed the item at the same moment; read it again and retry.
    #[error("research item {0} changed concurrently; try again")]
    Concurrent(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks an analyst id: non-empty, at most 64 characters, no control characters or spaces,
/// and nothing that looks like a card number (ids are printed unmasked).
pub fn check_analyst(analyst: &str) -> Result<(), QueueError> {
    let ok = !analyst.is_empty()
        && analyst.chars().count() <= 64
        && analyst.chars().all(|c| !c.is_control() && !c.is_whitespace())
        && mask_card_numbers(analyst) == analyst;
    if ok {
        Ok(())
    } else {
        Err(QueueError::Invalid(format!(
            "analyst id {:?}: 1 to 64 characters, no spaces",
            crate::text::shown::shown(&mask_card_numbers(analyst))
        )))
    }
}

fn check_text(what: &str, text: &str) -> Result<(), QueueError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(QueueError::Invalid(format!("{what} must not be empty")));
    }
    if t.chars().count() > MAX_TEXT {
        return Err(QueueError::Invalid(format!("{what} is longer than {MAX_TEXT} characters")));
    }
    Ok(())
}

/// The rules, as one pure function: whether `actor` may do `action` to `item` at `now`, and the
/// item as it is afterwards (version bumped). `claim_until` is when a new claim expires.
///
/// - A closed item (resolved, returned, written off) takes notes only.
/// - Claim: an active item, unless another analyst's claim has not expired (one at a time);
///   the holder may renew.
/// - Resolve, return, escalate, request write-off, release: the current claimant only, on an
///   open or escalated item (a pending write-off is approved or rejected first).
/// - Approve or reject a write-off: anyone but the requester (four eyes); no claim needed.
/// - Note: anyone, any time.
pub fn apply(
    item: &ResearchItem,
    actor: &str,
    action: &Action,
    now: DateTime<Utc>,
    claim_until: DateTime<Utc>,
) -> Result<ResearchItem, QueueError> {
    check_analyst(actor)?;
    let id = item.id.clone();
    let wrong = |action: &'static str| QueueError::WrongState {
        id: id.clone(),
        status: item.status.as_str(),
        action,
    };
    let mut after = item.clone();
    after.version = item.version + 1;
    let holds = active_claim(item, now).is_some_and(|c| c.analyst == actor);
    let needs_claim = || -> Result<(), QueueError> {
        if holds {
            Ok(())
        } else if let Some(c) = active_claim(item, now) {
            Err(QueueError::ClaimedByOther {
                id: id.clone(),
                analyst: c.analyst.clone(),
                until: c.expires_at,
            })
        } else {
            Err(QueueError::NotClaimant { id: id.clone(), actor: actor.to_string() })
        }
    };
    let workable = matches!(item.status, ItemStatus::Open | ItemStatus::Escalated);
    let decided = |account: Option<CardRef>, reason: Option<String>| Disposition {
        by: actor.to_string(),
        at: now,
        account,
        reason,
        approved_by: None,
    };
    if let Some(t) = match action {
        Action::Return(t) => Some(("reason", t)),
        Action::Escalate(t)
        | Action::RequestWriteOff(t)
        | Action::RejectWriteOff(t)
        | Action::RejectResolve(t) => Some(("reason", t)),
        Action::Note(t) => Some(("note", t)),
        _ => None,
    } {
        check_text(t.0, t.1)?;
    }
    match action {
        Action::Note(_) => {}
        _ if !item.status.is_active() => return Err(wrong(action.audit_action().as_str())),
        Action::Claim => {
            if let Some(c) = active_claim(item, now) {
                if c.analyst != actor {
                    return Err(QueueError::ClaimedByOther {
                        id,
                        analyst: c.analyst.clone(),
                        until: c.expires_at,
                    });
                }
            }
            if claim_until <= now {
                return Err(QueueError::Invalid("a claim must expire after it starts".into()));
            }
            after.claim = Some(Claim { analyst: actor.to_string(), expires_at: claim_until });
        }
        Action::Release => {
            needs_claim()?;
            after.claim = None;
        }
        Action::Resolve(account) | Action::RequestResolve(account) => {
            needs_claim()?;
            if !workable {
                return Err(wrong("resolve"));
            }
            after.status = if matches!(action, Action::Resolve(_)) {
                ItemStatus::Resolved
            } else {
                ItemStatus::ResolvePending
            };
            after.claim = None;
            after.disposition = Some(decided(Some(*account), None));
        }
        Action::Return(reason) => {
            needs_claim()?;
            if !workable {
                return Err(wrong("return"));
            }
            after.status = ItemStatus::Returned;
            after.claim = None;
            after.disposition = Some(decided(None, Some(mask_card_numbers(reason.trim()))));
        }
        Action::Escalate(reason) => {
            needs_claim()?;
            if item.status != ItemStatus::Open {
                return Err(wrong("escalate"));
            }
            after.status = ItemStatus::Escalated;
            after.claim = None;
            after.disposition = Some(decided(None, Some(mask_card_numbers(reason.trim()))));
        }
        Action::RequestWriteOff(reason) => {
            needs_claim()?;
            if !workable {
                return Err(wrong("request a write-off"));
            }
            after.status = ItemStatus::WriteOffPending;
            after.claim = None;
            after.disposition = Some(decided(None, Some(mask_card_numbers(reason.trim()))));
        }
        // A second person's decision on a pending write-off or resolve (four eyes).
        Action::ApproveWriteOff
        | Action::RejectWriteOff(_)
        | Action::ApproveResolve
        | Action::RejectResolve(_) => {
            let (pending, what, approved) = match action {
                Action::ApproveWriteOff | Action::RejectWriteOff(_) => {
                    (ItemStatus::WriteOffPending, "write-off", ItemStatus::WrittenOff)
                }
                _ => (ItemStatus::ResolvePending, "resolve", ItemStatus::Resolved),
            };
            if item.status != pending {
                return Err(wrong(action.audit_action().as_str()));
            }
            let requester = item.disposition.as_ref().map(|d| d.by.clone()).unwrap_or_default();
            if requester == actor {
                return Err(QueueError::FourEyes { id, what, requester });
            }
            if matches!(action, Action::ApproveWriteOff | Action::ApproveResolve) {
                after.status = approved;
                if let Some(d) = after.disposition.as_mut() {
                    d.approved_by = Some(actor.to_string());
                }
            } else {
                after.status = ItemStatus::Open;
                after.disposition = None;
            }
            after.claim = None;
        }
    }
    Ok(after)
}

/// The audit entry of a change from `before` to `after`.
pub fn audit_entry(
    before: &ResearchItem,
    after: &ResearchItem,
    actor: &str,
    action: &Action,
    now: DateTime<Utc>,
) -> AuditEntry {
    let mut note = action.text();
    if *action == Action::ApproveWriteOff {
        note =
            Some(format!("written off to the {} suspense account: {}", before.market.code(), before.amount));
    }
    if matches!(action, Action::RequestResolve(_)) {
        note = Some(format!(
            "{} is above the {} four-eyes limit (queue.second_person_above): nothing posts until a second \
             person approves",
            before.amount,
            before.market.code()
        ));
    }
    AuditEntry {
        item: before.id.clone(),
        seq: after.version,
        at: now,
        actor: actor.to_string(),
        action: action.audit_action(),
        before: ItemSnapshot::of(before),
        after: ItemSnapshot::of(after),
        note,
    }
}

/// What an operation did.
#[derive(Clone, Debug)]
pub struct Done {
    pub item: ResearchItem,
    /// False when the same operation had already happened (a retry or a double click).
    pub changed: bool,
}

fn load<S: QueueOps + ?Sized>(store: &S, id: &str) -> Result<ResearchItem, QueueError> {
    store.item(id)?.ok_or_else(|| QueueError::NotFound(mask_card_numbers(id)))
}

/// How many times an operation re-reads and retries after a concurrent change.
const ATTEMPTS: usize = 3;

/// Claims an item for `analyst` until `policy`'s expiry (renews the analyst's own claim).
pub fn claim<S: QueueOps + ?Sized>(
    store: &S,
    id: &str,
    analyst: &str,
    now: DateTime<Utc>,
    policy: &QueuePolicy,
) -> Result<Done, QueueError> {
    let item = load(store, id)?;
    let until = policy.claim_expiry(now);
    let after = apply(&item, analyst, &Action::Claim, now, until)?;
    let audit = audit_entry(&item, &after, analyst, &Action::Claim, now);
    match store.claim(id, analyst, now, until, &audit) {
        Ok(item) => Ok(Done { item, changed: true }),
        Err(StoreError::Conflict(_)) => {
            // Lost a race: say who holds it now.
            let now_item = load(store, id)?;
            apply(&now_item, analyst, &Action::Claim, now, until)?;
            Err(QueueError::Concurrent(id.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Refuses a note past `policy`'s limits: the item's notes, and the analyst's own on it. Counted
/// from the trail as of the item's version read before: a note written meanwhile moves the
/// version, so the conditional write fails and the count is made again.
fn check_note_room<S: QueueOps + ?Sized>(
    store: &S,
    id: &str,
    analyst: &str,
    policy: &QueuePolicy,
) -> Result<(), QueueError> {
    let notes = store.notes(id)?;
    let per_item = policy.max_notes_per_item as usize;
    let per_analyst = policy.max_notes_per_analyst as usize;
    let why = if notes.len() >= per_item {
        format!("it holds {} notes, the most one item takes (queue.max_notes_per_item)", notes.len())
    } else if notes.iter().filter(|n| n.actor == analyst).count() >= per_analyst {
        format!("{analyst} wrote {per_analyst} notes on it, the most one person writes on one item (queue.max_notes_per_analyst)")
    } else {
        return Ok(());
    };
    Err(QueueError::NoteLimit { id: id.to_string(), why })
}

/// Any action but claim and resolve: checked by `apply` (a note also by `policy`'s note
/// limits), written by `QueueOps::transition`, retried on a concurrent change.
pub fn act<S: QueueOps + ?Sized>(
    store: &S,
    id: &str,
    analyst: &str,
    action: &Action,
    now: DateTime<Utc>,
    policy: &QueuePolicy,
) -> Result<Done, QueueError> {
    if matches!(
        action,
        Action::Claim | Action::Resolve(_) | Action::RequestResolve(_) | Action::ApproveResolve
    ) {
        return Err(QueueError::Invalid(
            "use queue::claim, queue::resolve_by_applying or queue::approve_resolve".into(),
        ));
    }
    for _ in 0..ATTEMPTS {
        let item = load(store, id)?;
        let after = apply(&item, analyst, action, now, now)?;
        if matches!(action, Action::Note(_)) {
            check_note_room(store, &item.id, analyst, policy)?;
        }
        let audit = audit_entry(&item, &after, analyst, action, now);
        let change = ItemChange { expected_version: item.version, after, audit, posting: None };
        match store.transition(&change) {
            Ok(item) => return Ok(Done { item, changed: true }),
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(QueueError::Concurrent(id.to_string()))
}

/// Resolves an item by applying its payment to `account`: the analyst must hold the claim; the
/// account must be in the directory, in the item's market and currency, and active. One transaction
/// posts the payment (a ledger entry keyed by the payment key: a retry or a double click posts
/// nothing twice), closes the item and appends the audit entry; then alias memory learns the payer
/// (`crate::matching::alias::teach_alias`), so the next payment carries the evidence. Resolving
/// again to the same account is a no-op that re-teaches (`changed: false`).
///
/// Above `policy.second_person_above` for the item's market, nothing posts yet: the item waits
/// as `resolve-pending` for a second person (`approve_resolve`), and alias memory learns nothing
/// until then.
pub fn resolve_by_applying<S>(
    store: &S,
    id: &str,
    account: &CardRef,
    analyst: &str,
    now: DateTime<Utc>,
    policy: &QueuePolicy,
) -> Result<Done, QueueError>
where
    S: QueueOps + AccountDirectory + AliasMemory + ?Sized,
{
    for _ in 0..ATTEMPTS {
        let item = load(store, id)?;
        if item.status == ItemStatus::Resolved {
            let d = item.disposition.as_ref();
            let own_retry =
                d.is_some_and(|d| d.by == analyst) && d.and_then(|d| d.account.as_ref()) == Some(account);
            if own_retry {
                // Already done (a retry, a double click, or a crash before teaching).
                teach_alias(store, &item, account, analyst, now)?;
                return Ok(Done { item, changed: false });
            }
            // Anyone else, whatever the account: the same answer, so that resolving a closed
            // item tells nothing about which card it went to (issue 15: it was an oracle).
            return Err(QueueError::WrongState { id: item.id, status: "resolved", action: "resolve" });
        }
        if item.status == ItemStatus::ResolvePending {
            let d = item.disposition.as_ref();
            if d.is_some_and(|d| d.by == analyst && d.account.as_ref() == Some(account)) {
                return Ok(Done { item, changed: false });
            }
            return Err(QueueError::WrongState { id: item.id, status: "resolve-pending", action: "resolve" });
        }
        if item.amount.amount() > policy.second_person_above.get(item.market) {
            let action = Action::RequestResolve(*account);
            let after = apply(&item, analyst, &action, now, now)?;
            check_account(store, &item, account)?;
            let audit = audit_entry(&item, &after, analyst, &action, now);
            let change = ItemChange { expected_version: item.version, after, audit, posting: None };
            match store.transition(&change) {
                Ok(item) => return Ok(Done { item, changed: true }),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        let action = Action::Resolve(*account);
        let after = apply(&item, analyst, &action, now, now)?;
        check_account(store, &item, account)?;
        let by = format!("by {analyst}");
        let posting = posting_for(&item, account, &by, now);
        let audit = audit_entry(&item, &after, analyst, &action, now);
        let change = ItemChange { expected_version: item.version, after, audit, posting: Some(posting) };
        match store.transition(&change) {
            Ok(done) => {
                teach_alias(store, &done, account, analyst, now)?;
                return Ok(Done { item: done, changed: true });
            }
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(QueueError::Concurrent(id.to_string()))
}

/// A second person approves a resolve above the limit: the same checks and the one posting a
/// resolve makes, then alias memory learns the payer, as the requester resolved it. Anyone but
/// the requester; approving again (a retry) is a no-op (`changed: false`).
pub fn approve_resolve<S>(store: &S, id: &str, analyst: &str, now: DateTime<Utc>) -> Result<Done, QueueError>
where
    S: QueueOps + AccountDirectory + AliasMemory + ?Sized,
{
    let action = Action::ApproveResolve;
    for _ in 0..ATTEMPTS {
        let item = load(store, id)?;
        let d = item.disposition.clone();
        let account = d.as_ref().and_then(|d| d.account);
        let requester = d.as_ref().map(|d| d.by.clone()).unwrap_or_default();
        if item.status == ItemStatus::Resolved
            && d.as_ref().and_then(|d| d.approved_by.as_deref()) == Some(analyst)
        {
            return Ok(Done { item, changed: false });
        }
        let after = apply(&item, analyst, &action, now, now)?;
        let Some(account) = account else {
            return Err(QueueError::Invalid(format!("research item {}: no account to approve", item.id)));
        };
        check_account(store, &item, &account)?;
        let by = format!("by {requester}, approved by {analyst}");
        let posting = posting_for(&item, &account, &by, now);
        let audit = audit_entry(&item, &after, analyst, &action, now);
        let change = ItemChange { expected_version: item.version, after, audit, posting: Some(posting) };
        match store.transition(&change) {
            Ok(done) => {
                teach_alias(store, &done, &account, &requester, now)?;
                return Ok(Done { item: done, changed: true });
            }
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(QueueError::Concurrent(id.to_string()))
}

/// The posting of an analyst's resolution of `item` to `account` (`by`: who, for the reason).
fn posting_for(item: &ResearchItem, account: &CardRef, by: &str, now: DateTime<Utc>) -> Posting {
    let reason = Reason::new(
        ReasonCode::LearnedAlias,
        format!("applied to account {} {by} from research item {}", account.masked(), item.id),
    );
    Posting {
        payment_key: item.payment_key.clone(),
        account: *account,
        amount: item.amount,
        lines: Vec::new(),
        file_id: item.file_id,
        posted_at: now,
        decision: Decision {
            outcome: Outcome::Applied,
            account: Some(*account),
            confidence: 1.0,
            reasons: vec![reason],
            splits: Vec::new(),
            candidates: Vec::new(),
        },
        references: item.linking_refs.clone(),
    }
}

fn check_account<S: AccountDirectory + ?Sized>(
    store: &S,
    item: &ResearchItem,
    account: &CardRef,
) -> Result<(), QueueError> {
    let refuse = |why: String| QueueError::Account { id: item.id.clone(), account: account.masked(), why };
    if matches!(item.reason_code, ReasonCode::Debit | ReasonCode::Reversal) {
        // Money leaving us, or undoing a posting: applying it as a payment would be wrong.
        return Err(refuse(
            "the item is a debit or a reversal, not a payment to apply: return or escalate it".into(),
        ));
    }
    // Not there and another market's are one answer: the caller may not learn whether a card
    // exists outside the markets it works (issue 15).
    let not_here = || refuse(format!("no such account in the {} directory", item.market));
    let Some(a) = store.account(account)? else {
        return Err(not_here());
    };
    if a.market != item.market {
        return Err(not_here());
    }
    if a.currency != item.amount.currency() {
        return Err(refuse(format!(
            "a {} account, the payment is in {}",
            a.currency.code(),
            item.amount.currency().code()
        )));
    }
    if a.status != AccountStatus::Active {
        return Err(refuse(format!("the account is {}", a.status.as_str())));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests;
