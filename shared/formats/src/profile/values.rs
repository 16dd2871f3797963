//! Typed field values: amounts (implied decimals or explicit, western or lakh grouping, decimal
//! point or comma), dates by pattern (including Julian `0YYDDD`), integers and debit/credit
//! flags. Every parser works on the field's text without allocating; errors quote the value.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::schema::Grouping;
use crate::shown;

/// Input quoted in a message: card numbers masked first (so a cut cannot leave a card's digits
/// unmasked), then made safe to print and cut short by `shown`.
pub(crate) fn quote(text: &str) -> String {
    format!("\"{}\"", shown(&remit_domain::mask_card_numbers(text)))
}

/// How an amount field is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmountRule {
    /// Digits only, the last N being decimals.
    pub implied: Option<u32>,
    /// Decimal separator (`.` or `,`); the other one groups digits.
    pub decimal: u8,
    pub grouping: Grouping,
}

/// Most digits an amount may have (well inside `Decimal`'s 96 bits).
const MAX_DIGITS: usize = 24;

impl AmountRule {
    /// Parses a non-negative amount; zero is allowed here (control totals), callers refuse it
    /// for payments.
    pub fn parse(&self, text: &str) -> Result<Decimal, String> {
        let t = text.trim_matches(' ');
        if t.is_empty() {
            return Err("is empty, expected an amount".into());
        }
        if let Some(scale) = self.implied {
            if !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "{} is not numeric (expected digits only, {scale} implied decimals)",
                    quote(text)
                ));
            }
            if t.len() > MAX_DIGITS {
                return Err(format!("{} has too many digits", quote(text)));
            }
            let mut v: i128 = 0;
            for b in t.bytes() {
                v = v * 10 + i128::from(b - b'0');
            }
            return Decimal::try_from_i128_with_scale(v, scale)
                .map_err(|_| format!("{} is too large", quote(text)));
        }
        if t.starts_with('-') || t.ends_with('-') || (t.starts_with('(') && t.ends_with(')')) {
            return Err(format!(
                "{} is negative; amounts are positive, direction says credit or debit",
                quote(text)
            ));
        }
        let t = t.strip_prefix('+').unwrap_or(t);
        let group = if self.decimal == b'.' { b',' } else { b'.' };
        let not_numeric = || {
            let style = match (self.decimal, self.grouping) {
                (b',', _) => "e.g. 1.234,56 or 1234,56",
                (_, Grouping::Lakh) => "e.g. 1,23,456.78 or 123456.78",
                (_, Grouping::Western) => "e.g. 123,456.78 or 123456.78",
                (_, Grouping::None) => "e.g. 123456.78",
                (_, Grouping::Any) => "e.g. 1,23,456.78, 123,456.78 or 123456.78",
            };
            format!("{} is not numeric ({style})", quote(text))
        };
        let (int, frac) = match t.as_bytes().iter().position(|&b| b == self.decimal) {
            Some(i) => (&t[..i], Some(&t[i + 1..])),
            None => (t, None),
        };
        if int.is_empty() || !grouping_ok(int.as_bytes(), group, self.grouping) {
            return Err(not_numeric());
        }
        let frac = frac.unwrap_or("");
        if (t.len() > int.len() && frac.is_empty()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(not_numeric());
        }
        // Count before multiplying: 39 digits overflow an i128.
        let digits = int.bytes().chain(frac.bytes()).filter(u8::is_ascii_digit).count();
        if digits > MAX_DIGITS {
            return Err(format!("{} has too many digits", quote(text)));
        }
        let mut v: i128 = 0;
        for b in int.bytes().chain(frac.bytes()).filter(u8::is_ascii_digit) {
            v = v * 10 + i128::from(b - b'0');
        }
        Decimal::try_from_i128_with_scale(v, frac.len() as u32)
            .map_err(|_| format!("{} is too large", quote(text)))
    }
}

/// True when `int` is digits with `sep` groups in the allowed style.
fn grouping_ok(int: &[u8], sep: u8, style: Grouping) -> bool {
    let mut groups = 0usize;
    let mut first = 0usize;
    let mut last = 0usize;
    let mut middle_two = true;
    let mut middle_three = true;
    for (i, g) in int.split(|&b| b == sep).enumerate() {
        if g.is_empty() || !g.iter().all(u8::is_ascii_digit) {
            return false;
        }
        if i == 0 {
            first = g.len();
        } else if groups >= 1 {
            // The previous `last` was a middle group once another follows it.
            if i >= 2 {
                middle_two &= last == 2;
                middle_three &= last == 3;
            }
            last = g.len();
        }
        groups += 1;
    }
    if groups == 1 {
        return true;
    }
    if last != 3 {
        return false;
    }
    let western = first <= 3 && middle_three;
    let lakh = first <= 2 && middle_two;
    match style {
        Grouping::None => false,
        Grouping::Western => western,
        Grouping::Lakh => lakh,
        Grouping::Any => western || lakh,
    }
}

