//! The schema: tables, sparse indexes (as DynamoDB's would be) and the audit trail's triggers,
//! the columns added to an older database when it is opened, and `Table` for `count`.

use remit_domain::ports::StoreError;
use rusqlite::{params, Connection};

use crate::accounts::{backfill_name_keys, backfill_search_keys};
use crate::error::db;
use crate::queue::backfill_closed;

/// The schema, run on every open (each statement may run again).
const SCHEMA: &str = r#"
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
-- Cards by token (`CardRef::stored`: keyed hash and last four), never by number (issue 15).
CREATE TABLE IF NOT EXISTS accounts (
    card TEXT PRIMARY KEY,
    market TEXT NOT NULL,
    currency TEXT NOT NULL,
    holder_name TEXT NOT NULL,
    status TEXT NOT NULL,
    statement_balance TEXT NOT NULL,
    minimum_due TEXT NOT NULL,
    current_balance TEXT NOT NULL,
    virtual_account TEXT,
    creditor_reference TEXT,
    control_account TEXT,
    -- The keyed tag of market and last five digits (`CardKey::last_five`), not the digits.
    last5 TEXT NOT NULL,
    -- How the card platform names the account (the directory's column; NULL: the token).
    account_id TEXT,
    -- The workbench's search keys (issue 16), written with the account: the card's last four
    -- digits, and the statement balance and minimum due as `ports::amount_key` (any scale: one
    -- key). A posting changes current_balance only, none of these.
    last4 TEXT,
    balance_key TEXT,
    min_due_key TEXT
);
-- Sparse indexes, as DynamoDB GSIs would be.
CREATE INDEX IF NOT EXISTS accounts_by_va ON accounts(virtual_account) WHERE virtual_account IS NOT NULL;
CREATE INDEX IF NOT EXISTS accounts_by_rf ON accounts(creditor_reference) WHERE creditor_reference IS NOT NULL;
CREATE INDEX IF NOT EXISTS accounts_by_control ON accounts(control_account) WHERE control_account IS NOT NULL;
-- Market and last-five tag (a GSI on the `last5` attribute in DynamoDB).
CREATE INDEX IF NOT EXISTS accounts_by_last5_tag ON accounts(market, last5);
-- The workbench's directory search (issue 16), each in card order so a page goes on after one.
CREATE INDEX IF NOT EXISTS accounts_by_last4 ON accounts(market, last4, card);
CREATE INDEX IF NOT EXISTS accounts_by_balance ON accounts(market, balance_key, card);
CREATE INDEX IF NOT EXISTS accounts_by_minimum_due ON accounts(market, min_due_key, card);
-- The holder-name index: one row per (market, key of `names::holder_name_keys`, account), put
-- and replaced with the account (a table of its own in DynamoDB too, one item per row).
CREATE TABLE IF NOT EXISTS account_name_keys (
    market TEXT NOT NULL,
    name_key TEXT NOT NULL,
    card TEXT NOT NULL,
    PRIMARY KEY (market, name_key, card)
) WITHOUT ROWID;
-- An account's own keys, deleted when it is put again (DynamoDB reads the list off the account).
CREATE INDEX IF NOT EXISTS account_name_keys_by_card ON account_name_keys(card);
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
    lines INTEGER,
    -- The posting as the card platform reads it: the account's `account_id`, never the number.
    account_id TEXT
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
    breach_notified_at TEXT,
    -- The ranked candidates (issue 16): `Candidate::stored_list` JSON; NULL: none.
    candidates TEXT,
    -- Sparse: set while the item is closed (resolved, returned, written off), its disposition
    -- time and market, for the closed index.
    closed_market TEXT,
    closed_at TEXT
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
-- Closed items by market and disposition time (issue 16: the team view's day).
CREATE INDEX IF NOT EXISTS research_closed_by_time ON research_items(closed_market, closed_at, id)
    WHERE closed_market IS NOT NULL;
-- The payer history (issue 16): each payment under each of its payer identities
-- (`matching::payer::identities`), written when it is first received; read newest first.
CREATE TABLE IF NOT EXISTS payer_payments (
    identity TEXT NOT NULL,
    received_at TEXT NOT NULL,
    payment_key TEXT NOT NULL,
    market TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    -- Card-shaped numbers masked (`mask_card_numbers`).
    bank_ref TEXT NOT NULL,
    file_id TEXT NOT NULL,
    PRIMARY KEY (identity, received_at, payment_key)
) WITHOUT ROWID;
"#;

/// Creates the tables, indexes and triggers if absent: first the columns later issues added, on
/// a database from before them; then `SCHEMA`; then the holder-name index of the accounts of a
/// database from before it, and the values of the columns just added (issue 16: search keys of
/// the accounts, closed index of the items).
pub(crate) fn create_tables(conn: &mut Connection) -> Result<(), StoreError> {
    let numbered: bool = conn
        .query_row("SELECT COUNT(*) FROM pragma_table_info('accounts') WHERE name = 'number'", [], |r| {
            r.get::<_, i64>(0)
        })
        .map_err(db)?
        > 0;
    if numbered {
        // Not migrated in place: such a store holds card numbers in clear in several tables.
        return Err(StoreError::Conflict(
            "this data directory was written before card tokens (issue 15) and holds card numbers in clear: \
             delete it and load the directory again"
                .into(),
        ));
    }
    // Columns added after a data directory may have been created (issue 5).
    let mut added: Vec<&str> = Vec::new();
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
        ("accounts", "last4", "TEXT"),
        ("accounts", "balance_key", "TEXT"),
        ("accounts", "min_due_key", "TEXT"),
        ("research_items", "candidates", "TEXT"),
        ("research_items", "closed_market", "TEXT"),
        ("research_items", "closed_at", "TEXT"),
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
            added.push(column);
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
        backfill_name_keys(conn)?;
    }
    if added.contains(&"balance_key") {
        backfill_search_keys(conn)?;
    }
    if added.contains(&"closed_at") {
        backfill_closed(conn)?;
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
    /// The payer history (issue 16): one row per payment and payer identity.
    PayerPayments,
}

impl Table {
    /// The table's name in the schema.
    pub(crate) fn name(&self) -> &'static str {
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
            Table::PayerPayments => "payer_payments",
        }
    }
}

