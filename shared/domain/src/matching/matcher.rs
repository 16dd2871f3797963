//! The matcher: finds the card accounts a payment may be for from every signal it carries,
//! weighs the evidence for each, and decides apply or research, with a confidence and reasons.
//!
//! ## Candidates
//!
//! - account numbers written anywhere (structured fields, free text; spaces, dashes, dots,
//!   4-6-5 grouping, words around them);
//! - a Luhn-invalid 15-digit number one edit away (one wrong digit, or two adjacent digits
//!   swapped) from an active account: a candidate when exactly one such account exists,
//!   ambiguous (never applied) when two or more do;
//! - the last five digits ("ending 10005", "XXXX-XXXXXX-10005") with a name that agrees;
//! - India virtual accounts and EU RF references, through their indexes;
//! - the payer's identity (account, then name) learned from earlier resolutions (alias memory).
//!
//! ## Confidence model
//!
//! Each piece of evidence is a likelihood ratio, written as its base-10 logarithm (its weight in
//! "bans": +2 means the evidence is 100 times likelier if the candidate is the payer's account
//! than if it is not). Evidence kinds are treated as independent, so a candidate's weight is the
//! sum of its evidence's weights (one of each kind at most). Candidates then compete: with odds
//! `o_i = 10^w_i` against a prior of one for "none of them",
//!
//! ```text
//! confidence_i = o_i / (1 + Σ_j o_j)
//! ```
//!
//! A single candidate with weight 2 has confidence 100/101 = 0.990; two candidates with the same
//! support have at most 0.5 each, below any threshold, and are reported ambiguous. The default
//! threshold 0.95 is weight 1.28: a clean number alone, or a typo corrected and confirmed by a
//! name that agrees, clears it; a typo or a name alone does not. The weights are in `evidence`,
//! and every reason states the weight it contributed.

use chrono::Duration;
use rust_decimal::Decimal;

use crate::matching::payer::{duplicate_fingerprint_of, identities_with, PayerIdentity};
use crate::model::account::{Account, AccountStatus};
use crate::model::card::CardRef;
use crate::model::decision::{Decision, Outcome, Reason, ReasonCode};
use crate::model::identifiers::{AccountNumber, CreditorReference};
use crate::model::payment::{Direction, Market, Payment, PerMarket};
use crate::ports::{MatchSource, StoreError};
use crate::text::luhn::luhn_valid;
use crate::text::names::{initials, similarity, NormalName};

/// Per-market matching configuration (`[matching]` in `config/remit.toml`).
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatchPolicy {
    /// A candidate applies only at or above its market's confidence.
    pub thresholds: PerMarket<f64>,
    /// Amounts above the market's ceiling always go to research (in the payment's currency).
    pub amount_ceilings: PerMarket<Decimal>,
    /// Same payer, amount and currency with value dates this many days apart or less, under
    /// another payment key: duplicate suspicion, research.
    pub duplicate_window_days: i64,
    /// A runner-up whose weight is within this many decibans of the best makes it ambiguous.
    pub ambiguity_margin: Decibans,
}

impl Default for MatchPolicy {
    fn default() -> Self {
        Self {
            thresholds: PerMarket { ca: 0.95, india: 0.95, eu: 0.95 },
            amount_ceilings: PerMarket {
                ca: Decimal::new(50_000, 0),
                india: Decimal::new(5_000_000, 0),
                eu: Decimal::new(50_000, 0),
            },
            duplicate_window_days: 3,
            ambiguity_margin: 10,
        }
    }
}

impl MatchPolicy {
    pub fn threshold(&self, market: Market) -> f64 {
        self.thresholds.get(market)
    }
}

/// Evidence weight in decibans: tenths of a base-10 log likelihood ratio. Integers, so sums and
/// the ambiguity margin compare exactly; only the final confidence is a probability.
pub type Decibans = i32;

/// Evidence weights (see the module documentation): 20 decibans = odds of 100 to 1.
pub mod evidence {
    use super::Decibans;

    /// A valid account number in a structured reference field the payer filled for us.
    pub const NUMBER_STRUCTURED: Decibans = 20;
    /// A valid account number somewhere in free text.
    pub const NUMBER_FREE_TEXT: Decibans = 15;
    /// The virtual account the bank credited: issued by us to one payer.
    pub const VIRTUAL_ACCOUNT: Decibans = 20;
    /// A check-digit-valid RF creditor reference we printed on the statement.
    pub const CREDITOR_REFERENCE: Decibans = 20;
    /// A Luhn-invalid number one edit from this account and from no other active one.
    pub const ONE_EDIT_AWAY: Decibans = 6;
    /// The last five digits (the name must agree for it to be a candidate at all).
    pub const LAST_DIGITS: Decibans = 3;
    /// This payer account paid this card before (an analyst said so).
    pub const ALIAS_ACCOUNT: Decibans = 15;
    /// A payer of this name paid this card before (namesakes exist: weaker).
    pub const ALIAS_NAME: Decibans = 10;
    /// A shared payer (learned for several accounts) that paid this referenced card before.
    pub const SHARED_PAYER: Decibans = 3;
    /// Payer name against holder name: same name written differently (>= 0.95).
    pub const NAME_STRONG: Decibans = 10;
    /// Initials or a missing middle name (>= 0.85).
    pub const NAME_GOOD: Decibans = 7;
    /// Some agreement (>= 0.7).
    pub const NAME_WEAK: Decibans = 2;
    /// Partly different (>= 0.45): probably someone else.
    pub const NAME_DOUBTFUL: Decibans = -3;
    /// Different names: someone else paying, or the wrong account.
    pub const NAME_DIFFERENT: Decibans = -7;
    /// The amount equals the statement balance, the current balance or the minimum due.
    pub const AMOUNT_EQUALS_BALANCE: Decibans = 5;
    pub const AMOUNT_EQUALS_MINIMUM: Decibans = 4;
}

/// What kind of signal pointed at an account; one of each kind counts per account.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Number,
    OneEdit,
    LastDigits,
    VirtualAccount,
    CreditorReference,
    AliasAccount,
    AliasName,
    /// A payer learned for two or more accounts, corroborating a reference to one of them.
    SharedPayer,
    /// The holder's name is the payer's, and the payment points at no account.
    NameIndex,
}

