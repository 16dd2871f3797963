//! Corporate control accounts: a payment to a control account is applied to the control
//! account, or split across its cards when the remittance lists them with amounts.
//!
//! ## The rule
//!
//! The payment is for a control account when the matcher's best candidate is one (some active
//! card rolls up to it), or when every account the payment names outright belongs to one control
//! group (the control and its cards are then not rivals of each other). The remittance (free
//! text, structured references, other references) is read for card numbers, each followed by an
//! amount: `3782 822463 10005 500.00; 3714-496353-98431 250.00`, `card 3782... amount 1,250.00`,
//! `3782...: CAD 500`, `3782... = 1 250,00 $` (liberal in format). Then:
//!
//! - **no card listed with an amount**: the whole payment goes to the control account, with a
//!   reason saying so (a card named without amounts rolls up to the control anyway);
//! - **cards listed with amounts, and every line checks out**: one posting per line. Strict:
//!   every listed card must have a readable amount in the payment's currency (no more decimals
//!   than it allows, above zero), be in the directory, active, in the payment's currency and
//!   market, and roll up to that control account (the control itself may take a line too); no
//!   card twice; at most `MAX_POSTING_LINES` lines; and the lines add up exactly to the payment;
//! - **cards listed with amounts, but any check fails**: research, never the control account.
//!   The payer said how the money is to be allocated; posting the whole to the control account
//!   would contradict that instruction and need a reversal and a repost once someone reads the
//!   list, and guessing a corrected split (pro rata, dropping a line) would credit cardmembers
//!   with amounts nobody stated. A person with the customer's allocation sheet settles it.
//!
//! The rule itself (`listed_cards`, `judge`) is pure; `resolve` does the directory lookups.

use rust_decimal::Decimal;

use crate::model::account::{Account, AccountStatus};
use crate::model::card::{CardKey, CardRef};
use crate::model::decision::{Reason, ReasonCode, SplitLine};
use crate::model::identifiers::AccountNumber;
use crate::model::money::{Currency, Money};
use crate::model::payment::Payment;
use crate::ports::{AccountDirectory, StoreError, MAX_POSTING_LINES};

/// Text scanned per payment for a list, at most (remittances are short; this bounds the work).
const MAX_SCAN_BYTES: usize = 4096;

/// At most this many numbers are kept from a remittance (beyond `MAX_POSTING_LINES` it cannot be
/// a valid split anyway; this only bounds the work).
const MAX_LISTED: usize = 100;

/// A card number written in the remittance, with the amount written after it, if any.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Listed {
    pub number: AccountNumber,
    /// `None`: no amount after the number. `Some(Err)`: an amount that cannot be read strictly.
    pub amount: Option<Result<Decimal, String>>,
    /// A currency written beside the amount (code or symbol), when one is.
    pub currency: Option<String>,
}

/// What the rule decided for a payment to a control account.
#[derive(Clone, PartialEq, Debug)]
pub enum Verdict {
    /// One posting per line; the reason lists them (masked).
    Split { lines: Vec<SplitLine>, reason: Reason },
    /// The whole payment to the control account; the reason says why it was not split.
    Whole(Reason),
    /// Cards are listed but cannot be posted as listed: a blocking reason.
    Research(Reason),
}

/// Evidence weight (decibans, as in `crate::matching::matcher::evidence`) of a valid split for its
/// control group: the payer wrote card numbers of one control group each with an amount, and the
/// amounts add up exactly to the payment.
pub const SPLIT_ADDS_UP: crate::matching::matcher::Decibans = 10;

impl Verdict {
    /// The evidence weight the verdict adds to the control group's.
    pub fn weight(&self) -> crate::matching::matcher::Decibans {
        match self {
            Verdict::Split { .. } => SPLIT_ADDS_UP,
            Verdict::Whole(_) | Verdict::Research(_) => 0,
        }
    }

