//! Per-market counts the handlers report: payments applied, queued, rejected and so on from
//! ingest, warnings and breaches from the sweeper. In Lambda they go out as CloudWatch embedded
//! metric format (EMF) lines, namespace `Remit`, dimension `Market`; the alarms in
//! `infra/template.yaml` watch `Breaches`. The EMF writer here is the functions' own until
//! `remit_aws::metrics` provides it.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use remit_domain::pipeline::FileSummary;
use remit_domain::ports::AlertKind;
use remit_domain::sla::SweepReport;
use remit_domain::Market;
use serde::{Deserialize, Serialize};

/// The CloudWatch namespace of every metric.
pub const NAMESPACE: &str = "Remit";

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

    /// (metric name, value) pairs of the payment outcomes.
    fn payment_metrics(&self) -> [(&'static str, u64); 5] {
        [
            ("Applied", self.applied),
            ("Queued", self.queued),
            ("Rejected", self.rejected),
            ("Duplicates", self.duplicates),
            ("Reversed", self.reversed),
        ]
    }

    /// (metric name, value) pairs of the SLA alerts.
    fn alert_metrics(&self) -> [(&'static str, u64); 2] {
        [("Warnings", self.warnings), ("Breaches", self.breaches)]
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

/// Writes one CloudWatch EMF line per call to stdout, where Lambda's log stream picks it up.
#[derive(Debug, Default)]
pub struct EmfStdout;

impl EmfStdout {
    /// The EMF document for one market's counts at `at` (milliseconds since the epoch).
    pub fn document(
        market: Market,
        kind: CountKind,
        counts: &MarketCounts,
        at: DateTime<Utc>,
    ) -> serde_json::Value {
        let pairs: Vec<(&str, u64)> = match kind {
            CountKind::Payments => counts.payment_metrics().to_vec(),
            CountKind::Alerts => counts.alert_metrics().to_vec(),
        };
        let mut doc = serde_json::Map::new();
        let definitions: Vec<serde_json::Value> =
            pairs.iter().map(|(name, _)| serde_json::json!({ "Name": name, "Unit": "Count" })).collect();
        doc.insert(
            "_aws".into(),
            serde_json::json!({
                "Timestamp": at.timestamp_millis(),
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [["Market"]],
                    "Metrics": definitions,
                }],
            }),
        );
        doc.insert("Market".into(), market.code().into());
        for (name, value) in pairs {
            doc.insert(name.into(), value.into());
        }
        serde_json::Value::Object(doc)
    }
}

impl Metrics for EmfStdout {
    fn emit(&self, market: Market, kind: CountKind, counts: &MarketCounts) {
        let line = Self::document(market, kind, counts, Utc::now()).to_string();
        // One write per line: concurrent invocations' lines do not interleave.
        let mut out = std::io::stdout().lock();
        if let Err(e) = out.write_all(format!("{line}\n").as_bytes()) {
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
        let doc = EmfStdout::document(Market::CA, CountKind::Alerts, &counts, at);
        let cw = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(cw["Namespace"], "Remit");
        assert_eq!(cw["Dimensions"], serde_json::json!([["Market"]]));
        let names: Vec<&str> =
            cw["Metrics"].as_array().unwrap().iter().map(|m| m["Name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Warnings", "Breaches"]);
        assert_eq!((doc["Market"].as_str(), doc["Breaches"].as_u64()), (Some("CA"), Some(3)));
        assert_eq!(doc["_aws"]["Timestamp"], at.timestamp_millis());
    }
}
