//! Byte-level parsers for the MT940 fields the reader needs: tags, balances, the `:61:`
//! statement line and the `:86:` details. Pure functions, so each quirk is testable alone.

use chrono::NaiveDate;
use rust_decimal::Decimal;

/// A field tag as it appears between colons: `20`, `28C`, `60F`, `NS`...
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Tag {
    bytes: [u8; 3],
    len: u8,
}

impl Tag {
    pub(super) fn as_str(&self) -> &str {
        // Only ASCII digits and letters are ever stored.
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("??")
    }

    /// The numeric part (`60` for `60F`), or 0 for `NS`.
    pub(super) fn number(&self) -> u8 {
        if self.bytes[0].is_ascii_digit() {
            (self.bytes[0] - b'0') * 10 + (self.bytes[1] - b'0')
        } else {
            0
        }
    }
}

/// Recognises a field start: `:NN:`, `:NNA:` or the non-SWIFT `:NS:` at the start of a line.
/// Returns the tag and the length of the `:tag:` prefix. Anything else (`:940:`, a colon in
/// running text) is not a field start.
pub(super) fn field_start(line: &[u8]) -> Option<(Tag, usize)> {
    if line.len() < 4 || line[0] != b':' {
        return None;
    }
    if &line[1..4] == b"NS:" {
        return Some((Tag { bytes: *b"NS ", len: 2 }, 4));
    }
    if !(line[1].is_ascii_digit() && line[2].is_ascii_digit()) {
        return None;
    }
    if line[3] == b':' {
        return Some((Tag { bytes: [line[1], line[2], b' '], len: 2 }, 4));
    }
    if line.len() >= 5 && line[3].is_ascii_uppercase() && line[4] == b':' {
        return Some((Tag { bytes: [line[1], line[2], line[3]], len: 3 }, 5));
    }
    None
}

/// A line that ends a SWIFT message: `-`, `-}`, `-}{5:...}`, `-XXX` (ING), `-` + ETX (mBank).
/// A `:86:` continuation starting with `-` and text is not one.
pub(super) fn is_trailer(line: &[u8]) -> bool {
    // Some banks write the trailer with whitespace around it (` -`).
    let start = line.iter().position(|b| !matches!(b, b' ' | b'\t')).unwrap_or(line.len());
    let Some(rest) = line[start..].strip_prefix(b"-") else {
        return false;
    };
    let rest = trim_bytes(rest);
    rest.is_empty() || rest[0] == b'}' || rest.iter().all(|&b| b == b'X')
}

/// Bytes that frame or pad a line without carrying text: SOH, STX and ETX of SWIFT FIN
/// wrappers (mBank), NUL padding and the DOS end-of-file mark SUB. Only these, and whitespace,
/// may surround text; any other control byte is an error of the field it sits in.
pub(super) fn is_framing(b: u8) -> bool {
    matches!(b, 0x00 | 0x01 | 0x02 | 0x03 | 0x1A)
}

/// Trims ASCII whitespace and framing bytes (`is_framing`) from both ends.
pub(super) fn trim_bytes(b: &[u8]) -> &[u8] {
    let is_pad = |c: &u8| c.is_ascii_whitespace() || is_framing(*c);
    let start = b.iter().position(|c| !is_pad(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !is_pad(c)).map_or(start, |e| e + 1);
    &b[start..end.max(start)]
}

/// A C0 control character (other than tab) or DEL found in a field's text: its 0-based
/// position in the bytes given to `decode_into`, and the byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ControlByte {
    pub at: usize,
    pub byte: u8,
}

impl ControlByte {
    /// The byte as a message shows it: `0x00`.
    pub fn describe(&self) -> String {
        format!("0x{:02X}", self.byte)
    }
}

/// True for the bytes no text may hold: C0 controls other than tab, and DEL.
fn is_control(b: u8) -> bool {
    b < 0x20 && b != b'\t' || b == 0x7f
}

