//! Money: a `rust_decimal` amount with an ISO 4217 currency. No floating point anywhere.

use std::fmt;
use std::str::FromStr;

pub use iso_currency::Currency;
use rust_decimal::Decimal;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

/// Why an amount or currency was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("unknown ISO 4217 currency {0:?}")]
    UnknownCurrency(String),
    #[error("amount {0:?} is not a decimal number")]
    NotANumber(String),
    #[error("amount {amount} has more decimals than {currency} allows ({allowed})")]
    TooPrecise { amount: String, currency: String, allowed: u32 },
    #[error("amount {0} must be positive")]
    NotPositive(String),
}

/// An amount in one currency. Signed, so that balances fit; payments keep it positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

/// Parses an ISO 4217 alphabetic code (case-sensitive upper, as files carry it).
pub fn currency(code: &str) -> Result<Currency, MoneyError> {
    Currency::from_code(code.trim()).ok_or_else(|| MoneyError::UnknownCurrency(code.to_string()))
}

/// Number of minor-unit decimals a currency allows (2 when ISO says none, e.g. for XAU).
pub fn minor_digits(currency: Currency) -> u32 {
    currency.exponent().map(u32::from).unwrap_or(2)
}

impl Money {
    /// An amount, refused when it has more decimals than the currency allows.
    pub fn new(amount: Decimal, currency: Currency) -> Result<Self, MoneyError> {
        let allowed = minor_digits(currency);
        let normal = amount.normalize();
        if normal.scale() > allowed {
            return Err(MoneyError::TooPrecise {
                amount: amount.to_string(),
                currency: currency.code().to_string(),
                allowed,
            });
        }
        let mut amount = normal;
        amount.rescale(allowed);
        Ok(Self { amount, currency })
    }

    /// An amount given in the currency's minor units (cents, paise).
    pub fn from_minor(minor: i64, currency: Currency) -> Self {
        let amount = Decimal::new(minor, minor_digits(currency));
        Self { amount, currency }
    }

    /// Parses a plain decimal string such as `1234.5` or `300`.
    pub fn parse(text: &str, currency: Currency) -> Result<Self, MoneyError> {
        let amount = Decimal::from_str(text.trim()).map_err(|_| MoneyError::NotANumber(text.to_string()))?;
        Self::new(amount, currency)
    }

    /// Zero in a currency.
    pub fn zero(currency: Currency) -> Self {
        Self::from_minor(0, currency)
    }

    pub fn amount(&self) -> Decimal {
        self.amount
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// True for amounts strictly above zero.
    pub fn is_positive(&self) -> bool {
        self.amount > Decimal::ZERO
    }

    /// Sum of two amounts in the same currency; `None` across currencies.
    pub fn checked_add(&self, other: &Money) -> Option<Money> {
        (self.currency == other.currency)
            .then(|| Money { amount: self.amount + other.amount, currency: self.currency })
    }

    /// The amount with its sign flipped.
    pub fn negated(&self) -> Money {
        Money { amount: -self.amount, currency: self.currency }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency.code())
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Money", 2)?;
        st.serialize_field("amount", &self.amount.to_string())?;
        st.serialize_field("currency", self.currency.code())?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn rescales_to_currency_precision() {
        let m = Money::parse("300", Currency::EUR).unwrap();
        assert_eq!(m.amount().to_string(), "300.00");
        let y = Money::parse("1500", Currency::JPY).unwrap();
        assert_eq!(y.amount().to_string(), "1500");
    }

    #[test]
    fn refuses_more_precision_than_the_currency() {
        let err = Money::parse("1.005", Currency::EUR).unwrap_err();
        assert!(err.to_string().contains("1.005"), "{err}");
        assert!(Money::parse("1.50000", Currency::EUR).is_ok(), "trailing zeros are fine");
    }

    #[test]
    fn minor_units() {
        assert_eq!(Money::from_minor(72220, Currency::CAD).amount(), dec!(722.20));
    }

    #[test]
    fn adds_only_within_a_currency() {
        let a = Money::from_minor(100, Currency::CAD);
        assert!(a.checked_add(&Money::from_minor(1, Currency::USD)).is_none());
        assert_eq!(a.checked_add(&a).unwrap().amount(), dec!(2.00));
    }
}
