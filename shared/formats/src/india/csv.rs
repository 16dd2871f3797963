//! Bank MIS CSV files of e-collect credits. Each bank names its columns differently, so the
//! header row is matched against synonyms rather than a fixed layout.

use std::io::BufRead;

use remit_domain::{Direction, Payment, Provenance, SourceFormat};
use rust_decimal::Decimal;

use super::fields::{build_payment, parse_amount, quote, Field, RawRecord};
use crate::csv_rows::{header_swallowed_lines, CsvRows, RowError};
use crate::strip_bom;
use crate::{shown, Limits, Location, ParseError, SourceContext};

/// At most this many header names are listed when a required column is missing.
const HEADERS_LISTED: usize = 20;

/// Where each canonical field sits in the file, and the header text the bank gave it.
struct Columns {
    index: [Option<usize>; Field::COUNT],
    names: Vec<String>,
}

impl Columns {
    /// Maps a header row; amount, UTR and date columns are required. A header holding a
    /// control or line-separator character is refused: it means the file's line ends were not
    /// understood and the header row swallowed the data.
    fn from_header<'a>(header: impl Iterator<Item = &'a str>) -> Result<Self, String> {
        let mut index = [None; Field::COUNT];
        let mut rank = [usize::MAX; Field::COUNT];
        let names: Vec<String> = header.map(|h| h.trim().to_string()).collect();
        for (i, name) in names.iter().enumerate() {
            if header_swallowed_lines(name) {
                return Err(format!(
                    "header {} {} holds a control or line-separator character: the file's \
                     line ends must be LF, CRLF or CR",
                    i + 1,
                    quote(name)
                ));
            }
            if let Some((field, r)) = Field::for_name(name) {
                if r < rank[field as usize] {
                    rank[field as usize] = r;
                    index[field as usize] = Some(i);
                }
            }
        }
        // A transaction date column stands in for a value date column the file lacks.
        let dated = index[Field::Date as usize].is_some() || index[Field::TxnDate as usize].is_some();
        let missing: Vec<&str> = [Field::Amount, Field::Utr, Field::Date]
            .iter()
            .filter(|f| index[**f as usize].is_none() && !(**f == Field::Date && dated))
            .map(|f| f.label())
            .collect();
        if !missing.is_empty() {
            let mut found: Vec<String> = names.iter().take(HEADERS_LISTED).map(|n| quote(n)).collect();
            if names.len() > HEADERS_LISTED {
                found.push(format!("and {} more", names.len() - HEADERS_LISTED));
            }
            return Err(format!(
                "header has no {} column (headers found: {})",
                missing.join(", "),
                found.join(", ")
            ));
        }
        Ok(Self { index, names })
    }

    fn name(&self, field: Field) -> String {
        self.index[field as usize]
            .and_then(|i| self.names.get(i).map(|n| shown(n)))
            .unwrap_or_else(|| field.label().to_string())
    }

    /// How a limit error names a column: its header if it has one.
    fn column(&self, column: usize) -> String {
        match self.names.get(column - 1) {
            Some(n) => format!("field {column} ({})", quote(n)),
            None => format!("field {column}"),
        }
    }
}

/// Streams payments from an e-collect MIS CSV: one record in memory at a time, so a file of any
/// size reads in flat memory.
pub struct IndiaCsvReader<R> {
    raw: Option<R>,
    rows: Option<CsvRows<R>>,
    ctx: SourceContext,
    bom: u64,
    fields: RawRecord,
    columns: Option<Columns>,
    header_line: u64,
    payments: u64,
    gross: Decimal,
    net: Decimal,
    total_line: Option<u64>,
    done: bool,
}

impl<R: BufRead> IndiaCsvReader<R> {
    /// Nothing is read until the first `next()`, so construction cannot fail.
    pub fn new(reader: R, ctx: SourceContext) -> Self {
        Self {
            raw: Some(reader),
            rows: None,
            ctx,
            bom: 0,
            fields: RawRecord::default(),
            columns: None,
            header_line: 0,
            payments: 0,
            gross: Decimal::ZERO,
            net: Decimal::ZERO,
            total_line: None,
            done: false,
        }
    }

    fn file(&self) -> &str {
        &self.ctx.file_name
    }

    fn row_error(&self, e: RowError) -> ParseError {
        let file = self.file();
        match e {
            RowError::Io(io) => ParseError::io(file, io),
            RowError::TooLong { line, lines, limit } => ParseError::limit(
                file,
                Location::Line { number: line },
                if lines { "record length (a quoted field spans lines)" } else { "line length" },
                format!("{limit} bytes"),
            ),
            RowError::FieldTooLong { line, column, limit } => {
                let what = match &self.columns {
                    Some(c) => c.column(column),
                    None => format!("header {column}"),
                };
                ParseError::limit(file, Location::Line { number: line }, format!("{what} length"), format!("{limit} bytes"))
            }
            RowError::UnclosedQuote { line } => ParseError::structure(
                file,
                Location::Line { number: line },
                "a quoted field opened in this row is never closed (the file is cut short or a quote is stray)",
            ),
            RowError::TitleTooLong { line, limit } => {
                ParseError::limit(file, Location::Line { number: line }, "line length", format!("{limit} bytes"))
            }
        }
    }

