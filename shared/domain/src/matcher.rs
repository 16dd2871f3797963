//! Matcher v1: finds the card account a payment is for from the references it carries, checks
//! the account can take it, and decides apply or research, with a confidence and reasons.

use crate::account::{Account, AccountStatus};
use crate::decision::{Decision, Outcome, Reason, ReasonCode};
use crate::identifiers::{AccountNumber, CreditorReference};
use crate::masking::RefText;
use crate::payment::{Direction, Market, Payment, PerMarket};
use crate::ports::{AccountDirectory, StoreError};

/// Per-market thresholds: a candidate applies only at or above its market's confidence.
#[derive(Clone, Debug)]
pub struct MatchPolicy {
    pub thresholds: PerMarket<f64>,
}

impl Default for MatchPolicy {
    fn default() -> Self {
        Self { thresholds: PerMarket { ca: 0.9, india: 0.9, eu: 0.9 } }
    }
}

impl MatchPolicy {
    pub fn threshold(&self, market: Market) -> f64 {
        self.thresholds.get(market)
    }
}

/// How strongly one kind of evidence identifies an account.
mod evidence {
    /// A valid account number in a structured reference field the payer filled for us.
    pub const NUMBER_STRUCTURED: f64 = 0.99;
    /// A valid account number somewhere in free text.
    pub const NUMBER_FREE_TEXT: f64 = 0.95;
    /// The virtual account the bank credited: issued by us to one payer.
    pub const VIRTUAL_ACCOUNT: f64 = 0.99;
    /// A check-digit-valid RF creditor reference we printed on the statement.
    pub const CREDITOR_REFERENCE: f64 = 0.99;
}

struct Candidate {
    account: Account,
    confidence: f64,
    reason: Reason,
}

/// Decides what to do with one payment. Reads the directory by key and index only.
pub fn decide<D: AccountDirectory + ?Sized>(
    payment: &Payment,
    directory: &D,
    policy: &MatchPolicy,
) -> Result<Decision, StoreError> {
    if let Some(status) = status_not_booked(payment) {
        return Ok(Decision {
            outcome: Outcome::Rejected,
            account: None,
            confidence: 0.0,
            reasons: vec![Reason::new(
                ReasonCode::NotBooked,
                format!("bank status {status}: not booked, nothing to post"),
            )],
        });
    }

    let mut reasons = Vec::new();
    let candidates = candidates(payment, directory, &mut reasons)?;

    let mut distinct: Vec<&Candidate> = Vec::new();
    for c in &candidates {
        match distinct.iter_mut().find(|d| d.account.number == c.account.number) {
            Some(d) if d.confidence < c.confidence => *d = c,
            Some(_) => {}
            None => distinct.push(c),
        }
    }
    for c in &candidates {
        reasons.push(c.reason.clone());
    }

    let best = match distinct.as_slice() {
        [] => {
            if !reasons.iter().any(|r| r.code == ReasonCode::UnknownAccount) {
                reasons.push(Reason::new(
                    ReasonCode::NoReference,
                    "no account number, virtual account or RF reference in the payment",
                ));
            }
            return Ok(research(None, 0.0, reasons));
        }
        [one] => *one,
        many => {
            let list: Vec<String> = many.iter().map(|c| c.account.number.masked()).collect();
            reasons.push(Reason::new(
                ReasonCode::Ambiguous,
                format!("references point to {} accounts: {}", many.len(), list.join(", ")),
            ));
            return Ok(research(None, 0.0, reasons));
        }
    };

    let account = &best.account;
    let confidence = best.confidence;
    reasons.extend(blockers(payment, account));
    let threshold = policy.threshold(payment.market);
    if confidence < threshold {
        reasons.push(Reason::new(
            ReasonCode::LowConfidence,
            format!("confidence {confidence:.2} below the {} threshold {threshold:.2}", payment.market),
        ));
    }
    // An unknown account number beside a known one is conflicting evidence: it blocks too.
    let blocked = reasons.iter().any(Reason::blocks);
    if blocked {
        return Ok(research(Some(account.number.clone()), confidence, reasons));
    }
    Ok(Decision { outcome: Outcome::Applied, account: Some(account.number.clone()), confidence, reasons })
}