/// Decodes one line into `out`: UTF-8 when the bytes are valid UTF-8, otherwise Windows-1252
/// (a superset of ISO-8859-1 for printable text; cp852 cannot be told apart from it without a
/// declared charset, which MT940 files do not carry, so its few letters come out as cp1252
/// look-alikes, the five bytes cp1252 leaves undefined as the C1 controls of the same value).
/// A C0 control (other than tab) or DEL is refused, never dropped: a NUL inside an amount must
/// not read as a clean amount. `out` is left as it was on error.
pub(super) fn decode_into(bytes: &[u8], out: &mut String) -> Result<(), ControlByte> {
    // Printable ASCII and tabs, the bulk of every file: one branch-free pass, then a copy.
    let odd = bytes.iter().fold(0u8, |acc, &b| acc | u8::from(!is_plain(b)));
    if odd == 0 {
        if let Ok(s) = std::str::from_utf8(bytes) {
            out.push_str(s);
            return Ok(());
        }
    }
    if let Some(at) = bytes.iter().position(|&b| is_control(b)) {
        return Err(ControlByte { at, byte: bytes[at] });
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => out.push_str(s),
        Err(_) => {
            // Runs of plain ASCII are copied whole; the bytes between them go through the table.
            out.reserve(bytes.len() + bytes.len() / 2);
            let mut rest = bytes;
            while !rest.is_empty() {
                let run = rest.iter().position(|&b| !is_plain(b)).unwrap_or(rest.len());
                if let Ok(s) = std::str::from_utf8(&rest[..run]) {
                    out.push_str(s);
                }
                let Some(&b) = rest.get(run) else {
                    break;
                };
                out.push(cp1252(b));
                rest = &rest[run + 1..];
            }
        }
    }
    Ok(())
}

/// Printable ASCII or a tab: text that decodes to itself in UTF-8 and cp1252 alike.
fn is_plain(b: u8) -> bool {
    (0x20..0x7f).contains(&b) || b == b'\t'
}

/// Windows-1252 as WHATWG (and `encoding_rs`) define it: ISO-8859-1 except 0x80..=0x9F, whose
/// five unassigned bytes map to the C1 controls of the same value.
pub(super) fn cp1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '\u{20AC}', '\u{81}', '\u{201A}', '\u{192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
        '\u{2C6}', '\u{2030}', '\u{160}', '\u{2039}', '\u{152}', '\u{8D}', '\u{17D}', '\u{8F}', '\u{90}',
        '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}', '\u{2DC}',
        '\u{2122}', '\u{161}', '\u{203A}', '\u{153}', '\u{9D}', '\u{17E}', '\u{178}',
    ];
    match b {
        0x80..=0x9f => HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}

/// Why a field could not be parsed: the part of the field, and the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FieldError {
    pub part: &'static str,
    pub problem: String,
}

fn err(part: &'static str, problem: impl Into<String>) -> FieldError {
    FieldError { part, problem: problem.into() }
}

/// Input quoted in a message: escaped and cut by `shown_bytes`, so a 50 MB value cannot become
/// a 50 MB error.
fn show(b: &[u8]) -> String {
    format!("\"{}\"", crate::limits::shown_bytes(b))
}

/// Two ASCII digits as a number.
fn two(b: &[u8]) -> Option<u32> {
    match b {
        [a, c, ..] if a.is_ascii_digit() && c.is_ascii_digit() => {
            Some(u32::from(a - b'0') * 10 + u32::from(c - b'0'))
        }
        _ => None,
    }
}

/// `YYMMDD`, years read as 20YY (SWIFT gives two digits; no MT940 predates 2000 in practice).
pub(super) fn parse_yymmdd(b: &[u8], part: &'static str) -> Result<NaiveDate, FieldError> {
    let digits = b.get(..6).filter(|d| d.iter().all(u8::is_ascii_digit));
    let Some(d) = digits else {
        return Err(err(part, format!("{} is not a YYMMDD date", show(&b[..b.len().min(6)]))));
    };
    let (y, m, day) = (two(d).unwrap_or(0), two(&d[2..]).unwrap_or(0), two(&d[4..]).unwrap_or(0));
    NaiveDate::from_ymd_opt(2000 + y as i32, m, day)
        .ok_or_else(|| err(part, format!("{} is not a calendar date", show(d))))
}

/// The entry (booking) date `MMDD`, its year inferred from the value date: an entry more than
/// six months before or after the value date belongs to the neighbouring year (value
/// 2026-12-31, entry `0102` is 2027-01-02).
pub(super) fn entry_date(value: NaiveDate, month: u32, day: u32) -> Option<NaiveDate> {
    use chrono::Datelike;
    let mut year = value.year();
    let diff = month as i32 - value.month() as i32;
    if diff > 6 {
        year -= 1;
    } else if diff < -6 {
        year += 1;
    }
    NaiveDate::from_ymd_opt(year, month, day)
}

/// Parses an MT940 amount (`300,`, `300,5`, `0000012,34`): digits, one decimal comma.
/// Returns the amount and the number of bytes used.
pub(super) fn parse_amount(b: &[u8], part: &'static str) -> Result<(Decimal, usize), FieldError> {
    parse_amount_with(b, part, true)
}