    /// Checks a `Total` row against the rows read, gross or net of debits.
    fn check_total(&self, text: &str, line: u64) -> Result<(), ParseError> {
        let Some(cols) = &self.columns else { return Ok(()) };
        let text = text.trim();
        if text.is_empty() {
            return Ok(());
        }
        let total = parse_amount(text).map_err(|p| {
            ParseError::field(self.file(), Location::Line { number: line }, cols.name(Field::Amount), p)
        })?;
        if total != self.gross && total != self.net {
            return Err(ParseError::structure(
                self.file(),
                Location::Line { number: line },
                format!("Total row says {total} but the rows add up to {}", self.gross),
            ));
        }
        Ok(())
    }

    /// Adds a payment's amount to the running totals; a total too large to hold is an error of
    /// the file, named at the amount that overflowed it. `Decimal` drops decimals rather than
    /// fail while it can, so a total that lost its cents has overflowed too.
    fn add(&mut self, direction: Direction, amount: Decimal, line: u64) -> Result<(), ParseError> {
        use remit_domain::model::money::add_keeping_scale;
        let gross = add_keeping_scale(self.gross, amount);
        let net = match direction {
            Direction::Credit => add_keeping_scale(self.net, amount),
            Direction::Debit => add_keeping_scale(self.net, -amount),
        };
        match (gross, net) {
            (Some(g), Some(n)) => {
                (self.gross, self.net) = (g, n);
                Ok(())
            }
            _ => Err(ParseError::field(
                self.file(),
                Location::Line { number: line },
                self.columns
                    .as_ref()
                    .map_or_else(|| Field::Amount.label().to_string(), |c| c.name(Field::Amount)),
                format!("{amount} takes the file's total past the largest amount a total can hold"),
            )),
        }
    }

    fn step(&mut self) -> Result<Option<Payment>, ParseError> {
        if self.rows.is_none() {
            let Some(mut raw) = self.raw.take() else { return Ok(None) };
            self.bom = strip_bom(&mut raw).map_err(|e| ParseError::io(self.file(), e))?;
            self.rows = Some(CsvRows::new(raw, b',', &Limits::default()));
        }
        loop {
            let Some(rows) = self.rows.as_mut() else { return Ok(None) };
            match rows.read() {
                Ok(true) => {}
                Ok(false) => return self.finish(),
                Err(e) => return Err(self.row_error(e)),
            }
            let Some(rows) = self.rows.as_ref() else { return Ok(None) };
            let (line, offset) = (rows.line(), rows.offset() + self.bom);
            let (text, starts, ends) = row_text(rows, &self.ctx.file_name, line)?;
            let field = |i: usize| -> Option<&str> { text.get(*starts.get(i)?..*ends.get(i)?) };
            if (0..ends.len()).all(|i| field(i).is_none_or(|f| f.trim().is_empty())) {
                continue;
            }
            let Some(cols) = &self.columns else {
                let cols = Columns::from_header((0..ends.len()).filter_map(field)).map_err(|problem| {
                    ParseError::structure(self.file(), Location::Line { number: line }, problem)
                })?;
                self.columns = Some(cols);
                self.header_line = line;
                if let Some(rows) = self.rows.as_mut() {
                    rows.set_tally(true);
                }
                continue;
            };
            if let Some(total_line) = self.total_line {
                return Err(ParseError::structure(
                    self.file(),
                    Location::Line { number: line },
                    format!("row after the Total row on line {total_line}"),
                ));
            }
            let first = field(0).map(str::trim).unwrap_or_default();
            if first.eq_ignore_ascii_case("total") || first.eq_ignore_ascii_case("grand total") {
                let amount = cols.index[Field::Amount as usize].and_then(field).unwrap_or("");
                self.check_total(amount, line)?;
                self.total_line = Some(line);
                continue;
            }
            self.fields.clear();
            for f in Field::ALL {
                if let Some(v) = cols.index[f as usize].and_then(field) {
                    self.fields.set(f, v);
                }
            }
            self.fields.no_controls = !rows.has_control();
            let source = Provenance {
                file_id: self.ctx.file_id,
                file: self.ctx.file_name.clone(),
                record: line,
                offset,
                position: 0,
            };
            let payment = build_payment(&self.fields, SourceFormat::IndiaCsv, source).map_err(|p| {
                ParseError::field(
                    &self.ctx.file_name,
                    Location::Line { number: line },
                    cols.name(p.field),
                    p.problem,
                )
            })?;
            self.add(payment.direction, payment.amount.amount(), line)?;
            self.payments += 1;
            if self.payments == 1 {
                if let Some(rows) = self.rows.as_mut() {
                    rows.set_tally(false);
                }
            }
            return Ok(Some(payment));
        }
    }

