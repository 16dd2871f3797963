//! The card account directory: accounts keyed by card token (never the number), sparse lookup
//! indexes (the last-five tag among them), and the holder-name index (`account_name_keys`),
//! written with the account in one transaction.
//!
//! The workbench's directory search (issue 16, `DirectorySearch`): one index per kind of key,
//! each read in card order from after the page's last account (`card > ?`), never a scan:
//! `account_name_keys` (holder name), `accounts_by_last4`, `accounts_by_last5_tag`,
//! `accounts_by_balance`, `accounts_by_minimum_due`, `accounts_by_va`, `accounts_by_rf` (the
//! last two filtered to the market).

use std::str::FromStr;

use remit_domain::ports::{
    amount_key, AccountDirectory, AccountIndexKey, DirectorySearch, StoreError, MAX_INDEX_RESULTS,
};
use remit_domain::text::names::holder_name_keys;
use remit_domain::{Account, AccountStatus, CardKey, CardRef, CreditorReference, LastFive, Market};
use rusqlite::{params, Connection, TransactionBehavior};

use crate::codec::{corrupt, parse_cur, parse_dec};
use crate::error::db;
use crate::SqliteStore;

const ACCOUNT_COLUMNS: &str = "card, market, currency, holder_name, status, statement_balance, \
     minimum_due, current_balance, virtual_account, creditor_reference, control_account, last5, account_id";

fn account_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Account, StoreError>> {
    let cols: Vec<Option<String>> = (0..13).map(|i| r.get(i)).collect::<rusqlite::Result<_>>()?;
    Ok(account_from_columns(cols))
}

fn account_from_columns(c: Vec<Option<String>>) -> Result<Account, StoreError> {
    let get = |i: usize| c[i].clone().unwrap_or_default();
    let card = CardRef::from_stored(&get(0)).map_err(|_| corrupt("account card", "(not shown)"))?;
    Ok(Account {
        card,
        last_five: Some(
            LastFive::from_stored(&get(11)).map_err(|_| corrupt("last-five tag", "(not shown)"))?,
        ),
        account_id: c[12].clone(),
        market: Market::from_str(&get(1)).map_err(|_| corrupt("market", &get(1)))?,
        currency: parse_cur(&get(2))?,
        holder_name: get(3),
        status: AccountStatus::from_str(&get(4)).map_err(|_| corrupt("status", &get(4)))?,
        statement_balance: parse_dec(&get(5))?,
        minimum_due: parse_dec(&get(6))?,
        current_balance: parse_dec(&get(7))?,
        virtual_account: c[8].clone(),
        creditor_reference: match &c[9] {
            Some(s) => Some(CreditorReference::from_str(s).map_err(|_| corrupt("RF", s))?),
            None => None,
        },
        control_account: match &c[10] {
            Some(s) => Some(CardRef::from_stored(s).map_err(|_| corrupt("control account", "(not shown)"))?),
            None => None,
        },
    })
}

/// An account put without its last-five tag (one read from the in-memory index).
pub(crate) fn no_last_five() -> StoreError {
    StoreError::Conflict("an account is put with its last-five tag (the directory import makes it)".into())
}

impl SqliteStore {
    fn accounts_where(&self, column: &str, value: &str) -> Result<Vec<Account>, StoreError> {
        let conn = self.conn();
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE {column} = ?1 LIMIT 100");
        let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
        let rows = stmt.query_map([value], account_from_row).map_err(db)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r.map_err(db)??);
        }
        Ok(out)
    }
}

impl SqliteStore {
    /// `put_account` of each account, all in one transaction (all or none): the fast way to
    /// load a directory (one commit per batch instead of one per account).
    pub fn put_accounts(&self, accounts: &[Account]) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        for a in accounts {
            put_account_in(&tx, a)?;
        }
        tx.commit().map_err(db)
    }
}