/// As `parse_amount`; without `need_comma`, whole amounts may omit the comma (Knab writes
/// `C500NTRF` in `:61:`, where the transaction type letter still ends the amount).
pub(super) fn parse_amount_with(
    b: &[u8],
    part: &'static str,
    need_comma: bool,
) -> Result<(Decimal, usize), FieldError> {
    let mut mantissa: i64 = 0;
    let mut scale: u32 = 0;
    let mut digits = 0usize;
    let mut comma = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            c @ b'0'..=b'9' => {
                digits += 1;
                if digits > 18 {
                    return Err(err(part, format!("{} has too many digits", show(&b[..i + 1]))));
                }
                mantissa = mantissa * 10 + i64::from(c - b'0');
                if comma {
                    scale += 1;
                }
            }
            b',' if !comma => comma = true,
            _ => break,
        }
        i += 1;
    }
    let comma_ok = comma || (!need_comma && matches!(b.get(i), Some(b'N' | b'F' | b'S')));
    if digits == 0 || !comma_ok {
        let shown = &b[..b.len().min(i.max(1) + 15)];
        let why = if digits == 0 { "has no digits" } else { "has no decimal comma" };
        return Err(err(part, format!("{} {why}", show(shown))));
    }
    Ok((Decimal::new(mantissa, scale), i))
}

/// A balance field (`:60F:`, `:62F:`, `:64:`...): mark, date, currency, amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Balance {
    /// Signed: debit balances are negative.
    pub amount: Decimal,
    pub date: NaiveDate,
    pub currency: [u8; 3],
}

/// Parses `C100318EUR380115,12`.
pub(super) fn parse_balance(text: &[u8]) -> Result<Balance, FieldError> {
    let b = trim_bytes(text);
    let negative = match b.first() {
        Some(b'C') => false,
        Some(b'D') => true,
        _ => return Err(err("mark", format!("{} does not start with C or D", show(&b[..b.len().min(20)])))),
    };
    let date = parse_yymmdd(&b[1..], "date")?;
    let cur = b.get(7..10).filter(|c| c.iter().all(u8::is_ascii_uppercase));
    let Some(cur) = cur else {
        return Err(err(
            "currency",
            format!("{} is not a currency code", show(b.get(7..).unwrap_or_default())),
        ));
    };
    let (amount, used) = parse_amount(&b[10..], "amount")?;
    if 10 + used != b.len() {
        return Err(err("amount", format!("unexpected text after the amount: {}", show(&b[10 + used..]))));
    }
    Ok(Balance { amount: if negative { -amount } else { amount }, date, currency: [cur[0], cur[1], cur[2]] })
}

/// An MT942 `:90D:`/`:90C:` "Number and Sum of Entries" (`5n3!a15d`): how many debit or
/// credit lines the report holds and their total, its control total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CountAndSum {
    pub count: u64,
    pub currency: [u8; 3],
    pub amount: Decimal,
}

/// Parses `3PLN0,03` (mBank writes `0PLN0` for none: the comma may be left out).
pub(super) fn parse_count_and_sum(text: &[u8]) -> Result<CountAndSum, FieldError> {
    let b = trim_bytes(text);
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || digits > 5 {
        return Err(err(
            "number",
            format!("{} does not start with a number of 1 to 5 digits", show(&b[..b.len().min(20)])),
        ));
    }
    let count = b[..digits].iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
    let currency = currency_code(&b[digits..])?;
    let rest = &b[digits + 3..];
    let (amount, used) = if !rest.is_empty() && rest.iter().all(u8::is_ascii_digit) {
        parse_amount_with(rest, "amount", false).or_else(|_| whole(rest))?
    } else {
        parse_amount(rest, "amount")?
    };
    if used != rest.len() {
        return Err(err("amount", format!("unexpected text after the amount: {}", show(&rest[used..]))));
    }
    Ok(CountAndSum { count, currency, amount })
}

/// An amount written without its decimal comma (`0`): whole units.
fn whole(b: &[u8]) -> Result<(Decimal, usize), FieldError> {
    if b.len() > 18 {
        return Err(err("amount", format!("{} has too many digits", show(b))));
    }
    let n = b.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
    Ok((Decimal::from(n), b.len()))
}