    /// The reason to give, and the lines to post (none unless a split).
    pub fn reason_and_lines(&self) -> (Reason, Vec<SplitLine>) {
        match self {
            Verdict::Split { lines, reason } => (reason.clone(), lines.clone()),
            Verdict::Whole(reason) | Verdict::Research(reason) => (reason.clone(), Vec::new()),
        }
    }
}

/// A payment for a control account group: the control account and the rule's verdict.
#[derive(Clone, PartialEq, Debug)]
pub struct ControlMatch {
    pub control: Account,
    pub verdict: Verdict,
}

/// The control-account reading of a match: `None` when the payment is not for a control group
/// (then the matcher decides as for any account). `best` is the matcher's best candidate and
/// `rivals` the candidates it would otherwise call ambiguous with it.
///
/// Lookups: one index query (the control's cards) when the best candidate may be a control,
/// a key lookup of the control when only its cards are named, and one batch get of the listed
/// cards (at most `MAX_LISTED`).
pub fn resolve<D: AccountDirectory + ?Sized>(
    payment: &Payment,
    directory: &D,
    best: &Account,
    rivals: &[&Account],
) -> Result<Option<ControlMatch>, StoreError> {
    // A card on its own is matched as any card.
    if rivals.is_empty() && best.control_account.is_some() {
        return Ok(None);
    }
    let control_number = best.control_account.as_ref().unwrap_or(&best.card);
    let in_group =
        |a: &Account| a.card == *control_number || a.control_account.as_ref() == Some(control_number);
    if !rivals.iter().all(|r| in_group(r)) {
        return Ok(None);
    }
    let cards = directory.accounts_by_control_account(control_number)?;
    if !cards.iter().any(|a| a.status == AccountStatus::Active && a.card != *control_number) {
        return Ok(None);
    }
    let named = std::iter::once(best).chain(rivals.iter().copied()).find(|a| a.card == *control_number);
    let control_named = named.is_some();
    let control = match named {
        Some(a) => a.clone(),
        None => match directory.account(control_number)? {
            Some(a) => a,
            None => return Ok(None),
        },
    };
    let listed = listed_cards(payment);
    let key = directory.card_key();
    let mut cards: Vec<CardRef> = Vec::new();
    for l in &listed {
        let card = key.card(&l.number);
        if card != control.card && !cards.contains(&card) {
            cards.push(card);
        }
    }
    let accounts = if cards.len() <= MAX_POSTING_LINES { directory.accounts(&cards)? } else { Vec::new() };
    let verdict = judge(payment, &control, &listed, &accounts, key);
    // Cards of one control named without amounts, the control not named: as ambiguous as before.
    if matches!(verdict, Verdict::Whole(_)) && !control_named {
        return Ok(None);
    }
    Ok(Some(ControlMatch { control, verdict }))
}

