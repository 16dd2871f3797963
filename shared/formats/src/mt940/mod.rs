//! SWIFT MT940 customer statements and MT942 interim transaction reports (EU legacy): a
//! streaming reader that yields one `Payment` per `:61:` statement line (with its `:86:`
//! details) and holds every statement to its balance chain, `:60F:` + lines = `:62F:`, and every
//! interim report to its number and sum of entries, `:90D:`/`:90C:`, when it gives them.
//!
//! A message is an MT942 when it has a floor limit (`:34F:`) or a date/time indication
//! (`:13D:`) and no opening balance: the two share every other field. A line with the bank's
//! reference (`:61:` subfield 8) is keyed by that reference, its value date, mark and amount,
//! which the intraday MT942 and the evening MT940 both carry, so the statement's copy of an
//! intraday payment is a duplicate. A line without one is keyed by its place in the statement;
//! from an MT942 it then goes to a person (the statement's copy could not be recognised).
//!
//! Real files bend the standard: SWIFT `{1:..}{4:` envelopes or `0000`/`940` lines before
//! `:20:`, `-}`/`-XXX` trailers or none, colons and tabs inside `:86:`, wrapped lines, blank
//! lines, a missing final line break, non-UTF-8 text. The reader accepts those and refuses what
//! it cannot account for; any error ends the stream (a statement that cannot be balanced
//! cannot be trusted in part).

mod field;
pub mod generate;

use std::collections::{HashSet, VecDeque};
use std::hash::BuildHasher;
use std::io::BufRead;

use remit_domain::model::money::{currency, Currency};
use remit_domain::{
    Direction, Iban, KeyBasis, Market, Money, PayerAccount, Payment, Provenance, RefText, References,
    SourceFormat, EARLIER_STATEMENT_LINE, STATEMENT_LINE,
};
use rust_decimal::Decimal;

use crate::{shown, Limits, Location, ParseError, SourceContext};
use field::{
    decode_into, field_start, is_framing, is_trailer, parse_balance, parse_count_and_sum, parse_floor_limit,
    parse_report_time, parse_statement_line, sepa_value, ControlByte, Details, FieldError, StatementLine,
    Tag,
};

/// Why an MT942 line without the bank's reference waits for a person.
const INTRADAY_WITHOUT_REFERENCE: &str = "interim report (MT942) line without the bank's reference \
     (:61: subfield 8): the statement's copy of it cannot be recognised, so it is not posted automatically";

/// Why an MT942 line that repeats an earlier line's identity waits for a person.
const INTRADAY_REPEATED_REFERENCE: &str = "interim report (MT942) line with the bank's reference, value \
     date, mark and amount of an earlier line of the report: the statement's copy of it cannot be \
     recognised, so it is not posted automatically";

/// How many bank-reference identities a statement remembers to tell a repeated one (memory
/// stays bounded: past this, a repeat is caught by the store as a duplicate instead).
const MAX_REMEMBERED_LINES: usize = 100_000;

/// Debit or credit lines of an interim report: what its `:90D:`/`:90C:` must say.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    count: u64,
    sum: Decimal,
}

/// The statement being read: what its payments need and what its balance check adds up.
#[derive(Debug, Default)]
struct Statement {
    reference: String,
    number: String,
    /// `{reference}/{number}`, the `statement` reference of every payment, built once.
    label: String,
    account: std::sync::Arc<str>,
    currency: Option<Currency>,
    opening: Option<Decimal>,
    /// The opening balance's date: a `:61:` whose value date no calendar has falls back on it.
    opening_date: Option<chrono::NaiveDate>,
    /// `{:28C:}@{opening balance date}` (an MT942: `{:28C:}@{:13D:}`): the statement's identity
    /// across re-sent files.
    identity: String,
    /// An MT942 interim report: a floor limit (`:34F:`) or report time (`:13D:`) and no
    /// opening balance.
    interim: bool,
    /// The MT942's `:13D:` date: a `:61:` whose value date no calendar has falls back on it.
    report_date: Option<chrono::NaiveDate>,
    debits: Tally,
    credits: Tally,
    /// Signed sum of the `:61:` amounts so far.
    sum: Decimal,
    lines: u32,
    closed: bool,
}

impl Statement {
    /// The statement as messages name it, its texts cut by `shown`.
    fn name(&self) -> String {
        format!(":20:{} :28C:{}", shown(&self.reference), shown(&self.number))
    }

