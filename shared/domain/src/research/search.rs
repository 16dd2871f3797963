//! Directory search for the analyst's workbench (issue 16): what an analyst types (a holder's
//! name, the last four or five digits, an amount, a virtual account, an RF reference) turned into
//! queries on the directory's indexes (`crate::ports::DirectorySearch`), ranked and paged.
//!
//! A search is a list of probes, each one index key, read in order: a page is filled from the
//! first probe, then the next. An account an earlier probe returns is not returned again by a
//! later one, so paging with the cursor (probe and last account) is exact without any state.
//! Names are looked up the way the matcher looks up a payer (`NormalName`: accents, word order,
//! honorifics, initials), under the keys the holder would be indexed under if named as typed.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::model::account::Account;
use crate::model::card::CardRef;
use crate::model::identifiers::CreditorReference;
use crate::model::payment::Market;
use crate::ports::{amount_key, AccountDirectory, AccountIndexKey, DirectorySearch, LastFour, StoreError};
use crate::text::names::{holder_name_keys, name_similarity};
use crate::text::shown::shown;

/// Results per page by default, and at most.
pub const PAGE: (usize, usize) = (20, 50);

/// What the typed text is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SearchBy {
    /// Decide from the text (`SearchBy::detect`).
    Auto,
    Name,
    /// Four or five digits: the end of the card number.
    LastDigits,
    /// Equal to a statement balance or a minimum due.
    Amount,
    VirtualAccount,
    CreditorReference,
}

impl std::str::FromStr for SearchBy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "" | "auto" => Self::Auto,
            "name" => Self::Name,
            "last-digits" | "last4" | "last5" | "digits" => Self::LastDigits,
            "amount" => Self::Amount,
            "va" | "virtual-account" => Self::VirtualAccount,
            "rf" | "creditor-reference" => Self::CreditorReference,
            _ => {
                return Err(
                    "by: one of auto, name, last-digits, amount, virtual-account, creditor-reference".into()
                )
            }
        })
    }
}

impl SearchBy {
    /// The kind of a typed text: `RF` and check digits a reference; four or five digits the end
    /// of a card; a number with a decimal point an amount; letters and digits together (eight or
    /// more) a virtual account; anything else a name.
    pub fn detect(text: &str) -> Self {
        let t = text.trim();
        let compact: String = t.chars().filter(|c| !c.is_whitespace()).collect();
        let upper = compact.to_ascii_uppercase();
        if upper.starts_with("RF")
            && upper[2..].bytes().take(2).all(|b| b.is_ascii_digit())
            && upper.len() > 4
        {
            return Self::CreditorReference;
        }
        if (4..=5).contains(&compact.len()) && compact.bytes().all(|b| b.is_ascii_digit()) {
            return Self::LastDigits;
        }
        if parse_amount(t).is_some() && t.bytes().any(|b| b == b'.' || b == b',') {
            return Self::Amount;
        }
        let letters = upper.bytes().filter(u8::is_ascii_alphabetic).count();
        let digits = upper.bytes().filter(u8::is_ascii_digit).count();
        if upper.len() >= 8 && letters > 0 && digits > 0 && upper.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Self::VirtualAccount;
        }
        Self::Name
    }
}

/// Why a search could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search: {0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One account found, as the workbench shows it (the card masked when serialized).
#[derive(Clone, Debug, Serialize)]
pub struct SearchHit {
    #[serde(flatten)]
    pub account: Account,
    /// How to name this account when resolving to it (`CardRef::stored`: the token, no number).
    pub account_ref: String,
    /// The index that found it ("holder name", "last four"...).
    pub matched_by: &'static str,
    /// How well it answers the search, in [0, 1] (the name's similarity for a name search).
    pub score: f64,
}

/// One page of results, best first, and the cursor of the next page (`None`: the last).
#[derive(Clone, Debug, Serialize)]
pub struct SearchPage {
    pub by: SearchBy,
    pub results: Vec<SearchHit>,
    pub next: Option<String>,
}

/// One index key a search reads, and how its results are named and scored.
struct Probe {
    key: AccountIndexKey,
    matched_by: &'static str,
}

