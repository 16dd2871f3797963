//! The payment log (one row per payment key; the state moves on only from the state a write
//! names) and duplicate suspicion's history (the sparse `payments_by_fingerprint` index). The
//! payer history (issue 16): `payer_payments`, one row per payment and payer identity, written in
//! the transaction that first receives the payment.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use remit_domain::mask_card_numbers;
use remit_domain::matching::payer::{duplicate_fingerprint, identities};
use remit_domain::ports::{
    PayerCursor, PayerPayment, PayerPayments, PaymentHistory, PaymentLog, PaymentState, Receipt,
    SimilarPayment, StoreError, Transition, MAX_INDEX_RESULTS,
};
use remit_domain::{Decision, FileId, Market, Money, Payment, PaymentKey};
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use crate::codec::{corrupt, json, parse_cur, parse_dec, parse_ts, ts};
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
    /// The payment, and when it is new its payer history rows, in one transaction.
    fn receive_payment(&self, p: &Payment, at: DateTime<Utc>) -> Result<Receipt, StoreError> {
        let key = p.key();
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        let inserted = tx
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
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO payer_payments
                     (identity, received_at, payment_key, market, amount, currency, bank_ref, file_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
                )
                .map_err(db)?;
            for identity in identities(p) {
                stmt.execute(params![
                    identity.key(),
                    ts(at),
                    key.as_str(),
                    p.market.code(),
                    p.amount.amount().to_string(),
                    p.amount.currency().code(),
                    mask_card_numbers(&p.bank_ref),
                    p.source.file_id.to_hex(),
                ])
                .map_err(db)?;
            }
            drop(stmt);
            tx.commit().map_err(db)?;
            return Ok(Receipt::New);
        }
        let (state, file): (String, String) = tx
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

impl PayerPayments for SqliteStore {
    /// A range of the table's primary key (one partition and its sort key in DynamoDB), newest
    /// first.
    fn payments_by_payer(
        &self,
        identity: &str,
        before: Option<&PayerCursor>,
        limit: usize,
    ) -> Result<Vec<PayerPayment>, StoreError> {
        let limit = limit.min(MAX_INDEX_RESULTS) as i64;
        let conn = self.conn();
        const COLUMNS: &str =
            "identity, received_at, payment_key, market, amount, currency, bank_ref, file_id";
        let mut stmt;
        let rows = match before {
            None => {
                stmt = conn
                    .prepare_cached(&format!(
                        "SELECT {COLUMNS} FROM payer_payments WHERE identity = ?1
                         ORDER BY received_at DESC, payment_key DESC LIMIT ?2"
                    ))
                    .map_err(db)?;
                stmt.query(params![identity, limit])
            }
            Some(c) => {
                stmt = conn
                    .prepare_cached(&format!(
                        "SELECT {COLUMNS} FROM payer_payments WHERE identity = ?1
                         AND (received_at, payment_key) < (?3, ?4)
                         ORDER BY received_at DESC, payment_key DESC LIMIT ?2"
                    ))
                    .map_err(db)?;
                stmt.query(params![identity, limit, ts(c.received_at), c.payment_key.as_str()])
            }
        };
        let mut rows = rows.map_err(db)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(db)? {
            let s = |i: usize| r.get::<_, String>(i).map_err(db);
            let (market, amount, file) = (s(3)?, s(4)?, s(7)?);
            out.push(PayerPayment {
                identity: s(0)?,
                received_at: parse_ts(&s(1)?)?,
                payment_key: PaymentKey::from_stored(s(2)?),
                market: Market::from_str(&market).map_err(|_| corrupt("market", &market))?,
                amount: Money::new(parse_dec(&amount)?, parse_cur(&s(5)?)?)
                    .map_err(|_| corrupt("amount", &amount))?,
                bank_ref: s(6)?,
                file_id: FileId::from_str(&file).map_err(|_| corrupt("file id", &file))?,
            });
        }
        Ok(out)
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
