//! The embedded local default store: SQLite (bundled) behind the domain's ports. It offers no
//! more than DynamoDB can: conditional single-row writes, small transactions, key lookups and
//! ordered range reads on a declared index, so code that passes here also holds in the cloud.

use std::path::Path;
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, NaiveDate, Utc};
use remit_domain::money::{currency, Currency};
use remit_domain::names::holder_name_keys;
use remit_domain::payer::duplicate_fingerprint;
use remit_domain::pipeline::FileSummary;
use remit_domain::ports::{
    AccountDirectory, AlertKind, Alias, AliasMemory, Claim, Disposition, FileLog, FileRecord,
    FileRegistration, FileRegistry, FileStatus, ItemStatus, Ledger, LedgerEntry, PaymentHistory, PaymentLog,
    PaymentState, Posting, QueueOps, Receipt, ResearchItem, ResearchQueue, Reversal, SimilarPayment,
    SlaAlerts, StoreError, Transition,
};
use remit_domain::ports::{Idempotency, InvocationStart};
use remit_domain::queue::{AuditAction, AuditEntry, ItemChange, QueueFilter};
use remit_domain::{
    Account, AccountNumber, AccountStatus, CreditorReference, Decision, FileId, Market, Money, Payment,
    PaymentKey, ReasonCode, SplitLine,
};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use rust_decimal::Decimal;

const SCHEMA: &str = r#"
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS accounts (
    number TEXT PRIMARY KEY,
    market TEXT NOT NULL,
    currency TEXT NOT NULL,
    holder_name TEXT NOT NULL,
    status TEXT NOT NULL,
    statement_balance TEXT NOT NULL,
    minimum_due TEXT NOT NULL,
    current_balance TEXT NOT NULL,
    virtual_account TEXT,
    creditor_reference TEXT,
    control_account TEXT
);
-- Sparse indexes, as DynamoDB GSIs would be.
CREATE INDEX IF NOT EXISTS accounts_by_va ON accounts(virtual_account) WHERE virtual_account IS NOT NULL;
CREATE INDEX IF NOT EXISTS accounts_by_rf ON accounts(creditor_reference) WHERE creditor_reference IS NOT NULL;
CREATE INDEX IF NOT EXISTS accounts_by_control ON accounts(control_account) WHERE control_account IS NOT NULL;
-- Market and last five digits (a GSI on a `last5` attribute in DynamoDB).
CREATE INDEX IF NOT EXISTS accounts_by_last5 ON accounts(market, substr(number, 11));
-- The holder-name index: one row per (market, key of `names::holder_name_keys`, account), put
-- and replaced with the account (a table of its own in DynamoDB too, one item per row).
CREATE TABLE IF NOT EXISTS account_name_keys (
    market TEXT NOT NULL,
    name_key TEXT NOT NULL,
    account_number TEXT NOT NULL,
    PRIMARY KEY (market, name_key, account_number)
) WITHOUT ROWID;
-- An account's own keys, deleted when it is put again (DynamoDB reads the list off the account).
CREATE INDEX IF NOT EXISTS account_name_keys_by_account ON account_name_keys(account_number);
-- Alias memory: payer identity -> account, learned from resolutions (partition + sort key).
CREATE TABLE IF NOT EXISTS aliases (
    identity TEXT NOT NULL,
    account TEXT NOT NULL,
    learned_at TEXT NOT NULL,
    learned_by TEXT NOT NULL,
    resolution TEXT NOT NULL,
    PRIMARY KEY (identity, account)
);
CREATE TABLE IF NOT EXISTS files (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    summary TEXT
);
CREATE TABLE IF NOT EXISTS payments (
    key TEXT PRIMARY KEY,
    file_id TEXT NOT NULL,
    market TEXT NOT NULL,
    bank_ref TEXT NOT NULL,
    state TEXT NOT NULL,
    received_at TEXT NOT NULL,
    decided_at TEXT,
    decision TEXT,
    payment TEXT NOT NULL,
    fingerprint TEXT,
    value_date TEXT
);
CREATE TABLE IF NOT EXISTS ledger (
    payment_key TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    file_id TEXT NOT NULL,
    posted_at TEXT NOT NULL,
    decision TEXT NOT NULL,
    reversed_by TEXT,
    -- A split posting: its number of lines in ledger_lines (NULL: the whole amount to account).
    lines INTEGER
);
CREATE INDEX IF NOT EXISTS ledger_by_account ON ledger(account);
-- The lines of split postings (items under the posting's partition key in DynamoDB, with an
-- account GSI); reversed with their posting.
CREATE TABLE IF NOT EXISTS ledger_lines (
    payment_key TEXT NOT NULL,
    line INTEGER NOT NULL,
    account TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    reversed_by TEXT,
    PRIMARY KEY (payment_key, line)
);
CREATE INDEX IF NOT EXISTS ledger_lines_by_account ON ledger_lines(account);
-- Linking references of each posting, so a reversal finds what it undoes (a GSI in DynamoDB).
CREATE TABLE IF NOT EXISTS ledger_refs (
    ref TEXT NOT NULL,
    payment_key TEXT NOT NULL,
    PRIMARY KEY (ref, payment_key)
);
-- Reversals, one per original posting at most.
CREATE TABLE IF NOT EXISTS reversals (
    original_key TEXT PRIMARY KEY,
    payment_key TEXT NOT NULL UNIQUE,
    account TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    file_id TEXT NOT NULL,
    reversed_at TEXT NOT NULL,
    decision TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS research_items (
    id TEXT PRIMARY KEY,
    payment_key TEXT NOT NULL UNIQUE,
    market TEXT NOT NULL,
    file_id TEXT NOT NULL,
    bank_ref TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    payer_name TEXT,
    reason_code TEXT NOT NULL,
    reasons TEXT NOT NULL,
    candidate TEXT,
    confidence REAL NOT NULL,
    created_at TEXT NOT NULL,
    due_at TEXT NOT NULL,
    status TEXT NOT NULL,
    -- Sparse: only open items are in the queue index.
    open_market TEXT,
    payer_identities TEXT,
    -- When the SLA sweeper warns (NULL in rows written before it existed: read as due_at).
    warn_at TEXT,
    -- Queue operations (issue 6): the claim, the version every change is conditional on, and
    -- the disposition (JSON, `StoredDisposition`).
    claimed_by TEXT,
    claim_expires_at TEXT,
    version INTEGER NOT NULL DEFAULT 0,
    disposition TEXT,
    linking_refs TEXT,
    -- SLA alerts claimed by the sweeper (set once, conditionally, before publishing).
    warn_notified_at TEXT,
    breach_notified_at TEXT
);
-- Every item of a market by due time, closed ones too (a GSI in DynamoDB).
CREATE INDEX IF NOT EXISTS research_by_market_due ON research_items(market, due_at);
-- The append-only audit trail: one row per change, keyed by item and the item's version after it
-- (partition + sort key in DynamoDB, put with attribute_not_exists). No code path updates or
-- deletes a row, and the triggers refuse it.
-- Handler idempotency records (issue 7): in progress until a deadline, then completed with the
-- saved result; expired rows are ignored (DynamoDB deletes them by TTL).
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    in_progress_until TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    result TEXT
);
CREATE TABLE IF NOT EXISTS research_audit (
    item TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    before TEXT NOT NULL,
    after TEXT NOT NULL,
    note TEXT,
    PRIMARY KEY (item, seq)
);
CREATE TRIGGER IF NOT EXISTS research_audit_no_update BEFORE UPDATE ON research_audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS research_audit_no_delete BEFORE DELETE ON research_audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
-- Duplicate suspicion: payments by payer+amount fingerprint and value date (a sparse GSI).
CREATE INDEX IF NOT EXISTS payments_by_fingerprint ON payments(fingerprint, value_date) WHERE fingerprint IS NOT NULL;
CREATE INDEX IF NOT EXISTS research_by_file ON research_items(file_id);
CREATE INDEX IF NOT EXISTS research_open_by_due ON research_items(open_market, due_at) WHERE open_market IS NOT NULL;
-- Rows from before warn_at existed warn at their due time.
UPDATE research_items SET warn_at = due_at WHERE warn_at IS NULL;
-- SLA alerts still to raise (sparse GSIs in DynamoDB: `ports::SlaAlerts`).
CREATE INDEX IF NOT EXISTS research_warn_pending ON research_items(open_market, warn_at)
    WHERE open_market IS NOT NULL AND warn_notified_at IS NULL;
