//! Per-market counts the handlers report: payments applied, queued, rejected and so on from
//! ingest, warnings and breaches from the sweeper. In Lambda they go out as CloudWatch embedded
//! metric format (EMF) lines written by `remit_aws::metrics` (namespace `Remit`, dimensions
//! `Market` and `Market` + `Function`); the alarms in `infra/template.yaml` watch `SlaBreaches`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use remit_aws::metrics::Metric;
use remit_domain::ports::AlertKind;
use remit_domain::ports::FileSummary;
use remit_domain::research::sweeper::SweepReport;
use remit_domain::Market;
use serde::{Deserialize, Serialize};

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

    /// The alerts a sweep raised, per market; every market appears (zeros included).
    pub fn of_sweep(report: &SweepReport) -> BTreeMap<Market, Self> {
        let mut out: BTreeMap<Market, Self> = Market::ALL.into_iter().map(|m| (m, Self::default())).collect();
        for a in &report.alerts {
            let c = out.entry(a.market).or_default();
            match a.kind {
                AlertKind::Warning => c.warnings += 1,
                AlertKind::Breach => c.breaches += 1,
            }
        }
        out
    }

    /// The CloudWatch metrics `kind` reports, with their values.
    pub fn metrics(&self, kind: CountKind) -> Vec<(Metric, u64)> {
        match kind {
            CountKind::Payments => vec![
                (Metric::PaymentsApplied, self.applied),
                (Metric::PaymentsQueued, self.queued),
                (Metric::PaymentsRejected, self.rejected),
                (Metric::PaymentsDuplicate, self.duplicates),
                (Metric::PaymentsReversed, self.reversed),
            ],
            CountKind::Alerts => {
                vec![(Metric::SlaWarnings, self.warnings), (Metric::SlaBreaches, self.breaches)]
            }
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

/// Writes each emission as a CloudWatch EMF line on stdout (`remit_aws::metrics`), where
/// Lambda's log stream picks it up.
#[derive(Clone, Debug)]
pub struct EmfStdout {
    function: &'static str,
}

impl EmfStdout {
    /// Metrics of `function` (the `Function` dimension: `ingest`, `sla-sweeper`...).
    pub fn new(function: &'static str) -> Self {
        Self { function }
    }

    /// The EMF documents (one line each) for one market's counts at `at`.
    pub fn documents(
        &self,
        market: Market,
        kind: CountKind,
        counts: &MarketCounts,
        at: DateTime<Utc>,
    ) -> Vec<String> {
        self.gather(market, kind, counts).documents(at)
    }

    fn gather(&self, market: Market, kind: CountKind, counts: &MarketCounts) -> remit_aws::metrics::Metrics {
        let mut m = remit_aws::metrics::Metrics::new(self.function);
        for (metric, n) in counts.metrics(kind) {
            m.add(Some(market), metric, n);
        }
        m
    }
}

impl Metrics for EmfStdout {
    fn emit(&self, market: Market, kind: CountKind, counts: &MarketCounts) {
        if let Err(e) = self.gather(market, kind, counts).emit() {
            tracing::warn!(error = %e, "metrics line not written");
        }
    }
}

/// Keeps what is emitted (tests).
#[derive(Debug, Default)]
pub struct MemoryMetrics {
    emitted: Mutex<Vec<(Market, CountKind, MarketCounts)>>,
}

impl MemoryMetrics {
    /// Every emission so far, in order.
    pub fn emitted(&self) -> Vec<(Market, CountKind, MarketCounts)> {
        self.emitted.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The sums of what was emitted, per market.
    pub fn totals(&self) -> BTreeMap<Market, MarketCounts> {
        let mut out: BTreeMap<Market, MarketCounts> = BTreeMap::new();
        for (m, _, c) in self.emitted() {
            let t = out.entry(m).or_default();
            t.applied += c.applied;
            t.queued += c.queued;
            t.rejected += c.rejected;
            t.duplicates += c.duplicates;
            t.reversed += c.reversed;
            t.warnings += c.warnings;
            t.breaches += c.breaches;
        }
        out
    }
}

impl Metrics for MemoryMetrics {
    fn emit(&self, market: Market, kind: CountKind, counts: &MarketCounts) {
        self.emitted.lock().unwrap_or_else(|p| p.into_inner()).push((market, kind, *counts));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emf_line_declares_each_metric_under_the_market_dimension() {
        let counts = MarketCounts { breaches: 3, warnings: 1, ..Default::default() };
        let at = DateTime::parse_from_rfc3339("2026-11-21T10:00:00Z").unwrap().with_timezone(&Utc);
        let docs = EmfStdout::new("sla-sweeper").documents(Market::CA, CountKind::Alerts, &counts, at);
        assert_eq!(docs.len(), 1);
        let doc: serde_json::Value = serde_json::from_str(&docs[0]).unwrap();
        let cw = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(cw["Namespace"], "Remit");
        assert_eq!(cw["Dimensions"][0], serde_json::json!(["Market"]));
        let names: Vec<&str> =
            cw["Metrics"].as_array().unwrap().iter().map(|m| m["Name"].as_str().unwrap()).collect();
        assert_eq!(names, ["SlaBreaches", "SlaWarnings"]);
        assert_eq!((doc["Market"].as_str(), doc["SlaBreaches"].as_u64()), (Some("CA"), Some(3)));
        assert_eq!(doc["Function"], "sla-sweeper");
        assert_eq!(doc["_aws"]["Timestamp"], at.timestamp_millis());
    }
}