/// Three upper-case letters at the start of `b`: a currency code's shape.
fn currency_code(b: &[u8]) -> Result<[u8; 3], FieldError> {
    match b.get(..3) {
        Some(c) if c.iter().all(u8::is_ascii_uppercase) => Ok([c[0], c[1], c[2]]),
        _ => Err(err("currency", format!("{} is not a currency code", show(&b[..b.len().min(3)])))),
    }
}

/// The currency of an MT942 `:34F:` floor limit (`3!a[1!a]15d`, `EURD0,00`, `PLN0`): the
/// report's currency, as the opening balance gives a statement's. The limit itself only says
/// which small entries the bank left out, so only its shape is checked.
pub(super) fn parse_floor_limit(text: &[u8]) -> Result<[u8; 3], FieldError> {
    let b = trim_bytes(text);
    let currency = currency_code(b)?;
    let mut rest = &b[3..];
    if let Some(b'D' | b'C') = rest.first() {
        rest = &rest[1..];
    }
    if rest.is_empty() || !rest.iter().all(|c| c.is_ascii_digit() || *c == b',') {
        return Err(err("amount", format!("{} is not an amount", show(&rest[..rest.len().min(20)]))));
    }
    Ok(currency)
}

/// The date of an MT942 `:13D:` "Date/Time Indication" (`6!n4!n1!x4!n`, `1701191815+0100`):
/// when the bank produced the report.
pub(super) fn parse_report_time(text: &[u8]) -> Result<NaiveDate, FieldError> {
    let b = trim_bytes(text);
    let date = parse_yymmdd(b, "date")?;
    let time = b.get(6..10).filter(|t| t.iter().all(u8::is_ascii_digit));
    let zone = b.get(10..15).filter(|z| matches!(z[0], b'+' | b'-') && z[1..].iter().all(u8::is_ascii_digit));
    if time.is_none() || zone.is_none() || b.len() != 15 {
        return Err(err(
            "time",
            format!("{} is not a YYMMDDhhmm+hhmm date and time", show(&b[..b.len().min(20)])),
        ));
    }
    Ok(date)
}

/// The debit/credit mark of a `:61:` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mark {
    Credit,
    Debit,
    /// `RC`: reversal of a credit, money leaves the account.
    ReversalOfCredit,
    /// `RD`: reversal of a debit, money comes back.
    ReversalOfDebit,
}

impl Mark {
    /// Whether the entry raises the account balance.
    pub fn adds(self) -> bool {
        matches!(self, Mark::Credit | Mark::ReversalOfDebit)
    }

    /// The mark as written.
    pub fn code(self) -> &'static str {
        match self {
            Mark::Credit => "C",
            Mark::Debit => "D",
            Mark::ReversalOfCredit => "RC",
            Mark::ReversalOfDebit => "RD",
        }
    }
}

/// A parsed `:61:` statement line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct StatementLine {
    pub value_date: NaiveDate,
    /// Set when the value date as written is no calendar date (some banks print 30 February)
    /// and another was taken: the line is read, and its payment goes to a person.
    pub value_date_warning: Option<String>,
    pub entry_date: Option<NaiveDate>,
    pub mark: Mark,
    pub funds_code: Option<u8>,
    pub amount: Decimal,
    /// Transaction type: N/F/S + 3 characters (`NTRF`, `N051`, `S   `).
    pub tx_type: String,
    /// Customer reference; empty for `NONREF` or none.
    pub customer_ref: String,
    pub bank_ref: Option<String>,
    /// Supplementary details: the text on the line(s) after the first.
    pub supplementary: String,
}

