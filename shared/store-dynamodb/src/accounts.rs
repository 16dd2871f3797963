//! The card account directory. The lookup indexes carry keys only (the market + last-five one
//! also the holder's name), so that a posting's balance update writes the table alone; a lookup
//! queries the index, then reads the accounts by key in one BatchGetItem.
//!
//! The holder-name index is a table of its own (`account-names`): one item per (market + name
//! key, account), written by `put_account`, read with a strongly consistent query. The account
//! item lists the index items it owns (`name_keys`), so that putting it again writes only the
//! keys it lacks and deletes those its new name no longer has. The account put is conditional
//! on the account being as it was read, and deletes go in one transaction with it, so that
//! every key of the stored name has its item even when two puts of one account race.
//!
//! The workbench's directory search (issue 16, `DirectorySearch`) queries one index per kind of
//! key: the holder-name table, and GSIs on `market_last_four`, `market_last_five`,
//! `market_balance`, `market_minimum_due` (each "market#value", written with the account; a
//! posting's `ADD` to the current balance touches none of them), `virtual_account` and
//! `creditor_reference` (filtered to the market). A page goes on after an account with an
//! ExclusiveStartKey made of the index key value and that account's card.

use std::collections::HashMap;
use std::str::FromStr;

use remit_domain::ports::{
    amount_key, AccountDirectory, AccountIndexKey, DirectorySearch, StoreError, MAX_INDEX_RESULTS,
};
use remit_domain::text::names::holder_name_keys;
use remit_domain::{Account, AccountStatus, CardKey, CardRef, CreditorReference, LastFive, Market};

use crate::calls::{Expr, Query, Role, Transaction, Write};
use crate::codec::{corrupt, dec, in_minor_units, item, s, strings, Item, Read};
use crate::tables::index;
use crate::DynamoStore;

/// The key of an account's item: the card's stored token (issue 15), never its number.
pub(crate) fn account_key(card: &CardRef) -> Item {
    item([("card", Some(s(card.stored())))])
}

/// The market + last-five index key: `CA#` and the keyed tag of the last five digits.
fn market_last_five(market: Market, last5: &LastFive) -> String {
    format!("{}#{}", market.code(), last5.stored())
}

/// A search index key of the market: `CA#1234` (last four), `CA#120.5` (an amount, `amount_key`).
fn market_value(market: Market, value: &str) -> String {
    format!("{}#{value}", market.code())
}

/// The holder-name index partition of a name key: `CA#cote jean pierre`.
fn market_name(market: Market, name_key: &str) -> String {
    format!("{}#{name_key}", market.code())
}

/// DynamoDB's limit on a partition key value, in bytes.
const MAX_PARTITION_KEY_BYTES: usize = 2048;

/// The holder-name index partitions an account belongs in, one per `holder_name_keys` key. A
/// key longer than DynamoDB takes is left out (no one's name is 2 KB long; the put must not
/// fail on hostile directory data).
fn name_partitions(a: &Account) -> Vec<String> {
    holder_name_keys(&a.holder_name)
        .iter()
        .map(|k| market_name(a.market, k))
        .filter(|p| p.len() <= MAX_PARTITION_KEY_BYTES)
        .collect()
}

/// Attempts at putting an account that another writer changed between the read and the write.
const PUT_ATTEMPTS: u32 = 4;

/// The key of a holder-name index item.
fn name_item(partition: &str, card: &CardRef) -> Item {
    item([("market_name", Some(s(partition))), ("account", Some(s(card.stored())))])
}

