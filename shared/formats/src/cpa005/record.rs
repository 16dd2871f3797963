//! CPA-005 field layout and the small, panic-free field parsers the reader builds on.

use std::borrow::Cow;

use chrono::NaiveDate;

/// Every CPA-005 logical record is this long; shorter ones are padded with spaces.
pub const RECORD_LEN: usize = 1464;
/// Length of one payment segment inside a C or D record.
pub const SEGMENT_LEN: usize = 240;
/// Where the first segment starts (0-based) in a C or D record.
pub const FIRST_SEGMENT: usize = 24;
/// Segments per C or D record.
pub const SEGMENTS: usize = 6;

/// A field as the standard numbers it: 1-based inclusive positions, so messages can quote them.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub from: usize,
    pub to: usize,
}

impl Field {
    const fn new(name: &'static str, from: usize, to: usize) -> Self {
        Self { name, from, to }
    }

    /// The field's bytes in `data` (a padded record or a segment); empty if `data` is too short.
    pub fn of<'a>(&self, data: &'a [u8]) -> &'a [u8] {
        data.get(self.from - 1..self.to).unwrap_or_default()
    }
}

/// `A` header fields.
pub mod header {
    use super::Field;
    pub const ORIGINATOR: Field = Field::new("originator id", 11, 20);
    pub const CREATION_DATE: Field = Field::new("creation date", 25, 30);
    pub const CURRENCY: Field = Field::new("currency", 56, 58);
}

/// Fields shared by the C / D detail records before their segments.
pub mod detail {
    use super::Field;
    pub const ORIGINATOR_AND_FILE: Field = Field::new("originator id and file creation number", 11, 24);
}

/// Segment fields, positions relative to the segment start, named as the standard names them.
/// C/D and E/F/I/J segments share the layout up to position 205; returns and reversals add the
/// original item's trace number at 206-227 (filler in C/D) and, in I/J, the invalid data element
/// id at 230-240 (moov-io/cadeft `credit_return.go`, `credit_reverse.go`, `debit_return.go`,
/// `debit_reverse.go`).
///
/// Who is who: 20-40 and 81-110 are the payee's for a credit (who receives the money) and the
/// payor's for a debit (whose account is debited); 66-80, 111-140 and 170-190 are the
/// originator's, the party the file belongs to.
pub mod segment {
    use super::Field;
    pub const AMOUNT: Field = Field::new("amount", 4, 13);
    pub const DATE: Field = Field::new("date", 14, 19);
    pub const INSTITUTION: Field = Field::new("payee/payor institution id", 20, 28);
    pub const ACCOUNT: Field = Field::new("payee/payor account no.", 29, 40);
    pub const TRACE: Field = Field::new("item trace number", 41, 62);
    pub const SHORT_NAME: Field = Field::new("originator's short name", 66, 80);
    pub const PAYEE_PAYOR_NAME: Field = Field::new("payee/payor name", 81, 110);
    pub const ORIGINATOR_LONG_NAME: Field = Field::new("originator's long name", 111, 140);
    pub const CROSS_REF: Field = Field::new("originator's cross-reference no.", 151, 169);
    pub const RETURN_INSTITUTION: Field = Field::new("institution id for returns", 170, 178);
    pub const RETURN_ACCOUNT: Field = Field::new("account no. for returns", 179, 190);
    pub const SUNDRY: Field = Field::new("sundry information", 191, 205);
    pub const ORIGINAL_TRACE: Field = Field::new("original item trace number", 206, 227);
    pub const INVALID_DATA_ELEMENT: Field = Field::new("invalid data element id", 230, 240);

    /// The segment's text fields a payment carries: none may hold a control character.
    pub const TEXT: [Field; 12] = [
        INSTITUTION,
        ACCOUNT,
        TRACE,
        SHORT_NAME,
        PAYEE_PAYOR_NAME,
        ORIGINATOR_LONG_NAME,
        CROSS_REF,
        RETURN_INSTITUTION,
        RETURN_ACCOUNT,
        SUNDRY,
        ORIGINAL_TRACE,
        INVALID_DATA_ELEMENT,
    ];
}

