//! Per-market counts the handlers report: payments applied, queued, rejected and so on from
//! ingest, warnings and breaches from the sweeper (CloudWatch EMF in Lambda, memory in tests).

use serde::{Deserialize, Serialize};

use crate::model::payment::Market;
use crate::ports::FileSummary;

/// Counts for one market. A zero is reported as zero (an alarm then sees data, not a gap).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketCounts {
    pub applied: u64,
    pub queued: u64,
    pub rejected: u64,
    pub duplicates: u64,
    pub reversed: u64,
    pub warnings: u64,
    pub breaches: u64,
}

impl MarketCounts {
    /// The payment outcomes of a file (or a chunk of one).
    pub fn of_summary(s: &FileSummary) -> Self {
        Self {
            applied: s.applied,
            queued: s.queued,
            rejected: s.rejected,
            duplicates: s.duplicates,
            reversed: s.reversed,
            ..Self::default()
        }
    }
}

/// What a handler's counts are about: which metrics of `MarketCounts` it reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CountKind {
    /// Applied, queued, rejected, duplicates, reversed.
    Payments,
    /// Warnings and breaches.
    Alerts,
}

/// Where counts go. Called once per file, chunk or sweep, when the work ran (never for a
/// replayed result, so a count is never reported twice).
pub trait Metrics: Send + Sync {
    fn emit(&self, market: Market, kind: CountKind, counts: &MarketCounts);
}
