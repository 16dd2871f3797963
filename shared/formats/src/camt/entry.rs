//! One `Ntry` accumulated from the event stream, and how it becomes canonical payments.
//! Kept apart from the XML walk so the business rules (amount fall-backs, batch checks,
//! warnings) read without event plumbing around them.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::Arc;

use chrono::NaiveDate;
use remit_domain::model::identifiers::IdentifierError;
use remit_domain::model::money::{currency, minor_digits, Currency, MoneyError};
use remit_domain::{
    mask_card_numbers, CreditorReference, Direction, Iban, KeyBasis, Market, Money, PayerAccount, Payment,
    Provenance, RefText, References, SourceFormat,
};
use rust_decimal::Decimal;

use crate::{shown, Location, ParseError, SourceContext};

/// What the enclosing `Ntfctn` / `Stmt` says about every entry in it, and its control total.
#[derive(Debug, Default, Clone)]
pub(super) struct Report {
    pub format: Option<SourceFormat>,
    /// Label for error paths: `Ntfctn`, `Stmt`, `Stmt[2]`... Shared with its entries.
    pub label: Arc<str>,
    pub id: Option<String>,
    pub iban: Option<String>,
    pub bic: Option<String>,
    /// The report's own date (`CreDtTm`, else `FrToDt/ToDtTm`): a fallback for its entries.
    pub created: Option<NaiveDate>,
    pub to_date: Option<NaiveDate>,
    /// `source_bank()` as shared by the payments, built once per report (see `bank`).
    bank: Option<Arc<str>>,
    bal: BalanceDraft,
    opening_opbd: Option<Money>,
    opening_prcd: Option<Money>,
    closing: Option<Money>,
    /// Signed sum of the booked entries so far, and their currency (first one seen).
    booked: Decimal,
    booked_ccy: Option<remit_domain::model::money::Currency>,
    mixed_ccy: bool,
    booked_entries: u64,
}

/// One `Bal` as read so far.
#[derive(Debug, Default, Clone)]
struct BalanceDraft {
    code: Option<String>,
    amount: Option<Money>,
    direction: Option<Direction>,
}

impl Report {
    /// A fresh report of a message type, the `no`-th in its file.
    pub fn new(format: SourceFormat, no: u64) -> Self {
        let name = report_name(format);
        let label: Arc<str> = if no > 1 { format!("{name}[{no}]").into() } else { name.into() };
        Report { format: Some(format), label, ..Report::default() }
    }

    fn format(&self) -> SourceFormat {
        self.format.unwrap_or(SourceFormat::Camt054)
    }

    /// The date an entry without dates falls back on, after its transactions' settlement date:
    /// the report's, else the message's creation date; and where it came from, for the warning.
    pub fn fallback_date(&self, message_created: Option<NaiveDate>) -> Option<(NaiveDate, String)> {
        let name = report_name(self.format());
        self.created
            .map(|d| (d, format!("the {name}'s CreDtTm")))
            .or_else(|| self.to_date.map(|d| (d, format!("the {name}'s FrToDt/ToDtTm"))))
            .or_else(|| message_created.map(|d| (d, "the message's GrpHdr/CreDtTm".to_string())))
    }

    /// The key part naming the sender: servicer BIC, else the notified account, else unknown.
    fn source_bank(&self) -> String {
        self.bic.clone().or_else(|| self.iban.clone()).unwrap_or_else(|| "unknown".to_string())
    }

    /// `source_bank()` shared by every payment of the report: built on first use, and again
    /// only if the BIC or IBAN changes after that (see `set_iban` / `set_bic`).
    fn bank(&mut self) -> Arc<str> {
        if let Some(bank) = &self.bank {
            return bank.clone();
        }
        let bank: Arc<str> = self.source_bank().into();
        self.bank = Some(bank.clone());
        bank
    }

    pub fn set_iban(&mut self, iban: Option<String>) {
        self.iban = iban;
        self.bank = None;
    }

    pub fn set_bic(&mut self, bic: Option<String>) {
        self.bic = bic;
        self.bank = None;
    }

    pub fn start_balance(&mut self) {
        self.bal = BalanceDraft::default();
    }

    pub fn balance_code(&mut self, code: &str) {
        self.bal.code = Some(code.to_string());
    }

    pub fn balance_amount(&mut self, m: Money) {
        self.bal.amount = Some(m);
    }

