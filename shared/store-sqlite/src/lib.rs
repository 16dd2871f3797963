//! The embedded local default store: SQLite (bundled) behind the domain's ports. It offers no
//! more than DynamoDB can: conditional single-row writes, small transactions, key lookups and
//! ordered range reads on a declared index, so code that passes here also holds in the cloud.
//!
//! Modules by port family, as in `remit-store-dynamodb`: `accounts` (AccountDirectory), `aliases`
//! (AliasMemory), `files` (FileRegistry, FileLog), `payments` (PaymentLog, PaymentHistory),
//! `ledger` (Ledger), `queue` (ResearchQueue, QueueOps), `alerts` (SlaAlerts), `idempotency`
//! (Idempotency); `tables` (the schema, `Table`), `codec` (column values), `error` (SQLite errors
//! as store errors).

mod accounts;
mod alerts;
mod aliases;
mod codec;
mod error;
mod files;
mod idempotency;
mod items;
pub mod key_file;
mod ledger;
mod payments;
mod queue;
mod tables;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use remit_domain::ports::StoreError;
use remit_domain::CardKey;
use rusqlite::Connection;

use error::db;

pub use tables::Table;

/// The SQLite store. One connection behind a mutex: the CLI is one process, and SQLite
/// serialises writers anyway.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    /// The directory's card key (`key_file`): tokens in this database were made with it.
    key: CardKey,
}

impl SqliteStore {
    /// Opens (creating when needed) the database file, with the card key in `key_file::KEY_FILE`
    /// beside it (created, mode 0600, while the store holds no account).
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut conn = Connection::open(path).map_err(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(db)?;
        tables::create_tables(&mut conn)?;
        let empty: bool =
            conn.query_row("SELECT NOT EXISTS (SELECT 1 FROM accounts)", [], |r| r.get(0)).map_err(db)?;
        let key_path = path.with_file_name(key_file::KEY_FILE);
        let key = key_file::load_or_create(&key_path, empty)?;
        Ok(Self { conn: Mutex::new(conn), key })
    }

    /// A private in-memory database under a fresh random card key, for tests.
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::in_memory_with_key(CardKey::ephemeral())
    }

    /// A private in-memory database under `key` (a test that tokenises numbers itself).
    pub fn in_memory_with_key(key: CardKey) -> Result<Self, StoreError> {
        let mut conn = Connection::open_in_memory().map_err(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(db)?;
        tables::create_tables(&mut conn)?;
        Ok(Self { conn: Mutex::new(conn), key })
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
