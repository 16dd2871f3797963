//! Validated identifiers: each type parses once, so code holding one never re-checks it.

use std::fmt;
use std::str::FromStr;

use iban::IbanLike;
use serde::{Serialize, Serializer};

use crate::text::luhn::luhn_valid;

/// Why an identifier was refused. The value is quoted `shown` (escaped, cut at 80 characters):
/// it comes from a file or a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    #[error("account number must be 15 digits starting 34 or 37 (got {len} digits)")]
    AccountShape { len: usize },
    #[error("account number fails the Luhn check")]
    AccountLuhn,
    #[error("IBAN {value:?} is invalid: {reason}")]
    Iban { value: String, reason: String },
    #[error("creditor reference {0:?} is not a valid ISO 11649 RF reference")]
    CreditorReference(String),
    #[error("IFSC {0:?} must be 4 letters, 0, then 6 letters or digits")]
    Ifsc(String),
    #[error("UTR {0:?} must be 1 to 35 letters or digits")]
    Utr(String),
}

/// An American Express card account number: 15 digits, starting 34 or 37, Luhn-valid.
/// Display and Debug mask it; `expose` gives the digits for store keys only.
/// Held inline (15 ASCII digits): no allocation, cheap to copy around the matcher.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountNumber([u8; 15]);

impl AccountNumber {
    /// The digits, for store keys and lookups. Never log them.
    pub fn expose(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ASCII digits")
    }

    /// From a store's own numeric key, already validated when it was stored (ASCII digits).
    pub(crate) fn from_digits_unchecked(digits: [u8; 15]) -> Self {
        debug_assert!(std::str::from_utf8(&digits).is_ok_and(|d| d.parse::<AccountNumber>().is_ok()));
        Self(digits)
    }

    /// From digit values 0-9 (not ASCII), already checked.
    pub(crate) fn from_values_unchecked(values: &[u8; 15]) -> Self {
        Self::from_digits_unchecked(values.map(|v| b'0' + v))
    }

    /// Masked form safe for logs and screens: last four digits only.
    pub fn masked(&self) -> String {
        let mut s = String::with_capacity(15);
        self.push_masked(&mut s);
        s
    }

    /// Appends the masked form to `out` (no allocation of its own).
    pub fn push_masked(&self, out: &mut String) {
        out.push_str("***********");
        out.extend(self.0[11..].iter().map(|&b| char::from(b)));
    }

    /// Every valid account number written anywhere in a text: with spaces, dashes, the 4-6-5
    /// grouping, or words around it. Digit runs longer than 15 are not split.
    pub fn find_all(text: &str) -> Vec<AccountNumber> {
        let mut found = Vec::new();
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if !bytes[i].is_ascii_digit() {
                i += 1;
                continue;
            }
            let mut digits = String::new();
            let mut j = i;
            while j < bytes.len() {
                let b = bytes[j];
                if b.is_ascii_digit() {
                    digits.push(char::from(b));
                    j += 1;
                } else if (b == b' ' || b == b'-' || b == b'.')
                    && j + 1 < bytes.len()
                    && bytes[j + 1].is_ascii_digit()
                {
                    j += 1;
                } else {
                    break;
                }
            }
            if let Ok(n) = digits.parse::<AccountNumber>() {
                if !found.contains(&n) {
                    found.push(n);
                }
            }
            i = j.max(i + 1);
        }
        found
    }
}

impl FromStr for AccountNumber {
    type Err = IdentifierError;

    /// Accepts the digits with spaces or dashes between groups.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits: String = s.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if digits.len() != 15
            || !digits.bytes().all(|b| b.is_ascii_digit())
            || !(digits.starts_with("34") || digits.starts_with("37"))
        {
            return Err(IdentifierError::AccountShape { len: digits.chars().count() });
        }
        let mut ascii = [0u8; 15];
        ascii.copy_from_slice(digits.as_bytes());
        if !luhn_valid(&ascii.map(|b| b - b'0')) {
            return Err(IdentifierError::AccountLuhn);
        }
        Ok(Self(ascii))
    }
}

impl fmt::Display for AccountNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for AccountNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountNumber({})", self.masked())
    }
}

