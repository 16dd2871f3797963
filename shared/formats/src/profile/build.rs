//! From one record's field texts to a canonical `Payment`, shared by the three profile readers.
//! Field texts live in slots the reader reuses, so a record costs no allocation beyond the
//! payment's own strings.

use std::str::FromStr;
use std::sync::Arc;

use chrono::NaiveDate;
use remit_domain::model::money::{self, Currency};
use remit_domain::{
    Direction, Ifsc, KeyBasis, Market, Money, PayerAccount, Payment, Provenance, RefText, References,
    SourceFormat, Utr,
};
use rust_decimal::Decimal;

use super::encoding::Encoding;
use super::plan::{FieldPlan, Kind, Loc, Plan, RecordPlan, Role};
use super::schema::Trim;
use super::values::{parse_date, parse_integer, quote};
use crate::csv_rows::has_control;

/// A field that did not fit: the index of the field in its record plan, and why.
#[derive(Debug)]
pub struct FieldFault {
    pub field: usize,
    pub problem: String,
}

fn fault(field: usize, problem: impl Into<String>) -> FieldFault {
    FieldFault { field, problem: problem.into() }
}

/// Decodes one field's bytes into `slot` (cleared first), trimmed as the profile says. `pad`
/// is the space byte in the file's encoding.
pub fn extract(
    encoding: &Encoding,
    f: &FieldPlan,
    raw: &[u8],
    pad: u8,
    slot: &mut String,
) -> Result<(), String> {
    slot.clear();
    let (mut a, mut b) = (0, raw.len());
    if matches!(f.trim, Trim::Both | Trim::Left) {
        while a < b && (raw[a] == pad || raw[a] == b'\t' || raw[a] == b'\r') {
            a += 1;
        }
    }
    if matches!(f.trim, Trim::Both | Trim::Right) {
        while b > a && (raw[b - 1] == pad || raw[b - 1] == b'\t' || raw[b - 1] == b'\r') {
            b -= 1;
        }
    }
    encoding.decode_into(&raw[a..b], slot).map_err(|bad| {
        let at = match f.loc {
            Loc::Bytes { start, .. } => format!("col {}", start + a + bad.at + 1),
            _ => format!("character {} of the value", a + bad.at + 1),
        };
        format!(
            "byte 0x{:02X} at {at} is not a character in {} (is profile.encoding right?)",
            bad.byte,
            encoding.name()
        )
    })
}

/// `extract` for a value already known to be text (its UTF-8 row was validated whole): the
/// same trimming, no decoding.
pub fn extract_text(f: &FieldPlan, text: &str, slot: &mut String) {
    slot.clear();
    let pad = |c: char| c == ' ' || c == '\t' || c == '\r';
    slot.push_str(match f.trim {
        Trim::Both => text.trim_matches(pad),
        Trim::Left => text.trim_start_matches(pad),
        Trim::Right => text.trim_end_matches(pad),
        Trim::None => text,
    });
}

/// Free text (text fields for names, narrations and other references) may hold tabs and line
/// breaks (a quoted CSV cell may span lines); no field may hold any other C0 control
/// character. They are refused, never deleted: a NUL or an escape in a value is a sign of a
/// broken or hostile file, and deleting it would alter the value.
pub fn check_controls(f: &FieldPlan, text: &str) -> Result<(), String> {
    if !has_control(text.as_bytes()) {
        return Ok(());
    }
    let free =
        matches!(f.kind, Kind::Text) && matches!(f.role, Role::PayerName | Role::Narration | Role::Other);
    let bad = text.char_indices().find(|&(_, c)| c < ' ' && !(free && matches!(c, '\t' | '\r' | '\n')));
    match bad {
        None => Ok(()),
        Some((at, c)) => Err(format!(
            "holds the control character U+{:04X} at character {}: {}",
            c as u32,
            text[..at].chars().count() + 1,
            quote(text)
        )),
    }
}

/// `text`, an amount that `Money::new` could not rescale to the currency's decimals (it keeps
/// such an amount with fewer): refused, since it cannot be held exactly.
#[cold]
#[inline(never)]
fn too_large(field: usize, text: &str, currency: Currency) -> FieldFault {
    let decimals = money::minor_digits(currency);
    fault(
        field,
        format!("{} is too large to hold with the {decimals} decimals of {}", quote(text), currency.code()),
    )
}

/// Checks required fields and that every typed field parses (also those kept as references).
pub fn check_fields(rec: &RecordPlan, slots: &[String]) -> Result<(), FieldFault> {
    for (i, f) in rec.fields.iter().enumerate() {
        let text = slots[i].as_str();
        if text.is_empty() {
            if f.required {
                return Err(fault(i, "is empty"));
            }
            continue;
        }
        if f.role == Role::Other {
            match &f.kind {
                Kind::Text => {}
                Kind::Amount(r) => drop(r.parse(text).map_err(|e| fault(i, e))?),
                Kind::Date(p) => drop(parse_date(p, text).map_err(|e| fault(i, e))?),
                Kind::Integer => drop(parse_integer(text).map_err(|e| fault(i, e))?),
                Kind::Direction { .. } => drop(direction(f, text).map_err(|e| fault(i, e))?),
            }
        }
    }
    Ok(())
}

