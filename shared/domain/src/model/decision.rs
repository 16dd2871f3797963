//! What the pipeline decided for one payment, and why, in words a person can check.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::card::CardRef;
use crate::model::money::Money;

/// The four ways a payment leaves the pipeline.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Posted to a card account, exactly once.
    Applied,
    /// Sent to the market's research queue.
    Research,
    /// A reversal or return that undid the posting it refers to, exactly once.
    Reversed,
    /// Already handled (same file again, or the same payment in another file): nothing done.
    Duplicate,
    /// Not postable at all (for example not booked by the bank); recorded with the reason.
    Rejected,
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Research => "research",
            Outcome::Reversed => "reversed",
            Outcome::Duplicate => "duplicate",
            Outcome::Rejected => "rejected",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Machine-readable reason codes: queues group and SLAs differ by them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReasonCode {
    /// Evidence for an account: a number, virtual account or RF reference.
    AccountReference,
    /// No reference identifies any account.
    NoReference,
    /// A well-formed account number that the directory does not hold.
    UnknownAccount,
    /// References point to more than one account.
    Ambiguous,
    AccountClosed,
    AccountBlocked,
    CurrencyMismatch,
    MarketMismatch,
    /// Money leaving us, or a reversal: never auto-applied in this version.
    Debit,
    Reversal,
    /// The bank has not booked it (pending, information only).
    NotBooked,
    /// The file flagged the payment (totals disagree, invalid counterparty data...).
    FileWarning,
    /// Confidence below the market's threshold.
    LowConfidence,
    /// Seen before.
    AlreadyProcessed,
    /// Evidence for a reversal: the posting it refers to.
    ReversalOfPosting,
    /// Evidence from the payer's name against the holder's (for or against).
    NameEvidence,
    /// Evidence from the amount (equal to the statement balance or the minimum due).
    AmountEvidence,
    /// Evidence learned from an earlier resolution (alias memory).
    LearnedAlias,
    /// A payment to a corporate control account split across its cards, or applied to the
    /// control account whole, and why (`crate::matching::control`).
    ControlSplit,
    /// A payment to a corporate control account whose remittance lists cards and amounts that
    /// cannot be posted as listed (they do not add up, a card is not under the control...).
    ControlSplitInvalid,
    /// Above the market's ceiling for automatic application.
    AmountAboveCeiling,
    /// The same payer paid the same amount within the window under another reference.
    DuplicateSuspected,
    /// A payer field held one of our own identities (`crate::matching::own`): left out as evidence.
    OwnIdentity,
    /// A payment that can only be applied with evidence it lacks (a name alone, a shared
    /// payer alone): research.
    InsufficientEvidence,
    /// A pre-authorized debit we collected came back unpaid (CPA-005 `J`): the collection is
    /// reversed and the team contacts the cardmember.
    RejectedDirectDebit,
}

/// One reason: a code for machines and a sentence for people (card numbers masked).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Reason {
    pub code: ReasonCode,
    pub text: String,
}

impl Reason {
    pub fn new(code: ReasonCode, text: impl Into<String>) -> Self {
        Self { code, text: crate::text::masking::mask_card_numbers(&text.into()) }
    }

    /// True when this reason stops automatic application.
    pub fn blocks(&self) -> bool {
        !matches!(
            self.code,
            ReasonCode::AccountReference
                | ReasonCode::ReversalOfPosting
                | ReasonCode::NameEvidence
                | ReasonCode::AmountEvidence
                | ReasonCode::LearnedAlias
                | ReasonCode::ControlSplit
                | ReasonCode::OwnIdentity
        )
    }
}

/// The matcher's verdict on one payment.
#[derive(Clone, PartialEq, Debug, Serialize)]
pub struct Decision {
    pub outcome: Outcome,
    /// The account applied to, or the best candidate when sent to research.
    pub account: Option<CardRef>,
    /// How sure we are that `account` is the payer's account, in [0, 1].
    pub confidence: f64,
    pub reasons: Vec<Reason>,
    /// A split payment: one line per card, adding up to the payment amount (`account` is then
    /// the control account, whose balance does not move). Empty for a whole posting.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub splits: Vec<SplitLine>,
    /// Sent to research: every account the matcher considered, best first (at most
    /// `MAX_CANDIDATES`). Empty when applied.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<Candidate>,
}

/// An account the matcher considered for a payment it did not apply (issue 16): how sure it
/// was, the evidence for and against this account, and what kept it from being applied.
/// Serialized with the card masked; stores keep it through `Candidate::stored_list`.
#[derive(Clone, PartialEq, Debug, Serialize)]
pub struct Candidate {
    pub account: CardRef,
    /// In [0, 1], as `Decision::confidence`.
    pub confidence: f64,
    /// The reasons that speak of this account (reference, name, amount, alias...).
    pub evidence: Vec<Reason>,
    /// Why the payment was not applied to it (a blocking reason).
    pub not_applied: Reason,
}

/// A candidate as stores keep it: the card by its token (`CardRef::stored`), not masked.
#[derive(Serialize, Deserialize)]
struct StoredCandidate {
    card: String,
    confidence: f64,
    evidence: Vec<Reason>,
    not_applied: Reason,
}

/// At most this many candidates are kept per research item (the best first).
pub const MAX_CANDIDATES: usize = 10;

impl Candidate {
    /// The stored form of a list of candidates: JSON with each card's token.
    pub fn stored_list(list: &[Candidate]) -> String {
        let stored: Vec<StoredCandidate> = list
            .iter()
            .map(|c| StoredCandidate {
                card: c.account.stored(),
                confidence: c.confidence,
                evidence: c.evidence.clone(),
                not_applied: c.not_applied.clone(),
            })
            .collect();
        serde_json::to_string(&stored).unwrap_or_else(|_| "[]".into())
    }

    /// Reads `stored_list`'s form back (`None`: not that form).
    pub fn from_stored_list(text: &str) -> Option<Vec<Candidate>> {
        let stored: Vec<StoredCandidate> = serde_json::from_str(text).ok()?;
        stored
            .into_iter()
            .map(|c| {
                Some(Candidate {
                    account: CardRef::from_stored(&c.card).ok()?,
                    confidence: c.confidence,
                    evidence: c.evidence,
                    not_applied: c.not_applied,
                })
            })
            .collect()
    }
}

/// One line of a split payment: an amount for one card account (masked when serialized).
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct SplitLine {
    pub account: CardRef,
    #[serde(flatten)]
    pub amount: Money,
}

impl Decision {
    /// The first reason that blocked automatic application, if any.
    pub fn blocker(&self) -> Option<&Reason> {
        self.reasons.iter().find(|r| r.blocks())
    }
}
