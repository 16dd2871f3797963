//! What every Indian e-collect record carries, whatever the bank calls it, and how its text
//! becomes a `Payment`. CSV and JSON readers only find the values; this module judges them, so
//! both formats accept and refuse exactly the same amounts, dates and references.

use std::borrow::Cow;
use std::str::FromStr;
use std::sync::OnceLock;

use chrono::{NaiveDate, NaiveTime};
use remit_domain::model::money::{self, Currency};
use remit_domain::{
    mask_card_numbers, Direction, Ifsc, KeyBasis, Market, Money, PayerAccount, Payment, Provenance, RefText,
    References, SourceFormat, Utr,
};
use rust_decimal::Decimal;

use crate::csv_rows::has_control;
use crate::shown;

/// The bank that collected the money is not named by these files, so every e-collect payment
/// shares one source for its key; the UTR alone is unique across Indian banks. The key is then
/// market + this source + UTR, whatever the format (CSV MIS or JSON alert) and file carrying it,
/// so a bank retrying an alert, or reporting it again in its MIS, posts nothing twice.
pub(crate) const SOURCE_BANK: &str = "ecollect";

/// A canonical e-collect field.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Field {
    Utr,
    VirtualAccount,
    RemitterName,
    RemitterAccount,
    RemitterIfsc,
    Amount,
    Date,
    /// The transaction (booking) date, when a file gives one beside the value date.
    TxnDate,
    Mode,
    Narration,
    Currency,
    DebitCredit,
    AlertSequence,
}

impl Field {
    pub(crate) const ALL: [Field; 13] = [
        Field::Utr,
        Field::VirtualAccount,
        Field::RemitterName,
        Field::RemitterAccount,
        Field::RemitterIfsc,
        Field::Amount,
        Field::Date,
        Field::TxnDate,
        Field::Mode,
        Field::Narration,
        Field::Currency,
        Field::DebitCredit,
        Field::AlertSequence,
    ];
    pub(crate) const COUNT: usize = Self::ALL.len();

    /// Names banks use for this field, most specific first.
    pub(crate) fn synonyms(self) -> &'static [&'static str] {
        match self {
            Field::Amount => &[
                "Amount",
                "Amount (INR)",
                "Txn Amount",
                "Transaction Amount",
                "Amt",
                "Credit Amount",
                "Cr Amount",
            ],
            Field::Utr => &[
                "UTR",
                "UTR No",
                "UTR Number",
                "User Reference Number",
                "Transaction Reference",
                "Bank Reference No",
                "RRN",
            ],
            Field::VirtualAccount => &[
                "Virtual Account",
                "Virtual Account No",
                "Virtual Account Number",
                "VAN",
                "Beneficiary Account No",
                "Collection Account",
            ],
            Field::RemitterName => &["Remitter Name", "Sender Name", "Payer Name", "Customer Name"],
            Field::RemitterAccount => &[
                "Remitter Account",
                "Remitter A/c No",
                "Remitter Account No",
                "Remitter Account Number",
                "Sender Account Number",
                "Payer Account",
            ],
            Field::RemitterIfsc => &["Remitter IFSC", "IFSC", "Sender IFSC", "IFSC Code"],
            Field::Date => &["Value Date", "Date", "Credit Date"],
            Field::TxnDate => &["Transaction Date", "Txn Date", "Tran Date", "Posting Date"],
            Field::Mode => &["Mode", "Payment Mode", "Txn Type", "Transfer Type", "Mnemonic Code"],
            Field::Narration => &["Narration", "Remarks", "Description", "Transaction Description"],
            Field::Currency => &["Currency", "Ccy"],
            Field::DebitCredit => &["Debit Credit", "Dr/Cr", "Cr/Dr", "Type"],
            Field::AlertSequence => &["Alert Sequence No", "Alert Sequence Number", "Alert Seq No"],
        }
    }

    /// The name used in errors when the file never named the field.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Field::Utr => "User Reference Number",
            Field::Amount => "Transaction Amount",
            Field::Date => "Value Date",
            other => other.synonyms()[0],
        }
    }

    /// Recognises a header or key, ignoring case, spaces and punctuation; also returns the
    /// synonym's rank so the most specific of two matching columns wins.
    pub(crate) fn for_name(name: &str) -> Option<(Field, usize)> {
        static TABLE: OnceLock<Vec<(String, Field, usize)>> = OnceLock::new();
        let table = TABLE.get_or_init(|| {
            Field::ALL
                .iter()
                .flat_map(|&f| f.synonyms().iter().enumerate().map(move |(rank, s)| (normalise(s), f, rank)))
                .collect()
        });
        let n = normalise(name);
        table.iter().find(|(s, _, _)| *s == n).map(|&(_, f, rank)| (f, rank))
    }
}