/// Writes an account and its holder-name keys inside a transaction.
fn put_account_in(tx: &rusqlite::Transaction<'_>, a: &Account) -> Result<(), StoreError> {
    let card = a.card.stored();
    let last5 = a.last_five.as_ref().map(LastFive::stored).ok_or_else(no_last_five)?;
    tx.prepare_cached(&format!(
        "INSERT OR REPLACE INTO accounts ({ACCOUNT_COLUMNS}, last4, balance_key, min_due_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
    ))
    .and_then(|mut s| {
        s.execute(params![
            card,
            a.market.code(),
            a.currency.code(),
            a.holder_name,
            a.status.as_str(),
            a.statement_balance.to_string(),
            a.minimum_due.to_string(),
            a.current_balance.to_string(),
            a.virtual_account,
            a.creditor_reference.as_ref().map(|r| r.as_str().to_string()),
            a.control_account.as_ref().map(CardRef::stored),
            last5,
            a.account_id,
            a.card.last4(),
            amount_key(a.statement_balance),
            amount_key(a.minimum_due),
        ])
    })
    .map_err(db)?;
    tx.prepare_cached("DELETE FROM account_name_keys WHERE card = ?1")
        .and_then(|mut s| s.execute([&card]))
        .map_err(db)?;
    put_name_keys(tx, &card, a.market.code(), &a.holder_name)
}

impl DirectorySearch for SqliteStore {
    fn search_accounts(
        &self,
        market: Market,
        key: &AccountIndexKey,
        after: Option<&CardRef>,
        limit: usize,
    ) -> Result<Vec<Account>, StoreError> {
        let limit = limit.min(MAX_INDEX_RESULTS) as i64;
        // Every token sorts after "": the first page.
        let after = after.map(CardRef::stored).unwrap_or_default();
        let (sql, value) = search_query(key);
        read_accounts(&self.conn(), &sql, params![market.code(), value, after, limit])
    }
}

/// A directory search's query (parameters: market, the key's value, the card to go on after,
/// the limit) and the key's value as indexed.
fn search_query(key: &AccountIndexKey) -> (String, String) {
    let (condition, value) = match key {
        AccountIndexKey::HolderName(k) => {
            // The name index's primary key range, then the accounts by key.
            let sql = format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE card IN (
                     SELECT card FROM account_name_keys WHERE market = ?1 AND name_key = ?2
                     AND card > ?3 ORDER BY card LIMIT ?4)
                 ORDER BY card"
            );
            return (sql, k.clone());
        }
        AccountIndexKey::LastFour(l4) => ("market = ?1 AND last4 = ?2", l4.as_str().to_string()),
        AccountIndexKey::LastFive(l5) => ("market = ?1 AND last5 = ?2", l5.stored()),
        AccountIndexKey::StatementBalance(d) => ("market = ?1 AND balance_key = ?2", amount_key(*d)),
        AccountIndexKey::MinimumDue(d) => ("market = ?1 AND min_due_key = ?2", amount_key(*d)),
        AccountIndexKey::VirtualAccount(va) => ("virtual_account = ?2 AND market = ?1", va.clone()),
        AccountIndexKey::CreditorReference(rf) => {
            ("creditor_reference = ?2 AND market = ?1", rf.as_str().to_string())
        }
    };
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE {condition} AND card > ?3 ORDER BY card LIMIT ?4"
    );
    (sql, value)
}

/// The accounts a query selects (`ACCOUNT_COLUMNS`), in its order.
fn read_accounts(conn: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<Vec<Account>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(db)?;
    let rows = stmt.query_map(p, account_from_row).map_err(db)?;
    let mut out = Vec::new();
    for r in rows {
        out.push(r.map_err(db)??);
    }
    Ok(out)
}

impl AccountDirectory for SqliteStore {
    /// The account and its holder-name keys in one transaction: the keys of an earlier put
    /// (another name, another market) are deleted first.
    fn put_account(&self, a: &Account) -> Result<(), StoreError> {
        self.put_accounts(std::slice::from_ref(a))
    }

    fn card_key(&self) -> &CardKey {
        &self.key
    }

    fn account(&self, card: &CardRef) -> Result<Option<Account>, StoreError> {
        Ok(self.accounts_where("card", &card.stored())?.into_iter().next())
    }

    fn accounts_by_virtual_account(&self, va: &str) -> Result<Vec<Account>, StoreError> {
        self.accounts_where("virtual_account", va)
    }

    fn accounts_by_creditor_reference(&self, rf: &CreditorReference) -> Result<Vec<Account>, StoreError> {
        self.accounts_where("creditor_reference", rf.as_str())
    }

