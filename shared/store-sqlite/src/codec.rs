//! Column values in and out: instants as RFC 3339 text, exact decimals and currencies as text,
//! JSON columns, and the error for stored data that is not as expected.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use remit_domain::model::money::{currency, Currency};
use remit_domain::ports::StoreError;
use rust_decimal::Decimal;

/// Stored data that is not as expected, naming what and the value.
pub(crate) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: {value:?}"))
}

/// An instant as fixed-width RFC 3339 text (microseconds, `Z`), so instants sort as strings.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// An instant written by `ts`.
pub(crate) fn parse_ts(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).map_err(|_| corrupt("timestamp", s))
}

/// An exact decimal stored as its text.
pub(crate) fn parse_dec(s: &str) -> Result<Decimal, StoreError> {
    Decimal::from_str(s).map_err(|_| corrupt("decimal", s))
}

/// A currency stored as its ISO code.
pub(crate) fn parse_cur(s: &str) -> Result<Currency, StoreError> {
    currency(s).map_err(|_| corrupt("currency", s))
}

/// A value as JSON text, for the columns that hold JSON.
pub(crate) fn json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}
