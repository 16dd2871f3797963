//! The SLA sweeper (issue 6): finds active research items past their warning or breach time and
//! raises each alert exactly once, even when sweeps overlap; and the daily digest per market for
//! leadership. The SLAs themselves are `crate::research::sla`.
//!
//! Exactly once: the sweeper claims an alert in the store with a conditional write
//! (`SlaAlerts::mark_alerted`: `warn_notified_at` / `breach_notified_at` set only while unset)
//! and publishes only when its own write succeeded. Two sweeps reading the same item race on that
//! write; one wins and publishes, the other counts it as already claimed. The price is
//! at-most-once on a crash between the mark and the publish: such an alert is reported as failed
//! (`SweepReport::failed`) and not raised again by later sweeps.

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::decision::ReasonCode;
use crate::model::payment::Market;
use crate::ports::{AlertKind, ResearchItem, ResearchQueue, SlaAlerts, StoreError};
use crate::text::masking::mask_card_numbers;

/// An SLA alert as published. Card numbers are masked in every field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlaAlert {
    pub kind: AlertKind,
    pub market: Market,
    /// The research item id.
    pub item: String,
    /// The blocking reason code (`no-reference`, `ambiguous`, ...).
    pub reason_code: String,
    /// The matcher's first reason, in words.
    pub reason: String,
    /// Decimal amount as text, and its currency.
    pub amount: String,
    pub currency: String,
    pub warn_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    /// The item's status (`open`, `escalated`, `write-off-pending`).
    pub status: String,
    pub bank_ref: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<String>,
    /// The best candidate account, masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate: Option<String>,
    /// When the sweep raised it.
    pub raised_at: DateTime<Utc>,
}

/// A reason code as written in configuration and on screens (`account-closed`).
pub fn reason_code_text(code: ReasonCode) -> String {
    serde_json::to_value(code).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

impl SlaAlert {
    /// The alert of `kind` for `item`, raised at `now`, masked.
    pub fn of(item: &ResearchItem, kind: AlertKind, now: DateTime<Utc>) -> Self {
        Self {
            kind,
            market: item.market,
            item: mask_card_numbers(&item.id),
            reason_code: reason_code_text(item.reason_code),
            reason: item.reasons.first().map(|r| mask_card_numbers(&r.text)).unwrap_or_default(),
            amount: item.amount.amount().to_string(),
            currency: item.amount.currency().code().to_string(),
            warn_at: item.warn_at,
            due_at: item.due_at,
            status: item.status.as_str().to_string(),
            bank_ref: mask_card_numbers(&item.bank_ref),
            payer: item.payer_name.as_deref().map(mask_card_numbers),
            candidate: item.candidate.as_ref().map(|c| c.masked()),
            raised_at: now,
        }
    }

    /// One line for people.
    pub fn text(&self) -> String {
        let what = match self.kind {
            AlertKind::Warning => format!("SLA warning: due {}", self.due_at.format("%Y-%m-%d %H:%M UTC")),
            AlertKind::Breach => format!("SLA BREACH: was due {}", self.due_at.format("%Y-%m-%d %H:%M UTC")),
        };
        // The reason quotes file fields (a payer's name): escaped, it stays one line.
        crate::text::shown::one_line(&mask_card_numbers(&format!(
            "[{}] {} {} {} {} ({}): {}",
            self.market, self.item, what, self.amount, self.currency, self.reason_code, self.reason
        )))
    }
}

/// What goes through an alert sink.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Notice {
    SlaAlert(SlaAlert),
    Digest(MarketDigest),
}

/// Publishing failed. The local file adapter fails on I/O; SNS on throttling or permissions.
#[derive(Debug, thiserror::Error)]
#[error("alert sink: {0}")]
pub struct AlertError(pub String);

/// The alert port: where SLA alerts and digests go. Adapters: a JSON-lines file locally
/// (`remit`), a memory sink for tests, SNS later.
pub trait AlertSink {
    fn publish(&self, notice: &Notice) -> Result<(), AlertError>;
}

