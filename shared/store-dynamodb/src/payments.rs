//! The payment log (one item per payment key; the state moves on only from the state a write
//! names) and duplicate suspicion's history (the sparse `by-fingerprint` index). The payer
//! history (issue 16) is a table of its own, `payer-payments`: one partition per payer identity,
//! one item per payment (sort key: receipt time and payment key), put after the payment's own
//! conditional put succeeds.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use remit_domain::mask_card_numbers;
use remit_domain::matching::payer::{duplicate_fingerprint, identities};
use remit_domain::ports::{
    PayerCursor, PayerPayment, PayerPayments, PaymentHistory, PaymentLog, PaymentState, Receipt,
    SimilarPayment, StoreError, Transition, MAX_INDEX_RESULTS,
};
use remit_domain::{Decision, FileId, Market, Payment, PaymentKey};

use crate::calls::{Expr, Query, Write};
use crate::codec::{corrupt, dec, item, json, s, sort_key, ts, Item, Read};
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
            // The payer history: plain puts, each to its own key (a retry writes the same item).
            // Only a payment received for the first time gets them; a failure here leaves the
            // payment received and the history short of it (reported to the caller).
            for identity in identities(p) {
                let identity = identity.key();
                let sort = sort_key(at, key.as_str());
                // Keys DynamoDB refuses (hostile lengths; no real payer's) are left out of the
                // history rather than failing the payment.
                if identity.len() > MAX_PARTITION_KEY_BYTES || sort.len() > MAX_SORT_KEY_BYTES {
                    continue;
                }
                let row = payer_row(&identity, &sort, p, &key, at);
                self.write(
                    "payer history",
                    Write::Put { table: self.tables.payer_payments.clone(), item: row, cond: None },
                )?;
            }
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

/// DynamoDB's limits on a partition key and a sort key value, in bytes.
const MAX_PARTITION_KEY_BYTES: usize = 2048;
const MAX_SORT_KEY_BYTES: usize = 1024;

/// A payment under one payer identity: `sort` is the receipt time (fixed-width RFC 3339, UTC),
/// `#` and the payment key, so that the partition reads in time order.
fn payer_row(identity: &str, sort: &str, p: &Payment, key: &PaymentKey, at: DateTime<Utc>) -> Item {
    item([
        ("identity", Some(s(identity))),
        ("sort", Some(s(sort))),
        ("payment_key", Some(s(key.as_str()))),
        ("market", Some(s(p.market.code()))),
        ("received_at", Some(s(ts(at)))),
        ("amount", Some(dec(p.amount.amount()))),
        ("currency", Some(s(p.amount.currency().code()))),
        ("bank_ref", Some(s(mask_card_numbers(&p.bank_ref)))),
        ("file_id", Some(s(p.source.file_id.to_hex()))),
    ])
}

fn payer_payment_from(it: &Item) -> Result<PayerPayment, StoreError> {
    let r = Read::new(it, "payer payment");
    let market = r.s("market")?;
    let file = r.s("file_id")?;
    Ok(PayerPayment {
        identity: r.string("identity")?,
        payment_key: PaymentKey::from_stored(r.string("payment_key")?),
        market: Market::from_str(market).map_err(|_| corrupt("market", market))?,
        received_at: r.ts("received_at")?,
        amount: r.money("amount", "currency")?,
        bank_ref: r.string("bank_ref")?,
        file_id: FileId::from_str(file).map_err(|_| corrupt("file id", file))?,
    })
}

impl PayerPayments for DynamoStore {
    /// A strongly consistent query on the identity's partition, newest first (`sort` below the
    /// cursor's when there is one).
    fn payments_by_payer(
        &self,
        identity: &str,
        before: Option<&PayerCursor>,
        limit: usize,
    ) -> Result<Vec<PayerPayment>, StoreError> {
        let limit = limit.min(MAX_INDEX_RESULTS);
        let key = match before {
            None => Expr::new("#identity = :i").value(":i", s(identity)),
            Some(c) => Expr::new("#identity = :i AND #sort < :before")
                .value(":i", s(identity))
                .value(":before", s(sort_key(c.received_at, c.payment_key.as_str()))),
        };
        let q = Query { table: &self.tables.payer_payments, index: None, key, consistent: true };
        let (items, _) = self.query_page("payments by payer", &q, None, false, limit)?;
        items.iter().map(payer_payment_from).collect()
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