/// An account's item; `name_keys` lists the holder-name index partitions written for it.
fn account_item(a: &Account, name_keys: &[String]) -> Item {
    // Empty strings cannot be index keys; an empty value is no value.
    let present = |v: Option<&str>| v.filter(|v| !v.is_empty()).map(s);
    item([
        ("card", Some(s(a.card.stored()))),
        ("account_id", a.account_id.as_deref().map(s)),
        ("market", Some(s(a.market.code()))),
        ("currency", Some(s(a.currency.code()))),
        ("holder_name", Some(s(&a.holder_name))),
        ("status", Some(s(a.status.as_str()))),
        ("statement_balance", Some(dec(a.statement_balance))),
        ("minimum_due", Some(dec(a.minimum_due))),
        ("current_balance", Some(dec(a.current_balance))),
        ("virtual_account", present(a.virtual_account.as_deref())),
        ("creditor_reference", present(a.creditor_reference.as_ref().map(|r| r.as_str()))),
        ("control_account", a.control_account.as_ref().map(|n| s(n.stored()))),
        ("market_last_five", a.last_five.as_ref().map(|t| s(market_last_five(a.market, t)))),
        ("market_last_four", Some(s(market_value(a.market, a.card.last4())))),
        ("market_balance", Some(s(market_value(a.market, &amount_key(a.statement_balance))))),
        ("market_minimum_due", Some(s(market_value(a.market, &amount_key(a.minimum_due))))),
        ("name_keys", (!name_keys.is_empty()).then(|| strings(name_keys))),
    ])
}

fn account_from(it: &Item) -> Result<Account, StoreError> {
    let r = Read::new(it, "account");
    let market = r.s("market")?;
    let status = r.s("status")?;
    let currency = r.currency("currency")?;
    let last5 = r.s("market_last_five")?;
    let last_five = last5
        .split_once('#')
        .and_then(|(_, tag)| LastFive::from_stored(tag).ok())
        .ok_or_else(|| corrupt("last-five tag", "(not shown)"))?;
    Ok(Account {
        card: r.account("card")?,
        last_five: Some(last_five),
        account_id: r.opt_string("account_id")?,
        market: Market::from_str(market).map_err(|_| corrupt("market", market))?,
        currency,
        holder_name: r.string("holder_name")?,
        status: AccountStatus::from_str(status).map_err(|_| corrupt("account status", status))?,
        statement_balance: in_minor_units(r.dec("statement_balance")?, currency),
        minimum_due: in_minor_units(r.dec("minimum_due")?, currency),
        current_balance: in_minor_units(r.dec("current_balance")?, currency),
        virtual_account: r.opt_string("virtual_account")?,
        creditor_reference: match r.opt_s("creditor_reference")? {
            Some(v) => Some(CreditorReference::from_str(v).map_err(|_| corrupt("RF reference", v))?),
            None => None,
        },
        control_account: r.opt_account("control_account")?,
    })
}

impl DynamoStore {
    /// One attempt at `put_account`: false when the account changed after it was read (the
    /// account is not written; read again). Only additions (a first put, a put of the same
    /// name, an account from before the name index): the name items first, then the account,
    /// plain writes. A new name: the account, its new name items and the deletes of the old
    /// ones in one transaction, so that a delete never lands after a concurrent put that
    /// stored the old name again.
    fn try_put_account(&self, a: &Account) -> Result<bool, StoreError> {
        if a.last_five.is_none() {
            return Err(StoreError::Conflict(
                "an account is put with its last-five tag (the directory import makes it)".into(),
            ));
        }
        let (old_keys, unchanged) =
            match self.get("put account", &self.tables.accounts, account_key(&a.card))? {
                Some(old) => {
                    let r = Read::new(&old, "account");
                    let cond = Expr::new("#holder_name = :h AND #market = :m")
                        .value(":h", s(r.s("holder_name")?))
                        .value(":m", s(r.s("market")?));
                    (r.strings("name_keys")?, cond)
                }
                None => (Vec::new(), Expr::new("attribute_not_exists(#card)")),
            };
        let new_keys = name_partitions(a);
        let names = &self.tables.account_names;
        let put_name =
            |k: &String| Write::Put { table: names.clone(), item: name_item(k, &a.card), cond: None };
        let account = Write::Put {
            table: self.tables.accounts.clone(),
            item: account_item(a, &new_keys),
            cond: Some(unchanged),
        };
        let added = new_keys.iter().filter(|k| !old_keys.contains(k));
        let stale: Vec<&String> = old_keys.iter().filter(|k| !new_keys.contains(k)).collect();
        if stale.is_empty() {
            // What a failure or a race leaves behind here is an item too many, which the
            // lookup does not return.
            for k in added {
                self.write("put account name key", put_name(k))?;
            }
            return self.write("put account", account);
        }
        let mut tx = Transaction::default();
        tx.add(Role::Directory, account);
        for k in added {
            tx.add(Role::Plain, put_name(k));
        }
        for k in stale {
            tx.add(
                Role::Plain,
                Write::Delete { table: names.clone(), key: name_item(k, &a.card), cond: None },
            );
        }
        // Only the account's action has a condition: a cancellation for one means "changed".
        Ok(self.transact("put account", tx)?.is_ok())
    }

