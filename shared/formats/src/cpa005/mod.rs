//! CPA Standard 005 (Canadian Payments Association, 1464-byte records): a streaming reader that
//! turns each non-empty segment of a detail record into a `Payment` and checks the Z trailer's
//! totals.
//!
//! Detail record types: `C` credit, `D` debit (PAD), `E` credit reversal, `F` debit reversal,
//! `I` returned credit, `J` returned debit. E/F/I/J undo an earlier item: they become
//! `reversal: true` payments moving money the other way (a returned credit is a debit), and carry
//! the original item's trace number (segment positions 206-227) as their `item_trace` linking
//! reference, the one the original C/D item carries for its own trace number (41-62), so the
//! pipeline finds the posting to undo. Notice-of-change / error-correction records (`S`, `U`,
//! `V`) are refused by name. Layout facts from moov-io/cadeft (`credit_return.go`,
//! `credit_reverse.go`, `debit_return.go`, `debit_reverse.go`, `file_footer.go`).
//!
//! Who paid depends on the record type (`payer`): a credit's payer is its originator (long name
//! 111-140, else short name 66-80; account for returns 170-190), since 20-40 and 81-110 name the
//! payee, who receives the money; a debit's payer is its payor, named at 20-40 and 81-110. E and
//! I follow the credit, F and J the debit. The other party's fields are kept as references
//! (`payee_name`, `payee_account`, `originator_long_name`), and the record type as `record_type`.
//!
//! Real files bend the standard: a `$$...$$` routing line before the header, CRLF, LF or no line
//! breaks at all, short last records, blank currency, spaces in numeric fields, Windows-1252
//! names. The reader accepts all of those and refuses anything it cannot account for.

pub mod generate;
mod payer;
mod record;

use std::io::{self, BufRead};

use remit_domain::model::money::Currency;
use remit_domain::{
    Direction, KeyBasis, Market, Money, Payment, Provenance, RefText, References, SourceFormat, ITEM_TRACE,
    RECORD_TYPE,
};

use crate::{Location, ParseError, SourceContext};
use payer::Party;
use record::{
    cents, control_inside, detail, header, is_blank, is_empty_segment, is_nil_reference, opt_text,
    parse_julian, parse_num, segment, show_byte, text, trailer, Field, NumError, FIRST_SEGMENT, RECORD_LEN,
    SEGMENTS, SEGMENT_LEN,
};

/// A detail record's logical record type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `C`: a credit (a payment to us).
    Credit,
    /// `D`: a debit, e.g. a pre-authorized debit (PAD).
    Debit,
    /// `E`: the originator reverses a credit it sent.
    CreditReversal,
    /// `F`: the originator reverses a debit it sent.
    DebitReversal,
    /// `I`: a credit returned (account closed, no such account...).
    ReturnedCredit,
    /// `J`: a debit returned (NSF, payment stopped...).
    ReturnedDebit,
}

impl Kind {
    fn of(letter: u8) -> Option<Kind> {
        Some(match letter {
            b'C' => Kind::Credit,
            b'D' => Kind::Debit,
            b'E' => Kind::CreditReversal,
            b'F' => Kind::DebitReversal,
            b'I' => Kind::ReturnedCredit,
            b'J' => Kind::ReturnedDebit,
            _ => return None,
        })
    }

    /// Which way the money moves: undoing a credit takes money back out.
    fn direction(self) -> Direction {
        match self {
            Kind::Credit | Kind::DebitReversal | Kind::ReturnedDebit => Direction::Credit,
            Kind::Debit | Kind::CreditReversal | Kind::ReturnedCredit => Direction::Debit,
        }
    }

    /// Which party paid. A credit's payer is its originator: 20-40 and 81-110 name the payee,
    /// who receives the money (us, when a client pays our cards). A debit's payer is its payor,
    /// named there. Reversals and returns undo an item of their family and name its parties.
    fn payer(self) -> Party {
        match self {
            Kind::Credit | Kind::CreditReversal | Kind::ReturnedCredit => Party::Originator,
            Kind::Debit | Kind::DebitReversal | Kind::ReturnedDebit => Party::PayeeOrPayor,
        }
    }