    /// The end of the file: a header must have been read, and a file with data after its
    /// header must have yielded a payment (or a Total row): nothing is dropped unread.
    fn finish(&mut self) -> Result<Option<Payment>, ParseError> {
        if self.columns.is_none() {
            return Err(ParseError::structure(self.file(), Location::File, "file is empty: no header row"));
        }
        let data = self.rows.as_ref().map_or(0, CsvRows::tallied);
        if self.payments == 0 && self.total_line.is_none() && data > 0 {
            return Err(ParseError::structure(
                self.file(),
                Location::File,
                format!(
                    "{data} bytes of data after the header on line {} but no payment row was read \
                     (are the line ends or the delimiter unusual?)",
                    self.header_line
                ),
            ));
        }
        Ok(None)
    }
}

/// The current row as one text, and where each field starts and ends in it; a field that is
/// not UTF-8 is named.
fn row_text<'a, R: BufRead>(
    rows: &'a CsvRows<R>,
    file: &str,
    line: u64,
) -> Result<(&'a str, &'a [usize], &'a [usize]), ParseError> {
    let (bytes, starts, ends) = rows.raw();
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let field = ends.iter().position(|&end| end > e.valid_up_to()).unwrap_or(0) + 1;
        ParseError::structure(
            file,
            Location::Line { number: line },
            format!("not valid UTF-8 (field {field}): save the file as UTF-8"),
        )
    })?;
    Ok((text, starts, ends))
}