CREATE INDEX IF NOT EXISTS research_breach_pending ON research_items(open_market, due_at)
    WHERE open_market IS NOT NULL AND breach_notified_at IS NULL;
-- Files by time received, for the daily control report (`ports::FileLog`).
CREATE INDEX IF NOT EXISTS files_by_received ON files(received_at);
"#;

/// The SQLite store. One connection behind a mutex: the CLI is one process, and SQLite
/// serialises writers anyway.
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

fn db(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) =>
        {
            StoreError::Unavailable(e.to_string())
        }
        other => StoreError::Unavailable(other.to_string()),
    }
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: {value:?}"))
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn parse_ts(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).map_err(|_| corrupt("timestamp", s))
}

fn parse_dec(s: &str) -> Result<Decimal, StoreError> {
    Decimal::from_str(s).map_err(|_| corrupt("decimal", s))
}

fn parse_cur(s: &str) -> Result<Currency, StoreError> {
    currency(s).map_err(|_| corrupt("currency", s))
}

fn json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl SqliteStore {
    /// Opens (creating when needed) the database file.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(db)?;
        Self::init(conn)
    }

    /// A private in-memory database, for tests.
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory().map_err(db)?)
    }

    fn init(mut conn: Connection) -> Result<Self, StoreError> {
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(db)?;
        // Columns added after a data directory may have been created (issue 5).
        for (table, column, kind) in [
            ("payments", "fingerprint", "TEXT"),
            ("payments", "value_date", "TEXT"),
            ("research_items", "payer_identities", "TEXT"),
            ("research_items", "warn_at", "TEXT"),
            ("ledger", "lines", "INTEGER"),
            ("research_items", "claimed_by", "TEXT"),
            ("research_items", "claim_expires_at", "TEXT"),
            ("research_items", "version", "INTEGER NOT NULL DEFAULT 0"),
            ("research_items", "disposition", "TEXT"),
            ("research_items", "linking_refs", "TEXT"),
            ("research_items", "warn_notified_at", "TEXT"),
            ("research_items", "breach_notified_at", "TEXT"),
        ] {
            let exists: bool = conn
                .query_row(
                    "SELECT COUNT(*) FROM pragma_table_info(?1) WHERE name = ?2",
                    params![table, column],
                    |r| r.get::<_, i64>(0),
                )
                .map_err(db)?
                > 0;
            let table_exists: bool = conn
                .query_row(
                    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                    [table],
                    |r| r.get::<_, i64>(0),
                )
                .map_err(db)?
                > 0;
            if table_exists && !exists {
                conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {kind}")).map_err(db)?;
            }
        }
        let had_name_keys: bool = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'account_name_keys'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map_err(db)?
            > 0;
        conn.execute_batch(SCHEMA).map_err(db)?;
        if !had_name_keys {
            // A data directory from before the holder-name index (issue 12): index its accounts.
            backfill_name_keys(&mut conn)?;
        }
        Ok(Self { conn: Mutex::new(conn) })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A poisoned lock only means another thread panicked mid-call; SQLite's own
        // transactions keep the data consistent, so carry on.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts rows of a table, for reports and tests (never on a hot path).
    pub fn count(&self, table: Table) -> Result<u64, StoreError> {
        let sql = format!("SELECT COUNT(*) FROM {}", table.name());
        self.conn().query_row(&sql, [], |r| r.get::<_, i64>(0)).map(|n| n as u64).map_err(db)
    }
}

