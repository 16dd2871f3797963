//! Fixed-width files read with a profile: records framed by line ends or back to back, typed
//! by a code, fields cut at compiled byte ranges, trailer control totals checked.

use std::io::{self, BufRead};
use std::sync::Arc;

use remit_domain::{Payment, Provenance};
use rust_decimal::Decimal;

use super::build::{self, check_fields, extract, FieldFault, FileState};
use super::encoding::Encoding;
use super::plan::{FixedPlan, Plan, RecordPlan, Role};
use super::schema::{CountDoc, Framing};
use crate::{Location, ParseError, SourceContext};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Start,
    Body,
    AfterTrailer,
    Done,
}

/// Streams payments from a fixed-width file with a compiled profile; one record in memory.
pub struct FixedWidthReader<R> {
    reader: R,
    ctx: SourceContext,
    plan: Arc<Plan>,
    buf: Vec<u8>,
    slots: Vec<String>,
    pad: u8,
    /// Bytes that end a line in the file's encoding (LF, CR; EBCDIC NL and LF for cp037).
    line_ends: [u8; 2],
    /// UTF-8 lets control characters through; the single-byte tables refuse them already.
    utf8: bool,
    pos: u64,
    rec_offset: u64,
    records: u64,
    details: u64,
    sum: Decimal,
    stage: Stage,
    file: FileState,
}

impl<R: BufRead> FixedWidthReader<R> {
    /// Wraps a reader at the start of the file; nothing is read until the first `next()`.
    pub fn new(reader: R, ctx: SourceContext, plan: Arc<Plan>) -> Self {
        let pad = plan.encoding.encode_ascii(b' ');
        let nl = plan.encoding.encode_ascii(b'\n');
        let utf8 = matches!(plan.encoding, Encoding::Utf8);
        let line_ends = if nl == b'\n' { [b'\n', b'\r'] } else { [nl, 0x15] };
        let len = plan.fixed.as_ref().map_or(0, |f| f.record_length);
        let most = [plan.header.as_ref(), Some(&plan.detail), plan.trailer.as_ref()]
            .iter()
            .filter_map(|r| r.map(|r| r.fields.len()))
            .max()
            .unwrap_or(0);
        Self {
            reader,
            ctx,
            file: FileState::new(&plan),
            plan,
            buf: Vec::with_capacity(len + 2),
            slots: vec![String::new(); most],
            pad,
            line_ends,
            utf8,
            pos: 0,
            rec_offset: 0,
            records: 0,
            details: 0,
            sum: Decimal::ZERO,
            stage: Stage::Start,
        }
    }

    fn fixed(&self) -> &FixedPlan {
        // compile() guarantees a fixed-width plan has its framing.
        self.plan.fixed.as_ref().expect("a fixed-width plan")
    }

    fn location(&self) -> Location {
        Location::Record { number: self.records, offset: self.rec_offset }
    }

    fn structure(&self, problem: impl Into<String>) -> ParseError {
        ParseError::structure(&self.ctx.file_name, self.location(), problem)
    }

    fn field_error(&self, rec: &RecordPlan, f: FieldFault) -> ParseError {
        let label = rec.fields.get(f.field).map_or("?", |f| f.label.as_str());
        ParseError::field(&self.ctx.file_name, self.location(), label, f.problem)
    }