/// The rule (see the module documentation): `listed` as `listed_cards` reads it, `accounts` the
/// directory's accounts for the listed numbers (missing ones left out), `key` the directory's.
pub fn judge(
    payment: &Payment,
    control: &Account,
    listed: &[Listed],
    accounts: &[Account],
    key: &CardKey,
) -> Verdict {
    let c = &control.card;
    let currency = payment.amount.currency();
    // The control account named without an amount is the payee, not a line.
    let lines: Vec<(&Listed, CardRef)> = listed
        .iter()
        .map(|l| (l, key.card(&l.number)))
        .filter(|(l, card)| !(card == c && l.amount.is_none()))
        .collect();
    if !lines.iter().any(|(l, _)| l.amount.is_some()) {
        let why = if lines.is_empty() {
            "the remittance lists no cards with amounts".to_string()
        } else {
            format!(
                "the remittance names {} without amounts",
                masked_list(lines.iter().map(|(l, _)| &l.number))
            )
        };
        return Verdict::Whole(Reason::new(
            ReasonCode::ControlSplit,
            format!(
                "payment to corporate control account {}: applied to the control account, not split ({why})",
                c.masked()
            ),
        ));
    }
    let refuse = |why: String| {
        Verdict::Research(Reason::new(
            ReasonCode::ControlSplitInvalid,
            format!(
                "payment to corporate control account {} lists cards and amounts that cannot be posted as listed: \
                 {why}; not applied to the control account against the payer's allocation",
                c.masked()
            ),
        ))
    };
    if lines.len() > MAX_POSTING_LINES {
        return refuse(format!("more than {MAX_POSTING_LINES} lines"));
    }
    let mut out: Vec<SplitLine> = Vec::with_capacity(lines.len());
    for (l, card) in lines {
        let n = l.number.masked();
        let amount = match &l.amount {
            None => return refuse(format!("card {n} is listed without an amount")),
            Some(Err(e)) => return refuse(format!("the amount for card {n} cannot be read ({e})")),
            Some(Ok(a)) => *a,
        };
        if let Some(written) = &l.currency {
            if !currency_agrees(written, currency) {
                return refuse(format!(
                    "the amount for card {n} is in {written}, the payment in {}",
                    currency.code()
                ));
            }
        }
        let money = match Money::new(amount, currency) {
            Ok(m) if m.is_positive() => m,
            Ok(_) => return refuse(format!("the amount for card {n} is not above zero")),
            Err(e) => return refuse(format!("the amount for card {n}: {e}")),
        };
        if out.iter().any(|o| o.account == card) {
            return refuse(format!("card {n} is listed twice"));
        }
        let account = if card == *c {
            control
        } else {
            let Some(a) = accounts.iter().find(|a| a.card == card) else {
                return refuse(format!("card {n} is not in the directory"));
            };
            if a.control_account.as_ref() != Some(c) {
                return refuse(format!("card {n} does not roll up to this control account"));
            }
            a
        };
        if account.status != AccountStatus::Active {
            return refuse(format!("card {n} is {}", account.status.as_str()));
        }
        if account.currency != currency {
            return refuse(format!(
                "card {n} is in {}, the payment in {}",
                account.currency.code(),
                currency.code()
            ));
        }
        if account.market != payment.market {
            return refuse(format!(
                "card {n} belongs to market {}, the payment to {}",
                account.market, payment.market
            ));
        }
        out.push(SplitLine { account: card, amount: money });
    }
    // Checked like every sum of money, though `read_amount` caps a line at 15 digits and a list
    // at `MAX_POSTING_LINES` lines, which a decimal holds many times over.
    let sum = out.iter().try_fold(Decimal::ZERO, |s, l| crate::model::money::exact_add(s, l.amount.amount()));
    let Some(sum) = sum else {
        return refuse(format!("the {} line(s) add up past what a decimal holds", out.len()));
    };
    if sum != payment.amount.amount() {
        return refuse(format!(
            "the {} line(s) add up to {sum} {}, the payment is {}",
            out.len(),
            currency.code(),
            payment.amount
        ));
    }
    if let [only] = out.as_slice() {
        if only.account == *c {
            return Verdict::Whole(Reason::new(
                ReasonCode::ControlSplit,
                format!(
                    "payment to corporate control account {}: applied to the control account, not split (the remittance lists the control account alone)",
                    c.masked()
                ),
            ));
        }
    }
    let list: Vec<String> = out.iter().map(|l| format!("{} {}", l.account.masked(), l.amount)).collect();
    let reason = Reason::new(
        ReasonCode::ControlSplit,
        format!(
            "payment to corporate control account {} split across {} line(s) as the remittance lists them, \
             adding up to the payment [+{SPLIT_ADDS_UP:.1}]: {}",
            c.masked(),
            out.len(),
            list.join(", ")
        ),
    );
    Verdict::Split { lines: out, reason }
}