impl<T: AlertSink + ?Sized> AlertSink for &T {
    fn publish(&self, notice: &Notice) -> Result<(), AlertError> {
        (**self).publish(notice)
    }
}

/// Keeps what is published, in order (tests, and a dry run).
#[derive(Debug, Default)]
pub struct MemorySink {
    notices: Mutex<Vec<Notice>>,
}

impl MemorySink {
    pub fn notices(&self) -> Vec<Notice> {
        self.notices.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The SLA alerts published so far.
    pub fn alerts(&self) -> Vec<SlaAlert> {
        self.notices()
            .into_iter()
            .filter_map(|n| match n {
                Notice::SlaAlert(a) => Some(a),
                Notice::Digest(_) => None,
            })
            .collect()
    }
}

impl AlertSink for MemorySink {
    fn publish(&self, notice: &Notice) -> Result<(), AlertError> {
        self.notices.lock().unwrap_or_else(|p| p.into_inner()).push(notice.clone());
        Ok(())
    }
}

/// What a sweep did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SweepReport {
    pub now: Option<DateTime<Utc>>,
    /// Warnings and breaches this sweep claimed and published.
    pub warnings: u64,
    pub breaches: u64,
    /// Alerts another sweep claimed first (or whose item closed meanwhile): not raised here.
    pub already_claimed: u64,
    /// Warnings not raised because the item had breached already (its breach alert says more).
    pub warnings_superseded: u64,
    /// Alerts claimed but not delivered (sink failures), and store failures per market. Card
    /// numbers masked.
    pub failed: Vec<String>,
    /// The alerts published, in order.
    pub alerts: Vec<SlaAlert>,
}

impl SweepReport {
    pub fn ok(&self) -> bool {
        self.failed.is_empty()
    }
}

/// Items read per page of the pending index.
const PAGE: usize = crate::ports::MAX_INDEX_RESULTS;
/// At most this many pages per market and kind in one sweep (a guard, not a limit in practice:
/// 100 000 alerts).
const MAX_PAGES: usize = 1000;

/// Finds the active items of every market past their breach or warning time and raises each
/// alert once: breaches first, then warnings. An item already past its due time gets its breach
/// alert only (its warning is marked as superseded). Store failures of one market are reported
/// and the other markets still swept.
pub fn sweep<S: SlaAlerts + ?Sized>(store: &S, alerts: &impl AlertSink, now: DateTime<Utc>) -> SweepReport {
    let mut report = SweepReport { now: Some(now), ..SweepReport::default() };
    for market in Market::ALL {
        if let Err(e) = sweep_market(store, alerts, market, now, &mut report) {
            tracing::error!(%market, error = %e, "SLA sweep failed for the market");
            report.failed.push(mask_card_numbers(&format!("{market}: {e}")));
        }
    }
    tracing::info!(
        warnings = report.warnings,
        breaches = report.breaches,
        already_claimed = report.already_claimed,
        failed = report.failed.len(),
        "SLA sweep done"
    );
    report
}