/// Parses a `:61:` field; `text` holds its lines separated by `\n`. A line break right after
/// the mark (Sparkassen) or spaces instead of an entry date (ASN Bank) are accepted. A value
/// date of six digits that no calendar has is read, with a warning, as the last day of its
/// month (30 February), else as the entry date (its year from the value date's), else as
/// `fallback` (the statement's opening balance date or the report's date, with its name).
pub(super) fn parse_statement_line(
    text: &str,
    fallback: Option<(NaiveDate, &'static str)>,
) -> Result<StatementLine, FieldError> {
    let b = text.as_bytes();
    let mut value_date_warning = None;
    let value_date = match parse_yymmdd(b, "value date") {
        Ok(d) => d,
        Err(e) if b.len() >= 6 && b[..6].iter().all(u8::is_ascii_digit) => {
            let year = 2000 + two(b).unwrap_or(0) as i32;
            let clamped =
                crate::clamp_to_month_end(year, two(&b[2..]).unwrap_or(0), two(&b[4..]).unwrap_or(0));
            let entry = b
                .get(6..10)
                .filter(|d| d.iter().all(u8::is_ascii_digit))
                .and_then(|d| NaiveDate::from_ymd_opt(year, two(d).unwrap_or(0), two(&d[2..]).unwrap_or(0)));
            let (date, from) = match (clamped, entry, fallback) {
                (Some(d), _, _) => (d, "the last day of its month"),
                (None, Some(d), _) => (d, "the entry date"),
                (None, None, Some(d)) => d,
                (None, None, None) => return Err(e),
            };
            value_date_warning =
                Some(format!("value date {} is not a calendar date: read as {date}, {from}", show(&b[..6])));
            date
        }
        Err(e) => return Err(e),
    };
    let mut i = 6;
    let mut entry_date = None;
    if b.len() >= i + 4 && b[i..i + 4].iter().all(u8::is_ascii_digit) {
        let (m, d) = (two(&b[i..]).unwrap_or(0), two(&b[i + 2..]).unwrap_or(0));
        match self::entry_date(value_date, m, d) {
            Some(e) => entry_date = Some(e),
            // Both dates broken: the warning says so already, and the opening date stands.
            None if value_date_warning.is_some() => {}
            None => return Err(err("entry date", format!("{} is not a calendar date", show(&b[i..i + 4])))),
        }
        i += 4;
    } else if b.len() >= i + 4 && &b[i..i + 4] == b"    " {
        i += 4;
    }
    let mark = match (b.get(i), b.get(i + 1)) {
        (Some(b'R'), Some(b'C')) => Mark::ReversalOfCredit,
        (Some(b'R'), Some(b'D')) => Mark::ReversalOfDebit,
        (Some(b'C'), _) => Mark::Credit,
        (Some(b'D'), _) => Mark::Debit,
        _ => {
            let shown = &b[i.min(b.len())..b.len().min(i + 3)];
            return Err(err("debit/credit mark", format!("{} is not C, D, RC or RD", show(shown))));
        }
    };
    i += if matches!(mark, Mark::ReversalOfCredit | Mark::ReversalOfDebit) { 2 } else { 1 };
    let mut funds_code = None;
    if let Some(&c) = b.get(i) {
        if c.is_ascii_uppercase() {
            funds_code = Some(c);
            i += 1;
        }
    }
    if matches!(b.get(i), Some(b'\n' | b' ')) {
        i += 1;
    }
    let (amount, used) = parse_amount_with(&b[i.min(b.len())..], "amount", false)?;
    i += used;
    let first_end = b[i..].iter().position(|&c| c == b'\n').map_or(b.len(), |p| i + p);
    let rest = &text[i..first_end];
    // Transaction type: 4 characters when present (N/F/S + 3); some files end the line here.
    let type_len = rest.char_indices().nth(4).map_or(rest.len(), |(p, _)| p);
    let tx_type = rest[..type_len].trim_end().to_string();
    let refs = &rest[type_len..];
    let (customer, bank) = match find(refs.as_bytes(), b"//") {
        Some(p) => (&refs[..p], Some(refs[p + 2..].trim())),
        None => (refs, None),
    };
    let customer = customer.trim();
    let customer_ref =
        if customer.eq_ignore_ascii_case("NONREF") { String::new() } else { customer.to_string() };
    let bank_ref = bank.filter(|s| !s.is_empty()).map(str::to_string);
    let supplementary =
        if first_end < b.len() { text[first_end + 1..].trim().replace('\n', " ") } else { String::new() };
    Ok(StatementLine {
        value_date,
        value_date_warning,
        entry_date,
        mark,
        funds_code,
        amount,
        tx_type,
        customer_ref,
        bank_ref,
        supplementary,
    })
}

/// A `:86:` field, split into German-style `?NN` sub-fields when it has them. Reusable: `parse`
/// overwrites it, so the reader keeps one and allocates nothing per payment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Details {
    /// Business transaction code (Geschäftsvorfallcode): the first three characters when digits.
    gvc: Option<[u8; 3]>,
    /// The text with its line breaks removed (structured text only).
    flat: String,
    /// `(code, byte range in flat)` in file order; empty when the field is free text.
    pub subfields: Vec<(u8, std::ops::Range<usize>)>,
}