struct Candidate {
    account: Account,
    kinds: Vec<(Kind, Decibans)>,
    reasons: Vec<Reason>,
    weight: Decibans,
    /// The payer's name against the holder's, once worked out.
    similarity: Option<f64>,
    /// The amount equals the account's statement or current balance or its minimum due.
    amount_agrees: bool,
}

impl Candidate {
    fn add(&mut self, kind: Kind, weight: Decibans, reason: Reason) {
        match self.kinds.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, w)) if *w >= weight => return,
            Some((_, w)) => *w = weight,
            None => self.kinds.push((kind, weight)),
        }
        self.reasons.push(reason);
    }

    fn has(&self, kind: Kind) -> bool {
        self.kinds.iter().any(|(k, _)| *k == kind)
    }

    /// True when the payment's own references point at this account (a number written whole or
    /// mistyped, its last digits, a virtual account, an RF reference).
    fn referenced(&self) -> bool {
        self.kinds.iter().any(|(k, _)| {
            matches!(
                k,
                Kind::Number
                    | Kind::OneEdit
                    | Kind::LastDigits
                    | Kind::VirtualAccount
                    | Kind::CreditorReference
            )
        })
    }

    /// True when nothing but the payer's name points at this account.
    fn name_only(&self) -> bool {
        self.kinds.iter().all(|(k, _)| *k == Kind::NameIndex)
    }
}

/// Candidates by account, in the order found.
#[derive(Default)]
struct Candidates(Vec<Candidate>);

impl Candidates {
    fn add(&mut self, account: Account, kind: Kind, weight: Decibans, reason: Reason) {
        match self.0.iter_mut().find(|c| c.account.card == account.card) {
            Some(c) => c.add(kind, weight, reason),
            None => {
                // A candidate is a few hundred bytes: room for two (most payments have one)
                // stays in the allocator's small sizes; the default four would not.
                if self.0.capacity() == 0 {
                    self.0.reserve_exact(2);
                }
                self.0.push(Candidate {
                    account,
                    kinds: vec![(kind, weight)],
                    reasons: vec![reason],
                    weight: 0,
                    similarity: None,
                    amount_agrees: false,
                })
            }
        }
    }

    /// Notes the name similarity already worked out for the candidate of `number`.
    fn set_similarity(&mut self, number: &CardRef, s: f64) {
        if let Some(c) = self.0.iter_mut().find(|c| c.account.card == *number) {
            c.similarity = Some(s);
        }
    }
}

/// Decides what to do with one payment. Reads the directory, alias memory and payment history
/// by key and index only.
pub fn decide<D: MatchSource + ?Sized>(
    payment: &Payment,
    directory: &D,
    policy: &MatchPolicy,
) -> Result<Decision, StoreError> {
    if let Some(status) = status_not_booked(payment) {
        return Ok(Decision {
            outcome: Outcome::Rejected,
            account: None,
            confidence: 0.0,
            reasons: vec![reason(
                ReasonCode::NotBooked,
                format!("bank status {status}: not booked, nothing to post"),
            )],
            splits: Vec::new(),
            candidates: Vec::new(),
        });
    }

    let mut reasons = Vec::new();
    let mut found = Candidates::default();
    let payer = payment.payer_name.as_deref().map(NormalName::new).filter(|n| !n.is_empty());
    // Whom the payer pays for (camt `UltmtDbtr`): a company or relative paying a holder's card.
    let on_behalf = payment
        .references
        .other
        .iter()
        .find(|(k, _)| k == "ultimate_debtor")
        .map(|(_, v)| NormalName::new(v.expose()))
        .filter(|n| !n.is_empty());
    // Accounts looked at that are not evidence (a typo one edit from several; cards ending in
    // the last five digits written whose holder is not the payer): listed for the analyst only.
    let mut considered = Considered::default();
    numbers(payment, directory, &mut found, &mut reasons, &mut considered)?;
    indexes(payment, directory, &mut found, &mut reasons)?;
    last_digits(payment, directory, payer.as_ref(), &mut found, &mut considered)?;
    let ids = identities_with(payment, payer.as_ref());
    aliases(&ids, directory, &mut found, &mut reasons)?;
    if found.0.is_empty() {
        name_candidates(payment, payer.as_ref(), directory, &mut found, &mut reasons, &mut considered)?;
    }

    let mut candidates = found.0;
    for c in &mut candidates {
        score(c, payment, payer.as_ref(), on_behalf.as_ref());
    }
    candidates.sort_by_key(|c| std::cmp::Reverse(c.weight));
    // Odds are probabilities, never amounts: evidence sums stay integer decibans, and amount
    // evidence compares `Decimal`s; only the confidence shown and thresholded is a float.
    let odds_of_all: f64 = candidates.iter().map(|c| odds(c.weight)).sum();

    let Some(best) = candidates.first() else {
        if !reasons.iter().any(|r| matches!(r.code, ReasonCode::UnknownAccount | ReasonCode::Ambiguous)) {
            reasons.push(reason(
                ReasonCode::NoReference,
                "no account number, virtual account, RF reference or known payer in the payment",
            ));
        }
        let mut decision = research(None, 0.0, reasons);
        decision.candidates = considered.listed(Vec::new(), payment, directory)?;
        return Ok(decision);
    };
    let confidence = odds(best.weight) / (1.0 + odds_of_all);
    reasons.extend(best.reasons.iter().cloned());

    // A rival is an account the evidence supports about as well, or one the payment names
    // outright as it names the best: two written account numbers (or VA / RF references of two
    // accounts) may mean either card or both, whatever the names and amounts say.
    let named =
        |c: &Candidate| c.has(Kind::Number) || c.has(Kind::VirtualAccount) || c.has(Kind::CreditorReference);
    let rivals: Vec<&Candidate> = candidates[1..]
        .iter()
        .filter(|c| {
            c.weight >= best.weight - policy.ambiguity_margin
                || (named(best) && named(c))
                // Namesakes: a name that is not unique in the market identifies nobody.
                || (best.name_only() && c.name_only())
        })
        .collect();
    // Corporate control accounts (`crate::matching::control`): the control and its cards are not
    // rivals of each other when the payment splits across them or goes to the control; their odds
    // add up.
    let group: Vec<&Account> = rivals.iter().map(|c| &c.account).collect();
    let control = crate::matching::control::resolve(payment, directory, &best.account, &group)?;
    let confidence = match &control {
        Some(c) => {
            let group = rivals.iter().fold(odds(best.weight), |s, c| s + odds(c.weight));
            let group_w = group * odds(c.verdict.weight());
            group_w / (1.0 + odds_of_all - group + group_w)
        }
        None => confidence,
    };
    if !rivals.is_empty() && control.is_none() {
        let list: Vec<String> = std::iter::once(best)
            .chain(rivals.iter().copied())
            .map(|c| format!("{} (weight {})", c.account.card.masked(), Weight(c.weight)))
            .collect();
        let ambiguous = reason(
            ReasonCode::Ambiguous,
            format!("evidence supports {} accounts about equally: {}", rivals.len() + 1, list.join(", ")),
        );
        let rivals: Vec<CardRef> = rivals.iter().map(|c| c.account.card).collect();
        let ranked = ranked(&candidates, odds_of_all, payment, policy, &ambiguous, &rivals);
        reasons.push(ambiguous);
        let mut decision = research(None, round(confidence), reasons);
        decision.candidates = considered.listed(ranked, payment, directory)?;
        return Ok(decision);
    }

    let (account, splits) = match &control {
        Some(c) => {
            let (reason, splits) = c.verdict.reason_and_lines();
            reasons.push(reason);
            (&c.control, splits)
        }
        None => (&best.account, Vec::new()),
    };
    if control.is_none() && best.name_only() && !best.amount_agrees {
        reasons.push(reason(
            ReasonCode::InsufficientEvidence,
            format!(
                "only the payer's name points at {}, and the amount is neither its statement balance nor \
                 its minimum due",
                account.card.masked()
            ),
        ));
    }
    reasons.extend(blockers(payment, account, policy));
    reasons.extend(duplicate_suspicion(payment, &ids, directory, policy)?);
    let threshold = policy.threshold(payment.market);
    if confidence < threshold {
        reasons.push(reason(
            ReasonCode::LowConfidence,
            format!(
                "confidence {confidence:.3} (weight {}) below the {} threshold {threshold:.2}",
                Weight(best.weight),
                payment.market
            ),
        ));
    }
    // An unknown account number beside a known one is conflicting evidence: it blocks too.
    let confidence = round(confidence);
    if let Some(blocker) = reasons.iter().find(|r| r.blocks()) {
        let ranked = ranked(&candidates, odds_of_all, payment, policy, blocker, &[]);
        let mut decision = research(Some(account.card), confidence, reasons);
        decision.candidates = considered.listed(ranked, payment, directory)?;
        return Ok(decision);
    }
    Ok(Decision {
        outcome: Outcome::Applied,
        account: Some(account.card),
        confidence,
        reasons,
        splits,
        candidates: Vec::new(),
    })
}