    /// The logical record type as the file writes it.
    fn letter(self) -> &'static str {
        match self {
            Kind::Credit => "C",
            Kind::Debit => "D",
            Kind::CreditReversal => "E",
            Kind::DebitReversal => "F",
            Kind::ReturnedCredit => "I",
            Kind::ReturnedDebit => "J",
        }
    }

    fn undoes_an_item(self) -> bool {
        !matches!(self, Kind::Credit | Kind::Debit)
    }

    fn label(self) -> &'static str {
        match self {
            Kind::Credit => "credit (C)",
            Kind::Debit => "debit (D)",
            Kind::CreditReversal => "credit reversal (E)",
            Kind::DebitReversal => "debit reversal (F)",
            Kind::ReturnedCredit => "returned credit (I)",
            Kind::ReturnedDebit => "returned debit (J)",
        }
    }
}

/// Where the reader is in the file's record grammar: `$$`? A (C|D|E|F|I|J)* Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Start,
    Body,
    AfterTrailer,
    Done,
}

/// What the A header says about every payment in the file.
#[derive(Debug)]
struct Header {
    originator: std::sync::Arc<str>,
    /// Positions 11-24 (originator id + file creation number), trimmed, as detail records repeat it.
    origin_key: String,
    currency: Currency,
}

/// What the file held, to hold the trailer to account: C and I count as credits, D and J as
/// debits, E and F each have their own total.
#[derive(Debug, Default)]
struct Totals {
    credit_count: u64,
    credit_cents: u64,
    debit_count: u64,
    debit_cents: u64,
    e_count: u64,
    e_cents: u64,
    f_count: u64,
    f_cents: u64,
}

impl Totals {
    /// Counts one item. On overflow, the name of the total that overflowed and nothing changed:
    /// a saturated total could agree with a wrong trailer.
    fn add(&mut self, kind: Kind, cents: u64) -> Result<(), &'static str> {
        let (count, sum, what) = match kind {
            Kind::Credit | Kind::ReturnedCredit => {
                (&mut self.credit_count, &mut self.credit_cents, "total value of credits (C and I)")
            }
            Kind::Debit | Kind::ReturnedDebit => {
                (&mut self.debit_count, &mut self.debit_cents, "total value of debits (D and J)")
            }
            Kind::CreditReversal => {
                (&mut self.e_count, &mut self.e_cents, "total value of credit reversals (E)")
            }
            Kind::DebitReversal => {
                (&mut self.f_count, &mut self.f_cents, "total value of debit reversals (F)")
            }
        };
        let (Some(n), Some(s)) = (count.checked_add(1), sum.checked_add(cents)) else {
            return Err(what);
        };
        (*count, *sum) = (n, s);
        Ok(())
    }
}

/// Streams a CPA-005 file one record at a time (memory stays at one record whatever the file
/// size) and yields one `Payment` per non-empty segment; structural errors end the stream.
pub struct Cpa005Reader<R> {
    reader: R,
    ctx: SourceContext,
    /// The current record, padded to `RECORD_LEN` once read.
    buf: Vec<u8>,
    /// Bytes consumed from the reader so far.
    pos: u64,
    stage: Stage,
    /// Records read so far, the A header being record 1 (a routing line is not a record).
    records: u64,
    rec_offset: u64,
    /// The detail record whose segments are being yielded, if any.
    rec_kind: Option<Kind>,
    next_segment: usize,
    header: Option<Header>,
    totals: Totals,
}

impl<R: BufRead> Cpa005Reader<R> {
    /// Wraps a reader positioned at the start of the file (a routing line may come first).
    pub fn new(reader: R, ctx: SourceContext) -> Self {
        Self {
            reader,
            ctx,
            buf: Vec::with_capacity(RECORD_LEN + 2),
            pos: 0,
            stage: Stage::Start,
            records: 0,
            rec_offset: 0,
            rec_kind: None,
            next_segment: 0,
            header: None,
            totals: Totals::default(),
        }
    }