/// Writes the holder-name keys of every account (once, when the index table is created), in
/// one transaction.
fn backfill_name_keys(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
    let accounts: Vec<(String, String, String)> = {
        let mut stmt = tx.prepare("SELECT number, market, holder_name FROM accounts").map_err(db)?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).map_err(db)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db)?
    };
    for (number, market, holder) in accounts {
        put_name_keys(&tx, &number, &market, &holder)?;
    }
    tx.commit().map_err(db)
}

/// Inserts an account's holder-name keys (`names::holder_name_keys`).
fn put_name_keys(conn: &Connection, number: &str, market: &str, holder: &str) -> Result<(), StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO account_name_keys (market, name_key, account_number) VALUES (?1, ?2, ?3)",
        )
        .map_err(db)?;
    for key in holder_name_keys(holder) {
        stmt.execute(params![market, key, number]).map_err(db)?;
    }
    Ok(())
}

/// Tables that `count` may report on.
#[derive(Clone, Copy, Debug)]
pub enum Table {
    Accounts,
    /// The holder-name index (`account_name_keys`): one row per account and name key.
    AccountNameKeys,
    Files,
    Payments,
    Ledger,
    LedgerLines,
    Reversals,
    ResearchItems,
    ResearchAudit,
}

impl Table {
    fn name(&self) -> &'static str {
        match self {
            Table::Accounts => "accounts",
            Table::AccountNameKeys => "account_name_keys",
            Table::Files => "files",
            Table::Payments => "payments",
            Table::Ledger => "ledger",
            Table::LedgerLines => "ledger_lines",
            Table::Reversals => "reversals",
            Table::ResearchItems => "research_items",
            Table::ResearchAudit => "research_audit",
        }
    }
}

const ACCOUNT_COLUMNS: &str = "number, market, currency, holder_name, status, statement_balance, \
     minimum_due, current_balance, virtual_account, creditor_reference, control_account";

fn account_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Account, StoreError>> {
    let cols: Vec<Option<String>> = (0..11).map(|i| r.get(i)).collect::<rusqlite::Result<_>>()?;
    Ok(account_from_columns(cols))
}

fn account_from_columns(c: Vec<Option<String>>) -> Result<Account, StoreError> {
    let get = |i: usize| c[i].clone().unwrap_or_default();
    let number = AccountNumber::from_str(&get(0)).map_err(|_| corrupt("account number", "(masked)"))?;
    Ok(Account {
        number,
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
            Some(s) => Some(AccountNumber::from_str(s).map_err(|_| corrupt("control account", "(masked)"))?),
            None => None,
        },
    })
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

impl AccountDirectory for SqliteStore {
    /// The account and its holder-name keys in one transaction: the keys of an earlier put
    /// (another name, another market) are deleted first.
    fn put_account(&self, a: &Account) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        tx.prepare_cached(&format!(
            "INSERT OR REPLACE INTO accounts ({ACCOUNT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        ))
        .and_then(|mut s| {
            s.execute(params![
                a.number.expose(),
                a.market.code(),
                a.currency.code(),
                a.holder_name,
                a.status.as_str(),
                a.statement_balance.to_string(),
                a.minimum_due.to_string(),
                a.current_balance.to_string(),
                a.virtual_account,
                a.creditor_reference.as_ref().map(|r| r.as_str().to_string()),
                a.control_account.as_ref().map(|n| n.expose().to_string()),
            ])
        })
        .map_err(db)?;
        tx.prepare_cached("DELETE FROM account_name_keys WHERE account_number = ?1")
            .and_then(|mut s| s.execute([a.number.expose()]))
            .map_err(db)?;
        put_name_keys(&tx, a.number.expose(), a.market.code(), &a.holder_name)?;
        tx.commit().map_err(db)
    }

    fn account(&self, number: &AccountNumber) -> Result<Option<Account>, StoreError> {
        Ok(self.accounts_where("number", number.expose())?.into_iter().next())
    }

    fn accounts_by_virtual_account(&self, va: &str) -> Result<Vec<Account>, StoreError> {
        self.accounts_where("virtual_account", va)
    }

    fn accounts_by_creditor_reference(&self, rf: &CreditorReference) -> Result<Vec<Account>, StoreError> {
        self.accounts_where("creditor_reference", rf.as_str())
    }

    fn accounts_by_last_digits(&self, market: Market, last5: &str) -> Result<Vec<Account>, StoreError> {
        let conn = self.conn();
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE market = ?1 AND substr(number, 11) = ?2 LIMIT 100"
        );
        let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
        let rows = stmt.query_map(params![market.code(), last5], account_from_row).map_err(db)?;
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
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE number IN (
                 SELECT account_number FROM account_name_keys WHERE market = ?1 AND name_key = ?2
                 ORDER BY account_number LIMIT ?3)
             ORDER BY number"
        );
        let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
        let rows = stmt.query_map(params![market.code(), name_key, limit], account_from_row).map_err(db)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r.map_err(db)??);
        }
        Ok(out)
    }

    fn accounts_by_control_account(&self, control: &AccountNumber) -> Result<Vec<Account>, StoreError> {
        self.accounts_where("control_account", control.expose())
    }
}