    pub fn balance_direction(&mut self, d: Direction) {
        self.bal.direction = Some(d);
    }

    /// Files the finished `Bal`: OPBD (or, failing it, PRCD) opens, CLBD closes; the other
    /// types (ITBD, CLAV, FWAV...) are not part of the control total.
    pub fn end_balance(&mut self) {
        let bal = std::mem::take(&mut self.bal);
        let Some(amount) = bal.amount else { return };
        let signed = if bal.direction == Some(Direction::Debit) { amount.negated() } else { amount };
        match bal.code.as_deref() {
            Some("OPBD") => self.opening_opbd = Some(signed),
            Some("PRCD") => self.opening_prcd = Some(signed),
            Some("CLBD") => self.closing = Some(signed),
            _ => {}
        }
    }

    /// Adds a finished entry to the control total. Only booked entries move the balance.
    /// Reversals count as their `CdtDbtInd` says: ISO 20022 reports the reversal of a credit as a
    /// DBIT with `RvslInd` true (the money left the account), so the indicator alone gives the
    /// sign; we do not flip it again for `RvslInd`.
    /// The sum is checked: entries that add up past what a decimal holds refuse the file,
    /// naming the entry's `Amt`.
    pub fn count_entry(&mut self, entry: &Entry, ctx: &SourceContext) -> Result<(), ParseError> {
        if entry.status.as_deref() != Some("BOOK") {
            return Ok(());
        }
        let (Some(amount), Some(direction)) = (entry.amount, entry.direction) else { return Ok(()) };
        match self.booked_ccy {
            None => self.booked_ccy = Some(amount.currency()),
            Some(c) if c != amount.currency() => self.mixed_ccy = true,
            Some(_) => {}
        }
        let booked = match direction {
            Direction::Credit => remit_domain::model::money::add_keeping_scale(self.booked, amount.amount()),
            Direction::Debit => remit_domain::model::money::add_keeping_scale(self.booked, -amount.amount()),
        };
        self.booked = booked.ok_or_else(|| {
            entry.missing(
                ctx,
                "Amt",
                &format!(
                    "amount {amount} takes the sum of the booked entries past what a decimal holds \
                     exactly: the control total cannot be computed"
                ),
            )
        })?;
        self.booked_entries += 1;
        Ok(())
    }

    /// The statement's control total: opening balance + booked entries = closing balance.
    /// A statement without an opening or a closing balance has no control total, so no check.
    pub fn check_balances(&self) -> Result<(), String> {
        let (Some(opening), Some(closing)) = (self.opening_opbd.or(self.opening_prcd), self.closing) else {
            return Ok(());
        };
        let id = shown(self.id.as_deref().unwrap_or("(no Id)"));
        let ccy = opening.currency();
        if self.mixed_ccy || self.booked_ccy.is_some_and(|c| c != ccy) || closing.currency() != ccy {
            return Err(format!(
                "statement {id}: balances in {} and booked entries in other currencies: the control total cannot hold",
                ccy.code()
            ));
        }
        let expected = remit_domain::model::money::add_keeping_scale(opening.amount(), self.booked)
            .ok_or_else(|| {
                format!(
                    "statement {id}: opening balance {opening} + booked entries ({:+}) is past what a \
                 decimal holds exactly: the control total cannot be computed",
                    self.booked
                )
            })?;
        if expected != closing.amount() {
            return Err(format!(
                "statement {id}: opening balance {opening} + {} booked entries ({:+}) = {expected} {}, but the closing balance (CLBD) is {closing}: control total disagrees",
                self.booked_entries,
                self.booked,
                ccy.code()
            ));
        }
        Ok(())
    }
}

/// Why an intraday (camt.052) payment keyed by its place in the file waits for a person.
const INTRADAY_WITHOUT_REFERENCE: &str = "intraday report entry without AcctSvcrRef or UETR: the \
     statement's copy of it cannot be recognised, so it is not posted automatically";

/// The report element's name in each message: `Ntfctn`, `Stmt` or `Rpt`.
pub(super) fn report_name(format: SourceFormat) -> &'static str {
    match format {
        SourceFormat::Camt053 => "Stmt",
        SourceFormat::Camt052 => "Rpt",
        _ => "Ntfctn",
    }
}

/// One `Strd/CdtrRefInf`: the reference and the type it claims.
#[derive(Debug, Default)]
pub(super) struct CdtrRef {
    /// Borrowed for the usual `SCOR`, owned otherwise.
    pub code: Option<Cow<'static, str>>,
    pub proprietary: Option<String>,
    pub reference: Option<String>,
}

