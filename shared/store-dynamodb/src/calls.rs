//! The DynamoDB calls every port is written with: single-item conditional writes, transactions
//! whose cancellation reasons say which condition failed, key reads, and queries that follow
//! `LastEvaluatedKey`. Each write is counted (`DynamoStore::writes`).

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, KeysAndAttributes, Put, TransactWriteItem, Update};
use remit_domain::ports::StoreError;

use crate::codec::Item;
use crate::error::{cancelled_error, classify, is_retryable_reason, store_error, Failure};
use crate::DynamoStore;

/// At most this many actions in one TransactWriteItems (DynamoDB's limit).
pub(crate) const MAX_TRANSACTION_ITEMS: usize = 100;

/// At most this many keys in one BatchGetItem (DynamoDB's limit).
const MAX_BATCH_GET: usize = 100;

/// Attempts at a transaction that DynamoDB cancelled for a conflict with a concurrent one.
const TRANSACTION_ATTEMPTS: u32 = 4;

/// An expression (condition, update or key condition) and its values. Attribute names are
/// written `#name` and mapped to `name` automatically (many of ours are reserved words:
/// `status`, `key`, `number`, `state`...); values not used by the expressions are left out.
#[derive(Clone, Debug)]
pub(crate) struct Expr {
    pub text: String,
    pub values: Vec<(String, AttributeValue)>,
}

impl Expr {
    /// An expression without values yet.
    pub fn new(text: impl Into<String>) -> Self {
        Self { text: text.into(), values: Vec::new() }
    }

    /// Binds `placeholder` (`:name`) to `v`.
    pub fn value(mut self, placeholder: &str, v: AttributeValue) -> Self {
        self.values.push((placeholder.to_string(), v));
        self
    }
}

/// ExpressionAttributeNames: `#name` to `name`.
type Names = HashMap<String, String>;

/// ExpressionAttributeValues: `:placeholder` to value.
type Values = HashMap<String, AttributeValue>;