impl<R: BufRead> Iterator for IndiaCsvReader<R> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use remit_domain::{PayerAccount, UtrClass};
    use rust_decimal_macros::dec;

    const SAMPLE: &[u8] = include_bytes!("../../../../samples/in/india_ecollect_mis_20261121.csv");

    fn read(bytes: &[u8]) -> Vec<Result<Payment, ParseError>> {
        crate::test_support::read(crate::Format::IndiaCsv, "mis.csv", bytes)
    }

    fn ok(bytes: &[u8]) -> Vec<Payment> {
        crate::test_support::read_ok(crate::Format::IndiaCsv, "mis.csv", bytes)
    }

    #[test]
    fn reads_the_sample_with_bom_crlf_and_lakh_amounts() {
        let ps = ok(SAMPLE);
        assert_eq!(ps.len(), 7);
        let p = &ps[1];
        assert_eq!(p.amount.amount(), dec!(123456.78));
        assert_eq!(p.bank_ref, "ICICR52026112100012345");
        assert_eq!(p.references.utr.as_ref().unwrap().class(), UtrClass::Rtgs);
        assert_eq!(p.references.virtual_account.as_ref().unwrap().expose(), "AMEX0100067890");
        assert_eq!(p.payer_name.as_deref(), Some("Rajesh Kumar Sharma"));
        assert_eq!(p.value_date, NaiveDate::from_ymd_opt(2026, 11, 21).unwrap());
        assert_eq!(p.source.record, 3, "physical line");
        assert_eq!(ps[0].source.offset, 3 + SAMPLE[3..].iter().position(|&b| b == b'\n').unwrap() as u64 + 1);
        assert_eq!(p.references.other[0].0, "mode");
        assert!(matches!(&p.payer_account, Some(PayerAccount::Remitter { ifsc: Some(_), .. })));
        // The card number in the narration is kept for the matcher but masked on the way out.
        let card = &ps[5];
        assert!(card.references.virtual_account.is_none());
        assert!(card.references.remittance[0].expose().contains("3431 948757 49118"));
        assert!(!format!("{card:?}").contains("948757"));
        // A bad remitter IFSC is a warning, not a rejection.
        let warned = &ps[6];
        assert!(warned.warnings[0].contains("HDFC000123"), "{:?}", warned.warnings);
        assert!(matches!(&warned.payer_account, Some(PayerAccount::Remitter { ifsc: None, .. })));
        assert!(ps.iter().all(|p| p.market == remit_domain::Market::IN && p.direction == Direction::Credit));
    }

    use chrono::NaiveDate;

    #[test]
    fn header_synonyms_any_case_lf_no_bom() {
        let f = b"utr number,VAN,TXN AMOUNT,value date,DR/CR,ccy,Sender IFSC,payer account\n\
                  632512345678,AMEX0100012345,500,01/12/2026,D,inr,SBIN0004567,1234\n\n\n";
        let ps = ok(f);
        assert_eq!(ps.len(), 1);
        assert_eq!(ps[0].direction, Direction::Debit);
        assert_eq!(ps[0].amount.amount(), dec!(500.00));
        assert_eq!(ps[0].amount.currency().code(), "INR");
        assert_eq!(ps[0].payer_account.as_ref().unwrap().to_string(), "1234@SBIN0004567");
    }

    #[test]
    fn every_date_format() {
        let f = "UTR,Amount,Date\r\nA1,1,21-11-2026\r\nA2,1,21/11/2026\r\nA3,1,2026-11-21\r\nA4,1,21-Nov-2026 14:05:09\r\n";
        let ps = ok(f.as_bytes());
        assert_eq!(ps.len(), 4);
        assert!(ps.iter().all(|p| p.value_date == NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()));
    }

    #[test]
    fn missing_columns_are_named_with_the_headers_found() {
        let r = read(b"Sr No,Remitter Name,Amount\r\n1,X,5\r\n");
        assert_eq!(r.len(), 1);
        let e = r.into_iter().next().unwrap().unwrap_err();
        let ParseError::Structure { file, location, problem } = &e else { panic!("{e}") };
        assert_eq!(file, "mis.csv");
        assert_eq!(*location, Location::Line { number: 1 });
        assert!(problem.contains("User Reference Number") && problem.contains("Value Date"), "{problem}");
        assert!(problem.contains("\"Sr No\"") && problem.contains("\"Remitter Name\""), "{problem}");
    }

    #[test]
    fn bad_amount_names_line_column_and_value_then_stops() {
        let f = "UTR No,Amount (INR),Txn Date\r\nA1,100,21-11-2026\r\nA2,\"12,34.5\",21-11-2026\r\nA3,1,21-11-2026\r\n";
        let mut r = IndiaCsvReader::new(f.as_bytes(), crate::test_support::ctx("mis.csv"));
        assert!(r.next().unwrap().is_ok());
        let e = r.next().unwrap().unwrap_err();
        let ParseError::Field { file, location, field, problem } = &e else { panic!("{e}") };
        assert_eq!((file.as_str(), field.as_str()), ("mis.csv", "Amount (INR)"));
        assert_eq!(*location, Location::Line { number: 3 });
        assert!(problem.contains("12,34.5"), "{problem}");
        assert!(r.next().is_none(), "a field error ends the file");
    }

    #[test]
    fn bad_date_and_bad_utr_are_field_errors() {
        let e = read(b"UTR,Amount,Txn Date\nA1,1,31-02-2026\n").remove(0).unwrap_err();
        assert!(
            e.to_string().contains("line 2")
                && e.to_string().contains("Txn Date")
                && e.to_string().contains("31-02-2026"),
            "{e}"
        );
        let e = read(b"UTR,Amount,Txn Date\nA-1,1,01-02-2026\n").remove(0).unwrap_err();
        assert!(e.to_string().contains("field UTR"), "{e}");
        let e = read(b"UTR,Amount,Txn Date\nA1,0.00,01-02-2026\n").remove(0).unwrap_err();
        assert!(e.to_string().contains("zero"), "{e}");
    }

    #[test]
    fn total_row_is_checked() {
        let good = "UTR,Amount,Date\nA1,\"1,00,000.50\",21-11-2026\nA2,99.50,21-11-2026\nGrand Total,\"1,00,100.00\",\n";
        assert_eq!(ok(good.as_bytes()).len(), 2);
        let bad = "UTR,Amount,Date\nA1,100,21-11-2026\nTotal,200,\n";
        let r = read(bad.as_bytes());
        let e = r.last().unwrap().as_ref().unwrap_err();
        assert!(matches!(e, ParseError::Structure { location: Location::Line { number: 3 }, .. }), "{e}");
    }

    #[test]
    fn empty_and_header_only_files() {
        assert!(read(b"").remove(0).is_err());
        assert!(read(b"\xEF\xBB\xBF").remove(0).is_err());
        assert!(read(b"UTR,Amount,Date\r\n").is_empty());
    }

    #[test]
    fn physical_lines_and_offsets_survive_blank_lines_and_quoted_newlines() {
        let f = "\r\n\nUTR,Amount,Date,Narration\r\n\r\n\nA1,1,21-11-2026,\"two\nlines\"\r\n\nA2,2,21-11-2026,x\n";
        let ps = ok(f.as_bytes());
        assert_eq!((ps[0].source.record, ps[1].source.record), (6, 9));
        assert_eq!(&f.as_bytes()[ps[0].source.offset as usize..][..2], b"A1");
        assert_eq!(&f.as_bytes()[ps[1].source.offset as usize..][..2], b"A2");
        let e = read(b"\n\nUTR,Amount,Date\n\nA1,x,21-11-2026\n").pop().unwrap().unwrap_err();
        assert!(matches!(e, ParseError::Field { location: Location::Line { number: 5 }, .. }), "{e}");
    }
}
