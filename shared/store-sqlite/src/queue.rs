//! The research queues (`ResearchQueue`) and their operations (`QueueOps`): items by id, read
//! by market and due time; every change is conditional on the version and appends an audit entry.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use remit_domain::model::decision::Candidate;
use remit_domain::ports::{
    AuditAction, AuditEntry, Claim, Disposition, ItemChange, ItemStatus, PaymentState, QueueCursor,
    QueueFilter, QueueOps, ResearchItem, ResearchQueue, StoreError, Transition, MAX_INDEX_RESULTS,
};
use remit_domain::{CardRef, Decision, FileId, Market, Money, PaymentKey, ReasonCode};
use rusqlite::{params, Connection, TransactionBehavior};

use crate::codec::{corrupt, json, parse_cur, parse_dec, parse_ts, ts};
use crate::error::db;
use crate::items::insert_item;
use crate::ledger::post_in;
use crate::payments::advance_payment;
use crate::SqliteStore;

/// The columns an item is read back from: `ITEM_COLUMNS` and the queue's (issue 6).
pub(crate) const ITEM_READ_COLUMNS: &str =
    "id, payment_key, market, file_id, bank_ref, amount, currency, payer_name, \
     reason_code, reasons, candidate, confidence, created_at, due_at, status, payer_identities, warn_at, \
     claimed_by, claim_expires_at, version, disposition, linking_refs, candidates";

/// A disposition as stored: the account in full (the store holds card numbers; nothing it
/// returns prints them unmasked).
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredDisposition {
    by: String,
    at: DateTime<Utc>,
    account: Option<String>,
    reason: Option<String>,
    approved_by: Option<String>,
}

fn store_disposition(d: &Option<Disposition>) -> Result<Option<String>, StoreError> {
    d.as_ref()
        .map(|d| {
            json(&StoredDisposition {
                by: d.by.clone(),
                at: d.at,
                account: d.account.as_ref().map(|a| a.stored().to_string()),
                reason: d.reason.clone(),
                approved_by: d.approved_by.clone(),
            })
        })
        .transpose()
}

fn read_disposition(j: &str) -> Result<Disposition, StoreError> {
    let d: StoredDisposition = serde_json::from_str(j).map_err(|_| corrupt("disposition", "(not shown)"))?;
    Ok(Disposition {
        by: d.by,
        at: d.at,
        account: match d.account {
            Some(a) => {
                Some(CardRef::from_stored(&a).map_err(|_| corrupt("disposition account", "(masked)"))?)
            }
            None => None,
        },
        reason: d.reason,
        approved_by: d.approved_by,
    })
}

fn item_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<ResearchItem, StoreError>> {
    let s = |i: usize| r.get::<_, String>(i);
    let o = |i: usize| r.get::<_, Option<String>>(i);
    let (id, key, market, file_id, bank_ref, amount, cur) = (s(0)?, s(1)?, s(2)?, s(3)?, s(4)?, s(5)?, s(6)?);
    let (payer, code, reasons, candidate) = (o(7)?, s(8)?, s(9)?, o(10)?);
    let confidence: f64 = r.get(11)?;
    let (created, due, status) = (s(12)?, s(13)?, s(14)?);
    let identities = o(15)?;
    let warn = o(16)?;
    let (claimed_by, claim_expires, version, disposition) = (o(17)?, o(18)?, r.get::<_, i64>(19)?, o(20)?);
    let linking_refs = o(21)?;
    let candidates = o(22)?;
    Ok((|| {
        let currency = parse_cur(&cur)?;
        Ok(ResearchItem {
            id,
            payment_key: PaymentKey::from_stored(key),
            market: Market::from_str(&market).map_err(|_| corrupt("market", &market))?,
            file_id: FileId::from_str(&file_id).map_err(|_| corrupt("file id", &file_id))?,
            bank_ref,
            amount: Money::new(parse_dec(&amount)?, currency).map_err(|_| corrupt("amount", &amount))?,
            payer_name: payer,
            payer_identities: match identities {
                Some(j) => serde_json::from_str(&j).map_err(|_| corrupt("payer identities", &j))?,
                None => Vec::new(),
            },
            reason_code: serde_json::from_value::<ReasonCode>(serde_json::Value::String(code.clone()))
                .map_err(|_| corrupt("reason code", &code))?,
            reasons: serde_json::from_str(&reasons).map_err(|_| corrupt("reasons", &reasons))?,
            candidate: match candidate {
                Some(c) => Some(CardRef::from_stored(&c).map_err(|_| corrupt("candidate", "(masked)"))?),
                None => None,
            },
            candidates: match candidates {
                Some(j) => {
                    Candidate::from_stored_list(&j).ok_or_else(|| corrupt("candidates", "(not shown)"))?
                }
                None => Vec::new(),
            },
            confidence,
            created_at: parse_ts(&created)?,
            warn_at: match warn {
                Some(w) => parse_ts(&w)?,
                None => parse_ts(&due)?,
            },
            due_at: parse_ts(&due)?,
            status: ItemStatus::parse(&status).ok_or_else(|| corrupt("item status", &status))?,
            claim: match (claimed_by, claim_expires) {
                (Some(analyst), Some(at)) => Some(Claim { analyst, expires_at: parse_ts(&at)? }),
                _ => None,
            },
            version: u64::try_from(version).map_err(|_| corrupt("version", &version.to_string()))?,
            disposition: disposition.as_deref().map(read_disposition).transpose()?,
            linking_refs: match linking_refs {
                Some(j) => serde_json::from_str(&j).map_err(|_| corrupt("linking refs", "(not shown)"))?,
                None => Vec::new(),
            },
        })
    })())
}