impl Details {
    /// Splits `:86:` text. Sub-field structure is recognised when the text (line breaks
    /// removed) starts with `?` or with three digits and `?`; a `?` not followed by two digits
    /// is text.
    pub fn parse(&mut self, text: &str) {
        let b = text.as_bytes();
        self.gvc = (b.len() >= 3 && b[..3].iter().all(u8::is_ascii_digit)).then(|| [b[0], b[1], b[2]]);
        self.flat.clear();
        self.subfields.clear();
        let structured = b.first() == Some(&b'?') || (self.gvc.is_some() && b.get(3) == Some(&b'?'));
        if !structured {
            return;
        }
        let mut rest = text;
        while let Some(p) = find_byte(rest.as_bytes(), b'\n') {
            self.flat.push_str(&rest[..p]);
            rest = &rest[p + 1..];
        }
        self.flat.push_str(rest);
        let fb = self.flat.as_bytes();
        let mut current: Option<(u8, usize)> = None;
        let mut from = 0;
        while let Some(p) = find_byte(&fb[from..], b'?') {
            let i = from + p;
            if fb.len() > i + 2 && fb[i + 1].is_ascii_digit() && fb[i + 2].is_ascii_digit() {
                if let Some((code, start)) = current {
                    self.subfields.push((code, start..i));
                }
                current = Some(((fb[i + 1] - b'0') * 10 + fb[i + 2] - b'0', i + 3));
                from = i + 3;
            } else {
                from = i + 1;
            }
        }
        if let Some((code, start)) = current {
            self.subfields.push((code, start..fb.len()));
        }
    }

    /// The business transaction code, when the text starts with three digits.
    pub fn gvc(&self) -> Option<&str> {
        self.gvc.as_ref().and_then(|g| std::str::from_utf8(g).ok())
    }

    /// Appends the text of every sub-field with a code in `codes` to `out` (banks cut long
    /// text into 27-character pieces anywhere, even mid-word).
    pub fn join_into(&self, codes: std::ops::RangeInclusive<u8>, out: &mut String) {
        for (code, range) in &self.subfields {
            if codes.contains(code) {
                out.push_str(&self.flat[range.clone()]);
            }
        }
    }

    /// As `join_into`, into a new string.
    #[cfg(test)]
    pub fn joined(&self, codes: std::ops::RangeInclusive<u8>) -> String {
        let mut out = String::new();
        self.join_into(codes, &mut out);
        out
    }

    pub fn get(&self, code: u8) -> Option<&str> {
        self.subfields.iter().find(|(c, _)| *c == code).map(|(_, r)| &self.flat[r.clone()])
    }
}

/// Splits `:86:` text into a new `Details` (see `Details::parse`).
#[cfg(test)]
pub(super) fn parse_details(text: &str) -> Details {
    let mut d = Details::default();
    d.parse(text);
    d
}

/// The value after a SEPA keyword such as `EREF+`, up to the next keyword (`XXXX+`) or the end.
pub(super) fn sepa_value<'a>(text: &'a str, keyword: &str) -> Option<&'a str> {
    let start = find(text.as_bytes(), keyword.as_bytes())? + keyword.len();
    let rest = &text[start..];
    let rb = rest.as_bytes();
    let mut end = rest.len();
    for i in 0..rb.len().saturating_sub(4) {
        if rb[i + 4] == b'+' && rb[i..i + 4].iter().all(u8::is_ascii_uppercase) && rest.is_char_boundary(i) {
            end = i;
            break;
        }
    }
    let v = rest[..end].trim();
    (!v.is_empty()).then_some(v)
}

/// The first position of `needle` in `hay`: a plain scan, cheaper than `str::find`'s two-way
/// searcher set-up for the short texts and keywords of `:86:`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let Some((&first, rest)) = needle.split_first() else {
        return Some(0);
    };
    let mut from = 0;
    while let Some(p) = hay[from..].iter().position(|&b| b == first) {
        let at = from + p;
        if hay[at + 1..].starts_with(rest) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The first position of `needle` in `hay`, eight bytes at a time (the `?` and line breaks of
/// `:86:` text are a few dozen bytes apart; a byte loop costs more).
pub(super) fn find_byte(hay: &[u8], needle: u8) -> Option<usize> {
    const LO: u64 = u64::from_ne_bytes([0x01; 8]);
    const HI: u64 = u64::from_ne_bytes([0x80; 8]);
    let pattern = LO * u64::from(needle);
    let mut chunks = hay.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let word = u64::from_ne_bytes([
            chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7],
        ]) ^ pattern;
        if word.wrapping_sub(LO) & !word & HI != 0 {
            return chunk.iter().position(|&b| b == needle).map(|p| base + p);
        }
        base += 8;
    }
    chunks.remainder().iter().position(|&b| b == needle).map(|p| base + p)
}
