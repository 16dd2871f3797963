//! Money: a `rust_decimal` amount with an ISO 4217 currency. No floating point anywhere.

use std::fmt;

use crate::text::shown::shown;
pub use iso_currency::Currency;
use rust_decimal::Decimal;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

/// Why an amount or currency was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// The code as written, `shown` (escaped, cut): it comes from the file.
    #[error("unknown ISO 4217 currency {0:?}")]
    UnknownCurrency(String),
    #[error("amount {0:?} is not a decimal number")]
    NotANumber(String),
    #[error("amount {amount} has more decimals than {currency} allows ({allowed})")]
    TooPrecise { amount: String, currency: String, allowed: u32 },
    #[error("amount {0} must be positive")]
    NotPositive(String),
    /// Too many digits to be held exactly: a decimal number keeps 28 or 29 significant digits.
    #[error("amount {0:?} has more digits than an amount can hold exactly")]
    TooManyDigits(String),
    /// So large that the currency's decimals no longer fit beside its digits.
    #[error("amount {amount} is too large to keep the {allowed} decimals {currency} requires")]
    TooLarge { amount: String, currency: String, allowed: u32 },
    #[error("amounts in {0} and {1} cannot be added")]
    CurrencyMismatch(String, String),
    #[error("the sum of {0} and {1} overflows")]
    Overflow(String, String),
}

/// An amount in one currency. Signed, so that balances fit; payments keep it positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

/// Parses an ISO 4217 alphabetic code (case-sensitive upper, as files carry it).
pub fn currency(code: &str) -> Result<Currency, MoneyError> {
    Currency::from_code(code.trim()).ok_or_else(|| MoneyError::UnknownCurrency(shown(code)))
}

/// Number of minor-unit decimals a currency allows (2 when ISO says none, e.g. for XAU).
pub fn minor_digits(currency: Currency) -> u32 {
    currency.exponent().map(u32::from).unwrap_or(2)
}

impl Money {
    /// An amount, refused when it has more decimals than the currency allows, or when it is so
    /// large that the currency's decimals no longer fit (never rounded).
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
        // `rescale` settles for fewer decimals when the digits would overflow the mantissa:
        // a 28-digit INR amount would silently lose its paise.
        amount.rescale(allowed);
        if amount.scale() != allowed {
            return Err(MoneyError::TooLarge {
                amount: normal.to_string(),
                currency: currency.code().to_string(),
                allowed,
            });
        }
        Ok(Self { amount, currency })
    }

    /// An amount given in the currency's minor units (cents, paise).
    pub fn from_minor(minor: i64, currency: Currency) -> Self {
        let amount = Decimal::new(minor, minor_digits(currency));
        Self { amount, currency }
    }

    /// Parses a plain decimal string such as `1234.5` or `300`, exactly: digits that a decimal
    /// cannot hold are refused, never rounded away.
    pub fn parse(text: &str, currency: Currency) -> Result<Self, MoneyError> {
        Self::new(parse_decimal(text)?, currency)
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

    /// Sum of two amounts in the same currency; `None` across currencies and on overflow
    /// (`try_add` says which).
    pub fn checked_add(&self, other: &Money) -> Option<Money> {
        self.try_add(other).ok()
    }

    /// Sum of two amounts in the same currency, or why there is none: the currencies differ, or
    /// the sum overflows (two amounts near `Decimal::MAX`).
    pub fn try_add(&self, other: &Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch(
                self.currency.code().to_string(),
                other.currency.code().to_string(),
            ));
        }
        let amount = add_keeping_scale(self.amount, other.amount)
            .ok_or_else(|| MoneyError::Overflow(self.to_string(), other.to_string()))?;
        Ok(Money { amount, currency: self.currency })
    }

    /// The amount with its sign flipped.
    pub fn negated(&self) -> Money {
        Money { amount: -self.amount, currency: self.currency }
    }
}

