//! Splitting very large files (issue 7): the ingest function validates a file whole, writes its
//! manifest (`manifests/<file id>/manifest.json`) and queues chunk messages; the chunk worker
//! (SQS, batch size 1, partial batch failures) processes one chunk per message and saves its
//! summary (`manifests/<file id>/chunk-<n>.json`). When every chunk's summary exists, the
//! worker that sees it completes the file with their sum and moves it to `processed/`.
//!
//! Each chunk runs under `run_once` (key: file id and chunk index) and its saved summary is
//! written once (the first writer wins), so a redelivered or duplicated message repeats
//! nothing; payments are exactly-once by key underneath, so a chunk whose worker died half-way
//! posts nothing twice when retried. Two workers finishing the last chunks at once may both
//! complete the file: `complete_file` keeps the first summary and a second move finds the file
//! gone, so that is harmless.

use std::sync::Mutex;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::{DateTime, Utc};
use remit_domain::idempotency::{run_once, IdempotencyKey, DEFAULT_RECORD_TTL};
use remit_domain::ingest::Admitted;
use remit_domain::ingest::{sum_summaries, Chunk, ChunkPlan, FileMeta};
use remit_domain::ports::FileSummary;
use remit_domain::ports::{ChunkQueue, ChunkQueueError, Store};
use remit_domain::{mask_card_numbers, FileId};
use serde::{Deserialize, Serialize};