    /// Whether its lines may come: an opened statement not closed yet, or an interim report.
    fn open(&self) -> bool {
        (self.opening.is_some() && !self.closed) || (self.interim && self.currency.is_some())
    }

    /// Whether the message may end here: closed by its balance, or an interim report.
    fn complete(&self) -> bool {
        self.closed || self.interim
    }

    fn set_label(&mut self) {
        self.label.clear();
        self.label.push_str(&self.reference);
        self.label.push('/');
        self.label.push_str(&self.number);
    }
}

/// A `:61:` line waiting for its `:86:`.
struct Pending {
    line: StatementLine,
    line_no: u64,
    offset: u64,
    ordinal: u32,
}

/// The field being collected: tag, decoded text (lines joined by `\n`), where it started.
struct Field {
    tag: Tag,
    text: String,
    line_no: u64,
    offset: u64,
}

/// Streams an MT940 file line by line (memory: one line of at most `Limits::line_bytes`, one
/// field of at most `Limits::field_bytes`, one statement header and one pending `:61:`) and yields each payment as soon as its `:86:` ends; the balance is checked at
/// `:62F:`/`:62M:`, which is fine because the pipeline validates a whole file before posting.
pub struct Mt940Reader<R> {
    reader: R,
    ctx: SourceContext,
    limits: Limits,
    raw: Vec<u8>,
    line_no: u64,
    pos: u64,
    /// Byte offset of the line in `raw`: where a payment's provenance points.
    line_start: u64,
    field: Option<Field>,
    /// Text buffer reused between fields.
    spare: String,
    /// `:86:` sub-fields and a text buffer, reused between payments.
    details: Details,
    scratch: String,
    statement: Option<Statement>,
    statements: u64,
    pending: Option<Pending>,
    /// Hashes of the bank-reference identities of the statement's lines so far: a repeat is
    /// keyed by its place. One set for the reader, cleared per statement (its room kept);
    /// foldhash, because SipHash cost 5% of the reader's time.
    seen: HashSet<u64, foldhash::fast::RandomState>,
    out: VecDeque<Result<Payment, ParseError>>,
    done: bool,
}

impl<R: BufRead> Mt940Reader<R> {
    /// Wraps a reader positioned at the start of the file (envelopes and header lines allowed).
    pub fn new(reader: R, ctx: SourceContext) -> Self {
        Self {
            reader,
            ctx,
            limits: Limits::default(),
            raw: Vec::with_capacity(256),
            line_no: 0,
            pos: 0,
            line_start: 0,
            field: None,
            spare: String::with_capacity(256),
            details: Details::default(),
            scratch: String::with_capacity(256),
            statement: None,
            statements: 0,
            pending: None,
            seen: HashSet::default(),
            out: VecDeque::with_capacity(4),
            done: false,
        }
    }

    /// Queues a structural error and stops reading.
    fn fail(&mut self, location: Location, problem: impl Into<String>) {
        self.out.push_back(Err(ParseError::structure(&self.ctx.file_name, location, problem)));
        self.done = true;
    }

    fn fail_field(&mut self, line_no: u64, tag: Tag, e: FieldError) {
        let name = format!(":{}: {}", tag.as_str(), e.part);
        self.out.push_back(Err(ParseError::field(
            &self.ctx.file_name,
            Location::Line { number: line_no },
            name,
            e.problem,
        )));
        self.done = true;
    }

    /// Reads the next physical line into `raw` without its line end (LF, CRLF or a lone CR, as
    /// old Mac exports end lines). False at end of file. A line longer than
    /// `Limits::line_bytes` is refused as soon as it passes the bound: never buffered whole.
    fn read_line(&mut self) -> Result<bool, ParseError> {
        self.raw.clear();
        let io = |e| ParseError::io(&self.ctx.file_name, e);
        let limit = self.limits.line_bytes;
        let mut n = 0;
        loop {
            let buf = crate::fill_buf(&mut self.reader).map_err(io)?;
            if buf.is_empty() {
                break;
            }
            let (take, end) = match memchr::memchr2(b'\n', b'\r', buf) {
                Some(p) => (p, Some(buf[p])),
                None => (buf.len(), None),
            };
            if self.raw.len() + take > limit {
                return Err(self.line_too_long());
            }
            // CRLF is one line end; the LF is swallowed here when it is in the same buffer.
            let crlf = end == Some(b'\r') && buf.get(take + 1) == Some(&b'\n');
            let cr_ends_buffer = end == Some(b'\r') && take + 1 == buf.len();
            self.raw.extend_from_slice(&buf[..take]);
            let used = take + usize::from(end.is_some()) + usize::from(crlf);
            self.reader.consume(used);
            n += used;
            if cr_ends_buffer {
                // The CR ended its buffer: its LF, if any, starts the next one.
                if crate::fill_buf(&mut self.reader).map_err(io)?.first() == Some(&b'\n') {
                    self.reader.consume(1);
                    n += 1;
                }
            }
            if end.is_some() {
                break;
            }
        }
        if n == 0 {
            return Ok(false);
        }
        self.line_start = self.pos;
        self.pos += n as u64;
        self.line_no += 1;
        if self.line_no == 1 && self.raw.starts_with(b"\xEF\xBB\xBF") {
            self.raw.drain(..3);
        }
        Ok(true)
    }