    /// Reads the next non-empty record into `buf`, padded to the record length. False at end.
    fn read_record(&mut self) -> Result<bool, ParseError> {
        let len = self.fixed().record_length;
        let framing = self.fixed().framing;
        let io = |e: io::Error, name: &str| ParseError::io(name, e);
        loop {
            self.buf.clear();
            self.rec_offset = self.pos;
            let mut any = false;
            match framing {
                Framing::Lines => loop {
                    let avail = crate::fill_buf(&mut self.reader).map_err(|e| io(e, &self.ctx.file_name))?;
                    if avail.is_empty() {
                        break;
                    }
                    any = true;
                    // A record ends at either line end (LF or CR; NL or NEL in EBCDIC): CR alone
                    // (old Mac exports) reads as LF does, and CRLF leaves an empty record, skipped.
                    let [nl, other] = self.line_ends;
                    let (take, done) = match memchr::memchr2(nl, other, avail) {
                        Some(i) => (i, true),
                        None => (avail.len(), false),
                    };
                    // Bounded: a file without line breaks must not grow the buffer.
                    let room = (len + 2).saturating_sub(self.buf.len());
                    if take > room {
                        self.records += 1;
                        return Err(self.structure(format!(
                            "record is longer than fixed_width.record_length ({len} bytes): is the profile's record length right?"
                        )));
                    }
                    self.buf.extend_from_slice(&avail[..take]);
                    let used = take + usize::from(done);
                    self.reader.consume(used);
                    self.pos += used as u64;
                    if done {
                        break;
                    }
                },
                Framing::Fixed => {
                    // Line ends between records are allowed and skipped.
                    loop {
                        let avail =
                            crate::fill_buf(&mut self.reader).map_err(|e| io(e, &self.ctx.file_name))?;
                        match avail.first() {
                            Some(b) if self.line_ends.contains(b) || (*b == b'\r' && self.pad == b' ') => {
                                self.reader.consume(1);
                                self.pos += 1;
                            }
                            _ => break,
                        }
                    }
                    self.rec_offset = self.pos;
                    while self.buf.len() < len {
                        let avail =
                            crate::fill_buf(&mut self.reader).map_err(|e| io(e, &self.ctx.file_name))?;
                        if avail.is_empty() {
                            break;
                        }
                        any = true;
                        let n = avail.len().min(len - self.buf.len());
                        self.buf.extend_from_slice(&avail[..n]);
                        self.reader.consume(n);
                        self.pos += n as u64;
                    }
                }
            }
            if !any {
                return Ok(false);
            }
            if framing == Framing::Lines && self.buf.last() == Some(&self.line_ends[1]) {
                self.buf.pop();
            }
            if self.buf.iter().all(|&b| b == self.pad) {
                continue;
            }
            self.records += 1;
            if self.buf.len() > len {
                return Err(self.structure(format!(
                    "record is {} bytes, longer than fixed_width.record_length ({len}): is the profile's record length right?",
                    self.buf.len()
                )));
            }
            self.buf.resize(len, self.pad);
            return Ok(true);
        }
    }

    /// Fills the slots of a record's fields from `buf`. A control character (C0 other than
    /// tab, or DEL) in a field's text is an error of the field: never kept, never deleted (the
    /// single-byte encodings refuse it while decoding; UTF-8 is checked here).
    fn cut(&mut self, which: Which) -> Result<(), ParseError> {
        let plan = self.plan.clone();
        let rec = which.of(&plan);
        // In UTF-8 a C0 control or DEL is its own byte: a record without one needs no
        // field-by-field check.
        let controls =
            self.utf8 && self.buf.iter().fold(false, |any, &b| any | (b < 0x20 && b != b'\t') | (b == 0x7f));
        for (i, f) in rec.fields.iter().enumerate() {
            let super::plan::Loc::Bytes { start, end } = f.loc else { continue };
            if let Err(problem) =
                extract(&plan.encoding, f, &self.buf[start..end], self.pad, &mut self.slots[i])
            {
                return Err(self.field_error(rec, FieldFault { field: i, problem }));
            }
            if !controls {
                continue;
            }
            if let Some(at) = self.slots[i].bytes().position(|b| b < 0x20 && b != b'\t' || b == 0x7f) {
                let byte = self.slots[i].as_bytes()[at];
                let chars = self.slots[i][..at].chars().count();
                let problem =
                    format!("control character 0x{byte:02X} at character {} of the value", chars + 1);
                return Err(self.field_error(rec, FieldFault { field: i, problem }));
            }
        }
        Ok(())
    }

    fn code_is(&self, rec: Option<&RecordPlan>) -> bool {
        let Some((s, e)) = self.fixed().record_type else { return false };
        rec.and_then(|r| r.code.as_deref()).is_some_and(|c| c == &self.buf[s..e])
    }

    fn code_text(&self) -> String {
        let Some((s, e)) = self.fixed().record_type else { return String::new() };
        let mut t = String::new();
        if self.plan.encoding.decode_into(&self.buf[s..e], &mut t).is_err() {
            t = self.buf[s..e].iter().map(|b| format!("\\x{b:02X}")).collect();
        }
        t
    }