use crate::error::HandlerError;
use crate::ingest::IngestApp;
use crate::objects::{self, get_json, Destination, ObjectRef, Objects, MANIFESTS};
use crate::settings::ChunkOrder;
use remit_domain::ingest::unstable;
use remit_domain::ingest::ObjectFile;

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

    fn meta(&self) -> FileMeta {
        FileMeta { id: self.file_id, name: self.name.clone(), size: self.size }
    }

    /// The file as the orchestrator admitted it.
    fn admitted(&self) -> Admitted {
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
pub(crate) fn send_chunks(queue: &dyn ChunkQueue, messages: &[ChunkMessage]) -> Result<(), ChunkQueueError> {
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

impl<S, O> IngestApp<S, O>
where
    S: Store + Send + Sync + 'static,
    O: Objects + 'static,
{
    /// Handles an SQS event of chunk messages; the failed ones are reported back (partial batch
    /// failure) for SQS to redeliver, the others are deleted.
    pub fn chunk_event(&self, event: &SqsEvent, deadline: DateTime<Utc>) -> SqsBatchResponse {
        let mut failed = Vec::new();
        for message in &event.records {
            let id = message.message_id.clone().unwrap_or_default();
            match self.chunk_message(message.body.as_deref().unwrap_or_default(), deadline) {
                Ok(out) => tracing::info!(file_id = %out.file_id, chunk = out.chunk.index,
                    payments = out.summary.payments, file_completed = out.file_completed, "chunk done"),
                Err(e) => {
                    tracing::error!(message = %id, error = ?e.masked(), retryable = e.is_retryable(), "chunk failed");
                    failed.push(id);
                }
            }
        }
        let mut response = SqsBatchResponse::default();
        response.set_failures(failed);
        response
    }

    /// Runs one chunk message: the chunk once, then (sequential order) the next chunk's
    /// message, then the file's completion when every chunk is done.
    pub fn chunk_message(&self, body: &str, deadline: DateTime<Utc>) -> Result<ChunkOutcome, HandlerError> {
        let msg: ChunkMessage =
            serde_json::from_str(body).map_err(|e| HandlerError::BadEvent(format!("chunk message: {e}")))?;
        let manifest: Manifest = get_json(&*self.objects, &Manifest::key(&msg.file_id))?
            .ok_or_else(|| HandlerError::BadEvent(format!("file {} has no manifest", msg.file_id.short())))?;
        if manifest.object != msg.object || !manifest.plan.contains(&msg.chunk) {
            return Err(HandlerError::BadEvent(format!(
                "chunk {:?} of {} does not match the manifest ({:?})",
                msg.chunk,
                mask_card_numbers(&msg.object.key),
                manifest.plan
            )));
        }
        let now = (self.clock)();
        let key = IdempotencyKey::chunk(&msg.file_id, msg.chunk.index);
        let done = run_once(&*self.store, &key, now, deadline, DEFAULT_RECORD_TTL, || {
            self.run_chunk(&manifest, &msg.chunk, now)
        })?;
        // Sequential: the last chunk runs after all others, so only it looks for completion.
        let last = msg.chunk.index + 1 == manifest.plan.chunks();
        let file_completed = match manifest.order {
            ChunkOrder::Sequential => {
                self.send_next(&manifest, &msg.chunk)?;
                last && self.complete_if_done(&manifest)?
            }
            ChunkOrder::Parallel => self.complete_if_done(&manifest)?,
        };
        Ok(ChunkOutcome {
            file_id: msg.file_id.to_hex(),
            chunk: msg.chunk,
            summary: done.summary,
            file_completed,
        })
    }

    fn run_chunk(
        &self,
        manifest: &Manifest,
        chunk: &Chunk,
        now: DateTime<Utc>,
    ) -> Result<ChunkDone, HandlerError> {
        let summary_key = Manifest::chunk_key(&manifest.file_id, chunk.index);
        // Saved by a run that died before its idempotency record was completed.
        if let Some(done) = get_json::<_, ChunkDone>(&*self.objects, &summary_key)? {
            return Ok(done);
        }
        if manifest.order == ChunkOrder::Sequential && chunk.index > 0 {
            let before = Manifest::chunk_key(&manifest.file_id, chunk.index - 1);
            if self.objects.get(&before)?.is_none() {
                return Err(HandlerError::NotReady(format!(
                    "chunk {} waits for chunk {}",
                    chunk.index,
                    chunk.index - 1
                )));
            }
        }
        let file = ObjectFile { objects: &*self.objects, object: &manifest.object };
        let summary =
            self.orchestrator().process_chunk(&file, &manifest.admitted(), &manifest.plan, chunk, now)?;
        let ours = ChunkDone { chunk: *chunk, summary, completed_at: now };
        let kept = objects::put_json_if_absent(&*self.objects, &summary_key, ours.clone())?;
        if kept == ours {
            self.emit(&kept.summary);
        }
        Ok(kept)
    }

    /// Sequential order: queues the chunk after `chunk` unless it is done already.
    fn send_next(&self, manifest: &Manifest, chunk: &Chunk) -> Result<(), HandlerError> {
        let Some(next) = manifest.plan.chunk(chunk.index + 1) else { return Ok(()) };
        if self.objects.get(&Manifest::chunk_key(&manifest.file_id, next.index))?.is_none() {
            send_chunks(&*self.chunk_queue, &[ChunkMessage::of(manifest, next)])?;
        }
        Ok(())
    }

    /// Completes the file when every chunk's summary exists: their sum, checked against the
    /// plan, becomes the file's summary, and the file moves to `processed/`. False while some
    /// chunk is still to run.
    fn complete_if_done(&self, manifest: &Manifest) -> Result<bool, HandlerError> {
        let plan = &manifest.plan;
        let saved = self.objects.list(&Manifest::chunks_prefix(&manifest.file_id))?;
        if (saved.len() as u64) < plan.chunks() {
            return Ok(false);
        }
        let mut parts = Vec::new();
        for chunk in plan.iter() {
            match get_json::<_, ChunkDone>(
                &*self.objects,
                &Manifest::chunk_key(&manifest.file_id, chunk.index),
            )? {
                Some(done) if done.chunk == chunk => parts.push(done.summary),
                Some(_) => {
                    let detail = format!("chunk {} saved another range", chunk.index);
                    return Err(unstable(&manifest.meta(), detail).into());
                }
                None => return Ok(false),
            }
        }
        let summary = sum_summaries(&parts);
        if summary.payments + summary.zero_amount != plan.payments {
            let detail =
                format!("{} payments validated, the chunks processed {}", plan.payments, summary.payments);
            return Err(unstable(&manifest.meta(), detail).into());
        }
        self.orchestrator().complete_parts(&manifest.meta(), manifest.seen_before, &parts)?;
        self.move_to(&manifest.object, &Destination::Processed { file_id: manifest.file_id })?;
        Ok(true)
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
