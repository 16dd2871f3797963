//! CSV rows as both CSV readers (India MIS and bank profiles) need them: a record ends at LF,
//! CRLF or a lone CR alike (old Mac exports), physical lines and byte offsets are counted
//! exactly, blank lines are skipped without remembering them, and a record or field is refused
//! the moment it passes its bound, so a hostile file costs one bounded record of memory.
//!
//! Quoting follows RFC 4180 as the `csv` crate reads it: a field that starts with `"` is quoted,
//! `""` inside it is one `"`, line ends inside it are data, text after the closing quote is
//! kept, and a `"` inside an unquoted field is an ordinary character.

use std::io::BufRead;

use memchr::{memchr, memchr2, memchr2_iter};

use crate::Limits;

/// Why a row could not be framed.
#[derive(Debug)]
pub(crate) enum RowError {
    Io(std::io::Error),
    /// The record starting on `line` passed `limit` bytes (line end excluded); `lines` says
    /// whether a quoted field had carried it over more than one physical line.
    TooLong {
        line: u64,
        lines: bool,
        limit: usize,
    },
    /// Field `column` (1-based) of the record on `line` passed `limit` bytes.
    FieldTooLong {
        line: u64,
        column: usize,
        limit: usize,
    },
    /// A quoted field opened in the record on `line` was still open at the end of the file.
    UnclosedQuote {
        line: u64,
    },
    /// A title line (`skip_lines`) passed `limit` bytes.
    TitleTooLong {
        line: u64,
        limit: usize,
    },
}

impl From<std::io::Error> for RowError {
    fn from(e: std::io::Error) -> Self {
        RowError::Io(e)
    }
}

/// True when `bytes` holds a C0 control byte (below 0x20). Checked sixteen bytes at a time
/// without branching inside a block, since almost no value holds one.
#[inline]
pub(crate) fn has_control(bytes: &[u8]) -> bool {
    let mut blocks = bytes.chunks_exact(16);
    for block in &mut blocks {
        if block.iter().fold(0u8, |m, &b| m | u8::from(b < b' ')) != 0 {
            return true;
        }
    }
    blocks.remainder().iter().any(|&b| b < b' ')
}

/// True when a header name holds a control character other than a tab, or a Unicode line or
/// paragraph separator: signs that the file's line ends were not understood and the header row
/// swallowed the rows after it.
pub(crate) fn header_swallowed_lines(name: &str) -> bool {
    name.trim().chars().any(|c| (c.is_control() && c != '\t') || c == '\u{2028}' || c == '\u{2029}')
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    /// Just after a `"` inside a quoted field: the next byte says whether it closed the field.
    QuoteInQuoted,
}

/// Where the reading is in the file.
struct Position {
    delimiter: u8,
    /// Bytes consumed from the reader.
    offset: u64,
    /// Line ends passed; `\r\n` is one.
    lines_ended: u64,
    /// The last byte consumed was `\r`, so a `\n` next ends no further line.
    after_cr: bool,
    /// While set, counts bytes other than line ends, spaces, tabs, quotes and delimiters.
    tally: Option<u64>,
}

impl Position {
    /// Counts the line ends in `bytes`, consumed right after the last bytes counted.
    fn lines_in(&mut self, bytes: &[u8]) {
        let Some(&last) = bytes.last() else { return };
        for i in memchr2_iter(b'\r', b'\n', bytes) {
            let after_cr = if i == 0 { self.after_cr } else { bytes[i - 1] == b'\r' };
            if bytes[i] == b'\r' || !after_cr {
                self.lines_ended += 1;
            }
        }
        self.after_cr = last == b'\r';
    }

    /// Counts the bytes just consumed (`consumed`): offset, and the tally when it is on.
    fn took(&mut self, consumed: &[u8]) {
        self.offset += consumed.len() as u64;
        if let Some(n) = self.tally.as_mut() {
            let d = self.delimiter;
            let data =
                consumed.iter().filter(|&&b| !matches!(b, b'\r' | b'\n' | b' ' | b'\t' | b'"') && b != d);
            *n += data.count() as u64;
        }
    }
}

/// The record being read. Its raw bytes are copied in runs (quotes and delimiters included,
/// the second quote of `""` and a closing quote followed by more text left out), so each
/// field is a range of them.
struct Record {
    bytes: Vec<u8>,
    starts: Vec<usize>,
    ends: Vec<usize>,
    /// Some value holds a C0 control byte (a line break inside quotes counts).
    control: bool,
    field_bytes: usize,
    /// First physical line and byte.
    line: u64,
    start: u64,
}

