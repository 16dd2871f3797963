//! Handler idempotency records: in progress until a deadline, then completed with the saved
//! result; expired records are taken over (DynamoDB deletes them by TTL).

use chrono::{DateTime, Utc};
use remit_domain::ports::{Idempotency, InvocationStart, StoreError};
use rusqlite::{params, TransactionBehavior};

use crate::codec::{corrupt, parse_ts, ts};
use crate::error::db;
use crate::SqliteStore;

impl Idempotency for SqliteStore {
    fn begin_invocation(
        &self,
        key: &str,
        now: DateTime<Utc>,
        in_progress_until: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<InvocationStart, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        // The conditional put DynamoDB makes: absent, expired, or in progress past its deadline.
        let taken = tx
            .execute(
                "INSERT INTO idempotency (key, status, in_progress_until, expires_at, result)
                 VALUES (?1, 'in-progress', ?2, ?3, NULL)
                 ON CONFLICT(key) DO UPDATE SET status = 'in-progress', in_progress_until = ?2,
                     expires_at = ?3, result = NULL
                 WHERE idempotency.expires_at <= ?4
                    OR (idempotency.status = 'in-progress' AND idempotency.in_progress_until <= ?4)",
                params![key, ts(in_progress_until), ts(expires_at), ts(now)],
            )
            .map_err(db)?;
        let start = if taken == 1 {
            InvocationStart::Started
        } else {
            let (status, until, result): (String, String, Option<String>) = tx
                .query_row(
                    "SELECT status, in_progress_until, result FROM idempotency WHERE key = ?1",
                    [key],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .map_err(db)?;
            match (status.as_str(), result) {
                ("completed", Some(result)) => InvocationStart::Completed { result },
                ("in-progress", _) => InvocationStart::InProgress { until: parse_ts(&until)? },
                _ => return Err(corrupt("idempotency record", key)),
            }
        };
        tx.commit().map_err(db)?;
        Ok(start)
    }

    fn complete_invocation(
        &self,
        key: &str,
        result: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let n = self
            .conn()
            .execute(
                "UPDATE idempotency SET status = 'completed', result = ?2, expires_at = ?3 WHERE key = ?1",
                params![key, result, ts(expires_at)],
            )
            .map_err(db)?;
        if n == 0 {
            return Err(StoreError::Conflict(format!("idempotency record {key} is gone")));
        }
        Ok(())
    }

    fn abandon_invocation(&self, key: &str) -> Result<(), StoreError> {
        self.conn()
            .execute("DELETE FROM idempotency WHERE key = ?1 AND status = 'in-progress'", [key])
            .map_err(db)?;
        Ok(())
    }
}
