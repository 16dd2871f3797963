//! Our own identities: the names, bank accounts, originator ids and virtual-account prefixes by
//! which files name *us*. A payment field holding one of them names the payee, not the payer: it
//! is never payer evidence, never learned by alias memory and never a duplicate-suspicion key.
//!
//! Also where files we originate are recognised: a Canadian pre-authorized debit (PAD) file under
//! one of our originator ids holds collections from cardmembers, posted to the cross-referenced
//! card when `collect_debits` is on, and its returned debits (`J`) are rejected direct debits.

use std::borrow::Cow;

use serde::Deserialize;

use crate::model::decision::{Reason, ReasonCode};
use crate::model::payment::{Direction, Market, PayerAccount, Payment, SourceFormat, RECORD_TYPE};
use crate::text::names::NormalName;

/// One market's own identities (`[own.CA]`, `[own.IN]`, `[own.EU]` in `config/remit.toml`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OwnIdentities {
    /// Our names as banks print them. A payer name is ours when it holds every word of one of
    /// these (accents, case, order and titles aside): "AMERICAN EXPRESS CANADA" holds
    /// "American Express".
    pub names: Vec<String>,
    /// Our bank accounts: IBANs, Canadian `institution-transit-account`, Indian account numbers
    /// (spaces and dashes ignored).
    pub accounts: Vec<String>,
    /// Prefixes of the virtual accounts we issue (India): a payer account starting with one is ours.
    pub virtual_account_prefixes: Vec<String>,
    /// CPA-005 originator ids (A header 11-20) of the files we send, e.g. PAD collections.
    pub originator_ids: Vec<String>,
    /// Debits (`D`) in a CPA-005 file under one of `originator_ids` are collections from the
    /// cross-referenced card's holder, to post; their returns (`J`) reverse the collection once
    /// and open a "rejected direct debit" research item. Off: such debits go to research.
    pub collect_debits: bool,
}

/// Our identities in every market.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OwnPolicy {
    #[serde(rename = "CA")]
    pub ca: OwnIdentities,
    #[serde(rename = "IN")]
    pub india: OwnIdentities,
    #[serde(rename = "EU")]
    pub eu: OwnIdentities,
}

impl Default for OwnPolicy {
    /// The built-in defaults (`config/remit.toml` repeats them): our names in each market, the
    /// accounts the sample and evaluation files credit, PAD collections off.
    fn default() -> Self {
        let names = |extra: &[&str]| {
            ["American Express", "Amex"].iter().chain(extra).map(|s| s.to_string()).collect::<Vec<_>>()
        };
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Self {
            ca: OwnIdentities {
                names: names(&["Amex Bank of Canada"]),
                accounts: strings(&["003-00011-1000017"]),
                originator_ids: strings(&["0003099001"]),
                ..OwnIdentities::default()
            },
            india: OwnIdentities {
                names: names(&["American Express Banking Corp"]),
                accounts: strings(&["000405099999"]),
                virtual_account_prefixes: strings(&["AMEX"]),
                ..OwnIdentities::default()
            },
            eu: OwnIdentities {
                names: names(&[]),
                accounts: strings(&["DE89500700100093764321"]),
                ..OwnIdentities::default()
            },
        }
    }
}

/// What `OwnPolicy::normalize` changed, for the decision's reasons.
pub struct Normalized<'a> {
    /// The payment as the matcher and the store see it.
    pub payment: Cow<'a, Payment>,
    /// One sentence per change (none when nothing changed).
    pub notes: Vec<Reason>,
}

impl OwnPolicy {
    pub fn get(&self, market: Market) -> &OwnIdentities {
        match market {
            Market::CA => &self.ca,
            Market::IN => &self.india,
            Market::EU => &self.eu,
        }
    }

    /// Refuses identities that would match every payment, naming the key.
    pub fn validate(&self) -> Result<(), String> {
        for market in Market::ALL {
            let own = self.get(market);
            for n in &own.names {
                if NormalName::new(n).is_empty() {
                    return Err(format!("own.{market}.names: {n:?} has no words"));
                }
            }
            for a in own.accounts.iter().chain(&own.virtual_account_prefixes).chain(&own.originator_ids) {
                if compact(a).len() < 4 {
                    return Err(format!("own.{market}: {a:?} is too short to identify an account"));
                }
            }
        }
        Ok(())
    }