impl Record {
    #[inline]
    fn push_field(&mut self, start: usize, end: usize) -> Result<(), RowError> {
        if end - start > self.field_bytes {
            return Err(RowError::FieldTooLong {
                line: self.line,
                column: self.ends.len() + 1,
                limit: self.field_bytes,
            });
        }
        self.starts.push(start);
        self.ends.push(end);
        Ok(())
    }
}

/// What a byte means to an unquoted field.
const PLAIN: u8 = 0;
/// The delimiter, CR or LF: the field ends.
const STOP: u8 = 1;
/// Any other C0 control byte: kept, and the record marked as holding one.
const CONTROL: u8 = 2;

/// Reads CSV records from a `BufRead`, one record's fields held at a time.
pub(crate) struct CsvRows<R> {
    reader: R,
    /// `PLAIN`, `STOP` or `CONTROL` by byte value.
    class: [u8; 256],
    line_bytes: usize,
    pos: Position,
    rec: Record,
}

impl<R: BufRead> CsvRows<R> {
    /// Rows of `reader` split at `delimiter`, held to `limits.line_bytes` per record and
    /// `limits.field_bytes` per field.
    pub(crate) fn new(reader: R, delimiter: u8, limits: &Limits) -> Self {
        let mut class = [PLAIN; 256];
        for c in &mut class[..usize::from(b' ')] {
            *c = CONTROL;
        }
        for b in [delimiter, b'\r', b'\n'] {
            class[usize::from(b)] = STOP;
        }
        Self {
            reader,
            class,
            line_bytes: limits.line_bytes,
            pos: Position { delimiter, offset: 0, lines_ended: 0, after_cr: false, tally: None },
            rec: Record {
                bytes: Vec::new(),
                starts: Vec::new(),
                ends: Vec::new(),
                control: false,
                field_bytes: limits.field_bytes,
                line: 0,
                start: 0,
            },
        }
    }

    /// The current record's first physical line (1-based).
    pub(crate) fn line(&self) -> u64 {
        self.rec.line
    }

    /// The current record's first byte, counted from where `reader` started.
    pub(crate) fn offset(&self) -> u64 {
        self.rec.start
    }

    /// True when a value of the current record holds a C0 control byte (tab, a line break
    /// inside quotes, NUL, escape...): only then need its fields be checked one by one.
    pub(crate) fn has_control(&self) -> bool {
        self.rec.control
    }

    /// Number of fields in the current record.
    pub(crate) fn len(&self) -> usize {
        self.rec.ends.len()
    }

    /// Field `i` (0-based) of the current record.
    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<&[u8]> {
        let (start, end) = (*self.rec.starts.get(i)?, *self.rec.ends.get(i)?);
        Some(&self.rec.bytes[start..end])
    }