/// Lower-case letters and digits only: "Remitter A/c No." and "remitter a/c no" are one name.
pub(crate) fn normalise(name: &str) -> String {
    name.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// The raw text of one record, by canonical field; empty values count as absent.
#[derive(Default, Debug, Clone)]
pub(crate) struct RawRecord {
    values: [Option<String>; Field::COUNT],
    /// Set by a reader that scanned the whole record and found no control character, so
    /// `build_payment` need not check field by field.
    pub(crate) no_controls: bool,
}

impl RawRecord {
    pub(crate) fn set(&mut self, field: Field, value: &str) {
        let v = value.trim();
        self.values[field as usize] = (!v.is_empty()).then(|| v.to_string());
    }

    pub(crate) fn get(&self, field: Field) -> Option<&str> {
        self.values[field as usize].as_deref()
    }

    pub(crate) fn clear(&mut self) {
        for v in &mut self.values {
            *v = None;
        }
        self.no_controls = false;
    }
}

/// A field whose value is missing or wrong; the reader adds where it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldProblem {
    pub field: Field,
    pub problem: String,
}

fn problem(field: Field, text: impl Into<String>) -> FieldProblem {
    FieldProblem { field, problem: text.into() }
}

/// Input quoted in a message: card numbers masked first (so a cut cannot leave a card's digits
/// unmasked), then made safe to print and cut short by `shown`.
pub(crate) fn quote(text: &str) -> String {
    format!("\"{}\"", shown(&mask_card_numbers(text)))
}

/// Free text (names, narrations) may hold tabs and, inside quotes, line breaks; no field may
/// hold any other C0 control character. They are refused, never deleted: a NUL or an escape
/// in a reference is a sign of a broken or hostile file, and deleting it would alter the value.
fn check_controls(field: Field, text: &str) -> Result<(), FieldProblem> {
    if !has_control(text.as_bytes()) {
        return Ok(());
    }
    let free = matches!(field, Field::RemitterName | Field::Narration);
    let bad = text.char_indices().find(|&(_, c)| c < ' ' && !(free && matches!(c, '\t' | '\r' | '\n')));
    match bad {
        None => Ok(()),
        Some((at, c)) => Err(problem(
            field,
            format!(
                "holds the control character U+{:04X} at character {}: {}",
                c as u32,
                text[..at].chars().count() + 1,
                quote(text)
            ),
        )),
    }
}

/// The amount as `Money` in `currency`, refused unless it keeps every one of the currency's
/// decimals: `Money::new` cannot rescale a 28-digit amount to two decimals and would keep it
/// with fewer.
fn exact_money(amount: Decimal, currency: Currency, text: &str) -> Result<Money, String> {
    let m = Money::new(amount, currency).map_err(|e| e.to_string())?;
    let decimals = money::minor_digits(currency);
    if m.amount().scale() != decimals {
        return Err(format!(
            "amount {} is too large to hold with the {decimals} decimals of {}",
            quote(text),
            currency.code()
        ));
    }
    Ok(m)
}

/// Strips a leading prefix, ignoring ASCII case.
fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

