//! CSV files read with a profile: columns found once from the header (by name, synonyms or
//! index), then each row's fields decoded into reused slots. Byte records, so no per-row
//! UTF-8 validation beyond the fields the profile reads.

use std::io::BufRead;
use std::sync::Arc;

use remit_domain::{Payment, Provenance};
use rust_decimal::Decimal;

use super::build::{self, extract, FieldFault, FileState};
use super::plan::{normalise, Loc, Plan, Role};
use crate::{Location, ParseError, SourceContext};

/// Longest title line skipped before the header (memory stays flat on hostile input).
const MAX_TITLE_LINE: usize = 64 * 1024;

/// Streams payments from a CSV file with a compiled profile, one row in memory.
pub struct CsvProfileReader<R> {
    raw: Option<R>,
    csv: Option<::csv::Reader<R>>,
    ctx: SourceContext,
    plan: Arc<Plan>,
    record: ::csv::ByteRecord,
    slots: Vec<String>,
    /// Per detail field: its 0-based column once the header is read.
    columns: Option<Vec<Option<usize>>>,
    labels: Vec<String>,
    /// Lines before the CSV parser's first line (skipped title lines).
    line_base: u64,
    /// Bytes before the CSV parser's first byte (BOM, title lines).
    offset_base: u64,
    details: u64,
    sum: Decimal,
    total_line: Option<u64>,
    file: FileState,
    done: bool,
}

impl<R: BufRead> CsvProfileReader<R> {
    /// Nothing is read until the first `next()`, so construction cannot fail.
    pub fn new(reader: R, ctx: SourceContext, plan: Arc<Plan>) -> Self {
        let n = plan.detail.fields.len();
        Self {
            raw: Some(reader),
            csv: None,
            ctx,
            file: FileState::new(&plan),
            labels: plan.detail.fields.iter().map(|f| f.label.clone()).collect(),
            plan,
            record: ::csv::ByteRecord::new(),
            slots: vec![String::new(); n],
            columns: None,
            line_base: 0,
            offset_base: 0,
            details: 0,
            sum: Decimal::ZERO,
            total_line: None,
            done: false,
        }
    }

    fn file(&self) -> &str {
        &self.ctx.file_name
    }

    fn csv_error(&self, e: ::csv::Error) -> ParseError {
        let line = e.position().map(|p| p.line() + self.line_base);
        match e.into_kind() {
            ::csv::ErrorKind::Io(io) => ParseError::io(self.file(), io),
            other => ParseError::structure(
                self.file(),
                line.map_or(Location::File, |n| Location::Line { number: n }),
                format!("unreadable CSV: {other:?}"),
            ),
        }
    }

    /// Skips the BOM and title lines, then starts the CSV parser.
    fn start(&mut self) -> Result<(), ParseError> {
        let Some(mut raw) = self.raw.take() else { return Ok(()) };
        let io = |e| ParseError::io(&self.ctx.file_name, e);
        self.offset_base = crate::strip_bom(&mut raw).map_err(io)?;
        let skip = self.plan.csv.as_ref().map_or(0, |c| c.skip_lines);
        for _ in 0..skip {
            let mut len = 0usize;
            loop {
                let avail = crate::fill_buf(&mut raw).map_err(io)?;
                if avail.is_empty() {
                    break;
                }
                let (n, done) = match memchr::memchr(b'\n', avail) {
                    Some(i) => (i + 1, true),
                    None => (avail.len(), false),
                };
                raw.consume(n);
                len += n;
                if len > MAX_TITLE_LINE {
                    return Err(ParseError::structure(
                        self.file(),
                        Location::Line { number: self.line_base + 1 },
                        format!("title line longer than {MAX_TITLE_LINE} bytes (csv.skip_lines)"),
                    ));
                }
                if done {
                    break;
                }
            }
            self.offset_base += len as u64;
            self.line_base += 1;
        }
        let delimiter = self.plan.csv.as_ref().map_or(b',', |c| c.delimiter);
        self.csv = Some(
            ::csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .delimiter(delimiter)
                // Only LF ends a record, so the parser's line numbers are physical lines in
                // CRLF files too; the CR left on the last field is trimmed with its spaces.
                .terminator(::csv::Terminator::Any(b'\n'))
                // At least the caller's buffer (remit uses 256 KiB), so std's BufReader hands reads
                // straight through instead of copying twice.
                .buffer_capacity(256 * 1024)
                .from_reader(raw),
        );
        if !self.plan.csv.as_ref().is_some_and(|c| c.header) {
            self.columns = Some(
                self.plan
                    .detail
                    .fields
                    .iter()
                    .map(|f| match &f.loc {
                        Loc::Column { index, .. } => *index,
                        _ => None,
                    })
                    .collect(),
            );
        }
        Ok(())
    }

