//! CSV files read with a profile: columns found once from the header (by name, synonyms or
//! index), then each row's fields decoded into reused slots. Rows are framed by the shared
//! CSV row reader (LF, CRLF or CR line ends, bounded records and fields); bytes are decoded
//! only for the fields the profile reads.

use std::io::BufRead;
use std::sync::Arc;

use remit_domain::{Payment, Provenance};
use rust_decimal::Decimal;

use super::build::{self, check_controls, extract, extract_text, FieldFault, FileState};
use super::encoding::Encoding;
use super::plan::{normalise, Loc, Plan, Role};
use super::values::quote;
use crate::csv_rows::{header_swallowed_lines, CsvRows, RowError};
use crate::{Limits, Location, ParseError, SourceContext};

/// At most this many header names (or synonyms) are listed in a missing-column error.
const NAMES_LISTED: usize = 20;

/// `names` quoted for a message, at most `NAMES_LISTED` of them.
fn listed<S: AsRef<str>>(names: &[S]) -> String {
    let mut out: Vec<String> = names.iter().take(NAMES_LISTED).map(|n| quote(n.as_ref())).collect();
    if names.len() > NAMES_LISTED {
        out.push(format!("and {} more", names.len() - NAMES_LISTED));
    }
    out.join(", ")
}

