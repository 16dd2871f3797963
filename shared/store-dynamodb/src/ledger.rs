//! The card ledger. One partition per posting (`pk` = the payment key): the entry (`part` =
//! `entry`, put if absent: the exactly-once guard) and a split's lines (`line#001`...). One
//! partition per linking reference (`pk` = `ref#<reference>`, `part` = the payment key), so that
//! a reversal finds what it undoes with a strongly consistent query, no index. An entry or line
//! carries `posted_account` while it counts toward the account's posted total (the sparse
//! `by-account` index); a reversal removes it.
//!
//! A posting is one TransactWriteItems: the entry, the payment's state, the reference items, and
//! the balance (`ADD`, conditional on the account existing) of the account or of each line's card.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use remit_domain::ports::{
    AccountDirectory, Ledger, LedgerEntry, PaymentState, Posting, Reversal, StoreError, Transition,
    MAX_INDEX_RESULTS,
};
use remit_domain::{CardRef, PaymentKey, SplitLine};
use rust_decimal::Decimal;

use crate::calls::{Expr, Query, Role, Transaction, Write, PAGE};
use crate::codec::{corrupt, dec, item, json, num, s, ts, Item, Read};
use crate::tables::index;
use crate::DynamoStore;

/// The entry's sort key in its posting's partition.
const ENTRY: &str = "entry";

/// At most this many linking references per posting (`Posting::references`), so that a split
/// posting fits one transaction: 2 + 20 + 2 x 24 = 70 actions.
pub(crate) const MAX_REFERENCES: usize = 20;

fn line_part(n: usize) -> String {
    format!("line#{n:03}")
}

/// The partition of a linking reference's items (payment keys start with a market code, never
/// with this).
fn reference_pk(reference: &str) -> String {
    format!("ref#{reference}")
}

fn key(payment: &PaymentKey, part: &str) -> Item {
    item([("pk", Some(s(payment.as_str()))), ("part", Some(s(part)))])
}

/// A posting's entry and lines as stored.
struct Stored {
    entry: Item,
    lines: Vec<Item>,
}

impl Stored {
    fn entry(&self) -> Result<LedgerEntry, StoreError> {
        let r = Read::new(&self.entry, "ledger entry");
        let split = r.opt_u64("lines")?.is_some();
        Ok(LedgerEntry {
            payment_key: PaymentKey::from_stored(r.string("pk")?),
            account: r.account("account")?,
            amount: r.money("amount", "currency")?,
            account_id: r.opt_string("account_id")?,
            reversed_by: r.opt_string("reversed_by")?.map(PaymentKey::from_stored),
            lines: if split { self.split_lines()? } else { Vec::new() },
        })
    }

    fn split_lines(&self) -> Result<Vec<SplitLine>, StoreError> {
        self.lines
            .iter()
            .map(|l| {
                let r = Read::new(l, "ledger line");
                Ok(SplitLine { account: r.account("account")?, amount: r.money("amount", "currency")? })
            })
            .collect()
    }
}

impl DynamoStore {
    /// The balance update of a posting or reversal: `delta` added to the account's current
    /// balance, conditional on the account existing (a missing card fails the transaction).
    fn balance_change(&self, account: &CardRef, delta: Decimal) -> Write {
        Write::Update {
            table: self.tables.accounts.clone(),
            key: crate::accounts::account_key(account),
            update: Expr::new("ADD #current_balance :delta").value(":delta", dec(delta)),
            cond: Some(Expr::new("attribute_exists(#card)")),
        }
    }