/// One piece of a date pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Year4,
    Year2,
    Month,
    MonthName,
    Day,
    DayOfYear,
    Lit(u8),
}

/// A compiled date pattern such as `DDMMYY`, `0YYDDD` (Julian) or `DD-Mon-YYYY`. Two-digit
/// years are 20YY.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatePattern {
    text: String,
    toks: Vec<Tok>,
}

impl DatePattern {
    /// Compiles a pattern: `YYYY`, `YY`, `MM`, `Mon` (or `MMM`), `DD`, `DDD` (day of year);
    /// any other ASCII character must appear as is.
    pub fn compile(pattern: &str) -> Result<Self, String> {
        let p = pattern.as_bytes();
        let mut toks = Vec::new();
        let mut i = 0;
        while i < p.len() {
            let rest = &p[i..];
            let (tok, n) = if rest.starts_with(b"YYYY") {
                (Tok::Year4, 4)
            } else if rest.starts_with(b"YY") {
                (Tok::Year2, 2)
            } else if rest.starts_with(b"Mon") || rest.starts_with(b"MMM") {
                (Tok::MonthName, 3)
            } else if rest.starts_with(b"MM") {
                (Tok::Month, 2)
            } else if rest.starts_with(b"DDD") {
                (Tok::DayOfYear, 3)
            } else if rest.starts_with(b"DD") {
                (Tok::Day, 2)
            } else if rest[0].is_ascii() && !rest[0].is_ascii_alphabetic() {
                (Tok::Lit(rest[0]), 1)
            } else {
                return Err(format!(
                    "date pattern {pattern:?}: unexpected {:?} (use YYYY, YY, MM, Mon, DD, DDD and separators)",
                    String::from_utf8_lossy(&rest[..1])
                ));
            };
            toks.push(tok);
            i += n;
        }
        let has = |t: Tok| toks.contains(&t);
        let year = has(Tok::Year4) || has(Tok::Year2);
        let month = has(Tok::Month) || has(Tok::MonthName);
        let ok = year && ((month && has(Tok::Day)) || (has(Tok::DayOfYear) && !month && !has(Tok::Day)));
        if !ok {
            return Err(format!("date pattern {pattern:?} needs a year and either month and day, or DDD"));
        }
        Ok(Self { text: pattern.to_string(), toks })
    }

    /// The pattern as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Parses a date; a time after a space or `T` (`hh:mm[:ss[.fff]]`) is allowed and ignored.
    pub fn parse(&self, text: &str) -> Option<Result<NaiveDate, String>> {
        let b = text.as_bytes();
        let mut i = 0;
        let (mut y, mut m, mut d, mut doy) = (None, None, None, None);
        for tok in &self.toks {
            let digits = |i: usize, n: usize| -> Option<u32> {
                let s = b.get(i..i + n)?;
                s.iter()
                    .all(u8::is_ascii_digit)
                    .then(|| s.iter().fold(0, |a, &c| a * 10 + u32::from(c - b'0')))
            };
            match *tok {
                Tok::Year4 => (y, i) = (Some(digits(i, 4)? as i32), i + 4),
                Tok::Year2 => (y, i) = (Some(2000 + digits(i, 2)? as i32), i + 2),
                Tok::Month => (m, i) = (Some(digits(i, 2)?), i + 2),
                Tok::Day => (d, i) = (Some(digits(i, 2)?), i + 2),
                Tok::DayOfYear => (doy, i) = (Some(digits(i, 3)?), i + 3),
                Tok::MonthName => {
                    let s = b.get(i..i + 3)?;
                    const NAMES: [&[u8; 3]; 12] = [
                        b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct",
                        b"nov", b"dec",
                    ];
                    m = Some(NAMES.iter().position(|n| n.eq_ignore_ascii_case(s))? as u32 + 1);
                    i += 3;
                }
                Tok::Lit(c) => {
                    if b.get(i) != Some(&c) {
                        return None;
                    }
                    i += 1;
                }
            }
        }
        if i < b.len() && !is_time(&b[i..]) {
            return None;
        }
        let y = y?;
        let date = match doy {
            Some(n) => NaiveDate::from_yo_opt(y, n),
            None => NaiveDate::from_ymd_opt(y, m?, d?),
        };
        Some(
            date.ok_or_else(|| {
                format!("{} is not a valid date ({} gives no such day)", quote(text), self.text)
            }),
        )
    }
}

