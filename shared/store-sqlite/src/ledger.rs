//! The card ledger: one entry per posting (put if absent: the exactly-once guard), the lines of
//! split postings, linking references, reversals, and the balance updates that go with them.

use remit_domain::ports::{Ledger, LedgerEntry, PaymentState, Posting, Reversal, StoreError, Transition};
use remit_domain::{CardRef, Money, PaymentKey, SplitLine};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use rust_decimal::Decimal;

use crate::codec::{corrupt, json, parse_cur, parse_dec, ts};
use crate::error::db;
use crate::items::insert_item;
use crate::payments::{advance_payment, advance_payment_from};
use crate::SqliteStore;

/// A ledger entry's columns: account, amount, currency, reversed_by, lines, account_id.
type LedgerRow = (String, String, String, Option<String>, Option<i64>, Option<String>);

/// The lines of a split posting, in order: (line number, line). A key-shaped read (a query on
/// the posting's partition in DynamoDB).
fn ledger_lines(conn: &Connection, payment_key: &str) -> Result<Vec<(i64, SplitLine)>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT line, account, amount, currency FROM ledger_lines WHERE payment_key = ?1 ORDER BY line",
        )
        .map_err(db)?;
    let rows = stmt
        .query_map([payment_key], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?))
        })
        .map_err(db)?;
    let mut out = Vec::new();
    for row in rows {
        let (line, account, amount, cur) = row.map_err(db)?;
        out.push((
            line,
            SplitLine {
                account: CardRef::from_stored(&account)
                    .map_err(|_| corrupt("ledger line account", "(masked)"))?,
                amount: Money::new(parse_dec(&amount)?, parse_cur(&cur)?)
                    .map_err(|_| corrupt("amount", &amount))?,
            },
        ));
    }
    Ok(out)
}

/// Adds `delta` to an account's current balance inside a transaction (DynamoDB: an `ADD` update
/// in the same TransactWriteItems, conditional on the account existing).
fn adjust_balance(
    tx: &rusqlite::Transaction<'_>,
    account: &CardRef,
    delta: Decimal,
) -> Result<(), StoreError> {
    let balance: Option<String> = tx
        .query_row("SELECT current_balance FROM accounts WHERE card = ?1", [account.stored()], |r| r.get(0))
        .optional()
        .map_err(db)?;
    let Some(balance) = balance else {
        return Err(StoreError::Conflict(format!("account {account} is not in the directory")));
    };
    let updated = parse_dec(&balance)? + delta;
    tx.execute(
        "UPDATE accounts SET current_balance = ?2 WHERE card = ?1",
        params![account.stored(), updated.to_string()],
    )
    .map_err(db)?;
    Ok(())
}

