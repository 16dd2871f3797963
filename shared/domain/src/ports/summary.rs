//! File summaries: what happened to a file's payments, counted and summed per currency, so that
//! control totals can be checked and the daily control report reconciled.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::decision::Outcome;
use crate::model::payment::{Direction, Market, Payment};

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
    /// Counts one decided payment: its outcome, its amount per currency, its warnings.
    pub(crate) fn count(&mut self, payment: &Payment, outcome: Outcome) {
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
        let w = crate::text::shown::shown(&crate::text::masking::mask_card_numbers(warning));
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