/// The money forms analysts type: `1234.50`, `1,234.50`, `1234,50`, `1 234,50`.
fn parse_amount(text: &str) -> Option<Decimal> {
    let t: String = text.trim().chars().filter(|c| !c.is_whitespace() && *c != '\u{a0}').collect();
    let t = t.trim_start_matches(['$', '€', '₹']);
    let normal = match (t.rfind('.'), t.rfind(',')) {
        // The later separator is the decimal one; the other groups thousands.
        (Some(d), Some(c)) if d > c => t.replace(',', ""),
        (Some(_), Some(_)) => t.replace('.', "").replace(',', "."),
        (None, Some(c)) if t.len() - c - 1 != 3 || t.matches(',').count() == 1 && t.len() - c - 1 <= 2 => {
            t.replace(',', ".")
        }
        (None, Some(_)) => t.replace(',', ""),
        _ => t.to_string(),
    };
    if normal.is_empty() || !normal.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    normal.parse::<Decimal>().ok().filter(|d| !d.is_sign_negative())
}

/// The probes of a search, in rank order.
fn probes<D: AccountDirectory + ?Sized>(
    directory: &D,
    market: Market,
    by: SearchBy,
    text: &str,
) -> Result<Vec<Probe>, SearchError> {
    let bad = |why: &str| SearchError::Invalid(format!("{} {:?}: {why}", by_name(by), shown(text)));
    let t = text.trim();
    Ok(match by {
        SearchBy::Auto => return probes(directory, market, SearchBy::detect(t), t),
        SearchBy::Name => {
            let keys = holder_name_keys(t);
            if keys.is_empty() {
                return Err(bad("a name of two words or more (a surname and an initial will do)"));
            }
            keys.into_iter()
                .map(|k| Probe { key: AccountIndexKey::HolderName(k), matched_by: "holder name" })
                .collect()
        }
        SearchBy::LastDigits => {
            let digits: String = t.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
            if let Some(four) = LastFour::parse(&digits) {
                vec![Probe { key: AccountIndexKey::LastFour(four), matched_by: "last four digits" }]
            } else if digits.len() == 5 && digits.bytes().all(|b| b.is_ascii_digit()) {
                let tag = directory.card_key().last_five(market, &digits);
                vec![Probe { key: AccountIndexKey::LastFive(tag), matched_by: "last five digits" }]
            } else {
                return Err(bad("four or five digits"));
            }
        }
        SearchBy::Amount => {
            let amount = parse_amount(t).ok_or_else(|| bad("an amount such as 120.50"))?;
            vec![
                Probe { key: AccountIndexKey::StatementBalance(amount), matched_by: "statement balance" },
                Probe { key: AccountIndexKey::MinimumDue(amount), matched_by: "minimum due" },
            ]
        }
        SearchBy::VirtualAccount => {
            let va: String =
                t.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
            if va.len() < 4 || !va.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(bad("letters and digits"));
            }
            vec![Probe { key: AccountIndexKey::VirtualAccount(va), matched_by: "virtual account" }]
        }
        SearchBy::CreditorReference => {
            let rf: CreditorReference =
                t.parse().map_err(|_| bad("an RF reference with valid check digits"))?;
            vec![Probe { key: AccountIndexKey::CreditorReference(rf), matched_by: "RF reference" }]
        }
    })
}

fn by_name(by: SearchBy) -> &'static str {
    match by {
        SearchBy::Auto => "search",
        SearchBy::Name => "name",
        SearchBy::LastDigits => "last digits",
        SearchBy::Amount => "amount",
        SearchBy::VirtualAccount => "virtual account",
        SearchBy::CreditorReference => "RF reference",
    }
}

/// True when an earlier probe of the same search returns `account` (it was shown there).
fn found_earlier(earlier: &[Probe], account: &Account) -> bool {
    earlier.iter().any(|p| match &p.key {
        AccountIndexKey::HolderName(k) => holder_name_keys(&account.holder_name).contains(k),
        AccountIndexKey::StatementBalance(a) => amount_key(account.statement_balance) == amount_key(*a),
        _ => false,
    })
}

/// The cursor's form: the probe's number, then the last account's stored card (`2.ct:...`).
fn cursor(probe: usize, after: Option<&CardRef>) -> String {
    match after {
        Some(c) => format!("{probe}.{}", c.stored()),
        None => format!("{probe}."),
    }
}

fn parse_cursor(text: &str) -> Result<(usize, Option<CardRef>), SearchError> {
    let bad = || SearchError::Invalid("cursor: not one this search gave".into());
    let (probe, card) = text.split_once('.').ok_or_else(bad)?;
    let probe = probe.parse().map_err(|_| bad())?;
    let card = match card {
        "" => None,
        c => Some(CardRef::from_stored(c).map_err(|_| bad())?),
    };
    Ok((probe, card))
}

