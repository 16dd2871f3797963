//! Per-market counts the handlers report (the domain's `Metrics` port; `remit_aws::EmfStdout`
//! writes them as CloudWatch EMF lines in Lambda): the sweeper's alerts as counts, and the
//! in-memory sink the tests read.

use std::collections::BTreeMap;
use std::sync::Mutex;

use remit_domain::ports::{AlertKind, CountKind, MarketCounts, Metrics};
use remit_domain::research::sweeper::SweepReport;
use remit_domain::Market;

/// The alerts a sweep raised, per market; every market appears (zeros included).
pub fn counts_of_sweep(report: &SweepReport) -> BTreeMap<Market, MarketCounts> {
    let mut out: BTreeMap<Market, MarketCounts> =
        Market::ALL.into_iter().map(|m| (m, MarketCounts::default())).collect();
    for a in &report.alerts {
        let c = out.entry(a.market).or_default();
        match a.kind {
            AlertKind::Warning => c.warnings += 1,
            AlertKind::Breach => c.breaches += 1,
        }
    }
    out
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