/// `a + b` when `Decimal` can hold it exactly: `None` on overflow, and also where
/// `rust_decimal` would round the result to fit (it lowers the scale rather than fail), since
/// a rounded sum could make a wrong closing balance or trailer agree. Computed on the
/// mantissas in `i128`; trailing zeros are dropped only when that loses nothing.
pub fn exact_add(a: Decimal, b: Decimal) -> Option<Decimal> {
    // The common case, cheaply: at one scale, a result that kept it was not rounded.
    if a.scale() == b.scale() {
        if let Some(r) = a.checked_add(b).filter(|r| r.scale() == a.scale()) {
            return Some(r);
        }
    }
    exact_add_at_scale(a, b).or_else(|| exact_add_at_scale(a.normalize(), b.normalize()))
}

fn exact_add_at_scale(a: Decimal, b: Decimal) -> Option<Decimal> {
    let mut scale = a.scale().max(b.scale());
    let lift =
        |d: Decimal| -> Option<i128> { d.mantissa().checked_mul(10i128.checked_pow(scale - d.scale())?) };
    let mut sum = lift(a)?.checked_add(lift(b)?)?;
    loop {
        if let Ok(d) = Decimal::try_from_i128_with_scale(sum, scale) {
            return Some(d);
        }
        if scale == 0 || sum % 10 != 0 {
            return None;
        }
        sum /= 10;
        scale -= 1;
    }
}

/// `exact_add` that also keeps the terms' decimals: a running total of amounts in a currency
/// must stay in that currency's minor units (an exact sum that only fits by dropping a trailing
/// zero of its cents has overflowed as a total).
pub fn add_keeping_scale(a: Decimal, b: Decimal) -> Option<Decimal> {
    exact_add(a, b).filter(|s| s.scale() >= a.scale().max(b.scale()))
}

/// Reads a plain decimal number (optional sign, digits, optional point and digits: `xs:decimal`)
/// exactly: digits a decimal cannot hold are refused, never rounded away. Not `rust_decimal`'s
/// parser: it recurses per character, and 100,000 zeros overflowed the stack (issue 17); and it
/// skips underscores.
pub fn parse_decimal(text: &str) -> Result<Decimal, MoneyError> {
    let t = text.trim();
    let not_a_number = || MoneyError::NotANumber(shown(text));
    let (negative, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
        return Err(not_a_number());
    }
    let value = decimal_of_digits(int, frac).ok_or_else(|| MoneyError::TooManyDigits(shown(text)))?;
    Ok(if negative { -value } else { value })
}