/// True when comma groups follow the western (`123,456`) or Indian lakh (`1,23,456`) pattern.
fn valid_grouping(int: &str) -> bool {
    let groups: Vec<&str> = int.split(',').collect();
    if groups.iter().any(|g| g.is_empty() || !g.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    if groups.len() == 1 {
        return true;
    }
    let (first, rest) = (groups[0], &groups[1..]);
    let (middle, last) = rest.split_at(rest.len() - 1);
    if last[0].len() != 3 {
        return false;
    }
    let western = first.len() <= 3 && middle.iter().all(|g| g.len() == 3);
    let lakh = first.len() <= 2 && middle.iter().all(|g| g.len() == 2);
    western || lakh
}

/// Parses an amount as banks write it: `1,23,456.78`, `123,456.78`, `123456.78`, with an
/// optional `INR`, `Rs.` or `₹` in front. Zero and negative amounts are refused.
pub(crate) fn parse_amount(text: &str) -> Result<Decimal, String> {
    let bad = |why: &str| format!("amount {} {why}", quote(text));
    let mut t = text.trim();
    for prefix in ["INR", "Rs.", "Rs", "₹"] {
        if let Some(rest) = strip_prefix_ci(t, prefix) {
            t = rest.trim_start();
            break;
        }
    }
    if t.starts_with('-') || (t.starts_with('(') && t.ends_with(')')) {
        return Err(bad("is negative; a credit must be positive"));
    }
    let t = t.strip_prefix('+').unwrap_or(t);
    let (int, frac) = match t.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (t, None),
    };
    if int.is_empty() || !valid_grouping(int) {
        return Err(bad("is not a number (expected e.g. 1,23,456.78 or 123456.78)"));
    }
    if let Some(f) = frac {
        if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("is not a number (expected e.g. 1,23,456.78 or 123456.78)"));
        }
        if f.trim_end_matches('0').len() > 2 {
            return Err(bad("has more than 2 decimals"));
        }
    }
    let digits: Cow<str> = if int.contains(',') { int.replace(',', "").into() } else { int.into() };
    let amount = remit_domain::model::money::decimal_of_digits(&digits, frac.unwrap_or(""))
        .ok_or_else(|| bad("has more digits than an amount can hold exactly (29 at most)"))?;
    if amount.is_zero() {
        return Err(bad("is zero; a payment must be positive"));
    }
    Ok(amount)
}

fn month_number(m: &str) -> Option<u32> {
    if !m.is_empty() && m.len() <= 2 && m.bytes().all(|b| b.is_ascii_digit()) {
        return m.parse().ok();
    }
    const MONTHS: [&str; 12] =
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    let lower = m.to_ascii_lowercase();
    let pos = MONTHS.iter().position(|&x| x == lower || (lower == "sept" && x == "sep"))?;
    Some(pos as u32 + 1)
}

