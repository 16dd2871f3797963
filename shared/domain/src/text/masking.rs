//! Masking of card numbers: cardholder data never reaches a log, an error or a screen unmasked.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::text::luhn::luhn_valid;

/// Replaces every card-shaped number by a mask that keeps only its last four digits.
///
/// Card-shaped (issue 15, PCI DSS 3.4.1): a run of 13 to 19 digits with a card network's prefix
/// (Amex 34/37 in 15 digits, Visa, Mastercard, Discover, JCB, Diners, UnionPay), Luhn-valid or
/// not: a card number with one wrong digit still holds all but one of the card's digits. The
/// digits may be ASCII or another script's (full-width `３７`, Arabic-Indic...), and any short
/// run of separators may sit between them: spaces of any width (no-break, zero-width), tabs,
/// line ends, `-` `.` `/` `,` `_` and their Unicode forms. Inside a longer run, or a token that
/// touches letters (an IBAN, a reference code), only a Luhn-valid Amex number counts: other
/// networks' ranges cover most of the digit space and would mask bank references, not cards.
pub fn mask_card_numbers(text: &str) -> String {
    if !may_hold_card_number(text) {
        return text.to_string();
    }
    mask_unfiltered(text)
}

/// `mask_card_numbers` without the quick test that most texts hold no card-shaped number.
fn mask_unfiltered(text: &str) -> String {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < chars.len() {
        if digit_value(chars[i].1).is_none() {
            i += 1;
            continue;
        }
        // One run of digits: (byte start, byte end, value) of each, separators skipped.
        let mut digits: Vec<(usize, usize, u8)> = Vec::new();
        let mut j = i;
        while j < chars.len() {
            let (at, c) = chars[j];
            if let Some(d) = digit_value(c) {
                digits.push((at, at + c.len_utf8(), d));
                j += 1;
                continue;
            }
            let mut k = j;
            while k < chars.len() && k - j < MAX_SEPARATORS && is_separator(chars[k].1) {
                k += 1;
            }
            if k > j && k < chars.len() && digit_value(chars[k].1).is_some() {
                j = k;
            } else {
                break;
            }
        }
        let before = chars[..i].last().map(|&(_, c)| c);
        let after = chars.get(j).map(|&(_, c)| c);
        let glued = before.is_some_and(char::is_alphanumeric) || after.is_some_and(char::is_alphanumeric);
        let values: Vec<u8> = digits.iter().map(|d| d.2).collect();
        // Where each group of digits (written without separators between them) starts.
        let groups: Vec<usize> =
            (0..digits.len()).filter(|&k| k == 0 || digits[k].0 != digits[k - 1].1).collect();
        let run = Run { digits: &values, groups: &groups, glued };
        let mut from = 0;
        while let Some((a, b)) = run.find_pan(from) {
            out.push_str(&text[copied..digits[a].0]);
            for _ in 0..(b - a - 4) {
                out.push('*');
            }
            for &(_, _, d) in &digits[b - 4..b] {
                out.push(char::from(b'0' + d));
            }
            copied = digits[b - 1].1;
            from = b;
        }
        i = j.max(i + 1);
    }
    out.push_str(&text[copied..]);
    out
}

/// True when `text` holds a card-shaped number in clear (what `mask_card_numbers` would mask):
/// the test scans of stores, objects, logs and answers use it (issue 15).
pub fn holds_card_number(text: &str) -> bool {
    may_hold_card_number(text) && mask_card_numbers(text) != text
}

/// `mask_card_numbers` of a text already owned: the text itself when nothing needs masking
/// (no copy; the matcher's reasons, built around masked numbers, mostly need none).
pub fn mask_card_numbers_owned(text: String) -> String {
    if may_hold_card_number(&text) {
        mask_card_numbers(&text)
    } else {
        text
    }
}

/// How many separator characters may sit between two digits of one number (`3782 - 822463`).
const MAX_SEPARATORS: usize = 3;

/// The value of a decimal digit of any script NFKC would fold to ASCII or that banks' systems
/// print: ASCII, full-width, mathematical, Arabic-Indic and the Indic and South-East Asian
/// scripts (Unicode general category Nd blocks, each ten consecutive code points).
fn digit_value(c: char) -> Option<u8> {
    if c.is_ascii_digit() {
        return Some(c as u8 - b'0');
    }
    if c.is_ascii() {
        return None;
    }
    const ZEROS: [u32; 24] = [
        0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66,
        0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x17E0, 0x1810, 0xFF10, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6,
    ];
    let u = c as u32;
    ZEROS.iter().find(|&&z| (z..z + 10).contains(&u)).map(|&z| (u - z) as u8)
}