/// `Reason::new` for texts built here: masked the same way, without copying a text that needs
/// no masking (most do not: the numbers in them are masked already).
fn reason(code: ReasonCode, text: impl Into<String>) -> Reason {
    Reason { code, text: crate::text::masking::mask_card_numbers_owned(text.into()) }
}

/// Appends `parts` to a string sized for them: `format!` without the formatting machinery,
/// for the reasons every payment carries.
fn concat(parts: &[&str]) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        s.push_str(p);
    }
    s
}

/// A weight written in bans, "+1.5", into a small buffer (no formatting machinery on the hot
/// path); `Weight` writes the same.
fn weight_text(w: Decibans, buf: &mut [u8; 24]) -> &str {
    let sign = if w < 0 { b'-' } else { b'+' };
    let (units, tenth) = (w.unsigned_abs() / 10, w.unsigned_abs() % 10);
    let mut digits = [0u8; 10];
    let mut k = digits.len();
    let mut u = units;
    loop {
        k -= 1;
        digits[k] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    let n = digits.len() - k;
    buf[0] = sign;
    buf[1..=n].copy_from_slice(&digits[k..]);
    buf[n + 1] = b'.';
    buf[n + 2] = b'0' + tenth as u8;
    std::str::from_utf8(&buf[..n + 3]).expect("ASCII")
}

/// A weight written in bans, "+1.5".
struct Weight(Decibans);

impl std::fmt::Display for Weight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(weight_text(self.0, &mut [0; 24]))
    }
}

/// A similarity as `Hundredths` writes it, into a small buffer: "0.97".
fn hundredths_text(x: f64, buf: &mut [u8; 24]) -> &str {
    let h = (x * 100.0).round() as i64;
    if !(0..1000).contains(&h) {
        use std::io::Write;
        let mut w = &mut buf[..];
        write!(w, "{}", Hundredths(x)).expect("fits");
        let n = 24 - w.len();
        return std::str::from_utf8(&buf[..n]).expect("ASCII");
    }
    let (units, cents) = (h / 100, h % 100);
    buf[0] = b'0' + units as u8;
    buf[1] = b'.';
    buf[2] = b'0' + (cents / 10) as u8;
    buf[3] = b'0' + (cents % 10) as u8;
    std::str::from_utf8(&buf[..4]).expect("ASCII")
}

/// A similarity in [0, 1] written "0.97".
struct Hundredths(f64);

impl std::fmt::Display for Hundredths {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let h = (self.0 * 100.0).round() as i64;
        write!(f, "{}.{:02}", h / 100, h % 100)
    }
}

/// The odds a weight stands for (a probability ratio, not money).
fn odds(weight: Decibans) -> f64 {
    10f64.powf(f64::from(weight.clamp(-100, 100)) / 10.0)
}

/// Four decimals are enough to read, and keep JSON short.
fn round(c: f64) -> f64 {
    (c * 10_000.0).floor() / 10_000.0
}