/// ` hh:mm`, ` hh:mm:ss`, `Thh:mm:ss.fff` and the like.
fn is_time(rest: &[u8]) -> bool {
    let Some((&sep, t)) = rest.split_first() else { return true };
    if sep != b' ' && sep != b'T' {
        return false;
    }
    let t = t.trim_ascii();
    let shape = |s: &[u8]| s.len() == 2 && s.iter().all(u8::is_ascii_digit);
    let (hms, frac) = match t.iter().position(|&c| c == b'.') {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let parts: [Option<&[u8]>; 3] = {
        let mut it = hms.split(|&c| c == b':');
        [it.next(), it.next(), it.next()]
    };
    let count = hms.split(|&c| c == b':').count();
    (count == 2 || count == 3)
        && parts.iter().flatten().all(|p| shape(p))
        && frac.is_none_or(|f| !f.is_empty() && f.iter().all(u8::is_ascii_digit))
}

/// Parses a date with the first pattern that fits.
pub fn parse_date(patterns: &[DatePattern], text: &str) -> Result<NaiveDate, String> {
    let t = text.trim();
    for p in patterns {
        if let Some(r) = p.parse(t) {
            return r;
        }
    }
    let names: Vec<&str> = patterns.iter().map(DatePattern::text).collect();
    Err(format!("{} is not a date in the form {}", quote(text), names.join(" or ")))
}

/// Parses a count: digits only.
pub fn parse_integer(text: &str) -> Result<u64, String> {
    let t = text.trim_matches(' ');
    if t.is_empty() || t.len() > 18 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{} is not a whole number", quote(text)));
    }
    Ok(t.bytes().fold(0, |a, c| a * 10 + u64::from(c - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn explicit(decimal: u8, grouping: Grouping) -> AmountRule {
        AmountRule { implied: None, decimal, grouping }
    }

    #[test]
    fn fifty_digits_are_too_many_not_an_overflow() {
        let p = explicit(b'.', Grouping::Any);
        let e = p.parse(&"1".repeat(50)).unwrap_err();
        assert!(e.contains("too many digits"), "{e}");
    }

    #[test]
    fn implied_decimals() {
        let r = AmountRule { implied: Some(2), decimal: b'.', grouping: Grouping::None };
        assert_eq!(r.parse("000001234567").unwrap(), dec!(12345.67));
        assert_eq!(r.parse("  0000000100").unwrap(), dec!(1.00));
        assert!(r.parse("00001234A.00").unwrap_err().contains("not numeric"));
        assert!(r.parse("    ").unwrap_err().contains("empty"));
    }

    #[test]
    fn groupings() {
        let any = explicit(b'.', Grouping::Any);
        assert_eq!(any.parse("1,23,456.78").unwrap(), dec!(123456.78));
        assert_eq!(any.parse("12,34,56,789.00").unwrap(), dec!(123456789));
        assert_eq!(any.parse("123,456.78").unwrap(), dec!(123456.78));
        assert_eq!(any.parse("1,234,567").unwrap(), dec!(1234567));
        assert_eq!(any.parse("5000").unwrap(), dec!(5000));
        let lakh = explicit(b'.', Grouping::Lakh);
        assert!(lakh.parse("123,456.78").is_err());
        assert_eq!(lakh.parse("1,00,00,000.00").unwrap(), dec!(10000000));
        let western = explicit(b'.', Grouping::Western);
        assert!(western.parse("1,23,456.78").is_err());
        assert!(explicit(b'.', Grouping::None).parse("1,000").is_err());
        let comma = explicit(b',', Grouping::Any);
        assert_eq!(comma.parse("1.234,56").unwrap(), dec!(1234.56));
        assert!(comma.parse("300,").unwrap_err().contains("not numeric"));
        for bad in ["", "abc", "1,2345.00", "12,3,456", "-5.00", "1.", "1e5", "1,23,45", ".5"] {
            assert!(any.parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn date_patterns() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 16).unwrap();
        for (pat, text) in [
            ("DDMMYY", "160326"),
            ("0YYDDD", "026075"),
            ("YYYYMMDD", "20260316"),
            ("DD-MM-YYYY", "16-03-2026"),
            ("DD/MM/YYYY", "16/03/2026 14:05:09"),
            ("YYYY-MM-DD", "2026-03-16T09:30:00.123"),
            ("DD-Mon-YYYY", "16-MAR-2026"),
        ] {
            let p = DatePattern::compile(pat).unwrap();
            assert_eq!(parse_date(&[p], text), Ok(d), "{pat} {text}");
        }
        let p = DatePattern::compile("DDMMYY").unwrap();
        assert!(parse_date(std::slice::from_ref(&p), "310226").unwrap_err().contains("no such day"));
        assert!(parse_date(&[p], "16032").unwrap_err().contains("not a date in the form DDMMYY"));
        assert!(DatePattern::compile("DD-MM").is_err());
        assert!(DatePattern::compile("QQ").is_err());
    }
}