    /// The error for a line that passed `Limits::line_bytes`, naming the field it starts or
    /// continues. The line's first bytes are in `raw`, or, when `raw` is empty, in the reader's
    /// buffer.
    fn line_too_long(&mut self) -> ParseError {
        let mut head = [0u8; 8];
        let mut len = self.raw.len().min(head.len());
        head[..len].copy_from_slice(&self.raw[..len]);
        if len < head.len() {
            if let Ok(buf) = self.reader.fill_buf() {
                let more = buf.len().min(head.len() - len);
                head[len..len + more].copy_from_slice(&buf[..more]);
                len += more;
            }
        }
        let head = &head[..len];
        let start = head.iter().position(|&b| !matches!(b, 0x01..=0x03)).unwrap_or(head.len());
        let field = match (field_start(&head[start..]), &self.field) {
            (Some((tag, _)), _) => format!("field :{}:", tag.as_str()),
            (None, Some(f)) => format!("field :{}: (continued)", f.tag.as_str()),
            (None, None) => "a line outside any field".to_string(),
        };
        ParseError::limit(
            &self.ctx.file_name,
            Location::Line { number: self.line_no + 1 },
            format!("line length in {field}"),
            format!("{} bytes", self.limits.line_bytes),
        )
    }

    /// Handles one physical line: starts a field, continues one, ends a message, or skips an
    /// envelope/header line between messages.
    fn line(&mut self) {
        let offset = self.line_start;
        let raw = std::mem::take(&mut self.raw);
        // SOH/STX/ETX wrappers (mBank) sit at the line start: framing, not text.
        let start = raw.iter().position(|&b| !matches!(b, 0x01..=0x03)).unwrap_or(raw.len());
        let line = &raw[start..];
        if let Some((tag, skip)) = field_start(line) {
            self.end_field();
            if !self.done {
                let mut text = std::mem::take(&mut self.spare);
                text.clear();
                let decoded = decode_into(&line[skip..], &mut text);
                let field = Field { tag, text, line_no: self.line_no, offset };
                match decoded {
                    Ok(()) => {
                        self.field = Some(field);
                        self.check_field_length();
                    }
                    Err(c) => self.fail_control(tag, c, start + skip),
                }
            }
        } else if is_trailer(line) && self.dash_is_text() {
            // A lone `-` inside the `:86:` of a statement not yet closed (a Dutch bank writes
            // one): text of the field, since the statement's fields go on after it.
            if let Some(f) = self.field.as_mut() {
                f.text.push_str("\n-");
            }
        } else if is_trailer(line) {
            self.end_field();
            if !self.done {
                self.end_message(self.line_no);
            }
        } else if line.iter().all(|&b| b == b' ' || b == b'\t' || is_framing(b)) {
            // Blank and padding lines carry nothing, inside a field or between messages.
        } else if let Some(f) = self.field.as_mut() {
            let tag = f.tag;
            // Checked before the copy, so a field never grows past its bound; decoding only
            // lengthens text, so the raw length is a floor of what the text would hold.
            if f.text.len() + 1 + line.len() > self.limits.field_bytes {
                self.fail_field_length(tag);
            } else {
                f.text.push('\n');
                let len = f.text.len();
                match decode_into(line, &mut f.text) {
                    Ok(()) => self.check_field_length(),
                    Err(c) => {
                        f.text.truncate(len);
                        self.fail_control(tag, c, start);
                    }
                }
            }
        }
        // Else: an envelope or routing line between messages ({1:..}{4:, 0000, 940, :940:).
        self.raw = raw;
    }

