//! The object store the Lambda handlers read files from and keep manifests in (the landing
//! bucket on S3, a folder in tests and local runs): an object's name and where a finished file
//! goes. Keys are `/`-separated as in S3.

use serde::{Deserialize, Serialize};

use crate::model::ids::FileId;

/// Where ingested files go.
pub const PROCESSED_PREFIX: &str = "processed/";
/// Where refused files go.
pub const QUARANTINE_PREFIX: &str = "quarantine/";

/// One object: the bucket, its decoded key, the version an event named (reads then see
/// exactly the bytes that arrived, even if the key is written again) and its size. Serialized
/// in chunk manifests and messages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRef {
    pub bucket: String,
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(default)]
    pub size: u64,
}

impl ObjectRef {
    /// An object by its decoded key, latest version, size unknown (0).
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        Self { bucket: bucket.into(), key: key.into(), version_id: None, size: 0 }
    }

    /// True when the object already sits under `processed/` or `quarantine/`: an event for it
    /// is the move itself echoing back, not a new file.
    pub fn is_disposed(&self) -> bool {
        self.key.starts_with(PROCESSED_PREFIX) || self.key.starts_with(QUARANTINE_PREFIX)
    }
}

/// Where a finished file's object goes: what became of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// Ingested: to `processed/<key>`.
    Processed { file_id: FileId },
    /// Refused: to `quarantine/<key>`, the reason (masked, shortened) in a tag.
    Quarantined { file_id: FileId, reason: String },
}

impl Destination {
    /// The key prefix it moves to.
    pub fn prefix(&self) -> &'static str {
        match self {
            Self::Processed { .. } => PROCESSED_PREFIX,
            Self::Quarantined { .. } => QUARANTINE_PREFIX,
        }
    }
}

/// An object store failure. `NotFound` is an answer, not a fault: an object moved by an
/// earlier run, say.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error("object {0} not found")]
    NotFound(String),
    /// Worth retrying (throttling, a dropped connection).
    #[error("object store unavailable: {0}")]
    Unavailable(String),
    /// A key the store refuses, or content that is not what the code expects.
    #[error("object {key}: {detail}")]
    Invalid { key: String, detail: String },
}

/// The handlers' view of the landing bucket. Synchronous like the store ports: handlers call it
/// from `spawn_blocking`, and an async adapter blocks on its own runtime handle there.
pub trait Objects: Send + Sync {
    /// A stream over the object's bytes (its given version), read as it is consumed. A read
    /// error from it is the store's (the handler retries rather than quarantine the file).
    fn open(&self, object: &ObjectRef) -> Result<Box<dyn std::io::BufRead + Send>, ObjectError>;
    /// Moves the object (its given version) to `to.prefix()` + its key (tagged with the file id
    /// and any reason, where the store keeps tags), and returns the new key. An object already
    /// gone whose destination exists counts as moved.
    fn move_to(&self, object: &ObjectRef, to: &Destination) -> Result<String, ObjectError>;
    /// A small object's bytes (manifests, chunk summaries), `None` when there is none.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ObjectError>;
    /// Writes a small object unless one exists at `key` (S3 `If-None-Match: *`); true when
    /// this call wrote it, so the first writer of a chunk's summary wins.
    fn put_if_absent(&self, key: &str, body: &[u8]) -> Result<bool, ObjectError>;
    /// The keys under `prefix`, sorted (every page of the listing).
    fn list(&self, prefix: &str) -> Result<Vec<String>, ObjectError>;
}

/// Sending chunk messages failed.
#[derive(Debug, thiserror::Error)]
#[error("chunk queue: {0}")]
pub struct ChunkQueueError(pub String);

/// Where a split file's chunk messages go (SQS in Lambda; memory in tests), each a JSON body
/// the chunk worker reads. Sending the same chunk twice is harmless: the worker runs each
/// chunk once.
pub trait ChunkQueue: Send + Sync {
    fn send(&self, bodies: &[String]) -> Result<(), ChunkQueueError>;
}
