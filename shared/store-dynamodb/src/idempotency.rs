//! Handler idempotency records (the Powertools protocol), in the one table with a TTL: the TTL
//! attribute `expires_at` holds epoch seconds (rounded up, so DynamoDB never deletes a record
//! early). TTL deletes late (up to days), so expiry is also checked in the conditions, on the
//! exact instant kept in `expires_at_exact`.

use chrono::{DateTime, Utc};
use remit_domain::ports::{Idempotency, InvocationStart, StoreError};

use crate::calls::{Expr, Write};
use crate::codec::{corrupt, item, s, ts, Item, Read};
use crate::DynamoStore;

const IN_PROGRESS: &str = "in-progress";
const COMPLETED: &str = "completed";

/// Attempts at taking a key whose record disappeared between the failed put and the read.
const BEGIN_ATTEMPTS: usize = 3;

fn record_key(key: &str) -> Item {
    item([("key", Some(s(key)))])
}

/// Epoch seconds at or after `t`: the TTL attribute.
fn ttl_seconds(t: DateTime<Utc>) -> aws_sdk_dynamodb::types::AttributeValue {
    let up = i64::from(t.timestamp_subsec_nanos() > 0);
    aws_sdk_dynamodb::types::AttributeValue::N((t.timestamp() + up).to_string())
}

impl Idempotency for DynamoStore {
    fn begin_invocation(
        &self,
        key: &str,
        now: DateTime<Utc>,
        in_progress_until: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<InvocationStart, StoreError> {
        for _ in 0..BEGIN_ATTEMPTS {
            let record = item([
                ("key", Some(s(key))),
                ("status", Some(s(IN_PROGRESS))),
                ("in_progress_until", Some(s(ts(in_progress_until)))),
                ("expires_at", Some(ttl_seconds(expires_at))),
                ("expires_at_exact", Some(s(ts(expires_at)))),
            ]);
            // Absent, expired (not yet deleted by TTL), or in progress past its deadline.
            let cond = Expr::new(
                "attribute_not_exists(#key) OR #expires_at_exact <= :now \
                 OR (#status = :in_progress AND #in_progress_until <= :now)",
            )
            .value(":now", s(ts(now)))
            .value(":in_progress", s(IN_PROGRESS));
            let put = Write::Put { table: self.tables.idempotency.clone(), item: record, cond: Some(cond) };
            if self.write("begin invocation", put)? {
                return Ok(InvocationStart::Started);
            }
            let Some(found) = self.get("idempotency record", &self.tables.idempotency, record_key(key))?
            else {
                continue; // abandoned in between: try to take it again
            };
            let r = Read::new(&found, "idempotency record");
            return match (r.s("status")?, r.opt_string("result")?) {
                (COMPLETED, Some(result)) => Ok(InvocationStart::Completed { result }),
                (IN_PROGRESS, _) => Ok(InvocationStart::InProgress { until: r.ts("in_progress_until")? }),
                _ => Err(corrupt("idempotency record", key)),
            };
        }
        Err(StoreError::Unavailable(format!("idempotency record {key} keeps changing")))
    }

    fn complete_invocation(
        &self,
        key: &str,
        result: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let w = Write::Update {
            table: self.tables.idempotency.clone(),
            key: record_key(key),
            update: Expr::new(
                "SET #status = :completed, #result = :result, #expires_at = :ttl, #expires_at_exact = :exact",
            )
            .value(":completed", s(COMPLETED))
            .value(":result", s(result))
            .value(":ttl", ttl_seconds(expires_at))
            .value(":exact", s(ts(expires_at))),
            cond: Some(Expr::new("attribute_exists(#key)")),
        };
        if !self.write("complete invocation", w)? {
            return Err(StoreError::Conflict(format!("idempotency record {key} is gone")));
        }
        Ok(())
    }

    fn abandon_invocation(&self, key: &str) -> Result<(), StoreError> {
        // Only an in-progress record: a completed one keeps its answer.
        let w = Write::Delete {
            table: self.tables.idempotency.clone(),
            key: record_key(key),
            cond: Some(Expr::new("#status = :in_progress").value(":in_progress", s(IN_PROGRESS))),
        };
        self.write("abandon invocation", w).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_ttl_never_deletes_a_record_early() {
        let t = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        let n = |v: aws_sdk_dynamodb::types::AttributeValue| v.as_n().cloned().unwrap_or_default();
        assert_eq!(n(ttl_seconds(t)), t.timestamp().to_string());
        assert_eq!(n(ttl_seconds(t + chrono::Duration::milliseconds(1))), (t.timestamp() + 1).to_string());
    }
}