    /// The accounts an index query names (at most `MAX_INDEX_RESULTS`), those `keep` accepts
    /// (it sees each index item: the key, and what the index carries), in index order.
    fn accounts_by_index(
        &self,
        index: &str,
        attr: &str,
        value: &str,
        mut keep: impl FnMut(&Item) -> bool,
    ) -> Result<Vec<Account>, StoreError> {
        let q = Query {
            table: &self.tables.accounts,
            index: Some(index),
            key: Expr::new(format!("#{attr} = :v")).value(":v", s(value)),
            consistent: false,
        };
        let hits = self.query("account lookup", &q, MAX_INDEX_RESULTS)?;
        let mut numbers = Vec::new();
        for h in hits.iter().filter(|h| keep(h)) {
            numbers.push(Read::new(h, "account index entry").account("card")?);
        }
        self.accounts_in_order(&numbers)
    }

    /// Accounts by key, in the order asked, missing ones left out.
    fn accounts_in_order(&self, numbers: &[CardRef]) -> Result<Vec<Account>, StoreError> {
        let mut distinct: Vec<&CardRef> = Vec::with_capacity(numbers.len());
        for n in numbers {
            if !distinct.contains(&n) {
                distinct.push(n);
            }
        }
        let keys = distinct.iter().map(|n| account_key(n)).collect();
        let mut found: HashMap<CardRef, Account> = HashMap::new();
        for it in self.batch_get("accounts", &self.tables.accounts, keys)? {
            let a = account_from(&it)?;
            found.insert(a.card, a);
        }
        Ok(numbers.iter().filter_map(|n| found.get(n).cloned()).collect())
    }
}

/// Where a directory search looks: the table (the holder-name one, or the accounts and one of
/// their indexes), the partition, and the attribute that names the account in it.
struct SearchIndex<'a> {
    table: &'a str,
    index: Option<&'static str>,
    attr: &'static str,
    value: String,
    /// The attribute holding the account's card in the index's items (`card`, or `account` in
    /// the holder-name table).
    card_attr: &'static str,
}