    /// Every field of the current record, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.rec.ends.len()).filter_map(|i| self.get(i))
    }

    /// The current record's bytes (every field is a range of them, and nothing else in them
    /// but quotes, delimiters and line breaks inside quotes), and where each field starts and
    /// ends.
    pub(crate) fn raw(&self) -> (&[u8], &[usize], &[usize]) {
        (&self.rec.bytes, &self.rec.starts, &self.rec.ends)
    }

    /// Starts (or stops) counting the data bytes read from here on: bytes that are not line
    /// ends, spaces, tabs, quotes or delimiters. Readers use it to prove that rows they skipped
    /// as blank held nothing.
    pub(crate) fn set_tally(&mut self, on: bool) {
        self.pos.tally = on.then_some(self.pos.tally.unwrap_or(0));
    }

    /// Data bytes counted while the tally was on.
    pub(crate) fn tallied(&self) -> u64 {
        self.pos.tally.unwrap_or(0)
    }

    /// Skips `n` physical lines whatever they hold (title lines before a header).
    pub(crate) fn skip_lines(&mut self, n: u32) -> Result<(), RowError> {
        for _ in 0..n {
            let line = self.pos.lines_ended + 1;
            let mut len = 0usize;
            loop {
                let buf = crate::fill_buf(&mut self.reader)?;
                if buf.is_empty() {
                    return Ok(());
                }
                // The `\n` of a `\r\n` that ended the previous line belongs to it.
                let skip = usize::from(self.pos.after_cr && len == 0 && buf[0] == b'\n');
                let budget = buf.len().min(skip + self.line_bytes + 1 - len);
                let (n, done) = match memchr2(b'\r', b'\n', &buf[skip..budget]) {
                    Some(i) => (skip + i + 1, true),
                    None => (budget, false),
                };
                self.pos.lines_in(&buf[..n]);
                self.pos.took(&buf[..n]);
                self.reader.consume(n);
                len += n - skip;
                if done {
                    break;
                }
                if len > self.line_bytes {
                    return Err(RowError::TitleTooLong { line, limit: self.line_bytes });
                }
            }
        }
        Ok(())
    }

    /// Reads the next non-empty record; `false` at the end of the file.
    pub(crate) fn read(&mut self) -> Result<bool, RowError> {
        let rec = &mut self.rec;
        let pos = &mut self.pos;
        rec.bytes.clear();
        rec.starts.clear();
        rec.ends.clear();
        rec.control = false;
        // Empty lines, however many, cost nothing but their count.
        loop {
            let buf = crate::fill_buf(&mut self.reader)?;
            if buf.is_empty() {
                return Ok(false);
            }
            let n = buf.iter().position(|&b| b != b'\r' && b != b'\n').unwrap_or(buf.len());
            pos.lines_in(&buf[..n]);
            pos.took(&buf[..n]);
            let at_data = n < buf.len();
            self.reader.consume(n);
            if at_data {
                break;
            }
        }
        // From here on no byte before the record end is a line end outside quotes.
        pos.after_cr = false;
        rec.line = pos.lines_ended + 1;
        rec.start = pos.offset;
        let mut state = State::FieldStart;
        let mut raw = 0usize;
        let mut field_start = 0usize;
        // Where the `"` just seen inside a quoted field sits in `rec.bytes`.
        let mut quote_at = 0usize;
        let delimiter = pos.delimiter;
        loop {
            let buf = crate::fill_buf(&mut self.reader)?;
            if buf.is_empty() {
                let (start, end) = match state {
                    State::Quoted => return Err(RowError::UnclosedQuote { line: rec.line }),
                    State::QuoteInQuoted => (field_start, quote_at),
                    State::Unquoted => (field_start, rec.bytes.len()),
                    // A delimiter was the last byte: an empty last field.
                    State::FieldStart => (rec.bytes.len(), rec.bytes.len()),
                };
                rec.push_field(start, end)?;
                return Ok(true);
            }
            // Never look past the bound: the record's bytes stay within `line_bytes`, plus
            // the one byte of line end that closes it.
            let chunk = &buf[..buf.len().min(self.line_bytes + 1 - raw)];
            // `chunk[run..]` is not yet copied; byte `i` of the chunk lands at `at(i)`.
            let mut run = 0usize;
            let mut i = 0usize;
            let mut ended = false;
            macro_rules! at {
                ($i:expr) => {
                    rec.bytes.len() + ($i - run)
                };
            }
            while i < chunk.len() {
                match state {
                    State::FieldStart => {
                        if chunk[i] == b'"' {
                            field_start = at!(i + 1);
                            state = State::Quoted;
                            i += 1;
                        } else {
                            field_start = at!(i);
                            state = State::Unquoted;
                        }
                    }
                    State::Unquoted => {
                        // Fields are short: a plain loop beats a vectorised search's set-up.
                        loop {
                            while i < chunk.len() && self.class[usize::from(chunk[i])] == PLAIN {
                                i += 1;
                            }
                            if i < chunk.len() && self.class[usize::from(chunk[i])] == CONTROL {
                                rec.control = true;
                                i += 1;
                                continue;
                            }
                            break;
                        }
                        if i == chunk.len() {
                            break;
                        }
                        let b = chunk[i];
                        let end = at!(i);
                        i += 1;
                        rec.push_field(field_start, end)?;
                        if b != delimiter {
                            if b == b'\r' {
                                pos.after_cr = true;
                            }
                            pos.lines_ended += 1;
                            ended = true;
                            break;
                        }
                        state = State::FieldStart;
                    }
                    State::Quoted => {
                        let k = memchr(b'"', &chunk[i..]).map_or(chunk.len(), |k| i + k);
                        pos.lines_in(&chunk[i..k]);
                        rec.control |= has_control(&chunk[i..k]);
                        if k == chunk.len() {
                            i = k;
                            break;
                        }
                        pos.after_cr = false;
                        quote_at = at!(k);
                        i = k + 1;
                        state = State::QuoteInQuoted;
                    }
                    State::QuoteInQuoted => {
                        let b = chunk[i];
                        if b == b'"' {
                            // `""`: the first quote stays as the value's quote, this one goes.
                            rec.bytes.extend_from_slice(&chunk[run..i]);
                            run = i + 1;
                            i += 1;
                            state = State::Quoted;
                        } else if b == delimiter || b == b'\r' || b == b'\n' {
                            rec.push_field(field_start, quote_at)?;
                            i += 1;
                            if b != delimiter {
                                pos.after_cr = b == b'\r';
                                pos.lines_ended += 1;
                                ended = true;
                                break;
                            }
                            state = State::FieldStart;
                        } else {
                            // Text after the closing quote is kept, as the csv crate does; the
                            // closing quote (the last byte copied or about to be) goes.
                            rec.bytes.extend_from_slice(&chunk[run..i]);
                            rec.bytes.pop();
                            run = i;
                            state = State::Unquoted;
                        }
                    }
                }
            }
            // The line end that closed the record is not copied: the bytes then hold no control
            // byte unless a value does (or the delimiter is one).
            rec.bytes.extend_from_slice(&chunk[run..i - usize::from(ended)]);
            pos.took(&chunk[..i]);
            self.reader.consume(i);
            raw += i;
            if ended {
                return Ok(true);
            }
            if raw > self.line_bytes {
                let lines = pos.lines_ended + 1 > rec.line;
                return Err(RowError::TooLong { line: rec.line, lines, limit: self.line_bytes });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn limits(line_bytes: usize, field_bytes: usize) -> Limits {
        Limits { line_bytes, field_bytes, ..Limits::default() }
    }

    /// Records as (line, offset, fields).
    type Framed = Vec<(u64, u64, Vec<Vec<u8>>)>;

    /// Every record, or the error that ended the reading.
    fn frame(bytes: &[u8], limits: &Limits) -> Result<Framed, RowError> {
        // A tiny buffer, so records and line ends straddle every refill.
        let mut rows = CsvRows::new(std::io::BufReader::with_capacity(3, bytes), b',', limits);
        let mut out = Vec::new();
        while rows.read()? {
            out.push((rows.line(), rows.offset(), rows.iter().map(<[u8]>::to_vec).collect()));
        }
        Ok(out)
    }

    fn fields(bytes: &[u8]) -> Vec<(u64, Vec<Vec<u8>>)> {
        frame(bytes, &Limits::default()).unwrap().into_iter().map(|(l, _, f)| (l, f)).collect()
    }

    #[test]
    fn lf_crlf_and_cr_read_the_same_records_on_the_same_lines() {
        let lines = ["UTR,Amount", "", "A1,\"1,000.00\"", "A2,\"two", "lines\"", "", "", "A3,3"];
        let lf = fields(lines.join("\n").as_bytes());
        assert_eq!(lf.len(), 4);
        assert_eq!(lf[1], (3, vec![b"A1".to_vec(), b"1,000.00".to_vec()]));
        assert_eq!(lf[3].0, 8);
        for end in ["\r\n", "\r"] {
            let text = lines.join(end);
            let other = fields(text.as_bytes());
            assert_eq!(other.len(), lf.len(), "{end:?}");
            for (a, b) in lf.iter().zip(&other) {
                assert_eq!(a.0, b.0, "{end:?}: same physical lines");
                // The line break inside the quoted field is data, kept as the file wrote it.
                let fix = |f: &Vec<Vec<u8>>| -> Vec<String> {
                    f.iter().map(|v| String::from_utf8_lossy(v).replace(end, "\n")).collect()
                };
                assert_eq!(fix(&a.1), fix(&b.1), "{end:?}");
            }
        }
    }

    #[test]
    fn offsets_are_the_first_byte_of_each_record() {
        let text = b"\r\r\nH,x\r\rA,1\n\n\"B\",2";
        let got = frame(text, &Limits::default()).unwrap();
        let at: Vec<(u64, u8)> = got.iter().map(|(l, o, _)| (*l, text[*o as usize])).collect();
        assert_eq!(at, [(3, b'H'), (5, b'A'), (7, b'"')]);
    }

    #[test]
    fn quoting_as_the_csv_crate_reads_it() {
        let got = fields(b"\"a\"\"b\",\"c\"d,e\"f,\"\",\n");
        assert_eq!(got[0].1, [&b"a\"b"[..], b"cd", b"e\"f", b"", b""]);
        let e = frame(b"H\nA,\"open\n\nstill open", &Limits::default()).unwrap_err();
        assert!(matches!(e, RowError::UnclosedQuote { line: 2 }), "{e:?}");
    }

    #[test]
    fn a_record_at_the_limit_is_read_one_byte_more_is_refused() {
        let l = limits(10, 10);
        for end in ["\n", "\r\n", "\r", ""] {
            let ok = format!("H\n0123456789{end}");
            assert_eq!(frame(ok.as_bytes(), &l).unwrap().len(), 2, "{end:?}");
            let long = format!("H\n0123456789A{end}");
            let e = frame(long.as_bytes(), &l).unwrap_err();
            assert!(matches!(e, RowError::TooLong { line: 2, lines: false, limit: 10 }), "{end:?}: {e:?}");
        }
        let e = frame(b"H\n\"01234\n56789\"\n", &l).unwrap_err();
        assert!(matches!(e, RowError::TooLong { line: 2, lines: true, .. }), "{e:?}");
        let e = frame(b"H\n0,1,2345,6\n", &limits(64, 3)).unwrap_err();
        assert!(matches!(e, RowError::FieldTooLong { line: 2, column: 3, limit: 3 }), "{e:?}");
    }

    #[test]
    fn an_endless_line_is_refused_without_reading_it_whole() {
        // Buffering the line (or the file) would never return.
        let endless = std::io::BufReader::new(std::io::Read::chain(&b"H\n"[..], std::io::repeat(b'x')));
        let mut rows = CsvRows::new(endless, b',', &Limits::default());
        assert!(rows.read().unwrap());
        let e = rows.read().unwrap_err();
        assert!(matches!(e, RowError::TooLong { line: 2, .. }), "{e:?}");
        let quoted = std::io::BufReader::new(std::io::Read::chain(&b"H\n\""[..], std::io::repeat(b'\n')));
        let mut rows = CsvRows::new(quoted, b',', &Limits::default());
        assert!(rows.read().unwrap());
        assert!(matches!(rows.read().unwrap_err(), RowError::TooLong { line: 2, lines: true, .. }));
    }

    #[test]
    fn blank_lines_are_counted_not_kept() {
        let mut text = b"H\n".to_vec();
        text.extend(std::iter::repeat_n(b'\n', 1_000_000));
        text.extend_from_slice(b"\r\rA\r");
        let got = frame(&text, &Limits::default()).unwrap();
        assert_eq!(got[1].0, 1_000_004);
        assert_eq!(got[1].1, text.len() as u64 - 2);
    }

    #[test]
    fn title_lines_end_at_any_line_end() {
        let text = b"Title one\rTitle two\r\n\r\nH,x\rA,1\r";
        let mut rows = CsvRows::new(&text[..], b',', &Limits::default());
        rows.skip_lines(3).unwrap();
        assert!(rows.read().unwrap());
        assert_eq!((rows.line(), rows.get(0)), (4, Some(&b"H"[..])));
        let mut rows = CsvRows::new(&b"0123456789A\nH\n"[..], b',', &limits(10, 10));
        assert!(matches!(rows.skip_lines(1).unwrap_err(), RowError::TitleTooLong { line: 1, limit: 10 }));
    }

    #[test]
    fn the_tally_counts_data_bytes_only() {
        let mut rows = CsvRows::new(&b"H\n ,\t,\"\"\r\n\xc2\xa0\n"[..], b',', &Limits::default());
        assert!(rows.read().unwrap());
        rows.set_tally(true);
        while rows.read().unwrap() {}
        assert_eq!(rows.tallied(), 2, "the two bytes of a no-break space");
    }

    proptest! {
        /// The same records as the csv crate (CR, LF or CRLF ends; empty lines skipped), on
        /// CSV-like text, except that a quote left open at the end is an error here.
        #[test]
        fn same_records_as_the_csv_crate(s in "[a\",\r\n ]{0,80}") {
            let mut csv = ::csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .terminator(::csv::Terminator::CRLF)
                .from_reader(s.as_bytes());
            let theirs: Vec<Vec<Vec<u8>>> =
                csv.byte_records().map(|r| r.unwrap().iter().map(<[u8]>::to_vec).collect()).collect();
            match frame(s.as_bytes(), &Limits::default()) {
                Ok(ours) => {
                    let ours: Vec<Vec<Vec<u8>>> = ours.into_iter().map(|r| r.2).collect();
                    prop_assert_eq!(ours, theirs);
                }
                Err(RowError::UnclosedQuote { .. }) => {}
                Err(e) => prop_assert!(false, "{:?}", e),
            }
        }
    }
}