fn research(account: Option<CardRef>, confidence: f64, reasons: Vec<Reason>) -> Decision {
    Decision {
        outcome: Outcome::Research,
        account,
        confidence,
        reasons,
        splits: Vec::new(),
        candidates: Vec::new(),
    }
}

/// The bank's entry status when it is not booked (camt `Sts` other than BOOK).
fn status_not_booked(payment: &Payment) -> Option<String> {
    payment
        .references
        .other
        .iter()
        .find(|(k, _)| k == "status")
        .map(|(_, v)| v.expose().trim().to_ascii_uppercase())
        .filter(|s| !s.is_empty() && s != "BOOK" && s != "BOOKED")
}

/// The texts a payer may have written a number into: (field name, text, structured?).
fn texts(payment: &Payment) -> impl Iterator<Item = (&str, &str, bool)> {
    let refs = &payment.references;
    let structured = [
        ("cross-reference", refs.cross_reference.as_ref()),
        ("end-to-end id", refs.end_to_end_id.as_ref()),
        ("creditor reference", refs.creditor_reference.as_ref()),
    ]
    .into_iter()
    .filter_map(|(n, t)| t.map(|t| (n, t.expose(), true)));
    let free = refs.remittance.iter().map(|t| ("remittance text", t.expose(), false)).chain(
        refs.other.iter().filter(|(k, _)| k != "status").map(|(k, v)| (k.as_ref(), v.expose(), false)),
    );
    structured.chain(free)
}

/// A run of digits in a text, with what surrounds it.
#[derive(Clone, Copy, Debug)]
struct Group {
    start: usize,
    end: usize,
}

/// Digit groups of a text chained by short separators (`3782 822463 10005`, `3782-822463-10005`,
/// `3782.822463.10005`, `3782 - 822463 - 10005`): each chain is a list of groups.
fn chains(text: &str) -> Vec<Vec<Group>> {
    let b = text.as_bytes();
    let mut out: Vec<Vec<Group>> = Vec::new();
    let mut chain: Vec<Group> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let g = Group { start, end: i };
        let joined = chain.last().is_some_and(|last| {
            let gap = &b[last.end..start];
            !gap.is_empty() && gap.len() <= 3 && gap.iter().all(|c| matches!(c, b' ' | b'-' | b'.'))
        });
        if !joined && !chain.is_empty() {
            out.push(std::mem::take(&mut chain));
        }
        chain.push(g);
    }
    if !chain.is_empty() {
        out.push(chain);
    }
    out
}

/// 15-digit numbers written in a text, whole groups only (a longer run is not split, except
/// into whole groups: "378282246310005 371449635398431" is two numbers).
fn fifteen_digit_numbers(text: &str) -> Vec<[u8; 15]> {
    let mut out: Vec<[u8; 15]> = Vec::new();
    for chain in chains(text) {
        for s in 0..chain.len() {
            let mut len = 0;
            for (e, g) in chain.iter().enumerate().skip(s) {
                len += g.end - g.start;
                if len > 15 {
                    break;
                }
                if len == 15 {
                    let mut digits = [0u8; 15];
                    let mut k = 0;
                    for g in &chain[s..=e] {
                        for &c in &text.as_bytes()[g.start..g.end] {
                            digits[k] = c - b'0';
                            k += 1;
                        }
                    }
                    if !out.contains(&digits) {
                        out.push(digits);
                    }
                    break;
                }
            }
        }
    }
    out
}

fn to_number(d: &[u8; 15]) -> Option<AccountNumber> {
    if d[0] != 3 || !matches!(d[1], 4 | 7) || !luhn_valid(d) {
        return None;
    }
    Some(AccountNumber::from_values_unchecked(d))
}

/// The valid account numbers one edit away from `d`: one digit changed (for each position
/// exactly one digit makes Luhn hold) or two adjacent digits swapped. Luhn is worked out once
/// and adjusted per edit (this runs for every mistyped number).
fn one_edit_neighbours(d: &[u8; 15]) -> Vec<AccountNumber> {
    // Position i counts double when (14 - i) is odd (the check digit is position 14).
    let contrib = |i: usize, x: u8| -> u32 {
        let x = u32::from(x);
        if (14 - i) % 2 == 1 {
            let y = x * 2;
            if y > 9 {
                y - 9
            } else {
                y
            }
        } else {
            x
        }
    };
    let sum: u32 = (0..15).map(|i| contrib(i, d[i])).sum();
    let shape_ok = |v: &[u8; 15]| v[0] == 3 && matches!(v[1], 4 | 7);
    let mut out = Vec::with_capacity(32);
    for i in 0..15 {
        let rest = sum - contrib(i, d[i]);
        if let Some(x) = (0..10u8).find(|&x| x != d[i] && (rest + contrib(i, x)).is_multiple_of(10)) {
            let mut v = *d;
            v[i] = x;
            if shape_ok(&v) {
                out.push(digits_to_number(&v));
            }
        }
    }
    for i in 0..14 {
        if d[i] == d[i + 1] {
            continue;
        }
        let swapped =
            sum - contrib(i, d[i]) - contrib(i + 1, d[i + 1]) + contrib(i, d[i + 1]) + contrib(i + 1, d[i]);
        if swapped.is_multiple_of(10) {
            let mut v = *d;
            v.swap(i, i + 1);
            if shape_ok(&v) {
                let n = digits_to_number(&v);
                if !out.contains(&n) {
                    out.push(n);
                }
            }
        }
    }
    out
}

fn digits_to_number(v: &[u8; 15]) -> AccountNumber {
    AccountNumber::from_values_unchecked(v)
}

/// Masked form of a digit string that is not a valid number (a typo): last four only.
fn mask_digits(d: &[u8; 15]) -> String {
    let tail: String = d[11..].iter().map(|&x| char::from(b'0' + x)).collect();
    format!("***********{tail}")
}

