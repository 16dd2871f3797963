//! The second pass, payment by payment: each payment decided (matcher, reversal, our own
//! collections) and recorded exactly once (posted, queued for research, rejected or a
//! duplicate), and the outcome reported as a `PaymentResult`.

use std::error::Error as StdError;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{unstable, FileMeta, IngestConfig, IngestError};
use crate::matching::alias::unlearn_resolution;
use crate::matching::matcher::decide;
use crate::model::card::CardRef;
use crate::model::decision::{Decision, Outcome, Reason, ReasonCode};
use crate::model::ids::PaymentKey;
use crate::model::payment::{Direction, Market, Payment};
use crate::ports::{
    research_item_id, FileSummary, ItemStatus, LedgerEntry, PaymentState, Posting, Receipt, ResearchItem,
    Reversal, Store, StoreError, Transition,
};

/// The outcome for one payment, as the CLI and the Lambda report it.
#[derive(Clone, Debug)]
pub struct PaymentResult {
    pub payment_key: PaymentKey,
    pub bank_ref: String,
    pub market: Market,
    pub amount: crate::model::money::Money,
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
        m.serialize_entry("bank_ref", &crate::text::masking::mask_card_numbers(&self.bank_ref))?;
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
                account: original.account,
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

fn research_decision(account: Option<CardRef>, reason: Reason) -> Decision {
    Decision {
        outcome: Outcome::Research,
        account,
        confidence: 0.0,
        reasons: vec![reason],
        splits: Vec::new(),
        candidates: Vec::new(),
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
                Some(one.account),
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
                account: Some(one.account),
                confidence: 1.0,
                reasons: vec![Reason::new(ReasonCode::ReversalOfPosting, text)],
                splits: one.lines.clone(),
                candidates: Vec::new(),
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
        candidates: Vec::new(),
    }
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
    if own.collection_kind(payment) != Some(crate::matching::own::Collection::Return) {
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
        Some(original.account),
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
        payer_identities: crate::matching::payer::identities(payment).iter().map(|i| i.key()).collect(),
        reason_code,
        reasons: decision.reasons.clone(),
        candidate: decision.account,
        candidates: decision.candidates.clone(),
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