    /// Refuses the open field once its text passes `Limits::field_bytes` (a cp1252 line decodes
    /// longer than its bytes).
    fn check_field_length(&mut self) {
        if let Some(tag) =
            self.field.as_ref().filter(|f| f.text.len() > self.limits.field_bytes).map(|f| f.tag)
        {
            self.fail_field_length(tag);
        }
    }

    fn fail_field_length(&mut self, tag: Tag) {
        let from = self.field.as_ref().map_or(self.line_no, |f| f.line_no);
        self.field = None;
        self.out.push_back(Err(ParseError::limit(
            &self.ctx.file_name,
            Location::Line { number: self.line_no },
            format!("length of field :{}: (from line {from}, with its continuation lines)", tag.as_str()),
            format!("{} bytes", self.limits.field_bytes),
        )));
        self.done = true;
    }

    /// A control character in a field's text: an error of the field, never deleted. `skip` is
    /// where the decoded bytes start in the physical line.
    fn fail_control(&mut self, tag: Tag, c: ControlByte, skip: usize) {
        self.field = None;
        let problem = format!("control character {} at column {} of the line", c.describe(), skip + c.at + 1);
        self.out.push_back(Err(ParseError::field(
            &self.ctx.file_name,
            Location::Line { number: self.line_no },
            format!(":{}: text", tag.as_str()),
            problem,
        )));
        self.done = true;
    }

    /// A `-` line read as text: the open field is a `:86:` of a statement not closed yet. (At
    /// the real end of such a statement the next `:20:` or the end of the file still refuses
    /// it for its missing closing balance.)
    fn dash_is_text(&self) -> bool {
        let in_86 = self.field.as_ref().is_some_and(|f| f.tag.number() == 86);
        in_86 && self.statement.as_ref().is_some_and(|st| st.opening.is_some() && !st.closed)
    }

    /// A `-` trailer: the statement must be closed by now.
    fn end_message(&mut self, line_no: u64) {
        self.flush_pending();
        if let Some(st) = self.statement.take() {
            if !st.complete() {
                let problem = format!("statement {} ends without a closing balance (:62F:/:62M:)", st.name());
                self.fail(Location::Line { number: line_no }, problem);
            }
        }
    }

    /// Yields the pending `:61:` (with no `:86:`) if there is one.
    fn flush_pending(&mut self) {
        if let Some(p) = self.pending.take() {
            self.emit(p, None);
        }
    }

    /// Processes the field collected so far.
    fn end_field(&mut self) {
        let Some(f) = self.field.take() else {
            return;
        };
        self.process(&f);
        let mut text = f.text;
        text.clear();
        self.spare = text;
    }

