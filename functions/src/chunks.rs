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

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::{DateTime, Utc};
use remit_domain::idempotency::{run_once, IdempotencyKey, DEFAULT_RECORD_TTL};
use remit_domain::ingest::{sum_summaries, Chunk};
use remit_domain::mask_card_numbers;
use remit_domain::ports::Store;

use crate::error::HandlerError;
use crate::ingest::IngestApp;
use crate::objects::{self, get_json, Destination, Objects};
use crate::settings::ChunkOrder;
use remit_domain::ingest::unstable;
use remit_domain::ingest::ObjectFile;

use crate::split::send_chunks;
pub use crate::split::{ChunkDone, ChunkMessage, ChunkOutcome, Manifest, MemoryChunkQueue, NoChunkQueue};

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
