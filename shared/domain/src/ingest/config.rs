//! The configuration of an ingest run (`config/remit.toml`): matching, research SLAs and queue,
//! our own identities, and the limits a file's content must keep (`[limits]`), with the errors
//! of a file past them.

use std::error::Error as StdError;

use rust_decimal::Decimal;

use crate::matching::matcher::MatchPolicy;
use crate::model::payment::{Market, Payment, PerMarket};
use crate::research::sla::SlaPolicy;

/// Configuration of one pipeline run: matching thresholds and limits, research SLAs. Read from
/// `config/remit.toml` (every key optional; defaults are the values shipped there).
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
    pub sla: SlaPolicy,
    pub matching: MatchPolicy,
    /// Research queue operations (claim duration).
    pub queue: crate::research::queue::QueuePolicy,
    /// Our own identities per market, never payer evidence; PAD files we originate.
    pub own: crate::matching::own::OwnPolicy,
    /// What a file may carry at all (`[limits]`): beyond it the file is refused whole.
    pub limits: IngestLimits,
}

/// Bounds on a file's content, per market (`[limits]` in `config/remit.toml`). A file past one
/// is broken or hostile, not a batch of payments to research: it is quarantined before
/// anything posts.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestLimits {
    /// The largest single amount a payment may carry, in the payment's currency: far above any
    /// real payment, far below what a decimal can hold (sums of a file stay exact).
    pub max_payment: PerMarket<Decimal>,
    /// The largest file (as stored, compressed or not) a market takes, in bytes: at most
    /// `MAX_FILE_BYTES`, which every runner stops hashing at whatever the market.
    pub max_file_bytes: PerMarket<u64>,
}

/// The largest file any runner reads (4 GiB): hashing stops there, so an endless source (a
/// device, a pipe that keeps writing) ends with an error. `[limits] max_file_bytes` may only
/// lower it per market.
pub const MAX_FILE_BYTES: u64 = 4 << 30;

/// The highest `max_payment` a configuration may set: 10^18, so that the totals of even a
/// billion payments stay far below `Decimal::MAX` (about 7.9 * 10^28).
const MAX_PAYMENT_BOUND: Decimal = Decimal::from_parts(2_808_348_672, 232_830_643, 0, false, 0);

impl Default for IngestLimits {
    fn default() -> Self {
        let ten_billion = Decimal::new(10_000_000_000, 0);
        Self {
            max_payment: PerMarket { ca: ten_billion, india: ten_billion, eu: ten_billion },
            max_file_bytes: PerMarket { ca: MAX_FILE_BYTES, india: MAX_FILE_BYTES, eu: MAX_FILE_BYTES },
        }
    }
}

impl IngestLimits {
    /// Refuses a ceiling that is not positive, that sums could overflow past, or that a payment
    /// sent to research for its size (`matching.amount_ceilings`) would already pass.
    fn validate(&self, matching: &MatchPolicy) -> Result<(), String> {
        for market in Market::ALL {
            let max = self.max_payment.get(market);
            if max <= Decimal::ZERO || max > MAX_PAYMENT_BOUND {
                return Err(format!("limits.max_payment.{market}: {max} is not in (0, {MAX_PAYMENT_BOUND}]"));
            }
            let bytes = *self.max_file_bytes.get_ref(market);
            if bytes == 0 || bytes > MAX_FILE_BYTES {
                return Err(format!(
                    "limits.max_file_bytes.{market}: {bytes} is not in (0, {MAX_FILE_BYTES}]"
                ));
            }
            let research = matching.amount_ceilings.get(market);
            if max <= research {
                return Err(format!(
                    "limits.max_payment.{market}: {max} must be above matching.amount_ceilings.{market} ({research})"
                ));
            }
        }
        Ok(())
    }

    /// The payment's amount when it is above its market's `max_payment`, or its file when it is
    /// larger than the market's `max_file_bytes` (known once a payment names the market).
    #[cfg(test)]
    fn check(&self, payment: &Payment, file_size: u64) -> Result<(), LimitError> {
        self.check_file_size(payment.market, &payment.source.file, file_size)?;
        self.check_amount(payment)
    }