/// `NtryDtls/Btch` control figures and the `TxDtls` range they describe.
#[derive(Debug, Default)]
pub(super) struct Batch {
    pub nb_of_txs: Option<String>,
    pub total: Option<Money>,
    pub first_tx: usize,
    pub end_tx: usize,
}

/// One `TxDtls`: one payment.
#[derive(Debug, Default)]
pub(super) struct Tx {
    pub end_to_end_id: Option<String>,
    pub acct_svcr_ref: Option<String>,
    pub instr_id: Option<String>,
    pub tx_id: Option<String>,
    pub uetr: Option<String>,
    pub amount: Option<Money>,
    pub amount_dtls: Option<Money>,
    pub direction: Option<Direction>,
    /// `RltdDts/IntrBkSttlmDt`: the value date of a transaction whose entry has none.
    pub settlement_date: Option<NaiveDate>,
    /// `RltdPties/Dbtr`, `UltmtDbtr` and `DbtrAcct`.
    pub debtor: Party,
    /// `RltdPties/Cdtr`, `UltmtCdtr` and `CdtrAcct`.
    pub creditor: Party,
    pub mandate_id: Option<String>,
    pub ustrd: Vec<String>,
    pub creditor_refs: Vec<CdtrRef>,
}

/// One side of a transaction's `RltdPties`: the party, its ultimate party and its account.
#[derive(Debug, Default)]
pub(super) struct Party {
    pub name: Option<String>,
    pub ultimate: Option<String>,
    /// Parsed when its element ends; a refused one keeps its text for `PayerAccount::Other`.
    pub iban: Option<Result<Iban, (String, IdentifierError)>>,
    pub other_id: Option<String>,
}

impl Party {
    /// The account as a reference text: the IBAN, valid or not, else the other identifier.
    fn account_text(&mut self) -> Option<String> {
        match self.iban.take() {
            Some(Ok(iban)) => Some(iban.to_string()),
            Some(Err((raw, _))) => Some(raw),
            None => self.other_id.take(),
        }
    }
}

/// The reference keys of the side of `RltdPties` that did not pay: its name, ultimate party and
/// account.
struct OtherSide {
    name: &'static str,
    ultimate: &'static str,
    account: &'static str,
}

/// One `Ntry` as read so far.
#[derive(Debug, Default)]
pub(super) struct Entry {
    /// `Ntfctn` / `Stmt[2]`..., for error paths.
    pub report: Arc<str>,
    pub record: u64,
    pub offset: u64,
    pub amount: Option<Money>,
    pub direction: Option<Direction>,
    pub reversal: bool,
    pub status: Option<String>,
    pub booking_date: Option<NaiveDate>,
    pub value_date: Option<NaiveDate>,
    pub acct_svcr_ref: Option<String>,
    pub txs: Vec<Tx>,
    pub batches: Vec<Batch>,
    /// The report's or message's date and its source, for an entry without dates.
    pub fallback_date: Option<(NaiveDate, String)>,
    /// Record-level oddities found while reading the entry (a date no calendar has): each
    /// payment of the entry carries them to a person.
    pub warnings: Vec<String>,
}

impl Entry {
    /// The entry's transactions, for reuse of their buffer by the next entry.
    pub fn into_txs(mut self) -> Vec<Tx> {
        self.txs.clear();
        std::mem::take(&mut self.txs)
    }

    /// A new entry, the `record`-th of the file, at byte `offset`.
    pub fn new(
        record: u64,
        offset: u64,
        report: &Report,
        txs: Vec<Tx>,
        message_created: Option<NaiveDate>,
    ) -> Self {
        let fallback_date = report.fallback_date(message_created);
        Entry { report: report.label.clone(), record, offset, txs, fallback_date, ..Entry::default() }
    }
}

/// Parses a balance amount: zero is fine, the sign comes from its `CdtDbtInd`.
pub(super) fn parse_balance(text: &str, ccy: Option<&str>) -> Result<Money, String> {
    let ccy = ccy.ok_or_else(|| format!("amount \"{}\" has no Ccy attribute", shown(text)))?;
    let cur = currency(ccy).map_err(|_| format!("unknown ISO 4217 currency \"{}\"", shown(ccy)))?;
    let t = text.trim();
    let m = exact_money(t, cur)?;
    if m.amount().is_sign_negative() {
        return Err(format!("balance {} must not be negative (CdtDbtInd gives the sign)", shown(t)));
    }
    Ok(m)
}