/// A character that may sit between the digit groups of a written card number.
fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t'
            | '\n'
            | '\r'
            | '-'
            | '.'
            | '/'
            | ','
            | '_'
            | '\u{00A0}'
            | '\u{2007}'
            | '\u{202F}'
            | '\u{3000}'
            | '\u{200B}'
            | '\u{200C}'
            | '\u{200D}'
            | '\u{2060}'
            | '\u{FEFF}'
            | '\u{2010}'
            ..='\u{2015}' | '\u{2212}' | '\u{FF0C}' | '\u{FF0D}' | '\u{FF0E}' | '\u{FF0F}' | '\u{FF3F}'
    ) || (c.is_whitespace() && c != '\u{2028}')
}

/// True when the text holds 13 digits or more at all: the shortest card number.
fn may_hold_card_number(text: &str) -> bool {
    let ascii = text.bytes().filter(u8::is_ascii_digit).count();
    if ascii >= 13 {
        // An ASCII text: only a run of 13 digits or more (digits joined by short runs of
        // separators, as `mask_card_numbers` reads them) can hold one. The matcher's reasons
        // hold many digits in short runs (a masked card, an RF reference, a weight).
        return !text.is_ascii() || longest_ascii_run(text.as_bytes()) >= 13;
    }
    !text.is_ascii() && text.chars().filter(|&c| digit_value(c).is_some()).count() >= 13
}

/// The most digits of one run of an ASCII text, runs read as `mask_card_numbers` reads them:
/// digits, and between two digits at most `MAX_SEPARATORS` separators.
fn longest_ascii_run(b: &[u8]) -> usize {
    let (mut best, mut i) = (0, 0);
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let mut run = 0;
        let mut j = i;
        while j < b.len() {
            if b[j].is_ascii_digit() {
                run += 1;
                j += 1;
                continue;
            }
            let mut k = j;
            while k < b.len() && k - j < MAX_SEPARATORS && is_separator(char::from(b[k])) {
                k += 1;
            }
            if k > j && k < b.len() && b[k].is_ascii_digit() {
                j = k;
            } else {
                break;
            }
        }
        best = best.max(run);
        i = j.max(i + 1);
    }
    best
}

/// Card lengths in the order we try them: the common ones first.
const PAN_LENGTHS: [usize; 7] = [16, 15, 19, 18, 17, 14, 13];

/// How a digit window stands in its run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Window {
    /// The whole run, touching no letter.
    WholeRun,
    /// Whole written groups of a longer run (more digits after a separator).
    WholeGroups,
    /// Anywhere else inside a run.
    Inside,
}

/// True when a digit window can be a card number. The whole run: a network's prefix for that
/// length, Luhn-valid or not. Whole groups of a longer run: an Amex number (our cards), Luhn-valid
/// or not; other networks' shapes there are mostly dash-joined ids and dates. Anywhere inside a
/// run: only a Luhn-valid Amex number.
fn card_shaped(window: &[u8], how: Window) -> bool {
    match how {
        Window::WholeRun => network_prefix(window),
        Window::WholeGroups => amex(window),
        Window::Inside => amex(window) && luhn_valid(window),
    }
}

/// Amex: 15 digits, 34 or 37 (our own cards).
fn amex(w: &[u8]) -> bool {
    w.len() == 15 && w[0] == 3 && matches!(w[1], 4 | 7)
}

/// The card networks' prefixes and lengths (ISO/IEC 7812 issuer ranges as the networks
/// publish them): Amex, Visa, Mastercard, Discover, JCB, Diners Club, UnionPay.
fn network_prefix(w: &[u8]) -> bool {
    let n = w.len();
    let lead = |k: usize| w.iter().take(k).fold(0u32, |acc, &d| acc * 10 + u32::from(d));
    amex(w)
        || (w[0] == 4 && matches!(n, 13 | 16 | 19))
        || (n == 16 && ((51..=55).contains(&lead(2)) || (2221..=2720).contains(&lead(4))))
        || ((16..=19).contains(&n)
            && (lead(4) == 6011
                || lead(2) == 65
                || (644..=649).contains(&lead(3))
                || lead(2) == 62
                || (3528..=3589).contains(&lead(4))))
        || (n == 14 && ((300..=305).contains(&lead(3)) || matches!(lead(2), 36 | 38 | 39)))
}

/// One run of digits joined by short runs of separators, as `mask_card_numbers` reads it.
struct Run<'a> {
    digits: &'a [u8],
    /// The index in `digits` where each written group starts (the first is 0).
    groups: &'a [usize],
    /// The run touches letters (an IBAN, a reference code): a longer token, not a card number
    /// on its own.
    glued: bool,
}