    fn process(&mut self, f: &Field) {
        let loc = Location::Line { number: f.line_no };
        let number = f.tag.number();
        if number == 86 {
            if let Some(p) = self.pending.take() {
                self.emit(p, Some(&f.text));
            }
            // Else: information for the account owner at statement level; nothing to post.
            return;
        }
        self.flush_pending();
        if self.done {
            return;
        }
        if number == 20 {
            if let Some(st) = &self.statement {
                if !st.complete() {
                    let problem = format!(
                        "statement {} has no closing balance (:62F:/:62M:) before the next :20:",
                        st.name()
                    );
                    return self.fail(loc, problem);
                }
            }
            self.statements += 1;
            self.seen.clear();
            let mut st = Statement { reference: f.text.trim().to_string(), ..Statement::default() };
            st.set_label();
            self.statement = Some(st);
            return;
        }
        let Some(st) = self.statement.as_mut() else {
            if f.tag.as_str() == "NS" {
                return;
            }
            let problem = format!("field :{}: is outside a statement: no :20: before it", f.tag.as_str());
            return self.fail(loc, problem);
        };
        match f.tag.as_str() {
            "25" => st.account = f.text.trim().into(),
            // MT942 since 2019 may name the account with its BIC on a second line.
            "25P" => st.account = f.text.lines().next().unwrap_or("").trim().into(),
            "34F" => {
                if st.opening.is_some() {
                    let problem = format!(
                        "statement {} has an opening balance and a floor limit (:34F:): it is neither \
                         an MT940 statement nor an MT942 report",
                        st.name()
                    );
                    return self.fail(loc, problem);
                }
                let code = match parse_floor_limit(f.text.as_bytes()) {
                    Ok(c) => c,
                    Err(e) => return self.fail_field(f.line_no, f.tag, e),
                };
                let code = String::from_utf8_lossy(&code).into_owned();
                let Ok(c) = currency(&code) else {
                    let e = FieldError {
                        part: "currency",
                        problem: format!("{code:?} is not an ISO 4217 currency"),
                    };
                    return self.fail_field(f.line_no, f.tag, e);
                };
                // The first :34F: (debit, or debit and credit) names the currency; a second
                // (credit) must agree.
                if st.currency.is_some_and(|have| have != c) {
                    let problem = format!("report {}: floor limits in two currencies", st.name());
                    return self.fail(loc, problem);
                }
                st.currency = Some(c);
                st.interim = true;
                if st.identity.is_empty() {
                    // Until a :13D: gives the report's time (it is mandatory; a bank may omit it).
                    st.identity = format!("{}@{}", st.number, st.reference);
                }
            }
            "13D" => {
                if st.opening.is_some() {
                    // Not an MT940 field, but harmless beside a balance: the balance rules.
                    return;
                }
                let date = match parse_report_time(f.text.as_bytes()) {
                    Ok(d) => d,
                    Err(e) => return self.fail_field(f.line_no, f.tag, e),
                };
                st.report_date = Some(date);
                st.identity = format!("{}@{}", st.number, f.text.trim());
                st.interim = true;
            }
            "90D" | "90C" if st.interim => {
                let n = match parse_count_and_sum(f.text.as_bytes()) {
                    Ok(n) => n,
                    Err(e) => return self.fail_field(f.line_no, f.tag, e),
                };
                let code = st.currency.map(|c| c.code()).unwrap_or("");
                let (tally, kind) =
                    if f.tag.as_str() == "90D" { (st.debits, "debit") } else { (st.credits, "credit") };
                if n.currency != code.as_bytes() {
                    let problem = format!(
                        "report {}: :{}: is in {}, the floor limit :34F: in {code}",
                        st.name(),
                        f.tag.as_str(),
                        String::from_utf8_lossy(&n.currency)
                    );
                    return self.fail(loc, problem);
                }
                if n.count != tally.count || n.amount != tally.sum {
                    let problem = format!(
                        "report {}: number and sum of {kind} entries disagree (:{}: must count and \
                         total the {kind} :61: lines): :{}: says {} totalling {} {code}, the lines are {} \
                         totalling {} {code}",
                        st.name(),
                        f.tag.as_str(),
                        f.tag.as_str(),
                        n.count,
                        n.amount,
                        tally.count,
                        tally.sum
                    );
                    self.fail(loc, problem);
                }
            }
            "28" | "28C" => {
                st.number = f.text.trim().to_string();
                st.set_label();
            }
            "60F" | "60M" if st.interim => {
                let problem = format!(
                    "report {} has an opening balance and a floor limit (:34F:) or report time (:13D:): \
                     it is neither an MT940 statement nor an MT942 report",
                    st.name()
                );
                self.fail(loc, problem);
            }
            "60F" | "60M" => {
                let b = match parse_balance(f.text.as_bytes()) {
                    Ok(b) => b,
                    Err(e) => return self.fail_field(f.line_no, f.tag, e),
                };
                let code = String::from_utf8_lossy(&b.currency).into_owned();
                match currency(&code) {
                    Ok(c) => st.currency = Some(c),
                    Err(_) => {
                        let e = FieldError {
                            part: "currency",
                            problem: format!("{code:?} is not an ISO 4217 currency"),
                        };
                        return self.fail_field(f.line_no, f.tag, e);
                    }
                }
                if st.opening.is_some() || st.closed {
                    let problem = format!("statement {} has a second opening balance", st.name());
                    return self.fail(loc, problem);
                }
                if let Err(e) = fits_currency(b.amount, st.currency) {
                    return self.fail_field(f.line_no, f.tag, e);
                }
                st.opening = Some(b.amount);
                st.opening_date = Some(b.date);
                st.identity = format!("{}@{}", st.number, b.date);
            }
            "61" => {
                if !st.open() {
                    let problem = if st.closed {
                        format!("statement {} has a :61: line after its closing balance", st.name())
                    } else if st.interim {
                        format!("report {} has a :61: line before its floor limit (:34F:)", st.name())
                    } else {
                        format!(
                            "statement {} has a :61: line before an opening balance (:60F:/:60M:) \
                             and is no MT942 report either (no :34F: floor limit, no :13D: time)",
                            st.name()
                        )
                    };
                    return self.fail(loc, problem);
                }
                let fallback = match (st.opening_date, st.report_date) {
                    (Some(d), _) => Some((d, "the opening balance date (:60F:)")),
                    (None, Some(d)) => Some((d, "the report's date (:13D:)")),
                    (None, None) => None,
                };
                let line = match parse_statement_line(&f.text, fallback) {
                    Ok(l) => l,
                    Err(e) => return self.fail_field(f.line_no, f.tag, e),
                };
                st.lines += 1;
                let signed = if line.mark.adds() { line.amount } else { -line.amount };
                let Some(sum) = remit_domain::model::money::exact_add(st.sum, signed) else {
                    let problem = format!(
                        "the sum of the lines of statement {} passes what exact decimal arithmetic holds",
                        st.name()
                    );
                    let e = FieldError { part: "amount", problem };
                    return self.fail_field(f.line_no, f.tag, e);
                };
                st.sum = sum;
                let tally = if line.mark.adds() { &mut st.credits } else { &mut st.debits };
                let Some(sum) = remit_domain::model::money::exact_add(tally.sum, line.amount) else {
                    let problem = format!(
                        "the sum of the lines of {} passes what exact decimal arithmetic holds",
                        st.name()
                    );
                    return self.fail_field(f.line_no, f.tag, FieldError { part: "amount", problem });
                };
                tally.count += 1;
                tally.sum = sum;
                self.pending =
                    Some(Pending { line, line_no: f.line_no, offset: f.offset, ordinal: st.lines });
            }
            "62F" | "62M" if st.interim => {
                let problem = format!("report {} has a closing balance: an MT942 has none", st.name());
                self.fail(loc, problem);
            }
            "62F" | "62M" => {
                let b = match parse_balance(f.text.as_bytes()) {
                    Ok(b) => b,
                    Err(e) => return self.fail_field(f.line_no, f.tag, e),
                };
                let Some(opening) = st.opening else {
                    let problem =
                        format!("statement {} has a closing balance but no opening balance", st.name());
                    return self.fail(loc, problem);
                };
                if st.closed {
                    let problem = format!("statement {} has a second closing balance", st.name());
                    return self.fail(loc, problem);
                }
                st.closed = true;
                let code = st.currency.map(|c| c.code()).unwrap_or("");
                if b.currency != code.as_bytes() {
                    let problem = format!(
                        "statement {}: closing balance is in {}, opening balance in {code}",
                        st.name(),
                        String::from_utf8_lossy(&b.currency)
                    );
                    return self.fail(loc, problem);
                }
                if let Err(e) = fits_currency(b.amount, st.currency) {
                    return self.fail_field(f.line_no, f.tag, e);
                }
                let Some(expected) = remit_domain::model::money::exact_add(opening, st.sum) else {
                    let problem = format!(
                        "opening balance plus the lines of statement {} passes what exact decimal \
                         arithmetic holds",
                        st.name()
                    );
                    return self.fail_field(f.line_no, f.tag, FieldError { part: "amount", problem });
                };
                if expected != b.amount {
                    let problem = format!(
                        "statement {}: balance chain broken (opening balance :60F: + the :61: lines must \
                         equal the closing balance :{}:): opening balance {opening} {code} plus {} \
                         lines ({}) makes {expected}, but :{}: says {}",
                        st.name(),
                        f.tag.as_str(),
                        st.lines,
                        st.sum,
                        f.tag.as_str(),
                        b.amount
                    );
                    self.fail(loc, problem);
                }
            }
            // :21:, :13:, :13D:, :34F:, :64:, :65:, :90C:, :90D:, :NS: carry nothing to post.
            _ => {}
        }
    }