impl DynamoStore {
    /// One page of a directory search: the index's items after `after`, in its order, read by
    /// key and kept when `keep` accepts the account, until `limit` are kept or the partition
    /// ends (an item the account no longer matches is passed over, so a short page is the last).
    fn search_index(
        &self,
        ix: &SearchIndex<'_>,
        after: Option<&CardRef>,
        limit: usize,
        keep: impl Fn(&Account) -> bool,
    ) -> Result<Vec<Account>, StoreError> {
        let limit = limit.min(MAX_INDEX_RESULTS);
        let mut out = Vec::new();
        if limit == 0 || ix.value.is_empty() || ix.value.len() > MAX_PARTITION_KEY_BYTES {
            return Ok(out);
        }
        let q = Query {
            table: ix.table,
            index: ix.index,
            key: Expr::new(format!("#{} = :v", ix.attr)).value(":v", s(&ix.value)),
            consistent: ix.index.is_none(),
        };
        // ExclusiveStartKey: the index key and the table key of the account to go on after.
        let start_after =
            |card: &CardRef| item([(ix.attr, Some(s(&ix.value))), (ix.card_attr, Some(s(card.stored())))]);
        let mut start = after.map(start_after);
        loop {
            let (hits, next) = self.query_page("directory search", &q, start.take(), true, limit)?;
            let mut cards = Vec::with_capacity(hits.len());
            for h in &hits {
                cards.push(Read::new(h, "account index entry").account(ix.card_attr)?);
            }
            for a in self.accounts_in_order(&cards)? {
                if keep(&a) {
                    out.push(a);
                    if out.len() == limit {
                        return Ok(out);
                    }
                }
            }
            match (next, cards.last()) {
                (Some(_), Some(last)) => start = Some(start_after(last)),
                _ => return Ok(out),
            }
        }
    }
}

impl DirectorySearch for DynamoStore {
    fn search_accounts(
        &self,
        market: Market,
        key: &AccountIndexKey,
        after: Option<&CardRef>,
        limit: usize,
    ) -> Result<Vec<Account>, StoreError> {
        let accounts = self.tables.accounts.as_str();
        let gsi = |index: &'static str, attr: &'static str, value: String| SearchIndex {
            table: accounts,
            index: Some(index),
            attr,
            value,
            card_attr: "card",
        };
        let in_market = |a: &Account| a.market == market;
        match key {
            AccountIndexKey::HolderName(name_key) => {
                let ix = SearchIndex {
                    table: &self.tables.account_names,
                    index: None,
                    attr: "market_name",
                    value: if name_key.is_empty() { String::new() } else { market_name(market, name_key) },
                    card_attr: "account",
                };
                // An item a failed or concurrent put left behind names an account whose name
                // has moved on: checked against the key, as `accounts_by_holder_name` does.
                self.search_index(&ix, after, limit, |a| {
                    a.market == market && holder_name_keys(&a.holder_name).iter().any(|k| k == name_key)
                })
            }
            AccountIndexKey::LastFour(l4) => self.search_index(
                &gsi(index::BY_MARKET_LAST_FOUR, "market_last_four", market_value(market, l4.as_str())),
                after,
                limit,
                in_market,
            ),
            AccountIndexKey::LastFive(l5) => self.search_index(
                &gsi(index::BY_MARKET_LAST_FIVE, "market_last_five", market_last_five(market, l5)),
                after,
                limit,
                in_market,
            ),
            AccountIndexKey::StatementBalance(d) => self.search_index(
                &gsi(index::BY_MARKET_BALANCE, "market_balance", market_value(market, &amount_key(*d))),
                after,
                limit,
                |a| a.market == market && amount_key(a.statement_balance) == amount_key(*d),
            ),
            AccountIndexKey::MinimumDue(d) => self.search_index(
                &gsi(
                    index::BY_MARKET_MINIMUM_DUE,
                    "market_minimum_due",
                    market_value(market, &amount_key(*d)),
                ),
                after,
                limit,
                |a| a.market == market && amount_key(a.minimum_due) == amount_key(*d),
            ),
            AccountIndexKey::VirtualAccount(va) => self.search_index(
                &gsi(index::BY_VIRTUAL_ACCOUNT, "virtual_account", va.clone()),
                after,
                limit,
                in_market,
            ),
            AccountIndexKey::CreditorReference(rf) => self.search_index(
                &gsi(index::BY_CREDITOR_REFERENCE, "creditor_reference", rf.as_str().to_string()),
                after,
                limit,
                in_market,
            ),
        }
    }
}