    fn accounts_by_last_digits(&self, market: Market, last5: &LastFive) -> Result<Vec<Account>, StoreError> {
        let conn = self.conn();
        let sql =
            format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE market = ?1 AND last5 = ?2 LIMIT 100");
        let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
        let rows = stmt.query_map(params![market.code(), last5.stored()], account_from_row).map_err(db)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r.map_err(db)??);
        }
        Ok(out)
    }

    /// A range of the name index's primary key, then the accounts by their key (DynamoDB's
    /// query and BatchGetItem, nothing more).
    fn accounts_by_holder_name(
        &self,
        market: Market,
        name_key: &str,
        limit: usize,
    ) -> Result<Vec<Account>, StoreError> {
        let limit = limit.min(remit_domain::ports::MAX_INDEX_RESULTS) as i64;
        let conn = self.conn();
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE card IN (
                 SELECT card FROM account_name_keys WHERE market = ?1 AND name_key = ?2
                 ORDER BY card LIMIT ?3)
             ORDER BY card"
        );
        let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
        let rows = stmt.query_map(params![market.code(), name_key, limit], account_from_row).map_err(db)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r.map_err(db)??);
        }
        Ok(out)
    }

    fn accounts_by_control_account(&self, control: &CardRef) -> Result<Vec<Account>, StoreError> {
        self.accounts_where("control_account", &control.stored())
    }
}

/// Writes the holder-name keys of every account (once, when the index table is created), in
/// one transaction.
pub(crate) fn backfill_name_keys(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
    let accounts: Vec<(String, String, String)> = {
        let mut stmt = tx.prepare("SELECT card, market, holder_name FROM accounts").map_err(db)?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).map_err(db)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db)?
    };
    for (card, market, holder) in accounts {
        put_name_keys(&tx, &card, &market, &holder)?;
    }
    tx.commit().map_err(db)
}

/// Writes the search keys (last four, balance and minimum-due keys) of every account, once, when
/// the columns are added to a database from before them (issue 16), in one transaction.
pub(crate) fn backfill_search_keys(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
    let accounts: Vec<(String, String, String)> = {
        let mut stmt = tx.prepare("SELECT card, statement_balance, minimum_due FROM accounts").map_err(db)?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).map_err(db)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db)?
    };
    {
        let mut update = tx
            .prepare("UPDATE accounts SET last4 = ?2, balance_key = ?3, min_due_key = ?4 WHERE card = ?1")
            .map_err(db)?;
        for (card, balance, due) in accounts {
            let card_ref = CardRef::from_stored(&card).map_err(|_| corrupt("account card", "(not shown)"))?;
            update
                .execute(params![
                    card,
                    card_ref.last4(),
                    amount_key(parse_dec(&balance)?),
                    amount_key(parse_dec(&due)?)
                ])
                .map_err(db)?;
        }
    }
    tx.commit().map_err(db)
}