/// Full account numbers and one-edit typos in every text.
fn numbers<D: MatchSource + ?Sized>(
    payment: &Payment,
    directory: &D,
    out: &mut Candidates,
    reasons: &mut Vec<Reason>,
    considered: &mut Considered,
) -> Result<(), StoreError> {
    let mut seen: Vec<[u8; 15]> = Vec::new();
    for (field, text, structured) in texts(payment) {
        for digits in fifteen_digit_numbers(text) {
            if let Some(number) = to_number(&digits) {
                let weight =
                    if structured { evidence::NUMBER_STRUCTURED } else { evidence::NUMBER_FREE_TEXT };
                match directory.account(&directory.card_key().card(&number))? {
                    Some(account) => out.add(
                        account,
                        Kind::Number,
                        weight,
                        reason(
                            ReasonCode::AccountReference,
                            concat(&[
                                "account ",
                                &number.masked(),
                                " written in the ",
                                field,
                                " [",
                                weight_text(weight, &mut [0; 24]),
                                "]",
                            ]),
                        ),
                    ),
                    None => reasons.push(reason(
                        ReasonCode::UnknownAccount,
                        format!("account number {} in the {field} is not in the directory", number.masked()),
                    )),
                }
                continue;
            }
            if seen.contains(&digits) || !(digits[0] == 3 || matches!(digits[1], 4 | 7)) {
                continue;
            }
            seen.push(digits);
            // Each neighbour is hashed to be looked up: the directory knows tokens, not numbers.
            let key = directory.card_key();
            let cards = key.cards(&one_edit_neighbours(&digits));
            let mut near = directory.accounts(&cards)?;
            // The active ones, when there are any (no copy of an account).
            if near.iter().any(|a| a.status == AccountStatus::Active) {
                near.retain(|a| a.status == AccountStatus::Active);
            }
            let written = mask_digits(&digits);
            match near.len() {
                0 => {}
                1 => {
                    let account = near.into_iter().next().expect("one");
                    let text = format!(
                        "{written} in the {field} fails the check digit; one edit away from account {} \
                         and no other [{}]",
                        account.card.masked(),
                        Weight(evidence::ONE_EDIT_AWAY)
                    );
                    out.add(
                        account,
                        Kind::OneEdit,
                        evidence::ONE_EDIT_AWAY,
                        reason(ReasonCode::AccountReference, text),
                    );
                }
                n => {
                    let list: Vec<String> = near.iter().map(|a| a.card.masked()).collect();
                    let why = reason(
                        ReasonCode::Ambiguous,
                        format!(
                            "{written} in the {field} fails the check digit and is one edit away from {n} \
                             accounts: {}",
                            list.join(", ")
                        ),
                    );
                    considered.accounts.extend(near.into_iter().map(|a| (a, why.clone())));
                    reasons.push(why);
                }
            }
        }
    }
    Ok(())
}

/// Virtual account and RF reference index lookups.
fn indexes<D: MatchSource + ?Sized>(
    payment: &Payment,
    directory: &D,
    out: &mut Candidates,
    reasons: &mut Vec<Reason>,
) -> Result<(), StoreError> {
    if let Some(va) = &payment.references.virtual_account {
        let va = va.expose().trim();
        let found = directory.accounts_by_virtual_account(va)?;
        let label = format!("virtual account {va}");
        index_candidates(found, &label, Kind::VirtualAccount, evidence::VIRTUAL_ACCOUNT, out, reasons);
    }
    // Of the readings of one written reference, those on an account count; the others are
    // chance check-digit matches, unless no reading is on any account.
    for readings in creditor_references(payment) {
        let mut unknown = None;
        let mut any = false;
        for rf in readings {
            let found = directory.accounts_by_creditor_reference(&rf)?;
            let label = format!("RF reference {rf}");
            if found.is_empty() {
                unknown.get_or_insert(label);
                continue;
            }
            any = true;
            index_candidates(
                found,
                &label,
                Kind::CreditorReference,
                evidence::CREDITOR_REFERENCE,
                out,
                reasons,
            );
        }
        if let (false, Some(label)) = (any, unknown) {
            index_candidates(Vec::new(), &label, Kind::CreditorReference, 0, out, reasons);
        }
    }
    Ok(())
}

fn index_candidates(
    found: Vec<Account>,
    label: &str,
    kind: Kind,
    weight: Decibans,
    out: &mut Candidates,
    reasons: &mut Vec<Reason>,
) {
    if found.is_empty() {
        reasons.push(reason(ReasonCode::UnknownAccount, format!("{label} is not on any account")));
    }
    for account in found {
        let reason = reason(
            ReasonCode::AccountReference,
            concat(&[
                label,
                " belongs to account ",
                &account.card.masked(),
                " [",
                weight_text(weight, &mut [0; 24]),
                "]",
            ]),
        );
        out.add(account, kind, weight, reason);
    }
}

/// Valid RF references, each written reference with its valid readings: the structured one,
/// and any in free text, written whole (`RF18539007547034`) or in the printed groups of four
/// (`RF18 5390 0754 7034`, which may read validly at more than one length).
fn creditor_references(payment: &Payment) -> Vec<Vec<CreditorReference>> {
    let refs = &payment.references;
    let structured = refs.creditor_reference.iter().map(|t| vec![t.expose().to_string()]);
    let written = refs.remittance.iter().flat_map(|t| rf_written(t.expose()));
    let mut seen: Vec<CreditorReference> = Vec::new();
    let mut out = Vec::new();
    for readings in structured.chain(written) {
        let valid: Vec<CreditorReference> = readings
            .iter()
            .filter_map(|t| t.parse::<CreditorReference>().ok())
            .filter(|rf| !seen.contains(rf))
            .collect();
        seen.extend(valid.iter().cloned());
        if !valid.is_empty() {
            out.push(valid);
        }
    }
    out
}

/// Every way an RF reference may be written from each `RF` + two digits word of a text: the
/// word joined with the words after it (one separator apart), up to the 25 characters an RF
/// reference can have; one list of readings per starting word.
fn rf_written(text: &str) -> Vec<Vec<String>> {
    let words: Vec<&str> = text.split(|c: char| !c.is_ascii_alphanumeric()).collect();
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let b = w.as_bytes();
        if b.len() < 4 || !b[..2].eq_ignore_ascii_case(b"RF") || !b[2..4].iter().all(u8::is_ascii_digit) {
            continue;
        }
        let mut readings = Vec::new();
        let mut joined = String::new();
        for next in &words[i..] {
            if next.is_empty() || joined.len() + next.len() > 25 {
                break;
            }
            joined.push_str(next);
            if joined.len() > 4 {
                readings.push(joined.clone());
            }
        }
        out.push(readings);
    }
    out
}