/// The decimal `int.frac` of two runs of ASCII digits (either may be empty), exactly, or `None`
/// when a decimal cannot hold it. Leading zeros and trailing zeros of the fraction past what fits
/// are dropped; the rest of the fraction is kept as the scale. Computed from the digits, with no
/// allocation and no recursion, whatever the length.
pub fn decimal_of_digits(int: &str, frac: &str) -> Option<Decimal> {
    let int = int.trim_start_matches('0');
    let significant = frac.trim_end_matches('0');
    // A decimal holds 28 decimals and 29 significant digits at most.
    if significant.len() > 28 || int.len() + significant.len() > 29 {
        return None;
    }
    // Trailing zeros are kept (they are the scale as written) while the digits fit.
    let room = 28.min(29 - int.len().max(1)).max(significant.len());
    let frac = &frac[..frac.len().min(room)];
    // At most 29 digits: below 10^29, well inside i128.
    let mantissa = int.bytes().chain(frac.bytes()).fold(0i128, |v, b| v * 10 + i128::from(b - b'0'));
    Decimal::try_from_i128_with_scale(mantissa, frac.len() as u32).ok()
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

    /// Issue 17: two amounts near `Decimal::MAX` summed panicked ("Addition overflowed").
    #[test]
    fn a_sum_that_overflows_is_refused_not_a_panic() {
        let big = Money::new(Decimal::MAX, Currency::JPY).unwrap();
        assert!(big.checked_add(&big).is_none());
        let err = big.try_add(&big).unwrap_err();
        assert!(matches!(err, MoneyError::Overflow(..)), "{err}");
        assert!(err.to_string().contains("overflows"), "{err}");
        let err = big.try_add(&Money::from_minor(1, Currency::USD)).unwrap_err();
        assert_eq!(err, MoneyError::CurrencyMismatch("JPY".into(), "USD".into()));
    }

    /// Near the top, a decimal sum drops decimals rather than fail: that is an overflow too.
    #[test]
    fn a_sum_that_would_lose_the_currencys_decimals_is_refused() {
        let top = Money::parse("792281625142643375935439503.35", Currency::EUR).unwrap();
        assert_eq!(top.amount().scale(), 2);
        assert!(top.checked_add(&top).is_none(), "{:?}", top.amount().checked_add(top.amount()));
        let cent = Money::from_minor(1, Currency::EUR);
        assert!(top.checked_add(&cent).is_none());
        let below = Money::parse("792281625142643375935439503.34", Currency::EUR).unwrap();
        assert_eq!(below.checked_add(&cent), Some(top));
    }

    /// Issue 17: a 28-digit INR amount lost its paise in `Money::new` (rescale gave up quietly).
    #[test]
    fn an_amount_too_large_for_its_decimals_is_refused() {
        let amount = parse_decimal("1234567890123456789012345678").unwrap();
        let err = Money::new(amount, Currency::INR).unwrap_err();
        assert!(matches!(err, MoneyError::TooLarge { allowed: 2, .. }), "{err}");
        assert!(err.to_string().contains("1234567890123456789012345678"), "{err}");
        assert!(Money::new(amount, Currency::JPY).is_ok(), "no decimals to keep");
        let fits = parse_decimal("12345678901234567890123456.78").unwrap();
        assert_eq!(Money::new(fits, Currency::INR).unwrap().amount(), fits);
    }

    /// `Decimal::from_str` rounds what it cannot hold: an amount is read exactly or refused.
    #[test]
    fn parse_refuses_digits_it_would_round_away() {
        let err = Money::parse("1.0000000000000000000000000000001", Currency::EUR).unwrap_err();
        assert!(matches!(err, MoneyError::TooManyDigits(_)), "{err}");
        let err = Money::parse("0.00000000000000000000000000001", Currency::EUR).unwrap_err();
        assert!(matches!(err, MoneyError::TooManyDigits(_)), "{err}");
        assert!(matches!(
            Money::parse("792281625142643375935439503350", Currency::JPY),
            Err(MoneyError::TooManyDigits(_))
        ));
    }

    /// Issue 17: `rust_decimal`'s parser recursed per character, and an amount of 100,000
    /// leading zeros (or underscores, which it skips) aborted the process on a stack overflow.
    #[test]
    fn long_amounts_are_read_or_refused_without_recursion() {
        let zeros = "0".repeat(100_000);
        assert_eq!(parse_decimal(&format!("{zeros}12.50")).unwrap(), Decimal::new(1250, 2));
        assert_eq!(parse_decimal(&format!("-12.5{zeros}")).unwrap(), Decimal::new(-125, 1));
        let e = parse_decimal(&format!("1{}.00", "_".repeat(100_000))).unwrap_err();
        assert!(matches!(e, MoneyError::NotANumber(_)), "{e}");
        let e = parse_decimal(&format!("1{zeros}")).unwrap_err();
        assert!(matches!(e, MoneyError::TooManyDigits(_)), "{e}");
        for bad in ["", ".", "-", "+.", "1e5", "1.2.3", " ", "0x10", "١٢"] {
            assert!(matches!(parse_decimal(bad), Err(MoneyError::NotANumber(_))), "{bad:?}");
        }
        for (ok, want) in [("+3", Decimal::new(3, 0)), (".5", Decimal::new(5, 1)), ("7.", Decimal::new(7, 0))]
        {
            assert_eq!(parse_decimal(ok).unwrap(), want, "{ok:?}");
        }
        assert_eq!(parse_decimal("100.50").unwrap().scale(), 2, "the scale as written");
    }

    #[test]
    fn an_unknown_currency_is_quoted_short() {
        let e = currency(&"X\n".repeat(1000)).unwrap_err().to_string();
        assert!(e.len() < 200, "{e}");
    }

    /// A 50 MB amount does not become a 50 MB message, nor one that forges lines.
    #[test]
    fn a_refused_text_is_quoted_short_and_escaped() {
        let text = "12\n\u{1b}[31m".to_string() + &"x".repeat(1 << 20);
        let err = Money::parse(&text, Currency::EUR).unwrap_err().to_string();
        assert!(err.len() < 200, "{} bytes", err.len());
        assert!(!err.contains('\n') && !err.contains('\u{1b}'), "{err}");
        assert!(err.contains("\\n") && err.contains("\\u{1b}"), "{err}");
    }
}