/// The `#name` tokens of some expressions, as ExpressionAttributeNames.
fn names_of(texts: &[&str]) -> Option<Names> {
    let mut out = HashMap::new();
    for text in texts {
        for (i, _) in text.match_indices('#') {
            let name: String =
                text[i + 1..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                out.insert(format!("#{name}"), name);
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// True when `text` uses the placeholder `p` as a whole token (`:a` is not used by `:ab`).
fn uses(text: &str, p: &str) -> bool {
    text.match_indices(p).any(|(i, _)| {
        text[i + p.len()..].chars().next().is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'))
    })
}

/// The values the expressions use, as ExpressionAttributeValues (DynamoDB refuses unused ones).
fn values_of<'a>(
    texts: &[&str],
    values: impl Iterator<Item = &'a (String, AttributeValue)>,
) -> Option<Values> {
    let out: Values = values.filter(|(p, _)| texts.iter().any(|t| uses(t, p))).cloned().collect();
    (!out.is_empty()).then_some(out)
}

/// One write, alone or as a transaction action.
#[derive(Clone, Debug)]
pub(crate) enum Write {
    /// Puts a whole item, replacing any, when `cond` holds.
    Put { table: String, item: Item, cond: Option<Expr> },
    /// Updates an item by key with `update` (SET / REMOVE / ADD), when `cond` holds.
    Update { table: String, key: Item, update: Expr, cond: Option<Expr> },
    /// Deletes an item by key, when `cond` holds.
    Delete { table: String, key: Item, cond: Option<Expr> },
}

impl Write {
    fn texts(&self) -> (Option<&str>, Option<&str>) {
        match self {
            Write::Put { cond, .. } | Write::Delete { cond, .. } => {
                (None, cond.as_ref().map(|c| c.text.as_str()))
            }
            Write::Update { update, cond, .. } => {
                (Some(update.text.as_str()), cond.as_ref().map(|c| c.text.as_str()))
            }
        }
    }

    /// Its condition, and the names and values its expressions use.
    fn bindings(&self) -> Bindings {
        let (update, cond) = self.texts();
        let texts: Vec<&str> = update.into_iter().chain(cond).collect();
        let values = match self {
            Write::Put { cond, .. } | Write::Delete { cond, .. } => {
                values_of(&texts, cond.iter().flat_map(|c| &c.values))
            }
            Write::Update { update, cond, .. } => {
                values_of(&texts, update.values.iter().chain(cond.iter().flat_map(|c| &c.values)))
            }
        };
        Bindings { condition: cond.map(str::to_string), names: names_of(&texts), values }
    }

    /// As a TransactWriteItems action.
    fn action(self) -> Result<TransactWriteItem, StoreError> {
        let b = self.bindings();
        let bad =
            |e: aws_sdk_dynamodb::error::BuildError| StoreError::Corrupt(format!("transaction action: {e}"));
        let action = TransactWriteItem::builder();
        Ok(match self {
            Write::Put { table, item, .. } => {
                action.put(bound!(Put::builder(), table, b).set_item(Some(item)).build().map_err(bad)?)
            }
            Write::Update { table, key, update, .. } => action.update(
                bound!(Update::builder(), table, b)
                    .set_key(Some(key))
                    .update_expression(update.text)
                    .build()
                    .map_err(bad)?,
            ),
            Write::Delete { table, key, .. } => {
                action.delete(bound!(Delete::builder(), table, b).set_key(Some(key)).build().map_err(bad)?)
            }
        }
        .build())
    }
}

/// A write's condition expression and the names and values of its expressions.
struct Bindings {
    condition: Option<String>,
    names: Option<Names>,
    values: Option<Values>,
}

/// Sets a write request's table and `Bindings` (the SDK's builders share these setters, not a
/// trait).
macro_rules! bound {
    ($builder:expr, $table:expr, $b:expr) => {
        $builder
            .table_name($table)
            .set_condition_expression($b.condition)
            .set_expression_attribute_names($b.names)
            .set_expression_attribute_values($b.values)
    };
}
use bound;

/// What a transaction action stands for, so that a cancellation can be read: which
/// condition failed decides between "already done", a conflict and an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// A ledger entry put if absent.
    Entry,
    /// A payment's state moving on.
    Payment,
    /// An account's balance (the account must exist).
    Account,
    /// A research item (put if absent, or changed at a version).
    Item,
    /// An audit entry appended.
    Audit,
    /// A directory account put, conditional on the account being as it was read.
    Directory,
    /// Anything without a condition of its own (reference items, split lines).
    Plain,
}

/// A transaction's actions with their roles.
#[derive(Default)]
pub(crate) struct Transaction {
    steps: Vec<(Role, Write)>,
}

impl Transaction {
    /// Adds an action.
    pub fn add(&mut self, role: Role, w: Write) {
        self.steps.push((role, w));
    }

    /// Adds every action of `other`.
    pub fn extend(&mut self, other: Transaction) {
        self.steps.extend(other.steps);
    }

    /// How many actions.
    pub fn len(&self) -> usize {
        self.steps.len()
    }
}

/// A query: a table or one of its indexes, and the key condition.
pub(crate) struct Query<'a> {
    pub table: &'a str,
    pub index: Option<&'a str>,
    pub key: Expr,
    /// Strongly consistent (a table or its partition, not an index).
    pub consistent: bool,
}

/// Items per query page when the caller filters (DynamoDB stops at 1 MB anyway).
pub(crate) const PAGE: usize = 200;

impl DynamoStore {
    /// One write; false when its condition failed (nothing written).
    pub(crate) fn write(&self, op: &str, w: Write) -> Result<bool, StoreError> {
        self.counts.items.fetch_add(1, Ordering::Relaxed);
        let b = w.bindings();
        let c = &self.client;
        let result = match w {
            Write::Put { table, item, .. } => {
                let call = bound!(c.put_item(), table, b).set_item(Some(item));
                self.block_on(call.send()).map(drop).map_err(|e| classify(op, e))
            }
            Write::Update { table, key, update, .. } => {
                let call =
                    bound!(c.update_item(), table, b).set_key(Some(key)).update_expression(update.text);
                self.block_on(call.send()).map(drop).map_err(|e| classify(op, e))
            }
            Write::Delete { table, key, .. } => {
                let call = bound!(c.delete_item(), table, b).set_key(Some(key));
                self.block_on(call.send()).map(drop).map_err(|e| classify(op, e))
            }
        };
        match result {
            Ok(()) => Ok(true),
            Err(Failure::Condition) => Ok(false),
            Err(Failure::Store(e)) => Err(e),
        }
    }

    /// One TransactWriteItems: `Ok(Ok(()))` when written, `Ok(Err(roles))` when it was cancelled
    /// because the conditions of those actions failed (nothing written). A cancellation for a
    /// conflict with a concurrent transaction is retried a few times, then `Unavailable`.
    pub(crate) fn transact(&self, op: &str, tx: Transaction) -> Result<Result<(), Vec<Role>>, StoreError> {
        if tx.len() > MAX_TRANSACTION_ITEMS {
            return Err(StoreError::Conflict(format!(
                "{op}: {} actions, a transaction holds at most {MAX_TRANSACTION_ITEMS}",
                tx.len()
            )));
        }
        let roles: Vec<Role> = tx.steps.iter().map(|(r, _)| *r).collect();
        let actions: Vec<TransactWriteItem> =
            tx.steps.into_iter().map(|(_, w)| w.action()).collect::<Result<_, _>>()?;
        let n = actions.len() as u64;
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.counts.items.fetch_add(n, Ordering::Relaxed);
            self.counts.transactional.fetch_add(n, Ordering::Relaxed);
            let sent = self.block_on(
                self.client.transact_write_items().set_transact_items(Some(actions.clone())).send(),
            );
            let e = match sent {
                Ok(_) => return Ok(Ok(())),
                Err(e) => e,
            };
            let codes: Vec<Option<String>> = match e.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(t)) => {
                    t.cancellation_reasons().iter().map(|r| r.code().map(str::to_string)).collect()
                }
                _ => return Err(store_error(op, e)),
            };
            let failed: Vec<Role> = codes
                .iter()
                .zip(&roles)
                .filter(|(c, _)| c.as_deref() == Some("ConditionalCheckFailed"))
                .map(|(_, r)| *r)
                .collect();
            if !failed.is_empty() {
                return Ok(Err(failed));
            }
            let retryable = codes.iter().flatten().any(|c| is_retryable_reason(c));
            if !retryable || attempt >= TRANSACTION_ATTEMPTS {
                return Err(cancelled_error(op, &codes));
            }
            std::thread::sleep(Duration::from_millis(20 << attempt));
        }
    }

    /// A key lookup, strongly consistent (a write just made is read back, as SQLite would).
    pub(crate) fn get(&self, op: &str, table: &str, key: Item) -> Result<Option<Item>, StoreError> {
        let out = self
            .block_on(
                self.client.get_item().table_name(table).set_key(Some(key)).consistent_read(true).send(),
            )
            .map_err(|e| store_error(op, e))?;
        Ok(out.item)
    }

    /// Key lookups of several items of one table (BatchGetItem, strongly consistent), in any
    /// order; missing ones are left out. Unprocessed keys are asked again, backing off.
    pub(crate) fn batch_get(&self, op: &str, table: &str, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(MAX_BATCH_GET) {
            let mut pending = chunk.to_vec();
            let mut attempt = 0u32;
            while !pending.is_empty() {
                attempt += 1;
                if attempt > 8 {
                    return Err(StoreError::Unavailable(format!(
                        "{op}: keys left unprocessed after 8 attempts"
                    )));
                }
                if attempt > 1 {
                    std::thread::sleep(Duration::from_millis(25 << attempt.min(6)));
                }
                let ka = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut pending)))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| StoreError::Corrupt(format!("{op}: {e}")))?;
                let resp = self
                    .block_on(self.client.batch_get_item().request_items(table, ka).send())
                    .map_err(|e| store_error(op, e))?;
                if let Some(mut r) = resp.responses {
                    out.extend(r.remove(table).unwrap_or_default());
                }
                if let Some(mut u) = resp.unprocessed_keys {
                    pending = u.remove(table).map(|k| k.keys).unwrap_or_default();
                }
            }
        }
        Ok(out)
    }

    /// Up to `limit` items of a query, in index order, following `LastEvaluatedKey`.
    pub(crate) fn query(&self, op: &str, q: &Query<'_>, limit: usize) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        self.query_each(op, q, limit, |item| {
            out.push(item);
            Ok(out.len() < limit)
        })?;
        Ok(out)
    }

    /// Hands each item of a query to `visit`, in index order, page by page (`page` items at
    /// most per request), until `visit` says stop (false) or the query is exhausted.
    pub(crate) fn query_each(
        &self,
        op: &str,
        q: &Query<'_>,
        page: usize,
        mut visit: impl FnMut(Item) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let mut start: Option<Item> = None;
        loop {
            let (items, next) = self.query_page(op, q, start.take(), true, page)?;
            for item in items {
                if !visit(item)? {
                    return Ok(());
                }
            }
            match next {
                Some(k) => start = Some(k),
                None => return Ok(()),
            }
        }
    }

    /// One request of a query: at most `limit` items (1,000 at most) after `start` (an
    /// ExclusiveStartKey: the index's key attributes and the table's key of an item), in index
    /// order (`forward`) or reversed, and the LastEvaluatedKey when the query may go on.
    pub(crate) fn query_page(
        &self,
        op: &str,
        q: &Query<'_>,
        start: Option<Item>,
        forward: bool,
        limit: usize,
    ) -> Result<(Vec<Item>, Option<Item>), StoreError> {
        if limit == 0 || key_is_empty(&q.key) {
            return Ok((Vec::new(), None));
        }
        let texts = [q.key.text.as_str()];
        let resp = self
            .block_on(
                self.client
                    .query()
                    .table_name(q.table)
                    .set_index_name(q.index.map(str::to_string))
                    .key_condition_expression(&q.key.text)
                    .set_expression_attribute_names(names_of(&texts))
                    .set_expression_attribute_values(values_of(&texts, q.key.values.iter()))
                    .consistent_read(q.consistent)
                    .scan_index_forward(forward)
                    .limit(limit.min(1000) as i32)
                    .set_exclusive_start_key(start)
                    .send(),
            )
            .map_err(|e| store_error(op, e))?;
        let next = resp.last_evaluated_key.filter(|k| !k.is_empty());
        Ok((resp.items.unwrap_or_default(), next))
    }
}

/// True when a key condition compares a key to the empty string: DynamoDB refuses empty key
/// values, and nothing is stored under one, so such a query finds nothing.
fn key_is_empty(key: &Expr) -> bool {
    key.values.iter().any(|(_, v)| matches!(v, AttributeValue::S(s) if s.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values_are_the_ones_used() {
        let e = Expr::new("#status = :s AND attribute_not_exists(#key_1)")
            .value(":s", AttributeValue::S("open".into()))
            .value(":st", AttributeValue::S("unused".into()));
        let names = names_of(&[&e.text]).unwrap();
        assert_eq!(names.get("#status").map(String::as_str), Some("status"));
        assert_eq!(names.get("#key_1").map(String::as_str), Some("key_1"));
        let values = values_of(&[&e.text], e.values.iter()).unwrap();
        assert_eq!(values.len(), 1, "{values:?}");
        assert!(values.contains_key(":s"));
        assert!(names_of(&["a = b"]).is_none());
    }
}
