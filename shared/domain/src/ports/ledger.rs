//! The card ledger: postings (whole or split), reversals, and the posting limit.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::model::card::CardRef;
use crate::model::decision::{Decision, SplitLine};
use crate::model::ids::{FileId, PaymentKey};
use crate::model::money::Money;
use crate::ports::{ResearchItem, StoreError, Transition};

/// A ledger posting: a payment applied to a card account, or split across several.
#[derive(Clone, Debug, Serialize)]
pub struct Posting {
    pub payment_key: PaymentKey,
    /// The account applied to; for a split, the corporate control account (its balance does
    /// not move: the lines' accounts do).
    pub account: CardRef,
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
    pub account: CardRef,
    #[serde(flatten)]
    pub amount: Money,
    /// How the card platform names the account posted to (`Account::posting_id` when posted).
    pub account_id: Option<String>,
    /// The payment that reversed this entry, if any.
    pub reversed_by: Option<PaymentKey>,
    /// The lines of a split posting (`account` is then the control account); empty otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<SplitLine>,
}

/// At most this many lines per posting (a split across a control account's cards), so that a
/// split posts in one DynamoDB TransactWriteItems (at most 100 items): the payment's state, the
/// ledger entry, up to 20 reference index entries and, per line, its ledger line and its card's
/// balance: 2 + 20 + 2 x 24 = 70.
pub const MAX_POSTING_LINES: usize = 24;

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
    pub account: CardRef,
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
    /// Key lookup: the ledger entry of a payment, if it was posted (the analyst's workbench
    /// shows where a payment went).
    fn entry(&self, payment_key: &PaymentKey) -> Result<Option<LedgerEntry>, StoreError>;
    /// Index lookup: ledger entries whose linking references include `reference`.
    fn entries_by_reference(&self, reference: &str) -> Result<Vec<LedgerEntry>, StoreError>;
    /// One transaction: the original entry marked reversed (only if it was not), the account
    /// balance restored (for a split, every line's card, from the lines the store holds), and
    /// the reversing payment moved from `Received` to `Applied`.
    /// `AlreadyDone` when the original was already reversed or the payment already decided.
    fn reverse(&self, reversal: &Reversal) -> Result<Transition, StoreError>;
    /// Sum of what was posted to an account, net of reversals, for reconciliation: split lines
    /// count for their cards, not for the control account.
    fn posted_total(&self, account: &CardRef) -> Result<Decimal, StoreError>;
}