/// The shortest group a card number is written in (4-6-5, 4-4-4-4, 4-4-4-3): shorter groups are
/// lists ("items 4, 5, 6") more often than cards.
const MIN_GROUP: usize = 3;

impl Run<'_> {
    /// True when `digits[start..end]` is whole groups as written, each at least `MIN_GROUP`
    /// long, and touches no letter: written as a number of its own, even though more digits
    /// follow after a separator (`3782 822463 10006,1.00` in a CSV line).
    fn whole_groups(&self, start: usize, end: usize) -> bool {
        let n = self.digits.len();
        let starts_group = self.groups.contains(&start);
        let ends_group = end == n || self.groups.contains(&end);
        if !starts_group || !ends_group || (self.glued && (start == 0 || end == n)) {
            return false;
        }
        let mut bounds: Vec<usize> = self.groups.iter().copied().filter(|&g| g > start && g < end).collect();
        bounds.insert(0, start);
        bounds.push(end);
        bounds.windows(2).all(|w| w[1] - w[0] >= MIN_GROUP)
    }

    /// The leftmost card-shaped window at or after `from` (`card_shaped` says which count).
    fn find_pan(&self, from: usize) -> Option<(usize, usize)> {
        let digits = self.digits;
        for start in from..digits.len() {
            for len in PAN_LENGTHS {
                if start + len > digits.len() {
                    continue;
                }
                let how = if start == 0 && len == digits.len() && !self.glued {
                    Window::WholeRun
                } else if self.whole_groups(start, start + len) {
                    Window::WholeGroups
                } else {
                    Window::Inside
                };
                if card_shaped(&digits[start..start + len], how) {
                    return Some((start, start + len));
                }
            }
        }
        None
    }
}

/// Serializes a string with card numbers masked (for `#[serde(serialize_with)]`), for fields
/// that stay plain `String`s inside the domain, such as payer names and bank references.
pub fn serialize_masked<S: Serializer>(text: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&mask_card_numbers(text))
}

/// `serialize_masked` for optional strings.
pub fn serialize_masked_opt<S: Serializer>(text: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    match text {
        Some(t) => s.serialize_some(&mask_card_numbers(t)),
        None => s.serialize_none(),
    }
}

/// Free text from a file (a reference, a remittance line). It may hold a card number, so every
/// way it leaves the process (Display, Debug, Serialize) masks; `expose` is for the matcher.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct RefText(String);

impl RefText {
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The raw text, for matching only. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for RefText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&mask_card_numbers(&self.0))
    }
}

impl fmt::Debug for RefText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", mask_card_numbers(&self.0))
    }
}

impl Serialize for RefText {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&mask_card_numbers(&self.0))
    }
}

impl From<&str> for RefText {
    fn from(s: &str) -> Self {
        Self(s.to_string())
    }
}