    /// Reads one record into `buf`: up to a line end, or exactly `RECORD_LEN` bytes when the
    /// records run back to back. Returns false at end of file.
    fn read_record(&mut self) -> io::Result<bool> {
        self.buf.clear();
        self.rec_offset = self.pos;
        let mut consumed_any = false;
        let mut terminated = false;
        while self.buf.len() < RECORD_LEN {
            let avail = crate::fill_buf(&mut self.reader)?;
            if avail.is_empty() {
                break;
            }
            consumed_any = true;
            let room = RECORD_LEN - self.buf.len();
            let window = &avail[..avail.len().min(room)];
            if let Some(i) = window.iter().position(|&b| b == b'\n') {
                self.buf.extend_from_slice(&window[..i]);
                self.reader.consume(i + 1);
                self.pos += (i + 1) as u64;
                terminated = true;
                break;
            }
            let n = window.len();
            self.buf.extend_from_slice(window);
            self.reader.consume(n);
            self.pos += n as u64;
        }
        if !terminated && self.buf.len() == RECORD_LEN {
            // A full record: swallow its line end, if it has one.
            if self.buf.last() == Some(&b'\r') && self.peek()? == Some(b'\n') {
                self.skip_byte();
                self.buf.pop();
            } else {
                if self.peek()? == Some(b'\r') {
                    self.skip_byte();
                }
                if self.peek()? == Some(b'\n') {
                    self.skip_byte();
                }
            }
        } else if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        Ok(consumed_any)
    }

    fn peek(&mut self) -> io::Result<Option<u8>> {
        Ok(crate::fill_buf(&mut self.reader)?.first().copied())
    }

    fn skip_byte(&mut self) {
        self.reader.consume(1);
        self.pos += 1;
    }

    fn location(&self) -> Location {
        Location::Record { number: self.records, offset: self.rec_offset }
    }

    /// Ends the stream with a structural error.
    fn fail(
        &mut self,
        location: Location,
        problem: impl Into<String>,
    ) -> Option<Result<Payment, ParseError>> {
        self.stage = Stage::Done;
        Some(Err(ParseError::structure(&self.ctx.file_name, location, problem)))
    }

    /// Ends the stream with a field error in a record that cannot be read past.
    fn fail_field(
        &mut self,
        field: &Field,
        problem: impl Into<String>,
    ) -> Option<Result<Payment, ParseError>> {
        self.stage = Stage::Done;
        let name = format!("{} (positions {}-{})", field.name, field.from, field.to);
        Some(Err(ParseError::field(&self.ctx.file_name, self.location(), name, problem)))
    }

    fn read_header(&mut self) -> Result<(), (Field, String)> {
        let b = &self.buf;
        if let Some((at, byte)) = control_inside(header::ORIGINATOR.of(b)) {
            let position = header::ORIGINATOR.from + at;
            return Err((
                header::ORIGINATOR,
                format!("control character 0x{byte:02X} at position {position}"),
            ));
        }
        let originator: std::sync::Arc<str> = text(header::ORIGINATOR.of(b)).into();
        if originator.is_empty() {
            return Err((header::ORIGINATOR, "is blank".into()));
        }
        let date = header::CREATION_DATE.of(b);
        if parse_julian(date).is_none() {
            return Err((header::CREATION_DATE, format!("{:?} is not a 0YYDDD date", text(date))));
        }
        let cur = header::CURRENCY.of(b);
        let currency = match cur {
            b"CAD" => Currency::CAD,
            b"USD" => Currency::USD,
            _ if is_blank(cur) => Currency::CAD,
            _ => return Err((header::CURRENCY, format!("{:?} is not CAD, USD or blank", text(cur)))),
        };
        let origin_key = text(detail::ORIGINATOR_AND_FILE.of(b)).into_owned();
        self.header = Some(Header { originator, origin_key, currency });
        Ok(())
    }

