//! SLA alerts: two sparse indexes on the research items, `sla-warn-pending` (`warn_pending`,
//! `warn_sort`) and `sla-breach-pending` (`breach_pending`, `due_sort`). The partition attribute
//! holds the market while the item is active and its alert unclaimed; `mark_alerted` removes it
//! in the same conditional update that records the alert, so the query reads only what is
//! still to raise.

use chrono::{DateTime, Utc};
use remit_domain::ports::{AlertKind, ResearchItem, SlaAlerts, StoreError, MAX_INDEX_RESULTS};
use remit_domain::Market;

use crate::calls::{Expr, Query, Write};
use crate::codec::{s, through, ts};
use crate::queue::{item_from, item_key};
use crate::tables::index;
use crate::DynamoStore;

/// An alert kind's index, its partition and sort attributes, and the attribute marking it raised.
fn alert_attributes(kind: AlertKind) -> (&'static str, &'static str, &'static str, &'static str) {
    match kind {
        AlertKind::Warning => (index::WARN_PENDING, "warn_pending", "warn_sort", "warn_notified_at"),
        AlertKind::Breach => (index::BREACH_PENDING, "breach_pending", "due_sort", "breach_notified_at"),
    }
}

impl SlaAlerts for DynamoStore {
    fn pending_alerts(
        &self,
        market: Market,
        kind: AlertKind,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ResearchItem>, StoreError> {
        let (index, pending, sort, _) = alert_attributes(kind);
        let q = Query {
            table: &self.tables.research_items,
            index: Some(index),
            // Deadlines at `now` included: every sort key `now#id` is below `now$`.
            key: Expr::new(format!("#{pending} = :m AND #{sort} < :now"))
                .value(":m", s(market.code()))
                .value(":now", s(through(now))),
            consistent: false,
        };
        self.query("pending alerts", &q, limit.min(MAX_INDEX_RESULTS))?.iter().map(item_from).collect()
    }

    fn mark_alerted(&self, id: &str, kind: AlertKind, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let (_, pending, _, mark) = alert_attributes(kind);
        let w = Write::Update {
            table: self.tables.research_items.clone(),
            key: item_key(id),
            update: Expr::new(format!("SET #{mark} = :now REMOVE #{pending}")).value(":now", s(ts(now))),
            // Still active (in the queue index) and not yet marked; an unknown item fails too.
            cond: Some(Expr::new(format!(
                "attribute_exists(#open_market) AND attribute_not_exists(#{mark})"
            ))),
        };
        self.write("mark alerted", w)
    }
}