    /// Builds the payment of a `:61:` line and its `:86:` text, and queues it.
    fn emit(&mut self, p: Pending, details: Option<&str>) {
        let file = &self.ctx.file_name;
        let Some(st) = self.statement.as_ref() else {
            return;
        };
        let Some(cur) = st.currency else {
            return;
        };
        let l = p.line;
        let loc = Location::Line { number: p.line_no };
        // A zero line (Citi books them) moves no money: yielded all the same, and the pipeline
        // counts it apart from the payments (balance unchanged).
        let amount = match Money::new(l.amount, cur) {
            Ok(m) => m,
            Err(e) => {
                self.out.push_back(Err(ParseError::field(file, loc, ":61: amount", e.to_string())));
                self.done = true;
                return;
            }
        };
        let (direction, reversal) = match l.mark {
            field::Mark::Credit => (Direction::Credit, false),
            field::Mark::Debit => (Direction::Debit, false),
            field::Mark::ReversalOfCredit => (Direction::Debit, true),
            field::Mark::ReversalOfDebit => (Direction::Credit, true),
        };
        let place = format!("{}#{}", st.identity, p.ordinal);
        // Keyed by the bank's reference when the line has one (see the module's doc); a repeat
        // of the same identity in one statement is keyed by its place.
        let by_reference = l
            .bank_ref
            .as_deref()
            .filter(|b| !b.eq_ignore_ascii_case("NONREF"))
            .map(|b| line_identity(b, l.value_date, l.mark, l.amount));
        // Always new once `MAX_REMEMBERED_LINES` are remembered.
        let repeated = by_reference.as_ref().is_some_and(|id| {
            self.seen.len() < MAX_REMEMBERED_LINES && !self.seen.insert(self.seen.hasher().hash_one(id))
        });
        let by_reference = by_reference.filter(|_| !repeated);
        let StatementLine { tx_type, customer_ref, bank_ref, supplementary, value_date_warning, .. } = l;
        let mut other = Vec::with_capacity(10);
        let bank_ref = match (bank_ref, customer_ref.is_empty()) {
            (Some(b), _) => {
                if !customer_ref.is_empty() {
                    other.push(("customer_ref".into(), RefText::new(customer_ref)));
                }
                other.push(("bank_ref".into(), RefText::new(b.clone())));
                b
            }
            (None, false) => {
                let b = customer_ref.clone();
                other.push(("customer_ref".into(), RefText::new(customer_ref)));
                b
            }
            (None, true) => {
                use std::fmt::Write;
                let mut b = String::with_capacity(st.reference.len() + 11);
                b.push_str(&st.reference);
                let _ = write!(b, "/{}", p.ordinal);
                b
            }
        };

        let mut warnings: Vec<String> = value_date_warning.into_iter().collect();
        let mut refs = References::default();
        let mut payer_name = None;
        let mut payer_account = None;
        if !tx_type.is_empty() {
            other.push(("tx_type".into(), RefText::new(tx_type)));
        }
        if let Some(text) = details {
            let d = &mut self.details;
            d.parse(text);
            if let Some(g) = d.gvc() {
                other.push(("gvc".into(), RefText::new(g)));
            }
            if d.subfields.is_empty() {
                let t = text.trim();
                if !t.is_empty() {
                    refs.remittance.push(RefText::new(t));
                }
                if let Some(e) = sepa_value(t, "EREF+").filter(|e| *e != "NOTPROVIDED") {
                    refs.end_to_end_id = Some(RefText::new(e));
                }
            } else {
                let buf = &mut self.scratch;
                buf.clear();
                d.join_into(20..=29, buf);
                d.join_into(60..=63, buf);
                let purpose = buf.trim();
                if !purpose.is_empty() {
                    refs.remittance.push(RefText::new(purpose));
                }
                if let Some(e) = sepa_value(purpose, "EREF+").filter(|e| *e != "NOTPROVIDED") {
                    refs.end_to_end_id = Some(RefText::new(e));
                }
                buf.clear();
                d.join_into(32..=33, buf);
                let name = buf.trim();
                if !name.is_empty() {
                    payer_name = Some(name.to_string());
                }
                if let Some(posting) = d.get(0).map(str::trim).filter(|s| !s.is_empty()) {
                    other.push(("posting_text".into(), RefText::new(posting)));
                }
                if let Some(bank) = d.get(30).map(str::trim).filter(|s| !s.is_empty()) {
                    other.push(("payer_bank".into(), RefText::new(bank)));
                }
                if let Some(acct) = d.get(31).map(str::trim).filter(|s| !s.is_empty()) {
                    payer_account = Some(account(acct, &mut warnings));
                }
            }
        }
        if !supplementary.is_empty() {
            other.push(("supplementary".into(), RefText::new(supplementary)));
        }
        other.push(("statement".into(), RefText::new(st.label.clone())));
        let format = if st.interim { SourceFormat::Mt942 } else { SourceFormat::Mt940 };
        match by_reference {
            Some(id) => {
                other.push((STATEMENT_LINE.into(), RefText::new(id)));
                if !st.interim {
                    // Keyed by its place before: a statement posted then, re-sent now, is found.
                    other.push((EARLIER_STATEMENT_LINE.into(), RefText::new(place)));
                }
            }
            None => {
                other.push((STATEMENT_LINE.into(), RefText::new(place)));
                if st.interim {
                    let why = if repeated { INTRADAY_REPEATED_REFERENCE } else { INTRADAY_WITHOUT_REFERENCE };
                    warnings.push(why.to_string());
                }
            }
        }
        refs.other = other;

        self.out.push_back(Ok(Payment {
            market: Market::EU,
            format,
            source_bank: st.account.clone(),
            bank_ref,
            key_basis: KeyBasis::StatementLine,
            amount,
            direction,
            reversal,
            value_date: l.value_date,
            booking_date: l.entry_date,
            payer_name,
            payer_account,
            references: refs,
            source: Provenance {
                file_id: self.ctx.file_id,
                file: self.ctx.file_name.clone(),
                record: p.line_no,
                offset: p.offset,
                position: 0,
            },
            warnings,
        }));
    }