impl AliasMemory for SqliteStore {
    fn learn_alias(&self, a: &Alias) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "INSERT OR REPLACE INTO aliases (identity, account, learned_at, learned_by, resolution)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![a.identity, a.account.expose(), ts(a.learned_at), a.learned_by, a.resolution],
            )
            .map_err(db)?;
        Ok(())
    }

    fn forget_alias(
        &self,
        identity: &str,
        account: &AccountNumber,
        resolution: &str,
    ) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "DELETE FROM aliases WHERE identity = ?1 AND account = ?2 AND resolution = ?3",
                params![identity, account.expose(), resolution],
            )
            .map_err(db)?;
        Ok(())
    }

    fn aliases_for(&self, identity: &str) -> Result<Vec<Alias>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT account, learned_at, learned_by, resolution FROM aliases WHERE identity = ?1
                 ORDER BY account LIMIT 100",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([identity], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(db)?;
        let mut out = Vec::new();
        for r in rows {
            let (account, at, by, resolution) = r.map_err(db)?;
            out.push(Alias {
                identity: identity.to_string(),
                account: AccountNumber::from_str(&account)
                    .map_err(|_| corrupt("alias account", "(masked)"))?,
                learned_at: parse_ts(&at)?,
                learned_by: by,
                resolution,
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

/// A files row as stored: id, name, size, received_at, status, reason, summary.
type FileRow = (String, String, i64, String, String, Option<String>, Option<String>);

fn file_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<FileRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
}

fn parse_file_status(s: &str) -> Result<FileStatus, StoreError> {
    Ok(match s {
        "processing" => FileStatus::Processing,
        "completed" => FileStatus::Completed,
        "quarantined" => FileStatus::Quarantined,
        other => return Err(corrupt("file status", other)),
    })
}

impl FileRegistry for SqliteStore {
    fn register_file(&self, f: &FileRecord) -> Result<FileRegistration, StoreError> {
        let inserted = self
            .conn()
            .execute(
                "INSERT INTO files (id, name, size, received_at, status) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(id) DO NOTHING",
                params![f.id.to_hex(), f.name, f.size as i64, ts(f.received_at), f.status.as_str()],
            )
            .map_err(db)?;
        if inserted == 1 {
            return Ok(FileRegistration::New);
        }
        match self.file(&f.id)? {
            Some(existing) => Ok(FileRegistration::Seen(existing)),
            None => Err(StoreError::Conflict(format!("file {} vanished", f.id.short()))),
        }
    }

    fn complete_file(&self, id: &FileId, summary: &FileSummary) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE files SET status = 'completed', reason = NULL, summary = ?2
                 WHERE id = ?1 AND status != 'completed'",
                params![id.to_hex(), json(summary)?],
            )
            .map_err(db)?;
        Ok(())
    }

    fn quarantine_file(&self, id: &FileId, reason: &str) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE files SET status = 'quarantined', reason = ?2 WHERE id = ?1",
                params![id.to_hex(), reason],
            )
            .map_err(db)?;
        Ok(())
    }

    fn file(&self, id: &FileId) -> Result<Option<FileRecord>, StoreError> {
        let row = self
            .conn()
            .query_row(
                "SELECT id, name, size, received_at, status, reason, summary FROM files WHERE id = ?1",
                [id.to_hex()],
                file_from_row,
            )
            .optional()
            .map_err(db)?;
        let Some((_, name, size, received_at, status, reason, summary)) = row else {
            return Ok(None);
        };
        Ok(Some(FileRecord {
            id: *id,
            name,
            size: size as u64,
            received_at: parse_ts(&received_at)?,
            status: parse_file_status(&status)?,
            reason,
            summary: match summary {
                Some(s) => Some(serde_json::from_str(&s).map_err(|_| corrupt("summary", &s))?),
                None => None,
            },
        }))
    }
}

/// Moves a payment from `received` to `to` inside a transaction; false when it had moved on.
fn advance_payment(
    tx: &rusqlite::Transaction<'_>,
    key: &PaymentKey,
    to: PaymentState,
    decision: &Decision,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    advance_payment_from(tx, key, PaymentState::Received, to, decision, at)
}

/// Moves a payment from `from` to `to` inside a transaction; false when it was not in `from`.
fn advance_payment_from(
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

/// A ledger entry's columns: account, amount, currency, reversed_by, lines.
type LedgerRow = (String, String, String, Option<String>, Option<i64>);

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
                account: AccountNumber::from_str(&account)
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
    account: &AccountNumber,
    delta: Decimal,
) -> Result<(), StoreError> {
    let balance: Option<String> = tx
        .query_row("SELECT current_balance FROM accounts WHERE number = ?1", [account.expose()], |r| r.get(0))
        .optional()
        .map_err(db)?;
    let Some(balance) = balance else {
        return Err(StoreError::Conflict(format!("account {account} is not in the directory")));
    };
    let updated = parse_dec(&balance)? + delta;
    tx.execute(
        "UPDATE accounts SET current_balance = ?2 WHERE number = ?1",
        params![account.expose(), updated.to_string()],
    )
    .map_err(db)?;
    Ok(())
}

