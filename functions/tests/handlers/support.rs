//! What the handler tests share: a fresh store and bucket per test, events as AWS sends them,
//! and a snapshot of every effect to compare two runs by.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aws_lambda_events::event::s3::S3Event;
use aws_lambda_events::event::sqs::SqsEvent;
use chrono::{DateTime, Duration, Utc};
use remit::objects::LocalObjects;
use remit_functions::chunks::{ChunkMessage, MemoryChunkQueue};
use remit_functions::ingest::IngestApp;
use remit_functions::metrics::MemoryMetrics;
use remit_functions::settings::{self, ChunkOrder, SplitPolicy};
use remit_functions::{Clock, Destination, ObjectError, ObjectRef, Objects};
use remit_store_sqlite::SqliteStore;
use tempfile::TempDir;

/// The bucket every test event names.
pub const BUCKET: &str = "remit-test-landing";

/// The instant every test runs at (a Friday afternoon in Toronto).
pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-20T15:00:00Z").unwrap().with_timezone(&Utc)
}

pub fn clock_at(at: DateTime<Utc>) -> Clock {
    Arc::new(move || at)
}

/// The invocation deadline of a run at `now()`.
pub fn deadline() -> DateTime<Utc> {
    now() + Duration::minutes(15)
}

/// A repository file.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// A synthetic CPA-005 file of `payments` payments paying the sample accounts (mixed outcomes:
/// applied, research, rejected; several payments to one account).
pub fn cpa005(payments: u64) -> Vec<u8> {
    let mut out = Vec::new();
    remit_formats::generate("cpa005", &mut out, payments, 7).unwrap();
    out
}

/// The byte offset of the record holding payment `index` (0-based) of a file.
pub fn record_offset(file: &[u8], index: usize) -> u64 {
    let ctx =
        remit_formats::SourceContext { file_id: remit_domain::FileId::of_bytes(file), file_name: "f".into() };
    let (_, payments) = remit_formats::open(ctx, file).unwrap();
    payments.map(|p| p.unwrap()).nth(index).unwrap().source.offset
}

/// A store, a bucket, a chunk queue and metrics, with the sample accounts loaded.
pub struct Env {
    pub dir: TempDir,
    pub store: Arc<SqliteStore>,
    pub objects: Arc<Bucket>,
    pub chunk_queue: Arc<MemoryChunkQueue>,
    pub metrics: Arc<MemoryMetrics>,
    pub app: IngestApp<SqliteStore, Bucket>,
}

impl Env {
    pub fn new(chunk_payments: u64, order: ChunkOrder) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(store_in(dir.path()));
        remit::local::import_accounts(&*store, &repo("samples/accounts.csv")).unwrap();
        let objects = Arc::new(Bucket::new(dir.path().join("bucket")));
        let chunk_queue = Arc::new(MemoryChunkQueue::default());
        let metrics = Arc::new(MemoryMetrics::default());
        let app = IngestApp {
            store: store.clone(),
            objects: objects.clone(),
            chunk_queue: chunk_queue.clone(),
            metrics: metrics.clone(),
            router: Arc::new(settings::built_in_router().unwrap()),
            config: Arc::new(settings::built_in_config().unwrap()),
            split: SplitPolicy { chunk_payments, order },
            bucket: Some(BUCKET.into()),
            clock: clock_at(now()),
        };
        Self { dir, store, objects, chunk_queue, metrics, app }
    }

    /// Every effect in the store, without the times runs differ in.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::of(&self.dir.path().join("remit.sqlite"))
    }

    /// True when the bucket holds `key`.
    pub fn has(&self, key: &str) -> bool {
        self.objects.local.get(key).unwrap().is_some()
    }
}

/// The local folder, with a fault to inject: a panic once a read passes a byte offset (a
/// worker dying mid-chunk), or an I/O error (the store failing mid-read).
pub struct Bucket {
    pub local: LocalObjects,
    /// Reads past this offset panic (u64::MAX: never).
    pub panic_after: Arc<AtomicU64>,
    /// Reads past this offset fail with an I/O error (u64::MAX: never).
    pub fail_after: Arc<AtomicU64>,
    /// How many times an object was opened for reading (GETs of a file, on S3).
    pub opens: Arc<AtomicU64>,
}

impl Bucket {
    fn new(root: PathBuf) -> Self {
        Self {
            local: LocalObjects::new(root).unwrap(),
            panic_after: Arc::new(AtomicU64::new(u64::MAX)),
            fail_after: Arc::new(AtomicU64::new(u64::MAX)),
            opens: Arc::new(AtomicU64::new(0)),
        }
    }

    /// A bank drops a file.
    pub fn drop_file(&self, key: &str, body: &[u8]) {
        self.local.put(key, body).unwrap();
    }
}

struct Faulty<R> {
    inner: R,
    at: u64,
    panic_after: u64,
    fail_after: u64,
}

impl<R: Read> Read for Faulty<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at > self.panic_after {
            panic!("the worker dies at byte {}", self.at);
        }
        if self.at > self.fail_after {
            return Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "connection reset by peer"));
        }
        // Small reads, so that a fault lands between payments rather than before the first.
        let len = buf.len().min(256);
        let n = self.inner.read(&mut buf[..len])?;
        self.at += n as u64;
        Ok(n)
    }
}