    /// End of file: the last field, the last statement, and a file with no statement at all.
    fn end_of_file(&mut self) {
        self.end_field();
        if !self.done {
            self.end_message(self.line_no);
        }
        if !self.done && self.statements == 0 {
            self.fail(Location::File, "no MT940 statement in the file (no :20: field)");
        }
        self.done = true;
    }
}

/// `//{bank reference}@{value date}{mark}{amount}` (`//B1@2026-11-20C820.5`): a line's identity
/// in any report of its account. Written digit by digit: `format!` through the `Decimal` and
/// `NaiveDate` Display impls cost a tenth of the reader's time.
fn line_identity(
    bank_ref: &str,
    value_date: chrono::NaiveDate,
    mark: field::Mark,
    amount: Decimal,
) -> String {
    use chrono::Datelike;
    use std::fmt::Write;
    let mut s = String::with_capacity(bank_ref.len() + 48);
    s.push_str("//");
    s.push_str(bank_ref);
    s.push('@');
    let _ = write!(s, "{:04}-{:02}-{:02}", value_date.year(), value_date.month(), value_date.day());
    s.push_str(mark.code());
    // Without trailing zeros (`820,00` and `820,` are one amount): the digits, and a point
    // before the last `scale` of them.
    let a = amount.normalize();
    let digits = a.mantissa().unsigned_abs();
    let scale = a.scale();
    let unit = 10u128.pow(scale);
    let _ = write!(s, "{}", digits / unit);
    if scale > 0 {
        let _ = write!(s, ".{:0width$}", digits % unit, width = scale as usize);
    }
    s
}

