//! SLA alerts: which alert, and the pending-alert indexes the SLA sweeper reads and marks.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::payment::Market;
use crate::ports::{ResearchItem, StoreError};

/// Which SLA alert: the warning (the policy's fraction of the SLA elapsed) or the breach.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertKind {
    Warning,
    Breach,
}

impl AlertKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            AlertKind::Warning => "warning",
            AlertKind::Breach => "breach",
        }
    }

    /// The instant of `item` this alert is about (`warn_at` or `due_at`).
    pub fn deadline(&self, item: &ResearchItem) -> DateTime<Utc> {
        match self {
            AlertKind::Warning => item.warn_at,
            AlertKind::Breach => item.due_at,
        }
    }
}

/// What the SLA sweeper (`crate::research::sweeper::sweep`) needs: the active items past a deadline
/// whose alert has not been claimed, and the claim itself, a conditional single-item write.
///
/// DynamoDB shape: two sparse GSIs on the research item table, `sla_warn_pending`
/// (partition `warn_pending` = the market code, sort `warn_at`) and `sla_breach_pending`
/// (partition `breach_pending` = the market code, sort `due_at`). The attribute is set while the
/// item is active and its alert unclaimed, and removed by `mark_alerted` (and by any transition
/// that closes the item), so the query reads only what is still to alert:
/// `KeyConditionExpression: warn_pending = :m AND warn_at <= :now`.
pub trait SlaAlerts {
    /// Range query on the pending-alert index of `kind`: active items of `market` whose
    /// deadline (`warn_at` or `due_at`) is at or before `now` and whose `kind` alert is not yet
    /// marked, earliest deadline first, at most `limit` (capped at `MAX_INDEX_RESULTS`).
    fn pending_alerts(
        &self,
        market: Market,
        kind: AlertKind,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ResearchItem>, StoreError>;
    /// Conditional update: sets the item's `warn_notified_at` / `breach_notified_at` to `now`
    /// only if it is still unset and the item is still active. True when this call set it (the
    /// caller then publishes the alert); false when another sweep did first, or the item closed.
    /// Does not change the item's version: an alert is not an analyst's change.
    fn mark_alerted(&self, id: &str, kind: AlertKind, now: DateTime<Utc>) -> Result<bool, StoreError>;
}