impl ResearchQueue for SqliteStore {
    fn enqueue(&self, item: &ResearchItem) -> Result<Transition, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        if !insert_item(&tx, item)? {
            return Ok(Transition::AlreadyDone);
        }
        let decision = Decision {
            outcome: remit_domain::Outcome::Research,
            account: item.candidate,
            confidence: item.confidence,
            reasons: item.reasons.clone(),
            splits: Vec::new(),
            candidates: Vec::new(),
        };
        if !advance_payment(&tx, &item.payment_key, PaymentState::Queued, &decision, item.created_at)? {
            return Ok(Transition::AlreadyDone);
        }
        tx.commit().map_err(db)?;
        Ok(Transition::Done)
    }

    fn open_items(&self, market: Market, limit: usize) -> Result<Vec<ResearchItem>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {ITEM_READ_COLUMNS} FROM research_items WHERE open_market = ?1 ORDER BY due_at, id LIMIT ?2"
            ))
            .map_err(db)?;
        let rows = stmt.query_map(params![market.code(), limit as i64], item_from_row).map_err(db)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r.map_err(db)??);
        }
        Ok(out)
    }
}

pub(crate) fn read_items(
    conn: &Connection,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
) -> Result<Vec<ResearchItem>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(db)?;
    let rows = stmt.query_map(params, item_from_row).map_err(db)?;
    let mut out = Vec::new();
    for r in rows {
        out.push(r.map_err(db)??);
    }
    Ok(out)
}

fn item_in(conn: &Connection, id: &str) -> Result<Option<ResearchItem>, StoreError> {
    let sql = format!("SELECT {ITEM_READ_COLUMNS} FROM research_items WHERE id = ?1");
    Ok(read_items(conn, &sql, &[&id])?.into_iter().next())
}

/// Appends an audit entry at `seq` (a put that must not find the key).
fn append_audit(tx: &rusqlite::Transaction<'_>, a: &AuditEntry, seq: u64) -> Result<(), StoreError> {
    let inserted = tx
        .execute(
            "INSERT INTO research_audit (item, seq, at, actor, action, before, after, note)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
            params![
                a.item,
                seq as i64,
                ts(a.at),
                a.actor,
                a.action.as_str(),
                json(&a.before)?,
                json(&a.after)?,
                a.note,
            ],
        )
        .map_err(db)?;
    if inserted == 0 {
        return Err(StoreError::Conflict(format!("audit entry {} of {} exists", seq, a.item)));
    }
    Ok(())
}