/// Five-digit groups standing alone after a mask or words saying they are the card's last
/// digits: "ending 10005", "XXXX XXXXXX 10005", "****10005", "last 5: 10005".
fn last_five_written(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for chain in chains(text) {
        let [g] = chain.as_slice() else { continue };
        if g.end - g.start != 5 {
            continue;
        }
        if text.as_bytes().get(g.end).is_some_and(u8::is_ascii_alphanumeric) {
            continue;
        }
        let from = text[..g.start].char_indices().rev().nth(19).map_or(0, |(i, _)| i);
        let before = text[from..g.start].to_ascii_lowercase();
        let masked = before.contains("xxxx")
            || before.contains("****")
            || before.contains("xx-")
            || before.ends_with('x');
        let worded = before.contains("ending") || before.contains("ends") || before.contains("last");
        if masked || worded {
            out.push(&text[g.start..g.end]);
        }
    }
    out
}

/// Partial numbers: the last five digits, kept only for accounts whose holder name agrees.
fn last_digits<D: MatchSource + ?Sized>(
    payment: &Payment,
    directory: &D,
    payer: Option<&NormalName>,
    out: &mut Candidates,
    considered: &mut Considered,
) -> Result<(), StoreError> {
    let Some(payer) = payer else { return Ok(()) };
    let mut seen: Vec<&str> = Vec::new();
    for (field, text, _) in texts(payment) {
        for last5 in last_five_written(text) {
            if seen.contains(&last5) {
                continue;
            }
            seen.push(last5);
            let payer_initials =
                payer.words().iter().filter(|w| w.len() > 1).fold(0u32, |acc, w| acc | initials(w));
            let needed = payer_initials.count_ones().min(2);
            // The index asks once per distinct holder name, before building any account.
            let mut agreeing: Vec<(String, f64)> = Vec::new();
            let mut keep = |name: &str, holder_initials: u32| {
                if (holder_initials & payer_initials).count_ones() < needed {
                    return false;
                }
                let s = similarity(payer, &NormalName::new(name));
                if s >= 0.85 {
                    agreeing.push((name.to_string(), s));
                }
                s >= 0.85
            };
            let tag = directory.card_key().last_five(payment.market, last5);
            considered.last_five.push(tag);
            let found = directory.accounts_by_last_digits_where(payment.market, &tag, &mut keep)?;
            for account in found {
                let Some(&(_, s)) = agreeing.iter().find(|(n, _)| *n == account.holder_name) else {
                    continue;
                };
                let number = account.card;
                let text = format!(
                    "the last five digits of account {} written in the {field}, holder name agrees ({}) [{}]",
                    account.card.masked(),
                    Hundredths(s),
                    Weight(evidence::LAST_DIGITS)
                );
                out.add(
                    account,
                    Kind::LastDigits,
                    evidence::LAST_DIGITS,
                    reason(ReasonCode::AccountReference, text),
                );
                out.set_similarity(&number, s);
            }
        }
    }
    Ok(())
}

/// Accounts learned for the payer's identities from earlier resolutions (alias memory).
///
/// An identity every resolution taught the same single account is evidence for it. One that
/// has paid two or more accounts (a corporate paying its employees' cards, an aggregator, a
/// payroll provider) is a *shared payer*: it corroborates an account the payment's own
/// references point at, and does nothing else. And no learned payer opposes a reference: when the
/// payment points at accounts itself, aliases of other accounts are left out.
fn aliases<D: MatchSource + ?Sized>(
    ids: &[PayerIdentity],
    directory: &D,
    out: &mut Candidates,
    reasons: &mut Vec<Reason>,
) -> Result<(), StoreError> {
    let mut referenced: Option<Vec<CardRef>> = None;
    for id in ids {
        let learned = directory.aliases_for(&id.key())?;
        if learned.is_empty() {
            continue;
        }
        // Worked out only for a payer alias memory knows (most payers it does not).
        let referenced = referenced
            .get_or_insert_with(|| out.0.iter().filter(|c| c.referenced()).map(|c| c.account.card).collect());
        let shared = learned.len() >= 2;
        let numbers: Vec<CardRef> = learned.iter().map(|a| a.account).collect();
        if shared && !learned.iter().any(|a| referenced.contains(&a.account)) {
            reasons.push(reason(
                ReasonCode::LearnedAlias,
                format!(
                    "{id} has paid {} accounts (a shared payer): it only corroborates a reference the \
                     payment carries, and this one carries none of them [+0.0]",
                    learned.len()
                ),
            ));
            continue;
        }
        if !shared && !referenced.is_empty() && !referenced.contains(&numbers[0]) {
            reasons.push(reason(
                ReasonCode::LearnedAlias,
                format!(
                    "{id} paid account {} before, but the payment's own reference points elsewhere: \
                     a learned payer never opposes a reference [+0.0]",
                    numbers[0].masked()
                ),
            ));
            continue;
        }
        for account in directory.accounts(&numbers)? {
            let Some(alias) = learned.iter().find(|a| a.account == account.card) else { continue };
            let (kind, weight, rule) = if shared {
                if !referenced.contains(&account.card) {
                    continue;
                }
                (Kind::SharedPayer, evidence::SHARED_PAYER, "a shared payer corroborating the reference")
            } else if id.is_account() {
                (Kind::AliasAccount, evidence::ALIAS_ACCOUNT, "the only account it has paid")
            } else {
                (Kind::AliasName, evidence::ALIAS_NAME, "the only account it has paid")
            };
            let text = format!(
                "learned from resolution {} by {} on {}: {id} pays account {} ({rule}) [{}]",
                alias.resolution,
                alias.learned_by,
                alias.learned_at.format("%Y-%m-%d"),
                account.card.masked(),
                Weight(weight)
            );
            out.add(account, kind, weight, reason(ReasonCode::LearnedAlias, text));
        }
    }
    Ok(())
}