/// `Z` trailer fields. Returned debits (J) count with the debits and returned credits (I) with
/// the credits; credit reversals (E) and debit reversals (F) have totals of their own
/// (moov-io/cadeft `file_footer.go`, `NewFileFooter`).
pub mod trailer {
    use super::Field;
    pub const COUNT: Field = Field::new("record count", 2, 10);
    pub const DEBIT_VALUE: Field = Field::new("total value of debits", 25, 38);
    pub const DEBIT_COUNT: Field = Field::new("total number of debits", 39, 46);
    pub const CREDIT_VALUE: Field = Field::new("total value of credits", 47, 60);
    pub const CREDIT_COUNT: Field = Field::new("total number of credits", 61, 68);
    pub const E_VALUE: Field = Field::new("total value of credit reversals (E)", 69, 82);
    pub const E_COUNT: Field = Field::new("total number of credit reversals (E)", 83, 90);
    pub const F_VALUE: Field = Field::new("total value of debit reversals (F)", 91, 104);
    pub const F_COUNT: Field = Field::new("total number of debit reversals (F)", 105, 112);
}

/// Bytes some systems use to fill nothing: spaces, low-values, DOS end-of-file.
pub fn is_filler(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x00 | 0x1A)
}

/// The first control byte (C0 other than tab, or DEL) inside a field's text, between its first
/// and last non-filler byte: its 0-based position in `data` and the byte. Filler around the
/// text, NUL padding included, is not text; a NUL or ESC inside a name is, and is refused.
pub fn control_inside(data: &[u8]) -> Option<(usize, u8)> {
    let start = data.iter().position(|&b| !is_filler(b))?;
    let end = data.iter().rposition(|&b| !is_filler(b)).map_or(start, |e| e + 1);
    let at = data[start..end].iter().position(|&b| b < 0x20 && b != b'\t' || b == 0x7f)?;
    Some((start + at, data[start + at]))
}

/// True when a record or field holds nothing at all.
pub fn is_blank(data: &[u8]) -> bool {
    data.iter().all(|&b| is_filler(b))
}

/// True when a segment carries no payment: blanks, or zero-filled numeric fields and blanks.
pub fn is_empty_segment(seg: &[u8]) -> bool {
    seg.iter().all(|&b| b == b'0' || is_filler(b))
}

/// Why a numeric field was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum NumError {
    /// Nothing but filler.
    Blank,
    /// Something other than digits between the filler.
    NotDigits,
}

/// Parses an unsigned number tolerating leading and trailing spaces (filler), nothing else.
pub fn parse_num(data: &[u8]) -> Result<u64, NumError> {
    let digits = data.trim_ascii();
    if digits.is_empty() {
        return Err(NumError::Blank);
    }
    let mut n: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return Err(NumError::NotDigits);
        }
        n = n.checked_mul(10).and_then(|n| n.checked_add(u64::from(b - b'0'))).ok_or(NumError::NotDigits)?;
    }
    Ok(n)
}

/// Parses a `0YYDDD` Julian date (leading 0 = 2000s, day 001-365/366).
pub fn parse_julian(data: &[u8]) -> Option<NaiveDate> {
    if data.len() != 6 || data[0] != b'0' || !data.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let yy = i32::from(data[1] - b'0') * 10 + i32::from(data[2] - b'0');
    let ddd = u32::from(data[3] - b'0') * 100 + u32::from(data[4] - b'0') * 10 + u32::from(data[5] - b'0');
    NaiveDate::from_yo_opt(2000 + yy, ddd)
}

/// Text of a field, trimmed: UTF-8 when it is (ASCII always is), Windows-1252 otherwise,
/// because Canadian banks still send accented names in the old code page.
pub fn text(data: &[u8]) -> Cow<'_, str> {
    let data = trim_filler(data);
    match std::str::from_utf8(data) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => {
            let (s, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(data);
            s
        }
    }
}

