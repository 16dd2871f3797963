//! SLA alerts: open items past their warning or due time not yet alerted (sparse pending
//! indexes), each alert claimed once, conditionally, before it is published.

use chrono::{DateTime, Utc};
use remit_domain::ports::{AlertKind, ResearchItem, SlaAlerts, StoreError};
use remit_domain::Market;
use rusqlite::params;

use crate::codec::ts;
use crate::error::db;
use crate::queue::{read_items, ITEM_READ_COLUMNS};
use crate::SqliteStore;

impl SlaAlerts for SqliteStore {
    fn pending_alerts(
        &self,
        market: Market,
        kind: AlertKind,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ResearchItem>, StoreError> {
        let limit = limit.min(remit_domain::ports::MAX_INDEX_RESULTS) as i64;
        let (deadline, mark) = alert_columns(kind);
        let sql = format!(
            "SELECT {ITEM_READ_COLUMNS} FROM research_items
             WHERE open_market = ?1 AND {mark} IS NULL AND {deadline} <= ?2
             ORDER BY {deadline}, id LIMIT ?3"
        );
        read_items(&self.conn(), &sql, &[&market.code(), &ts(now), &limit])
    }

    fn mark_alerted(&self, id: &str, kind: AlertKind, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let (_, mark) = alert_columns(kind);
        let sql = format!(
            "UPDATE research_items SET {mark} = ?2 WHERE id = ?1 AND {mark} IS NULL AND open_market IS NOT NULL"
        );
        let n = self.conn().execute(&sql, params![id, ts(now)]).map_err(db)?;
        Ok(n == 1)
    }
}

/// The deadline column and the mark column of an alert kind.
fn alert_columns(kind: AlertKind) -> (&'static str, &'static str) {
    match kind {
        AlertKind::Warning => ("warn_at", "warn_notified_at"),
        AlertKind::Breach => ("due_at", "breach_notified_at"),
    }
}