    /// The actions of a posting, its payment moving from `from` to `Applied` (`Ledger::post`
    /// from `Received`, an analyst's resolution from `Queued`). `Posting::check_lines` first.
    pub(crate) fn posting_actions(&self, p: &Posting, from: PaymentState) -> Result<Transaction, StoreError> {
        let mut refs: Vec<&str> = Vec::with_capacity(p.references.len());
        for r in p.references.iter().map(String::as_str).filter(|r| !r.is_empty()) {
            if !refs.contains(&r) {
                refs.push(r);
            }
        }
        if refs.len() > MAX_REFERENCES {
            return Err(StoreError::Conflict(format!(
                "posting {}: {} linking references, at most {MAX_REFERENCES}",
                p.payment_key,
                refs.len()
            )));
        }
        let table = &self.tables.ledger;
        let pk = || Some(s(p.payment_key.as_str()));
        let split = !p.lines.is_empty();
        // How the card platform names the account (one read: a transaction cannot read), as the
        // SQLite ledger records it; an account missing here fails the transaction below anyway.
        let account_id = self.account(&p.account)?.map(|a| a.posting_id());
        let entry = item([
            ("pk", pk()),
            ("part", Some(s(ENTRY))),
            ("account", Some(s(p.account.stored()))),
            ("amount", Some(dec(p.amount.amount()))),
            ("currency", Some(s(p.amount.currency().code()))),
            ("file_id", Some(s(p.file_id.to_hex()))),
            ("posted_at", Some(s(ts(p.posted_at)))),
            ("decision", Some(s(json(&p.decision)?))),
            ("lines", split.then(|| num(p.lines.len() as u64))),
            // A split counts for its cards (the lines), not for the control account.
            ("posted_account", (!split).then(|| s(p.account.stored()))),
            ("account_id", account_id.map(s)),
        ]);
        let mut tx = Transaction::default();
        let cond = Some(Expr::new("attribute_not_exists(#pk)"));
        tx.add(Role::Entry, Write::Put { table: table.clone(), item: entry, cond });
        let to = PaymentState::Applied;
        tx.add(Role::Payment, self.advance_payment(&p.payment_key, from, to, &p.decision, p.posted_at)?);
        for r in refs {
            let it = item([("pk", Some(s(reference_pk(r)))), ("part", pk())]);
            tx.add(Role::Plain, Write::Put { table: table.clone(), item: it, cond: None });
        }
        if !split {
            tx.add(Role::Account, self.balance_change(&p.account, -p.amount.amount()));
        }
        for (i, line) in p.lines.iter().enumerate() {
            let it = item([
                ("pk", pk()),
                ("part", Some(s(line_part(i + 1)))),
                ("account", Some(s(line.account.stored()))),
                ("amount", Some(dec(line.amount.amount()))),
                ("currency", Some(s(line.amount.currency().code()))),
                ("posted_account", Some(s(line.account.stored()))),
            ]);
            tx.add(Role::Plain, Write::Put { table: table.clone(), item: it, cond: None });
            tx.add(Role::Account, self.balance_change(&line.account, -line.amount.amount()));
        }
        Ok(tx)
    }

    /// A posting's entry and lines (one strongly consistent query on its partition), if posted.
    fn stored_posting(&self, payment: &PaymentKey) -> Result<Option<Stored>, StoreError> {
        let q = Query {
            table: &self.tables.ledger,
            index: None,
            // `entry` < `line#001` < ... < `line#~`: the entry, then the lines in order.
            key: Expr::new("#pk = :k AND #part BETWEEN :entry AND :lines")
                .value(":k", s(payment.as_str()))
                .value(":entry", s(ENTRY))
                .value(":lines", s("line#~")),
            consistent: true,
        };
        let mut items = self.query("ledger posting", &q, crate::calls::MAX_TRANSACTION_ITEMS)?.into_iter();
        let Some(entry) = items.next() else { return Ok(None) };
        if Read::new(&entry, "ledger entry").s("part")? != ENTRY {
            return Err(corrupt("ledger lines without their entry", payment.as_str()));
        }
        Ok(Some(Stored { entry, lines: items.collect() }))
    }
}

impl Ledger for DynamoStore {
    fn post(&self, p: &Posting) -> Result<Transition, StoreError> {
        p.check_lines()?;
        let tx = self.posting_actions(p, PaymentState::Received)?;
        match self.transact("post", tx)? {
            Ok(()) => Ok(Transition::Done),
            // The entry exists, or the payment was decided otherwise: someone else did it.
            Err(failed) if failed.contains(&Role::Entry) || failed.contains(&Role::Payment) => {
                Ok(Transition::AlreadyDone)
            }
            Err(_) => Err(StoreError::Conflict(format!(
                "posting {}: an account is not in the directory",
                p.payment_key
            ))),
        }
    }

    /// A strongly consistent query on the posting's partition (its entry and lines).
    fn entry(&self, payment_key: &PaymentKey) -> Result<Option<LedgerEntry>, StoreError> {
        self.stored_posting(payment_key)?.map(|stored| stored.entry()).transpose()
    }