impl Serialize for AccountNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.masked())
    }
}

/// An International Bank Account Number, mod-97 and country-format checked by `iban_validate`,
/// held in its fixed-size form (no allocation) and shown electronic (no spaces).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Iban(iban::Iban);

impl Iban {
    pub fn as_str(&self) -> &str {
        self.0.electronic_str()
    }
}

impl FromStr for Iban {
    type Err = IdentifierError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parsed: iban::Iban = s.trim().parse().map_err(|e: iban::ParseIbanError| {
            IdentifierError::Iban { value: crate::text::shown::shown(s), reason: e.to_string() }
        })?;
        Ok(Self(parsed))
    }
}

impl fmt::Display for Iban {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Iban {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Iban({})", self.as_str())
    }
}

impl Serialize for Iban {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Computes `value mod 97` over the ISO 7064 letter-to-number expansion (A=10 .. Z=35).
fn mod97(chars: impl Iterator<Item = char>) -> Option<u32> {
    let mut rem: u32 = 0;
    for c in chars {
        let v = c.to_digit(36)?;
        rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
    }
    Some(rem)
}

/// An ISO 11649 structured creditor reference: `RF`, two check digits, up to 21 alphanumerics.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize)]
pub struct CreditorReference(String);

impl CreditorReference {
    /// From a store's own copy, already validated when it was stored.
    pub(crate) fn from_stored_unchecked(value: &str) -> Self {
        Self(value.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for CreditorReference {
    type Err = IdentifierError;

    /// Accepts print format (groups of four with spaces) and any letter case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || IdentifierError::CreditorReference(crate::text::shown::shown(s));
        let compact: String =
            s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
        if compact.len() < 5 || compact.len() > 25 || !compact.starts_with("RF") {
            return Err(bad());
        }
        if !compact[2..4].bytes().all(|b| b.is_ascii_digit())
            || !compact[4..].bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(bad());
        }
        let rearranged = compact[4..].chars().chain(compact[..4].chars());
        match mod97(rearranged) {
            Some(1) => Ok(Self(compact)),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for CreditorReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An Indian Financial System Code: `^[A-Z]{4}0[A-Z0-9]{6}$`.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize)]
pub struct Ifsc(String);

impl Ifsc {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Ifsc {
    type Err = IdentifierError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_uppercase();
        let b = t.as_bytes();
        let ok = b.len() == 11
            && b[..4].iter().all(u8::is_ascii_uppercase)
            && b[4] == b'0'
            && b[5..].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if ok {
            Ok(Self(t))
        } else {
            Err(IdentifierError::Ifsc(crate::text::shown::shown(s)))
        }
    }
}

impl fmt::Display for Ifsc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What kind of Indian payment a UTR came from, judged by its shape only.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UtrClass {
    /// 16 characters: 4-letter bank code, `N`, `YYDDD`, sequence.
    Neft,
    /// 22 characters: 4-letter bank code, `R`, and more.
    Rtgs,
    /// 12 digits: the retrieval reference number of IMPS and UPI.
    ImpsUpi,
    /// Anything else: kept, not interpreted.
    Other,
}

/// A Unique Transaction Reference. Kept as the opaque string the bank sent; only classified.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Utr {
    value: String,
    class: UtrClass,
}

impl Utr {
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The UTR as a payment key uses it: upper case, so a bank re-sending it lower-cased
    /// (whatever reader carries it) is the same payment. `as_str` keeps it as sent.
    pub fn key(&self) -> String {
        self.value.to_ascii_uppercase()
    }

    pub fn class(&self) -> UtrClass {
        self.class
    }
}

impl FromStr for Utr {
    type Err = IdentifierError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let v = s.trim();
        if v.is_empty() || v.len() > 35 || !v.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(IdentifierError::Utr(crate::text::shown::shown(s)));
        }
        let b = v.as_bytes();
        let bank_code = b.len() >= 5 && b[..4].iter().all(u8::is_ascii_alphabetic);
        let class = if b.len() == 12 && b.iter().all(u8::is_ascii_digit) {
            UtrClass::ImpsUpi
        } else if b.len() == 16 && bank_code && b[4].eq_ignore_ascii_case(&b'N') {
            UtrClass::Neft
        } else if b.len() == 22 && bank_code && b[4].eq_ignore_ascii_case(&b'R') {
            UtrClass::Rtgs
        } else {
            UtrClass::Other
        };
        Ok(Self { value: v.to_string(), class })
    }
}