/// Sets the closed index columns of the items closed before they existed (issue 16), once, when
/// the columns are added to an older database: each closed item's disposition time.
pub(crate) fn backfill_closed(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
    let closed: Vec<(String, String, String)> = {
        let mut stmt = tx
            .prepare(
                "SELECT id, status, disposition FROM research_items
                 WHERE open_market IS NULL AND disposition IS NOT NULL",
            )
            .map_err(db)?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).map_err(db)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db)?
    };
    for (id, status, disposition) in closed {
        let status = ItemStatus::parse(&status).ok_or_else(|| corrupt("item status", &status))?;
        if status.is_active() {
            continue;
        }
        let at = read_disposition(&disposition)?.at;
        tx.execute(
            "UPDATE research_items SET closed_market = market, closed_at = ?2 WHERE id = ?1",
            params![id, ts(at)],
        )
        .map_err(db)?;
    }
    tx.commit().map_err(db)
}

/// Scans at most this many index rows per listing page before filtering (a DynamoDB query page).
const LIST_SCAN: i64 = 1000;

impl QueueOps for SqliteStore {
    fn item(&self, id: &str) -> Result<Option<ResearchItem>, StoreError> {
        item_in(&self.conn(), id)
    }

    fn items_of_file(&self, file: &FileId, limit: usize) -> Result<Vec<ResearchItem>, StoreError> {
        let sql =
            format!("SELECT {ITEM_READ_COLUMNS} FROM research_items WHERE file_id = ?1 ORDER BY id LIMIT ?2");
        read_items(&self.conn(), &sql, &[&file.to_hex(), &(limit as i64)])
    }

    fn list(
        &self,
        market: Market,
        filter: &QueueFilter,
        limit: usize,
    ) -> Result<Vec<ResearchItem>, StoreError> {
        let limit = limit.min(remit_domain::ports::MAX_INDEX_RESULTS);
        // A range read on the (market, due_at) index: the sparse open one when only active
        // items are wanted; the filter applies to what the read returns.
        let column = if filter.active_only() { "open_market" } else { "market" };
        let mut after: Option<(String, String)> = None;
        let mut out = Vec::new();
        loop {
            let page = {
                let conn = self.conn();
                match &after {
                    None => {
                        let sql = format!(
                            "SELECT {ITEM_READ_COLUMNS} FROM research_items WHERE {column} = ?1
                             ORDER BY due_at, id LIMIT ?2"
                        );
                        read_items(&conn, &sql, &[&market.code(), &LIST_SCAN])?
                    }
                    Some((due, id)) => {
                        let sql = format!(
                            "SELECT {ITEM_READ_COLUMNS} FROM research_items WHERE {column} = ?1
                             AND (due_at, id) > (?3, ?4) ORDER BY due_at, id LIMIT ?2"
                        );
                        read_items(&conn, &sql, &[&market.code(), &LIST_SCAN, due, id])?
                    }
                }
            };
            let full = page.len() as i64 == LIST_SCAN;
            after = page.last().map(|i| (ts(i.due_at), i.id.clone()));
            for item in page {
                if filter.accepts(&item) {
                    out.push(item);
                    if out.len() >= limit {
                        return Ok(out);
                    }
                }
            }
            if !full {
                return Ok(out);
            }
        }
    }