impl PaymentLog for SqliteStore {
    fn receive_payment(&self, p: &Payment, at: DateTime<Utc>) -> Result<Receipt, StoreError> {
        let key = p.key();
        let conn = self.conn();
        let inserted = conn
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
            return Ok(Receipt::New);
        }
        let (state, file): (String, String) = conn
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
        let mut stmt = conn
            .prepare_cached(
                "SELECT account, amount, currency, reversed_by, lines FROM ledger WHERE payment_key = ?1",
            )
            .map_err(db)?;
        for key in keys {
            let row: Option<LedgerRow> = stmt
                .query_row([&key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
                .optional()
                .map_err(db)?;
            let Some((account, amount, cur, reversed_by, lines)) = row else { continue };
            let lines = match lines {
                Some(_) => ledger_lines(&conn, &key)?.into_iter().map(|(_, l)| l).collect(),
                None => Vec::new(),
            };
            out.push(LedgerEntry {
                payment_key: PaymentKey::from_stored(key),
                account: AccountNumber::from_str(&account)
                    .map_err(|_| corrupt("ledger account", "(masked)"))?,
                amount: Money::new(parse_dec(&amount)?, parse_cur(&cur)?)
                    .map_err(|_| corrupt("amount", &amount))?,
                reversed_by: reversed_by.map(PaymentKey::from_stored),
                lines,
            });
        }
        Ok(out)
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
                r.account.expose(),
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

    fn posted_total(&self, account: &AccountNumber) -> Result<Decimal, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT amount FROM ledger WHERE account = ?1 AND reversed_by IS NULL AND lines IS NULL",
            )
            .map_err(db)?;
        let rows = stmt.query_map([account.expose()], |r| r.get::<_, String>(0)).map_err(db)?;
        let mut total = Decimal::ZERO;
        for r in rows {
            total += parse_dec(&r.map_err(db)?)?;
        }
        let mut stmt = conn
            .prepare_cached("SELECT amount FROM ledger_lines WHERE account = ?1 AND reversed_by IS NULL")
            .map_err(db)?;
        let rows = stmt.query_map([account.expose()], |r| r.get::<_, String>(0)).map_err(db)?;
        for r in rows {
            total += parse_dec(&r.map_err(db)?)?;
        }
        Ok(total)
    }
}