/// How many accounts of one holder name the matcher reads: enough to list a few namesakes,
/// and to tell a unique name from a common one.
const NAME_LOOKUP_LIMIT: usize = 6;

/// Candidates from the payer's name alone, for a payment that points at no account: the active
/// accounts of the market whose holder has that name (`names::holder_name_keys`), or, when none
/// is active, the others (their status blocks). Whether one applies is decided by the amount
/// (see `decide`): a name alone never applies.
fn name_candidates<D: MatchSource + ?Sized>(
    payment: &Payment,
    payer: Option<&NormalName>,
    directory: &D,
    out: &mut Candidates,
    reasons: &mut Vec<Reason>,
    considered: &mut Considered,
) -> Result<(), StoreError> {
    let Some(key) = payer.and_then(NormalName::lookup_key) else { return Ok(()) };
    let mut found = directory.accounts_by_holder_name(payment.market, &key, NAME_LOOKUP_LIMIT)?;
    // A full page may hide more namesakes: uniqueness is proven only by a short answer.
    let truncated = found.len() >= NAME_LOOKUP_LIMIT;
    found.retain(|a| a.market == payment.market);
    let active = found.iter().filter(|a| a.status == AccountStatus::Active).count();
    if active >= 2 || (truncated && active >= 1) {
        // Namesakes: a name that is not unique in the market identifies nobody, whatever the
        // amount; the analyst sees who they are (a few, masked) without scoring each.
        let list: Vec<String> = found
            .iter()
            .filter(|a| a.status == AccountStatus::Active)
            .take(5)
            .map(|a| a.card.masked())
            .collect();
        let more = if active > list.len() { ", ..." } else { "" };
        let why = reason(
            ReasonCode::Ambiguous,
            format!(
                "no reference; {active} active accounts in {} have the payer's name: {}{more}",
                payment.market,
                list.join(", ")
            ),
        );
        // Each namesake offered to the analyst, not scored.
        found.retain(|a| a.status == AccountStatus::Active);
        considered.accounts.extend(found.into_iter().map(|a| (a, why.clone())));
        reasons.push(why);
        return Ok(());
    }
    if active == 1 {
        found.retain(|a| a.status == AccountStatus::Active);
    }
    let n = found.len();
    for account in found {
        let text = format!(
            "no reference; the payer's name is the holder's name on {} ({n} account(s) in {} with that \
             name) [+0.0]",
            account.card.masked(),
            payment.market
        );
        out.add(account, Kind::NameIndex, 0, reason(ReasonCode::AccountReference, text));
    }
    Ok(())
}

/// Adds name and amount evidence to a candidate and sums its weight.
fn score(c: &mut Candidate, payment: &Payment, payer: Option<&NormalName>, on_behalf: Option<&NormalName>) {
    let both = payer.is_some() && on_behalf.is_some();
    if let Some(payer) = payer.or(on_behalf) {
        let holder = || NormalName::new(&c.account.holder_name);
        let mut s = c.similarity.unwrap_or_else(|| similarity(payer, &holder()));
        let mut whose = "payer name ";
        // The name of whom the payment is for counts when it agrees better than the payer's.
        if let Some(ultimate) = on_behalf.filter(|_| both && s < 0.95) {
            let u = similarity(ultimate, &holder());
            if u > s {
                (s, whose) = (u, "ultimate debtor's name ");
            }
        }
        let (w, how) = if s >= 0.95 {
            (evidence::NAME_STRONG, "agrees with")
        } else if s >= 0.85 {
            (evidence::NAME_GOOD, "agrees (initials or a missing name) with")
        } else if s >= 0.7 {
            (evidence::NAME_WEAK, "partly agrees with")
        } else if s >= 0.45 {
            (evidence::NAME_DOUBTFUL, "differs in part from")
        } else {
            (evidence::NAME_DIFFERENT, "differs from")
        };
        // A payer an analyst tied to this account may be someone else paying for the holder.
        let known_payer = c.has(Kind::AliasAccount) || c.has(Kind::AliasName) || c.has(Kind::SharedPayer);
        let w = if known_payer && w < 0 { 0 } else { w };
        let text = concat(&[
            whose,
            how,
            " the holder's name on ",
            &c.account.card.masked(),
            " (similarity ",
            hundredths_text(s, &mut [0; 24]),
            ") [",
            weight_text(w, &mut [0; 24]),
            "]",
        ]);
        c.reasons.push(reason(ReasonCode::NameEvidence, text));
        c.weight += w;
    }
    let amount = payment.amount.amount();
    let a = &c.account;
    let balance = [("statement balance", a.statement_balance), ("current balance", a.current_balance)]
        .into_iter()
        .find(|(_, v)| *v > Decimal::ZERO && *v == amount);
    let amount_w = if let Some((what, _)) = balance {
        Some((evidence::AMOUNT_EQUALS_BALANCE, what))
    } else if a.minimum_due > Decimal::ZERO && a.minimum_due == amount {
        Some((evidence::AMOUNT_EQUALS_MINIMUM, "minimum due"))
    } else {
        None
    };
    if let Some((w, what)) = amount_w {
        c.amount_agrees = true;
        c.reasons.push(reason(
            ReasonCode::AmountEvidence,
            format!("amount {} equals the {what} of {} [{}]", payment.amount, a.card.masked(), Weight(w)),
        ));
        c.weight += w;
    }
    c.weight += c.kinds.iter().map(|(_, w)| w).sum::<Decibans>();
}

/// Accounts the matcher looked at without finding evidence for them, kept only to show the
/// analyst (issue 16): nothing here weighs in a decision.
#[derive(Default)]
struct Considered {
    /// Each with the reason it is not evidence (a typo one edit from several accounts).
    accounts: Vec<(Account, Reason)>,
    /// The last-five tags looked up: their cards whose holder is not the payer are listed too.
    last_five: Vec<crate::model::card::LastFive>,
}

