//! Attribute values in and out: exact decimals as DynamoDB numbers built from the decimal's text
//! (never a float), instants as fixed-width RFC 3339 text (so they sort as strings, as the
//! SQLite store's do), and a reader that names the attribute when stored data is not as expected.

use std::collections::HashMap;
use std::str::FromStr;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use remit_domain::mask_card_numbers;
use remit_domain::model::money::{currency, minor_digits, Currency};
use remit_domain::ports::StoreError;
use remit_domain::{CardRef, Money};
use rust_decimal::Decimal;

/// One DynamoDB item (or key): attribute name to value.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// Builds an item from (name, value) pairs, leaving out the `None`s (absent attributes keep
/// sparse indexes sparse).
pub(crate) fn item<const N: usize>(pairs: [(&str, Option<AttributeValue>); N]) -> Item {
    pairs.into_iter().filter_map(|(k, v)| v.map(|v| (k.to_string(), v))).collect()
}

/// A string attribute.
pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// A number attribute holding an exact decimal.
pub(crate) fn dec(d: Decimal) -> AttributeValue {
    AttributeValue::N(d.to_string())
}

/// A number attribute holding a count.
pub(crate) fn num(n: u64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

/// A list of strings.
pub(crate) fn strings(v: &[String]) -> AttributeValue {
    AttributeValue::L(v.iter().cloned().map(AttributeValue::S).collect())
}

/// An instant as stored: RFC 3339, UTC, microseconds, fixed width (sorts as it compares).
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// An index sort key: an instant then a tie-breaker, so that equal instants keep the SQLite
/// store's order (`ORDER BY at, id`).
pub(crate) fn sort_key(t: DateTime<Utc>, tie: &str) -> String {
    format!("{}#{tie}", ts(t))
}

/// The upper bound of a sort key range that includes every key at `t` (`#` < `$`).
pub(crate) fn through(t: DateTime<Utc>) -> String {
    format!("{}$", ts(t))
}

/// JSON text of a domain value (payments and decisions serialize masked).
pub(crate) fn json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A stored-data error naming what was wrong, the value masked (it may hold a card number).
pub(crate) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: {:?}", mask_card_numbers(value)))
}

/// Parses a stored number exactly (DynamoDB may return exponent notation for some values).
pub(crate) fn parse_dec(text: &str) -> Result<Decimal, StoreError> {
    Decimal::from_str(text).or_else(|_| Decimal::from_scientific(text)).map_err(|_| corrupt("decimal", text))
}

/// A balance read back with at least its currency's minor digits: DynamoDB trims trailing
/// zeros (`1000.00` comes back as `1000`), the value is the same and prints as stored.
pub(crate) fn in_minor_units(mut d: Decimal, cur: Currency) -> Decimal {
    let digits = minor_digits(cur);
    if d.scale() < digits {
        d.rescale(digits);
    }
    d
}

/// Typed reads of one item's attributes, naming the item kind in errors.
pub(crate) struct Read<'a> {
    pub item: &'a Item,
    pub what: &'static str,
}

impl<'a> Read<'a> {
    /// Reads `item`, a `what` (for error messages).
    pub fn new(item: &'a Item, what: &'static str) -> Self {
        Self { item, what }
    }

    fn missing(&self, name: &str) -> StoreError {
        StoreError::Corrupt(format!("{} without a string or number {name}", self.what))
    }