    fn claim(
        &self,
        id: &str,
        analyst: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<ResearchItem, StoreError> {
        remit_domain::ports::check_claim_entry(id, audit)?;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        let updated = tx
            .execute(
                "UPDATE research_items SET claimed_by = ?2, claim_expires_at = ?4, version = version + 1
                 WHERE id = ?1 AND open_market IS NOT NULL
                 AND (claimed_by IS NULL OR claimed_by = ?2 OR claim_expires_at <= ?3)",
                params![id, analyst, ts(now), ts(expires_at)],
            )
            .map_err(db)?;
        if updated == 0 {
            return Err(StoreError::Conflict(format!("research item {id} is not claimable")));
        }
        let item = item_in(&tx, id)?.ok_or_else(|| corrupt("research item", id))?;
        append_audit(&tx, audit, item.version)?;
        tx.commit().map_err(db)?;
        Ok(item)
    }

    fn transition(&self, c: &ItemChange) -> Result<ResearchItem, StoreError> {
        let a = &c.after;
        if a.version != c.expected_version + 1 || c.audit.item != a.id {
            return Err(StoreError::Conflict(format!("research item {}: inconsistent change", a.id)));
        }
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        let updated = tx
            .execute(
                "UPDATE research_items SET status = ?3, open_market = ?4, claimed_by = ?5,
                 claim_expires_at = ?6, disposition = ?7, version = ?8,
                 closed_market = CASE WHEN ?9 IS NULL THEN NULL ELSE market END, closed_at = ?9
                 WHERE id = ?1 AND version = ?2",
                params![
                    a.id,
                    c.expected_version as i64,
                    a.status.as_str(),
                    a.status.is_active().then(|| a.market.code()),
                    a.claim.as_ref().map(|c| c.analyst.clone()),
                    a.claim.as_ref().map(|c| ts(c.expires_at)),
                    store_disposition(&a.disposition)?,
                    a.version as i64,
                    a.closed_at().map(ts),
                ],
            )
            .map_err(db)?;
        if updated == 0 {
            return Err(StoreError::Conflict(format!(
                "research item {} is not at version {}",
                a.id, c.expected_version
            )));
        }
        append_audit(&tx, &c.audit, a.version)?;
        if let Some(p) = &c.posting {
            p.check_lines()?;
            if p.payment_key != a.payment_key {
                return Err(StoreError::Conflict(format!(
                    "research item {}: posting of another payment",
                    a.id
                )));
            }
            if !post_in(&tx, p, PaymentState::Queued)? {
                return Err(StoreError::Conflict(format!(
                    "payment {} is already posted or no longer queued",
                    p.payment_key
                )));
            }
        }
        let item = item_in(&tx, &a.id)?.ok_or_else(|| corrupt("research item", &a.id))?;
        tx.commit().map_err(db)?;
        Ok(item)
    }

    fn open_page(
        &self,
        market: Market,
        after: Option<&QueueCursor>,
        limit: usize,
    ) -> Result<Vec<ResearchItem>, StoreError> {
        let limit = limit.min(MAX_INDEX_RESULTS) as i64;
        let conn = self.conn();
        match after {
            None => {
                let sql = format!(
                    "SELECT {ITEM_READ_COLUMNS} FROM research_items WHERE open_market = ?1
                     ORDER BY due_at, id LIMIT ?2"
                );
                read_items(&conn, &sql, &[&market.code(), &limit])
            }
            Some(c) => {
                let sql = format!(
                    "SELECT {ITEM_READ_COLUMNS} FROM research_items WHERE open_market = ?1
                     AND (due_at, id) > (?3, ?4) ORDER BY due_at, id LIMIT ?2"
                );
                read_items(&conn, &sql, &[&market.code(), &limit, &ts(c.at), &c.id])
            }
        }
    }

    fn closed_between(
        &self,
        market: Market,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        after: Option<&QueueCursor>,
        limit: usize,
    ) -> Result<Vec<ResearchItem>, StoreError> {
        let limit = limit.min(MAX_INDEX_RESULTS) as i64;
        // Without a cursor, after the (impossible) item of id "" closed at `from`.
        let (at, id) = match after {
            Some(c) => (ts(c.at), c.id.clone()),
            None => (ts(from), String::new()),
        };
        let sql = format!(
            "SELECT {ITEM_READ_COLUMNS} FROM research_items WHERE closed_market = ?1
             AND closed_at >= ?2 AND closed_at < ?3 AND (closed_at, id) > (?4, ?5)
             ORDER BY closed_at, id LIMIT ?6"
        );
        read_items(&self.conn(), &sql, &[&market.code(), &ts(from), &ts(to), &at, &id, &limit])
    }

    fn audit_page(&self, id: &str, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let limit = limit.min(remit_domain::ports::MAX_AUDIT_PAGE) as i64;
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq, at, actor, action, before, after, note FROM research_audit
                 WHERE item = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map(params![id, after, limit], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, Option<String>>(6)?,
                ))
            })
            .map_err(db)?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, at, actor, action, before, after, note) = row.map_err(db)?;
            out.push(AuditEntry {
                item: id.to_string(),
                seq: u64::try_from(seq).map_err(|_| corrupt("audit seq", &seq.to_string()))?,
                at: parse_ts(&at)?,
                actor,
                action: AuditAction::parse(&action).ok_or_else(|| corrupt("audit action", &action))?,
                before: serde_json::from_str(&before).map_err(|_| corrupt("audit before", &before))?,
                after: serde_json::from_str(&after).map_err(|_| corrupt("audit after", &after))?,
                note,
            });
        }
        Ok(out)
    }
}