/// Inserts an account's holder-name keys (`names::holder_name_keys`).
fn put_name_keys(conn: &Connection, card: &str, market: &str, holder: &str) -> Result<(), StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO account_name_keys (market, name_key, card) VALUES (?1, ?2, ?3)",
        )
        .map_err(db)?;
    for key in holder_name_keys(holder) {
        stmt.execute(params![market, key, card]).map_err(db)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use remit_domain::model::money::Currency;
    use remit_domain::ports::LastFour;
    use rust_decimal::Decimal;

    use super::*;
    use crate::Table;

    fn every_key(s: &SqliteStore) -> Vec<AccountIndexKey> {
        vec![
            AccountIndexKey::HolderName("cote jean pierre".into()),
            AccountIndexKey::LastFour(LastFour::parse("0005").unwrap()),
            AccountIndexKey::LastFive(s.card_key().last_five(Market::CA, "10005")),
            AccountIndexKey::StatementBalance(Decimal::new(12050, 2)),
            AccountIndexKey::MinimumDue(Decimal::new(35, 0)),
            AccountIndexKey::VirtualAccount("AMEX0100012345".into()),
            AccountIndexKey::CreditorReference("RF18539007547034".parse().unwrap()),
        ]
    }

    /// Every kind of directory search reads an index (SQLite's plan says SEARCH), never the
    /// whole table (SCAN), first page or not.
    #[test]
    fn every_directory_search_is_an_index_query() {
        let s = SqliteStore::in_memory().unwrap();
        let conn = s.conn();
        for key in every_key(&s) {
            let (sql, value) = search_query(&key);
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            for after in ["", "ct:x"] {
                let plan: Vec<String> = stmt
                    .query_map(params!["CA", value, after, 20], |r| r.get::<_, String>(3))
                    .unwrap()
                    .collect::<rusqlite::Result<_>>()
                    .unwrap();
                assert!(plan.iter().all(|step| !step.starts_with("SCAN")), "{key:?}: {plan:?}");
                assert!(plan.iter().any(|step| step.contains("USING")), "{key:?}: {plan:?}");
            }
        }
    }

    /// A batch is put whole or not at all, and reads back as `put_account` writes it.
    #[test]
    fn put_accounts_writes_a_batch_in_one_transaction() {
        let s = SqliteStore::in_memory().unwrap();
        let a = |n: &str, name: &str| {
            Account::new(s.card_key(), &n.parse().unwrap(), Market::CA, Currency::CAD, name)
        };
        let (one, two) = (a("378282246310005", "Jean Tremblay"), a("371449635398431", "Marie Côté"));
        let broken = Account { last_five: None, ..a("378734493671000", "Luc Roy") };
        assert!(s.put_accounts(&[one.clone(), broken]).is_err());
        assert_eq!(s.count(Table::Accounts).unwrap(), 0, "all or none");
        s.put_accounts(&[one.clone(), two.clone()]).unwrap();
        assert_eq!(s.account(&two.card).unwrap().unwrap(), two);
        let key = AccountIndexKey::HolderName(holder_name_keys("Jean Tremblay")[0].clone());
        assert_eq!(s.search_accounts(Market::CA, &key, None, 10).unwrap(), vec![one]);
    }

    /// A database from before the search columns: they are added and filled when it is opened.
    #[test]
    fn a_data_directory_from_before_the_search_keys_is_indexed_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        let a = Account {
            statement_balance: Decimal::new(12050, 2),
            minimum_due: Decimal::new(3500, 2),
            ..Account::new(
                &CardKey::ephemeral(),
                &"378282246310005".parse().unwrap(),
                Market::CA,
                Currency::CAD,
                "Jean Tremblay",
            )
        };
        {
            // The accounts table as it was before issue 16, one account in it.
            let s = SqliteStore::open(&path).unwrap();
            let a = Account { card: s.card_key().card(&"378282246310005".parse().unwrap()), ..a.clone() };
            s.put_account(&a).unwrap();
            s.conn()
                .execute_batch(
                    "CREATE TABLE old_accounts AS SELECT card, market, currency, holder_name, status,
                         statement_balance, minimum_due, current_balance, virtual_account, creditor_reference,
                         control_account, last5, account_id FROM accounts;
                     DROP TABLE accounts;
                     ALTER TABLE old_accounts RENAME TO accounts;",
                )
                .unwrap();
        }
        let s = SqliteStore::open(&path).unwrap();
        for key in [
            AccountIndexKey::LastFour(LastFour::parse("0005").unwrap()),
            AccountIndexKey::StatementBalance(Decimal::new(1205, 1)),
            AccountIndexKey::MinimumDue(Decimal::new(35, 0)),
        ] {
            let found = s.search_accounts(Market::CA, &key, None, 10).unwrap();
            assert_eq!(found.len(), 1, "{key:?}");
            assert_eq!(found[0].holder_name, "Jean Tremblay");
        }
    }

    #[test]
    fn a_data_directory_from_before_the_name_index_is_indexed_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        {
            let s = SqliteStore::open(&path).unwrap();
            let a = Account::new(
                s.card_key(),
                &"378282246310005".parse().unwrap(),
                Market::CA,
                Currency::CAD,
                "Jean-Pierre Côté",
            );
            s.put_account(&a).unwrap();
            s.conn().execute_batch("DROP TABLE account_name_keys").unwrap();
        }
        let s = SqliteStore::open(&path).unwrap();
        assert_eq!(s.count(Table::AccountNameKeys).unwrap(), 4, "backfilled");
        for key in ["cote jean pierre", "cote j p", "c j pierre"] {
            assert_eq!(
                s.accounts_by_holder_name(Market::CA, key, remit_domain::ports::MAX_INDEX_RESULTS)
                    .unwrap()
                    .len(),
                1,
                "{key}"
            );
        }
        drop(s);
        // Opened again: nothing written twice.
        assert_eq!(SqliteStore::open(&path).unwrap().count(Table::AccountNameKeys).unwrap(), 4);
    }
}