fn small_number(s: &str, max_len: usize) -> Option<u32> {
    (!s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// Parses `DD-MM-YYYY`, `DD/MM/YYYY`, `YYYY-MM-DD` or `DD-Mon-YYYY`, optionally followed by a
/// `hh:mm:ss` time (ignored: payments are dated, not timed). Two-digit years are refused as
/// ambiguous.
pub(crate) fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let bad = || {
        format!(
            "date {} is not a date (expected DD-MM-YYYY, DD/MM/YYYY, YYYY-MM-DD or DD-Mon-YYYY)",
            quote(text)
        )
    };
    let t = text.trim();
    let iso_t = t.len() > 10 && t.as_bytes()[10] == b'T' && t.as_bytes()[..4].iter().all(u8::is_ascii_digit);
    let (date, time) = if iso_t {
        (&t[..10], Some(&t[11..]))
    } else {
        match t.split_once(char::is_whitespace) {
            Some((d, rest)) => (d, Some(rest.trim())),
            None => (t, None),
        }
    };
    if let Some(time) = time {
        let ok = NaiveTime::parse_from_str(time, "%H:%M:%S").is_ok()
            || NaiveTime::parse_from_str(time, "%H:%M:%S%.f").is_ok()
            || NaiveTime::parse_from_str(time, "%H:%M").is_ok();
        if !ok {
            return Err(format!("date {} has a time that is not hh:mm:ss", quote(text)));
        }
    }
    let sep = if date.contains('/') { '/' } else { '-' };
    let parts: Vec<&str> = date.split(sep).collect();
    if parts.len() != 3 {
        return Err(bad());
    }
    let (y, m, d) = if parts[0].len() == 4 && sep == '-' {
        (small_number(parts[0], 4), small_number(parts[1], 2), small_number(parts[2], 2))
    } else {
        let y = (parts[2].len() == 4).then(|| small_number(parts[2], 4)).flatten();
        (y, month_number(parts[1]), small_number(parts[0], 2))
    };
    let (Some(y), Some(m), Some(d)) = (y, m, d) else {
        return Err(bad());
    };
    NaiveDate::from_ymd_opt(y as i32, m, d).ok_or_else(|| format!("date {} does not exist", quote(text)))
}

/// Reads a debit/credit flag; absent means credit, as e-collect files are credit files.
pub(crate) fn parse_direction(text: Option<&str>) -> Result<Direction, String> {
    let Some(t) = text else { return Ok(Direction::Credit) };
    match t.trim().to_ascii_uppercase().as_str() {
        "C" | "CR" | "CREDIT" => Ok(Direction::Credit),
        "D" | "DR" | "DEBIT" => Ok(Direction::Debit),
        _ => Err(format!("debit/credit flag {} is neither C/CR/Credit nor D/DR/Debit", quote(t))),
    }
}

/// Turns one record's text into a canonical payment, or names the first field that is wrong.
pub(crate) fn build_payment(
    raw: &RawRecord,
    format: SourceFormat,
    source: Provenance,
) -> Result<Payment, FieldProblem> {
    let required = |f: Field| raw.get(f).ok_or_else(|| problem(f, "is missing"));
    if !raw.no_controls {
        for f in Field::ALL {
            if let Some(text) = raw.get(f) {
                check_controls(f, text)?;
            }
        }
    }

    let utr_text = required(Field::Utr)?;
    // The domain's errors quote the whole value; ours quote it through `quote`.
    let utr = Utr::from_str(utr_text).map_err(|_| {
        problem(Field::Utr, format!("UTR {} must be 1 to 35 letters or digits", quote(utr_text)))
    })?;

    let currency: Currency = match raw.get(Field::Currency) {
        Some(c) => money::currency(&c.to_ascii_uppercase()).map_err(|_| {
            problem(Field::Currency, format!("{} is not an ISO 4217 currency code", quote(c)))
        })?,
        None => Currency::INR,
    };
    let amount_text = required(Field::Amount)?;
    let amount = parse_amount(amount_text).map_err(|e| problem(Field::Amount, e))?;
    let amount = exact_money(amount, currency, amount_text).map_err(|e| problem(Field::Amount, e))?;

    let direction =
        parse_direction(raw.get(Field::DebitCredit)).map_err(|e| problem(Field::DebitCredit, e))?;

    // Every date the record carries is checked. The transaction date is the booking date; a bad
    // one is an oddity of the record (kept, with a warning that sends it to a person), and it
    // stands in for a value date the record lacks.
    let mut warnings = Vec::new();
    let txn_date = raw.get(Field::TxnDate).map(|t| (t, parse_date(t)));
    let value_date = match (raw.get(Field::Date), &txn_date) {
        (Some(text), _) => parse_date(text).map_err(|e| problem(Field::Date, e))?,
        (None, Some((_, Ok(d)))) => *d,
        (None, Some((_, Err(e)))) => return Err(problem(Field::TxnDate, e.clone())),
        (None, None) => return Err(problem(Field::Date, "is missing")),
    };
    let booking_date = match txn_date {
        None => None,
        Some((_, Ok(d))) => Some(d),
        Some((text, Err(_))) => {
            warnings.push(format!("transaction date {} is not a date: read without it", quote(text)));
            None
        }
    };

    let ifsc = raw.get(Field::RemitterIfsc).and_then(|text| match Ifsc::from_str(text) {
        Ok(i) => Some(i),
        Err(_) => {
            warnings.push(format!(
                "remitter IFSC {} is not a valid IFSC (4 letters, 0, 6 letters or digits); kept the account without it",
                quote(text)
            ));
            None
        }
    });
    // An IFSC without an account names a branch, not a payer: it is dropped.
    let payer_account = raw
        .get(Field::RemitterAccount)
        .map(|account| PayerAccount::Remitter { account: account.to_string(), ifsc });

    let mut references = References {
        virtual_account: raw.get(Field::VirtualAccount).map(RefText::from),
        utr: Some(utr.clone()),
        ..References::default()
    };
    if let Some(n) = raw.get(Field::Narration) {
        references.remittance.push(RefText::from(n));
    }
    if let Some(m) = raw.get(Field::Mode) {
        references.other.push(("mode".into(), RefText::from(m)));
    }
    if let Some(s) = raw.get(Field::AlertSequence) {
        references.other.push(("alert_sequence".into(), RefText::from(s)));
    }

    Ok(Payment {
        market: Market::IN,
        format,
        source_bank: SOURCE_BANK.into(),
        bank_ref: utr.key(),
        key_basis: KeyBasis::BankReference,
        amount,
        direction,
        reversal: false,
        value_date,
        booking_date,
        payer_name: raw.get(Field::RemitterName).map(str::to_string),
        payer_account,
        references,
        source,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn amounts_in_every_grouping() {
        assert_eq!(parse_amount("1,23,456.78").unwrap(), dec!(123456.78));
        assert_eq!(parse_amount("12,34,56,789.00").unwrap(), dec!(123456789.00));
        assert_eq!(parse_amount("123,456.78").unwrap(), dec!(123456.78));
        assert_eq!(parse_amount("1,234,567").unwrap(), dec!(1234567));
        assert_eq!(parse_amount("123456.78").unwrap(), dec!(123456.78));
        assert_eq!(parse_amount("INR 5,000.00").unwrap(), dec!(5000));
        assert_eq!(parse_amount("Rs.5000").unwrap(), dec!(5000));
        assert_eq!(parse_amount("₹ 45,000").unwrap(), dec!(45000));
        assert_eq!(parse_amount("100.500").unwrap(), dec!(100.5), "trailing zeros are not precision");
    }

    #[test]
    fn amounts_refused() {
        for bad in ["", "abc", "1,2345.00", "12,3,456", "1.234", "-5.00", "0.00", "1.", "1e5", "1,23,45"] {
            let err = parse_amount(bad).unwrap_err();
            assert!(err.contains(&format!("{bad:?}")), "{err}");
        }
        assert!(parse_amount("1.234").unwrap_err().contains("more than 2 decimals"));
    }

    #[test]
    fn each_date_format() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        for s in [
            "21-11-2026",
            "21/11/2026",
            "2026-11-21",
            "21-Nov-2026",
            "21-NOV-2026",
            "21-11-2026 14:05:09",
            "21/11/2026 09:30:00",
            "2026-11-21T14:05:09",
            "21-Nov-2026 23:59:59",
        ] {
            assert_eq!(parse_date(s), Ok(d), "{s}");
        }
        assert_eq!(parse_date("01-Oct-2026"), Ok(NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()));
        for bad in ["31-02-2026", "21-11-26", "2026/11/21", "21-Foo-2026", "21-11-2026 25:00:00", "x"] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn header_synonyms_ignore_case_and_punctuation() {
        assert_eq!(Field::for_name("AMOUNT (INR)").map(|f| f.0), Some(Field::Amount));
        assert_eq!(Field::for_name("remitter a/c no.").map(|f| f.0), Some(Field::RemitterAccount));
        assert_eq!(Field::for_name("Dr/Cr").map(|f| f.0), Some(Field::DebitCredit));
        assert_eq!(Field::for_name("txn type").map(|f| f.0), Some(Field::Mode));
        assert_eq!(Field::for_name("Sr No"), None);
    }
}