impl fmt::Display for Utr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

impl Serialize for Utr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 17: a refused identifier was quoted whole (a 50 MB field became a 50 MB message).
    #[test]
    fn a_refused_identifier_is_quoted_short_and_escaped() {
        let long = format!("\n\u{1b}[31m{}", "9".repeat(1 << 20));
        let errors = [
            Iban::from_str(&long).unwrap_err(),
            CreditorReference::from_str(&long).unwrap_err(),
            Ifsc::from_str(&long).unwrap_err(),
            Utr::from_str(&long).unwrap_err(),
        ];
        for e in errors {
            let text = e.to_string();
            assert!(text.len() < 300 && !text.contains('\n') && !text.contains('\u{1b}'), "{text}");
        }
    }

    #[test]
    fn amex_numbers_in_any_format() {
        for s in ["378282246310005", "3782 822463 10005", "3782-822463-10005"] {
            let n: AccountNumber = s.parse().unwrap();
            assert_eq!(n.expose(), "378282246310005");
        }
        assert_eq!("378282246310006".parse::<AccountNumber>(), Err(IdentifierError::AccountLuhn));
        assert!("411111111111111".parse::<AccountNumber>().is_err(), "not 34/37");
        assert!("37828224631000".parse::<AccountNumber>().is_err(), "14 digits");
    }

    #[test]
    fn account_numbers_found_in_text() {
        let found = AccountNumber::find_all("Pmt for card 3782 822463 10005, ref INV-77");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].expose(), "378282246310005");
        assert!(AccountNumber::find_all("1378282246310005").is_empty(), "16-digit run");
    }

    #[test]
    fn masked_everywhere() {
        let n: AccountNumber = "371449635398431".parse().unwrap();
        assert!(!format!("{n} {n:?}").contains("3714496353"));
        assert!(!serde_json::to_string(&n).unwrap().contains("3714496353"));
    }

    #[test]
    fn iban_mod97() {
        assert!("DE89 3704 0044 0532 0130 00".parse::<Iban>().is_ok());
        let err = "NL46ABNA0499998748".parse::<Iban>().unwrap_err();
        assert!(err.to_string().contains("NL46ABNA0499998748"));
    }

    #[test]
    fn rf_references() {
        assert!("RF18 5390 0754 7034".parse::<CreditorReference>().is_ok());
        assert!("RF18539007547034".parse::<CreditorReference>().is_ok());
        assert!("RF19539007547034".parse::<CreditorReference>().is_err());
        assert!("RF71 2348 231".parse::<CreditorReference>().is_ok());
    }

    #[test]
    fn ifsc_shape() {
        assert!("HDFC0000123".parse::<Ifsc>().is_ok());
        assert!("hdfc0000123".parse::<Ifsc>().is_ok());
        assert!("HDFC1000123".parse::<Ifsc>().is_err());
        assert!("HDF00000123".parse::<Ifsc>().is_err());
    }

    #[test]
    fn utr_classes() {
        assert_eq!("HDFCN26123456789".parse::<Utr>().unwrap().class(), UtrClass::Neft);
        assert_eq!("HDFCR52026112100012345".parse::<Utr>().unwrap().class(), UtrClass::Rtgs);
        assert_eq!("632112345678".parse::<Utr>().unwrap().class(), UtrClass::ImpsUpi);
        assert_eq!("X1".parse::<Utr>().unwrap().class(), UtrClass::Other);
        assert!("".parse::<Utr>().is_err());
    }

    proptest::proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC{0,40}") {
            let _ = s.parse::<AccountNumber>();
            let _ = s.parse::<Iban>();
            let _ = s.parse::<CreditorReference>();
            let _ = s.parse::<Ifsc>();
            let _ = s.parse::<Utr>();
            let _ = AccountNumber::find_all(&s);
        }
    }
}
