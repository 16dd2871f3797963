//! The payment log (one row per payment key; the state moves on only from the state a write
//! names) and duplicate suspicion's history (the sparse `payments_by_fingerprint` index).

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use remit_domain::matching::payer::duplicate_fingerprint;
use remit_domain::ports::{
    PaymentHistory, PaymentLog, PaymentState, Receipt, SimilarPayment, StoreError, Transition,
};
use remit_domain::{Decision, FileId, Payment, PaymentKey};
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use crate::codec::{corrupt, json, ts};
use crate::error::db;
use crate::SqliteStore;

/// Moves a payment from `received` to `to` inside a transaction; false when it had moved on.
pub(crate) fn advance_payment(
    tx: &rusqlite::Transaction<'_>,
    key: &PaymentKey,
    to: PaymentState,
    decision: &Decision,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    advance_payment_from(tx, key, PaymentState::Received, to, decision, at)
}

/// Moves a payment from `from` to `to` inside a transaction; false when it was not in `from`.
pub(crate) fn advance_payment_from(
    tx: &rusqlite::Transaction<'_>,
    key: &PaymentKey,
    from: PaymentState,
    to: PaymentState,
    decision: &Decision,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = tx
        .execute(
            "UPDATE payments SET state = ?2, decided_at = ?3, decision = ?4
             WHERE key = ?1 AND state = ?5",
            params![key.as_str(), to.as_str(), ts(at), json(decision)?, from.as_str()],
        )
        .map_err(db)?;
    Ok(n == 1)
}

impl PaymentLog for SqliteStore {
    fn receive_payment(&self, p: &Payment, at: DateTime<Utc>) -> Result<Receipt, StoreError> {
        let key = p.key();
        let conn = self.conn();
        let inserted = conn
            .execute(
                "INSERT INTO payments (key, file_id, market, bank_ref, state, received_at, payment, fingerprint, value_date)
                 VALUES (?1, ?2, ?3, ?4, 'received', ?5, ?6, ?7, ?8) ON CONFLICT(key) DO NOTHING",
                params![
                    key.as_str(),
                    p.source.file_id.to_hex(),
                    p.market.code(),
                    p.bank_ref,
                    ts(at),
                    json(p)?,
                    duplicate_fingerprint(p),
                    p.value_date.to_string(),
                ],
            )
            .map_err(db)?;
        if inserted == 1 {
            return Ok(Receipt::New);
        }
        let (state, file): (String, String) = conn
            .query_row("SELECT state, file_id FROM payments WHERE key = ?1", [key.as_str()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(db)?;
        Ok(Receipt::Seen {
            state: PaymentState::parse(&state).ok_or_else(|| corrupt("payment state", &state))?,
            first_file: FileId::from_str(&file).map_err(|_| corrupt("file id", &file))?,
        })
    }

    fn reject_payment(
        &self,
        key: &PaymentKey,
        d: &Decision,
        at: DateTime<Utc>,
    ) -> Result<Transition, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        let moved = advance_payment(&tx, key, PaymentState::Rejected, d, at)?;
        tx.commit().map_err(db)?;
        Ok(if moved { Transition::Done } else { Transition::AlreadyDone })
    }

    fn payment_state(&self, key: &PaymentKey) -> Result<Option<PaymentState>, StoreError> {
        let s: Option<String> = self
            .conn()
            .query_row("SELECT state FROM payments WHERE key = ?1", [key.as_str()], |r| r.get(0))
            .optional()
            .map_err(db)?;
        s.map(|s| PaymentState::parse(&s).ok_or_else(|| corrupt("payment state", &s))).transpose()
    }
}

impl PaymentHistory for SqliteStore {
    fn similar_payments(
        &self,
        fingerprint: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<SimilarPayment>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT key, bank_ref, value_date FROM payments
                 WHERE fingerprint = ?1 AND value_date BETWEEN ?2 AND ?3 ORDER BY value_date, key LIMIT 100",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map(params![fingerprint, from.to_string(), to.to_string()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
            })
            .map_err(db)?;
        let mut out = Vec::new();
        for r in rows {
            let (key, bank_ref, date) = r.map_err(db)?;
            out.push(SimilarPayment {
                payment_key: PaymentKey::from_stored(key),
                bank_ref,
                value_date: NaiveDate::from_str(&date).map_err(|_| corrupt("value date", &date))?,
            });
        }
        Ok(out)
    }
}
