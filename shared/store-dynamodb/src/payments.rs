//! The payment log (one item per payment key; the state moves on only from the state a write
//! names) and duplicate suspicion's history (the sparse `by-fingerprint` index).

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use remit_domain::matching::payer::duplicate_fingerprint;
use remit_domain::ports::{
    PaymentHistory, PaymentLog, PaymentState, Receipt, SimilarPayment, StoreError, Transition,
    MAX_INDEX_RESULTS,
};
use remit_domain::{Decision, FileId, Payment, PaymentKey};

use crate::calls::{Expr, Query, Write};
use crate::codec::{corrupt, item, json, s, ts, Item, Read};
use crate::tables::index;
use crate::DynamoStore;

pub(crate) fn payment_key(key: &PaymentKey) -> Item {
    item([("key", Some(s(key.as_str())))])
}

/// The `by-fingerprint` sort key: value date, then payment key (SQLite's `ORDER BY value_date, key`).
fn value_sort(date: NaiveDate, key: &PaymentKey) -> String {
    format!("{date}#{}", key.as_str())
}

impl DynamoStore {
    /// The write that moves a payment from `from` to `to` with its decision: conditional on the
    /// state being `from` (a missing payment fails it too, as SQLite's update finds no row).
    pub(crate) fn advance_payment(
        &self,
        key: &PaymentKey,
        from: PaymentState,
        to: PaymentState,
        decision: &Decision,
        at: DateTime<Utc>,
    ) -> Result<Write, StoreError> {
        Ok(Write::Update {
            table: self.tables.payments.clone(),
            key: payment_key(key),
            update: Expr::new("SET #state = :to, #decided_at = :at, #decision = :decision")
                .value(":to", s(to.as_str()))
                .value(":at", s(ts(at)))
                .value(":decision", s(json(decision)?)),
            cond: Some(Expr::new("#state = :from").value(":from", s(from.as_str()))),
        })
    }
}

fn state_of(it: &Item) -> Result<PaymentState, StoreError> {
    let st = Read::new(it, "payment").s("state")?;
    PaymentState::parse(st).ok_or_else(|| corrupt("payment state", st))
}

impl PaymentLog for DynamoStore {
    fn receive_payment(&self, p: &Payment, at: DateTime<Utc>) -> Result<Receipt, StoreError> {
        let key = p.key();
        let fingerprint = duplicate_fingerprint(p).filter(|f| !f.is_empty());
        let it = item([
            ("key", Some(s(key.as_str()))),
            ("file_id", Some(s(p.source.file_id.to_hex()))),
            ("market", Some(s(p.market.code()))),
            ("bank_ref", Some(s(&p.bank_ref))),
            ("state", Some(s(PaymentState::Received.as_str()))),
            ("received_at", Some(s(ts(at)))),
            ("payment", Some(s(json(p)?))),
            ("value_date", Some(s(p.value_date.to_string()))),
            ("value_sort", fingerprint.as_ref().map(|_| s(value_sort(p.value_date, &key)))),
            ("fingerprint", fingerprint.map(s)),
        ]);
        let cond = Some(Expr::new("attribute_not_exists(#key)"));
        if self
            .write("receive payment", Write::Put { table: self.tables.payments.clone(), item: it, cond })?
        {
            return Ok(Receipt::New);
        }
        let seen = self
            .get("payment", &self.tables.payments, payment_key(&key))?
            .ok_or_else(|| StoreError::Conflict(format!("payment {key} vanished")))?;
        let file = Read::new(&seen, "payment").s("file_id")?;
        Ok(Receipt::Seen {
            state: state_of(&seen)?,
            first_file: FileId::from_str(file).map_err(|_| corrupt("file id", file))?,
        })
    }

    fn reject_payment(
        &self,
        key: &PaymentKey,
        d: &Decision,
        at: DateTime<Utc>,
    ) -> Result<Transition, StoreError> {
        let w = self.advance_payment(key, PaymentState::Received, PaymentState::Rejected, d, at)?;
        Ok(if self.write("reject payment", w)? { Transition::Done } else { Transition::AlreadyDone })
    }

    fn payment_state(&self, key: &PaymentKey) -> Result<Option<PaymentState>, StoreError> {
        self.get("payment state", &self.tables.payments, payment_key(key))?.as_ref().map(state_of).transpose()
    }
}

impl PaymentHistory for DynamoStore {
    fn similar_payments(
        &self,
        fingerprint: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<SimilarPayment>, StoreError> {
        if from > to {
            // An empty range (DynamoDB refuses a BETWEEN whose bounds are reversed).
            return Ok(Vec::new());
        }
        let q = Query {
            table: &self.tables.payments,
            index: Some(index::BY_FINGERPRINT),
            // Every key of date `to` sorts before `to$` (`#` < `$`).
            key: Expr::new("#fingerprint = :f AND #value_sort BETWEEN :from AND :to")
                .value(":f", s(fingerprint))
                .value(":from", s(from.to_string()))
                .value(":to", s(format!("{to}$"))),
            consistent: false,
        };
        self.query("similar payments", &q, MAX_INDEX_RESULTS)?
            .iter()
            .map(|it| {
                let r = Read::new(it, "payment index entry");
                let date = r.s("value_date")?;
                Ok(SimilarPayment {
                    payment_key: PaymentKey::from_stored(r.string("key")?),
                    bank_ref: r.string("bank_ref")?,
                    value_date: NaiveDate::from_str(date).map_err(|_| corrupt("value date", date))?,
                })
            })
            .collect()
    }
}