    /// Compares the Z trailer with what was read; the problems, if any, in one sentence.
    fn check_trailer(&self) -> Result<Vec<String>, (Field, String)> {
        let b = &self.buf;
        let num = |f: Field| match parse_num(f.of(b)) {
            Ok(n) => Ok(Some(n)),
            Err(NumError::Blank) => Ok(None),
            Err(NumError::NotDigits) => Err((f, format!("{:?} is not a number", text(f.of(b))))),
        };
        let debit_value = num(trailer::DEBIT_VALUE)?.unwrap_or(0);
        let debit_count = num(trailer::DEBIT_COUNT)?.unwrap_or(0);
        let credit_value = num(trailer::CREDIT_VALUE)?.unwrap_or(0);
        let credit_count = num(trailer::CREDIT_COUNT)?.unwrap_or(0);
        let e_value = num(trailer::E_VALUE)?.unwrap_or(0);
        let e_count = num(trailer::E_COUNT)?.unwrap_or(0);
        let f_value = num(trailer::F_VALUE)?.unwrap_or(0);
        let f_count = num(trailer::F_COUNT)?.unwrap_or(0);
        let count = num(trailer::COUNT)?;
        let t = &self.totals;
        let mut problems = Vec::new();
        if (credit_count, credit_value) != (t.credit_count, t.credit_cents) {
            problems.push(format!(
                "trailer says {credit_count} credits totalling {}, file holds {} totalling {}",
                cents(credit_value),
                t.credit_count,
                cents(t.credit_cents)
            ));
        }
        if (debit_count, debit_value) != (t.debit_count, t.debit_cents) {
            problems.push(format!(
                "trailer says {debit_count} debits totalling {}, file holds {} totalling {}",
                cents(debit_value),
                t.debit_count,
                cents(t.debit_cents)
            ));
        }
        for (what, (count, value), (held, held_cents)) in [
            ("credit reversals (E)", (e_count, e_value), (t.e_count, t.e_cents)),
            ("debit reversals (F)", (f_count, f_value), (t.f_count, t.f_cents)),
        ] {
            if (count, value) != (held, held_cents) {
                problems.push(format!(
                    "trailer says {count} {what} totalling {}, file holds {held} totalling {}",
                    cents(value),
                    cents(held_cents)
                ));
            }
        }
        if let Some(count) = count {
            if count != self.records {
                problems.push(format!(
                    "trailer record count says {count}, file has {} records including A and Z",
                    self.records
                ));
            }
        }
        Ok(problems)
    }