impl From<String> for RefText {
    fn from(s: String) -> Self {
        Self(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The quick test never lets a card-shaped number through: whatever it passes over,
        /// the full scan leaves unchanged too.
        #[test]
        fn the_quick_test_misses_nothing_the_scan_masks(t in "[0-9 .\\-/_,a\t\u{a0}*]{0,60}") {
            if !may_hold_card_number(&t) {
                proptest::prop_assert_eq!(mask_unfiltered(&t), t);
            }
        }
    }

    #[test]
    fn the_quick_test_reads_runs_as_the_scan_does() {
        assert!(may_hold_card_number("x 1111 - 222222 - 33333 y"));
        assert!(!may_hold_card_number("RF reference RF18AMX0000001234 on ***********0005 [+2.0]"));
        assert!(!may_hold_card_number("1234567 ab 1234567"));
        assert!(may_hold_card_number("1234567 , 1234567"));
        assert!(!may_hold_card_number("1234567 ,  1234567"), "four separators end a run");
    }

    #[test]
    fn masks_formatted_amex_numbers() {
        assert_eq!(mask_card_numbers("card 3782 822463 10005 thanks"), "card ***********0005 thanks");
        assert_eq!(mask_card_numbers("378282246310005"), "***********0005");
        assert_eq!(mask_card_numbers("3782-822463-10005"), "***********0005");
    }

    #[test]
    fn masks_two_cards_in_one_run() {
        let m = mask_card_numbers("378282246310005 371449635398431");
        assert!(!m.contains("37144963") && !m.contains("37828224"), "{m}");
    }

    #[test]
    fn leaves_bank_references_alone() {
        // CPA-005 item trace numbers and Canadian accounts seen in real files.
        assert_eq!(mask_card_numbers("0815300010000000000002"), "0815300010000000000002");
        assert_eq!(mask_card_numbers("6121006100001000000006"), "6121006100001000000006");
        assert_eq!(mask_card_numbers("0003012340000000000005"), "0003012340000000000005");
        assert_eq!(mask_card_numbers("6121006100001000000004"), "6121006100001000000004");
        assert_eq!(mask_card_numbers("ref 4111111111111111 x"), "ref ************1111 x", "whole run");
    }

    #[test]
    fn leaves_ibans_and_qr_references_alone() {
        assert_eq!(mask_card_numbers("CH2801234000123456789"), "CH2801234000123456789");
        assert_eq!(mask_card_numbers("000000000000000000000000003"), "000000000000000000000000003");
        assert_eq!(mask_card_numbers("card378282246310005"), "card***********0005", "Amex shape still found");
    }

    #[test]
    fn finds_a_card_inside_a_longer_run() {
        assert_eq!(mask_card_numbers("00378282246310005"), "00***********0005");
    }

    #[test]
    fn leaves_other_numbers() {
        assert_eq!(mask_card_numbers("invoice 12345 of 2026"), "invoice 12345 of 2026");
    }

    /// Issue 15: a card number with one wrong digit is not Luhn-valid, yet holds 14 of the card's
    /// 15 digits; and numbers written with other separators or in other digits were shown in
    /// clear (`card 3726.018159.08301` in a note).
    #[test]
    fn masks_every_card_shaped_number_luhn_valid_or_not_in_any_grouping() {
        assert_eq!(mask_card_numbers("378282246310006"), "***********0006", "one digit off");
        for written in [
            "card 3726.018159.08301",
            "card 3726/018159/08301",
            "card 3726,018159,08301",
            "card 3726_018159_08301",
            "card 3726  018159  08301",
            "card 3726\t018159\n08301",
            "card 3726 - 018159 - 08301",
            "card 3726\u{00A0}018159\u{00A0}08301",
            "card 3726\u{200B}018159\u{200B}08301",
            "card 3726\u{2013}018159\u{2013}08301",
            "card \u{FF13}\u{FF17}\u{FF12}\u{FF16}\u{FF10}\u{FF11}\u{FF18}\u{FF11}\u{FF15}\u{FF19}\u{FF10}\u{FF18}\u{FF13}\u{FF10}\u{FF11}",
            "card \u{0663}\u{0667}\u{0662}\u{0666}\u{0660}\u{0661}\u{0668}\u{0661}\u{0665}\u{0669}\u{0660}\u{0668}\u{0663}\u{0660}\u{0661}",
            // Written whole, then more digits after a separator: a CSV line, an amount.
            "3726 018159 08301,1.00",
            "3726-018159-08301, 250.00",
        ] {
            let m = mask_card_numbers(written);
            assert!(m.contains("***********8301") && !m.contains("018159"), "{written:?} -> {m:?}");
        }
        // Other networks, whole runs of their lengths, Luhn-valid or not.
        assert_eq!(mask_card_numbers("visa 4111 1111 1111 1112"), "visa ************1112");
        assert_eq!(mask_card_numbers("mc 5500-0000-0000-0005"), "mc ************0005");
        assert_eq!(mask_card_numbers("diners 3056 930902 5904"), "diners **********5904");
    }

    /// What is not card-shaped stays readable: real-looking bank account numbers, UTRs, IBANs,
    /// trace numbers, amounts and dates.
    #[test]
    fn bank_numbers_that_are_not_card_shaped_stay_readable() {
        for text in [
            "A/C 50100234567890 HDFC0001234",
            "UTR HDFCN52023112012345678",
            "RRN 432112345678",
            "IBAN DE89 3704 0044 0532 0130 00",
            "DE89370400440532013000",
            "trace 000100000012345",
            "account 1234567 transit 00011",
            "paid 1,234,567.89 on 2026-11-20",
            "NEFT N326231234567890",
            "IBAN DE89 3704 0044 0532 0130 00, 250.00",
            // Dash-joined ids: a process id and nanoseconds are not a Visa number.
            "landing-4432-123454890-6",
        ] {
            assert_eq!(mask_card_numbers(text), text);
        }
    }

    #[test]
    fn debug_and_serialize_mask() {
        let t = RefText::new("AMEX 371449635398431");
        assert!(!format!("{t:?}").contains("371449635398431"));
        assert!(!serde_json::to_string(&t).unwrap().contains("371449635398431"));
        assert_eq!(t.expose(), "AMEX 371449635398431");
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_never_leaks(s in ".{0,80}") {
            let masked = mask_card_numbers(&s);
            let leaked = format!("{s} 371449635398431");
            proptest::prop_assert!(!mask_card_numbers(&leaked).contains("371449635398431"));
            let _ = masked;
        }
    }
}