/// A balance must keep its currency's decimals, as a payment's amount must (`Money::new`): a
/// balance in thousandths of a euro cannot be checked against amounts in cents.
fn fits_currency(amount: Decimal, currency: Option<Currency>) -> Result<(), FieldError> {
    let Some(cur) = currency else { return Ok(()) };
    match Money::new(amount, cur) {
        Ok(_) => Ok(()),
        Err(e) => Err(FieldError { part: "amount", problem: e.to_string() }),
    }
}

/// `?31` payer account: an IBAN when it looks like one (and a warning when its check fails),
/// otherwise the domestic account number verbatim.
fn account(text: &str, warnings: &mut Vec<String>) -> PayerAccount {
    // Nothing to remove when the text is all ASCII letters and digits (the usual case).
    let compact: std::borrow::Cow<'_, str> = if text.bytes().all(|b| b.is_ascii_alphanumeric()) {
        text.into()
    } else {
        text.chars().filter(|c| !c.is_whitespace()).collect::<String>().into()
    };
    let b = compact.as_bytes();
    let looks_iban = b.len() >= 15
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..4].iter().all(u8::is_ascii_digit)
        && b.iter().all(u8::is_ascii_alphanumeric);
    if !looks_iban {
        return PayerAccount::Other(text.to_string());
    }
    match compact.parse::<Iban>() {
        Ok(iban) => PayerAccount::Iban(iban),
        Err(e) => {
            warnings.push(format!("payer account ?31 {compact:?} is not a valid IBAN: {e}"));
            PayerAccount::Other(text.to_string())
        }
    }
}

impl<R: BufRead> Iterator for Mt940Reader<R> {
    type Item = Result<Payment, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.out.pop_front() {
                return Some(item);
            }
            if self.done {
                return None;
            }
            match self.read_line() {
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
                Ok(false) => self.end_of_file(),
                Ok(true) => self.line(),
            }
        }
    }
}

#[cfg(test)]
mod tests;