    /// Turns segment `index` (0-based) of the current detail record into a payment; `None` when
    /// the segment is empty.
    fn segment(&mut self, index: usize, kind: Kind) -> Option<Result<Payment, ParseError>> {
        let start = FIRST_SEGMENT + index * SEGMENT_LEN;
        let seg = self.buf.get(start..start + SEGMENT_LEN)?;
        if is_empty_segment(seg) {
            return None;
        }
        let header = self.header.as_ref()?;
        let n = index + 1;
        let location = Location::Record { number: self.records, offset: self.rec_offset };
        let file = &self.ctx.file_name;
        let field_err = |f: Field, problem: String| {
            let name = format!("segment {n} {} (positions {}-{})", f.name, start + f.from, start + f.to);
            Some(Err(ParseError::field(file, location.clone(), name, problem)))
        };

        // A NUL or ESC inside a name or reference is refused, never passed on or deleted. One
        // branch-free pass first: most segments hold no control byte at all.
        if seg.iter().fold(false, |any, &b| any | (b < 0x20) | (b == 0x7f)) {
            for f in segment::TEXT {
                if let Some((at, byte)) = control_inside(f.of(seg)) {
                    let position = start + f.from + at;
                    return field_err(f, format!("control character 0x{byte:02X} at position {position}"));
                }
            }
        }

        let amount = segment::AMOUNT.of(seg);
        let minor = match parse_num(amount) {
            Ok(0) => return field_err(segment::AMOUNT, "amount is zero".into()),
            Ok(c) => c,
            Err(NumError::Blank) => return field_err(segment::AMOUNT, "amount is blank".into()),
            Err(NumError::NotDigits) => {
                return field_err(segment::AMOUNT, format!("{:?} is not a number of cents", text(amount)))
            }
        };
        if let Err(total) = self.totals.add(kind, minor) {
            return field_err(segment::AMOUNT, format!("adding it overflows the file's {total}"));
        }
        // Ten digits of cents always fit an i64.
        let Ok(minor) = i64::try_from(minor) else {
            return field_err(segment::AMOUNT, "amount is too large".into());
        };

        let date = segment::DATE.of(seg);
        let Some(value_date) = parse_julian(date) else {
            return field_err(segment::DATE, format!("{:?} is not a 0YYDDD date", text(date)));
        };

        let mut warnings = Vec::new();
        let payer = payer::read(kind.payer(), seg);
        if let Some((field, inst)) = &payer.odd_institution {
            warnings.push(format!(
                "segment {n}: {} {inst:?} (positions {}-{}) is not 0 + institution + transit",
                field.name,
                start + field.from,
                start + field.to
            ));
        }

        let trace_field = segment::TRACE.of(seg);
        let trace = text(trace_field).into_owned();
        let key_basis =
            if is_nil_reference(trace_field) { KeyBasis::FilePosition } else { KeyBasis::BankReference };
        let mut other = vec![(RECORD_TYPE.into(), RefText::new(kind.letter()))];
        // `item_trace` names the item a posting is for: a C/D item's own trace number, and for
        // E/F/I/J the original item's, so that original and return share the linking reference.
        let linking_trace = if kind.undoes_an_item() {
            let original = segment::ORIGINAL_TRACE.of(seg);
            if is_nil_reference(original) {
                warnings.push(format!(
                    "segment {n}: {} without an original item trace number (positions {}-{})",
                    kind.label(),
                    start + segment::ORIGINAL_TRACE.from,
                    start + segment::ORIGINAL_TRACE.to
                ));
                None
            } else {
                Some(text(original).into_owned())
            }
        } else {
            (key_basis == KeyBasis::BankReference).then(|| trace.clone())
        };
        if let Some(t) = linking_trace {
            other.push((ITEM_TRACE.into(), RefText::new(t)));
        }
        if kind.undoes_an_item() && key_basis == KeyBasis::BankReference {
            other.push(("return_item_trace".into(), RefText::new(trace.clone())));
        }
        if matches!(kind, Kind::ReturnedCredit | Kind::ReturnedDebit) {
            // The standard's return reason: which data element of the original was invalid.
            let invalid = segment::INVALID_DATA_ELEMENT.of(seg);
            if !is_nil_reference(invalid) {
                let reason = text(invalid).into_owned();
                warnings.push(format!("segment {n}: {}, invalid data element id {reason}", kind.label()));
                other.push(("return_reason".into(), RefText::new(reason)));
            }
        }
        if let Some(s) = opt_text(segment::SHORT_NAME.of(seg)) {
            other.push(("originator_short_name".into(), RefText::new(s)));
        }
        for (key, value) in payer.other_party {
            other.push((key.into(), RefText::new(value)));
        }
        if let Some(s) = opt_text(segment::SUNDRY.of(seg)) {
            other.push(("sundry".into(), RefText::new(s)));
        }
        let references = References {
            cross_reference: opt_text(segment::CROSS_REF.of(seg)).map(RefText::new),
            other,
            ..References::default()
        };

        Some(Ok(Payment {
            market: Market::CA,
            format: SourceFormat::Cpa005,
            source_bank: header.originator.clone(),
            bank_ref: trace,
            key_basis,
            amount: Money::from_minor(minor, header.currency),
            direction: kind.direction(),
            reversal: kind.undoes_an_item(),
            value_date,
            booking_date: None,
            payer_name: payer.name,
            payer_account: payer.account,
            references,
            source: Provenance {
                file_id: self.ctx.file_id,
                file: self.ctx.file_name.clone(),
                record: self.records,
                offset: self.rec_offset,
                position: n as u32,
            },
            warnings,
        }))
    }
}