    /// The payment with our own identities taken out of its payer fields, and, for a PAD file we
    /// originate with collections on, its debits turned into collections. Borrowed when nothing
    /// applies (most payments).
    pub fn normalize<'a>(&self, payment: &'a Payment) -> Normalized<'a> {
        let own = self.get(payment.market);
        let mut notes = Vec::new();
        let name_is_ours = payment.payer_name.as_deref().is_some_and(|n| own.is_our_name(n));
        let account_is_ours = payment.payer_account.as_ref().is_some_and(|a| own.is_our_account(a));
        let collection = own.collection_kind(payment);
        if !name_is_ours && !account_is_ours && collection.is_none() {
            return Normalized { payment: Cow::Borrowed(payment), notes };
        }
        let mut p = payment.clone();
        if name_is_ours {
            notes.push(Reason::new(
                ReasonCode::OwnIdentity,
                "the payer name field holds our own name: not payer evidence, not learned",
            ));
            p.payer_name = None;
        }
        if account_is_ours {
            notes.push(Reason::new(
                ReasonCode::OwnIdentity,
                "the payer account field holds our own account: not payer evidence, not learned",
            ));
            p.payer_account = None;
        }
        match collection {
            Some(Collection::Debit) => {
                // Money moves from the cardmember's bank account to us: a payment to the card.
                p.direction = Direction::Credit;
                notes.push(Reason::new(
                    ReasonCode::AccountReference,
                    format!(
                        "a pre-authorized debit we originated (originator {}): a collection for the card",
                        payment.source_bank
                    ),
                ));
            }
            Some(Collection::Return) => {
                // The collection comes back: money leaves the card's payment again.
                p.direction = Direction::Debit;
                p.reversal = true;
            }
            None => {}
        }
        Normalized { payment: Cow::Owned(p), notes }
    }
}

/// A record of a PAD file we originate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Collection {
    /// `D`: a collection.
    Debit,
    /// `J`: a returned collection, a rejected direct debit.
    Return,
}

impl OwnIdentities {
    /// True when `name` holds every word of one of our names.
    pub fn is_our_name(&self, name: &str) -> bool {
        let payer = NormalName::new(name);
        if payer.is_empty() {
            return false;
        }
        self.names.iter().any(|ours| {
            let ours = NormalName::new(ours);
            !ours.is_empty() && ours.words().iter().all(|w| payer.words().contains(w))
        })
    }

    /// True when the account is one of ours, or a virtual account we issued.
    pub fn is_our_account(&self, account: &PayerAccount) -> bool {
        let written = compact(&account.to_string());
        let bare = match account {
            PayerAccount::Canadian { account, .. } | PayerAccount::Remitter { account, .. } => {
                compact(account)
            }
            _ => written.clone(),
        };
        self.accounts.iter().any(|a| {
            let a = compact(a);
            a == written || a == bare
        }) || self.virtual_account_prefixes.iter().any(|p| bare.starts_with(&compact(p)))
    }

    /// Whether `payment` is a record of a PAD file we originate, with collections on.
    pub fn collection_kind(&self, payment: &Payment) -> Option<Collection> {
        if !self.collect_debits
            || payment.format != SourceFormat::Cpa005
            || !self.originator_ids.iter().any(|o| o.trim() == payment.source_bank.trim())
        {
            return None;
        }
        let kind = payment.references.other.iter().find(|(k, _)| k == RECORD_TYPE).map(|(_, v)| v.expose());
        match kind {
            Some("D") => Some(Collection::Debit),
            Some("J") => Some(Collection::Return),
            _ => None,
        }
    }
}

/// Upper case without spaces, dashes or dots: how accounts compare.
fn compact(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::money::{Currency, Money};
    use crate::model::payment::{sample, References};

    fn ca(name: &str, account: Option<PayerAccount>) -> Payment {
        let mut p = sample(Market::CA, Money::from_minor(10_000, Currency::CAD), References::default());
        p.payer_name = Some(name.into());
        p.payer_account = account;
        p
    }

    #[test]
    fn our_name_and_account_are_not_the_payer() {
        let policy = OwnPolicy::default();
        let ours = PayerAccount::Canadian {
            institution: "003".into(),
            transit: "00011".into(),
            account: "1000017".into(),
        };
        let p = ca("AMERICAN EXPRESS CANADA", Some(ours));
        let n = policy.normalize(&p);
        assert_eq!(n.payment.payer_name, None);
        assert_eq!(n.payment.payer_account, None);
        assert_eq!(n.notes.len(), 2);
        assert!(crate::matching::payer::identities(&n.payment).is_empty(), "nothing to learn or to suspect");
    }

    #[test]
    fn a_cardmember_is_left_alone() {
        let policy = OwnPolicy::default();
        let other = PayerAccount::Canadian {
            institution: "004".into(),
            transit: "12345".into(),
            account: "99".into(),
        };
        let p = ca("Jean Tremblay", Some(other));
        let n = policy.normalize(&p);
        assert!(matches!(n.payment, Cow::Borrowed(_)));
        assert!(n.notes.is_empty());
        // One word of our name is not our name.
        assert!(!policy.ca.is_our_name("Express Couriers Ltd"));
    }

    #[test]
    fn pad_debits_are_collections_only_when_configured() {
        let mut policy = OwnPolicy::default();
        let mut p = ca("Jean Tremblay", None);
        p.format = SourceFormat::Cpa005;
        p.source_bank = "0003099001".into();
        p.direction = Direction::Debit;
        p.references.other.push((RECORD_TYPE.into(), "D".into()));
        assert_eq!(policy.normalize(&p).payment.direction, Direction::Debit, "off by default");
        policy.ca.collect_debits = true;
        assert_eq!(policy.normalize(&p).payment.direction, Direction::Credit);
        p.references.other.last_mut().unwrap().1 = "J".into();
        p.reversal = true;
        let n = policy.normalize(&p);
        assert_eq!((n.payment.direction, n.payment.reversal), (Direction::Debit, true));
        p.source_bank = "0009999999".into();
        assert!(policy.ca.collection_kind(&p).is_none(), "someone else's PAD file");
    }
}