    /// A required string attribute.
    pub fn s(&self, name: &str) -> Result<&'a str, StoreError> {
        self.opt_s(name)?.ok_or_else(|| self.missing(name))
    }

    /// An optional string attribute (absent or NULL: none).
    pub fn opt_s(&self, name: &str) -> Result<Option<&'a str>, StoreError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::S(v)) => Ok(Some(v.as_str())),
            Some(_) => Err(StoreError::Corrupt(format!("{} attribute {name} is not a string", self.what))),
        }
    }

    /// A required string attribute, owned.
    pub fn string(&self, name: &str) -> Result<String, StoreError> {
        self.s(name).map(str::to_string)
    }

    /// An optional string attribute, owned.
    pub fn opt_string(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self.opt_s(name)?.map(str::to_string))
    }

    /// A required number attribute's text.
    fn n(&self, name: &str) -> Result<&'a str, StoreError> {
        match self.item.get(name) {
            Some(AttributeValue::N(v)) => Ok(v.as_str()),
            _ => Err(self.missing(name)),
        }
    }

    /// A required exact decimal.
    pub fn dec(&self, name: &str) -> Result<Decimal, StoreError> {
        parse_dec(self.n(name)?)
    }

    /// A required whole number.
    pub fn u64(&self, name: &str) -> Result<u64, StoreError> {
        let n = self.n(name)?;
        n.parse().map_err(|_| corrupt(&format!("{} {name}", self.what), n))
    }

    /// An optional whole number.
    pub fn opt_u64(&self, name: &str) -> Result<Option<u64>, StoreError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(_) => self.u64(name).map(Some),
        }
    }

    /// A required float (a matcher confidence: a score, not an amount).
    pub fn f64(&self, name: &str) -> Result<f64, StoreError> {
        let n = self.n(name)?;
        n.parse().map_err(|_| corrupt(&format!("{} {name}", self.what), n))
    }

    /// A required instant.
    pub fn ts(&self, name: &str) -> Result<DateTime<Utc>, StoreError> {
        parse_ts(self.s(name)?)
    }

    /// An optional instant.
    pub fn opt_ts(&self, name: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.opt_s(name)?.map(parse_ts).transpose()
    }

    /// A list of strings (absent: empty).
    pub fn strings(&self, name: &str) -> Result<Vec<String>, StoreError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(Vec::new()),
            Some(AttributeValue::L(l)) => l
                .iter()
                .map(|v| match v {
                    AttributeValue::S(s) => Ok(s.clone()),
                    _ => Err(StoreError::Corrupt(format!("{} {name}: not a list of strings", self.what))),
                })
                .collect(),
            Some(_) => Err(StoreError::Corrupt(format!("{} {name}: not a list", self.what))),
        }
    }

    /// A required card account number (never shown in the error).
    pub fn account(&self, name: &str) -> Result<CardRef, StoreError> {
        parse_account(self.s(name)?, self.what, name)
    }

    /// An optional card (stored token).
    pub fn opt_account(&self, name: &str) -> Result<Option<CardRef>, StoreError> {
        self.opt_s(name)?.map(|v| parse_account(v, self.what, name)).transpose()
    }

    /// A required currency code.
    pub fn currency(&self, name: &str) -> Result<Currency, StoreError> {
        let c = self.s(name)?;
        currency(c).map_err(|_| corrupt("currency", c))
    }

    /// An amount in `amount` (number) and `currency` attributes.
    pub fn money(&self, amount: &str, cur: &str) -> Result<Money, StoreError> {
        let a = self.dec(amount)?;
        Money::new(a, self.currency(cur)?).map_err(|_| corrupt("amount", &a.to_string()))
    }

    /// A required JSON attribute, parsed.
    pub fn json<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T, StoreError> {
        let text = self.s(name)?;
        serde_json::from_str(text)
            .map_err(|_| StoreError::Corrupt(format!("{} {name}: not the JSON expected", self.what)))
    }
}

/// Parses a stored instant.
pub(crate) fn parse_ts(text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)).map_err(|_| corrupt("timestamp", text))
}

fn parse_account(text: &str, what: &str, name: &str) -> Result<CardRef, StoreError> {
    CardRef::from_stored(text)
        .map_err(|_| StoreError::Corrupt(format!("{what} {name}: not a stored card token")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn instants_sort_as_text_and_keys_break_ties() {
        let a = Utc.with_ymd_and_hms(2026, 3, 1, 9, 5, 0).unwrap();
        let b = a + chrono::Duration::microseconds(1);
        assert!(ts(a) < ts(b));
        assert!(sort_key(a, "zzz") < sort_key(b, "aaa"), "the instant decides first");
        assert!(sort_key(a, "zzz") < through(a) && through(a) < sort_key(b, ""), "through(a) bounds a");
        assert_eq!(parse_ts(&ts(b)).unwrap(), b);
    }

    #[test]
    fn decimals_are_exact_both_ways() {
        let d = Decimal::from_str("12345678901234567890.12").unwrap();
        let AttributeValue::N(text) = dec(d) else { panic!("a number") };
        assert_eq!(parse_dec(&text).unwrap(), d);
        assert_eq!(parse_dec("1E+3").unwrap(), Decimal::from(1000));
        let trimmed = in_minor_units(Decimal::from(1000), Currency::CAD);
        assert_eq!(trimmed.to_string(), "1000.00");
        assert_eq!(in_minor_units(Decimal::from_str("0.125").unwrap(), Currency::CAD).to_string(), "0.125");
    }

    #[test]
    fn errors_never_show_a_card_number() {
        let e = corrupt("reference", "card 378282246310005");
        assert!(!e.to_string().contains("378282246310005"), "{e}");
        let it = item([("n", Some(s("378282246310006")))]);
        let e = Read::new(&it, "account").account("n").unwrap_err();
        assert!(!e.to_string().contains("3782822463"), "{e}");
    }
}
