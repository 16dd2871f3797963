//! The store ports on DynamoDB (issue 7), the production twin of `remit-store-sqlite`: the same
//! semantics (what is `Transition::AlreadyDone`, what is `StoreError::Conflict`), written with
//! conditional single-item writes, TransactWriteItems, key reads and queries on declared
//! (mostly sparse) indexes. `infra/README.md` describes the tables.
//!
//! The ports are synchronous and the SDK is async: each call runs the SDK future to completion
//! with `block_on`, on a runtime handle (`DynamoStore::with_handle`, or the current runtime when
//! the store is built inside one) or on a small runtime of its own. Call the store from a plain
//! thread or from `tokio::task::spawn_blocking`, never from async code: blocking there stalls
//! the runtime, and Tokio panics.
//!
//! Modules by port family: `accounts` (AccountDirectory), `aliases` (AliasMemory), `files`
//! (FileRegistry, FileLog), `payments` (PaymentLog, PaymentHistory), `ledger` (Ledger), `queue`
//! (ResearchQueue, QueueOps), `alerts` (SlaAlerts), `idempotency` (Idempotency); `tables`
//! (names, keys, indexes, `create_tables`), `codec` (attribute values), `calls` (the DynamoDB
//! calls, write counting), `error` (SDK errors as store errors).

mod accounts;
mod alerts;
mod aliases;
mod calls;
mod codec;
mod error;
mod files;
mod idempotency;
mod ledger;
mod payments;
mod queue;
mod tables;

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::Client;
use remit_domain::CardKey;
use tokio::runtime::Handle;

pub use error::DynamoError;
pub use tables::{create_tables, TableNames, TABLE_PREFIX_ENV};

/// The store: a DynamoDB client, the table names, and the runtime SDK futures run on.
pub struct DynamoStore {
    client: Client,
    tables: TableNames,
    handle: Handle,
    /// The store's own runtime, when it was not given one (`handle` is its handle).
    _owned: Option<OwnedRuntime>,
    counts: Counts,
    /// The directory's card key (issue 15): read once per cold start from the secret store.
    key: CardKey,
}

/// A runtime the store started itself; shut down without waiting when the store is dropped
/// (even from async code, where dropping a runtime the ordinary way panics).
struct OwnedRuntime(Option<tokio::runtime::Runtime>);

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// Write counters (relaxed atomics: a measurement, not a synchronisation).
#[derive(Default)]
struct Counts {
    items: AtomicU64,
    transactional: AtomicU64,
}

/// Items written so far, to measure write request units on an emulator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteCount {
    /// Items written (attempted) by PutItem, UpdateItem, DeleteItem and TransactWriteItems
    /// (each action of a transaction counts once).
    pub items: u64,
    /// Of `items`, those written inside a TransactWriteItems.
    pub transactional_items: u64,
}

impl WriteCount {
    /// Write request units at 1 KB or less per item: one per plain write, two per transactional
    /// one (DynamoDB's on-demand pricing). Larger items and index updates cost more.
    pub fn request_units(&self) -> u64 {
        self.items + self.transactional_items
    }

    /// The writes made since `earlier`.
    pub fn since(&self, earlier: WriteCount) -> WriteCount {
        WriteCount {
            items: self.items - earlier.items,
            transactional_items: self.transactional_items - earlier.transactional_items,
        }
    }
}

impl DynamoStore {
    /// A store over `client` and `tables`. Inside a Tokio runtime (a Lambda's `main`), the store
    /// uses that runtime (call it from `spawn_blocking`); elsewhere it starts a small one.
    pub fn new(client: Client, tables: TableNames, key: CardKey) -> Result<Self, DynamoError> {
        match Handle::try_current() {
            Ok(handle) => Ok(Self::with_handle(client, tables, handle, key)),
            Err(_) => {
                // Worker threads drive the connections, so any thread may block on the handle.
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("remit-dynamodb")
                    .enable_all()
                    .build()?;
                let handle = rt.handle().clone();
                Ok(Self {
                    _owned: Some(OwnedRuntime(Some(rt))),
                    ..Self::with_handle(client, tables, handle, key)
                })
            }
        }
    }

    /// A store that runs SDK futures on `handle`. Call its methods from threads that may block
    /// (plain threads, `spawn_blocking`); on a current-thread runtime, only while that runtime's
    /// own `block_on` runs (it alone drives the connections), as a Lambda's `main` does.
    pub fn with_handle(client: Client, tables: TableNames, handle: Handle, key: CardKey) -> Self {
        Self { client, tables, handle, _owned: None, counts: Counts::default(), key }
    }

    /// The store a Lambda uses: the SDK configured from the environment (region, credentials,
    /// `AWS_ENDPOINT_URL_DYNAMODB`), table names from `TableNames::from_env`, on the current runtime;
    /// `key` the card key the caller read from the secret store.
    pub async fn from_env(key: CardKey) -> Result<Self, DynamoError> {
        let tables = TableNames::from_env()?;
        let config = aws_config::load_defaults(BehaviorVersion::latest()).await;
        Ok(Self::with_handle(Client::new(&config), tables, Handle::current(), key))
    }

    /// The table names.
    pub fn tables(&self) -> &TableNames {
        &self.tables
    }

    /// Creates the store's tables if absent (`create_tables`), blocking.
    pub fn create_tables(&self) -> Result<(), DynamoError> {
        self.block_on(tables::create_tables(&self.client, &self.tables))
    }

    /// What this store has written so far.
    pub fn writes(&self) -> WriteCount {
        WriteCount {
            items: self.counts.items.load(Ordering::Relaxed),
            transactional_items: self.counts.transactional.load(Ordering::Relaxed),
        }
    }

    /// Runs an SDK future to completion from synchronous code.
    fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.handle.block_on(f)
    }
}

/// A client for a local emulator or DynamoDB Local at `endpoint`: region us-east-1, static dummy
/// credentials, nothing read from the environment (so a developer's AWS profile is never used).
pub fn local_client(endpoint: &str) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .endpoint_url(endpoint)
        .build();
    Client::from_conf(config)
}