/// One page of the accounts of `market` that answer `text` read as `by`, best first; `after` is
/// the previous page's `next`. The caller has checked the analyst may read `market`.
pub fn search<S>(
    store: &S,
    market: Market,
    by: SearchBy,
    text: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<SearchPage, SearchError>
where
    S: AccountDirectory + DirectorySearch + ?Sized,
{
    let by = if by == SearchBy::Auto { SearchBy::detect(text) } else { by };
    let probes = probes(store, market, by, text)?;
    let limit = limit.clamp(1, PAGE.1);
    let (mut at, mut last) = match after {
        Some(c) => parse_cursor(c)?,
        None => (0, None),
    };
    let mut results: Vec<SearchHit> = Vec::new();
    let mut next = None;
    while at < probes.len() {
        let want = limit - results.len();
        // One more than wanted: whether this probe has more, without an empty last page.
        let page = store.search_accounts(market, &probes[at].key, last.as_ref(), want + 1)?;
        let more = page.len() > want;
        for account in page.into_iter().take(want) {
            last = Some(account.card);
            if account.market != market || found_earlier(&probes[..at], &account) {
                continue;
            }
            let score = match by {
                SearchBy::Name => round(name_similarity(text, &account.holder_name)),
                _ => 1.0,
            };
            results.push(SearchHit {
                account_ref: account.card.stored(),
                matched_by: probes[at].matched_by,
                score,
                account,
            });
        }
        if more {
            next = Some(cursor(at, last.as_ref()));
            break;
        }
        at += 1;
        last = None;
        if results.len() >= limit {
            next = next_probe(store, market, &probes, at)?.map(|p| cursor(p, None));
            break;
        }
    }
    // Best first within the page; the index's order breaks ties, so pages stay stable.
    results.sort_by(|a, b| b.score.total_cmp(&a.score));
    Ok(SearchPage { by, results, next })
}

/// The first probe from `from` on that holds an account no earlier probe returned (the next
/// page starts there), so that `next` never leads to an empty page. A probe whose first page is
/// all repeats, and full, may hold more: it is named, to be safe.
fn next_probe<S>(
    store: &S,
    market: Market,
    probes: &[Probe],
    from: usize,
) -> Result<Option<usize>, SearchError>
where
    S: DirectorySearch + ?Sized,
{
    for p in from..probes.len() {
        let peek = store.search_accounts(market, &probes[p].key, None, PAGE.1)?;
        let full = peek.len() >= PAGE.1;
        if full || peek.iter().any(|a| a.market == market && !found_earlier(&probes[..p], a)) {
            return Ok(Some(p));
        }
    }
    Ok(None)
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_what_an_analyst_types() {
        assert_eq!(SearchBy::detect("Jean Tremblay"), SearchBy::Name);
        assert_eq!(SearchBy::detect("1234"), SearchBy::LastDigits);
        assert_eq!(SearchBy::detect("10005"), SearchBy::LastDigits);
        assert_eq!(SearchBy::detect("120.50"), SearchBy::Amount);
        assert_eq!(SearchBy::detect("1 234,50"), SearchBy::Amount);
        assert_eq!(SearchBy::detect("RF18 5390 0754 7034"), SearchBy::CreditorReference);
        assert_eq!(SearchBy::detect("AMEX0012345678"), SearchBy::VirtualAccount);
    }

    #[test]
    fn amounts_in_the_forms_analysts_type() {
        let d = |s: &str| parse_amount(s).map(|d| d.to_string());
        assert_eq!(d("120.50").as_deref(), Some("120.50"));
        assert_eq!(d("1,234.50").as_deref(), Some("1234.50"));
        assert_eq!(d("1 234,50").as_deref(), Some("1234.50"));
        assert_eq!(d("1234,5").as_deref(), Some("1234.5"));
        assert_eq!(d("1.234,50").as_deref(), Some("1234.50"));
        assert_eq!(d("$75").as_deref(), Some("75"));
        assert_eq!(d("abc"), None);
        assert_eq!(d("-5"), None);
    }

    #[test]
    fn a_cursor_reads_back_and_a_forged_one_is_refused() {
        let card = crate::model::card::test_card("378282246310005");
        let c = cursor(1, Some(&card));
        let (p, back) = parse_cursor(&c).unwrap();
        assert_eq!((p, back), (1, Some(card)));
        assert!(parse_cursor("x.y").is_err());
        assert!(parse_cursor("1.ct:zz").is_err());
    }
}