impl Considered {
    /// `ranked` (the scored candidates) followed by the accounts considered that it does not
    /// hold, at most `MAX_CANDIDATES` in all. The last-five index is read again only here, for a
    /// payment already going to research, and builds the accounts of at most that many holders.
    fn listed<D: MatchSource + ?Sized>(
        self,
        mut ranked: Vec<crate::model::decision::Candidate>,
        payment: &Payment,
        directory: &D,
    ) -> Result<Vec<crate::model::decision::Candidate>, StoreError> {
        let max = crate::model::decision::MAX_CANDIDATES;
        let push = |ranked: &mut Vec<crate::model::decision::Candidate>, account: CardRef, why: Reason| {
            if ranked.len() < max && !ranked.iter().any(|c| c.account == account) {
                ranked.push(crate::model::decision::Candidate {
                    account,
                    confidence: 0.0,
                    evidence: Vec::new(),
                    not_applied: why,
                });
            }
        };
        for (account, why) in self.accounts {
            push(&mut ranked, account.card, why);
        }
        for tag in &self.last_five {
            if ranked.len() >= max {
                break;
            }
            // At most `max` holders' accounts built: a large directory has dozens of cards per
            // market ending in any five digits, and the analyst's search pages through them all.
            let mut names = 0usize;
            let mut first_names = |_: &str, _: u32| {
                names += 1;
                names <= max
            };
            for account in directory.accounts_by_last_digits_where(payment.market, tag, &mut first_names)? {
                let why = reason(
                    ReasonCode::InsufficientEvidence,
                    format!(
                        "{} ends in the last five digits written, but its holder's name does not agree with \
                         the payer's",
                        account.card.masked()
                    ),
                );
                push(&mut ranked, account.card, why);
            }
        }
        Ok(ranked)
    }
}

/// The accounts considered for a payment sent to research, best first, as the analyst's
/// workbench shows them (issue 16): each one's confidence among all, its own evidence, and what
/// kept it from being applied: the decision's blocker for the best, `blocker` for a rival (an
/// ambiguity), an account's own blocker (closed, blocked, currency...), else less evidence than
/// the best. Only research pays for this: an applied payment carries no candidates.
fn ranked(
    candidates: &[Candidate],
    odds_of_all: f64,
    payment: &Payment,
    policy: &MatchPolicy,
    blocker: &Reason,
    rivals: &[CardRef],
) -> Vec<crate::model::decision::Candidate> {
    let Some(best) = candidates.first() else { return Vec::new() };
    candidates
        .iter()
        .take(crate::model::decision::MAX_CANDIDATES)
        .enumerate()
        .map(|(i, c)| {
            let not_applied = if i == 0 || rivals.contains(&c.account.card) {
                blocker.clone()
            } else {
                blockers(payment, &c.account, policy).into_iter().next().unwrap_or_else(|| {
                    reason(
                        ReasonCode::LowConfidence,
                        format!(
                            "less evidence than {} (weight {} against {})",
                            best.account.card.masked(),
                            Weight(c.weight),
                            Weight(best.weight)
                        ),
                    )
                })
            };
            crate::model::decision::Candidate {
                account: c.account.card,
                confidence: round(odds(c.weight) / (1.0 + odds_of_all)),
                evidence: c.reasons.clone(),
                not_applied,
            }
        })
        .collect()
}

/// Reasons that always send a matched payment to research.
fn blockers(payment: &Payment, account: &Account, policy: &MatchPolicy) -> Vec<Reason> {
    let mut out = Vec::new();
    let n = || account.card.masked();
    match account.status {
        AccountStatus::Active => {}
        AccountStatus::Closed => {
            out.push(reason(ReasonCode::AccountClosed, format!("account {} is closed", n())))
        }
        AccountStatus::Blocked => {
            out.push(reason(ReasonCode::AccountBlocked, format!("account {} is blocked", n())))
        }
    }
    if account.currency != payment.amount.currency() {
        out.push(reason(
            ReasonCode::CurrencyMismatch,
            format!(
                "payment in {} but account {} is in {}",
                payment.amount.currency().code(),
                n(),
                account.currency.code()
            ),
        ));
    }
    if account.market != payment.market {
        out.push(reason(
            ReasonCode::MarketMismatch,
            format!("account {} belongs to market {}, payment to {}", n(), account.market, payment.market),
        ));
    }
    let ceiling = policy.amount_ceilings.get(payment.market);
    if payment.amount.amount() > ceiling {
        out.push(reason(
            ReasonCode::AmountAboveCeiling,
            format!(
                "amount {} above the {} ceiling for automatic application ({ceiling})",
                payment.amount, payment.market
            ),
        ));
    }
    if payment.direction == Direction::Debit {
        out.push(reason(ReasonCode::Debit, "a debit, not a payment to a card account"));
    }
    if payment.reversal {
        out.push(reason(ReasonCode::Reversal, "a reversal: needs the original posting found"));
    }
    for w in &payment.warnings {
        out.push(reason(ReasonCode::FileWarning, w.clone()));
    }
    out
}

/// The same payer, amount and currency within the window under another payment key.
fn duplicate_suspicion<D: MatchSource + ?Sized>(
    payment: &Payment,
    ids: &[PayerIdentity],
    directory: &D,
    policy: &MatchPolicy,
) -> Result<Option<Reason>, StoreError> {
    let Some(fingerprint) = duplicate_fingerprint_of(payment, ids) else { return Ok(None) };
    let window = Duration::days(policy.duplicate_window_days);
    let (from, to) = (payment.value_date - window, payment.value_date + window);
    let mut others = directory.similar_payments(&fingerprint, from, to)?;
    if !others.is_empty() {
        let key = payment.key();
        others.retain(|p| p.payment_key != key);
    }
    let Some(first) = others.first() else { return Ok(None) };
    let who = ids.first().map(|i| i.to_string()).unwrap_or_default();
    let reference = if first.bank_ref == payment.bank_ref {
        "the same bank reference (another file)".to_string()
    } else {
        format!("bank reference {}", first.bank_ref)
    };
    Ok(Some(reason(
        ReasonCode::DuplicateSuspected,
        format!(
            "{who} paid {} with value date {} under {reference}; {} similar payment(s) within {} days",
            payment.amount,
            first.value_date,
            others.len(),
            policy.duplicate_window_days
        ),
    )))
}

#[cfg(test)]
mod tests;
