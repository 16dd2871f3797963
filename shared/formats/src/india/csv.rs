//! Bank MIS CSV files of e-collect credits. Each bank names its columns differently, so the
//! header row is matched against synonyms rather than a fixed layout.

use std::collections::VecDeque;
use std::io::{BufRead, Read};

use remit_domain::{Direction, Payment, Provenance, SourceFormat};
use rust_decimal::Decimal;

use super::fields::{build_payment, parse_amount, Field, RawRecord};
use crate::strip_bom;
use crate::{Location, ParseError, SourceContext};

/// Passes bytes through to the CSV parser, noting where empty lines are. The parser skips empty
/// lines without reporting them (and, with `\n` as terminator, reports a record's position at
/// the start of the skipped run), so these offsets turn its positions into exact physical
/// lines and byte offsets.
struct Tap<R> {
    inner: R,
    /// Bytes passed through so far.
    offset: u64,
    last: Option<u8>,
    /// Offsets of `\n` bytes that end an empty line (preceded by `\n` or at the start).
    empty_lines: VecDeque<u64>,
}

impl<R: Read> Read for Tap<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for (i, &b) in buf[..n].iter().enumerate() {
            if b == b'\n' && matches!(self.last, None | Some(b'\n')) {
                self.empty_lines.push_back(self.offset + i as u64);
            }
            self.last = Some(b);
        }
        self.offset += n as u64;
        Ok(n)
    }
}

impl<R> Tap<R> {
    /// The number of empty lines skipped from `byte` on, forgetting those before it.
    fn skipped_at(&mut self, byte: u64) -> u64 {
        while self.empty_lines.front().is_some_and(|&o| o < byte) {
            self.empty_lines.pop_front();
        }
        let mut n = 0;
        while self.empty_lines.front() == Some(&(byte + n)) {
            self.empty_lines.pop_front();
            n += 1;
        }
        n
    }
}

/// Where each canonical field sits in the file, and the header text the bank gave it.
struct Columns {
    index: [Option<usize>; Field::COUNT],
    names: Vec<String>,
}

impl Columns {
    /// Maps a header row; amount, UTR and date columns are required.
    fn from_header(header: &::csv::StringRecord) -> Result<Self, String> {
        let mut index = [None; Field::COUNT];
        let mut rank = [usize::MAX; Field::COUNT];
        let names: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
        for (i, name) in names.iter().enumerate() {
            if let Some((field, r)) = Field::for_name(name) {
                if r < rank[field as usize] {
                    rank[field as usize] = r;
                    index[field as usize] = Some(i);
                }
            }
        }
        let missing: Vec<&str> = [Field::Amount, Field::Utr, Field::Date]
            .iter()
            .filter(|f| index[**f as usize].is_none())
            .map(|f| f.label())
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "header has no {} column (headers found: {})",
                missing.join(", "),
                names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ")
            ));
        }
        Ok(Self { index, names })
    }

    fn name(&self, field: Field) -> String {
        self.index[field as usize]
            .and_then(|i| self.names.get(i).cloned())
            .unwrap_or_else(|| field.label().to_string())
    }
}

/// Streams payments from an e-collect MIS CSV: one record in memory at a time, so a file of any
/// size reads in flat memory.
pub struct IndiaCsvReader<R> {
    raw: Option<R>,
    csv: Option<::csv::Reader<Tap<R>>>,
    ctx: SourceContext,
    bom: u64,
    record: ::csv::StringRecord,
    fields: RawRecord,
    columns: Option<Columns>,
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
            csv: None,
            ctx,
            bom: 0,
            record: ::csv::StringRecord::new(),
            fields: RawRecord::default(),
            columns: None,
            gross: Decimal::ZERO,
            net: Decimal::ZERO,
            total_line: None,
            done: false,
        }
    }

    fn file(&self) -> &str {
        &self.ctx.file_name
    }

    fn csv_error(&self, e: ::csv::Error) -> ParseError {
        let line = e.position().map(|p| p.line());
        match e.into_kind() {
            ::csv::ErrorKind::Io(io) => ParseError::io(self.file(), io),
            ::csv::ErrorKind::Utf8 { pos, err } => ParseError::structure(
                self.file(),
                Location::Line { number: pos.map(|p| p.line()).or(line).unwrap_or(0) },
                format!("not valid UTF-8 (field {}): save the file as UTF-8", err.field() + 1),
            ),
            other => ParseError::structure(
                self.file(),
                line.map_or(Location::File, |n| Location::Line { number: n }),
                format!("unreadable CSV: {other:?}"),
            ),
        }
    }

    /// Checks a `Total` row against the rows read, gross or net of debits.
    fn check_total(&self, line: u64) -> Result<(), ParseError> {
        let Some(cols) = &self.columns else { return Ok(()) };
        let Some(i) = cols.index[Field::Amount as usize] else { return Ok(()) };
        let Some(text) = self.record.get(i).map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(());
        };
        match parse_amount(text) {
            Ok(total) if total != self.gross && total != self.net => Err(ParseError::structure(
                self.file(),
                Location::Line { number: line },
                format!("Total row says {total} but the rows add up to {}", self.gross),
            )),
            _ => Ok(()),
        }
    }

    fn step(&mut self) -> Result<Option<Payment>, ParseError> {
        if self.csv.is_none() {
            let Some(mut raw) = self.raw.take() else { return Ok(None) };
            self.bom = strip_bom(&mut raw).map_err(|e| ParseError::io(self.file(), e))?;
            self.csv = Some(
                ::csv::ReaderBuilder::new()
                    .has_headers(false)
                    .flexible(true)
                    // Only LF ends a record, so CRLF and LF files count lines alike; the
                    // trailing CR is trimmed with the field's spaces.
                    .terminator(::csv::Terminator::Any(b'\n'))
                    .from_reader(Tap { inner: raw, offset: 0, last: None, empty_lines: VecDeque::new() }),
            );
        }
        loop {
            let Some(csv) = self.csv.as_mut() else { return Ok(None) };
            match csv.read_record(&mut self.record) {
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
                Some(p) => {
                    let skipped = csv.get_mut().skipped_at(p.byte());
                    (p.line() + skipped, p.byte() + skipped + self.bom)
                }
                None => (0, 0),
            };
            if self.record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            let Some(cols) = &self.columns else {
                let cols = Columns::from_header(&self.record).map_err(|problem| {
                    ParseError::structure(self.file(), Location::Line { number: line }, problem)
                })?;
                self.columns = Some(cols);
                continue;
            };
            if let Some(total_line) = self.total_line {
                return Err(ParseError::structure(
                    self.file(),
                    Location::Line { number: line },
                    format!("row after the Total row on line {total_line}"),
                ));
            }
            let first = self.record.get(0).map(|f| f.trim().to_ascii_lowercase()).unwrap_or_default();
            if first == "total" || first == "grand total" {
                self.check_total(line)?;
                self.total_line = Some(line);
                continue;
            }
            self.fields.clear();
            for field in Field::ALL {
                if let Some(v) = cols.index[field as usize].and_then(|i| self.record.get(i)) {
                    self.fields.set(field, v);
                }
            }
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
            let amount = payment.amount.amount();
            self.gross += amount;
            match payment.direction {
                Direction::Credit => self.net += amount,
                Direction::Debit => self.net -= amount,
            }
            return Ok(Some(payment));
        }
    }
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
