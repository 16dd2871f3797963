//! Masking of card numbers: cardholder data never reaches a log, an error or a screen unmasked.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::text::luhn::luhn_valid;

/// Replaces every card-number-like digit run (13-19 digits, spaces or dashes between them,
/// Luhn-valid) by a mask that keeps only the last four digits.
pub fn mask_card_numbers(text: &str) -> String {
    if !may_hold_card_number(text) {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        // One run of digits, allowing single spaces or dashes between them.
        let mut digits: Vec<(usize, u8)> = Vec::new();
        let mut j = i;
        while j < bytes.len() {
            let b = bytes[j];
            if b.is_ascii_digit() {
                digits.push((j, b - b'0'));
                j += 1;
            } else if (b == b' ' || b == b'-') && j + 1 < bytes.len() && bytes[j + 1].is_ascii_digit() {
                j += 1;
            } else {
                break;
            }
        }
        let before = text[..i].chars().next_back();
        let after = text[j..].chars().next();
        let glued = before.is_some_and(char::is_alphanumeric) || after.is_some_and(char::is_alphanumeric);
        let mut from = 0;
        while let Some((a, b)) = find_pan(&digits, from, glued) {
            out.push_str(&text[copied..digits[a].0]);
            for _ in 0..(b - a - 4) {
                out.push('*');
            }
            for &(_, d) in &digits[b - 4..b] {
                out.push(char::from(b'0' + d));
            }
            copied = digits[b - 1].0 + 1;
            from = b;
        }
        i = j.max(i + 1);
    }
    out.push_str(&text[copied..]);
    out
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

/// True when some digit run (single spaces or dashes allowed between digits, as
/// `mask_card_numbers` reads them) has 13 digits or more: the shortest card number.
fn may_hold_card_number(text: &str) -> bool {
    let b = text.as_bytes();
    if b.iter().filter(|c| c.is_ascii_digit()).count() < 13 {
        return false;
    }
    let mut run = 0;
    for (i, &c) in b.iter().enumerate() {
        if c.is_ascii_digit() {
            run += 1;
            if run >= 13 {
                return true;
            }
        } else if !((c == b' ' || c == b'-') && run > 0 && b.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            run = 0;
        }
    }
    false
}

/// Card lengths in the order we try them: the common ones first.
const PAN_LENGTHS: [usize; 7] = [16, 15, 19, 18, 17, 14, 13];

/// True when a digit window can be a card number: a network's leading digit and Luhn-valid;
/// inside a longer run (a trace number, an account) only the Amex shape.
fn card_shaped(window: &[u8], whole_run: bool) -> bool {
    let first = window[0];
    if !(2..=6).contains(&first) {
        return false;
    }
    if !whole_run && !network_shape(window) {
        return false;
    }
    luhn_valid(window)
}

/// Inside a longer digit run only our own cards' shape counts: Amex, 15 digits, 34 or 37.
/// Other networks' 16-digit ranges cover most of the digit space (Mastercard 2221-2720 alone
/// matches many bank trace numbers), so looking for them there masks references, not cards.
fn network_shape(w: &[u8]) -> bool {
    w.len() == 15 && w[0] == 3 && matches!(w[1], 4 | 7)
}

/// Finds the leftmost card-shaped window of a digit run at or after `from`.
/// `glued` says the run touches letters (an IBAN, a reference code): then it is a longer token,
/// not a card number on its own.
fn find_pan(digits: &[(usize, u8)], from: usize, glued: bool) -> Option<(usize, usize)> {
    let mut window = Vec::with_capacity(19);
    for start in from..digits.len() {
        for len in PAN_LENGTHS {
            if start + len > digits.len() {
                continue;
            }
            window.clear();
            window.extend(digits[start..start + len].iter().map(|d| d.1));
            let whole_run = start == 0 && len == digits.len() && !glued;
            if card_shaped(&window, whole_run) {
                return Some((start, start + len));
            }
        }
    }
    None
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
        assert_eq!(mask_card_numbers("378282246310006"), "378282246310006", "not Luhn-valid");
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