/// The writes of a posting inside a transaction, the payment moving from `from` to `Applied`:
/// false (and the caller rolls back) when the entry exists or the payment had moved on.
fn post_in(tx: &rusqlite::Transaction<'_>, p: &Posting, from: PaymentState) -> Result<bool, StoreError> {
    let lines = (!p.lines.is_empty()).then_some(p.lines.len() as i64);
    let inserted = tx
        .execute(
            "INSERT INTO ledger (payment_key, account, amount, currency, file_id, posted_at, decision, lines)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(payment_key) DO NOTHING",
            params![
                p.payment_key.as_str(),
                p.account.expose(),
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
                    line.account.expose(),
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

const ITEM_COLUMNS: &str = "id, payment_key, market, file_id, bank_ref, amount, currency, payer_name, \
     reason_code, reasons, candidate, confidence, created_at, due_at, status, payer_identities, warn_at";

/// The columns an item is read back from: `ITEM_COLUMNS` and the queue's (issue 6).
const ITEM_READ_COLUMNS: &str = "id, payment_key, market, file_id, bank_ref, amount, currency, payer_name, \
     reason_code, reasons, candidate, confidence, created_at, due_at, status, payer_identities, warn_at, \
     claimed_by, claim_expires_at, version, disposition, linking_refs";

/// A disposition as stored: the account in full (the store holds card numbers; nothing it
/// returns prints them unmasked).
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredDisposition {
    by: String,
    at: DateTime<Utc>,
    account: Option<String>,
    reason: Option<String>,
    approved_by: Option<String>,
}

fn store_disposition(d: &Option<Disposition>) -> Result<Option<String>, StoreError> {
    d.as_ref()
        .map(|d| {
            json(&StoredDisposition {
                by: d.by.clone(),
                at: d.at,
                account: d.account.as_ref().map(|a| a.expose().to_string()),
                reason: d.reason.clone(),
                approved_by: d.approved_by.clone(),
            })
        })
        .transpose()
}

fn read_disposition(j: &str) -> Result<Disposition, StoreError> {
    let d: StoredDisposition = serde_json::from_str(j).map_err(|_| corrupt("disposition", "(not shown)"))?;
    Ok(Disposition {
        by: d.by,
        at: d.at,
        account: match d.account {
            Some(a) => {
                Some(AccountNumber::from_str(&a).map_err(|_| corrupt("disposition account", "(masked)"))?)
            }
            None => None,
        },
        reason: d.reason,
        approved_by: d.approved_by,
    })
}

fn item_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<ResearchItem, StoreError>> {
    let s = |i: usize| r.get::<_, String>(i);
    let o = |i: usize| r.get::<_, Option<String>>(i);
    let (id, key, market, file_id, bank_ref, amount, cur) = (s(0)?, s(1)?, s(2)?, s(3)?, s(4)?, s(5)?, s(6)?);
    let (payer, code, reasons, candidate) = (o(7)?, s(8)?, s(9)?, o(10)?);
    let confidence: f64 = r.get(11)?;
    let (created, due, status) = (s(12)?, s(13)?, s(14)?);
    let identities = o(15)?;
    let warn = o(16)?;
    let (claimed_by, claim_expires, version, disposition) = (o(17)?, o(18)?, r.get::<_, i64>(19)?, o(20)?);
    let linking_refs = o(21)?;
    Ok((|| {
        let currency = parse_cur(&cur)?;
        Ok(ResearchItem {
            id,
            payment_key: PaymentKey::from_stored(key),
            market: Market::from_str(&market).map_err(|_| corrupt("market", &market))?,
            file_id: FileId::from_str(&file_id).map_err(|_| corrupt("file id", &file_id))?,
            bank_ref,
            amount: Money::new(parse_dec(&amount)?, currency).map_err(|_| corrupt("amount", &amount))?,
            payer_name: payer,
            payer_identities: match identities {
                Some(j) => serde_json::from_str(&j).map_err(|_| corrupt("payer identities", &j))?,
                None => Vec::new(),
            },
            reason_code: serde_json::from_value::<ReasonCode>(serde_json::Value::String(code.clone()))
                .map_err(|_| corrupt("reason code", &code))?,
            reasons: serde_json::from_str(&reasons).map_err(|_| corrupt("reasons", &reasons))?,
            candidate: match candidate {
                Some(c) => Some(AccountNumber::from_str(&c).map_err(|_| corrupt("candidate", "(masked)"))?),
                None => None,
            },
            confidence,
            created_at: parse_ts(&created)?,
            warn_at: match warn {
                Some(w) => parse_ts(&w)?,
                None => parse_ts(&due)?,
            },
            due_at: parse_ts(&due)?,
            status: ItemStatus::parse(&status).ok_or_else(|| corrupt("item status", &status))?,
            claim: match (claimed_by, claim_expires) {
                (Some(analyst), Some(at)) => Some(Claim { analyst, expires_at: parse_ts(&at)? }),
                _ => None,
            },
            version: u64::try_from(version).map_err(|_| corrupt("version", &version.to_string()))?,
            disposition: disposition.as_deref().map(read_disposition).transpose()?,
            linking_refs: match linking_refs {
                Some(j) => serde_json::from_str(&j).map_err(|_| corrupt("linking refs", "(not shown)"))?,
                None => Vec::new(),
            },
        })
    })())
}

/// Puts a research item if absent; false when it exists.
fn insert_item(tx: &rusqlite::Transaction<'_>, item: &ResearchItem) -> Result<bool, StoreError> {
    let code = serde_json::to_value(item.reason_code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let status = item.status.as_str();
    let open_market = item.status.is_active().then(|| item.market.code());
    let inserted = tx
        .execute(
            &format!(
                "INSERT INTO research_items ({ITEM_COLUMNS}, open_market, linking_refs)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)
                 ON CONFLICT DO NOTHING"
            ),
            params![
                item.id,
                item.payment_key.as_str(),
                item.market.code(),
                item.file_id.to_hex(),
                item.bank_ref,
                item.amount.amount().to_string(),
                item.amount.currency().code(),
                item.payer_name,
                code,
                json(&item.reasons)?,
                item.candidate.as_ref().map(|c| c.expose().to_string()),
                item.confidence,
                ts(item.created_at),
                ts(item.due_at),
                status,
                json(&item.payer_identities)?,
                ts(item.warn_at),
                open_market,
                json(&item.linking_refs)?,
            ],
        )
        .map_err(db)?;
    Ok(inserted > 0)
}

impl ResearchQueue for SqliteStore {
    fn enqueue(&self, item: &ResearchItem) -> Result<Transition, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        if !insert_item(&tx, item)? {
            return Ok(Transition::AlreadyDone);
        }
        let decision = Decision {
            outcome: remit_domain::Outcome::Research,
            account: item.candidate.clone(),
            confidence: item.confidence,
            reasons: item.reasons.clone(),
            splits: Vec::new(),
        };
        if !advance_payment(&tx, &item.payment_key, PaymentState::Queued, &decision, item.created_at)? {
            return Ok(Transition::AlreadyDone);
        }
        tx.commit().map_err(db)?;
        Ok(Transition::Done)
    }

    fn open_items(&self, market: Market, limit: usize) -> Result<Vec<ResearchItem>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {ITEM_READ_COLUMNS} FROM research_items WHERE open_market = ?1 ORDER BY due_at, id LIMIT ?2"
            ))
            .map_err(db)?;
        let rows = stmt.query_map(params![market.code(), limit as i64], item_from_row).map_err(db)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r.map_err(db)??);
        }
        Ok(out)
    }
}

fn read_items(
    conn: &Connection,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
) -> Result<Vec<ResearchItem>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(db)?;
    let rows = stmt.query_map(params, item_from_row).map_err(db)?;
    let mut out = Vec::new();
    for r in rows {
        out.push(r.map_err(db)??);
    }
    Ok(out)
}

fn item_in(conn: &Connection, id: &str) -> Result<Option<ResearchItem>, StoreError> {
    let sql = format!("SELECT {ITEM_READ_COLUMNS} FROM research_items WHERE id = ?1");
    Ok(read_items(conn, &sql, &[&id])?.into_iter().next())
}

