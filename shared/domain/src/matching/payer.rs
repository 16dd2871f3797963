//! Who paid: the payer identities a payment carries (account, then name), as keys for alias
//! memory and for duplicate suspicion.

use std::fmt;
use std::fmt::Write;

use crate::model::payment::{Direction, PayerAccount, Payment};
use crate::text::names::NormalName;

/// One way of recognising a payer again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayerIdentity {
    /// The payer's bank account (IBAN, Canadian institution-transit-account, Indian remitter
    /// account): specific to one payer.
    Account(String),
    /// The payer's name, normalised (accents, order, titles): shared by namesakes.
    Name(String),
}

impl PayerIdentity {
    /// The store key: `acct:<market>:<account>` or `name:<market>:<normalised name>`.
    pub fn key(&self) -> String {
        let mut out = String::new();
        self.push_key(&mut out);
        out
    }

    /// Appends `key` to `out`.
    fn push_key(&self, out: &mut String) {
        let (prefix, k) = match self {
            PayerIdentity::Account(k) => ("acct:", k),
            PayerIdentity::Name(k) => ("name:", k),
        };
        out.reserve(prefix.len() + k.len());
        out.push_str(prefix);
        out.push_str(k);
    }

    pub fn is_account(&self) -> bool {
        matches!(self, PayerIdentity::Account(_))
    }
}

impl fmt::Display for PayerIdentity {
    /// For reasons: "payer account DE89..." or "payer name jean tremblay" (cards masked by Reason).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PayerIdentity::Account(k) => {
                write!(f, "payer account {}", k.split_once(':').map_or(&**k, |x| x.1))
            }
            PayerIdentity::Name(k) => write!(f, "payer name \"{}\"", k.split_once(':').map_or(&**k, |x| x.1)),
        }
    }
}

/// The payer's account as a stable key: upper-case, no spaces or dashes.
fn account_key(a: &PayerAccount) -> Option<String> {
    let raw = match a {
        PayerAccount::Iban(i) => i.as_str().to_string(),
        PayerAccount::Canadian { institution, transit, account } => {
            format!("{}-{}-{}", institution.trim(), transit.trim(), compact(account))
        }
        PayerAccount::Remitter { account, ifsc } => match ifsc {
            Some(i) => format!("{}@{}", compact(account), i),
            None => compact(account),
        },
        PayerAccount::Other(s) => compact(s),
    };
    let digits_or_letters = raw.bytes().filter(u8::is_ascii_alphanumeric).count();
    (digits_or_letters >= 4).then_some(raw)
}

fn compact(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect()
}

/// The payer identities of a payment, most specific first: the account, then the name.
pub fn identities(payment: &Payment) -> Vec<PayerIdentity> {
    let name = payment.payer_name.as_deref().map(NormalName::new);
    identities_with(payment, name.as_ref())
}

/// `identities` with the payer's name already normalised (the matcher has it).
pub fn identities_with(payment: &Payment, name: Option<&NormalName>) -> Vec<PayerIdentity> {
    let market = payment.market.code();
    let mut out = Vec::with_capacity(2);
    if let Some(k) = payment.payer_account.as_ref().and_then(account_key) {
        out.push(PayerIdentity::Account(format!("{market}:{k}")));
    }
    if let Some(n) = name {
        if !n.is_empty() {
            let mut k = String::with_capacity(market.len() + 1 + 32);
            k.push_str(market);
            k.push(':');
            n.push_key(&mut k);
            out.push(PayerIdentity::Name(k));
        }
    }
    out
}

/// The key under which duplicate suspicion looks for the same payer paying the same amount:
/// market, the most specific payer identity, amount and currency. Credits only; `None` when
/// the payment names no payer.
pub fn duplicate_fingerprint(payment: &Payment) -> Option<String> {
    duplicate_fingerprint_of(payment, &identities(payment))
}