fn research(account: Option<AccountNumber>, confidence: f64, reasons: Vec<Reason>) -> Decision {
    Decision { outcome: Outcome::Research, account, confidence, reasons }
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

/// Every account the payment's references point to, with how strongly.
fn candidates<D: AccountDirectory + ?Sized>(
    payment: &Payment,
    directory: &D,
    reasons: &mut Vec<Reason>,
) -> Result<Vec<Candidate>, StoreError> {
    let mut out = Vec::new();
    let refs = &payment.references;

    let structured: Vec<(&str, &RefText)> = [
        ("cross-reference", refs.cross_reference.as_ref()),
        ("end-to-end id", refs.end_to_end_id.as_ref()),
        ("creditor reference", refs.creditor_reference.as_ref()),
    ]
    .into_iter()
    .filter_map(|(n, t)| t.map(|t| (n, t)))
    .collect();
    let free = refs
        .remittance
        .iter()
        .map(|t| ("remittance text", t))
        .chain(refs.other.iter().map(|(k, v)| (k.as_ref(), v)));

    let texts = structured
        .iter()
        .map(|&(n, t)| (n, t, evidence::NUMBER_STRUCTURED))
        .chain(free.map(|(n, t)| (n, t, evidence::NUMBER_FREE_TEXT)));
    for (field, text, weight) in texts {
        for number in AccountNumber::find_all(text.expose()) {
            match directory.account(&number)? {
                Some(account) => out.push(Candidate {
                    reason: Reason::new(
                        ReasonCode::AccountReference,
                        format!("account {} written in the {field}", number.masked()),
                    ),
                    account,
                    confidence: weight,
                }),
                None => reasons.push(Reason::new(
                    ReasonCode::UnknownAccount,
                    format!("account number {} in the {field} is not in the directory", number.masked()),
                )),
            }
        }
    }

    if let Some(va) = &refs.virtual_account {
        let va = va.expose().trim();
        let found = directory.accounts_by_virtual_account(va)?;
        let label = format!("virtual account {va}");
        index_candidates(found, &label, evidence::VIRTUAL_ACCOUNT, &mut out, reasons);
    }
    for rf in creditor_references(payment) {
        let found = directory.accounts_by_creditor_reference(&rf)?;
        let label = format!("RF reference {rf}");
        index_candidates(found, &label, evidence::CREDITOR_REFERENCE, &mut out, reasons);
    }
    Ok(out)
}

/// Turns the accounts an index lookup found for a reference (`label`) into candidates, or into
/// an unknown-account reason when it found none.
fn index_candidates(
    found: Vec<Account>,
    label: &str,
    confidence: f64,
    out: &mut Vec<Candidate>,
    reasons: &mut Vec<Reason>,
) {
    if found.is_empty() {
        reasons.push(Reason::new(ReasonCode::UnknownAccount, format!("{label} is not on any account")));
    }
    for account in found {
        let reason = Reason::new(
            ReasonCode::AccountReference,
            format!("{label} belongs to account {}", account.number.masked()),
        );
        out.push(Candidate { reason, account, confidence });
    }
}

/// Valid RF references: the structured one, and any `RF..` token in free text.
fn creditor_references(payment: &Payment) -> Vec<CreditorReference> {
    let mut out: Vec<CreditorReference> = Vec::new();
    let refs = &payment.references;
    let structured = refs.creditor_reference.iter().map(|t| t.expose().to_string());
    let tokens = refs.remittance.iter().flat_map(|t| {
        t.expose()
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| w.len() > 4 && w[..2].eq_ignore_ascii_case("RF"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    });
    for text in structured.chain(tokens) {
        if let Ok(rf) = text.parse::<CreditorReference>() {
            if !out.contains(&rf) {
                out.push(rf);
            }
        }
    }
    out
}

/// Reasons that always send a matched payment to research.
fn blockers(payment: &Payment, account: &Account) -> Vec<Reason> {
    let mut out = Vec::new();
    let n = account.number.masked();
    match account.status {
        AccountStatus::Active => {}
        AccountStatus::Closed => {
            out.push(Reason::new(ReasonCode::AccountClosed, format!("account {n} is closed")))
        }
        AccountStatus::Blocked => {
            out.push(Reason::new(ReasonCode::AccountBlocked, format!("account {n} is blocked")))
        }
    }
    if account.currency != payment.amount.currency() {
        out.push(Reason::new(
            ReasonCode::CurrencyMismatch,
            format!(
                "payment in {} but account {n} is in {}",
                payment.amount.currency().code(),
                account.currency.code()
            ),
        ));
    }
    if account.market != payment.market {
        out.push(Reason::new(
            ReasonCode::MarketMismatch,
            format!("account {n} belongs to market {}, payment to {}", account.market, payment.market),
        ));
    }
    if payment.direction == Direction::Debit {
        out.push(Reason::new(ReasonCode::Debit, "a debit, not a payment to a card account"));
    }
    if payment.reversal {
        out.push(Reason::new(ReasonCode::Reversal, "a reversal: needs the original posting found"));
    }
    for w in &payment.warnings {
        out.push(Reason::new(ReasonCode::FileWarning, w.clone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use rust_decimal::Decimal;

    use super::*;
    use crate::money::{Currency, Money};
    use crate::payment::References;
    use crate::RefText;

    #[derive(Default)]
    struct Directory(HashMap<String, Account>);

    impl AccountDirectory for Directory {
        fn put_account(&self, _: &Account) -> Result<(), StoreError> {
            unreachable!()
        }
        fn account(&self, n: &AccountNumber) -> Result<Option<Account>, StoreError> {
            Ok(self.0.get(n.expose()).cloned())
        }
        fn accounts_by_virtual_account(&self, va: &str) -> Result<Vec<Account>, StoreError> {
            Ok(self.0.values().filter(|a| a.virtual_account.as_deref() == Some(va)).cloned().collect())
        }
        fn accounts_by_creditor_reference(&self, rf: &CreditorReference) -> Result<Vec<Account>, StoreError> {
            Ok(self.0.values().filter(|a| a.creditor_reference.as_ref() == Some(rf)).cloned().collect())
        }
    }

    fn acct(n: &str, market: Market, cur: Currency, status: AccountStatus) -> Account {
        Account {
            number: n.parse().unwrap(),
            market,
            currency: cur,
            holder_name: "X".into(),
            status,
            statement_balance: Decimal::ZERO,
            minimum_due: Decimal::ZERO,
            current_balance: Decimal::ZERO,
            virtual_account: None,
            creditor_reference: None,
            control_account: None,
        }
    }

    fn dir() -> Directory {
        let mut d = Directory::default();
        for a in [
            acct("378282246310005", Market::CA, Currency::CAD, AccountStatus::Active),
            acct("371449635398431", Market::CA, Currency::CAD, AccountStatus::Active),
            acct("378734493671000", Market::CA, Currency::CAD, AccountStatus::Blocked),
        ] {
            d.0.insert(a.number.expose().to_string(), a);
        }
        let mut va = acct("343194875749118", Market::IN, Currency::INR, AccountStatus::Active);
        va.virtual_account = Some("AMEX0100012345".into());
        d.0.insert(va.number.expose().to_string(), va);
        let mut rf = acct("346671276842680", Market::EU, Currency::EUR, AccountStatus::Active);
        rf.creditor_reference = Some("RF06AMX4412001".parse().unwrap());
        d.0.insert(rf.number.expose().to_string(), rf);
        d
    }

    fn pay(market: Market, cur: Currency, refs: References) -> Payment {
        crate::payment::sample(market, Money::from_minor(1000, cur), refs)
    }

    fn cross(text: &str) -> References {
        References { cross_reference: Some(RefText::new(text)), ..References::default() }
    }

    fn decide_ca(text: &str) -> Decision {
        decide(&pay(Market::CA, Currency::CAD, cross(text)), &dir(), &MatchPolicy::default()).unwrap()
    }

    #[test]
    fn applies_a_formatted_number_in_the_cross_reference() {
        let d = decide_ca("3782 822463 10005");
        assert_eq!(d.outcome, Outcome::Applied);
        assert!(d.confidence >= 0.9);
        assert!(d.reasons[0].text.contains("***********0005"), "{:?}", d.reasons);
    }

    #[test]
    fn free_text_numbers_apply_too() {
        let refs = References {
            remittance: vec![RefText::new("card no. 3782-822463-10005 nov")],
            ..References::default()
        };
        let d = decide(&pay(Market::CA, Currency::CAD, refs), &dir(), &MatchPolicy::default()).unwrap();
        assert_eq!(d.outcome, Outcome::Applied);
    }

    #[test]
    fn two_accounts_are_ambiguous() {
        let d = decide_ca("378282246310005 / 371449635398431");
        assert_eq!(d.outcome, Outcome::Research);
        assert!(d.reasons.iter().any(|r| r.code == ReasonCode::Ambiguous));
        assert!(d.account.is_none());
    }

    #[test]
    fn blocked_unknown_and_missing_go_to_research() {
        assert_eq!(decide_ca("378734493671000").blocker().unwrap().code, ReasonCode::AccountBlocked);
        assert_eq!(decide_ca("340000000000009").blocker().unwrap().code, ReasonCode::UnknownAccount);
        assert_eq!(decide_ca("INV 2026-11").blocker().unwrap().code, ReasonCode::NoReference);
        assert_eq!(
            decide_ca("378282246310006").blocker().unwrap().code,
            ReasonCode::NoReference,
            "Luhn-invalid is no number"
        );
    }

    #[test]
    fn currency_and_direction_block() {
        let p = pay(Market::CA, Currency::USD, cross("378282246310005"));
        assert_eq!(
            decide(&p, &dir(), &MatchPolicy::default()).unwrap().blocker().unwrap().code,
            ReasonCode::CurrencyMismatch
        );
        let mut p = pay(Market::CA, Currency::CAD, cross("378282246310005"));
        p.direction = Direction::Debit;
        assert_eq!(
            decide(&p, &dir(), &MatchPolicy::default()).unwrap().blocker().unwrap().code,
            ReasonCode::Debit
        );
        let mut p = pay(Market::CA, Currency::CAD, cross("378282246310005"));
        p.warnings.push("batch total disagrees".into());
        assert_eq!(decide(&p, &dir(), &MatchPolicy::default()).unwrap().outcome, Outcome::Research);
    }

    #[test]
    fn virtual_account_and_rf_reference() {
        let refs =
            References { virtual_account: Some(RefText::new("AMEX0100012345")), ..References::default() };
        let d = decide(&pay(Market::IN, Currency::INR, refs), &dir(), &MatchPolicy::default()).unwrap();
        assert_eq!(d.outcome, Outcome::Applied);
        let refs = References {
            creditor_reference: Some(RefText::new("RF06 AMX4 4120 01")),
            ..References::default()
        };
        let d = decide(&pay(Market::EU, Currency::EUR, refs), &dir(), &MatchPolicy::default()).unwrap();
        assert_eq!(d.outcome, Outcome::Applied, "{:?}", d.reasons);
        let refs = References {
            remittance: vec![RefText::new("Payment RF06AMX4412001 thanks")],
            ..References::default()
        };
        let d = decide(&pay(Market::EU, Currency::EUR, refs), &dir(), &MatchPolicy::default()).unwrap();
        assert_eq!(d.outcome, Outcome::Applied);
    }

    #[test]
    fn not_booked_is_rejected() {
        let mut refs = cross("378282246310005");
        refs.other.push(("status".into(), RefText::new("PDNG")));
        let d = decide(&pay(Market::CA, Currency::CAD, refs), &dir(), &MatchPolicy::default()).unwrap();
        assert_eq!(d.outcome, Outcome::Rejected);
    }

    #[test]
    fn a_market_threshold_above_the_evidence_sends_to_research() {
        let policy = MatchPolicy { thresholds: PerMarket { ca: 0.995, ..MatchPolicy::default().thresholds } };
        let d = decide(&pay(Market::CA, Currency::CAD, cross("378282246310005")), &dir(), &policy).unwrap();
        assert_eq!(d.blocker().unwrap().code, ReasonCode::LowConfidence);
    }
}