impl<R: BufRead> Iterator for Cpa005Reader<R> {
    type Item = Result<Payment, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.stage == Stage::Done {
                return None;
            }
            if let Some(kind) = self.rec_kind {
                while self.next_segment < SEGMENTS {
                    let i = self.next_segment;
                    self.next_segment += 1;
                    if let Some(item) = self.segment(i, kind) {
                        return Some(item);
                    }
                }
                self.rec_kind = None;
            }

            match self.read_record() {
                Err(e) => {
                    self.stage = Stage::Done;
                    return Some(Err(ParseError::io(&self.ctx.file_name, e)));
                }
                Ok(false) => {
                    return match self.stage {
                        Stage::Start => self.fail(Location::File, "file is empty: no A header record"),
                        Stage::Body => {
                            let n = self.records;
                            self.fail(
                                Location::File,
                                format!("file ends after record {n} without a Z trailer"),
                            )
                        }
                        _ => {
                            self.stage = Stage::Done;
                            None
                        }
                    };
                }
                Ok(true) => {}
            }
            if self.rec_offset == 0 && self.buf.starts_with(b"\xEF\xBB\xBF") {
                self.buf.drain(..3); // a UTF-8 byte order mark, as `detect` allows
                self.rec_offset = 3;
            }
            if is_blank(&self.buf) {
                continue;
            }
            if self.stage == Stage::Start && self.buf.starts_with(b"$$") {
                continue; // bank routing line, e.g. $$AAPACPA1464[PROD[NL$$
            }
            self.buf.resize(RECORD_LEN, b' ');
            self.records += 1;
            let n = self.records;
            let kind = self.buf[0];
            match (self.stage, kind) {
                (Stage::Start, b'A') => {
                    if let Err((field, problem)) = self.read_header() {
                        return self.fail_field(&field, problem);
                    }
                    self.stage = Stage::Body;
                }
                (Stage::Start, other) => {
                    let loc = self.location();
                    return self.fail(
                        loc,
                        format!(
                            "file does not start with an A header record: record 1 has type {}",
                            show_byte(other)
                        ),
                    );
                }
                (Stage::Body, b'C' | b'D' | b'E' | b'F' | b'I' | b'J') => {
                    let key = text(detail::ORIGINATOR_AND_FILE.of(&self.buf));
                    let expected = self.header.as_ref().map(|h| h.origin_key.as_str()).unwrap_or("");
                    if !key.is_empty() && key != expected {
                        let problem = format!(
                            "record {n} is for originator and file {key:?}, the header for {expected:?}"
                        );
                        let loc = self.location();
                        return self.fail(loc, problem);
                    }
                    self.rec_kind = Kind::of(kind);
                    self.next_segment = 0;
                }
                (Stage::Body, b'Z') => {
                    self.stage = Stage::AfterTrailer;
                    match self.check_trailer() {
                        Err((field, problem)) => return self.fail_field(&field, problem),
                        Ok(problems) if !problems.is_empty() => {
                            let loc = self.location();
                            return self.fail(loc, problems.join("; "));
                        }
                        Ok(_) => {}
                    }
                }
                (Stage::Body, b'S' | b'U' | b'V') => {
                    let loc = self.location();
                    return self.fail(
                        loc,
                        format!(
                            "record {n} has record type {}, a notice-of-change / error-correction record \
                             this reader does not handle (C, D, E, F, I, J and Z are read)",
                            show_byte(kind)
                        ),
                    );
                }
                (Stage::Body, b'A') => {
                    let loc = self.location();
                    return self.fail(loc, format!("record {n} is a second A header"));
                }
                (Stage::Body, other) => {
                    let loc = self.location();
                    return self.fail(
                        loc,
                        format!(
                            "record {n} has unknown record type {} (expected C, D, E, F, I, J or Z)",
                            show_byte(other)
                        ),
                    );
                }
                (Stage::AfterTrailer, other) => {
                    let loc = self.location();
                    return self
                        .fail(loc, format!("record {n} (type {}) follows the Z trailer", show_byte(other)));
                }
                (Stage::Done, _) => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests;