fn masked_list<'a>(numbers: impl Iterator<Item = &'a AccountNumber>) -> String {
    let mut v: Vec<String> = numbers.map(AccountNumber::masked).collect();
    v.dedup();
    v.join(", ")
}

/// True when a currency written beside an amount (`CAD`, `$`, `€`, `Rs`) agrees with `currency`.
fn currency_agrees(written: &str, currency: Currency) -> bool {
    match written {
        "$" => matches!(currency.code(), "CAD" | "USD"),
        "€" => currency == Currency::EUR,
        "₹" | "RS" => currency == Currency::INR,
        "£" => currency == Currency::GBP,
        code => code == currency.code(),
    }
}

/// Every card number the payment's references list, each with the amount written after it.
/// Free-text lines are read as one text (a list may run over several lines); each structured
/// reference and other reference is a text of its own. A card listed in two texts with the same
/// amount (a list copied into two fields) counts once; listed twice in one text, or with two
/// amounts, it is kept twice (and `judge` refuses it). A number without an amount is dropped when
/// the same number has one elsewhere.
pub fn listed_cards(payment: &Payment) -> Vec<Listed> {
    let refs = &payment.references;
    let mut texts: Vec<String> = Vec::new();
    for t in [&refs.cross_reference, &refs.end_to_end_id, &refs.creditor_reference].into_iter().flatten() {
        texts.push(t.expose().to_string());
    }
    if !refs.remittance.is_empty() {
        let joined: Vec<&str> = refs.remittance.iter().map(|t| t.expose()).collect();
        texts.push(joined.join("\n"));
    }
    for (k, v) in &refs.other {
        if k != "status" {
            texts.push(v.expose().to_string());
        }
    }
    let mut out: Vec<Listed> = Vec::new();
    for text in &texts {
        let cut = floor_char_boundary(text, MAX_SCAN_BYTES);
        let found = parse_list(&text[..cut]);
        let before = out.len();
        for l in found {
            let seen_elsewhere = out[..before].iter().any(|o| o.number == l.number && o.amount == l.amount);
            if !seen_elsewhere {
                out.push(l);
            }
            if out.len() >= MAX_LISTED {
                break;
            }
        }
    }
    let with_amount: Vec<AccountNumber> =
        out.iter().filter(|l| l.amount.is_some()).map(|l| l.number.clone()).collect();
    out.retain(|l| l.amount.is_some() || !with_amount.contains(&l.number));
    // Without amounts, once per number is enough.
    let mut seen: Vec<AccountNumber> = Vec::new();
    out.retain(|l| {
        if l.amount.is_some() {
            return true;
        }
        let first = !seen.contains(&l.number);
        seen.push(l.number.clone());
        first
    });
    out
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// What a stretch of a text is.
#[derive(Debug)]
enum Token {
    Card(AccountNumber),
    Amount(Result<Decimal, String>),
    /// Another number (a date, an invoice number): it ends any card's amount search.
    Number,
}

/// Reads one text: cards, each paired with the amount that follows it when only glue (spaces,
/// punctuation, a few words such as "amount", a currency) stands between them.
fn parse_list(text: &str) -> Vec<Listed> {
    let tokens = tokenize(text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let (_, end, tok) = &tokens[i];
        let end = *end;
        if let Token::Card(number) = tok {
            let mut listed = Listed { number: number.clone(), amount: None, currency: None };
            if let Some((next_start, _, Token::Amount(a))) = tokens.get(i + 1) {
                if let Some(currency) = glue(&text[end..*next_start]) {
                    // A currency may also follow the amount: "500.00 CAD", "1 250,00 $".
                    let after_end = tokens[i + 1].1;
                    let after = tokens.get(i + 2).map_or(text.len(), |t| t.0);
                    let trailing = trailing_currency(&text[after_end..after]);
                    listed.amount = Some(a.clone());
                    listed.currency = currency.or(trailing);
                    i += 1;
                }
            }
            out.push(listed);
        }
        i += 1;
    }
    out
}

/// The text between a card and an amount, when it is glue: the currency written in it, if any
/// (`Some(None)` when none). `None` when other words stand between them.
fn glue(between: &str) -> Option<Option<String>> {
    if between.chars().count() > 32 {
        return None;
    }
    let mut currency = None;
    for word in between.split(|c: char| !c.is_alphanumeric() && !matches!(c, '$' | '€' | '₹' | '£')) {
        if word.is_empty() {
            continue;
        }
        let upper = word.to_uppercase();
        match upper.as_str() {
            "AMOUNT" | "AMT" | "OF" | "FOR" | "PAY" | "PAID" | "PAYMENT" | "APPLY" | "MONTANT" | "BETRAG"
            | "IMPORTO" | "IMPORTE" => {}
            "$" | "€" | "₹" | "£" | "RS" | "INR" | "CAD" | "USD" | "EUR" | "GBP" => {
                currency = Some(upper)
            }
            // Any other ISO 4217 code, written in capitals ("JPY", not the word "try").
            c if word.len() == 3
                && word.chars().all(|x| x.is_ascii_uppercase())
                && Currency::from_code(c).is_some() =>
            {
                currency = Some(upper)
            }
            _ => return None,
        }
    }
    // Only punctuation may remain: no sentence between a card and its amount.
    if between.chars().any(|c| c == ';' || c == '\n' || c == '|') {
        return None;
    }
    Some(currency)
}

/// A currency written right after an amount ("500.00 CAD", "250 $").
fn trailing_currency(after: &str) -> Option<String> {
    let word =
        after.trim_start().split(|c: char| c.is_whitespace() || matches!(c, ';' | ',' | ')')).next()?;
    let upper = word.trim_end_matches('.').to_uppercase();
    match upper.as_str() {
        "$" | "€" | "₹" | "£" | "RS" => Some(upper),
        c if c.len() == 3
            && c.chars().all(|x| x.is_ascii_uppercase())
            && Currency::from_code(c).is_some() =>
        {
            Some(upper)
        }
        _ => None,
    }
}

/// Cards, amounts and other numbers of a text, with their byte spans.
fn tokenize(text: &str) -> Vec<(usize, usize, Token)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        // A digit glued to a letter before it (an invoice "INV2026") is no amount or card.
        let glued = i > 0 && b[i - 1].is_ascii_alphabetic();
        if let Some((end, number)) = card_at(b, i) {
            out.push((i, end, Token::Card(number)));
            i = end;
            continue;
        }
        let (end, amount) = amount_at(b, i);
        let tok = if glued { Token::Number } else { amount.map_or(Token::Number, Token::Amount) };
        out.push((i, end, tok));
        i = end.max(i + 1);
    }
    out
}

