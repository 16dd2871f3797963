//! A split file's vocabulary (issue 7): its manifest, the chunk messages the ingest function
//! sends and the chunk worker reads, a chunk's saved result, and the in-memory and refusing
//! chunk queues. Shared by both handlers (`ingest`, `chunks`), importing neither.

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use remit_domain::ingest::{Admitted, Chunk, ChunkPlan, FileMeta};
use remit_domain::ports::{ChunkQueue, ChunkQueueError, FileSummary};
use remit_domain::FileId;
use serde::{Deserialize, Serialize};

use crate::objects::{ObjectRef, MANIFESTS};
use crate::settings::ChunkOrder;

/// A split file's plan, written once by the ingest function before any chunk message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    #[serde(with = "file_id_hex")]
    pub file_id: FileId,
    /// The file's name (its key when it landed).
    pub name: String,
    pub size: u64,
    /// The object the chunks read (and the last one moves).
    pub object: ObjectRef,
    /// The reader it was validated with (`Source::describe`); a chunk worker that would route
    /// it to another refuses.
    pub source: String,
    pub plan: ChunkPlan,
    pub order: ChunkOrder,
    /// These bytes had been registered before this run (a retry after a failure, say).
    pub seen_before: bool,
    pub created_at: DateTime<Utc>,
}

impl Manifest {
    /// Where a file's manifest lives.
    pub fn key(file: &FileId) -> String {
        format!("{MANIFESTS}{}/manifest.json", file.to_hex())
    }

    /// Where a file's chunk summaries live.
    pub fn chunks_prefix(file: &FileId) -> String {
        format!("{MANIFESTS}{}/chunk-", file.to_hex())
    }

    /// Where chunk `index`'s summary lives (zero-padded: listings sort in chunk order).
    pub fn chunk_key(file: &FileId, index: u64) -> String {
        format!("{}{index:08}.json", Self::chunks_prefix(file))
    }

    pub(crate) fn meta(&self) -> FileMeta {
        FileMeta { id: self.file_id, name: self.name.clone(), size: self.size }
    }

    /// The file as the orchestrator admitted it.
    pub(crate) fn admitted(&self) -> Admitted {
        Admitted {
            meta: self.meta(),
            payments: self.plan.payments,
            seen_before: self.seen_before,
            route: self.source.clone(),
        }
    }
}

/// One SQS message: which file, which object, which chunk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkMessage {
    #[serde(with = "file_id_hex")]
    pub file_id: FileId,
    pub object: ObjectRef,
    pub chunk: Chunk,
}

impl ChunkMessage {
    /// The message for `chunk` of the manifest's file.
    pub fn of(manifest: &Manifest, chunk: Chunk) -> Self {
        Self { file_id: manifest.file_id, object: manifest.object.clone(), chunk }
    }
}

/// A chunk's saved result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChunkDone {
    pub chunk: Chunk,
    pub summary: FileSummary,
    pub completed_at: DateTime<Utc>,
}

/// What the worker did with one message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChunkOutcome {
    pub file_id: String,
    pub chunk: Chunk,
    pub summary: FileSummary,
    /// True when this worker saw every chunk done and completed the file.
    pub file_completed: bool,
}

/// Keeps sent messages for a test to deliver, in any order, as often as it likes.
#[derive(Debug, Default)]
pub struct MemoryChunkQueue {
    sent: Mutex<Vec<ChunkMessage>>,
}

impl MemoryChunkQueue {
    /// Takes every message sent so far.
    pub fn drain(&self) -> Vec<ChunkMessage> {
        std::mem::take(&mut *self.sent.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl ChunkQueue for MemoryChunkQueue {
    fn send(&self, bodies: &[String]) -> Result<(), ChunkQueueError> {
        let mut sent = Vec::with_capacity(bodies.len());
        for body in bodies {
            sent.push(serde_json::from_str(body).map_err(|e| ChunkQueueError(e.to_string()))?);
        }
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).extend(sent);
        Ok(())
    }
}

/// Sends chunk messages as the JSON bodies the worker reads.
pub fn send_chunks(queue: &dyn ChunkQueue, messages: &[ChunkMessage]) -> Result<(), ChunkQueueError> {
    let bodies = messages
        .iter()
        .map(|m| serde_json::to_string(m).map_err(|e| ChunkQueueError(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    queue.send(&bodies)
}

/// A queue that refuses: a deployment without a chunk queue cannot split files.
#[derive(Debug, Default)]
pub struct NoChunkQueue;

impl ChunkQueue for NoChunkQueue {
    fn send(&self, _: &[String]) -> Result<(), ChunkQueueError> {
        Err(ChunkQueueError("no chunk queue is configured (REMIT_CHUNK_QUEUE_URL)".into()))
    }
}

/// A `FileId` as the lowercase hex its messages and keys use.
mod file_id_hex {
    use remit_domain::FileId;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(id: &FileId, s: S) -> Result<S::Ok, S::Error> {
        id.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<FileId, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(|_| serde::de::Error::custom(format!("{text:?} is not a file id")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_keys_sort_in_chunk_order() {
        let id = FileId::of_bytes(b"x");
        let a = Manifest::chunk_key(&id, 9);
        let b = Manifest::chunk_key(&id, 10);
        assert!(a < b && a.starts_with(&Manifest::chunks_prefix(&id)));
        assert!(Manifest::key(&id).starts_with(MANIFESTS));
    }

    #[test]
    fn a_chunk_message_round_trips() {
        let m = ChunkMessage {
            file_id: FileId::of_bytes(b"x"),
            object: ObjectRef { version_id: Some("v1".into()), ..ObjectRef::new("landing", "ca/a b.txt") },
            chunk: Chunk { index: 2, first: 10, count: 5 },
        };
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<ChunkMessage>(&text).unwrap(), m);
        assert!(serde_json::from_str::<ChunkMessage>(
            r#"{"file_id":"zz","object":{"key":"k"},"chunk":{"index":0,"first":0,"count":1}}"#
        )
        .is_err());
    }
}