    fn expected_codes(&self) -> String {
        [self.plan.header.as_ref(), Some(&self.plan.detail), self.plan.trailer.as_ref()]
            .iter()
            .filter_map(|r| r.map(|r| format!("{:?}", r.code_text)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn check_trailer(&mut self) -> Result<(), ParseError> {
        self.cut(Which::Trailer)?;
        let plan = self.plan.clone();
        let Some(rec) = plan.trailer.as_ref() else { return Ok(()) };
        check_fields(rec, &self.slots).map_err(|f| self.field_error(rec, f))?;
        if let Some(count) =
            build::integer_of(rec, &self.slots, Role::ControlCount).map_err(|f| self.field_error(rec, f))?
        {
            let (ours, what) = match self.fixed().count {
                CountDoc::Details => (self.details, "detail records"),
                CountDoc::Records => (self.records, "records (header and trailer included)"),
            };
            if count != ours {
                let label =
                    rec.field(Role::ControlCount).map_or("control_count", |i| rec.fields[i].label.as_str());
                return Err(self.structure(format!(
                    "control total mismatch: trailer field {label} says {count} but the file has {ours} {what}"
                )));
            }
        }
        if let Some(total) =
            build::amount_of(rec, &self.slots, Role::ControlTotal).map_err(|f| self.field_error(rec, f))?
        {
            if total != self.sum {
                let label =
                    rec.field(Role::ControlTotal).map_or("control_total", |i| rec.fields[i].label.as_str());
                return Err(self.structure(format!(
                    "control total mismatch: trailer field {label} says {total} but the {} detail records add up to {}",
                    self.details, self.sum
                )));
            }
        }
        Ok(())
    }

    fn step(&mut self) -> Result<Option<Payment>, ParseError> {
        loop {
            if self.stage == Stage::Done {
                return Ok(None);
            }
            if !self.read_record()? {
                let missing_trailer = self.plan.trailer.is_some() && self.stage != Stage::AfterTrailer;
                if self.records == 0 && self.plan.header.is_some() {
                    self.stage = Stage::Done;
                    return Err(ParseError::structure(&self.ctx.file_name, Location::File, "file is empty"));
                }
                self.stage = Stage::Done;
                if missing_trailer {
                    let code = self.plan.trailer.as_ref().map(|t| t.code_text.clone()).unwrap_or_default();
                    return Err(ParseError::structure(
                        &self.ctx.file_name,
                        Location::File,
                        format!(
                            "file ends without its trailer record (type {code:?}) after record {}",
                            self.records
                        ),
                    ));
                }
                return Ok(None);
            }
            if self.stage == Stage::AfterTrailer {
                return Err(self.structure("record after the trailer"));
            }
            let typed = self.fixed().record_type.is_some();
            if self.stage == Stage::Start {
                self.stage = Stage::Body;
                if let Some(h) = self.plan.header.clone() {
                    if !self.code_is(self.plan.header.as_ref()) {
                        return Err(self.structure(format!(
                            "the first record must be the header (type {:?}), found type {:?}",
                            h.code_text,
                            self.code_text()
                        )));
                    }
                    self.cut(Which::Header)?;
                    let mut file = self.file.clone();
                    file.apply_header(&h, &self.slots).map_err(|f| self.field_error(&h, f))?;
                    self.file = file;
                    continue;
                }
            }
            if typed && !self.code_is(Some(&self.plan.detail)) {
                if self.code_is(self.plan.trailer.as_ref()) {
                    self.check_trailer()?;
                    self.stage = Stage::AfterTrailer;
                    continue;
                }
                if self.code_is(self.plan.header.as_ref()) {
                    return Err(self.structure("a second header record"));
                }
                return Err(self.structure(format!(
                    "record type {:?} is not in the profile (expected {})",
                    self.code_text(),
                    self.expected_codes()
                )));
            }
            self.cut(Which::Detail)?;
            let source = Provenance {
                file_id: self.ctx.file_id,
                file: self.ctx.file_name.clone(),
                record: self.records,
                offset: self.rec_offset,
                position: 0,
            };
            let payment = build::build(&self.plan, &self.slots, &self.file, source)
                .map_err(|f| self.field_error(&self.plan.detail, f))?;
            self.details += 1;
            // Exact or refused: an overflowing (or rounded) sum could make a wrong trailer agree.
            let Some(sum) = remit_domain::model::money::exact_add(self.sum, payment.amount.amount()) else {
                let rec = &self.plan.detail;
                let field = rec.field(Role::Amount).unwrap_or(0);
                let problem = "adding it to the sum of the file's amounts overflows exact decimal arithmetic";
                return Err(self.field_error(rec, FieldFault { field, problem: problem.into() }));
            };
            self.sum = sum;
            return Ok(Some(payment));
        }
    }
}

/// Which record plan to cut with.
#[derive(Clone, Copy)]
enum Which {
    Header,
    Detail,
    Trailer,
}

impl Which {
    fn of(self, plan: &Plan) -> &RecordPlan {
        match self {
            Which::Header => plan.header.as_ref().unwrap_or(&plan.detail),
            Which::Detail => &plan.detail,
            Which::Trailer => plan.trailer.as_ref().unwrap_or(&plan.detail),
        }
    }
}

impl<R: BufRead> Iterator for FixedWidthReader<R> {
    type Item = Result<Payment, ParseError>;

    /// Any error ends the file: the whole file is quarantined upstream.
    fn next(&mut self) -> Option<Self::Item> {
        let item = self.step().transpose();
        if matches!(item, Some(Err(_))) {
            self.stage = Stage::Done;
        }
        item
    }
}