/// True when a trace-number-like field holds no reference: blank, or zero-filled by writers
/// that pad every numeric field (a shared "000...0" would make every item one payment).
pub fn is_nil_reference(data: &[u8]) -> bool {
    data.iter().all(|&b| b == b'0' || is_filler(b))
}

/// Text of a field, or `None` when it is blank.
pub fn opt_text(data: &[u8]) -> Option<String> {
    let t = text(data);
    (!t.is_empty()).then(|| t.into_owned())
}

fn trim_filler(data: &[u8]) -> &[u8] {
    let start = data.iter().position(|&b| !is_filler(b)).unwrap_or(data.len());
    let end = data.iter().rposition(|&b| !is_filler(b)).map_or(start, |e| e + 1);
    &data[start..end.max(start)]
}

/// A byte shown in a message: printable ASCII as itself, anything else escaped.
pub fn show_byte(b: u8) -> String {
    if b.is_ascii_graphic() || b == b' ' {
        format!("'{}'", b as char)
    } else {
        format!("byte 0x{b:02X}")
    }
}

/// Cents as `722.20`, the way trailer figures are quoted to a bank.
pub fn cents(c: u64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_tolerate_filler_only_at_the_edges() {
        assert_eq!(parse_num(b"  0042"), Ok(42));
        assert_eq!(parse_num(b"0042  "), Ok(42));
        assert_eq!(parse_num(b"    "), Err(NumError::Blank));
        assert_eq!(parse_num(b"00 42"), Err(NumError::NotDigits));
        assert_eq!(parse_num(b"12A4"), Err(NumError::NotDigits));
        assert_eq!(parse_num(b"99999999999999999999999"), Err(NumError::NotDigits));
    }

    #[test]
    fn julian_dates() {
        assert_eq!(parse_julian(b"023138"), NaiveDate::from_ymd_opt(2023, 5, 18));
        assert_eq!(parse_julian(b"024366"), NaiveDate::from_ymd_opt(2024, 12, 31));
        assert_eq!(parse_julian(b"023366"), None, "2023 is not a leap year");
        assert_eq!(parse_julian(b"023000"), None);
        assert_eq!(parse_julian(b"123138"), None);
        assert_eq!(parse_julian(b"02313"), None);
    }

    #[test]
    fn text_decodes_windows_1252() {
        assert_eq!(text(b"C\xF4t\xE9 Marie-\xC8ve   "), "Côté Marie-Ève");
        assert_eq!(text("Côté".as_bytes()), "Côté");
        assert_eq!(opt_text(b"     "), None);
        assert_eq!(text(b"\xC9lise Fran\xE7ois Ad\xE8le Caf\xE9"), "Élise François Adèle Café");
        // The five bytes Windows-1252 leaves undefined decode to C1 controls, never U+FFFD.
        assert_eq!(text(b"A\x81\x8D\x8F\x90\x9DZ"), "A\u{81}\u{8D}\u{8F}\u{90}\u{9D}Z");
    }

    #[test]
    fn control_bytes_inside_text_but_not_in_padding() {
        assert_eq!(control_inside(b"\0\0\0\0"), None, "an all-NUL field is blank");
        assert_eq!(control_inside(b"JEAN\0\0\0\x1a  "), None, "NUL and SUB padding after the text");
        assert_eq!(control_inside(b"  JEAN\tTREMBLAY"), None, "a tab is text");
        assert_eq!(control_inside(b"JE\0AN   "), Some((2, 0)));
        assert_eq!(control_inside(b" JEAN\x1b[31mX"), Some((5, 0x1b)));
        assert_eq!(control_inside(b"A\x7fB"), Some((1, 0x7f)));
    }

    #[test]
    fn empty_segments() {
        assert!(is_empty_segment(&[b' '; 240]));
        let mut zeros = [b' '; 240];
        zeros[3..13].copy_from_slice(b"0000000000");
        assert!(is_empty_segment(&zeros));
        zeros[0..3].copy_from_slice(b"450");
        assert!(!is_empty_segment(&zeros));
    }
}