impl AccountDirectory for DynamoStore {
    /// Reads the account (its `name_keys`), then writes what its holder-name index items
    /// need (`try_put_account`), again from the read when another writer changed the account
    /// in between (a few times, then `Unavailable`: retryable). A first put is 1 + (up to 4)
    /// plain writes; a put of an unchanged name, 1; a new name, one transaction of 1 + new keys
    /// + old keys.
    fn put_account(&self, a: &Account) -> Result<(), StoreError> {
        for attempt in 1..=PUT_ATTEMPTS {
            if self.try_put_account(a)? {
                return Ok(());
            }
            // Two writers of one account would otherwise take turns beating each other.
            std::thread::sleep(std::time::Duration::from_millis(10 << attempt));
        }
        Err(StoreError::Unavailable(format!(
            "put account: changed by other writers {PUT_ATTEMPTS} times running (try again)"
        )))
    }

    fn card_key(&self) -> &CardKey {
        &self.key
    }

    fn account(&self, card: &CardRef) -> Result<Option<Account>, StoreError> {
        self.get("account", &self.tables.accounts, account_key(card))?.as_ref().map(account_from).transpose()
    }

    fn accounts_by_virtual_account(&self, va: &str) -> Result<Vec<Account>, StoreError> {
        self.accounts_by_index(index::BY_VIRTUAL_ACCOUNT, "virtual_account", va, |_| true)
    }

    fn accounts_by_creditor_reference(&self, rf: &CreditorReference) -> Result<Vec<Account>, StoreError> {
        self.accounts_by_index(index::BY_CREDITOR_REFERENCE, "creditor_reference", rf.as_str(), |_| true)
    }

    fn accounts_by_last_digits(&self, market: Market, last5: &LastFive) -> Result<Vec<Account>, StoreError> {
        self.accounts_by_last_digits_where(market, last5, &mut |_, _| true)
    }

    /// The index carries the holder's name: `keep` is asked before any account is read.
    fn accounts_by_last_digits_where(
        &self,
        market: Market,
        last5: &LastFive,
        keep: &mut dyn FnMut(&str, u32) -> bool,
    ) -> Result<Vec<Account>, StoreError> {
        let key = market_last_five(market, last5);
        self.accounts_by_index(index::BY_MARKET_LAST_FIVE, "market_last_five", &key, |h| {
            let name = Read::new(h, "account index entry").opt_s("holder_name").ok().flatten().unwrap_or("");
            keep(name, remit_domain::text::names::initials(name))
        })
    }

    /// A strongly consistent query on the key's partition, then the accounts in one
    /// BatchGetItem, each checked against the key (an item a failed or concurrent put left
    /// behind names an account whose name has moved on).
    fn accounts_by_holder_name(
        &self,
        market: Market,
        name_key: &str,
        limit: usize,
    ) -> Result<Vec<Account>, StoreError> {
        let partition = market_name(market, name_key);
        if name_key.is_empty() || partition.len() > MAX_PARTITION_KEY_BYTES {
            return Ok(Vec::new());
        }
        let q = Query {
            table: &self.tables.account_names,
            index: None,
            key: Expr::new("#market_name = :k").value(":k", s(partition)),
            consistent: true,
        };
        let mut numbers = Vec::new();
        for h in self.query("accounts by holder name", &q, limit.min(MAX_INDEX_RESULTS))? {
            numbers.push(Read::new(&h, "account name key").account("account")?);
        }
        let mut found = self.accounts_in_order(&numbers)?;
        found
            .retain(|a| a.market == market && holder_name_keys(&a.holder_name).iter().any(|k| k == name_key));
        Ok(found)
    }

    fn accounts_by_control_account(&self, control: &CardRef) -> Result<Vec<Account>, StoreError> {
        self.accounts_by_index(index::BY_CONTROL_ACCOUNT, "control_account", &control.stored(), |_| true)
    }

    fn accounts(&self, numbers: &[CardRef]) -> Result<Vec<Account>, StoreError> {
        self.accounts_in_order(numbers)
    }
}