    /// A file larger than its market's `max_file_bytes`.
    pub(crate) fn check_file_size(&self, market: Market, file: &str, size: u64) -> Result<(), LimitError> {
        let max_bytes = *self.max_file_bytes.get_ref(market);
        if size > max_bytes {
            return Err(LimitError::FileTooLarge {
                file: crate::text::shown::shown(file),
                size,
                market,
                max: max_bytes,
            });
        }
        Ok(())
    }

    /// A payment above its market's `max_payment`.
    pub(crate) fn check_amount(&self, payment: &Payment) -> Result<(), LimitError> {
        let max = self.max_payment.get(payment.market);
        if payment.amount.amount().abs() <= max {
            return Ok(());
        }
        Err(LimitError::AmountAboveMaximum {
            file: crate::text::shown::shown(&payment.source.file),
            record: payment.source.record,
            amount: payment.amount.to_string(),
            market: payment.market,
            max,
        })
    }
}

/// A file's content past one of the `IngestLimits`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// One payment larger than any real one: the file is broken or hostile.
    #[error(
        "{file}: record {record}: field amount: {amount} is above the largest single payment \
         accepted for {market} ({max}, limits.max_payment)"
    )]
    AmountAboveMaximum { file: String, record: u64, amount: String, market: Market, max: Decimal },
    /// A file larger than its market accepts.
    #[error("{file}: {size} bytes is above the largest file accepted for {market} ({max} bytes, limits.max_file_bytes)")]
    FileTooLarge { file: String, size: u64, market: Market, max: u64 },
}

/// Why the validation pass refused a file: the reader's error, or a limit of the content.
#[derive(Debug)]
pub enum ValidationError<E> {
    /// The reader refused the file (or could not read it).
    Read(E),
    /// Every record read, but one is past an `IngestLimits` bound.
    Limit(LimitError),
}

impl<E: std::fmt::Display> std::fmt::Display for ValidationError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ValidationError::Read(e) => e.fmt(f),
            ValidationError::Limit(e) => e.fmt(f),
        }
    }
}

impl<E: StdError + 'static> StdError for ValidationError<E> {
    // The reader's error stands for itself (its own source chain is its causes).
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            ValidationError::Read(e) => Some(e),
            ValidationError::Limit(_) => None,
        }
    }
}

impl IngestConfig {
    /// Refuses values no run should start with, naming the key.
    pub fn validate(&self) -> Result<(), String> {
        self.queue.validate()?;
        self.own.validate()?;
        let m = &self.matching;
        for market in Market::ALL {
            let t = m.thresholds.get(market);
            if t.is_nan() || t <= 0.0 || t > 1.0 {
                return Err(format!("matching.thresholds.{market}: {t} is not in (0, 1]"));
            }
            let c = m.amount_ceilings.get(market);
            if c <= Decimal::ZERO {
                return Err(format!("matching.amount_ceilings.{market}: {c} must be positive"));
            }
        }
        if m.duplicate_window_days < 0 {
            return Err(format!(
                "matching.duplicate_window_days: {} must not be negative",
                m.duplicate_window_days
            ));
        }
        if m.ambiguity_margin < 0 {
            return Err(format!("matching.ambiguity_margin: {} must not be negative", m.ambiguity_margin));
        }
        self.limits.validate(m)?;
        self.sla.validate()
    }
}

#[cfg(test)]
mod limit_tests {
    use super::*;
    use crate::model::money::{Currency, Money};
    use crate::model::payment::References;

    fn paying(amounts: &[&str]) -> Vec<Payment> {
        amounts
            .iter()
            .enumerate()
            .map(|(n, a)| {
                let mut p = crate::model::payment::sample(
                    Market::EU,
                    Money::parse(a, Currency::EUR).unwrap(),
                    References::default(),
                );
                p.source.record = n as u64 + 1;
                p.source.file = "drop/eu\n\u{1b}[32mfile completed.xml".into();
                p
            })
            .collect()
    }