/// A 15-digit card number starting at `i`: digit groups joined by one to three spaces, dashes or
/// dots, exactly 15 digits, the last group not running on into more digits.
fn card_at(b: &[u8], i: usize) -> Option<(usize, AccountNumber)> {
    let mut digits = String::with_capacity(15);
    let mut j = i;
    loop {
        let start = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        digits.push_str(std::str::from_utf8(&b[start..j]).ok()?);
        if digits.len() > 15 {
            return None;
        }
        if digits.len() == 15 {
            return digits.parse().ok().map(|n| (j, n));
        }
        let mut k = j;
        while k < b.len() && k - j < 3 && matches!(b[k], b' ' | b'-' | b'.') {
            k += 1;
        }
        if k == j || k >= b.len() || !b[k].is_ascii_digit() {
            return None;
        }
        j = k;
    }
}

/// An amount starting at `i`, with where it ends: `Some(Ok)` read strictly, `Some(Err)` written
/// like an amount but unreadable, `None` not an amount (a date, a number run on into letters).
fn amount_at(b: &[u8], i: usize) -> (usize, Option<Result<Decimal, String>>) {
    let mut j = i;
    let mut raw = String::new();
    let mut group = 0usize;
    while j < b.len() {
        let c = b[j];
        let digit_at = |k: usize| b.get(k).is_some_and(u8::is_ascii_digit);
        if c.is_ascii_digit() {
            raw.push(char::from(c));
            group += 1;
            j += 1;
        } else if matches!(c, b',' | b'.') && digit_at(j + 1) {
            raw.push(char::from(c));
            group = 0;
            j += 1;
        } else if c == b' '
            && !raw.contains([',', '.'])
            && (1..=3).contains(&group)
            && (1..=3).all(|k| digit_at(j + k))
            && !digit_at(j + 4)
        {
            // "1 250" or "12 500 000": a space as the thousands separator (French).
            raw.push(' ');
            group = 0;
            j += 1;
        } else {
            break;
        }
    }
    if let Some(&next) = b.get(j) {
        // "500.00CAD": a currency code glued on is fine.
        let code = b.get(j..j + 3).is_some_and(|w| {
            w.iter().all(u8::is_ascii_uppercase)
                && std::str::from_utf8(w).ok().and_then(Currency::from_code).is_some()
                && !b.get(j + 3).is_some_and(u8::is_ascii_alphanumeric)
        });
        // A date or an identifier running on: "2026-11-20", "12/11", "500A".
        let runs_on = next.is_ascii_alphanumeric()
            || (matches!(next, b'-' | b'/') && b.get(j + 1).is_some_and(u8::is_ascii_digit));
        if runs_on && !code {
            return (j, None);
        }
    }
    (j, Some(read_amount(&raw)))
}