    /// Finds each field's column in the header row.
    fn resolve(&mut self, line: u64) -> Result<(), ParseError> {
        let mut headers = Vec::with_capacity(self.record.len());
        let mut text = String::new();
        for h in self.record.iter() {
            text.clear();
            self.plan.encoding.decode_into(h, &mut text).map_err(|b| {
                ParseError::structure(
                    self.file(),
                    Location::Line { number: line },
                    format!(
                        "header byte 0x{:02X} is not a character in {}",
                        b.byte,
                        self.plan.encoding.name()
                    ),
                )
            })?;
            headers.push(text.trim().to_string());
        }
        let normal: Vec<String> = headers.iter().map(|h| normalise(h)).collect();
        let mut columns = Vec::with_capacity(self.plan.detail.fields.len());
        for (i, f) in self.plan.detail.fields.iter().enumerate() {
            let Loc::Column { index, names } = &f.loc else {
                columns.push(None);
                continue;
            };
            let found = index.or_else(|| names.iter().find_map(|n| normal.iter().position(|h| h == n)));
            match found {
                Some(c) => {
                    let name = headers.get(c).map(String::as_str).unwrap_or("");
                    self.labels[i] = format!("{} (column {} {name:?})", f.name, c + 1);
                }
                None if f.required => {
                    return Err(ParseError::structure(
                        self.file(),
                        Location::Line { number: line },
                        format!(
                            "header has no column for field {} (looked for {}); headers found: {}",
                            f.name,
                            names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", "),
                            headers.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ")
                        ),
                    ))
                }
                None => {}
            }
            columns.push(found);
        }
        self.columns = Some(columns);
        Ok(())
    }

    fn field_error(&self, line: u64, f: FieldFault) -> ParseError {
        let label = self.labels.get(f.field).map_or("?", String::as_str);
        ParseError::field(self.file(), Location::Line { number: line }, label, f.problem)
    }

    /// Fills the slots from the current row.
    fn cut(&mut self, line: u64) -> Result<(), ParseError> {
        let Some(columns) = &self.columns else { return Ok(()) };
        for (i, f) in self.plan.detail.fields.iter().enumerate() {
            let raw = columns[i].and_then(|c| self.record.get(c)).unwrap_or(b"");
            if let Err(problem) = extract(&self.plan.encoding, f, raw, b' ', &mut self.slots[i]) {
                return Err(self.field_error(line, FieldFault { field: i, problem }));
            }
        }
        Ok(())
    }

    /// True when the row's first column marks a total row.
    fn is_total_row(&self) -> bool {
        let Some(c) = self.plan.csv.as_ref().filter(|c| !c.total_row.is_empty()) else { return false };
        let first = self.record.get(0).unwrap_or(b"").trim_ascii();
        // Markers are ASCII words ("Total"); no allocation per row.
        c.total_row.iter().any(|m| m.as_bytes().eq_ignore_ascii_case(first))
    }

    fn check_total(&mut self, line: u64) -> Result<(), ParseError> {
        self.cut(line)?;
        let total = build::amount_of(&self.plan.detail, &self.slots, Role::Amount)
            .map_err(|f| self.field_error(line, f))?;
        if let Some(total) = total {
            if total != self.sum {
                let i = self.plan.detail.field(Role::Amount).unwrap_or(0);
                return Err(ParseError::structure(
                    self.file(),
                    Location::Line { number: line },
                    format!(
                        "control total mismatch: the total row's {} says {total} but the {} rows add up to {}",
                        self.labels[i], self.details, self.sum
                    ),
                ));
            }
        }
        Ok(())
    }

    fn step(&mut self) -> Result<Option<Payment>, ParseError> {
        if self.csv.is_none() {
            if self.raw.is_none() {
                return Ok(None);
            }
            self.start()?;
        }
        loop {
            let Some(csv) = self.csv.as_mut() else { return Ok(None) };
            match csv.read_byte_record(&mut self.record) {
                Ok(true) => {}
                Ok(false) => {
                    return match self.columns {
                        Some(_) => Ok(None),
                        None => Err(ParseError::structure(
                            self.file(),
                            Location::File,
                            "file is empty: no header row",
                        )),
                    };
                }
                Err(e) => return Err(self.csv_error(e)),
            }
            let (line, offset) = match self.record.position() {
                Some(p) => (p.line() + self.line_base, p.byte() + self.offset_base),
                None => (0, 0),
            };
            if self.record.iter().all(|f| f.trim_ascii().is_empty()) {
                continue;
            }
            if self.columns.is_none() {
                self.resolve(line)?;
                continue;
            }
            if let Some(total_line) = self.total_line {
                return Err(ParseError::structure(
                    self.file(),
                    Location::Line { number: line },
                    format!("row after the total row on line {total_line}"),
                ));
            }
            if self.is_total_row() {
                self.check_total(line)?;
                self.total_line = Some(line);
                continue;
            }
            self.cut(line)?;
            let source = Provenance {
                file_id: self.ctx.file_id,
                file: self.ctx.file_name.clone(),
                record: line,
                offset,
                position: 0,
            };
            let payment = build::build(&self.plan, &self.slots, &self.file, source)
                .map_err(|f| self.field_error(line, f))?;
            self.details += 1;
            self.sum += payment.amount.amount();
            return Ok(Some(payment));
        }
    }
}

impl<R: BufRead> Iterator for CsvProfileReader<R> {
    type Item = Result<Payment, ParseError>;

    /// Any error ends the file: the whole file is quarantined upstream.
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let step = self.step();
        crate::end_at_first_error(&mut self.done, step)
    }
}