fn direction(f: &FieldPlan, text: &str) -> Result<Direction, String> {
    let Kind::Direction { credit, debit } = &f.kind else { return Ok(Direction::Credit) };
    let t = text.trim();
    if credit.iter().any(|c| c.eq_ignore_ascii_case(t)) {
        Ok(Direction::Credit)
    } else if debit.iter().any(|d| d.eq_ignore_ascii_case(t)) {
        Ok(Direction::Debit)
    } else {
        Err(format!(
            "{} is neither credit ({}) nor debit ({})",
            quote(text),
            credit.join("/"),
            debit.join("/")
        ))
    }
}

/// An amount field's value.
pub fn amount_of(rec: &RecordPlan, slots: &[String], role: Role) -> Result<Option<Decimal>, FieldFault> {
    let Some(i) = rec.field(role) else { return Ok(None) };
    let Kind::Amount(rule) = &rec.fields[i].kind else { return Ok(None) };
    if slots[i].is_empty() {
        return Ok(None);
    }
    rule.parse(&slots[i]).map(Some).map_err(|e| fault(i, e))
}

/// A date field's value.
pub fn date_of(rec: &RecordPlan, slots: &[String], role: Role) -> Result<Option<NaiveDate>, FieldFault> {
    let Some(i) = rec.field(role) else { return Ok(None) };
    let Kind::Date(p) = &rec.fields[i].kind else { return Ok(None) };
    if slots[i].is_empty() {
        return Ok(None);
    }
    parse_date(p, &slots[i]).map(Some).map_err(|e| fault(i, e))
}

/// An integer field's value.
pub fn integer_of(rec: &RecordPlan, slots: &[String], role: Role) -> Result<Option<u64>, FieldFault> {
    let Some(i) = rec.field(role) else { return Ok(None) };
    if slots[i].is_empty() {
        return Ok(None);
    }
    parse_integer(&slots[i]).map(Some).map_err(|e| fault(i, e))
}

fn text_of<'a>(rec: &RecordPlan, slots: &'a [String], role: Role) -> Option<(usize, &'a str)> {
    let i = rec.field(role)?;
    let t = slots[i].as_str();
    (!t.is_empty()).then_some((i, t))
}

/// What the header (or the profile) says about every payment of a file.
#[derive(Debug, Clone)]
pub struct FileState {
    pub source_bank: Arc<str>,
    pub currency: Currency,
    pub file_date: Option<NaiveDate>,
}

impl FileState {
    /// The profile's defaults, before any header is read.
    pub fn new(plan: &Plan) -> Self {
        Self { source_bank: plan.source_bank.clone(), currency: plan.currency, file_date: None }
    }

    /// Applies a header record's fields.
    pub fn apply_header(&mut self, rec: &RecordPlan, slots: &[String]) -> Result<(), FieldFault> {
        check_fields(rec, slots)?;
        if let Some((_, bank)) = text_of(rec, slots, Role::SourceBank) {
            self.source_bank = bank.into();
        }
        if let Some((i, c)) = text_of(rec, slots, Role::Currency) {
            self.currency = money::currency(&c.to_ascii_uppercase())
                .map_err(|_| fault(i, format!("{} is not an ISO 4217 currency code", quote(c))))?;
        }
        self.file_date = date_of(rec, slots, Role::FileDate)?;
        Ok(())
    }
}