    fn entries_by_reference(&self, reference: &str) -> Result<Vec<LedgerEntry>, StoreError> {
        let q = Query {
            table: &self.tables.ledger,
            index: None,
            key: Expr::new("#pk = :r").value(":r", s(reference_pk(reference))),
            consistent: true,
        };
        let mut out = Vec::new();
        for hit in self.query("entries by reference", &q, MAX_INDEX_RESULTS)? {
            let key = PaymentKey::from_stored(Read::new(&hit, "ledger reference").string("part")?);
            if let Some(stored) = self.stored_posting(&key)? {
                out.push(stored.entry()?);
            }
        }
        Ok(out)
    }

    fn reverse(&self, r: &Reversal) -> Result<Transition, StoreError> {
        let Some(stored) = self.stored_posting(&r.original)? else {
            return Ok(Transition::AlreadyDone);
        };
        let original = stored.entry()?;
        if original.reversed_by.is_some() {
            return Ok(Transition::AlreadyDone);
        }
        let reversal = AttributeValue::M(HashMap::from([
            ("payment_key".to_string(), s(r.payment_key.as_str())),
            ("account".to_string(), s(r.account.stored())),
            ("amount".to_string(), dec(r.amount.amount())),
            ("currency".to_string(), s(r.amount.currency().code())),
            ("file_id".to_string(), s(r.file_id.to_hex())),
            ("reversed_at".to_string(), s(ts(r.reversed_at))),
            ("decision".to_string(), s(json(&r.decision)?)),
        ]));
        let table = &self.tables.ledger;
        let mut tx = Transaction::default();
        tx.add(
            Role::Entry,
            Write::Update {
                table: table.clone(),
                key: key(&r.original, ENTRY),
                update: Expr::new("SET #reversed_by = :by, #reversal = :reversal REMOVE #posted_account")
                    .value(":by", s(r.payment_key.as_str()))
                    .value(":reversal", reversal),
                cond: Some(Expr::new("attribute_exists(#pk) AND attribute_not_exists(#reversed_by)")),
            },
        );
        let (from, to) = (PaymentState::Received, PaymentState::Applied);
        tx.add(Role::Payment, self.advance_payment(&r.payment_key, from, to, &r.decision, r.reversed_at)?);
        if let Some(it) = &r.follow_up {
            tx.add(
                Role::Item,
                Write::Put {
                    table: self.tables.research_items.clone(),
                    item: crate::queue::new_item(it)?,
                    cond: Some(Expr::new("attribute_not_exists(#id)")),
                },
            );
        }
        let split = Read::new(&stored.entry, "ledger entry").opt_u64("lines")?;
        match split {
            None => tx.add(Role::Account, self.balance_change(&r.account, r.amount.amount())),
            Some(n) => {
                // Every line of the split, from what was posted, once (the entry's mark above).
                if stored.lines.len() as u64 != n {
                    return Err(corrupt("split posting lines", r.original.as_str()));
                }
                for line in &stored.lines {
                    let l = Read::new(line, "ledger line");
                    tx.add(
                        Role::Plain,
                        Write::Update {
                            table: table.clone(),
                            key: key(&r.original, l.s("part")?),
                            update: Expr::new("SET #reversed_by = :by REMOVE #posted_account")
                                .value(":by", s(r.payment_key.as_str())),
                            cond: Some(Expr::new("attribute_exists(#pk)")),
                        },
                    );
                    tx.add(Role::Account, self.balance_change(&l.account("account")?, l.dec("amount")?));
                }
            }
        }
        match self.transact("reverse", tx)? {
            Ok(()) => Ok(Transition::Done),
            Err(failed) if failed.contains(&Role::Entry) || failed.contains(&Role::Payment) => {
                Ok(Transition::AlreadyDone)
            }
            Err(_) => Err(StoreError::Conflict(format!(
                "reversal of {}: an account is not in the directory, or a line is missing",
                r.original
            ))),
        }
    }

    fn posted_total(&self, account: &CardRef) -> Result<Decimal, StoreError> {
        let q = Query {
            table: &self.tables.ledger,
            index: Some(index::BY_ACCOUNT),
            key: Expr::new("#posted_account = :a").value(":a", s(account.stored())),
            consistent: false,
        };
        let mut total = Decimal::ZERO;
        self.query_each("posted total", &q, PAGE * 5, |it| {
            total += Read::new(&it, "ledger index entry").dec("amount")?;
            Ok(true)
        })?;
        Ok(total)
    }
}