    /// The payments that pass `limits` in a file of 1000 bytes, or the first refusal.
    fn count(payments: Vec<Payment>, limits: &IngestLimits) -> Result<u64, LimitError> {
        payments.iter().try_fold(0, |n, p| limits.check(p, 1000).map(|()| n + 1))
    }

    /// Issue 17: an amount of 79 octillion EUR was accepted and queued for research.
    #[test]
    fn a_payment_above_the_markets_maximum_refuses_the_file() {
        let limits = IngestLimits::default();
        assert_eq!(count(paying(&["10.00", "10000000000.00"]), &limits).unwrap(), 2, "at the maximum");
        let err = count(paying(&["10.00", "10000000000.01", "5.00"]), &limits).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, LimitError::AmountAboveMaximum { record: 2, .. }));
        assert!(text.contains("record 2") && text.contains("10000000000.01 EUR"), "{text}");
        assert!(text.contains("EU") && text.contains("limits.max_payment"), "{text}");
        assert!(!text.contains('\n') && !text.contains('\u{1b}'), "the file name is shown escaped: {text}");
        let huge = paying(&["792281625142643375935439503.35"]);
        assert!(count(huge, &limits).is_err(), "near Decimal::MAX");
    }

    /// Issue 17: the file size is bounded per market (`[limits] max_file_bytes`), under the
    /// 4 GiB every runner stops hashing at.
    #[test]
    fn a_file_larger_than_its_market_takes_is_refused() {
        let config: IngestConfig =
            toml::from_str("[limits]\nmax_file_bytes = { CA = 4294967296, IN = 4294967296, EU = 1000 }\n")
                .unwrap();
        config.validate().unwrap();
        let p = &paying(&["10.00"])[0];
        assert_eq!(config.limits.check(p, 1000), Ok(()));
        let err = config.limits.check(p, 1001).unwrap_err();
        assert!(matches!(err, LimitError::FileTooLarge { size: 1001, max: 1000, .. }));
        assert!(err.to_string().contains("limits.max_file_bytes"), "{err}");
        for bad in ["0", "4294967297"] {
            let text = format!("[limits]\nmax_file_bytes = {{ CA = {bad}, IN = 1, EU = 1 }}\n");
            let e = toml::from_str::<IngestConfig>(&text).unwrap().validate().unwrap_err();
            assert!(e.contains("limits.max_file_bytes.CA"), "{e}");
        }
    }

    /// The ceiling is per market and read from `[limits]`.
    #[test]
    fn the_maximum_is_configured_per_market_and_checked() {
        let config: IngestConfig = toml::from_str(
            "[limits]\nmax_payment = { CA = \"1000000\", IN = \"1000000000\", EU = \"60000\" }\n",
        )
        .unwrap();
        config.validate().unwrap();
        assert!(count(paying(&["60000.01"]), &config.limits).is_err());
        assert!(count(paying(&["60000.00"]), &config.limits).is_ok());

        let refused = |toml: &str| toml::from_str::<IngestConfig>(toml).unwrap().validate().unwrap_err();
        let e = refused("[limits]\nmax_payment = { CA = \"0\", IN = \"1\", EU = \"1\" }\n");
        assert!(e.contains("limits.max_payment.CA"), "{e}");
        let e = refused("[limits]\nmax_payment = { CA = \"1e19\", IN = \"1e6\", EU = \"1e6\" }\n");
        assert!(e.contains("limits.max_payment.CA"), "{e}");
        let e = refused("[limits]\nmax_payment = { CA = \"1e6\", IN = \"1e6\", EU = \"1e6\" }\n");
        assert!(e.contains("limits.max_payment.IN") && e.contains("amount_ceilings.IN"), "{e}");
        assert_eq!(MAX_PAYMENT_BOUND, Decimal::from(10u64.pow(18)));
    }
}