/// Appends an audit entry at `seq` (a put that must not find the key).
fn append_audit(tx: &rusqlite::Transaction<'_>, a: &AuditEntry, seq: u64) -> Result<(), StoreError> {
    let inserted = tx
        .execute(
            "INSERT INTO research_audit (item, seq, at, actor, action, before, after, note)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
            params![
                a.item,
                seq as i64,
                ts(a.at),
                a.actor,
                a.action.as_str(),
                json(&a.before)?,
                json(&a.after)?,
                a.note,
            ],
        )
        .map_err(db)?;
    if inserted == 0 {
        return Err(StoreError::Conflict(format!("audit entry {} of {} exists", seq, a.item)));
    }
    Ok(())
}

/// Scans at most this many index rows per listing page before filtering (a DynamoDB query page).
const LIST_SCAN: i64 = 1000;

impl QueueOps for SqliteStore {
    fn item(&self, id: &str) -> Result<Option<ResearchItem>, StoreError> {
        item_in(&self.conn(), id)
    }

    fn items_of_file(&self, file: &FileId, limit: usize) -> Result<Vec<ResearchItem>, StoreError> {
        let sql =
            format!("SELECT {ITEM_READ_COLUMNS} FROM research_items WHERE file_id = ?1 ORDER BY id LIMIT ?2");
        read_items(&self.conn(), &sql, &[&file.to_hex(), &(limit as i64)])
    }

    fn list(
        &self,
        market: Market,
        filter: &QueueFilter,
        limit: usize,
    ) -> Result<Vec<ResearchItem>, StoreError> {
        let limit = limit.min(remit_domain::ports::MAX_INDEX_RESULTS);
        // A range read on the (market, due_at) index: the sparse open one when only active
        // items are wanted; the filter applies to what the read returns.
        let column = if filter.active_only() { "open_market" } else { "market" };
        let mut after: Option<(String, String)> = None;
        let mut out = Vec::new();
        loop {
            let page = {
                let conn = self.conn();
                match &after {
                    None => {
                        let sql = format!(
                            "SELECT {ITEM_READ_COLUMNS} FROM research_items WHERE {column} = ?1
                             ORDER BY due_at, id LIMIT ?2"
                        );
                        read_items(&conn, &sql, &[&market.code(), &LIST_SCAN])?
                    }
                    Some((due, id)) => {
                        let sql = format!(
                            "SELECT {ITEM_READ_COLUMNS} FROM research_items WHERE {column} = ?1
                             AND (due_at, id) > (?3, ?4) ORDER BY due_at, id LIMIT ?2"
                        );
                        read_items(&conn, &sql, &[&market.code(), &LIST_SCAN, due, id])?
                    }
                }
            };
            let full = page.len() as i64 == LIST_SCAN;
            after = page.last().map(|i| (ts(i.due_at), i.id.clone()));
            for item in page {
                if filter.accepts(&item) {
                    out.push(item);
                    if out.len() >= limit {
                        return Ok(out);
                    }
                }
            }
            if !full {
                return Ok(out);
            }
        }
    }

    fn claim(
        &self,
        id: &str,
        analyst: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<ResearchItem, StoreError> {
        remit_domain::queue::check_claim_entry(id, audit)?;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        let updated = tx
            .execute(
                "UPDATE research_items SET claimed_by = ?2, claim_expires_at = ?4, version = version + 1
                 WHERE id = ?1 AND open_market IS NOT NULL
                 AND (claimed_by IS NULL OR claimed_by = ?2 OR claim_expires_at <= ?3)",
                params![id, analyst, ts(now), ts(expires_at)],
            )
            .map_err(db)?;
        if updated == 0 {
            return Err(StoreError::Conflict(format!("research item {id} is not claimable")));
        }
        let item = item_in(&tx, id)?.ok_or_else(|| corrupt("research item", id))?;
        append_audit(&tx, audit, item.version)?;
        tx.commit().map_err(db)?;
        Ok(item)
    }

    fn transition(&self, c: &ItemChange) -> Result<ResearchItem, StoreError> {
        let a = &c.after;
        if a.version != c.expected_version + 1 || c.audit.item != a.id {
            return Err(StoreError::Conflict(format!("research item {}: inconsistent change", a.id)));
        }
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        let updated = tx
            .execute(
                "UPDATE research_items SET status = ?3, open_market = ?4, claimed_by = ?5,
                 claim_expires_at = ?6, disposition = ?7, version = ?8
                 WHERE id = ?1 AND version = ?2",
                params![
                    a.id,
                    c.expected_version as i64,
                    a.status.as_str(),
                    a.status.is_active().then(|| a.market.code()),
                    a.claim.as_ref().map(|c| c.analyst.clone()),
                    a.claim.as_ref().map(|c| ts(c.expires_at)),
                    store_disposition(&a.disposition)?,
                    a.version as i64,
                ],
            )
            .map_err(db)?;
        if updated == 0 {
            return Err(StoreError::Conflict(format!(
                "research item {} is not at version {}",
                a.id, c.expected_version
            )));
        }
        append_audit(&tx, &c.audit, a.version)?;
        if let Some(p) = &c.posting {
            p.check_lines()?;
            if p.payment_key != a.payment_key {
                return Err(StoreError::Conflict(format!(
                    "research item {}: posting of another payment",
                    a.id
                )));
            }
            if !post_in(&tx, p, PaymentState::Queued)? {
                return Err(StoreError::Conflict(format!(
                    "payment {} is already posted or no longer queued",
                    p.payment_key
                )));
            }
        }
        let item = item_in(&tx, &a.id)?.ok_or_else(|| corrupt("research item", &a.id))?;
        tx.commit().map_err(db)?;
        Ok(item)
    }

    fn audit_trail(&self, id: &str) -> Result<Vec<AuditEntry>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq, at, actor, action, before, after, note FROM research_audit
                 WHERE item = ?1 ORDER BY seq LIMIT 1000",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, Option<String>>(6)?,
                ))
            })
            .map_err(db)?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, at, actor, action, before, after, note) = row.map_err(db)?;
            out.push(AuditEntry {
                item: id.to_string(),
                seq: u64::try_from(seq).map_err(|_| corrupt("audit seq", &seq.to_string()))?,
                at: parse_ts(&at)?,
                actor,
                action: AuditAction::parse(&action).ok_or_else(|| corrupt("audit action", &action))?,
                before: serde_json::from_str(&before).map_err(|_| corrupt("audit before", &before))?,
                after: serde_json::from_str(&after).map_err(|_| corrupt("audit after", &after))?,
                note,
            });
        }
        Ok(out)
    }
}