impl Objects for Bucket {
    fn open(&self, object: &ObjectRef) -> Result<Box<dyn BufRead + Send>, ObjectError> {
        self.opens.fetch_add(1, Ordering::SeqCst);
        let inner = self.local.open(object)?;
        let (panic_after, fail_after) =
            (self.panic_after.load(Ordering::SeqCst), self.fail_after.load(Ordering::SeqCst));
        if panic_after == u64::MAX && fail_after == u64::MAX {
            return Ok(inner);
        }
        Ok(Box::new(BufReader::with_capacity(256, Faulty { inner, at: 0, panic_after, fail_after })))
    }

    fn move_to(&self, object: &ObjectRef, to: &Destination) -> Result<String, ObjectError> {
        self.local.move_to(object, to)
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ObjectError> {
        self.local.get(key)
    }

    fn put_if_absent(&self, key: &str, body: &[u8]) -> Result<bool, ObjectError> {
        self.local.put_if_absent(key, body)
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, ObjectError> {
        self.local.list(prefix)
    }
}

/// An S3 `ObjectCreated:Put` event for `raw_key` (URL-encoded, as S3 sends it).
pub fn s3_event(raw_key: &str, version: Option<&str>, sequencer: &str) -> S3Event {
    s3_event_in(BUCKET, raw_key, version, sequencer, 1024)
}

/// An S3 `ObjectCreated:Put` event for `raw_key` (URL-encoded) of `size` bytes in `bucket`.
pub fn s3_event_in(
    bucket: &str,
    raw_key: &str,
    version: Option<&str>,
    sequencer: &str,
    size: u64,
) -> S3Event {
    serde_json::from_value(serde_json::json!({
        "Records": [{
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": "ca-central-1",
            "eventTime": "2026-03-20T15:00:00.000Z",
            "eventName": "ObjectCreated:Put",
            "userIdentity": { "principalId": "AWS:AIDAEXAMPLE" },
            "requestParameters": { "sourceIPAddress": "198.51.100.7" },
            "responseElements": { "x-amz-request-id": "C3D13FE58DE4C810" },
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "landing",
                "bucket": { "name": bucket, "ownerIdentity": { "principalId": "A3NL1KOZZKExample" },
                            "arn": format!("arn:aws:s3:::{bucket}") },
                "object": { "key": raw_key, "size": size, "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                            "versionId": version, "sequencer": sequencer }
            }
        }]
    }))
    .unwrap()
}

/// An SQS event carrying `messages`, ids `m0`, `m1`...
pub fn sqs_event(messages: &[ChunkMessage]) -> SqsEvent {
    let records: Vec<serde_json::Value> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            serde_json::json!({
                "messageId": format!("m{i}"),
                "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
                "body": serde_json::to_string(m).unwrap(),
                "attributes": { "ApproximateReceiveCount": "1", "SentTimestamp": "1773932400000" },
                "messageAttributes": {},
                "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:ca-central-1:123456789012:remit-dev-chunks",
                "awsRegion": "ca-central-1"
            })
        })
        .collect();
    serde_json::from_value(serde_json::json!({ "Records": records })).unwrap()
}

/// Every effect of the pipeline in a store: ledger, payments and their decisions, research
/// items, balances, files and their summaries. Times of day are left out.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub tables: Vec<(String, Vec<Vec<String>>)>,
}

impl Snapshot {
    pub fn of(db: &Path) -> Self {
        let conn = rusqlite::Connection::open(db).unwrap();
        let queries = [
            ("ledger", "SELECT payment_key, account, amount, currency, file_id, reversed_by, lines, decision FROM ledger ORDER BY payment_key"),
            ("ledger_lines", "SELECT payment_key, line, account, amount, currency, reversed_by FROM ledger_lines ORDER BY payment_key, line"),
            ("payments", "SELECT key, file_id, state, decision, fingerprint FROM payments ORDER BY key"),
            ("research_items", "SELECT id, payment_key, reason_code, reasons, candidate, confidence, created_at, due_at, warn_at, status FROM research_items ORDER BY id"),
            ("accounts", "SELECT card, current_balance FROM accounts ORDER BY card"),
            ("files", "SELECT id, status, summary FROM files ORDER BY id"),
        ];
        let tables = queries
            .iter()
            .map(|(name, sql)| {
                let mut stmt = conn.prepare(sql).unwrap();
                let n = stmt.column_count();
                let rows = stmt
                    .query_map([], |r| {
                        (0..n)
                            .map(|i| {
                                let v: rusqlite::types::Value = r.get(i)?;
                                Ok(format!("{v:?}"))
                            })
                            .collect::<rusqlite::Result<Vec<String>>>()
                    })
                    .unwrap()
                    .collect::<rusqlite::Result<Vec<_>>>()
                    .unwrap();
                (name.to_string(), rows)
            })
            .collect();
        Self { tables }
    }

    /// The rows of one table.
    pub fn rows(&self, table: &str) -> &[Vec<String>] {
        &self.tables.iter().find(|(n, _)| n == table).unwrap().1
    }
}

/// The card key of every test run (hex): snapshots of two runs, and the SQLite and DynamoDB runs
/// of the emulator test, then compare token for token.
pub const CARD_KEY_HEX: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";

/// A SQLite store in `dir` under `CARD_KEY_HEX` (its key file written first, mode 0600).
pub fn store_in(dir: &Path) -> SqliteStore {
    let key = dir.join(remit_store_sqlite::key_file::KEY_FILE);
    std::fs::write(&key, format!("{CARD_KEY_HEX}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    SqliteStore::open(&dir.join("remit.sqlite")).unwrap()
}

/// What a test's log subscriber writes (`remit_aws::logs::subscriber` over a clone of it).
#[derive(Clone, Default)]
pub struct Captured(pub Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