/// Streams payments from a CSV file with a compiled profile, one row in memory.
pub struct CsvProfileReader<R> {
    raw: Option<R>,
    rows: Option<CsvRows<R>>,
    ctx: SourceContext,
    plan: Arc<Plan>,
    slots: Vec<String>,
    /// Per detail field: its 0-based column once the header is read.
    columns: Option<Vec<Option<usize>>>,
    labels: Vec<String>,
    /// Bytes before the row reader's first byte (BOM).
    offset_base: u64,
    /// The header row's line (0 without one).
    header_line: u64,
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
            rows: None,
            ctx,
            file: FileState::new(&plan),
            labels: plan.detail.fields.iter().map(|f| f.label.clone()).collect(),
            plan,
            slots: vec![String::new(); n],
            columns: None,
            offset_base: 0,
            header_line: 0,
            details: 0,
            sum: Decimal::ZERO,
            total_line: None,
            done: false,
        }
    }

    fn file(&self) -> &str {
        &self.ctx.file_name
    }

    fn row_error(&self, e: RowError) -> ParseError {
        let file = self.file();
        let at = |line| Location::Line { number: line };
        match e {
            RowError::Io(io) => ParseError::io(file, io),
            RowError::TooLong { line, lines, limit } => ParseError::limit(
                file,
                at(line),
                if lines { "record length (a quoted field spans lines)" } else { "line length" },
                format!("{limit} bytes"),
            ),
            RowError::FieldTooLong { line, column, limit } => {
                let what = match self.columns.as_ref().and_then(|c| c.iter().position(|&i| i == Some(column - 1))) {
                    Some(f) => format!("{} length", self.labels[f]),
                    None => format!("column {column} length"),
                };
                ParseError::limit(file, at(line), what, format!("{limit} bytes"))
            }
            RowError::UnclosedQuote { line } => ParseError::structure(
                file,
                at(line),
                "a quoted field opened in this row is never closed (the file is cut short or a quote is stray)",
            ),
            RowError::TitleTooLong { line, limit } => {
                ParseError::limit(file, at(line), "title line length (csv.skip_lines)", format!("{limit} bytes"))
            }
        }
    }

    /// Skips the BOM and title lines, then starts the row reader.
    fn start(&mut self) -> Result<(), ParseError> {
        let Some(mut raw) = self.raw.take() else { return Ok(()) };
        self.offset_base = crate::strip_bom(&mut raw).map_err(|e| ParseError::io(&self.ctx.file_name, e))?;
        let delimiter = self.plan.csv.as_ref().map_or(b',', |c| c.delimiter);
        let mut rows = CsvRows::new(raw, delimiter, &Limits::default());
        let skip = self.plan.csv.as_ref().map_or(0, |c| c.skip_lines);
        rows.skip_lines(skip).map_err(|e| self.row_error(e))?;
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
            rows.set_tally(true);
        }
        self.rows = Some(rows);
        Ok(())
    }

    /// Finds each field's column in the header row. A header holding a control or
    /// line-separator character is refused: it means the file's line ends were not understood
    /// and the header row swallowed the data.
    fn resolve(&mut self, line: u64) -> Result<(), ParseError> {
        let Some(rows) = &self.rows else { return Ok(()) };
        let mut headers = Vec::with_capacity(rows.len());
        let mut text = String::new();
        for (n, h) in rows.iter().enumerate() {
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
            if header_swallowed_lines(&text) {
                return Err(ParseError::structure(
                    self.file(),
                    Location::Line { number: line },
                    format!(
                        "header {} {} holds a control or line-separator character: the file's \
                         line ends must be LF, CRLF or CR",
                        n + 1,
                        quote(&text)
                    ),
                ));
            }
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
                    self.labels[i] = format!("{} (column {} {})", f.name, c + 1, quote(name));
                }
                None if f.required => {
                    return Err(ParseError::structure(
                        self.file(),
                        Location::Line { number: line },
                        format!(
                            "header has no column for field {} (looked for {}); headers found: {}",
                            f.name,
                            listed(names),
                            listed(&headers)
                        ),
                    ))
                }
                None => {}
            }
            columns.push(found);
        }
        self.columns = Some(columns);
        self.header_line = line;
        if let Some(rows) = self.rows.as_mut() {
            rows.set_tally(true);
        }
        Ok(())
    }

    fn field_error(&self, line: u64, f: FieldFault) -> ParseError {
        let label = self.labels.get(f.field).map_or("?", String::as_str);
        ParseError::field(self.file(), Location::Line { number: line }, label, f.problem)
    }

    /// Fills the slots from the current row; a control character in a field is its error.
    fn cut(&mut self, line: u64) -> Result<(), ParseError> {
        let (Some(columns), Some(rows)) = (&self.columns, &self.rows) else { return Ok(()) };
        // Single-byte tables already refuse control bytes as "not a character"; UTF-8 rows are
        // scanned once, and fields checked one by one only when the row holds a control byte.
        let utf8 = matches!(self.plan.encoding, Encoding::Utf8);
        let scan = utf8 && rows.has_control();
        // A UTF-8 row is validated once, not field by field; a row that fails is decoded field
        // by field, so that the error names the field and the byte.
        let (bytes, starts, ends) = rows.raw();
        let whole = if utf8 { std::str::from_utf8(bytes).ok() } else { None };
        for (i, f) in self.plan.detail.fields.iter().enumerate() {
            let slot = &mut self.slots[i];
            let done = match (whole, columns[i]) {
                // Fields start and end at delimiters or quotes, so on character boundaries.
                (Some(text), Some(c)) => match (starts.get(c), ends.get(c)) {
                    (Some(&a), Some(&b)) => {
                        extract_text(f, text.get(a..b).unwrap_or(""), slot);
                        Ok(())
                    }
                    _ => extract(&self.plan.encoding, f, b"", b' ', slot),
                },
                _ => {
                    let raw = columns[i].and_then(|c| rows.get(c)).unwrap_or(b"");
                    extract(&self.plan.encoding, f, raw, b' ', slot)
                }
            };
            if let Err(problem) = done.and_then(|()| if scan { check_controls(f, slot) } else { Ok(()) }) {
                return Err(self.field_error(line, FieldFault { field: i, problem }));
            }
        }
        Ok(())
    }

    /// True when the row's first column marks a total row.
    fn is_total_row(&self) -> bool {
        let Some(c) = self.plan.csv.as_ref().filter(|c| !c.total_row.is_empty()) else { return false };
        let first = self.rows.as_ref().and_then(|r| r.get(0)).unwrap_or(b"").trim_ascii();
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
        if self.rows.is_none() {
            if self.raw.is_none() {
                return Ok(None);
            }
            self.start()?;
        }
        loop {
            let Some(rows) = self.rows.as_mut() else { return Ok(None) };
            match rows.read() {
                Ok(true) => {}
                Ok(false) => return self.finish(),
                Err(e) => return Err(self.row_error(e)),
            }
            let (line, offset) = (rows.line(), rows.offset() + self.offset_base);
            if rows.iter().all(|f| f.trim_ascii().is_empty()) {
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
            // `Decimal` drops decimals rather than fail while it can: a total that lost its
            // cents has overflowed too.
            let amount = payment.amount.amount();
            let sum = remit_domain::model::money::add_keeping_scale(self.sum, amount);
            let Some(sum) = sum else {
                return Err(self.overflow(line, payment.amount.amount()));
            };
            self.sum = sum;
            self.details += 1;
            if self.details == 1 {
                if let Some(rows) = self.rows.as_mut() {
                    rows.set_tally(false);
                }
            }
            return Ok(Some(payment));
        }
    }

    /// A total too large to hold: an error of the file, named at the amount that overflowed it.
    #[cold]
    #[inline(never)]
    fn overflow(&self, line: u64, amount: Decimal) -> ParseError {
        let i = self.plan.detail.field(Role::Amount).unwrap_or(0);
        let problem = format!("{amount} takes the file's total past the largest amount a total can hold");
        self.field_error(line, FieldFault { field: i, problem })
    }

    /// The end of the file: a header must have been read, and a file with data after its
    /// header must have yielded a payment (or a total row): nothing is dropped unread.
    fn finish(&mut self) -> Result<Option<Payment>, ParseError> {
        if self.columns.is_none() {
            return Err(ParseError::structure(self.file(), Location::File, "file is empty: no header row"));
        }
        let data = self.rows.as_ref().map_or(0, CsvRows::tallied);
        if self.details == 0 && self.total_line.is_none() && data > 0 {
            let after = match self.header_line {
                0 => String::new(),
                n => format!(" after the header on line {n}"),
            };
            return Err(ParseError::structure(
                self.file(),
                Location::File,
                format!(
                    "{data} bytes of data{after} but no payment row was read \
                     (are the line ends or the delimiter unusual?)"
                ),
            ));
        }
        Ok(None)
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