impl SlaAlerts for SqliteStore {
    fn pending_alerts(
        &self,
        market: Market,
        kind: AlertKind,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ResearchItem>, StoreError> {
        let limit = limit.min(remit_domain::ports::MAX_INDEX_RESULTS) as i64;
        let (deadline, mark) = alert_columns(kind);
        let sql = format!(
            "SELECT {ITEM_READ_COLUMNS} FROM research_items
             WHERE open_market = ?1 AND {mark} IS NULL AND {deadline} <= ?2
             ORDER BY {deadline}, id LIMIT ?3"
        );
        read_items(&self.conn(), &sql, &[&market.code(), &ts(now), &limit])
    }

    fn mark_alerted(&self, id: &str, kind: AlertKind, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let (_, mark) = alert_columns(kind);
        let sql = format!(
            "UPDATE research_items SET {mark} = ?2 WHERE id = ?1 AND {mark} IS NULL AND open_market IS NOT NULL"
        );
        let n = self.conn().execute(&sql, params![id, ts(now)]).map_err(db)?;
        Ok(n == 1)
    }
}

/// The deadline column and the mark column of an alert kind.
fn alert_columns(kind: AlertKind) -> (&'static str, &'static str) {
    match kind {
        AlertKind::Warning => ("warn_at", "warn_notified_at"),
        AlertKind::Breach => ("due_at", "breach_notified_at"),
    }
}

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

impl FileLog for SqliteStore {
    fn files_received(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<FileRecord>, StoreError> {
        let ids: Vec<String> = {
            let conn = self.conn();
            let mut stmt = conn
                .prepare_cached(
                    "SELECT id FROM files WHERE received_at >= ?1 AND received_at < ?2
                     ORDER BY received_at, id LIMIT ?3",
                )
                .map_err(db)?;
            let rows = stmt.query_map(params![ts(from), ts(to), limit as i64], |r| r.get(0)).map_err(db)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db)?
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let fid = FileId::from_str(&id).map_err(|_| corrupt("file id", &id))?;
            out.extend(self.file(&fid)?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audit_trail_refuses_updates_and_deletes() {
        let s = SqliteStore::in_memory().unwrap();
        let conn = s.conn();
        conn.execute(
            "INSERT INTO research_audit (item, seq, at, actor, action, before, after) VALUES ('i', 1, 't', 'a', 'note', '{}', '{}')",
            [],
        )
        .unwrap();
        let upd = conn.execute("UPDATE research_audit SET actor = 'b'", []).unwrap_err();
        assert!(upd.to_string().contains("append-only"), "{upd}");
        let del = conn.execute("DELETE FROM research_audit", []).unwrap_err();
        assert!(del.to_string().contains("append-only"), "{del}");
    }

    #[test]
    fn a_data_directory_from_before_the_queue_columns_opens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE research_items (id TEXT PRIMARY KEY, payment_key TEXT NOT NULL UNIQUE,
                 market TEXT NOT NULL, file_id TEXT NOT NULL, bank_ref TEXT NOT NULL, amount TEXT NOT NULL,
                 currency TEXT NOT NULL, payer_name TEXT, reason_code TEXT NOT NULL, reasons TEXT NOT NULL,
                 candidate TEXT, confidence REAL NOT NULL, created_at TEXT NOT NULL, due_at TEXT NOT NULL,
                 status TEXT NOT NULL, open_market TEXT);",
            )
            .unwrap();
        }
        let s = SqliteStore::open(&path).unwrap();
        assert!(s.item("x").unwrap().is_none());
        assert_eq!(s.count(Table::ResearchAudit).unwrap(), 0);
    }

    #[test]
    fn a_data_directory_from_before_the_name_index_is_indexed_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        {
            let s = SqliteStore::open(&path).unwrap();
            let a = Account {
                number: "378282246310005".parse().unwrap(),
                market: Market::CA,
                currency: Currency::CAD,
                holder_name: "Jean-Pierre Côté".into(),
                status: AccountStatus::Active,
                statement_balance: Decimal::ZERO,
                minimum_due: Decimal::ZERO,
                current_balance: Decimal::ZERO,
                virtual_account: None,
                creditor_reference: None,
                control_account: None,
            };
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