/// Parses an amount in its (resolved) `Ccy`, refusing what a payment cannot be (negative, too
/// precise, too large). The error names the offending value. The reader resolves the `Ccy` and
/// caches it. Zero is read: a line of zero amount (some banks book them) moves no money, and the
/// pipeline counts it apart from the payments.
pub(super) fn parse_amount_in(text: &str, cur: Currency) -> Result<Money, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("amount is empty".into());
    }
    let m = exact_money(t, cur)?;
    if m.amount().is_sign_negative() && !m.amount().is_zero() {
        return Err(format!("amount {} must not be negative (CdtDbtInd gives the sign)", shown(t)));
    }
    Ok(m)
}

/// Digits a decimal holds exactly; a longer amount may be rounded when parsed.
const EXACT_DIGITS: usize = 28;

/// Longest amount text read. ISO 20022 amounts have at most 18 digits (`totalDigits`); this
/// leaves room for zero padding. Longer text is refused before it is parsed: rust_decimal's
/// parser recurses per leading zero, and 100,000 of them overflow a thread's stack.
const AMOUNT_CHARS: usize = 40;

/// `Money::parse` of an `xs:decimal` (optional sign, digits, optional point and digits: no
/// exponent, no `_` separators, which rust_decimal would accept), refusing what parsing would
/// alter instead of keeping: an amount too large to keep the currency's minor units (79
/// octillion EUR has no room for cents), or one with more digits than a decimal holds, whose
/// extra decimals parsing would round away.
fn exact_money(t: &str, cur: Currency) -> Result<Money, String> {
    let not_a_number = || format!("amount \"{}\" is not a decimal number", shown(t));
    if t.len() > AMOUNT_CHARS {
        return Err(format!("amount {} is longer than {AMOUNT_CHARS} characters: not an amount", shown(t)));
    }
    if !is_xs_decimal(t) {
        return Err(not_a_number());
    }
    let m = Money::parse(t, cur).map_err(|e| match e {
        MoneyError::NotANumber(_) => not_a_number(),
        other => shown(&other.to_string()),
    })?;
    let allowed = minor_digits(cur);
    if m.amount().scale() != allowed {
        return Err(format!(
            "amount {} is too large to keep the {allowed} decimals of {}",
            shown(t),
            cur.code()
        ));
    }
    if t.len() > EXACT_DIGITS {
        let decimals = t.split_once('.').map_or("", |(_, d)| d).trim_end_matches('0');
        if decimals.len() > allowed as usize {
            return Err(format!(
                "amount {} has more decimals than {} allows ({allowed})",
                shown(t),
                cur.code()
            ));
        }
    }
    Ok(m)
}

/// `[+-]digits[.digits]`, at least one digit in all.
fn is_xs_decimal(t: &str) -> bool {
    let b = t.strip_prefix(['+', '-']).unwrap_or(t).as_bytes();
    let (int, frac) = match b.iter().position(|&c| c == b'.') {
        Some(dot) => (&b[..dot], &b[dot + 1..]),
        None => (b, &b""[..]),
    };
    int.len() + frac.len() > 0 && int.iter().chain(frac).all(u8::is_ascii_digit)
}

/// `YYYY-MM-DD`, or the date part of an ISO date-time.
pub(super) fn parse_date(text: &str) -> Option<NaiveDate> {
    let (y, m, d) = parse_date_parts(text)?;
    NaiveDate::from_ymd_opt(y, m, d)
}

/// Year, month and day of a `YYYY-MM-DD` text (or an ISO date-time's date part), whether or not
/// a calendar has that day.
pub(super) fn parse_date_parts(text: &str) -> Option<(i32, u32, u32)> {
    let t = text.trim();
    let d = t.get(..10)?;
    if t.len() > 10 && !t[10..].starts_with('T') {
        return None;
    }
    let b = d.as_bytes();
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
    };
    Some((num(0..4)? as i32, num(5..7)?, num(8..10)?))
}

/// `CRDT` / `DBIT`.
pub(super) fn parse_direction(text: &str) -> Option<Direction> {
    match text.trim() {
        "CRDT" => Some(Direction::Credit),
        "DBIT" => Some(Direction::Debit),
        _ => None,
    }
}