fn sweep_market<S: SlaAlerts + ?Sized>(
    store: &S,
    alerts: &impl AlertSink,
    market: Market,
    now: DateTime<Utc>,
    report: &mut SweepReport,
) -> Result<(), StoreError> {
    for kind in [AlertKind::Breach, AlertKind::Warning] {
        for _ in 0..MAX_PAGES {
            let page = store.pending_alerts(market, kind, now, PAGE)?;
            let full = page.len() >= PAGE;
            for item in page {
                if kind.deadline(&item) > now || !item.status.is_active() {
                    continue; // an adapter returning more than asked: not ours to alert
                }
                if kind == AlertKind::Warning && item.due_at <= now {
                    if store.mark_alerted(&item.id, AlertKind::Warning, now)? {
                        report.warnings_superseded += 1;
                    }
                    continue;
                }
                if !store.mark_alerted(&item.id, kind, now)? {
                    report.already_claimed += 1;
                    continue;
                }
                if kind == AlertKind::Breach {
                    // The breach says more than a late warning would.
                    if store.mark_alerted(&item.id, AlertKind::Warning, now)? {
                        report.warnings_superseded += 1;
                    }
                }
                let alert = SlaAlert::of(&item, kind, now);
                match alerts.publish(&Notice::SlaAlert(alert.clone())) {
                    Ok(()) => {
                        match kind {
                            AlertKind::Warning => report.warnings += 1,
                            AlertKind::Breach => report.breaches += 1,
                        }
                        report.alerts.push(alert);
                    }
                    Err(e) => {
                        tracing::error!(item = %alert.item, kind = kind.as_str(), error = %e, "SLA alert not delivered");
                        report.failed.push(mask_card_numbers(&format!(
                            "{} alert for {} claimed but not delivered: {e}",
                            kind.as_str(),
                            alert.item
                        )));
                    }
                }
            }
            if !full {
                break;
            }
        }
    }
    Ok(())
}

/// Items read for a digest at most; beyond, the digest says it is truncated.
pub const DIGEST_LIMIT: usize = 10_000;

/// Ageing buckets of open items, by calendar time since the item was created.
pub const AGEING_BUCKETS: [(&str, i64); 4] = [("<1d", 1), ("1-2d", 2), ("2-5d", 5), (">5d", i64::MAX)];

/// One ageing bucket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgeBucket {
    pub label: String,
    pub items: u64,
}

/// A reason and how many open items it blocks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonCount {
    pub reason_code: String,
    pub items: u64,
}

/// A breached item in the digest, masked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreachLine {
    pub item: String,
    pub due_at: DateTime<Utc>,
    pub amount: String,
    pub currency: String,
    pub reason_code: String,
}

/// The daily digest of one market's research queue, for leadership.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MarketDigest {
    pub market: Market,
    pub as_of: DateTime<Utc>,
    /// Active items (open, escalated, write-off pending).
    pub open_items: u64,
    pub by_status: BTreeMap<String, u64>,
    /// Open amounts per currency.
    pub open_amounts: BTreeMap<String, Decimal>,
    pub ageing: Vec<AgeBucket>,
    /// Active items past their due time.
    pub breached: u64,
    /// Active items past their warning time but not yet due.
    pub warning: u64,
    pub on_track: u64,
    /// Most frequent blocking reasons, at most five.
    pub top_reasons: Vec<ReasonCount>,
    /// The oldest breaches, at most ten.
    pub oldest_breaches: Vec<BreachLine>,
    /// True when the market had more than `DIGEST_LIMIT` active items (counts cover those read).
    pub truncated: bool,
}

/// The digest of `market`'s active items at `now`: one range read of the open index.
pub fn digest<S: ResearchQueue + ?Sized>(
    store: &S,
    market: Market,
    now: DateTime<Utc>,
) -> Result<MarketDigest, StoreError> {
    let items = store.open_items(market, DIGEST_LIMIT + 1)?;
    let truncated = items.len() > DIGEST_LIMIT;
    Ok(digest_of(market, &items[..items.len().min(DIGEST_LIMIT)], now, truncated))
}