/// `duplicate_fingerprint` from identities already worked out.
pub fn duplicate_fingerprint_of(payment: &Payment, identities: &[PayerIdentity]) -> Option<String> {
    if payment.direction != Direction::Credit || payment.reversal {
        return None;
    }
    let who = identities.first()?;
    let mut key = String::with_capacity(80);
    who.push_key(&mut key);
    key.push('|');
    // Writing into a String cannot fail.
    let _ = write!(key, "{}", payment.amount.amount().normalize());
    key.push('|');
    key.push_str(payment.amount.currency().code());
    if let Some(target) = target_hint(payment) {
        // One payer paying the same amount to two cards (a corporate's allowances) is two
        // payments, not one sent twice.
        key.push_str("|for:");
        key.push_str(&target);
    }
    Some(key)
}

/// The account a payment's own references point at, truncated to its last four characters
/// (fingerprints are stored; last four is what may be shown of a card number, and a rare
/// collision only costs a false suspicion): its virtual account, RF reference, or the first
/// 15-digit number written in its references.
fn target_hint(payment: &Payment) -> Option<String> {
    let refs = &payment.references;
    let written = || {
        refs.cross_reference
            .iter()
            .chain(refs.end_to_end_id.iter())
            .chain(refs.remittance.iter())
            .find_map(|t| fifteen_digits(t.expose()))
    };
    let target = refs
        .virtual_account
        .as_ref()
        .map(|v| compact(v.expose()))
        .or_else(|| refs.creditor_reference.as_ref().map(|r| compact(r.expose())))
        .or_else(written)
        .filter(|t| t.len() >= 4)?;
    Some(target[target.len() - 4..].to_string())
}

/// The first run of exactly 15 digits in `text`, spaces, dashes and dots between groups ignored.
fn fifteen_digits(text: &str) -> Option<String> {
    // Byte by byte (a non-ASCII character's bytes all end a run, as the character would), the
    // run's first 15 digits kept: a String only for a run of exactly 15.
    let mut run = [0u8; 15];
    let mut len = 0usize;
    let mut pending_sep = false;
    let found = |run: &[u8; 15], len: usize| {
        (len == 15).then(|| std::str::from_utf8(run).expect("ASCII digits").to_string())
    };
    for b in text.bytes().chain(std::iter::once(b'#')) {
        if b.is_ascii_digit() {
            if len < 15 {
                run[len] = b;
            }
            len += 1;
            pending_sep = false;
        } else if matches!(b, b' ' | b'-' | b'.') && len > 0 && !pending_sep {
            if let Some(t) = found(&run, len) {
                return Some(t);
            }
            pending_sep = true;
        } else {
            if let Some(t) = found(&run, len) {
                return Some(t);
            }
            len = 0;
            pending_sep = false;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::money::{Currency, Money};
    use crate::model::payment::{sample, Market, References};

    #[test]
    fn identities_account_first_then_name() {
        let mut p = sample(Market::EU, Money::from_minor(100, Currency::EUR), References::default());
        assert!(identities(&p).is_empty());
        assert_eq!(duplicate_fingerprint(&p), None);
        p.payer_name = Some("Mme Sophie MÜLLER".into());
        p.payer_account = Some(PayerAccount::Iban("DE89 3704 0044 0532 0130 00".parse().unwrap()));
        let ids = identities(&p);
        assert_eq!(ids[0].key(), "acct:EU:DE89370400440532013000");
        assert_eq!(ids[1].key(), "name:EU:muller sophie");
        assert_eq!(duplicate_fingerprint(&p).unwrap(), "acct:EU:DE89370400440532013000|1|EUR");
    }

    #[test]
    fn one_payer_paying_two_cards_the_same_amount_is_two_fingerprints() {
        let mut p = sample(Market::CA, Money::from_minor(50_000, Currency::CAD), References::default());
        p.payer_name = Some("Gagnon Holdings Inc".into());
        let mut q = p.clone();
        p.references.cross_reference = Some("3782 822463 10005".into());
        q.references.cross_reference = Some("371449635398431".into());
        let (fp, fq) = (duplicate_fingerprint(&p).unwrap(), duplicate_fingerprint(&q).unwrap());
        assert_ne!(fp, fq);
        assert!(!fp.contains("10005"), "no card number in a stored key: {fp}");
        let mut again = p.clone();
        again.references.cross_reference = Some("378282246310005".into());
        assert_eq!(duplicate_fingerprint(&again).unwrap(), fp, "the same card written otherwise");
    }
}