/// xs:boolean.
pub(super) fn parse_bool(text: &str) -> Option<bool> {
    match text.trim() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

fn dir_code(d: Direction) -> &'static str {
    match d {
        Direction::Credit => "CRDT",
        Direction::Debit => "DBIT",
    }
}

fn some_text(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl Entry {
    fn path(&self, rel: &str) -> String {
        format!("{}/Ntry[{}]/{rel}", self.report, self.record)
    }

    fn missing(&self, ctx: &SourceContext, rel: &str, problem: &str) -> ParseError {
        self.missing_at(ctx, self.offset, rel, problem)
    }

    fn missing_at(&self, ctx: &SourceContext, offset: u64, rel: &str, problem: &str) -> ParseError {
        ParseError::field(
            &ctx.file_name,
            Location::Element { path: self.path(rel), offset },
            rel.rsplit('/').next().unwrap_or(rel),
            problem,
        )
    }

    /// Warnings every payment of this entry carries: status not booked, control figures that
    /// do not add up. They route the payments to a person instead of refusing the file.
    /// Sums that do not fit a decimal are an error of the file (`Err`, naming what overflowed).
    fn entry_warnings(
        &self,
        amount: &Money,
        direction: Direction,
        tx_amounts: &[Money],
    ) -> Result<Vec<String>, String> {
        let mut w = Vec::new();
        match self.status.as_deref() {
            Some("BOOK") => {}
            Some(s) => w.push(format!("entry status {}: not booked", shown(s))),
            None => w.push("entry status missing: not known to be booked".to_string()),
        }
        for (i, b) in self.batches.iter().enumerate() {
            let held = b.end_tx - b.first_tx;
            if held == 0 {
                continue; // a batch booked without details: the entry is the payment
            }
            let label = if self.batches.len() > 1 { format!("batch {}", i + 1) } else { "batch".into() };
            if let Some(n) = b.nb_of_txs.as_deref() {
                if n.trim().parse::<usize>().ok() != Some(held) {
                    w.push(format!(
                        "{label} says NbOfTxs {} but holds {held} TxDtls: batch count disagrees with the details",
                        shown(n.trim())
                    ));
                }
            }
            let amounts = tx_amounts.get(b.first_tx..b.end_tx).unwrap_or_default();
            if let (Some(total), false) = (&b.total, amounts.is_empty()) {
                match sum(amounts)? {
                    Some((s, cur)) if s == total.amount() && cur == total.currency() => {}
                    Some((s, cur)) => w.push(format!(
                        "{label} says TtlAmt {total} but its TxDtls add up to {s} {}: batch total disagrees with the details",
                        cur.code()
                    )),
                    None => w.push(format!(
                        "{label} says TtlAmt {total} but its TxDtls mix currencies: batch total disagrees with the details"
                    )),
                }
            }
        }
        if !self.txs.is_empty() && tx_amounts.len() == self.txs.len() {
            match sum(tx_amounts)? {
                Some((s, cur)) if s == amount.amount() && cur == amount.currency() => {}
                Some((s, cur)) => w.push(format!(
                    "entry amount {amount} {} disagrees with the sum of its TxDtls {s} {}",
                    dir_code(direction),
                    cur.code()
                )),
                None => {
                    w.push(format!("entry amount {amount} disagrees with its TxDtls, which mix currencies"))
                }
            }
        }
        Ok(w)
    }

    /// Turns the finished entry into its payments (one per `TxDtls`, or one for the entry).
    pub(super) fn into_payments(
        mut self,
        ctx: &SourceContext,
        ntf: &mut Report,
        scratch: &mut Scratch,
        out: &mut VecDeque<Payment>,
    ) -> Result<(), ParseError> {
        let tx_amounts = &mut scratch.tx_amounts;
        let amount = self.amount.ok_or_else(|| self.missing(ctx, "Amt", "missing"))?;
        let direction = self.direction.ok_or_else(|| self.missing(ctx, "CdtDbtInd", "missing"))?;
        // ValDt, else BookgDt. Without either: each transaction's interbank settlement date,
        // else the report's or the message's date, read with a warning that sends the payment
        // to a person (an oddity of the record, not of the file).
        let own_date = self.value_date.or(self.booking_date);
        let fallback_date = self.fallback_date.take();
        let date_of = |settlement: Option<NaiveDate>| -> Option<(NaiveDate, Option<String>)> {
            if let Some(d) = own_date {
                return Some((d, None));
            }
            let (d, from) = match (settlement, &fallback_date) {
                (Some(d), _) => (d, "TxDtls/RltdDts/IntrBkSttlmDt"),
                (None, Some((d, from))) => (*d, from.as_str()),
                (None, None) => return None,
            };
            Some((d, Some(format!("entry has no ValDt nor BookgDt: value date {d} taken from {from}"))))
        };
        const NO_DATE: &str =
            "missing, with no BookgDt, no IntrBkSttlmDt and no report or message date to fall back on";
        let first_settlement = self.txs.first().and_then(|t| t.settlement_date);
        let (value_date, _) = date_of(first_settlement).ok_or_else(|| self.missing(ctx, "ValDt", NO_DATE))?;

        // Details without amounts inside an entry whose amount is known: one missing is the
        // entry's amount less the others'; more (or a remainder that is no payment) cannot be
        // split, and the entry is read as one payment carried by its first detail. Either way
        // the record's payments go to a person, and the file is kept.
        // Counted without allocating: this runs once per entry.
        let without_amount = |t: &Tx| t.amount.or(t.amount_dtls).is_none();
        let missing = self.txs.iter().filter(|t| without_amount(t)).count();
        if self.txs.len() > 1 && missing > 0 {
            let mut known = self.txs.iter().filter_map(|t| t.amount.or(t.amount_dtls));
            let remainder = match (missing, self.txs.iter().position(without_amount)) {
                (1, Some(only)) => known
                    .try_fold(amount, |left, m| left.try_add(&m.negated()).ok())
                    .filter(Money::is_positive)
                    .map(|r| (only, r)),
                _ => None,
            };
            match remainder {
                Some((i, r)) => {
                    self.txs[i].amount = Some(r);
                    self.warnings.push(format!(
                        "TxDtls[{}] has no amount: read as the entry amount {amount} less the other details, {r}",
                        i + 1
                    ));
                }
                None => {
                    let n = self.txs.len();
                    let mut txs = std::mem::take(&mut self.txs).into_iter();
                    let mut carrier = txs.next().unwrap_or_default();
                    for t in txs {
                        carrier.ustrd.extend(t.ustrd);
                    }
                    carrier.amount = Some(amount);
                    carrier.amount_dtls = None;
                    self.txs.push(carrier);
                    self.warnings.push(format!(
                        "the entry holds {n} TxDtls and {missing} carry no amount: the entry amount {amount} is read \
                         as one payment, not split among them"
                    ));
                }
            }
        }
        // Each detail's amount: its own, else AmtDtls/TxAmt, else the entry's when it is alone.
        tx_amounts.clear();
        for tx in &self.txs {
            if let Some(m) = tx.amount.or(tx.amount_dtls) {
                tx_amounts.push(m);
            }
        }

        let mut common = std::mem::take(&mut self.warnings);
        common.extend(
            self.entry_warnings(&amount, direction, tx_amounts)
                .map_err(|problem| self.missing(ctx, "NtryDtls/TxDtls/Amt", &problem))?,
        );
        let source_bank = ntf.bank();
        let ntf: &Report = ntf;
        let format = ntf.format();
        let fallback_id = format.name();
        let status = self.status.take().unwrap_or_default();

        let base = |position: u32, warnings: Vec<String>| Payment {
            market: Market::EU,
            format,
            source_bank: source_bank.clone(),
            bank_ref: String::new(),
            key_basis: KeyBasis::FilePosition,
            amount,
            direction,
            reversal: self.reversal,
            value_date,
            booking_date: self.booking_date,
            payer_name: None,
            payer_account: None,
            references: References::default(),
            source: Provenance {
                file_id: ctx.file_id,
                file: ctx.file_name.clone(),
                record: self.record,
                offset: self.offset,
                position,
            },
            warnings,
        };
        let fallback_ref = |position: u32| {
            format!("{}/{}/{}", ntf.id.as_deref().unwrap_or(fallback_id), self.record, position)
        };

        if self.txs.is_empty() {
            let mut p = base(0, common);
            if let Some((_, Some(w))) = date_of(None) {
                p.warnings.push(w);
            }
            p.bank_ref =
                some_text(&self.acct_svcr_ref).map(str::to_string).unwrap_or_else(|| fallback_ref(0));
            if let Some(r) = some_text(&self.acct_svcr_ref) {
                p.references.other.push(("acct_svcr_ref".into(), RefText::new(r)));
                p.key_basis = KeyBasis::BankReference;
            }
            if !status.is_empty() {
                p.references.other.push(("status".into(), RefText::new(status)));
            }
            if format == SourceFormat::Camt052 && p.key_basis == KeyBasis::FilePosition {
                p.warnings.push(INTRADAY_WITHOUT_REFERENCE.to_string());
            }
            out.push_back(p);
            scratch.txs = std::mem::take(&mut self.txs);
            return Ok(());
        }

        let mut txs = std::mem::take(&mut self.txs);
        let last = txs.len().saturating_sub(1);
        let mut status = Some(status).filter(|s| !s.is_empty());
        let mut common = Some(common);
        for (i, mut tx) in txs.drain(..).enumerate() {
            let position = (i + 1) as u32;
            // The last payment takes what the others copy.
            let (warnings, tx_status) = if i == last {
                (common.take().unwrap_or_default(), status.take())
            } else {
                (common.clone().unwrap_or_default(), status.clone())
            };
            let mut p = base(position, warnings);
            if let Some(m) = tx_amounts.get(i) {
                p.amount = *m;
            }
            let (date, why) =
                date_of(tx.settlement_date).ok_or_else(|| self.missing(ctx, "ValDt", NO_DATE))?;
            p.value_date = date;
            p.warnings.extend(why);
            if let Some(d) = tx.direction {
                if d != direction {
                    p.warnings.push(format!(
                        "TxDtls says {} but the entry says {}",
                        dir_code(d),
                        dir_code(direction)
                    ));
                }
                p.direction = d;
            }
            // Leaf texts arrive trimmed and non-empty (see `handle_leaf`): move them, don't copy.
            let e2e = tx.end_to_end_id.take().filter(|s| s != "NOTPROVIDED");
            // The servicer's own booking reference is unique per bank: keyed on it, the same
            // booking posts once whether it comes in a camt.054, a regenerated copy, or the
            // day's camt.053. Without one, banks may reuse references: key on file position.
            p.bank_ref = if let Some(r) = some_text(&tx.acct_svcr_ref) {
                p.key_basis = KeyBasis::BankReference;
                r.to_string()
            } else if let Some(r) = some_text(&self.acct_svcr_ref) {
                p.key_basis = KeyBasis::BankReference;
                format!("{r}/{position}")
            } else if let Some(u) = some_text(&tx.uetr) {
                // The UETR is unique to the payment the world over: whichever report carries
                // it (intraday, notification, statement), the same key.
                p.key_basis = KeyBasis::BankReference;
                format!("uetr:{}", u.to_ascii_lowercase())
            } else if let Some(r) = &e2e {
                r.clone()
            } else {
                fallback_ref(position)
            };
            if format == SourceFormat::Camt052 && p.key_basis == KeyBasis::FilePosition {
                // Keyed by its place in this file, the evening statement's copy of the booking
                // would not be recognised as the same payment: a person posts it.
                p.warnings.push(INTRADAY_WITHOUT_REFERENCE.to_string());
            }

            let refs = &mut p.references;
            refs.end_to_end_id = e2e.map(RefText::new);
            refs.remittance = std::mem::take(&mut tx.ustrd).into_iter().map(RefText::new).collect();
            for r in &mut tx.creditor_refs {
                // Leaf texts are trimmed and non-empty already: move the reference, don't copy it.
                let Some(text) = r.reference.take().filter(|t| !t.trim().is_empty()) else { continue };
                let text = if text.trim().len() == text.len() { text } else { text.trim().to_string() };
                let code = r.code.as_deref();
                if code.is_some_and(|c| c != "SCOR") || some_text(&r.proprietary).is_some() {
                    // A bank's own scheme (Swiss QRR, Finnish, ISR...): a reference, not an RF one.
                    refs.other.push(("creditor_ref_proprietary".into(), RefText::new(text)));
                    continue;
                }
                if code == Some("SCOR") && text.parse::<CreditorReference>().is_err() {
                    p.warnings.push(mask_card_numbers(&format!(
                        "creditor reference \"{}\" is typed SCOR but fails the ISO 11649 check",
                        shown(&text)
                    )));
                }
                if refs.creditor_reference.is_none() {
                    refs.creditor_reference = Some(RefText::new(text));
                } else {
                    refs.other.push(("creditor_reference".into(), RefText::new(text)));
                }
            }
            let acct_ref = tx.acct_svcr_ref.take().or_else(|| self.acct_svcr_ref.clone());
            // Who paid: the party on the other side of the account's movement. A CRDT credits
            // the account, so the counterparty is its debtor; a DBIT debits it (a payment out,
            // or the reversal of a credit), so the counterparty is its creditor, and the debtor
            // is the account's own side, never payer evidence. RvslInd changes nothing here:
            // CdtDbtInd already says which way the reversal moves the money.
            let (payer, payer_role, payer_ultimate, other, other_keys) = match p.direction {
                Direction::Credit => (
                    &mut tx.debtor,
                    "debtor",
                    "ultimate_debtor",
                    &mut tx.creditor,
                    OtherSide {
                        name: "creditor_name",
                        ultimate: "creditor_ultimate",
                        account: "creditor_account",
                    },
                ),
                Direction::Debit => (
                    &mut tx.creditor,
                    "creditor",
                    "ultimate_creditor",
                    &mut tx.debtor,
                    OtherSide { name: "debtor_name", ultimate: "debtor_ultimate", account: "debtor_account" },
                ),
            };
            p.payer_name = payer.name.take().or_else(|| payer.ultimate.clone());
            for (name, v) in [
                ("acct_svcr_ref", acct_ref),
                ("instr_id", tx.instr_id.take()),
                ("tx_id", tx.tx_id.take()),
                ("uetr", tx.uetr.take()),
                ("mandate_id", tx.mandate_id.take()),
                (payer_ultimate, payer.ultimate.take()),
                (other_keys.name, other.name.take()),
                (other_keys.ultimate, other.ultimate.take()),
                (other_keys.account, other.account_text()),
                ("status", tx_status),
            ] {
                if let Some(v) = v {
                    refs.other.push((name.into(), RefText::new(v)));
                }
            }

            p.payer_account = match payer.iban.take() {
                Some(Ok(iban)) => Some(PayerAccount::Iban(iban)),
                Some(Err((raw, e))) => {
                    let problem = match e {
                        IdentifierError::Iban { reason, .. } => {
                            format!("IBAN \"{}\" is invalid: {}", shown(&raw), shown(&reason))
                        }
                        other => shown(&other.to_string()),
                    };
                    p.warnings.push(mask_card_numbers(&format!("{payer_role} account: {problem}")));
                    Some(PayerAccount::Other(raw))
                }
                None => payer.other_id.take().map(PayerAccount::Other),
            };
            out.push_back(p);
        }
        // Kept for the next entry, but not the room of an unusually large one.
        txs.shrink_to(KEEP_TXS);
        scratch.txs = txs;
        Ok(())
    }
}

/// `TxDtls` slots `Scratch::txs` keeps between entries.
const KEEP_TXS: usize = 16;

/// Buffers `Entry::into_payments` reuses from one entry to the next.
#[derive(Debug, Default)]
pub(super) struct Scratch {
    pub tx_amounts: Vec<Money>,
    /// An emptied `Entry::txs`, for the next entry.
    pub txs: Vec<Tx>,
}

/// A debtor IBAN as `Tx::debtor_iban` keeps it; `None` for an empty element.
pub(super) fn parse_iban(text: &str) -> Option<Result<Iban, (String, IdentifierError)>> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.parse::<Iban>().map_err(|e| (t.to_string(), e)))
}

/// A creditor reference type code, without allocating for the usual `SCOR`.
pub(super) fn ref_code(text: &str) -> Option<Cow<'static, str>> {
    match text.trim() {
        "" => None,
        "SCOR" => Some(Cow::Borrowed("SCOR")),
        t => Some(Cow::Owned(t.to_string())),
    }
}

/// The sum of amounts and their currency, `None` when they mix currencies; an error when it
/// does not fit a decimal.
fn sum(amounts: &[Money]) -> Result<Option<(Decimal, Currency)>, String> {
    let Some((first, rest)) = amounts.split_first() else { return Ok(None) };
    let cur = first.currency();
    let mut total = first.amount();
    for m in rest {
        if m.currency() != cur {
            return Ok(None);
        }
        total = remit_domain::model::money::add_keeping_scale(total, m.amount()).ok_or_else(|| {
            format!("the amounts of the TxDtls add up past what a decimal holds exactly (at {m})")
        })?;
    }
    Ok(Some((total, cur)))
}