/// Reads an amount strictly: `500`, `500.00`, `1,250.00`, `1.250,00`, `1 250,00`, `1,00,000.00`.
/// The last `.` or `,` is the decimal separator when one or two digits follow it and it is the
/// only one of its kind; the others group thousands (by three, or the Indian 2-2-3). A lone `.`
/// followed by three digits (`1.250`) is refused as ambiguous; a lone `,` (`1,250`) groups.
pub fn read_amount(raw: &str) -> Result<Decimal, String> {
    let bad = || Err(format!("{raw:?} is not an amount"));
    let (int_part, frac) = match raw.rfind([',', '.']) {
        Some(p) => {
            let sep = char::from(raw.as_bytes()[p]);
            let tail = &raw[p + 1..];
            let alone = raw.matches(sep).count() == 1;
            if alone && (1..=2).contains(&tail.len()) {
                (&raw[..p], Some(tail))
            } else if alone && sep == '.' && tail.len() == 3 && !raw[..p].contains([',', ' ']) {
                return Err(format!("{raw:?} is ambiguous (a decimal point or a thousands separator)"));
            } else {
                (raw, None)
            }
        }
        None => (raw, None),
    };
    let mut seps = int_part.chars().filter(|c| !c.is_ascii_digit());
    if let Some(sep) = seps.next() {
        if seps.any(|c| c != sep) {
            return bad();
        }
        let groups: Vec<&str> = int_part.split(sep).collect();
        let (first, rest) = match groups.split_first() {
            Some((f, r)) => (f.len(), r),
            None => return bad(),
        };
        let western = (1..=3).contains(&first) && rest.iter().all(|g| g.len() == 3);
        let indian = sep == ','
            && (1..=2).contains(&first)
            && rest
                .split_last()
                .is_some_and(|(last, lakhs)| last.len() == 3 && lakhs.iter().all(|g| g.len() == 2));
        if !(western || indian) {
            return bad();
        }
    }
    let digits: String = int_part.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() || digits.len() > 15 {
        return bad();
    }
    let text = match frac {
        Some(f) => format!("{digits}.{f}"),
        None => digits,
    };
    text.parse::<Decimal>().map_err(|_| format!("{raw:?} is not an amount"))
}

#[cfg(test)]
mod tests;