/// A posting's entry by key, with its lines when it is a split (DynamoDB: a query on the
/// posting's partition).
fn entry_in(conn: &Connection, key: &str) -> Result<Option<LedgerEntry>, StoreError> {
    let row: Option<LedgerRow> = conn
        .prepare_cached(
            "SELECT account, amount, currency, reversed_by, lines, account_id FROM ledger WHERE payment_key = ?1",
        )
        .and_then(|mut stmt| {
            stmt.query_row([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
                .optional()
        })
        .map_err(db)?;
    let Some((account, amount, cur, reversed_by, lines, account_id)) = row else { return Ok(None) };
    let lines = match lines {
        Some(_) => ledger_lines(conn, key)?.into_iter().map(|(_, l)| l).collect(),
        None => Vec::new(),
    };
    Ok(Some(LedgerEntry {
        payment_key: PaymentKey::from_stored(key.to_string()),
        account: CardRef::from_stored(&account).map_err(|_| corrupt("ledger account", "(masked)"))?,
        amount: Money::new(parse_dec(&amount)?, parse_cur(&cur)?).map_err(|_| corrupt("amount", &amount))?,
        account_id,
        reversed_by: reversed_by.map(PaymentKey::from_stored),
        lines,
    }))
}

impl Ledger for SqliteStore {
    fn post(&self, p: &Posting) -> Result<Transition, StoreError> {
        p.check_lines()?;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        if !post_in(&tx, p, PaymentState::Received)? {
            return Ok(Transition::AlreadyDone); // dropping tx rolls back
        }
        tx.commit().map_err(db)?;
        Ok(Transition::Done)
    }

    fn entries_by_reference(&self, reference: &str) -> Result<Vec<LedgerEntry>, StoreError> {
        let conn = self.conn();
        // Two key-shaped reads, as DynamoDB would do them: index query, then gets by key.
        let keys: Vec<String> = {
            let mut stmt = conn
                .prepare_cached("SELECT payment_key FROM ledger_refs WHERE ref = ?1 LIMIT 100")
                .map_err(db)?;
            let rows = stmt.query_map([reference], |r| r.get(0)).map_err(db)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db)?
        };
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            out.extend(entry_in(&conn, &key)?);
        }
        Ok(out)
    }

    fn entry(&self, payment_key: &PaymentKey) -> Result<Option<LedgerEntry>, StoreError> {
        entry_in(&self.conn(), payment_key.as_str())
    }

    fn reverse(&self, r: &Reversal) -> Result<Transition, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        let marked = tx
            .execute(
                "UPDATE ledger SET reversed_by = ?2 WHERE payment_key = ?1 AND reversed_by IS NULL",
                params![r.original.as_str(), r.payment_key.as_str()],
            )
            .map_err(db)?;
        if marked == 0 {
            return Ok(Transition::AlreadyDone);
        }
        if !advance_payment(&tx, &r.payment_key, PaymentState::Applied, &r.decision, r.reversed_at)? {
            return Ok(Transition::AlreadyDone);
        }
        tx.execute(
            "INSERT INTO reversals (original_key, payment_key, account, amount, currency, file_id, reversed_at, decision)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                r.original.as_str(),
                r.payment_key.as_str(),
                r.account.stored(),
                r.amount.amount().to_string(),
                r.amount.currency().code(),
                r.file_id.to_hex(),
                ts(r.reversed_at),
                json(&r.decision)?,
            ],
        )
        .map_err(db)?;
        if let Some(item) = &r.follow_up {
            insert_item(&tx, item)?;
        }
        let split: Option<i64> = tx
            .query_row("SELECT lines FROM ledger WHERE payment_key = ?1", [r.original.as_str()], |row| {
                row.get(0)
            })
            .map_err(db)?;
        match split {
            None => adjust_balance(&tx, &r.account, r.amount.amount())?,
            Some(n) => {
                // Every line of the split, from what was posted, once (the entry's mark above).
                let lines = ledger_lines(&tx, r.original.as_str())?;
                if lines.len() as i64 != n {
                    return Err(corrupt("split posting lines", r.original.as_str()));
                }
                tx.execute(
                    "UPDATE ledger_lines SET reversed_by = ?2 WHERE payment_key = ?1",
                    params![r.original.as_str(), r.payment_key.as_str()],
                )
                .map_err(db)?;
                for (_, line) in lines {
                    adjust_balance(&tx, &line.account, line.amount.amount())?;
                }
            }
        }
        tx.commit().map_err(db)?;
        Ok(Transition::Done)
    }

    fn posted_total(&self, account: &CardRef) -> Result<Decimal, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT amount FROM ledger WHERE account = ?1 AND reversed_by IS NULL AND lines IS NULL",
            )
            .map_err(db)?;
        let rows = stmt.query_map([account.stored()], |r| r.get::<_, String>(0)).map_err(db)?;
        let mut total = Decimal::ZERO;
        for r in rows {
            total += parse_dec(&r.map_err(db)?)?;
        }
        let mut stmt = conn
            .prepare_cached("SELECT amount FROM ledger_lines WHERE account = ?1 AND reversed_by IS NULL")
            .map_err(db)?;
        let rows = stmt.query_map([account.stored()], |r| r.get::<_, String>(0)).map_err(db)?;
        for r in rows {
            total += parse_dec(&r.map_err(db)?)?;
        }
        Ok(total)
    }
}

/// The writes of a posting inside a transaction, the payment moving from `from` to `Applied`:
/// false (and the caller rolls back) when the entry exists or the payment had moved on.
pub(crate) fn post_in(
    tx: &rusqlite::Transaction<'_>,
    p: &Posting,
    from: PaymentState,
) -> Result<bool, StoreError> {
    let lines = (!p.lines.is_empty()).then_some(p.lines.len() as i64);
    let inserted = tx
        .execute(
            "INSERT INTO ledger (payment_key, account, amount, currency, file_id, posted_at, decision, lines, account_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, (SELECT COALESCE(account_id, card) FROM accounts WHERE card = ?2))
                 ON CONFLICT(payment_key) DO NOTHING",
            params![
                p.payment_key.as_str(),
                p.account.stored(),
                p.amount.amount().to_string(),
                p.amount.currency().code(),
                p.file_id.to_hex(),
                ts(p.posted_at),
                json(&p.decision)?,
                lines,
            ],
        )
        .map_err(db)?;
    if inserted == 0 {
        return Ok(false);
    }
    if !advance_payment_from(tx, &p.payment_key, from, PaymentState::Applied, &p.decision, p.posted_at)? {
        return Ok(false);
    }
    for reference in &p.references {
        tx.execute(
            "INSERT INTO ledger_refs (ref, payment_key) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![reference, p.payment_key.as_str()],
        )
        .map_err(db)?;
    }
    if p.lines.is_empty() {
        adjust_balance(tx, &p.account, -p.amount.amount())?;
    }
    for (i, line) in p.lines.iter().enumerate() {
        tx.execute(
                "INSERT INTO ledger_lines (payment_key, line, account, amount, currency) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    p.payment_key.as_str(),
                    i as i64 + 1,
                    line.account.stored(),
                    line.amount.amount().to_string(),
                    line.amount.currency().code(),
                ],
            )
            .map_err(db)?;
        // A card missing from the directory fails the whole transaction: all lines or none.
        adjust_balance(tx, &line.account, -line.amount.amount())?;
    }
    Ok(true)
}