/// Turns one detail record's field texts into a payment, or names the field that is wrong.
pub fn build(
    plan: &Plan,
    slots: &[String],
    file: &FileState,
    source: Provenance,
) -> Result<Payment, FieldFault> {
    let rec = &plan.detail;
    check_fields(rec, slots)?;
    let amount_i = rec.field(Role::Amount).unwrap_or(0);
    let currency = match text_of(rec, slots, Role::Currency) {
        Some((i, c)) => money::currency(&c.to_ascii_uppercase())
            .map_err(|_| fault(i, format!("{} is not an ISO 4217 currency code", quote(c))))?,
        None => file.currency,
    };
    let amount = amount_of(rec, slots, Role::Amount)?.ok_or_else(|| fault(amount_i, "is empty"))?;
    if amount.is_zero() {
        return Err(fault(
            amount_i,
            format!("{} is zero; a payment must be positive", quote(&slots[amount_i])),
        ));
    }
    let amount = Money::new(amount, currency).map_err(|e| fault(amount_i, e.to_string()))?;
    // `Money::new` rescales to the currency's decimals; another scale means it could not.
    if amount.amount().scale() != money::minor_digits(currency) {
        return Err(too_large(amount_i, &slots[amount_i], currency));
    }
    let value_date = match date_of(rec, slots, Role::ValueDate)? {
        Some(d) => d,
        None => {
            file.file_date.ok_or_else(|| fault(rec.field(Role::ValueDate).unwrap_or(amount_i), "is empty"))?
        }
    };
    let booking_date = date_of(rec, slots, Role::BookingDate)?;
    let direction = match text_of(rec, slots, Role::Direction) {
        Some((i, t)) => direction(&rec.fields[i], t).map_err(|e| fault(i, e))?,
        None => Direction::Credit,
    };

    let mut warnings = Vec::new();
    let utr = match text_of(rec, slots, Role::Utr) {
        // The domain's error quotes the whole value; ours quotes it through `quote`.
        Some((i, t)) => Some(
            Utr::from_str(t)
                .map_err(|_| fault(i, format!("UTR {} must be 1 to 35 letters or digits", quote(t))))?,
        ),
        None => None,
    };
    let bank_ref = match (&utr, text_of(rec, slots, Role::BankRef)) {
        (_, Some((_, r))) => r.to_string(),
        (Some(u), None) => u.key(),
        (None, None) => String::new(),
    };
    let key_basis = if bank_ref.is_empty() { KeyBasis::FilePosition } else { plan.key_basis };

    let account = text_of(rec, slots, Role::PayerAccount).map(|(_, t)| t);
    let institution = text_of(rec, slots, Role::PayerInstitution).map(|(_, t)| t);
    let transit = text_of(rec, slots, Role::PayerTransit).map(|(_, t)| t);
    let ifsc_text = text_of(rec, slots, Role::PayerIfsc).map(|(_, t)| t);
    let payer_account = if institution.is_some() || transit.is_some() {
        Some(PayerAccount::Canadian {
            institution: institution.unwrap_or_default().to_string(),
            transit: transit.unwrap_or_default().to_string(),
            account: account.unwrap_or_default().to_string(),
        })
    } else if let Some(account) = account {
        if plan.market == Market::IN || ifsc_text.is_some() {
            let ifsc = ifsc_text.and_then(|t| match Ifsc::from_str(t) {
                Ok(i) => Some(i),
                Err(_) => {
                    warnings.push(format!(
                        "remitter IFSC {} is not a valid IFSC; kept the account without it",
                        quote(t)
                    ));
                    None
                }
            });
            Some(PayerAccount::Remitter { account: account.to_string(), ifsc })
        } else {
            Some(PayerAccount::Other(account.to_string()))
        }
    } else {
        None
    };

    let mut references = References {
        cross_reference: text_of(rec, slots, Role::AccountReference).map(|(_, t)| RefText::from(t)),
        utr,
        ..References::default()
    };
    let va = text_of(rec, slots, Role::VirtualAccount).map(|(_, t)| t);
    let payer_code = text_of(rec, slots, Role::PayerCode).map(|(_, t)| t);
    match (&plan.virtual_account, va, payer_code) {
        (Some((client, len)), Some(va), _) => {
            match va.strip_prefix(client.as_str()) {
                Some(code) if len.is_none_or(|n| code.len() == n) => {
                    references.other.push(("payer_code".into(), RefText::from(code)));
                }
                _ => warnings.push(format!(
                    "virtual account {} is not client code {client} plus a payer code{}",
                    quote(va),
                    len.map(|n| format!(" of {n} characters")).unwrap_or_default()
                )),
            }
            references.virtual_account = Some(RefText::from(va));
        }
        (Some((client, _)), None, Some(code)) => {
            references.virtual_account = Some(RefText::new(format!("{client}{code}")));
            references.other.push(("payer_code".into(), RefText::from(code)));
        }
        (_, va, code) => {
            references.virtual_account = va.map(RefText::from);
            if let Some(code) = code {
                references.other.push(("payer_code".into(), RefText::from(code)));
            }
        }
    }
    if let Some((_, n)) = text_of(rec, slots, Role::Narration) {
        references.remittance.push(RefText::from(n));
    }
    for (i, f) in rec.fields.iter().enumerate() {
        if f.role == Role::Other && !slots[i].is_empty() {
            references.other.push((f.key.clone(), RefText::from(slots[i].as_str())));
        }
    }

    Ok(Payment {
        market: plan.market,
        format: SourceFormat::Profile,
        source_bank: file.source_bank.clone(),
        bank_ref,
        key_basis,
        amount,
        direction,
        reversal: false,
        value_date,
        booking_date,
        payer_name: text_of(rec, slots, Role::PayerName).map(|(_, t)| t.to_string()),
        payer_account,
        references,
        source,
        warnings,
    })
}