#[cfg(test)]
mod tests {
    use remit_domain::ports::QueueOps;

    use super::*;
    use crate::SqliteStore;

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

    /// Items closed before the closed index existed (issue 16) are in it once the database is
    /// opened; their candidates are none.
    #[test]
    fn items_closed_before_the_closed_index_are_in_it_when_opened() {
        use chrono::TimeZone;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        {
            let c = Connection::open(&path).unwrap();
            let file = remit_domain::FileId::of_bytes(b"f").to_hex();
            c.execute_batch(
                &r#"CREATE TABLE research_items (id TEXT PRIMARY KEY, payment_key TEXT NOT NULL UNIQUE,
                 market TEXT NOT NULL, file_id TEXT NOT NULL, bank_ref TEXT NOT NULL, amount TEXT NOT NULL,
                 currency TEXT NOT NULL, payer_name TEXT, reason_code TEXT NOT NULL, reasons TEXT NOT NULL,
                 candidate TEXT, confidence REAL NOT NULL, created_at TEXT NOT NULL, due_at TEXT NOT NULL,
                 status TEXT NOT NULL, open_market TEXT, disposition TEXT);
                 INSERT INTO research_items VALUES ('RQ-CA-1', 'k1', 'CA', 'FILE', 'B1', '1.00', 'CAD', NULL,
                 'no-reference', '[]', NULL, 0.0, '2026-11-21T12:00:00.000000Z', '2026-11-22T12:00:00.000000Z',
                 'returned', NULL, '{"by":"ann","at":"2026-11-21T13:00:00Z","account":null,"reason":"x","approved_by":null}');
                 INSERT INTO research_items VALUES ('RQ-CA-2', 'k2', 'CA', 'FILE', 'B2', '1.00', 'CAD', NULL,
                 'no-reference', '[]', NULL, 0.0, '2026-11-21T12:00:00.000000Z', '2026-11-22T12:00:00.000000Z',
                 'open', 'CA', NULL);"#
                    .replace("FILE", &file),
            )
            .unwrap();
        }
        let s = SqliteStore::open(&path).unwrap();
        let at = |h| chrono::Utc.with_ymd_and_hms(2026, 11, 21, h, 0, 0).unwrap();
        let closed = s.closed_between(remit_domain::Market::CA, at(13), at(14), None, 10).unwrap();
        assert_eq!(closed.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["RQ-CA-1"]);
        assert!(closed[0].candidates.is_empty());
        assert_eq!(s.open_page(remit_domain::Market::CA, None, 10).unwrap().len(), 1);
    }
}