/// The digest of the given active items (pure).
pub fn digest_of(
    market: Market,
    items: &[ResearchItem],
    now: DateTime<Utc>,
    truncated: bool,
) -> MarketDigest {
    let mut d = MarketDigest {
        market,
        as_of: now,
        open_items: 0,
        by_status: BTreeMap::new(),
        open_amounts: BTreeMap::new(),
        ageing: AGEING_BUCKETS.iter().map(|(l, _)| AgeBucket { label: l.to_string(), items: 0 }).collect(),
        breached: 0,
        warning: 0,
        on_track: 0,
        top_reasons: Vec::new(),
        oldest_breaches: Vec::new(),
        truncated,
    };
    let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
    let mut breaches: Vec<&ResearchItem> = Vec::new();
    for i in items.iter().filter(|i| i.status.is_active()) {
        d.open_items += 1;
        *d.by_status.entry(i.status.as_str().to_string()).or_default() += 1;
        *d.open_amounts.entry(i.amount.currency().code().to_string()).or_default() += i.amount.amount();
        let age_days = (now - i.created_at).num_days().max(0);
        let bucket =
            AGEING_BUCKETS.iter().position(|(_, max)| age_days < *max).unwrap_or(AGEING_BUCKETS.len() - 1);
        d.ageing[bucket].items += 1;
        if i.due_at <= now {
            d.breached += 1;
            breaches.push(i);
        } else if i.warn_at <= now {
            d.warning += 1;
        } else {
            d.on_track += 1;
        }
        *reasons.entry(reason_code_text(i.reason_code)).or_default() += 1;
    }
    let mut top: Vec<ReasonCount> =
        reasons.into_iter().map(|(reason_code, items)| ReasonCount { reason_code, items }).collect();
    top.sort_by(|a, b| b.items.cmp(&a.items).then_with(|| a.reason_code.cmp(&b.reason_code)));
    top.truncate(5);
    d.top_reasons = top;
    breaches.sort_by(|a, b| a.due_at.cmp(&b.due_at).then_with(|| a.id.cmp(&b.id)));
    d.oldest_breaches = breaches
        .into_iter()
        .take(10)
        .map(|i| BreachLine {
            item: mask_card_numbers(&i.id),
            due_at: i.due_at,
            amount: i.amount.amount().to_string(),
            currency: i.amount.currency().code().to_string(),
            reason_code: reason_code_text(i.reason_code),
        })
        .collect();
    d
}

impl MarketDigest {
    /// The digest as text for people.
    pub fn text(&self) -> String {
        let mut s = format!(
            "{} research queue digest as of {}\n",
            self.market,
            self.as_of.format("%Y-%m-%d %H:%M UTC")
        );
        s += &format!(
            "  open items: {}{}  (breached {}, warning {}, on track {})\n",
            self.open_items,
            if self.truncated { "+" } else { "" },
            self.breached,
            self.warning,
            self.on_track
        );
        if !self.by_status.is_empty() {
            let st: Vec<String> = self.by_status.iter().map(|(k, v)| format!("{k} {v}")).collect();
            s += &format!("  by status: {}\n", st.join(", "));
        }
        if !self.open_amounts.is_empty() {
            let am: Vec<String> = self.open_amounts.iter().map(|(c, a)| format!("{a} {c}")).collect();
            s += &format!("  open amounts: {}\n", am.join(", "));
        }
        let ag: Vec<String> = self.ageing.iter().map(|b| format!("{} {}", b.label, b.items)).collect();
        s += &format!("  ageing: {}\n", ag.join(", "));
        if !self.top_reasons.is_empty() {
            let r: Vec<String> =
                self.top_reasons.iter().map(|r| format!("{} {}", r.reason_code, r.items)).collect();
            s += &format!("  top reasons: {}\n", r.join(", "));
        }
        for b in &self.oldest_breaches {
            s += &format!(
                "  breached: {}  due {}  {} {}  {}\n",
                b.item,
                b.due_at.format("%Y-%m-%d %H:%M UTC"),
                b.amount,
                b.currency,
                b.reason_code
            );
        }
        mask_card_numbers(&s)
    }
}

/// Builds each market's digest at `now` and publishes it through `alerts`.
pub fn publish_digests<S: ResearchQueue + ?Sized>(
    store: &S,
    alerts: &impl AlertSink,
    markets: &[Market],
    now: DateTime<Utc>,
) -> Result<Vec<MarketDigest>, DigestError> {
    let mut out = Vec::new();
    for &m in markets {
        let d = digest(store, m, now)?;
        alerts.publish(&Notice::Digest(d.clone()))?;
        out.push(d);
    }
    Ok(out)
}

/// Building or publishing a digest failed.
#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Sink(#[from] AlertError),
}
